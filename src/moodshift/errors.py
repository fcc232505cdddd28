"""Errors a user can act on. The CLI prints their message on one line and exits with code 2."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """A mistake in the user's input (file, option, data): reported without a traceback."""

    exit_code = 2


class InputFileError(UserError):
    """A specific input file cannot be used; the message names the file."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ModelMissingError(UserError):
    """A named model is not in the cache; tells the user how to get it."""

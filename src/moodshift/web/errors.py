"""The one error shape of the API: an HTTP status and a one-line message ({"error": "..."})."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        # one line, whatever the cause said
        self.message = " ".join(str(message).split()) or "error"
        self.status = status
        self.headers = headers or {}
        super().__init__(self.message)


def busy(retry_after: int, what: str = "the server") -> ApiError:
    return ApiError(503, f"{what} is busy; try again in {retry_after} s",
                    {"Retry-After": str(retry_after)})

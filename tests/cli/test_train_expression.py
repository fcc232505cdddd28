"""`moodshift train expression`'s options."""

from __future__ import annotations

import argparse

import pytest

from moodshift.cli.train_expression import add_arguments as add_train_arguments
from moodshift.errors import UserError
from moodshift.expression.training.train import TrainConfig, train_expression


def test_train_arguments() -> None:
    p = argparse.ArgumentParser()
    add_train_arguments(p)
    a = p.parse_args(["--data", "d", "--out", "o", "--epochs", "3", "--balance", "rotate",
                      "--img-size", "40", "--resume", "c.pt"])
    assert (a.arch, a.epochs, a.balance, a.img_size, a.resume) == ("msnet", 3, "rotate", 40, "c.pt")
    with pytest.raises(UserError):
        train_expression(TrainConfig(data="d", arch="nope", out="o"))

    a = p.parse_args(["--data", "d", "--out", "o", "--init", "m.safetensors",
                      "--teacher", "t1", "t2", "--distill-weight", "0.8"])
    assert (a.init, a.teacher, a.distill_weight, a.distill_temperature) == (
        "m.safetensors", ["t1", "t2"], 0.8, None)

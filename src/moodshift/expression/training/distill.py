"""Knowledge distillation for ``moodshift train expression --teacher MODEL [MODEL ...]``.

A frozen ensemble of trained expression models (teachers) labels every augmented training
batch as it is drawn; the student learns from a mix of the true labels and the teachers'
averaged, temperature-softened probabilities (Hinton et al., 2015):

    loss = (1 - w) * CE(student, label) + w * T² * KL(teachers_T || student_T)

Averaging several snapshots of one training run gives softer, better calibrated targets than
any one of them (on FER2013 three msnet snapshots score about 70.0 % together, 69.4-69.8 %
alone), and the student runs at the cost of one network. Teachers must read faces exactly as
the student does (input size, crop, normalisation), since they see the same tensors.

``--init MODEL`` starts the student from a trained model's weights (a fresh optimiser and
schedule), for distilling into an already trained network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from moodshift.errors import UserError

# Preprocessing fields that must agree between teacher and student.
_INPUT_FIELDS = ("img_size", "crop_fraction", "channels", "mean", "std")


@dataclass
class DistillSettings:
    teachers: list[str]
    weight: float = 0.5          # share of the distillation term in the loss
    temperature: float = 2.0

    def check(self) -> None:
        if not 0.0 <= self.weight <= 1.0:
            raise UserError(f"--distill-weight must be between 0 and 1, not {self.weight}")
        if not self.temperature > 0:
            raise UserError(f"--distill-temperature must be positive, not {self.temperature}")


class TeacherEnsemble:
    """Frozen teachers (conv + batch norm fused, channels-last) whose softened probabilities are
    averaged."""

    def __init__(self, paths: list[str], student_input: dict[str, object],
                 use_bf16: bool) -> None:
        from moodshift.expression.own import MoodshiftExpression

        if not paths:
            raise UserError("--teacher needs at least one model")
        self.models = []
        self.sources: list[str] = []
        for path in paths:
            teacher = MoodshiftExpression.from_path(path, precision="fp32")
            for key in _INPUT_FIELDS:
                theirs, ours = teacher.config.get(key), student_input[key]
                if theirs is None or abs(float(theirs) - float(ours)) > 1e-6:  # type: ignore
                    raise UserError(f"{teacher.source}: teacher reads faces with {key} {theirs}, "
                                    f"the student with {ours}; teachers must see the same input")
            for p in teacher.model.parameters():
                p.requires_grad_(False)
            self.models.append(teacher.model.eval())
            self.sources.append(teacher.source)
        self.use_bf16 = use_bf16

    @torch.no_grad()
    def soft_targets(self, x: torch.Tensor, temperature: float) -> torch.Tensor:
        """(n, classes) probabilities: the mean of each teacher's softmax(logits / T)."""
        total = None
        for model in self.models:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.use_bf16):
                logits = model(x)
            p = F.softmax(logits.float() / temperature, dim=1)
            total = p if total is None else total + p
        assert total is not None
        return total / len(self.models)

    def describe(self) -> list[dict[str, str]]:
        from moodshift.models.store import sha256_file

        return [{"path": s, "sha256": sha256_file(Path(s))} for s in self.sources]


def check_recorded_teachers(recorded: list[dict[str, str]]) -> None:
    """A resumed run's teachers must be the files it started with (same sha256)."""
    from moodshift.models.store import sha256_file

    for teacher in recorded:
        path = Path(teacher["path"])
        if not path.is_file():
            raise UserError(f"{path}: this run's teacher is gone; pass --teacher with the "
                            "teachers' new location to resume")
        if sha256_file(path) != teacher["sha256"]:
            raise UserError(f"{path}: this run's teacher has changed since it started (sha256 "
                            f"{teacher['sha256'][:12]}… recorded); pass --teacher to distil from "
                            "other models")


def distillation_loss(student_logits: torch.Tensor, soft_targets: torch.Tensor,
                      temperature: float) -> torch.Tensor:
    """T² · KL(teachers || student at temperature T), averaged over the batch (T² keeps the
    gradient scale independent of T)."""
    log_p = F.log_softmax(student_logits.float() / temperature, dim=1)
    return F.kl_div(log_p, soft_targets, reduction="batchmean") * temperature ** 2


def init_weights(model: torch.nn.Module, path: str, arch: str,
                 options: dict[str, object]) -> str:
    """Load a trained model's weights into the student; returns the file used."""
    from moodshift.expression.own import read_model_file

    state, config, source = read_model_file(path)
    if config.get("arch") != arch:
        raise UserError(f"{source}: --init model is {config.get('arch')}, the student {arch}")
    from moodshift.training.checkpoint import load_weights

    load_weights(model, state, source, f"the student {arch} {options}")
    return source

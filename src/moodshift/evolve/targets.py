"""What an evolve run aims for: one emotion, all seven, or a valence-arousal(-dominance) point."""

from __future__ import annotations

from dataclasses import dataclass

from moodshift.emotions import EMOTION_VAD, EMOTIONS, canonical_emotion, nearest_emotion
from moodshift.errors import UserError

TARGET_FORMS = "emotion:E (E one of " + ", ".join(EMOTIONS) + "), emotions, va:V,A or vad:V,A,D"


@dataclass(frozen=True)
class Target:
    """kind: "emotion", "emotions", "va" or "vad"; vad holds the wanted coordinates (V, A[, D])."""

    kind: str
    emotion: str | None = None
    vad: tuple[float, ...] = ()

    @property
    def label(self) -> str:
        if self.kind == "emotion":
            return f"emotion:{self.emotion}"
        if self.kind == "emotions":
            return "emotions"
        return f"{self.kind}:" + ",".join(f"{v:g}" for v in self.vad)

    def wanted_vad(self) -> tuple[float, ...]:
        """The VAD coordinates the objective compares with (the emotion's for emotion:E)."""
        if self.kind == "emotion":
            return EMOTION_VAD[str(self.emotion)].as_tuple()
        return self.vad

    def nearest_emotion(self) -> str | None:
        """The emotion the run means (for metadata and for conditioning a GAN)."""
        if self.kind == "emotion":
            return self.emotion
        if self.kind == "emotions":
            return None
        return nearest_emotion(self.vad)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "label": self.label}
        if self.emotion:
            out["emotion"] = self.emotion
        if self.vad:
            out["vad"] = list(self.vad)
        return out


def _coordinates(text: str, kind: str, count: int) -> tuple[float, ...]:
    parts = [p.strip() for p in text.split(",")]
    names = "V,A" if count == 2 else "V,A,D"
    if len(parts) != count:
        raise UserError(f"--target {kind}:{text}: expected {count} numbers {names}, "
                        f"got {len(parts)}")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise UserError(f"--target {kind}:{text}: {names} must be numbers") from None
    for name, value in zip(names.split(","), values):
        if not -1.0 <= value <= 1.0:  # also rejects nan
            raise UserError(f"--target {kind}:{text}: {name} = {value:g} is outside [-1, 1]")
    return values


def parse_target(text: str) -> Target:
    """Parse --target; a UserError lists the valid forms and emotion names."""
    raw = text.strip()
    kind, _, rest = raw.partition(":")
    kind = kind.strip().lower()
    if kind == "emotions" and not rest:
        return Target("emotions")
    if kind == "emotion":
        name = canonical_emotion(rest)
        if not rest.strip() or name is None:
            raise UserError(f"--target {text}: unknown emotion {rest.strip()!r}; valid emotions: "
                            f"{', '.join(EMOTIONS)}")
        return Target("emotion", emotion=name)
    if kind == "va":
        return Target("va", vad=_coordinates(rest, "va", 2))
    if kind == "vad":
        return Target("vad", vad=_coordinates(rest, "vad", 3))
    # A bare emotion name is the commonest slip: say which form was meant.
    hint = canonical_emotion(raw)
    extra = f" (did you mean emotion:{hint}?)" if hint else ""
    raise UserError(f"--target {text}: unknown target{extra}; valid targets: {TARGET_FORMS}")

"""Face detection, crops and per-face attributes (age, gender)."""

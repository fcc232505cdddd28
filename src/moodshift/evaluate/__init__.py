"""Benchmarks that judge what moodshift makes (``moodshift eval ...``)."""

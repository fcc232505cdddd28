"""moodshift: read the emotion in a picture and restyle it to express an emotion."""

# Nothing is imported here at start-up: the `moodshift` script (moodshift/console.py) must be
# running its Ctrl-C handling before any module loads. EMOTIONS is looked up on first use.
__version__ = "0.1.0"
__all__ = ["EMOTIONS", "__version__"]


def __getattr__(name: str) -> object:
    if name == "EMOTIONS":
        from moodshift.emotions import EMOTIONS

        return EMOTIONS
    raise AttributeError(f"module 'moodshift' has no attribute {name!r}")

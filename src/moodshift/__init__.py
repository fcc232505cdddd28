"""moodshift: read the emotion in a picture and restyle it to express an emotion."""

from moodshift.emotions import EMOTIONS

__version__ = "0.1.0"
__all__ = ["EMOTIONS", "__version__"]

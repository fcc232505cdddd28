"""Ray is an optional extra: import it, or say how to install it."""

from __future__ import annotations

from moodshift.errors import UserError

INSTALL = "pip install 'moodshift[ray]'"


def import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise UserError(f"--ray needs Ray, an optional extra: {INSTALL} "
                        "(or leave out --ray to run on local processes)") from None
    return ray

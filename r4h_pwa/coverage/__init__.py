"""The coverage queue: which heroes still wait for their mile, and who runs for whom this week."""

from . import admin  # noqa: F401  (registers the admin routes on bp)
from .views import bp

__all__ = ["bp"]

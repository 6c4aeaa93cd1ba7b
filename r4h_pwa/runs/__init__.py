"""Feature blueprint: runs."""

from .views import bp

__all__ = ["bp"]

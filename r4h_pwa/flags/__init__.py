"""Feature blueprint: flags."""

from .views import bp

__all__ = ["bp"]

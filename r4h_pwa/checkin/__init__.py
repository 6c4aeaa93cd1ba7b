"""Feature blueprint: checkin."""

from .views import bp

__all__ = ["bp"]

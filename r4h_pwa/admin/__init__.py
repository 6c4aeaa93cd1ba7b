"""Admin pages: heroes, runners, tracks, planned runs, devices and the dashboard."""

from .views import bp

__all__ = ["bp"]

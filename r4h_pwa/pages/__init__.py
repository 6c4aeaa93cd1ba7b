"""Public pages: the home page, and the PWA's app shell, manifest and service worker."""

from .views import bp

__all__ = ["bp"]

"""Feature blueprint: flags. views.py serves the phone, the printer and families; admin.py
serves the admin's /admin/shipments pages."""

from . import admin  # noqa: F401  (registers the admin routes on bp)
from .views import bp

__all__ = ["bp"]

"""Feature blueprint: checkin. views.py serves the officer's and the runner's phones;
admin.py serves the admin's /admin/runs/<id>/checkins pages."""

from . import admin  # noqa: F401  (registers the admin routes on bp)
from .views import bp

__all__ = ["bp"]

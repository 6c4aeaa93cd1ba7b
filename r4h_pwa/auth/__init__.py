"""Accounts: login pages, device tokens for phones, and the guards that check them."""

from .guards import admin_required, current_actor, device_required
from .sessions import load_runner
from .twofactor_views import bp as twofactor_bp
from .views import bp

__all__ = [
    "admin_required",
    "bp",
    "current_actor",
    "device_required",
    "load_runner",
    "twofactor_bp",
]

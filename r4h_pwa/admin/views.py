"""Server-rendered admin pages, usable on a phone."""

from flask import Blueprint, render_template

from ..auth import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@admin_required
def get_dashboard():
    """Team totals at a glance."""
    return render_template("admin/dashboard.html")

"""The home page; the PWA files are served from here as well."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

bp = Blueprint("pages", __name__)


@bp.get("/")
def get_home():
    """Signed-in admins go to the dashboard, runners to the lap counter; others see the welcome."""
    if current_user.is_authenticated:
        if current_user.is_admin:
            return redirect(url_for("admin.get_dashboard"))
        return redirect("/app/")
    return render_template("pages/home.html")

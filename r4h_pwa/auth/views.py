"""Login and logout pages, and the device-token endpoint for phones."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required, login_user, logout_user
from flask_wtf import FlaskForm

from ..errors import ApiError
from ..extensions import csrf, db, limiter
from ..jsonbody import json_object
from ..validation import Fields
from . import service
from .forms import LoginForm

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else goes to the home page."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("pages.get_home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.shared_limit(_login_limit, scope="login", methods=["POST"])
def login():
    """Show the login form, and sign in with email and password."""
    form = LoginForm()
    if form.validate_on_submit():
        runner = service.authenticate(form.email.data, form.password.data)
        if runner is not None:
            login_user(runner)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("That email and password do not match an account.")
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.get("/logout")
@login_required
def get_logout():
    """A page with one button, so logging out is a CSRF-protected POST."""
    return render_template("auth/logout.html", form=FlaskForm())


@bp.post("/logout")
def post_logout():
    """Sign out of this browser."""
    form = FlaskForm()
    if not form.validate_on_submit():
        return render_template("auth/logout.html", form=form), 400
    logout_user()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))


@bp.post("/api/v1/auth/token")
@csrf.exempt
@limiter.shared_limit(_login_limit, scope="login")
def post_token():
    """Exchange email and password for a revocable device token (JSON, no cookies)."""
    fields = Fields(json_object())
    email = fields.text("email", 254, required=True)
    password = fields.text("password", 200, required=True)
    device_name = fields.text("device_name", 120, required=True)
    fields.check()
    runner = service.authenticate(email, password)
    if runner is None:
        raise ApiError(401, "bad_credentials", "That email and password do not match an account.")
    token, device = service.issue_device_token(
        runner, device_name, current_app.config["DEVICE_TOKEN_DAYS"]
    )
    db.session.commit()
    return jsonify(
        token=token,
        device_id=device.id,
        expires_at=device.expires_at.isoformat(),
        runner={"id": runner.id, "name": runner.name, "email": runner.email},
    )

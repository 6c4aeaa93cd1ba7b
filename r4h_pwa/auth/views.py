"""Login and logout pages, and the device-token endpoint for phones."""

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
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm

from ..audit import act_as
from ..errors import ApiError
from ..extensions import csrf, db, limiter
from ..jsonbody import json_object
from ..validation import Fields
from . import service, twofactor, twofactor_views
from .forms import LoginForm
from .sessions import end_browser_sessions
from .twofactor_views import safe_next

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.shared_limit(_login_limit, scope="login", methods=["POST"])
def login():
    """Show the login form, and sign in with email and password."""
    form = LoginForm()
    if form.validate_on_submit():
        runner = service.authenticate(form.email.data, form.password.data)
        if runner is not None:
            if twofactor_views.required_for(runner):
                return twofactor_views.begin(runner, request.args.get("next"))
            login_user(runner)
            return redirect(safe_next(request.args.get("next")))
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
    if current_user.is_authenticated:
        # A copy of this cookie must not outlive the sign-out (this ends the account's
        # other browser sessions too; its phones keep their device tokens).
        end_browser_sessions(current_user)
        db.session.commit()
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
    otp = fields.text("otp", 20)
    fields.check()
    runner = service.authenticate(email, password)
    if runner is None:
        raise ApiError(401, "bad_credentials", "That email and password do not match an account.")
    if twofactor_views.required_for(runner):
        _check_otp(runner, otp)
    act_as(runner)
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


def _check_otp(runner, otp: str) -> None:
    """An admin's phone needs the second factor too: a TOTP code or a recovery code."""
    if not runner.has_two_factor:
        raise ApiError(
            403,
            "two_factor_setup_required",
            "Set up two-factor sign-in in a browser first, then sign in here.",
        )
    if not otp:
        raise ApiError(
            401,
            "otp_required",
            "Type the code from your authenticator app.",
            {"otp": "This field is required."},
        )
    if twofactor.verify(runner, otp) is None:
        db.session.rollback()
        raise ApiError(401, "otp_invalid", "That code did not work.", {"otp": "Try a new code."})

"""The second step of signing in: a code page, and enrolment for an admin without a factor.

After the password, the browser holds only a pending sign-in: the account's Flask-Login id
(so a password change in between voids it) and when it began. Nothing is signed in until
the second factor passes, so a password alone opens no page at all.
"""

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import login_user

from ..extensions import db, limiter
from ..models import Runner
from ..qr import qr_svg
from . import twofactor
from .forms import CodeForm
from .sessions import load_runner

bp = Blueprint("twofactor", __name__)

PENDING = "2fa_user"
SINCE = "2fa_since"
NEXT = "2fa_next"
SECRET = "2fa_secret"
PENDING_SECONDS = 600
BAD_CODE = "That code did not work. Type the 6 digits your app shows now, or a recovery code."


def required_for(runner: Runner) -> bool:
    """Whether signing in as this account needs a second factor: every admin does."""
    return runner.is_admin or runner.has_two_factor


def begin(runner: Runner, next_url: str | None):
    """After a good password: remember the pending sign-in, and ask for the second factor."""
    for key in (PENDING, SINCE, NEXT, SECRET):
        session.pop(key, None)
    session[PENDING] = runner.get_id()
    session[SINCE] = int(time.time())
    if next_url:
        session[NEXT] = next_url
    if runner.has_two_factor:
        return redirect(url_for("twofactor.code"))
    return redirect(url_for("twofactor.setup"))


def _pending() -> Runner | None:
    """The account whose password was just given, if the pending sign-in is still good."""
    user_id, since = session.get(PENDING), session.get(SINCE)
    if not isinstance(user_id, str) or not isinstance(since, int):
        return None
    if time.time() - since > PENDING_SECONDS:
        return None
    runner = load_runner(user_id)
    return runner if runner is not None and runner.is_active else None


def _finish(runner: Runner):
    """The second factor passed: sign in, and go where the visitor was headed."""
    target = session.get(NEXT)
    for key in (PENDING, SINCE, NEXT, SECRET):
        session.pop(key, None)
    login_user(runner)
    return safe_next(target)


def safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else goes to the home page."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("pages.get_home")


def _private(page, status: int = 200):
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _restart():
    return redirect(url_for("auth.login"))


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_key() -> str:
    """Per account as well as per address: guessing codes from many addresses is limited too."""
    return "2fa-account:" + str(session.get(PENDING, "")).partition(":")[0]


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.shared_limit(_login_limit, scope="login-code", methods=["POST"])
@limiter.limit(_login_limit, key_func=_account_key, methods=["POST"])
def code():
    """The second step: a code from the authenticator app, or a one-time recovery code."""
    runner = _pending()
    if runner is None or not runner.has_two_factor:
        return _restart()
    form = CodeForm()
    if form.validate_on_submit():
        if twofactor.verify(runner, form.code.data) is not None:
            db.session.commit()
            return redirect(_finish(runner))
        db.session.rollback()
        form.code.errors.append(BAD_CODE)
    status = 422 if request.method == "POST" else 200
    return _private(render_template("auth/code.html", form=form), status)


@bp.route("/login/two-factor/setup", methods=["GET", "POST"])
@limiter.shared_limit(_login_limit, scope="login-code", methods=["POST"])
@limiter.limit(_login_limit, key_func=_account_key, methods=["POST"])
def setup():
    """Enrolment: scan the QR code, type the code the app shows, keep the recovery codes."""
    runner = _pending()
    if runner is None or runner.has_two_factor:
        return _restart()
    secret = session.get(SECRET)
    if not isinstance(secret, str):
        secret = session[SECRET] = twofactor.new_secret()
    form = CodeForm()
    if form.validate_on_submit():
        codes = twofactor.enrol(runner, secret, form.code.data)
        if codes is not None:
            db.session.commit()
            target = _finish(runner)
            page = render_template("auth/recovery_codes.html", codes=codes, next_url=target)
            return _private(page)
        form.code.errors.append("That code did not match. Type the 6 digits your app shows now.")
    uri = twofactor.provisioning_uri(runner.email, secret, current_app.config["ORG_NAME"])
    page = render_template(
        "auth/setup.html",
        form=form,
        qr=qr_svg(uri, "QR code to add Running 4 Heroes to an authenticator app"),
        secret=twofactor.grouped(secret),
        email=runner.email,
    )
    return _private(page, 422 if request.method == "POST" else 200)

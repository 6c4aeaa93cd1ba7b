"""Escort check-in by QR code, and the runner's roster API. Admin pages: admin.py."""

import uuid

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, URLSafeSerializer

from ..audit import OFFICER, act_as
from ..auth import device_required
from ..database import retry_if_dropped
from ..errors import json_error, wants_json
from ..extensions import db, limiter
from ..formatting import long_date, long_time
from ..models import Run
from ..runs.service import run_of
from ..serializers import checkin_json
from . import service
from .forms import ROLE_HINTS, CheckinForm

bp = Blueprint("checkin", __name__)

COOKIE = "r4h_checkin"
COOKIE_DAYS = 14
ENVIRON_KEY = "r4h.checkin_id"
CREATED_KEY = "r4h.checkin_created"
CSRF_MESSAGE = (
    "This form expired or was sent without its security code. "
    "Check your details and press Check in again."
)


# ---- helpers ------------------------------------------------------------------------------


# Four limits on submissions. Per phone (address + the phone's check-in id), so escorts who
# share one address (a school's Wi-Fi, carrier NAT) are not refused together; per address, a
# looser one, so dropping the cookie does not lift the limit; refused submissions per
# address; and per run, against a flood, counting only check-ins actually created, so junk
# from many addresses cannot use up the run's budget and lock out a real escort.
def _phone_limit() -> str:
    return current_app.config.get("CHECKIN_RATE_LIMIT", "10 per minute")


def _address_limit() -> str:
    return current_app.config.get("CHECKIN_ADDRESS_RATE_LIMIT", "60 per minute")


def _run_limit() -> str:
    return current_app.config.get("CHECKIN_RUN_RATE_LIMIT", "200 per hour")


def _refused_limit() -> str:
    return current_app.config.get("CHECKIN_REFUSED_RATE_LIMIT", "20 per hour")


def _refused_key() -> str:
    return f"checkin-refused:{get_remote_address()}"


def _was_refused(response: Response) -> bool:
    """A submission that stored nothing: bad fields (422) or a bad CSRF token (400)."""
    return response.status_code in (400, 422)


def _was_created(response: Response) -> bool:
    """Only a new check-in uses up the run's budget: junk and corrections do not."""
    return response.status_code == 200 and request.environ.get(CREATED_KEY, False)


def _phone_key() -> str:
    return f"checkin-phone:{get_remote_address()}:{_phone_checkin_id()}"


def _token_key() -> str:
    return "checkin-token:" + (request.view_args or {}).get("token", "")[:64]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="r4h-checkin")


def _signed_cookie() -> dict | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw)
        if not isinstance(data, dict):
            return None
        return {"run": data.get("run"), "id": str(uuid.UUID(data.get("id", "")))}
    except (BadSignature, ValueError, TypeError, AttributeError):
        return None


def _cookie_checkin_id(run: Run) -> str | None:
    """The check-in id this phone holds for this run, from its signed cookie."""
    data = _signed_cookie()
    return data["id"] if data is not None and data["run"] == run.id else None


def _phone_checkin_id() -> str:
    """The id this request's check-in will have: the phone's own, else one made for it now.

    The rate limiter keys on it before the view runs, and the view then stores under it, so a
    first submission and its repeats count against the same phone.
    """
    # Kept on the request, not on g: g belongs to the app context, which can outlive a request.
    if ENVIRON_KEY not in request.environ:
        data = _signed_cookie()
        request.environ[ENVIRON_KEY] = data["id"] if data is not None else str(uuid.uuid4())
    return request.environ[ENVIRON_KEY]


def _remember(response: Response, run_id: str, token: str, checkin_id: str) -> Response:
    """Give the phone its check-in id in a signed, HttpOnly cookie scoped to this run's URL."""
    response.set_cookie(
        COOKIE,
        _serializer().dumps({"run": run_id, "id": checkin_id}),
        max_age=COOKIE_DAYS * 24 * 3600,
        path=f"/c/{token}",
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure,
    )
    return response


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def run_view(run: Run) -> dict:
    """What the public pages say about the run: whom it honors, when and where."""
    return {
        "hero": run.hero,
        "when": long_time(run.scheduled_at or run.started_at),
        "track": run.track.name,
        "end_of_watch": long_date(run.hero.end_of_watch),
    }


def _refusal(run: Run | None, state: str):
    """The calm page for a code that is unknown, revoked or closed; nothing is stored."""
    if state == service.CLOSED:
        status, code = 410, "checkin_closed"
        message = "Check-in for this run has closed. It closes 24 hours after the mile is run."
    else:
        status, code = 404, "checkin_unknown"
        message = "This check-in code is not active. Ask the runner or the team for a new one."
    if wants_json():
        return json_error(status, code, message)
    hero = run.hero if run is not None and state == service.CLOSED else None
    page = render_template("checkin/unavailable.html", state=state, hero=hero)
    return _private(make_response(page, status))


REMOVED_MESSAGE = "Your check-in was removed by the team. Nothing was saved."


def _removed():
    """The calm page for a phone whose check-in the team removed: it stays removed."""
    if wants_json():
        return json_error(410, "checkin_removed", REMOVED_MESSAGE)
    page = render_template("checkin/unavailable.html", state="removed", hero=None)
    return _private(make_response(page, 410))


def _form_page(run: Run, form: CheckinForm, existing, status: int = 200, notice: str = ""):
    page = render_template(
        "checkin/form.html",
        form=form,
        run=run,
        info=run_view(run),
        existing=existing,
        role_hints=ROLE_HINTS,
        notice=notice,
    )
    return _private(make_response(page, status))


# ---- the officer's phone -----------------------------------------------------------------


def _open_run(token: str):
    """The run a check-in link opens and this phone's check-in id, or the refusal to answer
    instead: the link is not open, or the team removed this phone's check-in.
    """
    run = service.run_for_token(token)
    state = service.token_state(run)
    if state != service.OPEN:
        return run, None, _refusal(run, state)
    checkin_id = _cookie_checkin_id(run)
    if service.was_removed(run, checkin_id):
        return run, checkin_id, _removed()
    return run, checkin_id, None


@bp.get("/c/<token>")
def get_checkin(token: str):
    """The check-in form: whom the run honors and when, and five short fields."""
    run, checkin_id, refused = _open_run(token)
    if refused:
        return refused
    existing = service.own_checkin(run, checkin_id)
    form = CheckinForm(obj=existing) if existing else CheckinForm()
    response = _form_page(run, form, existing)
    if checkin_id is None:
        # The id is made now, so a double tap on the first submit still lands on one row.
        _remember(response, run.id, token, _phone_checkin_id())
    return response


@bp.post("/c/<token>")
@limiter.limit(_phone_limit, key_func=_phone_key)
@limiter.limit(_address_limit)
@limiter.limit(_refused_limit, key_func=_refused_key, deduct_when=_was_refused)
@limiter.limit(_run_limit, key_func=_token_key, deduct_when=_was_created)
def post_checkin(token: str):
    """Check in, or update this phone's own check-in; answer "You're checked in"."""
    run, checkin_id, refused = _open_run(token)
    if refused:
        return refused
    form = CheckinForm()
    if not form.validate_on_submit():
        existing = service.own_checkin(run, checkin_id)
        response = _form_page(run, form, existing, status=422)
        return response if checkin_id else _remember(response, run.id, token, _phone_checkin_id())
    checkin_id = checkin_id or _phone_checkin_id()
    act_as(OFFICER)

    def save():
        checkin, created = service.save_qr_checkin(run, checkin_id, form.values())
        if checkin is None:  # the team removed it meanwhile
            db.session.rollback()
            return None
        # Read what the page shows before the commit expires it: no reloads after the write.
        shown = run_view(run), checkin_json(checkin), run.id, created
        db.session.commit()
        return shown

    # The upsert is keyed by the phone's check-in id, so a dropped connection is retried once.
    shown = retry_if_dropped(save)
    if shown is None:
        return _removed()
    info, saved, run_id, created = shown
    request.environ[CREATED_KEY] = created
    page = render_template(
        "checkin/done.html", token=token, info=info, checkin=saved, created=created
    )
    return _remember(_private(make_response(page, 200)), run_id, token, saved["id"])


@bp.errorhandler(CSRFError)
def csrf_failed(exc: CSRFError):
    """A missing or stale CSRF token: show the form again, filled in, with a fresh token."""
    if wants_json():
        return json_error(400, "csrf_failed", CSRF_MESSAGE)
    token = (request.view_args or {}).get("token")
    if request.endpoint == "checkin.post_checkin" and token:
        run = service.run_for_token(token)
        state = service.token_state(run)
        if state != service.OPEN:
            return _refusal(run, state)
        form = CheckinForm(meta={"csrf": False})
        form.process(request.form)
        existing = service.own_checkin(run, _cookie_checkin_id(run))
        return _form_page(run, form, existing, status=400, notice=CSRF_MESSAGE)
    return render_template("error.html", status=400, message=CSRF_MESSAGE), 400


@bp.errorhandler(429)
def rate_limited(exc):
    """Too many submissions: a calm page that says what to do."""
    message = "Too many check-ins were sent from here just now. Wait a minute and try again."
    if wants_json():
        return json_error(429, "rate_limited", message)
    return _private(make_response(render_template("checkin/limited.html", message=message), 429))


# ---- the runner's phone ------------------------------------------------------------------


@bp.get("/api/v1/runs/<run_id>/checkins")
@device_required
def get_runner_roster(run_id: str):
    """The run's roster for the runner's phone, polled while online; 304 when unchanged."""
    run = run_of(g.runner.id, run_id)
    response = jsonify(checkins=[checkin_json(c) for c in service.roster(run)])
    response.add_etag()
    return response.make_conditional(request)

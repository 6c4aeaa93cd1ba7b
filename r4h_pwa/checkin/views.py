"""Escort check-in by QR code, its admin pages, and the runner's roster API."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, URLSafeSerializer

from ..auth import admin_required, device_required
from ..database import retry_if_dropped
from ..errors import ApiError, json_error, wants_json
from ..extensions import db, limiter
from ..models import Run
from ..qr import qr_svg
from ..serializers import checkin_json, public_url
from . import service
from .forms import ROLE_HINTS, CheckinForm, ConfirmForm

bp = Blueprint("checkin", __name__)

COOKIE = "r4h_checkin"
COOKIE_DAYS = 14
ENVIRON_KEY = "r4h.checkin_id"
CSRF_MESSAGE = (
    "This form expired or was sent without its security code. "
    "Check your details and press Check in again."
)


# ---- helpers ------------------------------------------------------------------------------


# Three limits on submissions. Per phone (address + the phone's check-in id), so escorts who
# share one address (a school's Wi-Fi, carrier NAT) are not refused together; per address, a
# looser one, so dropping the cookie does not lift the limit; and per run, against a flood.
def _phone_limit() -> str:
    return current_app.config.get("CHECKIN_RATE_LIMIT", "10 per minute")


def _address_limit() -> str:
    return current_app.config.get("CHECKIN_ADDRESS_RATE_LIMIT", "60 per minute")


def _run_limit() -> str:
    return current_app.config.get("CHECKIN_RUN_RATE_LIMIT", "200 per hour")


def _phone_key() -> str:
    return f"checkin-phone:{get_remote_address()}:{_phone_checkin_id()}"


def _token_key() -> str:
    return "checkin-token:" + (request.view_args or {}).get("token", "")[:64]


def _when(value: datetime | None) -> str | None:
    """A time as the team reads it: 'Saturday, March 9, 2024 at 7:30 AM EST'."""
    if value is None:
        return None
    try:
        zone = ZoneInfo(current_app.config.get("TIMEZONE", "America/New_York"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = value.astimezone(zone)
    hour = local.hour % 12 or 12
    return f"{local:%A, %B} {local.day}, {local.year} at {hour}:{local:%M %p %Z}"


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


def _run_view(run: Run) -> dict:
    """What the public pages say about the run: whom it honours, when and where."""
    return {
        "hero": run.hero,
        "when": _when(run.scheduled_at or run.started_at),
        "track": run.track.name,
        "end_of_watch": f"{run.hero.end_of_watch:%B} {run.hero.end_of_watch.day}, "
        f"{run.hero.end_of_watch.year}",
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


def _form_page(run: Run, form: CheckinForm, existing, status: int = 200, notice: str = ""):
    page = render_template(
        "checkin/form.html",
        form=form,
        run=run,
        info=_run_view(run),
        existing=existing,
        role_hints=ROLE_HINTS,
        notice=notice,
    )
    return _private(make_response(page, status))


# ---- the officer's phone -----------------------------------------------------------------


@bp.get("/c/<token>")
def get_checkin(token: str):
    """The check-in form: whom the run honours and when, and five short fields."""
    run = service.run_for_token(token)
    state = service.token_state(run)
    if state != service.OPEN:
        return _refusal(run, state)
    checkin_id = _cookie_checkin_id(run)
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
@limiter.limit(_run_limit, key_func=_token_key)
def post_checkin(token: str):
    """Check in, or update this phone's own check-in; answer "You're checked in"."""
    run = service.run_for_token(token)
    state = service.token_state(run)
    if state != service.OPEN:
        return _refusal(run, state)
    checkin_id = _cookie_checkin_id(run)
    form = CheckinForm()
    if not form.validate_on_submit():
        existing = service.own_checkin(run, checkin_id)
        response = _form_page(run, form, existing, status=422)
        return response if checkin_id else _remember(response, run.id, token, _phone_checkin_id())
    checkin_id = checkin_id or _phone_checkin_id()

    def save():
        checkin, created = service.save_qr_checkin(run, checkin_id, form.values())
        # Read what the page shows before the commit expires it: no reloads after the write.
        shown = _run_view(run), checkin_json(checkin), run.id, created
        db.session.commit()
        return shown

    # The upsert is keyed by the phone's check-in id, so a dropped connection is retried once.
    info, saved, run_id, created = retry_if_dropped(save)
    page = render_template("checkin/done.html", token=token, info=info, checkin=saved,
                           created=created)
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
    run = service.runner_run(g.runner, run_id)
    if run is None:
        raise ApiError(404, "not_found", "No such run on this account.")
    response = jsonify(checkins=[checkin_json(c) for c in service.roster(run)])
    response.add_etag()
    return response.make_conditional(request)


# ---- admin -------------------------------------------------------------------------------


def _admin_run(run_id: str) -> Run:
    return db.get_or_404(Run, run_id[:64])


def _admin_checkin(run: Run, checkin_id: str):
    checkin = service.run_checkin(run, checkin_id[:64])
    if checkin is None:
        abort(404)
    return checkin


@bp.get("/admin/runs/<run_id>/checkins")
@admin_required
def get_admin_roster(run_id: str):
    """Everyone who checked in to a run, with edit, remove, CSV and the code's controls."""
    run = _admin_run(run_id)
    return render_template(
        "checkin/admin_roster.html",
        run=run,
        info=_run_view(run),
        checkins=service.roster(run),
        state=service.token_state(run),
        closes=_when(service.closes_at(run)),
        checkin_url=public_url(f"/c/{run.checkin_token}"),
        when=_when,
        form=ConfirmForm(),
    )


@bp.get("/admin/runs/<run_id>/checkins/<checkin_id>/edit")
@admin_required
def get_edit_checkin(run_id: str, checkin_id: str):
    """The form to correct one check-in."""
    run = _admin_run(run_id)
    checkin = _admin_checkin(run, checkin_id)
    form = CheckinForm(obj=checkin)
    return render_template("checkin/admin_edit.html", run=run, checkin=checkin, form=form)


@bp.post("/admin/runs/<run_id>/checkins/<checkin_id>/edit")
@admin_required
def post_edit_checkin(run_id: str, checkin_id: str):
    """Save an admin's correction of a check-in."""
    run = _admin_run(run_id)
    checkin = _admin_checkin(run, checkin_id)
    form = CheckinForm()
    if not form.validate_on_submit():
        page = render_template("checkin/admin_edit.html", run=run, checkin=checkin, form=form)
        return page, 422
    service.update_checkin(checkin, form.values())
    db.session.commit()
    flash(f"Saved the check-in of {checkin.name}.", "success")
    return redirect(url_for("checkin.get_admin_roster", run_id=run.id))


@bp.post("/admin/runs/<run_id>/checkins/<checkin_id>/remove")
@admin_required
def post_remove_checkin(run_id: str, checkin_id: str):
    """Remove one check-in from the run."""
    run = _admin_run(run_id)
    checkin = _admin_checkin(run, checkin_id)
    if ConfirmForm().validate_on_submit():
        name = checkin.name
        service.remove_checkin(checkin)
        db.session.commit()
        flash(f"Removed the check-in of {name}.", "success")
    return redirect(url_for("checkin.get_admin_roster", run_id=run.id))


@bp.get("/admin/runs/<run_id>/checkins.csv")
@admin_required
def get_roster_csv(run_id: str):
    """The run's roster as a CSV download, safe to open in a spreadsheet."""
    run = _admin_run(run_id)
    day = (run.scheduled_at or run.started_at or run.created_at).date().isoformat()
    response = Response(service.roster_csv(run), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="checkins-{day}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/admin/runs/<run_id>/checkin-token/revoke")
@admin_required
def post_revoke_token(run_id: str):
    """Stop the run's check-in code working."""
    run = _admin_run(run_id)
    if ConfirmForm().validate_on_submit():
        service.revoke_token(run)
        db.session.commit()
        flash("The check-in code is revoked. The printed sheet and the phone's code no longer "
              "work.", "success")
    return redirect(url_for("checkin.get_admin_roster", run_id=run.id))


@bp.post("/admin/runs/<run_id>/checkin-token/reissue")
@admin_required
def post_reissue_token(run_id: str):
    """Give the run a new check-in code; the old one stops working."""
    run = _admin_run(run_id)
    if ConfirmForm().validate_on_submit():
        service.reissue_token(run)
        db.session.commit()
        flash("A new check-in code is ready. Print a new sheet; the old code no longer works.",
              "success")
    return redirect(url_for("checkin.get_admin_roster", run_id=run.id))


@bp.get("/admin/runs/<run_id>/checkin-sheet")
@admin_required
def get_checkin_sheet(run_id: str):
    """A page to print and tape to the track gate: the big QR code, the hero and the time."""
    run = _admin_run(run_id)
    state = service.token_state(run)
    url = public_url(f"/c/{run.checkin_token}")
    svg = None
    if state == service.OPEN:
        svg = qr_svg(url, f"Check-in code for the run for {run.hero.display_name}")
    return render_template(
        "checkin/sheet.html", run=run, info=_run_view(run), state=state, url=url, svg=svg
    )

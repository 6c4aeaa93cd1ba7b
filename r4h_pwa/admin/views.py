"""Server-rendered admin pages, usable on a phone. Bad input re-renders the form with 422."""

from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import audit, mail
from ..auth import admin_required
from ..auth.service import revoke_device
from ..extensions import db
from ..flags import service as flags_service
from ..formatting import input_datetime, short_date, short_time
from ..forms import ConfirmForm, ask_to_confirm, show_errors
from ..models import Device, Hero, Run, Runner, Track
from ..runs.service import confirm_mile
from ..validation import ValidationError
from . import service
from .forms import HeroForm, RunForm, RunnerForm, TrackForm, choices

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _save(form: FlaskForm, save: Callable, field: str, message: str):
    """Run save() and commit; if another admin took the unique key meanwhile, say so."""
    try:
        row = save()
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        show_errors(form, {field: message})
        return None
    return row


def _saved(message: str, endpoint: str, **values):
    flash(message, "success")
    return redirect(url_for(endpoint, **values), code=303)


# Dashboard ---------------------------------------------------------------------------------


@bp.get("/")
@admin_required
def get_dashboard():
    """Team totals at a glance, with a chart of miles per month."""
    return render_template(
        "admin/dashboard.html",
        board=service.dashboard(),
        work=flags_service.work_waiting(),
        flag=flags_service,
        unsent_emails=mail.unsent(),
        mail_server=mail.settings().server,
    )


@bp.post("/emails/retry")
@admin_required
def post_retry_emails():
    """Try every email not sent yet again now, the failed ones too (after the response)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    retried = mail.retry_now()
    db.session.commit()
    flash(
        f"Trying {retried} email{'' if retried == 1 else 's'} again now. Reload to see "
        "what went out."
        if retried
        else "No email is waiting.",
        "success",
    )
    return redirect(url_for("admin.get_dashboard") + "#work-emails-title", code=303)


# Heroes ------------------------------------------------------------------------------------


@bp.get("/heroes")
@admin_required
def get_heroes():
    """Every hero (or those whose name or agency matches ?q=), latest end of watch first."""
    query = request.args.get("q", "").strip()[:100]
    page = service.list_heroes(query, request.args.get("page", 1, type=int))
    return render_template("admin/heroes.html", page=page, query=query)


def _hero_page(form: HeroForm, hero: Hero | None, status: int = 200):
    runs = service.count_runs_for_hero(hero) if hero else 0
    return render_template("admin/hero_form.html", form=form, hero=hero, runs=runs), status


def _submit_hero(hero: Hero | None):
    form = HeroForm()
    try:
        values = service.check_hero(form.data, hero)
    except ValidationError as exc:
        show_errors(form, exc.fields)
        return _hero_page(form, hero, 422)
    saved = _save(
        form, lambda: service.save_hero(hero, values), "name", service.DUPLICATE_HERO_MESSAGE
    )
    if saved is None:
        return _hero_page(form, hero, 422)
    return _saved(f"Saved {saved.display_name}.", "admin.get_heroes")


@bp.get("/heroes/new")
@admin_required
def get_new_hero():
    """The form for a new hero."""
    return _hero_page(HeroForm(), None)


@bp.post("/heroes/new")
@admin_required
def post_new_hero():
    """Add a hero."""
    return _submit_hero(None)


@bp.get("/heroes/<int:hero_id>/edit")
@admin_required
def get_edit_hero(hero_id: int):
    """The form for an existing hero."""
    hero = db.get_or_404(Hero, hero_id)
    return _hero_page(HeroForm(obj=hero), hero)


@bp.post("/heroes/<int:hero_id>/edit")
@admin_required
def post_edit_hero(hero_id: int):
    """Change a hero."""
    return _submit_hero(db.get_or_404(Hero, hero_id))


@bp.post("/heroes/<int:hero_id>/delete")
@admin_required
def post_delete_hero(hero_id: int):
    """Delete a hero that no run honors."""
    hero = db.get_or_404(Hero, hero_id)
    name = hero.display_name
    if service.count_runs_for_hero(hero) == 0 and not ConfirmForm().is_confirmed():
        return ask_to_confirm(
            f"Delete the hero {name}?",
            [
                f"{name}, {hero.agency}, end of watch {short_date(hero.end_of_watch)}, is "
                "removed from the list of heroes. No run honors this hero yet."
            ],
            f"Delete {name}",
            url_for("admin.get_edit_hero", hero_id=hero_id),
        )
    problem = service.delete_hero(hero)
    if problem:
        flash(problem, "error")
        return redirect(url_for("admin.get_edit_hero", hero_id=hero_id), code=303)
    db.session.commit()
    return _saved(f"Deleted {name}.", "admin.get_heroes")


# Runners -----------------------------------------------------------------------------------


@bp.get("/runners")
@admin_required
def get_runners():
    """Every account with its miles."""
    return render_template("admin/runners.html", runners=service.runners_with_miles())


def _runner_page(form: RunnerForm, runner: Runner | None, status: int = 200):
    locked = runner is not None and service.has_numbered_runs(runner)
    if locked and form.starting_mile_count.data in (None, ""):  # disabled fields are not sent
        form.starting_mile_count.data = runner.starting_mile_count
    return (
        render_template("admin/runner_form.html", form=form, runner=runner, locked=locked),
        status,
    )


def _submit_runner(runner: Runner | None):
    form = RunnerForm()
    try:
        values = service.validate_runner(form.data, runner, current_user)
    except ValidationError as exc:
        show_errors(form, exc.fields)
        return _runner_page(form, runner, 422)
    saved = _save(
        form, lambda: service.save_runner(runner, values), "email", service.TAKEN_EMAIL_MESSAGE
    )
    if saved is None:
        return _runner_page(form, runner, 422)
    return _saved(f"Saved {saved.name}.", "admin.get_runners")


@bp.get("/runners/new")
@admin_required
def get_new_runner():
    """The form for a new account."""
    return _runner_page(RunnerForm(), None)


@bp.post("/runners/new")
@admin_required
def post_new_runner():
    """Add an account."""
    return _submit_runner(None)


@bp.get("/runners/<int:runner_id>/edit")
@admin_required
def get_edit_runner(runner_id: int):
    """The form for an existing account."""
    runner = db.get_or_404(Runner, runner_id)
    return _runner_page(RunnerForm(obj=runner), runner)


@bp.post("/runners/<int:runner_id>/edit")
@admin_required
def post_edit_runner(runner_id: int):
    """Change an account."""
    runner = service.lock_runner(runner_id)
    if runner is None:
        abort(404)
    return _submit_runner(runner)


# Tracks ------------------------------------------------------------------------------------


@bp.get("/tracks")
@admin_required
def get_tracks():
    """Every track."""
    tracks = db.session.scalars(sa.select(Track).order_by(Track.name))
    return render_template("admin/tracks.html", tracks=list(tracks))


def _track_page(form: TrackForm, track: Track | None, status: int = 200):
    return render_template("admin/track_form.html", form=form, track=track), status


def _submit_track(track: Track | None):
    form = TrackForm()
    try:
        values = service.validate_track(form.data, track)
    except ValidationError as exc:
        show_errors(form, exc.fields)
        return _track_page(form, track, 422)
    saved = _save(
        form, lambda: service.save_track(track, values), "name", service.TAKEN_TRACK_MESSAGE
    )
    if saved is None:
        return _track_page(form, track, 422)
    return _saved(f"Saved {saved.name}.", "admin.get_tracks")


@bp.get("/tracks/new")
@admin_required
def get_new_track():
    """The form for a new track."""
    return _track_page(TrackForm(), None)


@bp.post("/tracks/new")
@admin_required
def post_new_track():
    """Add a track."""
    return _submit_track(None)


@bp.get("/tracks/<int:track_id>/edit")
@admin_required
def get_edit_track(track_id: int):
    """The form for an existing track."""
    track = db.get_or_404(Track, track_id)
    return _track_page(TrackForm(obj=track), track)


@bp.post("/tracks/<int:track_id>/edit")
@admin_required
def post_edit_track(track_id: int):
    """Change a track."""
    return _submit_track(db.get_or_404(Track, track_id))


# Planned runs ------------------------------------------------------------------------------


@bp.get("/runs")
@admin_required
def get_runs():
    """Every run with its status and mile number, newest first."""
    page = service.list_runs(request.args.get("page", 1, type=int))
    return render_template("admin/runs.html", page=page)


def _run_form(run: Run | None = None) -> RunForm:
    form = RunForm(obj=run) if run is not None and request.method == "GET" else RunForm()
    heroes = db.session.scalars(sa.select(Hero).order_by(Hero.end_of_watch.desc(), Hero.name))
    runners = service.runner_picker(keep=run.runner if run is not None else None)
    tracks = db.session.scalars(sa.select(Track).order_by(Track.name))
    form.hero_id.choices = choices(
        "Choose a hero…",
        [(h.id, f"{h.display_name} · {h.agency} · {short_date(h.end_of_watch)}") for h in heroes],
    )
    form.runner_id.choices = choices("Choose a runner…", [(r.id, r.name) for r in runners])
    form.track_id.choices = choices(
        "Choose a track…", [(t.id, f"{t.name} · {t.laps_per_mile} laps per mile") for t in tracks]
    )
    if run is not None and request.method == "GET" and run.scheduled_at:
        form.scheduled_at.data = input_datetime(run.scheduled_at)
    return form


def _run_page(form: RunForm, run: Run | None, status: int = 200):
    return render_template("admin/run_form.html", form=form, run=run), status


def _submit_run(run: Run | None):
    form = _run_form(run)
    try:
        values = service.validate_run(form.data, run)
    except ValidationError as exc:
        show_errors(form, exc.fields)
        return _run_page(form, run, 422)
    run = service.save_run(run, values)
    db.session.commit()
    return _saved("Saved the planned run.", "admin.get_run", run_id=run.id)


def _planned_or_409(run_id: str) -> Run:
    run = db.get_or_404(Run, run_id)
    if run.status != "planned":
        abort(409, description="Only a planned run can be changed; this one has been run.")
    return run


@bp.get("/runs/new")
@admin_required
def get_new_run():
    """The form for planning a run."""
    return _run_page(_run_form(), None)


@bp.post("/runs/new")
@admin_required
def post_new_run():
    """Plan a run."""
    return _submit_run(None)


@bp.get("/runs/<run_id>")
@admin_required
def get_run(run_id: str):
    """One run: who, where, when, its mile number and its laps with splits."""
    run = db.get_or_404(Run, run_id)
    shipments = flags_service.runs_shipments(run)
    return render_template(
        "admin/run.html",
        run=run,
        splits=service.lap_splits(run),
        shipments=shipments,
        flag=flags_service,
    )


@bp.get("/runs/<run_id>/edit")
@admin_required
def get_edit_run(run_id: str):
    """The form for a planned run."""
    run = _planned_or_409(run_id)
    return _run_page(_run_form(run), run)


@bp.post("/runs/<run_id>/edit")
@admin_required
def post_edit_run(run_id: str):
    """Change a planned run."""
    return _submit_run(_planned_or_409(run_id))


@bp.post("/runs/<run_id>/confirm-mile")
@admin_required
def post_confirm_mile(run_id: str):
    """Confirm a mile held for review (a lap under the track's minimum): it gets its number."""
    run = db.get_or_404(Run, run_id)
    if confirm_mile(run):
        db.session.commit()
        return _saved(
            f"Confirmed: this is mile {run.mile_number:,}.", "admin.get_run", run_id=run_id
        )
    flash("This run is not waiting for a confirmation.", "error")
    return redirect(url_for("admin.get_run", run_id=run_id), code=303)


@bp.post("/runs/<run_id>/delete")
@admin_required
def post_delete_run(run_id: str):
    """Delete a run that is still only planned."""
    run = db.get_or_404(Run, run_id)
    if service.deletable_run(run) and not ConfirmForm().is_confirmed():
        when = short_time(run.scheduled_at) if run.scheduled_at else "no date yet"
        return ask_to_confirm(
            f"Delete the planned run for {run.hero.display_name}?",
            [
                f"{run.runner.name} at {run.track.name}, {when}.",
                "It leaves the runner's list of planned runs, and its check-in code stops working.",
            ],
            "Delete this planned run",
            url_for("admin.get_run", run_id=run.id),
        )
    problem = service.delete_planned_run(run)
    if problem:
        flash(problem, "error")
        return redirect(url_for("admin.get_run", run_id=run_id), code=303)
    db.session.commit()
    return _saved("Deleted the planned run.", "admin.get_runs")


# Devices -----------------------------------------------------------------------------------


@bp.get("/devices")
@admin_required
def get_devices():
    """Every phone signed in to the lap counter, with a revoke button."""
    return render_template("admin/devices.html", devices=service.list_devices())


@bp.post("/devices/<device_id>/revoke")
@admin_required
def post_revoke_device(device_id: str):
    """Sign a phone out: its token stops working at once."""
    device = db.get_or_404(Device, device_id)
    if not ConfirmForm().is_confirmed():
        return ask_to_confirm(
            f"Revoke the phone “{device.name}” of {device.runner.name}?",
            [
                "Its sign-in stops working at once. Runs it has not synced stay on the phone "
                "until someone signs in on it again."
            ],
            f"Revoke {device.name}",
            url_for("admin.get_devices"),
        )
    revoke_device(device)
    db.session.commit()
    return _saved(f"Signed out {device.name} ({device.runner.name}).", "admin.get_devices")


# Audit log ---------------------------------------------------------------------------------


@bp.get("/audit")
@admin_required
def get_audit():
    """The audit log, newest first; ?type= and ?id= narrow it to a kind of object or one object."""
    object_type = request.args.get("type", "").strip()
    if object_type and object_type not in audit.OBJECT_TYPES:
        abort(400, description="Unknown object type.")
    object_id = request.args.get("id", "").strip()[:64]
    page = audit.entries(
        object_type or None, object_id or None, request.args.get("page", 1, type=int)
    )
    return render_template(
        "admin/audit.html",
        page=page,
        object_type=object_type,
        object_id=object_id,
        types=audit.OBJECT_TYPES,
    )

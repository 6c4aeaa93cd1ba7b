"""The admin's coverage queue (/admin/coverage): heroes awaiting a mile, planned from the list."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for

from ..admin import service as admin_service
from ..admin.forms import choices
from ..auth import admin_required
from ..extensions import db
from ..formatting import short_time
from ..forms import show_errors
from ..models import HERO_KIND_LABELS, HERO_KINDS, US_STATES, Hero, Track
from ..validation import Conflict, ValidationError
from . import service
from .forms import PlanForm
from .views import bp


def _pickers() -> dict:
    """The runners and tracks a planned run can name."""
    tracks = db.session.scalars(sa.select(Track).order_by(Track.name))
    return {"runners": admin_service.runner_picker(), "tracks": list(tracks)}


@bp.get("/admin/coverage")
@admin_required
def get_coverage():
    """Heroes awaiting their mile (oldest end of watch first), the share honored, this week."""
    problems: dict[str, str] = {}
    try:
        filters = service.read_filters(request.args)
    except ValidationError as exc:
        problems = exc.fields
        filters = service.Filters()
    return render_template(
        "coverage/admin.html",
        figures=service.coverage(filters),
        filters=filters,
        problems=problems,
        week=service.week_plan(),
        kinds=[(k, HERO_KIND_LABELS[k]) for k in HERO_KINDS],
        states=sorted(US_STATES),
        **_pickers(),
    ), 422 if problems else 200


def _plan_form(hero: Hero) -> PlanForm:
    form = PlanForm()
    pickers = _pickers()
    form.hero_id.data = str(hero.id)
    form.runner_id.choices = choices(
        "Choose a runner…", [(r.id, r.name) for r in pickers["runners"]]
    )
    form.track_id.choices = choices(
        "Choose a track…",
        [(t.id, f"{t.name} · {t.laps_per_mile} laps per mile") for t in pickers["tracks"]],
    )
    return form


def _plan_page(form: PlanForm, hero: Hero, second_mile: str | None, status: int = 200):
    return render_template(
        "coverage/plan.html", form=form, hero=hero, second_mile=second_mile
    ), status


@bp.get("/admin/coverage/plan")
@admin_required
def get_plan():
    """The plan form for one hero (?hero=<id>); it warns if the hero already has a mile."""
    hero = db.get_or_404(Hero, request.args.get("hero", type=int) or 0)
    first = service.first_mile(hero)
    message = service.second_mile_message(hero, first) if first else None
    return _plan_page(_plan_form(hero), hero, message)


@bp.post("/admin/coverage/plan")
@admin_required
def post_plan():
    """Plan a run for a hero in one action; a second mile for a hero needs confirming."""
    hero = db.session.get(Hero, request.form.get("hero_id", type=int) or 0)
    if hero is None:
        abort(404)
    form = _plan_form(hero)
    form.process(request.form)
    try:
        run = service.plan_run(request.form, confirmed=bool(form.confirm.data))
    except ValidationError as exc:
        db.session.rollback()
        show_errors(form, exc.fields)
        return _plan_page(form, hero, None, 422)
    except Conflict as exc:
        db.session.rollback()
        return _plan_page(form, hero, exc.message, 409)
    db.session.commit()
    flash(
        f"Planned: {run.runner.name} runs for {hero.display_name} on "
        f"{short_time(run.scheduled_at)} at {run.track.name}.",
        "success",
    )
    return redirect(url_for("coverage.get_coverage", **_back_filters()), 303)


def _back_filters() -> dict:
    """The queue's filters the plan form carried, so the admin returns to the same list."""
    try:
        return service.read_filters(
            {k: request.form.get(f"back_{k}") for k in ("kind", "state", "year")}
        ).as_args()
    except ValidationError:
        return {}

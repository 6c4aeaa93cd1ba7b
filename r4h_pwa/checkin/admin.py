"""The admin's check-in pages for a run (/admin/runs/<id>/checkins and its sheet)."""

from flask import Response, abort, flash, redirect, render_template, url_for

from ..auth import admin_required
from ..extensions import db
from ..formatting import local_date
from ..forms import ConfirmForm, ask_to_confirm
from ..models import Run
from ..qr import qr_svg
from ..serializers import public_url
from . import service
from .forms import CheckinForm
from .views import bp, run_view


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
        info=run_view(run),
        checkins=service.roster(run),
        state=service.token_state(run),
        closes=service.closes_at(run),
        checkin_url=public_url(f"/c/{run.checkin_token}"),
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
    if not ConfirmForm().is_confirmed():
        who = ", ".join(part for part in (checkin.name, checkin.agency) if part)
        return ask_to_confirm(
            f"Remove the check-in of {checkin.name}?",
            [
                f"{who} no longer appears on the roster of the run for {run.hero.display_name}"
                " or on the family page."
            ],
            f"Remove {checkin.name}",
            url_for("checkin.get_admin_roster", run_id=run.id),
        )
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
    day = local_date(run.scheduled_at or run.started_at or run.created_at).isoformat()
    response = Response(service.roster_csv(run), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="checkins-{day}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/admin/runs/<run_id>/checkin-token/revoke")
@admin_required
def post_revoke_token(run_id: str):
    """Stop the run's check-in code working."""
    run = _admin_run(run_id)
    if not ConfirmForm().is_confirmed():
        return ask_to_confirm(
            f"Revoke the check-in code of the run for {run.hero.display_name}?",
            [
                "The printed sheet and the code on the runner's phone stop working at once. "
                "Check-ins already made stay."
            ],
            "Revoke the code",
            url_for("checkin.get_admin_roster", run_id=run.id),
        )
    service.revoke_token(run)
    db.session.commit()
    flash(
        "The check-in code is revoked. The printed sheet and the phone's code no longer work.",
        "success",
    )
    return redirect(url_for("checkin.get_admin_roster", run_id=run.id))


@bp.post("/admin/runs/<run_id>/checkin-token/reissue")
@admin_required
def post_reissue_token(run_id: str):
    """Give the run a new check-in code; the old one stops working."""
    run = _admin_run(run_id)
    if not ConfirmForm().is_confirmed():
        return ask_to_confirm(
            f"Replace the check-in code of the run for {run.hero.display_name}?",
            ["The old code stops working: a sheet printed before must be printed again."],
            "Issue a new code",
            url_for("checkin.get_admin_roster", run_id=run.id),
        )
    service.reissue_token(run)
    db.session.commit()
    flash(
        "A new check-in code is ready. Print a new sheet; the old code no longer works.", "success"
    )
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
        "checkin/sheet.html", run=run, info=run_view(run), state=state, url=url, svg=svg
    )

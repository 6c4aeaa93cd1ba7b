"""The admin's shipment pages (/admin/shipments): list, create, edit, advance, print."""

import base64
import json

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from wtforms.fields.choices import SelectChoice

from .. import labels
from ..auth import admin_required
from ..extensions import db
from ..formatting import long_date, number
from ..forms import ConfirmForm, ask_to_confirm, show_errors
from ..models import SHIPMENT_STATUSES, Run
from ..runs import photos
from ..validation import Conflict, ValidationError
from . import service
from .forms import AdvanceForm, NewShipmentForm, PrintForm, ShipmentForm
from .views import PDF_FILES, bp, pdf_response


def _admin_shipment(shipment_id: str):
    shipment = service.get_shipment(shipment_id)
    if shipment is None:
        abort(404)
    return shipment


def _run_choices(runs) -> list[SelectChoice]:
    def label(run) -> str:
        mile = f"Mile {number(run.mile_number)}" if run.mile_number else "Unnumbered"
        when = long_date(service.run_day(run))
        return f"{mile} · {run.hero.display_name} · {run.runner.name} · {when}"

    return [SelectChoice("", "Choose a synced run"), *(SelectChoice(r.id, label(r)) for r in runs)]


@bp.get("/admin/shipments")
@admin_required
def get_admin_shipments():
    """Every shipment with its status; select some to print in one PDF."""
    status = request.args.get("status")
    shipments = service.shipments_list(status)
    return render_template(
        "flags/admin_list.html",
        shipments=shipments,
        status=status if status in SHIPMENT_STATUSES else None,
        statuses=service.STATUS_LABELS,
        form=PrintForm(),
        titles={s.id: service.shipment_title(s) for s in shipments},
    )


@bp.get("/admin/shipments/new")
@admin_required
def get_new_shipment():
    """The form for a new shipment; ?run=<id> picks the run and suggests its hero's agency."""
    form = _new_shipment_form()
    run = db.session.get(Run, request.args["run"][:64]) if request.args.get("run") else None
    if run is not None:
        form.run_id.data = run.id
        # The agency often delivers the flag to the family in person; the admin may change it.
        form.recipient_kind.data = "intermediary"
        form.recipient_name.data = run.hero.agency
    return render_template("flags/admin_form.html", form=form, shipment=None)


@bp.post("/admin/shipments/new")
@admin_required
def post_new_shipment():
    """Create a shipment for a synced run; nothing is stored unless every field is right."""
    form = _new_shipment_form()
    if form.validate_on_submit():
        run = db.session.get(Run, form.run_id.data) if form.run_id.data else None
        try:
            values = service.read_shipment(form.values())
        except ValidationError as exc:
            values = None
            show_errors(form, exc.fields)
        if run is None:
            show_errors(form, {"run_id": "Choose a run."})
        try:
            if values is None or run is None:
                raise ValidationError({})
            shipment = service.create_shipment(run, values)
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            if isinstance(exc, Conflict):
                show_errors(form, {"run_id": exc.message})
        else:
            db.session.commit()
            flash("Shipment created. Print its label when the flag is ready.", "success")
            return redirect(url_for("flags.get_admin_shipment", shipment_id=shipment.id), 303)
    return render_template("flags/admin_form.html", form=form, shipment=None), 422


def _new_shipment_form() -> NewShipmentForm:
    form = NewShipmentForm()
    form.run_id.choices = _run_choices(service.synced_runs())
    return form


@bp.get("/admin/shipments/<shipment_id>")
@admin_required
def get_admin_shipment(shipment_id: str):
    """One shipment: status and times, printing, the family link and the family's message."""
    shipment = _admin_shipment(shipment_id)
    return render_template(
        "flags/admin_shipment.html",
        shipment=shipment,
        ref=service.short_ref(shipment),
        title=service.shipment_title(shipment),
        tracking_url=service.tracking_url(shipment),
        statuses=service.STATUS_LABELS,
        times=service.STATUS_TIMES,
        next_status=service.next_status(shipment),
        family_url=service.family_url(shipment),
        honor_line=service.honor_line(shipment),
        kinds=service.RECIPIENT_KIND_LABELS,
        advance_form=AdvanceForm(expected=service.next_status(shipment)),
        confirm_form=ConfirmForm(),
        photos=photos.runs_photos(shipment.run_id),
    )


@bp.get("/admin/shipments/<shipment_id>/edit")
@admin_required
def get_edit_shipment(shipment_id: str):
    """The form to change a shipment's recipient, address, note, carrier or tracking number."""
    shipment = _admin_shipment(shipment_id)
    return render_template(
        "flags/admin_form.html", form=ShipmentForm(obj=shipment), shipment=shipment
    )


@bp.post("/admin/shipments/<shipment_id>/edit")
@admin_required
def post_edit_shipment(shipment_id: str):
    """Save a shipment's changes; nothing is stored unless every field is right."""
    shipment = _admin_shipment(shipment_id)
    form = ShipmentForm()
    if form.validate_on_submit():
        try:
            values = service.read_shipment(form.values())
        except ValidationError as exc:
            show_errors(form, exc.fields)
        else:
            service.update_shipment(shipment, values)
            db.session.commit()
            flash("Shipment saved.", "success")
            return redirect(url_for("flags.get_admin_shipment", shipment_id=shipment.id), 303)
    return render_template("flags/admin_form.html", form=form, shipment=shipment), 422


@bp.post("/admin/shipments/<shipment_id>/advance")
@admin_required
def post_advance(shipment_id: str):
    """Move the shipment to its next status and stamp the time."""
    shipment = _admin_shipment(shipment_id)
    form = AdvanceForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        status = service.advance(shipment, form.expected.data or None)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(f"Marked {service.STATUS_LABELS[status].lower()}.", "success")
    return redirect(url_for("flags.get_admin_shipment", shipment_id=shipment.id), 303)


@bp.post("/admin/shipments/<shipment_id>/revoke")
@admin_required
def post_revoke(shipment_id: str):
    """Turn off the family link; the page answers 404 until a new link is made."""
    shipment = _admin_shipment(shipment_id)
    if not ConfirmForm().is_confirmed():
        return ask_to_confirm(
            f"Turn off the family link of shipment {service.short_ref(shipment)}?",
            [
                f"The family page for {shipment.run.hero.display_name} answers “not found” to "
                "the QR code on the label and card, until a new link is made."
            ],
            "Turn off the link",
            url_for("flags.get_admin_shipment", shipment_id=shipment.id),
        )
    service.revoke_family_link(shipment)
    db.session.commit()
    flash("The family link is turned off.", "success")
    return redirect(url_for("flags.get_admin_shipment", shipment_id=shipment.id), 303)


@bp.post("/admin/shipments/<shipment_id>/restore")
@admin_required
def post_restore(shipment_id: str):
    """Put back the family page the family took down (when they ask for it)."""
    shipment = _admin_shipment(shipment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.restore_family_page(shipment)
    db.session.commit()
    flash("The family page is back up.", "success")
    return redirect(url_for("flags.get_admin_shipment", shipment_id=shipment.id), 303)


@bp.post("/admin/shipments/<shipment_id>/photos/<photo_id>/<any(hide, show):action>")
@admin_required
def post_photo_visibility(shipment_id: str, photo_id: str, action: str):
    """Hide a photo of the shipment's run from the family page, or show it again."""
    shipment = _admin_shipment(shipment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    photo = photos.photo_of_run(shipment.run, photo_id)
    photos.set_hidden(photo, action == "hide")
    db.session.commit()
    flash(
        "The photo is hidden from the family page."
        if action == "hide"
        else "The photo is shown on the family page again.",
        "success",
    )
    return redirect(url_for("flags.get_admin_shipment", shipment_id=shipment.id), 303)


@bp.post("/admin/shipments/<shipment_id>/reissue")
@admin_required
def post_reissue(shipment_id: str):
    """Make a new family link; labels and cards printed before stop working."""
    shipment = _admin_shipment(shipment_id)
    if not ConfirmForm().is_confirmed():
        return ask_to_confirm(
            f"Make a new family link for shipment {service.short_ref(shipment)}?",
            ["The QR code on labels and cards printed before stops working: print them again."],
            "Make a new link",
            url_for("flags.get_admin_shipment", shipment_id=shipment.id),
        )
    service.reissue_family_link(shipment)
    db.session.commit()
    flash(
        "A new family link is ready. Print the label and card again: the old QR code is off.",
        "success",
    )
    return redirect(url_for("flags.get_admin_shipment", shipment_id=shipment.id), 303)


@bp.post("/admin/shipments/print")
@admin_required
def post_print():
    """One PDF of the selected shipments; with Accept: application/x-ndjson, progress first."""
    form = PrintForm()
    if not form.validate_on_submit():
        abort(400)
    shipments = service.shipments_by_ids(form.ids.data or [])
    fmt = form.format.data
    streaming = request.accept_mimetypes.best == "application/x-ndjson"
    if not shipments:
        if streaming:
            return jsonify(
                error={
                    "code": "invalid",
                    "message": "Select at least one shipment.",
                    "fields": {"ids": "Select at least one shipment."},
                }
            ), 422
        flash("Select at least one shipment to print.", "error")
        return redirect(url_for("flags.get_admin_shipments"), 303)
    filename = f"{PDF_FILES[fmt][0]}s-{len(shipments)}.pdf"
    if not streaming:
        data = service.print_pdf(shipments, fmt)
        _mark_printed(shipments, fmt)
        return pdf_response(data, filename)
    ids = [shipment.id for shipment in shipments]
    return Response(
        stream_with_context(_print_progress(ids, fmt, filename)),
        mimetype="application/x-ndjson",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _mark_printed(shipments, fmt: str) -> None:
    if PDF_FILES[fmt][1] and any([service.mark_label_printed(s) for s in shipments]):
        db.session.commit()


def _print_progress(ids: list[str], fmt: str, filename: str):
    """NDJSON lines {done, total} as each page is drawn, then the PDF itself in base64."""
    # The generator runs after the view returned, under a fresh app context and so a fresh
    # session: load the shipments here, or their changes would go to a session long gone.
    shipments = service.shipments_by_ids(ids)
    total = len(shipments)
    document = labels.Document(fmt)
    yield json.dumps({"done": 0, "total": total}) + "\n"
    for shipment in shipments:
        document.add(service.print_item(shipment, fmt))
        yield json.dumps({"done": document.count, "total": total}) + "\n"
    data = document.finish()
    _mark_printed(shipments, fmt)
    yield (
        json.dumps(
            {
                "done": total,
                "total": total,
                "filename": filename,
                "pdf": base64.b64encode(data).decode(),
                # What was made, so the page can say it: labels or cards, on how many pages (one
                # sheet each), and each shipment's status now, so the list updates without a reload.
                "made": {"format": fmt, "items": document.count, "pages": document.pages},
                "statuses": {
                    s.id: {"status": s.status, "label": service.STATUS_LABELS[s.status]}
                    for s in shipments
                },
            }
        )
        + "\n"
    )

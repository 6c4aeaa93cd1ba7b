"""Flag shipments, their labels, the family page and the wall of honour."""

import base64
import json

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
    stream_with_context,
    url_for,
)
from wtforms.fields.choices import SelectChoice

from .. import labels
from ..auth import admin_required, current_actor, device_required
from ..errors import ApiError, wants_json
from ..extensions import csrf, db, limiter
from ..jsonbody import json_object
from ..models import SHIPMENT_STATUSES, Run
from ..serializers import public_url
from . import service
from .family import chart_svg, lap_rows, page_for_token
from .forms import AckForm, AdvanceForm, ConfirmForm, NewShipmentForm, PrintForm, ShipmentForm
from .wall import honor_wall

bp = Blueprint("flags", __name__)

PDF_FILES = {  # format: (file name stem, marks the label printed)
    "label": ("label", True),
    "letter": ("label-letter", True),
    "card": ("card", False),
}


@bp.after_request
def _family_headers(response: Response) -> Response:
    """Family pages are private by token: never indexed, never leaked in a Referer."""
    if request.path.startswith("/f/"):
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
    return response


def _ack_limit() -> str:
    return current_app.config.get("ACK_RATE_LIMIT", "10 per hour")


# --- the phone's API --------------------------------------------------------------------------


@bp.post("/api/v1/runs/<run_id>/shipments")
@csrf.exempt
@device_required
def post_shipment(run_id: str):
    """Create a draft shipment for one of the runner's synced runs."""
    body = json_object()
    run = service.synced_run_of(g.runner, run_id)
    shipment = service.create_shipment(run, service.read_shipment(body))
    db.session.commit()
    location = public_url(url_for("flags.get_shipment", shipment_id=shipment.id))
    reply = {
        "id": shipment.id,
        "family_url": service.family_url(shipment),
        "label_url": service.label_url(shipment),
    }
    return jsonify(reply), 201, {"Location": location}


@bp.get("/api/v1/runs/<run_id>/shipments")
@device_required
def get_run_shipments(run_id: str):
    """The shipments of one of the runner's runs, with their status and any family message."""
    run = service.own_run(g.runner, run_id)
    return jsonify(shipments=[service.shipment_json(s) for s in service.runs_shipments(run)])


@bp.get("/api/v1/shipments/<shipment_id>")
@device_required
def get_shipment(shipment_id: str):
    """A shipment of the runner's run, with its status, status times and the family's message."""
    return jsonify(service.shipment_json(service.shipment_for(g.runner, shipment_id)))


# --- printing ---------------------------------------------------------------------------------


def _printable(shipment_id: str):
    """The shipment if the caller may print it; 401 (JSON) or a login redirect for nobody."""
    actor = current_actor()
    if actor is None:
        if wants_json():
            raise ApiError(401, "unauthorized", "Sign in first.")
        abort(redirect(url_for("auth.login", next=request.full_path.rstrip("?"))))
    shipment = service.get_shipment(shipment_id)
    if shipment is None or not service.can_see(actor, shipment):
        abort(404)  # another runner learns nothing, not even that the id exists
    return shipment


def _pdf(data: bytes, filename: str) -> Response:
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"  # it carries an address
    return response


def _print_one(shipment_id: str, fmt: str):
    shipment = _printable(shipment_id)
    data = service.print_pdf([shipment], fmt)
    stem, marks_printed = PDF_FILES[fmt]
    # Only a real GET prints: a HEAD (a link checker, a preview) must not change the status.
    if marks_printed and request.method == "GET" and service.mark_label_printed(shipment):
        db.session.commit()
    return _pdf(data, f"{stem}-{service.short_ref(shipment)}.pdf")


@bp.get("/shipments/<shipment_id>/label.pdf")
def get_label(shipment_id: str):
    """The 4 x 6 in shipping label; the first print marks a draft label_printed."""
    return _print_one(shipment_id, "label")


@bp.get("/shipments/<shipment_id>/label-letter.pdf")
def get_label_letter(shipment_id: str):
    """The same label on a US-letter half sheet."""
    return _print_one(shipment_id, "letter")


@bp.get("/shipments/<shipment_id>/card.pdf")
def get_card(shipment_id: str):
    """The 4 x 6 in keepsake card that goes inside the box."""
    return _print_one(shipment_id, "card")


# --- the family page --------------------------------------------------------------------------


def _family_page(token: str):
    page = page_for_token(token)
    # End the read with COMMIT, not the pool's ROLLBACK: psycopg forgets its prepared
    # statements on every ROLLBACK, and planning this query costs PostgreSQL ten times
    # more than running it prepared.
    db.session.commit()
    if page is None:
        abort(404)
    return page


def _render_family(page, message: str = "", errors: tuple[str, ...] = ()) -> str:
    # This public page must be fast, so it skips what it does not use: the form is written
    # out in the template (no WTForms object), and the template is rendered without the
    # context processors (Flask-Login's would load a session user on every view).
    template = current_app.jinja_env.get_template("flags/family.html")
    return template.render(page=page, message=message, errors=errors,
                           max_message=service.MAX_ACK_MESSAGE, chart_svg=chart_svg,
                           lap_rows=lap_rows)


@bp.get("/f/<token>")
def get_family(token: str):
    """The mile run for the family's hero; public to whoever holds the token."""
    return _render_family(_family_page(token))


@bp.post("/f/<token>/ack")
@limiter.limit(_ack_limit)
def post_ack(token: str):
    """The family says the flag arrived, with an optional message to the runner."""
    shipment = service.shipment_by_family_token(token)
    if shipment is None:
        abort(404)
    form = AckForm()
    if not form.validate_on_submit():
        errors = tuple(e for errs in form.errors.values() for e in errs)
        return _render_family(_family_page(token), form.message.data or "", errors), 400
    try:
        service.acknowledge(shipment, form.message.data or "")
    except ApiError as exc:
        db.session.rollback()
        errors = tuple(exc.fields.values())
        return _render_family(_family_page(token), form.message.data or "", errors), 422
    db.session.commit()
    return redirect(url_for("flags.get_family_thanks", token=token), 303)


@bp.get("/f/<token>/thanks")
def get_family_thanks(token: str):
    """Thank the family once they have told us the flag arrived."""
    return render_template("flags/thanks.html", page=_family_page(token))


# --- the wall of honour -----------------------------------------------------------------------


@bp.get("/honor")
def get_honor():
    """The public wall of honour: heroes, mile numbers, dates and the team's totals."""
    page = request.args.get("page", "1")
    wall = honor_wall(int(page) if page.isdigit() and len(page) < 6 else 1)
    return render_template("flags/honor.html", wall=wall)


# --- admin pages ------------------------------------------------------------------------------


def _admin_shipment(shipment_id: str):
    shipment = service.get_shipment(shipment_id)
    if shipment is None:
        abort(404)
    return shipment


def _run_choices(runs) -> list[SelectChoice]:
    def label(run) -> str:
        mile = f"Mile {run.mile_number:,}" if run.mile_number else "Unnumbered"
        when = service.long_date(service.run_day(run))
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
        refs={s.id: service.short_ref(s) for s in shipments},
    )


@bp.get("/admin/shipments/new")
@admin_required
def get_new_shipment():
    """The form for a new shipment; ?run=<id> picks the run."""
    form = _new_shipment_form()
    if request.args.get("run"):
        form.run_id.data = request.args["run"]
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
        except ApiError as exc:
            values = None
            form.show_errors(exc.fields)
        if run is None:
            form.show_errors({"run_id": "Choose a run."})
        try:
            if values is None or run is None:
                raise ApiError(422, "invalid", "Some fields are not valid.")
            shipment = service.create_shipment(run, values)
        except ApiError as exc:
            db.session.rollback()
            if exc.status == 409:
                form.show_errors({"run_id": exc.message})
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
        statuses=service.STATUS_LABELS,
        times=service.STATUS_TIMES,
        next_status=service.next_status(shipment),
        family_url=service.family_url(shipment),
        honor_line=service.honor_line(shipment),
        kinds=service.KIND_LABELS,
        advance_form=AdvanceForm(expected=service.next_status(shipment)),
        confirm_form=ConfirmForm(),
    )


@bp.get("/admin/shipments/<shipment_id>/edit")
@admin_required
def get_edit_shipment(shipment_id: str):
    """The form to change a shipment's recipient, address, note, carrier or tracking number."""
    shipment = _admin_shipment(shipment_id)
    return render_template("flags/admin_form.html", form=ShipmentForm(obj=shipment),
                           shipment=shipment)


@bp.post("/admin/shipments/<shipment_id>/edit")
@admin_required
def post_edit_shipment(shipment_id: str):
    """Save a shipment's changes; nothing is stored unless every field is right."""
    shipment = _admin_shipment(shipment_id)
    form = ShipmentForm()
    if form.validate_on_submit():
        try:
            values = service.read_shipment(form.values())
        except ApiError as exc:
            form.show_errors(exc.fields)
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
    except ApiError as exc:
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
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.revoke_family_link(shipment)
    db.session.commit()
    flash("The family link is turned off.", "success")
    return redirect(url_for("flags.get_admin_shipment", shipment_id=shipment.id), 303)


@bp.post("/admin/shipments/<shipment_id>/reissue")
@admin_required
def post_reissue(shipment_id: str):
    """Make a new family link; labels and cards printed before stop working."""
    shipment = _admin_shipment(shipment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.reissue_family_link(shipment)
    db.session.commit()
    flash("A new family link is ready. Print the label and card again: the old QR code is off.",
          "success")
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
            return jsonify(error={"code": "invalid", "message": "Select at least one shipment.",
                                  "fields": {"ids": "Select at least one shipment."}}), 422
        flash("Select at least one shipment to print.", "error")
        return redirect(url_for("flags.get_admin_shipments"), 303)
    filename = f"{PDF_FILES[fmt][0]}s-{len(shipments)}.pdf"
    if not streaming:
        data = service.print_pdf(shipments, fmt)
        _mark_printed(shipments, fmt)
        return _pdf(data, filename)
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
    yield json.dumps({
        "done": total,
        "total": total,
        "filename": filename,
        "pdf": base64.b64encode(data).decode(),
    }) + "\n"

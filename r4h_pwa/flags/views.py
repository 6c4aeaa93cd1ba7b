"""The shipment API for the phone, printing labels and cards, the family page and the wall."""

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from .. import labels
from ..audit import FAMILY, act_as
from ..auth import current_actor, device_required
from ..errors import ApiError, wants_json
from ..extensions import csrf, db, limiter
from ..forms import ConfirmForm
from ..jsonbody import json_object
from ..pagecache import cached_page
from ..runs.photos import family_photo
from ..runs.service import run_of
from ..runs.views import jpeg_response
from ..serializers import public_url
from ..validation import ValidationError
from . import service
from .family import chart_svg, is_taken_down, lap_rows, page_for_token, run_id_for_token
from .forms import AckForm
from .wall import hero_tribute, honor_wall, read_search

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
    run = run_of(g.runner.id, run_id)
    return jsonify(shipments=[service.shipment_json(s) for s in service.runs_shipments(run)])


@bp.get("/api/v1/shipments/<shipment_id>")
@device_required
def get_shipment(shipment_id: str):
    """A shipment of the runner's run, with its status, status times and the family's message."""
    return jsonify(service.shipment_json(service.shipment_for(g.runner, shipment_id)))


# --- printing ---------------------------------------------------------------------------------


def _shipment_to_print(shipment_id: str):
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


def pdf_response(data: bytes, filename: str) -> Response:
    """A PDF shown inline, never cached (it carries an address)."""
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"  # it carries an address
    return response


def _print_one(shipment_id: str, fmt: str):
    shipment = _shipment_to_print(shipment_id)
    data = service.print_pdf([shipment], fmt)
    stem, marks_printed = PDF_FILES[fmt]
    # Only a real GET prints: a HEAD (a link checker, a preview) must not change the status.
    if marks_printed and request.method == "GET" and service.mark_label_printed(shipment):
        db.session.commit()
    return pdf_response(data, f"{stem}-{service.short_ref(shipment)}.pdf")


@bp.get("/shipments/<shipment_id>/label.pdf")
def get_label(shipment_id: str):
    """The 4 x 6 in shipping label; the first print marks a draft label_printed."""
    return _print_one(shipment_id, "label")


@bp.get("/shipments/<shipment_id>/label.zpl")
def get_label_zpl(shipment_id: str):
    """The 4 x 6 in label as ZPL II for a 203 dpi thermal printer; marks a draft printed too."""
    shipment = _shipment_to_print(shipment_id)
    data = labels.zpl(service.label_for(shipment))
    if request.method == "GET" and service.mark_label_printed(shipment):
        db.session.commit()
    response = make_response(data)
    # Plain text: any browser shows it and any print tool (lp -o raw, Browser Print) sends it
    # as is; there is no registered media type for ZPL.
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="label-{service.short_ref(shipment)}.zpl"'
    )
    response.headers["Cache-Control"] = "private, no-store"  # it carries an address
    return response


@bp.get("/shipments/<shipment_id>/label-letter.pdf")
def get_label_letter(shipment_id: str):
    """The same label on a US-letter half sheet."""
    return _print_one(shipment_id, "letter")


@bp.get("/shipments/<shipment_id>/card.pdf")
def get_card(shipment_id: str):
    """The 4 x 6 in keepsake card that goes inside the box."""
    return _print_one(shipment_id, "card")


# --- the family page --------------------------------------------------------------------------


def _taken_down() -> Response:
    """The short, kind answer for a page the family took down: nothing about the hero or run."""
    return make_response(render_template("flags/removed.html"), 410)


def _family_page(token: str):
    page = page_for_token(token)
    taken_down = page is None and is_taken_down(token)
    # End the read with COMMIT, not the pool's ROLLBACK: psycopg forgets its prepared
    # statements on every ROLLBACK, and planning this query costs PostgreSQL ten times
    # more than running it prepared.
    db.session.commit()
    if page is None:
        abort(_taken_down() if taken_down else 404)
    return page


def _live_shipment(token: str):
    """The shipment behind a live, not taken-down family link; 404 or 410 otherwise."""
    shipment = service.shipment_by_family_token(token)
    if shipment is None:
        abort(404)
    if shipment.family_hidden_at is not None:
        abort(_taken_down())
    return shipment


def _render_family(page, message: str = "", errors: tuple[str, ...] = (), csrf_token=None) -> str:
    # This public page must be fast, so it skips what it does not use: the form is written
    # out in the template (no WTForms object), and the template is rendered without the
    # context processors (Flask-Login's would load a session user on every view).
    template = current_app.jinja_env.get_template("flags/family.html")
    return template.render(
        page=page,
        message=message,
        errors=errors,
        max_message=service.MAX_ACK_MESSAGE,
        chart_svg=chart_svg,
        lap_rows=lap_rows,
        on_its_way=page.on_its_way,
        csrf_token=csrf_token or current_app.jinja_env.globals["csrf_token"],
    )


# The cached family page holds this in place of the form's CSRF token, which belongs to the
# visitor's session: each answer puts the visitor's own token there.
_CSRF_SLOT = "r4h-csrf-token-slot"


@bp.get("/f/<token>")
def get_family(token: str):
    """The mile run for the family's hero; public to whoever holds the token."""
    page = cached_page(
        "family",
        token,
        lambda: _render_family(_family_page(token), csrf_token=lambda: _CSRF_SLOT),
        run_of=lambda: run_id_for_token(token),
    )
    return page.html.replace(_CSRF_SLOT, current_app.jinja_env.globals["csrf_token"]())


@bp.post("/f/<token>/ack")
@limiter.limit(_ack_limit)
def post_ack(token: str):
    """The family says the flag arrived, with an optional message to the runner."""
    shipment = _live_shipment(token)
    form = AckForm()
    if not form.validate_on_submit():
        errors = tuple(e for errs in form.errors.values() for e in errs)
        return _render_family(_family_page(token), form.message.data or "", errors), 400
    act_as(FAMILY)
    try:
        service.acknowledge(shipment, form.message.data or "")
    except ValidationError as exc:
        db.session.rollback()
        errors = tuple(exc.fields.values())
        return _render_family(_family_page(token), form.message.data or "", errors), 422
    db.session.commit()
    return redirect(url_for("flags.get_family_thanks", token=token), 303)


@bp.get("/f/<token>/thanks")
def get_family_thanks(token: str):
    """Thank the family once they have told us the flag arrived."""
    return render_template("flags/thanks.html", page=_family_page(token))


@bp.get("/f/<token>/hide")
def get_family_hide(token: str):
    """Ask the family to confirm that they want their page taken down."""
    page = _family_page(token)
    return render_template("flags/remove.html", page=page)


@bp.post("/f/<token>/hide")
@limiter.limit(_ack_limit)
def post_family_hide(token: str):
    """The family takes its page down; it answers 410 until an admin restores it."""
    shipment = _live_shipment(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.take_down_family_page(shipment)
    db.session.commit()
    return redirect(url_for("flags.get_family", token=token), 303)


@bp.get("/f/<token>/photos/<photo_id>.jpg")
def get_family_photo(token: str, photo_id: str):
    """A photo shown on this family page, as stored (no metadata); 404 once hidden."""
    photo = family_photo(token, photo_id)
    if photo is None:
        abort(404)
    return jpeg_response(photo.jpeg)


@bp.get("/f/<token>/photos/<photo_id>/page.jpg")
def get_family_photo_page_copy(token: str, photo_id: str):
    """The page copy of a photo shown on this family page; 404 once hidden."""
    photo = family_photo(token, photo_id)
    if photo is None:
        abort(404)
    return jpeg_response(photo.page_jpeg)


# --- the wall of honor -----------------------------------------------------------------------


def _wall_page_number() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and len(page) < 6 else 1


def _render_wall() -> str:
    wall = honor_wall(_wall_page_number(), read_search(request.args))
    return render_template("flags/honor.html", totals=wall.totals, miles=wall.miles)


def _public_page(page) -> Response:
    """A cached public page: anyone may keep it, but must ask again (no-cache); 304 if same."""
    response = make_response(page.html)
    response.set_etag(page.etag)
    response.last_modified = page.rendered_at
    response.headers["Cache-Control"] = "public, no-cache"
    return response.make_conditional(request)


@bp.get("/honor")
def get_honor():
    """The public wall of honor: the team's totals explained, and the miles, searchable by
    the hero's name, agency and state (?name=&agency=&state=, a plain GET form).

    Public and the same for everyone: browsers and shared caches may keep it but must ask
    again each time (no-cache), and an unchanged wall is a 304.
    """
    query = json.dumps(sorted(request.args.items(multi=True)))  # each search its own page
    return _public_page(cached_page("wall", query, _render_wall))


_MAX_ID = 2**31 - 1  # ids are 32-bit integers; a larger one is no hero (and no database error)


def _render_hero(hero_id: int) -> str:
    tribute = hero_tribute(hero_id) if hero_id <= _MAX_ID else None
    if tribute is None:
        abort(404)
    search = read_search(request.args)
    page = _wall_page_number()
    back = {**({"page": str(page)} if page > 1 else {}), **search.as_args()}
    return render_template("flags/hero.html", hero=tribute, search=search, back=back)


@bp.get("/honor/heroes/<int:hero_id>")
def get_honor_hero(hero_id: int):
    """A hero's public page: the tribute and the miles run for them, as the wall tells them,
    with the way back to the wall's search (?name=&agency=&state=). 404 for a hero who is
    not on the wall. Cached and revalidated like the wall."""
    query = json.dumps([hero_id, sorted(request.args.items(multi=True))])
    return _public_page(cached_page("hero", query, lambda: _render_hero(hero_id)))

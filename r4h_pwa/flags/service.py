"""Shipments of flags: create, edit, advance, print and acknowledge.

Views call these with plain data; nothing here reads the request or commits.

A family may acknowledge more than once (a second visit, a second relative). The first
acknowledgement marks the shipment received and keeps that time. Every message is kept in
the one ack_message text: a message identical to one already there changes nothing, a
different one is added after a blank line, so no family's words are lost; past
MAX_ACK_TOTAL characters in all, a further new message is refused (a ValidationError).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from .. import labels
from ..extensions import db
from ..formatting import long_date, number
from ..models import (
    MAILING_STATES,
    RECIPIENT_KINDS,
    SHIPMENT_STATUSES,
    Hero,
    Run,
    Runner,
    Shipment,
    new_token,
    utcnow,
)
from ..runs.service import run_of
from ..serializers import iso, public_url
from ..validation import Conflict, Fields, NotFound, ValidationError
from . import notify

MAX_NOTE = 2000
MAX_ACK_MESSAGE = 2000
MAX_ACK_TOTAL = 10000
MAX_BATCH = 500

_ZIP = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")

STATUS_LABELS = {
    "draft": "Draft",
    "label_printed": "Label printed",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "received": "Received",
}
STATUS_TIMES = {
    "draft": "created_at",
    "label_printed": "label_printed_at",
    "shipped": "shipped_at",
    "delivered": "delivered_at",
    "received": "received_at",
}
# The carriers a flag goes by, each with its tracking numbers' shapes (spaces removed, upper
# case) and its public tracking page. "Hand delivery" has no tracking number.
TRACKING_FORMATS = {
    "USPS": (
        re.compile(r"^(\d{20,22}|[A-Z]{2}\d{9}US)$"),
        "20 to 22 digits, or 13 characters like EA123456789US",
    ),
    "UPS": (re.compile(r"^1Z[0-9A-Z]{16}$"), "1Z and 16 letters or digits"),
    "FedEx": (re.compile(r"^(\d{12}|\d{15}|\d{20}|\d{22})$"), "12, 15, 20 or 22 digits"),
}
TRACKING_PAGES = {
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "UPS": "https://www.ups.com/track?tracknum={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
}
HAND_DELIVERY = "Hand delivery"
CARRIERS = (*TRACKING_FORMATS, HAND_DELIVERY)
# Statuses in which the flag is travelling: the family page says it is on its way.
ON_ITS_WAY = ("shipped", "delivered")

RECIPIENT_KIND_LABELS = {
    "family": "The family",
    "intermediary": "Someone who delivers it in person",
}

# --- reading and checking input ------------------------------------------------------------


def read_shipment(data: dict) -> dict:
    """Shipment fields from JSON or a form, cleaned; a ValidationError names each bad one."""
    fields = Fields(data)
    values = {
        "recipient_name": fields.text("recipient_name", 120, required=True),
        "recipient_kind": fields.choice("recipient_kind", RECIPIENT_KINDS, default="family"),
        "address_line1": fields.text("address_line1", 120, required=True),
        "address_line2": fields.text("address_line2", 120),
        "city": fields.text("city", 80, required=True),
        # Loose lengths here; the checks below say what a state code and a ZIP look like.
        "state": fields.text("state", 20, required=True).upper(),
        "postal_code": fields.text("postal_code", 20, required=True),
        "note": fields.text("note", MAX_NOTE),
        "handwritten_note": fields.boolean("handwritten_note", default=True),
        "carrier": fields.text("carrier", 40),
        "tracking_number": fields.text("tracking_number", 60),
    }
    if "state" not in fields.errors and values["state"] not in MAILING_STATES:
        fields.fail("state", "Use the two-letter postal code of a US state, like FL.")
    if "postal_code" not in fields.errors:
        match = _ZIP.match(values["postal_code"])
        if match is None:
            fields.fail("postal_code", "Use a ZIP code: 5 digits, or ZIP+4 like 32708-1234.")
        else:
            five, four = match.groups()
            values["postal_code"] = f"{five}-{four}" if four else five
    for key in (
        "recipient_name",
        "address_line1",
        "address_line2",
        "city",
        "carrier",
        "tracking_number",
    ):
        if key not in fields.errors and any(ch in values[key] for ch in "\r\n\t"):
            fields.fail(key, "Keep it on one line.")
    _check_tracking(fields, values)
    fields.check()
    return values


def _check_tracking(fields: Fields, values: dict) -> None:
    """The carrier is one of CARRIERS, and the tracking number has that carrier's shape."""
    if "carrier" in fields.errors or "tracking_number" in fields.errors:
        return
    named = {carrier.casefold(): carrier for carrier in CARRIERS}
    carrier = named.get(" ".join(values["carrier"].split()).casefold())
    number = "".join(values["tracking_number"].split()).upper()
    if values["carrier"] and carrier is None:
        fields.fail("carrier", "Choose USPS, UPS, FedEx or hand delivery.")
        return
    values["carrier"], values["tracking_number"] = carrier or "", number
    if not number:
        return
    if carrier is None:
        fields.fail("carrier", "Choose the carrier of this tracking number.")
    elif carrier == HAND_DELIVERY:
        fields.fail("tracking_number", "A flag delivered by hand has no tracking number.")
    elif not TRACKING_FORMATS[carrier][0].match(number):
        fields.fail(
            "tracking_number",
            f"This is not a {carrier} tracking number: {TRACKING_FORMATS[carrier][1]}.",
        )


def tracking_url(shipment: Shipment) -> str | None:
    """The carrier's public tracking page for the shipment's number, if it has one."""
    page = TRACKING_PAGES.get(shipment.carrier)
    return page.format(shipment.tracking_number) if page and shipment.tracking_number else None


# --- finding shipments and runs ---------------------------------------------------------------


def _shipment_query():
    return sa.select(Shipment).options(
        joinedload(Shipment.run).joinedload(Run.hero),
        joinedload(Shipment.run).joinedload(Run.runner),
        joinedload(Shipment.run).joinedload(Run.track),
    )


def get_shipment(shipment_id: str) -> Shipment | None:
    """A shipment by id with its run, hero, runner and track loaded."""
    if len(shipment_id) > 64:
        return None
    return db.session.scalar(_shipment_query().where(Shipment.id == shipment_id))


def can_see(actor: Runner | None, shipment: Shipment) -> bool:
    """Admins see every shipment; a runner sees the shipments of their own runs."""
    return actor is not None and (actor.is_admin or shipment.run.runner_id == actor.id)


def shipment_for(actor: Runner, shipment_id: str) -> Shipment:
    """The shipment if the actor may see it; otherwise NotFound, saying nothing about it."""
    shipment = get_shipment(shipment_id)
    if shipment is None or not can_see(actor, shipment):
        raise NotFound("No shipment with that id is yours.")
    return shipment


def synced_run_of(runner: Runner, run_id: str) -> Run:
    """The runner's run, ready to ship a flag for: NotFound, or Conflict if not synced yet."""
    run = run_of(runner.id, run_id)
    _require_synced(run)
    return run


def _require_synced(run: Run) -> None:
    if run.status != "synced":
        raise Conflict(
            "This run has not synced yet. Sync it from the phone, then add the shipment.",
            code="run_not_synced",
        )


def synced_runs(limit: int = 300) -> list[Run]:
    """Synced runs, newest first, for the admin's shipment form."""
    return list(
        db.session.scalars(
            sa.select(Run)
            .options(joinedload(Run.hero), joinedload(Run.runner))
            .where(Run.status == "synced")
            .order_by(Run.finished_at.desc().nulls_last(), Run.created_at.desc())
            .limit(limit)
        )
    )


def shipments_list(status: str | None = None) -> list[Shipment]:
    """Shipments for the admin list, newest first, optionally of one status."""
    query = _shipment_query().order_by(Shipment.created_at.desc())
    if status in SHIPMENT_STATUSES:
        query = query.where(Shipment.status == status)
    return list(db.session.scalars(query))


def shipments_by_ids(ids: list[str]) -> list[Shipment]:
    """The shipments with these ids, in the order given; unknown ids are skipped."""
    ids = [i for i in dict.fromkeys(ids) if isinstance(i, str) and len(i) <= 64][:MAX_BATCH]
    found = {s.id: s for s in db.session.scalars(_shipment_query().where(Shipment.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def runs_shipments(run: Run) -> list[Shipment]:
    """A run's shipments, oldest first."""
    return list(
        db.session.scalars(
            _shipment_query().where(Shipment.run_id == run.id).order_by(Shipment.created_at)
        )
    )


# --- work waiting, for the dashboard ------------------------------------------------------------

STUCK_AFTER = timedelta(days=14)  # shipped this long ago and still no word of arrival
REPLIES_FOR = timedelta(days=14)  # a family's reply counts as new this long


@dataclass
class WorkWaiting:
    """What the team has to do next for the flags, each list oldest first."""

    miles_without_shipment: list[Run]
    printed_not_shipped: list[Shipment]
    not_arrived: list[Shipment]
    new_replies: list[Shipment]

    @property
    def total(self) -> int:
        return (
            len(self.miles_without_shipment)
            + len(self.printed_not_shipped)
            + len(self.not_arrived)
            + len(self.new_replies)
        )


def work_waiting(now: datetime | None = None) -> WorkWaiting:
    """Miles with no shipment, labels printed but not shipped, shipments with no arrival after
    STUCK_AFTER, and family replies of the last REPLIES_FOR."""
    now = now or utcnow()
    unshipped = db.session.scalars(
        sa.select(Run)
        .options(joinedload(Run.hero), joinedload(Run.runner))
        .where(Run.mile_number.is_not(None), ~Run.shipments.any())
        .order_by(Run.finished_at, Run.id)
    )
    printed = db.session.scalars(
        _shipment_query()
        .where(Shipment.status == "label_printed")
        .order_by(Shipment.label_printed_at)
    )
    not_arrived = db.session.scalars(
        _shipment_query()
        .where(
            Shipment.status.in_(ON_ITS_WAY),
            Shipment.received_at.is_(None),
            Shipment.shipped_at < now - STUCK_AFTER,
        )
        .order_by(Shipment.shipped_at)
    )
    replies = db.session.scalars(
        _shipment_query()
        .where(Shipment.received_at >= now - REPLIES_FOR)
        .order_by(Shipment.received_at.desc())
    )
    return WorkWaiting(list(unshipped), list(printed), list(not_arrived), list(replies))


# --- changing shipments ---------------------------------------------------------------------


def create_shipment(run: Run, values: dict) -> Shipment:
    """A draft shipment for a synced run, from values checked by read_shipment."""
    _require_synced(run)
    shipment = Shipment(run=run, status="draft", **values)
    db.session.add(shipment)
    _shipped_once_tracked(shipment)
    db.session.flush()
    return shipment


def update_shipment(shipment: Shipment, values: dict) -> None:
    """Change the recipient, address, note, carrier and tracking number."""
    for key, value in values.items():
        setattr(shipment, key, value)
    _shipped_once_tracked(shipment)


def _shipped_once_tracked(shipment: Shipment) -> None:
    """A tracking number means the carrier has the flag: a draft or printed label is shipped."""
    if shipment.tracking_number and shipment.status in ("draft", "label_printed"):
        _set_status(shipment, "shipped")


def next_status(shipment: Shipment) -> str | None:
    """The status after this one, or None once received."""
    index = SHIPMENT_STATUSES.index(shipment.status)
    return SHIPMENT_STATUSES[index + 1] if index + 1 < len(SHIPMENT_STATUSES) else None


def advance(shipment: Shipment, expected: str | None = None) -> str:
    """Move the shipment one status on and stamp the time; expected guards a double click."""
    target = next_status(shipment)
    if target is None:
        raise Conflict("This flag has already been received.", code="already_received")
    if expected is not None and expected != target:
        raise Conflict("The status changed meanwhile. Look again.", code="status_changed")
    _set_status(shipment, target)
    return target


def _set_status(shipment: Shipment, status: str) -> None:
    now = utcnow()
    shipment.status = status
    if getattr(shipment, STATUS_TIMES[status]) is None:
        setattr(shipment, STATUS_TIMES[status], now)


def mark_label_printed(shipment: Shipment) -> bool:
    """A draft becomes label_printed the first time its label is printed; True if it changed."""
    if shipment.status != "draft":
        return False
    _set_status(shipment, "label_printed")
    return True


def revoke_family_link(shipment: Shipment) -> None:
    """The family page stops answering for this token (404) until a new link is made."""
    if shipment.family_token_revoked_at is None:
        shipment.family_token_revoked_at = utcnow()


def reissue_family_link(shipment: Shipment) -> None:
    """A fresh token: the old link and the QR codes already printed stop working."""
    shipment.family_token = new_token()
    shipment.family_token_revoked_at = None


def take_down_family_page(shipment: Shipment) -> None:
    """The family removed its page: it answers 410, and shows nothing, until restored.
    The team is told by email (queued in this transaction)."""
    if shipment.family_hidden_at is None:
        shipment.family_hidden_at = utcnow()
        notify.family_hid_page(shipment, shipment_title(shipment))


def restore_family_page(shipment: Shipment) -> None:
    """An admin puts the page the family took down back up (at the family's request)."""
    shipment.family_hidden_at = None


def family_messages(runner_id: int) -> list[dict]:
    """The families' messages for the runner's runs, newest first, as the phone keeps them."""
    rows = db.session.execute(
        sa.select(Shipment.run_id, Shipment.ack_message, Shipment.received_at, Hero.rank, Hero.name)
        .join(Run, Run.id == Shipment.run_id)
        .join(Hero, Hero.id == Run.hero_id)
        .where(Run.runner_id == runner_id, Shipment.ack_message != "")
        .order_by(Shipment.received_at.desc(), Shipment.id)
    )
    return [
        {
            "run_id": row.run_id,
            "hero_name": f"{row.rank} {row.name}".strip(),
            "message": row.ack_message,
            "received_at": iso(row.received_at),
        }
        for row in rows
    ]


def acknowledge(shipment: Shipment, message: str) -> str:
    """The family says the flag arrived: 'received', 'added' (a new message), or 'unchanged'.
    Unless unchanged, the team is told by email (queued in this transaction)."""
    message = message.strip().replace("\r\n", "\n")
    if len(message) > MAX_ACK_MESSAGE:
        raise ValidationError(
            {"message": f"At most {MAX_ACK_MESSAGE} characters."}, "The message is too long."
        )
    kept = shipment.ack_message
    is_new = bool(message) and f"\n\n{message}\n\n" not in f"\n\n{kept}\n\n"
    if is_new and kept and len(kept) + 2 + len(message) > MAX_ACK_TOTAL:
        raise ValidationError(
            {"message": "We already have your messages. Thank you."},
            "We already have many messages for this flag.",
        )
    outcome = "unchanged"
    if shipment.status != "received" or shipment.received_at is None:
        _set_status(shipment, "received")
        outcome = "received"
    if is_new:
        shipment.ack_message = f"{kept}\n\n{message}" if kept else message
        outcome = "received" if outcome == "received" else "added"
    notify.family_replied(shipment, shipment_title(shipment), outcome, message if is_new else "")
    return outcome


def shipment_by_family_token(token: str) -> Shipment | None:
    """The shipment behind a live family link, or None (unknown, malformed or revoked)."""
    if not is_token_shaped(token):
        return None
    return db.session.scalar(
        sa.select(Shipment).where(
            Shipment.family_token == token, Shipment.family_token_revoked_at.is_(None)
        )
    )


def is_token_shaped(token: str) -> bool:
    """Whether a string could be a family token at all (saves a query for junk)."""
    return bool(_TOKEN.match(token))


# --- words and numbers for people -------------------------------------------------------------


def run_day(run: Run) -> datetime | None:
    """When the run happened, for its date."""
    return run.started_at or run.finished_at or run.scheduled_at or run.synced_at


def honor_line(shipment: Shipment) -> str:
    """Flag carried in honor of <rank> <name>, <agency>: mile <n>, run by <runner> on <date>."""
    run = shipment.run
    mile = f"mile {number(run.mile_number)}, " if run.mile_number else ""
    return (
        f"Flag carried in honor of {run.hero.display_name}, {run.hero.agency}: "
        f"{mile}run by {run.runner.name} on {long_date(run_day(run))}"
    )


def family_url(shipment: Shipment) -> str:
    """The absolute URL of the family page (what the QR code holds)."""
    return public_url(f"/f/{shipment.family_token}")


def label_url(shipment: Shipment) -> str:
    """The absolute URL of the 4 x 6 label."""
    return public_url(f"/shipments/{shipment.id}/label.pdf")


def shipment_title(shipment: Shipment) -> str:
    """What people call a shipment: "Flag for Officer Jordan Avery → Avery family"."""
    return f"Flag for {shipment.run.hero.display_name} → {shipment.recipient_name}"


@dataclass(frozen=True)
class OnItsWay:
    """What the family page may say about a flag in transit: the carrier and its public
    tracking page (never the address)."""

    carrier: str
    url: str


def on_its_way(shipment) -> OnItsWay | None:
    """The flag's carrier and tracking page while it travels: of a Shipment, or of a row with
    its status, carrier and tracking_number (the family page's query)."""
    if shipment.status not in ON_ITS_WAY:
        return None
    url = tracking_url(shipment)
    return OnItsWay(shipment.carrier, url) if url else None


def short_ref(shipment: Shipment) -> str:
    """A short code to quote on the phone or in a letter: the id's first 8 hex digits."""
    head = shipment.id.replace("-", "")[:8].upper()
    return f"{head[:4]}-{head[4:]}"


def _short_url(url: str) -> str:
    return url.split("://", 1)[-1]


def recipient_lines(shipment: Shipment) -> tuple[str, ...]:
    """The recipient block of the label: name, street lines, City, ST ZIP."""
    lines = [shipment.recipient_name, shipment.address_line1]
    if shipment.address_line2:
        lines.append(shipment.address_line2)
    lines.append(f"{shipment.city}, {shipment.state} {shipment.postal_code}")
    return tuple(lines)


def label_for(shipment: Shipment) -> labels.Label:
    """The label's data for a shipment."""
    url = family_url(shipment)
    return_address = tuple(
        line.strip()
        for line in current_app.config["ORG_RETURN_ADDRESS"].splitlines()
        if line.strip()
    )
    return labels.Label(
        return_address=return_address,
        recipient=recipient_lines(shipment),
        honor_line=honor_line(shipment),
        family_url=url,
        short_url=_short_url(url),
        code=f"Shipment {short_ref(shipment)}",
        caption=f"Scan to see the mile run for {shipment.run.hero.display_name}",
    )


def card_for(shipment: Shipment) -> labels.Card:
    """The keepsake card's data for a shipment."""
    run = shipment.run
    url = family_url(shipment)
    mile = f"mile {number(run.mile_number)}" if run.mile_number else "one mile"
    return labels.Card(
        hero_name=run.hero.display_name,
        agency=run.hero.agency,
        end_of_watch=long_date(run.hero.end_of_watch),
        flag_type=run.hero.flag_type,
        words=(
            f"This flag was carried for {mile}, run by {run.runner.name} "
            f"on {long_date(run_day(run))}. With our gratitude, and our prayers for your "
            "family."
        ),
        family_url=url,
        short_url=_short_url(url),
        org_name=current_app.config["ORG_NAME"],
    )


FORMATS = ("label", "letter", "card")


def print_item(shipment: Shipment, fmt: str) -> labels.Label | labels.Card:
    """What one shipment puts in a PDF of the given format."""
    return card_for(shipment) if fmt == "card" else label_for(shipment)


def print_pdf(shipments: list[Shipment], fmt: str) -> bytes:
    """The PDF of shipments in one format: 4x6 labels, 2-up letter, or keepsake cards."""
    return labels.pdf(fmt, [print_item(shipment, fmt) for shipment in shipments])


# --- JSON -------------------------------------------------------------------------------------


def shipment_json(shipment: Shipment) -> dict:
    """A shipment as its runner and the admins see it (address included: never for families)."""
    run = shipment.run
    return {
        "id": shipment.id,
        "run_id": run.id,
        "mile_number": run.mile_number,
        "hero": {"id": run.hero.id, "name": run.hero.display_name},
        "recipient_name": shipment.recipient_name,
        "recipient_kind": shipment.recipient_kind,
        "address_line1": shipment.address_line1,
        "address_line2": shipment.address_line2,
        "city": shipment.city,
        "state": shipment.state,
        "postal_code": shipment.postal_code,
        "note": shipment.note,
        "handwritten_note": shipment.handwritten_note,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "status": shipment.status,
        "status_times": {
            status: iso(getattr(shipment, column)) for status, column in STATUS_TIMES.items()
        },
        "created_at": iso(shipment.created_at),
        "label_printed_at": iso(shipment.label_printed_at),
        "shipped_at": iso(shipment.shipped_at),
        "delivered_at": iso(shipment.delivered_at),
        "received_at": iso(shipment.received_at),
        "ack_message": shipment.ack_message or None,
        "family_url": family_url(shipment),
        "family_link_active": shipment.family_token_revoked_at is None,
        "label_url": label_url(shipment),
        "card_url": public_url(f"/shipments/{shipment.id}/card.pdf"),
        "letter_url": public_url(f"/shipments/{shipment.id}/label-letter.pdf"),
    }

"""What the team is told by email when a family confirms arrival, writes, or removes its page.

The admins (the ADMIN_EMAILS setting) get the shipment's name and a link to it. The runner
gets a copy if the account opted in (Runner.notify_by_email), written to the runner, and
never with the recipient's name, address or the family's link: the runner may not be the one
who shipped the flag. The emails are queued in the caller's transaction (r4h_pwa/mail.py).
"""

from __future__ import annotations

from flask import current_app, url_for

from .. import mail
from ..formatting import long_date, number
from ..models import Shipment, utcnow
from ..serializers import public_url

RECEIVED, MESSAGE, HIDDEN = "family_received", "family_message", "family_hidden"


def _runner_address(shipment: Shipment, admins: tuple[str, ...]) -> list[str]:
    runner = shipment.run.runner
    wants = runner.notify_by_email and runner.is_active_account
    return [runner.email] if wants and runner.email not in admins else []


def _mile(shipment: Shipment, start: str = "mile") -> str:
    run = shipment.run
    mile = f"{start} {number(run.mile_number)}" if run.mile_number else f"a {start}"
    return f"{mile}, run by {run.runner.name}"


def _admin_link(shipment: Shipment) -> str:
    return public_url(url_for("flags.get_admin_shipment", shipment_id=shipment.id))


def _quoted(message: str) -> str:
    return "\n".join(f"  {line}" if line else "" for line in message.split("\n"))


def family_replied(shipment: Shipment, title: str, outcome: str, message: str) -> None:
    """Queue the emails for an acknowledgement: 'received' (first word) or 'added' (a message);
    title is the shipment's name."""
    if outcome not in ("received", "added"):
        return
    hero = shipment.run.hero.display_name
    org = current_app.config["ORG_NAME"]
    reason = RECEIVED if outcome == "received" else MESSAGE
    said = (
        "The family confirmed that the flag arrived."
        if outcome == "received"
        else "The family wrote a new message about the flag."
    )
    words = f"\n\nTheir message:\n\n{_quoted(message)}" if message else ""
    admins = mail.admin_emails()
    subject = (
        f"Flag received: {hero}"
        if outcome == "received"
        else f"A message from the family of {hero}"
    )
    mail.queue(
        admins,
        subject,
        f"{said}\n\n{title}\n{_mile(shipment, 'Mile')}.{words}\n\n"
        f"See the shipment: {_admin_link(shipment)}\n\n{org}\n",
        reason,
        shipment.id,
    )
    runner = shipment.run.runner
    runner_said = (
        "has arrived."
        if outcome == "received"
        else "has arrived, and the family wrote to you again."
    )
    mail.queue(
        _runner_address(shipment, admins),
        f"The flag you carried for {hero} arrived"
        if outcome == "received"
        else f"A message from the family of {hero}",
        f"Dear {runner.name},\n\nThe flag you carried for {hero} ({_mile(shipment)}) "
        f"{runner_said}{words}\n\nThank you for running.\n\n{org}\n",
        reason,
        shipment.id,
    )


def family_hid_page(shipment: Shipment, title: str) -> None:
    """Queue the emails that say a family took its page down; title is the shipment's name."""
    hero = shipment.run.hero.display_name
    org = current_app.config["ORG_NAME"]
    admins = mail.admin_emails()
    mail.queue(
        admins,
        f"Family page taken down: {hero}",
        f"The family took down its page on {long_date(utcnow())}. It now says only that the "
        f"page was removed, until an admin restores it at the family's request.\n\n"
        f"{title}\n{_mile(shipment, 'Mile')}.\n\n"
        f"See the shipment: {_admin_link(shipment)}\n\n{org}\n",
        HIDDEN,
        shipment.id,
    )
    runner = shipment.run.runner
    mail.queue(
        _runner_address(shipment, admins),
        f"The family page for {hero} was taken down",
        f"Dear {runner.name},\n\nAt the family's wish, the page about the mile you ran for "
        f"{hero} ({_mile(shipment)}) was taken down.\n\n{org}\n",
        HIDDEN,
        shipment.id,
    )

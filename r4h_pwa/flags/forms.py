"""Flask-WTF forms for shipments, printing and the family's acknowledgement.

The forms carry CSRF and render the fields; flags.service.read_shipment is the one place
that decides what a valid shipment is, for the API and the admin pages alike.
"""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from ..forms import strip
from ..forms import text_field as _text
from ..models import MAILING_STATES, RECIPIENT_KINDS
from .service import CARRIERS, FORMATS, MAX_ACK_MESSAGE, MAX_NOTE, RECIPIENT_KIND_LABELS


class ShipmentForm(FlaskForm):
    """A shipment's recipient, address, note, carrier and tracking number."""

    recipient_kind = RadioField(
        "Who receives the flag",
        choices=[SelectChoice(kind, RECIPIENT_KIND_LABELS[kind]) for kind in RECIPIENT_KINDS],
        default="family",
        validate_choice=False,  # read_shipment says what is wrong, in plain words
    )
    recipient_name = _text("Recipient's name", 120, autocomplete="name")
    address_line1 = _text("Address", 120, autocomplete="address-line1")
    address_line2 = _text("Address line 2 (optional)", 120, autocomplete="address-line2")
    city = _text("City", 80, autocomplete="address-level2")
    state = SelectField(
        "State",
        choices=[SelectChoice("", "Choose"), *map(SelectChoice, sorted(MAILING_STATES))],
        validate_choice=False,
        render_kw={"autocomplete": "address-level1"},
    )
    postal_code = _text("ZIP code", 10, autocomplete="postal-code", inputmode="numeric")
    handwritten_note = BooleanField("A handwritten note goes in the box", default=True)
    note = TextAreaField(
        "Note (for the team; never shown to the family)",
        filters=[strip],
        render_kw={"maxlength": MAX_NOTE, "rows": 4},
    )
    carrier = SelectField(
        "Carrier",
        choices=[SelectChoice("", "Not shipped yet"), *map(SelectChoice, CARRIERS)],
        validate_choice=False,  # read_shipment says what is wrong, in plain words
    )
    tracking_number = _text(
        "Tracking number (optional)", 60, autocomplete="off", spellcheck="false"
    )

    def values(self) -> dict:
        """The fields as a dict for read_shipment."""
        names = (
            "recipient_kind",
            "recipient_name",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "handwritten_note",
            "note",
            "carrier",
            "tracking_number",
        )
        return {name: getattr(self, name).data for name in names}


class NewShipmentForm(ShipmentForm):
    """A new shipment: the run comes first."""

    run_id = SelectField("Run", choices=[], validate_choice=False)


class AdvanceForm(FlaskForm):
    """A button that moves a shipment to the next status; expected guards a double click."""

    expected = HiddenField()


class PrintForm(FlaskForm):
    """The admin list's selection for a batch PDF."""

    ids = SelectMultipleField("Shipments", choices=[], validate_choice=False)
    format = SelectField(
        "Print as",
        choices=[
            SelectChoice("label", "4×6 labels (thermal printer)"),
            SelectChoice("letter", "Labels, two per letter page"),
            SelectChoice("card", "4×6 keepsake cards"),
        ],
        default="label",
        validate_choice=False,
    )

    def validate_format(self, field) -> None:
        """Only the three formats."""
        if field.data not in FORMATS:
            raise ValidationError("Choose labels, letter pages or cards.")


class AckForm(FlaskForm):
    """The family tells us the flag arrived, with an optional message to the runner."""

    message = TextAreaField(
        "A message for the runner (optional)",
        filters=[strip],
        render_kw={"maxlength": MAX_ACK_MESSAGE, "rows": 5},
    )

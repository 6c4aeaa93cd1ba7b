"""Flask-WTF forms for escort check-in and its admin pages."""

import unicodedata

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ..forms import text_field
from ..models import CHECKIN_ROLES

ROLE_LABELS = {
    "escort": "Escort",
    "runner": "Runner",
    "supporter": "Supporter",
}
ROLE_HINTS = {
    "escort": "Officer or first responder escorting the run",
    "runner": "Running the mile too",
    "supporter": "Here to cheer and stand with the family",
}


def _single_line(form, field) -> None:
    """Names are one line of text: refuse NUL and other control characters."""
    if field.data and any(unicodedata.category(ch) == "Cc" for ch in field.data):
        raise ValidationError("Use letters, numbers and punctuation only.")


def _checked_text(label: str, max_len: int, required: bool = False, **render_kw):
    validators = [
        Length(max=max_len, message=f"Keep it to {max_len} characters or fewer."),
        _single_line,
    ]
    if required:
        validators.insert(0, DataRequired(message="Please enter your name."))
    return text_field(label, max_len, validators, **render_kw)


class CheckinForm(FlaskForm):
    """What an escort or fellow runner tells us at the track."""

    name = _checked_text(
        "Your name", 120, required=True, autocapitalize="words", spellcheck="false"
    )
    agency = _checked_text("Agency or department", 160, autocapitalize="words")
    badge = _checked_text("Badge number or unit", 60)
    role = RadioField(
        "I am here as",
        choices=[SelectChoice(role, ROLE_LABELS[role]) for role in CHECKIN_ROLES],
        default="escort",
        validate_choice=False,  # validate_role says it in plain words instead
    )
    public = BooleanField("Show my name to the family on their page", default=False)

    def validate_role(self, field) -> None:
        """Say plainly which roles there are (WTForms' own message is 'Not a valid choice')."""
        if field.data not in CHECKIN_ROLES:
            raise ValidationError("Choose escort, runner or supporter.")

    def values(self) -> dict:
        """The cleaned fields as a dict for the service."""
        return {
            "name": self.name.data or "",
            "agency": self.agency.data or "",
            "badge": self.badge.data or "",
            "role": self.role.data,
            "public": bool(self.public.data),
        }

"""The form helpers every feature shares: text fields, the confirm button, showing errors.

A service decides what is valid and raises a ValidationError; show_errors puts its messages
under the fields they belong to, so a form page says what the JSON API says.
"""

from flask_wtf import FlaskForm
from wtforms import StringField


def strip(value):
    """A WTForms filter: the text without surrounding spaces (other values pass through)."""
    return value.strip() if isinstance(value, str) else value


def text_field(label: str, max_len: int | None = None, validators=(), **render_kw) -> StringField:
    """A stripped one-line text field whose maxlength attribute follows the column."""
    if max_len is not None:
        render_kw.setdefault("maxlength", max_len)
    return StringField(label, validators=list(validators), filters=[strip], render_kw=render_kw)


def show_errors(form: FlaskForm, errors: dict[str, str]) -> None:
    """Show each message under its field; one for no field goes under the first field."""
    for name, message in errors.items():
        target = form[name] if name in form else form[next(iter(form._fields))]
        target.errors = [*target.errors, message]


class ConfirmForm(FlaskForm):
    """An empty form: a CSRF-protected button (remove, revoke, reissue)."""

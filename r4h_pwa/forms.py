"""The form helpers every feature shares: text fields, the confirm button, showing errors.

A service decides what is valid and raises a ValidationError; show_errors puts its messages
under the fields they belong to, so a form page says what the JSON API says.
"""

from flask import render_template, request
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField


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
    """A CSRF-protected button (delete, remove, revoke, reissue) and its confirmation.

    The button on an object's page posts without `confirmed`, which shows the confirmation
    page (`ask_to_confirm`); only that page's own POST, with confirmed=yes, does the deed.
    """

    confirmed = HiddenField()

    def is_confirmed(self) -> bool:
        """Whether this is the confirmation page's POST, with a valid CSRF token."""
        return self.validate_on_submit() and self.confirmed.data == "yes"


def ask_to_confirm(question: str, consequences: list[str], button: str, cancel_url: str):
    """The page that names what a destructive action will do and asks before doing it."""
    form = ConfirmForm()
    form.confirmed.data = "yes"
    page = render_template(
        "confirm.html",
        form=form,
        question=question,
        consequences=consequences,
        button=button,
        action=request.path,
        cancel_url=cancel_url,
    )
    return page, 200

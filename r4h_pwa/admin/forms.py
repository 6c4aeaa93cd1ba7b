"""Admin forms: they render the fields and carry the CSRF token; admin.service checks values."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import DateInput, DateTimeLocalInput, EmailInput, NumberInput, URLInput

from ..forms import text_field
from ..models import Hero, Run, Runner, Track
from .service import STORY_MAX, WORDS_MAX, kind_choices, max_length


def _text(label: str, column=None, **render_kw) -> StringField:
    return text_field(label, max_length(column) if column is not None else None, **render_kw)


def _url(label: str, column) -> StringField:
    return StringField(
        label,
        widget=URLInput(),
        render_kw={"maxlength": max_length(column), "placeholder": "https://", "inputmode": "url"},
    )


def _number(label: str, low: int, high: int) -> StringField:
    # A string field: service.validate_* turns the text into a number with a clear message.
    return StringField(
        label, widget=NumberInput(min=low, max=high), render_kw={"inputmode": "numeric"}
    )


def choices(placeholder: str | None, pairs) -> list[SelectChoice]:
    """Options for a select: an optional empty 'Choose…' first, then (value, label) pairs."""
    options = [SelectChoice("", placeholder)] if placeholder else []
    return options + [SelectChoice(str(value), label) for value, label in pairs]


def _select(label: str, options=()) -> SelectField:
    # Choices are checked by the service, which also explains what to do.
    return SelectField(label, choices=list(options), validate_choice=False)


class HeroForm(FlaskForm):
    """A fallen first responder."""

    name = _text("Name", Hero.name, autocomplete="off")
    rank = _text("Rank", Hero.rank, autocomplete="off")
    agency = _text("Agency", Hero.agency, autocomplete="off")
    state = _text("State", maxlength=2, autocapitalize="characters", autocomplete="off")
    kind = _select("Kind", choices("Choose a kind…", kind_choices()))
    end_of_watch = StringField("End of watch", widget=DateInput())
    incident_date = StringField("Incident date (optional)", widget=DateInput())
    cause = _text("Cause", Hero.cause, autocomplete="off")
    story = TextAreaField("Short story", render_kw={"maxlength": STORY_MAX, "rows": 6})
    source_url = _url("Source link (optional)", Hero.source_url)
    fundraiser_url = _url("Fundraiser link (optional)", Hero.fundraiser_url)
    fundraiser_verified_by = _text(
        "Fundraiser verified by", Hero.fundraiser_verified_by, autocomplete="off"
    )


class RunnerForm(FlaskForm):
    """An account: a runner or an admin."""

    name = _text("Name", Runner.name, autocomplete="off")
    email = StringField(
        "Email",
        widget=EmailInput(),
        render_kw={"maxlength": max_length(Runner.email), "autocomplete": "off"},
    )
    role = _select("Role", choices(None, [("runner", "Runner"), ("admin", "Admin")]))
    is_active_account = BooleanField("Active (can sign in)", default=True)
    notify_by_email = BooleanField("Email them when a family replies or takes its page down")
    runs_miles = BooleanField("Runs miles", default=True)
    starting_mile_count = _number("Miles run before this system", 0, 100_000)
    password = PasswordField(
        "Password", render_kw={"maxlength": 200, "autocomplete": "new-password"}
    )


class TrackForm(FlaskForm):
    """A track and how many laps make a mile on it."""

    name = _text("Name", Track.name, autocomplete="off")
    laps_per_mile = _number("Laps per mile", 1, 50)
    min_lap_seconds = _number("Shortest plausible lap (seconds)", 1, 3600)


class RunForm(FlaskForm):
    """A planned run: who runs for whom, where and when."""

    hero_id = _select("Hero")
    runner_id = _select("Runner")
    track_id = _select("Track")
    scheduled_at = StringField("Date and time", widget=DateTimeLocalInput())
    words = TextAreaField("Words about the hero", render_kw={"maxlength": WORDS_MAX, "rows": 5})
    video_url = _url("Video link (optional)", Run.video_url)

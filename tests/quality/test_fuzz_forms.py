"""Property-based fuzzing of the public forms: login, escort check-in, the family's ack.

Any field values, any types of text, fields missing or repeated: never a 5xx, and a refused
submission changes nothing in the database.
"""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from r4h_pwa import create_app
from r4h_pwa.extensions import db
from r4h_pwa.models import Lap, Shipment, utcnow
from tests.factories import make_run, make_runner, make_track
from tests.helpers import make_config, reset_schema
from tests.quality.test_fuzz_api import database_fingerprint

EXAMPLES = 50

# Text that forms meet in the wild: empty, huge, unicode, markup, control characters.
field_text = st.one_of(
    st.text(max_size=40),
    st.text(min_size=200, max_size=12_000),
    st.sampled_from(["", " ", "<script>alert(1)</script>", "' OR 1=1 --", "=cmd|' /C calc'!A0",
                     "\x00", "é" * 130, "escort", "runner", "supporter", "y", "on", "true"]),
)


def form_data(fields: list[str]):
    """A dict with any subset of the fields, each any text."""
    return st.fixed_dictionaries({}, optional={name: field_text for name in fields})


@pytest.fixture
def form_app(database_url, tmp_path):
    """An app with one planned run (check-in token) and one synced run with a shipment."""
    app = create_app(make_config(database_url, tmp_path))
    with app.app_context():
        reset_schema()
        runner = make_runner(email="forms@example.org")
        track = make_track(laps_per_mile=2)
        planned = make_run(runner, track=track)
        synced = make_run(runner, track=track, status="synced", mile_number=1,
                          started_at=utcnow() - timedelta(minutes=8), finished_at=utcnow())
        db.session.add_all([Lap(run=synced, seq=1, elapsed_ms=200_000),
                            Lap(run=synced, seq=2, elapsed_ms=400_000)])
        shipment = Shipment(run=synced, recipient_name="Family", address_line1="1 Main St",
                            city="Springfield", state="FL", postal_code="32708")
        db.session.add(shipment)
        db.session.commit()
        app.config["FUZZ_PATHS"] = {
            "checkin": f"/c/{planned.checkin_token}",
            "ack": f"/f/{shipment.family_token}/ack",
        }
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _fuzz(app, path: str, fields: list[str]):
    client = app.test_client()

    @given(data=form_data(fields))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(data):
        before = database_fingerprint(app)
        response = client.post(path, data=data)
        assert response.status_code < 500, (path, data)
        if response.status_code >= 400:
            assert database_fingerprint(app) == before, (path, data, response.status_code)

    check()


def test_login_form_never_fails(form_app):
    _fuzz(form_app, "/login", ["email", "password", "csrf_token"])


def test_checkin_form_never_fails(form_app):
    _fuzz(form_app, form_app.config["FUZZ_PATHS"]["checkin"],
          ["name", "agency", "badge", "role", "public", "csrf_token"])


def test_family_ack_form_never_fails(form_app):
    _fuzz(form_app, form_app.config["FUZZ_PATHS"]["ack"], ["message", "csrf_token"])

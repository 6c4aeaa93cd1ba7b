"""One formatter: durations, dates and mile numbers read the same on every page."""

import re
from datetime import UTC, date, datetime

import pytest

from r4h_pwa import create_app
from r4h_pwa.formatting import (
    LocalTimeError,
    duration,
    long_date,
    long_time,
    number,
    short_time,
    team_time_to_utc,
    zone_label,
)
from r4h_pwa.models import Lap, Shipment
from tests.factories import make_admin, make_run, make_runner
from tests.helpers import make_config, sign_in


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0:00.0"),
        (99, "0:00.0"),
        (59_999, "0:59.9"),
        (60_000, "1:00.0"),
        (88_999, "1:28.9"),
        (612_400, "10:12.4"),
        (3_599_999, "59:59.9"),
        (3_600_000, "1:00:00.0"),
        (3_723_456, "1:02:03.4"),
        (None, ""),
    ],
)
def test_durations_are_floored_to_the_tenth(ms, text):
    assert duration(ms) == text


def test_mile_numbers_have_a_thousands_separator():
    assert number(1294) == "1,294"
    assert number(7) == "7"


def test_times_are_in_the_team_time_zone(app):
    moment = datetime(2024, 2, 15, 1, 30, tzinfo=UTC)  # the evening of the 14th in Florida
    with app.app_context():
        assert long_date(moment) == "February 14, 2024"
        assert long_date(date(2024, 2, 15)) == "February 15, 2024"  # a date has no zone
        assert short_time(moment) == "Wed Feb 14, 2024 · 20:30 EST"
        assert long_time(moment) == "Wednesday, February 14, 2024 at 8:30 PM EST"


def test_a_lap_reads_the_same_on_the_admin_run_page_and_the_family_page(client, db):
    admin = make_admin()
    run = make_run(
        make_runner(),
        status="synced",
        mile_number=1294,
        started_at=datetime(2024, 3, 1, 22, 0, tzinfo=UTC),
        finished_at=datetime(2024, 3, 1, 22, 2, tzinfo=UTC),
    )
    db.session.add(Lap(run=run, seq=1, elapsed_ms=88_999))
    shipment = Shipment(
        run=run,
        recipient_name="Chief",
        address_line1="1 Main St",
        city="Winter Springs",
        state="FL",
        postal_code="32708",
    )
    db.session.add(shipment)
    db.session.commit()

    family = client.get(f"/f/{shipment.family_token}").get_data(as_text=True)
    assert 'data-testid="total-time">1:28.9<' in family
    assert 'data-testid="split">1:28.9<' in family

    sign_in(client, admin.email)
    page = client.get(f"/admin/runs/{run.id}").get_data(as_text=True)
    assert "1 lap in 1:28.9." in page
    assert '<td class="num">1:28.9</td><td class="num">1:28.9</td>' in page
    assert "1:29.0" not in page and "1:29.0" not in family
    assert "Mile 1,294" in page and "Mile 1,294" in family


@pytest.fixture
def in_zone(sqlite_only, tmp_path):
    """An app context whose team is in the given zone (no database needed)."""
    return lambda zone: create_app(make_config(sqlite_only, tmp_path, TIMEZONE=zone)).app_context()


@pytest.mark.parametrize(
    ("zone", "typed", "stored"),
    [
        ("America/Denver", datetime(2026, 12, 1, 18, 0), datetime(2026, 12, 2, 1, 0, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 3, 8, 3, 0), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        ("America/Phoenix", datetime(2026, 7, 1, 6, 0), datetime(2026, 7, 1, 13, 0, tzinfo=UTC)),
        ("UTC", datetime(2026, 7, 1, 6, 0), datetime(2026, 7, 1, 6, 0, tzinfo=UTC)),
    ],
)
def test_a_typed_time_is_read_in_the_team_zone_and_kept_in_utc(in_zone, zone, typed, stored):
    with in_zone(zone):
        assert team_time_to_utc(typed) == stored


@pytest.mark.parametrize(
    ("zone", "typed", "words"),
    [
        ("America/New_York", datetime(2026, 3, 8, 2, 30), "does not exist in America/New_York"),
        ("America/New_York", datetime(2026, 11, 1, 1, 0), "happens twice in America/New_York"),
        ("Europe/London", datetime(2027, 3, 28, 1, 15), "(GMT to BST) and skip it"),
        ("Europe/London", datetime(2026, 10, 25, 1, 59), "fall back that night (BST to GMT)"),
    ],
)
def test_a_time_the_clocks_skip_or_repeat_is_refused_in_words(in_zone, zone, typed, words):
    with in_zone(zone), pytest.raises(LocalTimeError, match=re.escape(words)):
        team_time_to_utc(typed)


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        ("America/Denver", "America/Denver (MST/MDT)"),
        ("America/Phoenix", "America/Phoenix (MST)"),
        ("Pacific/Honolulu", "Pacific/Honolulu (HST)"),
    ],
)
def test_the_zone_label_names_the_abbreviations_the_clocks_show(in_zone, zone, label):
    with in_zone(zone):
        assert zone_label() == label

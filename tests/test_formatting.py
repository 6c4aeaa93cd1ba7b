"""One formatter: durations, dates and mile numbers read the same on every page."""

from datetime import UTC, date, datetime

import pytest

from r4h_pwa.formatting import duration, long_date, long_time, number, short_time
from r4h_pwa.models import Lap, Shipment
from tests.factories import make_admin, make_run, make_runner
from tests.helpers import sign_in


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
    run = make_run(make_runner(), status="synced", mile_number=1294,
                   started_at=datetime(2024, 3, 1, 22, 0, tzinfo=UTC),
                   finished_at=datetime(2024, 3, 1, 22, 2, tzinfo=UTC))
    db.session.add(Lap(run=run, seq=1, elapsed_ms=88_999))
    shipment = Shipment(run=run, recipient_name="Chief", address_line1="1 Main St",
                        city="Winter Springs", state="FL", postal_code="32708")
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

"""The phone shows planned runs in the team's time zone, with its abbreviation, wherever the
phone is: a runner in Tokyo sees the time the Denver admin typed, as the admin pages show it."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from r4h_pwa.models import Run, Runner
from tests.factories import TOTP_SECRET, make_run

from .harness import RUNNER_EMAIL, LiveServer
from .steps import open_app, sign_in, sign_in_admin

TEAM_ZONE = "America/Denver"
PHONE_ZONE = "Asia/Tokyo"
# Stored UTC, and how the team's clock reads it. The clocks spring forward at 2:00 on
# March 14, 2027 in Denver: 08:30 UTC is still MST, 09:30 UTC already MDT.
PLANNED = {
    datetime(2026, 12, 2, 1, 0, tzinfo=UTC): "Tue Dec 1, 2026 · 18:00 MST",  # the issue's
    datetime(2027, 3, 14, 8, 30, tzinfo=UTC): "Sun Mar 14, 2027 · 01:30 MST",
    datetime(2027, 3, 14, 9, 30, tzinfo=UTC): "Sun Mar 14, 2027 · 03:30 MDT",
}


@pytest.fixture
def server(tmp_path, demo_database):
    """The app under `flask run`, its team in Denver; the demo runner's planned runs set to
    PLANNED; the demo admin's authenticator known."""
    live = LiveServer(tmp_path, demo_database, env={"R4H_TIMEZONE": TEAM_ZONE})
    with live.db() as db:
        db.session.execute(
            sa.update(Runner)
            .where(Runner.email == "admin@example.org")
            .values(totp_secret=TOTP_SECRET)
        )
        runner = db.session.scalar(sa.select(Runner).where(Runner.email == RUNNER_EMAIL))
        runs = db.session.scalars(
            sa.select(Run).where(Run.runner_id == runner.id, Run.status == "planned")
        ).all()
        while len(runs) < len(PLANNED):
            runs.append(make_run(runner, track=runs[0].track))
        for run, moment in zip(runs, PLANNED, strict=True):
            run.scheduled_at = moment
        db.session.commit()
        live.run_ids = {moment: run.id for run, moment in zip(runs, PLANNED, strict=True)}
    live.start()
    yield live
    live.stop()


def _context(browser, server):
    return browser.new_context(
        base_url=server.url,
        viewport={"width": 390, "height": 844},
        timezone_id=PHONE_ZONE,
        locale="en-US",
    )


def test_a_phone_in_tokyo_shows_planned_times_in_the_teams_zone(browser, server):
    phone = _context(browser, server)
    admin = _context(browser, server)
    try:
        page = phone.new_page()
        assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == PHONE_ZONE
        open_app(page)
        sign_in(page)
        shown = page.get_by_test_id("planned-when")
        expect(shown).to_have_count(len(PLANNED))
        texts = shown.all_text_contents()
        # Soonest first, each "<team time> · <track>".
        assert [t.rsplit(" · ", 1)[0] for t in texts] == list(PLANNED.values())
        assert not any("JST" in t or "GMT+9" in t for t in texts)

        # The admin pages (server-rendered in the team's zone) read the same time.
        admin_page = admin.new_page()
        sign_in_admin(admin_page)
        for moment, text in PLANNED.items():
            admin_page.goto(f"/admin/runs/{server.run_ids[moment]}")
            planned = admin_page.locator(f'time[datetime="{moment.isoformat()}"]').first
            expect(planned).to_have_text(text)
    finally:
        phone.close()
        admin.close()


def test_the_phone_falls_back_to_its_own_zone_without_the_teams(browser, server):
    """A bootstrap kept from before time_zone existed, or a zone the browser does not know:
    the phone's own zone, still named, rather than nothing."""
    context = _context(browser, server)
    try:
        page = context.new_page()
        open_app(page)
        moment = next(iter(PLANNED)).isoformat()
        for zone in (None, "Not/AZone"):
            text = page.evaluate(
                "async ([iso, zone]) => (await import('/static/js/format.js'))"
                ".formatPlanned(iso, zone)",
                [moment, zone],
            )
            assert text == "Wed Dec 2, 2026 · 10:00 GMT+9"
    finally:
        context.close()

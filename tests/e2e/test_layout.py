"""The layout matrix (issue 10): every screen and sheet fits a phone, in light and in dark.

Each screen is opened once, in the state to measure (a sheet open, the "too soon" notice
shown), and then measured at every phone size and colour scheme of the matrix by resizing
the viewport and switching prefers-color-scheme. Resizing is cheap and keeps the whole
matrix in one browser, well inside a minute or two.

On every page of the matrix:
- the document is no wider than the viewport, and no visible element sticks out sideways;
- no text is cut: no box with hidden overflow, and no button, holds more text than it shows;
- every button of an open sheet is on the screen, or the sheet scrolls and is on the screen,
  and nothing is drawn over the sheet's words;
- every button and field (tick boxes apart) is a tap target 48 px tall or more;
- no bar that stays on the screen while the page scrolls takes more than a quarter of it.
On the lap counter, the lap button, Undo, "Add escort" and Finish are on the first screen,
unscrolled, even at 320x568, uncovered, and the lap button keeps over a third of the screen.

R4H_LAYOUT_SHOTS=shots/layout saves a screenshot of each state at 320x568 and 390x844.
"""

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from r4h_pwa.models import Checkin, Hero, Lap, Run, Runner, Shipment, Track
from tests.factories import TOTP_SECRET

from .harness import DEMO_PASSWORD, LiveServer
from .steps import LAP_MS, enter_admin_code, open_app, sign_in

HERE = Path(__file__).parent
VIEWPORTS = [(320, 568), (360, 740), (375, 667), (390, 844), (430, 932)]
SCHEMES = ["light", "dark"]
SHOT_SIZES = [(320, 568), (390, 844)]
# A phone, not a narrow desktop window: the page's meta viewport applies, so a page wider
# than the screen zooms out (as on the phones of the issue) instead of scrolling sideways.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

MEASURE = (HERE / "layout_measure.js").read_text()
SHEET_OPEN = """() => [...document.querySelectorAll("[role=dialog], .qr.full")]
  .some((sheet) => sheet.checkVisibility())"""


def measure(page, state: str) -> list[tuple[str, str, str]]:
    """Every layout problem of the page as it is now, over the whole matrix.

    With R4H_LAYOUT_SHOTS=<dir>, also saves what it measured at 320x568 and 390x844, to look at.
    """
    problems = []
    shots = os.environ.get("R4H_LAYOUT_SHOTS")
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        for width, height in VIEWPORTS:
            page.set_viewport_size({"width": width, "height": height})
            for problem in page.evaluate(MEASURE, [width, height]):
                problems.append((state, f"{width}x{height} {scheme}", problem))
            if shots and (width, height) in SHOT_SIZES:
                name = re.sub(r"[^a-z0-9]+", "-", state.lower()).strip("-") or "home"
                path = Path(shots) / f"{name}-{width}x{height}-{scheme}.png"
                page.screenshot(path=path, full_page=not page.evaluate(SHEET_OPEN))
    return problems


def report(problems: list[tuple[str, str, str]]) -> str:
    """One line per problem, with where it shows (its numbers are those of the first place)."""
    where: dict[tuple[str, str], list[str]] = {}
    first: dict[tuple[str, str], str] = {}
    for state, place, problem in problems:
        key = (state, re.sub(r"-?\d+", "#", problem))
        where.setdefault(key, []).append(place)
        first.setdefault(key, problem)
    lines = [f"{key[0]}: {first[key]} [{places(where[key])}]" for key in where]
    return f"{len(lines)} layout problems:\n" + "\n".join(lines)


def places(found: list[str]) -> str:
    """ "320x568, 360x740 in light and dark", or "everywhere", for a list of "WxH scheme"."""
    if len(found) == len(VIEWPORTS) * len(SCHEMES):
        return "everywhere"
    by_scheme = {scheme: [p.split()[0] for p in found if p.endswith(scheme)] for scheme in SCHEMES}
    if by_scheme["light"] == by_scheme["dark"]:
        return f"{', '.join(by_scheme['light'])} in light and dark"
    return "; ".join(f"{', '.join(sizes)} in {s}" for s, sizes in by_scheme.items() if sizes)


@pytest.fixture(scope="module")
def layout_server(tmp_path_factory, demo_database):
    """One server for the whole matrix, with a synced, shipped mile to show on every page."""
    live = LiveServer(tmp_path_factory.mktemp("layout"), demo_database).start()
    with live.db() as db:
        # The demo admin, enrolled in two-factor sign-in with the test authenticator.
        db.session.execute(
            sa.update(Runner)
            .where(Runner.email == "admin@example.org")
            .values(totp_secret=TOTP_SECRET)
        )
        runner = db.session.scalar(sa.select(Runner).where(Runner.role == "runner"))
        hero = db.session.scalar(sa.select(Hero).where(Hero.name == "Casey Morgan"))
        hero.source_url = "https://memorial.example.org/heroes/firefighter-casey-morgan"
        track = db.session.scalar(sa.select(Track).where(Track.laps_per_mile == 7))
        started = datetime.now(UTC) - timedelta(days=3)
        run = Run(
            hero=hero, runner=runner, track=track, status="synced", mile_number=1294,
            started_at=started, finished_at=started + timedelta(minutes=9),
            synced_at=started + timedelta(minutes=10),
            words="We ran for Firefighter Morgan, who went back in for a child.",
            laps=[Lap(seq=n, elapsed_ms=n * 77_000) for n in range(1, 8)],
            checkins=[
                Checkin(name="Sgt. Dana Reyes-Whitfield", agency="Example County Sheriff's Office",
                        badge="K-1234", role="escort", public=True),
                Checkin(name="Deputy Quiet Person", agency="Example County Sheriff's Office",
                        role="escort", public=False),
            ],
        )  # fmt: skip
        shipped = Shipment(
            run=run, recipient_name="The Morgan family", address_line1="12 Private Lane",
            city="Winter Springs", state="FL", postal_code="32708", status="shipped",
            carrier="USPS", tracking_number="9400111899223197428490",
        )  # fmt: skip
        received = Shipment(
            run=run, recipient_name="Chief Pat Example", recipient_kind="intermediary",
            address_line1="1 Station Road", city="Winter Springs", state="FL",
            postal_code="32708", status="received", received_at=datetime.now(UTC),
            ack_message="Thank you for running for our Casey. It means the world to us.",
        )  # fmt: skip
        db.session.add_all([run, shipped, received])
        db.session.commit()
        planned = db.session.scalar(sa.select(Run).where(Run.status == "planned"))
        live.ids = {
            "run": run.id,
            "checkin": run.checkins[0].id,
            "shipment": shipped.id,
            "family": shipped.family_token,
            "planned": planned.id,
            "planned_token": planned.checkin_token,
            "hero": hero.id,
            "runner": runner.id,
            "track": track.id,
        }
    yield live
    live.stop()


@pytest.fixture
def phone(browser, layout_server):
    """A fresh phone profile on the layout server, its clock under the test's control."""
    context = browser.new_context(base_url=layout_server.url, **PHONE)
    context.clock.install(time=datetime(2025, 3, 1, 18, 30))
    page = context.new_page()
    page.set_default_timeout(5_000)  # a button off the screen fails fast, with the report
    yield page
    context.close()


@pytest.fixture(scope="module")
def visitor(browser, layout_server):
    """One phone tab for all the public pages (a new profile per page costs a second)."""
    context = browser.new_context(base_url=layout_server.url, **PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def admin(browser, layout_server):
    """One phone tab, signed in as the demo admin, for all the admin pages."""
    context = browser.new_context(base_url=layout_server.url, **PHONE)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    enter_admin_code(page)
    expect(page).to_have_url(re.compile(r"/admin/"))  # signed in, not sent to set up a factor
    yield page
    context.close()


def test_every_screen_and_sheet_of_the_lap_counter_fits_every_phone(phone):
    problems = []
    try:
        counter_journey(phone, problems)
    except PlaywrightError as error:  # a button out of reach ends the journey: say where
        problems.append(("journey", "-", f"stopped: {error.message.splitlines()[0]}"))
    assert not problems, report(problems)


def counter_journey(page, problems: list) -> None:
    """Sign in, honour the hero, count a mile with every sheet and notice, and finish."""
    open_app(page)
    problems += measure(page, "sign-in")
    sign_in(page)
    problems += measure(page, "runs")

    page.get_by_test_id("planned-run").filter(has_text="Jordan Avery").click()
    expect(page.locator("#hero-qr")).to_be_visible()
    problems += measure(page, "hero card")
    page.get_by_role("button", name="Prayer").click()
    problems += measure(page, "prayer")
    page.get_by_role("button", name="Amen").click()
    page.get_by_role("button", name="Moment of silence").click()
    page.get_by_role("button", name="Start").click()
    page.clock.run_for(20_000)
    problems += measure(page, "silence running")
    page.clock.run_for(45_000)
    expect(page.get_by_role("timer")).to_have_text("Silence complete")
    problems += measure(page, "silence complete")
    page.locator("#hero-qr").click()
    expect(page.locator("#hero-qr")).to_have_class("qr full")
    problems += measure(page, "check-in code, full screen")
    page.locator("#hero-qr").click()

    page.get_by_test_id("begin-laps").click()
    problems += measure(page, "counter")
    page.clock.fast_forward(LAP_MS)
    page.get_by_test_id("lap-button").click()
    expect(page.get_by_test_id("lap-count")).to_have_text("1")
    page.get_by_test_id("lap-button").click()
    expect(page.locator("#notice")).to_contain_text("Too soon")
    problems += measure(page, "counter, too soon")
    page.get_by_test_id("undo-lap").click()
    expect(page.get_by_test_id("undo-lap")).to_contain_text("Tap again")
    problems += measure(page, "counter, undo armed")
    page.clock.run_for(6_000)

    page.locator("#screen-counter").get_by_role("button", name="Add escort").click()
    problems += measure(page, "add escort sheet")
    page.get_by_label("Name", exact=True).fill("Sgt. Dana Reyes-Whitfield")
    page.get_by_test_id("save-escort").click()
    page.get_by_test_id("finish-run").click()
    problems += measure(page, "finish sheet, mile not run")
    page.get_by_role("button", name="Keep counting").click()

    for n in range(2, 8):
        page.clock.fast_forward(LAP_MS)
        page.get_by_test_id("lap-button").click()
        expect(page.get_by_test_id("lap-count")).to_have_text(str(n))
    page.clock.run_for(6_000)
    problems += measure(page, "mile complete")
    page.context.set_offline(True)  # the run stays in the outbox: the done screen offers escorts
    page.get_by_test_id("finish-run").click()
    problems += measure(page, "finish sheet, mile run")
    page.get_by_test_id("confirm-finish").click()
    expect(page.locator("body")).to_have_attribute("data-screen", "done")
    page.get_by_test_id("sync-now").click()
    expect(page.locator("#last-error")).to_be_visible()
    problems += measure(page, "done, offline")
    page.locator("#screen-done").get_by_role("button", name="Add escort").click()
    problems += measure(page, "add escort sheet, done")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Back to runs").click()
    problems += measure(page, "runs, with one waiting")


def submit_empty_checkin(page):
    # Measured once the answer with its errors has loaded, styles and all, not mid-navigation.
    page.get_by_test_id("checkin-submit").click()
    expect(page.locator(".field.has-error").first).to_be_visible()
    page.wait_for_load_state("load")


def fill_checkin(page):
    page.locator("input[name=name]").fill("Sgt. Dana Reyes-Whitfield")
    page.locator("input[name=agency]").fill("Example County Sheriff's Office")
    page.locator("input[name=role][value=escort]").check()
    page.get_by_test_id("checkin-submit").click()
    expect(page.get_by_test_id("checkin-done")).to_be_visible()


PUBLIC = [
    ("/", None),
    ("/login", None),
    ("/honor", None),
    ("/honor/heroes/{hero}", None),
    ("/honor/heroes/{hero}?name=morgan&state=FL", None),
    ("/offline/", None),
    ("/c/{planned_token}", None),
    ("/c/{planned_token} with errors", submit_empty_checkin),
    ("/c/{planned_token} done", fill_checkin),
    ("/c/not-a-token", None),
    ("/f/{family}", None),
    ("/f/{family}/thanks", None),
]


@pytest.mark.parametrize(("path", "action"), PUBLIC, ids=[path for path, _ in PUBLIC])
def test_every_public_page_fits_every_phone(visitor, layout_server, path, action):
    visitor.goto(path.split(" ")[0].format(**layout_server.ids))
    if action:
        action(visitor)
    assert not (problems := measure(visitor, path)), report(problems)


ADMIN = [
    "/admin/",
    "/admin/heroes",
    "/admin/heroes/new",
    "/admin/heroes/{hero}/edit",
    "/admin/runners",
    "/admin/runners/new",
    "/admin/runners/{runner}/edit",
    "/admin/tracks",
    "/admin/tracks/new",
    "/admin/tracks/{track}/edit",
    "/admin/runs",
    "/admin/runs/new",
    "/admin/runs/{run}",
    "/admin/runs/{planned}/edit",
    "/admin/runs/{run}/checkins",
    "/admin/runs/{run}/checkins/{checkin}/edit",
    "/admin/runs/{run}/checkin-sheet",
    "/admin/devices",
    "/admin/audit",
    "/admin/shipments",
    "/admin/shipments/new?run_id={run}",
    "/admin/shipments/{shipment}",
    "/admin/shipments/{shipment}/edit",
    "/logout",
]


@pytest.mark.parametrize("path", ADMIN)
def test_every_admin_page_fits_every_phone(admin, layout_server, path):
    reply = admin.goto(path.format(**layout_server.ids))
    assert reply.status == 200, path
    assert not (problems := measure(admin, path)), report(problems)


def test_an_admin_form_with_errors_fits_every_phone(admin):
    admin.goto("/admin/heroes/new")
    admin.locator("form button[type=submit]").last.click()
    expect(admin.locator(".error-summary")).to_be_visible()
    assert not (problems := measure(admin, "/admin/heroes/new with errors")), report(problems)

"""The whole flow of a planned run, exporting runs, and a conflict that is parked, not dropped."""

import json
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from r4h_pwa.models import Checkin, Run

from .steps import finish, open_app, sign_in, start_unplanned_run, stored_runs, tap_laps

TAMPER = """async (id) => {
  const db = await new Promise((resolve) => {
    const open = indexedDB.open("r4h");
    open.onsuccess = () => resolve(open.result);
  });
  const tx = db.transaction("runs", "readwrite");
  const store = tx.objectStore("runs");
  const run = await new Promise((resolve) => {
    const req = store.get(id);
    req.onsuccess = () => resolve(req.result);
  });
  run.status = "outbox";
  run.payload.laps[0].elapsed_ms += 1;
  store.put(run);
  await new Promise((resolve) => { tx.oncomplete = resolve; });
  db.close();
}"""


def finish_and_sync(page):
    """Finish with the confirming tap and wait for the server's acknowledgement."""
    finish(page)
    expect(page.locator("#done-status")).to_have_text("Sent.", timeout=15_000)
    expect(page.get_by_test_id("pending-count")).to_have_text("0")


def test_a_planned_run_from_hero_card_through_ceremony_to_its_mile(context, page, server_db):
    context.clock.install(time=datetime(2025, 3, 1, 14, 0, 0))
    open_app(page)
    sign_in(page)
    planned = page.get_by_test_id("planned-run").first
    expect(planned).to_contain_text("Officer Jordan Avery")
    planned.click()

    card = page.locator(".hero-card")
    expect(card.locator("#hero-flag")).to_have_text("Thin blue line flag")
    expect(card.get_by_role("heading", level=1)).to_have_text("Officer Jordan Avery")
    expect(card).to_contain_text("Example County Police Department, FL")
    end_of_watch = date.today() - timedelta(days=20)
    expect(card.locator("#hero-eow")).to_have_text(
        f"{end_of_watch:%B} {end_of_watch.day}, {end_of_watch.year}"
    )
    expect(card).to_contain_text("Tonight we run for Officer Avery")
    expect(card.get_by_role("link", name="Watch the video")).to_have_attribute(
        "href", "https://example.org/video/avery"
    )
    code = card.get_by_role("button", name="Check-in code for escorts")
    expect(code.locator("img")).to_be_visible()
    code.click()  # full screen, for the escorts to scan
    assert code.bounding_box()["width"] == 390
    code.click()
    assert code.bounding_box()["width"] < 390

    page.get_by_role("button", name="Prayer").click()
    expect(page.locator("#prayer-text")).to_contain_text("Officer Jordan Avery")
    page.get_by_role("button", name="Amen").click()
    expect(page.locator("#silence-time")).to_have_text("1:00")
    page.get_by_role("button", name="Start").click()
    page.clock.run_for(30_000)
    expect(page.locator("#silence-time")).to_have_text("0:30")
    page.clock.run_for(31_000)
    expect(page.locator("#silence-time")).to_have_text("Silence complete")

    page.get_by_test_id("begin-laps").click()
    tap_laps(page, 7)
    finish_and_sync(page)

    [run] = stored_runs(page)
    expect(page.locator("#done-title")).to_have_text("Mile #1,294 for Officer Jordan Avery")
    expect(page.get_by_test_id("mile-number")).to_have_text("#1,294")
    with server_db() as db:
        stored = db.session.get(Run, run["id"])
        assert stored.status == "synced" and stored.mile_number == 1294
        assert stored.words.startswith("Tonight we run for Officer Avery")
        assert len(stored.laps) == 7
        assert (stored.silence_seconds, stored.silence_when) == (60, "before")  # the hero card


def test_the_ceremony_is_optional_and_skippable(context, page):
    open_app(page)
    sign_in(page)
    page.get_by_test_id("start-unplanned").click()
    page.get_by_role("button", name="Moment of silence").click()
    page.get_by_role("button", name="Start").click()
    page.get_by_role("button", name="Skip").click()
    expect(page.locator("#silence")).to_be_hidden()
    page.get_by_test_id("begin-laps").click()
    expect(page.get_by_test_id("lap-button")).to_be_visible()


def test_any_run_exports_as_a_json_file_that_needs_no_server(context, page):
    context.clock.install()
    open_app(page)
    sign_in(page)
    context.set_offline(True)
    start_unplanned_run(page)
    tap_laps(page, 2)
    finish(page)

    with page.expect_download() as download:
        page.locator("#done-export").click()
    exported = json.loads(download.value.path().read_text())

    [run] = stored_runs(page)
    assert download.value.suggested_filename.endswith(f"{run['id'][:8]}.json")
    assert exported["format"] == "r4h-run/1"
    assert exported["run"]["id"] == run["id"]
    assert [lap["seq"] for lap in exported["run"]["laps"]] == [1, 2]
    assert exported["run"]["payload"]["laps"] == run["laps"]


def test_a_conflict_is_parked_visible_and_exportable_never_dropped(context, page, server_db):
    context.clock.install()
    open_app(page)
    sign_in(page)
    start_unplanned_run(page)
    tap_laps(page, 7)
    finish_and_sync(page)
    [run] = stored_runs(page)
    page.evaluate(TAMPER, run["id"])  # the same run id, now with other content

    page.get_by_test_id("sync-now").click()

    expect(page.locator("#done-status")).to_contain_text("conflict")
    expect(page.get_by_test_id("pending-count")).to_have_text("0")
    [parked] = stored_runs(page)
    assert parked["status"] == "parked" and parked["result"]["status"] == "conflict"
    page.get_by_role("button", name="Back to runs").click()
    attention = page.locator("#parked-list")
    expect(page.get_by_role("heading", name="Needs attention")).to_be_visible()
    expect(attention).to_contain_text("conflict: This run was already synced with other content")
    with page.expect_download() as download:
        attention.get_by_test_id("export-run").click()
    exported = json.loads(download.value.path().read_text())
    assert exported["run"]["payload"]["laps"][0]["elapsed_ms"] == run["laps"][0]["elapsed_ms"] + 1
    with server_db() as db:  # the server kept its copy
        stored = db.session.scalar(sa.select(Run).where(Run.id == run["id"]))
        assert stored.laps[0].elapsed_ms == run["laps"][0]["elapsed_ms"]


def test_the_phone_shows_the_roster_of_escorts_checked_in_by_qr_code(page, server_db):
    open_app(page)
    sign_in(page)
    with server_db() as db:
        planned = db.session.scalar(
            sa.select(Run).where(Run.status == "planned").order_by(Run.scheduled_at)
        )
        db.session.add(
            Checkin(run_id=planned.id, name="Sgt. Ada Park", agency="Example County Sheriff")
        )
        db.session.commit()

    page.get_by_test_id("planned-run").first.click()

    expect(page.get_by_test_id("roster-entry")).to_contain_text("Sgt. Ada Park")
    page.get_by_role("button", name="Back to runs").click()  # leaving stops the polling

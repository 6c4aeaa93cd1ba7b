"""Issue 3's "must show", offline: the app opens with no network, and no lap is ever lost."""

import sqlalchemy as sa
from playwright.sync_api import expect

from r4h_pwa.models import Run, Runner

from .harness import RUNNER_EMAIL
from .steps import (
    LAP_MS,
    finish,
    open_app,
    sign_in,
    start_unplanned_run,
    stored_runs,
    tap_laps,
    wait_for_service_worker,
)

READ_BOOTSTRAP = """async () => {
  const db = await new Promise((resolve) => {
    const open = indexedDB.open("r4h");
    open.onsuccess = () => resolve(open.result);
  });
  const value = await new Promise((resolve) => {
    const req = db.transaction("kv").objectStore("kv").get("bootstrap");
    req.onsuccess = () => resolve(req.result);
  });
  db.close();
  return value;
}"""


def test_app_opens_offline_from_the_start_and_starts_an_unplanned_run(context, page, server):
    open_app(page)
    sign_in(page)
    wait_for_service_worker(page)
    context.set_offline(True)
    server.stop()  # nothing could answer even if a request got out

    page.reload()

    expect(page.locator("body")).to_have_attribute("data-screen", "runs")
    start_unplanned_run(page)
    expect(page.get_by_test_id("lap-count")).to_have_text("0")
    assert stored_runs(page)[0]["status"] == "counting"


def test_nothing_is_lost_offline_through_close_undo_and_finish(context, page, server, server_db):
    context.clock.install()
    open_app(page)
    sign_in(page)
    wait_for_service_worker(page)
    next_mile = page.evaluate(READ_BOOTSTRAP)["runner"]["next_mile_number"]
    context.set_offline(True)

    start_unplanned_run(page)
    page.get_by_role("button", name="Add escort").click()
    page.get_by_label("Name", exact=True).fill("Sgt. Dana Reyes")
    page.get_by_label("Agency").fill("Example County Sheriff")
    page.get_by_label("Badge or unit").fill("1234")
    page.get_by_label("May be named on the family page").check()
    page.get_by_test_id("save-escort").click()
    tap_laps(page, 7)
    [run] = stored_runs(page)
    assert [lap["seq"] for lap in run["laps"]] == [1, 2, 3, 4, 5, 6, 7]
    elapsed = [lap["elapsed_ms"] for lap in run["laps"]]
    assert elapsed == sorted(elapsed) and len(set(elapsed)) == 7
    assert elapsed[0] >= LAP_MS

    page.close()
    page = context.new_page()
    page.goto("/app/")  # still offline: the service worker opens the app, the run resumes

    expect(page.get_by_test_id("lap-count")).to_have_text("7")
    page.get_by_test_id("undo-lap").click()
    expect(page.get_by_test_id("lap-count")).to_have_text("7")  # one tap only arms the undo
    page.get_by_test_id("undo-lap").click()
    expect(page.get_by_test_id("lap-count")).to_have_text("6")
    tap_laps(page, 1)
    expect(page.get_by_test_id("lap-count")).to_have_text("7")
    finish(page)
    expect(page.get_by_test_id("pending-count")).to_have_text("1")
    [run] = stored_runs(page)
    assert run["status"] == "outbox" and len(run["laps"]) == 7
    assert [e["type"] for e in run["log"]].count("undo") == 1

    context.set_offline(False)

    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=15_000)
    [run] = stored_runs(page)
    assert run["status"] == "synced"
    assert run["mile_number"] == next_mile
    with server_db() as db:
        stored = db.session.get(Run, run["id"])
        assert [lap.seq for lap in stored.laps] == [1, 2, 3, 4, 5, 6, 7]
        assert [lap.elapsed_ms for lap in stored.laps] == [lap["elapsed_ms"] for lap in run["laps"]]
        assert stored.mile_number == next_mile
        [escort] = stored.checkins
        assert (escort.name, escort.agency, escort.badge, escort.public) == (
            "Sgt. Dana Reyes",
            "Example County Sheriff",
            "1234",
            True,
        )
        assert escort.id == run["checkins"][0]["id"]
        runner = db.session.scalar(sa.select(Runner).where(Runner.email == RUNNER_EMAIL))
        assert runner.total_miles == next_mile

"""Issue 3's "must show" for sync: server faults and an expired sign-in lose nothing."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from r4h_pwa.models import Device, Run, Runner, utcnow

from .harness import RUNNER_EMAIL
from .steps import finish, open_app, sign_in, start_unplanned_run, stored_runs, tap_laps

SYNC_WAIT_MS = 15_000
# Resolves when the app next renders its sync bar, as it does at the end of every push.
WATCH_SYNC_BAR = """() => {
  const count = document.querySelector('[data-testid="pending-count"]');
  window.syncBarRendered = new Promise((resolve) => {
    new MutationObserver(resolve).observe(count, { childList: true, characterData: true });
  });
}"""


# Resolves once the body has shown the done screen, however briefly: with the sign-in ended,
# the push that follows the finish turns to the sign-in screen within milliseconds.
WATCH_FOR_DONE = """() => {
  window.doneShown = new Promise((resolve) => {
    new MutationObserver(() => document.body.dataset.screen === "done" && resolve(true))
      .observe(document.body, { attributes: true, attributeFilter: ["data-screen"] });
  });
}"""


def finish_to_the_done_screen(page):
    """Finish the counting run with the confirming second tap; the done screen shows."""
    page.evaluate(WATCH_FOR_DONE)
    finish(page)
    assert page.evaluate("window.doneShown") is True


def counted_run(context, page):
    """Sign in, count a 7-lap mile on the demo track; the clock is Playwright's."""
    context.clock.install()
    open_app(page)
    sign_in(page)
    start_unplanned_run(page)
    tap_laps(page, 7)


def server_runs(server_db):
    """(run id, lap count, mile number) of every run the server holds that is not planned."""
    with server_db() as db:
        runs = db.session.scalars(sa.select(Run).where(Run.status != "planned")).all()
        return [(run.id, len(run.laps), run.mile_number) for run in runs]


def miles_logged(server_db) -> int:
    with server_db() as db:
        return db.session.scalar(sa.select(Runner.miles_logged).where(Runner.email == RUNNER_EMAIL))


def test_a_500_then_a_stopped_server_lose_nothing_and_it_syncs_once(
    context, page, server, server_db
):
    counted_run(context, page)
    server.fail("500")
    finish_to_the_done_screen(page)

    expect(page.get_by_text("The server had a problem (error 500)")).to_be_visible()
    expect(page.get_by_test_id("pending-count")).to_have_text("1")
    assert server_runs(server_db) == []

    server.stop()
    page.get_by_test_id("sync-now").click()
    expect(page.get_by_text("No signal right now")).to_be_visible()
    expect(page.get_by_test_id("pending-count")).to_have_text("1")
    [run] = stored_runs(page)
    assert run["status"] == "outbox" and len(run["laps"]) == 7

    # From here every push that reaches the server is noted, the outbox's own retry too:
    # it may fire as soon as the server is back, before Sync now is tapped.
    answers = []
    page.on(
        "response", lambda r: answers.append(r.status) if r.url.endswith("/api/v1/sync") else None
    )
    server.heal()
    server.start()
    page.get_by_test_id("sync-now").click()
    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=SYNC_WAIT_MS)
    expect(page.get_by_text("Last synced")).to_be_visible()
    page.evaluate(WATCH_SYNC_BAR)
    page.get_by_test_id("sync-now").click()  # nothing left to send: nothing is sent again
    page.evaluate("() => window.syncBarRendered")  # that push is over: it showed its result
    assert answers == [200]

    [stored] = server_runs(server_db)
    assert stored == (run["id"], 7, 1294)
    assert miles_logged(server_db) == 1
    [run] = stored_runs(page)
    assert (run["status"], run["mile_number"]) == ("synced", 1294)


def test_a_lost_acknowledgement_is_answered_duplicate_with_the_same_mile(
    context, page, server, server_db
):
    counted_run(context, page)
    server.fail("500-after")  # the server stores the run, the phone never hears back
    finish_to_the_done_screen(page)

    expect(page.get_by_text("The server had a problem (error 500)")).to_be_visible()
    expect(page.get_by_test_id("pending-count")).to_have_text("1")
    [(run_id, laps, mile)] = server_runs(server_db)

    server.heal()
    page.get_by_test_id("sync-now").click()
    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=SYNC_WAIT_MS)

    assert server_runs(server_db) == [(run_id, 7, mile)]
    assert miles_logged(server_db) == 1
    [run] = stored_runs(page)
    assert (run["status"], run["mile_number"], run["result"]["status"]) == (
        "synced",
        mile,
        "duplicate",
    )


@pytest.mark.parametrize("ending", ["expired", "revoked"])
def test_a_sign_in_that_ends_while_counting_prompts_sign_in_then_syncs(
    context, page, server, server_db, ending
):
    counted_run(context, page)
    with server_db() as db:
        for device in db.session.scalars(sa.select(Device)):
            if ending == "expired":
                device.expires_at = utcnow() - timedelta(minutes=1)
            else:
                device.revoked_at = utcnow()
        db.session.commit()

    finish_to_the_done_screen(page)

    expect(page.locator("body")).to_have_attribute("data-screen", "signin")
    expect(page.locator("#signin-reason")).to_contain_text("The sign-in on this phone has ended")
    expect(page.get_by_test_id("pending-count")).to_have_text("1")
    assert stored_runs(page)[0]["status"] == "outbox"
    assert server_runs(server_db) == []

    sign_in(page)

    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=SYNC_WAIT_MS)
    [run] = stored_runs(page)
    assert server_runs(server_db) == [(run["id"], 7, 1294)]

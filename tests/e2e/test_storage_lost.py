"""Issue 10: IndexedDB loses its connection (as WebKit's does in the background) mid-tap.

db.js reopens the database and writes once more, then says so on screen. A test-only hook
in db.js makes the next write fail: "lost" as WebKit's UnknownError in the middle of the
transaction, "closed" as a database closed under the app (a real InvalidStateError).
"""

import pytest
from playwright.sync_api import expect

from .steps import FAIL_NEXT_WRITE, open_app, sign_in, start_unplanned_run, stored_runs, tap_laps


@pytest.mark.parametrize("kind", ["lost", "closed"])
def test_a_tap_when_the_storage_connection_is_lost_is_stored_once_and_said(context, page, kind):
    context.clock.install()
    open_app(page)
    sign_in(page)
    start_unplanned_run(page)
    tap_laps(page, 2)

    page.evaluate(FAIL_NEXT_WRITE, kind)
    tap_laps(page, 1)

    expect(page.get_by_test_id("lap-count")).to_have_text("3")
    expect(page.get_by_role("status")).to_contain_text("reconnected and saved again")
    [run] = stored_runs(page)
    assert [lap["seq"] for lap in run["laps"]] == [1, 2, 3]
    assert [entry["type"] for entry in run["log"]] == ["lap", "lap", "lap"]
    page.reload()  # what the screen said is what is on disk
    expect(page.get_by_test_id("lap-count")).to_have_text("3")

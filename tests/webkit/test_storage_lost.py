"""Issue 10: WebKit loses its IndexedDB connection ("Connection to Indexed Database server
lost") mid-tap. db.js reopens the database and writes once more, then says so on screen.

A test-only hook in db.js makes the next write fail: "lost" as WebKit's UnknownError in the
middle of the transaction, "closed" as a database closed under the app (a real
InvalidStateError from WebKit).
"""

import pytest
from selenium.webdriver.common.by import By

from .browser import (
    fail_next_write,
    open_app,
    reload,
    sign_in,
    start_unplanned_run,
    stored_runs,
    tap_laps,
    wait,
    wait_for_text,
)


@pytest.mark.parametrize("kind", ["lost", "closed"])
def test_a_tap_when_the_storage_connection_is_lost_is_stored_once_and_said_in_webkit(
    driver, server, kind
):
    open_app(driver, server.url)
    sign_in(driver)
    start_unplanned_run(driver)
    tap_laps(driver, 2)

    fail_next_write(driver, kind)
    tap_laps(driver, 1)

    notice = driver.find_element(By.CSS_SELECTOR, "[role=status]")
    wait(driver, lambda d: "reconnected and saved again" in notice.text)
    [run] = stored_runs(driver)
    assert [lap["seq"] for lap in run["laps"]] == [1, 2, 3]
    assert [entry["type"] for entry in run["log"]] == ["lap", "lap", "lap"]
    reload(driver)  # what the screen said is what is on disk
    wait_for_text(driver, "lap-count", "3")

"""Issue 10: no Background Sync on iPhones, so in WebKit the outbox pushes by itself.

It pushes on open, on `online`, when the page becomes visible again, and on "Sync now".
Each test signs in (the outbox then has nothing to send, so no retry is pending), puts a
finished mile straight into the outbox without the app pushing it, then fires one trigger:
only that trigger can send the run.
"""

from .browser import (
    by_testid,
    open_app,
    queue_finished_run,
    reload,
    server_runs,
    sign_in,
    stored_runs,
    wait,
)


def signed_in_with_a_run_waiting(driver, server) -> str:
    """Sign in, queue a finished mile behind the app's back; returns the run's id."""
    open_app(driver, server.url)
    sign_in(driver)
    run_id = queue_finished_run(driver)
    [run] = stored_runs(driver)
    assert (run["id"], run["status"]) == (run_id, "outbox")
    assert run_id not in server_runs(server)
    return run_id


def assert_sent(driver, server, run_id: str) -> None:
    """The server gets the run with its 7 laps, and the phone marks it synced."""
    wait(driver, lambda d: stored_runs(d)[0]["status"] == "synced", message="the run never synced")
    [run] = stored_runs(driver)
    assert server_runs(server)[run_id] == [(lap["seq"], lap["elapsed_ms"]) for lap in run["laps"]]
    assert len(run["laps"]) == 7 and run["mile_number"]


def test_the_outbox_pushes_on_open_in_webkit(driver, server):
    run_id = signed_in_with_a_run_waiting(driver, server)

    reload(driver)

    assert_sent(driver, server, run_id)


def test_the_outbox_pushes_when_an_online_event_fires_in_webkit(driver, server):
    run_id = signed_in_with_a_run_waiting(driver, server)

    # WebDriver cannot take WebKit offline and back: the real event, dispatched on window.
    driver.execute_script("window.dispatchEvent(new Event('online'));")

    assert_sent(driver, server, run_id)


def test_the_outbox_pushes_when_the_page_becomes_visible_again_in_webkit(driver, server):
    run_id = signed_in_with_a_run_waiting(driver, server)
    driver.minimize_window()  # the phone goes to its home screen: the page is hidden
    assert driver.execute_script("return document.visibilityState;") == "hidden"
    assert stored_runs(driver)[0]["status"] == "outbox"  # hiding the page sends nothing

    driver.set_window_rect(width=1000, height=800)  # back to the app: visible again

    assert_sent(driver, server, run_id)


def test_the_outbox_pushes_on_sync_now_in_webkit(driver, server):
    run_id = signed_in_with_a_run_waiting(driver, server)

    by_testid(driver, "sync-now").click()

    assert_sent(driver, server, run_id)

"""Issue 10: the offline journey in real WebKit, the engine of every browser on an iPhone.

WebDriver cannot switch WebKit offline, so the server is stopped instead: the phone then
gets no answer, as at a track with no signal.
"""

from .browser import (
    finish,
    open_app,
    reload,
    screen,
    server_runs,
    sign_in,
    start_unplanned_run,
    stored_runs,
    tap_laps,
    user_agent,
    wait_for_service_worker,
    wait_for_text,
)

LAPS_PER_MILE = 7  # the middle-school track


def test_a_mile_counted_with_no_server_and_a_reload_syncs_once_in_webkit(driver, server):
    open_app(driver, server.url)
    sign_in(driver)
    wait_for_service_worker(driver)
    assert "AppleWebKit" in user_agent(driver)
    before = server_runs(server)
    server.stop()

    reload(driver)  # the service worker opens the app with no server behind it

    assert screen(driver) == "runs"
    start_unplanned_run(driver)
    tap_laps(driver, 4)
    reload(driver)  # in the middle of the mile: straight back to the counter, nothing lost
    assert screen(driver) == "counter"
    wait_for_text(driver, "lap-count", "4")
    tap_laps(driver, LAPS_PER_MILE - 4)
    finish(driver)
    wait_for_text(driver, "pending-count", "1")
    [run] = stored_runs(driver)
    assert run["status"] == "outbox"
    laps = [(lap["seq"], lap["elapsed_ms"]) for lap in run["laps"]]
    assert [seq for seq, _ in laps] == list(range(1, LAPS_PER_MILE + 1))

    server.start()  # the same port: the same origin for the phone

    # No Background Sync in WebKit: the outbox's own retry sends it, with no tap.
    wait_for_text(driver, "pending-count", "0", timeout=30)
    [run] = stored_runs(driver)
    assert run["status"] == "synced" and run["mile_number"]
    after = server_runs(server)
    assert set(after) - set(before) == {run["id"]}
    assert after[run["id"]] == laps  # every lap tapped, each once, as the phone has it

"""The counter at the track: the guard, undo, resume after close, splits, and big targets.

These tests share one server (each still gets a fresh browser profile): none of them
depends on what another one stored there.
"""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from r4h_pwa.models import Run

from .harness import LiveServer
from .steps import (
    LAP_MS,
    WAKE_LOCK_HELD,
    finish,
    open_app,
    sign_in,
    start_unplanned_run,
    stored_runs,
    tap_laps,
)

START = datetime(2025, 3, 1, 14, 0, 0)


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_database):
    """One live server for this module."""
    live = LiveServer(tmp_path_factory.mktemp("counter-server"), demo_database).start()
    yield live
    live.stop()


def counting(context, page):
    """Signed in, with a run begun on the 7-lap track at a fixed fake time.

    The clock is paused before the run begins: from then on only the test moves time, so
    lap times are exactly what the test says however slow the machine is.
    """
    context.clock.install(time=START)
    open_app(page)
    sign_in(page)
    page.clock.pause_at(START + timedelta(hours=1))
    start_unplanned_run(page)


def elapsed_seconds(page) -> int:
    """The elapsed time on screen, in seconds."""
    minutes, seconds = page.locator("#elapsed").text_content().split(":")
    return int(minutes) * 60 + int(seconds)


def test_a_tap_sooner_than_the_minimum_lap_is_ignored_noticed_and_logged(context, page):
    counting(context, page)
    page.clock.fast_forward(20_000)  # lap 1 counts from "Begin laps": 20 s is too soon
    page.get_by_test_id("lap-button").click()

    expect(page.get_by_role("status")).to_contain_text("Too soon: tap ignored")
    expect(page.get_by_test_id("lap-count")).to_have_text("0")
    tap_laps(page, 1)
    page.clock.fast_forward(39_000)  # 39 s after lap 1, on a 40 s track
    page.get_by_test_id("lap-button").click()
    expect(page.get_by_test_id("lap-count")).to_have_text("1")

    [run] = stored_runs(page)
    assert [(e["type"], e.get("reason")) for e in run["log"]] == [
        ("ignored", "too_soon"),
        ("lap", None),
        ("ignored", "too_soon"),
    ]
    assert len(run["laps"]) == 1
    # The notice never blocks the next tap.
    assert page.locator("#notice").evaluate("n => getComputedStyle(n).pointerEvents") == "none"


def test_undo_needs_a_second_tap_within_four_seconds(context, page):
    counting(context, page)
    tap_laps(page, 2)
    undo = page.get_by_test_id("undo-lap")

    undo.click()
    expect(undo).to_have_text("Tap again to undo lap 2")
    page.clock.run_for(4_100)
    expect(undo).to_have_text("Undo last lap")
    undo.click()
    expect(page.get_by_test_id("lap-count")).to_have_text("2")
    undo.click()
    expect(page.get_by_test_id("lap-count")).to_have_text("1")
    [run] = stored_runs(page)
    assert [lap["seq"] for lap in run["laps"]] == [1]
    assert run["log"][-1]["type"] == "undo" and run["log"][-1]["seq"] == 2


def test_a_reopened_run_resumes_at_the_right_elapsed_time(context, page):
    counting(context, page)
    tap_laps(page, 2)  # laps at about 41 s and 82 s
    page.clock.fast_forward(10_000)
    page.close()
    context.clock.fast_forward(60_000)  # a minute with the tab closed

    page = context.new_page()
    page.goto("/app/")

    expect(page.get_by_test_id("lap-count")).to_have_text("2")
    assert elapsed_seconds(page) == 152
    page.get_by_test_id("lap-button").click()  # 70 s after lap 2: counts
    expect(page.get_by_test_id("lap-count")).to_have_text("3")
    [run] = stored_runs(page)
    assert run["laps"][2]["elapsed_ms"] == 152_000


def test_a_wall_clock_set_back_never_makes_the_run_go_backwards(context, page):
    counting(context, page)
    tap_laps(page, 2)
    [before] = stored_runs(page)
    page.close()
    context.clock.set_system_time(START - timedelta(hours=1))

    page = context.new_page()
    page.goto("/app/")

    expect(page.get_by_test_id("lap-count")).to_have_text("2")
    assert elapsed_seconds(page) >= before["laps"][1]["elapsed_ms"] // 1000
    tap_laps(page, 1)
    [after] = stored_runs(page)
    elapsed = [lap["elapsed_ms"] for lap in after["laps"]]
    assert elapsed[2] > elapsed[1] + 40_000


def test_counter_shows_split_projection_and_a_clear_mile_complete_cue(context, page):
    context.clock.install(time=START)
    open_app(page)
    sign_in(page)
    # A paused clock: each lap takes exactly its fake time, to the tenth the screen shows.
    page.clock.pause_at(START + timedelta(minutes=1))
    start_unplanned_run(page)
    tap_laps(page, 2, lap_ms=60_000)
    expect(page.locator("#last-split")).to_have_text("1:00.0")
    expect(page.locator("#current-lap-no")).to_have_text("Lap 3")
    expect(page.locator("#projected")).to_have_text("7:00.0")  # 7 laps at the pace so far
    expect(page.locator("#lap-of")).to_have_text(" / 7")
    expect(page.locator("#mile-banner")).to_be_hidden()

    tap_laps(page, 5, lap_ms=60_000)

    expect(page.locator("#mile-banner")).to_have_text("Mile complete · 7:00.0")
    expect(page.locator("body")).to_have_class("mile-done")
    expect(page.locator("#current-lap-no")).to_have_text("Since the mile")  # never "Lap 8"


def test_a_short_run_is_kept_as_incomplete_with_no_mile_number(context, page, server_db):
    counting(context, page)
    tap_laps(page, 3)
    page.get_by_test_id("finish-run").click()
    expect(page.locator("#confirm-text")).to_contain_text("Short of a mile")
    page.get_by_test_id("confirm-finish").click()

    expect(page.locator("#done-status")).to_have_text("Sent.", timeout=15_000)
    expect(page.locator("#done-title")).to_contain_text("Short of a mile for")
    expect(page.get_by_test_id("mile-number")).to_have_count(0)
    expect(page.get_by_test_id("pending-count")).to_have_text("0")
    [run] = stored_runs(page)
    with server_db() as db:
        stored = db.session.scalar(sa.select(Run).where(Run.id == run["id"]))
        assert (len(stored.laps), stored.mile_number) == (3, None)


def test_finishing_with_no_lap_drops_the_start_and_keeps_the_planned_run(context, page):
    context.clock.install(time=START)
    open_app(page)
    sign_in(page)
    planned = page.get_by_test_id("planned-run")
    expect(planned).to_have_count(2)
    planned.first.click()
    page.get_by_test_id("begin-laps").click()
    page.get_by_test_id("finish-run").click()
    expect(page.locator("#confirm-text")).to_contain_text("No laps were counted")
    page.get_by_test_id("confirm-finish").click()

    expect(page.locator("body")).to_have_attribute("data-screen", "runs")
    expect(planned).to_have_count(2)
    assert stored_runs(page) == []


def test_the_keyboard_counts_a_lap_once(context, page):
    counting(context, page)
    page.clock.fast_forward(LAP_MS)
    page.get_by_test_id("lap-button").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("lap-count")).to_have_text("1")
    page.clock.fast_forward(LAP_MS)
    page.keyboard.press("Space")
    expect(page.get_by_test_id("lap-count")).to_have_text("2")
    assert len(stored_runs(page)[0]["laps"]) == 2


def test_the_lap_button_is_at_least_half_the_screen_and_every_target_48px(context, page):
    counting(context, page)
    box = page.get_by_test_id("lap-button").bounding_box()
    assert box["height"] >= 844 / 2 and box["width"] >= 390 * 0.9
    for button in page.locator("#screen-counter button:visible").all():
        assert button.bounding_box()["height"] >= 48, button.text_content()
    assert page.evaluate("document.documentElement.scrollHeight") <= 844  # no scrolling


def test_the_screen_stays_awake_while_counting_and_the_line_says_when_it_may_dim(context, page):
    counting(context, page)
    wake_line = page.locator("#wake-line")
    expect(wake_line).to_have_text("The screen stays on while counting.")
    assert page.evaluate(WAKE_LOCK_HELD) is True  # a real screen wake lock, held
    # The system takes it back (battery saver, the phone locked): the runner is told.
    page.evaluate("window.heldLock.release()")
    expect(wake_line).to_have_text("The screen may dim: keep it on by hand.")
    # Back to the page: the counter asks again.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(wake_line).to_have_text("The screen stays on while counting.")
    assert page.evaluate(WAKE_LOCK_HELD) is True
    finish(page)
    expect(page.locator("body")).to_have_attribute("data-screen", "runs")  # no laps: dropped
    assert page.evaluate("window.heldLock.released") is True  # let go once the run ends


NO_WAKE_LOCK = "delete Navigator.prototype.wakeLock;"
WAKE_LOCK_REFUSED = (
    "WakeLock.prototype.request = () => Promise.reject(new DOMException('no', 'NotAllowedError'));"
)


@pytest.mark.parametrize(
    "browser_lacks, line",
    [
        (NO_WAKE_LOCK, "Keep the screen on while counting: this browser cannot."),
        (WAKE_LOCK_REFUSED, "The screen may dim: keep it on by hand."),
    ],
    ids=["no wake lock", "wake lock refused"],
)
def test_without_a_wake_lock_the_counter_says_in_one_line_to_keep_the_screen_on(
    context, page, browser_lacks, line
):
    context.add_init_script(browser_lacks)
    counting(context, page)
    expect(page.locator("#wake-line")).to_have_text(line)
    expect(page.get_by_test_id("lap-button")).to_be_enabled()  # the counter works all the same


# The first ask is refused, as WebKit refuses a page reopened mid-run that no tap has asked.
FIRST_WAKE_LOCK_REFUSED = """
  const request = WakeLock.prototype.request;
  let asked = 0;
  WakeLock.prototype.request = function (type) {
    asked += 1;
    if (asked > 1) return request.call(this, type);
    return Promise.reject(new DOMException("no", "NotAllowedError"));
  };
"""


def test_a_refused_wake_lock_is_asked_for_again_at_the_next_tap(context, page):
    context.add_init_script(FIRST_WAKE_LOCK_REFUSED)
    counting(context, page)
    wake_line = page.locator("#wake-line")
    expect(wake_line).to_have_text("The screen may dim: keep it on by hand.")
    tap_laps(page, 1)
    expect(wake_line).to_have_text("The screen stays on while counting.")
    assert page.evaluate(WAKE_LOCK_HELD) is True

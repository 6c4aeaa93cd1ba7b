"""Real WebKit for the tests: Xvfb, WebKitGTK's WebDriver and its MiniBrowser, via Selenium.

WebKit is the engine of every browser on an iPhone. Debian ships it as WebKitGTK, and its
WebDriver drives MiniBrowser (launched with --automation) on an Xvfb display. The steps
below are what a runner does in the lap counter, as in tests/e2e/steps.py for Chromium.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import threading
from pathlib import Path

import sqlalchemy as sa
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait
from selenium.webdriver.webkitgtk.service import Service

from r4h_pwa.models import Run
from tests.e2e.harness import DEMO_PASSWORD, RUNNER_EMAIL
from tests.e2e.steps import FAIL_NEXT_WRITE, MIDDLE_SCHOOL, READ_RUNS, WAIT_FOR_WORKER

WEBKIT_WEBDRIVER = "/usr/bin/WebKitWebDriver"
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
WAIT_S = 15  # the longest a step waits for the page
XVFB_LOCK = "/tmp/r4h-xvfb-start.lock"
SESSION_START_S = 90  # the longest MiniBrowser may take to start


def missing() -> list[str]:
    """The WebKit programs this machine lacks (.ci/ensure-browsers installs them)."""
    programs = [WEBKIT_WEBDRIVER, MINIBROWSER, "/usr/bin/Xvfb"]
    return [path for path in programs if not os.access(path, os.X_OK)]


def start_xvfb() -> tuple[subprocess.Popen, str]:
    """Xvfb on the first free display; returns the process and its DISPLAY (":N").

    Two Xvfb servers picking a display at once can both pick the same one, and the loser's
    cleanup then leaves the winner unreachable ("cannot open display"): one starts at a time.
    """
    with open(XVFB_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _start_xvfb()


def _start_xvfb() -> tuple[subprocess.Popen, str]:
    read_end, write_end = os.pipe()
    command = ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x1024x24"]
    # -noreset: by default an X server resets when its last client leaves, as each test's
    # MiniBrowser does, and the next MiniBrowser that connects during the reset fails with
    # "cannot open display" (1 launch in about 30 on a busy machine).
    command += ["-nolisten", "tcp", "-noreset"]
    process = subprocess.Popen(command, pass_fds=(write_end,), stderr=subprocess.DEVNULL)
    os.close(write_end)
    number = b""
    with os.fdopen(read_end, "rb") as pipe:
        # Xvfb writes the number, then a newline; closing the pipe before that kills it.
        while not number.endswith(b"\n"):
            chunk = pipe.read(1)
            if not chunk:
                raise RuntimeError(f"Xvfb exited with {process.wait()} before naming its display")
            number += chunk
    return process, f":{number.decode().strip()}"


def launch(display: str, log: Path) -> webdriver.WebKitGTK:
    """MiniBrowser under WebKitWebDriver on the given X display, with a fresh profile."""
    options = webdriver.WebKitGTKOptions()
    options.binary_location = MINIBROWSER
    options.add_argument("--automation")
    service = Service(
        executable_path=WEBKIT_WEBDRIVER,
        log_output=str(log),
        env={**os.environ, "DISPLAY": display},
    )
    # WebKitWebDriver waits for ever when MiniBrowser dies at start (say, "cannot open
    # display"): stop the driver after a while, so the test fails with its log, not hangs.
    watchdog = threading.Timer(SESSION_START_S, lambda: service.process and service.process.kill())
    watchdog.start()
    try:
        return webdriver.WebKitGTK(options=options, service=service)
    except Exception as exc:
        raise RuntimeError(f"MiniBrowser did not start: {log.read_text()[-2000:]}") from exc
    finally:
        watchdog.cancel()


def wait(driver, condition, timeout: float = WAIT_S, message: str = ""):
    """Wait until condition(driver) is truthy; return its value.

    An element the app re-renders while WebDriver reads it is stale: that poll retries.
    """
    ignored = (NoSuchElementException, StaleElementReferenceException)
    waiter = WebDriverWait(driver, timeout, poll_frequency=0.05, ignored_exceptions=ignored)
    return waiter.until(condition, message)


def by_testid(driver, testid: str):
    """The element with that data-testid (DESIGN.md's hooks)."""
    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def by_label(driver, label: str):
    """The form field inside the <label> that starts with that text."""
    xpath = f'//label[starts-with(normalize-space(.), "{label}")]//*[self::input or self::select]'
    return driver.find_element(By.XPATH, xpath)


def text_of(driver, testid: str) -> str:
    """The text content of a data-testid element, shown or not."""
    return by_testid(driver, testid).get_attribute("textContent")


def wait_for_text(driver, testid: str, text: str, timeout: float = WAIT_S) -> None:
    """Wait until a data-testid element says exactly text."""
    wait(driver, lambda d: text_of(d, testid) == text, timeout, f"{testid} never said {text!r}")


def screen(driver) -> str:
    """The screen the app shows (body's data-screen)."""
    return driver.find_element(By.TAG_NAME, "body").get_attribute("data-screen")


# Errors the page throws and promises it leaves rejected, kept for a failing step to report.
# WebKit's WebDriver has no console log to read.
KEEP_ERRORS = """
  window.r4hErrors = [];
  const keep = (what) => window.r4hErrors.push(String(what && (what.stack || what)));
  addEventListener("error", (event) => keep(event.error || event.message));
  addEventListener("unhandledrejection", (event) => keep(event.reason));
"""


def open_app(driver, url: str) -> None:
    """Load /app/ and wait until it has left its loading screen."""
    driver.get(f"{url}/app/")
    driver.execute_script(KEEP_ERRORS)
    wait(driver, lambda d: screen(d) not in (None, "", "loading"), message="the app never loaded")


def reload(driver) -> None:
    """Reload the page and wait until the app shows a screen again."""
    driver.refresh()
    driver.execute_script(KEEP_ERRORS)
    wait(driver, lambda d: screen(d) not in (None, "", "loading"), message="the app never reloaded")


def what_the_page_says(driver) -> str:
    """What the page shows and holds, for a step that failed: the screen, the lap count, the
    notice, the errors kept and the runs on disk."""
    notice = driver.find_element(By.ID, "notice")
    shown = "shown" if notice.is_displayed() else "hidden"
    errors = driver.execute_script("return window.r4hErrors || [];")
    runs = [
        {key: run.get(key) for key in ("status", "laps", "log", "n")} for run in stored_runs(driver)
    ]
    return (
        f"screen {screen(driver)!r}, lap count {text_of(driver, 'lap-count')!r}; "
        f"notice ({shown}) {notice.get_attribute('textContent')!r}; "
        f"errors {errors!r}; runs on disk {runs!r}"
    )


def sign_in(driver) -> None:
    """Sign in as the demo runner and land on the runs screen with its planned runs."""
    by_label(driver, "Email").send_keys(RUNNER_EMAIL)
    by_label(driver, "Password").send_keys(DEMO_PASSWORD)
    by_testid(driver, "signin-submit").click()
    wait(driver, lambda d: screen(d) == "runs", message="sign-in did not reach the runs screen")
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="planned-run"]'))


def wait_for_service_worker(driver) -> None:
    """Wait until the service worker is active and controls the page (its precache done)."""
    assert driver.execute_script(f"return ({WAIT_FOR_WORKER})();") == "activated"


def start_unplanned_run(driver, track: str = MIDDLE_SCHOOL) -> None:
    """Pick the first hero and the given track, then begin laps without the ceremony."""

    def choose(d) -> bool:  # the app refills the list when the bootstrap or outbox answers
        Select(by_label(d, "Track")).select_by_visible_text(f"{track} (7 laps a mile)")
        return True

    wait(driver, choose)
    by_testid(driver, "start-unplanned").click()
    by_testid(driver, "begin-laps").click()
    wait(driver, lambda d: screen(d) == "counter", message="the counter did not open")


def tap_laps(driver, laps: int) -> None:
    """Tap the lap button once the current lap has run the track's guard, on the real clock.

    The tests' track has a 1 s guard: the current lap shows "0:01" once a tap would count.
    """
    start = int(text_of(driver, "lap-count"))
    for n in range(start + 1, start + laps + 1):
        wait(driver, lambda d: d.find_element(By.ID, "current-lap").text not in ("", "0:00"))
        by_testid(driver, "lap-button").click()
        try:
            wait_for_text(driver, "lap-count", str(n))
        except TimeoutException as exc:
            raise AssertionError(f"tap {n} never counted: {what_the_page_says(driver)}") from exc


def finish(driver) -> None:
    """Finish the run from the counter and land on the done screen."""
    by_testid(driver, "finish-run").click()
    wait(driver, lambda d: by_testid(d, "confirm-finish").is_displayed())
    by_testid(driver, "confirm-finish").click()
    wait(driver, lambda d: screen(d) == "done", message="finishing did not reach the done screen")


def stored_runs(driver) -> list[dict]:
    """Every run in the page's IndexedDB, read directly."""
    return driver.execute_script(f"return ({READ_RUNS})();")


def fail_next_write(driver, kind: str) -> None:
    """Arm db.js's test-only hook: the next write fails as a lost connection does."""
    driver.execute_script(f"return ({FAIL_NEXT_WRITE})(arguments[0]);", kind)


def user_agent(driver) -> str:
    """The user agent string the page reports."""
    return driver.execute_script("return navigator.userAgent;")


def server_runs(server) -> dict[str, list[tuple[int, int]]]:
    """Every run in the server's database: its id -> its laps as (seq, elapsed_ms)."""
    with server.db() as db:
        return {
            run.id: [(lap.seq, lap.elapsed_ms) for lap in sorted(run.laps, key=lambda lap: lap.seq)]
            for run in db.session.scalars(sa.select(Run))
        }


# A finished mile put straight into the outbox with the app's own modules (the same module
# instances as the page's), without the app pushing it: the test then chooses what pushes.
QUEUE_FINISHED_RUN = """async (trackName) => {
  const counter = await import("/static/js/counter.js");
  const db = await import("/static/js/db.js");
  // The app's own push after sign-in may still be reading the outbox: let it end first, or
  // it sends this run and no trigger of the test's is needed (the same module instance).
  const { outbox } = await import("/static/js/updates.js");
  while (outbox.running) await outbox.running;
  const [auth, boot] = await Promise.all([db.getValue("auth"), db.getValue("bootstrap")]);
  const track = boot.tracks.find((t) => t.name === trackName);
  const lapMs = 60000;
  let run = counter.startRun({ id: null, hero: boot.heroes[0], track }, auth.runner.id, Date.now());
  for (let lap = 1; lap <= track.laps_per_mile; lap += 1) {
    run = counter.recordTap(run, lap * lapMs, Date.now()).run;
  }
  run = counter.finishRun(run, track.laps_per_mile * lapMs).run;
  await db.putRun(run);
  return run.id;
}"""


def queue_finished_run(driver) -> str:
    """A finished mile on the middle-school track, waiting in the outbox; returns its id."""
    return driver.execute_script(f"return ({QUEUE_FINISHED_RUN})(arguments[0]);", MIDDLE_SCHOOL)

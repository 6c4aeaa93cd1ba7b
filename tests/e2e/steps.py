"""What a runner does in the lap counter, as small functions the browser tests share."""

import re

from playwright.sync_api import Locator, Page, expect

from tests.helpers import totp_code

from .harness import DEMO_PASSWORD, RUNNER_EMAIL

MIDDLE_SCHOOL = "Example Middle School track"  # 7 laps a mile, laps of at least 40 s
LAP_MS = 41_000  # just past the demo track's 40 s double-tap guard

# Every run as IndexedDB holds it, read directly: a counting run's record, with its taps since
# (one small record each in the "laps" store, in key order) applied to its laps and log.
READ_RUNS = """async () => {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open("r4h");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const read = (store) => new Promise((resolve, reject) => {
    const req = db.transaction(store).objectStore(store).getAll();
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const runs = await read("runs");
  const taps = await read("laps");
  db.close();
  for (const { run_id, n, ...entry } of taps) {
    const run = runs.find((r) => r.id === run_id);
    if (entry.type === "lap") run.laps.push({ seq: entry.seq, elapsed_ms: entry.elapsed_ms });
    if (entry.type === "undo") run.laps.pop();
    if (entry.type === "keep_counting") run.miles = entry.miles;
    run.log.push(entry);
  }
  return runs;
}"""

# db.js's test-only hook: the next write fails as a lost IndexedDB connection does.
FAIL_NEXT_WRITE = """async (kind) => {
  const db = await import("/static/js/db.js");
  db.failNextWriteForTests(kind);
}"""

# Whether the counter holds a screen wake lock the system has not taken back. The lock is
# kept in window.heldLock, where a test can still see it after the counter lets it go.
WAKE_LOCK_HELD = """async () => {
  window.heldLock = (await import("/static/js/state.js")).state.wakeLock;
  return Boolean(window.heldLock && !window.heldLock.released);
}"""

WAIT_FOR_WORKER = """async () => {
  const registration = await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) =>
      navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  }
  const worker = registration.active;
  if (worker.state !== "activated") {
    await new Promise((resolve) => worker.addEventListener("statechange", resolve, { once: true }));
  }
  return worker.state;
}"""


def open_app(page: Page) -> None:
    """Load /app/ and wait until it has left its loading screen."""
    page.goto("/app/")
    expect(page.locator("body")).not_to_have_attribute("data-screen", "loading")


def sign_in(page: Page, password: str = DEMO_PASSWORD) -> None:
    """Sign in as the demo runner from the sign-in screen and land on the runs screen."""
    page.get_by_label("Email").fill(RUNNER_EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_test_id("signin-submit").click()
    expect(page.locator("body")).to_have_attribute("data-screen", "runs")
    expect(page.get_by_test_id("planned-run").first).to_be_visible()


def enter_admin_code(page: Page) -> None:
    """On the code page after an admin's password: type the test authenticator's code."""
    page.get_by_role("textbox", name="Code").fill(totp_code())
    page.get_by_test_id("code-submit").click()
    expect(page).not_to_have_url(re.compile(r"/login/code"))


def sign_in_admin(page: Page, email: str = "admin@example.org") -> None:
    """Sign in on /login as a demo admin whose authenticator is TOTP_SECRET; land in /admin/."""
    page.goto("/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', DEMO_PASSWORD)
    page.locator('form [type="submit"]').last.click()
    enter_admin_code(page)
    page.wait_for_url("**/admin/**")


def wait_for_service_worker(page: Page) -> None:
    """Wait until the service worker is active and controls the page (its precache done)."""
    assert page.evaluate(WAIT_FOR_WORKER) == "activated"


def start_unplanned_run(page: Page, track: str = MIDDLE_SCHOOL) -> None:
    """Pick the first hero and the given track, then begin laps without the ceremony."""
    page.get_by_label("Track").select_option(label=f"{track} (7 laps a mile)")
    page.get_by_test_id("start-unplanned").click()
    page.get_by_test_id("begin-laps").click()
    expect(page.get_by_test_id("lap-button")).to_be_visible()


def tap_laps(page: Page, laps: int, lap_ms: int = LAP_MS) -> None:
    """Let lap_ms pass on the page's clock, then tap; repeat, checking the stored count."""
    start = int(page.get_by_test_id("lap-count").text_content())
    for n in range(start + 1, start + laps + 1):
        page.clock.fast_forward(lap_ms)
        page.get_by_test_id("lap-button").click()
        expect(page.get_by_test_id("lap-count")).to_have_text(str(n))


def finish(page: Page, button: Locator | None = None) -> None:
    """Open the Finish sheet, from the counter's Finish button or the one given, and confirm."""
    (button or page.get_by_test_id("finish-run")).click()
    page.get_by_test_id("confirm-finish").click()


def an_unsent_mile(context, page: Page) -> None:
    """Sign in and let the worker install, go offline, count a mile and finish it: the run
    then waits in the outbox."""
    open_app(page)
    sign_in(page)
    wait_for_service_worker(page)
    context.set_offline(True)
    start_unplanned_run(page)
    tap_laps(page, 7)
    finish(page, page.locator("#finish-mile"))
    expect(page.get_by_test_id("pending-count")).to_have_text("1")


def finish_and_wait_for_sync(page: Page) -> dict:
    """Finish the mile on the counter and wait until the run is sent; the run as stored."""
    finish(page, page.locator("#finish-mile"))
    expect(page.locator("#done-status")).to_have_text("Sent.", timeout=15_000)
    [run] = stored_runs(page)
    return run


def stored_runs(page: Page) -> list[dict]:
    """Every run in the page's IndexedDB, read directly."""
    return page.evaluate(READ_RUNS)

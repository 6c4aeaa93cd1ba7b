"""The mile as a moment: the counter at the mile, the done screen before and after the sync,
the honored heroes in the picker, and a cold start drawn before IndexedDB answers."""

from datetime import datetime

from playwright.sync_api import expect

from .steps import open_app, sign_in, start_unplanned_run, stored_runs, tap_laps

START = datetime(2025, 3, 1, 14, 0, 0)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
# Holds every IndexedDB open of the page until window.releaseIndexedDb(): the "success"
# event is stopped, then sent again on release.
HOLD_INDEXEDDB = """(() => {
  const open = IDBFactory.prototype.open;
  const held = [];
  let released = false;
  window.releaseIndexedDb = () => { released = true; held.splice(0).forEach((send) => send()); };
  IDBFactory.prototype.open = function (...args) {
    const request = open.apply(this, args);
    request.addEventListener("success", (event) => {
      if (released || !event.isTrusted) return;
      event.stopImmediatePropagation();
      held.push(() => request.dispatchEvent(new Event("success")));
    });
    return request;
  };
})();"""
# A pointerdown sent to the lap button by script, even hidden or off. The tap's write (if
# any) is a transaction created before the next read of the test's own: IndexedDB runs them
# in that order, so stored_runs() then sees its outcome.
TAP_BY_SCRIPT = """() => {
  const button = document.querySelector('[data-testid="lap-button"]');
  button.dispatchEvent(new PointerEvent("pointerdown", { bubbles: true }));
}"""


def planned_mile(context, page) -> None:
    """Signed in, the first planned run (Officer Jordan Avery) begun and 7 laps counted."""
    context.clock.install(time=START)
    open_app(page)
    sign_in(page)
    page.get_by_test_id("planned-run").first.click()
    page.get_by_test_id("begin-laps").click()
    tap_laps(page, 7)


def test_at_the_mile_the_big_button_finishes_it_and_more_laps_need_a_choice(context, page):
    planned_mile(context, page)

    finish = page.get_by_role("button", name="Finish mile #1,294")
    expect(finish).to_be_visible()
    expect(page.get_by_test_id("mile-number")).to_have_text("#1,294")
    expect(page.get_by_test_id("lap-button")).to_be_hidden()
    expect(page.locator("#lap-of")).to_have_text(" / 7")

    # A tap that still reaches the lap button past the mile is refused and logged, not counted.
    page.clock.fast_forward(60_000)
    page.evaluate(TAP_BY_SCRIPT)
    expect(page.get_by_test_id("lap-count")).to_have_text("7")
    [run] = stored_runs(page)
    assert len(run["laps"]) == 7
    assert run["log"][-1]["type"] == "ignored" and run["log"][-1]["reason"] == "mile_done"

    # The escorts' code is on the counter too.
    page.get_by_role("button", name="Escort code").click()
    expect(page.locator("#qr-img")).to_be_visible()
    page.get_by_role("button", name="Close").click()

    finish.click()
    expect(page.locator("#confirm-text")).to_contain_text("Mile #1,294 for Officer Jordan Avery")
    page.get_by_role("button", name="Keep counting: a second mile").click()
    expect(page.locator("#lap-of")).to_have_text(" / 14")
    expect(page.get_by_test_id("lap-count")).to_have_text("7")
    tap_laps(page, 1)
    expect(page.get_by_test_id("lap-count")).to_have_text("8")
    [run] = stored_runs(page)
    assert [lap["seq"] for lap in run["laps"]] == list(range(1, 9))
    assert run["miles"] == 2


def test_the_done_screen_leads_with_the_mile_and_says_where_it_is(context, page):
    planned_mile(context, page)
    context.set_offline(True)
    page.get_by_role("button", name="Finish mile #1,294").click()
    page.get_by_test_id("confirm-finish").click()

    expect(page.locator("#done-title")).to_have_text("Mile #1,294 for Officer Jordan Avery")
    expect(page.get_by_test_id("mile-number")).to_have_text("#1,294")
    status = page.locator("#done-status")
    expect(status).to_have_text("Saved on this phone, will send when there is signal.")
    # No signal at the track is normal: a quiet line, not a red error.
    expect(page.locator("#last-error")).to_have_text(
        "No signal right now. The runs wait on this phone and will send later."
    )
    expect(page.locator("#last-error")).to_have_class("quiet")
    page.get_by_role("button", name="Add escort").click()
    page.get_by_label("Name", exact=True).fill("Sgt. Dana Reyes")
    page.get_by_test_id("save-escort").click()
    expect(page.locator("#done-escorts")).to_contain_text("Not synced yet")
    page.get_by_role("button", name="Escort code").click()
    expect(page.locator("#qr-img")).to_be_visible()
    page.get_by_role("button", name="Close").click()

    context.set_offline(False)
    page.get_by_test_id("sync-now").click()
    expect(status).to_have_text("Sent.", timeout=15_000)
    expect(page.get_by_test_id("mile-number")).to_have_text("#1,294")
    screen = page.locator("#screen-done")
    expect(screen).not_to_contain_text("Saved on this phone")
    expect(screen.locator("#done-escorts")).to_contain_text("Sgt. Dana Reyes")
    expect(screen.locator("#done-escorts")).not_to_contain_text("Not synced yet")
    [run] = stored_runs(page)
    assert (run["status"], run["mile_number"]) == ("synced", 1294)

    # The hero is honored now: marked in the picker, and not its default any more.
    page.get_by_role("button", name="Back to runs").click()
    hero = page.get_by_label("Hero")
    expect(hero.locator("option", has_text="Jordan Avery")).to_contain_text("✓ mile run")
    expect(hero.locator("option:checked")).not_to_contain_text("Jordan Avery")


def test_a_counter_drawn_from_its_copy_takes_taps_only_once_indexeddb_confirms(context, page):
    context.clock.install(time=START)
    open_app(page)
    sign_in(page)
    start_unplanned_run(page)
    tap_laps(page, 2)

    page.add_init_script(HOLD_INDEXEDDB)
    page.reload()
    # Drawn from the copy at once, IndexedDB still silent: the lap button is off.
    expect(page.locator("body")).to_have_attribute("data-screen", "counter")
    expect(page.get_by_test_id("lap-count")).to_have_text("2")
    button = page.get_by_test_id("lap-button")
    expect(button).to_be_disabled()
    page.clock.fast_forward(60_000)
    page.evaluate(TAP_BY_SCRIPT)  # a tap that reaches it anyway is not taken
    expect(page.get_by_test_id("lap-count")).to_have_text("2")

    page.evaluate("window.releaseIndexedDb()")
    expect(button).to_be_enabled()
    expect(page.get_by_test_id("lap-count")).to_have_text("2")
    [run] = stored_runs(page)
    assert len(run["laps"]) == 2
    tap_laps(page, 1)
    [run] = stored_runs(page)
    assert [lap["seq"] for lap in run["laps"]] == [1, 2, 3]


def test_an_iphone_browser_shows_how_to_add_the_app_to_the_home_screen(browser, server):
    for agent, shown in [(IPHONE, True), (None, False)]:
        context = browser.new_context(base_url=server.url, user_agent=agent)
        try:
            page = context.new_page()
            open_app(page)
            sign_in(page)
            guide = page.locator("#install-guide")
            if shown:
                expect(guide).to_contain_text("Add to Home Screen")
            else:
                expect(guide).to_be_hidden()
        finally:
            context.close()

"""The screen wake lock in real WebKit. An iPhone grants it or refuses it (battery saver, no
permission), and WebKit grants it only to a page the runner has just tapped. Either way the
counter's line says what the lock did, and the counter counts.
"""

from selenium.webdriver.common.by import By

from tests.e2e.steps import WAKE_LOCK_HELD

from .browser import finish, open_app, reload, sign_in, start_unplanned_run, tap_laps, wait

# Records what each of the page's wake-lock requests came to, "granted" or the error's name,
# and keeps the locks granted.
RECORD_WAKE_LOCK = """
  const request = navigator.wakeLock.request.bind(navigator.wakeLock);
  window.wakeLockAnswers = [];
  window.wakeLocks = [];
  navigator.wakeLock.request = (type) => request(type).then(
    (lock) => { window.wakeLockAnswers.push("granted"); window.wakeLocks.push(lock); return lock; },
    (error) => { window.wakeLockAnswers.push(error.name); throw error; },
  );
"""
SAYS = {  # what the counter's line says for each answer
    "granted": "The screen stays on while counting.",
    "NotAllowedError": "The screen may dim: keep it on by hand.",
}


def wake_line(driver) -> str:
    return driver.find_element(By.ID, "wake-line").get_attribute("textContent")


def lock_held(driver) -> bool:
    return driver.execute_script(f"return ({WAKE_LOCK_HELD})();")


def test_the_counter_says_what_the_wake_lock_did_in_webkit(driver, server):
    open_app(driver, server.url)
    sign_in(driver)
    assert driver.execute_script("return 'wakeLock' in navigator;")  # Safari has it since 16.4
    driver.execute_script(RECORD_WAKE_LOCK)

    start_unplanned_run(driver)  # "Begin laps" is the tap that lets the counter ask

    [answer] = wait(driver, lambda d: d.execute_script("return window.wakeLockAnswers;"))
    assert answer in SAYS
    wait(driver, lambda d: wake_line(d) == SAYS[answer], message=f"no line for {answer}")
    tap_laps(driver, 1)  # a refused lock takes nothing from the counter

    finish(driver)
    assert driver.execute_script("return window.wakeLocks.every((lock) => lock.released);")


def test_a_page_reopened_mid_run_takes_the_wake_lock_again_at_the_next_tap_in_webkit(
    driver, server
):
    open_app(driver, server.url)
    sign_in(driver)
    start_unplanned_run(driver)
    tap_laps(driver, 1)

    reload(driver)  # a reopened app: WebKit refuses a lock that no tap asked for
    wait(driver, lambda d: wake_line(d) == SAYS["NotAllowedError"], message="no line for it")
    assert not lock_held(driver)

    tap_laps(driver, 1)

    wait(driver, lambda d: wake_line(d) == SAYS["granted"], message="the line still says dim")
    assert lock_held(driver)


def test_a_hidden_page_loses_the_wake_lock_and_takes_it_again_on_return_in_webkit(driver, server):
    open_app(driver, server.url)
    sign_in(driver)
    start_unplanned_run(driver)
    wait(driver, lambda d: wake_line(d) == SAYS["granted"], message="no lock at the start")

    driver.minimize_window()  # the phone locked, or another app in front
    wait(driver, lambda d: d.execute_script("return document.visibilityState;") == "hidden")
    wait(driver, lambda d: wake_line(d) == SAYS["NotAllowedError"], message="the line kept on")
    assert not lock_held(driver)

    driver.maximize_window()  # back to the counter
    wait(driver, lambda d: wake_line(d) == SAYS["granted"], message="the line still says dim")
    assert lock_held(driver)
    tap_laps(driver, 1)

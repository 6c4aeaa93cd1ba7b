"""An admin enrols in two-factor sign-in, then signs in with a code and a recovery code.

The enrolment page is saved at 390x844, light and dark, under shots/twofactor/ (or
R4H_SHOTS_DIR), to look at.
"""

import os
import re
import time
from pathlib import Path

import pyotp
from playwright.sync_api import Page, expect

from .harness import DEMO_PASSWORD

ADMIN_EMAIL = "admin@example.org"  # seed-demo's admin: no second factor yet
REPO = Path(__file__).resolve().parents[2]


def _shots() -> Path:
    folder = Path(os.environ.get("R4H_SHOTS_DIR") or REPO / "shots") / "twofactor"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _password(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()


def _code(page: Page, code: str) -> None:
    expect(page).to_have_url(re.compile(r"/login/code$"))
    page.get_by_role("textbox", name="Code").fill(code)
    page.get_by_test_id("code-submit").click()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def _on_the_dashboard(page: Page) -> None:
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()


def _show_setup(browser, server, scheme: str) -> Page:
    context = browser.new_context(
        base_url=server.url, viewport={"width": 390, "height": 844}, color_scheme=scheme
    )
    page = context.new_page()
    _password(page)
    expect(page).to_have_url(re.compile(r"/login/two-factor/setup$"))
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    page.screenshot(path=str(_shots() / f"enrol-{scheme}.png"), full_page=True)
    return page


def test_admin_enrols_then_signs_in_with_a_code_and_with_a_recovery_code(browser, server):
    _show_setup(browser, server, "dark").context.close()
    page = _show_setup(browser, server, "light")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The refused code's page answers 422 by design; any other console error is a fault.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and "status of 422" not in m.text else None
        ),
    )

    # Enrol: the key shown beside the QR code is what the authenticator app stores.
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_role("textbox", name="Code").fill(totp.now())
    page.get_by_test_id("setup-submit").click()
    codes = page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
    assert len(codes) == 10
    page.screenshot(path=str(_shots() / "recovery-codes-light.png"), full_page=True)
    page.get_by_test_id("recovery-continue").click()
    _on_the_dashboard(page)

    # Sign out, and back in with the app's next code (the enrolment's code is spent).
    _sign_out(page)
    _password(page)
    _code(page, totp.at(time.time() + 30))
    _on_the_dashboard(page)

    # Sign out, and in with a recovery code.
    _sign_out(page)
    _password(page)
    _code(page, codes[0])
    _on_the_dashboard(page)

    # The same recovery code does not work a second time.
    _sign_out(page)
    _password(page)
    _code(page, codes[0])
    expect(page.get_by_text("That code did not work")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login/code$"))
    assert page.get_by_role("link", name="Dashboard").count() == 0
    assert errors == []
    page.context.close()

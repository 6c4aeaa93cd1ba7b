"""The wall of honor in Chromium with JavaScript turned off: from the home page to a search,
by label, as someone on an old phone or a screen reader would use it."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_ruiz, make_runner, make_synced_run

pytestmark = pytest.mark.e2e


def test_search_the_wall_from_the_home_page_without_javascript(browser, server):
    with server.db() as db:
        runner = make_runner(name="Zechariah", starting_mile_count=1293, miles_logged=2)
        make_synced_run(runner, mile_number=1294)  # Officer Julian Becerra, CO
        make_synced_run(
            runner,
            mile_number=1295,
            hero=make_ruiz(),
        )
        db.session.commit()
    context = browser.new_context(
        base_url=server.url, java_script_enabled=False, viewport={"width": 320, "height": 568}
    )
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("link", name="Wall of honor").click()
        expect(page.get_by_role("heading", name="Wall of honor")).to_be_visible()
        expect(page.get_by_test_id("team-miles-why")).to_have_text(
            "Every mile its runners have run: 2,586 before this site kept count, and 2 "
            "recorded here."
        )  # the demo runner's 1,293 and Zechariah's
        search = page.get_by_role("search", name="Find a hero")
        search.get_by_label("Agency").fill("fire")
        search.get_by_label("State").select_option("FL")
        search.get_by_role("button", name="Search").click()
        expect(page).to_have_url(f"{server.url}/honor?name=&agency=fire&state=FL")
        expect(page.get_by_test_id("search-result")).to_contain_text(
            "1 mile for heroes matching agency “fire”, state FL."
        )
        expect(page.get_by_test_id("wall").get_by_role("listitem")).to_have_count(1)
        expect(page.get_by_test_id("wall")).to_contain_text("Firefighter Maria Ruiz")
        page.get_by_role("link", name="Show every mile").click()
        expect(page.get_by_test_id("wall").get_by_role("listitem")).to_have_count(2)
    finally:
        context.close()

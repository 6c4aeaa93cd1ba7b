"""static/js/roster.js in a real Chromium, against the live app and its roster API."""

import json

import pytest

from tests.factories import make_device_token, make_hero, make_run, make_runner

pytestmark = pytest.mark.e2e

MODULE = "/static/js/roster.js"


@pytest.fixture
def database_url(tmp_path):
    """A SQLite file the live server's threads share."""
    return f"sqlite:///{tmp_path / 'e2e.sqlite'}"


@pytest.fixture
def setup(db, live_server):
    """A runner's planned run and the phone's device token."""
    runner = make_runner()
    run = make_run(runner, hero=make_hero(name="Jonathan R. Miller", rank="Deputy"))
    token = make_device_token(runner)
    db.session.commit()
    return {"run": run, "token": token}


@pytest.fixture
def page(browser, live_server, setup):
    """A phone-sized page on the app's origin, so the module and the API are same-origin."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server)
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(f"/c/{setup['run'].checkin_token}")
    yield tab
    assert errors == []
    context.close()


def test_module_is_served_as_javascript(client):
    with client.get(MODULE) as response:
        assert response.status_code == 200
        assert response.mimetype in ("text/javascript", "application/javascript")


def test_merge_roster_has_no_duplicates_and_marks_pending(page):
    merged = page.evaluate(
        """async () => {
            const { mergeRoster } = await import('/static/js/roster.js');
            const server = [
              {id: 'b', name: 'Synced escort', checked_in_at: '2026-03-14T11:20:00Z'},
              {id: 'a', name: 'QR officer', checked_in_at: '2026-03-14T11:10:00Z'},
            ];
            const phone = [
              {id: 'b', name: 'Synced escort (phone copy)', checked_in_at: '2026-03-14T11:20:00Z'},
              {id: 'c', name: 'Added offline', checked_in_at: '2026-03-14T11:25:00Z'},
            ];
            return mergeRoster(server, phone);
        }"""
    )
    assert [(c["id"], c["name"], c["pending"]) for c in merged] == [
        ("a", "QR officer", False),
        ("b", "Synced escort", False),
        ("c", "Added offline", True),
    ]


def test_render_roster_keeps_names_as_text(page):
    result = page.evaluate(
        """async () => {
            const { renderRoster } = await import('/static/js/roster.js');
            const list = document.createElement('ul');
            const count = renderRoster(list, [
              {id: '1', name: '<img src=x onerror=alert(1)>', role: 'escort', agency: 'SCSO',
               badge: '12', pending: true},
            ]);
            return {count, images: list.querySelectorAll('img').length, text: list.textContent,
                    testid: list.firstElementChild.dataset.testid};
        }"""
    )
    assert result["count"] == 1 and result["images"] == 0
    assert "<img src=x onerror=alert(1)>" in result["text"]
    assert "Escort · SCSO · 12" in result["text"] and "Not synced yet" in result["text"]
    assert result["testid"] == "roster-entry"


def test_poll_roster_sees_a_qr_checkin_and_stops_on_abort(page, app, setup):
    page.evaluate(
        """async ({runId, token}) => {
            const { pollRoster } = await import('/static/js/roster.js');
            window.rosterUpdates = [];
            window.rosterStop = new AbortController();
            window.rosterDone = pollRoster({
              runId, token, intervalMs: 150, signal: window.rosterStop.signal,
              onUpdate: (checkins) => window.rosterUpdates.push(checkins.map((c) => c.name)),
            }).then(() => 'stopped');
        }""",
        {"runId": setup["run"].id, "token": setup["token"]},
    )
    page.wait_for_function("() => window.rosterUpdates.length === 1")
    officer = app.test_client()
    response = officer.post(f"/c/{setup['run'].checkin_token}", data={"name": "Sgt. Lopez"})
    assert response.status_code == 200
    page.wait_for_function("() => window.rosterUpdates.length === 2")
    for _ in range(3):  # three more polls, each answered 304 unchanged: no new update
        page.wait_for_event("response", lambda r: r.status == 304 and "/checkins" in r.url)
    updates = page.evaluate("window.rosterUpdates")
    assert updates == [[], ["Sgt. Lopez"]]
    assert page.evaluate("window.rosterStop.abort(); window.rosterDone") == "stopped"


def test_poll_roster_waits_while_offline_and_polls_once_back_online(page, setup):
    asked = []
    page.on("request", lambda request: "/checkins" in request.url and asked.append(request.url))
    page.evaluate("async () => { window.roster = await import('/static/js/roster.js'); }")
    page.context.set_offline(True)
    page.evaluate(
        """({runId, token}) => {
            window.rosterUpdates = [];
            // An hour between polls: only the browser coming back online can wake it.
            window.roster.pollRoster({
              runId, token, intervalMs: 3600000, onUpdate: (c) => window.rosterUpdates.push(c),
            });
        }""",
        {"runId": setup["run"].id, "token": setup["token"]},
    )
    assert asked == []
    page.context.set_offline(False)
    page.wait_for_function("() => window.rosterUpdates.length === 1")
    assert len(asked) == 1


@pytest.mark.parametrize(("kind", "status"), [("bad-token", 401), ("other-run", 404)])
def test_poll_roster_reports_401_and_404_and_stops(page, db, setup, kind, status):
    run_id, token = setup["run"].id, setup["token"]
    if kind == "bad-token":
        token = "not-a-token"
    else:
        run_id = make_run(make_runner()).id
        db.session.commit()
    result = page.evaluate(
        """async ({runId, token}) => {
            const { pollRoster } = await import('/static/js/roster.js');
            const errors = [];
            await pollRoster({runId, token, intervalMs: 50, onUpdate: () => {},
                              onError: (e) => errors.push([e.status, e.code, e.message])});
            return errors;
        }""",
        {"runId": run_id, "token": token},
    )
    assert len(result) == 1
    assert result[0][0] == status
    assert result[0][2]
    assert json.dumps(result)  # plain data came back

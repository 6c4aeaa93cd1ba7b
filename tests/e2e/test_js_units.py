"""Unit tests of the pure JS modules (lap logic, backoff, results, formats), run in Chromium.

No server: Playwright answers the page's requests straight from static/, and /app/ with the
app shell's template (it is static HTML).
"""

import mimetypes
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .steps import finish

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"
APP_SHELL = ROOT / "templates" / "app" / "index.html"
ORIGIN = "http://localhost:9"  # a secure context, as the app needs
TRACK = {"id": 2, "name": "School", "laps_per_mile": 7, "min_lap_ms": 40_000}
HERO = {"id": 5, "name": "Jordan Avery", "rank": "Officer", "kind": "police"}


def serve(route):
    """Static files from static/, /app/ from its template, a blank page for anything else."""
    path = route.request.url.removeprefix(ORIGIN)
    if path.startswith("/static/"):
        file = STATIC / path.removeprefix("/static/")
        kind = mimetypes.guess_type(file.name)[0] or "text/plain"
        route.fulfill(body=file.read_bytes(), content_type=kind)
    elif path == "/app/":
        route.fulfill(body=APP_SHELL.read_bytes(), content_type="text/html")
    elif path.startswith("/api/") or path == "/sw.js":
        route.fulfill(status=404, body="{}", content_type="application/json")
    else:
        route.fulfill(body="<!doctype html><title>units</title>", content_type="text/html")


@pytest.fixture(scope="module")
def js(browser):
    """call(module, expression) evaluates an expression with the module imported as m."""
    context = browser.new_context()
    page = context.new_page()
    page.route(f"{ORIGIN}/**", serve)
    page.goto(f"{ORIGIN}/units")

    def call(module: str, expression: str, arg=None):
        script = f"async (arg) => {{ const m = await import('/static/js/{module}'); {expression} }}"
        return page.evaluate(script, arg)

    yield call
    context.close()


def new_run(js, laps=(), wall=1_000_000, ceremony=None):
    run = js(
        "counter.js",
        "return m.startRun({id: null, hero: arg.hero, track: arg.track, ceremony: arg.ceremony},"
        " 7, arg.wall);",
        {"hero": HERO, "track": TRACK, "wall": wall, "ceremony": ceremony},
    )
    run["laps"] = [{"seq": n, "elapsed_ms": ms} for n, ms in enumerate(laps, start=1)]
    return run


def tap(js, run, elapsed_ms, wall_ms=0):
    return js("counter.js", "return m.recordTap(arg.run, arg.at, arg.wall);", {
        "run": run, "at": elapsed_ms, "wall": wall_ms,
    })  # fmt: skip


def test_a_new_run_is_counting_with_a_fresh_uuid_and_no_laps(js):
    run = new_run(js)
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", run["id"]
    )
    assert (run["status"], run["planned"], run["laps"], run["runner_id"]) == (
        "counting",
        False,
        [],
        7,
    )
    assert run["started_at"] == "1970-01-01T00:16:40.000Z"
    assert run["clock"] == {"elapsed_ms": 0, "wall_ms": 1_000_000}


@pytest.mark.parametrize(
    ("laps", "elapsed", "counted"),
    [
        ((), 39_999, False),  # lap 1 counts from "Begin laps"
        ((), 40_000, True),
        ((60_000,), 99_999, False),
        ((60_000,), 100_000, True),
    ],
)
def test_the_guard_counts_from_the_last_counted_lap(js, laps, elapsed, counted):
    outcome = tap(js, new_run(js, laps), elapsed)
    assert outcome["counted"] is counted
    stored = outcome["run"]
    assert len(stored["laps"]) == len(laps) + counted
    assert stored["log"][-1]["type"] == ("lap" if counted else "ignored")
    assert stored["log"][-1]["elapsed_ms"] == elapsed


def test_a_run_holds_at_most_200_laps(js):
    run = new_run(js, [60_000 * n for n in range(1, 201)])
    outcome = tap(js, run, 60_000 * 202)
    assert (outcome["counted"], outcome["reason"]) == (False, "full")


def test_a_tap_past_the_mile_counts_only_after_keep_counting(js):
    run = new_run(js, [60_000 * n for n in range(1, 8)])
    refused = tap(js, run, 480_000)
    assert (refused["counted"], refused["reason"]) == (False, "mile_done")
    assert len(refused["run"]["laps"]) == 7
    assert js("counter.js", "return m.keepCounting(arg, 1);", new_run(js, [60_000])) == {
        "run": None
    }  # short of the mile: nothing to keep counting past
    more = js("counter.js", "return m.keepCounting(arg, 9);", refused["run"])["run"]
    assert more["miles"] == 2
    assert more["log"][-1] == {"type": "keep_counting", "miles": 2, "wall_ms": 9}
    counted = tap(js, more, 480_000)
    assert counted["counted"] is True and len(counted["run"]["laps"]) == 8


def test_a_finished_run_takes_no_more_taps(js):
    run = new_run(js) | {"status": "outbox"}
    assert tap(js, run, 100_000) == {"run": None, "counted": False, "reason": "closed"}


def test_undo_removes_the_last_lap_and_logs_it(js):
    outcome = js("counter.js", "return m.undoLap(arg, 130000, 5);", new_run(js, [60_000, 120_000]))
    assert outcome["run"]["laps"] == [{"seq": 1, "elapsed_ms": 60_000}]
    assert outcome["removed"] == {"seq": 2, "elapsed_ms": 120_000}
    assert outcome["run"]["log"][-1] == {
        "type": "undo", "seq": 2, "elapsed_ms": 120_000, "at_ms": 130_000, "wall_ms": 5,
    }  # fmt: skip
    assert js("counter.js", "return m.undoLap(arg, 1, 1);", new_run(js)) == {"run": None}


@pytest.mark.parametrize(
    ("clock", "laps", "now", "expected"),
    [
        ({"elapsed_ms": 90_000, "wall_ms": 1_000}, (), 31_000, 120_000),
        ({"elapsed_ms": 90_000, "wall_ms": 1_000}, (), 500, 90_000),  # wall clock set back
        ({"elapsed_ms": 90_000, "wall_ms": 1_000}, (95_000,), 1_000, 95_000),
    ],
)
def test_resume_adds_wall_time_since_the_checkpoint_never_going_back(
    js, clock, laps, now, expected
):
    run = new_run(js, laps) | {"clock": clock}
    assert (
        js("counter.js", "return m.resumeElapsed(arg.run, arg.now);", {"run": run, "now": now})
        == expected
    )


def test_stats_give_split_current_lap_and_projection(js):
    run = new_run(js, [60_000, 120_000])
    stats = js("counter.js", "return m.runStats(arg, 150000);", run)
    assert stats == {
        "count": 2, "perMile": 7, "target": 7, "currentLap": 3, "currentLapMs": 30_000,
        "lastSplitMs": 60_000, "projectedMs": 420_000, "mileMs": None, "mileComplete": False,
    }  # fmt: skip
    slow = js("counter.js", "return m.runStats(arg, 200000);", run)
    assert slow["projectedMs"] == 120_000 + 80_000 + 60_000 * 4  # a slow lap counts as it stands


def test_stats_mark_the_mile_complete_at_laps_per_mile(js):
    run = new_run(js, [60_000 * n for n in range(1, 9)])
    stats = js("counter.js", "return m.runStats(arg, 500000);", run)
    assert (stats["mileComplete"], stats["mileMs"], stats["projectedMs"]) == (
        True,
        420_000,
        420_000,
    )


def test_finish_dates_the_run_by_its_monotonic_elapsed_time_and_builds_the_payload(js):
    run = new_run(js, [60_000], wall=1_000_000)
    run["checkins"] = [{
        "id": "c1", "name": "Sgt. Reyes", "agency": "Sheriff", "badge": "12",
        "role": "escort", "public": True, "checked_in_at": "2025-01-01T00:00:00Z",
    }]  # fmt: skip
    finished = js("counter.js", "return m.finishRun(arg, 65000.4);", run)["run"]
    assert finished["status"] == "outbox"
    assert finished["finished_at"] == "1970-01-01T00:17:45.000Z"  # started_at + 65 s
    assert finished["payload"] == {
        "id": run["id"],
        "hero_id": 5,
        "track_id": 2,
        "started_at": run["started_at"],
        "finished_at": finished["finished_at"],
        "laps": [{"seq": 1, "elapsed_ms": 60_000}],
        "checkins": [
            {
                "id": "c1",
                "name": "Sgt. Reyes",
                "agency": "Sheriff",
                "badge": "12",
                "role": "escort",
                "public": True,
            }
        ],  # fmt: skip
        "words": "",
        "video_url": "",
        # A step not tapped is sent as skipped.
        "ceremony": {
            "prayer_before": False,
            "silence_seconds": 0,
            "flag_carried": False,
            "prayer_after": False,
        },
    }


def test_a_run_stored_by_an_older_app_is_sent_without_a_ceremony(js):
    run = new_run(js, [60_000])
    del run["ceremony"]  # as IndexedDB holds a run counted before the ceremony was recorded
    finished = js("counter.js", "return m.finishRun(arg, 65000);", run)["run"]
    assert "ceremony" not in finished["payload"]


def test_the_ceremony_tapped_before_the_run_starts_with_it(js):
    ceremony = {"prayer_before": True, "silence_seconds": 42, "flag_carried": True}
    run = new_run(js, [], ceremony=ceremony)
    assert run["ceremony"] == {**ceremony, "prayer_after": False}


def test_an_escort_added_after_finishing_goes_into_the_payload(js):
    finished = js("counter.js", "return m.finishRun(arg, 1000);", new_run(js, [60_000]))["run"]
    escort = {"name": "Ofc. Lee", "agency": "", "badge": "", "role": "runner", "public": False}
    outcome = js(
        "counter.js", "return m.addCheckin(arg.run, arg.c, 0);", {"run": finished, "c": escort}
    )
    [checkin] = outcome["run"]["payload"]["checkins"]
    assert checkin["name"] == "Ofc. Lee" and checkin["id"] == outcome["checkin"]["id"]
    synced = finished | {"status": "synced"}
    assert js(
        "counter.js", "return m.addCheckin(arg.run, arg.c, 0);", {"run": synced, "c": escort}
    ) == {"run": None}


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0:00.0"),
        (59_999, "0:59.9"),  # floored to the tenth, never rounded up to a minute
        (61_000, "1:01.0"),
        (88_999, "1:28.9"),
        (3_599_999, "59:59.9"),
        (3_723_456, "1:02:03.4"),  # H:MM:SS.t from an hour
        (None, "–"),
    ],
)
def test_durations_are_floored_to_the_tenth(js, ms, text):
    assert js("format.js", "return m.formatDuration(arg);", ms) == text


@pytest.mark.parametrize(("ms", "text"), [(59_999, "0:59"), (3_723_456, "1:02:03")])
def test_a_ticking_clock_reads_the_same_without_the_tenths(js, ms, text):
    assert js("format.js", "return m.formatDuration(arg, { tenths: false });", ms) == text


@pytest.mark.parametrize(
    ("number", "text"), [(7, "#7"), (1294, "#1,294"), (1_000_000, "#1,000,000")]
)
def test_mile_numbers_have_a_thousands_separator(js, number, text):
    assert js("format.js", "return m.formatMile(arg);", number) == text


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 2_500, 5_000), (2, 5_000, 10_000), (4, 20_000, 40_000), (30, 300_000, 600_000)],
)
def test_backoff_doubles_with_jitter_up_to_ten_minutes(js, attempt, low, high):
    lowest = js("outbox.js", "return m.backoffDelay(arg, () => 0);", attempt)
    highest = js("outbox.js", "return m.backoffDelay(arg, () => 1);", attempt)
    assert (lowest, highest) == (low, high)
    jittered = js("outbox.js", "return [1,2,3,4,5,6,7,8].map(() => m.backoffDelay(arg));", attempt)
    assert all(low <= d <= high for d in jittered) and len(set(jittered)) > 1


@pytest.mark.parametrize(
    ("status", "local"),
    [
        ("created", "synced"),
        ("duplicate", "synced"),
        ("conflict", "parked"),
        ("rejected", "parked"),
    ],
)
def test_only_created_or_duplicate_takes_a_run_out_of_the_outbox(js, status, local):
    run = new_run(js) | {"status": "outbox"}
    result = {"id": run["id"], "status": status, "mile_number": 9, "errors": {"id": "why"}}
    applied = js("shared.js", "return self.r4hOutbox.applyResult(arg.run, arg.result, 'now');", {
        "run": run, "result": result,
    })  # fmt: skip
    assert applied["status"] == local
    assert applied["result"] == {"status": status, "errors": {"id": "why"}, "at": "now"}
    assert applied["laps"] == run["laps"] and applied["id"] == run["id"]


@pytest.mark.parametrize(
    ("finished", "age"),
    [
        (["2025-03-01T14:00:00Z", "2025-03-01T13:58:19.600Z"], 101),  # the oldest, whole seconds
        (["2025-03-01T14:00:05Z"], 0),  # a phone clock behind the run's: never negative
        (["2023-01-01T00:00:00Z"], 366 * 86400),  # within the server's bound, so the sync goes
        ([None], None),  # no finished run: the field is left out
        ([], None),
    ],
)
def test_the_outbox_age_is_the_oldest_waiting_run_in_whole_seconds(js, finished, age):
    runs = [{"finished_at": at} for at in finished]
    now = "Date.parse('2025-03-01T14:00:01Z')"
    told = js("shared.js", f"return self.r4hOutbox.outboxAgeSeconds(arg, {now}) ?? null;", runs)
    assert told == age


@pytest.fixture
def phone(browser):
    """A fresh phone-sized page on the units origin, failing the test on any script error."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route(f"{ORIGIN}/**", serve)
    page.goto(f"{ORIGIN}/units")
    yield page
    context.close()
    assert errors == []


def test_the_phone_shows_a_lap_of_88999_ms_as_1_28_9_on_the_counter_and_done_screen(js, phone):
    # Six laps of a minute, then one of 88,999 ms: the mile is complete at 7:28.9.
    laps = [60_000 * n for n in range(1, 7)] + [360_000 + 88_999]
    run = new_run(js, laps) | {"clock": {"elapsed_ms": laps[-1], "wall_ms": 0}}
    phone.evaluate(
        "async (run) => { const db = await import('/static/js/db.js');"
        " run.clock.wall_ms = Date.now(); await db.putRun(run); }",
        run,
    )
    phone.goto(f"{ORIGIN}/app/")  # a counting run on disk: straight back to the counter

    expect(phone.locator("#last-split")).to_have_text("1:28.9")
    expect(phone.locator("#mile-banner")).to_have_text("Mile complete · 7:28.9")
    expect(phone.locator("#projected")).to_have_text("7:28.9")
    finish(phone)
    expect(phone.locator("#done-laps")).to_have_text("7 / 7 laps · mile in 7:28.9")


# The laps store (IndexedDB version 2): each tap of a counting run is one small record of its
# own, keyed [run id, n]; the run record is rewritten only when the run is folded back into it.
RAW_STORES = """async () => {
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
  const stores = { version: db.version, runs: await read("runs"), laps: await read("laps") };
  db.close();
  return stores;
}"""

# A phone that ran version 1 of the app: its database, with a run counting in the old shape
# (every lap and the log in the run record), made the way version 1's db.js made it.
VERSION_1_PHONE = """async (run) => {
  const open = indexedDB.open("r4h", 1);
  open.onupgradeneeded = () => {
    open.result.createObjectStore("kv");
    open.result.createObjectStore("runs", { keyPath: "id" }).createIndex("status", "status");
  };
  const db = await new Promise((resolve, reject) => {
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  run.clock.wall_ms = Date.now() - 120000; // two minutes since lap 2: the next tap counts
  const tx = db.transaction("runs", "readwrite");
  tx.objectStore("runs").put(run);
  await new Promise((resolve) => (tx.oncomplete = resolve));
  db.close();
}"""


def counting_on_disk(phone, run) -> dict:
    """Store run with db.js and read it back as the app does."""
    return phone.evaluate(
        "async (run) => { const db = await import('/static/js/db.js');"
        " await db.putRun(run); return db.getRun(run.id); }",
        run,
    )


def append(phone, known, script: str):
    """db.appendToRun(known, (run) => script) in the page; returns the outcome."""
    return phone.evaluate(
        "async ([known]) => { const db = await import('/static/js/db.js');"
        " const counter = await import('/static/js/counter.js');"
        f" return db.appendToRun(known, (run) => {script}); }}",
        [known],
    )


def test_a_run_counting_when_the_app_updates_keeps_every_lap_and_counts_on(js, phone):
    laps = [60_000, 120_000]
    run = new_run(js, laps) | {"clock": {"elapsed_ms": 120_000, "wall_ms": 0}}
    run["log"] = [{"type": "lap", "seq": n, "elapsed_ms": ms, "wall_ms": 0} for n, ms in
                  enumerate(laps, start=1)]  # fmt: skip
    phone.evaluate(VERSION_1_PHONE, run)

    phone.goto(f"{ORIGIN}/app/")  # the new version opens the database: it upgrades it
    expect(phone.get_by_test_id("lap-count")).to_have_text("2")
    phone.get_by_test_id("lap-button").click()
    expect(phone.get_by_test_id("lap-count")).to_have_text("3")

    stores = phone.evaluate(RAW_STORES)
    assert stores["version"] == 2
    [record] = stores["runs"]
    assert [lap["elapsed_ms"] for lap in record["laps"]] == laps  # untouched by the tap
    [tap] = stores["laps"]
    assert (tap["run_id"], tap["n"], tap["type"], tap["seq"]) == (run["id"], 1, "lap", 3)
    assert tap["elapsed_ms"] >= 180_000

    phone.reload()  # what the screen said is what is on disk
    expect(phone.get_by_test_id("lap-count")).to_have_text("3")
    finish(phone)
    expect(phone.locator("#done-laps")).to_contain_text("3 / 7 laps")
    stores = phone.evaluate(RAW_STORES)
    [finished] = stores["runs"]
    assert stores["laps"] == []  # folded into the finished run
    assert [lap["seq"] for lap in finished["payload"]["laps"]] == [1, 2, 3]
    assert [entry["type"] for entry in finished["log"]] == ["lap", "lap", "lap"]
    assert "n" not in finished


def test_a_tap_appends_one_small_record_and_leaves_the_run_record_as_it_was(js, phone):
    run = counting_on_disk(phone, new_run(js))
    outcome = append(phone, run, "counter.recordTap(run, 41000, 7)")
    assert outcome["counted"] is True and outcome["run"]["n"] == 1
    stores = phone.evaluate(RAW_STORES)
    assert stores["runs"][0]["laps"] == [] and stores["runs"][0]["log"] == []
    assert stores["laps"] == [{
        "run_id": run["id"], "n": 1, "type": "lap", "seq": 1, "elapsed_ms": 41_000, "wall_ms": 7,
    }]  # fmt: skip


def test_two_quick_taps_on_the_same_old_view_count_once(js, phone):
    run = counting_on_disk(phone, new_run(js))
    once = append(phone, run, "counter.recordTap(run, 41000, 1)")
    # The second tap's page has not read the first back yet: it decides on what is on disk.
    again = append(phone, run, "counter.recordTap(run, 41500, 2)")
    assert (once["counted"], again["counted"], again["reason"]) == (True, False, "too_soon")
    after = phone.evaluate("async (id) => (await import('/static/js/db.js')).getRun(id)", run["id"])
    assert [lap["seq"] for lap in after["laps"]] == [1]
    assert [entry["type"] for entry in after["log"]] == ["lap", "ignored"]
    assert after["n"] == 2


def test_a_tap_on_a_view_older_than_the_finish_writes_nothing(js, phone):
    run = counting_on_disk(phone, new_run(js))
    run = append(phone, run, "counter.recordTap(run, 41000, 1)")["run"]
    phone.evaluate(
        "async (id) => { const db = await import('/static/js/db.js');"
        " const counter = await import('/static/js/counter.js');"
        " await db.updateRun(id, (run) => counter.finishRun(run, 50000)); }",
        run["id"],
    )
    # The page still holds the counting run: its tap would be n 2, a key free on disk.
    late = append(phone, run, "counter.recordTap(run, 82000, 2)")
    assert (late["counted"], late["reason"]) == (False, "closed")
    stores = phone.evaluate(RAW_STORES)
    assert stores["laps"] == []
    assert [lap["seq"] for lap in stores["runs"][0]["laps"]] == [1]


def test_undo_is_a_record_of_its_own_and_a_fold_empties_the_laps_store(js, phone):
    run = counting_on_disk(phone, new_run(js))
    run = append(phone, run, "counter.recordTap(run, 41000, 1)")["run"]
    run = append(phone, run, "counter.recordTap(run, 82000, 2)")["run"]
    undone = append(phone, run, "counter.undoLap(run, 83000, 3)")
    assert undone["removed"] == {"seq": 2, "elapsed_ms": 82_000}
    types = [tap["type"] for tap in phone.evaluate(RAW_STORES)["laps"]]
    assert types == ["lap", "lap", "undo"]

    folded = phone.evaluate(
        "async (id) => { const db = await import('/static/js/db.js');"
        " const counter = await import('/static/js/counter.js');"
        " await db.updateRun(id, (run) => counter.checkpoint(run, 90000, 4));"
        " return db.getRun(id); }",
        run["id"],
    )
    stores = phone.evaluate(RAW_STORES)
    assert stores["laps"] == []
    assert [lap["seq"] for lap in stores["runs"][0]["laps"]] == [1]
    assert (folded["n"], folded["clock"]["elapsed_ms"]) == (4, 90_000)
    # Numbering goes on from the fold: a page holding the view before it reads the disk.
    later = append(phone, undone["run"], "counter.recordTap(run, 131000, 5)")
    assert (later["counted"], later["run"]["n"], later["run"]["laps"][-1]["seq"]) == (True, 5, 2)
    assert [tap["n"] for tap in phone.evaluate(RAW_STORES)["laps"]] == [5]


def test_a_checkpoint_is_a_small_record_that_moves_the_clock_and_stays_out_of_the_log(js, phone):
    run = counting_on_disk(phone, new_run(js))
    run = append(phone, run, "counter.recordTap(run, 41000, 1)")["run"]
    outcome = append(phone, run, "counter.checkpoint(run, 50000.4, 9)")
    assert outcome["entry"] == {"type": "clock", "elapsed_ms": 50_000, "wall_ms": 9}
    stored = phone.evaluate(
        "async (id) => (await import('/static/js/db.js')).getRun(id)", run["id"]
    )
    assert stored["clock"] == {"elapsed_ms": 50_000, "wall_ms": 9}
    assert [entry["type"] for entry in stored["log"]] == ["lap"]
    assert (stored["n"], [lap["seq"] for lap in stored["laps"]]) == (2, [1])


# The page's transactions report their commit late: a write waits for it, a read need not.
LATE_COMMITS = """async (lateMs) => {
  const db = await import('/static/js/db.js');
  await db.setValue("probe", 1);
  const real = Object.getOwnPropertyDescriptor(IDBTransaction.prototype, "oncomplete");
  Object.defineProperty(IDBTransaction.prototype, "oncomplete", {
    configurable: true,
    get() { return real.get.call(this); },
    set(handler) { real.set.call(this, (event) => setTimeout(() => handler(event), lateMs)); },
  });
  try {
    let start = performance.now();
    const value = await db.getValue("probe");
    const read = performance.now() - start;
    start = performance.now();
    await db.setValue("probe", 2);
    return { value, read, write: performance.now() - start, after: await db.getValue("probe") };
  } finally {
    Object.defineProperty(IDBTransaction.prototype, "oncomplete", real);
  }
}"""


def test_a_read_answers_with_its_values_without_waiting_for_its_commit(phone):
    # On a cold start the first read's complete event waits behind the first layout and paint.
    timings = phone.evaluate(LATE_COMMITS, 1500)
    assert (timings["value"], timings["after"]) == (1, 2)
    assert timings["read"] < 1000
    assert timings["write"] >= 1500  # done still means on disk

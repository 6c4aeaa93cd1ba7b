"""Run every benchmark, one after the other, and write one report: tests/bench/README.md.

    .venv/bin/python tests/bench/run_all.py [--quick] [--skip NAME ...] [--report-only]

Each script in tests/bench/ runs as its own subprocess with a time limit, so one that is
missing, fails or hangs is named in the report instead of stopping the others. Their JSON
(tests/bench/out/, gitignored) is read back and the report gives the newest figures with the
goal beside each and whether it is met. A figure whose JSON was not rewritten by this run is
marked as older, with its date.

--quick shortens every benchmark (fewer taps, rounds and seconds) to check the harness; its
figures are noisier. --skip NAME leaves a benchmark out of this run (its older JSON, if any,
is still reported, marked as such). --report-only runs nothing and rewrites the report from
the JSON on disk and the statuses of the newest run (out/run_all.json). The PostgreSQL
benchmarks EMPTY the tables of BENCH_DATABASE_URL; when it is unset, each script uses its own
default database (see its docstring).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "tests" / "bench"
OUT = BENCH / "out"
README = BENCH / "README.md"
RUN_STATE = OUT / "run_all.json"  # the statuses of the newest run, for --report-only
PYTHON = str(ROOT / ".venv" / "bin" / "python")
NOISE = (
    "This machine has 2 shared CPU cores; other work runs on it at the same time, so "
    "every figure moves from run to run."
)


@dataclass
class Bench:
    """One benchmark script: how to run it, full and quick, and the JSON it writes."""

    name: str
    module: bool  # run as `python -m tests.bench.<name>` (it imports tests.e2e.harness)
    full: list[str]
    quick: list[str]
    outputs: list[str]
    timeout: int
    status: str = "not run"
    seconds: float = 0.0
    tail: str = ""
    ended: str = ""
    fresh: dict[str, bool] = field(default_factory=dict)

    def command(self, quick: bool) -> list[str]:
        """The command line of this benchmark."""
        script = [str(BENCH / f"{self.name}.py")]
        start = ["-m", f"tests.bench.{self.name}"] if self.module else script
        return [PYTHON, *start, *(self.quick if quick else self.full)]


BENCHES = [
    Bench("bench_tap", True, ["300", "3"], ["40", "3"], ["tap_to_durable.json"], 3000),
    Bench("bench_offline_start", True, ["15"], ["4"], ["offline_start.json"], 600),
    Bench("bench_weight", True, [], [], ["weight.json"], 300),
    Bench("bench_sync_ingest", False, [], ["--seconds", "2"], ["bench_sync_ingest.json"], 600),
    Bench("bench_checkin", False, [], ["--rounds", "1"], ["bench_checkin.json"], 600),
    Bench(
        "bench_labels", False, [], ["--repeat", "20", "--batch", "20"], ["bench_labels.json"], 600
    ),
    Bench(
        "bench_family", False, [], ["--seconds", "2", "--rounds", "1"], ["bench_family.json"], 600
    ),
    Bench("bench_soak", False, [], ["--seconds", "10"], ["soak.json"], 900),
    Bench(
        "bench_cluster",
        True,
        [],
        ["--seconds", "2", "--rounds", "1", "--soak-seconds", "5"],
        ["bench_cluster.json"],
        600,
    ),
    Bench("bench_lighthouse", False, ["--runs", "1"], ["--runs", "1"], ["lighthouse.json"], 1500),
]


def run(bench: Bench, quick: bool) -> None:
    """Run one benchmark; record its status, its time and the tail of its output."""
    script = BENCH / f"{bench.name}.py"
    if not script.exists():
        bench.status = "missing"
        return
    started = time.time()
    print(f"== {bench.name} {' '.join(bench.command(quick)[2:])}", flush=True)
    try:
        done = subprocess.run(
            bench.command(quick), cwd=ROOT, capture_output=True, text=True, timeout=bench.timeout
        )
        output = done.stdout + done.stderr
        bench.status = "ok" if done.returncode == 0 else f"exit {done.returncode}"
    except subprocess.TimeoutExpired as exc:
        output = (
            (exc.stdout or b"").decode(errors="replace")
            if isinstance(exc.stdout, bytes)
            else (exc.stdout or "")
        )
        bench.status = f"timed out after {bench.timeout} s"
    bench.seconds = time.time() - started
    bench.ended = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    bench.tail = "\n".join(output.strip().splitlines()[-25:])
    print(bench.tail, flush=True)
    print(f"-- {bench.name}: {bench.status} in {bench.seconds:.0f} s", flush=True)
    for name in bench.outputs:
        path = OUT / name
        bench.fresh[name] = path.exists() and path.stat().st_mtime >= started


def load(name: str) -> tuple[dict | None, str]:
    """The JSON of one output file and its date, or None."""
    path = OUT / name
    if not path.exists():
        return None, ""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None, ""
    when = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return data, when


def yes(ok: bool | None, goal: str) -> str:
    """The met column: empty for a figure given only as context."""
    if ok is None:
        return "no numeric goal" if goal else ""
    return "met" if ok else "**not met**"


def table(rows: list[tuple]) -> list[str]:
    """A Markdown table of (measure, figure, goal, met) rows."""
    lines = ["| Measure | Figure | Goal | Met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {yes(d, c)} |" for a, b, c, d in rows]
    return lines


def tap(data: dict) -> tuple[list[tuple], list[str]]:
    app, floor, ratio = data["app"], data["floor"], data["ratio"]
    goal = data.get("goal_p99_ratio", 1.25)
    runs = len(data.get("runs", [])) or 1
    p50_goal = data.get("goal_ratio")  # older files set a goal at p99 only
    rows = [
        (
            f"App, {app['taps']} taps ({runs} runs): p50 / p99",
            f"{app['p50_ms']} / {app['p99_ms']} ms",
            "",
            None,
        ),
        (
            "Floor (bare page, one strict put): p50 / p99",
            f"{floor['p50_ms']} / {floor['p99_ms']} ms",
            "",
            None,
        ),
        (
            f"p50 ratio app / floor (median of {runs} runs)",
            f"{ratio['p50_ms']}x",
            f"<= {p50_goal}x" if p50_goal else "",
            ratio["p50_ms"] <= p50_goal if p50_goal else None,
        ),
        (
            f"p99 ratio app / floor (median of {runs} runs)",
            f"{ratio['p99_ms']}x",
            f"<= {goal}x",
            ratio["p99_ms"] <= goal,
        ),
    ]
    notes = (
        []
        if not p50_goal or ratio["p50_ms"] <= p50_goal
        else [f"Tap to durable p50 is {ratio['p50_ms']}x the floor (goal {p50_goal}x). {NOISE}"]
    )
    notes += (
        []
        if ratio["p99_ms"] <= goal
        else [
            f"Tap to durable p99 is {ratio['p99_ms']}x the floor (goal {goal}x). Both pages share "
            "one headless Chromium and the same disk; the app does more work per tap (the lap "
            "check, the counter's repaint). " + NOISE
        ]
    )
    return rows, notes


def offline(data: dict) -> tuple[list[tuple], list[str]]:
    ratio, goal = data["ratio"], data.get("goal_ratio", 1.5)
    rows = [
        (
            f"/app/ to lap button usable, median of {data['rounds']}",
            f"{data['app_median_ms']} ms",
            "",
            None,
        ),
        (
            "Blank page from the same service worker, median",
            f"{data['blank_median_ms']} ms",
            "",
            None,
        ),
        ("Ratio /app/ / blank", f"{ratio}x", f"<= {goal}x", ratio <= goal),
    ]
    drawn, floor = data.get("drawn_median_ms"), data.get("blank_db_median_ms")
    if drawn:
        rows.append(("/app/ counter drawn from its copy, lap button off", f"{drawn} ms", "", None))
    if floor:
        rows += [
            ("Blank page that opens IndexedDB and reads the run", f"{floor} ms", "", None),
            ("Ratio /app/ / that page", f"{data['ratio_to_blank_db']}x", "", None),
        ]
    notes = (
        []
        if ratio <= goal
        else [
            f"Offline start is {ratio}x the blank page (goal {goal}x). The blank page is one "
            "tiny HTML response; /app/ must also run its modules, open IndexedDB and read the "
            "stored run before the lap button is usable, and a cold Chromium start on this box "
            "varies by tens of milliseconds between rounds (see raw_ms in offline_start.json). "
            + NOISE
        ]
    )
    return rows, notes


def weight(data: dict) -> tuple[list[tuple], list[str]]:
    app, goal = data["app_bytes"], data["goal_bytes"]
    rows = [
        (
            "/app/ first visit, uncompressed, icons excluded",
            f"{app:,} bytes ({app / 1024:.1f} KB)",
            f"<= {goal:,} bytes (60 KB)",
            app <= goal,
        ),
        ("Icons (excluded)", f"{data['icons_bytes']:,} bytes", "", None),
        *(
            [("The same files, gzip -9", f"{data.get('app_bytes_gzip', 0):,} bytes", "", None)]
            if "app_bytes_gzip" in data
            else []
        ),
        (
            "Data after sign-in (bootstrap, not the app)",
            f"{data['api_bytes_after_sign_in']:,} bytes",
            "",
            None,
        ),
    ]
    notes = [] if app <= goal else [f"/app/ weighs {app:,} bytes, over the 60 KB goal."]
    return rows, notes


SYNC_GOAL = 0.35  # issue 13: sync ingests >= 0.35x the requests/s of /healthz


def sync(data: dict) -> tuple[list[tuple], list[str]]:
    rows, notes = [], []
    for result in data["results"]:
        db = result["database"]
        s, h, stored = result["sync"], result["healthz"], result["stored"]
        rows += [
            (
                f"{db}: runs/s into /api/v1/sync ({data['clients']} clients, "
                f"{int(data['repeat_share'] * 100)}% repeats)",
                f"{s['runs_per_second']} (p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms)",
                "reported beside /healthz",
                None,
            ),
            (f"{db}: /healthz requests/s", f"{h['per_second']}", "", None),
            (
                f"{db}: ratio sync / healthz",
                f"{result['ratio_sync_to_healthz']}",
                f">= {SYNC_GOAL} (issue 13)",
                result["ratio_sync_to_healthz"] >= SYNC_GOAL,
            ),
            (
                f"{db}: every distinct run stored once, miles gapless",
                f"{stored['runs_stored']} of {stored['runs_expected']}, "
                f"gapless {stored['gapless']}, {s['failures']} failures",
                "exact",
                bool(result["ok"]),
            ),
        ]
        if not result["ok"]:
            notes.append(f"Sync ingest on {db} did not store exactly the runs pushed.")
    return rows, notes


def checkin(data: dict) -> tuple[list[tuple], list[str]]:
    res = data["results"]
    n = data["officers"]
    expected = data["officers"] * data["rounds"]
    rows = [
        (f"/healthz, {n} concurrent clients: p95", f"{res['healthz']['p95_ms']} ms", "", None),
        ("GET /c/<token> (form): p95", f"{res['form']['p95_ms']} ms", "", None),
        (
            "POST /c/<token> (check in): p95",
            f"{res['submit']['p95_ms']} ms",
            "reported (issue 4)",
            None,
        ),
        (
            "Officer total, form + submit: p50 / p95",
            f"{res['officer_total']['p50_ms']} / {res['officer_total']['p95_ms']} ms",
            "< 30 s (issue 4: checked in within 30 s)",
            res["officer_total"]["p95_ms"] < 30_000,
        ),
        (
            f"Check-ins stored ({n} officers x {data['rounds']} rounds, 1 in 5 double taps)",
            f"{data['stored']}",
            f"exactly {expected}",
            data["stored"] == expected,
        ),
    ]
    return rows, []


def labels(data: dict) -> tuple[list[tuple], list[str]]:
    pure, e2e = data["results"]["pure"], data["results"].get("end_to_end") or {}
    batch = pure["batch"]
    rows = [
        ("Bare QR code (qr_matrix), median", f"{pure['qr_matrix_ms']} ms", "", None),
        ("One 4x6 label PDF, median", f"{pure['label_pdf_ms']} ms", "", None),
        ("Ratio label / bare QR", f"{pure['ratio_label_to_qr']}x", "reported (issue 5)", None),
        (
            f"{data['batch']}-label batch, pure",
            f"{batch['labels_ms']} ms ({batch['labels_per_second']} labels/s)",
            "reported",
            None,
        ),
    ]
    if e2e:
        rows.append(
            (
                f"{e2e['shipments']}-label batch end to end ({e2e['database']})",
                f"{e2e['pdf_ms']} ms PDF, {e2e['ndjson_ms']} ms with progress",
                "reported",
                None,
            )
        )
    rows.append(
        (
            "Every PDF checked (pages, first and last QR decoded)",
            str(data["ok"]),
            "all decode",
            bool(data["ok"]),
        )
    )
    return rows, []


def family(data: dict) -> tuple[list[tuple], list[str]]:
    res, ratio, goal = data["results"], data["ratio_family_to_healthz"], data["goal"]
    rows = [
        (
            f"/healthz requests/s ({data['clients']} clients, {data['database']})",
            f"{res['healthz']['per_second']} (p99 {res['healthz']['p99_ms']} ms)",
            "",
            None,
        ),
        (
            "/f/<token> requests/s",
            f"{res['family']['per_second']} (p99 {res['family']['p99_ms']} ms)",
            "",
            None,
        ),
        ("Ratio family / healthz", f"{ratio}", f">= {goal}", ratio >= goal),
    ]
    notes = (
        []
        if ratio >= goal
        else [f"The family page reached {ratio} of /healthz (goal {goal}). {NOISE}"]
    )
    wall = data.get("ratio_wall_to_healthz")  # older runs measured the family page only
    if wall is not None:
        rows += [
            (
                "/honor (wall) requests/s",
                f"{res['wall']['per_second']} (p99 {res['wall']['p99_ms']} ms)",
                "",
                None,
            ),
            ("Ratio wall / healthz", f"{wall}", f">= {goal}", wall >= goal),
        ]
        if wall < goal:
            notes.append(f"The wall reached {wall} of /healthz (goal {goal}). {NOISE}")
    return rows, notes


def soak(data: dict) -> tuple[list[tuple], list[str]]:
    load = (
        f"{data['seconds']:.0f} s, {data['readers']} family readers, {data['phones']} phones "
        f"({int(data['repeat_share'] * 100)}% repeats), {data['checkins_per_minute']:.0f} "
        f"check-ins/min, gunicorn -w {data['gunicorn_workers']}"
    )
    rows = [("Load", load, "60 s, 200, 20 (30%), 50/min", data["seconds"] >= 60)]
    for name, e in data["endpoints"].items():
        rows.append(
            (
                f"{name}: p50 / p95 / p99 ({e['requests']} requests)",
                f"{e['p50_ms']} / {e['p95_ms']} / {e['p99_ms']} ms, {e['errors']} errors",
                "",
                None,
            )
        )
    stored = data["stored"]
    totals = stored.get("totals", {})
    rows += [
        ("Errors, all endpoints", f"{data['errors']}", "0", data["errors"] == 0),
        (
            "Runs / laps / check-ins lost or duplicated",
            f"runs {totals.get('runs_stored')} of {totals.get('runs_acknowledged')}, laps "
            f"{totals.get('laps_stored')} of {totals.get('laps_acknowledged')}, officer check-ins "
            f"{totals.get('officer_checkins_stored')} of {totals.get('officers_confirmed')}; "
            f"problems: {len(stored.get('problems', []))}",
            "none",
            bool(stored.get("ok")),
        ),
    ]
    notes = []
    if data["errors"]:
        notes.append(f"The soak saw {data['errors']} errors; see soak.json first_errors.")
    if not stored.get("ok"):
        notes.append("The soak's check found: " + "; ".join(map(str, stored.get("problems", []))))
    return rows, notes


def cluster(data: dict) -> tuple[list[tuple], list[str]]:
    ratios, goals, rounds = data["ratios"], data["goals"], data.get("ratios_per_round", {})
    setup = (
        f"{data['clients']} clients, {data.get('rounds', 1)} rounds of "
        f"{data['seconds']:g} s a phase, 2 servers x {data['workers_per_server']} workers"
    )
    totals: dict[str, list] = {}
    for phase in data["phases"]:
        seen = totals.setdefault(phase["name"], [0, 0.0, 0.0])
        seen[0] += phase["requests"]
        seen[1] += phase["requests"] / phase["per_second"] if phase["per_second"] else 0
        seen[2] = max(seen[2], phase["p99_ms"])
    rows = [
        (
            f"{name} requests/s, all its phases" + (f" ({setup})" if i == 0 else ""),
            f"{n / s:.1f} (worst phase p99 {p99} ms)" if s else "0",
            "",
            None,
        )
        for i, (name, (n, s, p99)) in enumerate(totals.items())
    ]
    notes = []
    for name, goal in goals.items():
        each = ", ".join(map(str, rounds.get(name, [])))
        rows.append(
            (
                f"Ratio {name} / healthz (median of rounds: {each})",
                f"{ratios[name]}",
                f">= {goal}",
                ratios[name] >= goal,
            )
        )
        if ratios[name] < goal:
            notes.append(
                f"Through nginx, {name} reached {ratios[name]} of /healthz (goal {goal}). {NOISE}"
            )
    first = data.get("first_visits")
    if first:
        rows.append(
            (
                "Family first visits (each of the 300 pages once, rendered): ratio to "
                "/healthz, before the rounds",
                f"{first['ratio']} ({first['per_second']} req/s, p99 {first['p99_ms']} ms)",
                "",
                None,
            )
        )
    for name, e in data["soak"].items():
        rows.append(
            (
                f"Soak {data['soak_seconds']:g} s, {name}: p50 / p95 / p99",
                f"{e['p50_ms']} / {e['p95_ms']} / {e['p99_ms']} ms, {e['failures']} failures",
                "",
                None,
            )
        )
    stored = data["stored"]
    rows.append(
        (
            "Sync runs stored once, miles gapless",
            f"{stored['runs_stored']} of {stored['runs_created']}, gapless {stored['gapless']}",
            "exact",
            bool(stored["ok"]),
        )
    )
    return rows, notes


def lighthouse(data: dict) -> tuple[list[tuple], list[str]]:
    goals = data["goals"]
    rows, notes = [], []
    for name, page in data["pages"].items():
        s, m = page["scores"], page.get("metrics_ms") or {}
        timing = ""
        if m.get("first-contentful-paint") is not None:
            timing = (
                f" (FCP {m['first-contentful-paint'] / 1000:.1f} s, "
                f"LCP {m['largest-contentful-paint'] / 1000:.1f} s, "
                f"TBT {m['total-blocking-time']:.0f} ms, CLS {m['cumulative-layout-shift']:.2f})"
            )
        rows.append(
            (
                f"`{name}`: performance / accessibility / best practices{timing}",
                f"{s['performance']} / {s['accessibility']} / {s['best-practices']}",
                f">= {goals['performance']} / {goals['accessibility']} / {goals['best-practices']}",
                all(page["met"].values()),
            )
        )
        if not all(page["met"].values()):
            missed = ", ".join(
                f"{f['title']} ({f['category']}{', ' + f['display'] if f['display'] else ''})"
                for f in page["findings"]
                if not page["met"][f["category"]]
            )
            notes.append(f"`{name}`: {missed or 'no single audit named'}.")
    return rows, notes


AREAS = [
    (
        "Tap to durable",
        "tap_to_durable.json",
        tap,
        "pointerdown to the strict IndexedDB transaction complete, app against a bare page.",
    ),
    (
        "Offline start",
        "offline_start.json",
        offline,
        "cold offline start of /app/ to the lap button usable, against a blank page served by the "
        "same service worker.",
    ),
    ("Weight", "weight.json", weight, "every byte /app/ loads on first visit."),
    (
        "Sync ingest",
        "bench_sync_ingest.json",
        sync,
        "runs per second into POST /api/v1/sync under gunicorn, beside /healthz on the same "
        "server.",
    ),
    (
        "Check-in",
        "bench_checkin.json",
        checkin,
        "50 officers check in at once to one run, on gunicorn and PostgreSQL.",
    ),
    (
        "Labels",
        "bench_labels.json",
        labels,
        "one 4x6 label PDF against its bare QR code, and 100-label batches.",
    ),
    (
        "Family page",
        "bench_family.json",
        family,
        "GET /f/<token> requests per second against /healthz, gunicorn on PostgreSQL.",
    ),
    (
        "Soak",
        "soak.json",
        soak,
        "gunicorn on PostgreSQL: family readers, phones syncing with repeats, escort check-ins.",
    ),
    (
        "Cluster",
        "bench_cluster.json",
        cluster,
        "through nginx (HTTPS, from deploy/) to two gunicorn servers on PostgreSQL and Redis: "
        "the family page, the wall and sync beside /healthz in one run, then a mixed soak.",
    ),
    (
        "Lighthouse",
        "lighthouse.json",
        lighthouse,
        "Lighthouse 12.8.2 with its default mobile emulation and simulated slow 4G, driving "
        "/usr/bin/chromium; /app/, /c/<token>, /f/<token>, /login and /honor, each in the light "
        "theme and again with --force-dark-mode (the dark theme's contrast counts too). The "
        "server is gunicorn on loopback http, which Chromium treats as a secure origin, so the "
        "best-practices HTTPS audit passes here as it does behind the documented HTTPS proxy; "
        "it cannot see the production TLS set-up itself.",
    ),
]

HOW = """# Benchmarks

Every figure below comes from the scripts in this folder, run on this machine (2 shared CPU
cores, other work running at the same time: figures move from run to run). Each script has
its own docstring with what it measures and how.

## How to run

```sh
.venv/bin/python tests/bench/run_all.py            # everything, ~15-20 minutes
.venv/bin/python tests/bench/run_all.py --quick    # shorter runs, to check the harness
.venv/bin/python tests/bench/run_all.py --skip bench_tap --skip bench_soak
.venv/bin/python tests/bench/run_all.py --report-only   # rewrite this file from out/*.json
```

Each benchmark runs as its own subprocess; a missing or failing one is named below, and the
others still run. Raw JSON goes to `tests/bench/out/` (not committed). The PostgreSQL
benchmarks EMPTY the tables of `BENCH_DATABASE_URL` (each script's default otherwise).
Lighthouse is installed by `bench_lighthouse.py` from `tests/bench/lighthouse/package.json`
(pinned 12.8.2, Node >= 18.16) into `tests/bench/lighthouse/node_modules/` (ignored by git).
Browser benchmarks use `/usr/bin/chromium`.
"""


def _saved(bench: Bench) -> dict:
    return {"status": bench.status, "seconds": bench.seconds, "fresh": bench.fresh,
            "ended": bench.ended}  # fmt: skip


def _restore(bench: Bench, saved: dict) -> None:
    bench.status = saved.get("status", "skipped")
    bench.seconds = saved.get("seconds", 0.0)
    bench.fresh = saved.get("fresh", {})
    bench.ended = saved.get("ended", "")


def remember(benches: list[Bench], quick: bool) -> None:
    """Keep the statuses in out/run_all.json; a skipped benchmark keeps its previous entry.

    So `--skip` every benchmark but one reruns that one and the report still names how the
    others went when they last ran.
    """
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        previous = json.loads(RUN_STATE.read_text()).get("benches", {})
    except (OSError, ValueError):
        previous = {}
    for bench in benches:
        if bench.status == "skipped" and bench.name in previous:
            _restore(bench, previous[bench.name])
    state = {
        "quick": quick,
        "finished": datetime.now(UTC).isoformat(),
        "benches": {b.name: _saved(b) for b in benches},
    }
    RUN_STATE.write_text(json.dumps(state, indent=2) + "\n")


def recall(benches: list[Bench]) -> tuple[bool, bool]:
    """The statuses of the last run from out/run_all.json: (quick, whether there was one)."""
    try:
        state = json.loads(RUN_STATE.read_text())
    except (OSError, ValueError):
        for bench in benches:
            bench.status = "skipped"
        return False, False
    for bench in benches:
        _restore(bench, state["benches"].get(bench.name, {}))
    return bool(state.get("quick")), True


def report(benches: list[Bench], quick: bool, ran: bool) -> str:
    """The Markdown of tests/bench/README.md."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [HOW, "## Newest run", ""]
    mode = "quick" if quick else "full"
    lines.append(
        f"Report written {now}"
        + (f" ({mode} settings)." if ran else " from the JSON on disk (nothing run).")
        + " A benchmark left out of the newest invocation (--skip) keeps the entry of its last"
        " run, with its end time."
    )
    lines += ["", "| Benchmark | Last run | Ended | Seconds | JSON |", "|---|---|---|---|---|"]
    by_output = {}
    for bench in benches:
        for name in bench.outputs:
            by_output[name] = bench
        fresh = ", ".join(f"{n}{'' if bench.fresh.get(n) else ' (older)'}" for n in bench.outputs)
        cells = [f"`{bench.name}.py`", bench.status, bench.ended, f"{bench.seconds:.0f}", fresh]
        lines.append("| " + " | ".join(cells) + " |")
    unmet: list[str] = []
    for title, output, build, what in AREAS:
        lines += ["", f"## {title}", "", f"What: {what}", ""]
        data, when = load(output)
        bench = by_output.get(output)
        if data is None:
            lines.append(
                f"No figures: `out/{output}` is missing or unreadable "
                f"(`{bench.name}.py`: {bench.status})."
            )
            unmet.append(f"{title}: no figures ({bench.status}).")
            continue
        if bench is not None and not bench.fresh.get(output):
            lines.append(
                f"Figures from an earlier run ({when}); the last run of "
                f"`{bench.name}.py` was {bench.status}."
            )
            lines.append("")
        else:
            lines.append(f"Figures from {when}.")
            lines.append("")
        try:
            rows, notes = build(data)
        except (KeyError, TypeError, ValueError) as exc:
            lines.append(f"`out/{output}` does not have the expected fields ({exc!r}).")
            unmet.append(f"{title}: unreadable figures.")
            continue
        lines += table(rows)
        if notes:
            lines += [""] + [f"- Not met: {note}" for note in notes]
            unmet += [f"{title}: {note}" for note in notes]
    lines += ["", "## Goals not met", ""]
    lines += [f"- {u}" for u in unmet] if unmet else ["Every goal with a figure was met."]
    return "\n".join(lines) + "\n"


def main() -> int:
    """Run the benchmarks asked for, then write tests/bench/README.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, noisier figures")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="NAME",
        help="leave out a benchmark, e.g. bench_tap (repeatable)",
    )
    parser.add_argument("--report-only", action="store_true", help="run nothing")
    args = parser.parse_args()
    unknown = set(args.skip) - {b.name for b in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if args.report_only:
        quick, ran = recall(BENCHES)
    else:
        quick, ran = args.quick, True
        for bench in BENCHES:
            if bench.name in args.skip:
                bench.status = "skipped"
            else:
                run(bench, args.quick)
        remember(BENCHES, args.quick)
    README.write_text(report(BENCHES, quick, ran))
    print(f"Report: {README.relative_to(ROOT)}")
    return 0 if all(b.status in ("ok", "skipped") for b in BENCHES) else 1


if __name__ == "__main__":
    sys.exit(main())

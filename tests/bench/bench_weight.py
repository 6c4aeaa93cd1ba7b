"""Weight of /app/ on first visit: every byte the page and its service worker load, uncompressed.

Run: .venv/bin/python -m tests.bench.bench_weight
Goal: at most 60 KB (61,440 bytes), icons excluded. Writes tests/bench/out/weight.json.

A first visit is a fresh browser profile opening /app/ until the service worker has
installed and precached the app shell. Each URL counts once, at the size of its body
(a precache request answered 304 adds nothing new). Playwright does not see the service
worker's own requests, so every URL of its APP_SHELL list is added at its size, and so is
every module the app can load later (imports followed from app.js, dynamic ones such as
roster.js included, and the worker's importScripts). The bootstrap data a signed-in phone
then fetches is reported on its own line: it is data, not the app.
"""

import gzip
import json
import re
import sys
import tempfile
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.e2e.harness import LiveServer, launch_chromium, prepare_database
from tests.e2e.steps import open_app, sign_in, wait_for_service_worker

OUT = Path(__file__).parent / "out"
GOAL_BYTES = 60 * 1024
JS = Path(__file__).resolve().parents[2] / "static" / "js"
IMPORT = re.compile(r'(?:from |import |import\()"\./([\w-]+\.js)"')


def app_modules(worker_source: str) -> set[str]:
    """Every module URL the app and its worker can load: imports from app.js, all the way down."""
    found = {
        f"/static/js/{m}"
        for m in re.findall(r'importScripts\("/static/js/([\w-]+\.js)"', worker_source)
    }
    waiting = ["app.js"]
    while waiting:
        name = waiting.pop()
        found.add(f"/static/js/{name}")
        source = (JS / name).read_text(encoding="utf-8")
        waiting += [m for m in IMPORT.findall(source) if f"/static/js/{m}" not in found]
    return found


def measure(server: LiveServer) -> dict:
    """Load /app/ in a fresh profile and sum the bodies of every URL it fetched."""
    bodies: dict[str, int] = {}
    gzipped: dict[str, int] = {}
    fetches: list[tuple[str, int]] = []

    def record(response):
        url = response.url.removeprefix(server.url)
        try:
            size = len(response.body()) if response.status == 200 else 0
        except Exception:  # a body the browser already let go of (redirects, aborted)
            size = 0
        fetches.append((url, response.status))
        if size:
            bodies[url] = max(bodies.get(url, 0), size)
            gzipped[url] = len(gzip.compress(response.body(), 9))

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844})
        context.on("response", record)
        page = context.new_page()
        open_app(page)
        wait_for_service_worker(page)
        first_visit = dict(bodies)
        with urllib.request.urlopen(f"{server.url}/sw.js") as reply:
            worker = reply.read().decode()
        shell = re.search(r"APP_SHELL = \[(.*?)\]", worker, re.S).group(1)
        precached = set(re.findall(r'"([^"]+)"', shell))
        modules = app_modules(worker)
        for url in sorted(precached | modules):
            if url not in first_visit:
                with urllib.request.urlopen(server.url + url) as reply:
                    body = reply.read()
                first_visit[url] = len(body)
                gzipped[url] = len(gzip.compress(body, 9))
        sign_in(page)
        page.wait_for_load_state("networkidle")
        browser.close()

    app = {u: n for u, n in first_visit.items() if not u.startswith("/static/icons/")}
    icons = {u: n for u, n in first_visit.items() if u.startswith("/static/icons/")}
    api = {u: n for u, n in bodies.items() if u.startswith("/api/")}
    return {
        "app_bytes": sum(app.values()),
        # What the same files weigh on the wire behind a server that compresses (gzip -9).
        "app_bytes_gzip": sum(gzipped[u] for u in app),
        "goal_bytes": GOAL_BYTES,
        "icons_bytes": sum(icons.values()),
        "api_bytes_after_sign_in": sum(api.values()),
        "files": dict(sorted(app.items(), key=lambda item: -item[1])),
        # A module the app can load that the worker does not precache would break offline.
        "modules_not_precached": sorted(modules - precached),
        "api": api,
        "requests": len(fetches),
    }


def main() -> None:
    """Measure, print a table, write out/weight.json."""
    work = Path(tempfile.mkdtemp(prefix="r4h-weight-"))
    server = LiveServer(work, prepare_database(work / "demo.sqlite")).start()
    try:
        result = measure(server)
    finally:
        server.stop()
    OUT.mkdir(exist_ok=True)
    (OUT / "weight.json").write_text(json.dumps(result, indent=2))
    print(f"{'file':<34}{'bytes':>9}")
    for url, size in result["files"].items():
        print(f"{url:<34}{size:>9,}")
    verdict = "meets" if result["app_bytes"] <= GOAL_BYTES else "MISSES"
    print(f"{'app shell, first visit':<34}{result['app_bytes']:>9,}  {verdict} goal {GOAL_BYTES:,}")
    print(f"{'app shell, gzip -9':<34}{result['app_bytes_gzip']:>9,}")
    print(f"{'icons (excluded)':<34}{result['icons_bytes']:>9,}")
    print(f"{'bootstrap data after sign-in':<34}{result['api_bytes_after_sign_in']:>9,}")
    if result["modules_not_precached"]:
        print("NOT PRECACHED (broken offline):", ", ".join(result["modules_not_precached"]))
    sys.exit(0)


if __name__ == "__main__":
    main()

"""Lighthouse: performance, accessibility and best practices of the public pages, on a phone.

    .venv/bin/python tests/bench/bench_lighthouse.py [--runs 1] [--schemes light,dark] [--install]

Lighthouse is the npm package pinned in tests/bench/lighthouse/package.json (12.8.2, which
runs on Node >= 18.16); --install (or a missing node_modules) runs `npm ci` there first. It
drives the system Chromium through CHROME_PATH=/usr/bin/chromium, headless, with Lighthouse's
default mobile emulation and simulated slow-4G throttling.

The app runs under gunicorn (wsgi:app, 2 sync workers, as in production) on a free loopback
port, against a temporary SQLite file prepared with `init-db` and `seed-demo`, plus one
synced 7-lap run with its ceremony, public check-ins, two photos and a shipment, so that a
family page exists and shows photos. Pages: /app/, /c/<token> (the demo's planned run),
/f/<token>, /login and /honor (--pages picks some of them, e.g. --pages /f/<token>).

Each page is audited --runs times; the median score per category is kept. With the default
--schemes light,dark every page is audited a second time with Chromium's --force-dark-mode
(prefers-color-scheme: dark), as the pages have a dark theme whose contrast counts too.
Before auditing, each page is fetched once and must answer 200 with its content, so an error
page cannot score. Goals: accessibility
100, best practices 100, performance at least 95 on every page. It prints a table and every
audit that cost points, and writes tests/bench/out/lighthouse.json (and each page's full
Lighthouse report under tests/bench/out/lighthouse/). Loopback only.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "bench" / "out"
RAW = OUT / "lighthouse"  # the newest full Lighthouse report of each page, for the details
LIGHTHOUSE_DIR = ROOT / "tests" / "bench" / "lighthouse"
LIGHTHOUSE_BIN = LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse"
VENV_BIN = ROOT / ".venv" / "bin"
CHROME_PATH = "/usr/bin/chromium"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update"
)
CATEGORIES = ("performance", "accessibility", "best-practices")
# What each page must show on a first visit, so that no audit scores an error page.
EXPECT = {
    "/app/": 'data-testid="lap-button"',
    "/c/<token>": "Avery",  # the demo's first planned run is for Officer Jordan Avery
    "/f/<token>": 'data-testid="family-photo"',  # the page with its photos
    "/login": 'data-testid="login-form"',
    "/honor": "Mile",
}
GOALS = {"performance": 95, "accessibility": 100, "best-practices": 100}
DEMO_PASSWORD = "lighthouse-demo-pw"
LIGHTHOUSE_TIMEOUT = 240
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def install_lighthouse(force: bool) -> None:
    """`npm ci` the pinned Lighthouse into tests/bench/lighthouse/node_modules (gitignored)."""
    if LIGHTHOUSE_BIN.exists() and not force:
        return
    lock = LIGHTHOUSE_DIR / "package-lock.json"
    command = [
        "npm",
        "ci" if lock.exists() else "install",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
    ]
    if subprocess.run(command, cwd=LIGHTHOUSE_DIR, timeout=600).returncode == 0:
        return
    # npm 11 re-resolves the "latest" ranges that @paulirish/trace_engine declares and calls
    # the lock out of sync; install from package.json (Lighthouse stays pinned), lock untouched.
    command[1:2] = ["install", "--no-save"]
    subprocess.run(command, cwd=LIGHTHOUSE_DIR, check=True, timeout=600)


def _env(database: Path, port: int) -> dict:
    env = {
        **os.environ,
        "R4H_DATABASE_URL": f"sqlite:///{database}",
        "R4H_SECRET_KEY": "lighthouse-secret",
        "R4H_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "R4H_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DATABASE_URL", None)
    return env


def prepare(database: Path, port: int) -> dict[str, str]:
    """init-db, seed-demo, then a synced run with check-ins and a shipment; the page paths."""
    env = _env(database, port)
    for args in (["init-db"], ["seed-demo", "--password", DEMO_PASSWORD]):
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "r4h_pwa", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from r4h_pwa import create_app
    from r4h_pwa.extensions import db
    from r4h_pwa.models import Checkin, Hero, Lap, Photo, Run, Runner, Shipment, Track
    from r4h_pwa.runs.photos import clean_photo

    url = f"sqlite:///{database}"
    app = create_app({"DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        planned = db.session.scalars(
            sa.select(Run).where(Run.status == "planned").order_by(Run.scheduled_at)
        ).first()
        runner = db.session.scalars(sa.select(Runner).where(Runner.role == "runner")).one()
        track = db.session.scalars(sa.select(Track).order_by(Track.id)).first()
        hero = db.session.scalars(sa.select(Hero).order_by(Hero.id.desc())).first()
        finished = datetime.now(UTC) - timedelta(days=2)
        run = Run(
            hero=hero, runner=runner, track=track, status="synced",
            started_at=finished - timedelta(minutes=11), finished_at=finished,
            synced_at=finished, mile_number=runner.starting_mile_count + 1,
            words="We ran tonight for a hero who never came home. (Demo data.)",
            video_url="https://example.org/video/demo",
            prayer_before=True, silence_seconds=60, flag_carried=True, prayer_after=False,
        )  # fmt: skip
        run.photos = [
            Photo(id=photo_id, **vars(clean_photo(_camera_photo(size), "image/jpeg")))
            for photo_id, size in (("5b0c2a9e-1f3d-4c6b-8a7e-9d0f1e2a3b4c", (1600, 1200)),
                                   ("7c1d3b0f-2a4e-4d7c-9b8f-0e1a2b3c4d5e", (1200, 1600)))
        ]  # fmt: skip
        run.laps = [
            Lap(seq=s, elapsed_ms=s * 92_000 + s * s * 170)
            for s in range(1, track.laps_per_mile + 1)
        ]
        run.checkins = [
            Checkin(name="Sgt. Dana Reyes", agency="Example Police Department", public=True),
            Checkin(name="Ofc. Sam Lee", agency="Example County Sheriff", public=True),
        ]
        shipment = Shipment(
            run=run,
            recipient_name="The Example Family",
            address_line1="1 Main Street",
            city="Springfield",
            state="CO",
            postal_code="80817",
            status="shipped",
            shipped_at=finished,
        )
        db.session.add(shipment)
        db.session.commit()
        paths = {
            "/app/": "/app/",
            "/c/<token>": f"/c/{planned.checkin_token}",
            "/f/<token>": f"/f/{shipment.family_token}",
            "/login": "/login",
            "/honor": "/honor",
        }
        db.session.remove()
        db.engine.dispose()
    return paths


def _camera_photo(size: tuple[int, int]) -> bytes:
    """A phone-sized JPEG with some detail, as the phone uploads it: a flag on a field."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (46, 125, 50))
    draw = ImageDraw.Draw(image)
    w, h = size
    for i in range(0, w, 40):  # grass stripes: a JPEG of realistic weight, not a flat colour
        draw.line([(i, 0), (i - h // 3, h)], fill=(38 + i % 17, 110 + i % 29, 44), width=9)
    draw.rectangle([w // 5, h // 4, w * 4 // 5, h * 3 // 4], fill=(20, 20, 20))
    draw.rectangle([w // 5, h // 2 - h // 40, w * 4 // 5, h // 2 + h // 40], fill=(31, 86, 199))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


class Server:
    """gunicorn with 2 sync workers on a loopback port, serving wsgi:app."""

    def __init__(self, database: Path, port: int, workdir: Path):
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=_env(database, port), stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {(workdir / 'gunicorn.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 30 s")

    def stop(self) -> None:
        """Stop gunicorn and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def check_page(url: str, expect: str) -> int:
    """GET url as a first visit: it must answer 200 (no redirect) and show `expect`."""
    request = urllib.request.Request(url, headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        body = reply.read().decode()
        if reply.status != 200 or reply.url != url or expect not in body:
            raise RuntimeError(f"{url} answered {reply.status} at {reply.url} without {expect!r}")
        return len(body)


def audit(url: str, workdir: Path, n: int, scheme: str) -> dict:
    """One Lighthouse run of url; its category scores (0-100) and the audits that cost points."""
    report_path = workdir / f"lh-{n}.json"
    env = {**os.environ, "CHROME_PATH": CHROME_PATH}
    flags = CHROME_FLAGS + (" --force-dark-mode" if scheme == "dark" else "")
    command = [
        str(LIGHTHOUSE_BIN), url, "--output=json", f"--output-path={report_path}", "--quiet",
        f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={flags}",
    ]  # fmt: skip
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=LIGHTHOUSE_TIMEOUT
    )
    if done.returncode != 0 or not report_path.exists():
        raise RuntimeError(f"lighthouse failed ({done.returncode}): {done.stderr[-1500:]}")
    lhr = json.loads(report_path.read_text())
    RAW.mkdir(parents=True, exist_ok=True)
    page = url.split("/")[3] or "root"  # app, c, f, login, honor: no token in the name
    shutil.copyfile(report_path, RAW / f"{page}-{scheme}.json")
    scores = {}
    findings = []
    for name in CATEGORIES:
        category = lhr["categories"][name]
        scores[name] = None if category["score"] is None else round(category["score"] * 100)
        for ref in category["auditRefs"]:
            result = lhr["audits"][ref["id"]]
            if ref["weight"] > 0 and result["score"] is not None and result["score"] < 1:
                findings.append(
                    {
                        "category": name,
                        "id": ref["id"],
                        "title": result["title"],
                        "score": result["score"],
                        "display": result.get("displayValue", ""),
                    }
                )
            elif result.get("scoreDisplayMode") == "error":
                findings.append(
                    {
                        "category": name,
                        "id": ref["id"],
                        "title": result["title"],
                        "score": None,
                        "display": result.get("errorMessage", ""),
                    }
                )
    metrics = {
        key: lhr["audits"][key].get("numericValue")
        for key in (
            "first-contentful-paint",
            "largest-contentful-paint",
            "total-blocking-time",
            "cumulative-layout-shift",
            "speed-index",
        )
    }
    return {
        "scores": scores,
        "findings": findings,
        "metrics": metrics,
        "runtime_error": lhr.get("runtimeError"),
        "warnings": lhr.get("runWarnings", []),
        "lighthouse_version": lhr.get("lighthouseVersion"),
        "user_agent": lhr.get("environment", {}).get("hostUserAgent", ""),
    }


def measure(runs: int, schemes: list[str], workdir: Path, only: list[str] | None = None) -> dict:
    """Prepare the app, serve it, audit every page runs times; the median scores per page."""
    port = _free_port()
    database = workdir / "lighthouse.sqlite"
    paths = prepare(database, port)
    paths = {name: path for name, path in paths.items() if not only or name in only}
    server = Server(database, port, workdir)
    pages = {}
    version = None
    try:
        sizes = {name: check_page(server.url + path, EXPECT[name]) for name, path in paths.items()}
        n = 0
        for scheme, (name, path) in ((s, p) for s in schemes for p in paths.items()):
            results = []
            for _ in range(runs):
                n += 1
                results.append(audit(server.url + path, workdir, n, scheme))
            version = results[-1]["lighthouse_version"]
            scores = {
                c: statistics.median_low([r["scores"][c] or 0 for r in results]) for c in CATEGORIES
            }
            seen: dict[str, dict] = {}
            for result in results:
                for finding in result["findings"]:
                    seen.setdefault(finding["id"], finding)
            pages[name if scheme == "light" else f"{name} (dark)"] = {
                "path": name,
                "color_scheme": scheme,
                "html_bytes": sizes[name],
                "scores": scores,
                "scores_by_run": [r["scores"] for r in results],
                "metrics_ms": results[len(results) // 2]["metrics"],
                "findings": list(seen.values()),
                "warnings": sorted({w for r in results for w in r["warnings"]}),
                "met": {c: scores[c] >= GOALS[c] for c in CATEGORIES},
            }
    finally:
        server.stop()
    return {
        "benchmark": "lighthouse",
        "lighthouse_version": version,
        "runs_per_page": runs,
        "color_schemes": schemes,
        "form_factor": "mobile (Lighthouse default emulation, simulated throttling)",
        "chrome_path": CHROME_PATH,
        "chrome_flags": CHROME_FLAGS,
        "cpus": os.cpu_count(),
        "load_average_after": list(os.getloadavg()),
        "goals": GOALS,
        "pages": pages,
        "ok": all(all(p["met"].values()) for p in pages.values()),
    }


def main() -> int:
    """Audit every page, print the table and findings, write out/lighthouse.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="audits per page; median kept")
    parser.add_argument(
        "--schemes",
        default="light,dark",
        help="color schemes to audit, comma-separated (dark: Chromium's --force-dark-mode)",
    )
    parser.add_argument("--install", action="store_true", help="npm ci even if installed")
    parser.add_argument("--pages", default="", help="pages to audit, comma-separated (all)")
    args = parser.parse_args()
    if not shutil.which("node") or not Path(CHROME_PATH).exists():
        print("needs node and /usr/bin/chromium", file=sys.stderr)
        return 2
    install_lighthouse(args.install)
    with tempfile.TemporaryDirectory(prefix="r4h-lighthouse-") as tmp:
        schemes = [s for s in args.schemes.split(",") if s in ("light", "dark")] or ["light"]
        only = [p for p in args.pages.split(",") if p] or None
        result = measure(max(1, args.runs), schemes, Path(tmp), only)
    print(f"Lighthouse {result['lighthouse_version']}, mobile, median of {args.runs} run(s)")
    print(f"{'page':<19} {'performance':>12} {'accessibility':>14} {'best-practices':>15}")
    for name, page in result["pages"].items():
        cells = [f"{page['scores'][c]:>3}{'' if page['met'][c] else ' !'}" for c in CATEGORIES]
        print(f"{name:<19} {cells[0]:>12} {cells[1]:>14} {cells[2]:>15}")
    print(
        f"goals: performance >= {GOALS['performance']}, accessibility "
        f"{GOALS['accessibility']}, best practices {GOALS['best-practices']}"
    )
    for name, page in result["pages"].items():
        for finding in page["findings"]:
            print(
                f"  {name}: [{finding['category']}] {finding['id']}: {finding['title']} "
                f"{finding['display']}".rstrip()
            )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "lighthouse.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

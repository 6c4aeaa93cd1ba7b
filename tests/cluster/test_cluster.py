"""The production setup under faults, through nginx: tests/cluster/harness.py starts it from
the files in deploy/ (nginx, two gunicorn servers, PostgreSQL, Redis).

The main test drives, at once, 20 phones syncing runs (30% repeats of acknowledged runs),
50 officers checking in and 200 readers of family pages and the wall. Midway one app server
is killed with SIGKILL (master and workers) and started again; later the other is reloaded
in place (HUP, as `systemctl reload` does on an upgrade). Clients retry a 5xx as the
phone's outbox and a person do. Afterwards the database must hold every acknowledged run,
lap and check-in exactly once with gapless mile numbers, and every 5xx a client saw must
have been followed by a success.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter, defaultdict
from urllib.parse import urlencode

import pytest

from tests.bench.bench_soak import Officer, Phone, Recorder, seed, verify

pytestmark = [pytest.mark.cluster, pytest.mark.postgres]

PHONES = 20
OFFICERS = 50
READERS = 200
REPEAT_SHARE = 0.30
LOAD_SECONDS = 24
KILL_AT, RESTART_AT, RELOAD_AT = 6, 9, 15  # seconds into the load
ACCESS_LINE = re.compile(r"rid=(\S+) rt=\S+ up=(\S+) ust=(\S+)")


class RetryingRecorder(Recorder):
    """The soak's recorder, except that a 5xx (or a dropped connection) is not an error here:
    it is counted, and the client retries it; only a wrong answer is an error."""

    def __init__(self, cluster):
        super().__init__(cluster.nginx.https_port, 200_000, connect=cluster.connect)
        self.retried: dict[str, Counter] = defaultdict(Counter)

    def failed(self, endpoint, status, text, json_client=False):
        if status is None or status >= 500:
            with self.lock:
                self.retried[endpoint][str(status)] += 1
        else:
            self.error(endpoint, f"{status}: {text[:150]}")


class OutboxPhone(Phone):
    """The soak's phone, except that a new run may come back "duplicate": when an app server
    dies after it stored the run, nginx sends the same POST to the other one, which finds it.
    The outbox takes that as acknowledged, and verify() checks the stored mile number."""

    def push(self, rec, batch, retry):
        return super().push(rec, batch, retry=True)


class Reader:
    """Someone reading a family page, then the wall, a few times; a 5xx is read again."""

    def __init__(self, n: int, family: list):
        self.rng = random.Random(n)
        self.family = family
        self.pending = 0  # reads not yet answered 200

    def read(
        self, rec: RetryingRecorder, endpoint: str, path: str, expect: str, deadline: float
    ) -> None:
        self.pending += 1
        while time.monotonic() < deadline:
            status, _, text = rec.request(endpoint, "GET", path, headers={"Accept": "text/html"})
            if status == 200:
                if expect not in text:
                    rec.error(endpoint, f"wrong page: {text[:120]}")
                self.pending -= 1
                return
            rec.failed(endpoint, status, text)
            time.sleep(0.3)

    def work(self, rec: RetryingRecorder, stop: threading.Event) -> None:
        deadline = time.monotonic() + LOAD_SECONDS + 40
        while not stop.is_set():
            token, hero = self.rng.choice(self.family)
            self.read(rec, "GET /f/<token>", f"/f/{token}", hero, deadline)
            self.read(rec, "GET /honor", "/honor", "Hero Number", deadline)
            stop.wait(self.rng.uniform(1.0, 3.0))


def _chaos(cluster, began: float, events: dict) -> None:
    """Kill server a midway and start it again; later reload server b in place."""
    a, b = cluster.servers
    time.sleep(max(0.0, began + KILL_AT - time.monotonic()))
    events["killed_workers"] = a.workers()
    a.kill()
    events["killed_at"] = time.monotonic() - began
    time.sleep(max(0.0, began + RESTART_AT - time.monotonic()))
    a.start()
    events["restarted_at"] = time.monotonic() - began
    time.sleep(max(0.0, began + RELOAD_AT - time.monotonic()))
    events["reload_started_at"] = time.monotonic() - began
    events["reload"] = b.reload(expected_workers=cluster.workers)
    events["reloaded_at"] = time.monotonic() - began


def test_a_crash_and_an_upgrade_lose_nothing_and_store_nothing_twice(cluster):
    seeded = seed(cluster.database_url, PHONES, shipments=40, reset=False)
    rec = RetryingRecorder(cluster)
    stop = threading.Event()
    phones = [
        OutboxPhone(p, seeded["track_id"], REPEAT_SHARE, n) for n, p in enumerate(seeded["phones"])
    ]
    origin = f"https://127.0.0.1:{cluster.nginx.https_port}"
    officers = [
        Officer(
            n,
            seeded["checkin_runs"][n % len(seeded["checkin_runs"])][1],
            double_tap=n % 10 == 0,
            origin=origin,
        )
        for n in range(OFFICERS)
    ]
    readers = [Reader(n, seeded["family"]) for n in range(READERS)]
    events: dict = {}
    starts_before = cluster.servers[0].starts  # other tests of the package restart servers too

    threads = [threading.Thread(target=p.work, args=(rec, stop, 0.3), daemon=True) for p in phones]
    threads += [threading.Thread(target=r.work, args=(rec, stop), daemon=True) for r in readers]
    officer_threads = [threading.Thread(target=o.work, args=(rec,), daemon=True) for o in officers]
    began = time.monotonic()
    chaos = threading.Thread(target=_chaos, args=(cluster, began, events), daemon=True)
    chaos.start()
    for thread in threads:
        thread.start()
    for n, thread in enumerate(officer_threads):  # 50 officers over the first 20 s
        time.sleep(max(0.0, began + n * 0.4 - time.monotonic()))
        thread.start()
    time.sleep(max(0.0, began + LOAD_SECONDS - time.monotonic()))
    stop.set()
    for thread in [chaos, *threads, *officer_threads]:
        thread.join(timeout=90)
    assert not any(t.is_alive() for t in [chaos, *threads, *officer_threads]), "clients hung"

    # The faults happened as planned: a crash, a restart, a reload with all-new workers.
    assert events["killed_at"] < events["restarted_at"] < events["reload_started_at"]
    old_workers, new_workers = events["reload"]
    assert old_workers and new_workers and not old_workers & new_workers
    a, b = cluster.servers
    assert a.starts == starts_before + 1

    # Nothing a client was told was lost, and nothing was stored twice.
    checked = verify(cluster.database_url, seeded, phones, officers)
    assert checked["problems"] == []
    totals = checked["totals"]
    assert totals["runs_acknowledged"] > 0 and totals["laps_acknowledged"] > 0
    assert totals["runs_stored"] == totals["runs_acknowledged"]
    assert totals["laps_stored"] == totals["laps_acknowledged"]
    assert totals["phone_checkins_stored"] == totals["phone_checkins_acknowledged"]
    assert sum(sum(p.statuses.values()) for p in phones) > 0
    assert sum(p.statuses["duplicate"] for p in phones) > 0  # the repeats were sent
    # Every client's last word was a success: each 5xx it saw was retried until it worked.
    assert [p.runner_id for p in phones if set(p.sent) - set(p.acked)] == []
    assert [o.name for o in officers if not o.done] == []
    assert totals["officer_checkins_stored"] == OFFICERS
    assert sum(r.pending for r in readers) == 0
    assert dict(rec.errors) == {}, rec.examples
    # A 500 is the app failing, not a server going away: none at all.
    assert not any(c["500"] for c in rec.retried.values()), dict(rec.retried)

    # nginx sent work to the restarted server, and each app log line carries nginx's id.
    log = cluster.nginx.access_log()
    upstreams = Counter(match.group(2) for match in ACCESS_LINE.finditer(log))
    assert upstreams[f"127.0.0.1:{a.port}"] > 0 and upstreams[f"127.0.0.1:{b.port}"] > 0
    # ... and when server a died, nginx sent what was meant for it to b (up=a, b).
    retried = Counter(
        line.split('"')[1].split(" ")[0]
        for line in log.splitlines()
        if f"up=127.0.0.1:{a.port}, 127.0.0.1:{b.port}" in line
    )
    assert retried
    restarted_log = a.log_path.read_text()
    ids = re.findall(r"rid=([0-9a-f]{32})", restarted_log)
    assert ids and sum(f"rid={rid}" in log for rid in ids) >= len(ids) - 10  # healthz probes

    print(
        f"\ncluster: {rec.count} requests; nginx passed to b after a failed: "
        f"{dict(retried)}; totals {totals}; 5xx retried by clients "
        f"{ {k: dict(v) for k, v in rec.retried.items()} }; events "
        f"{ {k: round(v, 1) for k, v in events.items() if isinstance(v, float)} }"
    )


def _form_csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _cookies(headers) -> dict:
    found = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.split(";", 1)[0].partition("=")
            found[key] = rest
    return found


def test_a_session_and_a_device_token_from_one_server_work_on_the_other(cluster):
    from r4h_pwa import create_app
    from r4h_pwa.extensions import db
    from r4h_pwa.models import Runner

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": cluster.database_url.replace(
                "postgresql://", "postgresql+psycopg://", 1
            ),
            "PASSWORD_HASH_METHOD": "pbkdf2",
        }
    )
    with app.app_context():
        runner = Runner(
            email="both-servers@example.org", name="Both Servers", starting_mile_count=0
        )
        runner.set_password("both-servers-password")
        db.session.add(runner)
        db.session.commit()
        db.engine.dispose()
    cluster.redis.clear()  # the login limit's counts from other tests
    a, b = cluster.servers

    # A browser session: signed in on a, recognised on b.
    status, headers, page = cluster.request("GET", "/login", server=a)
    assert status == 200
    jar = _cookies(headers)
    form = urlencode(
        {
            "email": "both-servers@example.org",
            "password": "both-servers-password",
            "csrf_token": _form_csrf(page.decode()),
        }
    )
    status, headers, _ = cluster.request(
        "POST",
        "/login",
        form,
        server=a,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"https://127.0.0.1:{cluster.nginx.https_port}/login",
            "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
        },
    )
    assert status == 302
    jar.update(_cookies(headers))
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
    assert cluster.request("GET", "/logout", server=b, headers=cookie)[0] == 200
    assert cluster.request("GET", "/logout", server=b)[0] == 302  # and not without it

    # A phone's device token: issued by b, accepted by a.
    body = json.dumps(
        {
            "email": "both-servers@example.org",
            "password": "both-servers-password",
            "device_name": "Phone",
        }
    )
    status, _, answer = cluster.request(
        "POST", "/api/v1/auth/token", body, server=b, headers={"Content-Type": "application/json"}
    )
    assert status == 200
    bearer = {"Authorization": f"Bearer {json.loads(answer)['token']}"}
    assert cluster.request("GET", "/api/v1/runs", server=a, headers=bearer)[0] == 200
    assert cluster.request("GET", "/api/v1/runs", server=a)[0] == 401


def test_the_login_limit_of_10_a_minute_holds_across_both_servers(cluster):
    cluster.redis.clear()
    body = json.dumps(
        {"email": "nobody@example.org", "password": "wrong password", "device_name": "Phone"}
    )
    before = len(cluster.nginx.access_log())
    # Each attempt claims another address: nginx appends the one it saw, and the app trusts
    # only that, so a client cannot pick its own rate-limit key.
    statuses = [
        cluster.request(
            "POST",
            "/api/v1/auth/token",
            body,
            headers={"Content-Type": "application/json", "X-Forwarded-For": f"203.0.113.{n + 1}"},
        )[0]
        for n in range(30)
    ]
    assert statuses == [401] * 10 + [429] * 20
    # nginx shared them between both servers (round robin), so the count lives in Redis.
    answered_by = Counter(
        match.group(2) for match in ACCESS_LINE.finditer(cluster.nginx.access_log()[before:])
    )
    assert set(answered_by) == {f"127.0.0.1:{s.port}" for s in cluster.servers}
    assert cluster.redis.keys()


def test_nginx_serves_static_files_compressed_with_validators(cluster):
    status, headers, body = cluster.request(
        "GET", "/static/css/site.css", headers={"Accept-Encoding": "gzip"}
    )
    got = {name.lower(): value for name, value in headers}
    assert status == 200 and got["content-encoding"] == "gzip"
    assert got["cache-control"] == "no-cache" and got["x-content-type-options"] == "nosniff"
    assert "x-request-id" not in got  # nginx answered, not the app
    status, _, body = cluster.request(
        "GET", "/static/css/site.css", headers={"If-None-Match": got["etag"]}
    )
    assert status == 304 and body == b""


def test_nginx_refuses_bodies_past_the_apps_limits(cluster):
    just_over = b"x" * (1024 * 1024 + 1)
    status, headers, body = cluster.request(
        "POST", "/api/v1/sync", just_over, headers={"Content-Type": "application/json"}
    )
    # nginx refuses it, in the API's error shape, as the app would have.
    assert status == 413
    assert dict(headers)["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    # A form past the limit is refused too (nginx's own page: not an API client).
    status, _, _ = cluster.request(
        "POST", "/login", just_over, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 413
    # A photo may be 8 MB: nginx lets 2 MB through to the app (which wants a token first).
    status, _, _ = cluster.request(
        "PUT",
        "/api/v1/runs/x/photos/00000000-0000-4000-8000-000000000000",
        b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "image/jpeg"},
    )
    assert status == 401


def test_a_body_the_app_refuses_unread_never_marks_a_server_failed(cluster):
    # The app answers 401 before reading a photo; had it closed with the body unread, the
    # socket's reset would break nginx's send ("sendfile() failed (32: Broken pipe)"), nginx
    # would count the server failed, retry on the other, and soon answer 502 to everyone
    # for fail_timeout. Before the app read such bodies to their end, 3 runs of 40 went so.
    statuses = []
    for _ in range(40):
        status, _, _ = cluster.request(
            "PUT",
            "/api/v1/runs/x/photos/00000000-0000-4000-8000-000000000000",
            b"x" * (6 * 1024 * 1024),
            headers={"Content-Type": "image/jpeg"},
        )
        statuses.append(status)
    assert statuses == [401] * 40, str(statuses)
    assert cluster.request("GET", "/healthz")[0] == 200


def test_the_app_answers_with_nginx_request_id(cluster):
    status, headers, _ = cluster.request("GET", "/healthz")
    request_id = dict((n.lower(), v) for n, v in headers)["x-request-id"]
    assert status == 200 and re.fullmatch(r"[0-9a-f]{32}", request_id)
    # nginx and gunicorn both write their access lines after the answer has gone: a moment.
    cluster.nginx.access_lines(f"rid={request_id}")
    deadline = time.monotonic() + 10
    while not any(f"rid={request_id}" in s.log() for s in cluster.servers):
        assert time.monotonic() < deadline, "no app server logged the request id"
        time.sleep(0.1)

"""Small builders for test data. Each adds to the session and flushes; the test commits."""

import itertools
import re
import time
from datetime import UTC, date, datetime, timedelta

import pyotp

from r4h_pwa.auth.service import issue_device_token
from r4h_pwa.extensions import db
from r4h_pwa.models import Hero, Run, Runner, Track

PASSWORD = "correct horse battery"
# Every test admin's authenticator app holds this secret (admins sign in with a second factor).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_seq = itertools.count(1)


def make_runner(role: str = "runner", starting_mile_count: int = 0, **kw) -> Runner:
    """An account with PASSWORD."""
    n = next(_seq)
    runner = Runner(
        email=kw.pop("email", f"{role}{n}@example.org"),
        name=kw.pop("name", f"{role.title()} {n}"),
        role=role,
        starting_mile_count=starting_mile_count,
        **kw,
    )
    runner.set_password(PASSWORD)
    db.session.add(runner)
    db.session.flush()
    return runner


def make_admin(**kw) -> Runner:
    """An admin account with PASSWORD, enrolled in two-factor sign-in with TOTP_SECRET."""
    kw.setdefault("totp_secret", TOTP_SECRET)
    return make_runner(role="admin", **kw)


def totp_code(steps_ahead: int = 0) -> str:
    """The code the test admins' authenticator shows now (or a step of 30 s later)."""
    return pyotp.TOTP(TOTP_SECRET).at(time.time() + 30 * steps_ahead)


def pass_second_factor(client, response, headers=None):
    """After the password: type the admin's code, if the login asked for one.

    A code works once, so a second sign-in of the same admin within 30 seconds uses the
    next step's code, which the server accepts as clock drift.
    """
    if not response.headers.get("Location", "").startswith("/login/code"):
        return response
    page = client.get("/login/code", headers=headers).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    for steps_ahead in (0, 1):
        data = {"code": totp_code(steps_ahead), **({"csrf_token": csrf.group(1)} if csrf else {})}
        answer = client.post("/login/code", data=data, headers=headers)
        if answer.status_code == 302:
            return answer
    raise AssertionError("the second factor was refused: " + answer.get_data(as_text=True))


def make_hero(kind: str = "police", **kw) -> Hero:
    """A fictional hero."""
    n = next(_seq)
    hero = Hero(
        name=kw.pop("name", f"Hero {n}"),
        rank=kw.pop("rank", "Officer"),
        agency=kw.pop("agency", "Example County Police Department"),
        state=kw.pop("state", "FL"),
        kind=kind,
        end_of_watch=kw.pop("end_of_watch", date(2024, 2, 11)),
        **kw,
    )
    db.session.add(hero)
    db.session.flush()
    return hero


def make_track(laps_per_mile: int = 7, min_lap_seconds: int = 40, **kw) -> Track:
    """A track."""
    track = Track(
        name=kw.pop("name", f"Track {next(_seq)}"),
        laps_per_mile=laps_per_mile,
        min_lap_seconds=min_lap_seconds,
        **kw,
    )
    db.session.add(track)
    db.session.flush()
    return track


def make_run(runner: Runner, hero: Hero | None = None, track: Track | None = None, **kw) -> Run:
    """A planned run for the runner."""
    run = Run(
        runner=runner,
        hero=hero or make_hero(),
        track=track or make_track(),
        scheduled_at=kw.pop("scheduled_at", datetime.now(UTC) + timedelta(days=1)),
        **kw,
    )
    db.session.add(run)
    db.session.flush()
    return run


def make_device_token(runner: Runner, days: int = 30) -> str:
    """A bearer token for the runner's phone."""
    token, _device = issue_device_token(runner, "Test phone", days)
    db.session.flush()
    return token


def bearer(token: str) -> dict:
    """The Authorization header for a device token."""
    return {"Authorization": f"Bearer {token}"}

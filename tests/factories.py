"""Small builders for test data. Each adds to the session and flushes; the test commits.

The few that make a whole scene (make_phone, build_story) commit it themselves, as noted.
"""

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from r4h_pwa.auth.service import issue_device_token
from r4h_pwa.extensions import db
from r4h_pwa.models import Checkin, Hero, Lap, Run, Runner, Shipment, Track, utcnow

PASSWORD = "correct horse battery"
# Every test admin's authenticator app holds this secret (admins sign in with a second factor).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_seq = itertools.count(1)

# 01:30 UTC on the 15th is the evening of February 14 in Florida, where the team runs.
RUN_STARTED = datetime(2023, 2, 15, 1, 30, tzinfo=UTC)
LAP_MS = [88_000, 177_500, 264_000, 352_900, 440_100, 527_000, 612_400]
ADDRESS = {
    "recipient_name": "Chief Chris Deisler",
    "recipient_kind": "intermediary",
    "address_line1": "800 Research Drive",
    "address_line2": "Suite 9",
    "city": "Woodland Park",
    "state": "CO",
    "postal_code": "80863",
    "note": "Deliver with the chief's letter.",
}
TRACKING = "9400111899223344556677"


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


def make_synced_run(
    runner: Runner,
    mile_number: int | None = 1294,
    lap_ms=None,
    checkins: list[dict] | None = None,
    **kw,
) -> Run:
    """A run as it is after its first sync: status synced, laps, check-ins, mile number."""
    lap_ms = LAP_MS if lap_ms is None else lap_ms
    started = kw.pop("started_at", RUN_STARTED)
    hero = kw.pop("hero", None) or _becerra()
    track = kw.pop("track", None) or _school_track()
    run = make_run(
        runner,
        hero=hero,
        track=track,
        status=kw.pop("status", "synced"),
        scheduled_at=None,
        started_at=started,
        finished_at=started + timedelta(milliseconds=sum(lap_ms[-1:])),
        synced_at=started + timedelta(hours=1),
        mile_number=mile_number,
        words=kw.pop("words", "I ran for Officer Becerra and his family tonight."),
        video_url=kw.pop("video_url", "https://video.example.org/becerra"),
        **kw,
    )
    for seq, ms in enumerate(lap_ms, start=1):
        run.laps.append(Lap(seq=seq, elapsed_ms=ms))
    for data in checkins if checkins is not None else default_checkins():
        run.checkins.append(Checkin(**data))
    db.session.flush()
    return run


def _becerra() -> Hero:
    """The hero of the news story, made once per database."""
    found = db.session.scalar(sa.select(Hero).where(Hero.name == "Julian Becerra"))
    return found or make_hero(
        name="Julian Becerra",
        rank="Officer",
        agency="Fountain Police Department",
        state="CO",
        end_of_watch=date(2023, 2, 11),
    )


def make_ruiz() -> Hero:
    """A firefighter from Florida: the wall's tests need a hero of another kind and state
    than Officer Becerra of Colorado."""
    return make_hero(
        name="Maria Ruiz",
        rank="Firefighter",
        kind="fire",
        state="FL",
        agency="Orlando Fire Department",
    )


def _school_track() -> Track:
    found = db.session.scalar(sa.select(Track).where(Track.name == "Winter Springs High School"))
    return found or make_track(name="Winter Springs High School")


def default_checkins() -> list[dict]:
    """One escort who agreed to be named, and one who did not."""
    return [
        {
            "name": "Sgt. Dana Reyes",
            "agency": "Winter Springs Police",
            "badge": "1234",
            "role": "escort",
            "public": True,
        },
        {
            "name": "Ofc. Quiet Person",
            "agency": "Seminole County Sheriff",
            "badge": "999",
            "role": "escort",
            "public": False,
        },
    ]


def make_shipment(run: Run, **kw) -> Shipment:
    """A draft shipment of the run's flag to the chief who delivers it."""
    values = {**ADDRESS, "carrier": "USPS", "tracking_number": TRACKING, **kw}
    shipment = Shipment(run=run, **values)
    db.session.add(shipment)
    db.session.flush()
    return shipment


@dataclass
class Story:
    """A runner with a phone, a synced run with a shipment, an admin, and another runner."""

    runner_id: int
    runner_email: str
    token: str
    other_token: str
    other_email: str
    admin_email: str
    run_id: str
    shipment_id: str
    family_token: str

    @property
    def headers(self) -> dict:
        return bearer(self.token)

    @property
    def family_path(self) -> str:
        return f"/f/{self.family_token}"


def build_story() -> Story:
    """Make the usual cast in the current app context, and commit."""
    runner = make_runner(name="Zechariah", starting_mile_count=1293, miles_logged=1)
    token = make_device_token(runner)
    other = make_runner(name="Other Runner")
    other_token = make_device_token(other)
    admin = make_admin(name="Ada Admin")
    run = make_synced_run(runner)
    shipment = make_shipment(run)
    db.session.commit()
    return Story(
        runner.id,
        runner.email,
        token,
        other_token,
        other.email,
        admin.email,
        run.id,
        shipment.id,
        shipment.family_token,
    )


@dataclass
class Phone:
    """A runner signed in on a phone, with a hero and a 7-lap track to run for."""

    runner_id: int
    device_id: str
    token: str
    hero_id: int
    track_id: int

    @property
    def headers(self) -> dict:
        return bearer(self.token)


def make_phone(db, starting_mile_count: int = 0, laps_per_mile: int = 7) -> Phone:
    """A runner, a device token, a hero and a track, committed."""
    runner = make_runner(starting_mile_count=starting_mile_count)
    token = make_device_token(runner)
    hero = make_hero()
    track = make_track(laps_per_mile=laps_per_mile)
    db.session.commit()
    return Phone(runner.id, runner.devices[0].id, token, hero.id, track.id)


def run_payload(phone: Phone, laps: int = 7, **overrides) -> dict:
    """A finished run as the phone sends it: one lap every 90 s, finished at 14:12 or, for
    a longer run, half a minute after its last lap (laps must fit in the run's own time)."""
    seconds = max(12 * 60, laps * 90 + 30)
    run = {
        "id": str(uuid.uuid4()),
        "hero_id": phone.hero_id,
        "track_id": phone.track_id,
        "started_at": "2025-03-01T14:00:00Z",
        "finished_at": f"2025-03-01T{14 + seconds // 3600:02d}:{seconds // 60 % 60:02d}:"
        f"{seconds % 60:02d}Z",
        "laps": [{"seq": n, "elapsed_ms": n * 90_000} for n in range(1, laps + 1)],
        "checkins": [],
        "words": "For Officer Hero.",
        "video_url": "",
    }
    run.update(overrides)
    return run


def escort(**overrides) -> dict:
    """A check-in as the phone sends it."""
    checkin = {
        "id": str(uuid.uuid4()),
        "name": "Sgt. Dana Reyes",
        "agency": "Example County Sheriff",
        "badge": "1234",
        "role": "escort",
        "public": True,
    }
    checkin.update(overrides)
    return checkin


@dataclass
class FuzzTargets:
    """What the fuzzers aim at: one runner's phone, a planned run and a synced run."""

    runner: Runner
    token: str
    hero: Hero
    track: Track
    planned: Run
    synced: Run
    shipment: Shipment


def make_fuzz_targets(email: str, laps_per_mile: int = 4) -> FuzzTargets:
    """A runner's phone, a planned run, and a synced run with its laps (one each 100 s), a
    public check-in and a shipment, committed. The phone's device was used just now, so a
    fuzz never triggers its hourly touch."""
    runner = make_runner(email=email)
    token = make_device_token(runner)
    runner.devices[0].last_used_at = utcnow()
    hero, track = make_hero(), make_track(laps_per_mile=laps_per_mile)
    planned = make_run(runner, hero=hero, track=track)
    finished = utcnow()
    synced = make_run(
        runner,
        hero=hero,
        track=track,
        status="synced",
        mile_number=1,
        started_at=finished - timedelta(minutes=9),
        finished_at=finished,
    )
    synced.laps.extend(Lap(seq=n, elapsed_ms=n * 100_000) for n in range(1, laps_per_mile + 1))
    synced.checkins.append(Checkin(name="Officer Fuzz", public=True))
    shipment = make_shipment(synced, carrier="", tracking_number="")  # a draft, not sent yet
    db.session.commit()
    return FuzzTargets(runner, token, hero, track, planned, synced, shipment)

"""Builders for flag tests: a synced run with laps and check-ins, a shipment, signed-in clients."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
import zxingcpp

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Checkin, Hero, Lap, Run, Runner, Shipment, Track
from tests.e2e.conftest import (  # noqa: F401  (the browser tests' fixtures, reused)
    browser,
    context,
    demo_database,
    page,
    playwright_session,
    server,
)
from tests.factories import (
    PASSWORD,
    bearer,
    make_admin,
    make_device_token,
    make_hero,
    make_run,
    make_runner,
    make_track,
    pass_second_factor,
)

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
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def make_synced_run(runner: Runner, mile_number: int | None = 1294, lap_ms=None,
                    checkins: list[dict] | None = None, **kw) -> Run:
    """A run as it is after its first sync: status synced, laps, check-ins, mile number."""
    lap_ms = LAP_MS if lap_ms is None else lap_ms
    started = kw.pop("started_at", RUN_STARTED)
    hero = kw.pop("hero", None) or _becerra()
    track = kw.pop("track", None) or _school_track()
    run = make_run(
        runner, hero=hero, track=track, status=kw.pop("status", "synced"), scheduled_at=None,
        started_at=started, finished_at=started + timedelta(milliseconds=sum(lap_ms[-1:])),
        synced_at=started + timedelta(hours=1), mile_number=mile_number,
        words=kw.pop("words", "I ran for Officer Becerra and his family tonight."),
        video_url=kw.pop("video_url", "https://video.example.org/becerra"), **kw,
    )
    for seq, ms in enumerate(lap_ms, start=1):
        run.laps.append(Lap(seq=seq, elapsed_ms=ms))
    for data in checkins if checkins is not None else default_checkins():
        run.checkins.append(Checkin(**data))
    _db.session.flush()
    return run


def _becerra() -> Hero:
    """The hero of the news story, made once per database."""
    found = _db.session.scalar(sa.select(Hero).where(Hero.name == "Julian Becerra"))
    return found or make_hero(
        name="Julian Becerra", rank="Officer", agency="Fountain Police Department",
        state="CO", end_of_watch=date(2023, 2, 11),
    )


def _school_track() -> Track:
    found = _db.session.scalar(sa.select(Track).where(Track.name == "Winter Springs High School"))
    return found or make_track(name="Winter Springs High School")


def default_checkins() -> list[dict]:
    """One escort who agreed to be named, and one who did not."""
    return [
        {"name": "Sgt. Dana Reyes", "agency": "Winter Springs Police", "badge": "1234",
         "role": "escort", "public": True},
        {"name": "Ofc. Quiet Person", "agency": "Seminole County Sheriff", "badge": "999",
         "role": "escort", "public": False},
    ]


def make_shipment(run: Run, **kw) -> Shipment:
    """A draft shipment of the run's flag to the chief who delivers it."""
    values = {**ADDRESS, "carrier": "USPS", "tracking_number": TRACKING, **kw}
    shipment = Shipment(run=run, **values)
    _db.session.add(shipment)
    _db.session.flush()
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


@pytest.fixture
def story(db) -> Story:
    """The usual cast, committed."""
    return build_story()


def build_story() -> Story:
    """Make the usual cast in the current app context, and commit."""
    runner = make_runner(name="Zechariah", starting_mile_count=1293, miles_logged=1)
    token = make_device_token(runner)
    other = make_runner(name="Other Runner")
    other_token = make_device_token(other)
    admin = make_admin(name="Ada Admin")
    run = make_synced_run(runner)
    shipment = make_shipment(run)
    _db.session.commit()
    return Story(runner.id, runner.email, token, other_token, other.email, admin.email, run.id,
                 shipment.id, shipment.family_token)


def sign_in(client, email: str) -> None:
    """Sign the client in through the login form."""
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    response = pass_second_factor(client, response)
    assert response.status_code == 302, response.get_data(as_text=True)


def csrf_token(html: str) -> str:
    """The CSRF token a rendered form carries."""
    match = _CSRF.search(html)
    assert match, "the page has no csrf_token field"
    return match.group(1) or match.group(2)


def shipment_count(db) -> int:
    """How many shipments are stored."""
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Shipment))


def reload(db, shipment_id: str) -> Shipment:
    """The shipment as stored now."""
    db.session.expire_all()
    return db.session.get(Shipment, shipment_id)


def decode_qr(pdf: bytes, index: int = 0, scale: float = 4) -> list[str]:
    """Rasterise one page of a PDF and read every QR code on it with zxing-cpp."""
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[index].render(scale=scale).to_pil()
    finally:
        document.close()
    return [result.text for result in zxingcpp.read_barcodes(image)]


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's size in points."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [tuple(round(v, 2) for v in document[i].get_size()) for i in range(len(document))]
    finally:
        document.close()


def page_text(pdf: bytes, index: int = 0) -> str:
    """The text on one page of a PDF."""
    document = pdfium.PdfDocument(pdf)
    try:
        return document[index].get_textpage().get_text_range()
    finally:
        document.close()


@pytest.fixture
def strict_app(database_url, tmp_path):
    """The app with CSRF and rate limits on, as in production."""
    from r4h_pwa import create_app
    from r4h_pwa.extensions import db
    from tests.conftest import make_config, reset_schema

    app = create_app(make_config(database_url, tmp_path, WTF_CSRF_ENABLED=True,
                                 RATELIMIT_ENABLED=True, ACK_RATE_LIMIT="3 per hour"))
    with app.app_context():
        reset_schema()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def strict_story(strict_app):
    with strict_app.app_context():
        return build_story()

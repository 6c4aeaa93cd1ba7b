"""The ceremony recorded with a run: validated, stored, returned, and part of its content."""

import hashlib
import json
from datetime import UTC, datetime

import pytest

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Checkin, Lap, Run
from r4h_pwa.runs.service import SubmittedCeremony, SubmittedCheckin, SubmittedRun
from tests.factories import escort, run_payload
from tests.helpers import sync

CEREMONY = {
    "prayer_before": True,
    "silence_seconds": 60,
    "flag_carried": True,
    "prayer_after": False,
}


def _only(response) -> dict:
    [result] = response.get_json()["results"]
    return result


def test_a_ceremony_is_stored_and_returned_with_the_run(client, db, phone):
    run = run_payload(phone, ceremony=CEREMONY)
    assert _only(sync(client, phone, run))["status"] == "created"
    body = client.get(f"/api/v1/runs/{run['id']}", headers=phone.headers).get_json()
    assert body["ceremony"] == {**CEREMONY, "silence_when": None}  # the phone did not say


@pytest.mark.parametrize("when", ["before", "after"])
def test_when_the_silence_was_kept_is_stored_and_returned(client, db, phone, when):
    ceremony = {**CEREMONY, "silence_when": when}
    run = run_payload(phone, ceremony=ceremony)
    assert _only(sync(client, phone, run))["status"] == "created"
    body = client.get(f"/api/v1/runs/{run['id']}", headers=phone.headers).get_json()
    assert body["ceremony"] == ceremony
    _db.session.expire_all()
    assert _db.session.get(Run, run["id"]).silence_when == when
    assert _only(sync(client, phone, run))["status"] == "duplicate"


def test_a_run_without_a_ceremony_returns_null(client, db, phone):
    run = run_payload(phone)
    sync(client, phone, run)
    body = client.get(f"/api/v1/runs/{run['id']}", headers=phone.headers).get_json()
    assert body["ceremony"] is None


def test_a_repeat_with_the_same_ceremony_is_a_duplicate(client, db, phone):
    run = run_payload(phone, ceremony=CEREMONY)
    first = _only(sync(client, phone, run))
    again = _only(sync(client, phone, run))
    assert again == {**first, "status": "duplicate"}


@pytest.mark.parametrize(
    "other",
    [
        {**CEREMONY, "silence_seconds": 30},
        {**CEREMONY, "prayer_after": True},
        {**CEREMONY, "silence_when": "before"},  # now placed: other content than stored
        None,  # the same run, now without its ceremony
    ],
)
def test_the_same_id_with_another_ceremony_is_a_conflict(client, db, phone, other):
    run = run_payload(phone, ceremony=CEREMONY)
    sync(client, phone, run)
    changed = {**run, "ceremony": other}
    assert _only(sync(client, phone, changed))["status"] == "conflict"
    _db.session.expire_all()
    assert _db.session.get(Run, run["id"]).silence_seconds == 60


@pytest.mark.parametrize(
    ("ceremony", "field", "message"),
    [
        ({**CEREMONY, "silence_seconds": 3601}, "ceremony.silence_seconds", "between 0 and 3600"),
        ({**CEREMONY, "silence_seconds": -1}, "ceremony.silence_seconds", "between 0 and 3600"),
        ({**CEREMONY, "silence_seconds": 1.5}, "ceremony.silence_seconds", "whole number"),
        ({**CEREMONY, "silence_seconds": True}, "ceremony.silence_seconds", "whole number"),
        ({**CEREMONY, "prayer_before": "yes"}, "ceremony.prayer_before", "true or false"),
        (
            {k: v for k, v in CEREMONY.items() if k != "flag_carried"},
            "ceremony.flag_carried",
            "required",
        ),
        (
            {k: v for k, v in CEREMONY.items() if k != "silence_seconds"},
            "ceremony.silence_seconds",
            "required",
        ),
        ([True, 60, True, False], "ceremony", "Must be an object"),
        ({**CEREMONY, "silence_when": "during"}, "ceremony.silence_when", '"before" or "after"'),
        ({**CEREMONY, "silence_when": "Before"}, "ceremony.silence_when", '"before" or "after"'),
        ({**CEREMONY, "silence_when": ""}, "ceremony.silence_when", '"before" or "after"'),
        ({**CEREMONY, "silence_when": True}, "ceremony.silence_when", '"before" or "after"'),
    ],
)
def test_a_bad_ceremony_rejects_the_run_naming_the_field(
    client, db, phone, ceremony, field, message
):
    run = run_payload(phone, ceremony=ceremony)
    response = sync(client, phone, run)
    assert response.status_code == 422
    result = _only(response)
    assert result["status"] == "rejected"
    assert message in result["errors"][field]
    assert _db.session.get(Run, run["id"]) is None


def _hash_before_the_ceremony(run: dict) -> str:
    """The content hash exactly as the server computed it before runs had a ceremony."""
    content = {
        "hero_id": run["hero_id"],
        "track_id": run["track_id"],
        "started_at": datetime.fromisoformat(run["started_at"]).astimezone(UTC).isoformat(),
        "finished_at": datetime.fromisoformat(run["finished_at"]).astimezone(UTC).isoformat(),
        "laps": [[lap["seq"], lap["elapsed_ms"]] for lap in run["laps"]],
        "checkins": [
            [c["id"], c["name"], c["agency"], c["badge"], c["role"], c["public"]]
            for c in sorted(run["checkins"], key=lambda c: c["id"])
        ],
        "words": run["words"],
        "video_url": run["video_url"],
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_an_old_app_repeat_of_a_run_synced_before_the_ceremony_is_still_a_duplicate(
    client, db, phone
):
    run = run_payload(phone, checkins=[escort()])
    # The run as a server before this change stored it: its old hash, no ceremony columns.
    stored = Run(
        id=run["id"],
        runner_id=phone.runner_id,
        hero_id=phone.hero_id,
        track_id=phone.track_id,
        status="synced",
        started_at=datetime.fromisoformat(run["started_at"]),
        finished_at=datetime.fromisoformat(run["finished_at"]),
        mile_number=1,
        words=run["words"],
        video_url="",
        content_hash=_hash_before_the_ceremony(run),
    )
    stored.laps = [Lap(seq=lap["seq"], elapsed_ms=lap["elapsed_ms"]) for lap in run["laps"]]
    c = run["checkins"][0]
    stored.checkins = [
        Checkin(
            id=c["id"],
            name=c["name"],
            agency=c["agency"],
            badge=c["badge"],
            role=c["role"],
            public=c["public"],
            source="phone",
        )
    ]
    _db.session.add(stored)
    _db.session.commit()

    result = _only(sync(client, phone, run))  # the old app sends no "ceremony" key
    assert result == {"id": run["id"], "status": "duplicate", "mile_number": 1, "errors": {}}


def test_the_hash_of_a_run_without_a_ceremony_is_the_one_stored_before_it_existed():
    # Computed with the server as it was before the ceremony (commit 4a68eae).
    run = SubmittedRun(
        id="7f1c2a4e-8d3b-4c5a-9e6f-0a1b2c3d4e5f",
        hero_id=3,
        track_id=2,
        started_at=datetime(2025, 3, 1, 14, 0, tzinfo=UTC),
        finished_at=datetime(2025, 3, 1, 14, 12, tzinfo=UTC),
        laps=tuple((n, n * 90_000) for n in range(1, 8)),
        checkins=(
            SubmittedCheckin(
                id="0b6f1f0e-2a7c-4d5e-8f90-123456789abc",
                name="Sgt. Dana Reyes",
                agency="Example County Sheriff",
                badge="1234",
                role="escort",
                public=True,
            ),
        ),
        words="For Officer Hero.",
        video_url="",
    )
    assert run.content_hash == "ad78aa10c08012a261269fccc0448a643bfd26f4ba3109b7c83f514da5e1c523"


def test_the_hash_of_a_ceremony_without_silence_when_is_the_one_stored_before_it_existed():
    # Computed with the server as it was before silence_when (main at 84b0e0c).
    run = SubmittedRun(
        id="7f1c2a4e-8d3b-4c5a-9e6f-0a1b2c3d4e5f",
        hero_id=3,
        track_id=2,
        started_at=datetime(2025, 3, 1, 14, 0, tzinfo=UTC),
        finished_at=datetime(2025, 3, 1, 14, 12, tzinfo=UTC),
        laps=tuple((n, n * 90_000) for n in range(1, 8)),
        checkins=(),
        words="",
        video_url="",
        ceremony=SubmittedCeremony(
            prayer_before=True, silence_seconds=60, flag_carried=True, prayer_after=False
        ),
    )
    assert run.content_hash == "b466616b9df35450c57ae4165ff6512e7543a48b68ffc0fd46e8331e7ee99c31"

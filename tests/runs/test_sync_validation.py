"""Bad sync payloads get a clear 4xx or a rejected result, and store nothing of them."""

import json
from datetime import timedelta

import pytest

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Device, Runner, utcnow
from tests.factories import escort, run_payload
from tests.helpers import counts, sync

NOTHING = (0, 0, 0)


def _set(path: str, value):
    """A change to a run payload: set the value at a dotted path (laps.2.seq)."""

    def change(run: dict) -> None:
        *parents, last = path.split(".")
        target = run
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


def _drop(path: str):
    def change(run: dict) -> None:
        *parents, last = path.split(".")
        target = run
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        del target[last]

    return change


def _laps(values: list):
    return _set("laps", [{"seq": n, "elapsed_ms": ms} for n, ms in enumerate(values, 1)])


def _checkins(*entries: dict):
    return _set("checkins", list(entries))


_GOOD_CHECKIN = {
    "id": "6f1b2c4e-0d2a-4b1e-9c1a-0a0a0a0a0a0a",
    "name": "Sgt. Dana Reyes",
    "agency": "",
    "badge": "",
    "role": "escort",
    "public": False,
}

BAD_RUNS = [
    # the run id
    ("id missing", _drop("id"), "id"),
    ("id not a uuid", _set("id", "run-1"), "id"),
    ("id a number", _set("id", 12345), "id"),
    ("id null", _set("id", None), "id"),
    # hero and track
    ("hero_id missing", _drop("hero_id"), "hero_id"),
    ("hero_id a string", _set("hero_id", "1"), "hero_id"),
    ("hero_id a boolean", _set("hero_id", True), "hero_id"),
    ("hero_id a float", _set("hero_id", 1.5), "hero_id"),
    ("hero_id zero", _set("hero_id", 0), "hero_id"),
    ("hero_id huge", _set("hero_id", 2**63 - 1), "hero_id"),  # 2**63 is malformed JSON: 400
    ("hero_id unknown", _set("hero_id", 999_999), "hero_id"),
    ("track_id a list", _set("track_id", [1]), "track_id"),
    ("track_id unknown", _set("track_id", 999_999), "track_id"),
    # times
    ("started_at missing", _drop("started_at"), "started_at"),
    ("started_at without a zone", _set("started_at", "2025-03-01T14:00:00"), "started_at"),
    ("started_at a date", _set("started_at", "2025-03-01"), "started_at"),
    ("started_at words", _set("started_at", "yesterday"), "started_at"),
    ("started_at epoch number", _set("started_at", 1740837600), "started_at"),
    ("started_at in year 1", _set("started_at", "0001-01-01T00:00:00+05:00"), "started_at"),
    ("finished_at in 9999", _set("finished_at", "9999-12-31T23:59:59-05:00"), "finished_at"),
    ("finished_at missing", _drop("finished_at"), "finished_at"),
    ("finished_at before started_at", _set("finished_at", "2025-03-01T13:59:59Z"), "finished_at"),
    # laps
    ("laps missing", _drop("laps"), "laps"),
    ("laps null", _set("laps", None), "laps"),
    ("laps an object", _set("laps", {"1": 90000}), "laps"),
    ("laps a string", _set("laps", "90000,180000"), "laps"),
    ("201 laps", _laps([n * 60_000 for n in range(1, 202)]), "laps"),
    ("a lap not an object", _set("laps.2", 270000), "laps[2]"),
    ("seq missing", _drop("laps.0.seq"), "laps[0].seq"),
    ("seq starting at 0", _set("laps.0.seq", 0), "laps[0].seq"),
    ("seq with a gap", _set("laps.3.seq", 5), "laps[3].seq"),
    ("seq repeated", _set("laps.3.seq", 3), "laps[3].seq"),
    ("seq a string", _set("laps.1.seq", "2"), "laps[1].seq"),
    ("seq a boolean", _set("laps.0.seq", True), "laps[0].seq"),
    ("elapsed_ms missing", _drop("laps.4.elapsed_ms"), "laps[4].elapsed_ms"),
    ("elapsed_ms a string", _set("laps.1.elapsed_ms", "180000"), "laps[1].elapsed_ms"),
    ("elapsed_ms a float", _set("laps.1.elapsed_ms", 180000.5), "laps[1].elapsed_ms"),
    ("elapsed_ms a boolean", _set("laps.0.elapsed_ms", True), "laps[0].elapsed_ms"),
    ("elapsed_ms zero", _set("laps.0.elapsed_ms", 0), "laps[0].elapsed_ms"),
    ("elapsed_ms negative", _set("laps.0.elapsed_ms", -5), "laps[0].elapsed_ms"),
    ("elapsed_ms equal to the last", _set("laps.3.elapsed_ms", 270_000), "laps[3].elapsed_ms"),
    ("elapsed_ms going back", _set("laps.6.elapsed_ms", 100_000), "laps[6].elapsed_ms"),
    ("elapsed_ms of 24 h", _set("laps.6.elapsed_ms", 86_400_000), "laps[6].elapsed_ms"),
    # check-ins
    ("checkins an object", _set("checkins", {"name": "A"}), "checkins"),
    ("101 checkins", _set("checkins", [_GOOD_CHECKIN] * 101), "checkins"),
    ("a checkin not an object", _checkins("Sgt. Reyes"), "checkins[0]"),
    ("checkin id missing", _checkins({**_GOOD_CHECKIN, "id": None}), "checkins[0].id"),
    ("checkin id not a uuid", _checkins({**_GOOD_CHECKIN, "id": "c1"}), "checkins[0].id"),
    ("checkin ids repeated", _checkins(_GOOD_CHECKIN, _GOOD_CHECKIN), "checkins[1].id"),
    ("checkin name missing", _checkins({**_GOOD_CHECKIN, "name": None}), "checkins[0].name"),
    ("checkin name blank", _checkins({**_GOOD_CHECKIN, "name": "  "}), "checkins[0].name"),
    ("checkin name 121 chars", _checkins({**_GOOD_CHECKIN, "name": "n" * 121}), "checkins[0].name"),
    ("checkin name a number", _checkins({**_GOOD_CHECKIN, "name": 7}), "checkins[0].name"),
    ("agency 161 chars", _checkins({**_GOOD_CHECKIN, "agency": "a" * 161}), "checkins[0].agency"),
    ("badge 61 chars", _checkins({**_GOOD_CHECKIN, "badge": "b" * 61}), "checkins[0].badge"),
    ("role unknown", _checkins({**_GOOD_CHECKIN, "role": "chief"}), "checkins[0].role"),
    ("role a list", _checkins({**_GOOD_CHECKIN, "role": ["escort"]}), "checkins[0].role"),
    ("public a string", _checkins({**_GOOD_CHECKIN, "public": "yes"}), "checkins[0].public"),
    ("public a number", _checkins({**_GOOD_CHECKIN, "public": 1}), "checkins[0].public"),
    (
        "checked_in_at without a zone",
        _checkins({**_GOOD_CHECKIN, "checked_in_at": "2025-03-01T14:05:00"}),
        "checkins[0].checked_in_at",
    ),
    (
        "checked_in_at in year 1",
        _checkins({**_GOOD_CHECKIN, "checked_in_at": "0001-01-01T00:00:00+01:00"}),
        "checkins[0].checked_in_at",
    ),
    # words and video
    ("words 5001 chars", _set("words", "w" * 5001), "words"),
    ("words a number", _set("words", 42), "words"),
    ("words with a NUL", _set("words", "a\x00b"), "words"),
    ("words with a lone surrogate", _set("words", "a\ud800b"), "words"),
    (
        "checkin name with a lone surrogate",
        _checkins({**_GOOD_CHECKIN, "name": "\udfff"}),
        "checkins[0].name",
    ),
    ("video_url javascript", _set("video_url", "javascript:alert(1)"), "video_url"),
    ("video_url ftp", _set("video_url", "ftp://example.org/v.mp4"), "video_url"),
    ("video_url 501 chars", _set("video_url", "https://e.org/" + "v" * 487), "video_url"),
    ("video_url an object", _set("video_url", {"href": "https://e.org"}), "video_url"),
]


@pytest.mark.parametrize(
    ("change", "field"), [pytest.param(c, f, id=name) for name, c, f in BAD_RUNS]
)
def test_a_bad_run_is_rejected_naming_the_field_and_stores_nothing(
    client, db, phone, change, field
):
    bad = run_payload(phone, checkins=[escort()])
    change(bad)
    response = sync(client, phone, bad)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid"
    assert field in response.json["error"]["fields"]
    result = response.json["results"][0]
    assert result["status"] == "rejected"
    assert result["mile_number"] is None
    assert field in result["errors"]
    assert counts(db) == NOTHING
    assert _db.session.get(Runner, phone.runner_id).miles_logged == 0

    # Beside a good run, the bad one is still rejected and the good one stored.
    good = run_payload(phone, checkins=[escort()])
    response = sync(client, phone, bad, good)
    assert response.status_code == 200
    assert [r["status"] for r in response.json["results"]] == ["rejected", "created"]
    assert field in response.json["results"][0]["errors"]
    assert response.json["results"][1]["mile_number"] == 1
    assert counts(db) == (1, 7, 1)


@pytest.mark.parametrize("bad_run", ["a run", 7, None, ["id"], True])
def test_a_run_that_is_not_an_object_is_rejected(client, db, phone, bad_run):
    response = sync(client, phone, bad_run)
    assert response.status_code == 422
    assert response.json["results"] == [
        {
            "id": None,
            "status": "rejected",
            "mile_number": None,
            "errors": {"run": "Must be an object."},
        }
    ]
    assert counts(db) == NOTHING


def test_every_bad_field_of_a_run_is_named(client, db, phone):
    run = run_payload(phone, hero_id="1", words=5)
    run["laps"][2]["seq"] = 9
    run["checkins"] = [{"id": "x", "name": ""}]
    errors = sync(client, phone, run).json["results"][0]["errors"]
    assert set(errors) == {
        "hero_id",
        "words",
        "laps[2].seq",
        "checkins[0].id",
        "checkins[0].name",
    }


def test_the_limits_themselves_are_accepted(client, db, phone):
    run = run_payload(phone, laps=0, words="w" * 5000, video_url="https://e.org/" + "v" * 486)
    run["laps"] = [{"seq": n, "elapsed_ms": 86_399_999 - 200 + n} for n in range(1, 201)]
    run["finished_at"] = "2025-03-02T14:00:00Z"  # the laps fit in the run's own 24 hours
    run["checkins"] = [escort(name="n" * 120, agency="a" * 160, badge="b" * 60) for _ in range(100)]
    runs = [run] + [run_payload(phone) for _ in range(49)]
    response = sync(client, phone, *runs)
    assert response.status_code == 200
    assert {r["status"] for r in response.json["results"]} == {"created"}
    assert counts(db) == (50, 200 + 49 * 7, 100)


def test_optional_fields_may_be_null_or_absent(client, db, phone):
    run = run_payload(phone, words=None, video_url=None)
    del run["checkins"]
    escortless = sync(client, phone, run)
    assert escortless.json["results"][0]["status"] == "created"
    minimal = run_payload(phone, checkins=[{"id": escort()["id"], "name": "A. Runner"}])
    del minimal["words"], minimal["video_url"]
    assert sync(client, phone, minimal).json["results"][0]["status"] == "created"
    assert counts(db) == (2, 14, 1)


# Request-level problems: the whole request is refused and nothing is stored.


def _post(client, phone, data, content_type="application/json"):
    return client.post("/api/v1/sync", data=data, content_type=content_type, headers=phone.headers)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b'{"device_id": "x", "runs": [}',
        b"not json",
        b"\xff\xfe\x00",
        b"{'runs': []}",
        b'{"runs": [NaN]}',
        b"[" * 100_000,
        b"[]",  # JSON, but not an object: refused the same way
        b'"runs"',
        b"null",
        b"42",
    ],
)
def test_malformed_json_is_a_400_and_stores_nothing(client, db, phone, body):
    response = _post(client, phone, body)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"
    assert counts(db) == NOTHING


def test_the_body_is_read_as_json_whatever_the_content_type(client, db, phone):
    body = json.dumps({"device_id": phone.device_id, "runs": [run_payload(phone)]})
    response = _post(client, phone, body, content_type="text/plain")
    assert response.status_code == 200
    assert counts(db) == (1, 7, 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"device_id": "{device}"}, "runs"),
        ({"device_id": "{device}", "runs": None}, "runs"),
        ({"device_id": "{device}", "runs": {"0": "{run}"}}, "runs"),
        ({"device_id": "{device}", "runs": "{run}"}, "runs"),
        ({"runs": ["{run}"]}, "device_id"),
        ({"device_id": 5, "runs": ["{run}"]}, "device_id"),
        ({"device_id": "9b2f6a1e-1111-4c3d-8e5f-000000000000", "runs": ["{run}"]}, "device_id"),
    ],
)
def test_a_request_wrong_as_a_whole_is_a_422_and_stores_nothing(client, db, phone, body, field):
    run = run_payload(phone)
    text = json.dumps(body).replace('"{device}"', json.dumps(phone.device_id))
    text = text.replace('"{run}"', json.dumps(run))
    response = _post(client, phone, text)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid"
    assert "results" not in response.json
    if field:
        assert field in response.json["error"]["fields"]
    assert counts(db) == NOTHING


def test_another_devices_id_is_a_422_even_for_the_same_runner(client, db, phone):
    from tests.factories import make_device_token

    make_device_token(_db.session.get(Runner, phone.runner_id))
    _db.session.commit()
    other_device = next(
        d.id for d in _db.session.scalars(_db.select(Device)) if d.id != phone.device_id
    )
    response = sync(client, phone, run_payload(phone), device_id=other_device)
    assert response.status_code == 422
    assert "device_id" in response.json["error"]["fields"]
    assert counts(db) == NOTHING


def test_more_than_50_runs_is_a_422_and_stores_nothing(client, db, phone):
    response = sync(client, phone, *[run_payload(phone) for _ in range(51)])
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"runs": "At most 50 runs in one request."}
    assert counts(db) == NOTHING


def test_a_body_over_1_mb_is_a_json_413_and_stores_nothing(client, db, phone):
    run = run_payload(phone, words="w" * 1_100_000)
    response = sync(client, phone, run)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    assert counts(db) == NOTHING


def test_a_chunked_body_over_1_mb_is_a_json_413(client, db, phone):
    body = b'{"device_id": "x", "runs": [' + b" " * 1_100_000 + b"]}"
    response = client.post(
        "/api/v1/sync",
        data=body,
        headers={**phone.headers, "Content-Type": "application/json"},
        # Chunked: no length up front; the server reads until the end of the stream.
        environ_overrides={"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    assert counts(db) == NOTHING


# Credentials: the JSON error shape, and nothing stored.


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("missing", "token_missing"),
        ("garbage", "token_invalid"),
        ("expired", "token_expired"),
        ("revoked", "token_revoked"),
        ("not bearer", "token_missing"),
    ],
)
def test_bad_credentials_are_a_json_401_and_store_nothing(client, db, phone, change, code):
    headers = dict(phone.headers)
    device = _db.session.get(Device, phone.device_id)
    if change == "missing":
        headers = {}
    elif change == "garbage":
        headers = {"Authorization": "Bearer " + "x" * 32}
    elif change == "expired":
        device.expires_at = utcnow() - timedelta(seconds=1)
    elif change == "revoked":
        device.revoked_at = utcnow()
    else:
        headers = {"Authorization": "Basic " + phone.token}
    _db.session.commit()
    body = {"device_id": phone.device_id, "runs": [run_payload(phone)]}
    response = client.post("/api/v1/sync", json=body, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == code
    assert set(response.json["error"]) == {"code", "message", "fields"}
    assert counts(db) == NOTHING

"""The officer's side: /c/<token> shows the hero, checks in once per phone, refuses bad input."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from r4h_pwa.models import utcnow
from tests.helpers import checkins, csrf_token

GOOD = {
    "name": "Sgt. Maria Lopez",
    "agency": "Winter Springs PD",
    "badge": "1432",
    "role": "escort",
}


def test_form_shows_the_hero_time_and_track(client, run):
    response = client.get(f"/c/{run.checkin_token}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Officer Jane Doe" in body
    assert "Example County Sheriff&#39;s Office" in body
    assert "Winter Springs HS" in body
    local = run.scheduled_at.astimezone(ZoneInfo("America/New_York"))
    assert f"{local:%A, %B} {local.day}, {local.year} at" in body
    for name in ("name", "agency", "badge", "role", "public"):
        assert f'name="{name}"' in body
    assert 'name="public" type="checkbox" value="y"' in body
    assert "checked" not in body.split('name="public"')[1].split(">")[0]
    assert '<input checked id="role-0" name="role" type="radio" value="escort">' in body


def test_form_is_private_and_not_indexed(client, run):
    response = client.get(f"/c/{run.checkin_token}")
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex' in response.get_data(as_text=True)


def test_form_sets_a_signed_httponly_cookie_scoped_to_the_token(client, run):
    response = client.get(f"/c/{run.checkin_token}")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("r4h_checkin=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert f"Path=/c/{run.checkin_token}" in cookie


def test_post_checks_in_and_names_the_hero(client, db, run):
    client.get(f"/c/{run.checkin_token}")
    response = client.post(f"/c/{run.checkin_token}", data=GOOD)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "You're checked in" in body
    assert "Officer Jane Doe" in body
    [stored] = checkins(db)
    assert (stored.name, stored.agency, stored.badge, stored.role) == (
        "Sgt. Maria Lopez",
        "Winter Springs PD",
        "1432",
        "escort",
    )
    assert stored.source == "qr"
    assert stored.run_id == run.id


def test_public_is_off_unless_ticked(client, db, run):
    client.post(f"/c/{run.checkin_token}", data=GOOD)
    assert checkins(db)[0].public is False


def test_public_is_stored_when_ticked(client, db, run):
    client.post(f"/c/{run.checkin_token}", data={**GOOD, "public": "y"})
    assert checkins(db)[0].public is True


def test_role_defaults_to_escort(client, db, run):
    client.post(f"/c/{run.checkin_token}", data={"name": "Deputy Kim"})
    assert checkins(db)[0].role == "escort"


def test_same_phone_submitting_again_updates_its_own_checkin(client, db, run):
    client.get(f"/c/{run.checkin_token}")
    client.post(f"/c/{run.checkin_token}", data=GOOD)
    first = checkins(db)[0]
    response = client.post(
        f"/c/{run.checkin_token}",
        data={**GOOD, "name": "Maria Lopez", "role": "runner", "public": "y"},
    )
    assert response.status_code == 200
    assert "You're checked in" in response.get_data(as_text=True)
    db.session.expire_all()
    [stored] = checkins(db)
    assert stored.id == first.id
    assert (stored.name, stored.role, stored.public) == ("Maria Lopez", "runner", True)


def test_same_phone_without_a_prior_get_still_updates(client, db, run):
    client.post(f"/c/{run.checkin_token}", data=GOOD)
    client.post(f"/c/{run.checkin_token}", data={**GOOD, "badge": "9"})
    db.session.expire_all()
    [stored] = checkins(db)
    assert stored.badge == "9"


def test_two_phones_make_two_checkins(app, db, run):
    app.test_client().post(f"/c/{run.checkin_token}", data=GOOD)
    app.test_client().post(f"/c/{run.checkin_token}", data={**GOOD, "name": "Ofc. Ray"})
    assert sorted(c.name for c in checkins(db)) == ["Ofc. Ray", "Sgt. Maria Lopez"]


def test_the_form_comes_back_filled_in_for_the_same_phone(client, run):
    client.post(f"/c/{run.checkin_token}", data=GOOD)
    body = client.get(f"/c/{run.checkin_token}").get_data(as_text=True)
    assert "Update your check-in" in body
    assert 'value="Sgt. Maria Lopez"' in body


def test_a_forged_cookie_is_ignored(app, db, run):
    victim = app.test_client()
    victim.post(f"/c/{run.checkin_token}", data=GOOD)
    attacker = app.test_client()
    stolen_id = checkins(db)[0].id
    attacker.set_cookie(
        "r4h_checkin", f'{{"run":"{run.id}","id":"{stolen_id}"}}', path=f"/c/{run.checkin_token}"
    )
    attacker.post(f"/c/{run.checkin_token}", data={**GOOD, "name": "Mallory"})
    db.session.expire_all()
    assert sorted(c.name for c in checkins(db)) == ["Mallory", "Sgt. Maria Lopez"]


def test_a_cookie_for_another_run_does_not_move_a_checkin(app, db, run):
    from tests.factories import make_run, make_runner

    other = make_run(make_runner())
    db.session.commit()
    phone = app.test_client()
    phone.post(f"/c/{run.checkin_token}", data=GOOD)
    cookie = phone.get_cookie("r4h_checkin", path=f"/c/{run.checkin_token}")
    phone.set_cookie("r4h_checkin", cookie.value, path=f"/c/{other.checkin_token}")
    phone.post(f"/c/{other.checkin_token}", data=GOOD)
    db.session.expire_all()
    assert sorted(c.run_id for c in checkins(db)) == sorted([run.id, other.id])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**GOOD, "name": ""}, "Please enter your name."),
        ({**GOOD, "name": "   "}, "Please enter your name."),
        ({**GOOD, "name": "x" * 10_240}, "120 characters or fewer"),
        ({**GOOD, "agency": "y" * 161}, "160 characters or fewer"),
        ({**GOOD, "badge": "z" * 61}, "60 characters or fewer"),
        ({**GOOD, "role": "chief"}, "Choose escort, runner or supporter."),
        ({**GOOD, "name": "Bad\x07Name"}, "Use letters, numbers and punctuation only."),
    ],
    ids=[
        "empty-name",
        "blank-name",
        "10kB-name",
        "long-agency",
        "long-badge",
        "bad-role",
        "control-char",
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_stored(
    client, db, run, data, message
):
    response = client.post(f"/c/{run.checkin_token}", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert "You're checked in" not in body
    assert "Please fix the fields marked below." in body
    assert checkins(db) == []


def test_a_nul_character_is_refused_and_nothing_stored(client, db, run):
    # The app refuses NUL in any form before the view runs.
    response = client.post(f"/c/{run.checkin_token}", data={**GOOD, "agency": "PD\x00"})
    assert response.status_code == 400
    assert "A field contains a NUL character." in response.get_data(as_text=True)
    assert checkins(db) == []


def test_a_bad_update_leaves_the_first_checkin_as_it_was(client, db, run):
    client.post(f"/c/{run.checkin_token}", data=GOOD)
    client.post(f"/c/{run.checkin_token}", data={**GOOD, "name": "x" * 10_240})
    db.session.expire_all()
    [stored] = checkins(db)
    assert stored.name == "Sgt. Maria Lopez"


def test_html_is_stored_as_text_and_shown_escaped(client, db, run):
    data = {
        "name": "<script>alert(1)</script>",
        "agency": '<img src=x onerror="alert(2)">',
        "badge": "<b>7</b>",
        "role": "runner",
    }
    response = client.post(f"/c/{run.checkin_token}", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in body
    assert "&lt;b&gt;7&lt;/b&gt;" in body
    assert "<script>alert(1)" not in body
    assert "<img src=x" not in body
    assert "<b>7</b>" not in body
    [stored] = checkins(db)
    assert stored.name == "<script>alert(1)</script>"
    assert stored.agency == '<img src=x onerror="alert(2)">'


@pytest.fixture
def csrf_on(app_config):
    """Turn CSRF protection on (it is off in the shared test config)."""
    app_config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def limits_on(app_config):
    """Turn rate limiting on (it is off in the shared test config)."""
    app_config["RATELIMIT_ENABLED"] = True


def test_missing_csrf_token_is_refused_and_nothing_stored(csrf_on, client, db, run):
    client.get(f"/c/{run.checkin_token}")
    response = client.post(f"/c/{run.checkin_token}", data=GOOD)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "without its security code" in body
    assert 'value="Sgt. Maria Lopez"' in body  # what they typed is kept
    assert checkins(db) == []


def test_csrf_token_from_the_form_is_accepted(csrf_on, client, db, run):
    page = client.get(f"/c/{run.checkin_token}").get_data(as_text=True)
    response = client.post(f"/c/{run.checkin_token}", data={**GOOD, "csrf_token": csrf_token(page)})
    assert response.status_code == 200
    assert len(checkins(db)) == 1


def test_a_wrong_csrf_token_is_refused(csrf_on, client, db, run):
    client.get(f"/c/{run.checkin_token}")
    response = client.post(f"/c/{run.checkin_token}", data={**GOOD, "csrf_token": "forged"})
    assert response.status_code == 400
    assert checkins(db) == []


def test_an_unknown_token_gets_a_clear_404_and_stores_nothing(client, db, run):
    token = "A" * 32
    get = client.get(f"/c/{token}")
    post = client.post(f"/c/{token}", data=GOOD)
    for response in (get, post):
        assert response.status_code == 404
        body = response.get_data(as_text=True)
        assert "This check-in code isn" in body
        assert "Traceback" not in body
        assert "Officer Jane Doe" not in body
    assert checkins(db) == []


@pytest.mark.parametrize("token", ["short", "x" * 200, "has space", "%3Cscript%3E"])
def test_malformed_tokens_get_the_same_404(client, token):
    response = client.get(f"/c/{token}")
    assert response.status_code == 404
    assert "This check-in code isn" in response.get_data(as_text=True)


def test_a_revoked_token_gets_a_clear_404_and_stores_nothing(client, db, run):
    run.checkin_revoked_at = utcnow()
    db.session.commit()
    get = client.get(f"/c/{run.checkin_token}")
    post = client.post(f"/c/{run.checkin_token}", data=GOOD)
    for response in (get, post):
        assert response.status_code == 404
        body = response.get_data(as_text=True)
        assert "This check-in code isn" in body
        assert "Officer Jane Doe" not in body
    assert checkins(db) == []


def test_an_expired_token_gets_a_clear_410_and_stores_nothing(client, db, run):
    run.started_at = utcnow() - timedelta(hours=25, minutes=10)
    run.finished_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    get = client.get(f"/c/{run.checkin_token}")
    post = client.post(f"/c/{run.checkin_token}", data=GOOD)
    for response in (get, post):
        assert response.status_code == 410
        assert "Check-in has closed" in response.get_data(as_text=True)
    assert checkins(db) == []


def test_a_token_still_accepts_within_24_hours_of_the_finish(client, db, run):
    run.finished_at = utcnow() - timedelta(hours=23, minutes=50)
    db.session.commit()
    response = client.post(f"/c/{run.checkin_token}", data=GOOD)
    assert response.status_code == 200
    assert len(checkins(db)) == 1


def test_a_json_client_gets_json_errors(client, run):
    response = client.get("/c/" + "B" * 32, headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "checkin_unknown"


def test_the_11th_submission_in_a_minute_is_rate_limited(limits_on, client, db, run):
    statuses = [client.post(f"/c/{run.checkin_token}", data=GOOD).status_code for _ in range(10)]
    assert statuses == [200] * 10
    response = client.post(f"/c/{run.checkin_token}", data=GOOD)
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert "Please wait a minute" in body
    assert "Traceback" not in body
    assert len(checkins(db)) == 1  # ten posts from one phone: still one check-in


@pytest.fixture
def small_run_limit(app_config):
    """Rate limits on, with a run-wide limit small enough to reach in a test."""
    app_config.update(RATELIMIT_ENABLED=True, CHECKIN_RUN_RATE_LIMIT="3 per hour")


def test_the_run_wide_limit_stops_a_flood_from_many_addresses(small_run_limit, app, db, run):
    statuses = []
    for n in range(4):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        statuses.append(
            client.post(
                f"/c/{run.checkin_token}", data={**GOOD, "name": f"Officer {n}"}
            ).status_code
        )
    assert statuses == [200, 200, 200, 429]
    assert len(checkins(db)) == 3


def test_escorts_sharing_one_address_are_not_refused_together(limits_on, app, db, run):
    # A school's Wi-Fi or a carrier's NAT: 30 phones, one address, all within a minute.
    statuses = [
        app.test_client()
        .post(f"/c/{run.checkin_token}", data={**GOOD, "name": f"Officer {n}"})
        .status_code
        for n in range(30)
    ]
    assert statuses == [200] * 30
    assert len(checkins(db)) == 30


@pytest.fixture
def small_address_limit(app_config):
    """Rate limits on, with a per-address limit small enough to reach in a test."""
    app_config.update(RATELIMIT_ENABLED=True, CHECKIN_ADDRESS_RATE_LIMIT="5 per minute")


def test_dropping_the_cookie_does_not_lift_the_address_limit(small_address_limit, app, db, run):
    statuses = [
        app.test_client()
        .post(f"/c/{run.checkin_token}", data={**GOOD, "name": f"Bot {n}"})
        .status_code
        for n in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    assert len(checkins(db)) == 5


def test_the_phone_limit_counts_invalid_submissions_too(limits_on, client, db, run):
    statuses = [
        client.post(f"/c/{run.checkin_token}", data={"name": ""}).status_code for _ in range(11)
    ]
    assert statuses == [422] * 10 + [429]
    assert checkins(db) == []


def test_the_form_has_no_inline_script_or_style(client, run):
    body = client.get(f"/c/{run.checkin_token}").get_data(as_text=True)
    assert "<script" not in body
    assert "style=" not in body
    assert "<style" not in body


def test_no_field_is_disabled_or_carries_a_none_attribute(client, run):
    body = client.get(f"/c/{run.checkin_token}").get_data(as_text=True)
    assert "disabled" not in body
    assert '="None"' not in body

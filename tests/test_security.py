"""Security basics: who may see what, CSRF, and the headers every response carries."""

import re

import pytest
import sqlalchemy as sa

from tests.factories import PASSWORD, make_runner
from tests.helpers import csrf_token

# Endpoints that answer without a login. Everything else must refuse an anonymous visitor.
PUBLIC_ENDPOINTS = {
    "static",
    "pages.get_home",
    "pages.get_app",
    "pages.get_service_worker",
    "pages.get_manifest",
    "pages.get_offline",  # the service worker's offline fallback page
    "auth.login",
    "auth.post_logout",  # refuses without a CSRF token; signs out nobody
    "auth.post_token",  # exchanges a password for a token; rate-limited
    "api.get_health",
    "api.get_openapi",
    "checkin.get_checkin",  # by unguessable token only
    "checkin.post_checkin",
    "flags.get_family",  # by unguessable token only
    "flags.post_ack",
    "flags.get_family_thanks",  # by unguessable token only
    "flags.get_family_hide",  # by unguessable token only: "Remove this page?"
    "flags.post_family_hide",  # by unguessable token, with CSRF
    "flags.get_family_photo",  # by unguessable token, photos not hidden only
    "flags.get_family_photo_page_copy",  # the same, the page-sized copy
    "flags.get_honor",  # the public wall of honor
    "flags.get_honor_hero",  # a hero's page on the wall: the tribute and the miles, nothing private
    "metrics.get_metrics",  # by address, not login: METRICS_ALLOWED_NETWORKS only
}

REFUSED = {401, 403}


def _sample_url(rule) -> str:
    url = rule.rule
    for name in rule.arguments:
        converter = rule._converters[name]
        if converter.__class__.__name__ == "AnyConverter":  # <any(hide, show):action>
            value = sorted(converter.items)[0]
        elif converter.__class__.__name__ == "IntegerConverter":
            value = "1"
        else:
            value = "00000000-0000-4000-8000-000000000000"
        url = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, url)
    return url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_only_the_allow_list_answers_anonymously(app, client):
    checked = 0
    leaks = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            location = response.headers.get("Location", "")
            refused = response.status_code in REFUSED or (
                response.status_code == 302 and "/login" in location
            )
            if not refused:
                leaks.append(f"{method} {url} ({rule.endpoint}) answered {response.status_code}")
            checked += 1
    assert leaks == []
    assert checked > 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_allow_list_names_only_real_endpoints_that_do_answer_anonymously(app, client):
    endpoints = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    assert endpoints.keys() >= PUBLIC_ENDPOINTS, PUBLIC_ENDPOINTS - endpoints.keys()
    # Every allow-listed GET answers a visitor without a login (or with a plain 404 for an
    # unknown token): none of them sits behind a guard, so the list says no more than it must.
    guarded = []
    for endpoint in sorted(PUBLIC_ENDPOINTS - {"static"}):
        rule = endpoints[endpoint]
        if "GET" not in rule.methods:
            continue
        with client.get(_sample_url(rule)) as response:
            location = response.headers.get("Location", "")
            if response.status_code in REFUSED or (
                response.status_code == 302 and "/login" in location
            ):
                guarded.append(f"{endpoint} answered {response.status_code}")
    assert guarded == []


@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def test_login_post_without_csrf_token_is_refused(csrf_on, app, client, db):
    make_runner(email="a@example.org")
    db.session.commit()
    response = client.post("/login", data={"email": "a@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert b"security token" in response.data
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_login_post_with_csrf_token_signs_in(csrf_on, app, client, db):
    make_runner(email="a@example.org")
    db.session.commit()
    page = client.get("/login").get_data(as_text=True)
    token = csrf_token(page)
    response = client.post(
        "/login", data={"email": "a@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session["_user_id"]


def test_logout_post_without_csrf_token_is_refused(csrf_on, app, client, db):
    make_runner(email="a@example.org")
    db.session.commit()
    page = client.get("/login").get_data(as_text=True)
    token = csrf_token(page)
    client.post(
        "/login", data={"email": "a@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert client.post("/logout").status_code == 400
    with client.session_transaction() as session:
        assert session["_user_id"]


def test_wrong_password_does_not_sign_in(app, client, db):
    make_runner(email="a@example.org")
    db.session.commit()
    response = client.post("/login", data={"email": "a@example.org", "password": "nope"})
    assert response.status_code == 422
    assert b"do not match" in response.data
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_login_redirect_never_leaves_the_site(app, client, db):
    make_runner(email="a@example.org")
    db.session.commit()
    response = client.post(
        "/login?next=//evil.example/x",
        data={"email": "a@example.org", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


@pytest.mark.parametrize("path", ["/", "/login", "/healthz", "/api/v1/openapi.json", "/nope"])
def test_every_response_carries_strict_headers(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_is_httponly_and_samesite(app, client, db):
    make_runner(email="a@example.org")
    db.session.commit()
    response = client.post("/login", data={"email": "a@example.org", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_templates_contain_no_inline_script(app):
    from pathlib import Path

    root = Path(app.template_folder)
    offenders = []
    for template in root.rglob("*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text):
            if "src=" not in match.group(1):
                offenders.append(str(template))
        if re.search(r"\son[a-z]+\s*=", text) or re.search(r'\sstyle\s*=\s*"', text):
            offenders.append(str(template))
    assert offenders == []


def test_login_is_rate_limited(app_config, tmp_path):
    from r4h_pwa import create_app
    from r4h_pwa.extensions import db

    app_config.update(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    app = create_app(app_config)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    codes = [
        client.post("/login", data={"email": "x@example.org", "password": "x"}).status_code
        for _ in range(2)
    ]
    codes.append(client.post("/api/v1/auth/token", json={}).status_code)
    codes.append(client.post("/login", data={"email": "x@example.org"}).status_code)
    codes.append(client.post("/api/v1/auth/token", json={}).status_code)
    # One budget across the page and the API, so a guesser cannot switch doors.
    assert codes == [422, 422, 422, 429, 429]
    assert client.get("/login").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_passwords_are_stored_as_salted_hashes(db):
    first = make_runner(email="one@example.org")
    second = make_runner(email="two@example.org")
    assert PASSWORD not in first.password_hash
    assert first.password_hash != second.password_hash  # same password, different salt
    assert first.check_password(PASSWORD)
    assert not first.check_password(PASSWORD + "x")


def test_production_passwords_are_stored_as_scrypt_hashes(tmp_path):
    from r4h_pwa import create_app
    from r4h_pwa.extensions import db
    from r4h_pwa.models import Runner

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    with app.app_context():
        db.create_all()
        runner = Runner(email="s@example.org", name="S", role="runner")
        runner.set_password(PASSWORD)
        db.session.add(runner)
        db.session.commit()
        stored = db.session.scalar(sa.select(Runner.password_hash))
        db.engine.dispose()
    # werkzeug writes "scrypt:n:r:p$salt$hash"; n=2**15 is its default cost.
    method, salt, digest = stored.split("$")
    assert method == "scrypt:32768:8:1"
    assert len(salt) >= 16 and len(bytes.fromhex(digest)) == 64


@pytest.fixture
def proxied(app_config):
    """Builds the real create_app with PROXY_FIX set, plus a probe route that shows what the
    app sees; disposes of each app's database connections afterwards."""
    from flask import jsonify, request

    from r4h_pwa import create_app
    from r4h_pwa.extensions import db

    apps = []

    def build(proxy_fix: bool):
        app = create_app({**app_config, "PROXY_FIX": proxy_fix})
        app.add_url_rule(
            "/_probe",
            "probe",
            lambda: jsonify(
                remote_addr=request.remote_addr, scheme=request.scheme, host=request.host
            ),
        )
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "r4h.example.org",
}


def test_behind_an_https_proxy_responses_carry_hsts(proxied):
    client = proxied(proxy_fix=True).test_client()
    secure = client.get("/healthz", headers=FORWARDED)
    plain = client.get("/healthz", headers={"X-Forwarded-Proto": "http"})
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in plain.headers


def test_with_proxy_fix_the_app_sees_the_client_the_proxy_names(proxied):
    client = proxied(proxy_fix=True).test_client()
    seen = client.get("/_probe", headers=FORWARDED).json
    assert seen == {"remote_addr": "203.0.113.7", "scheme": "https", "host": "r4h.example.org"}
    # One proxy is trusted: a client's own X-Forwarded-For entry before it is not believed.
    chained = client.get(
        "/_probe", headers={**FORWARDED, "X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    )
    assert chained.json["remote_addr"] == "203.0.113.7"


def test_without_proxy_fix_forwarded_headers_are_ignored(proxied):
    client = proxied(proxy_fix=False).test_client()
    response = client.get("/healthz", headers=FORWARDED)
    assert "Strict-Transport-Security" not in response.headers
    seen = client.get("/_probe", headers=FORWARDED).json
    assert seen == {"remote_addr": "127.0.0.1", "scheme": "http", "host": "localhost"}

"""Security basics: who may see what, CSRF, and the headers every response carries."""

import re

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

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
    "flags.get_honor",  # the public wall of honor
}

REFUSED = {401, 403}


def _sample_url(rule) -> str:
    url = rule.rule
    for name in rule.arguments:
        converter = rule._converters[name].__class__.__name__
        value = "1" if converter == "IntegerConverter" else "00000000-0000-4000-8000-000000000000"
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
def test_allow_list_names_only_real_endpoints(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    # Endpoints of features still to come may be listed; the real ones must exist by then.
    core = {"static", "auth.login", "auth.post_logout", "auth.post_token", "api.get_health",
            "api.get_openapi", "pages.get_home"}
    assert core <= endpoints


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
    client.post("/login", data={"email": "a@example.org", "password": PASSWORD,
                                "csrf_token": token})
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
    codes = [client.post("/login", data={"email": "x@example.org", "password": "x"}).status_code
             for _ in range(2)]
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


def test_production_passwords_use_scrypt(tmp_path):
    from r4h_pwa import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt"


def test_behind_an_https_proxy_responses_carry_hsts(app_config, app):
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # as PROXY_FIX=True does
    client = app.test_client()
    secure = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    plain = client.get("/healthz")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in plain.headers


def test_proxy_fix_setting_installs_the_middleware(app_config):
    from r4h_pwa import create_app

    app_config.update(PROXY_FIX=True)
    assert isinstance(create_app(app_config).wsgi_app, ProxyFix)
    app_config.update(PROXY_FIX=False)
    assert not isinstance(create_app(app_config).wsgi_app, ProxyFix)


def test_without_proxy_fix_forwarded_headers_are_ignored(client):
    response = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers

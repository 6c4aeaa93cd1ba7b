"""The admin's side: roster, edit, remove, CSV, revoke and reissue, the printable sheet."""

import csv
import io
import re

import pytest

from r4h_pwa.models import Checkin, utcnow
from tests.factories import PASSWORD, make_run, make_runner
from tests.helpers import checkins, csrf_token

SCRIPT = "<script>alert(1)</script>"
CONFIRMED = {"confirmed": "yes"}  # the confirmation page's POST


def _add(db, run, **kw) -> Checkin:
    checkin = Checkin(run=run, name=kw.pop("name", "Deputy Ann Lee"), **kw)
    db.session.add(checkin)
    db.session.commit()
    return checkin


def _pages(run, checkin_id="00000000-0000-4000-8000-000000000000"):
    base = f"/admin/runs/{run.id}"
    return [
        ("get", f"{base}/checkins"),
        ("get", f"{base}/checkins.csv"),
        ("get", f"{base}/checkin-sheet"),
        ("get", f"{base}/checkins/{checkin_id}/edit"),
        ("post", f"{base}/checkins/{checkin_id}/edit"),
        ("post", f"{base}/checkins/{checkin_id}/remove"),
        ("post", f"{base}/checkin-token/revoke"),
        ("post", f"{base}/checkin-token/reissue"),
    ]


def test_admin_pages_need_a_signed_in_user(client, db, run):
    for method, path in _pages(run):
        response = getattr(client, method)(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]


def test_admin_pages_refuse_a_runner(app, db, run):
    runner = make_runner()
    db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": runner.email, "password": PASSWORD})
    token_before = run.checkin_token
    for method, path in _pages(run):
        assert getattr(client, method)(path).status_code == 403, path
    db.session.expire_all()
    assert run.checkin_token == token_before
    assert run.checkin_revoked_at is None


def test_unknown_run_or_checkin_is_404(admin_client, db, run):
    assert admin_client.get("/admin/runs/no-such-run/checkins").status_code == 404
    assert admin_client.get(f"/admin/runs/{run.id}/checkins/nope/edit").status_code == 404
    other = _add(db, make_run(make_runner()))
    # A check-in of another run is not reachable under this run.
    assert admin_client.get(f"/admin/runs/{run.id}/checkins/{other.id}/edit").status_code == 404
    assert admin_client.post(f"/admin/runs/{run.id}/checkins/{other.id}/remove").status_code == 404
    assert len(checkins(db)) == 1


def test_roster_lists_checkins_of_both_sources(admin_client, db, run):
    _add(db, run, name="Deputy Ann Lee", agency="Seminole County SO", public=True)
    _add(db, run, name="Cpl. Ben Ortiz", source="phone")
    _add(db, make_run(make_runner()), name="Someone Else")
    response = admin_client.get(f"/admin/runs/{run.id}/checkins")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "2 checked in" in body
    assert "Deputy Ann Lee" in body and "Seminole County SO" in body
    assert "Cpl. Ben Ortiz" in body and "Runner's phone" in body
    assert "Someone Else" not in body
    assert f"https://r4h.test/c/{run.checkin_token}" in body


def test_roster_shows_html_escaped(admin_client, db, run):
    _add(db, run, name=SCRIPT, agency="<b>PD</b>")
    body = admin_client.get(f"/admin/runs/{run.id}/checkins").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;b&gt;PD&lt;/b&gt;" in body
    assert SCRIPT not in body
    assert "<b>PD</b>" not in body


def test_admin_edits_a_checkin(admin_client, db, run):
    checkin = _add(db, run)
    response = admin_client.post(
        f"/admin/runs/{run.id}/checkins/{checkin.id}/edit",
        data={
            "name": "Deputy Ann Lee-Park",
            "agency": "SCSO",
            "badge": "77",
            "role": "runner",
            "public": "y",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (checkin.name, checkin.agency, checkin.badge, checkin.role, checkin.public) == (
        "Deputy Ann Lee-Park",
        "SCSO",
        "77",
        "runner",
        True,
    )
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved the check-in of Deputy Ann Lee-Park." in page


def test_edit_form_is_filled_in(admin_client, db, run):
    checkin = _add(db, run, badge="4411")
    body = admin_client.get(f"/admin/runs/{run.id}/checkins/{checkin.id}/edit").get_data(
        as_text=True
    )
    assert 'value="Deputy Ann Lee"' in body and 'value="4411"' in body


@pytest.mark.parametrize("data", [{"name": ""}, {"name": "x" * 121}, {"name": "A", "role": "x"}])
def test_a_bad_edit_changes_nothing(admin_client, db, run, data):
    checkin = _add(db, run)
    response = admin_client.post(f"/admin/runs/{run.id}/checkins/{checkin.id}/edit", data=data)
    assert response.status_code == 422
    db.session.expire_all()
    assert checkin.name == "Deputy Ann Lee"
    assert checkin.role == "escort"


def test_admin_removes_a_checkin(admin_client, db, run):
    keep = _add(db, run, name="Keep Me")
    gone = _add(db, run, name="Remove Me")
    response = admin_client.post(
        f"/admin/runs/{run.id}/checkins/{gone.id}/remove", data={"confirmed": "yes"}
    )
    assert response.status_code == 302
    assert [c.id for c in checkins(db)] == [keep.id]


def test_admin_forms_need_csrf(app_config, app, db, run):
    app.config["WTF_CSRF_ENABLED"] = True
    from tests.factories import make_admin
    from tests.helpers import pass_second_factor

    admin = make_admin()
    checkin = _add(db, run)
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    pass_second_factor(
        client,
        client.post(
            "/login",
            data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf_token(login)},
        ),
    )
    assert client.post(f"/admin/runs/{run.id}/checkins/{checkin.id}/remove").status_code == 400
    assert client.post(f"/admin/runs/{run.id}/checkin-token/revoke").status_code == 400
    assert len(checkins(db)) == 1
    db.session.expire_all()
    assert run.checkin_revoked_at is None
    page = client.get(f"/admin/runs/{run.id}/checkins").get_data(as_text=True)
    response = client.post(
        f"/admin/runs/{run.id}/checkins/{checkin.id}/remove",
        data={"csrf_token": csrf_token(page), "confirmed": "yes"},
    )
    assert response.status_code == 302
    assert checkins(db) == []


def test_csv_export(admin_client, db, run):
    _add(db, run, name="Deputy Ann Lee", agency="SCSO", badge="4411", public=True)
    _add(db, run, name="José Núñez", role="runner", source="phone")
    response = admin_client.get(f"/admin/runs/{run.id}/checkins.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["name", "agency", "badge", "role", "public", "source", "checked_in_at", "id"]
    assert rows[1][:6] == ["Deputy Ann Lee", "SCSO", "4411", "escort", "yes", "qr"]
    assert rows[2][:6] == ["José Núñez", "", "", "runner", "no", "phone"]
    assert len(rows) == 3


@pytest.mark.parametrize(
    ("name", "cell"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Ann = Lee", "Ann = Lee"),
    ],
)
def test_csv_cells_cannot_run_as_formulas(admin_client, db, run, name, cell):
    _add(db, run, name=name, agency=name)
    text = admin_client.get(f"/admin/runs/{run.id}/checkins.csv").get_data(as_text=True)
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[0] == cell
    assert row[1] == cell


def test_csv_carries_html_as_inert_text(admin_client, db, run):
    # A CSV is data, not a page: the text goes out exactly as typed (HTML-escaping it would
    # corrupt names like O'Brien), as a download that browsers must not sniff as HTML.
    _add(db, run, name=SCRIPT)
    response = admin_client.get(f"/admin/runs/{run.id}/checkins.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[1][0] == SCRIPT


def test_revoke_stops_the_code(admin_client, client, db, run):
    token = run.checkin_token
    response = admin_client.post(f"/admin/runs/{run.id}/checkin-token/revoke", data=CONFIRMED)
    assert response.status_code == 302
    db.session.expire_all()
    assert run.checkin_revoked_at is not None
    assert client.get(f"/c/{token}").status_code == 404
    assert client.post(f"/c/{token}", data={"name": "Late"}).status_code == 404
    assert checkins(db) == []
    page = admin_client.get(f"/admin/runs/{run.id}/checkins").get_data(as_text=True)
    assert "Revoked" in page


def test_reissue_gives_a_new_code_and_kills_the_old(admin_client, client, db, run):
    old = run.checkin_token
    admin_client.post(f"/admin/runs/{run.id}/checkin-token/revoke", data=CONFIRMED)
    response = admin_client.post(f"/admin/runs/{run.id}/checkin-token/reissue", data=CONFIRMED)
    assert response.status_code == 302
    db.session.expire_all()
    new = run.checkin_token
    assert new != old
    assert len(new) == 32  # 24 random bytes, base64url
    assert run.checkin_revoked_at is None
    assert client.get(f"/c/{old}").status_code == 404
    assert client.get(f"/c/{new}").status_code == 200
    assert client.post(f"/c/{new}", data={"name": "Ofc. New"}).status_code == 200
    assert [c.name for c in checkins(db)] == ["Ofc. New"]


def test_checkin_sheet_has_the_big_qr_the_hero_and_the_time(admin_client, db, run):
    response = admin_client.get(f"/admin/runs/{run.id}/checkin-sheet")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert '<div class="sheet-qr" data-testid="checkin-sheet-qr"><svg' in body
    assert "Officer Jane Doe" in body
    assert "Winter Springs HS" in body
    assert f"https://r4h.test/c/{run.checkin_token}" in body
    assert "@media print" not in body and "<style" not in body  # print rules live in CSS


def test_checkin_sheet_qr_decodes_to_the_checkin_url(admin_client, db, run):
    import zxingcpp
    from PIL import Image as image_module

    body = admin_client.get(f"/admin/runs/{run.id}/checkin-sheet").get_data(as_text=True)
    svg = body.split('data-testid="checkin-sheet-qr">')[1].split("</svg>")[0]
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    # qrcode's path image draws each dark module as a unit square "Mx,yH..V..H..z".
    dark = {(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)H", svg)}
    assert dark
    scale = 8
    image = image_module.new("L", (size * scale, size * scale), 255)
    for x, y in dark:
        image.paste(0, (x * scale, y * scale, (x + 1) * scale, (y + 1) * scale))
    [result] = zxingcpp.read_barcodes(image)
    assert result.text == f"https://r4h.test/c/{run.checkin_token}"


def test_checkin_sheet_of_a_revoked_code_prints_no_qr(admin_client, db, run):
    run.checkin_revoked_at = utcnow()
    db.session.commit()
    body = admin_client.get(f"/admin/runs/{run.id}/checkin-sheet").get_data(as_text=True)
    assert "<svg" not in body
    assert run.checkin_token not in body
    assert "check-in code is revoked" in body

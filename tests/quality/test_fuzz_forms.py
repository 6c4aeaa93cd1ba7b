"""Property-based fuzzing of the forms, and NUL and lone surrogates in every text field of each.

The fuzz sends any subset of a form's fields, each any text, a field repeated or not, to the
public forms (login, escort check-in, the family's ack): never a 5xx, and a refused submission
changes nothing. Most text is free of NUL, so that the examples reach the form's own checks
rather than stopping at the app-wide NUL guard; the share that does is asserted.

Then every form the app shows (found by following the admin pages' links, plus the public
ones) gets a NUL and a lone surrogate in each of its text fields in turn: a 4xx, and nothing
stored. R4H_FUZZ_RANDOM=1 draws new examples on every run.
"""

import os
import re
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from r4h_pwa import create_app
from r4h_pwa.extensions import db
from tests.factories import make_admin, make_fuzz_targets
from tests.helpers import make_config, reset_schema, sign_in
from tests.quality.test_fuzz_api import database_fingerprint

RANDOM = bool(os.environ.get("R4H_FUZZ_RANDOM"))
EXAMPLES = 50
NUL_GUARD = b"NUL character"

_clean = st.characters(codec="utf-8", exclude_characters="\x00")
# Text that forms meet in the wild: empty, huge, unicode, markup, control characters (NUL is
# added to one field of a few examples only, by form_data).
field_text = st.one_of(
    st.text(_clean, max_size=40),
    st.text(_clean, min_size=200, max_size=12_000),
    st.sampled_from(
        [
            "",
            " ",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "=cmd|' /C calc'!A0",
            "é" * 130,
            "escort",
            "runner",
            "supporter",
            "y",
            "on",
            "true",
            "a@example.org",
            "\u202eevil",
            "\r\n\t",
        ]
    ),
)


@st.composite
def form_data(draw, fields: list[str]):
    """Pairs of (field, text): any subset of the fields, in any order, a field repeated or not;
    in about one example in ten, one value holds a NUL."""
    pairs = draw(st.lists(st.tuples(st.sampled_from(fields), field_text), max_size=len(fields) + 3))
    if pairs and draw(st.sampled_from(range(10))) == 9:
        at = draw(st.sampled_from(range(len(pairs))))
        pairs[at] = (pairs[at][0], pairs[at][1] + "\x00")
    return pairs


@pytest.fixture
def form_app(database_url, tmp_path):
    """An app with an admin, and a runner's planned run (its check-in token) and synced run
    (its family page)."""
    app = create_app(make_config(database_url, tmp_path))
    with app.app_context():
        reset_schema()
        make_admin(email="admin@example.org")
        world = make_fuzz_targets("forms@example.org", laps_per_mile=2)
        app.config["FUZZ_PATHS"] = {
            "checkin": f"/c/{world.planned.checkin_token}",
            "family": f"/f/{world.shipment.family_token}",
            "ack": f"/f/{world.shipment.family_token}/ack",
        }
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _fuzz(app, path: str, fields: list[str]):
    client = app.test_client()
    guarded = []

    @given(data=form_data(fields))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(data):
        before = database_fingerprint(app)
        response = client.post(
            path, data=urlencode(data), content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code < 500, (path, data)
        if response.status_code >= 400:
            assert database_fingerprint(app) == before, (path, data, response.status_code)
        guarded.append(NUL_GUARD in response.data)

    check()
    print(f"\nforms: {path}: {len(guarded) - sum(guarded)}/{len(guarded)} past the NUL guard")
    # Most examples reach the form's own checks, not only the app-wide NUL guard.
    assert sum(guarded) <= len(guarded) // 4, f"{sum(guarded)} of {len(guarded)} hit the guard"


def test_login_form_never_fails(form_app):
    _fuzz(form_app, "/login", ["email", "password", "csrf_token"])


def test_checkin_form_never_fails(form_app):
    _fuzz(
        form_app,
        form_app.config["FUZZ_PATHS"]["checkin"],
        ["name", "agency", "badge", "role", "public", "csrf_token"],
    )


def test_family_ack_form_never_fails(form_app):
    _fuzz(form_app, form_app.config["FUZZ_PATHS"]["ack"], ["message", "csrf_token"])


# --- NUL and lone surrogates in every text field of every form -------------------------------

TEXT_INPUTS = {
    "text",
    "email",
    "url",
    "search",
    "tel",
    "password",
    "number",
    "date",
    "datetime-local",
    "time",
}


class _Forms(HTMLParser):
    """The POST forms of a page: action, and fields with their default values; and its links."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.links: set[str] = set()
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.add(attrs["href"])
        elif tag == "form" and attrs.get("method", "get").lower() == "post":
            self.forms.append({"action": attrs.get("action") or "", "fields": [], "text": []})
        elif self.forms and tag in {"input", "select", "textarea"} and attrs.get("name"):
            form, name = self.forms[-1], attrs["name"]
            kind = attrs.get("type", "text").lower() if tag == "input" else tag
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            form["fields"].append([name, attrs.get("value") or ""])
            if kind in TEXT_INPUTS or tag == "textarea":
                form["text"].append(name)
            if tag == "textarea":
                self._textarea = name
        elif tag == "option" and self.forms and self.forms[-1]["fields"]:
            field = self.forms[-1]["fields"][-1]
            if not field[1] and ("selected" in attrs or attrs.get("value")):
                field[1] = attrs.get("value", "")

    def handle_data(self, data):
        if self._textarea and self.forms:
            for field in self.forms[-1]["fields"]:
                if field[0] == self._textarea:
                    field[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def _every_form(client, starts: list[str]) -> dict[str, dict]:
    """Every POST form with a text field on the pages reachable from starts (within /admin)."""
    seen, queue, forms = set(), list(starts), {}
    while queue:
        page = queue.pop()
        if page in seen:
            continue
        seen.add(page)
        with client.get(page) as response:
            if response.status_code != 200 or "html" not in response.content_type:
                continue
            parser = _Forms()
            parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            action = urljoin(page, form["action"]) if form["action"] else page
            if form["text"]:
                forms.setdefault(action, form)
        queue += [
            link.split("#")[0]
            for link in parser.links
            if link.startswith("/admin") and "/label" not in link and link not in seen
        ]
    return forms


HOSTILE = {"NUL": b"a\x00b", "lone surrogate": b"a\xed\xa0\x80b"}  # U+D800 as bytes


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_nul_and_lone_surrogates_in_every_text_field_of_every_form(form_app, value):
    paths = form_app.config["FUZZ_PATHS"]
    public = form_app.test_client()
    admin = form_app.test_client()
    with form_app.app_context():
        from r4h_pwa.models import Runner

        account = db.session.query(Runner).filter_by(email="admin@example.org").one()
        sign_in(admin, account.email)
    forms = {
        **_every_form(public, ["/login", paths["checkin"], paths["family"]]),
        **{action: ("admin", form) for action, form in _every_form(admin, ["/admin/"]).items()},
    }
    forms = {
        action: form if isinstance(form, tuple) else ("public", form)
        for action, form in forms.items()
    }
    # The public forms, and the admin forms for heroes, runners, tracks, runs and shipments.
    assert {"/login", paths["checkin"], paths["ack"]} <= forms.keys(), sorted(forms)
    assert sum(re.search(r"/new$|/edit$", action) is not None for action in forms) >= 6, sorted(
        forms
    )
    checked = []
    for action, (who, form) in sorted(forms.items()):
        if action.endswith("/logout"):
            continue
        client = admin if who == "admin" else public
        for name in form["text"]:
            body = "&".join(
                f"{urlencode({key: default})}"
                if key != name
                else urlencode({key: ""}) + value.decode("latin-1")
                for key, default in form["fields"]
            ).encode("latin-1")
            before = database_fingerprint(form_app)
            response = client.post(
                action, data=body, content_type="application/x-www-form-urlencoded"
            )
            assert response.status_code < 500, (action, name)
            if value == HOSTILE["NUL"]:
                assert response.status_code == 400, (action, name, response.status_code)
                assert database_fingerprint(form_app) == before, (action, name)
            checked.append((action, name))
    print(f"\nforms: {len(checked)} text fields in {len(forms)} forms refused {value!r}")
    assert len(checked) >= 20, checked

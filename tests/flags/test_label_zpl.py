"""GET /shipments/<id>/label.zpl: the 4x6 label as ZPL II, parsed back field by field."""

import re

import pytest

from r4h_pwa import labels
from tests.helpers import decode_qr, page_text, reload, sign_in

_FIELD = re.compile(r"\^FO(\d+),(\d+)(.*?)\^FD(.*?)\^FS", re.S)
_HEX = re.compile(r"_([0-9A-Fa-f]{2})")


def parse_zpl(text: str) -> dict:
    """The label's fields: {"qr": [data], "text": [(x, y, text)], "size": (w, h)}."""
    assert text.startswith("^XA") and text.rstrip().endswith("^XZ")
    width = int(re.search(r"\^PW(\d+)", text).group(1))
    length = int(re.search(r"\^LL(\d+)", text).group(1))
    qr, texts = [], []
    for x, y, commands, data in _FIELD.findall(text):
        if "^BQ" in commands:
            assert re.fullmatch(r"\^BQN,2,\d+", commands), commands
            # The ^BQ data starts with the error correction level and the input mode: "MA,".
            prefix, _, payload = data.partition(",")
            assert re.fullmatch(r"[HQML]A", prefix), prefix
            qr.append(payload)
        else:
            if "^FH_" in commands:
                data = _HEX.sub(lambda m: bytes.fromhex(m.group(1)).decode(), data)
            texts.append((int(x), int(y), data))
    return {"qr": qr, "text": texts, "size": (width, length)}


def _get(client, story, **kw):
    return client.get(f"/shipments/{story.shipment_id}/label.zpl", **kw)


def test_zpl_qr_code_holds_exactly_the_family_url(client, story):
    response = _get(client, story, headers=story.headers)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    label = parse_zpl(response.get_data(as_text=True))
    assert label["size"] == (812, 1218)
    assert label["qr"] == [f"https://r4h.test/f/{story.family_token}"]


def test_zpl_has_the_same_text_as_the_pdf(client, story):
    zpl = parse_zpl(_get(client, story, headers=story.headers).get_data(as_text=True))
    zpl_text = [text for _x, _y, text in zpl["text"]]
    pdf = client.get(f"/shipments/{story.shipment_id}/label.pdf", headers=story.headers)
    pdf_text = " ".join(page_text(pdf.data).split())
    for expected in (
        "FROM",
        "Running 4 Heroes",
        "Winter Springs, FL 32708",
        "TO",
        "Chief Chris Deisler",
        "Woodland Park, CO 80863",
        "Flag carried in honor of Officer Julian Becerra, Fountain Police Department: "
        "mile 1,294, run by Zechariah on February 14, 2023",
        "Scan to see the mile run for Officer Julian Becerra",
        f"r4h.test/f/{story.family_token}",
    ):
        assert expected in zpl_text
        assert expected in pdf_text
    for _x, y, _text in zpl["text"]:
        assert 0 <= y < 1218


def test_zpl_fields_escape_carets_tildes_and_underscores():
    label = labels.Label(
        return_address=("R4H ^XZ ~JA",),
        recipient=("Jo_Smith", "1 Main St", "Town, FL 32708"),
        honor_line="Flag",
        family_url="https://r4h.test/f/abc_DEF-123",
        short_url="r4h.test/f/x",
        code="Shipment 1",
        caption="Scan",
    )
    text = labels.zpl(label)
    assert text.count("^XZ") == 1 and "~JA" not in text
    parsed = parse_zpl(text)
    assert "R4H ^XZ ~JA" in [t for _x, _y, t in parsed["text"]]
    assert "Jo_Smith" in [t for _x, _y, t in parsed["text"]]
    assert parsed["qr"] == ["https://r4h.test/f/abc_DEF-123"]


def test_pdf_label_has_the_caption_under_its_qr_code(client, story):
    pdf = client.get(f"/shipments/{story.shipment_id}/label.pdf", headers=story.headers)
    assert "Scan to see the mile run for Officer Julian Becerra" in " ".join(
        page_text(pdf.data).split()
    )
    assert decode_qr(pdf.data) == [f"https://r4h.test/f/{story.family_token}"]


def test_zpl_is_never_cached_and_marks_a_draft_printed(client, db, story):
    response = _get(client, story, headers=story.headers)
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert reload(db, story.shipment_id).status == "label_printed"


@pytest.mark.parametrize("who", ["runner_email", "admin_email"])
def test_the_runner_and_an_admin_can_print_by_session(client, story, who):
    sign_in(client, getattr(story, who))
    assert _get(client, story).status_code == 200


def test_another_runner_gets_404_and_nobody_is_sent_to_login(client, db, story):
    other = _get(client, story, headers={"Authorization": f"Bearer {story.other_token}"})
    assert other.status_code == 404
    assert "^XA" not in other.get_data(as_text=True)
    assert _get(client, story).status_code == 302
    assert reload(db, story.shipment_id).status == "draft"

"""labels.py as pure functions: PDF bytes whose QR codes decode to the family URL."""

import pytest

from r4h_pwa import labels
from tests.helpers import decode_qr, page_sizes, page_text

URL = "https://r4h.example.org/f/Xq3_9aZk-LmP0rT7uV2wY5bC8dE1fG4h"


def _label(**overrides) -> labels.Label:
    values = {
        "return_address": ("Running 4 Heroes", "PO Box 0000", "Winter Springs, FL 32708"),
        "recipient": ("Chief Chris Deisler", "800 Research Drive", "Woodland Park, CO 80863"),
        "honor_line": "Flag carried in honor of Officer Julian Becerra, Fountain Police "
        "Department: mile 1,294, run by Zechariah on February 14, 2023",
        "family_url": URL,
        "short_url": URL.removeprefix("https://"),
        "code": "Shipment 3F2A-91C0",
    }
    values.update(overrides)
    return labels.Label(**values)


def _card(**overrides) -> labels.Card:
    values = {
        "hero_name": "Officer Julian Becerra",
        "agency": "Fountain Police Department",
        "end_of_watch": "February 11, 2023",
        "flag_type": "Thin blue line",
        "words": "This flag was carried for mile 1,294, run by Zechariah on February 14, 2023.",
        "family_url": URL,
        "short_url": URL.removeprefix("https://"),
        "org_name": "Running 4 Heroes",
    }
    values.update(overrides)
    return labels.Card(**values)


def test_label_is_4_by_6_inches_and_its_qr_code_decodes_to_the_url():
    pdf = labels.pdf("label", [_label()])
    assert pdf.startswith(b"%PDF-")
    assert page_sizes(pdf) == [(288.0, 432.0)]
    assert decode_qr(pdf) == [URL]


def test_label_shows_from_to_honor_line_short_url_and_code():
    text = " ".join(page_text(labels.pdf("label", [_label()])).split())
    for expected in (
        "FROM",
        "Winter Springs, FL 32708",
        "TO",
        "Chief Chris Deisler",
        "Woodland Park, CO 80863",
        "Flag carried in honor of Officer Julian",
        "r4h.example.org/f/Xq3_9aZk-LmP0rT7uV2wY5bC8dE1fG4h",
        "Shipment 3F2A-91C0",
    ):
        assert expected in text


def test_qr_code_is_vector_not_an_image():
    pdf = labels.pdf("label", [_label()])
    assert b"/Subtype /Image" not in pdf
    assert b"/XObject" not in pdf


def test_the_same_label_gives_the_same_bytes():
    assert labels.pdf("label", [_label()]) == labels.pdf("label", [_label()])


def test_keepsake_card_is_4_by_6_with_a_decodable_qr_code():
    pdf = labels.pdf("card", [_card()])
    assert page_sizes(pdf) == [(288.0, 432.0)]
    assert decode_qr(pdf) == [URL]
    text = page_text(pdf)
    assert "IN HONOR OF" in text and "Officer Julian Becerra" in text


def test_two_up_letter_puts_two_labels_on_each_page():
    other = URL[:-4] + "ZZZZ"
    pdf = labels.pdf("letter", [_label(), _label(family_url=other), _label()])
    assert page_sizes(pdf) == [(612.0, 792.0), (612.0, 792.0)]
    assert sorted(decode_qr(pdf, 0, scale=3)) == sorted([URL, other])
    assert decode_qr(pdf, 1, scale=3) == [URL]


def test_batch_has_one_page_per_label():
    urls = [f"{URL[:-2]}{n:02d}" for n in range(5)]
    pdf = labels.pdf("label", [_label(family_url=url) for url in urls])
    assert page_sizes(pdf) == [(288.0, 432.0)] * 5
    assert [decode_qr(pdf, n)[0] for n in range(5)] == urls


def test_document_counts_pages_as_it_builds():
    document = labels.Document("card")
    for expected in (1, 2, 3):
        document.add(_card())
        assert document.count == expected
    assert len(page_sizes(document.finish())) == 3


def test_document_refuses_an_unknown_kind():
    with pytest.raises(ValueError):
        labels.Document("poster")


def test_long_names_and_addresses_still_leave_a_readable_qr_code():
    long = "Deputy Sheriff Christopher Alexander Montgomery-Worthington III"
    label = _label(
        recipient=(
            long,
            "12345 North Very Long Boulevard Name Extension Road Apt 4455",
            "Building C, Floor 12, Office of the Chief of Police",
            "Woodland Park, CO 80863-1234",
        ),
        honor_line=f"Flag carried in honor of {long}, " + "Metropolitan " * 20,
    )
    pdf = labels.pdf("label", [label])
    assert decode_qr(pdf) == [URL]


def test_letters_outside_latin_1_are_drawn_not_dropped():
    recipient = ("Łukasz Żółć", "1 Main St", "Town, FL 32708")
    text = page_text(labels.pdf("label", [_label(recipient=recipient)]))
    assert "Łukasz Żółć" in text


def test_module_rectangles_cover_exactly_the_dark_modules():
    from r4h_pwa.labels import _module_rects
    from r4h_pwa.qr import qr_matrix

    matrix = qr_matrix(URL)
    covered = [[0] * len(row) for row in matrix]
    for top, left, width, height in _module_rects(matrix):
        for r in range(top, top + height):
            for c in range(left, left + width):
                covered[r][c] += 1
    assert covered == [[1 if dark else 0 for dark in row] for row in matrix]
    assert len(_module_rects(matrix)) < sum(map(sum, matrix)) / 2  # merged, not per module


@pytest.mark.parametrize(
    ("kind", "items", "pages"),
    [("label", 3, 3), ("card", 2, 2), ("letter", 3, 2), ("letter", 4, 2), ("letter", 1, 1)],
)
def test_document_counts_its_items_and_pages(kind, items, pages):
    document = labels.Document(kind)
    for _ in range(items):
        document.add(_card() if kind == "card" else _label())
    data = document.finish()
    assert (document.count, document.pages) == (items, pages)
    assert len(page_sizes(data)) == pages

"""Printable flag labels and keepsake cards as pure functions: data in, PDF bytes out.

The QR code is drawn as vector rectangles from qr_matrix, so it stays sharp on a 203 dpi
thermal printer and on paper alike. Text uses the PDF base fonts (nothing to embed, fast);
a string those fonts cannot encode falls back to DejaVu Sans when the system has it.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.lib.colors import Color, black, white
from reportlab.lib.pagesizes import letter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import FILL_NON_ZERO, Canvas

from .qr import qr_matrix

LABEL_SIZE = (288.0, 432.0)  # 4 x 6 in, portrait
CARD_SIZE = LABEL_SIZE
MARGIN = 14.0
GREY = Color(0.35, 0.35, 0.35)
FLAG_STRIPES = {  # the thin line on the keepsake card's black band
    "Thin blue line": Color(0.09, 0.32, 0.78),
    "Thin red line": Color(0.78, 0.06, 0.18),
    "Thin white line": Color(1, 1, 1),
    "Thin silver line": Color(0.66, 0.67, 0.68),
    "Thin gold line": Color(0.83, 0.63, 0.09),
}
_FALLBACK_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)


@dataclass(frozen=True)
class Label:
    """What a 4x6 shipping label shows."""

    return_address: tuple[str, ...]
    recipient: tuple[str, ...]
    honor_line: str
    family_url: str
    short_url: str
    code: str
    caption: str = ""  # under the QR code: "Scan to see the mile run for <hero>"


@dataclass(frozen=True)
class Card:
    """What the keepsake card inside the box shows."""

    hero_name: str
    agency: str
    end_of_watch: str
    flag_type: str
    words: str
    family_url: str
    short_url: str
    org_name: str


# --- fonts -------------------------------------------------------------------------------


@cache
def _fallback_fonts() -> tuple[str, str] | None:
    """Register DejaVu Sans once, if the system has it; None otherwise."""
    regular, bold = (Path(p) for p in _FALLBACK_FONTS)
    if not (regular.is_file() and bold.is_file()):
        return None
    pdfmetrics.registerFont(TTFont("R4H-Sans", str(regular)))
    pdfmetrics.registerFont(TTFont("R4H-Sans-Bold", str(bold)))
    return "R4H-Sans", "R4H-Sans-Bold"


def _base_encodable(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _fit_text(text: str, bold: bool) -> tuple[str, str]:
    """The font to draw text in, and the text itself (plain ASCII as the last resort)."""
    base = "Helvetica-Bold" if bold else "Helvetica"
    if _base_encodable(text):
        return base, text
    fallback = _fallback_fonts()
    if fallback is not None:
        return fallback[1 if bold else 0], text
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "replace").decode()
    return base, ascii_text


def _width(text: str, size: float, bold: bool = False) -> float:
    font, text = _fit_text(text, bold)
    return pdfmetrics.stringWidth(text, font, size)


def _draw(
    c: Canvas, x: float, y: float, text: str, size: float, bold: bool = False, align: str = "left"
) -> None:
    font, text = _fit_text(text, bold)
    c.setFont(font, size)
    if align == "center":
        c.drawCentredString(x, y, text)
    else:
        c.drawString(x, y, text)


def _wrap(text: str, size: float, width: float, bold: bool = False) -> list[str]:
    """Greedy word wrap; a word wider than the line is split by characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if _width(candidate, size, bold) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while _width(word, size, bold) > width and len(word) > 1:
            cut = len(word)
            while cut > 1 and _width(word[:cut], size, bold) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines or [""]


def _fit_lines(
    text: str, width: float, sizes: Sequence[float], max_lines: int, bold: bool = False
) -> tuple[float, list[str]]:
    """The largest size at which text wraps into max_lines; else the smallest, truncated."""
    for size in sizes:
        lines = _wrap(text, size, width, bold)
        if len(lines) <= max_lines:
            return size, lines
    size = sizes[-1]
    lines = _wrap(text, size, width, bold)[:max_lines]
    lines[-1] = lines[-1].rstrip() + "…"
    return size, lines


def _fit_one_line(
    text: str, width: float, size: float, smallest: float, bold: bool = False
) -> float:
    """Shrink a single line (an address line) until it fits, down to smallest."""
    while size > smallest and _width(text, size, bold) > width:
        size -= 0.5
    return size


# --- QR code -----------------------------------------------------------------------------


def draw_qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw data's QR code, quiet zone included, as filled rectangles in a size-pt square."""
    matrix = qr_matrix(data)
    count = len(matrix)
    c.setFillColor(white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.saveState()
    # One unit per module, row 0 at the top: every rectangle has whole-number corners, so
    # the path is small and abutting modules meet exactly (one non-zero fill, no seams).
    c.translate(x, y + size)
    c.scale(size / count, -size / count)
    path = c.beginPath()
    for top, left, width, height in _module_rects(matrix):
        path.rect(left, top, width, height)
    c.setFillColor(black)
    c.drawPath(path, stroke=0, fill=1, fillMode=FILL_NON_ZERO)
    c.restoreState()


def _module_rects(matrix: list[list[bool]]) -> list[tuple[int, int, int, int]]:
    """Dark modules as (row, column, width, height) rectangles: each row's runs of dark
    modules, with a run merged into the one below it when both span the same columns."""
    open_runs: dict[tuple[int, int], list[int]] = {}  # (left, width) -> [top, height]
    rects = []
    for row_index, row in enumerate(matrix):
        runs = set()
        col = 0
        while col < len(row):
            if row[col]:
                start = col
                while col < len(row) and row[col]:
                    col += 1
                runs.add((start, col - start))
            else:
                col += 1
        for key in list(open_runs):
            if key in runs:
                open_runs[key][1] += 1
                runs.discard(key)
            else:
                top, height = open_runs.pop(key)
                rects.append((top, key[0], key[1], height))
        for key in runs:
            open_runs[key] = [row_index, 1]
    rects.extend((top, left, width, height) for (left, width), (top, height) in open_runs.items())
    return rects


# --- the 4x6 label -----------------------------------------------------------------------


def _rule(c: Canvas, y: float, width: float) -> None:
    c.setLineWidth(1.2)
    c.setStrokeColor(black)
    c.line(MARGIN, y, width - MARGIN, y)


def _draw_label(c: Canvas, label: Label) -> None:
    """Draw one label in a 288 x 432 pt box whose lower-left corner is the origin."""
    width, height = LABEL_SIZE
    inner = width - 2 * MARGIN
    c.setFillColor(black)
    y = height - MARGIN - 8

    _draw(c, MARGIN, y, "FROM", 7.5, bold=True)
    y -= 11
    for line in label.return_address[:4]:
        _draw(c, MARGIN, y, line, _fit_one_line(line, inner, 9, 6.5))
        y -= 10.5
    y -= 2
    _rule(c, y, width)

    y -= 15
    _draw(c, MARGIN, y, "TO", 8, bold=True)
    y -= 20
    name, *address = label.recipient
    _draw(c, MARGIN, y, name, _fit_one_line(name, inner, 16, 9, bold=True), bold=True)
    y -= 18
    for line in address[:4]:
        _draw(c, MARGIN, y, line, _fit_one_line(line, inner, 14, 8))
        y -= 17
    y -= 4
    _rule(c, y, width)

    y -= 6
    size, lines = _fit_lines(label.honor_line, inner, (10.5, 9.5, 8.5, 7.5), 5)
    for line in lines:
        y -= size * 1.2
        _draw(c, MARGIN, y, line, size)

    text_block = 46  # the caption, the short URL and the code under the QR code
    qr_size = min(150.0, y - 10 - MARGIN - text_block)
    qr_x = (width - qr_size) / 2
    qr_y = MARGIN + text_block
    draw_qr(c, label.family_url, qr_x, qr_y, qr_size)
    c.setFillColor(black)
    if label.caption:
        _draw(
            c,
            width / 2,
            MARGIN + 32,
            label.caption,
            _fit_one_line(label.caption, inner, 8.5, 5.5),
            align="center",
        )
    url_size = _fit_one_line(label.short_url, inner, 8.5, 5.5)
    c.setFont("Courier-Bold", url_size)
    c.drawCentredString(width / 2, MARGIN + 18, label.short_url)
    _draw(c, width / 2, MARGIN + 4, label.code, 8, align="center")


# --- the 4x6 label as ZPL II, for 203 dpi thermal printers ---------------------------------

ZPL_DOTS = (812, 1218)  # 4 x 6 in at 203 dots per inch
ZPL_MARGIN = 30
ZPL_QR_MAGNIFICATION = 8  # dots per module: a 37-module code is 296 dots, about 1.5 in
_ZPL_ESCAPES = {"_": "_5F", "^": "_5E", "~": "_7E"}


def _zpl_text(text: str) -> str:
    """Text for a ^FD field under ^FH_: the three characters ZPL reserves as hex escapes."""
    text = " ".join(text.split())
    return "".join(_ZPL_ESCAPES.get(ch, ch) for ch in text)


def _zpl_field(
    x: int,
    y: int,
    text: str,
    height: int,
    width: int | None = None,
    lines: int = 1,
    align: str = "L",
) -> str:
    """One text field: font 0 at height dots, wrapped in a block of width when given."""
    block = f"^FB{width},{lines},4,{align},0" if width else ""
    return f"^FO{x},{y}^A0N,{height},{height}{block}^FH_^FD{_zpl_text(text)}^FS"


def zpl(label: Label) -> str:
    """The 4x6 label as ZPL II for a 203 dpi printer (812 x 1218 dots): the same From, To,
    honor line, QR code (^BQ, holding exactly the family URL), caption, URL and code."""
    if any(ch in label.family_url for ch in "^~"):
        raise ValueError("a family URL with ^ or ~ cannot be a ZPL field")
    width, height = ZPL_DOTS
    left, inner = ZPL_MARGIN, width - 2 * ZPL_MARGIN
    out = ["^XA", "^CI28", f"^PW{width}", f"^LL{height}", "^LH0,0"]
    y = ZPL_MARGIN
    out.append(_zpl_field(left, y, "FROM", 22))
    y += 30
    for line in label.return_address[:4]:
        out.append(_zpl_field(left, y, line, 26, inner))
        y += 30
    y += 6
    out.append(f"^FO{left},{y}^GB{inner},3,3^FS")
    y += 16
    out.append(_zpl_field(left, y, "TO", 26))
    y += 36
    name, *address = label.recipient
    out.append(_zpl_field(left, y, name, 44, inner))
    y += 52
    for line in address[:4]:
        out.append(_zpl_field(left, y, line, 38, inner))
        y += 44
    y += 6
    out.append(f"^FO{left},{y}^GB{inner},3,3^FS")
    y += 18
    out.append(_zpl_field(left, y, label.honor_line, 28, inner, lines=5))
    y += 5 * 32 + 16
    modules = len(qr_matrix(label.family_url)) - 8  # Zebra draws no quiet zone of its own
    qr_size = modules * ZPL_QR_MAGNIFICATION
    # ^BQN,2,m: normal orientation, model 2; "MA," = error correction M, automatic mode.
    out.append(
        f"^FO{(width - qr_size) // 2},{y}^BQN,2,{ZPL_QR_MAGNIFICATION}^FDMA,{label.family_url}^FS"
    )
    y += qr_size + 24
    if label.caption:
        out.append(_zpl_field(left, y, label.caption, 26, inner, lines=2, align="C"))
        y += 64
    out.append(_zpl_field(left, y, label.short_url, 24, inner, align="C"))
    y += 32
    out.append(_zpl_field(left, y, label.code, 24, inner, align="C"))
    out.append("^XZ")
    return "\n".join(out) + "\n"


def pdf(kind: str, items: Sequence[Label] | Sequence[Card]) -> bytes:
    """A PDF of one kind: "label" (4 x 6 in, one a page), "letter" (two labels to a US-letter
    page, with a cut line) or "card" (4 x 6 in keepsake cards). Built with Document."""
    document = Document(kind)
    for item in items:
        document.add(item)
    return document.finish()


class Document:
    """A PDF of labels or cards built one at a time, so a caller can report progress."""

    KINDS = ("label", "letter", "card")

    def __init__(self, kind: str):
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}")
        self.kind = kind
        self.count = 0  # labels or cards drawn
        self.pages = 0  # pages finished: a sheet each (two labels share a letter sheet)
        self._buffer = io.BytesIO()
        titles = {
            "label": "Flag shipping labels",
            "letter": "Flag shipping labels, two per page",
            "card": "Keepsake cards",
        }
        size = letter if kind == "letter" else LABEL_SIZE
        self._canvas = _canvas(self._buffer, size, titles[kind])

    def add(self, item: Label | Card) -> None:
        """Draw one more label or card."""
        c = self._canvas
        if self.kind == "card":
            _draw_card(c, item)
            self._end_page()
        elif self.kind == "label":
            _draw_label(c, item)
            self._end_page()
        else:
            self._add_half_sheet(item)
        self.count += 1

    def _add_half_sheet(self, label: Label) -> None:
        c = self._canvas
        page_w, page_h = letter
        label_w, label_h = LABEL_SIZE
        half = page_h / 2
        top = self.count % 2 == 0
        c.saveState()
        # Turned a quarter: the 4 x 6 label lies as 6 x 4, centred in its half sheet.
        c.translate((page_w + label_h) / 2, (half if top else 0.0) + (half - label_w) / 2)
        c.rotate(90)
        _draw_label(c, label)
        c.restoreState()
        if not top:
            _cut_line(c, page_w, half)
            self._end_page()

    def _end_page(self) -> None:
        self._canvas.showPage()
        self.pages += 1

    def finish(self) -> bytes:
        """The finished PDF's bytes."""
        c = self._canvas
        if self.kind == "letter" and self.count % 2 == 1:
            _cut_line(c, letter[0], letter[1] / 2)
            self._end_page()
        if self.count == 0:
            c.showPage()  # a PDF needs a page; an empty batch gives one blank page
        c.save()
        return self._buffer.getvalue()


def _cut_line(c: Canvas, page_w: float, y: float) -> None:
    c.saveState()
    c.setStrokeColor(GREY)
    c.setLineWidth(0.5)
    c.setDash(4, 4)
    c.line(18, y, page_w - 18, y)
    c.restoreState()


# --- the keepsake card -------------------------------------------------------------------


def _draw_card(c: Canvas, card: Card) -> None:
    width, height = CARD_SIZE
    inner = width - 2 * (MARGIN + 6)
    centre = width / 2

    band_y = height - MARGIN - 16
    c.setFillColor(black)
    c.rect(MARGIN, band_y, width - 2 * MARGIN, 16, stroke=0, fill=1)
    c.setFillColor(FLAG_STRIPES.get(card.flag_type, FLAG_STRIPES["Thin blue line"]))
    c.rect(MARGIN, band_y + 6.5, width - 2 * MARGIN, 3, stroke=0, fill=1)

    c.setFillColor(black)
    y = band_y - 24
    _draw(c, centre, y, "IN HONOR OF", 9, bold=True, align="center")
    size, lines = _fit_lines(card.hero_name, inner, (22, 19, 16, 14), 2, bold=True)
    for line in lines:
        y -= size * 1.15
        _draw(c, centre, y, line, size, bold=True, align="center")
    size, lines = _fit_lines(card.agency, inner, (11, 10, 9), 2)
    y -= 4
    for line in lines:
        y -= size * 1.25
        _draw(c, centre, y, line, size, align="center")
    y -= 15
    c.setFillColor(GREY)
    _draw(c, centre, y, f"End of watch {card.end_of_watch}", 9.5, align="center")

    c.setFillColor(black)
    y -= 10
    size, lines = _fit_lines(card.words, inner, (11, 10, 9), 4)
    for line in lines:
        y -= size * 1.35
        _draw(c, centre, y, line, size, align="center")

    bottom_text = 40
    room = y - 12 - MARGIN - bottom_text
    qr_size = min(150.0, room)
    qr_y = MARGIN + bottom_text + (room - qr_size) / 2
    draw_qr(c, card.family_url, centre - qr_size / 2, qr_y, qr_size)
    c.setFillColor(black)
    _draw(
        c,
        centre,
        MARGIN + 28,
        "Scan to see the mile, and to tell us the flag arrived.",
        7.5,
        align="center",
    )
    c.setFont("Courier", _fit_one_line(card.short_url, inner, 7.5, 5))
    c.drawCentredString(centre, MARGIN + 16, card.short_url)
    c.setFillColor(GREY)
    _draw(c, centre, MARGIN + 2, card.org_name, 8, bold=True, align="center")


def _canvas(buffer: io.BytesIO, size: tuple[float, float], title: str) -> Canvas:
    # invariant=1 leaves out the creation time and random ID, so the same data gives the
    # same bytes (and no clock reading sneaks into a pure function).
    c = Canvas(buffer, pagesize=size, invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor("Running 4 Heroes")
    return c

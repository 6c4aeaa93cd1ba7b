"""QR codes as pure functions: data in, SVG text or a module matrix out."""

import re

import qrcode
import qrcode.constants
from qrcode.image.svg import SvgPathFillImage

_SIZE_ATTRS = re.compile(r'\s(width|height)="[^"]*mm"')


def _qr(data: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR code's modules, quiet zone included, True for dark; for drawing as vectors."""
    return _qr(data).get_matrix()


def qr_svg(data: str, label: str = "QR code") -> str:
    """A scalable SVG of the QR code with a white background, sized by its container."""
    image = _qr(data).make_image(image_factory=SvgPathFillImage)
    svg = image.to_string(encoding="unicode")
    svg = _SIZE_ATTRS.sub("", svg)
    safe_label = (
        label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )
    return svg.replace("<svg ", f'<svg role="img" aria-label="{safe_label}" ', 1)

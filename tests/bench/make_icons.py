"""Draw the PWA icons once with Pillow; the PNGs are committed under static/icons/.

Run: .venv/bin/python tests/bench/make_icons.py
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ICONS = Path(__file__).resolve().parents[2] / "static" / "icons"
NAVY = (11, 31, 58, 255)
WHITE = (255, 255, 255, 255)
BLUE = (96, 165, 250, 255)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def draw_mark(size: int, scale: float) -> Image.Image:
    """A white running track with "R4H" and a thin blue line, drawn within scale * size."""
    image = Image.new("RGBA", (size, size), NAVY)
    draw = ImageDraw.Draw(image)
    box = size * scale
    left = (size - box) / 2
    top = (size - box * 0.62) / 2
    line = max(2, round(box * 0.045))
    draw.rounded_rectangle(
        (left, top, left + box, top + box * 0.62), radius=box * 0.31, outline=WHITE, width=line
    )
    font = ImageFont.truetype(FONT, round(box * 0.27))
    draw.text((size / 2, size / 2 - box * 0.02), "R4H", font=font, fill=WHITE, anchor="mm")
    stripe = max(2, round(box * 0.03))
    y = size / 2 + box * 0.15
    draw.rectangle((size / 2 - box * 0.28, y, size / 2 + box * 0.28, y + stripe), fill=BLUE)
    return image


def rounded(image: Image.Image) -> Image.Image:
    """Round the corners of an 'any' icon; the maskable one stays full-bleed."""
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        (0, 0, image.width - 1, image.height - 1), radius=image.width * 0.18, fill=255
    )
    out = Image.new("RGBA", image.size, (0, 0, 0, 0))
    out.paste(image, mask=mask)
    return out


def main() -> None:
    """Write icon-192.png, icon-512.png and icon-maskable-512.png."""
    ICONS.mkdir(parents=True, exist_ok=True)
    big = rounded(draw_mark(512, 0.86))
    big.save(ICONS / "icon-512.png", optimize=True)
    big.resize((192, 192), Image.Resampling.LANCZOS).save(ICONS / "icon-192.png", optimize=True)
    # Maskable: the mark stays inside the 80% safe zone; the background fills the square.
    draw_mark(512, 0.62).save(ICONS / "icon-maskable-512.png", optimize=True)
    for path in sorted(ICONS.glob("*.png")):
        print(path.name, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()

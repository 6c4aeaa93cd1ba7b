"""Label benchmark: one 4x6 label PDF against making its bare QR code, and 100-label batches.

    .venv/bin/python tests/bench/bench_labels.py [--repeat 200] [--batch 100]

In one process, one after the other:
1. the floor: qr_matrix(url), the bare QR code made by the qrcode package (what every label
   needs anyway), median of --repeat calls;
2. one label: labels.pdf("label", [label]), median of --repeat calls, and its ratio to 1;
3. 100-label batches as pure functions: 4x6 labels, 2-up letter pages, keepsake cards;
4. the same 100-label batch end to end: POST /admin/shipments/print for 100 shipments
   (database query, drawing, response) through the Flask test client on PostgreSQL
   (BENCH_DATABASE_URL or TEST_DATABASE_URL, default postgresql://root@127.0.0.1:5432/t_flags,
   whose tables it EMPTIES), and once more with the NDJSON progress stream.

Every PDF made is checked: the page count, and the first and last QR codes decoded with
zxing-cpp. JSON goes to tests/bench/out/bench_labels.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "bench" / "out"
DEFAULT_DB = "postgresql://root@127.0.0.1:5432/t_flags"
sys.path.insert(0, str(ROOT))

from r4h_pwa import labels  # noqa: E402
from r4h_pwa.qr import qr_matrix  # noqa: E402

URL = "https://r4h.example.org/f/"


def _label(n: int) -> labels.Label:
    url = f"{URL}{n:032d}"
    return labels.Label(
        return_address=("Running 4 Heroes", "PO Box 0000", "Winter Springs, FL 32708"),
        recipient=(f"Recipient {n}", "800 Research Drive", "Suite 9", "Woodland Park, CO 80863"),
        honor_line=(
            f"Flag carried in honor of Officer Hero {n}, Example County Police Department: "
            f"mile {1000 + n:,}, run by Zechariah on February 14, 2023"
        ),
        family_url=url,
        short_url=url.removeprefix("https://"),
        code=f"Shipment {n:04X}-0000",
    )


def _card(n: int) -> labels.Card:
    url = f"{URL}{n:032d}"
    return labels.Card(
        hero_name=f"Officer Hero {n}",
        agency="Example County Police Department",
        end_of_watch="February 11, 2023",
        flag_type="Thin blue line",
        words=f"This flag was carried for mile {1000 + n:,}, run by Zechariah.",
        family_url=url,
        short_url=url.removeprefix("https://"),
        org_name="Running 4 Heroes",
    )


def _median_ms(func, repeat: int) -> tuple[float, float]:
    """Median and p90 in milliseconds of `repeat` calls (after 5 warm-up calls)."""
    for _ in range(5):
        func()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        func()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def _check_pdf(pdf: bytes, pages: int, first_url: str, last_url: str, scale: float = 3) -> bool:
    import pypdfium2 as pdfium
    import zxingcpp

    document = pdfium.PdfDocument(pdf)
    try:
        if len(document) != pages:
            return False
        found = []
        for index in (0, len(document) - 1):
            image = document[index].render(scale=scale).to_pil()
            found.append({r.text for r in zxingcpp.read_barcodes(image)})
    finally:
        document.close()
    return first_url in found[0] and last_url in found[1]


def _timed(func):
    began = time.perf_counter()
    result = func()
    return result, (time.perf_counter() - began) * 1000


def pure(repeat: int, batch: int) -> dict:
    """The pure-function numbers: bare QR code, one label, and batches of each format."""
    qr_ms, qr_p90 = _median_ms(lambda: qr_matrix(f"{URL}{7:032d}"), repeat)
    label_ms, label_p90 = _median_ms(lambda: labels.pdf("label", [_label(7)]), repeat)
    card_ms, _ = _median_ms(lambda: labels.pdf("card", [_card(7)]), repeat)
    many = [_label(n) for n in range(batch)]
    first, last = many[0].family_url, many[-1].family_url
    batch_pdf, batch_ms = _timed(lambda: labels.pdf("label", many))
    letter_pdf, letter_ms = _timed(lambda: labels.pdf("letter", many))
    cards_pdf, cards_ms = _timed(lambda: labels.pdf("card", [_card(n) for n in range(batch)]))
    return {
        "qr_matrix_ms": round(qr_ms, 3),
        "qr_matrix_p90_ms": round(qr_p90, 3),
        "label_pdf_ms": round(label_ms, 3),
        "label_pdf_p90_ms": round(label_p90, 3),
        "ratio_label_to_qr": round(label_ms / qr_ms, 2),
        "card_pdf_ms": round(card_ms, 3),
        "label_pdf_bytes": len(labels.pdf("label", [_label(7)])),
        "batch": {
            "labels_ms": round(batch_ms, 1),
            "labels_per_second": round(batch / batch_ms * 1000, 1),
            "labels_bytes": len(batch_pdf),
            "labels_ok": _check_pdf(batch_pdf, batch, first, last),
            "letter_2up_ms": round(letter_ms, 1),
            "letter_ok": _check_pdf(
                letter_pdf, (batch + 1) // 2, many[0].family_url if batch > 1 else first, last
            ),
            "cards_ms": round(cards_ms, 1),
            "cards_ok": _check_pdf(cards_pdf, batch, first, last),
        },
    }


def end_to_end(database_url: str, batch: int) -> dict:
    """POST /admin/shipments/print for `batch` shipments through the app, PDF and NDJSON."""
    from datetime import UTC, date, datetime

    import sqlalchemy as sa

    from r4h_pwa import create_app
    from r4h_pwa.extensions import db
    from r4h_pwa.models import Lap, Run, Runner, Shipment, Track
    from tests.factories import TOTP_SECRET, make_hero
    from tests.helpers import pass_second_factor

    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "PUBLIC_BASE_URL": "https://r4h.example.org",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        admin = Runner(
            email="admin@example.org", name="Bench Admin", role="admin", totp_secret=TOTP_SECRET
        )
        runner = Runner(email="runner@example.org", name="Zechariah", starting_mile_count=1000)
        for account in (admin, runner):
            account.set_password("bench-password-123")
        track = Track(name="School track", laps_per_mile=7, min_lap_seconds=40)
        db.session.add_all([admin, runner, track])
        started = datetime(2023, 2, 15, 1, 30, tzinfo=UTC)
        for n in range(batch):
            hero = make_hero(
                name=f"Hero {n}", agency="Example County PD", end_of_watch=date(2023, 2, 11)
            )
            run = Run(
                hero=hero,
                runner=runner,
                track=track,
                status="synced",
                started_at=started,
                finished_at=started,
                synced_at=started,
                mile_number=1001 + n,
            )
            run.laps = [Lap(seq=s, elapsed_ms=s * 88_000) for s in range(1, 8)]
            db.session.add(
                Shipment(
                    run=run,
                    recipient_name=f"Family {n}",
                    address_line1="1 Main Street",
                    city="Fountain",
                    state="CO",
                    postal_code="80817",
                )
            )
        db.session.commit()
        ids = list(db.session.scalars(sa.select(Shipment.id).order_by(Shipment.created_at)))
        tokens = dict(db.session.execute(sa.select(Shipment.id, Shipment.family_token)).all())
        db.session.remove()

    client = app.test_client()
    pass_second_factor(
        client,
        client.post(
            "/login", data={"email": "admin@example.org", "password": "bench-password-123"}
        ),
    )
    form = {"ids": ids, "format": "label"}
    response, pdf_ms = _timed(lambda: client.post("/admin/shipments/print", data=form))
    pdf = response.data
    first, last = (f"https://r4h.example.org/f/{tokens[i]}" for i in (ids[0], ids[-1]))
    pdf_ok = response.status_code == 200 and _check_pdf(pdf, batch, first, last)

    def streamed():
        reply = client.post(
            "/admin/shipments/print", data=form, headers={"Accept": "application/x-ndjson"}
        )
        return [json.loads(line) for line in reply.get_data(as_text=True).splitlines()]

    events, stream_ms = _timed(streamed)
    stream_pdf = base64.b64decode(events[-1]["pdf"]) if events and "pdf" in events[-1] else b""
    stream_ok = [e["done"] for e in events[:-1]] == list(range(batch + 1)) and _check_pdf(
        stream_pdf, batch, first, last
    )
    with app.app_context():
        printed = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Shipment)
            .where(Shipment.status == "label_printed")
        )
        db.session.remove()
        db.engine.dispose()
    return {
        "database": "postgresql",
        "shipments": batch,
        "pdf_ms": round(pdf_ms, 1),
        "pdf_bytes": len(pdf),
        "pdf_ok": pdf_ok,
        "ndjson_ms": round(stream_ms, 1),
        "ndjson_events": len(events),
        "ndjson_ok": stream_ok,
        "marked_label_printed": printed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="calls per median (200)")
    parser.add_argument("--batch", type=int, default=100, help="labels per batch (100)")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", os.environ.get("TEST_DATABASE_URL", DEFAULT_DB)
    )
    load_before = [round(x, 2) for x in os.getloadavg()]
    results = {"pure": pure(args.repeat, args.batch)}
    if not args.skip_postgres:
        results["end_to_end"] = end_to_end(database_url, args.batch)
    p, b = results["pure"], results["pure"]["batch"]

    print(f"\nLabels: median of {args.repeat} calls; batches of {args.batch}\n")
    rows = [
        ("bare QR code (qr_matrix)", f"{p['qr_matrix_ms']:.3f} ms", "1.00x"),
        ("one 4x6 label PDF", f"{p['label_pdf_ms']:.3f} ms", f"{p['ratio_label_to_qr']:.2f}x"),
        (
            "one keepsake card PDF",
            f"{p['card_pdf_ms']:.3f} ms",
            f"{p['card_pdf_ms'] / p['qr_matrix_ms']:.2f}x",
        ),
        (
            f"{args.batch} labels, 4x6 (pure)",
            f"{b['labels_ms']:.1f} ms",
            "ok" if b["labels_ok"] else "BAD",
        ),
        (
            f"{args.batch} labels, 2-up letter (pure)",
            f"{b['letter_2up_ms']:.1f} ms",
            "ok" if b["letter_ok"] else "BAD",
        ),
        (
            f"{args.batch} keepsake cards (pure)",
            f"{b['cards_ms']:.1f} ms",
            "ok" if b["cards_ok"] else "BAD",
        ),
    ]
    if "end_to_end" in results:
        e = results["end_to_end"]
        rows += [
            (
                f"{args.batch} labels via POST (PostgreSQL)",
                f"{e['pdf_ms']:.1f} ms",
                "ok" if e["pdf_ok"] else "BAD",
            ),
            (
                f"{args.batch} labels via NDJSON progress",
                f"{e['ndjson_ms']:.1f} ms",
                "ok" if e["ndjson_ok"] else "BAD",
            ),
        ]
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'time':>12}  {'vs QR / check':>13}")
    print("-" * (width + 29))
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note:>13}")

    ok = b["labels_ok"] and b["letter_ok"] and b["cards_ok"]
    if "end_to_end" in results:
        e = results["end_to_end"]
        ok = ok and e["pdf_ok"] and e["ndjson_ok"] and e["marked_label_printed"] == args.batch
    OUT.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "labels",
        "repeat": args.repeat,
        "batch": args.batch,
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "results": results,
        "ok": ok,
    }
    path = OUT / "bench_labels.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"\n{os.cpu_count()} CPUs; load average {load_before[0]} before, "
        f"{report['load_average_after'][0]} after"
    )
    print(f"JSON: {path.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

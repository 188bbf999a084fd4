"""Label rendering benchmark: 200 realistic labels in one batch vs the 10 ms/label target.

Run: .venv/bin/python -m bench.label_bench [--labels 200] [--repeat 7]
Prints a markdown table for BENCHMARKS.md.
"""

import argparse
import io
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import qrcode
import reportlab
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from qrcode.constants import ERROR_CORRECT_M
from reportlab.pdfgen import canvas

from dispensing.labels import LabelClaims, LabelData, ReportLabRenderer, load_template, sign_label
from dispensing.labels.renderer import QR_MASK

TARGET_MS = 10.0
FIRST = [
    "Søren",
    "Bjørn",
    "Åse",
    "Ærtebjørg",
    "Mads",
    "Jens",
    "Mette",
    "Sørine",
    "Kåre",
    "Ida",
    "Ørjan",
    "Anne-Mette",
    "Frederik",
]
LAST = [
    "Østergaard",
    "Jørgensen",
    "Kjærsgaard",
    "Bækgaard",
    "Holm-Sørensen",
    "Ågård",
    "Nielsen",
    "Møller",
    "Læssøe",
    "Hansen",
    "Sønderskov",
]
SITES = ["Apoteket Nørrebro", "Politistation Aalborg", "Hjemmesygeplejen Øst", "Sundhedsklinikken Ærøskøbing"]


def make_labels(n: int, rng: random.Random) -> list[LabelData]:
    """n take-home labels, methadone solution and buprenorphine tablets, signed tokens."""
    key = Ed25519PrivateKey.generate()
    labels = []
    for i in range(n):
        methadone = i % 2 == 0
        days = rng.randint(1, 14)
        start = date(2025, 3, 3) + timedelta(days=rng.randint(0, 300))
        covers = tuple(start + timedelta(days=d) for d in range(days))
        if methadone:
            dose = Decimal(rng.randrange(20, 160, 5))
        else:
            dose = Decimal(rng.choice(["0.4", "2", "2.5", "8", "16", "24"]))
        dispense_id = 10_000 + i
        drug = "methadone" if methadone else "buprenorphine"
        claims = LabelClaims(dispense_id, 1, drug, dose, covers[0], covers[-1], rng.randint(1, 40))
        labels.append(
            LabelData(
                dispense_id=dispense_id,
                dispense_number=f"U-{dispense_id:06d}",
                copy_no=1,
                copies=1,
                patient_name=f"{rng.choice(FIRST)} {rng.choice(FIRST)} {rng.choice(LAST)}",
                patient_cpr=f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(50, 99)}"
                f"-{rng.randint(0, 9999):04d}",
                drug=claims.drug,
                drug_name="Metadon" if methadone else "Buprenorphin",
                product="Metadon DAK oral opløsning 1 mg/ml" if methadone else "Subutex resoribletter",
                strength="1 mg/ml" if methadone else f"{dose} mg",
                form="oral opløsning" if methadone else "resoribletter",
                dose_mg=dose,
                dose_ml=dose if methadone else None,
                covers=covers,
                total_mg=dose * days,
                total_ml=dose * days if methadone else None,
                site_name=rng.choice(SITES),
                prescriber=f"Overlæge {rng.choice(FIRST)} {rng.choice(LAST)}",
                dispensed_by=f"Sygeplejerske {rng.choice(FIRST)} {rng.choice(LAST)}",
                dispensed_on=covers[0],
                token=sign_label(claims, key),
            )
        )
    return labels


def baseline(labels: list[LabelData]) -> bytes:
    """The bare libraries: a qrcode matrix and a plain canvas, no template, no fitting."""
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(252.3, 102.0), invariant=1, pageCompression=0)
    for label in labels:
        qr = qrcode.QRCode(version=6, error_correction=ERROR_CORRECT_M, border=4, mask_pattern=QR_MASK)
        qr.add_data(label.token)
        qr.make(fit=False)
        matrix = qr.get_matrix()
        c.setFont("Helvetica", 7)
        for i, text in enumerate(
            (
                label.patient_name,
                label.patient_cpr,
                label.product,
                str(label.dose_mg),
                label.site_name,
                label.prescriber,
                label.dispensed_by,
                label.dispense_number,
                "Opbevares utilgængeligt for børn",
                str(label.covers[0]),
                str(label.covers[-1]),
                str(label.total_mg),
            )
        ):
            c.drawString(7, 92 - i * 7.5, text)
        module = 71.0 / len(matrix)
        for y, row in enumerate(matrix):
            x = 0
            while x < len(row):
                if row[x]:
                    start = x
                    while x < len(row) and row[x]:
                        x += 1
                    c.rect(178 + start * module, 100 - (y + 1) * module, (x - start) * module, module, stroke=0, fill=1)
                x += 1
        c.showPage()
    c.save()
    return out.getvalue()


def qr_auto_mask(labels: list[LabelData]) -> None:
    """qrcode's default: try all 8 masks per code (matrix only, no PDF)."""
    for label in labels:
        qr = qrcode.QRCode(version=6, error_correction=ERROR_CORRECT_M)
        qr.add_data(label.token)
        qr.make(fit=False)


def measure(run: Callable[[], object], n: int, repeat: int) -> tuple[float, float]:
    """Median and min milliseconds per label over repeat runs (after one warm-up)."""
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000 / n)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    n = args.labels
    labels = make_labels(n, random.Random(20250303))
    renderer = ReportLabRenderer()
    compressed = ReportLabRenderer(page_compression=True)
    roll, a4 = load_template("roll_89x36"), load_template("a4_sheet")
    cases = [
        (f"ReportLabRenderer, roll_89x36 ({n} pages)", lambda: renderer.render(labels, roll)),
        (f"ReportLabRenderer, a4_sheet ({-(-n // a4.grid.per_page)} pages)", lambda: renderer.render(labels, a4)),
        ("ReportLabRenderer, roll_89x36, page compression on", lambda: compressed.render(labels, roll)),
        ("baseline: qrcode matrix + bare canvas text/rects", lambda: baseline(labels)),
        ("reference: qrcode automatic mask choice, matrix only", lambda: qr_auto_mask(labels)),
    ]
    cpuinfo = Path("/proc/cpuinfo")
    models = (
        [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        if cpuinfo.exists()
        else []
    )
    cpu = models[0] if models else platform.processor()
    print(
        f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {args.labels} labels per batch, "
        f"{args.repeat} runs after a warm-up; Python {platform.python_version()}, reportlab {reportlab.Version}, "
        f"{os.cpu_count()} CPUs ({cpu})\n"
    )
    print(f"| case | median ms/label | min ms/label | median / {TARGET_MS:g} ms target |")
    print("| --- | ---: | ---: | ---: |")
    for name, run in cases:
        median, best = measure(run, args.labels, args.repeat)
        print(f"| {name} | {median:.2f} | {best:.2f} | {median / TARGET_MS:.2f} |")
    plain, packed = len(renderer.render(labels, roll)), len(compressed.render(labels, roll))
    print(
        f"\nPDF size for {args.labels} roll labels: {plain / 1e6:.2f} MB uncompressed, {packed / 1e6:.2f} MB compressed"
    )


if __name__ == "__main__":
    main()

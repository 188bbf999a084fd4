"""The contingency sheet (nødliste): a site's day of due doses on paper, for when the system is down.

Hospital medication systems print a downtime medication record for this: the nurse hands out from
the sheet and writes the breath reading, the time and her initials; the records are entered
afterwards with that time. This module only lays out what services/contingency.py worked out (no
rule lives here): A4 landscape, Danish, DejaVu fonts for æøå.
"""

import io
from dataclasses import dataclass
from datetime import date, datetime

from babel.dates import format_date, format_datetime
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dispensing.labels.renderer import _font
from dispensing.labels.templates import Font

_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF", "/usr/share/fonts/dejavu")
REGULAR = Font("DejaVuSans", _DIRS, "Helvetica")
BOLD = Font("DejaVuSans-Bold", _DIRS, "Helvetica-Bold")

TITLE = "Nødliste – udlevering af medicin"
INSTRUCTIONS = (
    "Bruges kun, når systemet er nede. Udlevér efter listen og skriv promille, klokkeslæt og dine initialer "
    "ud for hver udlevering. Når systemet virker igen, registreres hver udlevering efterfølgende med "
    "klokkeslættet fra listen (samme dag eller dagen efter). En dosis mærket MÅ IKKE UDLEVERES udleveres ikke: "
    "kontakt lægen."
)
COLUMNS = (
    "Patient",
    "Lægemiddel",
    "Dosis",
    "Udlevering",
    "Alkometer",
    "Udebl. dage",
    "Urinprøve",
    "Bemærkning",
    "Promille",
    "Kl.",
    "Initialer",
)
# Column widths in mm, 277 mm in all (A4 landscape with 10 mm margins).
WIDTHS_MM = (42, 33, 27, 39, 18, 14, 18, 40, 18, 12, 16)


@dataclass(frozen=True)
class SheetLine:
    """One due dose as the sheet prints it (all texts already Danish)."""

    patient_name: str
    cpr_masked: str
    drug_name: str
    product: str
    dose: str  # "30 mg (30 ml)"
    handout: str  # "Overvåget" / "Overvåget + med hjem 2 dage: ti 3/3, on 4/3"
    breath_required: bool
    missed_consecutive: int
    urine_due: bool
    not_to_give: str | None = None  # the reason, when the dose must not be handed out
    note: str | None = None  # e.g. already handed out before printing: nothing to write in

    @property
    def writable(self) -> bool:
        """Whether the nurse writes a handout on this line (else the reading, time and initials are struck)."""
        return self.not_to_give is None and self.note is None


@dataclass(frozen=True)
class Sheet:
    site_name: str
    day: date
    printed_at: datetime  # aware, in the clinic's zone
    printed_by: str
    windows: tuple[tuple[str, tuple[SheetLine, ...]], ...]  # ("08:00–10:00", lines), in time order


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _font(REGULAR), _font(BOLD)
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=15, leading=19),
        "sub": ParagraphStyle("sub", fontName=regular, fontSize=9.5, leading=12),
        "window": ParagraphStyle("window", fontName=bold, fontSize=11.5, leading=15, spaceBefore=4),
        "head": ParagraphStyle("head", fontName=bold, fontSize=7, leading=8.5),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=8, leading=9.8),
        "bold": ParagraphStyle("bold", fontName=bold, fontSize=8, leading=9.8),
        "stop": ParagraphStyle("stop", fontName=bold, fontSize=8, leading=9.8, textColor=colors.HexColor("#a00000")),
    }


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _row(line: SheetLine, st: dict[str, ParagraphStyle]) -> list:
    def p(text: str, style: str = "cell") -> Paragraph:
        return Paragraph(text, st[style])

    remarks = []
    if line.not_to_give:
        remarks.append(p(f"MÅ IKKE UDLEVERES: {_esc(line.not_to_give)}", "stop"))
    if line.note:
        remarks.append(p(_esc(line.note), "bold"))
    blank = "" if line.writable else "—"
    return [
        [p(_esc(line.patient_name), "bold"), p(_esc(line.cpr_masked))],
        [p(_esc(line.drug_name), "bold"), p(_esc(line.product))],
        p(_esc(line.dose), "bold"),
        p(_esc(line.handout)),
        p("JA" if line.breath_required else "nej", "bold" if line.breath_required else "cell"),
        p(str(line.missed_consecutive), "bold" if line.missed_consecutive else "cell"),
        p("I DAG" if line.urine_due else "", "bold"),
        remarks,
        p(blank),
        p(blank),
        p(blank),
    ]


def _table(lines: tuple[SheetLine, ...], st: dict[str, ParagraphStyle]) -> Table:
    data = [[Paragraph(c, st["head"]) for c in COLUMNS], *(_row(line, st) for line in lines)]
    table = Table(data, colWidths=[w * mm for w in WIDTHS_MM], repeatRows=1)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 1), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 7),  # room to write by hand
    ]
    for i, line in enumerate(lines, start=1):
        if line.not_to_give:
            style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f6dada")))
        elif line.note:
            style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#efefef")))
    table.setStyle(TableStyle(style))
    return table


def render_contingency_sheet(sheet: Sheet) -> bytes:
    """The sheet as PDF bytes: a header, then per dispensing window a table of its doses."""
    st = _styles()
    day_text = format_date(sheet.day, "EEEE d. MMMM y", locale="da")
    printed = format_datetime(sheet.printed_at, "d. MMMM y 'kl.' HH:mm", tzinfo=sheet.printed_at.tzinfo, locale="da")
    story: list = [
        Paragraph(_esc(f"{TITLE}: {sheet.site_name}"), st["title"]),
        Paragraph(_esc(day_text), st["title"]),
        Spacer(0, 2 * mm),
        Paragraph(
            _esc(
                f"Udskrevet {printed} af {sheet.printed_by}. Udeblevne dage og blokeringer er opgjort ved "
                "udskrivningen; en dag før denne, der endnu ikke har en registreret dosis, er talt som udeblevet. "
                "CPR-numre er maskerede: kontrollér identiteten som ved lugen."
            ),
            st["sub"],
        ),
        Paragraph(_esc(INSTRUCTIONS), st["sub"]),
        Spacer(0, 3 * mm),
    ]
    if not sheet.windows:
        story.append(Paragraph("Ingen doser forfalder på dette sted denne dag.", st["window"]))
    for window, lines in sheet.windows:
        n = len(lines)
        heading = Paragraph(_esc(f"Udleveringstid {window} – {n} {'dosis' if n == 1 else 'doser'}"), st["window"])
        story.append(KeepTogether([heading, Spacer(0, 1 * mm), _table(lines, st)]) if n <= 6 else heading)
        if n > 6:
            story.append(_table(lines, st))
        story.append(Spacer(0, 4 * mm))
    story.append(Paragraph("Ansvarlig sygeplejerske (navn og initialer): ______________________________", st["sub"]))

    footer_font = _font(REGULAR)

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(footer_font, 7.5)
        canvas.drawString(10 * mm, 6 * mm, f"{TITLE} · {sheet.site_name} · {sheet.day.strftime('%d.%m.%Y')}")
        canvas.drawRightString(287 * mm, 6 * mm, f"Side {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        title=f"{TITLE} {sheet.site_name} {sheet.day.isoformat()}",
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=10 * mm,
        bottomMargin=12 * mm,
    ).build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()

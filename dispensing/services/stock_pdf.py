"""The monthly controlled-drug ledger as a PDF for the pharmacist inspector (Danish).

One page (or more) per stock item: the opening balance, every movement with date, in, out and the
running balance, who did it and who witnessed it, the closing balance, and the month's counts with
the names of the two people who counted.
"""

import io
from decimal import Decimal

from babel.dates import format_date
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dispensing import messages
from dispensing.models import StockEntry, StockEntryKind
from dispensing.services import audit, stock
from dispensing.services.context import Ctx

KIND_DA = {
    StockEntryKind.RECEIPT: "Modtagelse",
    StockEntryKind.DISPENSE: "Udlevering",
    StockEntryKind.PREPARED: "Klargjort til udleveringssted",
    StockEntryKind.RETURNED: "Returneret",
    StockEntryKind.VOID: "Annulleret udlevering",
    StockEntryKind.WASTE: "Kassation",
    StockEntryKind.COUNT: "Optælling",
    StockEntryKind.CORRECTION: "Korrektion",
}
UNIT_DA = {"ml": "ml", "tablet": "tabletter"}


def number(value: Decimal | None) -> str:
    """Danish number: 1.234,5."""
    return "" if value is None else messages.formatted(value, "da")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def reference(ctx: Ctx, e: StockEntry) -> str:
    """What the entry comes from: the dispense number, the receipt's batch, the corrected entry, the reason."""
    parts = []
    if e.dispense_id:
        parts.append(f"U-{e.dispense_id:06d}")
    if e.batch:
        parts.append(f"batch {e.batch}, udløb {e.expiry:%d-%m-%Y}, {e.supplier}")
    if e.corrects_id:
        parts.append(f"retter postering {e.corrects_id}")
    if e.counted is not None:
        parts.append(f"forventet {number(e.balance_after)}, optalt {number(e.counted)}")
    if e.reason:
        parts.append(e.reason)
    return "; ".join(parts)


def _name(ledger: stock.Ledger, user_id: int | None) -> str:
    user = ledger.users.get(user_id) if user_id else None
    return user.full_name if user else ""


def ledger_pdf(ctx: Ctx, site_id: int, month: str, product: str | None = None) -> bytes:
    """The month's ledger of one item, or of every item the clinic held or moved that month."""
    ctx.require(*stock.STAFF)
    start, end = stock.month_bounds(month)
    items = [stock.stock_item(product)] if product else stock.items_until(ctx, site_id, end)
    site = stock.clinic(ctx, site_id)
    ledgers = [stock.ledger(ctx, site_id, item.code, start, end) for item in items]
    if not product:  # an item neither held nor moved that month has no page
        ledgers = [g for g in ledgers if g.entries or g.opening != 0]
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    story: list[Flowable] = []
    month_da = format_date(start, "MMMM y", locale="da")
    for i, g in enumerate(ledgers):
        if i:
            story.append(PageBreak())
        unit = UNIT_DA[g.item.unit]
        story += [
            Paragraph(_esc(f"Regnskab for euforiserende stoffer – {month_da}"), styles["Title"]),
            Paragraph(_esc(f"{site.name}{', ' + site.address if site.address else ''}"), styles["Heading3"]),
            Paragraph(_esc(f"Præparat: {g.item.name} (varenummer {g.item.code}), enhed: {unit}"), styles["BodyText"]),
            Spacer(0, 4 * mm),
        ]
        rows = [["Dato", "Bevægelse", "Ind", "Ud", "Beholdning", "Udført af", "Vidne", "Reference"]]
        rows.append([f"{start:%d-%m-%Y}", "Primo (overført)", "", "", number(g.opening), "", "", ""])
        for e in g.entries:
            rows.append(
                [
                    e.at.astimezone(ctx.tz).strftime("%d-%m-%Y %H:%M"),
                    KIND_DA[e.kind],
                    number(e.quantity) if e.quantity > 0 else "",
                    number(-e.quantity) if e.quantity < 0 else "",
                    number(e.balance_after),
                    Paragraph(_esc(_name(g, e.by_id)), small),
                    Paragraph(_esc(_name(g, e.witness_id)), small),
                    Paragraph(_esc(reference(ctx, e)), small),
                ]
            )
        rows.append([f"{end:%d-%m-%Y}", "Ultimo", "", "", number(g.closing), "", "", ""])
        table = Table(
            rows, repeatRows=1, colWidths=[30 * mm, 38 * mm, 18 * mm, 18 * mm, 22 * mm, 38 * mm, 38 * mm, 75 * mm]
        )
        table.setStyle(
            TableStyle(
                [
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("ALIGN", (2, 1), (4, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story += [table, Spacer(0, 6 * mm), Paragraph("Optællinger i måneden", styles["Heading4"])]
        counts = [e for e in g.entries if e.kind == StockEntryKind.COUNT]
        if not counts:
            story.append(Paragraph("Ingen optælling i måneden.", styles["BodyText"]))
        for e in counts:
            line = (
                f"{e.at.astimezone(ctx.tz):%d-%m-%Y %H:%M}: forventet {number(e.balance_after)} {unit}, "
                f"optalt {number(e.counted)} {unit}, difference {number(e.difference)} {unit}. "
                f"Optalt af {_name(g, e.by_id)}, vidne {_name(g, e.witness_id)} "
                "(begge bekræftet med egen adgangskode)."
            )
            story.append(Paragraph(_esc(line), styles["BodyText"]))
        story += [
            Spacer(0, 10 * mm),
            Paragraph(
                "Gennemgået af: ______________________________ Dato: ______________ Underskrift: "
                "______________________________",
                styles["BodyText"],
            ),
        ]
    if not ledgers:
        story.append(Paragraph(_esc(f"Regnskab for euforiserende stoffer – {month_da}"), styles["Title"]))
        story.append(
            Paragraph(_esc(f"{site.name}: ingen beholdning og ingen bevægelser i måneden."), styles["BodyText"])
        )
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Regnskab {site.name} {month}",
    )
    doc.build(story)
    audit.record(ctx, "stock.ledger_pdf", "site", site.id, detail={"month": month, "product": product})
    return buffer.getvalue()

"""PDF labels: the LabelRenderer port and its reportlab adapter."""

import functools
import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import qrcode
import qrcode.util
from qrcode.constants import ERROR_CORRECT_M
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen import canvas

from dispensing.labels.model import LabelData
from dispensing.labels.templates import MM_PER_PT, Font, Formats, LabelTemplate, TextBox, load_template

log = logging.getLogger(__name__)

PT_PER_MM = 1 / MM_PER_PT
QR_BORDER = 4  # quiet zone in modules, as the QR standard asks
# A fixed mask instead of qrcode's automatic choice: trying all 8 masks costs
# the whole label budget (BENCHMARKS.md, "Measured reasons in the code"). Tokens are signature bytes, so
# every mask scores alike; 6 had the lowest mean penalty over 200 random tokens.
# Readers decode any mask (it is written in the code's format information).
QR_MASK = 6
_ELLIPSIS = "…"
_DARK_RUNS = re.compile(rb"\x01+")


class LabelRenderer(Protocol):
    """Turns labels into a printable PDF laid out by a template."""

    def render(self, labels: Sequence[LabelData], template: LabelTemplate) -> bytes:
        """Return PDF bytes with one label per item, in order."""
        ...


# --- QR code -----------------------------------------------------------------

_qr_versions: dict[tuple[int, int], int] = {}


def _qr_modules(data: str) -> list[list[bool]]:
    """QR modules (True = dark, no quiet zone) for data at error correction M."""
    segment = qrcode.util.QRData(data)  # picks alphanumeric mode for a base32 token
    key = (segment.mode, len(segment))
    version = _qr_versions.get(key)  # the smallest version depends only on mode and length
    qr = qrcode.QRCode(version=version, error_correction=ERROR_CORRECT_M, mask_pattern=QR_MASK)
    qr.add_data(segment)
    qr.make(fit=version is None)
    _qr_versions[key] = qr.version
    return qr.modules


def _qr_path(modules: list[list[bool]]) -> str:
    """PDF path operators, in module units from the top-left, one rect per run of dark modules."""
    ops = []
    for y, row in enumerate(modules):
        for run in _DARK_RUNS.finditer(bytes(row)):
            ops.append(f"{run.start()} {y} {run.end() - run.start()} 1 re")
    return "\n".join(ops)


# --- values ------------------------------------------------------------------


def _number(value: Decimal, fmt: Formats) -> str:
    # normalize() drops trailing zeros; "f" keeps 80 from printing as 8E+1.
    return format(value.normalize(), "f").replace(".", fmt.decimal_separator)


def _amount(mg: Decimal, ml: Decimal | None, fmt: Formats) -> str:
    mg_text = fmt.mg.format(value=_number(mg, fmt))
    if ml is None:
        return fmt.dose.format(mg=mg_text)
    return fmt.dose_with_ml.format(mg=mg_text, ml=fmt.ml.format(value=_number(ml, fmt)))


def label_values(label: LabelData, fmt: Formats) -> dict[str, str]:
    """The text for every template placeholder of one label."""
    days = sorted(label.covers)
    first, last = days[0], days[-1]
    if len(days) == 1:
        period = fmt.period_single.format(first=first.strftime(fmt.date))
    elif (last - first).days + 1 == len(days):
        period = fmt.period_range.format(first=first.strftime(fmt.date), last=last.strftime(fmt.date))
    else:
        dates = fmt.dates_separator.join(d.strftime(fmt.date_short) for d in days)
        period = fmt.period_dates.format(dates=dates)
    return {
        "patient_name": label.patient_name,
        "patient_cpr": label.patient_cpr,
        "drug_name": label.drug_name,
        "product": label.product,
        "strength": label.strength,
        "form": label.form,
        "dose": _amount(label.dose_mg, label.dose_ml, fmt),
        "total": _amount(label.total_mg, label.total_ml, fmt),
        "period": period,
        "days": (fmt.days_one if len(days) == 1 else fmt.days_many).format(n=len(days)),
        "site_name": label.site_name,
        "prescriber": label.prescriber,
        "dispensed_by": (
            fmt.recorded_afterwards.format(name=label.dispensed_by) if label.recorded_afterwards else label.dispensed_by
        ),
        "dispense_number": label.dispense_number,
        "dispensed_on": label.dispensed_on.strftime(fmt.date),
        "copy_no": str(label.copy_no),
        "copies": str(label.copies),
    }


# --- layout prepared once per template ------------------------------------------


@functools.cache
def _font(font: Font) -> str:
    """Register the TrueType font once per process; the PDF base font if it is missing."""
    for folder in font.search_dirs:
        path = Path(folder) / f"{font.name}.ttf"
        if path.is_file():
            try:
                pdfmetrics.registerFont(TTFont(font.name, str(path)))
            except TTFError as exc:
                log.warning("cannot use font %s: %s", path, exc)
                continue
            return font.name
    log.warning("font %s not found in %s; using %s", font.name, font.search_dirs, font.fallback)
    return font.fallback


@dataclass(frozen=True)
class _Line:
    """A text box in points, label-local (x right, y down from the top), fonts resolved."""

    caption: str
    caption_width: float  # caption plus its space, at size
    text: str
    x: float
    y: float
    size: float
    min_size: float
    max_width: float
    font: str
    caption_font: str
    align: str


def _line(box: TextBox, text: str, regular: str, bold: str) -> _Line:
    caption = f"{box.caption} " if box.caption else ""
    return _Line(
        caption=caption,
        caption_width=pdfmetrics.stringWidth(caption, regular, box.size),
        text=text,
        x=box.x_mm * PT_PER_MM,
        y=box.y_mm * PT_PER_MM,
        size=box.size,
        min_size=box.min_size,
        max_width=box.max_width_mm * PT_PER_MM,
        font=bold if box.bold else regular,
        caption_font=regular,
        align=box.align,
    )


@dataclass(frozen=True)
class _Layout:
    template: LabelTemplate
    page_size: tuple[float, float]
    slots: tuple[tuple[float, float], ...]  # each label's top-left corner on the page
    fields: tuple[_Line, ...]
    warnings: dict[str, tuple[_Line, ...]]  # by drug; "" for a drug without its own
    label_size: tuple[float, float]
    qr: tuple[float, float, float]  # x, y of the top-left corner, size


@functools.lru_cache(maxsize=16)
def _layout(template: LabelTemplate) -> _Layout:
    regular, bold = _font(template.regular_font), _font(template.bold_font)
    g, w, q = template.grid, template.warnings, template.qr
    page_h = template.page_height_mm * PT_PER_MM
    slots = tuple(
        ((g.left_mm + col * g.pitch_x_mm) * PT_PER_MM, page_h - (g.top_mm + row * g.pitch_y_mm) * PT_PER_MM)
        for row in range(g.rows)
        for col in range(g.columns)
    )

    def warning_lines(drug: str) -> tuple[_Line, ...]:
        box = TextBox("", w.x_mm, w.y_mm, w.size, w.max_width_mm, w.min_size, bold=w.bold)
        return tuple(
            _line(replace(box, y_mm=w.y_mm + i * w.line_mm), text, regular, bold)
            for i, text in enumerate(w.for_drug(drug))
        )

    return _Layout(
        template=template,
        page_size=(template.page_width_mm * PT_PER_MM, page_h),
        slots=slots,
        fields=tuple(_line(f, f.text, regular, bold) for f in template.fields),
        warnings={drug: warning_lines(drug) for drug in {d for d, _ in w.by_drug} | {""}},
        label_size=(g.label_width_mm * PT_PER_MM, g.label_height_mm * PT_PER_MM),
        qr=(q.x_mm * PT_PER_MM, q.y_mm * PT_PER_MM, q.size_mm * PT_PER_MM),
    )


# --- drawing -----------------------------------------------------------------


def _fit(line: _Line, value: str) -> tuple[float, str, float]:
    """Size, value and caption width that fit max_width: shrink first, then cut with "…"."""
    width = pdfmetrics.stringWidth(value, line.font, line.size)
    total = line.caption_width + width
    if total <= line.max_width:
        return line.size, value, line.caption_width
    size = max(line.min_size, line.size * line.max_width / total)
    caption_width = line.caption_width * size / line.size
    if width * size / line.size + caption_width <= line.max_width + 1e-6:
        return size, value, caption_width
    room = line.max_width - caption_width
    low, high = 0, len(value)  # longest prefix that fits with the ellipsis
    while low < high:
        mid = (low + high + 1) // 2
        if pdfmetrics.stringWidth(value[:mid].rstrip() + _ELLIPSIS, line.font, size) <= room:
            low = mid
        else:
            high = mid - 1
    return size, value[:low].rstrip() + _ELLIPSIS, caption_width


def _draw_line(c: canvas.Canvas, line: _Line, value: str, left: float, top: float) -> None:
    size, value, caption_width = _fit(line, value)
    x = left + line.x
    if line.align != "left":
        width = caption_width + pdfmetrics.stringWidth(value, line.font, size)
        x += (line.max_width - width) / (2 if line.align == "center" else 1)
    y = top - line.y
    if line.caption:
        c.setFont(line.caption_font, size)
        c.drawString(x, y, line.caption)
    c.setFont(line.font, size)
    c.drawString(x + caption_width, y, value)


def _draw_qr(c: canvas.Canvas, token: str, left: float, top: float, box: tuple[float, float, float]) -> None:
    modules = _qr_modules(token)
    x, y, size = box
    module = size / (len(modules) + 2 * QR_BORDER)
    c.saveState()
    # Module units with y pointing down, so the path is small integers only.
    c.transform(module, 0, 0, -module, left + x + QR_BORDER * module, top - y - QR_BORDER * module)
    c.addLiteral(f"0 g\n{_qr_path(modules)}\nf")
    c.restoreState()


class ReportLabRenderer:
    """The reportlab adapter: text from the template, the QR code as vector rectangles."""

    def __init__(self, page_compression: bool = False) -> None:
        # Uncompressed is faster to write; the labels PDF is printed, not archived.
        self.page_compression = page_compression

    def render(self, labels: Sequence[LabelData], template: LabelTemplate) -> bytes:
        """Return a PDF with the labels in order: one per page on a roll, grid-filled on sheets."""
        if not labels:
            raise ValueError("no labels to render")
        layout = _layout(template)
        out = io.BytesIO()
        # invariant: no clock read for the creation date, same input -> same bytes.
        c = canvas.Canvas(out, pagesize=layout.page_size, invariant=1, pageCompression=int(self.page_compression))
        per_page = len(layout.slots)
        fmt = template.formats
        for i, label in enumerate(labels):
            if i and i % per_page == 0:
                c.showPage()
            left, top = layout.slots[i % per_page]
            if template.grid.outline:
                width, height = layout.label_size
                c.setLineWidth(0.25)
                c.rect(left, top - height, width, height, stroke=1, fill=0)
            values = label_values(label, fmt)
            for line in layout.fields:
                _draw_line(c, line, line.text.format_map(values), left, top)
            warnings = layout.warnings.get(label.drug, layout.warnings[""])
            for line in warnings:
                _draw_line(c, line, line.text, left, top)
            _draw_qr(c, label.token, left, top, layout.qr)
        c.showPage()
        c.save()
        return out.getvalue()


_default_renderer = ReportLabRenderer()


def render_labels(labels: Sequence[LabelData], template_name: str = "roll_89x36") -> bytes:
    """Render labels to PDF bytes with the named template and the reportlab renderer."""
    return _default_renderer.render(labels, load_template(template_name))

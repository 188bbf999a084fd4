"""Label templates: page, grid, fonts, positions and all Danish wording, read from TOML.

One file per label kind in ``label_templates/``. Positions are millimetres from
the label's top-left corner (a text's ``y_mm`` is its baseline); font sizes are
points. A template is checked when loaded: unknown keys, unknown placeholders,
boxes outside the label and overlapping boxes are errors, so a layout mistake
shows up at start-up rather than on a printed label.
"""

import functools
import string
import tomllib
from dataclasses import MISSING, dataclass, fields
from pathlib import Path

DEFAULT_TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "label_templates"

MM_PER_PT = 25.4 / 72
# Share of the font size above / below the baseline, Danish capitals (Å) included.
_ASCENT = 0.92
_DESCENT = 0.24

# What a field's text may use; the renderer supplies exactly these for each label.
PLACEHOLDERS = frozenset(
    {
        "patient_name",
        "patient_cpr",
        "drug_name",
        "product",
        "strength",
        "form",
        "dose",
        "total",
        "period",
        "days",
        "site_name",
        "prescriber",
        "dispensed_by",
        "dispense_number",
        "dispensed_on",
        "copy_no",
        "copies",
    }
)


@dataclass(frozen=True)
class Grid:
    """Where the labels sit on a page: a roll is a 1 x 1 grid."""

    columns: int
    rows: int
    label_width_mm: float
    label_height_mm: float
    left_mm: float
    top_mm: float
    pitch_x_mm: float
    pitch_y_mm: float
    outline: bool = False  # draw each label's edge (for plain paper)

    @property
    def per_page(self) -> int:
        """Labels on one page."""
        return self.columns * self.rows


@dataclass(frozen=True)
class Font:
    """A TrueType font looked up as <name>.ttf in search_dirs, else a PDF base font."""

    name: str
    search_dirs: tuple[str, ...]
    fallback: str


@dataclass(frozen=True)
class TextBox:
    """One line of text: an optional caption followed by a value with placeholders."""

    text: str
    x_mm: float
    y_mm: float
    size: float
    max_width_mm: float
    min_size: float
    caption: str = ""
    bold: bool = False
    align: str = "left"


@dataclass(frozen=True)
class QrBox:
    """The QR code's square, its 4-module quiet zone included."""

    x_mm: float
    y_mm: float
    size_mm: float


@dataclass(frozen=True)
class Warnings:
    """Warning lines: those for every label, then those for the label's drug."""

    x_mm: float
    y_mm: float
    line_mm: float
    size: float
    max_width_mm: float
    max_lines: int
    min_size: float
    always: tuple[str, ...] = ()
    by_drug: tuple[tuple[str, tuple[str, ...]], ...] = ()
    bold: bool = True

    def for_drug(self, drug: str) -> tuple[str, ...]:
        """The warning lines printed on a label for this drug, drug-specific first."""
        return dict(self.by_drug).get(drug, ()) + self.always


@dataclass(frozen=True)
class Formats:
    """How values are written: Danish dates, decimal comma, units, periods."""

    date: str  # strftime
    date_short: str  # strftime, for lists of non-consecutive days
    decimal_separator: str
    mg: str
    ml: str
    dose: str
    dose_with_ml: str
    period_single: str
    period_range: str
    period_dates: str
    dates_separator: str
    days_one: str
    days_many: str
    # Who handed out a dose entered afterwards from the paper contingency sheet.
    recorded_afterwards: str = "{name} (registreret efterfølgende)"


# Placeholders each format string may use.
_FORMAT_PLACEHOLDERS = {
    "mg": {"value"},
    "ml": {"value"},
    "dose": {"mg"},
    "dose_with_ml": {"mg", "ml"},
    "period_single": {"first"},
    "period_range": {"first", "last"},
    "period_dates": {"dates"},
    "days_one": {"n"},
    "days_many": {"n"},
    "recorded_afterwards": {"name"},
}


@dataclass(frozen=True)
class LabelTemplate:
    """A parsed, checked label template."""

    name: str
    description: str
    page_width_mm: float
    page_height_mm: float
    grid: Grid
    regular_font: Font
    bold_font: Font
    formats: Formats
    fields: tuple[TextBox, ...]
    qr: QrBox
    warnings: Warnings


def _coerce(value: object, kind: object, where: str) -> object:
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind in (int, str, bool) and type(value) is kind:
        return value
    if kind == tuple[str, ...] and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"{where}: expected {getattr(kind, '__name__', kind)}, got {value!r}")


def _table(parent: dict, key: str, where: str, keys: set[str] | None = None) -> dict:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"{where}: missing table [{key}]")
    unknown = sorted(set(value) - keys) if keys is not None else []
    if unknown:
        raise ValueError(f"{where} [{key}]: unknown key(s) {', '.join(unknown)}")
    return value


def _build(cls: type, table: object, where: str, defaults: dict | None = None, **given: object):
    """Build a template dataclass from a TOML table; typos and wrong types are errors."""
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table")
    table = {**(defaults or {}), **table}
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(table) - set(known) - set(given))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")
    values = dict(given)
    for f in known.values():
        if f.name in given:
            continue
        if f.name in table:
            values[f.name] = _coerce(table[f.name], f.type, f"{where}: '{f.name}'")
        elif f.default is MISSING:
            raise ValueError(f"{where}: missing '{f.name}'")
    return cls(**values)


def _placeholders(fmt: str, where: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(fmt) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{where}: bad format string {fmt!r}: {exc}") from None


def _check_placeholders(fmt: str, allowed: set[str] | frozenset[str], where: str) -> None:
    unknown = _placeholders(fmt, where) - allowed
    if unknown:
        raise ValueError(
            f"{where}: unknown placeholder(s) {sorted(unknown)} in {fmt!r}; allowed: {', '.join(sorted(allowed))}"
        )


def _text_rect(x: float, y: float, size: float, width: float) -> tuple[float, float, float, float]:
    size_mm = size * MM_PER_PT
    return (x, y - size_mm * _ASCENT, x + width, y + size_mm * _DESCENT)


def _check_layout(t: LabelTemplate, where: str) -> None:
    g = t.grid
    if g.columns < 1 or g.rows < 1:
        raise ValueError(f"{where} [grid]: columns and rows must be at least 1")
    right = g.left_mm + (g.columns - 1) * g.pitch_x_mm + g.label_width_mm
    bottom = g.top_mm + (g.rows - 1) * g.pitch_y_mm + g.label_height_mm
    if right > t.page_width_mm + 0.01 or bottom > t.page_height_mm + 0.01:
        raise ValueError(f"{where} [grid]: the labels do not fit on the page")
    boxes: list[tuple[str, tuple[float, float, float, float]]] = []
    for i, f in enumerate(t.fields, 1):
        if f.align not in ("left", "center", "right"):
            raise ValueError(f"{where} field {i}: align must be left, center or right")
        if not 0 < f.min_size <= f.size:
            raise ValueError(f"{where} field {i}: need 0 < min_size <= size")
        box = _text_rect(f.x_mm, f.y_mm, f.size, f.max_width_mm)
        boxes.append((f"field {i} ({f.caption or f.text})", box))
    w = t.warnings
    if not 0 < w.min_size <= w.size:
        raise ValueError(f"{where} [warnings]: need 0 < min_size <= size")
    for n in range(w.max_lines):
        box = _text_rect(w.x_mm, w.y_mm + n * w.line_mm, w.size, w.max_width_mm)
        boxes.append((f"warning line {n + 1}", box))
    q = t.qr
    boxes.append(("qr", (q.x_mm, q.y_mm, q.x_mm + q.size_mm, q.y_mm + q.size_mm)))
    for label, (x0, y0, x1, y1) in boxes:
        if x0 < 0 or y0 < 0 or x1 > g.label_width_mm + 0.01 or y1 > g.label_height_mm + 0.01:
            size = f"{g.label_width_mm} x {g.label_height_mm} mm"
            raise ValueError(f"{where}: {label} reaches outside the {size} label")
    for i, (a, (ax0, ay0, ax1, ay1)) in enumerate(boxes):
        for b, (bx0, by0, bx1, by1) in boxes[i + 1 :]:
            if ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1:
                raise ValueError(f"{where}: {a} overlaps {b}")
    for drug in {d for d, _ in w.by_drug} | {""}:
        if len(w.for_drug(drug)) > w.max_lines:
            whom = drug or "every drug"
            raise ValueError(f"{where} [warnings]: more lines for {whom} than max_lines")


def _parse(name: str, path: Path) -> LabelTemplate:
    where = path.name
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{where}: {exc}") from None
    sections = {"description", "page", "grid", "fonts", "format", "text", "field", "qr", "warnings"}
    unknown = sorted(set(doc) - sections)
    if unknown:
        raise ValueError(f"{where}: unknown section(s) {', '.join(unknown)}")
    page = _table(doc, "page", where, {"width_mm", "height_mm"})
    fonts = _table(doc, "fonts", where, {"regular", "bold"})
    text = _table(doc, "text", where, {"min_size"})
    warnings = dict(_table(doc, "warnings", where))
    field_tables = doc.get("field")
    if not isinstance(field_tables, list) or not field_tables:
        raise ValueError(f"{where}: no [[field]] entries")
    min_size = _coerce(text.get("min_size"), float, f"{where} [text]: 'min_size'")
    by_drug = warnings.pop("by_drug", {})
    if not isinstance(by_drug, dict):
        raise ValueError(f"{where} [warnings.by_drug]: expected a table")
    template = LabelTemplate(
        name=name,
        description=_coerce(doc.get("description", ""), str, f"{where}: 'description'"),
        page_width_mm=_coerce(page.get("width_mm"), float, f"{where} [page]: 'width_mm'"),
        page_height_mm=_coerce(page.get("height_mm"), float, f"{where} [page]: 'height_mm'"),
        grid=_build(Grid, _table(doc, "grid", where), f"{where} [grid]"),
        regular_font=_build(Font, fonts.get("regular"), f"{where} [fonts.regular]"),
        bold_font=_build(Font, fonts.get("bold"), f"{where} [fonts.bold]"),
        formats=_build(Formats, _table(doc, "format", where), f"{where} [format]"),
        fields=tuple(
            _build(TextBox, t, f"{where} [[field]] {i}", {"min_size": min_size}) for i, t in enumerate(field_tables, 1)
        ),
        qr=_build(QrBox, _table(doc, "qr", where), f"{where} [qr]"),
        warnings=_build(
            Warnings,
            warnings,
            f"{where} [warnings]",
            {"min_size": min_size},
            by_drug=tuple(
                sorted(
                    (drug, _coerce(lines, tuple[str, ...], f"{where} [warnings.by_drug] {drug}"))
                    for drug, lines in by_drug.items()
                )
            ),
        ),
    )
    for i, f in enumerate(template.fields, 1):
        _check_placeholders(f.text, PLACEHOLDERS, f"{where} [[field]] {i}")
    for key, allowed in _FORMAT_PLACEHOLDERS.items():
        _check_placeholders(getattr(template.formats, key), allowed, f"{where} [format] {key}")
    _check_layout(template, where)
    return template


def _template_dir(template_dir: Path | None) -> Path:
    return Path(template_dir) if template_dir is not None else DEFAULT_TEMPLATE_DIR


def available_templates(template_dir: Path | None = None) -> list[str]:
    """Names of the label templates in the template directory."""
    return sorted(p.stem for p in _template_dir(template_dir).glob("*.toml"))


@functools.lru_cache(maxsize=32)
def _load(name: str, template_dir: Path) -> LabelTemplate:
    available = available_templates(template_dir)
    if name not in available:  # also keeps names like "../x" out of the file system
        listed = ", ".join(available) or "none"
        raise ValueError(f"unknown label template {name!r}; available: {listed}")
    return _parse(name, template_dir / f"{name}.toml")


def load_template(name: str, template_dir: Path | None = None) -> LabelTemplate:
    """Load and check a label template by name (cached; restart to pick up edits)."""
    return _load(name, _template_dir(template_dir).resolve())


load_template.cache_clear = _load.cache_clear  # type: ignore[attr-defined]

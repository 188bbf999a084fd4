"""The words of every refusal and notice, by stable code, in English and Danish.

Catalogues are gettext `.po` files beside this module (`en.po`, `da.po`), read through Babel: the msgid
is the code (`slot.already_dispensed`), the msgstr the sentence with `{named}` placeholders. Values are
formatted for the language by Babel (Danish: `1.998 mg`, `4. december 2026`, `0,50 ‰`), so a Dane never
reads `50.000 mg` as fifty thousand.
"""

import re
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime, get_day_names
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LANGUAGES = ("en", "da")


class Promille(Decimal):
    """A breath reading or limit: always shown with two decimals (0,50 ‰), unlike a dose (50 mg)."""


_HERE = Path(__file__).resolve().parent


@cache
def catalogue(locale: str) -> dict[str, str]:
    """code -> sentence for one language (read once per process)."""
    with (_HERE / f"{locale}.po").open("rb") as f:
        cat = read_po(f, locale=locale)
    return {m.id: m.string for m in cat if m.id and m.string and isinstance(m.id, str)}


class Weekday(int):
    """A weekday parameter (0 = Monday), written as the day's name in the reader's language."""


def formatted(value: Any, locale: str) -> str:
    """One parameter as a reader of `locale` writes it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Weekday):
        return str(get_day_names("wide", locale=locale)[int(value)])
    if isinstance(value, Message):
        return value.text(locale)
    if isinstance(value, Enum):  # a state or kind has its words in the catalogue: slot_status.dispensed
        return catalogue(locale).get(enum_code(value)) or str(value.value)
    if isinstance(value, Promille):
        return format_decimal(value, format="0.00", locale=locale)
    if isinstance(value, Decimal):
        return format_decimal(value.normalize() if value == value.to_integral() else value, locale=locale)
    if isinstance(value, int):
        return format_decimal(value, locale=locale)
    if isinstance(value, datetime):
        return format_datetime(value, format="short" if locale == "en" else "d. MMMM y 'kl.' HH:mm", locale=locale)
    if isinstance(value, date):
        return format_date(value, format="long" if locale == "da" else "yyyy-MM-dd", locale=locale)
    if isinstance(value, list | tuple) and value and all(isinstance(v, Message) for v in value):
        return " ".join(v.text(locale) for v in value)  # several sentences
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(formatted(v, locale) for v in value)
    return str(value)


def text(code: str, params: dict[str, Any], locale: str = "en") -> str:
    """The sentence for `code` in `locale` (English if the language lacks it; the code itself if both do)."""
    locale = locale if locale in LANGUAGES else "en"
    template = catalogue(locale).get(code) or catalogue("en").get(code)
    if template is None:
        return code
    # An id or a running number is a name, not a quantity: no thousands separator.
    values = {k: str(v) if k.endswith("_id") or k == "number" else formatted(v, locale) for k, v in params.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):  # a placeholder without a value: say the rest plainly
        return template


def enum_code(value: Enum) -> str:
    """SlotStatus.DISPENSED -> "slot_status.dispensed": where an enum value's words live in the catalogues."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(value).__name__).lower() + "." + str(value.value)


class Message(str):
    """A rule's outcome as data: a stable code and its values. It is also its English sentence (a str), so
    callers that log or store text keep working; a screen asks `.text("da")`."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, /, **params: Any) -> "Message":
        obj = super().__new__(cls, text(code, params, "en"))
        obj.code, obj.params = code, params
        return obj

    def text(self, locale: str = "en") -> str:
        return text(self.code, self.params, locale)


def to_json(value: Any) -> Any:
    """A message's values as JSON that keeps their kind (a stored alert is worded later, per reader)."""
    if isinstance(value, Message):
        return {"$m": value.code, "p": to_json(value.params)}
    if isinstance(value, Enum):
        return {"$m": enum_code(value), "p": {}}
    if isinstance(value, Promille):
        return {"$p": str(value)}
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if "$m" in value:
            return Message(value["$m"], **from_json(value.get("p") or {}))
        if "$p" in value:
            return Promille(value["$p"])
        if "$d" in value:
            return Decimal(value["$d"])
        if "$dt" in value:
            return datetime.fromisoformat(value["$dt"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def stored(code: str | None, params: dict | None, fallback: str, locale: str) -> str:
    """A stored message (code and JSON values) in `locale`; the stored sentence for rows without a code."""
    return text(code, from_json(params or {}), locale) if code else fallback


class RuleViolation(ValueError):
    """A pure rule refusing its input (a malformed CPR, an implausible breath reading), with code and values."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code, self.params = code, params
        super().__init__(text(code, params, "en"))


def has_text(code: str, locale: str) -> bool:
    return code in catalogue(locale)


def negotiate(accept_language: str | None) -> str:
    """ "da" when the client prefers Danish (Accept-Language), else English."""
    if not accept_language:
        return "en"
    best = Locale.negotiate(
        [p.split(";")[0].strip().replace("-", "_") for p in accept_language.split(",")], list(LANGUAGES), sep="_"
    )
    return str(best) if best else "en"

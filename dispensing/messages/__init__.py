"""The words of every refusal and notice, by stable code, in English and Danish.

Catalogues are gettext `.po` files beside this module (`en.po`, `da.po`), read through Babel: the msgid
is the code (`slot.already_dispensed`), the msgstr the sentence with `{named}` placeholders. Values are
formatted for the language by Babel (Danish: `1.998 mg`, `4. december 2026`, `0,50 ‰`), so a Dane never
reads `50.000 mg` as fifty thousand.
"""

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime, get_day_names
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LANGUAGES = ("en", "da")
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
    if isinstance(value, Decimal):
        return format_decimal(value.normalize() if value == value.to_integral() else value, locale=locale)
    if isinstance(value, int):
        return format_decimal(value, locale=locale)
    if isinstance(value, datetime):
        return format_datetime(value, format="short" if locale == "en" else "d. MMMM y 'kl.' HH:mm", locale=locale)
    if isinstance(value, date):
        return format_date(value, format="long" if locale == "da" else "yyyy-MM-dd", locale=locale)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(formatted(v, locale) for v in value)
    return str(value)


def text(code: str, params: dict[str, Any], locale: str = "en") -> str:
    """The sentence for `code` in `locale` (English if the language lacks it; the code itself if both do)."""
    locale = locale if locale in LANGUAGES else "en"
    template = catalogue(locale).get(code) or catalogue("en").get(code)
    if template is None:
        return code
    values = {k: formatted(v, locale) for k, v in params.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):  # a placeholder without a value: say the rest plainly
        return template


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

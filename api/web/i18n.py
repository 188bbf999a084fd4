"""Every word the web UI shows comes from a catalogue: the screens' own words from `api/web/locale/da.po`
(msgid = the English id a template passes to `_()`), refusals and the words of states and kinds from the
services' catalogues (`dispensing/messages`, by code). A missing id is shown as-is and remembered in MISSING
(a test renders every page and asserts nothing is missing).
"""

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from dispensing import messages
from dispensing.catalogue import CATALOGUE
from dispensing.enums import Drug, SanctionStep
from dispensing.errors import DispensingError
from dispensing.messages import Message
from dispensing.models import BreachKind
from dispensing.services.urine import PANEL

LOCALE = "da"
MISSING: set[str] = set()
_CATALOGUE = Path(__file__).resolve().parent / "locale" / f"{LOCALE}.po"

# Words a branch adds before moving them to the catalogue (the catalogue wins on a clash).
DA: dict[str, str] = {}


@cache
def _screen_words() -> dict[str, str]:
    with _CATALOGUE.open("rb") as f:
        cat = read_po(f, locale=LOCALE)
    return {m.id: m.string for m in cat if m.id and m.string and isinstance(m.id, str)}


def word(value: Enum | str, kind: str | None = None) -> str:
    """A state or kind as the screen shows it (SlotStatus.PREPARED -> "Klargjort til udleveringsstedet");
    the one list of these words is the catalogue (slot_status.*, dispense_status.*, sanction_step.*)."""
    if isinstance(value, Enum):
        text = messages.formatted(value, LOCALE)
    else:
        text = messages.text(f"{kind}.{value}", {}, LOCALE)
    return text[:1].upper() + text[1:]


SANCTION_STEP = {s.value: word(s) for s in SanctionStep}

BREACH_KIND = {k.value: word(k) for k in BreachKind}
URINE_PANEL = {k: word(k, "urine_panel") for k in PANEL}
WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
WEEKDAYS_SHORT = ("man", "tir", "ons", "tor", "fre", "lør", "søn")
MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)


def gettext(msgid: str, **values) -> str:
    text = _screen_words().get(msgid) or DA.get(msgid)
    if text is None:
        MISSING.add(msgid)
        text = msgid
    return text.format(**values) if values else text


def say(outcome: Message | DispensingError | str | None) -> str:
    """A rule's outcome or a refusal in Danish, from its code (a plain sentence is shown as it is)."""
    if outcome is None:
        return ""
    if isinstance(outcome, Message | DispensingError):
        return outcome.text(LOCALE)
    return str(outcome)


def stored(code: str | None, params: dict | None, fallback: str) -> str:
    """A message stored with an alert or a breach, in Danish (older rows: their stored sentence)."""
    return messages.stored(code, params, fallback, LOCALE)


def drug_name(drug: Drug | str) -> str:
    return CATALOGUE[Drug(drug)].name


def mg(value: Decimal | None) -> str:
    """30 -> "30", 2.50 -> "2,5" (Danish decimal comma)."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f").replace(".", ",")


def promille(value: Decimal) -> str:
    """0.5 -> "0,50" (breathalyser readings have two decimals)."""
    return f"{Decimal(value):.2f}".replace(".", ",")


def day(value: date | None, *, weekday: bool = False) -> str:
    """2026-03-02 -> "2. marts 2026" (with weekday: "mandag 2. marts 2026")."""
    if value is None:
        return ""
    text = f"{value.day}. {MONTHS[value.month - 1]} {value.year}"
    return f"{WEEKDAYS[value.weekday()]} {text}" if weekday else text


def short_day(value: date) -> str:
    return f"{WEEKDAYS_SHORT[value.weekday()]} {value.day}/{value.month}"


def clock_time(value: datetime | None, tz) -> str:
    return value.astimezone(tz).strftime("%H:%M") if value else ""


def stock_alert_text(alert) -> str:
    """A site alert of the controlled-drug ledger in Danish (from its code and values)."""
    from dispensing.services.stock import alert_text

    return alert_text(alert.code, alert.params or {}, "da") if alert.code else alert.message

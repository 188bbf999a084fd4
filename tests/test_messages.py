"""The message catalogues: every refusal raised anywhere has a Danish and an English text, and the
Danish one reads like Danish (numbers and dates by Babel, no internal ids or HTTP paths)."""

import ast
import re
import string
from datetime import date
from decimal import Decimal
from enum import Enum
from pathlib import Path

import pytest

from dispensing import messages
from dispensing.catalogue import STOCK_ITEMS
from dispensing.enums import SanctionStep
from dispensing.errors import Conflict, DispensingError, InvalidInput
from dispensing.messages import Message, Promille, RuleViolation
from dispensing.models import SlotStatus
from dispensing.rules.urine_findings import PANEL

ROOT = Path(__file__).resolve().parent.parent
RAISING = {"NotAuthenticated", "Forbidden", "NotFound", "Conflict", "InvalidInput", "DispensingError"}
CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
# Codes put together at run time and so written out nowhere (the families read from their source are below).
BUILT_ELSEWHERE = {
    # services/stock._text(value, field) refuses an empty text as f"stock.{field}_required"
    "stock.batch_required",
    "stock.supplier_required",
    "stock.reason_required",
}


def _codes_in_source() -> dict[str, str]:
    """Every literal code passed to an error class, a Message or a RuleViolation (and its subclasses)."""
    found: dict[str, str] = {}
    for path in [*(ROOT / "dispensing").rglob("*.py"), *(ROOT / "api").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
                continue
            name, first = node.func.id, node.args[0]
            named = name in RAISING | {"Message", "RuleViolation", "InvalidCpr"}
            if named and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found[first.value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def test_every_raise_names_a_code_not_a_sentence():
    codes = _codes_in_source()
    assert len(codes) > 150
    sentences = {c: where for c, where in codes.items() if not CODE.fullmatch(c)}
    assert sentences == {}


@pytest.mark.parametrize("locale", messages.LANGUAGES)
def test_every_code_raised_has_a_text_in_both_languages(locale):
    missing = {c: where for c, where in _codes_in_source().items() if not messages.has_text(c, locale)}
    assert missing == {}


def _enum_words() -> set[str]:
    """The words of states and kinds (`slot_status.due`): messages.enum_code of every member of our enums."""

    def subclasses(cls: type[Enum]) -> list[type[Enum]]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    ours = [e for e in subclasses(Enum) if e.__module__.startswith("dispensing.")]
    assert SanctionStep in ours and SlotStatus in ours
    return {messages.enum_code(member) for e in ours for member in e}


def _written_in_source() -> set[str]:
    """Every quoted dotted name in the code and the screens: a code raised, passed on, stored or looked up."""
    quoted = re.compile(r"""["']([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)["']""")
    files = [*(ROOT / "dispensing").rglob("*.py"), *(ROOT / "api").rglob("*.py"), *(ROOT / "api").rglob("*.html")]
    return {code for path in files for code in quoted.findall(path.read_text(encoding="utf-8"))}


def test_every_text_in_the_catalogues_belongs_to_a_code_still_used():
    """The reverse: a code no longer raised or looked up leaves the catalogues with its last use."""
    used = _written_in_source() | _enum_words() | BUILT_ELSEWHERE
    used |= {f"urine_panel.{k}" for k in PANEL}  # Message(f"urine_panel.{k}"), i18n.URINE_PANEL
    used |= {f"stock.unit.{item.unit}" for item in STOCK_ITEMS.values()}  # stock.alert_text
    unused = sorted(set(messages.catalogue("en")) - used)
    assert unused == [], "nothing raises or looks these up: remove them from en.po and da.po"


def test_both_catalogues_have_the_same_codes_and_the_danish_uses_no_unknown_placeholder():
    en, da = messages.catalogue("en"), messages.catalogue("da")
    assert set(en) == set(da)
    for code, text in da.items():
        names = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        assert names <= {f for _, f, _, _ in string.Formatter().parse(en[code]) if f}, code


def test_the_danish_texts_show_no_internal_ids_or_http_paths():
    for code, text in messages.catalogue("da").items():
        assert not re.search(r"\b(GET|POST|PUT) /|\bSlot \d|\border \d|_id\b|\{\w+_id\}", text), (code, text)


def test_numbers_and_dates_in_danish_formats():
    assert messages.formatted(Decimal("50.000"), "da") == "50"
    assert messages.formatted(Decimal("1998"), "da") == "1.998"
    assert messages.formatted(Decimal("2.5"), "da") == "2,5"
    assert messages.formatted(Promille("0.5"), "da") == "0,50"
    assert messages.formatted(date(2026, 12, 4), "da") == "4. december 2026"
    assert messages.formatted(SlotStatus.PREPARED, "da") == "klargjort til udleveringsstedet"
    error = Conflict(
        "block.release_above_restart_cap", missed=5, restart_max_mg=Decimal("30"), dose_mg=Decimal("50.000"), order_id=9
    )
    assert "ordinationen er 50 mg" in error.text("da") and "9" not in error.text("da")
    assert "order 9 is 50 mg" in error.text("en") and str(error) == error.text("en")


def test_a_rule_outcome_keeps_its_code_and_values_through_storage():
    m = Message(
        "alert.withheld",
        drug=SlotStatus.DUE,
        day=date(2026, 3, 2),
        promille=Promille("0.3"),
        reason=Message(
            "breath.over_clinic_limit", reading=Promille("0.3"), limit=Promille("0.25"), drug=SlotStatus.DUE
        ),
    )
    stored = messages.to_json(m.params)
    assert messages.stored(m.code, stored, "x", "da") == m.text("da")
    assert "0,30 ‰" in m.text("da") and "2. marts 2026" in m.text("da")


def test_a_rule_violation_becomes_a_refusal_with_its_code():
    error = InvalidInput.of(RuleViolation("breath.implausible", reading=Decimal("7")))
    assert isinstance(error, DispensingError) and error.code == "breath.implausible" and error.status_code == 422
    assert "7 ‰" in error.text("da")


def test_an_unknown_code_shows_the_code_rather_than_nothing():
    assert messages.text("no.such_code", {}, "da") == "no.such_code"

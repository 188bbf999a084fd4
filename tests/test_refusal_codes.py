"""Every coded refusal raised in the domain has its words in both catalogues (English and Danish), and the
Danish sentence uses no value the English one does not (so both can be filled from the same params)."""

import re
import string
from pathlib import Path

import pytest

from dispensing import messages

ROOT = Path(__file__).resolve().parents[1] / "dispensing"
RAISED = re.compile(
    r"\b(?:Conflict|InvalidInput|NotFound|Forbidden|NotAuthenticated|DispensingError)\(\s*\"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)\""
)


def raised_codes() -> set[str]:
    return {code for path in ROOT.rglob("*.py") for code in RAISED.findall(path.read_text(encoding="utf-8"))}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_scan_finds_the_corrections_codes():
    assert {"slot.reopen_other_day", "dispense.outside_window", "order.opioid_overlap"} <= raised_codes()


@pytest.mark.parametrize("code", sorted(raised_codes()))
def test_a_raised_code_has_english_and_danish_words(code):
    assert messages.has_text(code, "en"), f"{code} has no English text in dispensing/messages/en.po"
    assert messages.has_text(code, "da"), f"{code} has no Danish text in dispensing/messages/da.po"
    da, en = messages.catalogue("da")[code], messages.catalogue("en")[code]
    assert placeholders(da) <= placeholders(en), f"{code}: Danish uses values English does not"

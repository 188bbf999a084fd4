"""Danish CPR numbers: parsing, century rule, masking (DOMAIN.md, "Identity")."""

import re
from dataclasses import dataclass
from datetime import date

from dispensing.enums import Sex
from dispensing.messages import RuleViolation

# Only ASCII digits: str.isdigit() would also accept e.g. Arabic-Indic or superscript digits.
_CPR_RE = re.compile(r"([0-9]{6})-?([0-9]{4})")
_MOD11_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)


class InvalidCpr(RuleViolation):
    """A CPR number that cannot be accepted; str(e) tells the user what to fix."""


@dataclass(frozen=True)
class Cpr:
    digits: str
    birth_date: date
    sex: Sex
    mod11_ok: bool

    @property
    def formatted(self) -> str:
        """The number as DDMMYY-SSSS."""
        return f"{self.digits[:6]}-{self.digits[6:]}"

    @property
    def masked(self) -> str:
        """The number as DDMMYY-XXXX, for lists and logs."""
        return f"{self.digits[:6]}-XXXX"

    def __repr__(self) -> str:
        # Keep full CPR numbers out of logs and tracebacks (GDPR, DOMAIN.md rule 12).
        return f"Cpr(masked={self.masked!r}, sex={self.sex.value!r})"


def _century(digit7: int, yy: int) -> int:
    """Century of the birth year from digit 7 and YY, per the table in DOMAIN.md."""
    if digit7 <= 3:
        return 1900
    if digit7 in (4, 9):
        return 2000 if yy <= 36 else 1900
    # digit 7 is 5-8
    if yy <= 57:
        return 2000
    return 1800


def _match(text: str) -> re.Match[str]:
    """Check the shape of a CPR number and return the regex match."""
    if not isinstance(text, str):
        raise InvalidCpr("cpr.not_text")
    stripped = text.strip()
    if not stripped:
        raise InvalidCpr("cpr.empty")
    m = _CPR_RE.fullmatch(stripped)
    if m:
        return m
    # Never echo the digits themselves: error messages end up in logs.
    bad = sorted({c for c in stripped if not ("0" <= c <= "9" or c == "-")})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise InvalidCpr("cpr.bad_characters", found=shown)
    n_digits = sum(c.isascii() and c.isdigit() for c in stripped)
    if n_digits != 10:
        raise InvalidCpr("cpr.digit_count", count=n_digits)
    raise InvalidCpr("cpr.hyphen")


def _mod11_ok(digits: str) -> bool:
    """Old modulus-11 check; numbers issued since 2007 may fail it."""
    return sum(int(d) * w for d, w in zip(digits, _MOD11_WEIGHTS, strict=True)) % 11 == 0


def parse_cpr(text: str) -> Cpr:
    """Parse and validate a CPR number ("DDMMYY-SSSS" or "DDMMYYSSSS")."""
    m = _match(text)
    digits = m.group(1) + m.group(2)
    dd, mm, yy = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    year = _century(int(digits[6]), yy) + yy
    try:
        birth_date = date(year, mm, dd)
    except ValueError:
        raise InvalidCpr("cpr.not_a_date", day=f"{dd:02d}.{mm:02d}.{year}") from None
    # Mod-11 failures are accepted: such numbers have been issued since 2007.
    return Cpr(
        digits=digits,
        birth_date=birth_date,
        sex=Sex.MALE if int(digits[9]) % 2 else Sex.FEMALE,
        mod11_ok=_mod11_ok(digits),
    )


def mask_cpr(digits: str) -> str:
    """Mask a stored CPR number for display: "0101701234" -> "010170-XXXX"."""
    # Shape check only: masking must not fail on a stored number whose date we would now reject.
    m = _match(digits)
    return f"{m.group(1)}-XXXX"

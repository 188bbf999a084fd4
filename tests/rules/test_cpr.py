from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispensing.enums import Sex
from dispensing.rules.cpr import Cpr, InvalidCpr, mask_cpr, parse_cpr

# Independent oracle: the DOMAIN.md table written out as data (digit 7 -> (00-36, 37-57, 58-99)).
TABLE = {
    **{d: (1900, 1900, 1900) for d in (0, 1, 2, 3)},
    **{d: (2000, 1900, 1900) for d in (4, 9)},
    **{d: (2000, 2000, 1800) for d in (5, 6, 7, 8)},
}


def expected_year(digit7: int, yy: int) -> int:
    col = 0 if yy <= 36 else 1 if yy <= 57 else 2
    return TABLE[digit7][col] + yy


def cpr(dd: int, mm: int, yy: int, digit7: int, rest: str = "000") -> str:
    return f"{dd:02d}{mm:02d}{yy:02d}{digit7}{rest}"


# --- century table -----------------------------------------------------------


@pytest.mark.parametrize("digit7", range(10))
@pytest.mark.parametrize("yy", range(100))
def test_century_full_table(digit7, yy):
    assert parse_cpr(cpr(15, 6, yy, digit7)).birth_date == date(expected_year(digit7, yy), 6, 15)


@pytest.mark.parametrize(
    "yy, digit7, year",
    [
        # digit 7 = 0-3: always 19YY
        (0, 0, 1900),
        (36, 3, 1936),
        (37, 3, 1937),
        (57, 0, 1957),
        (58, 3, 1958),
        (99, 1, 1999),
        # digit 7 = 4 or 9: boundary 36/37
        (36, 4, 2036),
        (37, 4, 1937),
        (57, 4, 1957),
        (58, 4, 1958),
        (0, 4, 2000),
        (99, 4, 1999),
        (36, 9, 2036),
        (37, 9, 1937),
        (58, 9, 1958),
        (0, 9, 2000),
        (99, 9, 1999),
        # digit 7 = 5-8: boundary 57/58
        (57, 5, 2057),
        (58, 5, 1858),
        (36, 5, 2036),
        (37, 5, 2037),
        (99, 5, 1899),
        (57, 8, 2057),
        (58, 8, 1858),
        (0, 8, 2000),
        (99, 8, 1899),
        (57, 6, 2057),
        (58, 7, 1858),
    ],
)
def test_century_boundaries(yy, digit7, year):
    assert parse_cpr(cpr(1, 1, yy, digit7)).birth_date == date(year, 1, 1)


# --- date validation -----------------------------------------------------------


@pytest.mark.parametrize("digit7", [0, 1, 2, 3])
def test_29_feb_1900_invalid(digit7):
    with pytest.raises(InvalidCpr, match="29.02.1900"):
        parse_cpr(cpr(29, 2, 0, digit7))


@pytest.mark.parametrize("digit7", [4, 5, 6, 7, 8, 9])
def test_29_feb_2000_valid(digit7):
    assert parse_cpr(cpr(29, 2, 0, digit7)).birth_date == date(2000, 2, 29)


@pytest.mark.parametrize("digit7", [5, 6, 7, 8])
def test_29_feb_1858_invalid(digit7):
    with pytest.raises(InvalidCpr, match="29.02.1858"):
        parse_cpr(cpr(29, 2, 58, digit7))


@pytest.mark.parametrize("digit7", [5, 6, 7, 8])
def test_29_feb_1860_valid(digit7):
    assert parse_cpr(cpr(29, 2, 60, digit7)).birth_date == date(1860, 2, 29)


def test_29_feb_56_is_never_1856():
    # 18YY only exists for YY 58-99, so YY 56 is 1956 or 2056: both leap years.
    assert parse_cpr(cpr(29, 2, 56, 0)).birth_date == date(1956, 2, 29)
    assert parse_cpr(cpr(29, 2, 56, 5)).birth_date == date(2056, 2, 29)


def test_29_feb_non_leap_year_invalid():
    with pytest.raises(InvalidCpr):
        parse_cpr(cpr(29, 2, 70, 1))


@pytest.mark.parametrize("dd, mm", [(31, 4), (31, 6), (31, 9), (31, 11), (30, 2), (0, 1), (1, 0), (1, 13), (32, 1)])
def test_impossible_dates_rejected(dd, mm):
    with pytest.raises(InvalidCpr) as exc:
        parse_cpr(cpr(dd, mm, 70, 1))
    msg = str(exc.value)
    assert "not a real date" in msg
    assert "Check" in msg


def test_31_april_message_names_the_date():
    with pytest.raises(InvalidCpr, match=r"31\.04\.1970"):
        parse_cpr("310470-1234")


def test_last_day_of_month_valid():
    assert parse_cpr("300470-1234").birth_date == date(1970, 4, 30)
    assert parse_cpr("311270-1234").birth_date == date(1970, 12, 31)


# --- format ------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0101701234", "010170-1234", "  010170-1234\n", "\t0101701234 "])
def test_hyphen_optional_and_whitespace(text):
    c = parse_cpr(text)
    assert c.digits == "0101701234"
    assert c.formatted == "010170-1234"
    assert c.birth_date == date(1970, 1, 1)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("010170-123", "10 digits, got 9"),
        ("010170123", "10 digits, got 9"),
        ("010170-12345", "10 digits, got 11"),
        ("01017012345", "10 digits, got 11"),
        ("0101701A34", "'A'"),
        ("010170 1234", "' '"),
        ("010170/1234", "'/'"),
        ("010170–1234", "'–'"),  # en dash
        ("０１０１７０１２３４", "found"),  # full-width digits
        ("01017-01234", "hyphen"),
        ("010170--1234", "hyphen"),
        ("-0101701234", "hyphen"),
    ],
)
def test_malformed_rejected_with_message(text, fragment):
    with pytest.raises(InvalidCpr) as exc:
        parse_cpr(text)
    msg = str(exc.value)
    assert fragment in msg
    assert "DDMMYY-SSSS" in msg  # tells how to fix it


def test_error_messages_do_not_echo_the_number():
    for text in ["010170-123", "0101701A34", "01017-01234"]:
        with pytest.raises(InvalidCpr) as exc:
            parse_cpr(text)
        assert "010170" not in str(exc.value)
        assert "1234" not in str(exc.value)


def test_non_string_rejected():
    with pytest.raises(InvalidCpr):
        parse_cpr(101701234)  # type: ignore[arg-type]


def test_invalid_cpr_is_value_error():
    assert issubclass(InvalidCpr, ValueError)


# --- mod 11, sex --------------------------------------------------------------


@pytest.mark.parametrize("text", ["010170-1018", "010170-1026", "010170-1093"])
def test_mod11_ok(text):
    assert parse_cpr(text).mod11_ok is True


@pytest.mark.parametrize("text", ["010170-1234", "010170-1019", "010170-1027"])
def test_mod11_failure_accepted(text):
    c = parse_cpr(text)
    assert c.mod11_ok is False
    assert c.birth_date == date(1970, 1, 1)


@pytest.mark.parametrize("last, sex", [(str(d), Sex.MALE if d % 2 else Sex.FEMALE) for d in range(10)])
def test_sex_from_last_digit(last, sex):
    assert parse_cpr(f"010170-123{last}").sex is sex


def test_sex_explicit():
    assert parse_cpr("010170-1235").sex is Sex.MALE
    assert parse_cpr("010170-1234").sex is Sex.FEMALE


# --- masking -------------------------------------------------------------------


def test_masked_property():
    assert parse_cpr("0101701234").masked == "010170-XXXX"


@pytest.mark.parametrize("text", ["0101701234", "010170-1234", " 010170-1234 "])
def test_mask_cpr(text):
    assert mask_cpr(text) == "010170-XXXX"


def test_mask_cpr_does_not_need_a_valid_date():
    assert mask_cpr("3104701234") == "310470-XXXX"


@pytest.mark.parametrize("text", ["", "01017012", "0101701A34", "010170-12345"])
def test_mask_cpr_rejects_malformed(text):
    with pytest.raises(InvalidCpr):
        mask_cpr(text)


def test_repr_does_not_leak_full_number():
    c = parse_cpr("010170-1234")
    assert "1234" not in repr(c)
    assert "010170-XXXX" in repr(c)


def test_frozen():
    c = parse_cpr("010170-1234")
    with pytest.raises(AttributeError):
        c.digits = "0202021234"  # type: ignore[misc]


# --- properties ------------------------------------------------------------------


def digits7_for(year: int) -> list[int]:
    return [d for d in range(10) if expected_year(d, year % 100) == year]


@st.composite
def valid_cprs(draw):
    birth = draw(st.dates(min_value=date(1858, 1, 1), max_value=date(2057, 12, 31)))
    digit7 = draw(st.sampled_from(digits7_for(birth.year)))
    rest = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    digits = f"{birth:%d%m}{birth.year % 100:02d}{digit7}{rest}"
    return birth, digits


@given(valid_cprs(), st.booleans())
def test_round_trip(case, hyphen):
    birth, digits = case
    text = f"{digits[:6]}-{digits[6:]}" if hyphen else digits
    c = parse_cpr(text)
    assert c.birth_date == birth
    assert c.digits == digits
    assert parse_cpr(c.formatted) == c
    assert c.formatted.replace("-", "") == digits
    assert c.masked == mask_cpr(text) == f"{digits[:6]}-XXXX"
    assert (c.sex is Sex.MALE) == (int(digits[-1]) % 2 == 1)


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_any_ten_digits_parse_or_give_date_error(digits):
    try:
        c = parse_cpr(digits)
    except InvalidCpr as e:
        assert "not a real date" in str(e)
    else:
        assert isinstance(c, Cpr)
        assert c.digits == digits
        assert f"{c.birth_date:%d%m}{c.birth_date.year % 100:02d}" == digits[:6]


@given(
    st.text(min_size=0, max_size=14).filter(
        lambda s: (
            not s.strip().replace("-", "", 1).isascii()
            or not s.strip().replace("-", "", 1).isdigit()
            or len(s.strip().replace("-", "", 1)) != 10
        )
    )
)
def test_garbage_raises_invalid_cpr_only(text):
    with pytest.raises(InvalidCpr):
        parse_cpr(text)

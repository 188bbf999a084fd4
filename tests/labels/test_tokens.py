"""Signed label tokens: round trip, tamper evidence, key file handling."""

import stat
from datetime import date
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dispensing.labels import (
    LabelClaims,
    load_or_create_signing_key,
    public_key_pem,
    sign_label,
    verify_label,
)
from dispensing.labels.tokens import _DRUG_WIRE

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")

CLAIMS = LabelClaims(
    dispense_id=123456,
    copy_no=2,
    drug="methadone",
    dose_mg=Decimal("82.5"),
    first_day=date(2025, 3, 3),
    last_day=date(2025, 3, 16),
    site_id=7,
)


@pytest.mark.parametrize(
    "claims",
    [
        CLAIMS,
        LabelClaims(1, 1, "buprenorphine", Decimal("0.4"), date(2025, 1, 1), date(2025, 1, 1), 1),
        LabelClaims(
            2**32 - 1, 60, "buprenorphine_naloxone", Decimal("24"), date(2099, 12, 1), date(2099, 12, 31), 2**32 - 1
        ),
        LabelClaims(9, 3, "disulfiram", Decimal("800"), date(2000, 1, 1), date(2000, 9, 12), 0),
        LabelClaims(10, 1, "acamprosate", Decimal("1998.001"), date(2030, 6, 1), date(2030, 6, 30), 3),
    ],
)
def test_round_trip_gives_the_same_claims(claims):
    assert verify_label(sign_label(claims, KEY), PUBLIC) == claims


def test_decoded_dose_is_a_plain_decimal():
    claims = LabelClaims(1, 1, "methadone", Decimal("80.000"), date(2025, 1, 1), date(2025, 1, 2), 1)
    token = sign_label(claims, KEY)
    assert str(verify_label(token, PUBLIC).dose_mg) == "80"


def test_token_is_short_and_in_the_qr_alphanumeric_set():
    token = sign_label(CLAIMS, KEY)
    assert len(token) < 150
    assert set(token) <= QR_ALPHANUMERIC


def test_token_carries_no_name_or_cpr_fields():
    assert {f for f in LabelClaims.__dataclass_fields__} == {
        "dispense_id",
        "copy_no",
        "drug",
        "dose_mg",
        "first_day",
        "last_day",
        "site_id",
    }


def test_every_single_character_change_is_rejected():
    token = sign_label(CLAIMS, KEY)
    for i, char in enumerate(token):
        other = BASE32[(BASE32.index(char) + 1) % 32]
        assert verify_label(token[:i] + other + token[i + 1 :], PUBLIC) is None, f"position {i}"


def test_wrong_key_is_rejected():
    assert verify_label(sign_label(CLAIMS, KEY), Ed25519PrivateKey.generate().public_key()) is None


@pytest.mark.parametrize(
    "garbage",
    ["", "x", "A" * 133, "A" * 500, "é" * 133, "\x00" * 133, "AAAA====", None, 42, b"AAAA", ["A"]],
)
def test_garbage_is_rejected_without_raising(garbage):
    assert verify_label(garbage, PUBLIC) is None


def test_truncated_extended_and_lowercased_tokens_are_rejected():
    token = sign_label(CLAIMS, KEY)
    for bad in (token[:-1], token + "A", token.lower(), token + "=" * 3, token[:60]):
        assert verify_label(bad, PUBLIC) is None


def test_whitespace_a_scanner_adds_is_ignored():
    assert verify_label(sign_label(CLAIMS, KEY) + "\n", PUBLIC) == CLAIMS


@pytest.mark.parametrize(
    "change, message",
    [
        ({"drug": "heroin"}, "unknown drug"),
        ({"dose_mg": Decimal("2.0005")}, "at most 3 decimals"),
        ({"dose_mg": Decimal("-1")}, "dose_mg"),
        ({"last_day": date(2025, 3, 2)}, "last_day - first_day"),
        ({"last_day": date(2026, 3, 3)}, "last_day - first_day"),
        ({"first_day": date(1999, 12, 31)}, "first_day"),
        ({"copy_no": 0}, "copy_no"),
        ({"dispense_id": 2**32}, "dispense_id"),
    ],
)
def test_claims_that_do_not_fit_the_token_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        sign_label(LabelClaims(**{**CLAIMS.__dict__, **change}), KEY)


def test_drug_wire_codes_cover_every_drug():
    from dispensing.enums import Drug

    assert set(_DRUG_WIRE) == {d.value for d in Drug}


def test_signing_key_is_created_private_and_reloaded(tmp_path):
    path = tmp_path / "keys" / "label-signing.pem"
    key = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    again = load_or_create_signing_key(path)
    assert public_key_pem(again) == public_key_pem(key)
    assert [p.name for p in path.parent.iterdir()] == ["label-signing.pem"]  # no temp file left


def test_a_token_verifies_with_the_published_pem(tmp_path):
    key = load_or_create_signing_key(tmp_path / "k.pem")
    pem = public_key_pem(key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    published = serialization.load_pem_public_key(pem.encode())
    assert verify_label(sign_label(CLAIMS, key), published) == CLAIMS


def test_a_key_file_of_another_kind_is_refused(tmp_path):
    path = tmp_path / "ec.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(ValueError, match="not an Ed25519 private key"):
        load_or_create_signing_key(path)

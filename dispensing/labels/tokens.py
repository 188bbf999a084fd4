"""Signed label tokens for the QR code: Ed25519, so a pickup site verifies offline.

Wire format, version 1: base32 (RFC 4648, upper case, no padding) of
``payload (19 bytes) || Ed25519 signature (64 bytes)`` = 133 characters.
Base32 keeps the token in the QR alphanumeric character set (5.5 bits per
character instead of 8), so it fits a version-6 QR at level M where base64url
would need version 7; it is also URL-safe as it stands.

payload, big-endian: version u8 | dispense_id u32 | copy_no u16 | site_id u32 |
drug u8 | dose in micrograms u32 | first_day u16 (days since 2000-01-01) |
last_day - first_day u8. No name or CPR: the QR can be read by anyone.
"""

import base64
import binascii
import logging
import os
import re
import secrets
import struct
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from dispensing.enums import Drug

log = logging.getLogger(__name__)

_VERSION = 1
_PAYLOAD = struct.Struct(">BIHIBIHB")
_SIGNATURE_LEN = 64
_TOKEN_BYTES = _PAYLOAD.size + _SIGNATURE_LEN
_TOKEN_CHARS = -(-_TOKEN_BYTES * 8 // 5)
_TOKEN_RE = re.compile(f"[A-Z2-7]{{{_TOKEN_CHARS}}}")
# Signed together with the payload so a signature made with this key for
# anything else can never pass as a label.
_CONTEXT = b"dispensing/label-token/v1\x00"
_EPOCH = date(2000, 1, 1).toordinal()
_MICROGRAMS_PER_MG = Decimal(1000)
# Wire codes are the positions here plus one: append only, never reorder.
_DRUG_WIRE: tuple[str, ...] = (
    Drug.METHADONE.value,
    Drug.BUPRENORPHINE.value,
    Drug.BUPRENORPHINE_NALOXONE.value,
    Drug.DISULFIRAM.value,
    Drug.ACAMPROSATE.value,
)


@dataclass(frozen=True)
class LabelClaims:
    """What a label's signature vouches for."""

    dispense_id: int
    copy_no: int
    drug: str
    dose_mg: Decimal
    first_day: date
    last_day: date
    site_id: int


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name}={value} cannot be put in a label token (allowed {low}..{high})")


def _encode_payload(claims: LabelClaims) -> bytes:
    try:
        drug_code = _DRUG_WIRE.index(claims.drug) + 1
    except ValueError:
        raise ValueError(f"unknown drug {claims.drug!r} for a label token") from None
    try:
        micrograms = Decimal(claims.dose_mg) * _MICROGRAMS_PER_MG
        exact = micrograms.is_finite() and micrograms == micrograms.to_integral_value()
    except (InvalidOperation, TypeError):
        exact = False
    if not exact:
        raise ValueError(f"dose_mg={claims.dose_mg!r} must be a decimal with at most 3 decimals")
    first = claims.first_day.toordinal() - _EPOCH
    span = claims.last_day.toordinal() - claims.first_day.toordinal()
    _check_range("dispense_id", claims.dispense_id, 0, 2**32 - 1)
    _check_range("copy_no", claims.copy_no, 1, 2**16 - 1)
    _check_range("site_id", claims.site_id, 0, 2**32 - 1)
    _check_range("dose_mg * 1000", int(micrograms), 0, 2**32 - 1)
    _check_range("first_day (days since 2000-01-01)", first, 0, 2**16 - 1)
    _check_range("last_day - first_day", span, 0, 255)
    return _PAYLOAD.pack(
        _VERSION,
        claims.dispense_id,
        claims.copy_no,
        claims.site_id,
        drug_code,
        int(micrograms),
        first,
        span,
    )


def _decode_payload(payload: bytes) -> LabelClaims | None:
    version, dispense_id, copy_no, site_id, drug_code, micrograms, first, span = _PAYLOAD.unpack(payload)
    if version != _VERSION or not 1 <= drug_code <= len(_DRUG_WIRE) or copy_no < 1:
        return None
    first_day = date.fromordinal(_EPOCH + first)
    return LabelClaims(
        dispense_id=dispense_id,
        copy_no=copy_no,
        drug=_DRUG_WIRE[drug_code - 1],
        # Exact division keeps the plain form: 80000 -> 80, 2500 -> 2.5.
        dose_mg=Decimal(micrograms) / _MICROGRAMS_PER_MG,
        first_day=first_day,
        last_day=date.fromordinal(first_day.toordinal() + span),
        site_id=site_id,
    )


def _b32encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def sign_label(claims: LabelClaims, private_key: Ed25519PrivateKey) -> str:
    """Return the compact signed token (133 characters, QR alphanumeric) for a label."""
    payload = _encode_payload(claims)
    return _b32encode(payload + private_key.sign(_CONTEXT + payload))


def verify_label(token: str, public_key: Ed25519PublicKey) -> LabelClaims | None:
    """Return the claims of a genuine token, or None if it is tampered, malformed or foreign."""
    if not isinstance(token, str):
        return None
    token = token.strip()  # scanners append a newline
    if not _TOKEN_RE.fullmatch(token):
        return None
    try:
        raw = base64.b32decode(token + "=" * (-len(token) % 8))
    except (binascii.Error, ValueError):
        return None
    # The last character carries unused bits; accept one spelling per token only.
    if _b32encode(raw) != token:
        return None
    payload, signature = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    try:
        public_key.verify(signature, _CONTEXT + payload)
    except InvalidSignature:
        return None
    try:
        return _decode_payload(payload)
    except (struct.error, ValueError, OverflowError):
        return None


def _load_private_key(data: bytes, path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def _create_signing_key(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # 0600 from the first byte; then link() publishes the complete file atomically
    # and fails if another process (e.g. a second worker) created one first.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _load_private_key(path.read_bytes(), path)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("created label signing key %s", path)
    return key


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Load the Ed25519 label-signing key from a PEM file, creating it (mode 0600) if missing."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _create_signing_key(path)
    if os.name == "posix" and path.stat().st_mode & 0o077:
        log.warning("label signing key %s is readable by other users; chmod 600 it", path)
    return _load_private_key(data, path)


def public_key_pem(private_key: Ed25519PrivateKey) -> str:
    """Return the PEM (SubjectPublicKeyInfo) public key that pickup sites verify with."""
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )

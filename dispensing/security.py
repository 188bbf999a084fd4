"""Passwords (Argon2id), bearer tokens (JWT) and order signatures (HMAC over canonical JSON)."""

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2-cffi defaults: Argon2id, RFC 9106 low-memory profile
# Verified against when the username is unknown, so timing does not reveal which users exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; safe against unknown users and malformed hashes."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def create_access_token(secret: bytes, user_id: int, now: datetime, minutes: int) -> str:
    payload = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def read_access_token(secret: bytes, token: str, now: datetime) -> int | None:
    """The user id in a valid token not expired at `now` (the app's clock), else None.

    Times are checked against the app's clock only (PyJWT would check `iat` against the machine's).
    """
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False},
        )
        if int(payload["exp"]) <= now.timestamp():
            return None
        user_id = int(payload["sub"])
        return user_id if 0 < user_id < 2**63 else None  # a forged huge id must not reach the database
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


def canonical_json(data: dict[str, Any]) -> bytes:
    """Deterministic bytes for signing and hashing (sorted keys, no whitespace, str() for the rest)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False).encode()


def sign_content(secret: bytes, content: dict[str, Any]) -> str:
    return hmac.new(secret, b"order-v1:" + canonical_json(content), hashlib.sha256).hexdigest()


def signature_matches(secret: bytes, content: dict[str, Any], signature: str | None) -> bool:
    return signature is not None and hmac.compare_digest(sign_content(secret, content), signature)

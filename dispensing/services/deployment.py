"""Several server processes on one database: they must share the login secret and the label key.

Each process compares fingerprints of its keys with those the database has seen and refuses to start on
a difference (one plain line), instead of issuing logins and labels the other processes reject.
"""

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispensing.errors import Conflict
from dispensing.models import ServerKey


def secret_fingerprint(secret: bytes) -> str:
    """A keyed digest: it identifies the secret without helping anyone guess it."""
    return hmac.new(secret, b"dispensing server-key fingerprint", hashlib.sha256).hexdigest()


def label_key_fingerprint(key: Ed25519PrivateKey) -> str:
    """The public half's digest (what pickup sites verify with)."""
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(public).hexdigest()


def check_server_keys(session: Session, fingerprints: Mapping[str, str], now: datetime) -> None:
    """Record the first fingerprints of this database's keys; refuse a process whose keys differ.

    The first of two processes starting at once wins the insert; the other reads what it wrote.
    """
    for name, fingerprint in sorted(fingerprints.items()):
        seen = session.get(ServerKey, name)
        if seen is None:
            try:
                with session.begin_nested():
                    session.add(ServerKey(name=name, fingerprint=fingerprint, first_seen_at=now))
                continue
            except IntegrityError:
                seen = session.get(ServerKey, name, populate_existing=True)
        if seen is None or not hmac.compare_digest(seen.fingerprint, fingerprint):
            raise Conflict("server.key_mismatch", key=name)

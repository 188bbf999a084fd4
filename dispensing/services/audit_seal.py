"""What makes the audit log tamper-evident against someone who can write to the database: two things
kept outside it.

- The key of the entries' hashes (HMAC-SHA256, `DATA_DIR/audit-hmac.key`): without it nobody can
  recompute the chain after changing an entry.
- A signed checkpoint of the chain's head (`DATA_DIR/audit-checkpoint.json`, moved forward after each
  commit that adds entries): deleted tail rows and a reset head no longer match it.

Entries written before keyed hashing ("sha256") stay verifiable; only a prefix of the chain may be such
(the checkpoint records where keyed hashing began). Several servers of one database share both files.
"""

import atexit
import fcntl
import hashlib
import hmac
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from dispensing.security import canonical_json

log = logging.getLogger("dispensing.audit")

KEYED = "hmac-sha256"
UNKEYED = "sha256"  # entries from before keyed hashing


@dataclass(frozen=True)
class Seal:
    key: bytes
    checkpoint_path: Path | None  # None: no checkpoints (tests whose transactions are rolled back)

    def entry_hash(self, prev_hash: str, canonical: bytes) -> str:
        return hmac.new(self.key, b"audit-v2:" + prev_hash.encode() + canonical, hashlib.sha256).hexdigest()

    def inbox_mac(self, canonical: bytes) -> str:
        """An inbox row's seal (services/audit.py): its fields cannot be edited while it waits unseen."""
        return hmac.new(self.key, b"audit-inbox-v1:" + canonical, hashlib.sha256).hexdigest()

    def checkpoint_mac(self, seq: int, last_hash: str, keyed_from: int | None) -> str:
        content = canonical_json({"seq": seq, "hash": last_hash, "keyed_from": keyed_from})
        return hmac.new(self.key, b"audit-checkpoint-v1:" + content, hashlib.sha256).hexdigest()


def unkeyed_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical).hexdigest()


_seal: Seal | None = None


def configure(key: bytes, checkpoint_path: Path | None) -> Seal:
    """Set the process's audit key and checkpoint file (the app, the CLI and tests call this)."""
    global _seal
    _seal = Seal(key, checkpoint_path)
    return _seal


def current() -> Seal:
    """The configured seal; unconfigured, the settings' key and checkpoint files."""
    if _seal is None:
        from dispensing.config import get_settings

        settings = get_settings()
        return configure(settings.resolved_audit_key(), settings.audit_checkpoint_path)
    return _seal


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    keyed_from: int | None


class CheckpointForged(Exception):
    """The checkpoint file exists but its signature does not match (edited, or another key)."""


def read_checkpoint(seal: Seal) -> Checkpoint | None:
    """The checkpoint, None when there is none yet; CheckpointForged when it does not verify."""
    if seal.checkpoint_path is None or not seal.checkpoint_path.exists():
        return None
    try:
        data = json.loads(seal.checkpoint_path.read_text())
        cp = Checkpoint(int(data["seq"]), str(data["hash"]), data["keyed_from"])
        valid = hmac.compare_digest(seal.checkpoint_mac(cp.seq, cp.hash, cp.keyed_from), str(data["mac"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointForged() from exc
    if not valid:
        raise CheckpointForged()
    return cp


def advance_checkpoint(seal: Seal, seq: int, last_hash: str, keyed_from: int) -> None:
    """Move the checkpoint to (seq, hash) unless it is already there or further (another server's)."""
    path = seal.checkpoint_path
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # servers sharing the directory move it one at a time
        try:
            existing = read_checkpoint(seal)
        except CheckpointForged:
            log.error("audit checkpoint %s does not verify: left as it is for the verifier to report", path)
            return
        if existing is not None:
            if existing.seq >= seq:
                return
            keyed_from = existing.keyed_from or keyed_from  # where keyed hashing began never moves
        record = {"seq": seq, "hash": last_hash, "keyed_from": keyed_from}
        record["mac"] = seal.checkpoint_mac(seq, last_hash, keyed_from)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record))
        os.replace(tmp, path)  # readers see the old or the new checkpoint, never half of one


class _Writer:
    """Moves the checkpoint on a background thread: a commit only hands over its (seq, hash), so the
    file's lock and writes (~1-2 ms) are never on a request's path; many commits become one write."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: tuple[Seal, int, str, int] | None = None
        self._busy = False
        self._thread: threading.Thread | None = None

    def submit(self, seal: Seal, seq: int, last_hash: str, keyed_from: int) -> None:
        with self._cond:
            if self._pending is None or self._pending[0] is not seal or self._pending[1] < seq:
                self._pending = (seal, seq, last_hash, keyed_from)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="audit-checkpoint", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def flush(self) -> None:
        """Wait until every submitted checkpoint is written (verification, tests, process exit)."""
        with self._cond:
            while self._pending is not None or self._busy:
                self._cond.wait(timeout=1)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None:
                    self._cond.wait()
                job, self._pending, self._busy = self._pending, None, True
            try:
                advance_checkpoint(*job)
            except OSError as exc:  # the entries are committed; only the tail's protection lags behind
                log.error("audit checkpoint not written (%s): the newest entries are not checkpointed", exc)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


_writer = _Writer()
submit_checkpoint = _writer.submit
flush_checkpoints = _writer.flush
atexit.register(flush_checkpoints)

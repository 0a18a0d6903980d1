"""Master keys: which key encrypts new backups, and which old keys still decrypt old ones.

A keyring is an ordered list of ``kid:base64key`` entries. The first entry is the *current*
key, used for new backups. Rotating a key means putting a new kid first and keeping the old
ones after it, so every backup ever written stays readable as long as its kid is kept.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
from collections.abc import Iterable
from hashlib import sha256
from pathlib import Path

from .errors import KeyringError, UnknownKeyError

KEY_BYTES = 32
KID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_KCV_LABEL = b"recovery-site backup key check v1"


def _decode_key(kid: str, text: str) -> bytes:
    text = text.strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            key = base64.urlsafe_b64decode(padded)
        else:
            key = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"Key {kid!r} is not valid base64.") from None
    if len(key) != KEY_BYTES:
        raise KeyringError(
            f"Key {kid!r} must decode to {KEY_BYTES} bytes (AES-256), not {len(key)}."
        )
    return key


def _parse_entry(entry: str, where: str) -> tuple[str, bytes]:
    kid, sep, b64 = entry.strip().partition(":")
    kid = kid.strip()
    if not sep or not b64.strip():
        raise KeyringError(f"{where}: expected 'kid:base64key', got something else.")
    if not KID_RE.match(kid):
        raise KeyringError(
            f"{where}: key id {kid!r} must be 1-64 characters of letters, digits, '.', '_', '-'."
        )
    return kid, _decode_key(kid, b64)


def key_check_value(key: bytes) -> bytes:
    """8 bytes that tell "wrong key" apart from "damaged file" without revealing the key."""
    return hmac.new(key, _KCV_LABEL, sha256).digest()[:8]


class Keyring:
    """Ordered master keys; the first is current. Immutable after construction."""

    def __init__(self, entries: Iterable[tuple[str, bytes]]) -> None:
        self._keys: dict[str, bytes] = {}
        for kid, key in entries:
            if not KID_RE.match(kid):
                raise KeyringError(f"Invalid key id {kid!r}.")
            if len(key) != KEY_BYTES:
                raise KeyringError(f"Key {kid!r} must be {KEY_BYTES} bytes.")
            if kid in self._keys and self._keys[kid] != key:
                raise KeyringError(f"Key id {kid!r} is listed twice with different keys.")
            self._keys.setdefault(kid, bytes(key))
        if not self._keys:
            raise KeyringError("The keyring is empty: configure at least one master key.")

    @classmethod
    def from_string(cls, spec: str) -> Keyring:
        """Parse ``"kid1:BASE64,kid2:BASE64"`` (commas or newlines between entries)."""
        parts = [p for p in re.split(r"[,\n]", spec) if p.strip()]
        return cls(_parse_entry(p, f"key entry {i + 1}") for i, p in enumerate(parts))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Keyring:
        """Read one ``kid:base64`` per line; blank lines and ``#`` comments are ignored."""
        return cls(_file_entries(Path(path)))

    @classmethod
    def load(cls, spec: str | None = None, path: str | os.PathLike[str] | None = None) -> Keyring:
        """Combine a key string and a key file; the string's first key wins as current."""
        entries: list[tuple[str, bytes]] = []
        if spec and spec.strip():
            entries.extend(cls.from_string(spec).items())
        if path:
            entries.extend(_file_entries(Path(path)))
        return cls(entries)

    def items(self) -> list[tuple[str, bytes]]:
        return list(self._keys.items())

    @property
    def kids(self) -> list[str]:
        return list(self._keys)

    def current(self) -> tuple[str, bytes]:
        """The key new backups are encrypted with."""
        kid = next(iter(self._keys))
        return kid, self._keys[kid]

    def get(self, kid: str) -> bytes:
        try:
            return self._keys[kid]
        except KeyError:
            raise UnknownKeyError(
                f"This backup was encrypted with master key {kid!r}, which is not in the "
                f"configured keyring ({', '.join(self._keys)}). Add that key back to read it."
            ) from None

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __repr__(self) -> str:  # never show key material
        return f"Keyring(kids={self.kids!r})"


def _file_entries(path: Path) -> list[tuple[str, bytes]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyringError(f"Cannot read key file {str(path)!r}: {exc.strerror}.") from None
    entries = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            entries.append(_parse_entry(line, f"{path.name} line {lineno}"))
    return entries


def generate_key_line(kid: str) -> str:
    """A fresh random master key as a ``kid:base64`` line for a key file or setting."""
    if not KID_RE.match(kid):
        raise KeyringError(
            f"Key id {kid!r} must be 1-64 characters of letters, digits, '.', '_', '-'."
        )
    return f"{kid}:{base64.b64encode(os.urandom(KEY_BYTES)).decode('ascii')}"

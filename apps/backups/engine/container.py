"""The encrypted, chunk-authenticated backup container (see docs/backup-format.md).

Layout: a small header, then frames. Each data frame holds one independent zstd frame of up
to ``frame_size`` plaintext bytes, sealed with AES-256-GCM under a random per-file data key.
The nonce is ``nonce_prefix || frame_index`` and the associated data binds the header digest,
the frame index and the frame kind, so a flipped byte anywhere, a reordered, duplicated or
dropped frame, or a cut file is detected. The last frame (kind FINAL) carries the manifest.

Independent zstd frames (rather than one long zstd stream) let both sides compress and
decompress several frames at once on worker threads (zstd and AES release the GIL), keep
memory bounded by ``frame_size * in-flight frames``, and cost < 1 % of compression ratio.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar, cast

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import (
    BadFormatError,
    PayloadError,
    TamperedError,
    TruncatedError,
    WrongKeyError,
)
from .keys import KEY_BYTES, Keyring, key_check_value

MAGIC = b"\x89RSBAK\r\n"
FORMAT_VERSION = 1
COMPRESSION_ZSTD = 1
FRAME_DATA = 1
FRAME_FINAL = 2

DEFAULT_FRAME_SIZE = 4 << 20
MAX_FRAME_SIZE = 16 << 20
MAX_MANIFEST_SIZE = 64 << 20
DEFAULT_LEVEL = -1
DEFAULT_WORKERS = 2

# magic, version, header_len, compression, reserved, frame_size, nonce_prefix, wrap_nonce,
# key check value, wrapped data key (32 + 16 tag), kid length; then kid bytes, then CRC-32.
_FIXED = struct.Struct(">8sHHBBI4s12s8s48sB")
_PREFIX = struct.Struct(">8sHH")
_FRAME_HEAD = struct.Struct(">BII")  # kind, ciphertext length, crc32(kind|length|index)
_TAG = 16
_MAX_HEADER = 1024
_WRAP_LABEL = b"recovery-site backup data key v1"
T = TypeVar("T")


@dataclass(frozen=True)
class Header:
    """The parsed, CRC-checked file header."""

    version: int
    kid: str
    compression: int
    frame_size: int
    nonce_prefix: bytes
    wrap_nonce: bytes
    kcv: bytes
    wrapped_key: bytes
    raw: bytes

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.raw).digest()


def _wrap_aad(kid: str) -> bytes:
    return _WRAP_LABEL + MAGIC + struct.pack(">H", FORMAT_VERSION) + kid.encode("ascii")


def _frame_aad(header_digest: bytes, index: int, kind: int) -> bytes:
    return header_digest + index.to_bytes(8, "big") + bytes([kind])


def _frame_crc(kind: int, length: int, index: int) -> int:
    return zlib.crc32(struct.pack(">BIQ", kind, length, index))


def _build_header(kid: str, master: bytes, data_key: bytes, frame_size: int) -> tuple[bytes, bytes]:
    """Return (header bytes, nonce prefix)."""
    wrap_nonce = os.urandom(12)
    nonce_prefix = os.urandom(4)
    wrapped = AESGCM(master).encrypt(wrap_nonce, data_key, _wrap_aad(kid))
    kid_b = kid.encode("ascii")
    header_len = _FIXED.size + len(kid_b) + 4
    body = (
        _FIXED.pack(
            MAGIC,
            FORMAT_VERSION,
            header_len,
            COMPRESSION_ZSTD,
            0,
            frame_size,
            nonce_prefix,
            wrap_nonce,
            key_check_value(master),
            wrapped,
            len(kid_b),
        )
        + kid_b
    )
    return body + struct.pack(">I", zlib.crc32(body)), nonce_prefix


def read_header(fileobj: BinaryIO) -> Header:
    """Read and CRC-check the header; classify damage (see the format doc's error table)."""
    prefix = fileobj.read(_PREFIX.size)
    if len(prefix) < _PREFIX.size:
        if prefix and MAGIC.startswith(prefix[: len(MAGIC)]):
            raise TruncatedError("The backup file is cut off inside its header.")
        if not prefix:
            raise TruncatedError("The backup file is empty.")
        raise BadFormatError("This is not a recovery_site backup file (unknown signature).")
    magic, version, header_len = _PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise BadFormatError("This is not a recovery_site backup file (unknown signature).")
    if not _FIXED.size + 5 <= header_len <= _MAX_HEADER:
        raise TamperedError("The backup file's header is damaged (impossible header length).")
    rest = fileobj.read(header_len - _PREFIX.size)
    if len(rest) < header_len - _PREFIX.size:
        raise TruncatedError("The backup file is cut off inside its header.")
    raw = prefix + rest
    (crc,) = struct.unpack(">I", raw[-4:])
    if zlib.crc32(raw[:-4]) != crc:
        raise TamperedError("The backup file's header has been altered or damaged.")
    if version != FORMAT_VERSION:
        raise BadFormatError(
            f"This backup uses format version {version}; this program reads version "
            f"{FORMAT_VERSION} only. Use a newer version of the program."
        )
    fields = _FIXED.unpack(raw[: _FIXED.size])
    (_, _, _, compression, _, frame_size, nonce_prefix, wrap_nonce, kcv, wrapped, kid_len) = fields
    if _FIXED.size + kid_len + 4 != header_len:
        raise TamperedError("The backup file's header is damaged (inconsistent key id length).")
    if compression != COMPRESSION_ZSTD or not 0 < frame_size <= MAX_FRAME_SIZE:
        raise BadFormatError("This backup uses an unsupported compression or frame size.")
    try:
        kid = raw[_FIXED.size : _FIXED.size + kid_len].decode("ascii")
    except UnicodeDecodeError:
        raise TamperedError("The backup file's header is damaged (bad key id).") from None
    return Header(
        version=version,
        kid=kid,
        compression=compression,
        frame_size=frame_size,
        nonce_prefix=nonce_prefix,
        wrap_nonce=wrap_nonce,
        kcv=kcv,
        wrapped_key=wrapped,
        raw=raw,
    )


def unwrap_data_key(header: Header, keyring: Keyring) -> bytes:
    """The file's data key; WrongKeyError if the keyring's key for this kid is another key."""
    master = keyring.get(header.kid)
    if key_check_value(master) != header.kcv:
        raise WrongKeyError(
            f"The master key configured as {header.kid!r} is not the key this backup was "
            "encrypted with (was the key replaced instead of rotated under a new id?)."
        )
    try:
        return AESGCM(master).decrypt(header.wrap_nonce, header.wrapped_key, _wrap_aad(header.kid))
    except InvalidTag:
        raise TamperedError("The backup file's encrypted data key has been altered.") from None


class _ThreadLocalCodecs(threading.local):
    def __init__(self, level: int) -> None:
        self.cctx = zstandard.ZstdCompressor(level=level, write_content_size=True)
        self.dctx = zstandard.ZstdDecompressor()


class ContainerWriter:
    """Streaming writer: ``write()`` plaintext, then ``finish(manifest)``.

    Frames are compressed and sealed on a small thread pool while the caller keeps producing
    data; at most ``2 * workers + 1`` frames are in memory. The writer does not own
    ``fileobj`` (the caller handles atomic placement), but it tracks the SHA-256 and size of
    every byte it writes.
    """

    def __init__(
        self,
        fileobj: BinaryIO,
        keyring: Keyring,
        *,
        frame_size: int = DEFAULT_FRAME_SIZE,
        level: int = DEFAULT_LEVEL,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        if not 0 < frame_size <= MAX_FRAME_SIZE:
            raise ValueError(f"frame_size must be in 1..{MAX_FRAME_SIZE}")
        self._f = fileobj
        self._frame_size = frame_size
        kid, master = keyring.current()
        data_key = os.urandom(KEY_BYTES)
        header, self._nonce_prefix = _build_header(kid, master, data_key, frame_size)
        self.kid = kid
        self._digest = hashlib.sha256(header).digest()
        self._aead = AESGCM(data_key)
        self._codecs = _ThreadLocalCodecs(level)
        self._level = level
        self._sha = hashlib.sha256()
        self.size = 0
        self.plaintext_size = 0
        self.frames = 0
        self._buf = bytearray()
        self._pending: deque[Future[bytes]] = deque()
        self._max_pending = max(1, 2 * workers)
        self._pool = ThreadPoolExecutor(workers, "backup-seal") if workers > 0 else None
        self._finished = False
        self._out(header)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def _out(self, data: bytes) -> None:
        self._f.write(data)
        self._sha.update(data)
        self.size += len(data)

    def _seal(self, index: int, kind: int, plain: bytes) -> bytes:
        body = self._codecs.cctx.compress(plain) if kind == FRAME_DATA else plain
        nonce = self._nonce_prefix + index.to_bytes(8, "big")
        ct = self._aead.encrypt(nonce, body, _frame_aad(self._digest, index, kind))
        return _FRAME_HEAD.pack(kind, len(ct), _frame_crc(kind, len(ct), index)) + ct

    def _submit(self, kind: int, plain: bytes) -> None:
        index = self.frames
        self.frames += 1
        if self._pool is None:
            self._out(self._seal(index, kind, plain))
            return
        self._pending.append(self._pool.submit(self._seal, index, kind, plain))
        while len(self._pending) > self._max_pending:
            self._out(self._pending.popleft().result())

    @property
    def frame_size(self) -> int:
        return self._frame_size

    @property
    def room(self) -> int:
        """Bytes that still fit into the current frame."""
        return self._frame_size - len(self._buf)

    def cut(self) -> None:
        """End the current frame early (so the next write starts a new frame)."""
        if self._buf:
            self._submit(FRAME_DATA, bytes(self._buf))
            self._buf = bytearray()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append plaintext; full frames are handed to the workers."""
        if self._finished:
            raise ValueError("write() after finish()")
        self.plaintext_size += len(data)
        buf = self._buf
        buf += data
        fs = self._frame_size
        if len(buf) >= fs:
            start = 0
            while len(buf) - start >= fs:
                self._submit(FRAME_DATA, bytes(buf[start : start + fs]))
                start += fs
            del buf[:start]

    def finish(self, manifest: dict[str, Any]) -> None:
        """Flush the last data frame, then write the FINAL frame carrying ``manifest``."""
        if self._finished:
            raise ValueError("finish() called twice")
        if self._buf:
            self._submit(FRAME_DATA, bytes(self._buf))
            self._buf = bytearray()
        body = json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if len(body) > MAX_MANIFEST_SIZE:
            raise ValueError("manifest too large")
        self._submit(FRAME_FINAL, body)
        while self._pending:
            self._out(self._pending.popleft().result())
        self._finished = True
        self.close()

    def close(self) -> None:
        """Stop the workers (also after an error); pending frames are discarded."""
        if self._pool is not None:
            for fut in self._pending:
                fut.cancel()
            self._pending.clear()
            self._pool.shutdown(wait=True)
            self._pool = None


class ContainerReader:
    """Iterate decompressed plaintext chunks; ``manifest`` is set after the final frame.

    Every chunk is yielded only after its frame authenticated, but the caller must treat the
    stream as untrusted until iteration completes: truncation and trailing data are only known
    at the end (restore therefore loads inside a transaction it commits only afterwards).
    """

    def __init__(
        self, fileobj: BinaryIO, keyring: Keyring, *, workers: int = DEFAULT_WORKERS
    ) -> None:
        self._f = fileobj
        self._sha = hashlib.sha256()
        self.header = read_header(fileobj)
        self._sha.update(self.header.raw)
        self.size = len(self.header.raw)
        self.kid = self.header.kid
        self._aead = AESGCM(unwrap_data_key(self.header, keyring))
        self._digest = self.header.digest
        self._codecs = _ThreadLocalCodecs(DEFAULT_LEVEL)
        self._workers = workers
        self._free: deque[bytearray] = deque()
        self._max_free = 2 * max(1, workers) + 2
        self._max_ct = zstandard_bound(self.header.frame_size) + _TAG
        self.manifest: dict[str, Any] | None = None
        self.frames = 0
        self.plaintext_size = 0
        self._consumed = False

    @property
    def sha256(self) -> str:
        """SHA-256 of every byte read so far (the whole file once iteration completed)."""
        return self._sha.hexdigest()

    def _read(self, n: int) -> bytes:
        data = self._f.read(n)
        self._sha.update(data)
        self.size += len(data)
        return data

    def _read_frame(self, index: int) -> tuple[int, bytes]:
        head = self._read(_FRAME_HEAD.size)
        if len(head) < _FRAME_HEAD.size:
            raise TruncatedError(
                "The backup file is incomplete: it ends before its final frame "
                f"(after {index} frames)."
            )
        kind, length, crc = _FRAME_HEAD.unpack(head)
        if _frame_crc(kind, length, index) != crc:
            raise TamperedError(f"Frame {index} of the backup file has been altered or moved.")
        if kind not in (FRAME_DATA, FRAME_FINAL) or length < _TAG:
            raise TamperedError(f"Frame {index} of the backup file is malformed.")
        limit = self._max_ct if kind == FRAME_DATA else MAX_MANIFEST_SIZE + _TAG
        if length > limit:
            raise TamperedError(f"Frame {index} of the backup file has an impossible size.")
        ct = self._read(length)
        if len(ct) < length:
            raise TruncatedError(
                f"The backup file is incomplete: it is cut off inside frame {index}."
            )
        return kind, ct

    def _open(self, index: int, kind: int, ct: bytes) -> bytes:
        nonce = self.header.nonce_prefix + index.to_bytes(8, "big")
        try:
            body = self._aead.decrypt(nonce, ct, _frame_aad(self._digest, index, kind))
        except InvalidTag:
            raise TamperedError(
                f"Frame {index} of the backup file failed authentication: its bytes were "
                "changed, or frames were reordered, duplicated or removed."
            ) from None
        if kind == FRAME_FINAL:
            return body
        # A recycled bytearray, handed on as read-only bytes (callers never keep or resize it).
        return cast(bytes, self._decompress(index, body))

    def _decompress(self, index: int, body: bytes) -> bytearray:
        """Decompress into a recycled buffer: fresh 4 MiB allocations cost page faults."""
        size = zstandard.frame_content_size(body)
        fs = self.header.frame_size
        if size < 0 or size > fs:
            raise PayloadError(f"Frame {index} holds an oversized or unsized zstd frame.")
        buf = None
        if size == fs:
            with contextlib.suppress(IndexError):
                buf = self._free.pop()
        if buf is None:
            buf = bytearray(size)
        out = memoryview(buf)
        done = 0
        try:
            reader = self._codecs.dctx.stream_reader(body)
            while done < size:
                n = reader.readinto(out[done:])
                if not n:
                    break
                done += n
            extra = reader.read(1)
        except zstandard.ZstdError as exc:
            raise PayloadError(f"Frame {index} does not decompress: {exc}") from None
        finally:
            out.release()
        if done != size or extra:
            raise PayloadError(f"Frame {index} decompresses to an unexpected size.")
        return buf

    def _recycle(self, chunk: bytes | bytearray) -> None:
        if (
            isinstance(chunk, bytearray)
            and len(chunk) == self.header.frame_size
            and len(self._free) < self._max_free
        ):
            self._free.append(chunk)

    def __iter__(self) -> Iterator[bytes]:
        for chunk, _ in self.chunks():
            yield chunk

    def chunks(
        self, prescan: Callable[[bytes], T] | None = None
    ) -> Iterator[tuple[bytes, T | None]]:
        """Yield (plaintext chunk, prescan(chunk)); ``prescan`` runs on the worker threads.

        Letting the caller's per-chunk work (e.g. counting rows) run next to decompression
        keeps the consuming thread free and both cores busy. Each chunk (a bytearray) is
        only valid until the next one is requested: its buffer is then reused.
        """
        if self._consumed:
            raise ValueError("a ContainerReader can be iterated once")
        self._consumed = True
        pool = ThreadPoolExecutor(self._workers, "backup-open") if self._workers > 0 else None
        pending: deque[Future[tuple[bytes, T | None]]] = deque()
        max_pending = max(1, 2 * self._workers)
        index = 0

        def work(index: int, kind: int, ct: bytes) -> tuple[bytes, T | None]:
            chunk = self._open(index, kind, ct)
            return chunk, (prescan(chunk) if prescan is not None else None)

        def emit(item: tuple[bytes, T | None]) -> Iterator[tuple[bytes, T | None]]:
            self.plaintext_size += len(item[0])
            yield item
            self._recycle(item[0])

        try:
            while True:
                try:
                    kind, ct = self._read_frame(index)
                except (TruncatedError, TamperedError):
                    while pending:  # an earlier frame's error is the first damage in the file
                        yield from emit(pending.popleft().result())
                    raise
                if kind == FRAME_FINAL:
                    while pending:
                        yield from emit(pending.popleft().result())
                    body = self._open(index, kind, ct)
                    self.frames = index + 1
                    self._finish(body)
                    return
                if pool is None:
                    yield from emit(work(index, kind, ct))
                else:
                    pending.append(pool.submit(work, index, kind, ct))
                    while len(pending) > max_pending:
                        yield from emit(pending.popleft().result())
                index += 1
        finally:
            if pool is not None:
                for fut in pending:
                    fut.cancel()
                pool.shutdown(wait=True)

    def _finish(self, body: bytes) -> None:
        if self._read(1):
            raise TamperedError("The backup file has extra data after its final frame.")
        try:
            manifest = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise PayloadError("The backup's manifest is not valid JSON.") from None
        if not isinstance(manifest, dict):
            raise PayloadError("The backup's manifest is not a JSON object.")
        self.manifest = manifest


def zstandard_bound(size: int) -> int:
    """Upper bound of a zstd frame's size for ``size`` input bytes (ZSTD_COMPRESSBOUND)."""
    margin = ((128 << 10) - size) >> 11 if size < (128 << 10) else 0
    return size + (size >> 8) + margin + 64


def read_manifest(path: str | os.PathLike[str], keyring: Keyring) -> dict[str, Any]:
    """Authenticate the whole file and return its manifest (plaintext is discarded)."""
    with open(path, "rb") as f:
        reader = ContainerReader(f, keyring)
        for _ in reader:
            pass
    assert reader.manifest is not None
    return reader.manifest

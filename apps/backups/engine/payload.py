"""Record framing inside the (decompressed) container stream.

One backup holds several tables and log files as a flat sequence of records::

    type: u8 | length: u32 big-endian | body (length bytes)

JSON records describe things (STREAM_BEGIN, TABLE_BEGIN, TABLE_END, FILE_BEGIN, FILE_END,
STREAM_END); DATA records carry up to 1 MiB of raw bytes: PostgreSQL COPY text (or JSON
lines for SQLite) for a table, raw bytes for a file. Every table row ends in exactly one
``\\n`` byte in both row formats, so rows are counted without parsing them.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from .errors import PayloadError

STREAM_BEGIN = 0x01
TABLE_BEGIN = 0x02
TABLE_DATA = 0x03
TABLE_END = 0x04
FILE_BEGIN = 0x05
FILE_DATA = 0x06
FILE_END = 0x07
STREAM_END = 0x08

RECORD_NAMES = {
    STREAM_BEGIN: "STREAM_BEGIN",
    TABLE_BEGIN: "TABLE_BEGIN",
    TABLE_DATA: "TABLE_DATA",
    TABLE_END: "TABLE_END",
    FILE_BEGIN: "FILE_BEGIN",
    FILE_DATA: "FILE_DATA",
    FILE_END: "FILE_END",
    STREAM_END: "STREAM_END",
}
DATA_BLOCK = 1 << 20
MAX_RECORD = 16 << 20
_HEAD = struct.Struct(">BI")
_MIN_SPLIT = 4096


class Sink(Protocol):
    def write(self, data: bytes | bytearray | memoryview, /) -> Any: ...


def _json(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class PayloadWriter:
    """Writes records to a sink (normally a ContainerWriter).

    When the sink exposes ``room``/``cut()``/``frame_size`` (a ContainerWriter does), records
    are laid out so none straddles a frame boundary: DATA records are split at the frame edge
    (DATA bodies are plain byte streams, so a split changes nothing), other records move to
    a new frame. Readers can then parse each frame on its own, on a worker thread.
    """

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self._aligned = all(hasattr(sink, a) for a in ("room", "cut", "frame_size"))

    def _emit(self, rtype: int, body: bytes | bytearray | memoryview) -> None:
        self._sink.write(_HEAD.pack(rtype, len(body)))
        if body:
            self._sink.write(body)

    def record(self, rtype: int, body: bytes | bytearray | memoryview) -> None:
        if len(body) > MAX_RECORD:
            raise ValueError("record too large")
        if not self._aligned:
            self._emit(rtype, body)
            return
        sink: Any = self._sink
        mv = memoryview(body)
        is_data = rtype in (TABLE_DATA, FILE_DATA)
        while True:
            room = sink.room
            need = _HEAD.size + len(mv)
            if need <= room:
                self._emit(rtype, mv)
                return
            if is_data:
                if room > _HEAD.size and (room >= _MIN_SPLIT or room == sink.frame_size):
                    k = room - _HEAD.size
                    self._emit(rtype, mv[:k])  # fills the frame exactly
                    mv = mv[k:]
                else:
                    sink.cut()
                continue
            if need <= sink.frame_size and room < sink.frame_size:
                sink.cut()
                continue
            self._emit(rtype, mv)  # larger than a frame: may straddle (allowed)
            return

    def json_record(self, rtype: int, obj: dict[str, Any]) -> None:
        self.record(rtype, _json(obj))

    def data(self, rtype: int, block: bytes | bytearray | memoryview) -> None:
        """A DATA record; blocks above MAX_RECORD are split (callers send ~1 MiB)."""
        mv = memoryview(block)
        for start in range(0, len(mv), MAX_RECORD):
            self.record(rtype, mv[start : start + MAX_RECORD])


@dataclass(slots=True)
class Record:
    """One record: its body is ``buf[start:end]`` (kept as offsets to avoid copies)."""

    rtype: int
    buf: bytes
    start: int
    end: int
    rows: int = -1  # newline count, when a worker thread already computed it

    def view(self) -> memoryview:
        return memoryview(self.buf)[self.start : self.end]

    def json(self) -> dict[str, Any]:
        try:
            obj = json.loads(self.buf[self.start : self.end].decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            name = RECORD_NAMES.get(self.rtype, "?")
            raise PayloadError(f"A {name} record is not valid JSON.") from None
        if not isinstance(obj, dict):
            raise PayloadError("A JSON record is not an object.")
        return obj

    def count_rows(self) -> int:
        if self.rows < 0:
            self.rows = self.buf.count(b"\n", self.start, self.end)
        return self.rows

    def __len__(self) -> int:
        return self.end - self.start


class RecordParser:
    """Splits plaintext chunks into records; records may straddle chunk boundaries."""

    def __init__(self) -> None:
        self._carry = bytearray()

    def feed(self, chunk: bytes, pre: Prescan | None = None) -> Iterator[Record]:
        n = len(chunk)
        pos = 0
        carry = self._carry
        if pre is not None and not carry:  # frame starts on a record boundary: use the scan
            records, tail = pre
            for rtype, start, end, rows in records:
                yield Record(rtype, chunk, start, end, rows)
            if tail < n:
                carry += chunk[tail:]
            return
        if carry:
            if len(carry) < _HEAD.size:
                take = min(_HEAD.size - len(carry), n)
                carry += chunk[:take]
                pos = take
                if len(carry) < _HEAD.size:
                    return
            rtype, length = _check_head(*_HEAD.unpack_from(carry))
            total = _HEAD.size + length
            take = min(total - len(carry), n - pos)
            carry += chunk[pos : pos + take]
            pos += take
            if len(carry) < total:
                return
            body = bytes(carry[_HEAD.size :])
            carry.clear()
            yield Record(rtype, body, 0, len(body))
        head = _HEAD.size
        while n - pos >= head:
            rtype, length = _check_head(*_HEAD.unpack_from(chunk, pos))
            end = pos + head + length
            if end > n:
                break
            yield Record(rtype, chunk, pos + head, end)
            pos = end
        if pos < n:
            carry += chunk[pos:]

    def close(self) -> None:
        if self._carry:
            raise PayloadError("The backup's data ends in the middle of a record.")


Prescan = tuple[list[tuple[int, int, int, int]], int]


def prescan(chunk: bytes) -> Prescan | None:
    """Parse a chunk assumed to start on a record boundary; count rows in TABLE_DATA.

    Runs on the container's worker threads. Returns None when the chunk does not parse
    (e.g. it starts inside a record that straddles frames): the reader then parses it.
    """
    records = []
    n = len(chunk)
    pos = 0
    head = _HEAD.size
    while n - pos >= head:
        rtype, length = _HEAD.unpack_from(chunk, pos)
        if rtype not in RECORD_NAMES or length > MAX_RECORD:
            return None
        end = pos + head + length
        if end > n:
            break
        rows = chunk.count(b"\n", pos + head, end) if rtype == TABLE_DATA else -1
        records.append((rtype, pos + head, end, rows))
        pos = end
    return records, pos


def _check_head(rtype: int, length: int) -> tuple[int, int]:
    if rtype not in RECORD_NAMES:
        raise PayloadError(f"Unknown record type {rtype} in the backup's data.")
    if length > MAX_RECORD:
        raise PayloadError("A record in the backup's data is impossibly large.")
    return rtype, length


# --- semantic reader -------------------------------------------------------------------


@dataclass
class TableSummary:
    name: str
    begin: dict[str, Any]
    rows: int = 0
    bytes: int = 0
    end: dict[str, Any] = field(default_factory=dict)


@dataclass
class FileSummary:
    name: str
    begin: dict[str, Any]
    size: int = 0
    sha256: str = ""
    end: dict[str, Any] = field(default_factory=dict)


@dataclass
class Event:
    """A payload event for consumers (verify, restore)."""

    kind: str  # stream, table, table_data, table_end, file, file_data, file_end, end
    meta: dict[str, Any] | None = None
    record: Record | None = None
    table: TableSummary | None = None
    file: FileSummary | None = None


class PayloadReader:
    """Checks record order and per-table/per-file consistency while yielding events.

    Raises PayloadError when a TABLE_END's row count differs from the rows in the stream, or
    a FILE_END's size/SHA-256 differs from the bytes in the stream.
    """

    def __init__(self, source: Iterable[bytes]) -> None:
        """``source``: plaintext chunks, or a ContainerReader (then rows are counted on its
        worker threads)."""
        self._source = source
        self.stream: dict[str, Any] | None = None
        self.stream_end: dict[str, Any] | None = None
        self.tables: list[TableSummary] = []
        self.files: list[FileSummary] = []

    def __iter__(self) -> Iterator[Event]:
        parser = RecordParser()
        table: TableSummary | None = None
        file: FileSummary | None = None
        hasher = None
        chunks = getattr(self._source, "chunks", None)
        pairs: Iterable[tuple[bytes, Prescan | None]] = (
            chunks(prescan) if chunks is not None else ((c, None) for c in self._source)
        )
        for chunk, pre in pairs:
            for rec in parser.feed(chunk, pre):
                rt = rec.rtype
                if self.stream_end is not None:
                    raise PayloadError("Records follow the end of the backup's data.")
                if rt == TABLE_DATA:
                    if table is None:
                        raise PayloadError("Table data outside a table.")
                    table.rows += rec.count_rows()
                    table.bytes += len(rec)
                    yield Event("table_data", record=rec, table=table)
                elif rt == FILE_DATA:
                    if file is None or hasher is None:
                        raise PayloadError("File data outside a file.")
                    hasher.update(rec.view())
                    file.size += len(rec)
                    yield Event("file_data", record=rec, file=file)
                elif self.stream is None:
                    if rt != STREAM_BEGIN:
                        raise PayloadError("The backup's data does not start with STREAM_BEGIN.")
                    self.stream = rec.json()
                    yield Event("stream", meta=self.stream)
                elif rt == TABLE_BEGIN:
                    if table is not None or file is not None:
                        raise PayloadError("TABLE_BEGIN inside another table or file.")
                    meta = rec.json()
                    table = TableSummary(str(meta.get("name")), meta)
                    yield Event("table", meta=meta, table=table)
                elif rt == TABLE_END:
                    if table is None:
                        raise PayloadError("TABLE_END without TABLE_BEGIN.")
                    meta = rec.json()
                    if meta.get("rows") != table.rows:
                        raise PayloadError(
                            f"Table {table.name}: {table.rows} rows in the data but "
                            f"{meta.get('rows')} declared at its end."
                        )
                    table.end = meta
                    self.tables.append(table)
                    yield Event("table_end", meta=meta, table=table)
                    table = None
                elif rt == FILE_BEGIN:
                    if table is not None or file is not None:
                        raise PayloadError("FILE_BEGIN inside another table or file.")
                    meta = rec.json()
                    file = FileSummary(str(meta.get("name")), meta)
                    hasher = hashlib.sha256()
                    yield Event("file", meta=meta, file=file)
                elif rt == FILE_END:
                    if file is None or hasher is None:
                        raise PayloadError("FILE_END without FILE_BEGIN.")
                    meta = rec.json()
                    file.sha256 = hasher.hexdigest()
                    if meta.get("sha256") != file.sha256 or meta.get("size") != file.size:
                        raise PayloadError(
                            f"File {file.name}: its bytes do not match the size/SHA-256 "
                            "recorded at its end."
                        )
                    file.end = meta
                    self.files.append(file)
                    yield Event("file_end", meta=meta, file=file)
                    file = None
                    hasher = None
                elif rt == STREAM_END:
                    if table is not None or file is not None:
                        raise PayloadError("The backup's data ends inside a table or file.")
                    self.stream_end = rec.json()
                    yield Event("end", meta=self.stream_end)
                else:  # STREAM_BEGIN twice
                    raise PayloadError("STREAM_BEGIN appears twice.")
        parser.close()
        if self.stream_end is None:
            raise PayloadError("The backup's data has no STREAM_END record.")


def check_against_manifest(
    manifest: dict[str, Any], tables: list[TableSummary], files: list[FileSummary]
) -> None:
    """The manifest (final frame) must describe exactly what the stream contained."""
    m_tables = manifest.get("tables") or []
    if [t.get("name") for t in m_tables] != [t.name for t in tables]:
        raise PayloadError("The manifest lists other tables than the backup's data holds.")
    for mt, st in zip(m_tables, tables, strict=True):
        if mt.get("rows") != st.rows:
            raise PayloadError(
                f"Table {st.name}: the manifest says {mt.get('rows')} rows, "
                f"the data holds {st.rows}."
            )
        if mt.get("checksum") != st.end.get("checksum"):
            raise PayloadError(f"Table {st.name}: the manifest's checksum differs.")
    m_files = manifest.get("files") or []
    if [(f.get("name"), f.get("sha256")) for f in m_files] != [(f.name, f.sha256) for f in files]:
        raise PayloadError("The manifest lists other files than the backup's data holds.")

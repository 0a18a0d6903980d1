"""The change journal: PostgreSQL logical decoding into encrypted segments, and their replay.

Plain Python, no Django. A logical replication slot (output plugin ``test_decoding``, which
every PostgreSQL server ships, read through plain SQL functions over an ordinary connection)
yields every committed transaction in commit order. ``Slot.peek`` reads complete transactions
after the slot's confirmed position without consuming them; the caller writes them to a segment
(``write_segment``: the backups' container format, fsynced and renamed) and only then
``Slot.advance`` confirms the position, so a crash anywhere re-reads, never skips.

A segment's payload is JSON lines, one transaction each::

    {"x": xid, "l": commit_lsn, "t": "commit time (UTC ISO)", "c": [[table, op, cols, key], ...]}

``op`` is ``I``/``U``/``D``/``T`` (insert, update, delete, truncate); ``cols`` and ``key`` are
``[[name, type, value], ...]`` with text values as PostgreSQL prints them (``None`` for NULL,
``UNCHANGED`` for an unchanged TOAST value that an update did not send).

``replay`` applies transactions to a target connection inside the caller's transaction, skipping
those the base backup already holds: a backup records its snapshot (``txid_current_snapshot``),
and a transaction is in the backup exactly when that snapshot sees its xid.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from .backup import PARTIAL_SUFFIX
from .container import ContainerReader, ContainerWriter
from .errors import EngineError, PayloadError, RestoreError, SourceUnreachableError
from .keys import Keyring
from .logfiles import fsync_dir

PLUGIN = "test_decoding"
SEGMENT_FORMAT = "recovery-site-journal"
UNCHANGED = "\x00unchanged-toast-datum"
OPS = {"INSERT": "I", "UPDATE": "U", "DELETE": "D", "TRUNCATE": "T"}


class JournalError(EngineError):
    """The journal cannot be read or applied (slot missing, decoding not enabled, ...)."""


class JournalGapError(JournalError):
    """Segments are missing or damaged: replay stops at the last consistent point."""


# --- positions -------------------------------------------------------------------------------
def parse_lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def format_lsn(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


# --- decoding ------------------------------------------------------------------------------------
Column = list[Any]  # [name, type, value]


@dataclass(slots=True)
class Change:
    table: str
    op: str  # I, U, D, T; "C" = a run of inserts read from a format 2 segment (COPY text)
    cols: list[Column] = field(default_factory=list)
    key: list[Column] = field(default_factory=list)
    copy: str = ""  # op "C": the rows in COPY text format; ``cols`` holds [name, type] pairs
    rows: int = 1
    shape: tuple[Any, ...] = ()  # op "C": ((name, type), ...), shared by the segment's runs


def _copy_field(value: Any) -> str:
    """One value in COPY's text format (the journal holds values as PostgreSQL printed them)."""
    if value is None:
        return "\\N"
    return (
        value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    )


_UNESCAPE = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v"}


def _copy_value(text: str) -> str | None:
    if text == "\\N":
        return None
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(_UNESCAPE.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def expand_run(change: Change) -> list[Change]:
    """A run of inserts (op "C") as the single inserts it holds (op "I")."""
    names = [[name, typ] for name, typ in change.shape]
    return [
        Change(
            change.table,
            "I",
            [[*nt, _copy_value(v)] for nt, v in zip(names, line.split("\t"), strict=True)],
        )
        for line in change.copy.split("\n")[:-1]  # every row ends with a newline
    ]


@dataclass(slots=True)
class Txn:
    xid: int
    lsn: int
    commit_time: datetime
    changes: list[Change] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "x": self.xid,
                "l": self.lsn,
                "t": self.commit_time.isoformat(),
                "c": [[c.table, c.op, c.cols, c.key] for c in self.changes],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, line: str | bytes) -> Txn:
        d = json.loads(line)
        return cls(
            xid=int(d["x"]),
            lsn=int(d["l"]),
            commit_time=datetime.fromisoformat(d["t"]),
            changes=[Change(t, op, cols, key) for t, op, cols, key in d["c"]],
        )


def _ident(text: str, i: int) -> tuple[str, int]:
    """An identifier as quote_identifier prints it, from ``i``; returns it and the next index."""
    if text[i] == '"':
        out, i = [], i + 1
        while True:
            j = text.index('"', i)
            out.append(text[i:j])
            if j + 1 < len(text) and text[j + 1] == '"':
                out.append('"')
                i = j + 2
                continue
            return "".join(out), j + 1
    j = i
    while j < len(text) and text[j] not in ".[: ":
        j += 1
    return text[i:j], j


def _qualified(schema: str, name: str) -> str:
    def q(part: str) -> str:
        if part.replace("_", "a").isalnum() and part == part.lower() and not part[0].isdigit():
            return part
        return '"' + part.replace('"', '""') + '"'

    return f"{q(schema)}.{q(name)}"


def _columns(text: str, i: int) -> tuple[list[Column], int]:
    """``name[type]:value`` pairs until the end or a ``new-tuple:`` marker."""
    cols: list[Column] = []
    n = len(text)
    while i < n:
        while i < n and text[i] == " ":
            i += 1
        if i >= n or text.startswith("new-tuple:", i):
            break
        name, i = _ident(text, i)
        if text[i] != "[":
            raise PayloadError(f"Cannot read the decoded change near {text[i : i + 40]!r}")
        depth, j = 0, i
        while True:
            if text[j] == "[":
                depth += 1
            elif text[j] == "]":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        typ = text[i + 1 : j]
        i = j + 2  # past "]:"
        if text.startswith("'", i):
            out, i = [], i + 1
            while True:
                k = text.index("'", i)
                out.append(text[i:k])
                if k + 1 < n and text[k + 1] == "'":
                    out.append("'")
                    i = k + 2
                    continue
                i = k + 1
                break
            value: Any = "".join(out)
        else:
            k = text.find(" ", i)
            k = n if k < 0 else k
            raw = text[i:k]
            i = k
            value = None if raw == "null" else UNCHANGED if raw == "unchanged-toast-datum" else raw
        cols.append([name, typ, value])
    return cols, i


def parse_change(data: str) -> Change:
    """One ``table schema.name: OP: ...`` line of test_decoding."""
    assert data.startswith("table ")
    i = len("table ")
    schema, i = _ident(data, i)
    name, i = _ident(data, i + 1)
    table = _qualified(schema, name)
    i += 2  # ": "
    op_end = data.index(":", i)
    op = OPS[data[i:op_end]]
    i = op_end + 1
    change = Change(table, op)
    if op == "T":
        return change
    rest = data[i:].lstrip()
    if op == "U" and rest.startswith("old-key:"):
        change.key, j = _columns(rest, len("old-key:"))
        rest = rest[j:].lstrip()
        rest = rest[len("new-tuple:") :] if rest.startswith("new-tuple:") else rest
        change.cols, _ = _columns(rest, 0)
    elif op == "D":
        if rest.startswith("(no-tuple-data)"):
            raise JournalError(f"{table} has no replica identity: deletes cannot be journaled.")
        change.key, _ = _columns(rest, 0)
    else:
        change.cols, _ = _columns(rest, 0)
    return change


def parse_rows(
    rows: Iterable[tuple[str, Any, str]], tables: set[str] | None
) -> tuple[list[Txn], int]:
    """Decoded rows (lsn, xid, data) to complete transactions; returns them and the last
    commit position seen (transactions touching none of ``tables`` are dropped but counted)."""
    txns: list[Txn] = []
    current: Txn | None = None
    last_commit = 0
    for lsn_text, xid, data in rows:
        if data.startswith("BEGIN"):
            current = Txn(int(xid), 0, datetime.min.replace(tzinfo=UTC))
        elif data.startswith("COMMIT"):
            assert current is not None
            current.lsn = last_commit = parse_lsn(lsn_text)
            at = data.find("(at ")
            if at >= 0:
                current.commit_time = datetime.fromisoformat(data[at + 4 : data.rindex(")")])
            if current.changes:
                txns.append(current)
            current = None
        elif data.startswith("table "):
            assert current is not None
            change = parse_change(data)
            if tables is None or change.table in tables:
                current.changes.append(change)
    return txns, last_commit


# --- the slot --------------------------------------------------------------------------------------
class Slot:
    """A logical replication slot on the order system, read through SQL functions."""

    def __init__(self, url: str, name: str) -> None:
        self.name = name
        try:
            self.conn = psycopg.connect(
                url, autocommit=True, connect_timeout=15, application_name="recovery_site-journal"
            )
        except psycopg.Error as exc:
            raise SourceUnreachableError(f"Cannot connect to the order system: {exc}") from None
        self.conn.execute("SET TimeZone = 'UTC'")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def try_lock(self) -> bool:
        """Become the slot's only reader for this session's life (an advisory lock): a second
        journal process waits as a standby instead of writing the same changes twice."""
        row = self.conn.execute(
            "SELECT pg_try_advisory_lock(hashtext('recovery_site_journal:' || %s))", (self.name,)
        ).fetchone()
        return bool(row and row[0])

    def info(self) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT confirmed_flush_lsn::text, restart_lsn::text, plugin, database,"
            " pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint,"
            " pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, wal_status"
            " FROM pg_replication_slots WHERE slot_name = %s",
            (self.name,),
        ).fetchone()
        if row is None:
            return None
        return {
            "confirmed_lsn": parse_lsn(row[0]) if row[0] else 0,
            "restart_lsn": parse_lsn(row[1]) if row[1] else 0,
            "plugin": row[2],
            "database": row[3],
            "lag_bytes": int(row[4] or 0),
            "retained_bytes": int(row[5] or 0),
            "wal_status": row[6],
        }

    def ensure(self) -> int:
        """Create the slot if missing; returns its confirmed position (its start, if new)."""
        info = self.info()
        if info is not None:
            return int(info["confirmed_lsn"])
        level = self.conn.execute("SHOW wal_level").fetchone()
        if not level or level[0] != "logical":
            raise JournalError(
                "The order system's PostgreSQL runs with wal_level="
                f"{level[0] if level else '?'}; the change journal needs wal_level=logical."
            )
        row = self.conn.execute(
            "SELECT lsn::text FROM pg_create_logical_replication_slot(%s, %s)",
            (self.name, PLUGIN),
        ).fetchone()
        assert row is not None
        return parse_lsn(row[0])

    def peek(self, *, max_changes: int, tables: set[str] | None) -> tuple[list[Txn], int]:
        """Complete transactions after the confirmed position, not consumed; and the last
        commit position read (0 when nothing was committed since)."""
        cur = self.conn.execute(
            "SELECT lsn::text, xid::text, data FROM pg_logical_slot_peek_changes("
            "%s, NULL, %s, 'include-xids', '1', 'include-timestamp', '1', 'skip-empty-xacts', '1')",
            (self.name, max_changes),
        )
        return parse_rows(cur, tables)

    def advance(self, lsn: int) -> None:
        """Confirm everything up to ``lsn``: only after it is durable in a segment."""
        self.conn.execute(
            "SELECT pg_replication_slot_advance(%s, %s::pg_lsn)", (self.name, format_lsn(lsn))
        )

    def drop(self) -> None:
        self.conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            " WHERE slot_name = %s",
            (self.name,),
        )


# --- segments ----------------------------------------------------------------------------------
@dataclass
class SegmentResult:
    path: Path
    sha256: str
    size: int
    manifest: dict[str, Any]


def write_segment(
    path: str | os.PathLike[str],
    txns: Sequence[Txn],
    *,
    keyring: Keyring,
    start_lsn: int,
    end_lsn: int,
    level: int = 3,
) -> SegmentResult:
    """Write ``txns`` as one encrypted segment: temporary name, fsync, rename, fsync the dir.

    The file counts only once this returns (the caller then records it and confirms the slot).
    """
    out = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=PARTIAL_SUFFIX, dir=out.parent)
    tmp = Path(tmp_name)
    tables: dict[str, int] = {}
    changes = 0
    try:
        with os.fdopen(fd, "wb", buffering=0) as f:
            writer = ContainerWriter(f, keyring, level=level, workers=0)
            for line in _format2_lines(txns):
                writer.write(line + b"\n")
            for txn in txns:
                changes += len(txn.changes)
                for c in txn.changes:
                    tables[c.table] = tables.get(c.table, 0) + 1
            manifest = {
                "format": SEGMENT_FORMAT,
                "format_version": SEGMENT_VERSION,
                "plugin": PLUGIN,
                "key_id": writer.kid,
                "start_lsn": format_lsn(start_lsn),
                "end_lsn": format_lsn(end_lsn),
                "transactions": len(txns),
                "changes": changes,
                "tables": tables,
                "first_commit": txns[0].commit_time.isoformat() if txns else None,
                "last_commit": txns[-1].commit_time.isoformat() if txns else None,
            }
            writer.finish(manifest)
            os.fsync(f.fileno())
        os.replace(tmp, out)
        fsync_dir(out.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return SegmentResult(out, writer.sha256, writer.size, manifest)


SEGMENT_VERSION = 2


def _format2_lines(txns: Sequence[Txn]) -> Iterator[bytes]:
    """Format 2: a first line naming each (table, columns) shape once, then one line per
    transaction whose consecutive inserts into one table with one shape are a single run of
    COPY text ``[shape index, text]``; other changes as in format 1 ``[table, op, cols, key]``.

    Decoding a segment was most of a point-in-time restore's replay (JSON of every value as
    its own list); a run is one string, and the replay hands it to COPY as it is."""
    shapes: dict[tuple[Any, ...], int] = {}
    bodies = []
    for txn in txns:
        runs: list[Any] = []
        last: list[Any] | None = None
        for c in txn.changes:
            if c.op != "I":
                runs.append([c.table, c.op, c.cols, c.key])
                last = None
                continue
            key = (c.table, tuple((col[0], col[1]) for col in c.cols))
            index = shapes.setdefault(key, len(shapes))
            row = "\t".join(_copy_field(col[2]) for col in c.cols) + "\n"
            if last is not None and last[0] == index:
                last[1] += row
            else:
                last = [index, row]
                runs.append(last)
        bodies.append({"x": txn.xid, "l": txn.lsn, "t": txn.commit_time.isoformat(), "r": runs})
    table = [
        [t, [list(nt) for nt in cols]]
        for (t, cols), _ in sorted(shapes.items(), key=lambda kv: kv[1])
    ]
    yield json.dumps({"shapes": table}, ensure_ascii=False, separators=(",", ":")).encode()
    for body in bodies:
        yield json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _format2_txns(lines: list[bytes], runs: bool) -> list[Txn]:
    head = json.loads(lines[0])
    shapes = [(t, tuple((n, typ) for n, typ in cols)) for t, cols in head["shapes"]]
    d = json.loads(b"[" + b",".join(lines[1:]) + b"]")
    txns = []
    for body in d:
        changes = []
        for run in body["r"]:
            if len(run) == 2:
                table, shape = shapes[run[0]]
                change = Change(table, "C", copy=run[1], rows=run[1].count("\n"), shape=shape)
                changes.extend([change] if runs else expand_run(change))
            else:
                changes.append(Change(*run))
        txns.append(Txn(int(body["x"]), int(body["l"]), datetime.fromisoformat(body["t"]), changes))
    return txns


def read_segment(
    path: str | os.PathLike[str], keyring: Keyring, *, runs: bool = False
) -> tuple[dict[str, Any], list[Txn]]:
    """Every transaction of a segment, authenticated; raises on any damage or cut.

    ``runs``: keep a format 2 segment's insert runs whole (op "C", what the replay wants)
    instead of one insert per row."""
    with open(path, "rb") as f:
        reader = ContainerReader(f, keyring, workers=0)
        buf = bytearray()
        for chunk in reader:
            buf += chunk
        manifest = reader.manifest
    assert manifest is not None
    if manifest.get("format") != SEGMENT_FORMAT:
        raise PayloadError(f"{Path(path).name} is not a journal segment.")
    lines = [line for line in bytes(buf).splitlines() if line]
    if manifest.get("format_version", 1) >= 2:
        txns = _format2_txns(lines, runs) if lines else []
    else:
        txns = [Txn.from_json(line) for line in lines]
    if len(txns) != manifest.get("transactions"):
        raise PayloadError(f"{Path(path).name}: the transactions differ from its manifest.")
    return manifest, txns


# --- replay ----------------------------------------------------------------------------------
@dataclass
class AppendedRows:
    """A table's journaled rows that can go in with the table itself: what the journal holds
    for it (after its backup's snapshot, up to TIME) is only inserts of one set of columns."""

    shape: tuple[Any, ...]
    texts: list[str] = field(default_factory=list)
    rows: int = 0
    taken: bool = False  # set by the restore target that loaded them with the table
    loaded: int = 0  # the rows the server says it loaded then


def inserts_only(
    txns: Iterable[Txn], snapshots: dict[str, Snapshot | None]
) -> dict[str, AppendedRows]:
    """The tables whose journaled changes (those their backup lacks) are all runs of inserts
    (format 2) of one shape, with those rows: a restore that creates such a table can load them
    right after the backup's rows, before its keys and indexes are built, instead of the replay
    inserting them into an indexed table afterwards."""
    found: dict[str, AppendedRows | None] = {}
    for txn in txns:
        for c in txn.changes:
            if c.table not in snapshots:
                continue
            snap = snapshots[c.table]
            if snap is not None and snap.sees(txn.xid):
                continue
            if c.table in found and found[c.table] is None:
                continue
            current = found.get(c.table)
            if c.op != "C" or (current is not None and current.shape != c.shape):
                found[c.table] = None
            elif current is None:
                found[c.table] = AppendedRows(c.shape, [c.copy], c.rows)
            else:
                current.texts.append(c.copy)
                current.rows += c.rows
    return {table: rows for table, rows in found.items() if rows is not None}


class Snapshot:
    """``txid_current_snapshot()`` text; ``sees(xid)``: was ``xid`` committed before it?"""

    def __init__(self, text: str) -> None:
        xmin, xmax, xip = text.split(":")
        self.xmin = int(xmin) & 0xFFFFFFFF
        self.xmax = int(xmax) & 0xFFFFFFFF
        self.xip = {int(x) & 0xFFFFFFFF for x in xip.split(",") if x}

    def sees(self, xid: int) -> bool:
        # 32-bit xid arithmetic, "a precedes b" = (a - b) mod 2^32 >= 2^31, written out: this
        # runs for every journaled change of a restore.
        xid &= 0xFFFFFFFF
        if ((xid - self.xmin) & 0xFFFFFFFF) >= 0x80000000:
            return True
        if ((xid - self.xmax) & 0xFFFFFFFF) < 0x80000000:
            return False
        return xid not in self.xip


@dataclass
class ReplayResult:
    transactions: int = 0
    skipped_in_backup: int = 0
    last_commit: datetime | None = None
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    truncated: set[str] = field(default_factory=set)

    def net_rows(self, table: str) -> int:
        return self.inserted.get(table, 0) - self.deleted.get(table, 0)


BATCH_ROWS = 10_000  # rows a batch holds before it is applied on its own

# Do foreign keys, user triggers or rules act on the replayed tables? Then a change may depend
# on another table's earlier changes, and the replay keeps the journal's order across tables.
_ORDER_MATTERS_SQL = """
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE contype = 'f'
               AND (conrelid = ANY(%(t)s::regclass[]) OR confrelid = ANY(%(t)s::regclass[])))
    OR EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = ANY(%(t)s::regclass[])
               AND NOT tgisinternal AND tgenabled IN ('O', 'A'))
    OR EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite WHERE ev_class = ANY(%(t)s::regclass[])
               AND rulename <> '_RETURN')
"""


@dataclass
class _Batch:
    """Consecutive changes of one kind and shape to one table, applied as one statement."""

    table: str
    op: str
    shape: tuple[Any, ...]  # the columns (and key columns) with their types
    rows: list[list[Any]] = field(default_factory=list)  # the values, in shape order
    keys: set[tuple[Any, ...]] = field(default_factory=set)  # rows an update/delete touches
    texts: list[str] = field(default_factory=list)  # inserts: runs of COPY text (format 2)
    count: int = 0  # rows in ``rows`` and ``texts``


class Replayer:
    """Applies journal transactions on one open connection, inside the caller's transaction.

    Changes are applied in batches: consecutive inserts of a table with the same columns go in
    one ``COPY``, updates (deletes) with the same columns in one ``UPDATE ... FROM unnest(...)``
    (``DELETE ... USING unnest(...)``). Within a table the journal's order is kept: a change of
    another kind or shape, or a second change of a row the pending batch already updates or
    deletes, applies that batch first. Across tables changes commute when nothing links them
    (no foreign key, user trigger or rule on the replayed tables: a restore re-creates foreign
    keys and re-enables triggers only after the replay), so each table keeps its own pending
    batch; otherwise a change to another table applies the pending batch first. ``flush``
    applies what is pending: call it (or ``reset_sequences``) before reading the tables.
    """

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        snapshots: dict[str, Snapshot | None],
        loaded: dict[str, int] | None = None,
    ) -> None:
        self.conn = conn
        self.snapshots = snapshots  # table -> the base backup's snapshot
        self.result = ReplayResult()
        # Tables whose journaled rows (inserts only) the restore loaded with the table itself:
        # their changes count as applied here (``inserts_only``).
        self.loaded = dict(loaded or {})
        self.result.inserted.update(self.loaded)
        self._pk: dict[str, list[str]] = {}
        self._pending: dict[str, _Batch] = {}
        self._keep_order: bool | None = None

    def _primary_key(self, table: str) -> list[str]:
        if table not in self._pk:
            rows = self.conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
                (table,),
            ).fetchall()
            self._pk[table] = [r[0] for r in rows]
        return self._pk[table]

    def _order_matters(self) -> bool:
        if self._keep_order is None:
            row = self.conn.execute(_ORDER_MATTERS_SQL, {"t": sorted(self.snapshots)}).fetchone()
            self._keep_order = bool(row and row[0])
        return self._keep_order

    def apply(self, txn: Txn) -> None:
        """Apply (or queue in a batch) the transaction's changes to the restored tables that
        their backup lacks.

        Visibility is decided per table: scopes' backups may come from different moments."""
        wanted = [c for c in txn.changes if c.table in self.snapshots]
        if not wanted:
            return
        applied = False
        for change in wanted:
            snap = self.snapshots[change.table]
            if snap is not None and snap.sees(txn.xid):
                continue
            if change.table not in self.loaded:
                self._add(change)
            applied = True
        if applied:
            self.result.transactions += 1
        else:
            self.result.skipped_in_backup += 1
        self.result.last_commit = txn.commit_time

    def _add(self, c: Change) -> None:
        r = self.result
        if self._order_matters():
            for table in [t for t in self._pending if t != c.table]:
                self._flush(table)
        if c.op == "T":
            self._flush(c.table)
            self._exec(f"DELETE FROM {c.table}", [], c.table)
            r.truncated.add(c.table)
            return
        if c.op == "C":  # a run of inserts as COPY text: handed to COPY as it is
            r.inserted[c.table] = r.inserted.get(c.table, 0) + c.rows
            batch = self._pending.get(c.table)
            if batch is not None and (
                batch.op != "I" or batch.shape != c.shape or batch.count >= BATCH_ROWS
            ):
                self._flush(c.table)
                batch = None
            if batch is None:
                batch = self._pending[c.table] = _Batch(c.table, "I", c.shape)
            batch.texts.append(c.copy)
            batch.count += c.rows
            return
        key_values: tuple[Any, ...] | None = None
        new_key: tuple[Any, ...] | None = None
        if c.op == "I":
            shape: tuple[Any, ...] = tuple((col[0], col[1]) for col in c.cols)
            values = [col[2] for col in c.cols]
            r.inserted[c.table] = r.inserted.get(c.table, 0) + 1
        elif c.op == "U":
            key = c.key or [col for col in c.cols if col[0] in self._primary_key(c.table)]
            sets = [col for col in c.cols if col[2] != UNCHANGED]
            if not sets:
                return
            if not key:
                raise RestoreError(
                    f"Replaying the journal: an update of {c.table} names no key (the table "
                    "has no primary key or replica identity)."
                )
            shape = (
                tuple((col[0], col[1]) for col in sets),
                tuple((col[0], col[1]) for col in key),
            )
            values = [col[2] for col in sets] + [col[2] for col in key]
            key_values = tuple(col[2] for col in key)
            by_name = {col[0]: col[2] for col in sets}
            if all(col[0] in by_name for col in key):
                new_key = tuple(by_name[col[0]] for col in key)
            r.updated[c.table] = r.updated.get(c.table, 0) + 1
        else:  # "D"
            shape = tuple((col[0], col[1]) for col in c.key)
            values = [col[2] for col in c.key]
            key_values = tuple(values)
            r.deleted[c.table] = r.deleted.get(c.table, 0) + 1
        batch = self._pending.get(c.table)
        if batch is not None and (
            batch.op != c.op
            or batch.shape != shape
            or batch.count >= BATCH_ROWS
            or (key_values is not None and key_values in batch.keys)
        ):
            self._flush(c.table)
            batch = None
        if batch is None:
            batch = self._pending[c.table] = _Batch(c.table, c.op, shape)
        batch.rows.append(values)
        batch.count += 1
        if key_values is not None:
            batch.keys.add(key_values)
        if new_key is not None:
            batch.keys.add(new_key)

    def flush(self) -> None:
        """Apply every pending batch."""
        for table in list(self._pending):
            self._flush(table)

    def _flush(self, table: str) -> None:
        batch = self._pending.pop(table, None)
        if batch is None or not batch.count:
            return
        if batch.op == "I":
            self._insert(batch)
        elif batch.op == "U":
            sets, key = batch.shape
            n = len(sets)
            src = ", ".join(f"c{i}" for i in range(n + len(key)))
            assignments = ", ".join(
                f"{_qi(name)} = src.c{i}::{typ}" for i, (name, typ) in enumerate(sets)
            )
            where = " AND ".join(
                f"dst.{_qi(name)} = src.c{n + i}::{typ}" for i, (name, typ) in enumerate(key)
            )
            self._matched(
                f"WITH done AS (UPDATE {table} AS dst SET {assignments}"
                f" FROM unnest({', '.join(['%s::text[]'] * (n + len(key)))}) AS src({src})"
                f" WHERE {where} RETURNING 1) SELECT count(*) FROM done",
                batch,
            )
        else:  # "D"
            key = batch.shape
            src = ", ".join(f"c{i}" for i in range(len(key)))
            where = " AND ".join(
                f"dst.{_qi(name)} = src.c{i}::{typ}" for i, (name, typ) in enumerate(key)
            )
            self._matched(
                f"WITH done AS (DELETE FROM {table} AS dst"
                f" USING unnest({', '.join(['%s::text[]'] * len(key))}) AS src({src})"
                f" WHERE {where} RETURNING 1) SELECT count(*) FROM done",
                batch,
            )

    def _insert(self, batch: _Batch) -> None:
        names = ", ".join(_qi(name) for name, _typ in batch.shape)
        if len(batch.rows) == 1 and not batch.texts:  # one statement, one round trip
            values = ", ".join(f"%s::{typ}" for _name, typ in batch.shape)
            self._exec(
                f"INSERT INTO {batch.table} ({names}) VALUES ({values})",
                batch.rows[0],
                batch.table,
            )
            return
        # COPY's text format reads each value with its column type's input function: the
        # journal holds the values as PostgreSQL printed them (write_row escapes tabs,
        # newlines and backslashes, and writes None as NULL).
        try:
            with (
                self.conn.cursor() as cur,
                cur.copy(f"COPY {batch.table} ({names}) FROM STDIN") as copy,
            ):
                for row in batch.rows:
                    copy.write_row(row)
                if batch.texts:
                    copy.write("".join(batch.texts))
        except psycopg.Error as exc:
            raise _replay_error(batch.table, exc) from exc

    def _matched(self, sql: str, batch: _Batch) -> None:
        """Run a batched update or delete; it must match exactly one row per change."""
        columns = [list(col) for col in zip(*batch.rows, strict=True)]
        cur = self._exec(sql, columns, batch.table)
        row = cur.fetchone()
        matched = int(row[0]) if row else 0
        if matched != len(batch.rows):
            kind = "updates" if batch.op == "U" else "deletes"
            raise RestoreError(
                f"Replaying the journal: {len(batch.rows)} {kind} of {batch.table} matched "
                f"{matched} rows instead of {len(batch.rows)}: the base backup and the journal "
                "do not fit together."
            )

    def _exec(self, sql: str, params: list[Any], table: str) -> psycopg.Cursor[Any]:
        try:
            return self.conn.execute(sql, params)
        except psycopg.Error as exc:
            raise _replay_error(table, exc) from exc

    def apply_all(self, txns: Iterable[Txn]) -> None:
        """Apply many transactions (the last batches stay pending until ``flush``)."""
        for txn in txns:
            self.apply(txn)

    def reset_sequences(self) -> None:
        """Move each touched table's sequences past its largest value (never back)."""
        self.flush()
        touched = set(self.result.inserted) | set(self.result.updated)
        for table in sorted(touched):
            rows = self.conn.execute(
                "SELECT a.attname, pg_get_serial_sequence(%s, a.attname) FROM pg_attribute a"
                " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
                (table, table),
            ).fetchall()
            for attname, seq in rows:
                if not seq:
                    continue
                self.conn.execute(
                    f"SELECT setval(%s, greatest((SELECT max({_qi(attname)}) FROM {table}),"
                    f" (SELECT last_value FROM {seq})))",
                    (seq,),
                )


def _replay_error(table: str, exc: psycopg.Error) -> RestoreError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return RestoreError(f"Replaying the journal into {table} failed: {text}")


def _qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def iter_until(txns: Iterable[Txn], until: datetime) -> Iterator[Txn]:
    """Transactions committed at or before ``until`` (they are in commit order)."""
    for txn in txns:
        if txn.commit_time > until:
            return
        yield txn


def target_connection(target: Any) -> psycopg.Connection[Any]:
    """The open transaction of a PostgreSQL restore target (``restore_files``' before_commit)."""
    conn = getattr(target, "_conn", None)
    if getattr(target, "engine", None) != "postgresql" or conn is None:
        raise JournalError("Point-in-time restore needs a PostgreSQL target.")
    return conn


def count_rows(conn: psycopg.Connection[Any], tables: Iterable[str]) -> dict[str, int]:
    return {
        t: int(conn.execute(f"SELECT count(*) FROM ONLY {t}").fetchone()[0])  # type: ignore[index]
        for t in tables
    }

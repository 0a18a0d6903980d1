"""The journal's batched replay (``engine.Replayer``) on real test_decoding output.

Changes are made on a source database with a logical slot, decoded by the slot, and replayed
into a second database with the same tables; both must then hold the same rows. Batches (COPY
for inserts, one UPDATE/DELETE per run of same-kind changes) must keep the journal's meaning.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg
import pytest

from apps.backups import engine
from apps.backups.engine import journal
from tests.conftest import create_database, drop_database

from .journal_helpers import wal_flushed

KINDS = """
CREATE TABLE kinds (
    id integer PRIMARY KEY,
    note text,
    blob bytea,
    doc jsonb,
    raw json,
    amount numeric(14, 4),
    at timestamptz,
    tags text[]
)
"""
PARENT_CHILD = """
CREATE TABLE parent (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE child (id integer PRIMARY KEY, parent_id integer NOT NULL REFERENCES parent (id))
"""
TRICKY = "tab\there\nnew line\r\\back\\slash 'quote' \"double\" \\N ,{} 上海"


@pytest.fixture
def databases():
    """(source url, target url, slot): the same empty schema on both, a slot on the source."""
    src_name, src = create_database("test_replay_src")
    dst_name, dst = create_database("test_replay_dst")
    slot = engine.JournalSlot(src, f"test_replay_{uuid.uuid4().hex[:10]}")
    try:
        slot.ensure()
        yield src, dst, slot
    finally:
        slot.drop()
        slot.close()
        drop_database(src_name)
        drop_database(dst_name)


def schema(urls, ddl):
    for url in urls:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(ddl)


def run(url, *statements):
    """One committed transaction on the source."""
    with psycopg.connect(url) as conn:
        for sql, params in statements:
            conn.execute(sql, params)


def journaled(src, slot):
    wal_flushed(src)
    txns, _ = slot.peek(max_changes=100_000, tables=None)
    return txns


def rows(url, table):
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT t::text FROM {table} t ORDER BY id").fetchall()


KEYRING = engine.Keyring.from_string(engine.generate_key_line("k1"))


def through_segment(txns, tmp_path):
    """The transactions written as a journal segment and read back as the replay reads them
    (format 2: inserts as runs of COPY text)."""
    path = tmp_path / f"{uuid.uuid4().hex}.seg"
    journal.write_segment(path, txns, keyring=KEYRING, start_lsn=1, end_lsn=2)
    _manifest, back = engine.read_segment(path, KEYRING, runs=True)
    return back


def replay(dst, tables, *runs, tmp_path=None):
    """Apply each run of transactions (like segments), then flush, in one transaction; with
    ``tmp_path``, each run goes through a segment file first."""
    with psycopg.connect(dst) as conn:
        replayer = engine.Replayer(conn, dict.fromkeys(tables))
        for txns in runs:
            replayer.apply_all(through_segment(txns, tmp_path) if tmp_path else txns)
        replayer.flush()
    return replayer.result


@pytest.fixture(params=["in memory", "through a segment"])
def via(request, tmp_path):
    """Replay the decoded transactions as they are, or written to and read from a segment."""
    return tmp_path if request.param == "through a segment" else None


INSERT_KIND = (
    "INSERT INTO kinds (id, note, blob, doc, raw, amount, at, tags)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)


def test_nulls_and_awkward_values_come_through_copy_and_batched_updates(databases, via):
    src, dst, slot = databases
    schema([src, dst], KINDS)
    at = datetime(2026, 11, 30, 9, 15, 42, 123456, tzinfo=ZoneInfo("Asia/Shanghai"))
    awkward = (
        TRICKY,
        b"\x00\x01\\\t\n\r\xff",
        '{"s": "x\\ty\\\\z\\n", "n": null, "deep": {"k": [1, 2.5]}}',
        '[1, "two",   "\\u4e0a"]',
        Decimal("-12345.6789"),
        at,
        ["a b", "c,d", None, 'e"f', "g\\h", "NULL"],
    )
    # Several inserts in one transaction and more in the next: one batch, so COPY.
    run(
        src,
        (INSERT_KIND, (1, *[None] * 7)),
        (INSERT_KIND, (2, *awkward)),
        (INSERT_KIND, (3, "\\N", b"", "{}", "null", Decimal("NaN"), "infinity", [])),
    )
    run(src, (INSERT_KIND, (4, "", b"\\", '""', '""', Decimal("0.0001"), "-infinity", [""])))
    # Updates of two rows (NULLs in, awkward values in), then deletes of two.
    run(src, ("UPDATE kinds SET note = NULL, doc = NULL, amount = NULL WHERE id = 2", ()))
    run(
        src,
        (
            "UPDATE kinds SET note = %s, blob = %s, tags = %s WHERE id = 1",
            (awkward[0], awkward[1], awkward[6]),
        ),
    )
    run(src, ("DELETE FROM kinds WHERE id IN (3, 4)", ()))

    result = replay(dst, ["public.kinds"], journaled(src, slot), tmp_path=via)

    assert rows(dst, "kinds") == rows(src, "kinds")
    assert len(rows(dst, "kinds")) == 2
    assert result.inserted == {"public.kinds": 4}
    assert result.updated == {"public.kinds": 2}
    assert result.deleted == {"public.kinds": 2}


def test_insert_update_and_delete_of_one_row_in_one_replay_keep_their_order(databases, via):
    src, dst, slot = databases
    schema([src, dst], KINDS)
    ins = "INSERT INTO kinds (id, note, amount) VALUES (%s, %s, %s)"
    upd = "UPDATE kinds SET note = %s, amount = amount + 1 WHERE id = %s"
    run(src, (ins, (10, "new", 1)), (ins, (11, "other", 1)))
    run(src, (upd, ("changed once", 10)))
    run(src, (upd, ("changed twice", 10)), (upd, ("eleven", 11)))  # a row updated twice
    run(src, (ins, (12, "third", 1)), (upd, ("inserted then updated", 12)))
    run(src, ("DELETE FROM kinds WHERE id = %s", (10,)))
    run(src, (ins, (10, "back again", 7)))  # the same key inserted after its delete
    run(src, ("UPDATE kinds SET id = 13 WHERE id = %s", (11,)))  # the key itself changes
    run(src, (upd, ("after the key changed", 13)))
    expected = rows(src, "kinds")

    result = replay(dst, ["public.kinds"], journaled(src, slot), tmp_path=via)

    assert rows(dst, "kinds") == expected
    assert [r[0] for r in expected] == [
        '(10,"back again",,,,7.0000,,)',
        '(12,"inserted then updated",,,,2.0000,,)',
        '(13,"after the key changed",,,,3.0000,,)',
    ]
    assert result.inserted == {"public.kinds": 4}
    assert result.updated == {"public.kinds": 6}
    assert result.deleted == {"public.kinds": 1}


def test_a_batch_stops_at_the_transaction_the_point_in_time_falls_in(databases):
    src, dst, slot = databases
    schema([src, dst], KINDS)
    ins = "INSERT INTO kinds (id, note) VALUES (%s, %s)"
    states = []
    for i in range(1, 7):
        run(src, (ins, (2 * i, f"row {i}")), (ins, (2 * i + 1, f"row {i}\tb")))
        if i == 5:
            run(src, ("UPDATE kinds SET note = 'late' WHERE id = 2", ()))
        states.append(rows(src, "kinds"))
    txns = journaled(src, slot)
    assert len(txns) == 7
    until = txns[2].commit_time  # after the third transaction: rows 1-3 only

    # Two "segments", the cut in the second: the pending batch spans the boundary.
    result = replay(
        dst,
        ["public.kinds"],
        engine.iter_until(txns[:2], until),
        engine.iter_until(txns[2:], until),
    )

    assert rows(dst, "kinds") == states[2]
    assert result.transactions == 3
    assert result.last_commit == until


def test_with_foreign_keys_on_the_target_the_journal_order_is_kept_across_tables(databases):
    src, dst, slot = databases
    schema([src, dst], PARENT_CHILD)
    parent = "INSERT INTO parent (id, name) VALUES (%s, %s)"
    child = "INSERT INTO child (id, parent_id) VALUES (%s, %s)"
    run(src, (parent, (1, "one")), (child, (1, 1)))
    run(src, ("DELETE FROM child WHERE id = 1", ()), ("DELETE FROM parent WHERE id = 1", ()))
    run(src, (parent, (2, "two")), (child, (2, 2)), (child, (3, 2)))
    txns = journaled(src, slot)

    # Each table batched on its own would insert child 1 before parent 1 (its delete applies
    # the child's pending inserts first): the foreign key on the target would refuse it.
    replay(dst, ["public.parent", "public.child"], txns)

    assert rows(dst, "parent") == rows(src, "parent")
    assert rows(dst, "child") == rows(src, "child")


def test_a_change_the_backup_lacks_a_row_for_is_refused(databases):
    src, dst, slot = databases
    schema([src, dst], KINDS)
    run(src, ("INSERT INTO kinds (id, note) VALUES (1, 'a'), (2, 'b')", ()))
    txns = journaled(src, slot)
    run(src, ("UPDATE kinds SET note = 'c'", ()))
    updates = journaled(src, slot)[len(txns) :]
    with psycopg.connect(dst, autocommit=True) as conn:
        conn.execute("INSERT INTO kinds (id, note) VALUES (1, 'a')")  # row 2 is missing

    with pytest.raises(engine.RestoreError, match=r"2 updates of public.kinds matched 1 rows"):
        replay(dst, ["public.kinds"], updates)


def test_a_segment_reads_back_every_change_whichever_format_wrote_it(
    databases, tmp_path, monkeypatch
):
    src, _dst, slot = databases
    schema([src], KINDS + ";\nCREATE TABLE one (id text PRIMARY KEY)")
    run(
        src,
        (INSERT_KIND, (1, TRICKY, b"\\\t", None, None, None, None, ["", None])),
        (INSERT_KIND, (2, "", None, None, None, None, None, None)),
        ("INSERT INTO one VALUES ('')", ()),
        ("UPDATE kinds SET note = %s WHERE id = 2", ("x\ty",)),
        (INSERT_KIND, (3, "\\N", None, None, None, None, None, None)),
    )
    txns = journaled(src, slot)
    path = tmp_path / "format2.seg"
    journal.write_segment(path, txns, keyring=KEYRING, start_lsn=1, end_lsn=2)
    manifest, back = engine.read_segment(path, KEYRING)
    _manifest, as_runs = engine.read_segment(path, KEYRING, runs=True)

    assert manifest["format_version"] == 2
    assert [t.changes for t in back] == [t.changes for t in txns]  # "I" again, value for value
    ops = [c.op for c in as_runs[0].changes]
    assert ops == ["C", "C", "U", "C"]  # kinds 1-2 one run, one's row, the update, kinds 3

    monkeypatch.setattr(journal, "SEGMENT_VERSION", 1)  # a segment written before format 2
    monkeypatch.setattr(journal, "_format2_lines", lambda ts: (t.to_json().encode() for t in ts))
    old = tmp_path / "format1.seg"
    journal.write_segment(old, txns, keyring=KEYRING, start_lsn=1, end_lsn=2)
    manifest, back = engine.read_segment(old, KEYRING, runs=True)
    assert manifest["format_version"] == 1
    assert [t.changes for t in back] == [t.changes for t in txns]

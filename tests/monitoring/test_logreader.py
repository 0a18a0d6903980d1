"""The log reader: incremental, rotation-proof, byte-safe (plain Python, no database)."""

import os

from apps.monitoring.engine.logreader import read_new_lines


def _append(path, text: bytes):
    with open(path, "ab") as f:
        f.write(text)


def test_only_lines_appended_since_the_last_round_are_counted(tmp_path):
    log = tmp_path / "app.log"
    _append(log, b"INFO start\nERROR one\n")
    first = read_new_lines(tmp_path, {})
    assert (first.lines, first.error_lines) == (2, 1)
    _append(log, b"INFO ok\nERROR two\nFATAL three\n")
    second = read_new_lines(tmp_path, first.cursors)
    assert (second.lines, second.error_lines) == (3, 2)
    third = read_new_lines(tmp_path, second.cursors)
    assert (third.lines, third.error_lines) == (0, 0)


def test_a_new_probe_starts_at_the_end_of_the_history_already_there(tmp_path):
    _append(tmp_path / "app.log", b"ERROR old\n" * 50)
    first = read_new_lines(tmp_path, {}, start_at_end=True)
    assert first.error_lines == 0
    _append(tmp_path / "app.log", b"ERROR new\n")
    assert read_new_lines(tmp_path, first.cursors).error_lines == 1


def test_a_line_still_being_written_waits_for_its_end(tmp_path):
    log = tmp_path / "app.log"
    _append(log, b"INFO a\nERROR half-wri")
    first = read_new_lines(tmp_path, {})
    assert (first.lines, first.error_lines) == (1, 0)
    _append(log, b"tten line\n")
    second = read_new_lines(tmp_path, first.cursors)
    assert (second.lines, second.error_lines) == (1, 1)
    assert second.examples == ["ERROR half-written line"]


def test_a_file_rotated_by_rename_is_finished_and_the_new_one_read_from_its_start(tmp_path):
    log = tmp_path / "app.log"
    _append(log, b"INFO a\n")
    cursors = read_new_lines(tmp_path, {}).cursors
    _append(log, b"ERROR written just before rotation\n")
    os.rename(log, tmp_path / "app.log.1")
    _append(log, b"ERROR first line of the new file\n")
    result = read_new_lines(tmp_path, cursors)
    assert (result.lines, result.error_lines) == (2, 2)


def test_a_file_truncated_in_place_is_read_again_from_its_start(tmp_path):
    log = tmp_path / "app.log"
    _append(log, b"INFO " + b"x" * 200 + b"\n")
    cursors = read_new_lines(tmp_path, {}).cursors
    with open(log, "wb") as f:
        f.write(b"ERROR after copytruncate\n")
    result = read_new_lines(tmp_path, cursors)
    assert (result.lines, result.error_lines) == (1, 1)


def test_non_utf8_and_binary_bytes_neither_crash_nor_hide_errors(tmp_path):
    _append(
        tmp_path / "app.log",
        "ERROR 订单失败\n".encode("gb18030") + b"\xff\xfe\x00garbage\n" + b"ERROR \xc3\x28 bad\n",
    )
    result = read_new_lines(tmp_path, {})
    assert (result.lines, result.error_lines) == (3, 2)
    assert all(isinstance(e, str) for e in result.examples)


def test_an_error_word_inside_another_word_is_not_an_error_line(tmp_path):
    _append(
        tmp_path / "app.log", b"INFO NOERRORS here\nINFO ERRORLESS\nWARN ERROR: x ERROR again\n"
    )
    assert read_new_lines(tmp_path, {}).error_lines == 1


def test_compressed_rotations_are_skipped(tmp_path):
    _append(tmp_path / "app.log.2.gz", b"\x1f\x8bERROR\n")
    _append(tmp_path / "app.log", b"INFO\n")
    result = read_new_lines(tmp_path, {})
    assert (result.files, result.error_lines) == (1, 0)

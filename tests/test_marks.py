"""The cursor of streams read through a lagging index (cmtui.platforms.marks)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from cmtui.platforms.marks import LagMark

IDS = re.compile(r"[0-9]{1,20}")
MINUTE = timedelta(minutes=1)


def test_encode_keeps_the_ids_within_the_overlap_newest_last_and_at_most_keep() -> None:
    mark = LagMark(1000, {"1": 939.0, "2": 940.0, "3": 999.5, "4": 1000.0})
    # 940 is exactly the overlap's floor: kept; 939 is before it: left out.
    assert json.loads(mark.encode(MINUTE, keep=10)) == {
        "at": 1000,
        "seen": {"2": 940, "3": 999.5, "4": 1000},
    }
    assert json.loads(mark.encode(MINUTE, keep=2))["seen"] == {"3": 999.5, "4": 1000}
    assert json.loads(mark.encode(MINUTE, keep=0))["seen"] == {}


def test_a_cursor_read_and_written_again_is_the_same() -> None:
    written = LagMark(1000, {"4": 1000, "3": 999.5}).encode(MINUTE, keep=10)
    again = LagMark.decode(written, IDS)
    assert again == LagMark(1000.0, {"3": 999.5, "4": 1000.0})
    assert again.encode(MINUTE, keep=10) == written == '{"at":1000,"seen":{"3":999.5,"4":1000}}'


def test_decode_reads_pairs_too_and_leaves_out_foreign_ids() -> None:
    cursor = json.dumps({"at": 5, "seen": [["7", 5], ["t1_x", 5], ["8", 4.5]]})
    assert LagMark.decode(cursor, IDS) == LagMark(5.0, {"7": 5.0, "8": 4.5})
    assert LagMark.decode('{"at": 5}', IDS) == LagMark(5.0, {})
    assert LagMark.decode('{"at": 5, "seen": null}', IDS) == LagMark(5.0, {})


@pytest.mark.parametrize(
    "cursor",
    [
        None,
        "",
        "not json",
        "[]",
        '{"seen": {}}',
        '{"at": "soon"}',
        '{"at": NaN}',
        '{"at": Infinity}',
        '{"at": 5, "seen": {"7": NaN}}',
        '{"at": 5, "seen": {"7": "x"}}',
        '{"at": 5, "seen": 3}',
        '{"at": 5, "seen": [["7"]]}',
    ],
)
def test_a_cursor_this_version_cannot_read_is_none(cursor: str | None) -> None:
    assert LagMark.decode(cursor, IDS) is None


def test_past_moves_to_the_newest_time_and_skips_items_without_id_or_time() -> None:
    mark = LagMark(100, {"1": 100})
    moved = mark.past([("2", 150), (None, 900), ("3", None), ("4", 120)])
    assert moved == LagMark(150, {"1": 100, "2": 150, "4": 120})
    assert mark == LagMark(100, {"1": 100})  # the mark moved from is left as it was
    assert mark.past([("5", 50)]) == LagMark(100, {"1": 100, "5": 50})  # never back
    assert LagMark(100).past([]) == LagMark(100)

"""The columnar reader's own checks, against what Python says of the same values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from addin.sources.columnar import _MIX, _same_length_hashes, _unique


def _chunked(texts: list[str], cut: int) -> pa.ChunkedArray:
    cut = min(cut, len(texts))
    return pa.chunked_array([pa.array(texts[:cut], pa.string()),
                             pa.array(texts[cut:], pa.string())])


ids_of_one_length = st.integers(1, 20).flatmap(
    lambda width: st.lists(st.text("0123456789ABé", min_size=width, max_size=width), max_size=60))
ids_of_any_length = st.lists(st.text("0123456789AB", min_size=1, max_size=12), max_size=60)


@given(st.one_of(ids_of_one_length, ids_of_any_length), st.integers(0, 60))
def test_ids_are_unique_exactly_when_python_finds_no_repeat(texts: list[str], cut: int) -> None:
    assert _unique(_chunked(texts, cut)) == (len(set(texts)) == len(texts))


def test_two_ids_that_share_a_hash_are_still_told_apart() -> None:
    first = np.frombuffer(b"P1000000", np.uint64)[0]
    other = np.frombuffer(b"P2000000", np.uint64)[0]
    tail = np.frombuffer(b"00000001", np.uint64)[0]
    with np.errstate(over="ignore"):
        clash = (first * _MIX) ^ tail ^ (other * _MIX)  # other + clash hashes as first + tail
    data = b"P1000000" + tail.tobytes() + b"P2000000" + clash.tobytes()
    offsets = np.array([0, 16, 32], dtype=np.int32)
    column = pa.chunked_array([pa.Array.from_buffers(
        pa.string(), 2, [None, pa.py_buffer(offsets), pa.py_buffer(data)])])
    hashes = _same_length_hashes(column)
    assert hashes is not None and hashes[0] == hashes[1]
    assert _unique(column)
    assert not _unique(pa.chunked_array([column.chunk(0), column.chunk(0)]))


def test_ids_of_several_lengths_are_left_to_arrow() -> None:
    assert _same_length_hashes(_chunked(["A1", "A22"], 1)) is None
    assert _unique(_chunked(["A1", "A22", "A1"], 2)) is False

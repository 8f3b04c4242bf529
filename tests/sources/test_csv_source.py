"""The CSV reader's byte-level helpers: where UTF-8 stops, whether a line end sits in quotes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from addin.sources.columnar import _quoted_line_end
from addin.sources.csv_source import _blank, _first_non_utf8, _valid_utf8


def _python_says(data: bytes) -> int | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return None


@given(st.binary(max_size=64), st.integers(1, 8))
def test_the_first_byte_that_is_not_utf8_is_where_python_finds_it(data: bytes, piece: int
                                                                   ) -> None:
    """Read a few bytes at a time, so that characters are cut between pieces."""
    assert _first_non_utf8(data, piece=piece) == _python_says(data)


@given(st.one_of(st.binary(max_size=64), st.text(max_size=32).map(str.encode),
                 st.tuples(st.text(max_size=16), st.binary(max_size=4), st.text(max_size=16))
                 .map(lambda parts: parts[0].encode() + parts[1] + parts[2].encode())))
def test_arrow_finds_utf8_exactly_where_python_does(data: bytes) -> None:
    assert _valid_utf8(data) == (_python_says(data) is None)


@pytest.mark.parametrize("data", [b"\xed\xa0\x80", b"\xc0\x80", b"\xe0\x80\x80",
                                  b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"a\xc3"])
def test_what_python_refuses_as_utf8_arrow_refuses(data: bytes) -> None:
    """A surrogate, overlong forms, beyond U+10FFFF, a character cut at the end."""
    assert not _valid_utf8(data) and _python_says(data) is not None


@pytest.mark.parametrize("at", [0, 1, 2, 3, 4, 5, 6, 7])
def test_a_bad_byte_in_a_character_cut_between_pieces_is_placed_exactly(at: int) -> None:
    data = bytearray("aé€😀z".encode() * 2)
    data[at] = 0xFF
    assert _first_non_utf8(bytes(data), piece=3) == _python_says(bytes(data))


def test_a_utf8_export_is_utf8_piece_by_piece() -> None:
    data = "Müller; Zoé; €\r\n".encode() * 10_000
    assert _first_non_utf8(data, piece=4096) is None


@pytest.mark.parametrize(("data", "inside"), [
    (b'a;b\n1;2\n', False),
    (b'a;b\n"x";"y ""z"""\n', False),
    (b'a;b\n"x\ny";2\n', True),
    (b'a;b\n"x\ry";2\n', True),
    (b'a;b\n"open;2\n', True),  # an unpaired quote: let Arrow split carefully
    (b'a;b\n"""\n";2\n', True),
])
def test_a_line_end_inside_quotes_is_noticed(data: bytes, inside: bool) -> None:
    assert _quoted_line_end(data) is inside


@pytest.mark.parametrize(("data", "blank"), [
    (b"", True), (b"\xef\xbb\xbf", True), (b"\xef\xbb\xbf \r\n\t", True),
    (b" " * 5000 + b"x", False), (b"\xef\xbb\xbfa;b", False),
])
def test_a_file_of_spaces_and_a_bom_is_blank(data: bytes, blank: bool) -> None:
    assert _blank(data) is blank

"""The byte scan of a CSV file agrees with the csv module, and with pandas, on every record."""

import io

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from addin.sources import csv_records
from addin.sources.csv_records import _csv_module, _paired_quotes, scan

FIELD = st.lists(st.sampled_from(["a", " ", ";", '"', "\n", "\r\n", "é"]), max_size=6).map("".join)
ROWS = st.lists(st.lists(FIELD, min_size=1, max_size=5), min_size=1, max_size=8)


def quoted(field: str) -> str:
    if any(c in field for c in ';"\n\r'):
        return '"' + field.replace('"', '""') + '"'
    return field


def as_seen(records) -> list[tuple[int, int, bool]]:
    return [(int(line), int(fields), records.blank(i))
            for i, (line, fields) in enumerate(zip(records.lines, records.fields, strict=True))]


@given(ROWS, st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_quoted_fields_are_counted_as_the_csv_module_reads_them(rows, end, last_end):
    text = end.join(";".join(quoted(f) for f in row) for row in [["h1", "h2"], *rows])
    data = (text + (end if last_end else "")).encode()
    paired = _paired_quotes(data, ";")
    assert paired is not None
    assert as_seen(paired) == as_seen(_csv_module(data, "utf-8", ";"))


@given(ROWS, st.sampled_from(["\n", "\r\n"]))
def test_loose_quotes_fall_back_to_the_csv_module(rows, end):
    text = end.join(";".join(f.replace("\n", " ").replace("\r", " ") for f in row)
                    for row in [["h1", "h2"], *rows])
    data = (text + end).encode()
    assert as_seen(scan(data, "utf-8", ";")) == as_seen(_csv_module(data, "utf-8", ";"))


@given(ROWS)
def test_there_is_one_record_per_row_pandas_reads(rows):
    width = max(len(row) for row in rows)
    text = "\n".join(";".join(quoted(f) for f in row)
                     for row in [[f"h{n}" for n in range(width)], *rows])
    data = (text + "\n").encode()
    frame = pd.read_csv(io.BytesIO(data), sep=";", dtype=object, header=0, index_col=False,
                        keep_default_na=False, na_filter=False, engine="c",
                        skip_blank_lines=False)
    records = scan(data, "utf-8", ";")
    assert len(frame) == len(records.lines)
    assert records.short(width) == [
        (int(line), len(row)) for line, row in zip(records.lines, rows, strict=True)
        if len(row) < width and any(row)]


def test_records_crossing_the_blocks_the_bytes_are_scanned_in_are_counted_whole(monkeypatch):
    data = ('\ufeff"h1";h2;h3\r\n"a;b";"c\r\nd";e\r\n\r\n;;\r\nf;"g"""\r\n'
            'x\n"";"";""').encode()
    whole = as_seen(scan(data, "utf-8", ";"))
    monkeypatch.setattr(csv_records, "_BLOCK", 3)
    assert as_seen(scan(data, "utf-8", ";")) == whole == as_seen(_csv_module(data, "utf-8", ";"))
    assert whole == [(2, 3, False), (4, 1, True), (5, 3, True), (6, 2, False), (7, 1, False),
                     (8, 3, True)]

"""Input files read as a stream of Records: JSON Lines, CSV or Parquet, or JSON Lines on stdin.

Nothing is read ahead beyond one Parquet row batch, so memory does not grow with the input.
"""
from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import Iterator

from .answers import Record

FORMATS = ("jsonl", "csv", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet",
             ".pq": "parquet"}
FIELDS = ("id", "text", "title")
STDIN = "-"


class InputError(Exception):
    """An input that cannot be read at all (missing, unreadable, no text column)."""


def input_format(path: str, forced: str | None = None) -> str:
    if forced:
        return forced
    if path == STDIN:
        return "jsonl"
    found = _SUFFIXES.get(Path(path).suffix.lower())
    if found is None:
        raise InputError(f"{path}: cannot tell the format from the extension; name it .jsonl, .csv or "
                         ".parquet, or pass --input-format.")
    return found


def check(path: str, fmt: str) -> None:
    """Fail early, before any work, on an input that cannot be opened."""
    if path == STDIN:
        if fmt != "jsonl":
            raise InputError("standard input (-) is read as JSON Lines only.")
        return
    if not os.path.isfile(path) and not (fmt == "parquet" and os.path.isdir(path)):
        raise InputError(f"{path}: no such file.")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: not readable (permission denied).")
    if fmt == "csv":
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as handle:
            header = next(csv.reader(handle), [])
        if "text" not in header:
            raise InputError(f"{path}: the CSV header has no 'text' column (found {', '.join(header) or 'nothing'}).")
    if fmt == "parquet":
        names = _parquet_columns(path)
        if "text" not in names:
            raise InputError(f"{path}: no 'text' column (found {', '.join(names)}).")


def read(path: str, fmt: str) -> Iterator[Record]:
    return {"jsonl": _jsonl, "csv": _csv, "parquet": _parquet}[fmt](path)


def count(path: str, fmt: str) -> int | None:
    """How many records `path` holds, when that is cheap to know (for the progress bar's ETA)."""
    if path == STDIN or fmt == "csv":
        return None
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(name).metadata.num_rows for name in _parquet_files(path))
    total = 0
    with open(path, "rb") as handle:
        for line in handle:
            total += bool(line.strip())
    return total


def _jsonl(path: str) -> Iterator[Record]:
    handle = sys.stdin.buffer if path == STDIN else open(path, "rb")
    try:
        for number, line in enumerate(handle, 1):
            if line.strip():  # a blank line holds no record
                yield Record(path, number, line)
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _csv(path: str) -> Iterator[Record]:
    csv.field_size_limit(sys.maxsize)
    # surrogateescape: bytes that are not UTF-8 become lone surrogates, which the core refuses
    # for that record only (its error says so) instead of stopping the run
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as handle:
        reader = csv.DictReader(handle)
        start = 2  # the header is line 1
        for row in reader:
            document = {key: row[key] for key in FIELDS if row.get(key) not in (None, "") or key == "text"}
            document.setdefault("text", "")
            yield Record(path, start, document)
            start = reader.line_num + 1


def _parquet_files(path: str) -> list[str]:
    """The Parquet file itself, or the part files of a directory (as Spark writes them) in name order."""
    if os.path.isdir(path):
        return sorted(str(p) for p in Path(path).glob("*.parquet"))
    return [path]


def _parquet_columns(path: str) -> list[str]:
    import pyarrow.parquet as pq

    files = _parquet_files(path)
    if not files:
        raise InputError(f"{path}: a directory without .parquet files.")
    try:
        return pq.read_schema(files[0]).names
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise InputError(f"{files[0]}: not a readable Parquet file ({error}).") from None


def _parquet(path: str) -> Iterator[Record]:
    import pyarrow.parquet as pq

    for name in _parquet_files(path):
        parquet = pq.ParquetFile(name)
        columns = [column for column in FIELDS if column in parquet.schema_arrow.names]
        number = 0
        for batch in parquet.iter_batches(batch_size=1024, columns=columns):
            for row in batch.to_pylist():
                number += 1
                yield Record(name, number, {k: v for k, v in row.items() if v is not None or k == "text"})

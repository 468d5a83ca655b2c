"""Outputs that are appended in whole batches and survive an interrupted run.

JSON Lines: one file; each batch is written with one write() call, flushed and fsynced. A run
killed during that write can leave a torn last line; `--resume` cuts it off (every complete line
is a complete result) and goes on from there.

Parquet: a Parquet file is only readable once its footer is written, so appending row groups to one
file cannot survive a kill. The output is instead a directory (as Spark writes it) holding one part
file per batch, `part-000000.parquet`, `part-000001.parquet` ...: each is written under a hidden
temporary name, fsynced, then renamed into place, so a part is either whole or absent. Readers
(pyarrow, pandas, Spark, DuckDB) read the directory as one table; part names sort in input order.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from newsbrief.artifacts import _fsync_dir  # the model registry's own atomic-write helper

STDOUT = "-"


class OutputError(Exception):
    """An output that cannot be written or resumed."""


def output_format(path: str) -> str:
    if path == STDOUT:
        return "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise OutputError(f"--output {path}: the extension chooses the format; use .jsonl or .parquet.")


class JsonlOutput:
    def __init__(self, path: str, resume: bool):
        self.path = path
        self.done = self.rejected = 0
        self.last_id: Any = None
        if path == STDOUT:
            if resume:
                raise OutputError("--resume needs an output file, not standard output.")
            self.handle = sys.stdout.buffer
            return
        exists = os.path.exists(path)
        if exists and not resume:
            raise OutputError(f"{path} exists; pass --resume to finish it, or remove it to start afresh.")
        if exists:
            self._scan()
        try:
            self.handle = open(path, "ab")
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror or error}.") from None

    def _scan(self) -> None:
        """Count the complete results already written and cut off a torn last line."""
        good = 0
        last = b""
        with open(self.path, "r+b") as handle:
            for line in handle:
                if not line.endswith(b"\n"):
                    break
                good += len(line)
                self.done += 1
                last = line
                if b'"error":' in line and "error" in json.loads(line):
                    self.rejected += 1
            handle.truncate(good)
        if last:
            self.last_id = json.loads(last)["id"]

    def append(self, lines: list[str], table=None) -> None:
        data = "".join(line + "\n" for line in lines).encode("utf-8")
        self.handle.write(data)
        self.handle.flush()
        if self.handle is not sys.stdout.buffer:
            os.fsync(self.handle.fileno())

    def close(self) -> None:
        if self.handle is not sys.stdout.buffer:
            self.handle.close()


class ParquetOutput:
    def __init__(self, path: str, resume: bool):
        self.path = Path(path)
        self.done = self.rejected = self.parts = 0
        self.last_id: Any = None
        if self.path.exists() and not resume:
            raise OutputError(f"{path} exists; pass --resume to finish it, or remove it to start afresh.")
        if self.path.exists() and not self.path.is_dir():
            raise OutputError(f"{path} is a file; a Parquet output is a directory of part files.")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"cannot create {path}: {error.strerror or error}.") from None
        self._scan()

    def _scan(self) -> None:
        import pyarrow.parquet as pq

        for stale in self.path.glob(".part-*.tmp"):  # a part whose run was killed before the rename
            stale.unlink()
        parts = sorted(self.path.glob("part-*.parquet"))
        for index, part in enumerate(parts):
            if part.name != self._name(index):
                raise OutputError(f"{part} is out of sequence (expected {self._name(index)}); this directory "
                                  "was not written by one newsbrief-batch run.")
            table = pq.read_table(part, columns=["error", "result"])
            self.done += table.num_rows
            self.rejected += table.num_rows - table.column("error").null_count
        self.parts = len(parts)
        if parts and self.done:
            last = pq.read_table(parts[-1], columns=["result"]).column("result")[-1].as_py()
            self.last_id = json.loads(last)["id"]

    @staticmethod
    def _name(index: int) -> str:
        return f"part-{index:06d}.parquet"

    def append(self, lines: list[str], table) -> None:
        import pyarrow.parquet as pq

        name = self._name(self.parts)
        temporary = self.path / f".{name}.tmp"
        with open(temporary, "wb") as handle:
            pq.write_table(table, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path / name)
        _fsync_dir(self.path)
        self.parts += 1

    def close(self) -> None:
        pass


def open_output(path: str, resume: bool):
    return {"jsonl": JsonlOutput, "parquet": ParquetOutput}[output_format(path)](path, resume)

"""Load and validate a labelled training corpus (JSON Lines or CSV).

Formats (chosen by extension: .csv is CSV, anything else JSON Lines):

* JSON Lines: one object a line with `text` (required, non-empty string) and `labels` (required,
  list of label names, [] = none), optionally `id`, `title`, `source`, `group`. Blank lines are
  skipped; other fields are ignored.
* CSV (UTF-8, header row): columns `text` and `labels`, optionally `id`, `title`, `source`,
  `group`. The `labels` cell is either a JSON list (`["conflict", "alliances"]`) or names
  separated by `;` or `|` (`conflict;alliances`); an empty cell means no label.

Every problem is collected and reported at once as "FILE:LINE: what is wrong" through
`CorpusError.problems`; nothing is half-loaded. Exact duplicates (same text once case and white
space are normalised) are reported in `Corpus.warnings` and dropped, unless their labels
disagree, which is an error. The same id with different texts is an error.

Story groups: versions of one story must stay in one cross-validation fold. A record's `group`
is its `group` field if given, else derived from its id: Reuters ids carry a story code after
`-id` and a two-letter edition (`...-idINKCN20J0F5-2b4ff4`, `...-idUKKCN20J13L`), and every
version or edition of that code shares the group `reuters:KCN20J0F5`. Any other id (including
Reuters `...-id-<hash>` ids that carry no story code, and `cfb-<collection>-<n>`, which number
distinct articles of one collection) is its own group.

`python -m training.corpus FILE...` validates and prints a summary or the problems (exit 1).
`python -m training.corpus FILE... --split 0.2 --train-out train.jsonl --held-out-out held_out.jsonl`
also writes a training file and a held-out file for training.promote: whole story groups go to one
side (versions of a story never straddle), a seeded hash of the group decides which, and synthetic
records always train (they are never scored).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass

from newsbrief.errors import CorpusError, json_error

DEFAULT_LABELS = ("conflict", "diplomacy", "alliances")
DEFAULT_MIN_PER_LABEL = 10
OPTIONAL_FIELDS = ("id", "title", "source", "group")

_REUTERS_STORY = re.compile(r"-id[A-Z]{2}([A-Z]{3}[A-Z0-9]{5,})(?:-[0-9a-f]{6})?$")


@dataclass(frozen=True)
class Record:
    id: str
    title: str | None
    text: str
    labels: tuple[str, ...]
    group: str
    source: str | None
    file: str
    line: int


class Corpus(list):
    """The validated records (a list of Record) plus what was dropped along the way."""

    def __init__(self, records=(), warnings=(), files=()):
        super().__init__(records)
        self.warnings: list[str] = list(warnings)
        self.files: list[str] = list(files)


def story_group(record_id: str) -> str:
    """The story group an id belongs to (see the module docstring for the rule)."""
    match = _REUTERS_STORY.search(record_id)
    if match:
        return "reuters:" + match.group(1)
    return record_id


def normalise_text(text: str) -> str:
    """What two texts must share to count as duplicates: case-folded, white space collapsed."""
    return " ".join(text.split()).casefold()


def load_corpus(paths, labels=DEFAULT_LABELS, min_per_label: int = DEFAULT_MIN_PER_LABEL) -> Corpus:
    """Read, validate and de-duplicate the corpus files; raise CorpusError listing every problem."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    labels = tuple(labels)
    problems: list[str] = []
    if not labels:
        problems.append("label set: empty; configure at least one label")
    elif len(set(labels)) != len(labels):
        problems.append(f"label set: {list(labels)} names a label twice")
    candidates: list[Record] = []
    for path in paths:
        path = os.fspath(path)
        raw_rows, file_problems = _read_rows(path)
        problems += file_problems
        for line, row in raw_rows:
            record, row_problems = _make_record(row, path, line, labels)
            problems += row_problems
            if record is not None:
                candidates.append(record)
        if not raw_rows and not file_problems:
            problems.append(f"{path}: no records")
    records, warnings, dup_problems = _drop_duplicates(candidates)
    problems += dup_problems
    names = [os.fspath(p) for p in paths]
    count_problems = []
    if labels and records:
        count_problems = _count_problems(records, labels, min_per_label, names, partial=bool(problems))
    if problems or count_problems:
        # duplicates are not fatal, but list them too so that one round of fixes is enough
        raise CorpusError(sorted(problems + warnings, key=_problem_order(names)) + count_problems)
    return Corpus(records, warnings, [os.fspath(p) for p in paths])


def corpus_sha256(records) -> str:
    """SHA-256 of the validated records, independent of file order, format and field order.

    Hashes the sorted canonical JSON of (id, text, labels, group) per record, so the same
    labelled articles give the same hash whether they come as JSONL or CSV, in one file or two.
    """
    lines = sorted(
        json.dumps([r.id, r.text, list(r.labels), r.group], ensure_ascii=False, separators=(",", ":"))
        for r in records
    )
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


FINGERPRINT_FILE = "training_records.json"  # written beside a model by training.train


def fingerprint(records) -> dict:
    """Ids and text hashes of records, to tell whether held-out data overlaps a training corpus
    without keeping the texts: {"ids": [...], "texts": [first 16 hex digits of SHA-256 of the
    normalised text, ...]}, both sorted."""
    return {"ids": sorted({r.id for r in records}),
            "texts": sorted({hashlib.sha256(normalise_text(r.text).encode("utf-8")).hexdigest()[:16]
                             for r in records})}


def file_sha256(path) -> str:
    """SHA-256 of one file's bytes (provenance: which exact file was used)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- reading -----------------------------------------------------------------------------------

def _read_rows(path: str) -> tuple[list[tuple[int, object]], list[str]]:
    """(line number, parsed row) pairs and the problems met while parsing."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return [], [f"{path}: cannot read the file: {exc.strerror or exc}"]
    if path.lower().endswith(".csv"):
        return _read_csv(path, data)
    return _read_jsonl(path, data)


def _read_jsonl(path: str, data: bytes):
    rows, problems = [], []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(f"{path}:{number}: not valid UTF-8 (byte {exc.start + 1} of the line); save the file as UTF-8")
            continue
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: not valid JSON ({json_error(exc)}); "
                            "each line must be one JSON object")
            continue
        if not isinstance(row, dict):
            problems.append(f"{path}:{number}: expected a JSON object, found {_json_type(row)}")
            continue
        rows.append((number, row))
    return rows, problems


def _read_csv(path: str, data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return [], [f"{path}:{line}: not valid UTF-8; save the file as UTF-8"]
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, problems = [], []
    try:
        header = next(reader, None)
        if header is None:
            return [], [f"{path}: empty CSV file; expected a header row with 'text' and 'labels'"]
        header = [name.strip() for name in header]
        missing = [name for name in ("text", "labels") if name not in header]
        if missing:
            return [], [f"{path}:1: CSV header lacks {', '.join(repr(m) for m in missing)}; "
                        f"found columns {header}, expected 'text' and 'labels' (optional: id, title, source, group)"]
        start = reader.line_num + 1
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                start = reader.line_num + 1
                continue
            if len(cells) != len(header):
                problems.append(f"{path}:{start}: {len(cells)} cells but the header has {len(header)} columns; "
                                "quote cells that contain commas or line breaks")
            else:
                row = dict(zip(header, cells))
                row["labels"] = _parse_label_cell(row["labels"])
                for name in OPTIONAL_FIELDS:
                    if name in row and not row[name].strip():
                        del row[name]
                rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        problems.append(f"{path}:{reader.line_num}: unreadable CSV ({exc})")
    return rows, problems


def _parse_label_cell(cell: str):
    cell = cell.strip()
    if not cell:
        return []
    if cell.startswith("["):
        try:
            return json.loads(cell)
        except json.JSONDecodeError:
            return _BadCell(cell)
    return [part.strip() for part in re.split(r"[;|]", cell) if part.strip()]


class _BadCell(str):
    """A labels cell that looked like a JSON list but did not parse."""


# -- validating --------------------------------------------------------------------------------

def _make_record(row: dict, path: str, line: int, allowed: tuple[str, ...]):
    where = f"{path}:{line}"
    problems = []
    text = row.get("text")
    if "text" not in row:
        problems.append(f"{where}: missing 'text'")
    elif not isinstance(text, str):
        problems.append(f"{where}: 'text' must be a string, found {_json_type(text)}")
    elif not text.strip():
        problems.append(f"{where}: empty 'text'")

    labels = row.get("labels")
    if "labels" not in row:
        problems.append(f"{where}: missing 'labels'; use [] for an article with none of {list(allowed)}")
    elif isinstance(labels, _BadCell):
        problems.append(f"{where}: labels cell {str(labels)!r} is not a valid JSON list")
    elif not isinstance(labels, list):
        problems.append(f"{where}: 'labels' must be a list of label names, found {_json_type(labels)}")
    else:
        for label in labels:
            if not isinstance(label, str):
                problems.append(f"{where}: label {label!r} is not a string; allowed labels: {list(allowed)}")
            elif label not in allowed:
                hint = ""
                close = [a for a in allowed if a.casefold() == label.strip().casefold()]
                if close:
                    hint = f" (did you mean {close[0]!r}?)"
                elif "," in label:
                    hint = " (separate labels with ';' or '|', or write a JSON list)"
                problems.append(f"{where}: unknown label {label!r}{hint}; allowed labels: {list(allowed)}")

    fields = {}
    for name in OPTIONAL_FIELDS:
        value = row.get(name)
        if value is None:
            continue
        if name == "id" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            problems.append(f"{where}: {name!r} must be a string, found {_json_type(value)}")
        elif name in ("id", "group") and not value.strip():
            problems.append(f"{where}: empty {name!r}; leave the field out instead")
        else:
            fields[name] = value
    if problems:
        return None, problems

    record_id = fields.get("id") or f"{os.path.basename(path)}:{line}"
    chosen = set(labels)
    return Record(
        id=record_id,
        title=fields.get("title"),
        text=text,
        labels=tuple(label for label in allowed if label in chosen),
        group=fields.get("group") or story_group(record_id),
        source=fields.get("source"),
        file=path,
        line=line,
    ), []


def _drop_duplicates(records: list[Record]):
    kept, warnings, problems = [], [], []
    by_text: dict[str, Record] = {}
    by_id: dict[str, Record] = {}
    for record in records:
        where = f"{record.file}:{record.line}"
        first_with_id = by_id.get(record.id)
        if first_with_id is not None and first_with_id.text != record.text:
            problems.append(f"{where}: id {record.id!r} already used for a different text at "
                            f"{first_with_id.file}:{first_with_id.line}; ids must be unique")
            continue
        key = normalise_text(record.text)
        first = by_text.get(key)
        if first is not None:
            if first.labels != record.labels:
                problems.append(f"{where}: same text as {first.file}:{first.line} but labelled "
                                f"{list(record.labels)} there {list(first.labels)}; keep one with the right labels")
            else:
                warnings.append(f"{where}: duplicate of {first.file}:{first.line} (same text), dropped")
            continue
        by_text[key] = record
        by_id.setdefault(record.id, record)
        kept.append(record)
    return kept, warnings, problems


def _problem_order(paths):
    """Sort key: problems of earlier files first, then by line number (file-wide ones last)."""
    def key(problem: str):
        for index, path in enumerate(paths):
            if problem.startswith(path + ":"):
                match = re.match(r"(\d+):", problem[len(path) + 1:])
                return (index, int(match.group(1)) if match else 1 << 60)
        return (len(paths), 0)
    return key


def _count_problems(records, labels, min_per_label, paths, partial=False):
    where = ", ".join(paths) if paths else "corpus"
    if partial:
        where += f" (counting the {len(records)} valid records)"
    counts = Counter(label for record in records for label in record.labels)
    problems = []
    for label in labels:
        n = counts.get(label, 0)
        if n < min_per_label:
            problems.append(f"{where}: label {label!r} has {n} example(s), fewer than the {min_per_label} "
                            "needed to learn it; add labelled examples or remove the label from the label set")
        elif n == len(records):
            problems.append(f"{where}: every record has label {label!r}; a classifier also needs "
                            "examples without it")
    return problems


def _json_type(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


# -- command line ------------------------------------------------------------------------------

def summary(corpus: Corpus, labels) -> str:
    lines = [f"{len(corpus)} records, {len({r.group for r in corpus})} story groups, "
             f"{len(corpus.warnings)} duplicate(s) dropped"]
    per_label = Counter(label for r in corpus for label in r.labels)
    lines.append("per label: " + ", ".join(f"{label} {per_label.get(label, 0)}" for label in labels)
                 + f", none {sum(1 for r in corpus if not r.labels)}")
    lines.append("per source:")
    width = 0
    by_source = Counter(r.source or "(no source)" for r in corpus)
    width = max(len(s) for s in by_source)
    for source, n in by_source.most_common():
        lines.append(f"  {source:<{width}}  {n}")
    lines.append(f"corpus sha256: {corpus_sha256(corpus)}")
    return "\n".join(lines)


SYNTHETIC_SOURCE = "synthetic"  # such records train but are never scored, so never held out


def split(corpus: Corpus, fraction: float, seed: int = 0) -> tuple[list[Record], list[Record]]:
    """(training, held-out) records: each story group goes wholly to one side, chosen by a seeded
    hash of the group, so the split is the same on every machine; synthetic records always train."""
    train, held_out = [], []
    for record in corpus:
        digest = hashlib.sha256(f"{seed}:{record.group}".encode("utf-8")).digest()
        draw = int.from_bytes(digest[:8], "big") / 2 ** 64
        if record.source != SYNTHETIC_SOURCE and draw < fraction:
            held_out.append(record)
        else:
            train.append(record)
    return train, held_out


def write_jsonl(path: str, records) -> None:
    """Write records as JSON Lines atomically (a temporary file renamed into place)."""
    directory = os.path.dirname(os.path.abspath(path))
    temp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(temp, "w", encoding="utf-8") as handle:
            for r in records:
                row = {"id": r.id, "title": r.title, "text": r.text, "labels": list(r.labels),
                       "source": r.source, "group": r.group}
                handle.write(json.dumps({k: v for k, v in row.items() if v is not None}, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.corpus",
                                     description="Validate labelled corpus files and summarise them.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="JSON Lines or .csv files")
    parser.add_argument("--labels", default=",".join(DEFAULT_LABELS),
                        help="comma-separated label set (default: %(default)s)")
    parser.add_argument("--min-per-label", type=int, default=DEFAULT_MIN_PER_LABEL,
                        help="fewest examples a label needs (default: %(default)s)")
    parser.add_argument("--split", type=float, metavar="FRACTION",
                        help="also write the corpus split in two: about FRACTION of the story groups "
                             "(e.g. 0.2) held out for training.promote, the rest for training.train")
    parser.add_argument("--train-out", metavar="FILE", help="with --split: the training records (JSON Lines)")
    parser.add_argument("--held-out-out", metavar="FILE", help="with --split: the held-out records (JSON Lines)")
    parser.add_argument("--seed", type=int, default=0, help="with --split: which groups are held out (default: 0)")
    args = parser.parse_args(argv)
    if args.split is not None:
        if not 0 < args.split < 1:
            parser.error(f"--split must be a fraction between 0 and 1 (e.g. 0.2), not {args.split}")
        if not args.train_out or not args.held_out_out:
            parser.error("--split needs --train-out FILE and --held-out-out FILE")
        inputs = {os.path.realpath(f) for f in args.files}
        if {os.path.realpath(args.train_out), os.path.realpath(args.held_out_out)} & inputs:
            parser.error("--train-out and --held-out-out must not overwrite an input file")
    elif args.train_out or args.held_out_out:
        parser.error("--train-out and --held-out-out go with --split FRACTION")
    labels = tuple(name.strip() for name in args.labels.split(",") if name.strip())
    try:
        corpus = load_corpus(args.files, labels=labels, min_per_label=args.min_per_label)
    except CorpusError as exc:
        print(f"{len(exc.problems)} problem(s); nothing was loaded:", file=sys.stderr)
        for problem in exc.problems:
            print("  " + problem, file=sys.stderr)
        return 1
    for warning in corpus.warnings:
        print("warning: " + warning, file=sys.stderr)
    print(summary(corpus, labels))
    if args.split is not None:
        train, held_out = split(corpus, args.split, args.seed)
        per_label = Counter(label for r in held_out for label in r.labels)
        missing = [label for label in labels if not per_label.get(label)]
        if not held_out or missing:
            print(f"error: the held-out part ({len(held_out)} records) has no example of "
                  f"{', '.join(missing) or 'anything'}; use a larger --split or another --seed",
                  file=sys.stderr)
            return 1
        write_jsonl(args.train_out, train)
        write_jsonl(args.held_out_out, held_out)
        print(f"split: {len(train)} records to {args.train_out} (train on these), {len(held_out)} to "
              f"{args.held_out_out} (promote with these; per label: "
              + ", ".join(f"{label} {per_label.get(label, 0)}" for label in labels) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())

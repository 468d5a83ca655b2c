"""Analyse files of articles on one machine: every core, output in input order, resumable.

    python -m pipelines.batch articles.jsonl more.csv --output results.jsonl
    newsbrief-batch night/*.parquet --output results.parquet --workers 4
    zcat dump.jsonl.gz | newsbrief-batch - --output results.jsonl --quiet

Each output record is the result object `POST /v1/analyze` returns for the document in a batch,
byte for byte; a document the service would refuse becomes an error record (the API's error plus
the input file and line) and the run goes on.

Exit status: 0 every document analysed; 3 some documents rejected (error records written);
2 bad arguments, an unreadable input, an output that cannot be resumed or a model that cannot be
loaded; 130 interrupted (Ctrl-C), 143 stopped by SIGTERM: run again with --resume to finish.
"""
from __future__ import annotations

import argparse
import importlib.util
import itertools
import multiprocessing
import os
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Iterable, Iterator

from newsbrief import schema
from newsbrief.artifacts import resolve_version, verify
from newsbrief.errors import ArtifactError, RequestError
from newsbrief.summarize import ALGORITHMS

from . import answers, inputs, outputs

PROG = "newsbrief-batch"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models"
EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 3, 2, 130, 143


class Failure(Exception):
    """Stops the run with a one-line message and exit status 2."""


class Stopped(Exception):
    def __init__(self, status: int):
        self.status = status


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage block
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def parse_args(argv=None) -> argparse.Namespace:
    parser = _Parser(prog=PROG, description=__doc__.split("\n")[0],
                     epilog="Exit status: 0 all analysed, 3 some rejected, 2 bad arguments or unreadable "
                            "input, 130/143 interrupted (resume with --resume).")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="JSON Lines, CSV or Parquet files (by extension); - reads JSON Lines from stdin")
    parser.add_argument("--output", "-o", required=True,
                        help="results file: .jsonl (JSON Lines; - for stdout) or .parquet (a directory of parts)")
    parser.add_argument("--input-format", choices=inputs.FORMATS, help="read every input as this format")
    parser.add_argument("--resume", action="store_true",
                        help="skip the documents already in --output and finish the rest")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes, each loading the model once (default: the number of cores, "
                             f"{os.cpu_count()})")
    parser.add_argument("--batch-size", type=int, default=500,
                        help="documents per batch: the unit sent to a worker and appended to the output (default 500)")
    parser.add_argument("--sentences", type=int, help=f"summary sentences, 1 to {schema.MAX_SENTENCES} (API default 3)")
    parser.add_argument("--algorithm", choices=ALGORITHMS, help="summary algorithm (API default: see GET /v1/model)")
    parser.add_argument("--explain", action="store_true", help="add the terms behind each score, as the API's explain")
    parser.add_argument("--model-dir", default=os.environ.get("MODEL_DIR") or str(DEFAULT_MODEL_DIR),
                        help="model registry or version directory (default: $MODEL_DIR, else models/)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.workers < 1 or args.batch_size < 1:
        parser.error("--workers and --batch-size must be at least 1")
    if args.sentences is not None and not 1 <= args.sentences <= schema.MAX_SENTENCES:
        parser.error(f"--sentences must be between 1 and {schema.MAX_SENTENCES}, not {args.sentences}")
    return args


def request_options(args: argparse.Namespace) -> dict:
    """The body keys beside `documents`, as a client would send them (only those given)."""
    summary = {key: value for key, value in (("sentences", args.sentences), ("algorithm", args.algorithm))
               if value is not None}
    options: dict = {"summary": summary} if summary else {}
    if args.explain:
        options["explain"] = True
    return options


# -- the work, in this process or in worker processes ---------------------------------------------

def analyse_batch(version_dir: str, options: dict, records: list, parquet: bool):
    """One batch: its JSON lines, its Parquet table (or None) and how many were rejected."""
    results = answers.answer(answers.analyzer_for(version_dir), records, options)
    lines = [answers.to_json(result) for result in results]
    table = answers.to_table(results, records) if parquet else None
    return lines, table, sum("error" in result for result in results)


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _ordered(pool, batches: Iterable[list], job, window: int) -> Iterator:
    """Results of `job(batch)` in input order, with at most `window` batches in flight."""
    pending = []
    for batch in batches:
        pending.append(pool.apply_async(job, (batch,)))
        if len(pending) >= window:
            yield pending.pop(0).get()
    while pending:
        yield pending.pop(0).get()


class _Job:
    def __init__(self, version_dir: str, options: dict, parquet: bool):
        self.args = (version_dir, options)
        self.parquet = parquet

    def __call__(self, batch):
        return analyse_batch(*self.args, batch, self.parquet)


class Engine:
    """Batches in, (lines, table, rejected) out in input order: in this process with one worker,
    else in a pool of worker processes that each load the model on their first batch."""

    def __init__(self, version_dir: str, options: dict, workers: int, parquet: bool):
        self.job = _Job(str(version_dir), options, parquet)
        self.workers = workers
        self.pool = (multiprocessing.get_context("spawn").Pool(workers, initializer=_worker_init)
                     if workers > 1 else None)

    def run(self, batches: Iterable[list]) -> Iterator:
        if self.pool is None:
            return map(self.job, batches)
        return _ordered(self.pool, batches, self.job, 2 * self.workers)

    def close(self, terminate: bool = False) -> None:
        if self.pool is not None:
            self.pool.terminate() if terminate else self.pool.close()
            self.pool.join()


def _batches(records: Iterator, size: int) -> Iterator[list]:
    while True:
        batch = list(itertools.islice(records, size))
        if not batch:
            return
        yield batch


# -- the command -----------------------------------------------------------------------------

def _skip(records: Iterator, output) -> Iterator:
    """Drop the records whose results the output already holds, checking it belongs to these inputs."""
    if not output.done:
        return records
    last, seen = None, 0
    for seen, last in enumerate(itertools.islice(records, output.done), 1):
        pass
    if seen < output.done:
        raise Failure(f"{output.path} already holds {output.done} results but the inputs hold only {seen} "
                      "records; give the same inputs in the same order, or start afresh.")
    try:
        expected = answers.record_id(last, last.document())
    except RequestError:
        expected = last.line
    if expected != output.last_id:
        raise Failure(f"{output.path} does not continue these inputs: its result {output.done} has id "
                      f"{output.last_id!r}, but record {output.done} of the inputs ({last.file} line "
                      f"{last.line}) has id {expected!r}. Give the same inputs in the same order, or start afresh.")
    return records


def _progress(args, total: int | None, done: int):
    from tqdm import tqdm

    disable = args.quiet or not sys.stderr.isatty()
    return tqdm(total=total, initial=done, unit="doc", file=sys.stderr, disable=disable, dynamic_ncols=True,
                smoothing=0.1)


def _on_sigterm(signum, frame):
    raise Stopped(EXIT_TERMINATED)


def run(args: argparse.Namespace) -> int:
    try:
        formats = [inputs.input_format(path, args.input_format) for path in args.inputs]
        if ("parquet" in formats or str(args.output).endswith(".parquet")) and not importlib.util.find_spec("pyarrow"):
            raise Failure("Parquet input or output needs pyarrow, which is not installed: "
                          "pip install -e '.[batch]' (JSON Lines and CSV need nothing more).")
        for path, fmt in zip(args.inputs, formats):
            inputs.check(path, fmt)
    except inputs.InputError as error:
        raise Failure(str(error)) from None
    if args.inputs.count(inputs.STDIN) > 1:
        raise Failure("standard input (-) can be read once only.")
    try:
        version_dir = resolve_version(args.model_dir)
        verify(version_dir)  # hash and library versions, before any worker unpickles it
    except ArtifactError as error:
        raise Failure(str(error)) from None
    try:
        output = outputs.open_output(args.output, args.resume)
    except outputs.OutputError as error:
        raise Failure(str(error)) from None

    parquet = isinstance(output, outputs.ParquetOutput)
    options = request_options(args)
    records = itertools.chain.from_iterable(inputs.read(p, f) for p, f in zip(args.inputs, formats))
    started = time.perf_counter()
    analysed = rejected = 0
    progress = None
    engine = None
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    status = None
    try:
        records = _skip(records, output)
        show = not args.quiet and sys.stderr.isatty()
        total = None
        if show:
            counts = [inputs.count(p, f) for p, f in zip(args.inputs, formats)]
            total = None if None in counts else sum(counts)
        engine = Engine(version_dir, options, args.workers, parquet)
        results = engine.run(_batches(records, args.batch_size))
        progress = _progress(args, total, output.done)
        for lines, table, refused in results:
            output.append(lines, table)
            analysed += len(lines) - refused
            rejected += refused
            progress.update(len(lines))
    except KeyboardInterrupt:
        status = EXIT_INTERRUPTED
    except Stopped as stop:
        status = stop.status
    except ArtifactError as error:  # raised in a worker loading the model
        status = EXIT_USAGE
        raise Failure(str(error)) from None
    except OSError as error:  # an input that became unreadable, a full disk ...
        status = EXIT_USAGE
        raise Failure(f"{error}; the results written so far are kept, finish with --resume.") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        if engine is not None:
            engine.close(terminate=status is not None)
        if progress is not None:
            progress.close()
        output.close()
    seconds = time.perf_counter() - started
    done = analysed + rejected
    line = (f"{PROG}: {analysed} analysed, {rejected} rejected, {seconds:.1f} s, "
            f"{done / seconds if seconds else 0:.1f} documents/s")
    if output.done:
        line += f" (after {output.done} already in the output, {output.rejected} of them rejected)"
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    line += f"; peak RSS {self_kb / 1024:.0f} MB" + (f", largest worker {child_kb / 1024:.0f} MB" if args.workers > 1 else "")
    if status is not None:
        print(f"{line}; interrupted: rerun with --resume to finish {args.output}", file=sys.stderr)
        return status
    print(line, file=sys.stderr)
    return EXIT_REJECTED if rejected + output.rejected else EXIT_OK


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except Failure as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())

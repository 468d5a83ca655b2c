"""Promotion gate and rollback for a model registry (see newsbrief.artifacts for its layout).

    python -m training.promote --models DIR --candidate VERSION|PATH --data FILE [FILE ...]
                               [--tolerance 0.01] [--force]
    python -m training.promote --models DIR --rollback previous|VERSION
    python -m training.promote --models DIR --list

Promotion scores the candidate and the current model on the same held-out labelled data (validated
like a training corpus), each with its own thresholds, and moves CURRENT to the candidate only if
its macro-F1 and every label's F1 are at least the current model's minus the tolerance (or with
--force, which may also go without --data). The candidate is a version in DIR, or the path of a
version directory trained elsewhere (`training.train --output /tmp/models`): it is verified and
copied into DIR first. Held-out data that overlaps the candidate's training corpus (the same file,
the same articles by id or text) is refused unless --force: its figures would be flattering.

Rollback goes back along the promotion history: `previous` is the version that was current before
the current one was promoted (twice goes back two steps, it does not flip between two versions);
`--rollback VERSION` goes back to an earlier version on that path. Making any other version
current is a promotion (`--candidate VERSION`, through the gate or with --force).

Every decision is appended to DIR/history.jsonl. Exit status: 0 promoted / rolled back / nothing
to do, 1 refused, 2 usage error (bad arguments, unknown version, invalid data).
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from newsbrief import artifacts
from newsbrief.errors import ArtifactError, CorpusError
from training.corpus import FINGERPRINT_FILE, corpus_sha256, file_sha256, fingerprint, load_corpus

PROMOTED, REFUSED, USAGE = 0, 1, 2


class UsageError(Exception):
    """Arguments that name nothing usable (exit 2)."""


@dataclass
class Scores:
    """Per-label precision/recall/F1/support on one data set, and their macro-F1."""

    labels: tuple[str, ...]
    precision: dict[str, float]
    recall: dict[str, float]
    f1: dict[str, float]
    support: dict[str, int]

    @property
    def macro_f1(self) -> float:
        return float(np.mean([self.f1[label] for label in self.labels]))

    def as_dict(self) -> dict:
        return {"macro_f1": round(self.macro_f1, 4),
                "per_label": {label: {"precision": round(self.precision[label], 4),
                                      "recall": round(self.recall[label], 4),
                                      "f1": round(self.f1[label], 4),
                                      "support": self.support[label]} for label in self.labels}}


def model_inputs(records) -> list[str]:
    """What the classifier sees for each record: the same function the service and training use."""
    from newsbrief.text import prepare
    from newsbrief.topics import classification_text

    return [classification_text(prepare(record.text, record.title)) for record in records]


def evaluate(model, records, texts=None) -> Scores:
    """Score `model` (a LoadedModel) on labelled records with its own thresholds."""
    texts = model_inputs(records) if texts is None else texts
    predicted = model.decide(model.scores(texts))
    precision, recall, f1, support = {}, {}, {}, {}
    for label in model.labels:
        truth = np.array([label in record.labels for record in records])
        guess = np.array([label in labels for labels in predicted])
        tp = int(np.sum(truth & guess))
        precision[label] = tp / guess.sum() if guess.sum() else 0.0
        recall[label] = tp / truth.sum() if truth.sum() else 0.0
        both = precision[label] + recall[label]
        f1[label] = 2 * precision[label] * recall[label] / both if both else 0.0
        support[label] = int(truth.sum())
    return Scores(tuple(model.labels), precision, recall, f1, support)


def gate(current: Scores, candidate: Scores, tolerance: float) -> list[str]:
    """Reasons to refuse the candidate (empty list = it is not worse than current)."""
    reasons = []
    if candidate.macro_f1 < current.macro_f1 - tolerance:
        reasons.append(f"macro-F1 {candidate.macro_f1:.3f} is below current {current.macro_f1:.3f} "
                       f"minus tolerance {tolerance}")
    for label in current.labels:
        if candidate.f1[label] < current.f1[label] - tolerance:
            reasons.append(f"{label} F1 {candidate.f1[label]:.3f} is below current {current.f1[label]:.3f} "
                           f"minus tolerance {tolerance}")
    return reasons


def table(current: Scores | None, candidate: Scores, names: tuple[str, str], tolerance: float) -> str:
    """Side-by-side precision/recall/F1 of current and candidate, with the F1 change per label."""
    header = f"{'label':<12} {'support':>7}  {'current P/R/F1':^20}  {'candidate P/R/F1':^20}  {'F1 change':>9}"
    lines = [f"current:   {names[0]}", f"candidate: {names[1]}", "", header, "-" * len(header)]

    def cells(scores, label):
        if scores is None:
            return f"{'-':^20}"
        return f"{scores.precision[label]:.3f} {scores.recall[label]:.3f} {scores.f1[label]:.3f}".center(20)

    for label in candidate.labels:
        change, verdict = "", ""
        if current is not None:
            delta = candidate.f1[label] - current.f1[label]
            change = f"{delta:+.3f}"
            verdict = "ok" if delta >= -tolerance else "WORSE"
        lines.append(f"{label:<12} {candidate.support[label]:>7}  {cells(current, label)}  "
                     f"{cells(candidate, label)}  {change:>9}  {verdict}")
    lines.append("-" * len(header))
    if current is not None:
        delta = candidate.macro_f1 - current.macro_f1
        lines.append(f"{'macro-F1':<12} {'':>7}  {current.macro_f1:^20.3f}  {candidate.macro_f1:^20.3f}  "
                     f"{delta:>+9.3f}  {'ok' if delta >= -tolerance else 'WORSE'}")
    else:
        lines.append(f"{'macro-F1':<12} {'':>7}  {'-':^20}  {candidate.macro_f1:^20.3f}")
    return "\n".join(lines)


@contextmanager
def registry_lock(root: Path):
    """Serialise pointer changes between concurrent promote/rollback commands."""
    fd = os.open(root, os.O_RDONLY)  # lock the directory itself: no lock file to clutter the registry
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _registry(path: str) -> Path:
    root = Path(path)
    if not root.is_dir():
        raise UsageError(f"--models {root}: no such directory; give the model registry (e.g. models/).")
    if not artifacts.list_versions(root):
        raise UsageError(f"--models {root}: holds no model versions; train one with "
                         f"python -m training.train --output {root}")
    return root


def _version(root: Path, name: str) -> Path:
    if name not in artifacts.list_versions(root):
        known = ", ".join(artifacts.list_versions(root))
        raise UsageError(f"{name!r} is not a version in {root}; versions there: {known}")
    return root / name


def promote(root: Path, candidate_name: str, data: list[str] | None, tolerance: float, force: bool,
            min_per_label: int = 1) -> int:
    candidate_name = _candidate_name(Path(root), candidate_name)
    root = _registry(str(root))
    candidate_dir = _version(root, candidate_name)
    current_name = artifacts.current_version(root)
    if current_name == candidate_name:
        print(f"{candidate_name} is already the current version; nothing to do.")
        return PROMOTED
    try:
        candidate = artifacts.load_model(candidate_dir)
    except ArtifactError as error:
        print(f"Refused: the candidate {candidate_name} cannot be loaded safely: {error}", file=sys.stderr)
        _log(root, "refused", current_name, candidate_name, force, tolerance, data, reasons=[str(error)])
        return REFUSED
    if not data:  # --force without held-out data: nothing to compare
        return _move_pointer(root, current_name, candidate_name, force, tolerance, None, None, None,
                             ["promoted with --force and no held-out data"])
    current, current_problem = None, None
    if current_name is not None:
        try:
            current = artifacts.load_model(root / current_name)
        except ArtifactError as error:
            current_problem = f"the current model {current_name} cannot be loaded ({error})"
        else:
            if current.labels != candidate.labels:
                current_problem = (f"the current model's labels {list(current.labels)} differ from the "
                                   f"candidate's {list(candidate.labels)}, so their scores are not comparable")
    try:
        records = load_corpus(data, labels=candidate.labels, min_per_label=min_per_label)
    except CorpusError as error:
        raise UsageError(f"the held-out data has {len(error.problems)} problem(s):\n  "
                         + "\n  ".join(error.problems)) from None
    data_hash = corpus_sha256(records)
    overlap = training_overlap(root / candidate_name, candidate.metadata, records, data)
    if overlap:
        message = (f"the held-out data overlaps the corpus {candidate_name} was trained on: "
                   + "; ".join(overlap) + ". Its figures would be flattering")
        if not force:
            print(f"Refused: {message}. Hold out articles the candidate never saw (python -m training.corpus "
                  "FILE --split 0.2 --train-out train.jsonl --held-out-out held_out.jsonl, then train on "
                  "train.jsonl), or use --force.", file=sys.stderr)
            _log(root, "refused", current_name, candidate_name, force, tolerance, data, data_hash,
                 reasons=[message])
            return REFUSED
        print(f"WARNING: {message}; going on because of --force.", file=sys.stderr)
    if current is not None and not current_problem:
        if not (root / current_name / FINGERPRINT_FILE).is_file():
            print(f"note: the current model {current_name} does not record the articles it was trained on, so "
                  "only a whole training file or corpus can be recognised in the held-out data; if it was "
                  "trained on these articles, its figures are flattering.", file=sys.stderr)
        for problem in training_overlap(root / current_name, current.metadata, records, data):
            print(f"warning: the held-out data overlaps the corpus the current model {current_name} was "
                  f"trained on ({problem}); its figures will be flattering.", file=sys.stderr)
    texts = model_inputs(records)
    candidate_scores = evaluate(candidate, records, texts)
    current_scores = evaluate(current, records, texts) if current is not None and not current_problem else None
    print(f"Held-out data: {', '.join(data)} ({len(records)} articles, sha256 {data_hash[:12]})")
    print(table(current_scores, candidate_scores, (current_name or "(none)", candidate_name), tolerance))

    if current_problem:
        reasons = [current_problem + "; compare by hand and use --force to promote anyway"]
    elif current_scores is not None:
        reasons = gate(current_scores, candidate_scores, tolerance)
    else:
        reasons = []  # empty registry pointer: nothing to compare against
    metrics = {"candidate": candidate_scores.as_dict(),
               "current": current_scores.as_dict() if current_scores else None}
    if reasons and not force:
        print("\nRefused: " + "; ".join(reasons) + f". CURRENT stays {current_name}. "
              "Use --force to promote anyway.", file=sys.stderr)
        _log(root, "refused", current_name, candidate_name, force, tolerance, data, data_hash, metrics, reasons)
        return REFUSED
    return _move_pointer(root, current_name, candidate_name, force, tolerance, data, data_hash, metrics, reasons)


def _move_pointer(root, current_name, candidate_name, force, tolerance, data, data_hash, metrics, reasons) -> int:
    with registry_lock(root):
        now = artifacts.current_version(root)
        if now != current_name:
            print(f"Refused: CURRENT changed from {current_name} to {now} during the evaluation; run again.",
                  file=sys.stderr)
            return REFUSED
        artifacts.set_current(root, candidate_name)
        _log(root, "promote", current_name, candidate_name, force, tolerance, data, data_hash, metrics, reasons)
    forced = f" (forced past: {'; '.join(reasons)})" if reasons else ""
    print(f"\nPromoted {candidate_name} (was {current_name}){forced}. Running services switch on SIGHUP "
          "(python -m service reload) or POST /admin/reload.")
    return PROMOTED


def _candidate_name(root: Path, candidate: str) -> str:
    """The registry's name for --candidate: a version name as given, or a version directory's path
    (as training.train prints it): one inside the registry by its name, one elsewhere copied in."""
    if os.sep not in candidate and not candidate.startswith("."):
        return candidate
    path = Path(candidate)
    if not (path / artifacts.METADATA).is_file():
        raise UsageError(f"--candidate {candidate}: not a model version directory (no {artifacts.METADATA}); "
                         "give a version name or the path training.train printed")
    if path.resolve().parent == root.resolve():
        return path.name
    return import_version(root, path)


def import_version(root: Path, source: Path) -> str:
    """Copy a version directory trained elsewhere into the registry (verified first, written under a
    hidden name and renamed into place); return its name. The same version already there is reused."""
    try:
        meta = artifacts.verify(source)
    except ArtifactError as error:
        raise UsageError(f"--candidate {source}: {error}") from None
    name = source.resolve().name
    target = root / name
    if target.exists():
        if artifacts.read_metadata(target) != meta:
            raise UsageError(f"--candidate {source}: {root} already holds a different version named {name}")
        return name
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-import-", dir=root))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        staging.chmod(0o755)
        for path in staging.rglob("*"):
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    print(f"Copied {source} into {root} as {name}.")
    return name


def training_overlap(version_dir: Path, metadata: dict, records, data_paths) -> list[str]:
    """How held-out `records` (read from `data_paths`) overlap the corpus a version was trained on:
    the same corpus, one of its files, or articles with the same id or text (from the version's
    training_records.json, written by training.train)."""
    corpus = metadata.get("corpus") if isinstance(metadata.get("corpus"), dict) else {}
    found = []
    if (metadata.get("corpus_sha256") or corpus.get("sha256")) == corpus_sha256(records):
        found.append("it is the very corpus")
    trained_files = corpus.get("files") if isinstance(corpus.get("files"), dict) else {}
    by_hash = {digest: name for name, digest in trained_files.items()}
    for path in data_paths:
        digest = file_sha256(path)
        if digest in by_hash:
            found.append(f"{path} is the training file {by_hash[digest]}")
    try:
        trained = json.loads((version_dir / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return found
    held_out = fingerprint(records)
    same_ids = sorted(set(held_out["ids"]) & set(trained.get("ids", ())))
    same_texts = set(held_out["texts"]) & set(trained.get("texts", ()))
    if same_ids or same_texts:
        shown = ", ".join(same_ids[:5]) + (", ..." if len(same_ids) > 5 else "")
        found.append(f"{len(same_ids)} of {len(records)} held-out articles have a training id"
                     + (f" ({shown})" if same_ids else "") + f", {len(same_texts)} a training text")
    return found


def rollback(root: Path, target: str) -> int:
    root = _registry(str(root))
    current_name = artifacts.current_version(root)
    chain = promotion_chain(root)
    if target == "previous":
        if len(chain) < 2:
            raise UsageError(f"the history in {root} records no version before {current_name}; there is "
                             "nothing to roll back to (see --list; make a version current with --candidate)")
        target = chain[-2]
    version_dir = _version(root, target)
    if target == current_name:
        print(f"{target} is already the current version; nothing to do.")
        return PROMOTED
    if target not in chain[:-1]:
        behind = ", ".join(reversed(chain[:-1])) or "none"
        raise UsageError(f"{target} was never current before {current_name}, so going to it is not a rollback "
                         f"(versions behind the current one, latest first: {behind}). Making it current is a "
                         f"promotion: --candidate {target} --data HELD_OUT (or --force)")
    try:
        artifacts.verify(version_dir)
    except ArtifactError as error:
        print(f"Refused: {target} cannot be loaded safely: {error}", file=sys.stderr)
        _log(root, "refused", current_name, target, False, None, None, reasons=[str(error)])
        return REFUSED
    with registry_lock(root):
        artifacts.set_current(root, target)
        _log(root, "rollback", current_name, target, False, None, None)
    print(f"Rolled back: CURRENT is {target} (was {current_name}). Running services switch on SIGHUP "
          "(python -m service reload) or POST /admin/reload.")
    return PROMOTED


def promotion_chain(root: Path) -> list[str]:
    """The versions that were current, oldest first, ending with the current one, as the history
    tells: a promotion adds a step, a rollback goes back to an earlier step and forgets the later
    ones (so `previous` walks back instead of flipping between two versions)."""
    chain: list[str] = []
    for entry in artifacts.read_history(root):
        action, to = entry.get("action"), entry.get("to")
        if not isinstance(to, str):
            continue
        if action in ("initial", "promote"):
            if not chain or chain[-1] != to:
                chain.append(to)
        elif action == "rollback":
            _back_to(chain, to)
    current = artifacts.current_version(root)
    if current is not None and (not chain or chain[-1] != current):  # the pointer was moved by hand
        if current in chain:
            _back_to(chain, current)
        else:
            chain.append(current)
    return chain


def _back_to(chain: list[str], version: str) -> None:
    if version in chain:
        del chain[len(chain) - chain[::-1].index(version):]
    else:  # a rollback to a version never promoted (older tools allowed it): it replaces the last step
        chain[-1:] = [version]


def _log(root, action, before, after, force, tolerance, data, data_hash=None, metrics=None, reasons=None):
    entry = {"action": action, "from": before, "to": after}
    if action != "rollback":
        entry.update(forced=force, tolerance=tolerance)
    if data:
        entry.update(data=[str(p) for p in data], data_sha256=data_hash)
    if metrics:
        entry["metrics"] = metrics
    if reasons:
        entry["reasons"] = reasons
    artifacts.append_history(root, entry)


def list_registry(root: Path) -> int:
    root = _registry(str(root))
    current_name = artifacts.current_version(root)
    for name in artifacts.list_versions(root):
        try:
            meta = artifacts.read_metadata(root / name)
        except ArtifactError:
            meta = {}
        macro = _dig(meta, "evaluation", "cv", "macro_f1")
        macro = _dig(meta, "metrics", "macro_f1") if macro is None else macro
        figure = f"cv macro-F1 {macro:.3f}" if isinstance(macro, (int, float)) else ""
        marker = "*" if name == current_name else " "
        print(f"{marker} {name}  {meta.get('created_at', '?')}  {figure}".rstrip())
    return PROMOTED


def _dig(value, *keys):
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.promote",
                                     description="Promote a candidate model version, roll back, or list versions.")
    parser.add_argument("--models", required=True, metavar="DIR", help="the model registry (e.g. models/)")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--candidate", metavar="VERSION|PATH",
                        help="version to compare with the current one and promote: a version in DIR, or the "
                             "path of a version directory trained elsewhere (it is copied into DIR)")
    action.add_argument("--rollback", metavar="previous|VERSION",
                        help="go back along the promotion history: 'previous' = the version current before "
                             "this one was promoted; VERSION = an earlier version on that path")
    action.add_argument("--list", action="store_true", help="list versions (* = current)")
    parser.add_argument("--data", nargs="+", metavar="FILE",
                        help="held-out labelled articles (JSONL or CSV) the candidate was not trained on; "
                             "make them with python -m training.corpus FILE --split")
    parser.add_argument("--tolerance", type=float, default=0.01,
                        help="how much lower an F1 may be than the current one's (default: %(default)s)")
    parser.add_argument("--min-per-label", type=int, default=1,
                        help="fewest held-out examples each label needs (default: %(default)s)")
    parser.add_argument("--force", action="store_true",
                        help="promote even if the candidate is worse, the held-out data overlaps its training "
                             "corpus, or there is no --data")
    args = parser.parse_args(argv)
    if args.candidate and not args.data and not args.force:
        parser.error("--candidate needs --data FILE: held-out labelled articles to compare the models on "
                     "(make them with python -m training.corpus FILE --split; or --force to promote without)")
    if not 0 <= args.tolerance < 1:
        parser.error(f"--tolerance must be between 0 and 1, got {args.tolerance}")
    try:
        if args.list:
            return list_registry(Path(args.models))
        if args.rollback:
            return rollback(Path(args.models), args.rollback)
        return promote(Path(args.models), args.candidate, args.data, args.tolerance, args.force,
                       args.min_per_label)
    except UsageError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return USAGE
    except ArtifactError as error:
        print(f"Refused: {error}", file=sys.stderr)
        return REFUSED
    except OSError as error:  # disk full, read-only registry: CURRENT and history are written atomically
        print(f"{parser.prog}: error: cannot write to the registry {args.models}: {error}. CURRENT and "
              "history.jsonl are unchanged; free space or make the registry writable, then run again.",
              file=sys.stderr)
        return REFUSED


if __name__ == "__main__":
    sys.exit(main())

"""Promotion gate and rollback for a model registry (see newsbrief.artifacts for its layout).

    python -m training.promote --models DIR --candidate VERSION --data FILE [FILE ...]
                               [--tolerance 0.01] [--force]
    python -m training.promote --models DIR --rollback VERSION|previous
    python -m training.promote --models DIR --list

Promotion scores the candidate and the current model on the same held-out labelled data (validated
like a training corpus), each with its own thresholds, and moves CURRENT to the candidate only if
its macro-F1 and every label's F1 are at least the current model's minus the tolerance (or with
--force). Every decision is appended to DIR/history.jsonl. Exit status: 0 promoted / rolled back /
nothing to do, 1 refused, 2 usage error (bad arguments, unknown version, invalid data).
"""
from __future__ import annotations

import argparse
import fcntl
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from newsbrief import artifacts
from newsbrief.errors import ArtifactError, CorpusError
from training.corpus import corpus_sha256, load_corpus

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


def promote(root: Path, candidate_name: str, data: list[str], tolerance: float, force: bool,
            min_per_label: int = 1) -> int:
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
    for model in filter(None, (candidate, current)):
        corpus = model.metadata.get("corpus")
        trained_on = model.metadata.get("corpus_sha256") or (corpus.get("sha256") if isinstance(corpus, dict) else None)
        if trained_on == data_hash:
            print(f"warning: the held-out data is the corpus {model.version} was trained on; "
                  "its figures will be flattering.", file=sys.stderr)
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
          "or POST /admin/reload.")
    return PROMOTED


def rollback(root: Path, target: str) -> int:
    root = _registry(str(root))
    current_name = artifacts.current_version(root)
    if target == "previous":
        target = _previous(root, current_name)
    version_dir = _version(root, target)
    if target == current_name:
        print(f"{target} is already the current version; nothing to do.")
        return PROMOTED
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
          "or POST /admin/reload.")
    return PROMOTED


def _previous(root: Path, current_name: str | None) -> str:
    """The version that was current before the latest change of the pointer to the current one."""
    for entry in reversed(artifacts.read_history(root)):
        if entry.get("action") in ("promote", "rollback") and entry.get("to") == current_name and entry.get("from"):
            return entry["from"]
    raise UsageError(f"the history in {root} records no version before {current_name}; name one "
                     "(see --list)")


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
    action.add_argument("--candidate", metavar="VERSION", help="version to compare with the current one and promote")
    action.add_argument("--rollback", metavar="VERSION", help="make this earlier version current ('previous' = "
                                                               "the one before the current)")
    action.add_argument("--list", action="store_true", help="list versions (* = current)")
    parser.add_argument("--data", nargs="+", metavar="FILE", help="held-out labelled articles (JSONL or CSV)")
    parser.add_argument("--tolerance", type=float, default=0.01,
                        help="how much lower an F1 may be than the current one's (default: %(default)s)")
    parser.add_argument("--min-per-label", type=int, default=1,
                        help="fewest held-out examples each label needs (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="promote even if the candidate is worse")
    args = parser.parse_args(argv)
    if args.candidate and not args.data:
        parser.error("--candidate needs --data FILE: held-out labelled articles to compare the models on")
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

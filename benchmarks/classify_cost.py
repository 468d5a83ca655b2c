"""Cost of topic classification per article: two model versions on the same articles, one run.

    python -m benchmarks.classify_cost --baseline models/topics-20261130T232109Z-ebdc1fe7
    python -m benchmarks.classify_cost --baseline OLD_VERSION_DIR --candidate NEW_VERSION_DIR --articles 300

Each article is prepared once (cleanup + classification text, as the service does); then the two
models score the same texts, one article per call (LoadedModel.scores, what a single request
costs) and in batches of 64, alternating baseline and candidate round by round so that both see
the same machine load. The table shows the best round (least disturbed on a shared machine) and
the median round, as milliseconds per article of wall and CPU time, and the difference.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from benchmarks.benchmark import DEFAULT_INPUT, load_articles, median_words
from newsbrief.artifacts import load_model
from newsbrief.errors import EmptyText
from newsbrief.text import prepare
from newsbrief.topics import classification_text

ROOT = Path(__file__).resolve().parent.parent
BATCH = 64


def prepared_texts(articles) -> list[str]:
    texts = []
    for article in articles:
        try:
            texts.append(classification_text(prepare(article["text"])))
        except EmptyText:
            continue
    return texts


def one_round(model, texts, batch: int) -> tuple[float, float]:
    """(wall ms, CPU ms) per article for scoring every text, `batch` texts per call."""
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), batch):
        model.scores(texts[start:start + batch])
    n = len(texts)
    return (time.perf_counter() - wall) * 1000 / n, (time.process_time() - cpu) * 1000 / n


def measure(models: dict, texts, rounds: int) -> dict:
    results = {}
    for batch in (1, BATCH):
        for model in models.values():          # warm-up
            one_round(model, texts[:20], batch)
        runs = {name: [] for name in models}
        for _ in range(rounds):
            for name, model in models.items():
                runs[name].append(one_round(model, texts, batch))
        results[batch] = {name: {"best_wall": min(w for w, _ in r), "median_wall": statistics.median(w for w, _ in r),
                                 "best_cpu": min(c for _, c in r), "median_cpu": statistics.median(c for _, c in r)}
                          for name, r in runs.items()}
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.classify_cost", description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", required=True, help="model version directory (or registry) to compare with")
    parser.add_argument("--candidate", default=str(ROOT / "models"),
                        help="model version directory or registry (default: the shipped CURRENT)")
    parser.add_argument("--input", default=str(DEFAULT_INPUT), help="JSON Lines with a 'text' field")
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    models = {"baseline": load_model(args.baseline), "candidate": load_model(args.candidate)}
    articles = load_articles(Path(args.input), args.articles)
    texts = prepared_texts(articles)
    print(f"{len(texts)} articles (median {median_words(articles):.0f} words) from {args.input}; "
          f"{args.rounds} rounds, alternating models")
    for name, model in models.items():
        print(f"  {name}: {model.version} ({len(model.estimator.feature_names_)} terms)")
    results = measure(models, texts, args.rounds)
    print("\nms per article     | baseline best / median | candidate best / median | difference (best)")
    for batch, by_model in results.items():
        for kind in ("wall", "cpu"):
            b, c = by_model["baseline"], by_model["candidate"]
            print(f"{kind:4} batch of {batch:<3}  | {b['best_' + kind]:8.3f} / {b['median_' + kind]:7.3f}    | "
                  f"{c['best_' + kind]:8.3f} / {c['median_' + kind]:7.3f}     | {c['best_' + kind] - b['best_' + kind]:+.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark command's pieces, and one smoke run of the whole command on 5 articles.

Nothing here asserts a speed: the benchmark prints figures, these tests only show that it runs
and that what it prints is computed from real runs.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import benchmark
from benchmarks._stock_sumy import OfflinePunktTokenizer, StockLexRank

ROOT = Path(__file__).resolve().parent.parent

ARTICLE = (
    "Foreign ministers met in Geneva on Monday to discuss a ceasefire. "
    "Dr. Smith, the U.N. envoy, said the talks were constructive. "
    "Fighting continued in the north, where shelling killed six people.\n"
    "The ministers will meet again next week. A draft agreement is expected by Friday. "
    "Aid agencies asked for safe corridors into the besieged towns."
)


def _write_corpus(path: Path, count: int) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(count):
            text = f"Article number {i} reports talks in city {i}. Officials met again on day {i}. " * 3
            handle.write(json.dumps({"id": f"a{i}", "text": text}) + "\n")
        handle.write(json.dumps({"id": "blank", "text": "   "}) + "\n")
        handle.write("\n")
    return path


def test_offline_tokenizer_splits_sentences_and_words_without_nltk_data():
    tokenizer = OfflinePunktTokenizer()
    sentences = tokenizer.to_sentences(ARTICLE.split("\n")[0])
    assert sentences[0] == "Foreign ministers met in Geneva on Monday to discuss a ceasefire."
    assert len(sentences) >= 2
    words = tokenizer.to_words("Dr. Smith's 3 envoys met U.N. staff, again.")
    assert "Smith" in words and "envoys" in words and "again" in words
    assert "3" not in words and "," not in words  # sumy keeps words that start with a letter only


def test_stock_lexrank_returns_three_sentences_of_the_article():
    chosen = StockLexRank()(ARTICLE)
    assert len(chosen) == 3
    assert all(sentence in ARTICLE for sentence in chosen)


def test_article_sample_is_seeded_in_file_order_and_skips_blank_texts(tmp_path):
    corpus = _write_corpus(tmp_path / "corpus.jsonl", 20)
    first = benchmark.load_articles(corpus, 5, seed=1)
    assert len(first) == 5
    assert first == benchmark.load_articles(corpus, 5, seed=1)
    ids = [int(a["id"][1:]) for a in first]
    assert ids == sorted(ids)
    everything = benchmark.load_articles(corpus, 1000)
    assert [a["id"] for a in everything] == [f"a{i}" for i in range(20)]


def test_batches_respect_the_limit_keep_order_and_balance_the_workers():
    texts = [str(i) for i in range(300)]
    batches = benchmark.batches_of(texts, 64, 2)
    assert all(len(b) <= 64 for b in batches)
    assert len(batches) % 2 == 0
    assert [t for b in batches for t in b] == texts
    assert max(map(len, batches)) - min(map(len, batches)) <= 1
    assert benchmark.batches_of(texts[:5], 64, 2) == [texts[:3], texts[3:5]]
    assert [len(b) for b in benchmark.batches_of(texts[:5], 64, 4)] == [2, 1, 1, 1]
    assert [len(b) for b in benchmark.batches_of(texts[:130], 64, 2)] == [33, 33, 32, 32]


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert benchmark.percentile(values, 50) == 50.0
    assert benchmark.percentile(values, 99) == 99.0
    assert benchmark.percentile([3.0], 99) == 3.0


def test_json_figures_replace_the_file_atomically(tmp_path):
    target = tmp_path / "figures.json"
    target.write_text("old")
    benchmark.write_json(target, {"results": [1, 2]})
    assert json.loads(target.read_text()) == {"results": [1, 2]}
    assert [p.name for p in tmp_path.iterdir()] == ["figures.json"]


@pytest.mark.slow
def test_a_small_run_measures_all_five_setups_and_prints_the_table(tmp_path, capsys):
    corpus = _write_corpus(tmp_path / "corpus.jsonl", 8)
    out = tmp_path / "figures.json"
    code = benchmark.main(["--articles", "5", "--repeats", "1", "--input", str(corpus),
                           "--model-dir", str(ROOT / "models"), "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    figures = json.loads(out.read_text())
    assert figures["run"]["articles"] == 5
    names = [row["name"] for row in figures["results"]]
    assert len(names) == 5 and names[0].startswith("stock sumy") and names[4].startswith("batch command")
    for row in figures["results"]:
        assert row["articles_per_second"] > 0
        assert f"| {row['name']} | {row['articles_per_second']:.1f} |" in printed
    assert figures["results"][0]["ratio_vs_stock_sumy"] == 1.0
    single = figures["results"][3]
    assert 0 < single["p50_ms"] <= single["p99_ms"]
    assert len(single["worker_peak_kb"]) == 2 and all(kb > 0 for kb in single["worker_peak_kb"])
    command = figures["results"][4]
    assert command["rejected"] == 0 and len(command["worker_peak_kb"]) == 2
    assert figures["machine"]["nproc"] >= 1 and "sumy" in figures["machine"]["versions"]

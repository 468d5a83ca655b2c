"""training.corpus: every problem of a labelled corpus is named with its file and line, at once."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from newsbrief.errors import CorpusError
from training.corpus import Record, corpus_sha256, load_corpus, story_group

ROOT = Path(__file__).resolve().parents[1]
LABELS = ("conflict", "diplomacy", "alliances")


def article(i, labels, **extra):
    return {"id": f"t-{i}", "title": f"Title {i}", "text": f"Article number {i} about something.",
            "labels": labels, "source": "test", **extra}


def balanced(n=4):
    """n articles per label plus n with none, so that the label counts pass with min_per_label=n."""
    rows = [article(i, [LABELS[i % 4]] if i % 4 < 3 else []) for i in range(4 * n)]
    return rows


def write_jsonl(path, rows):
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows),
                    encoding="utf-8")
    return path


def problems_of(*args, **kwargs):
    with pytest.raises(CorpusError) as caught:
        load_corpus(*args, **kwargs)
    return caught.value.problems


def test_a_valid_jsonl_corpus_loads_as_records_with_file_line_and_labels_in_configured_order(tmp_path):
    rows = balanced(2)
    rows[0]["labels"] = ["alliances", "conflict"]
    path = write_jsonl(tmp_path / "c.jsonl", rows)
    records = load_corpus([path], min_per_label=2)
    assert len(records) == len(rows)
    first = records[0]
    assert isinstance(first, Record)
    assert (first.id, first.text, first.file, first.line) == ("t-0", rows[0]["text"], str(path), 1)
    assert first.labels == ("conflict", "alliances")
    assert first.title == "Title 0" and first.source == "test"


def test_broken_line_3_and_unknown_label_on_line_5_are_both_reported_with_their_lines(tmp_path):
    rows = balanced(2)
    rows[2] = '{"id": "broken", "text": "half a line'
    rows[4]["labels"] = ["friendship"]
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    problems = problems_of([path], min_per_label=1)
    assert any(p.startswith(f"{path}:3: not valid JSON") for p in problems)
    friendship = [p for p in problems if p.startswith(f"{path}:5:")]
    assert len(friendship) == 1 and "'friendship'" in friendship[0]
    assert all(label in friendship[0] for label in LABELS)  # the allowed ones are listed


@pytest.mark.parametrize("field, value, expected", [
    ("text", None, "'text' must be a string"),
    ("text", "   \n ", "empty 'text'"),
    ("text", 42, "'text' must be a string"),
    ("labels", "conflict", "'labels' must be a list"),
    ("labels", [3], "label 3 is not a string"),
    ("labels", ["Conflict"], "did you mean 'conflict'"),
    ("labels", ["conflict, diplomacy"], "separate labels with ';' or '|'"),
    ("id", ["x"], "'id' must be a string"),
])
def test_each_malformed_field_is_named_on_its_line(tmp_path, field, value, expected):
    rows = balanced(2)
    rows[1][field] = value
    path = write_jsonl(tmp_path / "c.jsonl", rows)
    problems = problems_of([path], min_per_label=1)
    assert [p for p in problems if p.startswith(f"{path}:2:")] and expected in " ".join(problems)


def test_missing_text_and_missing_labels_are_problems(tmp_path):
    rows = balanced(2)
    del rows[0]["text"]
    del rows[1]["labels"]
    path = write_jsonl(tmp_path / "c.jsonl", rows)
    problems = problems_of([path], min_per_label=1)
    assert f"{path}:1: missing 'text'" in problems
    assert any(p.startswith(f"{path}:2: missing 'labels'") for p in problems)


def test_a_line_that_is_json_but_not_an_object_is_reported(tmp_path):
    rows = balanced(2) + ['["a", "list"]']
    path = write_jsonl(tmp_path / "c.jsonl", rows)
    assert problems_of([path], min_per_label=1) == [f"{path}:{len(rows)}: expected a JSON object, found a list"]


def test_exact_duplicates_are_dropped_with_a_warning_naming_both_lines(tmp_path):
    rows = balanced(2)
    copy = dict(rows[0], id="t-copy", text="  " + rows[0]["text"].upper() + "\n")
    path = write_jsonl(tmp_path / "c.jsonl", rows + [copy])
    corpus = load_corpus([path], min_per_label=2)
    assert len(corpus) == len(rows)
    assert corpus.warnings == [f"{path}:{len(rows) + 1}: duplicate of {path}:1 (same text), dropped"]


def test_duplicates_with_different_labels_are_an_error(tmp_path):
    rows = balanced(2)
    rows.append(dict(rows[0], id="t-copy", labels=["diplomacy"]))
    path = write_jsonl(tmp_path / "c.jsonl", rows)
    problems = problems_of([path], min_per_label=1)
    assert any(p.startswith(f"{path}:{len(rows)}: same text as {path}:1") for p in problems)


def test_one_id_with_two_different_texts_is_an_error_across_files(tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", balanced(2))
    second = write_jsonl(tmp_path / "b.jsonl", [article(0, [], text="A different text entirely.")])
    problems = problems_of([first, second], min_per_label=1)
    assert problems == [f"{second}:1: id 't-0' already used for a different text at {first}:1; ids must be unique"]


def test_a_label_with_too_few_examples_is_named_with_its_count(tmp_path):
    rows = balanced(5)
    rows = [r for r in rows if r["labels"] != ["alliances"]][:-1] + [article(99, ["alliances"])]
    path = write_jsonl(tmp_path / "c.jsonl", rows)
    problems = problems_of([path], min_per_label=5)
    assert len(problems) == 1
    assert "label 'alliances' has 1 example(s), fewer than the 5 needed" in problems[0]


def test_the_label_set_is_configurable(tmp_path):
    rows = [article(i, [["sport", "business"][i % 2]]) for i in range(6)] + [article(9, [])]
    path = write_jsonl(tmp_path / "c.jsonl", rows)
    corpus = load_corpus([path], labels=("sport", "business"), min_per_label=3)
    assert {r.labels for r in corpus} == {("sport",), ("business",), ()}
    problems = problems_of([path], min_per_label=1)  # the default label set rejects them
    assert sum("unknown label 'sport'" in p for p in problems) == 3


def test_csv_accepts_json_lists_semicolons_pipes_and_empty_cells_and_numbers_physical_lines(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        'id,text,labels\n'
        '1,"Talks, then a truce",conflict;diplomacy\n'
        '2,"A story\nover two lines","[""alliances""]"\n'
        '3,Third,alliances | conflict\n'
        '4,Fourth,\n',
        encoding="utf-8")
    corpus = load_corpus([path], min_per_label=1)
    assert [(r.id, r.labels, r.line) for r in corpus] == [
        ("1", ("conflict", "diplomacy"), 2),
        ("2", ("alliances",), 3),
        ("3", ("conflict", "alliances"), 5),
        ("4", (), 6),
    ]


def test_csv_problems_carry_physical_line_numbers(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('text,labels\n"multi\nline",conflict\nok,friendship\nshort\nbad,"[oops"\nnone,\n', encoding="utf-8")
    problems = problems_of([path], min_per_label=0)
    assert problems == [
        f"{path}:4: unknown label 'friendship'; allowed labels: {list(LABELS)}",
        f"{path}:5: 1 cells but the header has 2 columns; quote cells that contain commas or line breaks",
        f"{path}:6: labels cell '[oops' is not a valid JSON list",
    ]


def test_csv_without_text_or_labels_columns_is_refused(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("body,topics\nx,conflict\n", encoding="utf-8")
    [problem] = problems_of([path], min_per_label=0)
    assert problem.startswith(f"{path}:1: CSV header lacks 'text', 'labels'")


def test_missing_files_and_empty_files_are_problems(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    problems = problems_of([tmp_path / "nope.jsonl", empty], min_per_label=0)
    assert problems[0].startswith(f"{tmp_path / 'nope.jsonl'}: cannot read the file")
    assert problems[1] == f"{empty}: no records"


@pytest.mark.parametrize("record_id, group", [
    ("reut-REUT-2020-02-25-idINKCN20J0F5-2b4ff4", "reuters:KCN20J0F5"),
    ("reut-REUT-2020-02-25-idINKCN20J0F5-fda7b2", "reuters:KCN20J0F5"),
    ("reut-REUT-2020-02-25-idUKKCN20J13L", "reuters:KCN20J13L"),
    ("reut-REUT-2020-02-25-idUSKCN20J13L", "reuters:KCN20J13L"),
    ("reut-REUT-2020-02-25-id-202df5", "reut-REUT-2020-02-25-id-202df5"),
    ("cfb-abc_2001_2021_000-1", "cfb-abc_2001_2021_000-1"),
    ("fakes-1914947530", "fakes-1914947530"),
])
def test_versions_and_editions_of_one_reuters_story_share_a_group_and_other_ids_stand_alone(record_id, group):
    assert story_group(record_id) == group


def test_a_group_field_overrides_the_id_rule(tmp_path):
    rows = balanced(1)
    rows[0]["group"] = "story-7"
    rows[1]["group"] = "story-7"
    corpus = load_corpus([write_jsonl(tmp_path / "c.jsonl", rows)], min_per_label=1)
    assert corpus[0].group == corpus[1].group == "story-7"
    assert corpus[2].group == "t-2"


def test_corpus_hash_ignores_file_order_and_format_but_not_labels(tmp_path):
    rows = balanced(2)
    a = load_corpus([write_jsonl(tmp_path / "a.jsonl", rows)], min_per_label=2)
    b = load_corpus([write_jsonl(tmp_path / "b.jsonl", rows[::-1])], min_per_label=2)
    assert corpus_sha256(a) == corpus_sha256(b)
    rows[0]["labels"] = ["diplomacy"]
    c = load_corpus([write_jsonl(tmp_path / "c.jsonl", rows)], min_per_label=1)
    assert corpus_sha256(c) != corpus_sha256(a)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "training.corpus", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_cli_lists_every_problem_exits_1_without_traceback_and_writes_nothing(tmp_path):
    rows = balanced(2)
    rows[2] = "{not json"
    rows[4]["labels"] = ["friendship"]
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    before = sorted(tmp_path.iterdir())
    result = run_cli(path, "--min-per-label", "1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert f"{path}:3:" in result.stderr and f"{path}:5: unknown label 'friendship'" in result.stderr
    assert sorted(tmp_path.iterdir()) == before


def test_cli_summarises_a_valid_corpus_per_label_and_source(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", balanced(3))
    result = run_cli(path, "--min-per-label", "3")
    assert result.returncode == 0, result.stderr
    assert "12 records" in result.stdout
    assert "conflict 3, diplomacy 3, alliances 3, none 3" in result.stdout
    assert "test" in result.stdout and "sha256" in result.stdout


def test_a_json_error_names_its_column_without_a_doubled_word(tmp_path):
    rows = balanced(2)
    rows[2] = '{"id": "broken", "text": "half a line'
    problems = problems_of([write_jsonl(tmp_path / "bad.jsonl", rows)], min_per_label=1)
    broken = next(p for p in problems if ":3:" in p)
    assert "Unterminated string starting at column 26" in broken and " at at " not in broken


def split_rows():
    """Story groups of one to three versions (Reuters ids), and synthetic records."""
    rows = []
    for i in range(60):
        labels = [LABELS[i % 3]] if i % 4 else []
        for version in range(1 + i % 3):
            rows.append({"id": f"reut-REUT-2020-02-25-idUSKCN20J{i:04d}-{version:06x}", "source": "wire",
                         "text": f"Story {i} version {version} about something.", "labels": labels})
    rows += [{"id": f"synth-{i}", "source": "synthetic", "text": f"Synthetic {i}.", "labels": ["alliances"]}
             for i in range(10)]
    return rows


def test_split_writes_disjoint_train_and_held_out_files_keeping_story_groups_whole(tmp_path, capsys):
    from training.corpus import main

    corpus = write_jsonl(tmp_path / "all.jsonl", split_rows())
    train, held = tmp_path / "train.jsonl", tmp_path / "held_out.jsonl"
    args = [str(corpus), "--min-per-label", "1", "--split", "0.3", "--train-out", str(train), "--held-out-out", str(held)]
    assert main(args) == 0
    assert f"to {held}" in capsys.readouterr().out
    train_records = load_corpus([train], min_per_label=1)
    held_records = load_corpus([held], min_per_label=1)
    assert len(train_records) + len(held_records) == len(split_rows())
    assert not {r.group for r in train_records} & {r.group for r in held_records}
    assert not {r.id for r in train_records} & {r.id for r in held_records}
    assert all(r.source != "synthetic" for r in held_records)
    assert 0.15 < len(held_records) / (len(split_rows()) - 10) < 0.45
    again = tmp_path / "again.jsonl"
    assert main(args[:-1] + [str(again)]) == 0
    assert again.read_bytes() == held.read_bytes()  # the same split every time


@pytest.mark.parametrize("args, message", [
    (["--split", "0.2"], "--split needs --train-out FILE and --held-out-out FILE"),
    (["--split", "1.5", "--train-out", "a", "--held-out-out", "b"], "--split must be a fraction"),
    (["--train-out", "a"], "go with --split"),
])
def test_split_arguments_that_cannot_work_are_usage_errors(tmp_path, capsys, args, message):
    from training.corpus import main

    corpus = write_jsonl(tmp_path / "all.jsonl", balanced(2))
    with pytest.raises(SystemExit) as caught:
        main([str(corpus), *args])
    assert caught.value.code == 2 and message in capsys.readouterr().err

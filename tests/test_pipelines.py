"""The batch command (python -m pipelines.batch): the service's answers, byte for byte, for files
of articles; bad records kept as error records; exit statuses; interrupted runs resumed."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsbrief import schema

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "articles.jsonl"
BIG_TEXT = "Ministers met again. " * (schema.MAX_TEXT_CHARS // 21 + 1)

pytestmark = pytest.mark.slow


def corpus(count: int, start: int = 0) -> list[dict]:
    if not CORPUS.is_file():
        pytest.skip(f"{CORPUS} is absent (the project expects ../shared beside the checkout)")
    with open(CORPUS, encoding="utf-8") as handle:
        lines = [json.loads(line) for _, line in zip(range(start + count), handle)][start:]
    return [{"id": a["id"], "title": a.get("title"), "text": a["text"]} for a in lines]


def batch(*args, stdin=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.batch", *map(str, args)], cwd=ROOT, input=stdin,
                          capture_output=True, timeout=timeout)


def run_here(*args, capsys=None) -> tuple[int, str]:
    """The command in this process (one worker: no pool to start), its exit status and stderr."""
    from pipelines.batch import main

    try:
        status = main([str(a) for a in args])
    except SystemExit as exit_:  # argparse
        status = exit_.code
    return status, capsys.readouterr().err if capsys else ""


def write_jsonl(path: Path, lines: list) -> Path:
    """`lines`: documents (written as JSON) or raw strings/bytes written as they are."""
    with open(path, "wb") as handle:
        for line in lines:
            if isinstance(line, bytes):
                handle.write(line + b"\n")
            elif isinstance(line, str):
                handle.write(line.encode() + b"\n")
            else:
                handle.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
    return path


@pytest.fixture(scope="module")
def api():
    """The real Flask app around the shipped model, with a body limit that lets a text over the
    character limit through to the core (as MAX_BODY can be raised in production)."""
    from service.app import create_app
    from service.config import Settings
    from service.store import ModelStore

    store = ModelStore(ROOT / "models")
    store.load()
    return create_app(store, Settings(max_body=8 * 1024 * 1024)).test_client()


def api_results(api, documents: list, options: dict) -> list[bytes]:
    """What POST /v1/analyze answers for `documents` (≤ 64), checked to be
    {"model":...,"results":[r0,r1,...]}: each result's own bytes, cut from the answer's bytes."""
    response = api.post("/v1/analyze", json={**options, "documents": documents})
    assert response.status_code == 200
    body = response.get_data()
    model = json.dumps(json.loads(body)["model"], separators=(",", ":")).encode()
    prefix = b'{"model":' + model + b',"results":['
    assert body.startswith(prefix) and body.endswith(b"]}\n")
    return body, prefix


def assert_lines_are_the_api_answer(api, documents: list, lines: list[bytes], options: dict) -> None:
    for start in range(0, len(documents), 64):
        body, prefix = api_results(api, documents[start:start + 64], options)
        assert body == prefix + b",".join(lines[start:start + 64]) + b"]}\n"


def test_results_are_the_services_answers_byte_for_byte_and_bad_lines_become_error_records(tmp_path, api):
    articles = corpus(70)
    no_id = {"text": articles[5]["text"]}  # line 6 of the file: its id is 6
    bad = [
        "{not json",                                     # line 71
        json.dumps({"id": "no-text"}),                   # 72
        json.dumps({"id": "empty", "text": "   \n "}),   # 73
        json.dumps({"id": "huge", "text": BIG_TEXT}),    # 74
        "[1, 2]",                                        # 75
        json.dumps({"id": [1], "text": "Talks went on."}),  # 76
        b'{"id": "latin1", "text": "caf\xe9"}',          # 77
    ]
    source = write_jsonl(tmp_path / "in.jsonl", [*articles[:5], no_id, *articles[6:], "", *bad])
    out = tmp_path / "out.jsonl"
    done = batch(source, "--output", out, "--workers", 2, "--batch-size", 16)
    assert done.returncode == 3, done.stderr
    lines = out.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) - 1 == 77
    good = [*articles[:5], {"id": 6, **no_id}, *articles[6:]]
    assert_lines_are_the_api_answer(api, good, lines[:70], {})

    errors = [json.loads(line) for line in lines[70:77]]
    assert [e["id"] for e in errors] == [72, "no-text", "empty", "huge", 76, 77, 78]  # line numbers stand in
    assert [e["error"]["line"] for e in errors] == [72, 73, 74, 75, 76, 77, 78]  # line 71 is blank
    assert all(e["error"]["file"] == str(source) for e in errors)
    assert [(e["error"]["code"], e["error"]["status"]) for e in errors] == [
        ("invalid_request", 400), ("invalid_request", 400), ("empty_text", 422), ("text_too_long", 413),
        ("invalid_request", 400), ("invalid_request", 400), ("invalid_request", 400)]
    # apart from where it came from, an error record is the API's answer for that document
    for raw, error in zip(bad[1:], errors[1:]):
        document = json.loads(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)
        if isinstance(raw, bytes):
            continue  # the API never sees bytes that are not UTF-8 (its own 400 says so)
        expected = api.post("/v1/analyze", json={"documents": [document]}).get_json()["results"][0]["error"]
        assert {k: v for k, v in error["error"].items() if k not in ("file", "line")} == expected
    summary = done.stderr.decode().strip().splitlines()
    assert len(summary) == 1 and "70 analysed, 7 rejected" in summary[0], summary


def test_options_are_passed_through_as_in_the_api(tmp_path, api):
    articles = corpus(12, start=100)
    source = write_jsonl(tmp_path / "in.jsonl", articles)
    out = tmp_path / "out.jsonl"
    status, _ = run_here(source, "--output", out, "--workers", 1, "--sentences", 2, "--algorithm", "lexrank",
                         "--explain")
    assert status == 0
    lines = out.read_bytes().splitlines()
    options = {"summary": {"sentences": 2, "algorithm": "lexrank"}, "explain": True}
    assert_lines_are_the_api_answer(api, articles, lines, options)
    assert all("explanation" in json.loads(line) for line in lines)


def test_csv_parquet_and_stdin_inputs_and_parquet_output_give_the_same_results(tmp_path, capsys):
    articles = corpus(30, start=200)
    jsonl = write_jsonl(tmp_path / "in.jsonl", articles)
    with open(tmp_path / "in.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["id", "title", "text", "other"])
        writer.writeheader()
        for a in articles:
            writer.writerow({**a, "other": "ignored"})
    pq.write_table(pa.Table.from_pylist(articles), tmp_path / "in.parquet")

    assert run_here(jsonl, "--output", tmp_path / "ref.jsonl", "--workers", 1)[0] == 0
    expected = (tmp_path / "ref.jsonl").read_bytes()
    for name in ("in.csv", "in.parquet"):
        assert run_here(tmp_path / name, "--output", tmp_path / f"{name}.jsonl", "--workers", 1)[0] == 0
        assert (tmp_path / f"{name}.jsonl").read_bytes() == expected, name
    done = batch("-", "--output", "-", "--workers", 1, stdin=jsonl.read_bytes())
    assert done.returncode == 0 and done.stdout == expected

    status, _ = run_here(jsonl, jsonl, "--output", tmp_path / "out.parquet", "--workers", 1, "--batch-size", 8)
    assert status == 0
    parts = sorted(p.name for p in (tmp_path / "out.parquet").iterdir())
    assert parts == [f"part-{i:06d}.parquet" for i in range(8)]  # 60 rows in batches of 8
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column("result").to_pylist() == expected.decode().splitlines() * 2
    row = table.slice(0, 1).to_pylist()[0]
    first = json.loads(expected.decode().splitlines()[0])
    assert row["id"] == first["id"] and row["labels"] == first["labels"]
    assert dict(row["scores"]) == first["scores"] and row["error"] is None
    assert row["summary_text"] == first["summary"]["text"]
    assert row["summary_sentences"] == first["summary"]["sentences"]
    assert (row["file"], row["line"]) == (str(jsonl), 1)


def test_parquet_error_rows_are_kept_and_marked(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", [*corpus(3), "oops", {"id": "e", "text": ""}])
    assert run_here(source, "--output", tmp_path / "out.parquet", "--workers", 1)[0] == 3
    rows = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert [r["error"] is None for r in rows] == [True, True, True, False, False]
    assert rows[3]["error"]["code"] == "invalid_request" and rows[3]["error"]["line"] == 4
    assert rows[4]["error"]["code"] == "empty_text" and rows[4]["error"]["status"] == 422
    assert rows[4]["labels"] is None and rows[4]["id"] == "e"


@pytest.mark.parametrize("args, message", [
    (["missing.jsonl", "--output", "{tmp}/o.jsonl"], "missing.jsonl: no such file"),
    (["{tmp}/in.jsonl", "--output", "{tmp}/o.txt"], "use .jsonl or .parquet"),
    (["{tmp}/in.jsonl", "--output", "{tmp}/o.jsonl", "--sentences", "0"], "--sentences must be between"),
    (["{tmp}/in.jsonl", "--output", "{tmp}/o.jsonl", "--workers", "x"], "invalid int value"),
    (["{tmp}/in.jsonl", "--output", "{tmp}/in.jsonl"], "exists; pass --resume"),
    (["{tmp}/in.jsonl", "--output", "{tmp}/o.jsonl", "--model-dir", "{tmp}"], "is neither a model version"),
    (["{tmp}/in.csv", "--output", "{tmp}/o.jsonl"], "no 'text' column"),
])
def test_bad_arguments_and_unreadable_inputs_exit_2_with_one_line(tmp_path, capsys, args, message):
    write_jsonl(tmp_path / "in.jsonl", [{"text": "Talks went on."}])
    (tmp_path / "in.csv").write_text("id,body\n1,Talks\n")
    status, stderr = run_here(*[a.format(tmp=tmp_path) for a in args], capsys=capsys)
    assert status == 2
    assert len(stderr.strip().splitlines()) == 1 and message in stderr, stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_the_console_script_exits_2_without_a_traceback_and_0_when_all_is_analysed(tmp_path):
    script = Path(sys.executable).with_name("newsbrief-batch")
    done = subprocess.run([script, tmp_path / "missing.jsonl", "-o", tmp_path / "o.jsonl"], capture_output=True)
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1 and b"Traceback" not in done.stderr
    source = write_jsonl(tmp_path / "in.jsonl", corpus(2))
    done = subprocess.run([script, source, "-o", tmp_path / "o.jsonl", "--quiet"], capture_output=True)
    assert done.returncode == 0 and b"2 analysed, 0 rejected" in done.stderr


def _kill_midway(command: list, out: Path, how: int, enough) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "pipelines.batch", *map(str, command)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not enough() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be interrupted"
    process.send_signal(how)
    process.wait(timeout=60)
    return process


@pytest.fixture(scope="module")
def long_input(tmp_path_factory):
    articles = corpus(500)
    articles.insert(123, "not json")
    return write_jsonl(tmp_path_factory.mktemp("long") / "in.jsonl", articles)


@pytest.mark.parametrize("suffix, how", [(".jsonl", signal.SIGKILL), (".parquet", signal.SIGKILL),
                                         (".jsonl", signal.SIGTERM)])
def test_an_interrupted_run_resumed_equals_an_uninterrupted_run(tmp_path, capsys, long_input, suffix, how):
    full = tmp_path / f"full{suffix}"  # uninterrupted, and with one worker: the worker count changes nothing
    assert run_here(long_input, "--output", full, "--batch-size", 10, "--workers", 1)[0] == 3

    out = tmp_path / f"out{suffix}"
    if suffix == ".jsonl":
        enough = lambda: out.exists() and out.stat().st_size > 150_000  # noqa: E731
    else:
        enough = lambda: out.exists() and len(list(out.glob("part-*"))) >= 5  # noqa: E731
    process = _kill_midway([long_input, "--output", out, "--workers", 2, "--batch-size", 10], out, how, enough)
    if how == signal.SIGTERM:
        assert process.returncode == 143 and b"--resume" in process.stderr.read()
    else:
        assert process.returncode == -signal.SIGKILL
    if suffix == ".jsonl":
        written = out.read_bytes()
        assert 0 < written.count(b"\n") < 501
        complete = written[:written.rfind(b"\n") + 1]
        assert full.read_bytes().startswith(complete)  # every complete line is already the final one
    else:
        assert 5 <= len(list(out.glob("part-*.parquet"))) < 51

    status, stderr = run_here(long_input, "--output", out, "--workers", 1, "--batch-size", 10, "--resume",
                              capsys=capsys)
    assert status == 3, stderr  # the rejected line counts, even if written before the interruption
    assert "already in the output" in stderr
    if suffix == ".jsonl":
        assert out.read_bytes() == full.read_bytes()
    else:
        assert pq.read_table(out).equals(pq.read_table(full))
        assert not list(out.glob(".*"))

    status, stderr = run_here(long_input, "--output", out, "--resume", "--workers", 1, capsys=capsys)
    assert status == 3 and "0 analysed, 0 rejected" in stderr


def test_resume_refuses_an_output_of_other_inputs(tmp_path, capsys):
    write_jsonl(tmp_path / "a.jsonl", corpus(3))
    write_jsonl(tmp_path / "b.jsonl", corpus(3, start=10))
    assert run_here(tmp_path / "a.jsonl", "--output", tmp_path / "o.jsonl", "--workers", 1)[0] == 0
    status, stderr = run_here(tmp_path / "b.jsonl", "--output", tmp_path / "o.jsonl", "--workers", 1, "--resume",
                              capsys=capsys)
    assert status == 2 and "does not continue these inputs" in stderr
    write_jsonl(tmp_path / "c.jsonl", corpus(2))
    status, stderr = run_here(tmp_path / "c.jsonl", "--output", tmp_path / "o.jsonl", "--workers", 1, "--resume",
                              capsys=capsys)
    assert status == 2 and "hold only 2 records" in stderr


# A package the extras install, hidden from a fresh interpreter as if it were not installed.
_WITHOUT = ("import importlib.util, runpy, sys; missing = set(sys.argv[1].split(',')); "
            "find = importlib.util.find_spec; "
            "importlib.util.find_spec = lambda name, *a: None if name.split('.')[0] in missing else find(name, *a); "
            "sys.argv = sys.argv[2:]; runpy.run_module(sys.argv[0], run_name='__main__')")


@pytest.mark.parametrize("module, missing, args, hint", [
    ("pipelines.batch", "pyarrow", ["--output", "out.parquet"], "pip install -e '.[batch]'"),
    ("pipelines.spark", "pyspark", ["--output", "out.parquet"], "pip install -e '.[spark]'"),
])
def test_a_missing_extra_is_named_in_one_line_before_any_output_is_made(tmp_path, module, missing, args, hint):
    source = write_jsonl(tmp_path / "in.jsonl", corpus(2))
    spark_input = ["--input"] if module == "pipelines.spark" else []
    done = subprocess.run([sys.executable, "-c", _WITHOUT, missing, module, *spark_input, str(source), *args],
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert hint in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.parquet").exists()


def test_a_broken_line_is_described_without_a_doubled_word(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "unterminated', encoding="utf-8")
    status, _ = run_here(source, "--output", tmp_path / "out.jsonl", capsys=capsys)
    assert status == 3
    message = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))["error"]["message"]
    assert "starting at column" in message and "at at" not in message, message

"""The Spark job (spark-submit pipelines/spark.py) in local[2]: the batch command's answers for
every row, bad rows kept and marked, line numbers right across several partitions of a file."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from test_pipelines import corpus, run_here, write_jsonl

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def spark_submit() -> Path:
    script = Path(sys.executable).with_name("spark-submit")
    if not script.exists() or not shutil.which("java"):
        if os.environ.get("CI") == "true":
            pytest.fail("spark-submit (pip install '.[spark]') and Java 17+ are needed for the Spark test")
        pytest.skip("spark-submit or java is missing")
    return script


def test_spark_job_gives_the_batch_commands_answers_for_every_row(tmp_path, capsys):
    submit = spark_submit()
    articles = corpus(300, start=1000)
    for article in articles[::7]:
        del article["id"]  # the line number stands in, in both tools
    first = write_jsonl(tmp_path / "a.jsonl", [*articles[:150], "{broken", "", {"id": "e", "text": " "}])
    second = write_jsonl(tmp_path / "b.jsonl", articles[150:])
    status, _ = run_here(first, second, "--output", tmp_path / "batch.parquet", "--workers", 1, capsys=capsys)
    assert status == 3
    expected = pq.read_table(tmp_path / "batch.parquet").to_pylist()

    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    done = subprocess.run(
        [submit, "--master", "local[2]", "--conf", "spark.sql.files.maxPartitionBytes=65536",
         "--conf", "spark.sql.files.openCostInBytes=0", str(ROOT / "pipelines" / "spark.py"),
         "--input", first, second, "--output", tmp_path / "spark.parquet"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    said = done.stdout + done.stderr  # spark-submit passes the Python driver's stderr to its stdout
    assert done.returncode == 3, said[-3000:]
    assert "300 analysed, 2 rejected" in said and "local[2]" in said

    partitions = list((tmp_path / "spark.parquet").glob("part-*.parquet"))
    assert len(partitions) > 2  # each file was read in several splits: line numbers must still be right
    rows = pq.read_table(tmp_path / "spark.parquet").to_pylist()
    key = lambda row: (row["file"], row["line"])  # noqa: E731
    assert sorted(rows, key=key) == sorted(expected, key=key)
    broken = [row for row in rows if row["error"] and row["error"]["code"] == "invalid_request"]
    assert [(r["file"], r["line"], r["id"]) for r in broken] == [(str(first), 151, "151")]
    assert json.loads(broken[0]["result"])["error"]["line"] == 151

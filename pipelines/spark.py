"""The batch command's analysis as a Spark job, for corpora that outgrow one machine.

    python -m pipelines.spark --input articles.jsonl --output results.parquet           # local[*]
    python -m pipelines.spark --input in/ --output out.parquet --master local[2]
    spark-submit --master yarn ... pipelines/spark.py --input hdfs:///... --output hdfs:///...

Reads JSON Lines (each line as text, parsed by the same code as the batch command, so a broken line
becomes an error row) or Parquet (`text`, optional `id`, `title` columns); writes Parquet with the
batch command's columns, error rows included. The model version is verified on the driver, shipped
to the executors with SparkContext.addFile, checked again there against the driver's SHA-256, and
loaded once per Python worker (`mapInArrow`, one call per partition, a per-process cache).

Exit status as the batch command: 0 all analysed, 3 some rejected, 2 bad arguments, unreadable
input or a model that cannot be loaded.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from collections import defaultdict
from urllib.parse import unquote, urlparse

from newsbrief.artifacts import resolve_version, verify
from newsbrief.errors import ArtifactError
from pipelines import answers
from pipelines.batch import DEFAULT_MODEL_DIR, EXIT_OK, EXIT_REJECTED, EXIT_USAGE, _Parser
from pipelines.batch import request_options as _request_options
from newsbrief import schema
from newsbrief.summarize import ALGORITHMS

PROG = "newsbrief-spark"
_FIELDS = ("id", "text", "title")


def parse_args(argv=None) -> argparse.Namespace:
    parser = _Parser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--input", nargs="+", required=True,
                        help="JSON Lines or Parquet files or directories (any path Spark reads: hdfs://, s3a://, ...)")
    parser.add_argument("--output", required=True, help="output directory of Parquet part files")
    parser.add_argument("--input-format", choices=("jsonl", "parquet"),
                        help="default: parquet if the first input ends in .parquet, else jsonl")
    parser.add_argument("--master", help="Spark master URL (default: spark-submit's --master, else local[*])")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    parser.add_argument("--sentences", type=int, help=f"summary sentences, 1 to {schema.MAX_SENTENCES}")
    parser.add_argument("--algorithm", choices=ALGORITHMS, help="summary algorithm")
    parser.add_argument("--explain", action="store_true", help="add the terms behind each score")
    parser.add_argument("--model-dir", default=os.environ.get("MODEL_DIR") or str(DEFAULT_MODEL_DIR),
                        help="model registry or version directory on the driver (default: $MODEL_DIR, else models/)")
    args = parser.parse_args(argv)
    if args.sentences is not None and not 1 <= args.sentences <= schema.MAX_SENTENCES:
        parser.error(f"--sentences must be between 1 and {schema.MAX_SENTENCES}, not {args.sentences}")
    return args


def _session(master: str | None):
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    conf = SparkConf().setAppName("newsbrief").set("spark.ui.showConsoleProgress", "false")
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # started by spark-submit, which sets the master
    if master or not (submitted or conf.contains("spark.master")):
        conf.setMaster(master or "local[*]")
        if (master or "local").startswith("local"):
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers use this venv's Python
    spark = SparkSession.builder.config(conf=conf).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _read(spark, paths: list[str], fmt: str):
    """A DataFrame of the input records, with their file and the scan partition they came from."""
    from pyspark.sql import functions as F

    if fmt == "jsonl":
        frame = spark.read.text(paths).select(F.col("value").alias("raw"))
    else:
        frame = spark.read.parquet(*paths)
        if "text" not in frame.columns:
            raise ValueError(f"the Parquet input has no 'text' column (found {', '.join(frame.columns)})")
        frame = frame.select(*[F.col(c).cast("string") if c != "id" else F.col(c)
                               for c in _FIELDS if c in frame.columns])
    return frame.withColumn("file", F.input_file_name()).withColumn("part", F.spark_partition_id())


def line_offsets(counts) -> dict:
    """Rows before each (partition, file) piece within its file. Spark scans a file's splits in
    partition order, so a file's lines are numbered by running totals over its partitions."""
    by_file = defaultdict(list)
    for part, file, count in counts:
        by_file[file].append((part, count))
    offsets = {}
    for file, pieces in by_file.items():
        total = 0
        for part, count in sorted(pieces):
            offsets[(part, file)] = total
            total += count
    return offsets


def local_path(file: str) -> str:
    """A file:// URI as the plain path the batch command would show; other URIs as they are."""
    if file.startswith("file:"):
        return unquote(urlparse(file).path)
    return file


def analyse_partition(version_name: str, sha256: str, options: dict, offsets: dict, fmt: str):
    """The function mapInArrow runs on each partition: Arrow batches in, result rows out."""
    def run(batches):
        import pyarrow as pa
        from pyspark import SparkFiles

        analyzer = answers.analyzer_for(SparkFiles.get(version_name), sha256)  # once per Python worker
        seen: dict = defaultdict(int)
        for batch in batches:
            records = []
            for row in batch.to_pylist():
                key = (row.pop("part"), row["file"])
                seen[key] += 1
                line = offsets.get(key, 0) + seen[key]
                file = local_path(row["file"])
                if fmt == "jsonl":
                    raw = row["raw"].encode("utf-8", "surrogatepass")
                    if raw.strip():  # a blank line holds no record
                        records.append(answers.Record(file, line, raw))
                else:
                    document = {k: row[k] for k in _FIELDS if k in row and (row[k] is not None or k == "text")}
                    records.append(answers.Record(file, line, document))
            if records:
                table = answers.to_table(answers.answer(analyzer, records, options), records)
                yield from table.to_batches()
            else:
                yield pa.RecordBatch.from_pylist([], schema=answers.arrow_schema())
    return run


def spark_schema():
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(answers.arrow_schema())


def run(args: argparse.Namespace) -> int:
    try:
        version_dir = resolve_version(args.model_dir)
        sha256 = verify(version_dir)["model_sha256"]
    except ArtifactError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    fmt = args.input_format or ("parquet" if args.input[0].rstrip("/").endswith(".parquet") else "jsonl")
    spark = _session(args.master)
    try:
        from pyspark.errors import AnalysisException

        spark.sparkContext.addFile(str(version_dir), recursive=True)
        started = time.perf_counter()
        try:
            frame = _read(spark, args.input, fmt)
            counts = [(r["part"], r["file"], r["count"]) for r in frame.groupBy("part", "file").count().collect()]
        except (AnalysisException, ValueError) as error:
            print(f"{PROG}: error: cannot read {' '.join(args.input)}: {str(error).splitlines()[0]}", file=sys.stderr)
            return EXIT_USAGE
        job = analyse_partition(version_dir.name, sha256, _request_options(args), line_offsets(counts), fmt)
        results = frame.mapInArrow(job, spark_schema())
        try:
            results.write.mode("overwrite" if args.overwrite else "errorifexists").parquet(args.output)
        except AnalysisException as error:
            print(f"{PROG}: error: {str(error).splitlines()[0]} (pass --overwrite to replace it)", file=sys.stderr)
            return EXIT_USAGE
        seconds = time.perf_counter() - started
        from pyspark.sql import functions as F

        total, rejected = spark.read.parquet(args.output).select(F.count("*"), F.count("error")).first()
        master = spark.sparkContext.master
    finally:
        spark.stop()
    print(f"{PROG}: {total - rejected} analysed, {rejected} rejected, {seconds:.1f} s, "
          f"{total / seconds if seconds else 0:.1f} documents/s on {master}; output {args.output}", file=sys.stderr)
    return EXIT_REJECTED if rejected else EXIT_OK


def main(argv=None) -> int:
    args = parse_args(argv)
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("pyarrow") is None:
        print("newsbrief-spark: error: the Spark job needs pyspark and pyarrow, which are not installed: "
              "pip install -e '.[spark]' (and Java 17+)", file=sys.stderr)
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())

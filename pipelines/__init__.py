"""Pipelines: the analysis core run over files of articles, like the web service runs it over HTTP.

    python -m pipelines.batch articles.jsonl --output results.jsonl     # one machine, every core
    python -m pipelines.spark --input DIR --output DIR                  # a Spark cluster

Both give, for every article, the result object `POST /v1/analyze` returns for it in a batch,
byte for byte (see docs/pipelines.md).
"""

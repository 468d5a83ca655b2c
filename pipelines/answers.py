"""From input records to the API's result objects, and from results to JSON lines or Parquet rows.

Shared by the batch command and the Spark job, so both give the same answer for the same record.
Every document goes through `Analyzer.handle` with a batch body (the code path of
`POST /v1/analyze`); a document the core refuses is answered again on its own, so that its error
does not depend on where it fell in a batch, and gets the input file and line added.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from newsbrief import schema
from newsbrief.analyze import Analyzer
from newsbrief.artifacts import load_model, read_metadata
from newsbrief.errors import ArtifactError, InvalidRequest, RequestError, json_error


@dataclass(frozen=True)
class Record:
    """One input record: where it came from and what it holds. `raw` is the line's bytes (JSON
    Lines, parsed by `document()` in the worker) or an already decoded dict (CSV, Parquet)."""

    file: str
    line: int
    raw: Any

    def document(self) -> Any:
        """The document the record holds; RequestError if the line is not JSON."""
        if not isinstance(self.raw, (bytes, bytearray)):
            return self.raw
        try:
            return json.loads(self.raw.decode("utf-8"), parse_constant=_reject_constant)
        except UnicodeDecodeError as error:
            raise InvalidRequest(f"The line is not valid UTF-8 ({error.reason} at byte {error.start}); "
                                 "save the file as UTF-8.") from None
        except json.JSONDecodeError as error:
            raise InvalidRequest(f"The line is not valid JSON: {json_error(error)}; each "
                                 "line must hold one JSON object such as {\"id\": \"a1\", \"text\": \"...\"}.") from None
        except RecursionError:
            raise InvalidRequest("The line's JSON is nested too deeply.") from None
        except ValueError as error:  # e.g. NaN, or an integer of more than 4,300 digits
            raise InvalidRequest(f"The line holds a value JSON cannot carry here: {error}.") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number; send a number or null")


def record_id(record: Record, document: Any) -> Any:
    """The id the answer carries: the document's own id if it is a valid one, else the line number."""
    if isinstance(document, dict) and "id" in document:
        doc_id = document["id"]
        if (isinstance(doc_id, (str, int)) and not isinstance(doc_id, bool)
                and not (isinstance(doc_id, str) and schema.has_lone_surrogate(doc_id))):
            return doc_id
    return record.line


def answer(analyzer: Analyzer, records: Sequence[Record], options: dict) -> list[dict]:
    """The result object of `POST /v1/analyze` for each record, in order. `options` holds the
    body's other keys (`summary`, `explain`, ...), passed through as they are."""
    results: list[dict | None] = [None] * len(records)
    documents: list[tuple[int, Any]] = []
    for index, record in enumerate(records):
        try:
            document = record.document()
        except RequestError as error:
            results[index] = _error_result(record.line, error.to_dict()["error"], error.status, record)
            continue
        if isinstance(document, dict) and "id" not in document:
            document = {"id": record.line, **document}  # the line number stands in for a missing id
        documents.append((index, document))
    for start in range(0, len(documents), schema.MAX_DOCUMENTS):
        chunk = documents[start:start + schema.MAX_DOCUMENTS]
        answers = analyzer.handle({**options, "documents": [d for _, d in chunk]})["results"]
        for (index, document), result in zip(chunk, answers):
            if "error" in result:  # answered alone, so the message does not depend on the batch
                result = analyzer.handle({**options, "documents": [document]})["results"][0]
                error = result["error"]
                result = _error_result(record_id(records[index], document), error, None, records[index])
            results[index] = result
    return results


def _error_result(doc_id: Any, error: dict, status: int | None, record: Record) -> dict:
    error = dict(error)
    if status is not None:
        error["status"] = status
    return {"id": doc_id, "error": {**error, "file": record.file, "line": record.line}}


def to_json(result: dict) -> str:
    """The result as the service writes it (Flask's compact JSON, UTF-8 characters kept)."""
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"))


# -- Parquet ----------------------------------------------------------------------------------

ERROR_FIELDS = ("code", "message", "field", "status", "file", "line")
SENTENCE_FIELDS = ("text", "start", "end", "score")


@lru_cache(maxsize=1)
def arrow_schema():
    """The Parquet columns (pyarrow is imported only when Parquet is written)."""
    import pyarrow as pa

    error = pa.struct([("code", pa.string()), ("message", pa.string()), ("field", pa.string()),
                       ("status", pa.int32()), ("file", pa.string()), ("line", pa.int64())])
    sentence = pa.struct([("text", pa.string()), ("start", pa.int64()), ("end", pa.int64()),
                          ("score", pa.float64())])
    return pa.schema([
        ("id", pa.string()),                   # the id as text (the `result` column keeps its JSON type)
        ("labels", pa.list_(pa.string())),
        ("scores", pa.map_(pa.string(), pa.float64())),
        ("summary_text", pa.string()),
        ("summary_sentences", pa.list_(sentence)),
        ("error", error),                      # null for an analysed document
        ("file", pa.string()),                 # where the record came from
        ("line", pa.int64()),
        ("result", pa.string()),               # the whole result object, exactly as the JSON Lines output
    ])


def to_row(result: dict, record: Record) -> dict:
    summary = result.get("summary") or {}
    scores = result.get("scores")
    error = result.get("error")
    return {
        "id": str(result.get("id")),
        "labels": result.get("labels"),
        "scores": list(scores.items()) if isinstance(scores, dict) else None,
        "summary_text": summary.get("text"),
        "summary_sentences": [{k: s.get(k) for k in SENTENCE_FIELDS}
                              for s in summary.get("sentences", [])] if summary else None,
        "error": {k: error.get(k) for k in ERROR_FIELDS} if error else None,
        "file": record.file,
        "line": record.line,
        "result": to_json(result),
    }


def to_table(results: Sequence[dict], records: Sequence[Record]):
    """A pyarrow Table of the Parquet columns, one row per result."""
    import pyarrow as pa

    return pa.Table.from_pylist([to_row(r, rec) for r, rec in zip(results, records)], schema=arrow_schema())


# -- the model, loaded once per process ------------------------------------------------------------

@lru_cache(maxsize=2)
def analyzer_for(version_dir: str, sha256: str | None = None) -> Analyzer:
    """The Analyzer of a verified model version, loaded once per process. With `sha256`, the copy
    found at `version_dir` (e.g. one shipped to a Spark executor) must be that very model."""
    if sha256 is not None:
        found = read_metadata(version_dir).get("model_sha256")
        if found != sha256:
            raise ArtifactError(f"The model at {version_dir} records SHA-256 {found}, but the job was started "
                                f"with {sha256}; ship the same model version to every worker.")
    return Analyzer(load_model(Path(version_dir)))  # load_model checks the file against its SHA-256

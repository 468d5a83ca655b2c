"""The analysis core: validated request in, response body out. No web framework here, so the
HTTP service, a batch command line or a test can all call `Analyzer.handle` the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from . import language, schema
from .artifacts import SCORE_DIGITS
from .errors import EmptyText, InvalidRequest, RequestError
from .summarize import DEFAULT_ALGORITHM, summarize
from .text import Article, prepare
from .text import _lines as lines
from .topics import classification_text


@dataclass(frozen=True)
class Options:
    sentences: int = 3
    algorithm: str = DEFAULT_ALGORITHM
    explain: bool = False
    cleanup: bool = False
    words: int | None = None   # a word budget instead of `sentences`

    @classmethod
    def from_body(cls, body: dict) -> "Options":
        summary = body.get("summary") or {}
        return cls(
            sentences=summary.get("sentences", cls.sentences),
            algorithm=summary.get("algorithm", cls.algorithm),
            explain=bool(body.get("explain", False)),
            cleanup=bool(body.get("cleanup", False)),
            words=summary.get("words"),
        )


class Analyzer:
    """Topics and summaries for articles, around a model that is already loaded."""

    def __init__(self, model):
        self.model = model

    @property
    def model_info(self) -> dict:
        return {"name": self.model.name, "version": self.model.version}

    def handle(self, body: Any) -> dict:
        """Answer one request body (one article, or `documents`); raise RequestError if invalid."""
        if not isinstance(body, dict):
            raise InvalidRequest(
                f"The body must be a JSON object such as {{\"text\": \"...\"}}, not {schema._type_name(body)}.")
        if "documents" in body and "text" in body:
            raise InvalidRequest("Send either 'text' (one article) or 'documents' (several), not both.")
        if "documents" in body:
            schema.validate(body, schema.ANALYZE_MANY)
            options = Options.from_body(body)
            return {"model": self.model_info, "results": self.analyze_documents(body["documents"], options)}
        schema.validate(body, schema.ANALYZE_ONE)
        options = Options.from_body(body)
        article = self._prepare(body["text"], body.get("title"))
        result = self._analyze_articles([article], options)[0]
        return {"model": self.model_info, **result}

    def analyze(self, text: str, title: str | None = None, options: Options = Options()) -> dict:
        """One article; raises EmptyText if nothing is left once page furniture is removed."""
        return self._analyze_articles([self._prepare(text, title)], options)[0]

    def analyze_documents(self, documents: Sequence[Any], options: Options) -> list[dict]:
        """Several articles; an invalid one gets {"id", "error"} in its place."""
        results: list[dict | None] = [None] * len(documents)
        ids, articles, slots = [], [], []
        for index, document in enumerate(documents):
            doc_id = document.get("id", index) if isinstance(document, dict) else index
            if (isinstance(doc_id, bool) or not isinstance(doc_id, (str, int))
                    or isinstance(doc_id, str) and schema.has_lone_surrogate(doc_id)):
                doc_id = index  # an invalid id is not echoed back; its error says what was wrong
            try:
                schema.validate(document, schema.DOCUMENT, f"documents[{index}]")
                field = f"documents[{index}].text"
                articles.append(self._prepare(document["text"], document.get("title"), field))
            except RequestError as error:
                results[index] = {"id": doc_id, "error": {**error.to_dict()["error"], "status": error.status}}
                continue
            ids.append(doc_id)
            slots.append(index)
        for index, doc_id, result in zip(slots, ids, self._analyze_articles(articles, options)):
            results[index] = {"id": doc_id, **result}
        return results

    @staticmethod
    def _prepare(text: str, title: str | None, field: str = "text") -> Article:
        article = prepare(text, title)
        if not article.sentences:
            raise EmptyText(
                "The text is empty once page furniture (repeated captions, photo credits, stray "
                f"tokens) and white space are removed; send the article body in '{field}'.",
                field=field)
        return article

    def _analyze_articles(self, articles: list[Article], options: Options) -> list[dict]:
        if not articles:
            return []
        labels = self.model.labels
        texts = [classification_text(a) for a in articles]
        probabilities = self.model.scores(texts)
        results = []
        for article, text, row, chosen in zip(articles, texts, probabilities, self.model.decide(probabilities)):
            detected = language.detect(text)
            result = {
                "labels": list(chosen) if detected.topics_apply else [],
                "scores": {l: float(p) for l, p in zip(labels, row)},
                "summary": self._summary(article, options, detected.language),
                "language": detected.language,
                "warnings": language.warnings(detected),
            }
            if options.explain:
                result["explanation"] = self.model.explain(text)
            if options.cleanup:
                result["cleanup"] = {"removed": removed_spans(article)}
            results.append(result)
        return results

    @staticmethod
    def _summary(article: Article, options: Options, language_code: str) -> dict:
        count = None if options.words is not None else options.sentences
        chosen = summarize(article, count, options.algorithm, language_code, words=options.words)
        return {
            "algorithm": options.algorithm,
            "text": " ".join(sentence.text for sentence, _ in chosen),
            "sentences": [
                {"text": s.text, "start": s.start, "end": s.end, "score": round(float(score), SCORE_DIGITS)}
                for s, score in chosen
            ],
        }


def removed_spans(article: Article) -> list[dict]:
    """What page-furniture removal took out: every stretch of the text that no kept sentence
    covers, one span per line, white space trimmed; offsets are code points into the text sent."""
    text, spans, position = article.original, [], 0
    for stop, resume in [(s.start, s.end) for s in article.sentences] + [(len(text), len(text))]:
        for start, end in lines(text[position:stop]):
            spans.append({"start": position + start, "end": position + end,
                          "text": text[position + start:position + end]})
        position = resume
    return spans

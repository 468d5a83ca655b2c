"""newsbrief: topics and clean extractive summaries for news articles, without a web framework.

    from newsbrief import Analyzer, load_model
    analyzer = Analyzer(load_model("models"))
    analyzer.handle({"text": "..."})          # the same answer POST /v1/analyze gives
"""
from .analyze import Analyzer, Options
from .artifacts import LoadedModel, load_model
from .errors import (ArtifactError, CorpusError, EmptyText, InvalidRequest, ModelNotLoaded,
                     NewsbriefError, RequestError, TooLarge, UnsupportedMediaType)
from .summarize import ALGORITHMS, DEFAULT_ALGORITHM, summarize
from .text import Article, Sentence, prepare

__all__ = [
    "ALGORITHMS", "DEFAULT_ALGORITHM", "Analyzer", "Article", "ArtifactError", "CorpusError",
    "EmptyText", "InvalidRequest", "LoadedModel", "ModelNotLoaded", "NewsbriefError", "Options",
    "RequestError", "Sentence", "TooLarge", "UnsupportedMediaType", "load_model", "prepare",
    "summarize",
]

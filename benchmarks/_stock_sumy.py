"""sumy used as its documentation shows (PlaintextParser + LexRankSummarizer), but offline.

sumy's own Tokenizer("english") loads NLTK's punkt data, which must be downloaded; this one builds
the same pieces from NLTK code alone: an untrained PunktSentenceTokenizer (with the abbreviations
sumy adds for English) for sentences, and the Treebank-style word tokenizer that
nltk.word_tokenize runs on each Punkt sentence, filtered by sumy's own word rule.
"""
from __future__ import annotations

from nltk.tokenize import NLTKWordTokenizer, PunktSentenceTokenizer
from sumy.nlp.stemmers import Stemmer
from sumy.nlp.tokenizers import Tokenizer as SumyTokenizer
from sumy.parsers.plaintext import PlaintextParser
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.utils import get_stop_words

LANGUAGE = "english"
SENTENCES = 3


class OfflinePunktTokenizer:
    """Duck-typed stand-in for sumy.nlp.tokenizers.Tokenizer: to_sentences and to_words."""

    language = LANGUAGE

    def __init__(self):
        self._sentences = PunktSentenceTokenizer()
        self._sentences._params.abbrev_types.update(SumyTokenizer.LANGUAGE_EXTRA_ABREVS[LANGUAGE])
        self._words = NLTKWordTokenizer()

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return tuple(s.strip() for s in self._sentences.tokenize(paragraph))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        # nltk.word_tokenize = Punkt sentences, then the Treebank word tokenizer on each
        words = [w for s in self._sentences.tokenize(sentence) for w in self._words.tokenize(s)]
        return tuple(w for w in words if SumyTokenizer._is_word(w))


class StockLexRank:
    """summarize(text) -> the 3 sentences stock sumy LexRank picks, as strings."""

    def __init__(self, sentences: int = SENTENCES):
        self.sentences = sentences
        self.tokenizer = OfflinePunktTokenizer()
        self.summarizer = LexRankSummarizer(Stemmer(LANGUAGE))
        self.summarizer.stop_words = get_stop_words(LANGUAGE)

    def __call__(self, text: str) -> list[str]:
        document = PlaintextParser.from_string(text, self.tokenizer).document
        return [str(s) for s in self.summarizer(document, self.sentences)]

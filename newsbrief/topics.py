"""Multi-label topic classifier: TF-IDF words and word pairs, one logistic regression per label.

Each label gets its own yes/no decision (probability >= that label's threshold), so an article can
have several topics or none. The probabilities can be calibrated: a per-label sigmoid a*z + b on the
regression's decision value z, fitted by training on out-of-outlet predictions, so that a score
estimates the chance that the label applies to an article from an outlet the model has not seen. Place names (countries, nationalities, capitals, Syrian towns ...) are
replaced by one placeholder token before counting, so that "Syria" alone cannot mean conflict and
renaming a country does not change a decision. Only the first `max_words` words are read (the
headline and the top of the body: what annotators label by, and a bounded cost per article).
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

LABELS = ("conflict", "diplomacy", "alliances")
PLACE = "xplacex"  # the token every place name becomes; shown as "<place>" in explanations

_PLACES = """
afghanistan afghan afghans albania albanian algeria algerian angola angolan argentina argentine
armenia armenian armenians australia australian australians austria austrian azerbaijan azerbaijani azeri
bahrain bahraini bangladesh bangladeshi belarus belarusian belgium belgian bolivia bolivian bosnia bosnian
brazil brazilian britain british bulgaria bulgarian burma burmese myanmar cambodia cambodian cameroon
canada canadian canadians chad chadian chile chilean china chinese colombia colombian congo congolese
croatia croatian cuba cuban cubans cyprus cypriot czech denmark danish egypt egyptian egyptians eritrea
eritrean estonia estonian ethiopia ethiopian finland finnish france french georgia georgian germany german
germans ghana ghanaian greece greek hungary hungarian india indian indians indonesia indonesian iran iranian
iranians iraq iraqi iraqis ireland irish israel israeli israelis italy italian italians japan japanese
jordan jordanian kazakhstan kazakh kenya kenyan korea korean koreans kosovo kuwait kuwaiti kyrgyzstan latvia
latvian lebanon lebanese liberia liberian libya libyan libyans lithuania lithuanian macedonia malaysia
malaysian mali malian mexico mexican moldova mongolia montenegro morocco moroccan mozambique namibia nepal
netherlands dutch nigeria nigerian niger norway norwegian oman omani pakistan pakistani pakistanis palestine
palestinian palestinians peru peruvian philippines filipino poland polish portugal portuguese qatar qatari
romania romanian russia russian russians rwanda rwandan saudi saudis senegal serbia serbian serb serbs
singapore slovakia slovenia somalia somali spain spanish sudan sudanese sweden swedish switzerland swiss
syria syrian syrians taiwan taiwanese tajikistan tanzania thailand thai tunisia tunisian turkey turkish
turks türkiye turkmenistan uganda ugandan ukraine ukrainian ukrainians uzbekistan venezuela venezuelan vietnam
vietnamese yemen yemeni yemenis zambia zimbabwe america american americans england english scotland
scottish wales welsh europe european europeans africa african asia asian kurd kurds kurdish kurdistan arab
arabs arabia emirates emirati uae usa uk
damascus aleppo idlib homs hama daraa deraa raqqa deir ezzor zor zour qusayr ghouta douma latakia tartus
palmyra afrin manbij kobani hasaka qamishli quneitra golan sweida jobar darayya yarmouk qalamoun
baghdad mosul basra fallujah ramadi kirkuk erbil tikrit tehran beirut amman ankara istanbul cairo riyadh
jerusalem gaza sanaa aden tripoli benghazi kabul kandahar helmand islamabad moscow kiev kyiv washington
london paris berlin brussels beijing tokyo delhi seoul pyongyang sochi astana geneva vienna crimea donbas
donetsk luhansk balkans caucasus sinai
"""
# two-word names whose words are not place names on their own
_PLACE_PAIRS = (("united", "states"), ("united", "kingdom"), ("new", "york"), ("tel", "aviv"),
                ("middle", "east"), ("sri", "lanka"), ("new", "zealand"), ("abu", "dhabi"))
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def classification_text(article) -> str:
    """What the classifier sees for a prepared Article: its title (if any) and its cleaned body."""
    title = (article.title or "").strip()
    body = article.body
    return f"{title}\n{body}" if title else body


class Head:
    """Preprocessor: the first `max_words` whitespace-separated words of a text, lower-cased
    (None: the whole text). Tokens and word pairs are the same as in the full text's beginning."""

    def __init__(self, max_words: int | None = None):
        self.max_words = max_words

    def __call__(self, text: str) -> str:
        if self.max_words:
            words = text.split(None, self.max_words)
            if len(words) > self.max_words:
                text = " ".join(words[:self.max_words])
        return text.lower()


class PlaceTokenizer:
    """Word tokens (2+ characters) with place names replaced by PLACE. Expects lower-cased text."""

    def __init__(self, places: Iterable[str] = _PLACES.split(), pairs=_PLACE_PAIRS):
        # the lists live in the instance, so a pickled model keeps the exact ones it was trained with
        self.places = frozenset(places)
        self.pairs = frozenset(tuple(p) for p in pairs)

    def __call__(self, text: str) -> list[str]:
        tokens: list[str] = []
        previous = None
        for token in _TOKEN.findall(text):
            if (previous, token) in self.pairs:
                tokens[-1] = PLACE
            else:
                tokens.append(PLACE if token in self.places else token)
            previous = token
        return tokens


def logistic(C: float, class_weight, random_state) -> LogisticRegression:
    """The per-label model (liblinear's dual solver: fast when terms outnumber articles)."""
    return LogisticRegression(C=C, class_weight=class_weight, solver="liblinear", dual=True,
                              max_iter=1000, random_state=random_state)


def label_matrix(label_sets: Iterable[Iterable[str]], labels: Sequence[str] = LABELS) -> np.ndarray:
    """0/1 matrix (n, len(labels)) from label sets such as [("conflict",), ()]."""
    return np.array([[label in set(chosen) for label in labels] for chosen in label_sets],
                    dtype=int).reshape(-1, len(labels))


class TopicClassifier(ClassifierMixin, BaseEstimator):
    """One binary TF-IDF + logistic-regression decision per label.

    Parameters
    ----------
    labels : label names, in output column order.
    ngram_range, min_df, max_df, sublinear_tf, max_features : passed to TfidfVectorizer.
    mask_places : replace place names by one placeholder token.
    C : inverse regularisation strength, one float or a {label: float} dict.
    class_weight : "balanced" (default) counts the rare "yes" answers up, or None.
    thresholds : {label: probability} decision thresholds; None means 0.5 for every label.
    calibration : {label: (a, b)}: the published probability is expit(a * z + b), z being the
        regression's decision value (Platt scaling); None or a missing label means (1, 0). It is
        folded into coef_ and intercept_, so it costs nothing at prediction time.
    random_state : seed for the solver.
    """

    def __init__(self, labels=LABELS, ngram_range=(1, 2), min_df=2, max_df=0.9, sublinear_tf=True,
                 max_features=None, max_words=None, mask_places=True, C=4.0, class_weight="balanced",
                 thresholds=None, calibration=None, random_state=0):
        self.labels = labels
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.max_features = max_features
        self.max_words = max_words
        self.mask_places = mask_places
        self.C = C
        self.class_weight = class_weight
        self.thresholds = thresholds
        self.calibration = calibration
        self.random_state = random_state

    # -- fitting -------------------------------------------------------------------------------

    def build_vectorizer(self) -> TfidfVectorizer:
        """A fresh, unfitted TfidfVectorizer with this estimator's settings."""
        return TfidfVectorizer(
            preprocessor=Head(self.max_words), tokenizer=PlaceTokenizer() if self.mask_places else _TOKEN.findall,
            token_pattern=None, ngram_range=tuple(self.ngram_range), min_df=self.min_df,
            max_df=self.max_df, sublinear_tf=self.sublinear_tf, max_features=self.max_features,
            dtype=np.float32)

    def build_counter(self) -> CountVectorizer:
        """A CountVectorizer with the same terms as build_vectorizer() but no pruning: raw counts
        of every term (training computes them once and derives each fold's TF-IDF from them)."""
        return CountVectorizer(
            preprocessor=Head(self.max_words), tokenizer=PlaceTokenizer() if self.mask_places else _TOKEN.findall,
            token_pattern=None, ngram_range=tuple(self.ngram_range), dtype=np.float32)

    def _C_for(self, label: str) -> float:
        return float(self.C[label]) if isinstance(self.C, dict) else float(self.C)

    def fit(self, X: Sequence[str], y, sample_weight=None):
        """Learn from texts X and y: a 0/1 matrix (n, labels) or a list of label sets.

        sample_weight: None, one weight per text, or a matrix (n, labels) with one column per label."""
        labels = tuple(self.labels)
        texts = _as_texts(X)
        y = np.asarray(y) if not _is_label_sets(y) else label_matrix(y, labels)
        if y.shape != (len(texts), len(labels)):
            raise ValueError(f"y must have shape ({len(texts)}, {len(labels)}) for {len(texts)} texts and "
                             f"labels {list(labels)}, not {y.shape}")
        for j, label in enumerate(labels):
            if len(np.unique(y[:, j])) < 2:
                raise ValueError(f"label {label!r} needs both positive and negative examples to learn; "
                                 f"all {len(texts)} examples have {int(y[0, j])}")
        self.vectorizer_ = self.build_vectorizer()
        features = self.vectorizer_.fit_transform(texts)
        self.vectorizer_.stop_words_ = None  # only needed for introspection; it would bloat the pickle
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.shape not in ((len(texts),), (len(texts), len(labels))):
                raise ValueError(f"sample_weight must have shape ({len(texts)},) or ({len(texts)}, {len(labels)}), "
                                 f"not {sample_weight.shape}")
        calibration = _checked_per_label(self.calibration, labels, "calibration")
        _checked_per_label(self.thresholds, labels, "thresholds")
        coefs, intercepts = [], []
        for j, label in enumerate(labels):
            model = logistic(self._C_for(label), self.class_weight, self.random_state)
            model.fit(features, y[:, j],
                      sample_weight=sample_weight[:, j] if sample_weight is not None and sample_weight.ndim == 2
                      else sample_weight)
            a, b = (float(v) for v in calibration.get(label, (1.0, 0.0)))
            coefs.append(a * model.coef_[0])
            intercepts.append(a * model.intercept_[0] + b)
        self.labels_ = labels
        self.coef_ = np.asarray(coefs, dtype=np.float32)
        self.intercept_ = np.asarray(intercepts, dtype=np.float64)
        given = dict(self.thresholds or {})
        self.thresholds_ = {label: float(given.get(label, 0.5)) for label in labels}
        self.feature_names_ = self.vectorizer_.get_feature_names_out()
        return self

    # -- predicting ----------------------------------------------------------------------------

    def features(self, texts: list[str]):
        """The TF-IDF rows of `texts`: vectorizer_.transform's values, computed with plain numpy
        after the counting (sklearn's input checks there cost as much as the counting itself)."""
        v = self.vectorizer_
        if not (v.use_idf and v.norm == "l2"):
            return v.transform(texts)
        X = CountVectorizer.transform(v, texts)  # the fitted vocabulary and analyser; dtype v.dtype
        if v.sublinear_tf:
            np.log(X.data, out=X.data)
            X.data += 1
        X.data *= v.idf_[X.indices]
        row_of = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        norms = np.sqrt(np.bincount(row_of, weights=np.square(X.data, dtype=np.float64), minlength=X.shape[0]))
        norms[norms == 0] = 1.0
        X.data /= norms[row_of].astype(X.dtype)
        return X

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return _linear(self.features(_as_texts(X)), self.coef_) + self.intercept_

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Probability of each label, shape (n, len(labels)), values in 0..1."""
        return expit(self.decision_function(X))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """0/1 matrix: 1 where a label's probability reaches its threshold."""
        proba = self.predict_proba(X)
        cut = np.array([self.thresholds_[label] for label in self.labels_])
        return (proba >= cut).astype(int)

    def predict_labels(self, X: Sequence[str]) -> list[tuple[str, ...]]:
        """The predicted label set of each text (possibly empty), labels in their usual order."""
        return [tuple(label for label, yes in zip(self.labels_, row) if yes) for row in self.predict(X)]

    # -- explaining ----------------------------------------------------------------------------

    def explain(self, text: str, top: int = 8) -> dict[str, list[dict]]:
        """Per label, the terms of this text that pushed its score up most (tf-idf value x weight)."""
        check_is_fitted(self, "coef_")
        row = self.features([str(text)])
        indices, values = row.indices, row.data
        result = {}
        for j, label in enumerate(self.labels_):
            contributions = values * self.coef_[j, indices]
            order = np.argsort(-contributions, kind="stable")
            result[label] = [{"term": _display(self.feature_names_[indices[k]]),
                              "weight": round(float(contributions[k]), 4)}
                             for k in order[:max(int(top), 0)] if contributions[k] > 0]
        return result

    def top_terms(self, label: str, count: int = 20) -> list[tuple[str, float]]:
        """The terms with the largest positive weights for `label` (the model's own vocabulary)."""
        check_is_fitted(self, "coef_")
        weights = self.coef_[self.labels_.index(label)]
        order = np.argsort(-weights, kind="stable")[:count]
        return [(_display(self.feature_names_[k]), float(weights[k])) for k in order]


def _linear(X, coef: np.ndarray) -> np.ndarray:
    """X @ coef.T for CSR rows X, touching only the terms the texts contain: its cost grows with
    the articles, not with the vocabulary (scipy's product copies coef.T, 3 x all terms, per call)."""
    out = np.zeros((X.shape[0], coef.shape[0]))
    if X.nnz:
        products = coef[:, X.indices] * X.data
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        for k in range(coef.shape[0]):
            out[:, k] = np.bincount(rows, weights=products[k], minlength=X.shape[0])
    return out


def _checked_per_label(given, labels, name: str) -> dict:
    given = dict(given or {})
    unknown = set(given) - set(labels)
    if unknown:
        raise ValueError(f"{name} name labels {sorted(unknown)} that are not in {list(labels)}")
    return given


def _display(term: str) -> str:
    return term.replace(PLACE, "<place>")


def _is_label_sets(y) -> bool:
    """True for [("conflict",), (), ...]; False for a 0/1 matrix."""
    if isinstance(y, np.ndarray):
        return False
    return all(isinstance(item, (tuple, list, set, frozenset)) and all(isinstance(v, str) for v in item)
               for item in y)


def _as_texts(X) -> list[str]:
    if isinstance(X, str):
        raise ValueError("X must be a sequence of texts, not a single string; wrap it in a list: [text]")
    texts = list(X)
    bad = [type(t).__name__ for t in texts if not isinstance(t, str)]
    if bad:
        raise ValueError(f"X must hold strings, found {bad[0]}")
    return texts

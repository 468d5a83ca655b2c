"""LexRank and TextRank as sumy computes them, with numpy/scipy instead of Python loops.

Same inputs (stems of non-stop words per sentence), same formulas, same power iteration and
stopping rule as sumy 0.11's LexRankSummarizer and TextRankSummarizer, so the ratings agree
with sumy's up to floating-point rounding. `python -m benchmarks.evaluate_summaries
--equivalence` compares the chosen sentences with sumy's own classes (identical on all 1,500
BBC development articles).
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

LEXRANK_THRESHOLD = 0.1   # sumy LexRankSummarizer.threshold
LEXRANK_EPSILON = 0.1     # sumy LexRankSummarizer.epsilon
TEXTRANK_DAMPING = 0.85   # sumy TextRankSummarizer.damping
TEXTRANK_EPSILON = 1e-4   # sumy TextRankSummarizer.epsilon
_ZERO_DIVISION_PREVENTION = 1e-7


def count_matrix(stems: list[list[str]]) -> sparse.csr_matrix:
    """Sentences x terms matrix of term counts."""
    vocabulary: dict[str, int] = {}
    indptr, indices = [0], []
    for sentence in stems:
        for term in sentence:
            indices.append(vocabulary.setdefault(term, len(vocabulary)))
        indptr.append(len(indices))
    data = np.ones(len(indices))
    matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(stems), max(len(vocabulary), 1)))
    matrix.sum_duplicates()
    return matrix


def power_method(matrix: np.ndarray, epsilon: float) -> np.ndarray:
    """sumy's power iteration: p <- M^T p from the uniform vector until the step is <= epsilon."""
    transposed = matrix.T
    p = np.full(len(matrix), 1.0 / len(matrix))
    step = 1.0
    while step > epsilon:
        following = transposed @ p
        difference = following - p
        step = np.sqrt(difference @ difference)
        p = following
    return p


def lexrank_scores(stems: list[list[str]], threshold: float = LEXRANK_THRESHOLD,
                   epsilon: float = LEXRANK_EPSILON) -> np.ndarray:
    """LexRank with sumy's tf (count / max count in the sentence) and idf (log(N / (1 + df)))."""
    n = len(stems)
    if n == 0:
        return np.zeros(0)
    counts = count_matrix(stems)
    max_tf = counts.max(axis=1).toarray().ravel()
    max_tf[max_tf == 0] = 1
    tf = sparse.diags(1.0 / max_tf) @ counts
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = np.log(n / (1.0 + df))
    weighted = (tf @ sparse.diags(idf)).tocsr()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    dots = (weighted @ weighted.T).toarray()
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = dots / np.outer(norms, norms)
    cosine[~np.isfinite(cosine)] = 0.0
    cosine[(norms == 0)[:, None] | (norms == 0)[None, :]] = 0.0
    adjacency = (cosine > threshold).astype(float)
    degrees = adjacency.sum(axis=1)
    degrees[degrees == 0] = 1
    return power_method(adjacency / degrees[:, None], epsilon)


def overlap_matrix(stems: list[list[str]]) -> np.ndarray:
    """Sentences x sentences: the number of shared stem occurrences (sum over terms of the
    product of counts); its diagonal holds each sentence's sum of squared counts."""
    counts = count_matrix(stems)
    return (counts @ counts.T).toarray()


def textrank_scores(stems: list[list[str]], damping: float = TEXTRANK_DAMPING,
                    epsilon: float = TEXTRANK_EPSILON, overlap: np.ndarray | None = None) -> np.ndarray:
    """TextRank: overlap(i, j) / (log|i| + log|j|), row-normalised, damped PageRank.
    `overlap` is overlap_matrix(stems), if the caller already has it."""
    n = len(stems)
    if n == 0:
        return np.zeros(0)
    if overlap is None:
        overlap = overlap_matrix(stems)
    lengths = np.array([len(s) for s in stems], dtype=float)
    with np.errstate(divide="ignore"):
        logs = np.log(lengths)
    norm = logs[:, None] + logs[None, :]
    weights = np.zeros((n, n))
    nonzero = overlap > 0
    tiny = nonzero & np.isclose(norm, 0.0)
    regular = nonzero & ~tiny
    weights[regular] = overlap[regular] / norm[regular]
    weights[tiny] = overlap[tiny]
    weights /= weights.sum(axis=1)[:, None] + _ZERO_DIVISION_PREVENTION
    matrix = np.full((n, n), (1.0 - damping) / n) + damping * weights
    return power_method(matrix, epsilon)

"""Small statistical helpers shared by the metric modules."""

from __future__ import annotations

import numpy as np
from scipy import stats


def pearson(a, b) -> float:
    """Pearson correlation over finite pairs; NaN when either side is constant."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def auc(scores, labels) -> float:
    """ROC AUC of ``scores`` for ``labels == 1`` with ties counted as one half.

    This is the Mann-Whitney U statistic normalised by ``n_pos * n_neg``,
    computed from average ranks, so a tied (positive, negative) pair
    contributes 0.5.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    n_pos = int(labels.sum())
    n_neg = labels.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def stratified_bootstrap(labels: np.ndarray, n_bootstrap: int, rng: np.random.Generator):
    """Yield index arrays resampling each class with replacement, sizes kept."""
    labels = np.asarray(labels)
    groups = [np.flatnonzero(labels == v) for v in np.unique(labels)]
    for _ in range(n_bootstrap):
        yield np.concatenate([rng.choice(g, size=g.size, replace=True) for g in groups])


def percentile_ci(values, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap replicates (NaN replicates dropped)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    alpha = (1 - level) / 2
    lo, hi = np.quantile(values, [alpha, 1 - alpha])
    return float(lo), float(hi)


def bh_qvalues(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN p-values stay NaN."""
    p = np.asarray(pvalues, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
    return q


def safe_ratio(num: float, den: float) -> float:
    """``num / den`` with NaN instead of a division warning when ``den`` is 0."""
    if not np.isfinite(den) or den == 0:
        return float("nan")
    return float(num) / float(den)


def quiet_mean(x) -> float:
    """Mean of the finite entries; NaN (no warning) when there are none."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")

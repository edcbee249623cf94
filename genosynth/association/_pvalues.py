"""p-values on the -log10 scale, accurate far below the smallest double."""

from __future__ import annotations

import numpy as np
from scipy import stats

_LN10 = np.log(10.0)


def _neglog10_p_normal(z: np.ndarray) -> np.ndarray:
    """-log10 of the two-sided normal p-value of ``z`` (finite for any finite z)."""
    z = np.abs(np.asarray(z, dtype=np.float64))
    return -(np.log(2.0) + stats.norm.logsf(z)) / _LN10


def _neglog10_p_t(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """-log10 of the two-sided Student-t p-value.

    ``scipy.stats.t.logsf`` underflows to -inf for large |t| and df; there the
    tail is ``sf(t) = f(t) (df + t^2) / ((df - 1) t) (1 + O(1/t^2))``
    (integration by parts of the density), accurate to < 1e-3 in log10 where
    it is used.
    """
    t = np.abs(np.asarray(t, dtype=np.float64))
    df = np.asarray(df, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logsf = stats.t.logsf(t, df)
        tail = stats.t.logpdf(t, df) + np.log((df + t * t) / ((df - 1.0) * t))
    logsf = np.where(np.isfinite(logsf) | np.isnan(t), logsf, tail)
    return -(np.log(2.0) + logsf) / _LN10

"""Overlap of synthetic and real individuals in the real cohort's principal components."""

from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.decomposition import PCA

from genosynth.metrics import _inputs
from genosynth.metrics._stats import quiet_mean
from genosynth.stats._genetics import allele_frequencies


def _standardiser(R: np.ndarray):
    """Genotype standardisation fitted on the real cohort (Patterson et al. 2006)."""
    p = allele_frequencies(R)
    scale = np.sqrt(2 * p * (1 - p))
    keep = np.isfinite(scale) & (scale > 0)
    mean, scale = 2 * p[keep], scale[keep]

    def transform(G: np.ndarray) -> np.ndarray:
        X = G[:, keep].astype(np.float64)
        # A missing call becomes the real mean, i.e. 0 after centring.
        X = np.where(G[:, keep] >= 0, X, mean)
        return (X - mean) / scale

    return transform, int(keep.sum())


def pca_overlap(real, synthetic, *, holdout=None, n_components=10, random_state=0) -> dict:
    """Principal components fitted on real individuals, synthetic ones projected.

    Genotypes are standardised with the real allele frequencies,
    ``(g - 2p) / sqrt(2p(1-p))`` (missing calls set to the mean, monomorphic
    variants dropped), a PCA is fitted on the real rows, and synthetic rows
    (and, if given, holdout rows as a yardstick) are projected onto it.

    Reported per component: the 1-D Wasserstein distance between the real
    and synthetic scores divided by the real scores' standard deviation
    (ideal 0); their mean over components; and the fraction of synthetic rows
    lying outside the real rows' range on at least one component (ideal: the
    holdout's fraction, small but not 0 since a new sample can exceed the
    range of the first).

    Parameters
    ----------
    real, synthetic : array-like of shape (n, n_variants) or xarray.Dataset
    holdout : array-like of shape (n_holdout, n_variants) or xarray.Dataset, optional
        Unseen real individuals, projected for reference.
    n_components : int, default=10
        Components kept (capped by the data's rank).
    random_state : int, default=0
        Seed of the randomised SVD solver that sklearn picks for large data.

    Returns
    -------
    dict
        ``pca_wasserstein_mean``, ``pca_fraction_outside`` and, with a
        holdout, ``pca_holdout_wasserstein_mean`` and
        ``pca_holdout_fraction_outside``; arrays ``pca_wasserstein`` (per
        component), ``pca_explained_variance_ratio``, ``pca_real``,
        ``pca_synthetic`` (and ``pca_holdout``) scores.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> real = rng.integers(0, 3, (100, 50))
    >>> res = pca_overlap(real, real.copy(), n_components=3)
    >>> res["pca_wasserstein_mean"], res["pca_fraction_outside"]
    (0.0, 0.0)
    """
    R = _inputs.genotypes(real, "real")
    S = _inputs.genotypes(synthetic, "synthetic")
    H = None if holdout is None else _inputs.genotypes(holdout, "holdout")
    _inputs.same_panel(real=R, synthetic=S, **({} if H is None else {"holdout": H}))
    transform, n_kept = _standardiser(R)
    k = min(int(n_components), R.shape[0] - 1, n_kept)
    if k < 1:
        raise ValueError(
            f"PCA needs at least 2 real rows and 1 polymorphic variant (got {R.shape[0]} rows, "
            f"{n_kept} polymorphic variants)"
        )
    pca = PCA(n_components=k, random_state=random_state).fit(transform(R))
    scores = {"real": pca.transform(transform(R)), "synthetic": pca.transform(transform(S))}
    if H is not None:
        scores["holdout"] = pca.transform(transform(H))
    lo, hi = scores["real"].min(axis=0), scores["real"].max(axis=0)
    sd = scores["real"].std(axis=0)
    out = {
        "pca_explained_variance_ratio": pca.explained_variance_ratio_,
        "pca_real": scores["real"],
    }
    for name in [n for n in scores if n != "real"]:
        tag = "" if name == "synthetic" else "holdout_"
        w = np.array(
            [
                stats.wasserstein_distance(scores["real"][:, c], scores[name][:, c]) / sd[c]
                for c in range(k)
            ]
        )
        outside = ((scores[name] < lo) | (scores[name] > hi)).any(axis=1)
        out[f"pca_{tag}wasserstein"] = w
        out[f"pca_{tag}wasserstein_mean"] = quiet_mean(w)
        out[f"pca_{tag}fraction_outside"] = float(outside.mean())
        out[f"pca_{name}"] = scores[name]
    return out

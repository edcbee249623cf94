"""Membership-inference attacks against a synthetic cohort.

The attacker holds the synthetic cohort and a real individual and guesses
whether that individual was in the training data. Members are the training
rows, non-members the holdout rows; the attack's ROC AUC is reported (ideal
0.5: no better than chance; target <= 0.53). AUCs are computed from average
ranks, so a tied (member, non-member) pair of scores counts 1/2, and come
with a percentile bootstrap interval that resamples members and non-members
separately.
"""

from __future__ import annotations

import numpy as np

from genosynth.metrics import _inputs
from genosynth.metrics._neighbours import _nearest
from genosynth.metrics._stats import auc, percentile_ci, stratified_bootstrap
from genosynth.metrics.privacy import _three


def _attack_summary(prefix, scores, membership, n_bootstrap, rng) -> dict:
    value = auc(scores, membership)
    boot = [
        auc(scores[i], membership[i]) for i in stratified_bootstrap(membership, n_bootstrap, rng)
    ]
    lo, hi = percentile_ci(boot) if n_bootstrap else (float("nan"), float("nan"))
    return {
        f"{prefix}_auc": value,
        f"{prefix}_auc_ci_low": lo,
        f"{prefix}_auc_ci_high": hi,
        f"{prefix}_tpr_at_1pct_fpr": _tpr_at_fpr(scores, membership, 0.01),
        f"{prefix}_scores": scores,
        "membership": membership,
    }


def _tpr_at_fpr(scores, membership, max_fpr) -> float:
    """Highest true-positive rate over thresholds whose false-positive rate <= max_fpr.

    A threshold accepts every row scoring at least it, so tied scores are
    accepted together (no random tie-breaking).
    """
    thresholds = np.unique(scores)[::-1]
    pos, neg = scores[membership == 1], scores[membership == 0]
    pos_sorted, neg_sorted = np.sort(pos), np.sort(neg)
    tpr = 1 - np.searchsorted(pos_sorted, thresholds, side="left") / pos.size
    fpr = 1 - np.searchsorted(neg_sorted, thresholds, side="left") / neg.size
    ok = fpr <= max_fpr
    return float(tpr[ok].max()) if ok.any() else 0.0


def _members(train, holdout):
    return np.r_[np.ones(train.shape[0], dtype=np.int8), np.zeros(holdout.shape[0], dtype=np.int8)]


def distance_attack(
    real_train, real_holdout, synthetic, *, n_bootstrap=1000, random_state=None, block_size=2048
) -> dict:
    """Membership inference by distance to the nearest synthetic individual.

    Score of a real individual: minus its Hamming distance to the nearest
    synthetic row (closer = more likely a member). Ideal AUC 0.5; copycat
    scores far above it because every copied member is at distance 0.

    Parameters
    ----------
    real_train, real_holdout, synthetic : array-like (n, n_variants) or xarray.Dataset
        Members, non-members and the synthetic cohort, on the same variants.
    n_bootstrap : int, default=1000
        Bootstrap replicates of the AUC interval (0 skips it).
    random_state : int, numpy Generator or None, default=None
        Seeds the bootstrap.
    block_size : int, default=2048

    Returns
    -------
    dict
        ``mia_auc``, ``mia_auc_ci_low``, ``mia_auc_ci_high`` (95% percentile
        interval), ``mia_tpr_at_1pct_fpr`` (true-positive rate at a
        false-positive rate of at most 1%; ideal 0.01), and the arrays
        ``mia_scores`` (members first, then non-members) and ``membership``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> train, holdout = rng.integers(0, 3, (80, 40)), rng.integers(0, 3, (80, 40))
    >>> res = distance_attack(train, holdout, train[:40], n_bootstrap=0)
    >>> round(res["mia_auc"], 2)
    0.78
    """
    train, holdout, syn = _three(real_train, real_holdout, synthetic)
    rng = _inputs.rng_from(random_state)
    real = np.concatenate([train, holdout])
    scores = -_nearest(real, syn, 1, block_size=block_size)[0][:, 0].astype(np.float64)
    return _attack_summary("mia", scores, _members(train, holdout), n_bootstrap, rng)


def density_ratio_attack(
    real_train,
    real_holdout,
    synthetic,
    *,
    n_neighbors=1,
    n_bootstrap=1000,
    random_state=None,
    block_size=2048,
) -> dict:
    """Membership inference by a synthetic-to-reference density ratio (DOMIAS-style).

    DOMIAS (van Breugel et al. 2023) scores a real individual ``x`` by
    ``p_syn(x) / p_ref(x)``: a generator that memorises puts more synthetic
    density on its training members than the population density explains.
    Both densities are k-nearest-neighbour estimates in Hamming space,
    ``p(x) ~ k / (n r_k(x)^m)`` with ``r_k`` the distance to the ``k``-th
    nearest row; the log ratio is then ``m (log r_ref,k(x) - log r_syn,k(x))``
    plus a constant, and since the unknown intrinsic dimension ``m`` only
    scales it, the score used is

        score(x) = log(1 + r_ref,k(x)) - log(1 + r_syn,k(x))

    (the ``1 +`` keeps exact copies, ``r = 0``, finite). The reference
    population is the holdout: for a holdout individual its own row is left
    out of the reference (leave-one-out), so members and non-members are
    scored against the same population. Ideal AUC 0.5.

    Parameters
    ----------
    real_train, real_holdout, synthetic : array-like (n, n_variants) or xarray.Dataset
        Members, non-members (and reference population), synthetic cohort.
    n_neighbors : int, default=1
        ``k`` of the density estimates. k = 1 is the most sensitive to
        memorised individuals; larger k gives smoother densities.
    n_bootstrap : int, default=1000
        Bootstrap replicates of the AUC interval (0 skips it).
    random_state : int, numpy Generator or None, default=None
        Seeds the bootstrap.
    block_size : int, default=2048

    Returns
    -------
    dict
        ``domias_auc``, ``domias_auc_ci_low``, ``domias_auc_ci_high``,
        ``domias_tpr_at_1pct_fpr``, and the arrays ``domias_scores`` (members
        first) and ``membership``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> train, holdout = rng.integers(0, 3, (80, 40)), rng.integers(0, 3, (80, 40))
    >>> res = density_ratio_attack(train, holdout, train[:40], n_bootstrap=0)
    >>> res["domias_auc"] > 0.7
    True
    """
    train, holdout, syn = _three(real_train, real_holdout, synthetic)
    k = int(n_neighbors)
    if k < 1 or k > min(syn.shape[0], holdout.shape[0] - 1):
        raise ValueError(
            f"n_neighbors must be between 1 and min(n_synthetic, n_holdout - 1), got {n_neighbors}"
        )
    rng = _inputs.rng_from(random_state)
    real = np.concatenate([train, holdout])
    r_syn = _nearest(real, syn, k, block_size=block_size)[0][:, -1]
    r_ref = np.concatenate(
        [
            _nearest(train, holdout, k, block_size=block_size)[0][:, -1],
            _nearest(holdout, holdout, k, exclude_self=True, block_size=block_size)[0][:, -1],
        ]
    )
    scores = np.log1p(r_ref.astype(np.float64)) - np.log1p(r_syn.astype(np.float64))
    return _attack_summary("domias", scores, _members(train, holdout), n_bootstrap, rng)

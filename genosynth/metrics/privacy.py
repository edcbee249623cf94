"""Distance-based privacy metrics: IMR, DCR, NNDR and adversarial accuracy.

All of them use the Hamming distance on dosages of
:func:`~genosynth.metrics.hamming_distances` (``sum_j |a_j - b_j|``; missing
calls skipped and the distance rescaled to the panel length) and compare the
synthetic cohort with the *holdout*: real individuals the generator never
saw are the yardstick for "as close to the training data as a new person
would be".
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from genosynth.metrics import _inputs
from genosynth.metrics._neighbours import _nearest
from genosynth.metrics._stats import safe_ratio


def _three(real_train, real_holdout, synthetic):
    train = _inputs.genotypes(real_train, "real_train")
    holdout = _inputs.genotypes(real_holdout, "real_holdout")
    syn = _inputs.genotypes(synthetic, "synthetic")
    _inputs.same_panel(real_train=train, real_holdout=holdout, synthetic=syn)
    return train, holdout, syn


def _closest_records(train, holdout, syn, *, block_size=2048) -> dict:
    """Distances to the first (and second, if any) nearest training rows."""
    k = min(2, train.shape[0])
    d_syn, _ = _nearest(syn, train, k, block_size=block_size)
    d_hold, _ = _nearest(holdout, train, k, block_size=block_size)
    return {"synthetic": d_syn.astype(np.float64), "holdout": d_hold.astype(np.float64)}


def _summarise_imr(closest: dict) -> dict:
    return {
        "identical_match_rate": float(np.mean(closest["synthetic"][:, 0] == 0)),
        "identical_match_rate_holdout": float(np.mean(closest["holdout"][:, 0] == 0)),
    }


def _summarise_dcr(closest: dict) -> dict:
    d_syn = closest["synthetic"][:, 0]
    d_hold = closest["holdout"][:, 0]
    p5 = float(np.quantile(d_hold, 0.05))
    ks = stats.ks_2samp(d_syn, d_hold)
    mw = stats.mannwhitneyu(d_syn, d_hold, alternative="less")
    med_syn, med_hold = float(np.median(d_syn)), float(np.median(d_hold))
    return {
        "dcr_synthetic_median": med_syn,
        "dcr_holdout_median": med_hold,
        "dcr_ratio": safe_ratio(med_syn, med_hold),
        "dcr_ks_statistic": float(ks.statistic),
        "dcr_ks_pvalue": float(ks.pvalue),
        "dcr_mannwhitney_pvalue": float(mw.pvalue),
        "dcr_holdout_p5": p5,
        "dcr_fraction_below_holdout_p5": float(np.mean(d_syn < p5)),
        "dcr_holdout_fraction_below_p5": float(np.mean(d_hold < p5)),
        "dcr_synthetic": d_syn,
        "dcr_holdout": d_hold,
    }


def _nndr(d: np.ndarray) -> np.ndarray:
    out = np.zeros(d.shape[0])
    np.divide(d[:, 0], d[:, 1], out=out, where=d[:, 0] > 0)
    return out


def _summarise_nndr(closest: dict) -> dict:
    if closest["synthetic"].shape[1] < 2:
        raise ValueError("the nearest-neighbour distance ratio needs at least 2 training rows")
    syn, hold = _nndr(closest["synthetic"]), _nndr(closest["holdout"])
    return {
        "nndr_synthetic_median": float(np.median(syn)),
        "nndr_holdout_median": float(np.median(hold)),
        "nndr_synthetic": syn,
        "nndr_holdout": hold,
    }


def identical_match_rate(real_train, real_holdout, synthetic, *, block_size=2048) -> dict:
    """Fraction of synthetic individuals identical to some training individual.

    Definition: the fraction of synthetic rows whose Hamming distance to the
    nearest training row is 0 (with missing calls: identical on every site
    both individuals have called). The same fraction for holdout rows is
    reported as the background rate of identical real genotypes on this panel.

    Ideal value: 0 (copycat: 1).

    Parameters
    ----------
    real_train, real_holdout, synthetic : array-like (n, n_variants) or xarray.Dataset
        Genotypes 0/1/2 (-1/NaN missing) on the same variants.
    block_size : int, default=2048
        Rows per block of the distance computation.

    Returns
    -------
    dict
        ``identical_match_rate`` (synthetic) and ``identical_match_rate_holdout``
        (reference).

    Examples
    --------
    >>> import numpy as np
    >>> train = np.array([[0, 1, 2], [2, 2, 0]])
    >>> identical_match_rate(train, [[1, 1, 1]], [[0, 1, 2], [1, 1, 2]])
    {'identical_match_rate': 0.5, 'identical_match_rate_holdout': 0.0}
    """
    return _summarise_imr(
        _closest_records(*_three(real_train, real_holdout, synthetic), block_size=block_size)
    )


def distance_to_closest_record(real_train, real_holdout, synthetic, *, block_size=2048) -> dict:
    """Distance to the closest training record, synthetic vs holdout.

    For every synthetic row and every holdout row, DCR is the Hamming
    distance to the nearest *training* row. A private generator produces
    synthetic rows no closer to the training data than unseen real people
    (the holdout) are.

    Reported: both medians and their ratio ``median(DCR_syn) /
    median(DCR_holdout)`` (ideal 1; target 0.9-1.3; NaN when the holdout
    median is 0); the two-sample Kolmogorov-Smirnov test and the one-sided
    Mann-Whitney test that synthetic DCRs are *smaller* (ideal: large
    p-values); the fraction of synthetic rows strictly closer than the
    holdout's 5th percentile (ideal: the holdout's own fraction,
    ``dcr_holdout_fraction_below_p5``, about 0.05 - integer distances make
    the two differ from 0.05 by ties, equally for both).

    Parameters
    ----------
    real_train, real_holdout, synthetic : array-like (n, n_variants) or xarray.Dataset
        Genotypes on the same variants.
    block_size : int, default=2048
        Rows per block of the distance computation.

    Returns
    -------
    dict
        The scalars above and the per-row arrays ``dcr_synthetic`` and
        ``dcr_holdout``.

    Examples
    --------
    >>> import numpy as np
    >>> train = np.array([[0, 0, 0, 0], [2, 2, 2, 2]])
    >>> res = distance_to_closest_record(train, [[1, 0, 0, 0], [1, 1, 0, 0]], [[0, 0, 0, 0]])
    >>> res["dcr_synthetic_median"], res["dcr_holdout_median"], res["dcr_ratio"]
    (0.0, 1.5, 0.0)
    """
    closest = _closest_records(*_three(real_train, real_holdout, synthetic), block_size=block_size)
    return _summarise_dcr(closest)


def nearest_neighbour_distance_ratio(
    real_train, real_holdout, synthetic, *, block_size=2048
) -> dict:
    """Nearest-neighbour distance ratio to the training data, synthetic vs holdout.

    NNDR of a row is ``d1 / d2``, its distances to the nearest and the
    second-nearest training rows. Values near 0 mean the row sits much closer
    to one training individual than to any other (a privacy risk); a row with
    ``d1 = 0`` (an exact copy) has NNDR 0 whatever ``d2`` is. Ideal: the
    synthetic median equals the holdout median.

    Parameters
    ----------
    real_train, real_holdout, synthetic : array-like (n, n_variants) or xarray.Dataset
        Genotypes on the same variants (at least 2 training rows).
    block_size : int, default=2048

    Returns
    -------
    dict
        ``nndr_synthetic_median``, ``nndr_holdout_median`` and the per-row
        arrays ``nndr_synthetic``, ``nndr_holdout``.

    Examples
    --------
    >>> train = [[0, 0, 0, 0], [2, 2, 2, 2]]
    >>> nearest_neighbour_distance_ratio(train, [[1, 1, 1, 1]], [[0, 0, 0, 1]])[
    ...     "nndr_synthetic_median"]
    0.14285714285714285
    """
    closest = _closest_records(*_three(real_train, real_holdout, synthetic), block_size=block_size)
    return _summarise_nndr(closest)


def _aa(real: np.ndarray, syn: np.ndarray, rng, block_size) -> tuple[float, float]:
    """The real and synthetic halves of AA_TS for two equal-sized sets (larger one subsampled)."""
    n = min(real.shape[0], syn.shape[0])
    real = real[_inputs.subsample(real.shape[0], n, rng)]
    syn = syn[_inputs.subsample(syn.shape[0], n, rng)]
    d_rs = _nearest(real, syn, 1, block_size=block_size)[0][:, 0]
    d_rr = _nearest(real, real, 1, exclude_self=True, block_size=block_size)[0][:, 0]
    d_sr = _nearest(syn, real, 1, block_size=block_size)[0][:, 0]
    d_ss = _nearest(syn, syn, 1, exclude_self=True, block_size=block_size)[0][:, 0]

    def correct(other, same):
        return np.mean((other > same) + 0.5 * (other == same))

    return float(correct(d_rs, d_rr)), float(correct(d_sr, d_ss))


def adversarial_accuracy(
    real_train, real_holdout, synthetic, *, random_state=None, block_size=2048
) -> dict:
    """Nearest-neighbour adversarial accuracy (AATS) and privacy loss (Yale et al. 2020).

    ``AA_TS = 1/2 (mean_t [d_TS(t) > d_TT(t)] + mean_s [d_ST(s) > d_SS(s)])``
    where ``d_TS(t)`` is the distance from real row ``t`` to its nearest
    synthetic row and ``d_TT(t)`` to its nearest *other* real row (likewise
    for synthetic rows): the leave-one-out accuracy of a 1-nearest-neighbour
    classifier telling real from synthetic. A tie ``d_TS = d_TT`` counts 1/2.
    Both sets must have equal size for the two nearest-neighbour distances to
    be comparable, so the larger one is subsampled without replacement
    (seeded by ``random_state``) to the smaller one's size.

    ``nnaa`` uses the training set, ``nnaa_holdout`` the holdout;
    ``privacy_loss = nnaa_holdout - nnaa``. Ideal: both accuracies 0.5
    (target 0.45-0.60 for ``nnaa``), privacy loss 0. Values well below
    0.5 mean synthetic rows sit on top of training rows (the copycat baseline's
    value is in benchmarks/README.md, "Metrics: nearest neighbours at scale and
    the full report"); well above 0.5 mean they are easy to tell from real ones.

    The two halves of ``nnaa`` are reported too, because an average near 0.5
    can hide two failures: ``nnaa_real`` (the first mean: training rows
    whose nearest neighbour is real) near 1 says no synthetic row comes as
    close to a real individual as that individual's closest real relative,
    and ``nnaa_synthetic`` near 0 says synthetic rows are isolated from each
    other too; each is 0.5 for a generator indistinguishable from the
    population.

    Parameters
    ----------
    real_train, real_holdout, synthetic : array-like (n, n_variants) or xarray.Dataset
        Genotypes on the same variants (at least 2 rows each).
    random_state : int, numpy Generator or None, default=None
        Seeds the subsampling to equal sizes.
    block_size : int, default=2048

    Returns
    -------
    dict
        ``nnaa`` (training set), its halves ``nnaa_real`` and
        ``nnaa_synthetic``, ``nnaa_holdout``, ``privacy_loss``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> train, holdout = rng.integers(0, 3, (60, 30)), rng.integers(0, 3, (60, 30))
    >>> res = adversarial_accuracy(train, holdout, train.copy(), random_state=0)
    >>> res["nnaa"] < 0.3 < 0.4 < res["nnaa_holdout"]
    True
    """
    train, holdout, syn = _three(real_train, real_holdout, synthetic)
    for name, G in (("real_train", train), ("real_holdout", holdout), ("synthetic", syn)):
        if G.shape[0] < 2:
            raise ValueError(f"{name} needs at least 2 rows for adversarial accuracy")
    rng = _inputs.rng_from(random_state)
    real_half, synthetic_half = _aa(train, syn, rng, block_size)
    holdout_real_half, holdout_synthetic_half = _aa(holdout, syn, rng, block_size)
    aa_train = 0.5 * (real_half + synthetic_half)
    aa_hold = 0.5 * (holdout_real_half + holdout_synthetic_half)
    return {
        "nnaa": aa_train,
        "nnaa_real": real_half,
        "nnaa_synthetic": synthetic_half,
        "nnaa_holdout": aa_hold,
        "privacy_loss": aa_hold - aa_train,
    }

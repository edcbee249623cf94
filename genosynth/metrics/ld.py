"""Linkage disequilibrium: pairwise r² on nearby variants, LD decay, 3-point correlations.

"Nearby" pairs
--------------
Variants ``i < j`` form a nearby pair when they lie on the same contig, at
most ``window`` variants apart in panel order, and - if ``max_distance`` is
given - at most ``max_distance`` base pairs apart (panel positions when the
variants' positions are not known).
The panel must be in genomic order within each contig (as
:class:`~genosynth.GWASSelector` returns it). Without variant metadata the
panel order is the only coordinate and distances are counted in variants.

r² is the squared Pearson correlation of the dosages of the two variants
across individuals. A missing call is replaced by the variant's mean dosage
in that cohort (it then adds nothing to the covariance, a slight
attenuation); a variant that is constant in a cohort has r² = 0 with every
other variant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from genosynth.metrics import _inputs
from genosynth.metrics._stats import pearson, quiet_mean

# Variants per band of the banded r² computation: memory n_samples x (band + window).
_BAND = 256


def _centred(G: np.ndarray) -> np.ndarray:
    """Dosages minus the column mean, missing calls at 0 (mean-imputed), float64."""
    called = G >= 0
    X = np.where(called, G, 0).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = X.sum(axis=0) / called.sum(axis=0)
    return np.where(called, X - np.nan_to_num(mean), 0.0)


def _unit(G: np.ndarray) -> np.ndarray:
    C = _centred(G)
    norm = np.sqrt((C**2).sum(axis=0))
    return np.divide(C, norm, out=np.zeros_like(C), where=norm > 0)


def reach(contig, position, window: int, max_distance=None) -> np.ndarray:
    """For every variant, how many of the next variants are "nearby" (see module doc)."""
    L = contig.size
    same_run = np.r_[contig[1:] == contig[:-1], False]
    if np.any(same_run[:-1] & (np.diff(position) < 0)):
        raise ValueError("variants must be sorted by position within each contig (genomic order)")
    out = np.zeros(L, dtype=np.int64)
    ok = np.ones(L, dtype=bool)
    idx = np.arange(L)
    for d in range(1, int(window) + 1):
        partner = idx + d
        valid = partner < L
        pc = np.minimum(partner, L - 1)
        ok &= valid & (contig[pc] == contig)
        if max_distance is not None:
            ok &= (position[pc] - position) <= max_distance
        if not ok.any():
            break
        out += ok
    return out


def nearby_pairs(contig, position, window: int, max_distance=None):
    """Index arrays ``(i, j)`` of all nearby pairs, sorted by ``i`` then ``j``."""
    r = reach(contig, position, window, max_distance)
    i = np.repeat(np.arange(r.size), r)
    offsets = np.arange(i.size) - np.repeat(np.cumsum(r) - r, r) + 1
    return i, i + offsets


def pair_r2(G: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """r² of the pairs ``(i[t], j[t])`` (``i`` sorted, ``j - i`` small), band by band."""
    out = np.empty(i.size)
    L = G.shape[1]
    span = int((j - i).max(initial=0))
    for s in range(0, L, _BAND):
        lo, hi = np.searchsorted(i, [s, s + _BAND])
        if lo == hi:
            continue
        stop = min(L, s + _BAND + span)
        U = _unit(G[:, s:stop])
        corr = U[:, : min(_BAND, stop - s)].T @ U
        out[lo:hi] = corr[i[lo:hi] - s, j[lo:hi] - s] ** 2
    return out


def ld_matrix(G, *, start=0, stop=None) -> np.ndarray:
    """r² between every pair of the consecutive variants ``start:stop`` (for heatmaps).

    Examples
    --------
    >>> ld_matrix([[0, 0, 2], [2, 2, 0], [1, 1, 1]])
    array([[1., 1., 1.],
           [1., 1., 1.],
           [1., 1., 1.]])
    """
    G = _inputs.genotypes(G, "G")
    U = _unit(G[:, start:stop])
    R2 = (U.T @ U) ** 2
    np.fill_diagonal(R2, 1.0)
    return np.clip(R2, 0.0, 1.0)


def _decay_table(distance, r2_real, r2_syn, n_bins) -> pd.DataFrame:
    edges = np.unique(np.quantile(distance, np.linspace(0, 1, n_bins + 1)))
    if edges.size < 2:
        edges = np.array([distance.min(), distance.max()])
    which = np.clip(np.searchsorted(edges, distance, side="right") - 1, 0, edges.size - 2)
    rows = []
    for b in range(edges.size - 1):
        sel = which == b
        if not sel.any():
            continue
        rows.append(
            {
                "distance_low": edges[b],
                "distance_high": edges[b + 1],
                "distance_mean": float(distance[sel].mean()),
                "n_pairs": int(sel.sum()),
                "r2_real": float(r2_real[sel].mean()),
                "r2_synthetic": float(r2_syn[sel].mean()),
            }
        )
    return pd.DataFrame(rows)


def ld_metrics(real, synthetic, *, variants=None, window=50, max_distance=None, n_bins=10):
    """Pairwise LD (r²) of nearby variant pairs, synthetic vs real, and LD decay.

    For every nearby pair (see the module docstring) r² is computed in each
    cohort. Reported: the Pearson correlation of the two r² vectors across
    pairs (ideal 1; target >= 0.95), their mean absolute difference (ideal
    0), and LD decay - mean r² in ``n_bins`` equal-count bins of pair
    distance (base pairs when positions are known, variants otherwise) for
    both cohorts, summarised by the largest absolute difference of binned
    means (ideal 0).

    Parameters
    ----------
    real, synthetic : array-like of shape (n, n_variants) or xarray.Dataset
        Genotypes on the same variants, in genomic order.
    variants : pandas.DataFrame, optional
        Columns ``contig`` and ``position`` (e.g. ``GWASSelector.selected_variants_``);
        taken from ``real`` when it is a Dataset.
    window : int, default=50
        Largest separation, in panel positions, of a nearby pair.
    max_distance : int, optional
        Largest separation in base pairs. Without ``variants`` a variant's
        position is its panel index, so it then counts panel positions.
    n_bins : int, default=10
        Bins of the LD-decay curve.

    Returns
    -------
    dict
        ``ld_r2_correlation``, ``ld_r2_mae``, ``ld_n_pairs``,
        ``ld_decay_max_abs_diff``, ``ld_decay`` (DataFrame: distance_low,
        distance_high, distance_mean, n_pairs, r2_real, r2_synthetic), and
        the arrays ``ld_pair_i``, ``ld_pair_j``, ``ld_r2_real``,
        ``ld_r2_synthetic``, ``ld_pair_distance``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> block = rng.integers(0, 3, (200, 1))
    >>> real = np.hstack([block, block, rng.integers(0, 3, (200, 1))])
    >>> res = ld_metrics(real, real, window=2)
    >>> res["ld_n_pairs"], res["ld_r2_correlation"], res["ld_r2_mae"]
    (3, 1.0, 0.0)
    """
    R, var_r = _inputs.genotypes_and_variants(real, "real")
    S = _inputs.genotypes(synthetic, "synthetic")
    L = _inputs.same_panel(real=R, synthetic=S)
    contig, position = _inputs.positions(variants if variants is not None else var_r, L)
    i, j = nearby_pairs(contig, position, window, max_distance)
    if i.size == 0:
        raise ValueError("no nearby variant pairs: increase window or max_distance")
    r2_r, r2_s = pair_r2(R, i, j), pair_r2(S, i, j)
    distance = (position[j] - position[i]).astype(np.float64)
    decay = _decay_table(distance, r2_r, r2_s, n_bins)
    return {
        "ld_r2_correlation": pearson(r2_r, r2_s),
        "ld_r2_mae": quiet_mean(np.abs(r2_r - r2_s)),
        "ld_n_pairs": int(i.size),
        "ld_decay_max_abs_diff": float(np.abs(decay["r2_real"] - decay["r2_synthetic"]).max()),
        "ld_decay": decay,
        "ld_pair_i": i,
        "ld_pair_j": j,
        "ld_pair_distance": distance,
        "ld_r2_real": r2_r,
        "ld_r2_synthetic": r2_s,
    }


def _triplet_moments(G: np.ndarray, triplets: np.ndarray, chunk=256) -> np.ndarray:
    out = np.empty(triplets.shape[0])
    for s in range(0, triplets.shape[0], chunk):
        t = triplets[s : s + chunk]
        cols, inv = np.unique(t, return_inverse=True)
        C = _centred(G[:, cols])
        inv = inv.reshape(t.shape)
        out[s : s + chunk] = (C[:, inv[:, 0]] * C[:, inv[:, 1]] * C[:, inv[:, 2]]).mean(axis=0)
    return out


def three_point_correlations(
    real,
    synthetic,
    *,
    variants=None,
    window=50,
    max_distance=None,
    n_triplets=2000,
    random_state=0,
) -> dict:
    """Connected three-point correlations of nearby variants (Yelmen et al. 2021).

    For a triplet of variants ``i < j < k`` the connected 3-point correlation
    is ``<x_i x_j x_k> - <x_i x_j><x_k> - <x_i x_k><x_j> - <x_j x_k><x_i> +
    2 <x_i><x_j><x_k>``, i.e. the mean product of the centred dosages
    ``E[(x_i - <x_i>)(x_j - <x_j>)(x_k - <x_k>)]`` (Yelmen et al. use 0/1
    haplotypes; here ``x`` is the dosage). It is zero for independent
    variants, so a generator that reproduces pairwise LD only by chance will
    not reproduce it. Triplets are sampled (seeded): ``i`` uniformly among
    variants with at least two nearby partners (module docstring), then two
    distinct partners uniformly among them. Missing calls count as the mean.

    Reported: the Pearson correlation of the real and synthetic values across
    triplets (ideal 1) and their mean absolute difference (ideal 0).

    Parameters
    ----------
    real, synthetic : array-like of shape (n, n_variants) or xarray.Dataset
    variants : pandas.DataFrame, optional
        As in :func:`ld_metrics`.
    window : int, default=50
    max_distance : int, optional
    n_triplets : int, default=2000
        Triplets sampled (with replacement).
    random_state : int, numpy Generator or None, default=0

    Returns
    -------
    dict
        ``three_point_pearson_r``, ``three_point_mae`` and the arrays
        ``three_point_triplets`` (n_triplets, 3), ``three_point_real``,
        ``three_point_synthetic``.

    Examples
    --------
    >>> import numpy as np
    >>> G = np.array([[0, 0, 0], [2, 2, 2], [2, 2, 2], [2, 2, 2]])
    >>> res = three_point_correlations(G, G, window=2, n_triplets=1)
    >>> res["three_point_real"]
    array([-0.75])
    """
    R, var_r = _inputs.genotypes_and_variants(real, "real")
    S = _inputs.genotypes(synthetic, "synthetic")
    L = _inputs.same_panel(real=R, synthetic=S)
    contig, position = _inputs.positions(variants if variants is not None else var_r, L)
    r = reach(contig, position, window, max_distance)
    starts = np.flatnonzero(r >= 2)
    if starts.size == 0:
        raise ValueError("no variant has two nearby partners: increase window or max_distance")
    rng = _inputs.rng_from(random_state)
    i = rng.choice(starts, size=int(n_triplets))
    u = rng.random((i.size, 2))
    # Two distinct offsets in 1..r[i]: the second skips over the first.
    a = 1 + np.floor(u[:, 0] * r[i]).astype(np.int64)
    b = 1 + np.floor(u[:, 1] * (r[i] - 1)).astype(np.int64)
    b += b >= a
    triplets = np.column_stack([i, i + np.minimum(a, b), i + np.maximum(a, b)])
    c_r, c_s = _triplet_moments(R, triplets), _triplet_moments(S, triplets)
    return {
        "three_point_pearson_r": pearson(c_r, c_s),
        "three_point_mae": quiet_mean(np.abs(c_r - c_s)),
        "three_point_triplets": triplets,
        "three_point_real": c_r,
        "three_point_synthetic": c_s,
    }

"""Per-variant fidelity: allele and genotype frequencies, Hardy-Weinberg, heterozygosity.

Frequencies are computed over the non-missing calls of each variant; a
variant with no call at all has NaN frequencies and is left out of the
summaries (correlations and means run over finite values only).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from genosynth.metrics import _inputs
from genosynth.metrics._stats import pearson, quiet_mean

# The genetic basics live in the statistics room; they are part of this module's API.
from genosynth.stats._genetics import (  # noqa: F401
    allele_frequencies,
    allele_frequency_from_counts,
    genotype_counts,
    hardy_weinberg_exact,
)


def _pair(real, synthetic):
    R = _inputs.genotypes(real, "real")
    S = _inputs.genotypes(synthetic, "synthetic")
    _inputs.same_panel(real=R, synthetic=S)
    return R, S


def allele_frequency_metrics(real, synthetic) -> dict:
    """Alternate-allele frequencies of synthetic vs real individuals.

    Definition: per-variant alternate-allele frequency ``p = sum(g) / (2
    n_called)`` in each cohort; reported are their Pearson correlation across
    variants (ideal 1; target >= 0.995), the mean absolute difference (ideal
    0) and the largest absolute difference, "max drift" (ideal 0). Missing
    calls are excluded per variant; variants without any call are skipped.

    Parameters
    ----------
    real, synthetic : array-like of shape (n, n_variants) or xarray.Dataset
        Genotypes 0/1/2 (-1/NaN missing) on the same variants.

    Returns
    -------
    dict
        ``af_pearson_r``, ``af_mae``, ``af_max_drift`` and the arrays
        ``af_real``, ``af_synthetic``.

    Examples
    --------
    >>> res = allele_frequency_metrics([[0, 1, 2], [0, 1, 2]], [[0, 1, 2], [1, 1, 2]])
    >>> res["af_mae"], res["af_max_drift"]
    (0.08333333333333333, 0.25)
    """
    R, S = _pair(real, synthetic)
    af_r, af_s = allele_frequencies(R), allele_frequencies(S)
    diff = np.abs(af_r - af_s)
    return {
        "af_pearson_r": pearson(af_r, af_s),
        "af_mae": quiet_mean(diff),
        "af_max_drift": float(np.nanmax(diff)) if np.isfinite(diff).any() else float("nan"),
        "af_real": af_r,
        "af_synthetic": af_s,
    }


def _inbreeding(counts: np.ndarray) -> np.ndarray:
    """Per-variant F = 1 - observed / expected heterozygosity (NaN if monomorphic)."""
    counts = counts.astype(np.float64)
    n = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = allele_frequency_from_counts(counts)
        expected = 2 * p * (1 - p)
        return 1 - (counts[:, 1] / n) / np.where(expected > 0, expected, np.nan)


def genotype_frequency_metrics(real, synthetic, *, hwe_alpha=1e-6) -> dict:
    """Genotype frequencies and Hardy-Weinberg departures, synthetic vs real.

    Definitions (per variant, over non-missing calls): the frequencies of
    genotypes 0, 1 and 2; the inbreeding coefficient ``F = 1 - H_obs /
    H_exp`` with ``H_exp = 2 p (1 - p)`` (0 under HWE; NaN for monomorphic
    variants); the exact HWE test of :func:`hardy_weinberg_exact`.

    Reported: the mean and largest absolute difference of genotype
    frequencies (over variants and the three genotypes; ideal 0), the mean
    absolute difference of ``F`` (ideal 0) and the fraction of variants
    rejecting HWE at ``hwe_alpha`` in each cohort (ideal: synthetic equal to
    real).

    Parameters
    ----------
    real, synthetic : array-like of shape (n, n_variants) or xarray.Dataset
    hwe_alpha : float, default=1e-6
        Significance level of the HWE rejections (a usual QC threshold).

    Returns
    -------
    dict
        ``genotype_freq_mae``, ``genotype_freq_max``, ``hwe_f_mae``,
        ``hwe_f_real_mean``, ``hwe_f_synthetic_mean``,
        ``hwe_rejected_real``, ``hwe_rejected_synthetic``.

    Examples
    --------
    >>> res = genotype_frequency_metrics([[0], [1], [1], [2]], [[0], [0], [2], [2]])
    >>> res["genotype_freq_mae"], res["hwe_f_real_mean"], res["hwe_f_synthetic_mean"]
    (0.3333333333333333, 0.0, 1.0)
    """
    R, S = _pair(real, synthetic)
    c_r, c_s = genotype_counts(R)[:, :3], genotype_counts(S)[:, :3]  # called genotypes
    with np.errstate(invalid="ignore", divide="ignore"):
        f_r = c_r / c_r.sum(axis=1, keepdims=True)
        f_s = c_s / c_s.sum(axis=1, keepdims=True)
    diff = np.abs(f_r - f_s)
    F_r, F_s = _inbreeding(c_r), _inbreeding(c_s)
    p_r, p_s = hardy_weinberg_exact(R), hardy_weinberg_exact(S)
    return {
        "genotype_freq_mae": quiet_mean(diff),
        "genotype_freq_max": float(np.nanmax(diff)) if np.isfinite(diff).any() else float("nan"),
        "hwe_f_mae": quiet_mean(np.abs(F_r - F_s)),
        "hwe_f_real_mean": quiet_mean(F_r),
        "hwe_f_synthetic_mean": quiet_mean(F_s),
        "hwe_rejected_real": quiet_mean(p_r[np.isfinite(p_r)] < hwe_alpha),
        "hwe_rejected_synthetic": quiet_mean(p_s[np.isfinite(p_s)] < hwe_alpha),
    }


def _individual_heterozygosity(G: np.ndarray) -> np.ndarray:
    called = (G >= 0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (G == 1).sum(axis=1) / called


def heterozygosity_metrics(real, synthetic) -> dict:
    """Heterozygosity of individuals and of variants, synthetic vs real.

    Definitions: an individual's heterozygosity is its fraction of
    heterozygous calls among its non-missing calls; a variant's observed
    heterozygosity is its fraction of heterozygous individuals. Reported: the
    mean individual heterozygosity of each cohort (ideal: equal), the 1-D
    Wasserstein distance between the two distributions of individual
    heterozygosity (ideal 0) and the mean absolute difference of per-variant
    heterozygosity (ideal 0). Individuals without any call are skipped.

    Parameters
    ----------
    real, synthetic : array-like of shape (n, n_variants) or xarray.Dataset

    Returns
    -------
    dict
        ``het_real_mean``, ``het_synthetic_mean``, ``het_wasserstein``,
        ``het_variant_mae``.

    Examples
    --------
    >>> res = heterozygosity_metrics([[1, 1], [0, 2]], [[1, 0], [1, 2]])
    >>> res["het_real_mean"], res["het_synthetic_mean"], res["het_variant_mae"]
    (0.5, 0.5, 0.5)
    """
    R, S = _pair(real, synthetic)
    h_r, h_s = _individual_heterozygosity(R), _individual_heterozygosity(S)
    h_r, h_s = h_r[np.isfinite(h_r)], h_s[np.isfinite(h_s)]
    with np.errstate(invalid="ignore", divide="ignore"):
        v_r = (R == 1).sum(axis=0) / (R >= 0).sum(axis=0)
        v_s = (S == 1).sum(axis=0) / (S >= 0).sum(axis=0)
    return {
        "het_real_mean": quiet_mean(h_r),
        "het_synthetic_mean": quiet_mean(h_s),
        "het_wasserstein": float(stats.wasserstein_distance(h_r, h_s)),
        "het_variant_mae": quiet_mean(np.abs(v_r - v_s)),
    }


def _case_control_difference(G, y) -> np.ndarray:
    _inputs.both_classes(y, "labels")
    return allele_frequencies(G[y == 1]) - allele_frequencies(G[y == 0])


def case_control_differences(real, y_real, synthetic, y_synthetic) -> dict:
    """Case-control allele-frequency differences, synthetic vs real.

    Definition: per variant, ``delta = p_cases - p_controls`` (alternate
    allele). Reported: the Pearson correlation of the two deltas across
    variants (ideal 1), their mean absolute difference (ideal 0), and the
    sign agreement - the fraction of variants with a non-zero real delta
    whose synthetic delta has the same sign, a zero synthetic delta counting
    one half (ideal 1).

    Parameters
    ----------
    real : array-like of shape (n_real, n_variants) or xarray.Dataset
    y_real : array-like of shape (n_real,)
        Binary labels 0 (control) / 1 (case).
    synthetic : array-like of shape (n_syn, n_variants) or xarray.Dataset
    y_synthetic : array-like of shape (n_syn,)

    Returns
    -------
    dict
        ``ccd_pearson_r``, ``ccd_mae``, ``ccd_sign_agreement`` and the
        arrays ``ccd_real``, ``ccd_synthetic``.

    Examples
    --------
    >>> real = [[0, 2], [0, 2], [2, 0], [2, 0]]
    >>> syn = [[0, 2], [1, 2], [2, 2], [2, 1]]
    >>> res = case_control_differences(real, [0, 0, 1, 1], syn, [0, 0, 1, 1])
    >>> res["ccd_real"].tolist(), res["ccd_synthetic"].tolist(), res["ccd_sign_agreement"]
    ([1.0, -1.0], [0.75, -0.25], 1.0)
    """
    R, S = _pair(real, synthetic)
    y_r = _inputs.binary_labels(y_real, R.shape[0], "y_real")
    y_s = _inputs.binary_labels(y_synthetic, S.shape[0], "y_synthetic")
    d_r, d_s = _case_control_difference(R, y_r), _case_control_difference(S, y_s)
    ok = np.isfinite(d_r) & np.isfinite(d_s) & (d_r != 0)
    agree = np.where(np.sign(d_s[ok]) == 0, 0.5, np.sign(d_s[ok]) == np.sign(d_r[ok]))
    return {
        "ccd_pearson_r": pearson(d_r, d_s),
        "ccd_mae": quiet_mean(np.abs(d_r - d_s)),
        "ccd_sign_agreement": quiet_mean(agree),
        "ccd_real": d_r,
        "ccd_synthetic": d_s,
    }

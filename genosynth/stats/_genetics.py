"""Genetic basics on dosage matrices: genotype counts, allele frequencies, exact HWE.

One home for these counts: the association scan's QC and the fidelity metrics both
use them. Dosages count the alternate allele (0/1/2, -1 missing), as everywhere.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from genosynth.data._genotypes import as_genotypes

# Rows per int16 partial sum: 8,000 rows x dosage^2 <= 4 cannot overflow int16.
_ROWS_INT16 = 8000


def named_genotypes(X, name: str):
    """``X`` as int8 dosages plus its variant table (None for arrays); errors name ``X``."""
    try:
        return as_genotypes(X)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{name}: {exc}") from exc


def genotype_counts(G: np.ndarray) -> np.ndarray:
    """Counts of dosage 0, 1, 2 and missing (-1) per variant, shape (n_variants, 4), int64.

    ``G`` is an int8 dosage matrix (n, L). Uses int16 partial sums of ``g``,
    ``g^2`` and ``g < 0`` over row chunks (three cheap reductions instead of
    four comparisons), then solves for the counts: ``sum g = n1 + 2 n2 - nm``
    and ``sum g^2 = n1 + 4 n2 + nm``.

    Examples
    --------
    >>> genotype_counts(np.array([[0, 2], [1, -1], [2, 2]], dtype=np.int8))
    array([[1, 1, 1, 0],
           [0, 0, 2, 1]])
    """
    n, m = G.shape
    s1 = np.zeros(m, dtype=np.int64)
    s2 = np.zeros(m, dtype=np.int64)
    nm = np.zeros(m, dtype=np.int64)
    for start in range(0, n, _ROWS_INT16):
        g = G[start : start + _ROWS_INT16]
        s1 += np.add.reduce(g, axis=0, dtype=np.int16)
        s2 += np.add.reduce(g * g, axis=0, dtype=np.int16)
        nm += np.add.reduce(g < 0, axis=0, dtype=np.int16)
    n2 = (s2 - s1) // 2 - nm
    n1 = s1 + nm - 2 * n2
    n0 = n - n1 - n2 - nm
    return np.stack([n0, n1, n2, nm], axis=1)


def allele_frequency_from_counts(counts: np.ndarray) -> np.ndarray:
    """Alternate-allele frequency per variant from its genotype counts (NaN if no call).

    ``counts`` has shape (..., n_variants, 3 or more): the counts (or
    frequencies) of genotypes 0, 1 and 2 first (a fourth column, missing calls,
    is ignored).
    """
    n = counts[..., :3].sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (counts[..., 1] + 2 * counts[..., 2]) / (2.0 * n)


def minor_allele_frequency(counts: np.ndarray) -> np.ndarray:
    """Minor-allele frequency per variant from its genotype counts (NaN if no call)."""
    af = allele_frequency_from_counts(counts)
    return np.minimum(af, 1.0 - af)


def allele_frequencies(G) -> np.ndarray:
    """Alternate-allele frequency per variant over its non-missing calls (NaN if none).

    Examples
    --------
    >>> allele_frequencies([[0, 2, -1], [1, 2, -1]])
    array([0.25, 1.  ,  nan])
    """
    return allele_frequency_from_counts(genotype_counts(named_genotypes(G, "G")[0]))


def hardy_weinberg_exact(G, *, chunk_size=64) -> np.ndarray:
    """Two-sided exact Hardy-Weinberg test per variant (Wigginton et al. 2005).

    Given the number of called individuals ``n`` and of minor-allele copies
    ``m``, the heterozygote count ``h`` has probability
    ``n! / (n_AA! h! n_aa!) 2^h m! (2n - m)! / (2n)!``; the p-value sums the
    probabilities of every ``h`` no more likely than the observed one
    (relative tolerance 1e-7 for equal probabilities), as ``plink2 --hardy``.
    Variants without a call get NaN; monomorphic variants get 1.

    Parameters
    ----------
    G : array-like of shape (n_samples, n_variants) or xarray.Dataset
    chunk_size : int, default=64
        Variants evaluated together (memory ``chunk_size * n_samples``).

    Returns
    -------
    pvalues : ndarray of shape (n_variants,)

    Examples
    --------
    >>> import numpy as np
    >>> G = np.r_[np.zeros(50), np.full(50, 2)][:, None]  # no heterozygote at p = 0.5
    >>> float(hardy_weinberg_exact(G)[0]) < 1e-20
    True
    """
    counts = genotype_counts(named_genotypes(G, "G")[0])[:, :3]  # called genotypes only
    n = counts.sum(axis=1)
    het = counts[:, 1]
    minor = np.minimum(2 * counts[:, 0] + het, 2 * counts[:, 2] + het)
    p = np.full(counts.shape[0], np.nan)
    for start in range(0, counts.shape[0], chunk_size):
        sl = slice(start, start + chunk_size)
        p[sl] = _hwe_chunk(n[sl], minor[sl], het[sl])
    return p


def _hwe_chunk(n, minor, het_obs) -> np.ndarray:
    h = np.arange(int(minor.max(initial=0)) + 1)[None, :]
    n_, m_ = n[:, None], minor[:, None]
    feasible = (h <= m_) & ((m_ - h) % 2 == 0)
    hom_minor = (m_ - h) // 2
    hom_major = n_ - h - hom_minor
    feasible &= hom_major >= 0
    with np.errstate(invalid="ignore"):
        logp = (
            gammaln(n_ + 1)
            - gammaln(np.where(feasible, hom_major, 0) + 1)
            - gammaln(h + 1)
            - gammaln(np.where(feasible, hom_minor, 0) + 1)
            + h * np.log(2)
            + gammaln(m_ + 1)
            + gammaln(2 * n_ - m_ + 1)
            - gammaln(2 * n_ + 1)
        )
    logp = np.where(feasible, logp, -np.inf)
    obs = np.take_along_axis(logp, np.minimum(het_obs, h.shape[1] - 1)[:, None], axis=1)
    prob = np.exp(logp)
    keep = logp <= obs + 1e-7
    pval = np.minimum(1.0, np.where(keep, prob, 0.0).sum(axis=1))
    pval[n == 0] = np.nan
    return pval

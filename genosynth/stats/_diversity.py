"""Detecting a collapsed generator: synthetic individuals that repeat one another.

A model that learned little (a few epochs, few individuals) can return the
same individual again and again, and then different seeds give the same
cohort. Unrelated people practically never share a genotype on a panel of
hundreds of associated SNPs, so repeats among the synthetic rows are a
symptom worth a warning -- unless the panel is so small or so monomorphic
that independent individuals would coincide anyway, which
:func:`expected_duplicate_fraction` estimates from the cohort's own genotype
frequencies.

Numpy only: :mod:`genosynth.metrics` uses it and must not import torch.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

# A warning is given when more than this fraction of rows repeat another row ...
_WARN_FRACTION = 0.05
# ... and that is this many times what independent individuals would give.
_WARN_EXCESS = 10.0
# Rows hashed per pass (bounds the uint64 temporary to ~16 MB at 1,024 SNPs).
_HASH_ROWS = 2048


def _weights(n_variants: int) -> np.ndarray:
    # Fixed odd multipliers: the same rows hash alike in every chunk and process.
    return np.random.default_rng(0x5EED).integers(1, 2**63, n_variants, dtype=np.uint64) | 1


def row_hashes(G: np.ndarray) -> np.ndarray:
    """A 64-bit hash per row of a dosage matrix; equal rows hash equal.

    Examples
    --------
    >>> G = np.array([[0, 1, 2], [0, 1, 2], [2, 1, 0]], dtype=np.int8)
    >>> h = row_hashes(G)
    >>> bool(h[0] == h[1]), bool(h[0] == h[2])
    (True, False)
    """
    G = np.asarray(G)
    w = _weights(G.shape[1])
    out = np.empty(G.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for start in range(0, G.shape[0], _HASH_ROWS):
            block = G[start : start + _HASH_ROWS].astype(np.int64) + 2  # -1 missing -> 1
            out[start : start + _HASH_ROWS] = (block.astype(np.uint64) * w).sum(axis=1)
    return out


class DuplicateCount(NamedTuple):
    """How many synthetic rows are distinct, and how many repeat another row."""

    n_rows: int
    n_distinct: int
    n_repeated: int  # rows equal to at least one other row

    @property
    def repeated_fraction(self) -> float:
        """Fraction of rows identical to at least one other row."""
        return self.n_repeated / self.n_rows if self.n_rows else 0.0


def count_duplicates(hashes: np.ndarray) -> DuplicateCount:
    """Distinct rows and repeated rows from :func:`row_hashes`.

    Examples
    --------
    >>> count_duplicates(np.array([5, 5, 5, 7], dtype=np.uint64))
    DuplicateCount(n_rows=4, n_distinct=2, n_repeated=3)
    """
    _, counts = np.unique(np.asarray(hashes), return_counts=True)
    return DuplicateCount(int(counts.sum()), int(counts.size), int(counts[counts > 1].sum()))


def pair_identity_probability(maf: np.ndarray) -> float:
    """Probability that two unrelated individuals have the same genotype at every variant.

    Under Hardy-Weinberg proportions with minor allele frequencies ``maf``:
    ``prod_j (p_j^4 + 4 p_j^2 q_j^2 + q_j^4)``.

    Examples
    --------
    >>> pair_identity_probability(np.array([0.0, 0.0]))
    1.0
    >>> round(pair_identity_probability(np.full(100, 0.3)), 8)
    0.0
    """
    p = np.clip(np.nan_to_num(np.asarray(maf, dtype=np.float64), nan=0.0), 0.0, 1.0)
    q = 1.0 - p
    same = p**4 + 4 * p**2 * q**2 + q**4
    return float(np.exp(np.log(np.maximum(same, 1e-300)).sum()))


# Without allele frequencies, panels at least this wide are taken to separate
# unrelated people (at MAF 0.05, 32 SNPs give a pair-identity probability ~0.03).
_MIN_PANEL = 32


def warn_if_collapsed(
    count: DuplicateCount, n_variants: int, maf: np.ndarray | None = None, stacklevel: int = 3
) -> None:
    """Warn when synthetic rows repeat each other far more than unrelated people would.

    Parameters
    ----------
    count : DuplicateCount
        The synthetic cohort's rows, counted by :func:`count_duplicates`.
    n_variants : int
        Width of the panel.
    maf : array-like of shape (n_variants,), optional
        The panel's training minor allele frequencies, for the repeat rate
        expected of unrelated people; without them panels narrower than 32
        SNPs are never warned about.
    stacklevel : int, default=3
        Passed to :func:`warnings.warn`.

    Examples
    --------
    >>> import warnings
    >>> G = np.tile(np.random.default_rng(0).integers(0, 3, 100), (50, 1))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_if_collapsed(count_duplicates(row_hashes(G)), 100)
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    50 of 50 synthetic individuals are identical to another one (1 distinct)...
    """
    if count.n_rows < 2 or count.repeated_fraction <= _WARN_FRACTION:
        return
    if maf is not None and len(maf) == n_variants:
        expected = min(1.0, (count.n_rows - 1) * pair_identity_probability(maf))
    elif n_variants >= _MIN_PANEL:
        expected = 0.0
    else:
        return
    if count.repeated_fraction <= _WARN_EXCESS * expected:
        return
    warnings.warn(
        f"{count.n_repeated} of {count.n_rows} synthetic individuals are identical to another "
        f"one ({count.n_distinct} distinct): the generator has collapsed onto a few "
        "individuals (unrelated people would almost never coincide on this panel). "
        "The model probably learned little: train it longer (max_iter) or on more individuals",
        UserWarning,
        stacklevel=stacklevel,
    )


def warn_if_collapsed_rows(G: np.ndarray, selector=None, stacklevel: int = 4) -> None:
    """:func:`warn_if_collapsed` on a sampled dosage matrix.

    ``selector`` (a fitted :class:`~genosynth.GWASSelector`, optional)
    gives the panel's training minor allele frequencies (``maf_``).

    Examples
    --------
    >>> warn_if_collapsed_rows(np.random.default_rng(0).integers(0, 3, (50, 100)))
    """
    maf = None
    if selector is not None and hasattr(selector, "maf_"):
        maf = np.asarray(selector.maf_)[selector.get_support()]
    warn_if_collapsed(count_duplicates(row_hashes(G)), G.shape[1], maf, stacklevel=stacklevel)

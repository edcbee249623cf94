"""Phased haplotypes of an sgkit Dataset, for the code that needs phase.

Dosages (:mod:`genosynth.data._genotypes`) are what most of genosynth works on;
they lose the phase. The haplotype-copying generator and the haplotype
segment-sharing metric need the two haplotypes of each individual, which
only a Dataset with ``call_genotype`` whose ``call_genotype_phased`` is true
for every call provides (as phasing tools and msprime write them). Nothing
here phases data: unphased input is refused with a message saying so.

Haplotypes are ``int8`` of shape ``(n_samples, n_variants, 2)``: allele
indices 0 (ref) / 1 (alt, the allele dosages count), ``-1`` missing. Their
sum over the last axis is the dosage matrix of :func:`as_genotypes`.
"""

from __future__ import annotations

import numpy as np

from genosynth.data._genotypes import _check_dataset_layout, _is_dataset

PHASING_NEEDED = (
    "phased haplotypes are needed: an sgkit Dataset whose call_genotype is phased "
    "(call_genotype_phased true for every call). Phase the cohort first (e.g. SHAPEIT5, "
    "Eagle2 or Beagle); genosynth does not phase genotypes"
)


def is_phased(X) -> bool:
    """Whether ``X`` is a Dataset of phased ``call_genotype`` (every call marked phased).

    Examples
    --------
    >>> import numpy as np
    >>> is_phased(np.zeros((2, 3)))
    False
    """
    if not _is_dataset(X) or "call_genotype" not in X or "call_genotype_phased" not in X:
        return False
    return bool(np.asarray(X["call_genotype_phased"].values).all())


def as_haplotypes(X, *, name: str = "X") -> np.ndarray:
    """The phased haplotypes of a Dataset, ``(n_samples, n_variants, 2)`` int8, -1 missing.

    Parameters
    ----------
    X : xarray.Dataset
        With ``call_genotype`` (variants, samples, ploidy=2) and
        ``call_genotype_phased`` true for every call; ``call_genotype_mask``
        marks missing alleles.
    name : str, default="X"
        Named in error messages.

    Returns
    -------
    ndarray of shape (n_samples, n_variants, 2), dtype int8

    Raises
    ------
    ValueError
        If ``X`` is not such a Dataset (an array, dosages only, or calls that
        are not all phased), or holds allele indices above 1.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> gt = np.array([[[0, 1], [1, 1]]], dtype=np.int8)  # 1 variant, 2 samples
    >>> ds = xr.Dataset({
    ...     "call_genotype": (("variants", "samples", "ploidy"), gt),
    ...     "call_genotype_phased": (("variants", "samples"), np.ones((1, 2), bool)),
    ... })
    >>> as_haplotypes(ds)[:, 0]
    array([[0, 1],
           [1, 1]], dtype=int8)
    """
    if not _is_dataset(X):
        raise ValueError(
            f"{name} is a {type(X).__name__} of genotypes, whose dosages have lost the phase; "
            + PHASING_NEEDED
        )
    if "call_genotype" not in X:
        raise ValueError(f"{name} has no 'call_genotype' (dosages only); " + PHASING_NEEDED)
    _check_dataset_layout(X)
    if "call_genotype_phased" not in X:
        raise ValueError(f"{name} has no 'call_genotype_phased' variable; " + PHASING_NEEDED)
    phased = np.asarray(X["call_genotype_phased"].values)
    if not phased.all():
        raise ValueError(
            f"{name}: {int((~phased).sum())} of {phased.size} calls are not phased; "
            + PHASING_NEEDED
        )
    gt = np.asarray(X["call_genotype"].values)
    if not np.issubdtype(gt.dtype, np.integer):
        raise TypeError(f"'call_genotype' must hold integer allele indices, got dtype {gt.dtype}")
    if gt.size and gt.max() > 1:
        raise ValueError(
            f"{name}: 'call_genotype' holds allele index {int(gt.max())}: only biallelic "
            "variants (allele indices 0 and 1) are supported"
        )
    H = np.maximum(gt, -1).astype(np.int8)
    if "call_genotype_mask" in X:
        H[np.asarray(X["call_genotype_mask"].values, dtype=bool)] = -1
    return np.ascontiguousarray(H.transpose(1, 0, 2))

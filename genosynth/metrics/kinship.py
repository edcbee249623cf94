"""KING-robust kinship between synthetic and real individuals.

A synthetic individual that is a close relative of a training individual
reveals that person's genotypes in part; one that is a duplicate reveals them
whole. Kinship is estimated with the KING-robust estimator (Manichaikul et al.
2010, between-family form, as ``plink2 --make-king``), scaled so that
duplicates score 0.5::

    phi = (2 N_het,het - 4 N_ibs0 - N_het,a - N_het,b + 2 m) / (4 m),
    m = min(N_het,a, N_het,b)

with ``N_het,het`` the sites where both are heterozygous, ``N_ibs0`` the
sites with opposite homozygotes, ``N_het,a`` the heterozygous sites of ``a``;
every count runs over the sites both individuals have called. A pair with no
heterozygous site (``m = 0``) gets NaN.

Relationship classes use KING's cut-offs: duplicate / monozygotic twin
``phi > 0.354``, first degree ``0.177 < phi <= 0.354``, second degree
``0.0884 < phi <= 0.177``. The cut-offs assume genome-wide, LD-pruned
variants: on a panel of a thousand selected, LD-rich SNPs, haplotypes that
unrelated people share from the population's history raise every kinship,
and KING calls most of them relatives, even the individuals of an
allele-frequency sampler, which copies no one (the figure is in
``benchmarks/README.md``). On such a panel the calibrated statistic of
:func:`relatives` is the one to read: the fraction of synthetic individuals
whose closest training kinship exceeds the 99th percentile of the holdout's,
i.e. more related to the training set than 99% of real newcomers are.
"""

from __future__ import annotations

import numpy as np

from genosynth.metrics import _inputs
from genosynth.metrics._neighbours import DEFAULT_BLOCK
from genosynth.metrics.privacy import _three

DUPLICATE = 2**-1.5
FIRST_DEGREE = 2**-2.5
SECOND_DEGREE = 2**-3.5


def _king_encode(G):
    het = (G == 1).astype(np.float32)
    hom_ref = (G == 0).astype(np.float32)
    hom_alt = (G == 2).astype(np.float32)
    present = G >= 0
    return {
        "left": np.concatenate([het, hom_ref, hom_alt], axis=1),
        "right": np.concatenate([2 * het, -4 * hom_alt, -4 * hom_ref], axis=1),
        "het": het,
        "P": None if present.all() else present.astype(np.float32),
    }


def _king_block(a, b) -> np.ndarray:
    # One product gives the numerator's 2 N_het,het - 4 N_ibs0.
    num = a["left"] @ b["right"].T
    if a["P"] is None and b["P"] is None:
        het_a = np.broadcast_to(a["het"].sum(axis=1)[:, None], num.shape)
        het_b = np.broadcast_to(b["het"].sum(axis=1)[None, :], num.shape)
    else:
        Pa = a["P"] if a["P"] is not None else np.ones_like(a["het"])
        Pb = b["P"] if b["P"] is not None else np.ones_like(b["het"])
        het_a, het_b = a["het"] @ Pb.T, Pa @ b["het"].T
    m = np.minimum(het_a, het_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = (num - het_a - het_b + 2 * m) / (4 * m)
    phi[m == 0] = np.nan
    return phi


def _iter_king_blocks(A, B, block_size):
    for i in range(0, A.shape[0], block_size):
        rows = slice(i, min(i + block_size, A.shape[0]))
        a = _king_encode(A[rows])
        for j in range(0, B.shape[0], block_size):
            cols = slice(j, min(j + block_size, B.shape[0]))
            yield rows, cols, _king_block(a, _king_encode(B[cols]))


def king_kinship(A, B=None, *, block_size=DEFAULT_BLOCK) -> np.ndarray:
    """KING-robust kinship coefficients between every pair of individuals.

    See the module docstring for the estimator. The full ``(n_a, n_b)``
    matrix is returned; :func:`relatives` counts related pairs of large
    cohorts block by block instead.

    Parameters
    ----------
    A : array-like of shape (n_a, n_variants) or xarray.Dataset
    B : array-like of shape (n_b, n_variants) or xarray.Dataset, optional
        Defaults to ``A``.
    block_size : int, default=2048

    Returns
    -------
    phi : ndarray of shape (n_a, n_b), dtype float32
        0.5 for duplicates, about 0.25 / 0.125 for first / second degree,
        about 0 (or below, across populations) for unrelated individuals.

    Examples
    --------
    >>> king_kinship([[0, 1, 1, 2]], [[0, 1, 1, 2], [2, 1, 0, 0]])
    array([[ 0.5 , -1.75]], dtype=float32)
    """
    A = _inputs.genotypes(A, "A")
    B = A if B is None else _inputs.genotypes(B, "B")
    _inputs.same_panel(A=A, B=B)
    phi = np.empty((A.shape[0], B.shape[0]), dtype=np.float32)
    for rows, cols, block in _iter_king_blocks(A, B, block_size):
        phi[rows, cols] = block
    return phi


def _count_relatives(Q, R, block_size) -> dict:
    counts = {"duplicate": 0, "first_degree": 0, "second_degree": 0}
    has_relative = np.zeros(Q.shape[0], dtype=bool)
    max_phi = np.full(Q.shape[0], -np.inf)
    for rows, _, phi in _iter_king_blocks(Q, R, block_size):
        phi = np.nan_to_num(phi, nan=-np.inf)
        counts["duplicate"] += int(np.sum(phi > DUPLICATE))
        counts["first_degree"] += int(np.sum((phi > FIRST_DEGREE) & (phi <= DUPLICATE)))
        counts["second_degree"] += int(np.sum((phi > SECOND_DEGREE) & (phi <= FIRST_DEGREE)))
        max_phi[rows] = np.maximum(max_phi[rows], phi.max(axis=1))
        has_relative[rows] |= (phi > SECOND_DEGREE).any(axis=1)
    counts["fraction_with_relative"] = float(has_relative.mean())
    counts["max_kinship"] = max_phi
    return counts


def relatives(real_train, real_holdout, synthetic, *, block_size=DEFAULT_BLOCK) -> dict:
    """Kinship of synthetic and holdout individuals with the training set.

    Two readings:

    * **Calibrated on the panel** (valid on any variants, e.g. a GWAS panel):
      ``kinship_synthetic_fraction_above_holdout_p99``, the fraction of
      synthetic individuals whose highest kinship with any training
      individual reaches the 99th percentile of the same quantity over the
      holdout (``kinship_holdout_p99``). Ideal: about 0.01, the holdout's own
      rate; a copycat scores 1, a generator that copies no one about 0 or
      0.01.
    * **KING's relationship classes**: the (synthetic, training) pairs that
      KING-robust classifies as duplicates (``phi > 0.354``), first-degree
      (``0.177 < phi <= 0.354``) and second-degree (``0.0884 < phi <= 0.177``)
      relatives, and the fraction of synthetic individuals with a relative of
      second degree or closer in the training set; the same for (holdout,
      training) pairs. The cut-offs hold only on genome-wide, LD-pruned
      variants (see the module docstring); on a selected panel they call
      unrelated people relatives.

    Parameters
    ----------
    real_train, real_holdout, synthetic : array-like (n, n_variants) or xarray.Dataset
        Genotypes on the same variants.
    block_size : int, default=2048

    Returns
    -------
    dict
        ``kinship_synthetic_fraction_above_holdout_p99``,
        ``kinship_holdout_p99``, ``kinship_synthetic_duplicates``,
        ``kinship_synthetic_first_degree``,
        ``kinship_synthetic_second_degree``,
        ``kinship_synthetic_fraction_with_relative``, the same four with
        ``holdout`` in place of ``synthetic``, and the per-row arrays
        ``kinship_synthetic_max`` / ``kinship_holdout_max`` (each row's highest
        kinship with any training individual; -inf where no pair has a
        heterozygous site).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> train = rng.integers(0, 3, (30, 200))
    >>> res = relatives(train, rng.integers(0, 3, (10, 200)), train[:5])
    >>> res["kinship_synthetic_duplicates"], res["kinship_holdout_duplicates"]
    (5, 0)
    >>> res["kinship_synthetic_fraction_above_holdout_p99"]
    1.0
    """
    train, holdout, syn = _three(real_train, real_holdout, synthetic)
    out = {}
    for name, Q in (("synthetic", syn), ("holdout", holdout)):
        c = _count_relatives(Q, train, block_size)
        out[f"kinship_{name}_duplicates"] = c["duplicate"]
        out[f"kinship_{name}_first_degree"] = c["first_degree"]
        out[f"kinship_{name}_second_degree"] = c["second_degree"]
        out[f"kinship_{name}_fraction_with_relative"] = c["fraction_with_relative"]
        out[f"kinship_{name}_max"] = c["max_kinship"]
    # "higher": the threshold is a kinship some holdout row reached. A synthetic row counts
    # when it is at least that related, so that on a cohort of relatives, where the holdout
    # itself holds panel duplicates (p99 = 0.5), copies still count.
    p99 = float(np.quantile(out["kinship_holdout_max"], 0.99, method="higher"))
    out["kinship_holdout_p99"] = p99
    out["kinship_synthetic_fraction_above_holdout_p99"] = float(
        np.mean(out["kinship_synthetic_max"] >= p99)
    )
    return out

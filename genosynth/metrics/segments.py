"""Segment sharing: the longest stretch of the panel a person shares with a training individual.

Distances over the whole panel (DCR, membership attacks) do not see a long
copied segment: a synthetic individual made of a few large pieces of
training haplotypes sits at an ordinary distance from everyone, yet each
piece reveals one training individual's alleles over a whole region. The
statistic here does see it. For an individual ``q`` and a training
individual ``t``, a shared segment is a run of consecutive panel SNPs on one
contig where ``q`` and ``t`` carry the same genotype (dosage) -- or, on
phased data, where a haplotype of ``q`` carries the same alleles as a
haplotype of ``t``. Each synthetic and each holdout individual gets the
length, in SNPs, of the longest segment it shares with anyone in the training
set. Unseen real people (the holdout) share segments too -- haplotypes
inherited from common ancestors -- so the yardstick is their distribution:
the fraction of synthetic individuals whose longest shared segment exceeds the
holdout's 99th percentile is about 0.01 or less for a generator that copies
no one more than a new person would be related to them, and 1 for a copycat.

Rules: a run never crosses a contig boundary (contigs are independent
chromosomes); a missing call (or allele) matches nothing and ends the run.

Algorithm: the positional Burrows-Wheeler transform (Durbin 2014,
Bioinformatics 30:1266) of training and query sequences together. At each
site the sequences are kept sorted by their reversed prefixes with the
"divergence" of each from its predecessor; the longest suffix a query shares
with any training sequence is then shared with its nearest training
neighbour above or below in that order, read off with one segmented running
maximum of the divergences. Time and memory grow with ``(n_train + n_query) x
n_variants`` -- not with the ``n_train x n_query`` pairs a distance matrix
needs -- so a biobank-sized query runs without blocks.
"""

from __future__ import annotations

import numpy as np

from genosynth.data._genotypes import _is_dataset, variant_table
from genosynth.data._haplotypes import as_haplotypes, is_phased
from genosynth.metrics import _inputs


def _sorted_bucket_divergence(div, perm, counts, k, missing_bucket):
    """Divergence array after sorting by the allele at site ``k`` (Durbin's Algorithm 2).

    ``div[i]`` is the first site of the suffix shared by the sequences at
    sorted positions ``i - 1`` and ``i``. After the stable sort by the allele
    at ``k``, two consecutive members of one allele bucket, at old positions
    ``p < q``, share the suffix starting at ``max(div[p + 1 .. q])``; the first
    member of a bucket shares nothing with its predecessor (``k + 1``).
    """
    new = np.full(div.size, k + 1, dtype=div.dtype)
    start = 0
    for bucket, count in enumerate(counts):
        stop = start + count
        if count > 1 and bucket != missing_bucket:  # missing calls match nothing
            old = perm[start:stop]
            new[start + 1 : stop] = np.maximum.reduceat(div[: old[-1] + 1], old[:-1] + 1)
        start = stop
    return new


def _nearest_reference_starts(div, is_ref, big):
    """First site of the longest suffix each position shares with a reference above or below.

    Above: ``max(div[j + 1 .. i])`` for ``j`` the nearest reference before
    ``i``; below: ``max(div[i + 1 .. j])`` for ``j`` the nearest reference
    after ``i``. Both are running maxima within groups of positions between
    consecutive references, computed globally by offsetting each group by
    ``group * big`` (``big`` exceeds every divergence). ``big`` is returned
    where there is no reference on that side.
    """
    upto = np.cumsum(is_ref)
    before = upto - is_ref
    above = np.maximum.accumulate(before * big + div) - before * big
    above[before == 0] = big
    shifted = np.empty_like(div)
    shifted[:-1] = div[1:]
    shifted[-1] = 0
    rank = upto[-1] - upto  # non-decreasing when read backwards
    below = np.maximum.accumulate((rank * big + shifted)[::-1])[::-1] - rank * big
    below[rank == 0] = big
    return np.minimum(above, below)


def _longest_matches(reference: np.ndarray, query: np.ndarray, new_contig: np.ndarray):
    """Longest run of sites where each query row equals some reference row.

    Parameters
    ----------
    reference : ndarray (n_ref, L) of small non-negative symbols, -1 missing
    query : ndarray (n_query, L), same coding
    new_contig : ndarray (L,) of bool
        True at the first site of each contig (runs restart there).

    Returns
    -------
    ndarray (n_query,) int64
    """
    n_ref, L = reference.shape
    n = n_ref + query.shape[0]
    columns = np.concatenate([reference, query]).T.copy()  # one site per contiguous row
    missing_bucket = int(columns.max(initial=0)) + 1
    columns[columns < 0] = missing_bucket
    n_buckets = missing_bucket + 1
    is_ref_seq = np.arange(n) < n_ref
    order = np.arange(n)
    div = np.zeros(n, dtype=np.int64)
    best = np.zeros(n, dtype=np.int64)
    big = L + 2
    for k in range(L):
        if new_contig[k]:
            div[:] = k  # nothing before a contig's first site is shared
        alleles = columns[k][order]
        perm = np.argsort(alleles, kind="stable")
        counts = np.bincount(alleles, minlength=n_buckets)
        div = _sorted_bucket_divergence(div, perm, counts, k, missing_bucket)
        order = order[perm]
        start = _nearest_reference_starts(div, is_ref_seq[order], big)
        length = np.where(start >= big, 0, k + 1 - start)
        best[order] = np.maximum(best[order], length)
    return best[n_ref:]


def _contig_starts(variants, n_variants: int) -> np.ndarray:
    contig, _ = _inputs.positions(variants, n_variants)
    return np.r_[True, contig[1:] != contig[:-1]]


def _variants_of(X, variants):
    if variants is not None:
        return variants
    return variant_table(X) if _is_dataset(X) else None


def longest_shared_segments(query, reference, *, variants=None, haplotypes=False) -> np.ndarray:
    """For each query individual, the longest run of SNPs identical to some reference individual.

    A run is a stretch of consecutive panel SNPs on one contig where the two
    individuals have the same genotype (dosage) at every SNP -- or, with
    ``haplotypes=True``, where one haplotype of each carries the same alleles.
    A missing call ends a run. Computed with the positional Burrows-Wheeler
    transform (see the module docstring) in time linear in the number of
    individuals.

    Parameters
    ----------
    query, reference : array-like of shape (n, n_variants) or xarray.Dataset
        Genotypes 0/1/2 (-1/NaN missing) on the same variants; phased
        Datasets with ``haplotypes=True``.
    variants : pandas.DataFrame, optional
        The panel's variant table (column ``contig``, in genomic order) to
        tell contigs apart; taken from ``reference`` when it is a Dataset;
        otherwise every variant is on one contig.
    haplotypes : bool, default=False
        Compare phased haplotypes instead of genotypes: an individual's
        value is the longest run over its two haplotypes and both haplotypes
        of every reference individual.

    Returns
    -------
    ndarray of shape (n_query,), dtype int64
        Length in SNPs (0 when nothing is shared).

    Examples
    --------
    >>> longest_shared_segments([[0, 1, 1, 2, 0]], [[0, 1, 2, 2, 0], [2, 1, 1, 2, 1]])
    array([3])
    """
    variants = _variants_of(reference, variants)
    if haplotypes:
        Q = as_haplotypes(query, name="query")
        R = as_haplotypes(reference, name="reference")
        _inputs.same_panel(query=Q[:, :, 0], reference=R[:, :, 0])
        L = Q.shape[1]
        flat = _longest_matches(
            R.transpose(0, 2, 1).reshape(-1, L),
            Q.transpose(0, 2, 1).reshape(-1, L),
            _contig_starts(variants, L),
        )
        return flat.reshape(-1, 2).max(axis=1)
    Q = _inputs.genotypes(query, "query")
    R = _inputs.genotypes(reference, "reference")
    L = _inputs.same_panel(query=Q, reference=R)
    return _longest_matches(R, Q, _contig_starts(variants, L))


def _summary(prefix: str, syn: np.ndarray, hold: np.ndarray) -> dict:
    # "higher": the threshold is a length some holdout individual reached; a synthetic
    # individual counts only when its longest shared segment is longer still.
    p99 = float(np.quantile(hold, 0.99, method="higher"))
    return {
        f"{prefix}_synthetic_fraction_above_holdout_p99": float(np.mean(syn > p99)),
        f"{prefix}_holdout_fraction_above_holdout_p99": float(np.mean(hold > p99)),
        f"{prefix}_holdout_p99": p99,
        f"{prefix}_synthetic_median": float(np.median(syn)),
        f"{prefix}_holdout_median": float(np.median(hold)),
        f"{prefix}_synthetic_max": float(syn.max()),
        f"{prefix}_synthetic_longest": syn,
        f"{prefix}_holdout_longest": hold,
    }


def shared_segments(real_train, real_holdout, synthetic, *, variants=None, haplotypes="auto"):
    """Longest segments synthetic and holdout individuals share with the training set.

    For every synthetic and every holdout individual, the longest run of
    consecutive panel SNPs (within a contig) identical to some training
    individual -- on genotypes always, and on phased haplotypes when asked
    or available (see :func:`longest_shared_segments`). The holdout is the
    yardstick of an unseen person: reported is the fraction of synthetic
    individuals whose longest shared segment is strictly longer than the
    holdout's 99th percentile (``method="higher"``, a length some holdout
    individual reached). Ideal: the holdout's own fraction above it,
    ``*_holdout_fraction_above_holdout_p99`` (at most 0.01; less when many
    holdout individuals tie at the percentile); a copycat scores 1, an
    allele-frequency sampler (no LD, no copying) 0. On a cohort of close
    relatives the holdout's percentile can reach a whole contig, and then no
    copy can exceed it: read the identical-match rate and kinship too.

    Parameters
    ----------
    real_train, real_holdout, synthetic : array-like (n, n_variants) or xarray.Dataset
        Genotypes 0/1/2 (-1/NaN missing) on the same variants, in genomic
        order.
    variants : pandas.DataFrame, optional
        The panel's variant table (column ``contig``); taken from
        ``real_train`` when it is a Dataset; otherwise one contig.
    haplotypes : {"auto", True, False}, default="auto"
        Also compare phased haplotypes: ``"auto"`` when all three inputs are
        phased Datasets; True requires them.

    Returns
    -------
    dict
        ``segment_synthetic_fraction_above_holdout_p99``,
        ``segment_holdout_fraction_above_holdout_p99``,
        ``segment_holdout_p99``, ``segment_synthetic_median``,
        ``segment_holdout_median``, ``segment_synthetic_max`` (lengths in
        SNPs) and the per-individual arrays ``segment_synthetic_longest``,
        ``segment_holdout_longest``; the same with the prefix
        ``haplotype_segment`` on phased haplotypes.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> train, holdout = rng.integers(0, 3, (50, 40)), rng.integers(0, 3, (50, 40))
    >>> res = shared_segments(train, holdout, train[:10])  # copies of training rows
    >>> res["segment_synthetic_fraction_above_holdout_p99"], res["segment_synthetic_median"]
    (1.0, 40.0)
    """
    if haplotypes not in ("auto", True, False):
        raise ValueError(f"haplotypes must be 'auto', True or False, got {haplotypes!r}")
    variants = _variants_of(real_train, variants)
    train = _inputs.genotypes(real_train, "real_train")
    holdout = _inputs.genotypes(real_holdout, "real_holdout")
    syn = _inputs.genotypes(synthetic, "synthetic")
    L = _inputs.same_panel(real_train=train, real_holdout=holdout, synthetic=syn)
    starts = _contig_starts(variants, L)
    longest = _longest_matches(train, np.concatenate([syn, holdout]), starts)
    out = _summary("segment", longest[: len(syn)], longest[len(syn) :])
    phased = all(is_phased(X) for X in (real_train, real_holdout, synthetic))
    if haplotypes is True or (haplotypes == "auto" and phased):
        H = {
            name: as_haplotypes(X, name=name).transpose(0, 2, 1).reshape(-1, L)
            for name, X in (
                ("real_train", real_train),
                ("real_holdout", real_holdout),
                ("synthetic", synthetic),
            )
        }
        flat = _longest_matches(
            H["real_train"], np.concatenate([H["synthetic"], H["real_holdout"]]), starts
        )
        per_individual = flat.reshape(-1, 2).max(axis=1)
        out |= _summary("haplotype_segment", per_individual[: len(syn)], per_individual[len(syn) :])
    return out

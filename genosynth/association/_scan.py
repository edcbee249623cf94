"""The streaming scan: one pass over the blocks, the candidate buffer, refinement."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from genosynth.association._blocks import block_statistics
from genosynth.association._constants import SCORE
from genosynth.association._logistic import grouped_logistic, logistic_wald
from genosynth.association._null_model import NullModel
from genosynth.data._genotypes import (
    _direct_dosage,
    _is_dask,
    _is_dataset,
    default_variants,
    iter_variant_blocks,
    shape_of,
    variant_table,
)
from genosynth.stats._genetics import minor_allele_frequency


def default_block_size(X, n_samples: int) -> int:
    """Blocks follow the dask chunks of a lazy input, so that every chunk is read once."""
    data = None
    if _is_dataset(X):
        var = "call_genotype" if "call_genotype" in X else "call_dosage"
        data = X[var].data
        axis = 0
    elif _is_dask(X):
        data, axis = X, 1
    if data is not None and _is_dask(data):
        chunks = data.chunks[axis]
        if len(chunks) > 0 and chunks[0] > 0:
            return int(chunks[0])
    # ~64 MB of int8 dosages per block, and at least 256 variants.
    return int(max(256, min(8192, (64 << 20) // max(n_samples, 1))))


def variants_of(X, n_variants: int) -> pd.DataFrame:
    """The variant table of a Dataset, or the default one (``snp{i}``) of an array."""
    return variant_table(X) if _is_dataset(X) else default_variants(n_variants)


class Candidates:
    """The ``capacity`` best variants seen so far and their genotype columns.

    Ranked by -log10 p, ties broken by the lower variant index (stable). An
    evicted variant's slot is overwritten in place, so memory stays at
    ``n_samples x capacity`` int8 however many blocks stream past.
    """

    def __init__(self, capacity: int, n_samples: int):
        self.capacity = int(capacity)
        # Column-major: each candidate's genotypes are contiguous, cheap to overwrite.
        self.G = np.empty((n_samples, self.capacity), dtype=np.int8, order="F")
        self.index = np.full(self.capacity, -1, dtype=np.int64)  # -1 = free slot
        self.key = np.full(self.capacity, -np.inf)

    def offer(self, keys: np.ndarray, index: np.ndarray, G_block: np.ndarray, cols: np.ndarray):
        """Consider block columns ``cols`` (variant indices ``index``, keys ``keys``)."""
        if self.capacity == 0 or cols.size == 0:
            return
        used = self.index >= 0
        if used.all():
            # Full: only a strictly better key can enter (on a tie the earlier variant,
            # already held, wins), so most blocks copy nothing.
            better = keys > self.key.min()
            keys, index, cols = keys[better], index[better], cols[better]
            if cols.size == 0:
                return
        old = np.flatnonzero(used)
        all_keys = np.concatenate([self.key[old], keys])
        all_index = np.concatenate([self.index[old], index])
        best = np.lexsort((all_index, -all_keys))[: self.capacity]
        kept = old[best[best < old.size]]
        new = best[best >= old.size] - old.size
        evicted = np.setdiff1d(old, kept, assume_unique=True)
        target = np.concatenate([evicted, np.flatnonzero(~used)])[: new.size]
        self.index[evicted] = -1
        self.key[evicted] = -np.inf
        self.G[:, target] = G_block[:, cols[new]]
        self.index[target] = index[new]
        self.key[target] = keys[new]

    def ranked(self) -> tuple[np.ndarray, np.ndarray]:
        """Variant indices and their genotype columns, best first."""
        slots = np.flatnonzero(self.index >= 0)
        order = slots[np.lexsort((self.index[slots], -self.key[slots]))]
        return self.index[order], self.G[:, order]


@dataclass
class ScanResult:
    """Per-variant arrays of one scan (in input order) and its candidate buffer."""

    variants: pd.DataFrame
    n_samples: int
    counts: np.ndarray  # (L, 4)
    case_counts: np.ndarray | None
    beta: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    neglog10p: np.ndarray
    test: np.ndarray
    testable: np.ndarray
    hwe_p: np.ndarray | None
    candidates: Candidates | None

    @property
    def n_obs(self) -> np.ndarray:
        return self.counts[:, :3].sum(axis=1)

    @property
    def maf(self) -> np.ndarray:
        return minor_allele_frequency(self.counts)

    @property
    def missing_rate(self) -> np.ndarray:
        return self.counts[:, 3] / float(self.n_samples)

    def set_tests(self, index, res) -> None:
        self.beta[index], self.se[index], self.stat[index] = res[0], res[1], res[2]
        self.neglog10p[index], self.test[index] = res[3], res[4]


def scan(
    X,
    model: NullModel,
    *,
    block_size: int | None,
    refine_in_block: bool,
    eligible=None,
    capacity: int = 0,
    hwe_rows: np.ndarray | None = None,
) -> ScanResult:
    """Stream ``X`` once: counts, tests and the ``capacity`` best eligible candidates.

    ``eligible(stats, hwe_p) -> bool mask`` decides which variants of a block
    may enter the candidate buffer (QC); by default every testable variant.
    """
    n, L = shape_of(X)
    if block_size is None:
        block_size = default_block_size(X, n)
    counts = np.zeros((L, 4), dtype=np.int64)
    case_counts = np.zeros((L, 4), dtype=np.int64) if model.kind == "logistic" else None
    beta, se, stat, nlp = (np.full(L, np.nan) for _ in range(4))
    test = np.zeros(L, dtype=np.int8)
    testable = np.zeros(L, dtype=bool)
    hwe_p = np.full(L, np.nan) if hwe_rows is not None else None
    cand = Candidates(min(capacity, L), n) if capacity else None
    for sl, G in iter_variant_blocks(X, block_size):
        bs = block_statistics(G, model, refine_block=refine_in_block)
        counts[sl] = bs.counts
        if case_counts is not None:
            case_counts[sl] = bs.case_counts
        beta[sl], se[sl], stat[sl], nlp[sl], test[sl] = (
            bs.beta,
            bs.se,
            bs.stat,
            bs.neglog10p,
            bs.test,
        )
        testable[sl] = bs.testable
        block_hwe = None
        if hwe_rows is not None:
            from genosynth.stats._genetics import hardy_weinberg_exact

            block_hwe = hardy_weinberg_exact(G[hwe_rows])
            hwe_p[sl] = block_hwe
        if cand is not None:
            ok = bs.testable & np.isfinite(bs.neglog10p)
            if eligible is not None:
                ok &= eligible(bs, block_hwe)
            cols = np.flatnonzero(ok)
            cand.offer(bs.neglog10p[cols], cols + sl.start, G, cols)
    variants = variants_of(X, L)
    return ScanResult(
        variants, n, counts, case_counts, beta, se, stat, nlp, test, testable, hwe_p, cand
    )


def refine_candidates(result: ScanResult, model: NullModel, index, G) -> None:
    """Replace score tests of variants ``index`` (genotype columns ``G``) by Wald/Firth."""
    if model.kind != "logistic" or len(index) == 0:
        return
    index = np.asarray(index)
    need = result.test[index] == SCORE
    if not need.any():
        return
    idx = index[need]
    cells = result.counts[idx, :3]
    cases = result.case_counts[idx, :3]
    if model.k == 1:
        res = grouped_logistic(cells, cases)
    else:
        res = logistic_wald(G[:, need], model, cases, cells)
    result.set_tests(idx, res)


def gather_columns(X, index: np.ndarray, block_size: int | None) -> np.ndarray:
    """Genotype columns ``index`` (any order) of ``X`` as int8 (n, len(index)), streaming."""
    n, L = shape_of(X)
    index = np.asarray(index, dtype=np.int64)
    out = np.empty((n, index.size), dtype=np.int8)
    if index.size == 0:
        return out
    if block_size is None:
        block_size = default_block_size(X, n)
    order = np.argsort(index, kind="stable")
    sorted_idx = index[order]
    for sl, G in iter_variant_blocks(_subset_variants(X, sorted_idx), block_size):
        out[:, order[sl]] = G
    return out


def _subset_variants(X, sorted_idx: np.ndarray):
    if _is_dataset(X):
        registered = _direct_dosage(X)  # read_plink: gather the dosages directly
        if registered is not None:
            return registered[:, sorted_idx]
        return X.isel(variants=sorted_idx)
    if _is_dask(X) or isinstance(X, np.ndarray):
        return X[:, sorted_idx]
    return np.asarray(X)[:, sorted_idx]

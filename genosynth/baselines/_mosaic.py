"""The haplotype-copying generator: Li and Stephens' mosaic of training haplotypes.

A new haplotype is copied from a training haplotype (its "donor") along the
panel, switching donor where a recombination would fall and miscopying an
allele at a small rate -- the approximate conditional sampling distribution
of the coalescent of Li & Stephens (2003, Genetics 165:2213), on which
HAPGEN2, HAPNEST and sim1000G build. It is the classical way to make new
genomes and the strongest simple bar for a learned generator.

The model, with ``K`` training haplotypes (the whole training cohort):

* between consecutive SNPs ``g`` centimorgans apart a donor switch happens
  with probability ``1 - exp(-4 N_e (g / 100) / K)`` and the new donor is
  drawn uniformly (drawing the current one again continues its segment);
  across contigs the distance is infinite: every contig starts afresh;
* an allele is miscopied (flipped) with probability
  ``theta / (2 (K + theta))``, where ``theta = 1 / sum_{m=1}^{K-1} 1/m`` is
  Watterson's estimator for a site known to segregate, as Li & Stephens set it.

Segments thus last ``K / (4 N_e)`` Morgans on average: more training data or
a smaller ``N_e`` means longer copied pieces, hence more LD and more leakage.

Trait conditioning: a synthetic case copies only training cases' haplotypes
and a control only controls' (any number of classes). The donors' marginal
allele frequencies are then exactly their class's, so case-control
differences are kept. Weighting all training haplotypes by a fitted PRS's
case probability was measured instead and kept the signal worse (see
:class:`HaplotypeMosaic`). A quantitative trait draws each synthetic
individual's donors from the training individuals nearest in trait.

Privacy knobs cap what any synthetic individual can carry of one training
individual: the length of any copied segment (SNPs or cM), and the share of
the individual's alleles copied from any one donor. When a cap is reached the
copy switches to another donor (never the same haplotype), so the caps hold
exactly on the copying path.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from genosynth.baselines import _fit_inputs
from genosynth.data._genotypes import _is_dataset, variant_table
from genosynth.data._haplotypes import PHASING_NEEDED, as_haplotypes
from genosynth.data._labels import has_continuous_label, requested_labels

# Synthetic individuals copied at a time: bounds the per-SNP state and, with a donor
# cap, the (rows x training individuals) table of copies already made.
_CHUNK_ROWS = 16384
_CAP_TABLE_CELLS = 2**24
# Uniform redraws of a refused donor before the allowed donors are enumerated.
_REDRAWS = 8


def watterson_theta(n_haplotypes: int) -> float:
    """Li & Stephens' scaled mutation rate ``1 / sum_{m=1}^{K-1} 1/m`` for ``K`` haplotypes.

    Watterson's estimator of ``theta`` for a single segregating site.

    Examples
    --------
    >>> round(watterson_theta(4), 6)  # 1 / (1 + 1/2 + 1/3) = 6 / 11
    0.545455
    """
    if n_haplotypes < 2:
        raise ValueError(f"Watterson's theta needs at least 2 haplotypes, got {n_haplotypes}")
    return float(1.0 / np.sum(1.0 / np.arange(1, n_haplotypes)))


def _rng(random_state) -> np.random.Generator:
    """A local Generator: None draws fresh OS entropy, never numpy's global state."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if random_state is None or isinstance(random_state, Integral):
        return np.random.default_rng(random_state)
    raise TypeError(f"random_state must be None, an int or a numpy Generator, got {random_state!r}")


def _genetic_map(ds, variants: pd.DataFrame, recombination_rate: float):
    """Genetic positions (cM) and the first SNP of each contig, checked to be in genomic order."""
    if "variant_genetic_position" in ds:
        cm = np.asarray(ds["variant_genetic_position"].values, dtype=np.float64)
    elif "variant_position" in ds:
        cm = np.asarray(ds["variant_position"].values, dtype=np.float64) * recombination_rate / 1e6
    else:
        raise ValueError(
            "the Dataset needs 'variant_position' (bp; with recombination_rate) or "
            "'variant_genetic_position' (cM) for the donor switch rate"
        )
    if not np.all(np.isfinite(cm)):
        raise ValueError("genetic positions must be finite")
    contig = variants["contig"].astype(str).to_numpy()
    new_contig = np.r_[True, contig[1:] != contig[:-1]]
    backwards = (np.diff(cm) < 0) & ~new_contig[1:]
    if backwards.any():
        j = int(np.flatnonzero(backwards)[0]) + 1
        raise ValueError(
            f"variants must be in genomic order within each contig; variant {j} lies before "
            "its predecessor"
        )
    return cm, new_contig


def _draw(order, start, size, rng):
    """One donor haplotype per row, uniform in ``order[start : start + size]``."""
    return order[start + (rng.random(start.size) * size).astype(np.int64)]


class _Copier:
    """The copying path of one chunk of synthetic haplotypes, SNP by SNP.

    ``start``/``size`` give each haplotype's donor pool as a window of
    ``order``; haplotype ``h`` belongs to row ``h // 2`` (its individual).
    With ``cap`` (allele copies any one donor individual may give a row),
    ``used[row, donor_individual]`` counts the copies of finished segments,
    and the two haplotypes of a row never copy the same individual at once,
    so that a segment's budget is fixed when it starts.
    """

    def __init__(self, order, start, size, cap, n_donors, rng):
        self.order, self.start, self.size, self.cap, self.rng = order, start, size, cap, rng
        n_hap = start.size
        self.donor = np.full(n_hap, -1, dtype=np.int64)
        self.seg_start = np.zeros(n_hap, dtype=np.int64)
        if cap is not None:
            # Counts never exceed the cap (at most 2 L), which fits int16 on any usual panel.
            dtype = np.int16 if cap < 2**15 else np.int32
            self.used = np.zeros((n_hap // 2, n_donors), dtype=dtype)
            self.remaining = np.zeros(n_hap, dtype=np.int64)

    def switch(self, idx, j, natural, fresh):
        """Start new segments at SNP ``j`` for haplotypes ``idx``.

        ``natural`` marks recombination events, whose draw of the current
        donor continues its segment (the Li-Stephens self-transition);
        forced switches (a cap reached) must change donor; ``fresh`` draws
        (a contig's first SNP) may pick anyone and always restart the segment.
        """
        cand = self._draw(idx)
        if natural is not None:
            keep = natural & (cand == self.donor[idx])
            idx, cand = idx[~keep], cand[~keep]
        if self.cap is None:
            if not fresh:  # forced switches redraw until the donor changes
                bad = cand == self.donor[idx]
                while bad.any():
                    cand[bad] = self._draw(idx[bad])
                    bad = cand == self.donor[idx]
            self._start(idx, cand, j)
            return
        self._close(idx, j)
        old = self.donor[idx].copy()
        self.donor[idx] = -1  # a haplotype leaving its donor frees it for the other one
        # One haplotype of each row at a time: the second sees the first's new donor.
        for parity in (0, 1):
            sel = (idx % 2) == parity
            self._start(idx[sel], self._allowed(idx[sel], cand[sel], old[sel], fresh), j)

    def _draw(self, idx):
        """One donor haplotype per haplotype ``idx``, uniform in its pool."""
        return _draw(self.order, self.start[idx], self.size[idx], self.rng)

    def _close(self, idx, j):
        """Count the copies of the segments ending before SNP ``j``."""
        live = self.donor[idx] >= 0
        idx = idx[live]
        # (row, donor individual) pairs are distinct: a row's two haplotypes never copy
        # the same individual at once, so a plain fancy += counts each segment once.
        self.used[idx // 2, self.donor[idx] // 2] += (j - self.seg_start[idx]).astype(
            self.used.dtype
        )

    def _refused(self, idx, cand, old, fresh):
        """Draws breaking a cap: the other haplotype's current donor individual, a spent
        donor individual, or (unless at a contig's start) the donor being left."""
        other = self.donor[idx ^ 1]
        bad = (cand // 2 == other // 2) & (other >= 0)
        bad |= self.used[idx // 2, cand // 2] >= self.cap
        if not fresh:
            bad |= cand == old
        return bad

    def _allowed(self, idx, cand, old, fresh):
        bad = self._refused(idx, cand, old, fresh)
        for _ in range(_REDRAWS):
            if not bad.any():
                return cand
            cand[bad] = self._draw(idx[bad])
            bad = self._refused(idx, cand, old, fresh)
        for i in np.flatnonzero(bad):  # a nearly spent pool: enumerate what is left
            h = idx[i]
            pool = self.order[self.start[h] : self.start[h] + self.size[h]]
            ok = ~self._refused(np.full(pool.size, h), pool, np.full(pool.size, old[i]), fresh)
            if not ok.any():
                raise ValueError(
                    "max_donor_fraction is too small for the donor pool: a synthetic "
                    "individual ran out of donors it may still copy"
                )
            cand[i] = self.rng.choice(pool[ok])
        return cand

    def _start(self, idx, cand, j):
        self.donor[idx] = cand
        self.seg_start[idx] = j
        if self.cap is not None:
            self.remaining[idx] = self.cap - self.used[idx // 2, cand // 2]


def copy_haplotypes(
    haplotypes_by_snp,
    order,
    start,
    size,
    switch_probability,
    new_contig,
    genetic_position,
    *,
    max_segment_snps=None,
    max_segment_cm=None,
    donor_cap=None,
    rng,
    return_donors=False,
):
    """Copying paths and copied alleles of ``start.size`` synthetic haplotypes (no miscopying).

    Parameters
    ----------
    haplotypes_by_snp : ndarray (L, K) int8
        Training haplotypes, one SNP per row.
    order, start, size : ndarray
        Donor pool of each synthetic haplotype: ``order[start : start + size]``.
    switch_probability : ndarray (L,)
        Probability of a recombination event before each SNP.
    new_contig : ndarray (L,) bool
        First SNP of each contig.
    genetic_position : ndarray (L,)
        In cM, for ``max_segment_cm``.
    max_segment_snps, max_segment_cm, donor_cap : optional caps
        Longest copied segment, and allele copies of one donor individual per
        synthetic individual (pairs of haplotypes ``2i, 2i + 1``).
    rng : numpy.random.Generator
    return_donors : bool
        Also return the donor haplotype of every SNP.

    Returns
    -------
    alleles : ndarray (L, n_haplotypes) int8
    donors : ndarray (L, n_haplotypes) int32, only with ``return_donors``
    """
    L, K = haplotypes_by_snp.shape
    n_hap = start.size
    copier = _Copier(order, start, size, donor_cap, K // 2, rng)
    alleles = np.empty((L, n_hap), dtype=np.int8)
    donors = np.empty((L, n_hap), dtype=np.int32) if return_donors else None
    p = np.asarray(switch_probability, dtype=np.float32)
    everyone = np.arange(n_hap)
    capped = (max_segment_snps, max_segment_cm, donor_cap) != (None, None, None)
    for j in range(L):
        if new_contig[j]:
            copier.switch(everyone, j, None, fresh=True)
        else:
            natural = rng.random(n_hap, dtype=np.float32) < p[j]
            if capped:
                forced = np.zeros(n_hap, dtype=bool)
                if max_segment_snps is not None:
                    forced |= j - copier.seg_start >= max_segment_snps
                if max_segment_cm is not None:
                    span = genetic_position[j] - genetic_position[copier.seg_start]
                    forced |= span > max_segment_cm
                if donor_cap is not None:
                    forced |= copier.remaining <= 0
                idx = np.flatnonzero(natural | forced)
                only_natural = natural[idx] & ~forced[idx]
            else:
                idx = np.flatnonzero(natural)
                only_natural = np.ones(idx.size, dtype=bool)
            if idx.size:
                copier.switch(idx, j, only_natural, fresh=False)
        if donor_cap is not None:
            copier.remaining -= 1
        alleles[j] = haplotypes_by_snp[j, copier.donor]
        if return_donors:
            donors[j] = copier.donor
    return (alleles, donors) if return_donors else alleles


def _miscopy(alleles: np.ndarray, rate: float, rng) -> None:
    """Flip each allele independently with probability ``rate``, in place.

    Flips are placed by geometric gaps along the flattened array: exact
    Bernoulli draws at the cost of the flips, not of the cells.
    """
    if rate <= 0:
        return
    flat = alleles.reshape(-1)
    n = flat.size
    pos, at = [], -1
    while True:
        gaps = rng.geometric(rate, size=max(16, int(1.2 * n * rate) + 16))
        hits = at + np.cumsum(gaps)
        pos.append(hits[hits < n])
        if hits[-1] >= n:
            break
        at = int(hits[-1])
    hit = np.concatenate(pos)
    flat[hit] = 1 - flat[hit]


class HaplotypeMosaic(BaseEstimator):
    """Li-Stephens haplotype-copying generator on phased training haplotypes.

    Each synthetic haplotype is a mosaic of training haplotypes of the
    requested class: copied from one donor, switching donor where a
    recombination falls (rate from the genetic distance, ``N_e`` and the
    number of training haplotypes ``K``), with a small miscopy rate. See
    :mod:`genosynth.baselines._mosaic` for the model. Fitting stores the training
    haplotypes: they *are* the model, so a saved file is as sensitive as the
    training data.

    Input must be phased: an sgkit Dataset whose ``call_genotype`` has
    ``call_genotype_phased`` true everywhere, without missing calls (impute
    them first). Dosage arrays and unphased Datasets are refused -- nothing
    here phases. In a :class:`~genosynth.GenerativePipeline`, put it after
    ``GWASSelector(output="dataset")``, which hands on the panel's calls.

    Trait conditioning: a synthetic individual of class ``c`` copies only the
    haplotypes of training individuals of class ``c``. Weighting every
    training haplotype by a fitted PRS's probability of the class was
    measured as the alternative and kept the signal worse, at equal LD and
    membership AUC (``benchmarks/README.md``), so it is not offered. A quantitative trait
    value ``t`` draws donors among the ``trait_window`` fraction of training
    individuals whose traits rank nearest ``t`` (a window in trait order,
    shifted inward at the extremes); requests outside the training range
    are refused. A wider window averages the trait over more donors and
    flattens its association (the measured slopes per window are in
    ``benchmarks/README.md``).

    Parameters
    ----------
    effective_population_size : float, default=10000
        ``N_e`` of the switch rate ``4 N_e / K`` per Morgan: larger values
        give shorter copied segments (less LD, less leakage).
    recombination_rate : float, default=1.0
        cM per Mb turning ``variant_position`` into genetic positions, when
        the Dataset has no ``variant_genetic_position`` (cM), which is then
        used as it is.
    miscopy_rate : "watterson" or float, default="watterson"
        Probability that a copied allele is flipped; ``"watterson"`` sets Li
        & Stephens' ``theta / (2 (K + theta))``.
    max_segment_snps : int, optional
        No copied segment spans more SNPs; on reaching it the copy switches
        to another donor haplotype.
    max_segment_cm : float, optional
        No copied segment spans more than this many cM from its first SNP
        to its last.
    max_donor_fraction : float in (0, 1], optional
        No synthetic individual copies more than this share of its ``2 L``
        alleles from any one training individual (both haplotypes counted).
    trait_window : float in (0, 1], default=0.05
        For a quantitative trait: share of training individuals in each
        synthetic individual's donor pool.

    The three caps and ``trait_window`` act when sampling, so that
    ``set_params`` sweeps them on a fitted model; the other parameters act
    in ``fit``.

    Attributes
    ----------
    haplotypes_ : ndarray of shape (2 n_train, n_features_in_), dtype int8
        Training haplotypes; rows ``2 i`` and ``2 i + 1`` are individual ``i``'s.
    variants_ : pandas.DataFrame
        ``id, contig, position, ref, alt`` of the panel.
    genetic_position_ : ndarray of shape (n_features_in_,)
        Genetic positions in cM.
    switch_probability_ : ndarray of shape (n_features_in_,)
        Probability of a donor draw before each SNP (1 at a contig's first).
    watterson_theta_ : float
        ``1 / sum_{m=1}^{K-1} 1/m``.
    miscopy_rate_ : float
        The miscopy probability used.
    donor_order_ : ndarray of shape (2 n_train,)
        Haplotypes grouped by class (or sorted by trait); each pool is a
        window of it.
    donor_offsets_ : ndarray of shape (n_classes + 1,)
        Class ``c``'s haplotypes are ``donor_order_[donor_offsets_[c]:donor_offsets_[c + 1]]``.
    donor_traits_ : ndarray of shape (n_train,)
        For a trait: the training traits in ``donor_order_``'s order.
    label_type_, classes_, class_prior_, label_mean_, label_scale_, label_quantiles_
        As in :class:`AlleleFrequencySampler`.
    n_features_in_ : int
        Number of SNPs.

    Examples
    --------
    >>> from genosynth.baselines import HaplotypeMosaic
    >>> from genosynth.datasets import simulate_case_control
    >>> ds = simulate_case_control(200, n_variants=120, n_causal=5, random_state=0)
    >>> est = HaplotypeMosaic().fit(ds, ds["sample_phenotype"].values)
    >>> G, y = est.sample(3, y=1, random_state=0)
    >>> G.shape, y.tolist()
    ((3, 120), [1, 1, 1])
    >>> H, _ = est.sample_haplotypes(2, random_state=0)
    >>> H.shape  # (individuals, SNPs, haplotypes)
    (2, 120, 2)
    """

    _parameter_constraints: dict = {
        "effective_population_size": [Interval(Real, 0, None, closed="neither")],
        "recombination_rate": [Interval(Real, 0, None, closed="neither")],
        "miscopy_rate": [StrOptions({"watterson"}), Interval(Real, 0, 0.5, closed="left")],
        "max_segment_snps": [Interval(Integral, 1, None, closed="left"), None],
        "max_segment_cm": [Interval(Real, 0, None, closed="left"), None],
        "max_donor_fraction": [Interval(Real, 0, 1, closed="right"), None],
        "trait_window": [Interval(Real, 0, 1, closed="right")],
    }

    def __init__(
        self,
        effective_population_size=10_000,
        *,
        recombination_rate=1.0,
        miscopy_rate="watterson",
        max_segment_snps=None,
        max_segment_cm=None,
        max_donor_fraction=None,
        trait_window=0.05,
    ):
        self.effective_population_size = effective_population_size
        self.recombination_rate = recombination_rate
        self.miscopy_rate = miscopy_rate
        self.max_segment_snps = max_segment_snps
        self.max_segment_cm = max_segment_cm
        self.max_donor_fraction = max_donor_fraction
        self.trait_window = trait_window

    def fit(self, X, y):
        """Store the phased training haplotypes and the copying model.

        Parameters
        ----------
        X : xarray.Dataset
            Phased ``call_genotype`` (every ``call_genotype_phased`` true),
            no missing calls, variants in genomic order, with
            ``variant_position`` or ``variant_genetic_position``.
        y : array-like of shape (n_samples,)
            Class labels, or a quantitative trait (floats).

        Returns
        -------
        self : HaplotypeMosaic
        """
        self._validate_params()
        if not _is_dataset(X):
            raise ValueError(
                f"HaplotypeMosaic got a {type(X).__name__} of genotypes, whose dosages have lost "
                f"the phase; {PHASING_NEEDED}. After GWASSelector in a pipeline, "
                "GWASSelector(output='dataset') hands on the panel's phased calls"
            )
        H = as_haplotypes(X)
        if (H < 0).any():
            raise ValueError(
                f"X has {int((H < 0).sum())} missing alleles; impute them before copying "
                "haplotypes (a copied missing call would be a missing synthetic call)"
            )
        n, L, _ = H.shape
        if n < 2:
            raise ValueError(f"HaplotypeMosaic needs at least 2 training individuals, got {n}")
        _, labels = _fit_inputs(self, H.sum(axis=2), y)
        self.variants_ = variant_table(X)
        self.genetic_position_, new_contig = _genetic_map(
            X, self.variants_, self.recombination_rate
        )
        self.haplotypes_ = np.ascontiguousarray(H.transpose(0, 2, 1).reshape(2 * n, L))
        K = 2 * n
        gap_morgans = np.diff(self.genetic_position_, prepend=0.0) / 100.0
        rate = 4.0 * self.effective_population_size / K
        p = -np.expm1(-rate * gap_morgans)
        p[new_contig] = 1.0
        self.switch_probability_ = p
        self.watterson_theta_ = watterson_theta(K)
        theta = self.watterson_theta_
        self.miscopy_rate_ = (
            theta / (2.0 * (K + theta))
            if self.miscopy_rate == "watterson"
            else float(self.miscopy_rate)
        )
        if self.label_type_ == "continuous":
            by_trait = np.argsort(labels, kind="stable")
            self.donor_traits_ = np.asarray(y, dtype=np.float64)[by_trait]
            self.donor_order_ = np.stack([2 * by_trait, 2 * by_trait + 1], axis=1).ravel()
            self.donor_offsets_ = np.array([0, K])
        else:
            by_class = np.argsort(labels, kind="stable")
            self.donor_order_ = np.stack([2 * by_class, 2 * by_class + 1], axis=1).ravel()
            counts = np.bincount(labels, minlength=self.classes_.size)
            self.donor_offsets_ = np.r_[0, 2 * np.cumsum(counts)]
        self._check_donor_cap()
        return self

    def _pool_individuals(self) -> int:
        """Training individuals in the smallest donor pool."""
        if has_continuous_label(self):
            return self._window_individuals()
        return int(np.diff(self.donor_offsets_).min()) // 2

    def _window_individuals(self) -> int:
        return max(2, math.ceil(self.trait_window * self.donor_traits_.size))

    def _donor_cap(self):
        if self.max_donor_fraction is None:
            return None
        return int(math.floor(self.max_donor_fraction * 2 * self.n_features_in_))

    def _check_donor_cap(self) -> None:
        cap = self._donor_cap()
        if cap is None:
            return
        if cap < 1:
            raise ValueError(
                f"max_donor_fraction={self.max_donor_fraction} allows no allele at all on "
                f"{self.n_features_in_} SNPs (needs at least 1 / (2 n_snps))"
            )
        # While one haplotype copies an individual the other may not: one donor fewer.
        usable = self._pool_individuals() - 1
        if usable * cap < 2 * self.n_features_in_:
            raise ValueError(
                f"max_donor_fraction={self.max_donor_fraction} is too small: the smallest donor "
                f"pool has {usable + 1} individuals, who may give at most {usable * cap} of the "
                f"{2 * self.n_features_in_} alleles of a synthetic individual"
            )

    def _pools(self, labels):
        """Donor window (start, size) in ``donor_order_`` of each requested row."""
        if has_continuous_label(self):
            k = self._window_individuals()
            n = self.donor_traits_.size
            centre = np.searchsorted(self.donor_traits_, labels)
            low = np.clip(centre - k // 2, 0, n - k)
            return 2 * low, np.full(labels.size, 2 * k)
        start = self.donor_offsets_[labels]
        return start, self.donor_offsets_[labels + 1] - start

    def _haplotypes_by_snp(self) -> np.ndarray:
        """``haplotypes_`` one SNP per row (cached: the transpose costs more than a draw)."""
        source, by_snp = self.__dict__.get("_by_snp", (None, None))
        if source is not self.haplotypes_:  # first call, or refitted / loaded since
            by_snp = np.ascontiguousarray(self.haplotypes_.T)
            self._by_snp = (self.haplotypes_, by_snp)
        return by_snp

    def sample_haplotypes(self, n_samples=1, *, y=None, random_state=None, return_donors=False):
        """Draw synthetic individuals as phased haplotypes.

        Parameters
        ----------
        n_samples : int, default=1
            Number of individuals when ``y`` is None or a scalar.
        y : None, scalar or array-like, default=None
            None draws labels from the training label mix; a scalar gives every
            individual that label; an array gives one individual per entry.
        random_state : int, numpy Generator or None, default=None
            Seed of this call; the same value gives the same cohort.
        return_donors : bool, default=False
            Also return, for every allele, the training haplotype it was
            copied from (individual ``d // 2``): an audit of the copying.

        Returns
        -------
        H : ndarray of shape (n_samples, n_features_in_, 2), dtype int8
            Allele indices (1 = alt) of each individual's two haplotypes.
        y : ndarray of shape (n_samples,)
        donors : ndarray of shape (n_samples, n_features_in_, 2), dtype int32
            Only with ``return_donors``.
        """
        check_is_fitted(self)
        rng = _rng(random_state)
        label_rng = np.random.RandomState(rng.integers(2**32))
        labels, y_out = requested_labels(self, n_samples, y, label_rng)
        start, size = self._pools(labels)
        cap = self._donor_cap()
        self._check_donor_cap()
        n, L = labels.size, self.n_features_in_
        rows = _CHUNK_ROWS
        if cap is not None:
            rows = max(1, min(rows, _CAP_TABLE_CELLS // (self.haplotypes_.shape[0] // 2)))
        by_snp = self._haplotypes_by_snp()
        new_contig = self.switch_probability_ >= 1.0
        H = np.empty((n, L, 2), dtype=np.int8)
        donors = np.empty((n, L, 2), dtype=np.int32) if return_donors else None
        for first in range(0, n, rows):
            part = slice(first, min(first + rows, n))
            out = copy_haplotypes(
                by_snp,
                self.donor_order_,
                np.repeat(start[part], 2),
                np.repeat(size[part], 2),
                self.switch_probability_,
                new_contig,
                self.genetic_position_,
                max_segment_snps=self.max_segment_snps,
                max_segment_cm=self.max_segment_cm,
                donor_cap=cap,
                rng=rng,
                return_donors=return_donors,
            )
            alleles = out[0] if return_donors else out
            _miscopy(alleles, self.miscopy_rate_, rng)
            H[part] = alleles.reshape(L, -1, 2).transpose(1, 0, 2)
            if return_donors:
                donors[part] = out[1].reshape(L, -1, 2).transpose(1, 0, 2)
        return (H, y_out, donors) if return_donors else (H, y_out)

    def sample(self, n_samples=1, *, y=None, random_state=None):
        """Draw synthetic individuals as dosages.

        The dosages of :meth:`sample_haplotypes` for the same arguments.

        Parameters
        ----------
        n_samples : int, default=1
        y : None, scalar or array-like, default=None
        random_state : int, numpy Generator or None, default=None

        Returns
        -------
        G : ndarray of shape (n_samples, n_features_in_), dtype int8
        y : ndarray of shape (n_samples,)
        """
        H, y_out = self.sample_haplotypes(n_samples, y=y, random_state=random_state)
        return H.sum(axis=2, dtype=np.int8), y_out

    def sample_dataset(self, n_samples=1, *, y=None, random_state=None, sample_prefix="syn"):
        """Draw a synthetic cohort as a phased sgkit Dataset of the panel.

        Parameters
        ----------
        n_samples : int, default=1
        y : None, scalar or array-like, default=None
        random_state : int, numpy Generator or None, default=None
        sample_prefix : str, default="syn"
            Sample ids are ``f"{sample_prefix}{i}"``.

        Returns
        -------
        xarray.Dataset
            Phased ``call_genotype`` (``call_genotype_phased`` true), the
            panel's variant metadata and ``sample_phenotype``.
        """
        from genosynth.io import to_dataset

        H, y_out = self.sample_haplotypes(n_samples, y=y, random_state=random_state)
        ds = to_dataset(
            H.sum(axis=2), y=y_out, variants=self.variants_, sample_prefix=sample_prefix
        )
        dims = ("variants", "samples", "ploidy")
        ds["call_genotype"] = (dims, H.transpose(1, 0, 2), ds["call_genotype"].attrs)
        ds["call_genotype_phased"] = (("variants", "samples"), np.ones(H.shape[1::-1], bool))
        return ds

    def _export_fitted(self):
        """The model file holds the training haplotypes: warn whoever saves it."""
        import warnings

        from genosynth.persistence import split_fitted

        warnings.warn(
            "a HaplotypeMosaic model file holds the training haplotypes themselves; "
            "share it only as you would share the training data",
            UserWarning,
            stacklevel=4,
        )
        return split_fitted(self)

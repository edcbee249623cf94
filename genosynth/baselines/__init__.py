"""The two trivial generators that bracket every synthetic cohort.

* :class:`AlleleFrequencySampler` keeps each variant's genotype distribution
  within each class and nothing else: perfect allele frequencies and privacy,
  no linkage disequilibrium.
* :class:`Copycat` hands back training individuals: perfect LD and utility,
  no privacy at all (identical-match rate 1).

Both also take a quantitative trait as the label (float labels that sklearn's
``type_of_target`` calls continuous): the sampler's genotype frequencies then
vary linearly with the trait, and the copycat copies the individual whose
trait is closest to the requested one.

:class:`HaplotypeMosaic` (in :mod:`genosynth.baselines._mosaic`) is the classical bar
between them: Li and Stephens' copying model, a mosaic of phased training
haplotypes.

A useful generator keeps LD like the copycat and privacy like the allele
frequency sampler; every genosynth benchmark reports both side by side. Both
follow the sampling contract of genosynth's generators: ``sample(n_samples,
y=None, random_state=None)`` returns ``(G, y)``, with ``y=None`` drawing labels
from the training label mix, a scalar giving every row that label, and an
array giving one row per entry. ``random_state`` is a per-call seed, as in
:meth:`sklearn.neighbors.KernelDensity.sample`.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from genosynth.data._genotypes import as_genotypes, check_labels
from genosynth.data._labels import (
    has_continuous_label,
    requested,
    requested_labels,
    trait_summary,
)
from genosynth.stats._genetics import allele_frequency_from_counts

# Rows drawn per chunk when sampling, so the uniform draws never need n x L floats.
_CHUNK = 4096
# Row x variant cells per chunk when every row has its own frequencies (a trait).
_TRAIT_CELLS = 2**20


def _fit_inputs(est, X, y):
    """Genotypes, and class indices or the standardised trait; sets the label attributes."""
    G, _ = as_genotypes(X)
    y = check_labels(y, G.shape[0])
    est.n_features_in_ = G.shape[1]
    if type_of_target(y) == "continuous":
        est.label_type_ = "continuous"
        est.label_mean_, est.label_scale_, est.label_quantiles_ = trait_summary(y)
        return G, (y - est.label_mean_) / est.label_scale_
    est.label_type_ = "categorical"
    classes, y_idx, counts = np.unique(y, return_inverse=True, return_counts=True)
    est.classes_ = classes
    est.class_prior_ = counts / counts.sum()
    return G, y_idx


def _trait_genotype_frequencies(G: np.ndarray, t: np.ndarray):
    """Per variant and genotype, the frequency at ``t = 0`` and its slope in ``t``.

    Least squares of each genotype's indicator on the standardised trait
    ``t``, over the individuals called at that variant. The three lines of a
    variant sum to 1 at every ``t`` (their slopes sum to 0).
    """
    called = (G >= 0).astype(np.float64)
    n = called.sum(axis=0)
    if np.any(n == 0):
        raise ValueError(f"variants {np.flatnonzero(n == 0)[:5].tolist()} have no non-missing call")
    t_mean = t @ called / n  # mean trait of the called individuals, per variant
    t_var = (t**2) @ called / n - t_mean**2
    freqs, slopes = [], []
    for g in range(3):
        hit = (G == g).astype(np.float64)
        f = hit.sum(axis=0) / n
        cov = t @ hit / n - t_mean * f
        slope = np.divide(cov, t_var, out=np.zeros_like(cov), where=t_var > 1e-12)
        freqs.append(f - slope * t_mean)
        slopes.append(slope)
    return np.stack(freqs, axis=-1), np.stack(slopes, axis=-1)


class AlleleFrequencySampler(BaseEstimator):
    """Class-conditional sampler drawing every variant independently.

    Within each class, each variant's genotype is drawn on its own from that
    class's genotype frequencies (default) or, with ``hwe=True``, under
    Hardy-Weinberg proportions ``((1-p)^2, 2p(1-p), p^2)`` from the class's
    alternate-allele frequency ``p``. Allele frequencies and case-control
    differences are reproduced in expectation; linkage disequilibrium and every
    other dependence between variants is destroyed.

    For a quantitative trait, each genotype's frequency is a straight line in
    the trait (least squares over the training individuals, clipped at 0 and
    renormalised): the per-variant slopes of a linear association scan are
    reproduced in expectation, and nothing else.

    Parameters
    ----------
    hwe : bool, default=False
        Draw genotypes under Hardy-Weinberg equilibrium from the class allele
        frequency instead of from the observed class genotype frequencies
        (which keep any departure from HWE present in the data).

    Attributes
    ----------
    label_type_ : {"categorical", "continuous"}
        Class labels, or a quantitative trait.
    classes_ : ndarray of shape (n_classes,)
        Labels seen in ``fit`` (class labels).
    class_prior_ : ndarray of shape (n_classes,)
        Fraction of training rows in each class (the label mix of ``y=None``).
    genotype_freqs_ : ndarray of shape (n_classes, n_features_in_, 3)
        Frequencies of genotypes 0/1/2 per class and variant that ``sample``
        draws from. Missing calls are left out; a variant with no call in a
        class uses the frequencies pooled over all classes. For a trait,
        shape (1, n_features_in_, 3): the frequencies at the mean trait.
    genotype_slopes_ : ndarray of shape (n_features_in_, 3)
        For a trait: change of each genotype frequency per standard deviation
        of the trait.
    allele_freqs_ : ndarray of shape (n_classes, n_features_in_)
        Alternate-allele frequency per class and variant (for a trait, at its
        mean).
    label_mean_, label_scale_, label_quantiles_
        For a trait: its mean, standard deviation and quantiles (``y=None``
        draws from them; requests must lie between the extremes).
    n_features_in_ : int
        Number of variants.

    Examples
    --------
    >>> import numpy as np
    >>> from genosynth.baselines import AlleleFrequencySampler
    >>> rng = np.random.default_rng(0)
    >>> G = rng.integers(0, 3, size=(200, 5))
    >>> y = rng.integers(0, 2, size=200)
    >>> est = AlleleFrequencySampler().fit(G, y)
    >>> G_syn, y_syn = est.sample(4, y=1, random_state=0)
    >>> G_syn.shape, y_syn.tolist()
    ((4, 5), [1, 1, 1, 1])
    """

    _parameter_constraints: dict = {"hwe": ["boolean"]}

    def __init__(self, hwe=False):
        self.hwe = hwe

    def fit(self, X, y):
        """Estimate the per-class genotype frequencies.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_variants) or xarray.Dataset
            Genotypes 0/1/2 (-1 or NaN missing) or an sgkit Dataset.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : AlleleFrequencySampler
        """
        self._validate_params()
        G, y_idx = _fit_inputs(self, X, y)
        if self.label_type_ == "continuous":
            freqs, self.genotype_slopes_ = _trait_genotype_frequencies(G, y_idx)
            self.genotype_freqs_ = freqs[None]
            self.allele_freqs_ = allele_frequency_from_counts(freqs)[None]
            return self
        counts = np.stack(
            [
                np.stack([(G[y_idx == c] == g).sum(axis=0) for g in range(3)], axis=-1)
                for c in range(self.classes_.size)
            ]
        ).astype(np.float64)
        pooled = counts.sum(axis=0)
        if np.any(pooled.sum(axis=-1) == 0):
            empty = np.flatnonzero(pooled.sum(axis=-1) == 0)
            raise ValueError(f"variants {empty[:5].tolist()} have no non-missing call")
        empty = counts.sum(axis=-1) == 0
        counts[empty] = pooled[np.nonzero(empty)[1]]
        freqs = counts / counts.sum(axis=-1, keepdims=True)
        self.allele_freqs_ = allele_frequency_from_counts(freqs)
        if self.hwe:
            p = self.allele_freqs_
            freqs = np.stack([(1 - p) ** 2, 2 * p * (1 - p), p**2], axis=-1)
        self.genotype_freqs_ = freqs
        return self

    def sample(self, n_samples=1, *, y=None, random_state=None):
        """Draw synthetic individuals.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows when ``y`` is None or a scalar.
        y : None, scalar or array-like, default=None
            None draws labels from ``class_prior_``; a scalar gives every row
            that label; an array gives one row per entry.
        random_state : int, RandomState instance or None, default=None
            Seed of this call; the same value gives the same cohort.

        Returns
        -------
        G : ndarray of shape (n_samples, n_features_in_), dtype int8
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        rng = check_random_state(random_state)
        labels, y_out = requested_labels(self, n_samples, y, rng)
        continuous = has_continuous_label(self)
        G = np.empty((labels.size, self.n_features_in_), dtype=np.int8)
        # A trait gives every row its own frequencies: fewer rows per chunk.
        rows = max(1, _TRAIT_CELLS // self.n_features_in_) if continuous else _CHUNK
        class_cum = None if continuous else np.cumsum(self.genotype_freqs_, axis=-1)[..., :2]
        for start in range(0, labels.size, rows):
            part = labels[start : start + rows]
            if continuous:
                cum = np.cumsum(self._trait_frequencies(part), axis=-1)[..., :2]
            else:
                cum = class_cum[part]
            u = rng.random_sample((part.size, self.n_features_in_))
            G[start : start + part.size] = (u >= cum[..., 0]).astype(np.int8) + (u >= cum[..., 1])
        return G, y_out

    def _trait_frequencies(self, values: np.ndarray) -> np.ndarray:
        """Genotype frequencies (rows, variants, 3) at the given trait values."""
        t = (values - self.label_mean_) / self.label_scale_
        freqs = self.genotype_freqs_ + t[:, None, None] * self.genotype_slopes_
        freqs = np.clip(freqs, 0.0, None)
        freqs /= freqs.sum(axis=-1, keepdims=True)
        if self.hwe:
            p = allele_frequency_from_counts(freqs)
            freqs = np.stack([(1 - p) ** 2, 2 * p * (1 - p), p**2], axis=-1)
        return freqs


class Copycat(BaseEstimator):
    """The copying generator: each synthetic row is a training row of its class.

    Rows are drawn uniformly with replacement among the training individuals
    of the requested class, so the synthetic cohort is the empirical
    distribution of the training data: every statistic is reproduced, and
    every synthetic individual is a real one (identical-match rate 1,
    membership inference trivial). It exists to calibrate privacy metrics and
    cannot be saved with :func:`genosynth.save`.

    For a quantitative trait, a requested value copies the training
    individual whose trait is closest (the first in training order among
    equals), and ``y=None`` copies training individuals drawn uniformly,
    reported with their own trait values.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen in ``fit``.
    class_prior_ : ndarray of shape (n_classes,)
        Fraction of training rows in each class.
    genotypes_ : ndarray of shape (n_train, n_features_in_), dtype int8
        The training genotypes (missing calls are copied as -1).
    n_features_in_ : int
        Number of variants.

    Examples
    --------
    >>> import numpy as np
    >>> from genosynth.baselines import Copycat
    >>> G = np.array([[0, 1], [2, 2], [1, 0]])
    >>> est = Copycat().fit(G, [0, 1, 0])
    >>> est.sample(y=[1, 1], random_state=0)[0]
    array([[2, 2],
           [2, 2]], dtype=int8)
    """

    def fit(self, X, y):
        """Memorise the training individuals.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_variants) or xarray.Dataset
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : Copycat
        """
        G, y_idx = _fit_inputs(self, X, y)
        self.genotypes_ = G.copy()
        if self.label_type_ == "continuous":
            self._trait_order = np.argsort(y_idx, kind="stable")
            self._traits = np.asarray(y, dtype=np.float64)[self._trait_order]
        else:
            self._rows_by_class = [np.flatnonzero(y_idx == c) for c in range(self.classes_.size)]
        return self

    def sample(self, n_samples=1, *, y=None, random_state=None):
        """Copy training individuals of the requested classes.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows when ``y`` is None or a scalar.
        y : None, scalar or array-like, default=None
            As in :meth:`AlleleFrequencySampler.sample`.
        random_state : int, RandomState instance or None, default=None
            Seed of this call.

        Returns
        -------
        G : ndarray of shape (n_samples, n_features_in_), dtype int8
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        rng = check_random_state(random_state)
        if has_continuous_label(self) and y is None:
            n, _ = requested(n_samples, None)
            rows = rng.randint(0, len(self._traits), size=n)
            return self.genotypes_[self._trait_order[rows]], self._traits[rows]
        labels, y_out = requested_labels(self, n_samples, y, rng)
        if has_continuous_label(self):
            right = np.clip(np.searchsorted(self._traits, labels), 1, len(self._traits) - 1)
            left = right - 1
            closer_left = labels - self._traits[left] <= self._traits[right] - labels
            rows = np.where(closer_left, left, right)
            return self.genotypes_[self._trait_order[rows]], y_out
        rows = np.empty(labels.size, dtype=np.int64)
        for c, members in enumerate(self._rows_by_class):
            where = np.flatnonzero(labels == c)
            rows[where] = rng.choice(members, size=where.size, replace=True)
        return self.genotypes_[rows], y_out


def __getattr__(name):
    # HaplotypeMosaic builds on this module's label helpers, so it is imported on first use.
    if name == "HaplotypeMosaic":
        from genosynth.baselines._mosaic import HaplotypeMosaic

        return HaplotypeMosaic
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The two trivial generators that bracket every synthetic cohort.

* :class:`AlleleFrequencySampler` keeps each variant's genotype distribution
  within each class and nothing else: perfect allele frequencies and privacy,
  no linkage disequilibrium.
* :class:`Copycat` hands back training individuals: perfect LD and utility,
  no privacy at all (identical-match rate 1).

A useful generator keeps LD like the copycat and privacy like the allele
frequency sampler; every genosynth benchmark reports both side by side. Both
follow the sampling contract of genosynth's generators: ``sample(n_samples,
y=None, random_state=None)`` returns ``(G, y)``, with ``y=None`` drawing labels
from the training label mix, a scalar giving every row that label, and an
array giving one row per entry. ``random_state`` is a per-call seed, as in
:meth:`sklearn.neighbors.KernelDensity.sample`.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from genosynth._genotypes import as_genotypes, check_labels

# Rows drawn per chunk when sampling, so the uniform draws never need n x L floats.
_CHUNK = 4096


def _fit_inputs(est, X, y):
    G, _ = as_genotypes(X)
    y = check_labels(y, G.shape[0])
    classes, y_idx, counts = np.unique(y, return_inverse=True, return_counts=True)
    est.classes_ = classes
    est.class_prior_ = counts / counts.sum()
    est.n_features_in_ = G.shape[1]
    return G, y_idx


def _requested_labels(est, n_samples, y, rng) -> np.ndarray:
    """Class indices of the rows to generate (see the module docstring)."""
    if y is None:
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
        return rng.choice(est.classes_.size, size=int(n_samples), p=est.class_prior_)
    y = np.asarray(y)
    if y.ndim == 0:
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
        y = np.full(int(n_samples), y.item())
    elif y.ndim != 1 or y.size == 0:
        raise ValueError(f"y must be None, a scalar or a non-empty 1-D array, got shape {y.shape}")
    elif n_samples not in (1, y.size):
        raise ValueError(
            f"n_samples={n_samples} conflicts with y of length {y.size}; "
            "with an array y, one row is generated per entry"
        )
    idx = np.searchsorted(est.classes_, y)
    idx = np.clip(idx, 0, est.classes_.size - 1)
    unknown = est.classes_[idx] != y
    if unknown.any():
        raise ValueError(
            f"y contains labels not seen in fit: {np.unique(y[unknown])[:5].tolist()}; "
            f"known labels are {est.classes_.tolist()}"
        )
    return idx


class AlleleFrequencySampler(BaseEstimator):
    """Class-conditional sampler drawing every variant independently.

    Within each class, each variant's genotype is drawn on its own from that
    class's genotype frequencies (default) or, with ``hwe=True``, under
    Hardy-Weinberg proportions ``((1-p)^2, 2p(1-p), p^2)`` from the class's
    alternate-allele frequency ``p``. Allele frequencies and case-control
    differences are reproduced in expectation; linkage disequilibrium and every
    other dependence between variants is destroyed.

    Parameters
    ----------
    hwe : bool, default=False
        Draw genotypes under Hardy-Weinberg equilibrium from the class allele
        frequency instead of from the observed class genotype frequencies
        (which keep any departure from HWE present in the data).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen in ``fit``.
    class_prior_ : ndarray of shape (n_classes,)
        Fraction of training rows in each class (the label mix of ``y=None``).
    genotype_freqs_ : ndarray of shape (n_classes, n_features_in_, 3)
        Frequencies of genotypes 0/1/2 per class and variant that ``sample``
        draws from. Missing calls are left out; a variant with no call in a
        class uses the frequencies pooled over all classes.
    allele_freqs_ : ndarray of shape (n_classes, n_features_in_)
        Alternate-allele frequency per class and variant.
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
        self.allele_freqs_ = (freqs[..., 1] + 2 * freqs[..., 2]) / 2
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
        labels = _requested_labels(self, n_samples, y, rng)
        cum = np.cumsum(self.genotype_freqs_, axis=-1)[..., :2]
        G = np.empty((labels.size, self.n_features_in_), dtype=np.int8)
        for start in range(0, labels.size, _CHUNK):
            part = labels[start : start + _CHUNK]
            u = rng.random_sample((part.size, self.n_features_in_))
            G[start : start + part.size] = (u >= cum[part, :, 0]).astype(np.int8) + (
                u >= cum[part, :, 1]
            )
        return G, self.classes_[labels]


class Copycat(BaseEstimator):
    """The copying generator: each synthetic row is a training row of its class.

    Rows are drawn uniformly with replacement among the training individuals
    of the requested class, so the synthetic cohort is the empirical
    distribution of the training data: every statistic is reproduced, and
    every synthetic individual is a real one (identical-match rate 1,
    membership inference trivial). It exists to calibrate privacy metrics and
    cannot be saved with :func:`genosynth.save`.

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
        labels = _requested_labels(self, n_samples, y, rng)
        rows = np.empty(labels.size, dtype=np.int64)
        for c, members in enumerate(self._rows_by_class):
            where = np.flatnonzero(labels == c)
            rows[where] = rng.choice(members, size=where.size, replace=True)
        return self.genotypes_[rows], self.classes_[labels]

"""Polygenic risk scores as a scikit-learn classifier (clumping and thresholding).

The "univariate PRS" of the SNPgen paper: every variant's marginal effect on
the trait is estimated on its own (a per-variant GWAS), the effects of the
retained variants are summed into a score, and a logistic link turns the score
into a probability. It is the downstream model genetics actually uses, so it
is one of the two TSTR models of :func:`genosynth.metrics.tstr`, and it works
on its own on real cohorts.

This module does not import torch.
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d

from genosynth.data._genotypes import as_genotypes

# The calibration is a one-feature logistic regression; this C is large enough
# to be unpenalised in practice while keeping the fit finite when the training
# score separates the classes perfectly.
_CALIBRATION_C = 1e4


def _as_2d_genotypes(X):
    if not hasattr(X, "data_vars") and np.ndim(X) == 1:
        raise ValueError(
            "Expected a 2-D genotype array (n_samples, n_variants), got a 1-D array. "
            "Reshape your data with X.reshape(1, -1) for a single individual."
        )
    return as_genotypes(X)


def _clump_positions(variants, n_variants: int):
    if variants is None:
        raise ValueError(
            "clump=True needs variant positions: pass a Dataset as X or a variants table "
            "(columns contig, position) through fit(..., variants=...)"
        )
    if not isinstance(variants, pd.DataFrame) or not {"contig", "position"} <= set(
        variants.columns
    ):
        raise ValueError("variants must be a DataFrame with 'contig' and 'position' columns")
    if len(variants) != n_variants:
        raise ValueError(f"variants has {len(variants)} rows but X has {n_variants} variants")
    return variants["contig"].to_numpy(), variants["position"].to_numpy(dtype=np.float64)


class PRSClassifier(ClassifierMixin, BaseEstimator):
    """Clumping-and-thresholding polygenic risk score with a calibrated logistic link.

    ``fit`` runs a per-variant association scan
    (:func:`genosynth.association.association_scan`, the same statistics as
    :class:`~genosynth.GWASSelector`) on the training individuals: each
    variant's ``beta`` is its marginal effect, in log-odds per copy of the
    alternate allele for the default logistic test. Variants are retained
    when their effect is estimable (polymorphic, test converged), their
    p-value is at most ``p_threshold`` (if given) and, with ``clump=True``,
    they survive greedy LD clumping by p-value. The score of an individual is

        score(x) = sum_j effects_[j] * x_j

    over the retained variants (``x_j`` the alternate-allele dosage), and
    ``P(y = classes_[1] | x) = sigmoid(intercept_ + slope_ * score(x))``,
    the logistic link fitted on the training scores. Because the effects
    were estimated on the same individuals, the training scores are
    optimistic and the fitted slope tends to be too steep: the ranking
    (and hence AUC) is unaffected, the probabilities are somewhat
    over-confident.

    Missing genotype calls: in ``fit`` the association scan excludes them
    per variant; when scoring, a missing dosage is replaced by its mean in
    the training individuals (``2 p`` with ``p`` the training alternate-allele
    frequency), so it contributes the average training effect of that
    variant.

    Parameters
    ----------
    p_threshold : float in (0, 1], default=None
        Keep only variants whose association p-value is at most this value
        (the "T" of C+T). None keeps every estimable variant.
    clump : bool, default=False
        Greedy LD clumping (the "C" of C+T), as PLINK's ``--clump``: walking
        from the most significant variant, each variant not yet absorbed
        becomes an index variant and absorbs the variants on its contig
        within ``clump_kb`` kilobases with ``r² >= clump_r2`` (haplotype r²
        estimated by EM from genotypes, PLINK 1.9's estimator). Only index
        variants enter the score. Needs variant positions: a Dataset ``X``
        or the ``variants`` fit parameter.
    clump_r2 : float in [0, 1], default=0.1
        r² at or above which a neighbour of an index variant is removed.
    clump_kb : float, default=250
        Clumping window in kilobases on each side of an index variant.
    test : {"auto", "logistic", "linear"}, default="auto"
        Association test of the scan; "auto" uses logistic regression for a
        binary target.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two class labels; ``classes_[1]`` is the "case" whose probability
        the score models.
    n_features_in_ : int
        Number of variants.
    effects_ : ndarray of shape (n_features_in_,)
        Weight of each variant in the score (its GWAS ``beta``), 0 for the
        variants not retained.
    support_ : ndarray of shape (n_features_in_,), dtype bool
        Variants retained in the score.
    association_ : pandas.DataFrame
        The association scan of the training data (one row per variant:
        id, contig, position, ref, alt, maf, n_obs, missing_rate, beta, se,
        stat, p, test) plus a boolean ``selected`` column.
    imputation_dosages_ : ndarray of shape (n_features_in_,)
        Training mean dosage of each variant, used for missing calls.
    intercept_, slope_ : float
        The logistic link ``logit P(case) = intercept_ + slope_ * score``.

    Examples
    --------
    >>> import numpy as np
    >>> from genosynth.prs import PRSClassifier
    >>> rng = np.random.default_rng(0)
    >>> G = rng.integers(0, 3, size=(400, 20))
    >>> y = (G[:, 0] + G[:, 1] + rng.normal(size=400) > 2).astype(int)
    >>> clf = PRSClassifier(p_threshold=1e-3).fit(G, y)
    >>> clf.support_[:2].tolist(), bool(clf.effects_[0] > 0)
    ([True, True], True)
    >>> clf.predict_proba(G[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "p_threshold": [Interval(Real, 0, 1, closed="right"), None],
        "clump": ["boolean"],
        "clump_r2": [Interval(Real, 0, 1, closed="both")],
        "clump_kb": [Interval(Real, 0, None, closed="left")],
        "test": [StrOptions({"auto", "logistic", "linear"})],
    }

    def __init__(self, p_threshold=None, *, clump=False, clump_r2=0.1, clump_kb=250, test="auto"):
        self.p_threshold = p_threshold
        self.clump = clump
        self.clump_r2 = clump_r2
        self.clump_kb = clump_kb
        self.test = test

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        # NaN is a missing genotype call, scored by mean imputation.
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X, y, *, variants=None, covariates=None):
        """Estimate per-variant effects, select variants and fit the logistic link.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_variants) or xarray.Dataset
            Genotypes 0/1/2 (-1 or NaN missing) or an sgkit Dataset.
        y : array-like of shape (n_samples,)
            Two class labels.
        variants : pandas.DataFrame, optional
            Variant table with ``contig`` and ``position`` columns (one row per
            column of ``X``), used by clumping; taken from ``X`` when it is a
            Dataset.
        covariates : array-like of shape (n_samples, n_covariates), optional
            Adjust the per-variant effects for these (e.g. ancestry PCs). They
            are not part of the score.

        Returns
        -------
        self : PRSClassifier
        """
        from genosynth.association import association_scan

        self._validate_params()
        G, ds_variants = _as_2d_genotypes(X)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        y = column_or_1d(y, warn=True)
        if y.shape[0] != G.shape[0]:
            raise ValueError(f"y has {y.shape[0]} entries but X has {G.shape[0]} samples")
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y")
        if y_type != "binary":
            raise ValueError(
                "Only binary classification is supported (a polygenic score ranks cases "
                f"against controls). The type of the target is {y_type}."
            )
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if self.classes_.size != 2:
            raise ValueError(
                f"PRSClassifier needs cases and controls; y has {self.classes_.size} class"
            )
        self.n_features_in_ = G.shape[1]
        if variants is None:
            variants = ds_variants
        if self.clump:
            contig, position = _clump_positions(variants, G.shape[1])

        scan = association_scan(G, y_idx, covariates, test=self.test, refine="all")
        beta = scan["beta"].to_numpy(dtype=np.float64)
        p = scan["p"].to_numpy(dtype=np.float64)
        keep = np.isfinite(beta) & np.isfinite(p)
        if self.p_threshold is not None:
            keep &= p <= self.p_threshold
        if self.clump and keep.any():
            keep = self._clump_mask(G, scan, keep, contig, position)
        if not keep.any():
            warnings.warn(
                "no variant was retained in the polygenic score (p_threshold too strict or "
                "no estimable effect): every individual gets the same prediction",
                UserWarning,
                stacklevel=2,
            )
        self.support_ = keep
        self.effects_ = np.where(keep, beta, 0.0)
        self.association_ = scan.assign(selected=keep)

        called = G >= 0
        n_called = called.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(called, G, 0).sum(axis=0) / n_called
        self.imputation_dosages_ = np.where(n_called > 0, mean, 0.0)

        self._fit_link(self._score(G), y_idx)
        return self

    def _clump_mask(self, G, scan, candidates, contig, position) -> np.ndarray:
        """Index variants of greedy PLINK-style clumping among ``candidates``."""
        from genosynth.stats._clumping import GreedyClumper

        cand = np.flatnonzero(candidates)
        p = scan["p"].to_numpy(dtype=np.float64)[cand]
        strength = np.abs(scan["stat"].to_numpy(dtype=np.float64))[cand]
        # Most significant first; p-values that underflow to 0 are ordered by |stat|.
        order = cand[np.lexsort((cand, -strength, p))]
        clumper = GreedyClumper(self.clump_r2, self.clump_kb * 1000.0)
        accepted = clumper.offer(G[:, order], contig[order], position[order])
        mask = np.zeros(G.shape[1], dtype=bool)
        mask[order[accepted]] = True
        return mask

    def _fit_link(self, score, y_idx) -> None:
        sd = score.std()
        if not np.isfinite(sd) or sd == 0:
            prior = y_idx.mean()
            self.intercept_, self.slope_ = float(np.log(prior / (1 - prior))), 0.0
            return
        centre = score.mean()
        link = LogisticRegression(C=_CALIBRATION_C).fit(((score - centre) / sd)[:, None], y_idx)
        self.slope_ = float(link.coef_[0, 0] / sd)
        self.intercept_ = float(link.intercept_[0] - self.slope_ * centre)

    def _genotypes(self, X) -> np.ndarray:
        check_is_fitted(self)
        G, _ = _as_2d_genotypes(X)
        if G.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {G.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )
        return G

    def _score(self, G) -> np.ndarray:
        cols = np.flatnonzero(self.support_)
        sub = G[:, cols]
        dosage = np.where(sub >= 0, sub, self.imputation_dosages_[cols]).astype(np.float64)
        return dosage @ self.effects_[cols]

    def polygenic_score(self, X) -> np.ndarray:
        """The raw polygenic score ``sum_j effects_[j] * x_j`` of each individual.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_variants) or xarray.Dataset
            Genotypes on the training variants; missing calls take the
            training mean dosage.

        Returns
        -------
        score : ndarray of shape (n_samples,)
        """
        return self._score(self._genotypes(X))

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of ``classes_[1]``: ``intercept_ + slope_ * polygenic_score(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_variants) or xarray.Dataset

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        score = self.polygenic_score(X)
        return self.intercept_ + self.slope_ * score

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities from the logistic link on the score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_variants) or xarray.Dataset

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Columns in the order of ``classes_``.
        """
        d = self.decision_function(X)
        p1 = np.exp(-np.logaddexp(0.0, -d))
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X) -> np.ndarray:
        """The more probable class of each individual.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_variants) or xarray.Dataset

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(int)]

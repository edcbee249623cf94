"""The trait without genotype: which test, the covariate design, the null fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from genosynth.data._genotypes import _is_dataset, check_labels


def resolve_test(y: np.ndarray, test: str) -> tuple[str, np.ndarray | None]:
    """Choose logistic or linear for ``y``; return the kind and, if binary, its classes."""
    if test not in ("auto", "logistic", "linear"):
        raise ValueError(f"test must be 'auto', 'logistic' or 'linear', got {test!r}")
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(
            f"y has a single value ({classes[0]!r}), i.e. one class: association needs at "
            "least two classes or a varying trait"
        )
    if test == "logistic" and classes.size != 2:
        raise ValueError(
            f"test='logistic' needs a binary trait; y has {classes.size} distinct values"
        )
    if test == "auto" and y.dtype.kind in "iu" and classes.tolist() == [-1, 0, 1]:
        # read_plink's binary phenotype with missing values: not a three-valued trait.
        raise ValueError(
            "y holds -1 next to 0/1, read_plink's code for a missing case-control "
            "phenotype: keep the samples with y >= 0 (or pass test='linear' if -1 is a value)"
        )
    if test == "linear" or (test == "auto" and classes.size > 2):
        return "linear", None
    return "logistic", classes


def check_covariates(covariates, n_samples: int) -> np.ndarray | None:
    """Validate a covariate matrix: numeric, finite, (n_samples, c)."""
    if covariates is None:
        return None
    if _is_dataset(covariates):
        raise TypeError("covariates must be an array (or, in GWASSelector.fit, variable names)")
    cov = np.asarray(covariates)
    if cov.dtype == object or cov.dtype.kind not in "biuf":
        raise TypeError(f"covariates must be numeric, got dtype {cov.dtype}")
    cov = cov.astype(np.float64)
    if cov.ndim == 1:
        cov = cov[:, None]
    if cov.ndim != 2:
        raise ValueError(f"covariates must be 2-D (n_samples, n_covariates), got {cov.ndim}-D")
    if cov.shape[0] != n_samples:
        raise ValueError(
            f"covariates have {cov.shape[0]} rows but the genotypes have {n_samples} samples"
        )
    bad = ~np.isfinite(cov)
    if bad.any():
        cols = np.flatnonzero(bad.any(axis=0)).tolist()
        raise ValueError(
            f"covariates contain NaN or infinite values ({int(bad.sum())} cells, in columns "
            f"{cols[:10]}); impute or drop those samples first"
        )
    if cov.shape[1] == 0:
        return None
    return cov


def _design(cov: np.ndarray | None, n: int) -> np.ndarray:
    """Intercept plus covariates, refusing rank-deficient designs."""
    C = np.ones((n, 1)) if cov is None else np.column_stack([np.ones(n), cov])
    if C.shape[1] > 1:
        # Rank on standardised columns so that scale differences do not fake collinearity.
        scale = np.linalg.norm(C, axis=0)
        scale[scale == 0] = 1.0
        sv = np.linalg.svd(C / scale, compute_uv=False)
        rank = int((sv > sv[0] * 1e-10).sum())
        if rank < C.shape[1]:
            const = np.flatnonzero(np.ptp(C[:, 1:], axis=0) == 0).tolist()
            hint = f" (constant columns {const} duplicate the intercept)" if const else ""
            raise ValueError(
                f"covariates are collinear: the design of intercept + {C.shape[1] - 1} "
                f"covariates has rank {rank}{hint}; drop redundant columns"
            )
        if C.shape[1] >= n:
            raise ValueError(
                f"{C.shape[1] - 1} covariates for {n} samples: too many to fit a model"
            )
    return C


@dataclass
class NullModel:
    """The trait model without genotype, fitted once on all samples."""

    kind: str  # "logistic" or "linear"
    y: np.ndarray  # (n,) float64; 0/1 for logistic
    C: np.ndarray  # (n, k) intercept + covariates
    coef: np.ndarray  # (k,)
    w: np.ndarray  # (n,) IRLS weights mu (1 - mu); ones for linear
    r: np.ndarray  # (n,) residuals y - fitted
    CwC: np.ndarray  # (k, k) C' W C
    Cr: np.ndarray  # (k,) C' r (zero up to rounding)
    classes: np.ndarray | None

    @property
    def k(self) -> int:
        return self.C.shape[1]

    @property
    def case_rows(self) -> np.ndarray | None:
        return None if self.kind != "logistic" else np.flatnonzero(self.y == 1)


def null_model(y, covariates, test: str, n_samples: int) -> NullModel:
    """Validate ``y``/covariates and fit ``y ~ intercept + covariates``."""
    y = check_labels(y, n_samples)
    kind, classes = resolve_test(y, test)
    cov = check_covariates(covariates, n_samples)
    C = _design(cov, n_samples)
    if kind == "logistic":
        yf = (y == classes[1]).astype(np.float64)
        coef = _fit_null_logistic(C, yf)
        mu = expit(C @ coef)
        w = mu * (1.0 - mu)
        r = yf - mu
    else:
        yf = y.astype(np.float64)
        coef, *_ = np.linalg.lstsq(C, yf, rcond=None)
        r = yf - C @ coef
        w = np.ones(n_samples)
        if np.sum(r * r) <= 1e-20 * max(1.0, np.sum(yf * yf)):
            raise ValueError("the covariates explain y exactly: nothing is left to associate")
    CwC = (C * w[:, None]).T @ C
    return NullModel(kind, yf, C, coef, w, r, CwC, C.T @ r, classes)


def _fit_null_logistic(C: np.ndarray, y: np.ndarray) -> np.ndarray:
    ybar = y.mean()
    coef = np.zeros(C.shape[1])
    coef[0] = np.log(ybar / (1.0 - ybar))
    for _ in range(100):
        mu = expit(C @ coef)
        w = mu * (1.0 - mu)
        info = (C * w[:, None]).T @ C
        try:
            step = np.linalg.solve(info, C.T @ (y - mu))
        except np.linalg.LinAlgError:
            break
        coef = coef + step
        if np.max(np.abs(step)) < 1e-10:
            if np.min(w) < 1e-12 or np.max(np.abs(coef)) > 50:
                break
            return coef
    raise ValueError(
        "the null logistic model y ~ covariates does not converge: the covariates (nearly) "
        "separate cases from controls"
    )

"""Per-variant association tests between alternate-allele dosage and a trait.

One scan streams the genotypes block of variants by block (never the whole
float matrix) and reports, for every variant, the additive effect of one copy
of the alternate allele, its standard error, a test statistic and a p-value.

Tests
-----
Binary traits (logistic model ``logit P(y=1) = C @ gamma + beta * g``):

* ``"score"`` -- Rao score test against the null model ``y ~ C`` fitted once.
  Its statistic needs only matrix products with the genotype block, so it
  ranks all variants at the cost of a few GEMMs. ``beta`` is the one-step
  estimate ``U / V`` and ``se = 1 / sqrt(V)``.
* ``"wald"`` -- maximum-likelihood fit of the full model per variant by
  iteratively reweighted least squares, vectorised over a batch of variants;
  Wald ``z = beta / se``. This is what ``plink2 --glm`` reports.
* ``"firth"`` -- Firth-penalised likelihood (bias-reduced, always finite),
  used as plink2's ``firth-fallback`` does: when the plain fit diverges,
  i.e. when the genotype separates cases from controls (a zero cell such as
  an allele never seen in cases) or the IRLS does not converge.

Continuous traits: ``"ols"`` -- ordinary least squares with the covariates
projected out, exact t-test on ``n_obs - k - 1`` degrees of freedom (``k``
covariate columns including the intercept), as ``plink2 --glm`` for
quantitative phenotypes.

Missing calls are excluded variant by variant (``n_obs`` counts the calls
used). Without covariates every test is exact on each variant's called
samples; with covariates the score test reuses the full-sample null fit with a
one-step correction for the samples a variant is missing (exact when nothing
is missing), while Wald, Firth and OLS are always exact.

Orientation: ``beta > 0`` means each copy of the alternate allele
(``variant_allele[:, 1]``) raises the trait (log-odds for binary traits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from genosynth.data._genotypes import (
    _direct_dosage,
    _is_dask,
    _is_dataset,
    check_labels,
    default_variants,
    iter_variant_blocks,
    shape_of,
    variant_table,
)
from genosynth.stats._genetics import genotype_counts, minor_allele_frequency
from genosynth.stats._pvalues import p_from_neglog10

__all__ = ["association_scan"]

RESULT_COLUMNS = (
    "id",
    "contig",
    "position",
    "ref",
    "alt",
    "maf",
    "n_obs",
    "missing_rate",
    "beta",
    "se",
    "stat",
    "p",
    "test",
)

# Test codes stored per variant while scanning; their names in the results.
SCORE, WALD, FIRTH, OLS = 0, 1, 2, 3
TEST_NAMES = np.array(["score", "wald", "firth", "ols"], dtype=object)

_LN10 = np.log(10.0)
_MAX_ITER = 30
_FIRTH_MAX_ITER = 100
_TOL = 1e-10
# Float working set of one batch of variants (elements of an n x m float64 array).
_FLOAT_BATCH = 1 << 21


# --------------------------------------------------------------------------------------
# p-values on the -log10 scale, accurate far below the smallest double
# --------------------------------------------------------------------------------------


def _neglog10_p_normal(z: np.ndarray) -> np.ndarray:
    """-log10 of the two-sided normal p-value of ``z`` (finite for any finite z)."""
    z = np.abs(np.asarray(z, dtype=np.float64))
    return -(np.log(2.0) + stats.norm.logsf(z)) / _LN10


def _neglog10_p_t(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """-log10 of the two-sided Student-t p-value.

    ``scipy.stats.t.logsf`` underflows to -inf for large |t| and df; there the
    tail is ``sf(t) = f(t) (df + t^2) / ((df - 1) t) (1 + O(1/t^2))``
    (integration by parts of the density), accurate to < 1e-3 in log10 where
    it is used.
    """
    t = np.abs(np.asarray(t, dtype=np.float64))
    df = np.asarray(df, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logsf = stats.t.logsf(t, df)
        tail = stats.t.logpdf(t, df) + np.log((df + t * t) / ((df - 1.0) * t))
    logsf = np.where(np.isfinite(logsf) | np.isnan(t), logsf, tail)
    return -(np.log(2.0) + logsf) / _LN10


# --------------------------------------------------------------------------------------
# Inputs: trait, covariates, null model
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Per-block statistics
# --------------------------------------------------------------------------------------


@dataclass
class BlockStats:
    """Everything a scan keeps about the variants of one block."""

    counts: np.ndarray  # (m, 4) dosage 0/1/2/missing counts, all samples
    case_counts: np.ndarray | None  # (m, 4) in cases (binary traits)
    beta: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    neglog10p: np.ndarray
    test: np.ndarray  # int8 codes
    testable: np.ndarray  # bool: polymorphic among called samples, enough calls


def _empty_stats(m: int, code: int) -> tuple:
    nan = np.full(m, np.nan)
    return nan.copy(), nan.copy(), nan.copy(), nan.copy(), np.full(m, code, dtype=np.int8)


def block_statistics(G: np.ndarray, model: NullModel, *, refine_block: bool) -> BlockStats:
    """Counts and first-pass tests for one block of dosages ``G`` (n, m) int8.

    ``refine_block`` asks for Wald/Firth right away on every testable variant
    of the block (logistic models); otherwise binary traits get score tests.
    """
    m = G.shape[1]
    counts = genotype_counts(G)
    n_obs = counts[:, :3].sum(axis=1)
    # The dosage must vary among called samples (an all-heterozygous variant does not).
    polymorphic = (counts[:, :3] > 0).sum(axis=1) >= 2
    testable = polymorphic & (n_obs > model.k + 1)
    case_counts = None
    if model.kind == "logistic":
        case_counts = genotype_counts(G[model.case_rows])
        n_cases = case_counts[:, :3].sum(axis=1)
        testable &= (n_cases > 0) & (n_cases < n_obs)
    code = OLS if model.kind == "linear" else SCORE
    beta, se, stat, nlp, test = _empty_stats(m, code)
    idx = np.flatnonzero(testable)
    if idx.size:
        if model.kind == "logistic" and model.k == 1:
            # No covariates: the likelihood depends on the data only through the 2 x 3
            # case/control x genotype table, so every test is exact and nearly free.
            cells = counts[idx, :3]
            cases = case_counts[idx, :3]
            res = grouped_logistic(cells, cases) if refine_block else grouped_score(cells, cases)
        elif model.kind == "logistic" and refine_block:
            res = logistic_wald(G[:, idx], model, case_counts[idx, :3], counts[idx, :3])
        else:
            res = _projected_tests(G[:, idx], model)
        beta[idx], se[idx], stat[idx], nlp[idx], test[idx] = res
    # A monomorphic variant carries no evidence at all: statistic 0, p = 1.
    mono = ~polymorphic
    stat[mono] = 0.0
    nlp[mono] = 0.0
    return BlockStats(counts, case_counts, beta, se, stat, nlp, test, testable)


def grouped_score(cells: np.ndarray, cases: np.ndarray) -> tuple:
    """Exact score test from genotype counts (no covariates), per variant.

    With only an intercept, the null fit on the called samples is the case
    fraction ``p``, the score is ``U = sum g (y - p)`` and its variance
    ``V = p (1 - p) sum (g - mean g)^2``: the Cochran-Armitage trend test.
    """
    x = np.array([0.0, 1.0, 2.0])
    n = cells.sum(axis=1).astype(np.float64)
    sg = cells @ x
    sgg = cells @ (x * x)
    sgy = cases @ x
    p = cases.sum(axis=1) / n
    U = sgy - p * sg
    V = p * (1.0 - p) * (sgg - sg * sg / n)
    return _score_outputs(U, V)


def _score_outputs(U: np.ndarray, V: np.ndarray) -> tuple:
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = V > 0
        z = np.where(ok, U / np.sqrt(np.where(ok, V, 1.0)), np.nan)
        beta = np.where(ok, U / np.where(ok, V, 1.0), np.nan)
        se = np.where(ok, 1.0 / np.sqrt(np.where(ok, V, 1.0)), np.nan)
    nlp = _neglog10_p_normal(z)
    return beta, se, z, nlp, np.full(U.shape, SCORE, dtype=np.int8)


def _projected_tests(G: np.ndarray, model: NullModel) -> tuple:
    """Score (logistic) or exact OLS t-tests (linear) with covariates projected out.

    For variant ``g`` observed on samples ``S``, with ``A = C_S' W_S C_S``,
    ``b = C_S' W_S g``: the genotype residualised on the covariates has
    ``V = g' W_S g - b' A^-1 b`` and the score ``U = g' r_S - b' A^-1 C_S' r_S``.
    For linear models (W = I) ``U / V`` is the OLS slope and the residual sum of
    squares is ``r_S' r_S - r_S' C_S A^-1 C_S' r_S - U^2 / V``: exact OLS on the
    called samples. Missing calls enter as sparse corrections to ``A`` and
    ``C' r``, so a block costs a few GEMMs whatever its missingness.
    """
    n, m = G.shape
    C, w, r, k = model.C, model.w, model.r, model.k
    Cw = C * w[:, None]
    U = np.empty(m)
    V = np.empty(m)
    Q = np.empty(m)
    rss = np.empty(m)
    n_obs = np.empty(m)
    step = max(1, _FLOAT_BATCH // n)
    pairs_a, pairs_b = np.triu_indices(k)
    for start in range(0, m, step):
        g8 = G[:, start : start + step]
        mb = g8.shape[1]
        miss = g8 < 0
        g = g8.astype(np.float64)
        g[miss] = 0.0
        b = (Cw.T @ g).T  # (mb, k)
        q = w @ (g * g)
        u = r @ g
        A = np.broadcast_to(model.CwC, (mb, k, k)).copy()
        s = np.broadcast_to(model.Cr, (mb, k)).copy()
        rr = np.full(mb, r @ r)
        nmiss = miss.sum(axis=0)
        if nmiss.any():
            rows, cols = np.nonzero(miss)
            wr = w[rows]
            for a, c in zip(pairs_a, pairs_b):
                corr = np.bincount(cols, wr * C[rows, a] * C[rows, c], minlength=mb)
                A[:, a, c] -= corr
                if a != c:
                    A[:, c, a] -= corr
            for a in range(k):
                s[:, a] -= np.bincount(cols, r[rows] * C[rows, a], minlength=mb)
            rr -= np.bincount(cols, r[rows] ** 2, minlength=mb)
        sol = np.linalg.solve(A, np.stack([b, s], axis=2))  # (mb, k, 2): A^-1 [b, s]
        Ainv_b, Ainv_s = sol[..., 0], sol[..., 1]
        sl = slice(start, start + mb)
        U[sl] = u - np.einsum("ij,ij->i", Ainv_b, s)
        V[sl] = q - np.einsum("ij,ij->i", Ainv_b, b)
        Q[sl] = q
        rss[sl] = rr - np.einsum("ij,ij->i", Ainv_s, s)
        n_obs[sl] = n - nmiss
    # V below rounding noise: the genotype is (nearly) a combination of covariates.
    V = np.where(V > 1e-9 * Q, V, 0.0)
    if model.kind == "logistic":
        return _score_outputs(U, V)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = V > 0
        beta = np.where(ok, U / np.where(ok, V, 1.0), np.nan)
        df = n_obs - k - 1
        resid = np.maximum(rss - beta * U, 0.0)
        se = np.sqrt(resid / df / V)
        t = beta / se
    nlp = _neglog10_p_t(t, df)
    return beta, se, t, nlp, np.full(m, OLS, dtype=np.int8)


# --------------------------------------------------------------------------------------
# Logistic regression: grouped (no covariates) and batched (with covariates)
# --------------------------------------------------------------------------------------


def separated(cells: np.ndarray, cases: np.ndarray) -> np.ndarray:
    """Whether dosage alone (quasi-)separates cases from controls, per variant.

    With an ordered predictor, the maximum-likelihood slope is infinite iff
    every case sits at or above every control (or at or below): e.g. an allele
    never carried by a case. Such variants go to Firth regression, as plink2's
    firth-fallback does when its IRLS fails to converge.
    """
    controls = cells - cases
    level = np.array([0, 1, 2])
    has_case, has_ctrl = cases > 0, controls > 0
    lo1 = np.where(has_case, level, 3).min(axis=1)
    hi1 = np.where(has_case, level, -1).max(axis=1)
    lo0 = np.where(has_ctrl, level, 3).min(axis=1)
    hi0 = np.where(has_ctrl, level, -1).max(axis=1)
    return (hi0 <= lo1) | (hi1 <= lo0)


def grouped_logistic(cells: np.ndarray, cases: np.ndarray) -> tuple:
    """Wald tests of ``logit p = a + b g`` from 2 x 3 tables, Firth where separated.

    Parameters
    ----------
    cells, cases : ndarray of shape (m, 3)
        Called samples with dosage 0, 1, 2: all of them, and the cases among them.
    """
    m = cells.shape[0]
    sep = separated(cells, cases)
    beta, se, conv = np.full(m, np.nan), np.full(m, np.nan), np.zeros(m, dtype=bool)
    ok = ~sep
    if ok.any():
        beta[ok], se[ok], conv[ok] = _grouped_fit(cells[ok], cases[ok], firth=False)
    firth = ~conv
    if firth.any():
        beta[firth], se[firth], _ = _grouped_fit(cells[firth], cases[firth], firth=True)
    z = beta / se
    test = np.where(firth, FIRTH, WALD).astype(np.int8)
    return beta, se, z, _neglog10_p_normal(z), test


def _grouped_fit(cells: np.ndarray, cases: np.ndarray, *, firth: bool):
    """Newton-Raphson on three genotype cells, all variants at once (2 x 2 algebra)."""
    x = np.array([0.0, 1.0, 2.0])
    n = cells.astype(np.float64)
    a = cases.astype(np.float64)
    frac = a.sum(axis=1) / n.sum(axis=1)
    theta = np.stack([np.log(frac / (1.0 - frac)), np.zeros(len(n))], axis=1)
    converged = np.zeros(len(n), dtype=bool)
    active = np.arange(len(n))
    max_iter = _FIRTH_MAX_ITER if firth else _MAX_ITER
    for _ in range(max_iter):
        th = theta[active]
        nn, aa = n[active], a[active]
        mu = expit(th[:, :1] + th[:, 1:] * x)
        wi = mu * (1.0 - mu)  # per-individual weight
        W = nn * wi
        i00, i01, i11 = W.sum(1), W @ x, W @ (x * x)
        det = i00 * i11 - i01 * i01
        resid = aa - nn * mu
        if firth:
            # Hat value of one individual in cell g: w_g x_g' I^-1 x_g.
            h = wi * (i11[:, None] - 2.0 * i01[:, None] * x + i00[:, None] * x * x) / det[:, None]
            resid = resid + nn * h * (0.5 - mu)
        u0, u1 = resid.sum(1), resid @ x
        d0 = (i11 * u0 - i01 * u1) / det
        d1 = (i00 * u1 - i01 * u0) / det
        step = np.stack([d0, d1], axis=1)
        if firth:
            big = np.abs(step).max(axis=1, keepdims=True)
            step = step * np.minimum(1.0, 5.0 / np.maximum(big, 1e-300))
        theta[active] = th + step
        bad = ~np.isfinite(step).all(axis=1)
        done = (np.abs(step).max(axis=1) < _TOL * (1.0 + np.abs(th).max(axis=1))) & ~bad
        converged[active[done]] = True
        keep = ~(done | bad)
        if not firth:
            # Diverging slopes mean (near-)separation: leave them to Firth.
            keep &= np.abs(theta[active, 1]) < 1e3
        active = active[keep]
        if active.size == 0:
            break
    mu = expit(theta[:, :1] + theta[:, 1:] * x)
    W = n * mu * (1.0 - mu)
    i00, i01, i11 = W.sum(1), W @ x, W @ (x * x)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_b = i00 / (i00 * i11 - i01 * i01)
    se = np.sqrt(var_b)
    converged &= np.isfinite(se) & np.isfinite(theta[:, 1])
    return theta[:, 1], se, converged


def logistic_wald(G: np.ndarray, model: NullModel, cases=None, cells=None) -> tuple:
    """Wald (Firth where needed) tests of the genotype in ``y ~ C + g``, per column of ``G``.

    Without covariates the 2 x 3 tables decide everything (:func:`grouped_logistic`);
    with covariates a batched IRLS fits every column at once, and columns that
    separate the classes or fail to converge are refitted with Firth's penalty.
    """
    if cells is None:
        counts = genotype_counts(G)
        cells = counts[:, :3]
        cases = genotype_counts(G[model.case_rows])[:, :3]
    if model.k == 1:
        return grouped_logistic(cells, cases)
    m = G.shape[1]
    beta, se, conv = np.full(m, np.nan), np.full(m, np.nan), np.zeros(m, dtype=bool)
    sep = separated(cells, cases)
    step = max(1, _FLOAT_BATCH // G.shape[0])
    todo = np.flatnonzero(~sep)
    for start in range(0, todo.size, step):
        cols = todo[start : start + step]
        beta[cols], se[cols], conv[cols] = _batched_fit(G[:, cols], model, firth=False)
    firth = np.flatnonzero(~conv)
    for start in range(0, firth.size, step):
        cols = firth[start : start + step]
        beta[cols], se[cols], _ = _batched_fit(G[:, cols], model, firth=True)
    z = beta / se
    test = np.full(m, WALD, dtype=np.int8)
    test[firth] = FIRTH
    return beta, se, z, _neglog10_p_normal(z), test


def _information(C, pairs, W, g, k):
    """Per-variant information matrices X' W X for X = [C, g]; shape (m, k+1, k+1)."""
    m = W.shape[1]
    info = np.empty((m, k + 1, k + 1))
    cc = pairs[2].T @ W  # (n_pairs, m): sum_i W_ij c_ia c_ib
    for p, (a, b) in enumerate(zip(pairs[0], pairs[1])):
        info[:, a, b] = cc[p]
        info[:, b, a] = cc[p]
    Wg = W * g
    cg = C.T @ Wg  # (k, m)
    info[:, :k, k] = cg.T
    info[:, k, :k] = cg.T
    info[:, k, k] = np.einsum("ij,ij->j", Wg, g)
    return info


def _batched_fit(G8: np.ndarray, model: NullModel, *, firth: bool):
    """Newton-Raphson for ``y ~ C + g`` on every column of ``G8`` at once.

    Arrays are (n samples, m variants); each variant has its own coefficients
    ``theta`` (m, k+1) and its own called samples (mask ``M``).
    """
    C, y, k = model.C, model.y, model.k
    miss = G8 < 0
    M = (~miss).astype(np.float64)
    g = G8.astype(np.float64)
    g[miss] = 0.0
    m = g.shape[1]
    ia, ib = np.triu_indices(k)
    pairs = (ia, ib, C[:, ia] * C[:, ib])
    theta = np.zeros((m, k + 1))
    theta[:, :k] = model.coef
    converged = np.zeros(m, dtype=bool)
    active = np.arange(m)
    max_iter = _FIRTH_MAX_ITER if firth else _MAX_ITER
    for _ in range(max_iter):
        th = theta[active]
        ga, Ma = g[:, active], M[:, active]
        mu = expit(C @ th[:, :k].T + ga * th[:, k])
        W = mu * (1.0 - mu) * Ma
        R = (y[:, None] - mu) * Ma
        info = _information(C, pairs, W, ga, k)
        try:
            inv = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            inv = np.linalg.pinv(info)
        if firth:
            # h_i = W_i x_i' I^-1 x_i with x_i = [c_i, g_i], for every variant at once.
            scale = np.where(ia == ib, 1.0, 2.0)
            quad = pairs[2] @ (inv[:, ia, ib] * scale).T
            quad += 2.0 * ga * (C @ inv[:, :k, k].T)
            quad += ga * ga * inv[:, k, k]
            R = R + W * quad * (0.5 - mu) * Ma
        grad = np.concatenate([(C.T @ R).T, np.einsum("ij,ij->j", R, ga)[:, None]], axis=1)
        step = np.einsum("mij,mj->mi", inv, grad)
        if firth:
            big = np.abs(step).max(axis=1, keepdims=True)
            step = step * np.minimum(1.0, 5.0 / np.maximum(big, 1e-300))
        theta[active] = th + step
        bad = ~np.isfinite(step).all(axis=1)
        done = (np.abs(step).max(axis=1) < _TOL * (1.0 + np.abs(th).max(axis=1))) & ~bad
        converged[active[done]] = True
        keep = ~(done | bad)
        if not firth:
            keep &= np.abs(theta[active, k]) < 1e3
        active = active[keep]
        if active.size == 0:
            break
    mu = expit(C @ theta[:, :k].T + g * theta[:, k])
    W = mu * (1.0 - mu) * M
    info = _information(C, pairs, W, g, k)
    with np.errstate(invalid="ignore"):
        try:
            var = np.linalg.inv(info)[:, k, k]
        except np.linalg.LinAlgError:
            var = np.linalg.pinv(info)[:, k, k]
        se = np.sqrt(var)
    converged &= np.isfinite(se) & (var > 0) & np.isfinite(theta[:, k])
    return theta[:, k], se, converged


# --------------------------------------------------------------------------------------
# Streaming scan
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Public function
# --------------------------------------------------------------------------------------


def results_frame(result: ScanResult) -> pd.DataFrame:
    """The scan as a DataFrame with :data:`RESULT_COLUMNS`, one row per variant."""
    frame = result.variants.reset_index(drop=True).copy()
    frame["maf"] = result.maf
    frame["n_obs"] = result.n_obs
    frame["missing_rate"] = result.missing_rate
    frame["beta"] = result.beta
    frame["se"] = result.se
    frame["stat"] = result.stat
    frame["p"] = p_from_neglog10(result.neglog10p)
    frame["test"] = TEST_NAMES[result.test]
    return frame[list(RESULT_COLUMNS)]


def association_scan(
    X,
    y,
    covariates=None,
    *,
    test="auto",
    refine="all",
    maf_min=0.0,
    block_size=None,
):
    """Test every variant for association with a trait, streaming the genotypes.

    Parameters
    ----------
    X : xarray.Dataset or array-like of shape (n_samples, n_variants)
        Genotypes in any form :func:`genosynth.as_genotypes` accepts; lazy
        (dask-backed) Datasets are read one block of variants at a time.
    y : array-like of shape (n_samples,)
        The trait: two distinct values make it binary (the larger is the
        case), more make it continuous (see ``test``).
    covariates : array-like of shape (n_samples, n_covariates), optional
        Adjustment variables (ancestry PCs, sex, age). No NaN allowed; an
        intercept is always added.
    test : {"auto", "logistic", "linear"}, default="auto"
        The model. ``"auto"`` picks logistic for two-valued ``y``, linear
        otherwise.
    refine : "all", int or None, default="all"
        Binary traits only: ``"all"`` fits the full logistic model (Wald,
        Firth fallback) for every variant; an int ``k`` ranks all variants by
        the score test and fits the ``k`` best; ``None`` reports score tests
        only. Linear traits always get exact OLS t-tests.
    maf_min : float, default=0.0
        Variants with a lower minor allele frequency (over called samples) are
        not tested: their ``beta, se, stat, p`` are NaN.
    block_size : int, optional
        Variants per streamed block. Default: the dask chunk size along
        variants for lazy inputs, else about 64 MB of int8 dosages.

    Returns
    -------
    pandas.DataFrame
        One row per variant, in input order, with columns ``id, contig,
        position, ref, alt`` (for arrays: ``"snp{i}"``, ``"1"``, ``i + 1``, ``"A"``,
        ``"B"``), ``maf``, ``n_obs`` (called samples used), ``missing_rate``,
        ``beta`` (per copy of ``alt``; log-odds for binary traits), ``se``,
        ``stat`` (z for score/Wald/Firth, t for OLS), ``p`` (two-sided) and
        ``test`` (``"score"``, ``"wald"``, ``"firth"`` or ``"ols"``).
        Monomorphic variants have ``stat = 0``, ``p = 1`` and NaN ``beta``/``se``.

    Raises
    ------
    ValueError
        If ``y`` has one value or the wrong length, covariates hold NaN or are
        collinear, or a parameter is out of range.

    See Also
    --------
    genosynth.GWASSelector : selects the panel from such a scan, with QC.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> G = rng.binomial(2, 0.3, size=(500, 4))
    >>> y = (rng.random(500) < 0.2 + 0.15 * G[:, 0]).astype(int)
    >>> res = association_scan(G, y)
    >>> res[["id", "beta", "p", "test"]].round(4).head(2)
         id    beta       p  test
    0  snp0  0.6598  0.0000  wald
    1  snp1 -0.0299  0.8393  wald
    """
    return results_frame(_scan_result(X, y, covariates, test, refine, maf_min, block_size))


def _scan_result(X, y, covariates, test, refine, maf_min, block_size) -> ScanResult:
    """:func:`association_scan` before its DataFrame: keeps -log10 p, exact where p underflows."""
    n, L = shape_of(X)
    if not (isinstance(maf_min, int | float | np.floating) and 0.0 <= maf_min <= 0.5):
        raise ValueError(f"maf_min must be a number in [0, 0.5], got {maf_min!r}")
    if block_size is not None and (
        isinstance(block_size, bool)
        or not isinstance(block_size, int | np.integer)
        or block_size < 1
    ):
        raise ValueError(f"block_size must be a positive integer or None, got {block_size!r}")
    if refine not in ("all", None) and (
        isinstance(refine, bool) or not isinstance(refine, int | np.integer) or refine < 0
    ):
        raise ValueError(f"refine must be 'all', None or a non-negative int, got {refine!r}")
    model = null_model(y, covariates, test, n)
    capacity = 0
    if model.kind == "logistic" and refine not in ("all", None):
        capacity = int(refine) if model.k > 1 else 0
    result = scan(
        X,
        model,
        block_size=block_size,
        refine_in_block=(refine == "all"),
        capacity=capacity,
        eligible=(lambda bs, hwe: _maf_ok(bs.counts, maf_min)) if maf_min > 0 else None,
    )
    if model.kind == "logistic" and refine not in ("all", None) and int(refine) > 0:
        if model.k > 1:
            index, G = result.candidates.ranked()
        else:
            ok = result.testable & _maf_ok(result.counts, maf_min)
            ok &= np.isfinite(result.neglog10p)
            cand = np.flatnonzero(ok)
            order = np.lexsort((cand, -result.neglog10p[cand]))
            index, G = cand[order[: int(refine)]], None
        refine_candidates(result, model, index, G)
    if maf_min > 0:
        low = ~_maf_ok(result.counts, maf_min)
        for arr in (result.beta, result.se, result.stat, result.neglog10p):
            arr[low] = np.nan
    return result


def _maf_ok(counts: np.ndarray, maf_min: float) -> np.ndarray:
    n = counts[:, :3].sum(axis=1)
    return (n > 0) & (minor_allele_frequency(counts) >= maf_min)

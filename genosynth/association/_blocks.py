"""One block of variants: counts, score tests and exact OLS with covariates projected out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genosynth.association import _constants
from genosynth.association._constants import OLS, SCORE
from genosynth.association._logistic import grouped_logistic, logistic_wald
from genosynth.association._null_model import NullModel
from genosynth.association._pvalues import _neglog10_p_normal, _neglog10_p_t
from genosynth.stats._genetics import genotype_counts


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
    step = max(1, _constants._FLOAT_BATCH // n)
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

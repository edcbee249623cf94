"""Logistic regression of the trait on dosage: Wald tests with Firth's fallback.

Without covariates the 2 x 3 case/control x genotype tables decide everything
(:func:`grouped_logistic`, 2 x 2 algebra per variant); with covariates a
batched IRLS fits every genotype column at once (:func:`logistic_wald`). Both
solvers run the same Newton-Raphson loop (:func:`_newton`) and the same
Wald-then-Firth fallback (:func:`_wald_with_firth_fallback`); they differ only
in how one step and the final standard error are computed.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from genosynth.association import _constants
from genosynth.association._constants import FIRTH, WALD
from genosynth.association._null_model import NullModel
from genosynth.association._pvalues import _neglog10_p_normal
from genosynth.stats._genetics import genotype_counts

_MAX_ITER = 30
_FIRTH_MAX_ITER = 100
_TOL = 1e-10


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


def _wald_with_firth_fallback(m: int, sep: np.ndarray, fit, batch: int) -> tuple:
    """Plain fits of the variants not separated, then Firth for all that did not converge.

    ``fit(cols, firth=...) -> (beta, se, converged)`` fits variants ``cols``;
    they are handed over ``batch`` at a time. Returns the five test outputs.
    """
    beta, se, conv = np.full(m, np.nan), np.full(m, np.nan), np.zeros(m, dtype=bool)
    todo = np.flatnonzero(~sep)
    for start in range(0, todo.size, batch):
        cols = todo[start : start + batch]
        beta[cols], se[cols], conv[cols] = fit(cols, firth=False)
    firth = np.flatnonzero(~conv)
    for start in range(0, firth.size, batch):
        cols = firth[start : start + batch]
        beta[cols], se[cols], _ = fit(cols, firth=True)
    z = beta / se
    test = np.full(m, WALD, dtype=np.int8)
    test[firth] = FIRTH
    return beta, se, z, _neglog10_p_normal(z), test


def _newton(theta: np.ndarray, newton_step, *, firth: bool) -> np.ndarray:
    """Newton-Raphson (Firth-penalised if ``firth``) on every row of ``theta`` at once.

    ``theta`` (m variants, p coefficients; the genotype slope last) holds the
    starting values and is updated in place. ``newton_step(active, th)`` returns
    the (len(active), p) Newton step of variants ``active`` at coefficients
    ``th``. Firth steps are capped at 5 in each coordinate; a plain fit whose
    slope exceeds 1e3 in size is abandoned (near-separation: left to Firth).
    Returns which variants converged.
    """
    m, slope = theta.shape[0], theta.shape[1] - 1
    converged = np.zeros(m, dtype=bool)
    active = np.arange(m)
    max_iter = _FIRTH_MAX_ITER if firth else _MAX_ITER
    for _ in range(max_iter):
        th = theta[active]
        step = newton_step(active, th)
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
            keep &= np.abs(theta[active, slope]) < 1e3
        active = active[keep]
        if active.size == 0:
            break
    return converged


# --------------------------------------------------------------------------------------
# Grouped: no covariates, three genotype cells per variant
# --------------------------------------------------------------------------------------


def grouped_logistic(cells: np.ndarray, cases: np.ndarray) -> tuple:
    """Wald tests of ``logit p = a + b g`` from 2 x 3 tables, Firth where separated.

    Parameters
    ----------
    cells, cases : ndarray of shape (m, 3)
        Called samples with dosage 0, 1, 2: all of them, and the cases among them.
    """
    m = cells.shape[0]

    def fit(cols, *, firth):
        return _grouped_fit(cells[cols], cases[cols], firth=firth)

    # One batch: the 2 x 3 tables are small whatever m.
    return _wald_with_firth_fallback(m, separated(cells, cases), fit, batch=max(1, m))


def _grouped_fit(cells: np.ndarray, cases: np.ndarray, *, firth: bool):
    """Newton-Raphson on three genotype cells, all variants at once (2 x 2 algebra)."""
    x = np.array([0.0, 1.0, 2.0])
    n = cells.astype(np.float64)
    a = cases.astype(np.float64)
    frac = a.sum(axis=1) / n.sum(axis=1)
    theta = np.stack([np.log(frac / (1.0 - frac)), np.zeros(len(n))], axis=1)

    def newton_step(active, th):
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
        return np.stack([d0, d1], axis=1)

    converged = _newton(theta, newton_step, firth=firth)
    mu = expit(theta[:, :1] + theta[:, 1:] * x)
    W = n * mu * (1.0 - mu)
    i00, i01, i11 = W.sum(1), W @ x, W @ (x * x)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_b = i00 / (i00 * i11 - i01 * i01)
    se = np.sqrt(var_b)
    converged &= np.isfinite(se) & np.isfinite(theta[:, 1])
    return theta[:, 1], se, converged


# --------------------------------------------------------------------------------------
# Batched: covariates, one IRLS over a batch of genotype columns
# --------------------------------------------------------------------------------------


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
    sep = separated(cells, cases)
    batch = max(1, _constants._FLOAT_BATCH // G.shape[0])

    def fit(cols, *, firth):
        return _batched_fit(G[:, cols], model, firth=firth)

    return _wald_with_firth_fallback(m, sep, fit, batch)


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

    def newton_step(active, th):
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
        return np.einsum("mij,mj->mi", inv, grad)

    converged = _newton(theta, newton_step, firth=firth)
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

"""L1-penalised logistic regressions, many at once, by majorise-minimise over a fixed curvature.

The label model (:mod:`genosynth.stats._label_model`) fits one sparse logistic
model per candidate penalty, per cross-validation fold and per class. Here
all of them are columns of one problem over one standardised matrix ``X``
(n, L). Column ``k`` minimises

    sum_i w_ik * logloss(t_ik, x_i . beta_k + b_k) / sum_i w_ik + lambda_k * |beta_k|_1

with row weights ``w`` (0/1 masks select a fold's training rows) and an
unpenalised intercept ``b_k``.

The logistic loss's curvature is at most a quarter of the weighted Gram
matrix ``H = [X, 1]^T diag(w) [X, 1] / 4`` (Böhning & Lindsay, 1988), whatever
the coefficients. So each outer step minimises the quadratic upper bound at
the current point plus the L1 term, which never increases the objective; the
bound's matrix is computed once per distinct weight column. Only the outer
steps touch the ``n`` rows (two matrix products shared by every model, for the
gradient); the inner L1-quadratic problems live in the ``L + 1`` coefficients
and are solved by FISTA (Beck & Teboulle, 2009) with the adaptive restart of
O'Donoghue & Candes (2015). The cost is therefore linear in ``n`` with a small
constant, and nearly independent of the number of models. Every pass over the
rows is a sum of per-row terms, so it could run over row blocks (streamed).
"""

from __future__ import annotations

import numpy as np


def _sigmoid(s: np.ndarray) -> np.ndarray:
    out = np.empty_like(s)
    np.negative(s, out=out)
    np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)
    return out


def _soft_threshold(v: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Shrink every coordinate but the last row (the intercepts) towards zero."""
    out = v.copy()
    out[:-1] = np.sign(v[:-1]) * np.maximum(np.abs(v[:-1]) - threshold, 0.0)
    return out


def _gradient(X, V, T, W) -> np.ndarray:
    """Gradient (L + 1, k) of every model's weighted mean loss at coefficients ``V``."""
    dtype = X.dtype
    residual = _sigmoid(X @ V[:-1].astype(dtype) + V[-1].astype(dtype))
    residual -= T
    residual *= W
    return np.vstack([X.T @ residual, residual.sum(0, keepdims=True)]).astype(np.float64)


def _curvature_bound(X, weights) -> np.ndarray:
    """``[X, 1]^T diag(weights) [X, 1] / 4`` (L + 1, L + 1), float64."""
    n_features = X.shape[1]
    weighted = X * weights[:, None].astype(X.dtype)
    H = np.empty((n_features + 1, n_features + 1))
    H[:n_features, :n_features] = weighted.T @ X
    H[n_features, :n_features] = H[:n_features, n_features] = weighted.sum(0, dtype=np.float64)
    H[n_features, n_features] = weights.sum(dtype=np.float64)
    return H / 4


def _minimise_bound(H, step, g, V0, threshold, tol, max_iter) -> np.ndarray:
    """Minimise ``g.(V - V0) + (V - V0)^T H (V - V0) / 2 + threshold-L1`` by restarted FISTA.

    ``threshold`` is the penalty times ``step`` (per column); the intercept row is free.
    """
    V = V0.copy()
    Y = V.copy()
    momentum = 1.0
    for _ in range(max_iter):
        grad = g + H @ (Y - V0)
        new = _soft_threshold(Y - step * grad, threshold)
        shift = Y - new
        if np.abs(shift).max() <= tol * step:
            return new
        following = (1 + np.sqrt(1 + 4 * momentum**2)) / 2
        if (shift * (new - V)).sum() > 0:  # the step points against the last move: restart
            ratio, momentum = 0.0, 1.0
        else:
            ratio, momentum = (momentum - 1) / following, following
        Y = new + ratio * (new - V)
        V = new
    return V


def fit_l1_logistic(X, targets, weights, penalties, *, tol=1e-6, max_iter=500):
    """Fit ``k`` L1-penalised logistic regressions that share the design matrix ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, L), float32 or float64
        Standardised features (the intercept is added here).
    targets : ndarray of shape (n, k)
        0/1 outcome of each row for each model.
    weights : ndarray of shape (n, k)
        Non-negative row weights of each model (0 leaves a row out); each
        column must have a positive sum. Models with the same weight column
        share one curvature matrix.
    penalties : ndarray of shape (k,)
        ``lambda_k``, on the *weighted mean* loss. scikit-learn's ``C`` on a
        sum over ``m`` rows is ``lambda = 1 / (C m)``.
    tol : float, default=1e-6
        Stop when every model's proximal gradient mapping (zero exactly at the
        optimum, in the units of the gradient) is at most ``tol`` in every
        coordinate.
    max_iter : int, default=500
        Most outer steps (passes over the rows).

    Returns
    -------
    coef : ndarray (k, L), intercept : ndarray (k,), n_iter : int
        ``n_iter`` counts the outer steps.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((400, 5))
    >>> t = (X[:, 0] + rng.logistic(size=400) > 0).astype(float)[:, None]
    >>> coef, intercept, _ = fit_l1_logistic(X, t, np.ones_like(t), np.array([0.02]))
    >>> int(np.argmax(np.abs(coef[0])))
    0
    """
    dtype = X.dtype
    n, n_features = X.shape
    T = np.asarray(targets, dtype=dtype)
    W = np.asarray(weights, dtype=np.float64)
    lam = np.asarray(penalties, dtype=np.float64)
    n_models = T.shape[1]
    if T.shape != (n, n_models) or W.shape != T.shape or lam.shape != (n_models,):
        raise ValueError(
            f"targets and weights must be (n, k) = ({n}, {n_models}) with k penalties; "
            f"got {T.shape}, {W.shape} and {lam.shape}"
        )
    totals = W.sum(0)
    if not (totals > 0).all():
        raise ValueError("every model needs rows of positive weight")
    W = W / totals  # each column's loss is a weighted mean
    # Models sharing a weight column share the bound's matrix and its largest eigenvalue.
    _, first, group = np.unique(W.T, axis=0, return_index=True, return_inverse=True)
    group = np.asarray(group).ravel()
    bounds = []
    for g in range(len(first)):
        H = _curvature_bound(X, W[:, first[g]])
        bounds.append((H, 1.0 / np.linalg.eigvalsh(H)[-1]))
    W = W.astype(dtype)

    rate = np.clip((W * T).sum(0, dtype=np.float64), 1e-6, 1 - 1e-6)
    V = np.zeros((n_features + 1, n_models))
    V[-1] = np.log(rate / (1 - rate))
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        grad = _gradient(X, V, T, W)
        # Convergence: the proximal gradient mapping at V, with each model's bound step.
        mapping = np.zeros(n_models)
        for g, (_, step) in enumerate(bounds):
            cols = group == g
            moved = _soft_threshold(V[:, cols] - step * grad[:, cols], lam[cols] * step)
            mapping[cols] = np.abs(V[:, cols] - moved).max(0) / step
        if (mapping <= tol).all():
            break
        # The inner problems need only be solved a little better than the current mapping.
        inner_tol = max(tol / 4, 0.3 * float(mapping.max()))
        for g, (H, step) in enumerate(bounds):
            cols = group == g
            V[:, cols] = _minimise_bound(
                H, step, grad[:, cols], V[:, cols], lam[cols] * step, inner_tol, 20_000
            )
    return V[:-1].T.copy(), V[-1].copy(), n_iter

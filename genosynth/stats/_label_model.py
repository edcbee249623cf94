"""The label's dependence on the genotypes: a sparse logistic model p(y | G) of the panel.

A generator can carry the genotype -> trait signal in two ways. SNPgen's is to
condition the genotype model on the label (classifier-free guidance); the
other is the factorisation ``p(G, y) = p(G) p(y | G)``: draw genotypes from the
unconditional model and each label from a model of the label given those
genotypes, fitted on the training individuals. Requests for given labels are
met by rejection: a proposal ``G`` is kept as a row of label ``c`` with
probability ``p(c | G)``, which leaves the kept rows distributed as
``p(G | c)`` exactly, whatever the proposal's label mix.

The label model is an L1-penalised logistic regression on standardised
dosages (one-vs-rest for several classes), its penalty chosen by stratified
cross-validation of the log-loss on the training individuals; every fit of that
search and the final one are columns of one joint problem
(:mod:`genosynth.stats._l1_logistic`), so the cost is linear in the rows. Sparse because
the trait's architecture is: a panel of a thousand SNPs tags a few hundred
loci, and of a penalised fit's labels, the sparse one gave the synthetic cohort
the strongest signal for every downstream learner (``benchmarks/README.md``,
"Carrying the trait signal"). Its parameters are plain arrays, saved with the
model file like any other fitted attribute.

It is a released statistic of the training individuals: every evaluation of a
model that uses it (membership inference, distances) includes its effect.
"""

from __future__ import annotations

import numpy as np

from genosynth.stats._l1_logistic import fit_l1_logistic

# Candidate penalties (sklearn's C: inverse strength, on the sum of the losses over standardised
# dosages): the three around the optimum that cross-validated log-loss chose on the default
# cohort; a weaker penalty converges slowly and cost more than the rest of the grid together
# (the measured losses are in benchmarks/README.md).
CANDIDATE_C = (0.03, 0.1, 0.3)
_CV_FOLDS = 3
# Rows standardised per block, to bound the float64 temporaries.
_BLOCK_ROWS = 8192
# Proposals drawn per round of rejection sampling after the first, as a multiple of the rows
# still missing divided by the label's probability, and the rounds allowed before giving up.
_OVERSAMPLE = 1.1
_MAX_ROUNDS = 50


def _filled_blocks(G, mean, dtype):
    """``(rows, block)`` over blocks of ``G``'s rows, as ``dtype``, missing calls (< 0) at ``mean``.

    A missing call sits at its column's mean, so that it contributes nothing once
    centred. The blocks bound the temporaries to a few megabytes whatever the cohort's size.
    """
    mean = np.asarray(mean, dtype=dtype)
    for start in range(0, len(G), _BLOCK_ROWS):
        rows = slice(start, start + _BLOCK_ROWS)
        block = np.asarray(G[rows], dtype=dtype)
        missing = block < 0
        yield rows, np.where(missing, mean, block) if missing.any() else block


def _standardise(G, mean, scale, dtype=np.float64):
    """``(G - mean) / scale`` with missing calls (< 0) at the mean, in blocks of rows."""
    G = np.asarray(G)
    X = np.empty(G.shape, dtype=dtype)
    for rows, block in _filled_blocks(G, mean, np.float64):
        X[rows] = (block - mean) / scale
    return X


def _dosage_moments(G) -> tuple[np.ndarray, np.ndarray]:
    """Mean and scale of each column's called dosages (scale 1 where monomorphic)."""
    total = np.zeros(G.shape[1])
    squares = np.zeros(G.shape[1])
    count = np.zeros(G.shape[1])
    for start in range(0, len(G), _BLOCK_ROWS):
        block = np.asarray(G[start : start + _BLOCK_ROWS], dtype=np.float64)
        called = block >= 0
        block = np.where(called, block, 0.0)
        total += block.sum(0)
        squares += (block**2).sum(0)
        count += called.sum(0)
    count = np.maximum(count, 1)
    mean = total / count
    spread = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    # a monomorphic variant carries no signal
    return mean, np.where(spread > 1e-8, spread, 1.0)


def fit_label_model(G, codes, n_classes, *, random_state=None) -> dict:
    """Fit the label model on dosages ``G`` (n, L) with class codes ``0..n_classes-1``.

    Every model the fit needs -- each candidate penalty on each fold's training
    rows and on all rows, for each class against the rest -- is a column of
    one :func:`~genosynth.stats._l1_logistic.fit_l1_logistic` problem, in float32.

    Returns the fitted attributes: ``coef`` (k, L), ``intercept`` (k,) with
    ``k = 1`` for two classes, ``mean`` and ``scale`` of the dosages (L,), the
    chosen ``C``, the cross-validated log-loss of each candidate and the
    solver's outer steps ``n_iter``.
    """
    from sklearn.model_selection import StratifiedKFold
    from sklearn.utils import check_random_state

    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    codes = np.asarray(codes)
    mean, scale = _dosage_moments(G)
    X = _standardise(G, mean, scale, np.float32)
    n = len(X)
    folds = min(_CV_FOLDS, int(np.bincount(codes, minlength=n_classes).min()))
    # Two classes: one model of class 1. More: one model per class against the rest.
    targets = [codes == 1] if n_classes == 2 else [codes == c for c in range(n_classes)]
    if folds >= 2:
        folding = StratifiedKFold(folds, shuffle=True, random_state=seed)
        splits = [fit_rows for fit_rows, _ in folding.split(np.zeros(n), codes)]
    else:  # a class too rare to cross-validate: the middle of the grid
        splits = []
    all_rows = np.arange(n)
    grid = CANDIDATE_C if splits else (CANDIDATE_C[len(CANDIDATE_C) // 2],)
    # One column per (C, rows, class); a class absent from (or filling) the rows gets
    # no column: its intercept stays very negative, so it is never drawn.
    columns, keys = [], []
    for C in grid:
        for r, rows in enumerate([*splits, all_rows]):
            mask = np.zeros(n, dtype=bool)
            mask[rows] = True
            for k, target in enumerate(targets):
                if target[rows].all() or not target[rows].any():
                    continue
                columns.append((target, mask, 1.0 / (C * len(rows))))
                keys.append((C, r, k))
    T = np.column_stack([c[0] for c in columns]).astype(np.float32)
    W = np.column_stack([c[1] for c in columns]).astype(np.float32)
    coefs, intercepts, n_iter = fit_l1_logistic(X, T, W, np.array([c[2] for c in columns]))

    def model(C, r):
        coef = np.zeros((len(targets), X.shape[1]))
        intercept = np.full(len(targets), -50.0)
        for j, (c, rr, k) in enumerate(keys):
            if (c, rr) == (C, r):
                coef[k], intercept[k] = coefs[j], intercepts[j]
        return coef, intercept

    losses = {}
    for C in grid if splits else ():
        total = 0.0
        for r, fit_rows in enumerate(splits):
            test_rows = np.setdiff1d(all_rows, fit_rows)
            coef, intercept = model(C, r)
            proba = _probabilities(X[test_rows].astype(np.float64) @ coef.T + intercept)
            picked = proba[np.arange(len(test_rows)), codes[test_rows]]
            total += -np.log(np.clip(picked, 1e-15, 1.0)).sum()
        losses[C] = total / n
    best = min(losses, key=losses.get) if losses else grid[0]
    coef, intercept = model(best, len(splits))
    return {
        "coef": coef,
        "intercept": intercept,
        "mean": mean,
        "scale": scale,
        "C": float(best),
        "cv_log_loss": np.array([losses.get(C, np.nan) for C in CANDIDATE_C]),
        "n_iter": n_iter,
    }


def _probabilities(score: np.ndarray) -> np.ndarray:
    """Class probabilities (n, n_classes) from the models' linear scores (n, k)."""
    if score.shape[1] == 1:
        p1 = 1.0 / (1.0 + np.exp(-score[:, 0]))
        return np.column_stack([1.0 - p1, p1])
    # one-vs-rest, normalised as scikit-learn's liblinear does
    p = 1.0 / (1.0 + np.exp(-score))
    return p / p.sum(axis=1, keepdims=True)


def label_probabilities(G, coef, intercept, mean, scale) -> np.ndarray:
    """``p(class | G)`` for each row of dosages ``G``: an array (n, n_classes)."""
    # The standardisation folded into the coefficients, so that the dosages enter one
    # float32 product as they are: ((G - mean) / scale) @ coef.T = G @ (coef / scale).T
    # - mean @ (coef / scale).T. A missing call counts as the mean: it contributes nothing.
    weights = (coef / scale).T
    offset = intercept - mean @ weights
    weights = weights.astype(np.float32)
    score = np.empty((len(G), len(offset)))
    for rows, block in _filled_blocks(G, mean, np.float32):
        score[rows] = block @ weights
    return _probabilities(score + offset)


def draw_labels(proba, rng) -> np.ndarray:
    """One class code per row, drawn from its probabilities."""
    u = rng.random(len(proba))
    return np.minimum((proba.cumsum(axis=1) < u[:, None]).sum(axis=1), proba.shape[1] - 1)


def fill_by_rejection(requested, propose, rng):
    """Rows for the requested class codes, by rejection from a proposal.

    Parameters
    ----------
    requested : ndarray of int
        The class code of each row to return, in order.
    propose : callable
        ``propose(m, rng) -> (G, proba)``: ``m`` proposal genotypes and their
        label probabilities (m, n_classes).
    rng : numpy.random.Generator

    Returns
    -------
    G : ndarray (len(requested), L)
        Row ``i`` was drawn from ``p(G | requested[i])``.
    """
    n_classes = None
    out = None
    pending = {int(c): list(np.flatnonzero(requested == c)) for c in np.unique(requested)}
    rate = None
    for _ in range(_MAX_ROUNDS):
        missing = sum(len(v) for v in pending.values())
        if not missing:
            return out
        if rate is None:
            # The first round proposes as many rows as requested: unconditional proposals
            # come in about the requested mix, so most are kept, and the next rounds,
            # sized by the acceptance rates, make up the few that are missing.
            m = missing
        else:
            need = max(len(v) / max(rate[c], 1e-3) for c, v in pending.items() if v)
            m = int(np.ceil(need * _OVERSAMPLE)) + 8
        G, proba = propose(m, rng)
        if out is None:
            n_classes = proba.shape[1]
            out = np.empty((len(requested), G.shape[1]), dtype=G.dtype)
        labels = draw_labels(proba, rng)
        # The running acceptance rate of each class sizes the next round.
        observed = np.bincount(labels, minlength=n_classes) / len(labels)
        rate = observed if rate is None else 0.5 * (rate + observed)
        for c, rows in pending.items():
            if not rows:
                continue
            hits = np.flatnonzero(labels == c)[: len(rows)]
            take, pending[c] = rows[: len(hits)], rows[len(hits) :]
            out[take] = G[hits]
    short = {c: len(v) for c, v in pending.items() if v}
    if not short:
        return out
    raise ValueError(
        f"could not draw the requested labels in {_MAX_ROUNDS} rounds of proposals: "
        f"still missing {short} (class code: rows); the label model gives these classes "
        f"a probability of about { {c: round(float(rate[c]), 4) for c in short} }"
    )

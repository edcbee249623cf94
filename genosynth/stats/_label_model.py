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
cross-validation of the log-loss on the training individuals. Sparse because
the trait's architecture is: a panel of a thousand SNPs tags a few hundred
loci, and of a penalised fit's labels, the sparse one gave the synthetic cohort
the strongest signal for every downstream learner (``benchmarks/README.md``,
"Carrying the trait signal"). Its parameters are plain arrays, saved with the
model file like any other fitted attribute.

It is a released statistic of the training individuals: every evaluation of a
model that uses it (membership inference, distances) includes its effect.
"""

from __future__ import annotations

import warnings

import numpy as np

# Candidate penalties (sklearn's C: inverse strength, on the sum of the losses over standardised
# dosages): the three around the optimum that cross-validated log-loss chose on the default
# cohort; a weaker penalty converges slowly and cost more than the rest of the grid together
# (the measured losses are in benchmarks/README.md).
CANDIDATE_C = (0.03, 0.1, 0.3)
_CV_FOLDS = 3
# Proposals drawn per round of rejection sampling, as a multiple of the rows still missing
# divided by the label's probability, and the rounds allowed before giving up.
_OVERSAMPLE = 1.1
_MAX_ROUNDS = 50


def _standardise(G, mean, scale):
    X = np.asarray(G, dtype=np.float64)
    missing = X < 0
    if missing.any():  # a missing call contributes nothing: it sits at the mean
        X = np.where(missing, mean, X)
    return (X - mean) / scale


def _fit_scores(X, codes, n_classes: int, C: float, seed) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (k, L) and intercepts (k,) of the L1 logistic model(s) on standardised ``X``.

    Two classes: one model of class 1. More: one model per class against the
    rest (liblinear fits binary models only); a class absent from ``codes``
    gets a very negative intercept, so it is never drawn.
    """
    from sklearn.linear_model import LogisticRegression

    targets = [codes == 1] if n_classes == 2 else [codes == c for c in range(n_classes)]
    coef = np.zeros((len(targets), X.shape[1]))
    intercept = np.full(len(targets), -50.0)
    for k, target in enumerate(targets):
        if target.all() or not target.any():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter of small folds
            # liblinear shuffles its coordinates: seeded, so that fits repeat
            model = LogisticRegression(
                C=C, penalty="l1", solver="liblinear", max_iter=2000, random_state=seed
            )
            model.fit(X, target.astype(int))
        coef[k], intercept[k] = model.coef_[0], model.intercept_[0]
    return coef, intercept


def fit_label_model(G, codes, n_classes, *, random_state=None, n_jobs=None) -> dict:
    """Fit the label model on dosages ``G`` (n, L) with class codes ``0..n_classes-1``.

    ``n_jobs`` processes fit the cross-validation folds (joblib's convention:
    None is one, -1 every core).

    Returns the fitted attributes: ``coef`` (k, L), ``intercept`` (k,) with
    ``k = 1`` for two classes, ``mean`` and ``scale`` of the dosages (L,), the
    chosen ``C`` and the cross-validated log-loss of each candidate.
    """
    from joblib import Parallel, delayed
    from sklearn.model_selection import StratifiedKFold
    from sklearn.utils import check_random_state

    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    G = np.asarray(G, dtype=np.float64)
    codes = np.asarray(codes)
    called = G >= 0
    mean = np.where(called, G, 0).sum(0) / np.maximum(called.sum(0), 1)
    spread = np.sqrt((np.where(called, G - mean, 0) ** 2).sum(0) / np.maximum(called.sum(0), 1))
    scale = np.where(spread > 1e-8, spread, 1.0)  # a monomorphic variant carries no signal
    X = _standardise(G, mean, scale)
    folds = min(_CV_FOLDS, int(np.bincount(codes, minlength=n_classes).min()))

    losses = {}
    if folds >= 2:
        folding = StratifiedKFold(folds, shuffle=True, random_state=seed)
        split = list(folding.split(X, codes))

        def held_out_loss(C, fit_rows, test_rows):
            coef, intercept = _fit_scores(X[fit_rows], codes[fit_rows], n_classes, C, seed)
            proba = _probabilities(X[test_rows] @ coef.T + intercept)
            picked = proba[np.arange(len(test_rows)), codes[test_rows]]
            return C, -np.log(np.clip(picked, 1e-15, 1.0)).sum()

        # The fold fits run in worker processes, the slowest (the weakest penalty) first:
        # not threads, since liblinear draws from the C library's one random stream, and
        # interleaved draws would make the losses depend on the timing.
        tasks = [(C, *rows) for C in sorted(CANDIDATE_C, reverse=True) for rows in split]
        results = Parallel(n_jobs=n_jobs)(delayed(held_out_loss)(*task) for task in tasks)
        for C, loss in results:
            losses[C] = losses.get(C, 0.0) + loss / len(X)
        best = min(losses, key=losses.get)
    else:  # a class too rare to cross-validate: the middle of the grid
        best = CANDIDATE_C[len(CANDIDATE_C) // 2]
    coef, intercept = _fit_scores(X, codes, n_classes, best, seed)
    return {
        "coef": coef,
        "intercept": intercept,
        "mean": mean,
        "scale": scale,
        "C": float(best),
        "cv_log_loss": np.array([losses.get(C, np.nan) for C in CANDIDATE_C]),
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
    return _probabilities(_standardise(G, mean, scale) @ coef.T + intercept)


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
        if rate is None:  # the first round proposes as many as requested, in the model's mix
            need = missing
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

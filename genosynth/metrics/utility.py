"""Utility of a synthetic cohort: train on synthetic, test on real; association recovery.

Both functions answer "would an analyst reach the same conclusions from the
synthetic cohort as from the real one?". :func:`tstr` asks it of a predictive
model, :func:`association_recovery` of a genome-wide association scan.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from genosynth.metrics import _inputs
from genosynth.metrics._stats import (
    auc,
    bh_qvalues,
    pearson,
    percentile_ci,
    quiet_mean,
    safe_ratio,
    stratified_bootstrap,
)
from genosynth.stats._pvalues import p_from_neglog10

# Inverse L2 strength of the default TSTR model on standardised dosages: strong
# shrinkage, as suits ~1,000 correlated, individually weak predictors.
DEFAULT_C = 0.01


def default_estimator():
    """The default TSTR model: mean imputation, standardisation, L2 logistic regression.

    ``LogisticRegression(C=0.01)`` on dosages standardised with the training
    rows' mean and standard deviation (missing calls imputed with the mean
    first).

    Returns
    -------
    sklearn.pipeline.Pipeline

    Examples
    --------
    >>> default_estimator()[-1].C
    0.01
    """
    return make_pipeline(
        SimpleImputer(strategy="mean"),
        StandardScaler(),
        LogisticRegression(C=DEFAULT_C, max_iter=1000),
    )


# Ridge strengths the default regression TSTR model chooses among (by efficient
# leave-one-out cross-validation) on standardised dosages.
RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(0, 5, 11))


def default_regressor():
    """The default TSTR model of a quantitative trait: ridge regression on standardised dosages.

    Mean imputation, standardisation with the training rows' mean and
    standard deviation, and :class:`~sklearn.linear_model.RidgeCV` choosing
    its strength among ``RIDGE_ALPHAS`` (1 to 100,000) by leave-one-out
    error on the training rows.

    Returns
    -------
    sklearn.pipeline.Pipeline

    Examples
    --------
    >>> default_regressor()[-1].alphas[:2]
    (1.0, 3.1622776601683795)
    """
    return make_pipeline(
        SimpleImputer(strategy="mean"), StandardScaler(), RidgeCV(alphas=RIDGE_ALPHAS)
    )


def _float_dosages(G: np.ndarray) -> np.ndarray:
    """Dosages as float64 with NaN for missing calls (sklearn's missing marker)."""
    return np.where(G >= 0, G, np.nan).astype(np.float64)


def _positive_scores(est, X) -> np.ndarray:
    """Scores that rank label 1 higher: P(label 1) or the decision function."""
    classes = list(est.classes_)
    if hasattr(est, "predict_proba"):
        return est.predict_proba(X)[:, classes.index(1)]
    d = est.decision_function(X)
    return d if classes.index(1) == 1 else -d


def average_precision(y, scores) -> float:
    """Area under the precision-recall curve as a step function (average precision).

    ``sum_k (R_k - R_{k-1}) P_k`` over the distinct score thresholds in
    decreasing order, tied scores entering together: the definition of
    :func:`sklearn.metrics.average_precision_score`, without its input
    validation (this runs inside bootstrap loops).
    """
    y = np.asarray(y, dtype=bool)
    n_pos = int(y.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="mergesort")
    s, y = np.asarray(scores, dtype=np.float64)[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]
    tp = np.cumsum(y)[last]
    precision = tp / (last + 1)
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _balanced_accuracy(y, predicted) -> float:
    """Mean of sensitivity and specificity (both classes present)."""
    y, predicted = np.asarray(y, dtype=bool), np.asarray(predicted, dtype=bool)
    return float(0.5 * (np.mean(predicted[y]) + np.mean(~predicted[~y])))


def _scores(y, scores, predicted) -> dict:
    return {
        "auc": auc(scores, y),
        "pr_auc": average_precision(y, scores),
        "balanced_accuracy": _balanced_accuracy(y, predicted),
    }


_SCORE_NAMES = ("auc", "pr_auc", "balanced_accuracy")


def _trait_scores(y, predicted, _) -> dict:
    # Squared correlation, the "variance explained" of a polygenic score: it
    # ignores the scale of the predictions, as the AUC ignores that of risks.
    return {"r2": pearson(y, predicted) ** 2}


def tstr(
    real_train,
    y_train,
    real_holdout,
    y_holdout,
    synthetic,
    y_synthetic,
    *,
    estimator=None,
    n_bootstrap=200,
    random_state=0,
    prefix="tstr",
) -> dict:
    """Train on synthetic, test on real (TSTR) against train on real, test on real (TRTR).

    Two clones of ``estimator`` are fitted, one on the synthetic cohort and one
    on the real training cohort, and both score the *same* real holdout. For
    each model: the ROC AUC (ties count one half), the precision-recall AUC
    (average precision) and the balanced accuracy of its predicted labels;
    and the ratios synthetic / real (ideal 1; acceptance target for the AUC
    ratio >= 0.97). A ratio above 1 is possible (the synthetic model may be
    better regularised) and is not a defect.

    For a quantitative trait (float labels that are not all 0/1) the models
    are regressions and the score is ``r2``, the squared correlation of the
    predictions with the holdout trait (the variance a polygenic score
    explains), with its ratio.

    Confidence intervals are 95% percentile intervals over ``n_bootstrap``
    resamples of the holdout rows (cases and controls resampled separately);
    the fitted models are kept fixed (the interval reflects the finite
    holdout, not refitting), and the two scores of a replicate use the same
    rows, so the interval of the ratio is paired.

    Genotypes reach ``estimator`` as float arrays with NaN for missing calls.

    Parameters
    ----------
    real_train, real_holdout, synthetic : array-like (n, n_variants) or xarray.Dataset
        Genotypes 0/1/2 (-1/NaN missing) on the same variants.
    y_train, y_holdout, y_synthetic : array-like of shape (n,)
        Binary labels 0 (control) / 1 (case), each with both classes; or a
        quantitative trait (floats) in all three.
    estimator : scikit-learn classifier or regressor, optional
        Cloned for each fit. Defaults to :func:`default_estimator`, an L2
        logistic regression (``C=0.01``) on mean-imputed standardised
        dosages, or for a quantitative trait :func:`default_regressor`.
        :class:`genosynth.prs.PRSClassifier` gives the polygenic-score TSTR.
    n_bootstrap : int, default=200
        Bootstrap replicates (0 skips the intervals).
    random_state : int, numpy Generator or None, default=0
        Seeds the bootstrap (and the estimator, if it has a ``random_state``
        parameter that is None).
    prefix : str, default="tstr"
        Prefix of the returned keys.

    Returns
    -------
    dict
        With ``{p}`` the prefix: ``{p}_auc_synthetic``, ``{p}_auc_real``,
        ``{p}_auc_ratio``, ``{p}_pr_auc_synthetic``, ``{p}_pr_auc_real``,
        ``{p}_pr_auc_ratio``, ``{p}_balanced_accuracy_synthetic``,
        ``{p}_balanced_accuracy_real``, ``{p}_balanced_accuracy_ratio``
        (for a quantitative trait ``{p}_r2_synthetic``, ``{p}_r2_real``,
        ``{p}_r2_ratio`` instead), each with ``_ci_low`` / ``_ci_high``
        companions, and the holdout scores (predictions for a trait)
        ``{p}_scores_synthetic``, ``{p}_scores_real`` (arrays).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> G = rng.integers(0, 3, size=(600, 30))
    >>> y = (G[:, :3].sum(axis=1) + rng.normal(size=600) > 3).astype(int)
    >>> res = tstr(G[:400], y[:400], G[400:], y[400:], G[:400], y[:400], n_bootstrap=0)
    >>> res["tstr_auc_ratio"]
    1.0
    """
    train = _inputs.genotypes(real_train, "real_train")
    holdout = _inputs.genotypes(real_holdout, "real_holdout")
    syn = _inputs.genotypes(synthetic, "synthetic")
    _inputs.same_panel(real_train=train, real_holdout=holdout, synthetic=syn)
    labels, continuous = _inputs.outcomes(
        {"y_train": y_train, "y_holdout": y_holdout, "y_synthetic": y_synthetic},
        {"y_train": len(train), "y_holdout": len(holdout), "y_synthetic": len(syn)},
    )
    y_hold = labels["y_holdout"]
    rng = _inputs.rng_from(random_state)
    if estimator is None:
        estimator = default_regressor() if continuous else default_estimator()
    score_fn, names = (_trait_scores, ("r2",)) if continuous else (_scores, _SCORE_NAMES)
    X_hold = _float_dosages(holdout)

    fitted = {}
    for which, G, y in (
        ("synthetic", syn, labels["y_synthetic"]),
        ("real", train, labels["y_train"]),
    ):
        est = clone(estimator)
        if "random_state" in est.get_params() and est.get_params()["random_state"] is None:
            est.set_params(random_state=int(rng.integers(2**31 - 1)))
        est.fit(_float_dosages(G), y)
        if continuous:
            scores = predicted = np.asarray(est.predict(X_hold), dtype=np.float64)
        else:
            scores = _positive_scores(est, X_hold)
            predicted = np.asarray(est.predict(X_hold)).astype(np.int64)
        fitted[which] = (scores, predicted)

    def table(idx) -> dict:
        out = {}
        for which, (scores, predicted) in fitted.items():
            for name, value in score_fn(y_hold[idx], scores[idx], predicted[idx]).items():
                out[f"{name}_{which}"] = value
        for name in names:
            out[f"{name}_ratio"] = safe_ratio(out[f"{name}_synthetic"], out[f"{name}_real"])
        return out

    point = table(np.arange(y_hold.size))
    # A trait's holdout is resampled as one stratum.
    strata = np.zeros(y_hold.size) if continuous else y_hold
    boot = [table(idx) for idx in stratified_bootstrap(strata, n_bootstrap, rng)]
    out = {}
    for name, value in point.items():
        out[f"{prefix}_{name}"] = value
        lo, hi = percentile_ci([b[name] for b in boot]) if boot else (np.nan, np.nan)
        out[f"{prefix}_{name}_ci_low"], out[f"{prefix}_{name}_ci_high"] = lo, hi
    out[f"{prefix}_scores_synthetic"] = fitted["synthetic"][0]
    out[f"{prefix}_scores_real"] = fitted["real"][0]
    return out


def _causal_mask(causal, n_variants: int) -> np.ndarray:
    causal = np.asarray(causal)
    if causal.dtype == bool:
        if causal.shape != (n_variants,):
            raise ValueError(
                f"a boolean causal mask needs one entry per variant ({n_variants}), "
                f"got shape {causal.shape}"
            )
        return causal
    if causal.ndim != 1 or (causal.size and causal.dtype.kind not in "iu"):
        raise TypeError("causal must be a boolean mask or a 1-D array of variant indices")
    if causal.size and (causal.min() < 0 or causal.max() >= n_variants):
        raise ValueError(f"causal indices must lie in [0, {n_variants}), got {causal.tolist()[:5]}")
    mask = np.zeros(n_variants, dtype=bool)
    mask[causal] = True
    return mask


def association_recovery(
    real, y_real, synthetic, y_synthetic, *, causal=None, q_threshold=0.05
) -> dict:
    """Per-variant association scan on synthetic vs on real individuals.

    Both cohorts go through the same scan,
    :func:`genosynth.association.association_scan` (the statistics of
    :class:`~genosynth.GWASSelector`; logistic regression for binary labels,
    linear for a quantitative trait, missing calls excluded per variant, every
    variant refined by a Wald test). Per variant this gives ``beta`` (log-odds,
    or trait units, per alternate allele) and a
    p-value; q-values are Benjamini-Hochberg adjusted p-values within each
    cohort, and a *discovery* is a variant with ``q < q_threshold``.

    Reported (variants whose effect is estimable in both cohorts; a variant
    monomorphic in the synthetic cohort is left out of the correlations and
    is never a synthetic discovery):

    * ``assoc_beta_pearson_r``: Pearson correlation of the effects (ideal 1);
    * ``assoc_log10p_pearson_r``: correlation of ``-log10 p`` (ideal 1);
    * ``assoc_sign_concordance``: fraction of variants whose effects have the
      same sign (ideal 1, but about 0.5 among variants without association,
      so it falls with the share of null variants in the panel);
    * ``assoc_sign_concordance_discoveries``: the same over the real
      discoveries only (ideal 1);
    * ``assoc_n_discoveries_real`` / ``_synthetic``; ``assoc_replicated``
      (discoveries in both), ``assoc_replication_rate`` = replicated / real
      discoveries (ideal 1), ``assoc_spurious`` (synthetic discoveries that
      are not real ones) and ``assoc_spurious_rate`` = spurious / synthetic
      discoveries (ideal 0). Discovery counts depend on sample size: compare
      cohorts of equal size.
    * with ``causal``: ``assoc_causal_n`` and the fraction of causal variants
      discovered, ``assoc_causal_power_real`` and
      ``assoc_causal_power_synthetic`` (ideal: equal).

    Parameters
    ----------
    real, synthetic : array-like (n, n_variants) or xarray.Dataset
        Genotypes 0/1/2 (-1/NaN missing) on the same variants (typically the
        real *training* cohort and the synthetic cohort).
    y_real, y_synthetic : array-like of shape (n,)
        Binary labels 0 (control) / 1 (case), or a quantitative trait
        (floats) in both.
    causal : array-like, optional
        The true causal variants (simulations): a boolean mask over variants
        or their column indices.
    q_threshold : float, default=0.05
        False-discovery-rate level of a discovery.

    Returns
    -------
    dict
        The scalars above and the arrays ``assoc_beta_real``,
        ``assoc_beta_synthetic``, ``assoc_p_real``, ``assoc_p_synthetic``,
        ``assoc_q_real``, ``assoc_q_synthetic``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> G = rng.integers(0, 3, size=(500, 20))
    >>> y = (G[:, 0] + rng.normal(size=500) > 1.5).astype(int)
    >>> res = association_recovery(G, y, G, y, causal=[0])
    >>> res["assoc_beta_pearson_r"], res["assoc_causal_power_synthetic"]
    (1.0, 1.0)
    """
    from genosynth.association import _scan_result

    if not 0 < q_threshold < 1:
        raise ValueError(f"q_threshold must be in (0, 1), got {q_threshold}")
    R = _inputs.genotypes(real, "real")
    S = _inputs.genotypes(synthetic, "synthetic")
    L = _inputs.same_panel(real=R, synthetic=S)
    labels, continuous = _inputs.outcomes(
        {"y_real": y_real, "y_synthetic": y_synthetic},
        {"y_real": len(R), "y_synthetic": len(S)},
    )
    y_r, y_s = labels["y_real"], labels["y_synthetic"]
    mask = None if causal is None else _causal_mask(causal, L)
    test = "linear" if continuous else "logistic"

    res = {}
    for name, G, y in (("real", R, y_r), ("synthetic", S, y_s)):
        scan = _scan_result(G, y, None, test, "all", 0.0, None)
        # -log10 p from the scan itself: p underflows to 0 for the strongest
        # hits, whose -log10 would be inf and drop out of the correlation.
        beta, neglog10p = scan.beta.astype(np.float64), scan.neglog10p.astype(np.float64)
        ok = np.isfinite(beta) & np.isfinite(neglog10p)
        beta, neglog10p = np.where(ok, beta, np.nan), np.where(ok, neglog10p, np.nan)
        p = p_from_neglog10(neglog10p)
        q = bh_qvalues(p)
        res[name] = {
            "beta": beta,
            "p": p,
            "neglog10p": neglog10p,
            "q": q,
            "disc": np.nan_to_num(q, nan=1.0) < q_threshold,
        }

    b_r, b_s = res["real"]["beta"], res["synthetic"]["beta"]
    both = np.isfinite(b_r) & np.isfinite(b_s)
    same_sign = np.sign(b_r) == np.sign(b_s)
    d_r, d_s = res["real"]["disc"], res["synthetic"]["disc"]
    replicated = int(np.sum(d_r & d_s))
    spurious = int(np.sum(d_s & ~d_r))
    lp_r, lp_s = res["real"]["neglog10p"], res["synthetic"]["neglog10p"]
    out = {
        "assoc_beta_pearson_r": pearson(b_r, b_s),
        "assoc_log10p_pearson_r": pearson(lp_r, lp_s),
        "assoc_sign_concordance": quiet_mean(same_sign[both]),
        "assoc_sign_concordance_discoveries": quiet_mean(same_sign[both & d_r]),
        "assoc_n_discoveries_real": int(d_r.sum()),
        "assoc_n_discoveries_synthetic": int(d_s.sum()),
        "assoc_replicated": replicated,
        "assoc_replication_rate": safe_ratio(replicated, int(d_r.sum())),
        "assoc_spurious": spurious,
        "assoc_spurious_rate": safe_ratio(spurious, int(d_s.sum())),
    }
    if mask is not None:
        n_causal = int(mask.sum())
        out["assoc_causal_n"] = n_causal
        out["assoc_causal_power_real"] = safe_ratio(int(np.sum(d_r & mask)), n_causal)
        out["assoc_causal_power_synthetic"] = safe_ratio(int(np.sum(d_s & mask)), n_causal)
    for name in ("real", "synthetic"):
        for stat in ("beta", "p", "q"):
            out[f"assoc_{stat}_{name}"] = res[name][stat]
    return out

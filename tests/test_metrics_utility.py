"""Utility metrics: TSTR against TRTR, association recovery; the metrics package is torch-free."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, balanced_accuracy_score, roc_auc_score

from genosynth.association import association_scan
from genosynth.metrics import association_recovery, tstr
from genosynth.metrics._stats import bh_qvalues
from genosynth.metrics.utility import average_precision, default_estimator, default_regressor
from genosynth.prs import PRSClassifier


def cohort(n, L=40, seed=0):
    """Independent variants, the first five causal (variant 4 protective)."""
    rng = np.random.default_rng(seed)
    G = rng.binomial(2, rng.uniform(0.1, 0.5, L), size=(n, L)).astype(np.int8)
    liability = G[:, :5] @ np.array([0.9, 0.7, 0.6, 0.5, -0.8]) + rng.logistic(size=n)
    return G, (liability > np.quantile(liability, 0.6)).astype(int)


@pytest.fixture(scope="module")
def split():
    G, y = cohort(1600)
    return G[:1000], y[:1000], G[1000:], y[1000:]


# --- TSTR --------------------------------------------------------------------------------


def test_tstr_on_the_training_data_itself_gives_ratio_one(split):
    G, y, G_hold, y_hold = split
    res = tstr(G, y, G_hold, y_hold, G.copy(), y.copy(), n_bootstrap=50)
    for name in ("auc", "pr_auc", "balanced_accuracy"):
        assert res[f"tstr_{name}_ratio"] == 1.0
        assert res[f"tstr_{name}_ratio_ci_low"] == res[f"tstr_{name}_ratio_ci_high"] == 1.0
        assert res[f"tstr_{name}_synthetic"] == res[f"tstr_{name}_real"]
    np.testing.assert_array_equal(res["tstr_scores_synthetic"], res["tstr_scores_real"])


def test_tstr_numbers_match_sklearn(split):
    G, y, G_hold, y_hold = split
    G_syn, y_syn = cohort(1000, seed=5)
    res = tstr(G, y, G_hold, y_hold, G_syn, y_syn, n_bootstrap=100, random_state=0)
    for which, (X, t) in {"real": (G, y), "synthetic": (G_syn, y_syn)}.items():
        model = default_estimator().fit(X.astype(float), t)
        p = model.predict_proba(G_hold.astype(float))[:, 1]
        np.testing.assert_allclose(res[f"tstr_scores_{which}"], p)
        assert res[f"tstr_auc_{which}"] == pytest.approx(roc_auc_score(y_hold, p))
        assert res[f"tstr_pr_auc_{which}"] == pytest.approx(average_precision_score(y_hold, p))
        assert res[f"tstr_balanced_accuracy_{which}"] == pytest.approx(
            balanced_accuracy_score(y_hold, model.predict(G_hold.astype(float)))
        )
        assert res[f"tstr_auc_{which}_ci_low"] < res[f"tstr_auc_{which}"]
        assert res[f"tstr_auc_{which}"] < res[f"tstr_auc_{which}_ci_high"]
    # A synthetic cohort from the same distribution: the ratio's interval covers 1.
    assert res["tstr_auc_ratio_ci_low"] < 1 < res["tstr_auc_ratio_ci_high"]
    assert res["tstr_auc_real"] > 0.65


def test_tstr_without_signal_in_the_synthetic_labels(split):
    G, y, G_hold, y_hold = split
    shuffled = np.random.default_rng(0).permutation(y)
    res = tstr(G, y, G_hold, y_hold, G, shuffled, n_bootstrap=100)
    assert abs(res["tstr_auc_synthetic"] - 0.5) < 0.08
    assert res["tstr_auc_ratio"] < 0.75 and res["tstr_auc_ratio_ci_high"] < 0.85


def test_tstr_with_the_prs_classifier_and_a_custom_estimator(split):
    G, y, G_hold, y_hold = split
    res = tstr(G, y, G_hold, y_hold, G, y, estimator=PRSClassifier(), n_bootstrap=0, prefix="prs")
    assert res["prs_auc_ratio"] == 1.0 and np.isnan(res["prs_auc_ratio_ci_low"])
    prs = PRSClassifier().fit(G, y)
    assert res["prs_auc_real"] == pytest.approx(
        roc_auc_score(y_hold, prs.decision_function(G_hold))
    )
    # An estimator without predict_proba is scored by its decision function.
    from sklearn.svm import LinearSVC

    res = tstr(G, y, G_hold, y_hold, G, y, estimator=LinearSVC(C=0.01), n_bootstrap=0)
    assert res["tstr_auc_real"] > 0.65


def test_tstr_handles_missing_calls(split):
    G, y, G_hold, y_hold = split
    G_miss = G.copy()
    G_miss[np.random.default_rng(0).random(G.shape) < 0.05] = -1
    res = tstr(G, y, G_hold, y_hold, G_miss, y, n_bootstrap=0)
    assert res["tstr_auc_ratio"] == pytest.approx(1.0, abs=0.02)


def test_average_precision_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.integers(0, 2, 200)
        s = rng.integers(0, 6, 200).astype(float)  # many ties
        assert average_precision(y, s) == pytest.approx(average_precision_score(y, s))


def test_tstr_errors(split):
    G, y, G_hold, y_hold = split
    with pytest.raises(ValueError, match="y_synthetic must contain both"):
        tstr(G, y, G_hold, y_hold, G, np.zeros_like(y))
    with pytest.raises(ValueError, match="same variants"):
        tstr(G, y, G_hold, y_hold, G[:, :5], y)
    with pytest.raises(ValueError, match="binary labels"):
        tstr(G, y, G_hold, y_hold, G, y + 1)


def trait_cohort(n, L=40, seed=0):
    """The genotypes of :func:`cohort` with a quantitative trait on an arbitrary scale."""
    rng = np.random.default_rng(seed)
    G = rng.binomial(2, rng.uniform(0.1, 0.5, L), size=(n, L)).astype(np.int8)
    return G, 170.0 + 4.0 * (G[:, :5] @ np.array([0.9, 0.7, 0.6, 0.5, -0.8])) + 6.0 * rng.normal(
        size=n
    )


def test_tstr_of_a_quantitative_trait_matches_ridge_by_hand():
    G, t = trait_cohort(1600)
    G_syn, t_syn = trait_cohort(1000, seed=5)
    res = tstr(G[:1000], t[:1000], G[1000:], t[1000:], G_syn, t_syn, n_bootstrap=100)
    r2 = {}
    for which, (X, target) in {"real": (G[:1000], t[:1000]), "synthetic": (G_syn, t_syn)}.items():
        model = default_regressor().fit(X.astype(float), target)
        pred = model.predict(G[1000:].astype(float))
        np.testing.assert_allclose(res[f"tstr_scores_{which}"], pred)
        r2[which] = np.corrcoef(pred, t[1000:])[0, 1] ** 2
        assert res[f"tstr_r2_{which}"] == pytest.approx(r2[which])
        assert res[f"tstr_r2_{which}_ci_low"] < r2[which] < res[f"tstr_r2_{which}_ci_high"]
    assert res["tstr_r2_ratio"] == pytest.approx(r2["synthetic"] / r2["real"])
    # the genotypes explain ~30% of the trait's variance; a cohort of the same
    # distribution scores alike
    assert 0.2 < r2["real"] < 0.4
    assert res["tstr_r2_ratio_ci_low"] < 1 < res["tstr_r2_ratio_ci_high"]
    assert "tstr_auc_ratio" not in res
    # no signal: a trait shuffled among the synthetic individuals
    shuffled = np.random.default_rng(0).permutation(t_syn)
    res = tstr(G[:1000], t[:1000], G[1000:], t[1000:], G_syn, shuffled, n_bootstrap=0)
    assert res["tstr_r2_ratio"] < 0.1


def test_quantitative_labels_are_checked():
    G, t = trait_cohort(300)
    y = (t > np.median(t)).astype(int)
    with pytest.raises(ValueError, match="all binary or all quantitative"):
        tstr(G, t, G, t, G, y)
    with pytest.raises(ValueError, match="constant"):
        tstr(G, t, G, t, G, np.full(300, 1.5))
    with pytest.raises(ValueError, match="binary labels 0 .* or a quantitative trait as floats"):
        tstr(G, t, G, t, G, np.arange(300) % 3)
    with pytest.raises(ValueError, match="all binary or all quantitative"):
        association_recovery(G, t, G, y)


def test_association_recovery_of_a_quantitative_trait_uses_ols():
    G, t = trait_cohort(800)
    G_syn, t_syn = trait_cohort(800, seed=3)
    res = association_recovery(G, t, G_syn, t_syn, causal=np.arange(5))
    # the effect of a variant is the OLS slope of the trait on its dosage
    import statsmodels.api as sm

    for j in (0, 4, 20):
        ols = sm.OLS(t, sm.add_constant(G[:, j].astype(float))).fit()
        assert res["assoc_beta_real"][j] == pytest.approx(ols.params[1], rel=1e-6)
        assert res["assoc_p_real"][j] == pytest.approx(ols.pvalues[1], rel=1e-4)
    assert res["assoc_causal_power_real"] == res["assoc_causal_power_synthetic"] == 1.0
    assert res["assoc_beta_pearson_r"] > 0.75  # five causal variants among 40


# --- association recovery ----------------------------------------------------------------


def test_association_recovery_of_real_against_itself(split):
    G, y, _, _ = split
    res = association_recovery(G, y, G, y, causal=np.arange(5))
    assert res["assoc_beta_pearson_r"] == 1.0
    assert res["assoc_log10p_pearson_r"] == pytest.approx(1.0)
    assert res["assoc_sign_concordance"] == 1.0
    assert res["assoc_sign_concordance_discoveries"] == 1.0
    assert res["assoc_replicated"] == res["assoc_n_discoveries_real"] >= 5
    assert res["assoc_replication_rate"] == 1.0
    assert res["assoc_spurious"] == 0 and res["assoc_spurious_rate"] == 0.0
    assert res["assoc_causal_power_real"] == res["assoc_causal_power_synthetic"] == 1.0


def test_association_recovery_counts_by_hand(split):
    G, y, _, _ = split
    G_syn, y_syn = cohort(1000, seed=7)
    G_syn[:, 3] = 2 - G_syn[:, 3]  # recode one causal variant: its effect changes sign
    res = association_recovery(G, y, G_syn, y_syn, causal=np.arange(40) < 5)
    scans = [association_scan(X, t, refine="all") for X, t in ((G, y), (G_syn, y_syn))]
    beta = [s["beta"].to_numpy() for s in scans]
    disc = [bh_qvalues(s["p"].to_numpy()) < 0.05 for s in scans]
    np.testing.assert_allclose(res["assoc_beta_real"], beta[0])
    np.testing.assert_allclose(res["assoc_beta_synthetic"], beta[1])
    assert res["assoc_beta_pearson_r"] == pytest.approx(np.corrcoef(beta[0], beta[1])[0, 1])
    same = np.sign(beta[0]) == np.sign(beta[1])
    assert res["assoc_sign_concordance"] == pytest.approx(same.mean())
    assert res["assoc_sign_concordance_discoveries"] == pytest.approx(same[disc[0]].mean())
    assert not same[3] and disc[0][3]
    assert res["assoc_replicated"] == int(np.sum(disc[0] & disc[1]))
    assert res["assoc_spurious"] == int(np.sum(disc[1] & ~disc[0]))
    assert res["assoc_causal_power_synthetic"] == pytest.approx(disc[1][:5].mean())
    # Indices and a boolean mask mean the same causal set.
    by_index = association_recovery(G, y, G_syn, y_syn, causal=[0, 1, 2, 3, 4])
    assert by_index["assoc_causal_power_real"] == res["assoc_causal_power_real"]


def test_association_recovery_of_unrelated_data():
    G, y = cohort(800, seed=1)
    rng = np.random.default_rng(2)
    G_syn = rng.binomial(2, 0.3, size=G.shape).astype(np.int8)
    res = association_recovery(G, y, G_syn, rng.integers(0, 2, 800), causal=np.arange(5))
    assert abs(res["assoc_beta_pearson_r"]) < 0.4
    assert res["assoc_causal_power_real"] == 1.0 and res["assoc_causal_power_synthetic"] <= 0.2
    assert res["assoc_replicated"] + res["assoc_spurious"] == res["assoc_n_discoveries_synthetic"]
    assert res["assoc_n_discoveries_synthetic"] <= 2


def test_association_recovery_errors(split):
    G, y, _, _ = split
    with pytest.raises(ValueError, match="causal indices must lie"):
        association_recovery(G, y, G, y, causal=[0, 40])
    with pytest.raises(ValueError, match="one entry per variant"):
        association_recovery(G, y, G, y, causal=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="q_threshold"):
        association_recovery(G, y, G, y, q_threshold=1.5)


def test_metrics_and_prs_do_not_import_torch():
    code = (
        "import sys, numpy as np\n"
        "import genosynth.metrics, genosynth.prs, genosynth.association\n"
        "from genosynth.metrics import evaluate\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_default_estimator_is_penalised_logistic_regression():
    est = default_estimator()
    assert isinstance(est[-1], LogisticRegression) and est[-1].C == 0.01


def test_association_recovery_keeps_hits_whose_p_underflows():
    # The real scan's SNP 0 has p = 0.0 in float64; its -log10 p must still count.
    rng = np.random.default_rng(0)
    G = rng.integers(0, 3, (2000, 6))
    y = G[:, 0] + 0.3 * G[:, 1] + rng.normal(0, 0.5, 2000)
    S = rng.integers(0, 3, (2000, 6))
    ys = 0.3 * S[:, 1] + rng.normal(0, 0.5, 2000)
    res = association_recovery(G, y, S, ys)
    assert res["assoc_p_real"][0] == 0.0
    real = association_scan(G, y, test="linear")
    assert np.all(real["p"].to_numpy()[1:] > 0)
    # SNP 0 dominates the real scan and is null in the synthetic one: the
    # correlation over all six is negative, not the 0.9999 of the other five.
    assert res["assoc_log10p_pearson_r"] < 0

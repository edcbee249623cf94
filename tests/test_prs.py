"""PRSClassifier: the score is the sum of GWAS effects, calibration, thresholding, clumping."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from genosynth.association import association_scan
from genosynth.data._genotypes import as_genotypes
from genosynth.prs import PRSClassifier


def cohort(n=1500, L=30, seed=0):
    """Independent variants; variants 0-2 raise risk, variant 3 lowers it."""
    rng = np.random.default_rng(seed)
    G = rng.binomial(2, rng.uniform(0.1, 0.5, L), size=(n, L)).astype(np.int8)
    liability = G[:, :4] @ np.array([0.8, 0.6, 0.5, -0.7]) + rng.logistic(size=n)
    y = (liability > np.quantile(liability, 0.6)).astype(int)
    return G, y


@pytest.fixture(scope="module")
def data():
    return cohort()


@pytest.fixture(scope="module")
def fitted(data):
    G, y = data
    return PRSClassifier().fit(G[:1000], y[:1000])


def test_effects_are_the_association_scan_betas(data, fitted):
    G, y = data
    scan = association_scan(G[:1000], y[:1000], refine="all")
    np.testing.assert_allclose(fitted.effects_, scan["beta"].to_numpy(), rtol=1e-12)
    assert fitted.support_.all()
    # ... which are per-variant logistic log-odds per alternate allele (statsmodels).
    for j in (0, 3, 10):
        res = sm.Logit(y[:1000], sm.add_constant(G[:1000, j].astype(float))).fit(disp=0)
        assert fitted.effects_[j] == pytest.approx(res.params[1], rel=1e-5)
    assert fitted.effects_[:3].min() > 0 > fitted.effects_[3]


def test_score_is_dosages_times_effects(data, fitted):
    G, _ = data
    np.testing.assert_allclose(fitted.polygenic_score(G), G @ fitted.effects_, rtol=1e-12)
    d = fitted.decision_function(G)
    np.testing.assert_allclose(d, fitted.intercept_ + fitted.slope_ * (G @ fitted.effects_))
    proba = fitted.predict_proba(G)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-d)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(fitted.predict(G), (d > 0).astype(int))


def test_missing_calls_take_the_training_mean_dosage(data, fitted):
    G, _ = data
    mean = G[:1000].mean(axis=0)
    np.testing.assert_allclose(fitted.imputation_dosages_, mean)
    X = G[:3].astype(float)
    X[0, 0], X[1, [1, 5]] = np.nan, np.nan
    expected = G[:3] @ fitted.effects_
    expected[0] += (mean[0] - G[0, 0]) * fitted.effects_[0]
    expected[1] += (mean[[1, 5]] - G[1, [1, 5]]) @ fitted.effects_[[1, 5]]
    np.testing.assert_allclose(fitted.polygenic_score(X), expected)
    G_minus = G[:3].copy()
    G_minus[0, 0] = -1
    assert fitted.polygenic_score(G_minus)[0] == pytest.approx(expected[0])


def test_calibration_is_a_logistic_regression_on_the_training_score(data, fitted):
    G, y = data
    score = G[:1000] @ fitted.effects_
    res = sm.Logit(y[:1000], sm.add_constant(score)).fit(disp=0)
    assert fitted.intercept_ == pytest.approx(res.params[0], rel=1e-3)
    assert fitted.slope_ == pytest.approx(res.params[1], rel=1e-3)


def test_p_threshold_keeps_exactly_the_significant_variants(data):
    G, y = data
    clf = PRSClassifier(p_threshold=1e-3).fit(G[:1000], y[:1000])
    p = clf.association_["p"].to_numpy()
    np.testing.assert_array_equal(clf.support_, p <= 1e-3)
    assert clf.support_[:4].all() and clf.support_.sum() < 10
    np.testing.assert_array_equal(clf.effects_[~clf.support_], 0.0)
    np.testing.assert_array_equal(clf.association_["selected"].to_numpy(), clf.support_)
    # Dropping null variants helps out of sample: the C+T score ranks the holdout better.
    full = PRSClassifier().fit(G[:1000], y[:1000])
    auc_t = roc_auc_score(y[1000:], clf.decision_function(G[1000:]))
    auc_full = roc_auc_score(y[1000:], full.decision_function(G[1000:]))
    assert auc_t > 0.65 and auc_t > auc_full - 0.01


def test_no_retained_variant_predicts_the_prior(data):
    G, y = data
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 3, size=(400, 5))
    with pytest.warns(UserWarning, match="no variant was retained"):
        clf = PRSClassifier(p_threshold=1e-12).fit(noise, y[:400])
    proba = clf.predict_proba(noise)[:, 1]
    np.testing.assert_allclose(proba, y[:400].mean())


def test_string_labels_and_class_order(data):
    G, y = data
    labels = np.where(y[:1000] == 1, "case", "control")
    clf = PRSClassifier().fit(G[:1000], labels)
    assert clf.classes_.tolist() == ["case", "control"]
    # classes_[1] = "control" is modelled: effects flip sign relative to 0/1 coding.
    ref = PRSClassifier().fit(G[:1000], y[:1000])
    np.testing.assert_allclose(clf.effects_, -ref.effects_, rtol=1e-6, atol=1e-9)
    assert set(clf.predict(G[:50])) <= {"case", "control"}


def test_clumping_keeps_one_of_two_linked_variants():
    G, y = cohort(n=1000, L=8, seed=3)
    G = np.column_stack([G[:, 0], G[:, 0], G[:, 1:]])  # variant 1 duplicates variant 0
    variants = pd.DataFrame({"contig": "1", "position": np.arange(G.shape[1]) * 1000 + 1})
    clf = PRSClassifier(clump=True, clump_r2=0.5, clump_kb=250).fit(G, y, variants=variants)
    assert clf.support_[:2].sum() == 1
    assert clf.support_[2:].sum() >= 3
    # Far apart (beyond clump_kb) the duplicate survives.
    far = variants.assign(position=np.arange(G.shape[1]) * 1_000_000 + 1)
    clf_far = PRSClassifier(clump=True, clump_r2=0.5, clump_kb=250).fit(G, y, variants=far)
    assert clf_far.support_[:2].all()


def test_clumping_needs_positions(data):
    G, y = data
    with pytest.raises(ValueError, match="clump=True needs variant positions"):
        PRSClassifier(clump=True).fit(G[:200], y[:200])


def test_dataset_input_and_auc():
    from genosynth.datasets import simulate_case_control

    ds = simulate_case_control(
        800,
        n_variants=200,
        n_causal=10,
        heritability=0.6,
        prevalence=0.4,
        random_state=0,
        demography="constant",
        n_chromosomes=1,
    )
    y = np.asarray(ds["sample_phenotype"].values)
    train, test = ds.isel(samples=slice(0, 600)), ds.isel(samples=slice(600, None))
    clf = PRSClassifier(p_threshold=1e-3, clump=True).fit(train, y[:600])
    assert clf.association_["position"].is_monotonic_increasing
    # C+T: no two retained variants within clump_kb are in LD above clump_r2 ...
    from genosynth.stats._clumping import haplotype_r2

    G, _ = as_genotypes(train)
    kept = np.flatnonzero(clf.support_)
    pos = clf.association_["position"].to_numpy()
    assert kept.size >= 2
    for a in kept:
        near = kept[(kept != a) & (np.abs(pos[kept] - pos[a]) <= 250_000)]
        assert np.all(haplotype_r2(G[:, a], G[:, near]) < 0.1)
    # ... and the most significant variant is always an index variant.
    assert clf.support_[np.argmin(clf.association_["p"].to_numpy())]
    assert roc_auc_score(y[600:], clf.predict_proba(test)[:, 1]) > 0.65


def test_clear_errors(data):
    G, y = data
    with pytest.raises(ValueError, match="Only binary classification"):
        PRSClassifier().fit(G[:30], np.arange(30) % 3)
    with pytest.raises(ValueError, match="y has 29 entries"):
        PRSClassifier().fit(G[:30], y[:29])
    with pytest.raises(ValueError, match="expecting 30 features"):
        PRSClassifier().fit(G[:200], y[:200]).predict(G[:5, :10])
    with pytest.raises(ValueError, match="p_threshold"):
        PRSClassifier(p_threshold=0).fit(G[:200], y[:200])
    assert clone(PRSClassifier(p_threshold=0.01)).get_params()["p_threshold"] == 0.01


# --- scikit-learn conventions ----------------------------------------------------------


class BinnedPRS(PRSClassifier):
    """Test double: bins sklearn's continuous check data into genotypes 0/1/2.

    sklearn's common checks feed continuous floats; genotype estimators rightly
    refuse them. Binning at fixed cut points (NaN and inf passed through) lets
    the checks exercise fit/predict/clone/pickle on valid genotype data.
    """

    @staticmethod
    def _bin(X):
        X = np.asarray(X) if not hasattr(X, "toarray") else X
        if isinstance(X, np.ndarray) and X.dtype.kind in "iuf" and X.size:
            X = np.where(np.isfinite(X), np.digitize(np.nan_to_num(X), [-0.5, 0.5]), X)
        return X

    def fit(self, X, y, **kwargs):
        return super().fit(self._bin(X), y, **kwargs)

    def polygenic_score(self, X):
        return super().polygenic_score(self._bin(X))


_SPARSE = "the dense data layer refuses sparse input, not in sklearn's words"
_EXPECTED_FAILURES = {
    "check_estimator_sparse_array": _SPARSE,
    "check_estimator_sparse_matrix": _SPARSE,
    "check_estimator_sparse_tag": _SPARSE,
    "check_estimators_empty_data_messages": "the data layer's own message: 'empty genotype data'",
    "check_complex_data": "refused with the data layer's TypeError, not sklearn's wording",
    "check_dtype_object": "object arrays are refused: genotypes must be numeric dosages",
}


@parametrize_with_checks([BinnedPRS()], expected_failed_checks=lambda est: _EXPECTED_FAILURES)
def test_sklearn_common_checks(estimator, check):
    check(estimator)

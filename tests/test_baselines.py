"""The two baseline generators: sampling contract, statistics, and their metric signatures."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from genosynth.baselines import AlleleFrequencySampler, Copycat
from genosynth.metrics import (
    adversarial_accuracy,
    allele_frequency_metrics,
    distance_attack,
    identical_match_rate,
    ld_metrics,
)


def mosaic_cohort(n, L, rng, switch=0.05, n_founders=10):
    """Diploid genotypes whose haplotypes are founder mosaics (LD decays with distance),
    with a case/control label driven by five variants."""
    founders = (rng.random((n_founders, L)) < rng.uniform(0.1, 0.9, L)).astype(np.int8)

    def haplotypes():
        state = rng.integers(0, n_founders, n)
        H = np.empty((n, L), dtype=np.int8)
        for j in range(L):
            jump = rng.random(n) < switch
            state = np.where(jump, rng.integers(0, n_founders, n), state)
            H[:, j] = founders[state, j]
        return H

    G = haplotypes() + haplotypes()
    liability = G[:, [10, 50, 90, 130, 170]] @ np.full(5, 0.6) + rng.normal(size=n)
    return G, (liability > np.median(liability)).astype(int)


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(0)
    G, y = mosaic_cohort(1000, 200, rng)
    return G[:700], y[:700], G[700:], y[700:]


@pytest.mark.parametrize("cls", [AlleleFrequencySampler, Copycat])
def test_label_semantics_and_determinism(cls, cohort):
    G, y, _, _ = cohort
    est = cls().fit(G, y)
    G1, y1 = est.sample(50, random_state=0)
    assert G1.shape == (50, 200) and G1.dtype == np.int8
    assert set(np.unique(y1)) <= {0, 1}
    G2, y2 = est.sample(50, random_state=0)
    np.testing.assert_array_equal(G1, G2)
    np.testing.assert_array_equal(y1, y2)
    G3, _ = est.sample(50, random_state=1)
    assert not np.array_equal(G1, G3)
    assert est.sample(7, y=1, random_state=0)[1].tolist() == [1] * 7
    wanted = np.array([0, 1, 1, 0, 1])
    np.testing.assert_array_equal(est.sample(y=wanted, random_state=0)[1], wanted)
    # y=None follows the training label mix.
    _, y_many = est.sample(4000, random_state=2)
    assert y_many.mean() == pytest.approx(y.mean(), abs=0.03)


@pytest.mark.parametrize("cls", [AlleleFrequencySampler, Copycat])
def test_sampling_errors_are_clear(cls, cohort):
    G, y, _, _ = cohort
    est = cls().fit(G, y)
    with pytest.raises(ValueError, match="not seen in fit"):
        est.sample(3, y=2)
    # As every generator: an array y gives one row per entry, whatever n_samples says.
    assert est.sample(5, y=[0, 1], random_state=0)[1].tolist() == [0, 1]
    with pytest.raises(ValueError, match="positive integer"):
        est.sample(0)
    with pytest.raises(ValueError, match="genotypes must be 0, 1, 2"):
        cls().fit(np.full((3, 2), 3), [0, 1, 0])
    with pytest.raises(ValueError, match="y has 2 entries"):
        cls().fit(G[:3], [0, 1])


@pytest.fixture(scope="module")
def trait_cohort():
    """The mosaic genotypes with a polygenic quantitative trait on an arbitrary scale."""
    rng = np.random.default_rng(3)
    G, _ = mosaic_cohort(3000, 200, rng)
    causal = [10, 50, 90, 130, 170]
    trait = 100 + 5 * (G[:, causal] @ np.array([0.3, -0.3, 0.2, 0.2, -0.2]) + rng.normal(size=3000))
    return G, trait, causal


def _slopes(G, t):
    """Per-variant least-squares slope of the trait on the dosage."""
    G = G.astype(float)
    with np.errstate(invalid="ignore"):
        return ((G - G.mean(0)) * (t - t.mean())[:, None]).mean(0) / G.var(0)


def test_trait_genotype_frequencies_are_least_squares_lines():
    from genosynth.baselines import _trait_genotype_frequencies

    rng = np.random.default_rng(0)
    G = rng.integers(0, 3, size=(300, 4)).astype(np.int8)
    G[:20, 1] = -1  # missing calls are left out of that variant's fit
    t = rng.normal(size=300)
    freqs, slopes = _trait_genotype_frequencies(G, t)
    for j in range(4):
        called = G[:, j] >= 0
        for g in range(3):
            slope, intercept = np.polyfit(t[called], (G[called, j] == g).astype(float), 1)
            assert slopes[j, g] == pytest.approx(slope)
            assert freqs[j, g] == pytest.approx(intercept)
    np.testing.assert_allclose(freqs.sum(-1), 1.0)
    np.testing.assert_allclose(slopes.sum(-1), 0.0, atol=1e-12)


@pytest.mark.parametrize("hwe", [False, True])
def test_af_sampler_reproduces_trait_slopes(trait_cohort, hwe):
    G, trait, causal = trait_cohort
    est = AlleleFrequencySampler(hwe=hwe).fit(G, trait)
    assert est.label_type_ == "continuous" and est.genotype_freqs_.shape == (1, 200, 3)
    G_syn, t_syn = est.sample(y=np.tile(trait, 4), random_state=0)
    np.testing.assert_array_equal(t_syn, np.tile(trait, 4))
    real, syn = _slopes(G, trait), _slopes(G_syn, t_syn)
    ok = G.var(0) > 0  # monomorphic founder variants have no slope
    assert np.corrcoef(real[ok], syn[ok])[0, 1] > 0.9
    # within ~3 standard errors of the 12,000 synthetic individuals' slopes
    np.testing.assert_allclose(syn[causal], real[causal], atol=0.3)
    np.testing.assert_allclose(G_syn.mean(0), G.mean(0), atol=0.06)
    # variants are drawn independently: no LD between neighbours
    r = np.corrcoef(G_syn[:, 20].astype(float), G_syn[:, 21].astype(float))[0, 1]
    assert abs(r) < 0.1 < abs(np.corrcoef(G[:, 20].astype(float), G[:, 21].astype(float))[0, 1])


def test_copycat_copies_the_closest_trait(trait_cohort):
    G, trait, _ = trait_cohort
    est = Copycat().fit(G, trait)
    G_syn, t_syn = est.sample(y=trait[:100], random_state=0)
    np.testing.assert_array_equal(t_syn, trait[:100])
    np.testing.assert_array_equal(G_syn, G[:100])  # traits are distinct: each copies its owner
    closest = np.argmin(np.abs(trait - 101.0))
    np.testing.assert_array_equal(est.sample(2, y=101.0, random_state=0)[0], G[[closest] * 2])
    G_mix, t_mix = est.sample(500, random_state=1)
    rows = np.searchsorted(np.sort(trait), t_mix)
    owners = np.argsort(trait)[rows]  # y=None copies individuals with their own traits
    np.testing.assert_array_equal(G_mix, G[owners])


@pytest.mark.parametrize("cls", [AlleleFrequencySampler, Copycat])
def test_trait_label_requests(cls, trait_cohort):
    G, trait, _ = trait_cohort
    est = cls().fit(G, trait)
    a, b = est.sample(30, random_state=4), est.sample(30, random_state=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert trait.min() <= a[1].min() and a[1].max() <= trait.max()
    assert est.sample(3, y=100.5, random_state=0)[1].tolist() == [100.5] * 3
    with pytest.raises(ValueError, match="outside the range seen in fit"):
        est.sample(3, y=trait.max() + 1)
    with pytest.raises(ValueError, match="constant"):
        cls().fit(G, np.full(len(G), 1.5))


def test_af_sampler_saved_without_label_type_samples_class_labels(cohort):
    """Models fitted before continuous labels existed have no ``label_type_``."""
    G, y, _, _ = cohort
    est = AlleleFrequencySampler().fit(G, y)
    expected = est.sample(20, random_state=3)
    del est.label_type_
    for a, b in zip(est.sample(20, random_state=3), expected):
        np.testing.assert_array_equal(a, b)


def test_af_sampler_reproduces_class_frequencies(cohort):
    G, y, _, _ = cohort
    est = AlleleFrequencySampler().fit(G, y)
    for c in (0, 1):
        counts = np.stack([(G[y == c] == g).mean(axis=0) for g in range(3)], axis=-1)
        np.testing.assert_allclose(est.genotype_freqs_[c], counts)
        np.testing.assert_allclose(est.allele_freqs_[c], G[y == c].mean(axis=0) / 2)
    G_syn, _ = est.sample(40000, y=1, random_state=0)
    np.testing.assert_allclose(G_syn.mean(axis=0) / 2, est.allele_freqs_[1], atol=0.015)
    np.testing.assert_allclose((G_syn == 1).mean(axis=0), est.genotype_freqs_[1, :, 1], atol=0.015)


def test_af_sampler_hwe_option_draws_hardy_weinberg_genotypes():
    G = np.r_[np.zeros(50), np.full(50, 2)][:, None].astype(int)  # no heterozygote, p = 1/2
    y = np.zeros(100, dtype=int)
    plain = AlleleFrequencySampler().fit(G, y).sample(2000, random_state=0)[0]
    hwe = AlleleFrequencySampler(hwe=True).fit(G, y).sample(2000, random_state=0)[0]
    assert (plain == 1).mean() == 0.0
    assert (hwe == 1).mean() == pytest.approx(0.5, abs=0.03)


def test_af_sampler_missing_calls_and_empty_classes():
    G = np.array([[0, -1], [2, -1], [1, 2], [1, 0]])
    est = AlleleFrequencySampler().fit(G, [0, 0, 1, 1])
    # Class 0 has no call at variant 1: pooled frequencies (one 2, one 0) are used.
    np.testing.assert_allclose(est.genotype_freqs_[0, 1], [0.5, 0.0, 0.5])
    np.testing.assert_allclose(est.genotype_freqs_[0, 0], [0.5, 0.0, 0.5])
    with pytest.raises(ValueError, match="no non-missing call"):
        AlleleFrequencySampler().fit([[0, -1], [1, -1]], [0, 1])


def test_copycat_returns_training_rows_of_the_requested_class(cohort):
    G, y, _, _ = cohort
    G_syn, y_syn = Copycat().fit(G, y).sample(y=np.r_[np.zeros(30), np.ones(30)], random_state=0)
    rows = {tuple(r): c for r, c in zip(G.tolist(), y.tolist())}
    assert all(rows[tuple(r)] == c for r, c in zip(G_syn.tolist(), y_syn.tolist()))


def test_af_sampler_save_load_round_trip(tmp_path, cohort):
    import genosynth

    G, y, _, _ = cohort
    est = AlleleFrequencySampler().fit(G, y)
    back = genosynth.load(genosynth.save(est, tmp_path / "af.genosynth"))
    np.testing.assert_array_equal(
        back.sample(20, random_state=3)[0], est.sample(20, random_state=3)[0]
    )


# --- the signatures the SPEC expects ---------------------------------------------------


def _signature(gen, cohort):
    G, y, G_hold, _ = cohort
    G_syn, _ = gen.fit(G, y).sample(y=y, random_state=0)
    res = allele_frequency_metrics(G, G_syn)
    res |= ld_metrics(G, G_syn, window=20)
    res |= identical_match_rate(G, G_hold, G_syn)
    res |= distance_attack(G, G_hold, G_syn, n_bootstrap=200, random_state=0)
    res |= adversarial_accuracy(G, G_hold, G_syn, random_state=0)
    return res


def test_af_sampler_signature(cohort):
    res = _signature(AlleleFrequencySampler(), cohort)
    assert res["af_pearson_r"] > 0.99
    assert abs(res["ld_r2_correlation"]) < 0.1
    assert res["identical_match_rate"] == 0.0
    assert res["mia_auc_ci_low"] < 0.5 < res["mia_auc_ci_high"]
    assert abs(res["mia_auc"] - 0.5) < 0.05
    # Synthetic rows lack LD, so they are easy to tell from real ones: AA well above 0.5.
    assert res["nnaa"] > 0.6


def test_copycat_signature(cohort):
    res = _signature(Copycat(), cohort)
    assert res["af_pearson_r"] > 0.99
    assert res["ld_r2_correlation"] > 0.95  # resampling with replacement adds noise
    assert res["identical_match_rate"] == 1.0
    assert res["mia_auc"] > 0.75
    assert res["mia_auc_ci_low"] > 0.7
    assert res["nnaa"] < 0.35
    assert res["privacy_loss"] > 0.1


# --- scikit-learn conventions ----------------------------------------------------------


class _Binned:
    """Test double: bins sklearn's continuous check data into genotypes 0/1/2.

    sklearn's common checks feed continuous floats; genotype estimators rightly
    refuse them. Binning at fixed cut points (NaN and inf passed through) lets
    the checks exercise fit/clone/pickle/idempotence on valid genotype data.
    """

    def fit(self, X, y):
        X = np.asarray(X) if not hasattr(X, "toarray") else X
        if isinstance(X, np.ndarray) and X.dtype.kind == "f" and X.size:
            finite = np.isfinite(X)
            X = np.where(finite, np.digitize(np.nan_to_num(X), [-0.5, 0.5]), X)
        return super().fit(X, y)


class BinnedAFSampler(_Binned, AlleleFrequencySampler):
    pass


class BinnedCopycat(_Binned, Copycat):
    pass


_SPARSE = "the dense data layer refuses sparse input, not in sklearn's words"
_EXPECTED_FAILURES = {
    "check_estimators_nan_inf": "NaN is a missing genotype call by design, not an error",
    "check_estimator_sparse_array": _SPARSE,
    "check_estimator_sparse_matrix": _SPARSE,
    "check_estimator_sparse_tag": _SPARSE,
    "check_estimators_empty_data_messages": "the data layer's own message: 'empty genotype data'",
    "check_complex_data": "refused with the data layer's TypeError, not sklearn's wording",
    "check_dtype_object": "object arrays are refused: genotypes must be numeric dosages",
}


@parametrize_with_checks(
    [BinnedAFSampler(), BinnedCopycat()],
    expected_failed_checks=lambda est: _EXPECTED_FAILURES,
)
def test_sklearn_common_checks(estimator, check):
    check(estimator)


def test_clone_and_refit_are_idempotent(cohort):
    G, y, _, _ = cohort
    est = AlleleFrequencySampler(hwe=True)
    a = clone(est).fit(G, y).sample(10, random_state=0)[0]
    b = clone(est).fit(G, y).fit(G, y).sample(10, random_state=0)[0]
    np.testing.assert_array_equal(a, b)
    assert clone(est).get_params() == {"hwe": True}

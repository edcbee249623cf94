"""The label model p(y | G) and sampling by rejection (factorised conditioning)."""

import numpy as np
import pytest

from genosynth.stats._label_model import (
    draw_labels,
    fill_by_rejection,
    fit_label_model,
    label_probabilities,
)


def _cohort(n=1500, n_snps=40, seed=0):
    rng = np.random.default_rng(seed)
    G = rng.binomial(2, 0.3, size=(n, n_snps)).astype(np.int8)
    liability = 1.2 * (G[:, 3] - 0.6) - 0.9 * (G[:, 17] - 0.6) + rng.logistic(size=n)
    return G, (liability > 0).astype(int)


def test_fit_finds_the_causal_variants_and_is_calibrated():
    G, y = _cohort()
    fitted = fit_label_model(G, y, 2, random_state=0)
    coef = fitted["coef"][0]
    assert set(np.argsort(-np.abs(coef))[:2]) == {3, 17}
    assert coef[3] > 0 > coef[17]
    assert fitted["C"] in (0.03, 0.1, 0.3)
    assert np.isfinite(fitted["cv_log_loss"]).all()
    p = label_probabilities(G, fitted["coef"], fitted["intercept"], fitted["mean"], fitted["scale"])
    assert p.shape == (len(G), 2)
    np.testing.assert_allclose(p.sum(1), 1)
    # Calibrated: the mean predicted case probability is the case fraction (within 0.02).
    assert abs(p[:, 1].mean() - y.mean()) < 0.02


def test_missing_calls_and_monomorphic_variants_add_nothing():
    G, y = _cohort()
    G[:, 5] = 0  # monomorphic
    fitted = fit_label_model(G, y, 2, random_state=0)
    assert fitted["coef"][0, 5] == 0
    row = G[:1].copy()
    row_missing = row.copy()
    row_missing[0, 3] = -1
    args = fitted["coef"], fitted["intercept"], fitted["mean"], fitted["scale"]
    at_mean = row.astype(float)
    at_mean[0, 3] = fitted["mean"][3]
    np.testing.assert_allclose(
        label_probabilities(row_missing, *args), label_probabilities(at_mean, *args)
    )


def test_probabilities_are_the_logistic_model_on_standardised_dosages():
    """The folded product equals the model written out: standardise, score, squash."""
    G, y = _cohort()
    G[::7, 2] = -1
    three = np.where(y == 1, 2, np.arange(len(y)) % 2)  # three classes: one-vs-rest
    for codes, k in ((y, 2), (three, 3)):
        fitted = fit_label_model(G, codes, k, random_state=0)
        coef, intercept, mean, scale = (fitted[n] for n in ("coef", "intercept", "mean", "scale"))
        X = (np.where(G < 0, mean, G) - mean) / scale
        score = X @ coef.T + intercept
        if k == 2:
            p1 = 1 / (1 + np.exp(-score[:, 0]))
            expected = np.column_stack([1 - p1, p1])
        else:
            expected = 1 / (1 + np.exp(-score))
            expected /= expected.sum(1, keepdims=True)
        p = label_probabilities(G, coef, intercept, mean, scale)
        np.testing.assert_allclose(p, expected, atol=1e-5)


def test_fits_repeat_under_a_seed_whatever_the_threads():
    from threadpoolctl import threadpool_limits

    G, y = _cohort(n=600)
    a = fit_label_model(G, y, 2, random_state=3)
    np.testing.assert_array_equal(a["coef"], fit_label_model(G, y, 2, random_state=3)["coef"])
    with threadpool_limits(limits=1, user_api="blas"):
        b = fit_label_model(G, y, 2, random_state=3)
    # Another thread count may sum the products in another order: float32 rounding only.
    np.testing.assert_allclose(a["coef"], b["coef"], atol=1e-4)
    np.testing.assert_allclose(a["cv_log_loss"], b["cv_log_loss"], rtol=1e-5)


def test_joint_fits_match_liblinear_one_at_a_time():
    """Each column of the joint solve is the L1 logistic optimum scikit-learn finds alone.

    liblinear penalises the intercept as a feature of value ``intercept_scaling``: a large
    scaling makes that penalty negligible, as it is absent here.
    """
    import warnings

    from sklearn.linear_model import LogisticRegression

    from genosynth.stats._l1_logistic import fit_l1_logistic

    G, y = _cohort(n=900)
    X = (G - G.mean(0)) / G.std(0)
    rows = np.random.default_rng(1).random(len(y)) < 0.6  # a fold: 60% of the rows
    grid = (0.03, 0.3)
    masks = np.column_stack([rows, np.ones_like(rows)] * len(grid)).astype(float)
    sizes = masks.sum(0)
    penalties = np.array([1 / (C * m) for C, m in zip(np.repeat(grid, 2), sizes)])
    target = np.repeat(y[:, None], masks.shape[1], 1)
    coef, intercept, _ = fit_l1_logistic(X, target, masks, penalties, tol=1e-8)
    for j, C in enumerate(np.repeat(grid, 2)):
        keep = masks[:, j] > 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = LogisticRegression(
                C=C,
                penalty="l1",
                solver="liblinear",
                intercept_scaling=1e4,
                tol=1e-10,
                max_iter=100_000,
            ).fit(X[keep], y[keep])
        np.testing.assert_allclose(coef[j], ref.coef_[0], atol=2e-5)
        np.testing.assert_allclose(intercept[j], ref.intercept_[0], atol=1e-4)
    # The weaker penalty keeps more variants, and the fold's fit differs from the full one.
    assert (coef[2] != 0).sum() > (coef[0] != 0).sum()
    assert np.abs(coef[0] - coef[1]).max() > 1e-3


def test_joint_fit_rejects_mismatched_shapes():
    from genosynth.stats._l1_logistic import fit_l1_logistic

    X = np.zeros((10, 3))
    with pytest.raises(ValueError, match="targets and weights"):
        fit_l1_logistic(X, np.zeros((10, 2)), np.ones((10, 2)), np.array([0.1]))
    with pytest.raises(ValueError, match="positive weight"):
        fit_l1_logistic(X, np.zeros((10, 1)), np.zeros((10, 1)), np.array([0.1]))


def test_several_classes_give_one_probability_row_each():
    G, y = _cohort()
    y3 = y + (G[:, 8] == 2)  # 0, 1, 2
    fitted = fit_label_model(G, y3, 3, random_state=0)
    assert fitted["coef"].shape == (3, G.shape[1])
    p = label_probabilities(G, fitted["coef"], fitted["intercept"], fitted["mean"], fitted["scale"])
    np.testing.assert_allclose(p.sum(1), 1)
    assert np.mean(p.argmax(1) == y3) > np.max(np.bincount(y3)) / len(y3)


def test_rejection_keeps_rows_distributed_as_p_g_given_c():
    """A hand-checked case: G in {0, 1} evenly, p(case | G) = 0.2 + 0.6 G.

    Then p(G = 1 | case) = 0.8 and p(G = 1 | control) = 0.2 exactly.
    """

    def propose(m, rng):
        G = rng.integers(0, 2, size=(m, 1)).astype(np.int8)
        p1 = 0.2 + 0.6 * G[:, 0]
        return G, np.column_stack([1 - p1, p1])

    requested = np.repeat([1, 0], [3000, 2000])
    out = fill_by_rejection(requested, propose, np.random.default_rng(0))
    assert out.shape == (5000, 1)
    case, control = out[requested == 1, 0].mean(), out[requested == 0, 0].mean()
    # Binomial sampling error: sd 0.0073 (cases) and 0.0089 (controls); 4 sd.
    assert abs(case - 0.8) < 0.03 and abs(control - 0.2) < 0.036


def test_rejection_is_deterministic_and_refuses_an_impossible_request():
    def propose(m, rng):
        G = rng.integers(0, 3, size=(m, 2)).astype(np.int8)
        return G, np.column_stack([np.ones(m), np.zeros(m)])  # class 1 never drawn

    a = fill_by_rejection(np.zeros(20, int), propose, np.random.default_rng(1))
    b = fill_by_rejection(np.zeros(20, int), propose, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="could not draw the requested labels"):
        fill_by_rejection(np.array([0, 1]), propose, np.random.default_rng(0))


def test_draw_labels_follows_the_probabilities():
    rng = np.random.default_rng(0)
    proba = np.tile([0.1, 0.6, 0.3], (20_000, 1))
    counts = np.bincount(draw_labels(proba, rng), minlength=3) / 20_000
    np.testing.assert_allclose(counts, [0.1, 0.6, 0.3], atol=0.015)


def test_rejection_from_real_genotypes_keeps_case_control_differences():
    """With a perfect genotype model (proposals resampled from the real cohort), the kept
    rows' case-control allele-frequency differences match the real ones within sampling
    error: the label model and the rejection step lose no signal themselves."""
    from genosynth.data._genotypes import as_genotypes
    from genosynth.datasets import simulate_case_control

    ds = simulate_case_control(
        3000,
        n_variants=300,
        n_causal=10,
        heritability=0.6,
        prevalence=0.4,
        random_state=2,
        demography="constant",
        n_chromosomes=1,
    )
    G, _ = as_genotypes(ds)
    y = ds["sample_phenotype"].values
    strong = np.argsort(np.abs(G[y == 1].mean(0) - G[y == 0].mean(0)))[-60:]
    G = G[:, np.sort(strong)]
    fitted = fit_label_model(G, y, 2, random_state=0)
    args = fitted["coef"], fitted["intercept"], fitted["mean"], fitted["scale"]

    def propose(m, rng):
        rows = G[rng.integers(0, len(G), m)]
        return rows, label_probabilities(rows, *args)

    wanted = np.repeat([0, 1], 6000)
    S = fill_by_rejection(wanted, propose, np.random.default_rng(0)) / 2
    R = G / 2
    real = R[y == 1].mean(0) - R[y == 0].mean(0)
    syn = S[wanted == 1].mean(0) - S[wanted == 0].mean(0)
    se = np.sqrt(sum(R[y == c].var(0) / (y == c).sum() for c in (0, 1)))
    # each difference within 4 of the real estimate's standard errors (which dominate)
    assert np.all(np.abs(syn - real) < 4 * se)
    assert np.corrcoef(real, syn)[0, 1] > 0.97

"""LD r², LD decay and three-point correlations."""

import numpy as np
import pandas as pd
import pytest

from genosynth.metrics import ld_matrix, ld_metrics, three_point_correlations
from genosynth.metrics.ld import nearby_pairs, pair_r2


def mosaic_cohort(n, L, rng, switch=0.05, n_founders=10):
    """Diploid genotypes whose haplotypes are founder mosaics: LD decays with distance."""
    founders = (rng.random((n_founders, L)) < rng.uniform(0.1, 0.9, L)).astype(np.int8)

    def haplotypes():
        state = rng.integers(0, n_founders, n)
        H = np.empty((n, L), dtype=np.int8)
        for j in range(L):
            jump = rng.random(n) < switch
            state = np.where(jump, rng.integers(0, n_founders, n), state)
            H[:, j] = founders[state, j]
        return H

    return haplotypes() + haplotypes()


def shuffle_columns_independently(G, rng):
    """Same per-variant genotype distribution, all dependence between variants destroyed."""
    return np.column_stack([rng.permutation(G[:, j]) for j in range(G.shape[1])])


def test_nearby_pairs_respect_window_contig_and_distance():
    contig = np.array([0, 0, 0, 0, 1, 1])
    position = np.array([10, 20, 25, 100, 5, 6])
    i, j = nearby_pairs(contig, position, window=2)
    assert list(zip(i.tolist(), j.tolist())) == [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (4, 5)]
    i, j = nearby_pairs(contig, position, window=2, max_distance=15)
    assert list(zip(i.tolist(), j.tolist())) == [(0, 1), (0, 2), (1, 2), (4, 5)]


def test_unsorted_positions_are_refused():
    variants = pd.DataFrame({"contig": ["1", "1", "1"], "position": [5, 3, 9]})
    G = np.zeros((4, 3), dtype=int)
    with pytest.raises(ValueError, match="genomic order"):
        ld_metrics(G, G, variants=variants)


def test_pair_r2_matches_corrcoef_with_mean_imputation():
    rng = np.random.default_rng(0)
    G = mosaic_cohort(200, 600, rng).astype(np.int8)
    G[rng.random(G.shape) < 0.05] = -1
    i, j = nearby_pairs(np.zeros(600, int), np.arange(600), window=7)
    X = G.astype(float)
    X[G < 0] = np.nan
    X = np.where(np.isnan(X), np.nanmean(X, axis=0), X)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.array([np.corrcoef(X[:, a], X[:, b])[0, 1] ** 2 for a, b in zip(i, j)])
    constant = np.ptp(X, axis=0) == 0
    assert constant.any()  # documented rule: r² = 0 with a constant variant
    expected[constant[i] | constant[j]] = 0.0
    np.testing.assert_allclose(pair_r2(G, i, j), expected, rtol=1e-10)


def test_constant_variants_have_zero_r2():
    G = np.array([[0, 1, 2], [0, 2, 0], [0, 0, 1]])
    assert ld_matrix(G)[0, 1] == 0.0
    assert ld_matrix(G)[0, 0] == 1.0


def test_ld_metrics_identical_versus_independent():
    rng = np.random.default_rng(1)
    real = mosaic_cohort(400, 300, rng)
    same = ld_metrics(real, real.copy(), window=20)
    assert same["ld_r2_correlation"] == pytest.approx(1.0)
    assert same["ld_r2_mae"] == 0.0
    assert same["ld_n_pairs"] == sum(min(20, 299 - k) for k in range(300))
    shuffled = ld_metrics(real, shuffle_columns_independently(real, rng), window=20)
    assert abs(shuffled["ld_r2_correlation"]) < 0.1
    assert shuffled["ld_r2_mae"] > 0.8 * shuffled["ld_r2_real"].mean()
    # LD decays with distance in the real cohort, not in the shuffled one.
    decay = shuffled["ld_decay"]
    assert decay["r2_real"].iloc[0] > 2 * decay["r2_real"].iloc[-1]
    assert decay["r2_synthetic"].max() < 0.02
    assert decay["n_pairs"].sum() == shuffled["ld_n_pairs"]


def test_ld_decay_bins_in_base_pairs_with_variants():
    rng = np.random.default_rng(2)
    G = mosaic_cohort(100, 60, rng)
    variants = pd.DataFrame({"contig": ["1"] * 60, "position": np.arange(60) * 1000})
    res = ld_metrics(G, G, variants=variants, window=10, max_distance=4500, n_bins=4)
    assert res["ld_pair_distance"].max() == 4000
    assert res["ld_n_pairs"] == sum(min(4, 59 - k) for k in range(60))
    assert res["ld_decay"]["distance_high"].iloc[-1] == 4000


def test_three_point_hand_case_and_expanded_formula():
    G = np.array([[0, 0, 0], [2, 2, 2], [2, 2, 2], [2, 2, 2]])
    res = three_point_correlations(G, G, window=2, n_triplets=1)
    assert res["three_point_real"][0] == pytest.approx(-0.75)
    rng = np.random.default_rng(3)
    G = mosaic_cohort(150, 30, rng)
    res = three_point_correlations(G, G, window=5, n_triplets=50, random_state=1)
    for (a, b, c), value in zip(res["three_point_triplets"], res["three_point_real"]):
        x, y, z = (G[:, k].astype(float) for k in (a, b, c))
        m = np.mean
        expanded = (
            m(x * y * z)
            - m(x * y) * m(z)
            - m(x * z) * m(y)
            - m(y * z) * m(x)
            + 2 * m(x) * m(y) * m(z)
        )
        assert value == pytest.approx(expanded, abs=1e-12)
        assert a < b < c <= a + 5


def test_three_point_identical_versus_independent():
    rng = np.random.default_rng(4)
    real = mosaic_cohort(400, 200, rng, switch=0.02)
    same = three_point_correlations(real, real.copy(), window=10, random_state=0)
    assert same["three_point_pearson_r"] == pytest.approx(1.0)
    indep = three_point_correlations(
        real, shuffle_columns_independently(real, rng), window=10, random_state=0
    )
    assert abs(indep["three_point_pearson_r"]) < 0.15
    assert indep["three_point_mae"] > 0.02

"""Per-variant fidelity metrics and PCA overlap: hand-computed cases and plink2 --hardy."""

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from genosynth.metrics import (
    allele_frequencies,
    allele_frequency_metrics,
    case_control_differences,
    genotype_frequency_metrics,
    hardy_weinberg_exact,
    heterozygosity_metrics,
    pca_overlap,
)


def test_allele_frequencies_skip_missing_calls():
    np.testing.assert_array_equal(
        allele_frequencies([[0, 2, -1, 1], [1, 2, -1, -1]]), [0.25, 1.0, np.nan, 0.5]
    )


def test_allele_frequency_metrics_hand_case():
    real = [[0, 1, 2, 0], [0, 1, 2, 2]]  # p = 0, 0.5, 1, 0.5
    syn = [[0, 1, 2, 1], [1, 1, 1, 1]]  # p = 0.25, 0.5, 0.75, 0.5
    res = allele_frequency_metrics(real, syn)
    assert res["af_mae"] == pytest.approx((0.25 + 0 + 0.25 + 0) / 4)
    assert res["af_max_drift"] == 0.25
    assert res["af_pearson_r"] == pytest.approx(
        stats.pearsonr([0, 0.5, 1, 0.5], [0.25, 0.5, 0.75, 0.5])[0]
    )


def test_hwe_exact_hand_case():
    # n = 3, three minor alleles: h = 1 has probability 0.6, h = 3 has 0.4.
    G = np.array([[0, 1], [1, 1], [2, 1]])
    np.testing.assert_allclose(hardy_weinberg_exact(G), [1.0, 0.4])
    assert hardy_weinberg_exact([[0], [0]])[0] == 1.0  # monomorphic
    assert np.isnan(hardy_weinberg_exact([[-1], [-1]])[0])


def test_hwe_exact_sums_an_exact_distribution():
    # Against direct enumeration with math.comb for n = 12, 9 minor alleles.
    from math import comb, factorial

    n, m = 12, 9
    probs = {}
    for h in range(1, m + 1, 2):
        hom_minor, hom_major = (m - h) // 2, n - h - (m - h) // 2
        ways = factorial(n) // (factorial(hom_major) * factorial(h) * factorial(hom_minor))
        probs[h] = ways * 2**h / comb(2 * n, m)
    assert sum(probs.values()) == pytest.approx(1.0)
    for h_obs in probs:
        hom_minor = (m - h_obs) // 2
        G = np.r_[np.zeros(n - h_obs - hom_minor), np.ones(h_obs), np.full(hom_minor, 2)]
        expected = sum(p for p in probs.values() if p <= probs[h_obs] * (1 + 1e-7))
        assert hardy_weinberg_exact(G[:, None])[0] == pytest.approx(expected)


@pytest.mark.skipif(shutil.which("plink2") is None, reason="plink2 not installed")
def test_hwe_exact_matches_plink2(tmp_path):
    from genosynth.io import to_dataset, write_plink

    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.5, 60)
    G = (rng.random((150, 60)) < p).astype(np.int8) + (rng.random((150, 60)) < p)
    # Excess homozygotes at the first 20 variants.
    hom = 2 * (rng.random((150, 20)) < p[:20])
    G[:, :20] = np.where(rng.random((150, 20)) < 0.3, hom, G[:, :20])
    G[rng.random(G.shape) < 0.02] = -1
    write_plink(to_dataset(G), tmp_path / "c")
    subprocess.run(
        [
            "plink2",
            "--bfile",
            str(tmp_path / "c"),
            "--hardy",
            "--out",
            str(tmp_path / "h"),
            "--threads",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    table = pd.read_csv(tmp_path / "h.hardy", sep="\t")
    ours = hardy_weinberg_exact(G)
    np.testing.assert_allclose(ours, table["P"].to_numpy(), rtol=1e-4, atol=1e-300)
    assert (ours < 1e-3).sum() >= 5  # the excess-homozygote variants are detected


def test_genotype_frequency_metrics_hand_case():
    real = [[0], [1], [1], [2]]  # frequencies 1/4, 1/2, 1/4: exactly HWE at p = 1/2
    syn = [[0], [0], [2], [2]]  # 1/2, 0, 1/2: no heterozygote, F = 1
    res = genotype_frequency_metrics(real, syn)
    assert res["genotype_freq_mae"] == pytest.approx((0.25 + 0.5 + 0.25) / 3)
    assert res["genotype_freq_max"] == 0.5
    assert res["hwe_f_real_mean"] == 0.0
    assert res["hwe_f_synthetic_mean"] == 1.0
    assert res["hwe_f_mae"] == 1.0


def test_hwe_rejections_flag_a_heterozygote_deficit():
    rng = np.random.default_rng(1)
    hwe = (rng.random((400, 30)) < 0.5).astype(int) + (rng.random((400, 30)) < 0.5)
    deficit = 2 * (rng.random((400, 30)) < 0.5)
    res = genotype_frequency_metrics(hwe, deficit)
    assert res["hwe_rejected_real"] == 0.0
    assert res["hwe_rejected_synthetic"] == 1.0


def test_heterozygosity_hand_case():
    real = [[1, 1, 0, 2], [0, 2, 1, -1]]  # individuals: 2/4, 1/3
    syn = [[1, 1, 1, 1], [0, 0, 0, 0]]  # 1, 0
    res = heterozygosity_metrics(real, syn)
    assert res["het_real_mean"] == pytest.approx((0.5 + 1 / 3) / 2)
    assert res["het_synthetic_mean"] == 0.5
    assert res["het_wasserstein"] == pytest.approx(stats.wasserstein_distance([0.5, 1 / 3], [1, 0]))
    # Variants: real 1/2, 1/2, 1/2, 0/1; synthetic 1/2 everywhere.
    assert res["het_variant_mae"] == pytest.approx(0.5 / 4)


def test_case_control_differences_hand_case_and_ties():
    real = [[0, 2, 1], [0, 2, 1], [2, 0, 2], [2, 0, 1]]
    syn = [[0, 2, 1], [1, 2, 1], [2, 2, 1], [2, 1, 1]]
    res = case_control_differences(real, [0, 0, 1, 1], syn, [0, 0, 1, 1])
    np.testing.assert_allclose(res["ccd_real"], [1.0, -1.0, 0.25])
    np.testing.assert_allclose(res["ccd_synthetic"], [0.75, -0.25, 0.0])
    # Signs agree on variants 0 and 1; the synthetic zero on variant 2 is a tie (1/2).
    assert res["ccd_sign_agreement"] == pytest.approx(2.5 / 3)
    assert res["ccd_mae"] == pytest.approx((0.25 + 0.75 + 0.25) / 3)


def test_case_control_needs_both_classes_and_binary_labels():
    G = [[0, 1], [1, 2]]
    with pytest.raises(ValueError, match="both cases"):
        case_control_differences(G, [1, 1], G, [0, 1])
    with pytest.raises(ValueError, match="binary labels"):
        case_control_differences(G, [0, 2], G, [0, 1])
    with pytest.raises(ValueError, match="y_synthetic has 3 entries"):
        case_control_differences(G, [0, 1], G, [0, 1, 1])


def test_pca_overlap_identical_structured_and_outside():
    rng = np.random.default_rng(2)
    p_a = rng.uniform(0.1, 0.9, 120)
    p_b = np.clip(p_a + rng.choice([-0.3, 0.3], 120), 0.02, 0.98)

    def draw(n, p):
        return (rng.random((n, p.size)) < p).astype(int) + (rng.random((n, p.size)) < p)

    real = np.vstack([draw(150, p_a), draw(150, p_b)])
    holdout = np.vstack([draw(150, p_a), draw(150, p_b)])
    same = pca_overlap(real, real.copy(), n_components=4)
    assert same["pca_wasserstein_mean"] == pytest.approx(0.0, abs=1e-12)
    assert same["pca_fraction_outside"] == 0.0
    # Only population A: inside the real range, but PC1 has lost half its mass.
    only_a = pca_overlap(real, draw(300, p_a), holdout=holdout, n_components=4)
    assert only_a["pca_wasserstein"][0] > 0.8
    assert only_a["pca_holdout_wasserstein"][0] < 0.1
    assert only_a["pca_fraction_outside"] < 0.1
    # A third population, as far from A as B but in other directions: outside.
    p_c = np.clip(p_a - (p_b - p_a), 0.02, 0.98)
    other = pca_overlap(real, draw(300, p_c), holdout=holdout, n_components=4)
    assert other["pca_fraction_outside"] > 0.9
    assert other["pca_holdout_fraction_outside"] < 0.1
    assert other["pca_synthetic"].shape == (300, 4)
    assert other["pca_explained_variance_ratio"][0] > 0.1

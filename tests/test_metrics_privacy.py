"""Privacy metrics: hand-computed cases, an independent re-implementation, plink2 KING."""

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from genosynth.metrics import (
    adversarial_accuracy,
    density_ratio_attack,
    distance_attack,
    distance_to_closest_record,
    identical_match_rate,
    king_kinship,
    nearest_neighbour_distance_ratio,
    relatives,
)


def mosaic_haplotypes(n, founders, rng, switch=0.05, error=0.01):
    """Haplotypes copied from founders with switches (a Li-Stephens-like mosaic)."""
    K, L = founders.shape
    state = rng.integers(0, K, n)
    H = np.empty((n, L), dtype=np.int8)
    for j in range(L):
        jump = rng.random(n) < switch
        state = np.where(jump, rng.integers(0, K, n), state)
        H[:, j] = founders[state, j] ^ (rng.random(n) < error)
    return H


def families(n_parents, L, rng):
    """Unrelated parents, one child per parent pair, and the parents' haplotypes."""
    founders = (rng.random((12, L)) < rng.uniform(0.1, 0.9, L)).astype(np.int8)
    h1 = mosaic_haplotypes(n_parents, founders, rng)
    h2 = mosaic_haplotypes(n_parents, founders, rng)
    parents = h1 + h2
    # Child of parents 2i and 2i+1: one whole haplotype from each (no recombination).
    child = h1[0::2] + h2[1::2]
    return parents, child, founders


# --- IMR, DCR, NNDR ---------------------------------------------------------------------


def test_identical_match_rate_hand_case():
    train = [[0, 1, 2], [2, 2, 0]]
    res = identical_match_rate(train, [[2, 2, 0], [1, 1, 1]], [[0, 1, 2], [1, 1, 2], [2, 2, 0]])
    assert res == {"identical_match_rate": 2 / 3, "identical_match_rate_holdout": 0.5}


def test_identical_match_with_missing_calls_compares_called_sites():
    res = identical_match_rate([[0, 1, 2]], [[2, 2, 2]], [[0, -1, 2], [0, 2, -1]])
    assert res["identical_match_rate"] == 0.5


def test_dcr_hand_case_and_scipy_tests():
    from scipy import stats

    train = np.array([[0, 0, 0, 0], [2, 2, 2, 2]])
    holdout = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [2, 2, 2, 1]])
    syn = np.array([[0, 0, 0, 0], [0, 0, 0, 1], [2, 2, 2, 2]])
    res = distance_to_closest_record(train, holdout, syn)
    np.testing.assert_array_equal(res["dcr_synthetic"], [0, 1, 0])
    np.testing.assert_array_equal(res["dcr_holdout"], [1, 2, 3, 1])
    assert res["dcr_synthetic_median"] == 0.0
    assert res["dcr_holdout_median"] == 1.5
    assert res["dcr_ratio"] == 0.0
    assert res["dcr_holdout_p5"] == 1.0
    # Strictly below the holdout's 5th percentile (1): the two exact copies.
    assert res["dcr_fraction_below_holdout_p5"] == pytest.approx(2 / 3)
    assert res["dcr_holdout_fraction_below_p5"] == 0.0
    ks = stats.ks_2samp([0, 1, 0], [1, 2, 3, 1])
    assert res["dcr_ks_statistic"] == pytest.approx(ks.statistic)
    assert res["dcr_ks_pvalue"] == pytest.approx(ks.pvalue)
    mw = stats.mannwhitneyu([0, 1, 0], [1, 2, 3, 1], alternative="less")
    assert res["dcr_mannwhitney_pvalue"] == pytest.approx(mw.pvalue)


def test_nndr_hand_case_and_exact_copies():
    train = [[0, 0, 0, 0], [2, 2, 2, 2], [0, 0, 0, 0]]
    res = nearest_neighbour_distance_ratio(train, [[1, 1, 1, 1]], [[0, 0, 0, 1], [0, 0, 0, 0]])
    # (0001): d1 = 1 (either zero row), d2 = 1 (the other zero row).
    np.testing.assert_allclose(res["nndr_synthetic"], [1.0, 0.0])
    np.testing.assert_allclose(res["nndr_holdout"], [1.0])
    res = nearest_neighbour_distance_ratio(train[:2], [[1, 1, 1, 1]], [[0, 0, 0, 1]])
    np.testing.assert_allclose(res["nndr_synthetic"], [1 / 7])


# --- adversarial accuracy -------------------------------------------------------------


def test_adversarial_accuracy_hand_case():
    train = [[0], [2]]
    syn = [[0], [1]]
    holdout = [[1], [1]]
    res = adversarial_accuracy(train, holdout, syn)
    # Train: t=0 -> d_TS 0 < d_TT 2 (0); t=2 -> 1 < 2 (0). Synthetic: s=0 -> 0 < 1 (0);
    # s=1 -> d_ST 1 == d_SS 1 (tie, 1/2). AA = (0 + 1/4) / 2.
    assert res["nnaa"] == 0.125
    assert (res["nnaa_real"], res["nnaa_synthetic"]) == (0.0, 0.25)
    # Holdout: h=1 -> 0 == d_HH 0 (1/2, twice); synthetic: s=0 -> 1 == 1 (1/2), s=1 -> 0 < 1.
    assert res["nnaa_holdout"] == pytest.approx(0.5 * (0.5 + 0.25))
    assert res["privacy_loss"] == pytest.approx(0.375 - 0.125)


def test_adversarial_accuracy_subsamples_to_equal_sizes_reproducibly():
    rng = np.random.default_rng(0)
    train, holdout = rng.integers(0, 3, (80, 50)), rng.integers(0, 3, (20, 50))
    syn = rng.integers(0, 3, (80, 50))
    a = adversarial_accuracy(train, holdout, syn, random_state=3)
    b = adversarial_accuracy(train, holdout, syn, random_state=3)
    assert a == b
    # Independent uniform genotypes: real and synthetic are indistinguishable.
    assert abs(a["nnaa"] - 0.5) < 0.12


# --- membership inference -------------------------------------------------------------


def test_distance_attack_hand_case_counts_ties_as_half():
    train = [[0, 0], [2, 2]]
    holdout = [[1, 1], [2, 2]]
    syn = [[0, 0]]
    res = distance_attack(train, holdout, syn, n_bootstrap=0)
    np.testing.assert_array_equal(res["mia_scores"], [0, -4, -2, -4])
    np.testing.assert_array_equal(res["membership"], [1, 1, 0, 0])
    # Pairs (member, non-member): (0,-2) 1, (0,-4) 1, (-4,-2) 0, (-4,-4) 1/2.
    assert res["mia_auc"] == 0.625
    assert res["mia_auc"] == roc_auc_score(res["membership"], res["mia_scores"])


def test_attack_bootstrap_interval_is_seeded_and_covers_the_estimate():
    rng = np.random.default_rng(1)
    train, holdout = rng.integers(0, 3, (60, 40)), rng.integers(0, 3, (60, 40))
    a = distance_attack(train, holdout, train[:30], n_bootstrap=200, random_state=0)
    b = distance_attack(train, holdout, train[:30], n_bootstrap=200, random_state=0)
    assert a["mia_auc_ci_low"] == b["mia_auc_ci_low"]
    assert a["mia_auc_ci_low"] < a["mia_auc"] < a["mia_auc_ci_high"]
    # Half the members are copied (score 0, above every non-member), half are not:
    # AUC = 1/2 * 1 + 1/2 * AUC(uncopied members vs non-members).
    s, m = a["mia_scores"], a["membership"]
    assert a["mia_auc"] == pytest.approx(0.5 + 0.5 * roc_auc_score(m[30:], s[30:]))
    assert a["mia_tpr_at_1pct_fpr"] == pytest.approx(0.5)


def test_density_ratio_attack_matches_an_independent_implementation():
    rng = np.random.default_rng(2)
    train, holdout = rng.integers(0, 3, (30, 25)), rng.integers(0, 3, (20, 25))
    syn = np.vstack([train[:10], rng.integers(0, 3, (15, 25))])
    k = 2
    res = density_ratio_attack(train, holdout, syn, n_neighbors=k, n_bootstrap=0)

    def kth(query, ref, leave_self_out=False):
        D = np.abs(query[:, None, :] - ref[None, :, :]).sum(-1).astype(float)
        if leave_self_out:
            np.fill_diagonal(D, np.inf)
        return np.sort(D, axis=1)[:, k - 1]

    r_syn = kth(np.vstack([train, holdout]), syn)
    r_ref = np.r_[kth(train, holdout), kth(holdout, holdout, leave_self_out=True)]
    expected = np.log1p(r_ref) - np.log1p(r_syn)
    np.testing.assert_allclose(res["domias_scores"], expected)
    membership = np.r_[np.ones(30), np.zeros(20)]
    assert res["domias_auc"] == pytest.approx(roc_auc_score(membership, expected))


def test_density_ratio_attack_validates_k():
    G = np.zeros((3, 2), dtype=int)
    with pytest.raises(ValueError, match="n_neighbors"):
        density_ratio_attack(G, G, G, n_neighbors=3)


# --- kinship --------------------------------------------------------------------------


def test_king_hand_case():
    a = [0, 1, 1, 2, 1, 0]
    b = [2, 1, 0, 2, 1, 1]
    # Both called everywhere. het_a = 3 (sites 1, 2, 4), het_b = 3 (1, 4, 5), het-het = 2,
    # opposite homozygotes = 1 (site 0). phi = (4 - 4 - 3 - 3 + 6) / 12 = 0.
    assert king_kinship([a], [b])[0, 0] == 0.0
    assert king_kinship([a], [a])[0, 0] == 0.5
    # A missing call drops the site from every count: site 2 gone -> het_a = 2, het-het = 2.
    c = [2, 1, -1, 2, 1, 1]
    assert king_kinship([a], [c])[0, 0] == pytest.approx((4 - 4 - 2 - 3 + 4) / 8)


def test_relatives_are_counted_by_degree():
    rng = np.random.default_rng(4)
    parents, children, _ = families(40, 1500, rng)
    holdout = families(10, 1500, np.random.default_rng(5))[0]
    phi = king_kinship(children, parents)
    # Parent-offspring pairs sit near 0.25 (first degree), unrelated pairs near 0.
    assert np.all(phi[np.arange(20), 2 * np.arange(20)] > 0.177)
    res = relatives(parents, holdout, children)
    assert res["kinship_synthetic_first_degree"] == 40
    assert res["kinship_synthetic_duplicates"] == 0
    assert res["kinship_synthetic_fraction_with_relative"] == 1.0
    assert res["kinship_holdout_duplicates"] == res["kinship_holdout_first_degree"] == 0
    assert res["kinship_holdout_fraction_with_relative"] < 0.2
    copies = relatives(parents, holdout, parents[:7])
    assert copies["kinship_synthetic_duplicates"] == 7


def test_panel_kinship_is_judged_against_the_holdout():
    """On a GWAS panel KING's cut-offs call everyone a relative; the holdout's p99 does not."""
    from genosynth import GWASSelector
    from genosynth.baselines import AlleleFrequencySampler, Copycat
    from genosynth.data._genotypes import as_genotypes
    from genosynth.datasets import simulate_case_control

    ds = simulate_case_control(1200, n_variants=3000, n_causal=30, prevalence=0.3, random_state=2)
    y = ds["sample_phenotype"].values
    train, holdout = np.arange(900), np.arange(900, 1200)
    panel = GWASSelector(n_snps=256).fit(ds.isel(samples=train), y[train])
    G = as_genotypes(ds)[0][:, panel.get_support()]
    fractions = {}
    for name, gen in (("af", AlleleFrequencySampler()), ("copycat", Copycat())):
        G_syn, _ = gen.fit(G[train], y[train]).sample(300, random_state=0)
        res = relatives(G[train], G[holdout], G_syn)
        fractions[name] = res["kinship_synthetic_fraction_above_holdout_p99"]
        if name == "af":
            # KING's classes on this panel call many of the sampler's rows relatives.
            assert res["kinship_synthetic_fraction_with_relative"] > 0.1
    assert fractions["af"] <= 0.01
    assert fractions["copycat"] == 1.0


@pytest.mark.skipif(shutil.which("plink2") is None, reason="plink2 not installed")
def test_king_matches_plink2(tmp_path):
    from genosynth.io import to_dataset, write_plink

    rng = np.random.default_rng(6)
    parents, children, _ = families(16, 400, rng)
    G = np.vstack([parents, children]).astype(np.int8)
    G[rng.random(G.shape) < 0.02] = -1
    prefix = tmp_path / "cohort"
    write_plink(to_dataset(G, sample_prefix="s"), prefix)
    subprocess.run(
        [
            "plink2",
            "--bfile",
            str(prefix),
            "--make-king-table",
            "--king-table-filter",
            "-1",
            "--out",
            str(tmp_path / "king"),
            "--threads",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    table = pd.read_csv(tmp_path / "king.kin0", sep="\t")
    ids = {f"s{i}": i for i in range(G.shape[0])}
    i = table["IID1"].map(ids).to_numpy()
    j = table["IID2"].map(ids).to_numpy()
    ours = king_kinship(G)[i, j]
    assert len(table) == G.shape[0] * (G.shape[0] - 1) // 2
    np.testing.assert_allclose(ours, table["KINSHIP"].to_numpy(), atol=2e-4)

"""Segment sharing: hand-built runs, the PBWT against brute force, and the baselines' signatures."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from genosynth.baselines import AlleleFrequencySampler, Copycat, HaplotypeMosaic
from genosynth.data._genotypes import as_genotypes
from genosynth.datasets import simulate_case_control
from genosynth.metrics import evaluate, longest_shared_segments, shared_segments
from genosynth.metrics.segments import _longest_matches


def _brute_force(reference, query, new_contig):
    """Longest run of equal, called symbols between each query row and any reference row."""
    best = np.zeros(len(query), dtype=int)
    for i, q in enumerate(query):
        same = (reference == q) & (q >= 0) & (reference >= 0)
        run = np.zeros(len(reference), dtype=int)
        for k in range(reference.shape[1]):
            run = np.where(same[:, k], np.where(new_contig[k], 0, run) + 1, 0)
            best[i] = max(best[i], run.max(initial=0))
    return best


def _phased(H, contig=None):
    n, L, _ = H.shape
    return xr.Dataset(
        {
            "call_genotype": (("variants", "samples", "ploidy"), H.transpose(1, 0, 2)),
            "call_genotype_phased": (("variants", "samples"), np.ones((L, n), bool)),
            "variant_position": ("variants", np.arange(1, L + 1) * 1000),
            "variant_contig": ("variants", np.zeros(L, int) if contig is None else contig),
        },
        attrs={"contigs": ["1", "2"]},
    )


def test_hand_built_runs():
    reference = np.array(
        [
            [0, 1, 2, 2, 1, 0, 0, 1],
            [2, 2, 2, 0, 0, 0, 1, 1],
        ]
    )
    query = np.array(
        [
            [0, 1, 2, 2, 0, 0, 1, 1],  # 4 with row 0 (sites 0-3), then 4 with row 1 (4-7)
            [0, 1, 2, 2, 1, 0, 0, 1],  # a copy of row 0: the whole panel
            [1, 0, 1, 1, 2, 1, 2, 0],  # shares nothing
            [0, 1, -1, 2, 1, 0, 0, 1],  # a missing call ends the run: 5 (sites 3-7)
        ]
    )
    np.testing.assert_array_equal(longest_shared_segments(query, reference), [4, 8, 0, 5])
    # Contigs are independent: the copy's run stops at the boundary after site 2.
    variants = pd.DataFrame({"contig": ["1"] * 3 + ["2"] * 5, "position": np.arange(8)})
    np.testing.assert_array_equal(
        longest_shared_segments(query, reference, variants=variants), [4, 5, 0, 5]
    )


def test_haplotypes_see_what_dosages_hide():
    # Both individuals are heterozygous everywhere, with the phase switched half way.
    a = np.array([[[0, 1]] * 3 + [[1, 0]] * 3], dtype=np.int8)  # (1, 6, 2)
    b = np.array([[[0, 1]] * 6], dtype=np.int8)
    assert longest_shared_segments(a[:, :, 0] + a[:, :, 1], b[:, :, 0] + b[:, :, 1])[0] == 6
    # Haplotypes: a's first carries 0 0 0 1 1 1, b's carry 0 x 6 and 1 x 6: runs of 3.
    assert longest_shared_segments(_phased(a), _phased(b), haplotypes=True)[0] == 3
    with pytest.raises(ValueError, match="phased haplotypes are needed"):
        longest_shared_segments(a.sum(axis=2), _phased(b), haplotypes=True)


def test_pbwt_equals_brute_force():
    rng = np.random.default_rng(0)
    for trial in range(200):
        n_ref, n_query, L = rng.integers(1, 25, size=3)
        symbols = rng.integers(2, 4)
        reference = rng.integers(0, symbols, (n_ref, L)).astype(np.int8)
        query = reference[rng.integers(0, n_ref, n_query)]  # copies, then mutated
        mutate = rng.random(query.shape) < rng.uniform(0, 0.5)
        query[mutate] = rng.integers(0, symbols, mutate.sum())
        if trial % 3 == 0:
            reference[rng.random(reference.shape) < 0.05] = -1
            query[rng.random(query.shape) < 0.05] = -1
        new_contig = rng.random(L) < 0.2
        new_contig[0] = True
        np.testing.assert_array_equal(
            _longest_matches(reference, query, new_contig),
            _brute_force(reference, query, new_contig),
            err_msg=f"trial {trial}",
        )


@pytest.fixture(scope="module")
def cohort():
    ds = simulate_case_control(800, n_variants=600, n_causal=10, n_chromosomes=2, random_state=1)
    order = np.random.default_rng(1).permutation(800)
    train, holdout = ds.isel(samples=np.sort(order[:600])), ds.isel(samples=np.sort(order[600:]))
    return train, holdout


def test_copycat_exceeds_and_the_af_sampler_does_not(cohort):
    train, holdout = cohort
    G, y = as_genotypes(train)[0], train["sample_phenotype"].values
    copies = Copycat().fit(G, y).sample(y=y, random_state=0)[0]
    res = shared_segments(train, holdout, copies)
    assert res["segment_synthetic_fraction_above_holdout_p99"] == 1.0
    assert res["segment_synthetic_median"] == 300  # a whole contig (300 SNPs each)
    assert res["segment_holdout_fraction_above_holdout_p99"] <= 0.01
    assert res["segment_holdout_p99"] < 300
    independent = AlleleFrequencySampler().fit(G, y).sample(y=y, random_state=0)[0]
    res = shared_segments(train, holdout, independent)
    assert res["segment_synthetic_fraction_above_holdout_p99"] == 0.0
    assert res["segment_synthetic_median"] < res["segment_holdout_median"]  # no LD, no runs
    assert "haplotype_segment_holdout_p99" not in res  # dosage arrays: no phase to compare


def test_haplotype_rows_on_phased_cohorts(cohort):
    train, holdout = cohort
    y = train["sample_phenotype"].values
    syn = HaplotypeMosaic().fit(train, y).sample_dataset(y=y, random_state=0)
    res = shared_segments(train, holdout, syn)
    assert 0 < res["haplotype_segment_holdout_median"] < 300
    # The mosaic copies haplotype segments: its longest shared haplotype runs are longer than
    # a new person's (with 1,200 training haplotypes, segments span ~25 cM), its genotype runs
    # shorter than a copy's.
    assert res["haplotype_segment_synthetic_median"] > res["haplotype_segment_holdout_median"]
    assert res["segment_synthetic_median"] < 300
    capped = HaplotypeMosaic(max_segment_snps=10).fit(train, y).sample_dataset(y=y, random_state=0)
    res_capped = shared_segments(train, holdout, capped)
    assert (
        res_capped["haplotype_segment_synthetic_median"] < res["haplotype_segment_synthetic_median"]
    )
    with pytest.raises(ValueError, match="phased haplotypes are needed"):
        shared_segments(train, holdout, as_genotypes(syn)[0], haplotypes=True)


def test_evaluate_reports_segment_sharing():
    rng = np.random.default_rng(0)
    G = rng.integers(0, 3, size=(500, 60))
    y = (G[:, :5].sum(axis=1) + rng.normal(size=500) > 5).astype(int)
    G_syn, y_syn = Copycat().fit(G[:400], y[:400]).sample(y=y[:400], random_state=0)
    frame = evaluate(G[:400], y[:400], G[400:], y[400:], G_syn, y_syn, n_bootstrap=10).to_frame()
    row = frame.loc["segment_synthetic_fraction_above_holdout_p99"]
    assert row["value"] == 1.0 and row["group"] == "Privacy" and row["headline"]
    assert row["ideal"] == frame.loc["segment_holdout_fraction_above_holdout_p99", "value"]
    assert row["target"] == "" and row["verdict"] == ""

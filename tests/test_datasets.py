"""Simulated cohorts: layout, determinism and the population genetics they promise."""

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
import sgkit
import xarray as xr
from scipy import stats
from sklearn.metrics import roc_auc_score

from genosynth.data._genotypes import as_genotypes
from genosynth.datasets import (
    SPLIT_TIME,
    load_demo,
    simulate_case_control,
    simulate_quantitative_trait,
)
from genosynth.io import read_plink, write_plink

CUSTOM_VARIABLES = {
    "sample_phenotype",
    "sample_population",
    "sample_liability",
    "variant_effect",
    "variant_causal",
}


@pytest.fixture(scope="module")
def panel():
    """A small cohort on three chromosomes, built to an exact variant count."""
    return simulate_case_control(
        300,
        n_variants=1200,
        n_chromosomes=3,
        n_causal=20,
        maf_min=0.05,
        random_state=3,
        site_fraction=1.0,
    )


@pytest.fixture(scope="module")
def unlinked():
    """200 independent 20-kb loci: chromosomes without a causal variant are exact nulls."""
    return simulate_case_control(
        1000,
        demography="constant",
        sequence_length=20_000,
        n_chromosomes=200,
        n_causal=5,
        heritability=0.5,
        prevalence=0.3,
        random_state=0,
    )


def _dosages(ds):
    G, variants = as_genotypes(ds)
    return G.astype(np.float64), variants


def _minor_allele_frequency(ds):
    # Integer allele counts: 1 - 0.9 < 0.1 in floating point.
    alt = as_genotypes(ds)[0].sum(axis=0, dtype=np.int64)
    n_haplotypes = 2 * ds.sizes["samples"]
    return np.minimum(alt, n_haplotypes - alt) / n_haplotypes


def _correlation_with(G, y):
    Gc = G - G.mean(axis=0)
    yc = y - y.mean()
    return Gc.T @ yc / np.sqrt((Gc**2).sum(axis=0) * (yc**2).sum())


def _trend_test_pvalues(G, y):
    # Cochran-Armitage trend test: n r^2 ~ chi2(1) under no association.
    chi2 = len(y) * _correlation_with(G, y) ** 2
    return chi2, stats.chi2.sf(chi2, df=1)


def test_layout_dtypes_and_sgkit_validation(panel):
    ds = panel
    assert dict(ds.sizes) == {
        "variants": 1200,
        "samples": 300,
        "ploidy": 2,
        "alleles": 2,
        "contigs": 3,
    }
    assert ds["call_genotype"].dtype == np.int8
    assert set(np.unique(ds["call_genotype"].values)) == {0, 1}
    assert not ds["call_genotype_mask"].values.any()
    assert ds["call_genotype_phased"].values.all()
    assert ds["variant_position"].dtype == np.int64
    assert ds["sample_phenotype"].dtype == np.int8
    assert ds["contig_id"].values.tolist() == ["1", "2", "3"]
    # n_variants is split evenly over the chromosomes.
    assert np.bincount(ds["variant_contig"].values).tolist() == [400, 400, 400]

    registered = [v for v in ds.data_vars if v not in CUSTOM_VARIABLES]
    sgkit.variables.validate(ds, *registered)
    assert CUSTOM_VARIABLES <= set(ds.data_vars)
    assert all("comment" in ds[v].attrs for v in CUSTOM_VARIABLES)

    variants = as_genotypes(ds)[1]
    for _, block in variants.groupby("contig"):
        assert np.all(np.diff(block["position"].to_numpy()) > 0)
    assert variants["id"].is_unique
    assert (variants["id"] == variants["contig"] + ":" + variants["position"].astype(str)).all()
    assert (variants["ref"] != variants["alt"]).all()
    assert set(variants["ref"]) | set(variants["alt"]) <= set("ACGT")

    assert _minor_allele_frequency(ds).min() >= 0.05
    assert ds.attrs["heritability"] == 0.5 and ds.attrs["prevalence"] == 0.2
    assert ds.attrs["n_causal"] == 20 and ds.attrs["random_state"] == "3"
    assert int(ds["variant_causal"].sum()) == 20
    assert np.array_equal(ds["variant_causal"].values, ds["variant_effect"].values != 0)


def test_as_genotypes_counts_the_alt_allele(panel):
    G, variants = as_genotypes(panel)
    assert G.shape == (300, 1200) and G.dtype == np.int8
    assert np.array_equal(G, panel["call_genotype"].values.sum(axis=2).T)
    assert variants["alt"].tolist() == panel["variant_allele"].values[:, 1].astype(str).tolist()


def test_alt_allele_is_derived_with_neutral_frequency_spectrum(unlinked):
    # Under the neutral coalescent a common site carries the derived allele on i of m
    # haplotypes with probability proportional to 1/i, so the share of variants whose alt
    # (= derived) allele is the minor one is a ratio of harmonic sums (0.852 here); a
    # random or ancestral alt allele would give 0.5 or 0.148. The sd over ~9,000 variants in
    # 200 independent loci is ~0.01.
    m = 2 * unlinked.sizes["samples"]
    counts = np.arange(np.ceil(0.01 * m), m - np.ceil(0.01 * m) + 1)
    expected = (1 / counts[counts < m / 2]).sum() / (1 / counts).sum()
    alt_count = as_genotypes(unlinked)[0].sum(axis=0, dtype=np.int64)
    assert np.mean(alt_count < m / 2) == pytest.approx(expected, abs=0.03)


def test_ld_decays_with_distance():
    ds = simulate_case_control(
        500,
        demography="constant",
        n_chromosomes=1,
        sequence_length=2_000_000,
        n_causal=5,
        random_state=11,
    )
    G, variants = _dosages(ds)
    Z = (G - G.mean(axis=0)) / G.std(axis=0)
    position = variants["position"].to_numpy()
    distance, r2 = [], []
    for offset in (1, 2, 5, 10, 30, 100, 300, 1000, 3000):
        distance.append(position[offset:] - position[:-offset])
        r2.append(np.mean(Z[:, offset:] * Z[:, :-offset], axis=0) ** 2)
    distance, r2 = np.concatenate(distance), np.concatenate(r2)
    edges = [0, 2_000, 20_000, 100_000, 400_000, 1_000_000, 2_000_000]
    means = [r2[(distance >= lo) & (distance < hi)].mean() for lo, hi in zip(edges, edges[1:])]
    assert all(np.diff(means) < 0), means
    adjacent = r2[: len(position) - 1].mean()
    # Beyond 1 Mb (rho = 4 N_e r d = 400) LD is gone: what remains is the 1/n of sampling noise.
    assert adjacent > 0.1
    assert means[-1] < 3 / ds.sizes["samples"]
    assert adjacent > 20 * means[-1]


def test_independent_chromosomes_are_in_linkage_equilibrium(unlinked):
    G, variants = _dosages(unlinked)
    first = np.flatnonzero(~variants["contig"].duplicated().to_numpy())
    r = np.corrcoef(G[:, first], rowvar=False)[np.triu_indices(len(first), k=1)]
    # Independent loci: n r^2 ~ chi2(1), mean 1.
    assert abs(unlinked.sizes["samples"] * np.mean(r**2) - 1) < 0.1


@pytest.mark.parametrize("prevalence", [0.01, 0.2, 0.5, 0.9])
def test_realised_prevalence_and_liability_threshold(prevalence):
    ds = simulate_case_control(
        400,
        demography="constant",
        n_chromosomes=1,
        sequence_length=200_000,
        n_causal=10,
        prevalence=prevalence,
        random_state=5,
    )
    y = ds["sample_phenotype"].values
    liability = ds["sample_liability"].values
    # The threshold is the cohort's (1 - prevalence) quantile, so round(K n) cases exactly
    # and the realised prevalence is within 1 / (2n) of the request.
    assert y.sum() == round(prevalence * 400)
    assert abs(y.mean() - prevalence) <= 1 / (2 * 400)
    assert liability[y == 1].min() > liability[y == 0].max()


def test_realised_heritability_and_effect_scale(unlinked):
    G, _ = _dosages(unlinked)
    liability = unlinked["sample_liability"].values
    effect = unlinked["variant_effect"].values
    genetic = (G - G.mean(axis=0)) @ effect
    # var(g) is exactly h2 by construction; the noise variance 1 - h2 = 0.5 estimated from
    # n = 1000 has sd ~ 0.5 sqrt(2/n) and the g-noise covariance sd ~ sqrt(0.25/n), so the
    # realised h2 = var(g) / var(L) has sd ~ 0.02: 0.06 is three of them.
    assert genetic.var() == pytest.approx(0.5, rel=1e-9)
    assert genetic.var() / liability.var() == pytest.approx(0.5, abs=0.06)
    residual = liability - genetic
    assert residual.var() == pytest.approx(0.5, abs=0.06)
    assert abs(np.corrcoef(residual, genetic)[0, 1]) < 4 / np.sqrt(1000)


def test_effects_are_per_alt_allele(unlinked):
    G, _ = _dosages(unlinked)
    liability = unlinked["sample_liability"].values
    causal = np.flatnonzero(unlinked["variant_causal"].values)
    effect = unlinked["variant_effect"].values[causal]
    # Liability is linear in the causal alt-allele dosages plus independent noise, so a joint
    # OLS fit recovers variant_effect within its standard errors.
    X = np.column_stack([np.ones(len(liability)), G[:, causal]])
    coef, *_ = np.linalg.lstsq(X, liability, rcond=None)
    resid = liability - X @ coef
    cov = resid @ resid / (len(liability) - X.shape[1]) * np.linalg.inv(X.T @ X)
    z = (coef[1:] - effect) / np.sqrt(np.diag(cov)[1:])
    assert np.all(np.abs(z) < 4), z
    # A positive effect means the alt allele raises liability, marginally too.
    strong = np.abs(effect * G[:, causal].std(axis=0)) > 0.2
    assert strong.sum() >= 2
    marginal = _correlation_with(G[:, causal[strong]], liability)
    assert np.array_equal(np.sign(marginal), np.sign(effect[strong]))


def test_causal_variants_associated_and_unlinked_nulls_uniform(unlinked):
    G, variants = _dosages(unlinked)
    y = unlinked["sample_phenotype"].values.astype(np.float64)
    chi2, pvalues = _trend_test_pvalues(G, y)
    causal = unlinked["variant_causal"].values
    contig = variants["contig"].to_numpy()
    # One variant per causal-free chromosome: independent tests of exact nulls.
    first = ~variants["contig"].duplicated().to_numpy()
    null = first & ~np.isin(contig, contig[causal])
    assert null.sum() >= 190
    assert np.median(chi2[causal]) > 10 * np.median(chi2[null])
    assert pvalues[causal].min() < 1e-10
    # Binomial(195, 0.05) has sd 0.016: 0.12 is more than four sd above the nominal rate.
    assert np.mean(pvalues[null] < 0.05) < 0.12
    assert stats.kstest(pvalues[null], "uniform").pvalue > 1e-3


def _hudson_fst(G, population):
    a, b = G[population == 0], G[population == 1]
    p1, p2 = a.mean(axis=0) / 2, b.mean(axis=0) / 2
    n1, n2 = 2 * len(a), 2 * len(b)
    num = (p1 - p2) ** 2 - p1 * (1 - p1) / (n1 - 1) - p2 * (1 - p2) / (n2 - 1)
    den = p1 * (1 - p2) + p2 * (1 - p1)
    return num.sum() / den.sum()


def test_two_populations_give_structure():
    kwargs = dict(
        demography="constant",
        sequence_length=1_000_000,
        n_chromosomes=2,
        n_causal=5,
        random_state=4,
    )
    ds = simulate_case_control(300, n_populations=2, **kwargs, site_fraction=1.0)
    population = ds["sample_population"].values
    assert np.bincount(population).tolist() == [150, 150]
    assert np.any(np.diff(population) < 0), "individuals should not be sorted by deme"
    G, _ = _dosages(ds)
    # Coalescent expectation for a split T generations ago between demes of N_e:
    # F_ST = T / (T + 2 N_e) = 2000 / 22000 = 0.091.
    expected = SPLIT_TIME / (SPLIT_TIME + 2 * 10_000)
    assert _hudson_fst(G, population) == pytest.approx(expected, abs=0.04)
    Z = (G - G.mean(axis=0)) / G.std(axis=0)
    pc1 = np.linalg.svd(Z, full_matrices=False)[0][:, 0]
    auc = roc_auc_score(population, pc1)
    assert max(auc, 1 - auc) > 0.99

    panmictic = simulate_case_control(300, n_populations=1, **kwargs, site_fraction=1.0)
    assert set(panmictic["sample_population"].values) == {0}
    halves = (np.arange(300) % 2).astype(int)
    assert abs(_hudson_fst(_dosages(panmictic)[0], halves)) < 0.01


def _share_of_haplotypes_with_an_identical_copy(ds):
    H = ds["call_genotype"].values.transpose(1, 2, 0).reshape(2 * ds.sizes["samples"], -1)
    _, which, counts = np.unique(H, axis=0, return_inverse=True, return_counts=True)
    return float(np.mean(counts[which.ravel()] > 1))


def test_recent_growth_breaks_up_whole_region_haplotype_sharing():
    kwargs = dict(
        demography="constant", n_chromosomes=1, sequence_length=300_000, n_causal=5, random_state=0
    )
    constant = simulate_case_control(600, **kwargs, site_fraction=1.0)
    grown = simulate_case_control(600, growth_factor=54, **kwargs, site_fraction=1.0)
    assert grown.attrs["growth_factor"] == 54 and constant.attrs["growth_factor"] == 1
    # 1,200 haplotypes drawn from a constant population of 20,000 coalesce within a few
    # generations, so almost every one has an exact copy over the 300 kb (measured 0.92);
    # after 54-fold growth over 204 generations recent coalescences are rare (0.67).
    assert _share_of_haplotypes_with_an_identical_copy(constant) > 0.85
    assert _share_of_haplotypes_with_an_identical_copy(grown) < 0.75
    # Common variation is set by the older, constant-size history: similar counts.
    assert grown.sizes["variants"] == pytest.approx(constant.sizes["variants"], rel=0.25)


def test_same_seed_same_cohort_different_seed_different():
    kwargs = dict(demography="constant", n_variants=150, n_causal=5, n_populations=2)
    a = simulate_case_control(60, random_state=1, **kwargs, site_fraction=1.0)
    b = simulate_case_control(60, random_state=1, **kwargs, site_fraction=1.0)
    xr.testing.assert_identical(a, b)
    c = simulate_case_control(60, random_state=2, **kwargs, site_fraction=1.0)
    assert not np.array_equal(a["call_genotype"].values, c["call_genotype"].values)
    assert not np.array_equal(a["sample_liability"].values, c["sample_liability"].values)


def test_unseeded_cohort_is_reproducible_from_its_attrs():
    a = simulate_case_control(40, n_variants=60, n_causal=3, random_state=None, site_fraction=1.0)
    b = simulate_case_control(
        40, n_variants=60, n_causal=3, random_state=int(a.attrs["random_state"]), site_fraction=1.0
    )
    xr.testing.assert_equal(a, b)


def test_generator_random_state_is_consumed():
    rng = np.random.default_rng(0)
    a = simulate_case_control(40, n_variants=60, n_causal=3, random_state=rng, site_fraction=1.0)
    b = simulate_case_control(40, n_variants=60, n_causal=3, random_state=rng, site_fraction=1.0)
    assert not np.array_equal(a["sample_liability"].values, b["sample_liability"].values)


def test_quantitative_trait_shares_genetics_and_has_requested_heritability():
    kwargs = dict(sequence_length=300_000, n_chromosomes=2, n_causal=15, heritability=0.3)
    q = simulate_quantitative_trait(800, random_state=9, **kwargs, site_fraction=1.0)
    cc = simulate_case_control(800, random_state=9, **kwargs, site_fraction=1.0)
    assert np.array_equal(q["call_genotype"].values, cc["call_genotype"].values)
    assert np.array_equal(q["variant_causal"].values, cc["variant_causal"].values)
    y = q["sample_phenotype"].values
    assert y.dtype == np.float64
    assert y.mean() == pytest.approx(0, abs=1e-12) and y.std() == pytest.approx(1, rel=1e-12)
    liability = cc["sample_liability"].values
    np.testing.assert_allclose(y, (liability - liability.mean()) / liability.std())
    assert "sample_liability" not in q and q.attrs["trait"] == "quantitative"
    # Effects are on the standardised scale: they rebuild the genetic part of y, whose share
    # of the variance is h2 up to sampling noise (sd ~ 0.03 at n = 800).
    G, _ = _dosages(q)
    genetic = (G - G.mean(axis=0)) @ q["variant_effect"].values
    assert genetic.var() == pytest.approx(0.3, abs=0.09)
    assert np.corrcoef(genetic, y)[0, 1] ** 2 == pytest.approx(0.3, abs=0.09)


def test_extreme_heritabilities():
    none = simulate_case_control(
        200, n_variants=100, n_causal=5, heritability=0, random_state=0, site_fraction=1.0
    )
    assert not none["variant_effect"].values.any()
    assert int(none["variant_causal"].sum()) == 5
    full = simulate_case_control(
        200, n_variants=100, n_causal=5, heritability=1, random_state=0, site_fraction=1.0
    )
    G, _ = _dosages(full)
    genetic = (G - G.mean(axis=0)) @ full["variant_effect"].values
    np.testing.assert_allclose(full["sample_liability"].values, genetic, atol=1e-10)


def test_sequence_length_mode_keeps_every_common_variant():
    ds = simulate_case_control(
        100, sequence_length=50_000, n_causal=2, maf_min=0.1, random_state=8, site_fraction=1.0
    )
    assert ds.attrs["sequence_length"] == [50_000] * 6
    assert ds.attrs["site_fraction"] == 1.0  # every site of a given length is kept
    positions = ds["variant_position"].values
    assert positions.min() >= 1 and positions.max() <= 50_000
    assert _minor_allele_frequency(ds).min() >= 0.1
    # Sites simulated = common ones kept + rare ones dropped: some must have been dropped.
    assert sum(ds.attrs["n_sites_simulated"]) > ds.sizes["variants"]


@pytest.mark.parametrize("seed", range(4))
def test_n_variants_is_exact(seed):
    ds = simulate_case_control(
        50, n_variants=77, n_chromosomes=2, n_causal=3, random_state=seed, site_fraction=1.0
    )
    assert ds.sizes["variants"] == 77
    assert np.bincount(ds["variant_contig"].values).tolist() == [39, 38]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"prevalence": 0.0}, "prevalence must lie in"),
        ({"prevalence": 1.0}, "prevalence must lie in"),
        ({"heritability": -0.1}, "heritability must lie in"),
        ({"heritability": 1.5}, "heritability must lie in"),
        ({"n_causal": 300}, "n_causal=300 exceeds n_variants=200"),
        ({"n_causal": 0}, "n_causal must be >= 1"),
        ({"n_samples": 0}, "n_samples must be >= 2"),
        ({"n_samples": -5}, "n_samples must be >= 2"),
        ({"n_variants": None}, "exactly one of sequence_length"),
        ({"n_variants": 0}, "n_variants must be >= 6"),
        ({"sequence_length": 10_000}, "exactly one of sequence_length"),
        ({"maf_min": 0.0}, "maf_min must lie in"),
        ({"maf_min": 0.6}, "maf_min must lie in"),
        ({"n_chromosomes": 0}, "n_chromosomes must be >= 1"),
        ({"n_chromosomes": 23}, "at most 22 chromosomes"),
        ({"mutation_rate": 0.0}, "mutation_rate must lie in"),
        ({"recombination_rate": -1e-8}, "recombination_rate must lie in"),
        ({"prevalence": 0.001}, "gives 0 cases among 100"),
        ({"demography": "OutOfAfrica_9Z99"}, "nor a stdpopsim HomSap model; known models: .*"),
        ({"populations": "YRI"}, "population 'YRI' is not in this demography; .* AFR, EUR"),
        ({"populations": []}, "populations is empty"),
        ({"populations": ["EUR", "EUR"]}, "names a population twice"),
        ({"populations": {"AFR": 60, "EUR": 30}}, "gives 90 individuals in all, but n_samples=100"),
        ({"populations": {"AFR": 100, "EUR": 0}}, r"populations\['EUR'\] must be >= 1"),
        ({"ancestry_effect": {"ASIA": 1.0}}, "'ASIA', which is not an ancestry .*: EUR"),
        ({"ancestry_effect": {"EUR": float("nan")}}, "must be a finite number"),
        ({"n_populations": 2}, "n_populations applies only to demography='constant'"),
        ({"growth_factor": 54}, "growth_factor applies only to demography='constant'"),
        ({"demography": "constant", "populations": "EUR"}, "'constant' model takes n_populations"),
        ({"demography": "constant", "n_populations": 0}, "n_populations must be >= 1"),
        ({"demography": "constant", "n_chromosomes": 300}, "n_variants must be >= 300"),
        ({"demography": "constant", "effective_population_size": 0}, "must lie in"),
        ({"demography": "constant", "growth_factor": 0.5}, "growth_factor must lie in"),
        ({"sequence_length": 300_000_000, "n_variants": None}, "HomSap chromosome 1 has"),
    ],
)
def test_bad_parameters_raise_value_error(kwargs, message):
    params = {"n_samples": 100, "n_variants": 200, **kwargs}
    with pytest.raises(ValueError, match=message):
        simulate_case_control(**params, site_fraction=1.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_samples": 10.5},
        {"n_causal": True},
        {"heritability": "0.5"},
        {"random_state": "0"},
        {"demography": 3},
        {"populations": [1]},
        {"ancestry_effect": 0.5},
    ],
)
def test_bad_parameter_types_raise_type_error(kwargs):
    with pytest.raises(TypeError):
        simulate_case_control(**{"n_samples": 100, "n_variants": 50, **kwargs}, site_fraction=1.0)


def test_n_causal_beyond_simulated_variants_raises():
    with pytest.raises(ValueError, match="exceeds the .* common variants simulated"):
        simulate_case_control(
            50, sequence_length=2_000, n_causal=40, random_state=0, site_fraction=1.0
        )


def test_plink_round_trip(panel, tmp_path):
    ds = panel.isel(samples=slice(0, 50))
    prefix = write_plink(ds, tmp_path / "cohort")
    back = read_plink(prefix)
    G, variants = as_genotypes(ds)
    G_back, variants_back = as_genotypes(back)
    np.testing.assert_array_equal(G_back, G)
    pd.testing.assert_frame_equal(variants_back, variants, check_dtype=False)
    np.testing.assert_array_equal(back["sample_phenotype"].values, ds["sample_phenotype"].values)


def test_writable_with_sgkit_plink_writer(panel, tmp_path):
    from sgkit.io.plink import read_plink as sgkit_read_plink
    from sgkit.io.plink import write_plink as sgkit_write_plink

    ds = panel.isel(variants=slice(0, 100))
    sgkit_write_plink(ds, path=str(tmp_path / "raw"))
    back = sgkit_read_plink(path=str(tmp_path / "raw"))
    np.testing.assert_array_equal(
        back["call_genotype"].values.sum(axis=2), ds["call_genotype"].values.sum(axis=2)
    )
    np.testing.assert_array_equal(back["variant_position"].values, ds["variant_position"].values)


@pytest.mark.skipif(shutil.which("plink2") is None, reason="plink2 not installed")
def test_plink2_reads_our_alt_allele_frequencies(panel, tmp_path):
    prefix = write_plink(panel, tmp_path / "cohort")
    subprocess.run(
        ["plink2", "--bfile", str(prefix), "--freq", "--out", str(tmp_path / "freq")],
        check=True,
        capture_output=True,
    )
    freq = pd.read_csv(tmp_path / "freq.afreq", sep="\t")
    G, variants = as_genotypes(panel)
    assert freq["ID"].tolist() == variants["id"].tolist()
    assert freq["ALT"].tolist() == variants["alt"].tolist()
    np.testing.assert_allclose(freq["ALT_FREQS"], G.mean(axis=0) / 2, atol=1e-6)


def test_load_demo_is_fixed_and_returns_independent_copies():
    ds = load_demo()
    assert dict(ds.sizes)["samples"] == 3000 and dict(ds.sizes)["variants"] == 4000
    assert int(ds["sample_phenotype"].sum()) == 900
    assert int(ds["variant_causal"].sum()) == 100
    assert set(ds["sample_population"].values) == {0}
    assert ds.attrs["demography"] == "OutOfAfrica_2T12" and ds.attrs["populations"] == ["EUR"]
    assert ds.attrs["n_chromosomes"] == 6
    first = ds["call_genotype"].values[0, 0, 0]
    ds["call_genotype"].values[0, 0, 0] = 1 - first
    again = load_demo()
    assert again["call_genotype"].values[0, 0, 0] == first
    assert again.attrs["random_state"] == ds.attrs["random_state"]


# --- the default cohort is a biobank: a small sample of a large, growing population ----


def test_default_is_a_growing_european_population_on_six_chromosomes():
    ds = simulate_case_control(500, n_variants=600, n_causal=5, random_state=0)
    a = ds.attrs
    assert a["demography"] == "OutOfAfrica_2T12" and a["populations"] == ["EUR"]
    assert (
        a["chromosomes"] == ["1", "2", "3", "4", "5", "6"]
        and ds["contig_id"].values.tolist() == a["chromosomes"]
    )
    # stdpopsim's rates: Tennessen et al.'s mutation rate, each chromosome's mean recombination.
    import stdpopsim

    genome = stdpopsim.get_species("HomSap").genome
    assert a["mutation_rate"] == 2.36e-8
    assert a["recombination_rate"] == [
        genome.get_chromosome(c).recombination_rate for c in "123456"
    ]
    assert "growth_factor" not in a and a["stdpopsim_version"] == stdpopsim.__version__
    assert np.bincount(ds["variant_contig"].values).tolist() == [100] * 6
    # Mutations are thinned so that each chromosome is a stretch of about 12 Mb.
    assert 0 < a["site_fraction"] < 0.2
    assert all(9e6 < length < 2e7 for length in a["sequence_length"])


def _closest_kinship(query, reference):
    from genosynth.metrics import king_kinship

    return np.nan_to_num(king_kinship(query, reference), nan=-np.inf).max(axis=1)


def _holdout_haplotypes_copied(ds, train, holdout, panel):
    """Share of holdout haplotypes identical to a training one over a chromosome's panel SNPs."""
    contig = ds["variant_contig"].values[panel]
    shares = []
    for c in np.unique(contig):
        H = ds["call_genotype"].values[panel[contig == c]]  # (snps, samples, 2)

        def haplotypes(rows, H=H):
            return H[:, rows, :].transpose(1, 2, 0).reshape(2 * len(rows), -1)

        seen = {h.tobytes() for h in haplotypes(train)}
        shares.append(np.mean([h.tobytes() in seen for h in haplotypes(holdout)]))
    return float(np.mean(shares))


@pytest.fixture(scope="module")
def biobank_and_family():
    """The default cohort and the constant-size one, same sizes, split 80/20."""
    kwargs = dict(n_variants=6000, n_causal=30, prevalence=0.3, random_state=7)
    biobank = simulate_case_control(1500, **kwargs)
    family = simulate_case_control(1500, demography="constant", n_chromosomes=6, **kwargs)
    perm = np.random.default_rng(0).permutation(1500)
    return biobank, family, perm[:1200], perm[1200:]


def test_default_cohort_holds_no_close_relatives(biobank_and_family):
    biobank, family, train, holdout = biobank_and_family
    closest = {}
    for name, ds in (("biobank", biobank), ("family", family)):
        G = as_genotypes(ds)[0]
        closest[name] = _closest_kinship(G[holdout], G[train])
    # KING-robust on all 6,000 common variants: under 1% of holdout individuals have a
    # first-degree relative in the training set, and the median one is not even a second-
    # degree relative of anyone (0.0884); the constant-size cohort is a family.
    assert np.mean(closest["biobank"] >= 0.177) < 0.01
    assert np.median(closest["biobank"]) < 0.0884
    assert np.median(closest["family"]) > 0.0884


def test_default_cohort_shares_few_whole_panel_haplotypes(biobank_and_family):
    from genosynth import GWASSelector

    shares = {}
    for name, ds in zip(("biobank", "family"), biobank_and_family[:2]):
        train, holdout = biobank_and_family[2:]
        y = ds["sample_phenotype"].values
        panel = GWASSelector(n_snps=512).fit(ds.isel(samples=train), y[train])
        shares[name] = _holdout_haplotypes_copied(
            ds, train, holdout, panel.get_support(indices=True)
        )
    # Over a 512-SNP GWAS panel (1,024 at full size), at most 20% of holdout haplotypes are
    # exact copies of a training haplotype; the constant-size cohort copies most of them.
    assert shares["biobank"] <= 0.2
    assert shares["family"] > 0.6


def test_holdout_is_a_newcomer_by_the_privacy_yardsticks(biobank_and_family):
    from genosynth.metrics import adversarial_accuracy, distance_to_closest_record

    biobank, _, train, holdout = biobank_and_family
    G = as_genotypes(biobank)[0]
    a, b = holdout[:150], holdout[150:]
    # Half the holdout plays the synthetic cohort, the other half the holdout: both are new
    # people, so a nearest-neighbour adversary is at chance and the DCR ratio is 1.
    aa = adversarial_accuracy(G[train], G[b], G[a], random_state=0)
    assert 0.45 <= aa["nnaa_real"] <= 0.55 and 0.45 <= aa["nnaa_synthetic"] <= 0.55
    dcr = distance_to_closest_record(G[train], G[b], G[a])
    assert dcr["dcr_ratio"] == pytest.approx(1.0, abs=0.05)


# --- structure: several populations, admixture, an ancestry effect ----------------------


def test_populations_by_name_and_by_count():
    even = simulate_case_control(
        90,
        demography="OutOfAfrica_3G09",
        n_variants=100,
        n_causal=3,
        random_state=1,
        site_fraction=1.0,
    )
    assert even.attrs["populations"] == ["YRI", "CEU", "CHB"]
    assert np.bincount(even["sample_population"].values).tolist() == [30, 30, 30]
    assert "sample_ancestry" not in even  # no admixture: ancestry is the population
    counted = simulate_case_control(
        90,
        demography="OutOfAfrica_3G09",
        populations={"CHB": 60, "YRI": 30},
        n_variants=100,
        n_causal=3,
        random_state=1,
        site_fraction=1.0,
    )
    assert counted.attrs["populations"] == ["CHB", "YRI"]
    assert np.bincount(counted["sample_population"].values).tolist() == [60, 30]


def test_admixed_population_ancestry_fractions():
    ds = simulate_case_control(
        400,
        demography="AmericanAdmixture_4B18",
        n_variants=800,
        n_causal=5,
        random_state=2,
        site_fraction=1.0,
    )
    assert ds.attrs["populations"] == ["AFR", "EUR", "ASIA", "ADMIX"]
    assert ds.attrs["ancestries"] == ["AFR", "EUR", "ASIA"]
    ancestry = ds["sample_ancestry"].values
    population = ds["sample_population"].values
    np.testing.assert_allclose(ancestry.sum(axis=1), 1.0)
    # Browning et al. (2018) found ADMIX from 1/6 African, 1/3 European and 1/2 Asian
    # lineages 12 generations ago; unadmixed individuals trace back to their own population.
    admixed = ancestry[population == 3]
    np.testing.assert_allclose(admixed.mean(axis=0), [1 / 6, 1 / 3, 1 / 2], atol=0.04)
    assert admixed.std(axis=0).min() > 0.05  # individuals differ
    for k in range(3):
        # Migration between the source continents since leaves a few foreign segments.
        assert ancestry[population == k, k].mean() > 0.99


def test_ancestry_effect_confounds_the_trait():
    kwargs = dict(
        demography="OutOfAfrica_3G09",
        populations=["YRI", "CEU"],
        n_variants=400,
        n_causal=10,
        heritability=0.3,
        random_state=3,
    )
    plain = simulate_case_control(600, **kwargs, site_fraction=1.0)
    shifted = simulate_case_control(600, ancestry_effect={"YRI": 1.5}, **kwargs, site_fraction=1.0)
    assert shifted.attrs["ancestry_effect"] == {"YRI": 1.5}
    # Same genetics and noise: the liabilities differ by exactly the shift of YRI members.
    np.testing.assert_array_equal(shifted["call_genotype"].values, plain["call_genotype"].values)
    yri = shifted["sample_population"].values == 0
    diff = shifted["sample_liability"].values - plain["sample_liability"].values
    np.testing.assert_allclose(diff, np.where(yri, 1.5, 0.0), atol=1e-12)
    # Cases concentrate in YRI, so ancestry-informative variants associate with the trait.
    y = shifted["sample_phenotype"].values
    assert y[yri].mean() > 2 * y[~yri].mean()
    G, _ = _dosages(shifted)
    _, p_shifted = _trend_test_pvalues(G, y.astype(float))
    _, p_plain = _trend_test_pvalues(_dosages(plain)[0], plain["sample_phenotype"].values * 1.0)
    assert np.mean(p_shifted < 1e-3) > 5 * max(np.mean(p_plain < 1e-3), 0.002)


def test_an_msprime_demography_is_used_as_given():
    import msprime

    demography = msprime.Demography.isolated_model([5_000, 20_000])
    ds = simulate_case_control(
        200,
        demography=demography,
        populations="pop_1",
        n_variants=200,
        random_state=4,
        n_causal=4,
        site_fraction=1.0,
    )
    assert ds.attrs["demography"] == "msprime.Demography" and ds.attrs["populations"] == ["pop_1"]
    assert len(demography.events) == 0  # the caller's object is not modified
    with pytest.raises(ValueError, match="population 'pop_9' is not in this demography"):
        simulate_case_control(
            20,
            demography=demography,
            populations="pop_9",
            n_variants=20,
            n_causal=2,
            site_fraction=1.0,
        )


def test_default_cohort_is_deterministic():
    kwargs = dict(demography="AmericanAdmixture_4B18", n_variants=120, n_causal=3)
    a = simulate_case_control(80, random_state=5, **kwargs, site_fraction=1.0)
    xr.testing.assert_identical(
        a, simulate_case_control(80, random_state=5, **kwargs, site_fraction=1.0)
    )
    b = simulate_case_control(80, random_state=6, **kwargs, site_fraction=1.0)
    assert not np.array_equal(a["call_genotype"].values, b["call_genotype"].values)

"""HaplotypeMosaic: the Li-Stephens model, its caps, trait conditioning and the pipeline."""

import warnings

import numpy as np
import pytest
import xarray as xr
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

import genosynth
from genosynth import GenerativePipeline, GWASSelector
from genosynth.baselines import AlleleFrequencySampler, HaplotypeMosaic
from genosynth.baselines._mosaic import watterson_theta
from genosynth.data._genotypes import as_genotypes
from genosynth.datasets import simulate_case_control
from genosynth.io import to_dataset
from genosynth.metrics import (
    allele_frequency_metrics,
    case_control_differences,
    identical_match_rate,
    ld_metrics,
)


@pytest.fixture(scope="module")
def cohort():
    """1,500 msprime individuals on six chromosomes; a 256-SNP GWAS panel of 1,200 of them."""
    ds = simulate_case_control(1500, n_variants=3000, n_causal=30, random_state=0)
    y = ds["sample_phenotype"].values
    order = np.random.default_rng(0).permutation(1500)
    train, holdout = np.sort(order[:1200]), np.sort(order[1200:])
    selector = GWASSelector(n_snps=256, output="dataset")
    panel = selector.fit_transform(ds.isel(samples=train), y[train])
    return {
        "ds": ds,
        "panel": panel,
        "panel_holdout": selector.transform(ds.isel(samples=holdout)),
        "y": y[train],
        "y_holdout": y[holdout],
        "liability": ds["sample_liability"].values[train],
        "variants": selector.selected_variants_,
    }


@pytest.fixture(scope="module")
def fitted(cohort):
    return HaplotypeMosaic().fit(cohort["panel"], cohort["y"])


def _phased(H, positions, contigs=None, genetic=None):
    """A phased Dataset from haplotypes (n, L, 2)."""
    n, L, _ = H.shape
    data = {
        "call_genotype": (("variants", "samples", "ploidy"), H.transpose(1, 0, 2).astype(np.int8)),
        "call_genotype_phased": (("variants", "samples"), np.ones((L, n), bool)),
        "variant_position": ("variants", np.asarray(positions)),
        "variant_contig": ("variants", np.zeros(L, int) if contigs is None else contigs),
    }
    if genetic is not None:
        data["variant_genetic_position"] = ("variants", np.asarray(genetic, dtype=float))
    return xr.Dataset(data, attrs={"contigs": ["1", "2", "3"]})


def _segments(donors, new_contig):
    """(length in SNPs, first SNP, last SNP) of every copied segment of donor paths (n, L, 2)."""
    n, L, _ = donors.shape
    paths = donors.transpose(0, 2, 1).reshape(-1, L)
    brk = np.ones_like(paths, dtype=bool)
    brk[:, 1:] = (paths[:, 1:] != paths[:, :-1]) | new_contig[1:]
    row, first = np.nonzero(brk)
    last = np.r_[first[1:], L]
    last[np.r_[row[1:] != row[:-1], True]] = L
    return np.c_[last - first, first, last - 1]


# --- the model ---------------------------------------------------------------------------


def test_watterson_theta_and_miscopy_rate_by_hand():
    assert watterson_theta(4) == pytest.approx(6 / 11)  # 1 / (1 + 1/2 + 1/3)
    H = np.array([[[0, 1], [1, 1]], [[1, 0], [0, 0]]])  # 2 individuals = 4 haplotypes
    est = HaplotypeMosaic().fit(_phased(H, [100, 200]), [0, 1])
    assert est.watterson_theta_ == pytest.approx(6 / 11)
    # theta / (2 (K + theta)) = (6/11) / (2 (4 + 6/11)) = (6/11) / (100/11)
    assert est.miscopy_rate_ == pytest.approx(0.06)
    with pytest.raises(ValueError, match="at least 2 haplotypes"):
        watterson_theta(1)


def test_cohort_rates_match_the_formulas(cohort, fitted):
    K = 2 * 1200
    theta = 1 / sum(1 / m for m in range(1, K))
    assert fitted.watterson_theta_ == pytest.approx(theta)
    assert fitted.miscopy_rate_ == pytest.approx(theta / (2 * (K + theta)))
    variants = cohort["variants"]
    cm = variants["position"].to_numpy() * 1.0 / 1e6  # recombination_rate=1 cM/Mb
    np.testing.assert_allclose(fitted.genetic_position_, cm)
    first = np.r_[True, variants["contig"].to_numpy()[1:] != variants["contig"].to_numpy()[:-1]]
    expected = 1 - np.exp(-4 * 10_000 * np.diff(cm, prepend=0) / 100 / K)
    expected[first] = 1.0
    np.testing.assert_allclose(fitted.switch_probability_, expected)
    assert first.sum() == 6 and np.all(fitted.switch_probability_[first] == 1.0)


def test_genetic_positions_are_used_when_given():
    rng = np.random.default_rng(0)
    H = rng.integers(0, 2, (50, 4, 2))
    ds = _phased(H, [10, 20, 30, 40], contigs=np.array([0, 0, 1, 1]), genetic=[0, 1.0, 5.0, 5.5])
    est = HaplotypeMosaic(effective_population_size=25).fit(ds, rng.integers(0, 2, 50))
    # 4 N_e / K = 1 switch per Morgan; the gap across the contigs is infinite
    np.testing.assert_allclose(
        est.switch_probability_, [1, 1 - np.exp(-0.01), 1, 1 - np.exp(-0.005)]
    )
    with pytest.raises(ValueError, match="genomic order"):
        HaplotypeMosaic().fit(_phased(H, [10, 20, 15, 40]), rng.integers(0, 2, 50))


def test_switches_and_miscopies_happen_at_the_model_rates(cohort, fitted):
    # One pool for everyone: a donor change happens with probability p (1 - 1/pool).
    H, y, donors = fitted.sample_haplotypes(3000, y=0, random_state=0, return_donors=True)
    pool = np.diff(fitted.donor_offsets_)[0]
    p = fitted.switch_probability_[1:][fitted.switch_probability_[1:] < 1]
    changes = donors[:, 1:] != donors[:, :-1]
    inside = fitted.switch_probability_[1:] < 1
    expected = 2 * 3000 * p.sum() * (1 - 1 / pool)
    observed = changes[:, inside].sum()
    assert observed == pytest.approx(expected, rel=0.02)  # ~25,000 events: sd 0.6%
    # Every copied allele is the donor's unless miscopied, at miscopy_rate_.
    L = fitted.n_features_in_
    copied = fitted.haplotypes_[donors, np.arange(L)[None, :, None]]
    flips, expected = np.sum(H != copied), H.size * fitted.miscopy_rate_  # about 38
    assert abs(flips - expected) < 4 * np.sqrt(expected)
    high = HaplotypeMosaic(miscopy_rate=0.01).fit(cohort["panel"], cohort["y"])
    H, _, donors = high.sample_haplotypes(2000, random_state=0, return_donors=True)
    assert np.mean(H != high.haplotypes_[donors, np.arange(L)[None, :, None]]) == pytest.approx(
        0.01, rel=0.03
    )


# --- fidelity and privacy on the panel --------------------------------------------------


def test_mosaic_keeps_ld_frequencies_and_the_case_control_signal(cohort, fitted):
    G_tr = as_genotypes(cohort["panel"])[0]
    G_ho = as_genotypes(cohort["panel_holdout"])[0]
    y = cohort["y"]
    G_syn, y_syn = fitted.sample(y=y, random_state=1)
    G_af, y_af = AlleleFrequencySampler().fit(G_tr, y).sample(y=y, random_state=1)
    ld = ld_metrics(G_tr, G_syn, variants=cohort["variants"])
    ld_af = ld_metrics(G_tr, G_af, variants=cohort["variants"])
    assert ld["ld_r2_correlation"] > 0.99 and ld_af["ld_r2_correlation"] < 0.1  # 0.998 / 0.01
    # mean nearby-pair r2 within the SPEC's 5% of the real one (0.993 measured)
    assert ld["ld_r2_synthetic"].mean() == pytest.approx(ld["ld_r2_real"].mean(), rel=0.05)
    assert allele_frequency_metrics(G_tr, G_syn)["af_pearson_r"] > 0.999
    assert identical_match_rate(G_tr, G_ho, G_syn)["identical_match_rate"] == 0.0
    ccd = case_control_differences(G_tr, y, G_syn, y_syn)["ccd_pearson_r"]
    ccd_af = case_control_differences(G_tr, y, G_af, y_af)["ccd_pearson_r"]
    assert ccd > 0.9 and ccd > ccd_af - 0.03  # 0.94 vs the AF sampler's 0.93


def test_donors_come_from_the_requested_class(cohort, fitted):
    _, y_syn, donors = fitted.sample_haplotypes(400, random_state=2, return_donors=True)
    assert set(np.unique(y_syn)) == {0, 1}
    np.testing.assert_array_equal(
        cohort["y"][donors // 2], np.broadcast_to(y_syn[:, None, None], donors.shape)
    )


@pytest.mark.parametrize(
    "params",
    [
        {"max_segment_snps": 4},
        {"max_segment_cm": 0.5},
        {"max_donor_fraction": 0.03},
        {"max_segment_snps": 2, "max_donor_fraction": 0.01, "effective_population_size": 100},
    ],
)
def test_privacy_caps_hold_exactly(cohort, params):
    est = HaplotypeMosaic(**params).fit(cohort["panel"], cohort["y"])
    _, _, donors = est.sample_haplotypes(300, random_state=0, return_donors=True)
    new_contig = est.switch_probability_ >= 1
    seg = _segments(donors, new_contig)
    L = est.n_features_in_
    share = np.array([np.bincount(d.ravel() // 2).max() for d in donors]) / (2 * L)
    if "max_segment_snps" in params:
        assert seg[:, 0].max() == params["max_segment_snps"]  # reached, never exceeded
    if "max_segment_cm" in params:
        span = est.genetic_position_[seg[:, 2]] - est.genetic_position_[seg[:, 1]]
        assert span.max() <= params["max_segment_cm"] < span.max() + 0.05
    if "max_donor_fraction" in params:
        cap = np.floor(params["max_donor_fraction"] * 2 * L) / (2 * L)
        assert share.max() == pytest.approx(cap)
    uncapped = HaplotypeMosaic().fit(cohort["panel"], cohort["y"])
    _, _, free = uncapped.sample_haplotypes(300, random_state=0, return_donors=True)
    assert _segments(free, new_contig)[:, 0].max() > 4  # the caps bind: without them, 60+


def test_a_donor_cap_too_small_for_the_pool_is_refused(cohort):
    # 2 alleles per donor: the ~240 training cases cannot fill a case's 512 alleles.
    with pytest.raises(ValueError, match="max_donor_fraction=0.004 is too small"):
        HaplotypeMosaic(max_donor_fraction=0.004).fit(cohort["panel"], cohort["y"])
    with pytest.raises(ValueError, match="allows no allele at all"):
        HaplotypeMosaic(max_donor_fraction=0.001).fit(cohort["panel"], cohort["y"])


# --- traits -------------------------------------------------------------------------------


def test_quantitative_trait_donors_are_the_nearest_in_trait(cohort):
    t = cohort["liability"]
    est = HaplotypeMosaic().fit(cohort["panel"], t)
    assert est.label_type_ == "continuous"
    wanted = np.quantile(t, [0.0, 0.3, 0.5, 0.9, 1.0])
    _, y_out, donors = est.sample_haplotypes(y=wanted, random_state=0, return_donors=True)
    np.testing.assert_array_equal(y_out, wanted)
    window = int(np.ceil(0.05 * t.size))
    ranks = np.argsort(np.argsort(t))
    for value, d in zip(wanted, donors):
        got = np.unique(ranks[d.ravel() // 2])
        centre = np.clip(np.searchsorted(np.sort(t), value) - window // 2, 0, t.size - window)
        assert got.min() >= centre and got.max() < centre + window
    # The trait's per-SNP slopes survive (0.95-0.97 of the real ones with the default
    # window; the AF sampler, which fits them directly, 0.97-1.01), on 4x the cohort.
    G = as_genotypes(cohort["panel"])[0].astype(float)
    G_syn, t_syn = est.sample(y=np.tile(t, 4), random_state=1)

    def slopes(G, y):
        Gc = G - G.mean(0)
        return Gc.T @ (y - y.mean()) / (Gc**2).sum(0)

    real, syn = slopes(G, t), slopes(G_syn.astype(float), t_syn)
    assert (syn @ real) / (real @ real) == pytest.approx(1.0, abs=0.1)
    assert np.corrcoef(syn, real)[0, 1] > 0.95
    with pytest.raises(ValueError, match="outside the range seen in fit"):
        est.sample(2, y=t.max() + 1.0)


# --- the sampling contract ------------------------------------------------------------------


def test_same_seed_same_cohort_and_the_global_rng_is_untouched(fitted):
    state = np.random.get_state()[1].copy()  # noqa: NPY002 - the global state is the point
    a = fitted.sample_haplotypes(100, random_state=7)
    b = fitted.sample_haplotypes(100, random_state=7)
    c = fitted.sample_haplotypes(100, random_state=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    G, _ = fitted.sample(100, random_state=7)
    np.testing.assert_array_equal(G, a[0].sum(axis=2))
    fitted.sample(50)  # random_state=None: fresh entropy, not numpy's global state
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    assert fitted.sample(7, y=1, random_state=0)[1].tolist() == [1] * 7
    with pytest.raises(ValueError, match="not seen in fit"):
        fitted.sample(3, y=2)


def test_sample_dataset_is_phased_with_the_panel_metadata(cohort, fitted):
    ds = fitted.sample_dataset(20, random_state=3)
    H, y = fitted.sample_haplotypes(20, random_state=3)
    assert bool(ds["call_genotype_phased"].all())
    np.testing.assert_array_equal(ds["call_genotype"].values, H.transpose(1, 0, 2))
    np.testing.assert_array_equal(ds["sample_phenotype"].values, y)
    np.testing.assert_array_equal(
        ds["variant_id"].values.astype(str), cohort["variants"]["id"].to_numpy(dtype=str)
    )
    # The synthetic cohort is itself valid input: phase kept end to end.
    assert HaplotypeMosaic().fit(ds, y).n_features_in_ == 256


def test_unphased_or_incomplete_input_is_refused(cohort):
    G = as_genotypes(cohort["panel"])[0]
    y = cohort["y"]
    with pytest.raises(ValueError, match="lost the phase.*output='dataset'"):
        HaplotypeMosaic().fit(G, y)
    with pytest.raises(ValueError, match="no 'call_genotype_phased'"):
        HaplotypeMosaic().fit(to_dataset(G, y=y), y)
    partly = cohort["panel"].copy()
    phased = np.ones(partly["call_genotype_phased"].shape, bool)
    phased[3, 5] = False
    partly["call_genotype_phased"] = (("variants", "samples"), phased)
    with pytest.raises(ValueError, match="1 of .* calls are not phased.*does not phase"):
        HaplotypeMosaic().fit(partly, y)
    holes = cohort["panel"].copy(deep=True)
    gt = holes["call_genotype"].values.copy()
    gt[0, 0, 1] = -1
    holes["call_genotype"] = (("variants", "samples", "ploidy"), gt)
    with pytest.raises(ValueError, match="1 missing alleles; impute"):
        HaplotypeMosaic().fit(holes, y)


# --- pipeline, persistence, sklearn conventions ---------------------------------------------------


def test_pipeline_after_the_selector_and_the_default_output_unchanged(cohort):
    ds, y = cohort["ds"], cohort["ds"]["sample_phenotype"].values
    sub = ds.isel(samples=slice(0, 600))
    pipe = GenerativePipeline(
        [("gwas", GWASSelector(n_snps=64, output="dataset")), ("mosaic", HaplotypeMosaic())]
    ).fit(sub, y[:600])
    G, y_syn = pipe.sample(50, random_state=0)
    assert G.shape == (50, 64) and G.dtype == np.int8
    syn = pipe.sample_dataset(5, random_state=0)
    np.testing.assert_array_equal(
        syn["variant_id"].values.astype(str), pipe["gwas"].selected_variants_["id"].to_numpy(str)
    )
    # The default selector still hands on dosages, the same whatever output is asked for.
    default = GWASSelector(n_snps=64).fit(sub, y[:600])
    dosages = default.transform(sub)
    assert isinstance(dosages, np.ndarray) and dosages.dtype == np.int8
    np.testing.assert_array_equal(dosages, as_genotypes(pipe["gwas"].transform(sub))[0])
    np.testing.assert_array_equal(dosages, GWASSelector(n_snps=64).fit_transform(sub, y[:600]))
    with pytest.raises(ValueError, match="output='dataset'"):
        GenerativePipeline([("gwas", GWASSelector(n_snps=64)), ("m", HaplotypeMosaic())]).fit(
            sub, y[:600]
        )
    with pytest.raises(ValueError, match="needs? .*Dataset|hands on the panel of an sgkit"):
        GWASSelector(n_snps=4, output="dataset").fit_transform(dosages, y[:600])


@pytest.mark.parametrize("params", [{}, {"max_segment_snps": 5, "max_donor_fraction": 0.05}])
def test_save_load_samples_identically_and_warns(tmp_path, cohort, params):
    est = HaplotypeMosaic(**params).fit(cohort["panel"], cohort["y"])
    with pytest.warns(UserWarning, match="holds the training haplotypes"):
        path = genosynth.save(est, tmp_path / "mosaic.genosynth")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = genosynth.load(path)
    assert back.get_params() == est.get_params()
    for a, b in zip(
        back.sample_haplotypes(200, random_state=5), est.sample_haplotypes(200, random_state=5)
    ):
        np.testing.assert_array_equal(a, b)
    trait = HaplotypeMosaic().fit(cohort["panel"], cohort["liability"])
    with pytest.warns(UserWarning):
        back = genosynth.load(genosynth.save(trait, tmp_path / "trait.genosynth"))
    np.testing.assert_array_equal(
        back.sample(30, random_state=1)[1], trait.sample(30, random_state=1)[1]
    )


def test_sklearn_conventions(cohort):
    est = HaplotypeMosaic(effective_population_size=5000, max_segment_cm=2.0)
    assert clone(est).get_params() == est.get_params()
    assert "max_segment_cm=2.0" in repr(est)
    a = clone(est).fit(cohort["panel"], cohort["y"]).sample(20, random_state=0)[0]
    b = clone(est).fit(cohort["panel"], cohort["y"]).fit(cohort["panel"], cohort["y"])
    np.testing.assert_array_equal(a, b.sample(20, random_state=0)[0])
    for bad in (
        {"effective_population_size": 0},
        {"miscopy_rate": 0.7},
        {"max_segment_snps": 0},
        {"max_donor_fraction": 1.5},
        {"trait_window": 0},
    ):
        with pytest.raises(InvalidParameterError):
            HaplotypeMosaic(**bad).fit(cohort["panel"], cohort["y"])
    with pytest.raises(InvalidParameterError):
        GWASSelector(output="haplotypes").fit(cohort["panel"], cohort["y"])


def test_caps_act_when_sampling(cohort):
    est = HaplotypeMosaic().fit(cohort["panel"], cohort["y"])
    est.set_params(max_segment_snps=3)  # no refit: the caps are read by sample
    _, _, donors = est.sample_haplotypes(100, random_state=0, return_donors=True)
    assert _segments(donors, est.switch_probability_ >= 1)[:, 0].max() == 3
    with pytest.raises(ValueError, match="too small"):
        est.set_params(max_donor_fraction=0.004).sample(5)

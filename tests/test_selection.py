"""GWASSelector: panel choice, QC, clumping (vs plink1.9), plink2 ranking, sklearn contract."""

import shutil
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from _sklearn_checks import DATA_LAYER_FAILURES, bin_to_genotypes
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from genosynth.association import association_scan
from genosynth.data._genotypes import as_genotypes
from genosynth.datasets import simulate_case_control, simulate_quantitative_trait
from genosynth.io import write_plink
from genosynth.persistence import load, save
from genosynth.selection import GWASSelector
from genosynth.stats._clumping import GreedyClumper, haplotype_r2

PLINK2 = shutil.which("plink2")
PLINK19 = shutil.which("plink1.9") or shutil.which("plink")


@pytest.fixture(scope="module")
def cohort():
    ds = simulate_case_control(
        800,
        n_variants=600,
        n_causal=20,
        heritability=0.6,
        prevalence=0.3,
        random_state=5,
        demography="constant",
        n_chromosomes=1,
    )
    return ds, ds["sample_phenotype"].values


# --- which variants are chosen -------------------------------------------------------


def test_selects_best_p_values_in_genomic_order(cohort):
    ds, y = cohort
    sel = GWASSelector(n_snps=40).fit(ds, y)
    idx = sel.get_support(indices=True)
    assert idx.size == 40 and np.all(np.diff(idx) > 0)
    scan = association_scan(ds, y)
    qc = (scan["maf"] >= 0.01) & (scan["missing_rate"] <= 0.05)
    ranked = scan[qc].sort_values("p", kind="stable").index[:40]
    assert set(idx) == set(ranked)
    assert np.allclose(sel.pvalues_, scan["p"], equal_nan=True)
    assert np.allclose(sel.scores_[idx], -np.log10(scan["p"][idx]))
    assert sel.get_feature_names_out().tolist() == scan["id"][idx].tolist()
    assert sel.selected_variants_["id"].tolist() == scan["id"][idx].tolist()
    assert list(sel.results_.columns) == [
        *("id", "contig", "position", "ref", "alt", "maf", "beta", "se", "stat", "p"),
        *("test", "selected"),
    ]
    assert sel.results_["selected"].sum() == 40 and sel.test_ == "logistic"
    # Most causal variants with a strong signal make it into the panel.
    assert ds["variant_causal"].values[idx].sum() >= 3


def test_ties_break_towards_the_earlier_variant():
    rng = np.random.default_rng(0)
    g = rng.binomial(2, 0.4, 300)
    y = (rng.random(300) < 0.2 + 0.2 * g).astype(int)
    noise = rng.binomial(2, 0.4, (300, 3))
    X = np.column_stack([noise[:, 0], g, noise[:, 1], g, g, noise[:, 2]])
    sel = GWASSelector(n_snps=2, maf_min=0).fit(X, y)
    assert sel.get_support(indices=True).tolist() == [1, 3]
    assert GWASSelector(n_snps=2, maf_min=0).fit(X, y).get_support(indices=True).tolist() == [1, 3]


def test_quantitative_trait_uses_ols():
    ds = simulate_quantitative_trait(
        400, n_variants=200, n_causal=10, random_state=2, demography="constant", n_chromosomes=1
    )
    y = ds["sample_phenotype"].values
    sel = GWASSelector(n_snps=10).fit(ds, y)
    assert sel.test_ == "linear" and set(sel.results_["test"]) == {"ols"}
    ref = association_scan(ds, y)
    assert np.allclose(sel.betas_, ref["beta"], equal_nan=True)


def test_covariates_refine_score_ranked_candidates(cohort):
    ds, y = cohort
    rng = np.random.default_rng(0)
    pcs = rng.normal(size=(ds.sizes["samples"], 2))
    ds = ds.assign(sample_pcs=(("samples", "pcs"), pcs))
    by_name = GWASSelector(n_snps=20).fit(ds, y, covariates=["sample_pcs"])
    by_array = GWASSelector(n_snps=20).fit(ds, y, covariates=pcs)
    assert np.array_equal(by_name.get_support(), by_array.get_support())
    tests = by_name.results_["test"]
    assert (tests == "wald").sum() == 80 and (tests == "score").sum() > 0  # 4 x n_snps refit
    assert (tests[by_name.get_support()] == "wald").all()
    full = association_scan(ds, y, pcs)  # Wald for every variant
    assert np.allclose(by_name.pvalues_[tests == "wald"], full["p"][tests == "wald"])
    top = full["p"].to_numpy().argsort(kind="stable")[:20]
    assert set(top) == set(by_name.get_support(indices=True))


# --- QC ------------------------------------------------------------------------------


def test_qc_filters_maf_missingness_and_monomorphic():
    rng = np.random.default_rng(1)
    n = 500
    y = np.r_[np.zeros(300), np.ones(200)].astype(int)
    strong = np.where(y == 1, 2, rng.binomial(2, 0.2, n))  # huge effect, common
    rare = (np.arange(n) >= n - 3).astype(int)  # MAF 0.003, only in (the last) cases
    holey = strong.astype(float).copy()
    holey[rng.random(n) < 0.2] = np.nan  # 20% missing
    mono = np.full(n, 2)
    X = np.column_stack([rng.binomial(2, 0.3, (n, 4)), rare, holey, mono, strong])
    sel = GWASSelector(n_snps=5).fit(X, y)
    chosen = set(sel.get_support(indices=True))
    assert chosen == {0, 1, 2, 3, 7}
    assert not sel.qc_pass_[[4, 5, 6]].any()
    loose = GWASSelector(n_snps=7, maf_min=0, max_missing=0.5).fit(X, y)
    assert set(loose.get_support(indices=True)) == {0, 1, 2, 3, 4, 5, 7}  # never the monomorphic


def test_hwe_filter_uses_controls_only():
    rng = np.random.default_rng(2)
    n_ctrl, n_case = 600, 400
    y = np.r_[np.zeros(n_ctrl), np.ones(n_case)].astype(int)
    # Out of HWE in controls (no heterozygotes at all).
    bad_ctrl = np.r_[rng.choice([0, 2], n_ctrl), rng.binomial(2, 0.5, n_case)]
    # In HWE in controls, far from it in cases (all homozygous alt): an association.
    bad_case = np.r_[rng.binomial(2, 0.3, n_ctrl), np.full(n_case, 2)]
    X = np.column_stack([rng.binomial(2, 0.3, (n_ctrl + n_case, 3)), bad_ctrl, bad_case])
    with_hwe = GWASSelector(n_snps=4, hwe_p_min=1e-6).fit(X, y)
    assert with_hwe.qc_pass_.tolist() == [True, True, True, False, True]
    assert 4 in with_hwe.get_support(indices=True)
    assert GWASSelector(n_snps=5).fit(X, y).qc_pass_.all()


def test_too_many_snps_names_the_counts(cohort):
    ds, y = cohort
    with pytest.raises(ValueError, match=r"n_snps=5000 but only \d+ of 600 variants pass QC"):
        GWASSelector(n_snps=5000).fit(ds, y)


def test_p_threshold_shrinks_the_panel_with_a_warning(cohort):
    ds, y = cohort
    with pytest.warns(UserWarning, match="only .* variants qualify"):
        sel = GWASSelector(n_snps=100, p_threshold=1e-8).fit(ds, y)
    assert 0 < sel.get_support().sum() < 100
    assert (sel.pvalues_[sel.get_support()] <= 1e-8).all()


@pytest.mark.parametrize(
    ("y", "cov", "error", "match"),
    [
        (np.zeros(50), None, ValueError, "single value"),
        (np.r_[np.zeros(20), np.ones(20)], None, ValueError, "40 entries"),
        (np.r_[np.zeros(25), np.ones(25)], np.full((50, 2), np.nan), ValueError, "NaN"),
        (np.r_[np.zeros(25), np.ones(25)], np.ones((50, 1)), ValueError, "collinear"),
        (np.r_[np.zeros(25), np.ones(25)], ["sample_pcs"], TypeError, "Dataset"),
    ],
)
def test_bad_inputs(y, cov, error, match):
    X = np.random.default_rng(0).integers(0, 3, (50, 8))
    with pytest.raises(error, match=match):
        GWASSelector(n_snps=2).fit(X, y, covariates=cov)


def test_unknown_covariate_name(cohort):
    ds, y = cohort
    with pytest.raises(ValueError, match="'sample_age' is not a variable"):
        GWASSelector(n_snps=2).fit(ds, y, covariates=["sample_age"])


def test_invalid_parameters_are_rejected(cohort):
    ds, y = cohort
    for params in ({"n_snps": 0}, {"test": "chi2"}, {"clump_r2": 1.5}, {"maf_min": 0.6}):
        with pytest.raises(ValueError, match="parameter"):
            GWASSelector(**params).fit(ds, y)


# --- transform and inverse_transform ------------------------------------------------


def test_transform_variants_of_dataset_array_and_lazy(cohort):
    ds, y = cohort
    sel = GWASSelector(n_snps=16).fit(ds, y)
    G, _ = as_genotypes(ds)
    idx = sel.get_support(indices=True)
    panel = sel.transform(ds)
    assert panel.dtype == np.int8 and np.array_equal(panel, G[:, idx])
    assert np.array_equal(sel.transform(G), panel)
    assert np.array_equal(sel.transform(ds.chunk({"variants": 100})), panel)
    assert np.array_equal(sel.fit_transform(ds, y), panel)
    with pytest.raises(ValueError, match="599 features, but GWASSelector is expecting 600"):
        sel.transform(G[:, 1:])
    shuffled = ds.assign(variant_id=("variants", ds["variant_id"].values[::-1]))
    with pytest.raises(ValueError, match="ids of the selected variants differ"):
        sel.transform(shuffled)


def test_inverse_transform_marks_unselected_missing(cohort):
    ds, y = cohort
    sel = GWASSelector(n_snps=16).fit(ds, y)
    panel = sel.transform(ds)
    full = sel.inverse_transform(panel)
    assert full.shape == (ds.sizes["samples"], 600) and full.dtype == np.int8
    assert np.array_equal(full[:, sel.get_support()], panel)
    assert (full[:, ~sel.get_support()] == -1).all()
    with pytest.raises(ValueError, match="16 selected variants"):
        sel.inverse_transform(panel[:, :3])


def test_pipeline_routes_covariates(cohort):
    ds, y = cohort
    pcs = np.random.default_rng(0).normal(size=(ds.sizes["samples"], 2))
    expected = GWASSelector(n_snps=8).fit(ds, y, covariates=pcs).get_support()
    pipe = Pipeline([("gwas", GWASSelector(n_snps=8)), ("noop", "passthrough")])
    pipe.fit(ds, y, gwas__covariates=pcs)
    assert np.array_equal(pipe["gwas"].get_support(), expected)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = Pipeline([("gwas", GWASSelector(n_snps=8).set_fit_request(covariates=True))])
        routed.fit(ds, y, covariates=pcs)
        assert np.array_equal(routed["gwas"].get_support(), expected)


def test_save_load_round_trip(cohort, tmp_path):
    ds, y = cohort
    sel = GWASSelector(n_snps=12, clump=True).fit(ds, y)
    back = load(save(sel, tmp_path / "gwas.genosynth"))
    pd.testing.assert_frame_equal(back.results_, sel.results_, check_dtype=False)
    pd.testing.assert_frame_equal(
        back.selected_variants_, sel.selected_variants_, check_dtype=False
    )
    for name in ("pvalues_", "scores_", "betas_", "stderr_", "n_obs_", "maf_", "qc_pass_"):
        assert np.array_equal(getattr(back, name), getattr(sel, name), equal_nan=True)
    assert back.test_ == sel.test_ and back.n_features_in_ == 600
    assert np.array_equal(back.transform(ds), sel.transform(ds))
    assert back.get_params() == sel.get_params()


# --- LD clumping ---------------------------------------------------------------------


def test_clumped_panel_has_no_close_pair_in_ld(cohort):
    ds, y = cohort
    sel = GWASSelector(n_snps=30, clump=True, clump_r2=0.2, clump_kb=100).fit(ds, y)
    panel = sel.transform(ds)
    pos = sel.selected_variants_["position"].to_numpy()
    for j in range(panel.shape[1]):
        near = np.flatnonzero((np.abs(pos - pos[j]) <= 100_000) & (np.arange(len(pos)) != j))
        if near.size:
            assert np.all(haplotype_r2(panel[:, j], panel[:, near]) < 0.2)


def test_clumping_refills_beyond_the_candidate_buffer():
    """When clumping discards most candidates, later variants are streamed in again."""
    rng = np.random.default_rng(4)
    n = 400
    y = (rng.random(n) < 0.3).astype(int)
    signal = np.where(y == 1, rng.binomial(2, 0.6, n), rng.binomial(2, 0.3, n))
    # 30 exact copies of one signal (one clump), then 40 independent weaker variants.
    X = np.column_stack([np.tile(signal[:, None], 30), rng.binomial(2, 0.4, (n, 40))])
    sel = GWASSelector(n_snps=5, clump=True, maf_min=0).fit(X, y)
    idx = sel.get_support(indices=True)
    assert idx.size == 5 and idx[0] == 0 and np.all(idx[1:] >= 30)
    scan = association_scan(X, y)
    order = np.lexsort((np.arange(X.shape[1]), scan["p"].to_numpy()))
    ref = GreedyClumper(0.5, 250_000)
    accepted = ref.offer(X[:, order].astype(np.int8), np.zeros(70), np.arange(70), limit=5)
    assert set(order[accepted]) == set(idx)


@pytest.mark.skipif(PLINK19 is None, reason="plink1.9 is not installed")
def test_clumping_matches_plink19(cohort, tmp_path):
    ds, y = cohort
    prefix = tmp_path / "cohort"
    write_plink(ds, prefix)
    scan = association_scan(ds, y)
    pd.DataFrame({"SNP": scan["id"], "P": scan["p"]}).to_csv(
        f"{prefix}.assoc", sep="\t", index=False
    )
    subprocess.run(
        [
            PLINK19,
            "--bfile",
            str(prefix),
            "--clump",
            f"{prefix}.assoc",
            "--clump-p1",
            "1",
            "--clump-p2",
            "1",
            "--clump-r2",
            "0.5",
            "--clump-kb",
            "250",
            "--out",
            str(prefix),
        ],
        check=True,
        capture_output=True,
    )
    index = pd.read_csv(f"{prefix}.clumped", sep=r"\s+")["SNP"]
    # The whole walk: every variant, as plink does with --clump-p1 1.
    sel = GWASSelector(n_snps=len(index), clump=True, maf_min=0, max_missing=1).fit(ds, y)
    ours = set(sel.get_feature_names_out())
    assert len(ours & set(index)) / len(index) >= 0.95
    # A panel of the 25 best: plink's 25 most significant index variants.
    top = GWASSelector(n_snps=25, clump=True, maf_min=0).fit(ds, y).get_feature_names_out()
    plink_top = scan.set_index("id").loc[index, "p"].sort_values(kind="stable").index[:25]
    assert len(set(top) & set(plink_top)) / 25 >= 0.95


# --- agreement with plink2 ranking ---------------------------------------------------


@pytest.mark.skipif(PLINK2 is None, reason="plink2 is not installed")
@pytest.mark.parametrize("with_cov", [False, True])
def test_top_snps_match_plink2(cohort, tmp_path, with_cov):
    ds, y = cohort
    prefix = tmp_path / "cohort"
    write_plink(ds, prefix)
    n_snps = 100
    args = [PLINK2, "--bfile", str(prefix), "--threads", "1", "--out", str(prefix)]
    cov = None
    if with_cov:
        G, _ = as_genotypes(ds)
        cov = np.column_stack(
            [G[:, :50].mean(axis=1), np.random.default_rng(0).normal(size=len(y))]
        )
        fam = pd.read_csv(f"{prefix}.fam", sep=r"\s+", header=None)
        pd.DataFrame({"FID": fam[0], "IID": fam[1], "c1": cov[:, 0], "c2": cov[:, 1]}).to_csv(
            f"{prefix}.cov", sep="\t", index=False
        )
        args += ["--covar", f"{prefix}.cov", "--glm", "hide-covar", "cols=+a1freq"]
    else:
        args += ["--glm", "hide-covar", "allow-no-covars", "cols=+a1freq"]
    subprocess.run(args, check=True, capture_output=True)
    p2 = pd.read_csv(f"{prefix}.PHENO1.glm.logistic.hybrid", sep="\t")
    p2 = p2[(p2["A1_FREQ"].clip(upper=0.5) >= 0.01) | (1 - p2["A1_FREQ"] >= 0.99)]
    theirs = p2.sort_values("P", kind="stable")["ID"].iloc[:n_snps]
    ours = GWASSelector(n_snps=n_snps).fit(ds, y, covariates=cov).get_feature_names_out()
    assert len(set(ours) & set(theirs)) / n_snps >= 0.98


# --- scikit-learn conventions --------------------------------------------------------


class BinnedGWASSelector(GWASSelector):
    """Test double: bins sklearn's continuous check data into genotypes 0/1/2.

    sklearn's common checks feed continuous floats, which genotype estimators
    rightly refuse; fixed cut points (NaN and inf passed through) turn them
    into valid genotypes so that the checks exercise the estimator contract.
    """

    _bin = staticmethod(bin_to_genotypes)

    def fit(self, X, y, covariates=None):
        return super().fit(self._bin(X), y, covariates)

    def fit_transform(self, X, y=None, covariates=None):
        return super().fit_transform(self._bin(X), y, covariates)

    def transform(self, X):
        return super().transform(self._bin(X))


_EXPECTED_FAILURES = {
    **DATA_LAYER_FAILURES,
    "check_estimators_nan_inf": "NaN is a missing genotype call by design, not an error",
}


@parametrize_with_checks(
    [BinnedGWASSelector(n_snps=1, maf_min=0.0, max_missing=1.0)],
    expected_failed_checks=lambda est: _EXPECTED_FAILURES,
)
def test_sklearn_common_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(estimator)


def test_covariates_do_not_let_inflated_scores_crowd_out_the_best_variant():
    # With covariates the scan ranks by score test, which overstates variants carried
    # only by a few cases; after their Firth refits (p ~ 1e-3) the panel must still
    # hold v0 (Wald p ~ 1e-9), which first ranked below them.
    rng = np.random.default_rng(0)
    n = 600
    y = (rng.random(n) < 0.2).astype(int)
    cov = rng.normal(size=(n, 1))
    G = rng.binomial(2, 0.3, (n, 20)).astype(np.int8)
    G[:, 0] = rng.binomial(2, np.where(y == 1, 0.5, 0.3))
    cases = np.flatnonzero(y == 1)
    for j in range(1, 5):
        G[:, j] = 0
        G[rng.choice(cases, 20, replace=False), j] = 1
    wald = association_scan(G, y, cov)
    best = int(np.argmin(wald["p"].to_numpy()))
    assert best == 0
    sel = GWASSelector(n_snps=1).fit(G, y, cov)
    assert np.flatnonzero(sel.get_support()).tolist() == [0]
    assert sel.pvalues_[0] == pytest.approx(wald["p"][0], rel=1e-6)


def test_empty_panel_transforms_to_no_columns():
    rng = np.random.default_rng(0)
    G = rng.binomial(2, 0.3, (200, 10)).astype(np.int8)
    y = rng.integers(0, 2, 200)
    with pytest.warns(UserWarning, match="only 0 variants qualify"):
        sel = GWASSelector(n_snps=3, p_threshold=1e-30).fit(G, y)
    assert sel.transform(G).shape == (200, 0)


def test_a_missing_rate_exactly_at_max_missing_passes_qc():
    G = np.random.default_rng(1).binomial(2, 0.4, (100, 5)).astype(np.int8)
    G[:29, 0] = -1  # 29% missing; 0.29 * 100 is 28.999999999999996 in floating point
    y = np.r_[np.zeros(50), np.ones(50)]
    sel = GWASSelector(n_snps=1, max_missing=0.29, maf_min=0).fit(G, y)
    assert sel.qc_pass_[0]
    G[29, 0] = -1
    assert not GWASSelector(n_snps=1, max_missing=0.29, maf_min=0).fit(G, y).qc_pass_[0]

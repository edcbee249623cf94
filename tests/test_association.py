"""Association scan: exact agreement with statsmodels, plink2 --glm, and scipy."""

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, stats
from scipy.special import expit

from genosynth.association import RESULT_COLUMNS, association_scan
from genosynth.data._genotypes import as_genotypes
from genosynth.datasets import simulate_case_control
from genosynth.io import write_plink

PLINK2 = shutil.which("plink2")
needs_plink2 = pytest.mark.skipif(PLINK2 is None, reason="plink2 is not installed")


def _design(G, j, cov):
    """Called samples of variant j and the statsmodels design [1, cov, g]."""
    ok = ~np.isnan(G[:, j])
    cols = [np.ones(ok.sum())] + ([] if cov is None else [cov[ok]]) + [G[ok, j]]
    return ok, np.column_stack(cols)


@pytest.fixture(scope="module")
def small():
    """600 samples x 25 variants with 3% missing calls, 3 covariates, both trait kinds."""
    rng = np.random.default_rng(0)
    n, L = 600, 25
    G = rng.binomial(2, rng.uniform(0.05, 0.5, L), size=(n, L)).astype(float)
    G[rng.random((n, L)) < 0.03] = np.nan
    cov = rng.normal(size=(n, 3))
    eta = -1.0 + 0.6 * np.nan_to_num(G[:, 0]) + 0.4 * cov[:, 0]
    y_bin = (rng.random(n) < expit(eta)).astype(int)
    y_cont = 0.3 * np.nan_to_num(G[:, 1]) + 0.5 * cov[:, 1] + rng.normal(size=n)
    return G, cov, y_bin, y_cont


# --- exact agreement with statsmodels ------------------------------------------------


@pytest.mark.parametrize("with_cov", [False, True])
def test_logistic_wald_matches_statsmodels(small, with_cov):
    G, cov, y, _ = small
    cov = cov if with_cov else None
    res = association_scan(G, y, cov)
    assert (res["test"] == "wald").all()
    for j in range(G.shape[1]):
        ok, X = _design(G, j, cov)
        fit = sm.Logit(y[ok], X).fit(disp=0, tol=1e-12, maxiter=100)
        assert res["n_obs"][j] == ok.sum()
        assert res["beta"][j] == pytest.approx(fit.params[-1], abs=1e-6)
        assert res["se"][j] == pytest.approx(fit.bse[-1], abs=1e-6)
        assert res["stat"][j] == pytest.approx(fit.tvalues[-1], abs=1e-6)
        assert res["p"][j] == pytest.approx(fit.pvalues[-1], rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("with_cov", [False, True])
def test_score_test_matches_statsmodels(small, with_cov):
    G, cov, y, _ = small
    G = np.nan_to_num(G[:, :10], nan=0.0)  # score test of the null fit: no missing calls
    cov = cov if with_cov else None
    res = association_scan(G, y, cov, refine=None)
    assert (res["test"] == "score").all()
    C = np.ones((len(y), 1)) if cov is None else np.column_stack([np.ones(len(y)), cov])
    null = sm.GLM(y, C, family=sm.families.Binomial()).fit(tol=1e-12)
    for j in range(G.shape[1]):
        st = null.score_test(exog_extra=G[:, [j]])
        assert res["stat"][j] ** 2 == pytest.approx(st.statistic[0], rel=1e-6)
        assert res["p"][j] == pytest.approx(st.pvalue[0], rel=1e-6)


def test_score_test_without_covariates_is_exact_with_missing_calls(small):
    """No covariates: the score test refits the null on each variant's called samples."""
    G, _, y, _ = small
    res = association_scan(G, y, refine=None)
    for j in range(5):
        ok = ~np.isnan(G[:, j])
        C = np.ones((ok.sum(), 1))
        null = sm.GLM(y[ok], C, family=sm.families.Binomial()).fit(tol=1e-12)
        st = null.score_test(exog_extra=G[ok][:, [j]])
        assert res["stat"][j] ** 2 == pytest.approx(st.statistic[0], rel=1e-6)


@pytest.mark.parametrize("with_cov", [False, True])
def test_linear_matches_statsmodels_ols(small, with_cov):
    G, cov, _, y = small
    cov = cov if with_cov else None
    res = association_scan(G, y, cov)
    assert (res["test"] == "ols").all()
    for j in range(G.shape[1]):
        ok, X = _design(G, j, cov)
        fit = sm.OLS(y[ok], X).fit()
        assert res["beta"][j] == pytest.approx(fit.params[-1], abs=1e-8)
        assert res["se"][j] == pytest.approx(fit.bse[-1], abs=1e-8)
        assert res["p"][j] == pytest.approx(fit.pvalues[-1], rel=1e-6, abs=1e-12)


def _firth_reference(X, y):
    """Firth estimate by direct maximisation of l(b) + 0.5 log det I(b) (BFGS)."""

    def neg_penalised(b):
        eta = X @ b
        mu = expit(eta)
        w = mu * (1 - mu)
        loglik = np.sum(y * eta - np.logaddexp(0, eta))
        return -(loglik + 0.5 * np.linalg.slogdet((X * w[:, None]).T @ X)[1])

    b = optimize.minimize(neg_penalised, np.zeros(X.shape[1]), method="BFGS", tol=1e-12).x
    mu = expit(X @ b)
    cov = np.linalg.inv((X * (mu * (1 - mu))[:, None]).T @ X)
    return b[-1], np.sqrt(cov[-1, -1])


@pytest.mark.parametrize("with_cov", [False, True])
def test_firth_on_separated_variant(with_cov):
    """An allele absent from cases: the MLE is infinite, Firth's estimate is finite."""
    rng = np.random.default_rng(3)
    n = 400
    y = (rng.random(n) < 0.3).astype(int)
    g = np.zeros(n)
    controls = np.flatnonzero(y == 0)
    g[rng.choice(controls, 12, replace=False)] = 1
    G = np.column_stack([g, rng.binomial(2, 0.3, n)])
    cov = rng.normal(size=(n, 2)) if with_cov else None
    res = association_scan(G, y, cov)
    assert res["test"].tolist() == ["firth", "wald"]
    X = np.column_stack([np.ones(n)] + ([] if cov is None else [cov]) + [g])
    beta, se = _firth_reference(X, y)
    assert res["beta"][0] < -1
    assert res["beta"][0] == pytest.approx(beta, abs=1e-5)
    assert res["se"][0] == pytest.approx(se, rel=1e-4)


def test_refine_k_fits_only_the_best_k(small):
    G, cov, y, _ = small
    full = association_scan(G, y, cov, refine=None)
    part = association_scan(G, y, cov, refine=5)
    best = np.argsort(full["p"].to_numpy(), kind="stable")[:5]
    assert set(np.flatnonzero(part["test"] == "wald")) == set(best)
    wald = association_scan(G, y, cov)
    assert np.allclose(part["p"][best], wald["p"][best])


# --- data handling -------------------------------------------------------------------


def test_columns_metadata_and_monomorphic(small):
    G, _, y, _ = small
    G = G.copy()
    G[:, 3] = 1.0  # every called sample heterozygous: monomorphic dosage
    res = association_scan(G, y)
    assert tuple(res.columns) == RESULT_COLUMNS
    assert res["id"].tolist()[:2] == ["snp0", "snp1"]
    assert res["contig"].eq("1").all() and res["position"].tolist() == list(
        range(1, G.shape[1] + 1)
    )
    assert res["p"][3] == 1.0 and res["stat"][3] == 0.0 and np.isnan(res["beta"][3])
    missing = np.isnan(G).mean(axis=0)
    assert np.allclose(res["missing_rate"], missing)
    af = np.nanmean(G, axis=0) / 2
    assert np.allclose(res["maf"], np.minimum(af, 1 - af))


def test_maf_min_leaves_rare_variants_untested(small):
    G, _, y, _ = small
    res = association_scan(G, y, maf_min=0.2)
    low = res["maf"] < 0.2
    assert low.any() and res.loc[low, "p"].isna().all() and res.loc[~low, "p"].notna().all()


def test_lazy_dataset_and_block_size_do_not_change_results():
    ds = simulate_case_control(
        300, n_variants=120, n_causal=5, random_state=1, demography="constant", n_chromosomes=1
    )
    y = ds["sample_phenotype"].values
    G, _ = as_genotypes(ds)
    eager = association_scan(G, y)
    lazy = association_scan(ds.chunk({"variants": 32}), y, block_size=None)
    tiny = association_scan(ds, y, block_size=7)
    assert lazy["id"].tolist() == ds["variant_id"].values.tolist()
    for col in ("beta", "se", "p"):
        assert np.allclose(eager[col], lazy[col], equal_nan=True)
        assert np.allclose(eager[col], tiny[col], equal_nan=True)


def test_extreme_association_keeps_finite_log_p():
    rng = np.random.default_rng(0)
    g = rng.binomial(2, 0.5, 4000)
    y = (g + rng.normal(scale=0.05, size=4000) > 1).astype(int)
    res = association_scan(g[:, None], y, test="linear")
    assert res["p"][0] == 0.0  # underflows as a double ...
    from genosynth.association import _neglog10_p_t

    assert np.isfinite(_neglog10_p_t(np.array([res["stat"][0]]), np.array([3998.0])))[0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y": np.zeros(50)}, "single value"),
        ({"y": np.r_[np.zeros(25), np.ones(24)]}, "49 entries"),
        ({"covariates": np.full((50, 1), np.nan)}, "NaN"),
        ({"covariates": np.column_stack([np.arange(50), 2 * np.arange(50)])}, "collinear"),
        ({"covariates": np.ones((50, 1))}, "collinear"),
        ({"test": "probit"}, "test must be"),
        ({"refine": "some"}, "refine must be"),
        ({"maf_min": 0.7}, "maf_min"),
        ({"block_size": 0}, "block_size"),
    ],
)
def test_bad_inputs(kwargs, match):
    rng = np.random.default_rng(0)
    args = {"y": np.r_[np.zeros(25), np.ones(25)], "covariates": None, **kwargs}
    y, cov = args.pop("y"), args.pop("covariates")
    with pytest.raises(ValueError, match=match):
        association_scan(rng.integers(0, 3, (50, 4)), y, cov, **args)


def test_test_logistic_needs_two_classes():
    with pytest.raises(ValueError, match="binary"):
        association_scan(
            np.zeros((6, 1)) + [[0], [1], [2]] * 2, [0, 1, 2, 0, 1, 2], test="logistic"
        )


# --- agreement with plink2 --glm ----------------------------------------------------


@pytest.fixture(scope="module")
def plink_cohort(tmp_path_factory):
    """1,500 individuals, 500 SNPs (some rare: Firth fallback) written as PLINK."""
    ds = simulate_case_control(
        1500,
        n_variants=500,
        n_causal=20,
        heritability=0.6,
        prevalence=0.3,
        maf_min=0.004,
        random_state=3,
        demography="constant",
        n_chromosomes=1,
    )
    prefix = tmp_path_factory.mktemp("plink") / "cohort"
    write_plink(ds, prefix)
    rng = np.random.default_rng(1)
    G, _ = as_genotypes(ds)
    # A noise covariate and a genotype-correlated one (a crude ancestry score).
    cov = np.column_stack([rng.normal(size=G.shape[0]), G[:, :40].mean(axis=1)])
    fam = pd.read_csv(f"{prefix}.fam", sep=r"\s+", header=None)
    pd.DataFrame({"FID": fam[0], "IID": fam[1], "c1": cov[:, 0], "c2": cov[:, 1]}).to_csv(
        f"{prefix}.cov", sep="\t", index=False
    )
    return ds, prefix, cov


def run_plink2_glm(prefix, covariates: bool) -> pd.DataFrame:
    """plink2 --glm (firth-fallback, its default), A1 = ALT via omit-ref."""
    modifiers = ["hide-covar", "omit-ref", "firth-fallback", "cols=+beta,+firth"]
    extra = ["--covar", f"{prefix}.cov"] if covariates else []
    if not covariates:
        modifiers.append("allow-no-covars")
    out = f"{prefix}.{'cov' if covariates else 'nocov'}"
    subprocess.run(
        [
            PLINK2,
            "--bfile",
            str(prefix),
            "--glm",
            *modifiers,
            *extra,
            "--threads",
            "1",
            "--out",
            out,
        ],
        check=True,
        capture_output=True,
    )
    return pd.read_csv(f"{out}.PHENO1.glm.logistic.hybrid", sep="\t")


@needs_plink2
@pytest.mark.parametrize("with_cov", [False, True])
def test_matches_plink2_glm(plink_cohort, with_cov):
    ds, prefix, cov = plink_cohort
    y = ds["sample_phenotype"].values
    ours = association_scan(ds, y, cov if with_cov else None)
    p2 = run_plink2_glm(prefix, with_cov)
    m = ours.merge(p2, left_on="id", right_on="ID", validate="one_to_one")
    assert len(m) == len(ours) and m["P"].notna().all()
    assert (m["A1"] == m["alt"]).all()
    # Same variants fall back to Firth (here: alleles absent from cases or controls).
    assert ((m["test"] == "firth") == (m["FIRTH?"] == "Y")).all()
    assert (m["FIRTH?"] == "Y").sum() >= 2
    a, b = -np.log10(m["p"]), -np.log10(m["P"])
    assert np.corrcoef(a, b)[0, 1] >= 0.999
    assert np.max(np.abs(a - b)) < 0.01  # plink2 prints 6 significant digits, fits in float32
    assert np.max(np.abs(m["beta"] - m["BETA"])) < 1e-3
    assert np.allclose(m["se"], m["SE"], rtol=1e-3)
    firth = m[m["test"] == "firth"]
    assert np.allclose(firth["beta"], firth["BETA"], atol=1e-3)


@needs_plink2
def test_allele_orientation_matches_plink2(plink_cohort):
    """A variant whose alternate allele raises risk has beta > 0 in both tools."""
    ds, prefix, _ = plink_cohort
    y = ds["sample_phenotype"].values
    ours = association_scan(ds, y)
    p2 = run_plink2_glm(prefix, False).set_index("ID").loc[ours["id"]]
    effect = ds["variant_effect"].values
    strong = (ds["variant_causal"].values) & (ours["p"].to_numpy() < 1e-4)
    assert strong.sum() >= 3
    assert np.all(np.sign(ours["beta"][strong]) == np.sign(effect[strong]))
    assert np.all(np.sign(p2["BETA"].to_numpy()[strong]) == np.sign(effect[strong]))


def test_t_tail_is_accurate_where_scipy_underflows():
    from genosynth.association import _neglog10_p_t

    t, df = np.array([20.0, 37.0]), np.array([1000.0, 1000.0])
    exact = -(np.log(2) + stats.t.logsf(t, df)) / np.log(10)
    assert np.allclose(_neglog10_p_t(t, df), exact, rtol=1e-12)
    assert np.isfinite(_neglog10_p_t(np.array([200.0]), np.array([19998.0])))[0]


def test_candidate_buffer_keeps_the_best_with_stable_ties():
    from genosynth.association import Candidates

    rng = np.random.default_rng(0)
    n, L, cap = 5, 300, 17
    keys = rng.integers(0, 20, L).astype(float)  # many ties
    G = rng.integers(0, 3, (n, L)).astype(np.int8)
    buf = Candidates(cap, n)
    for start in range(0, L, 40):
        cols = np.arange(start, min(L, start + 40))
        buf.offer(keys[cols], cols, G, cols)
    index, cols = buf.ranked()
    expected = np.lexsort((np.arange(L), -keys))[:cap]
    assert index.tolist() == expected.tolist()
    assert np.array_equal(cols, G[:, expected])


def test_read_plinks_missing_code_is_not_read_as_a_three_valued_trait():
    rng = np.random.default_rng(0)
    G = rng.binomial(2, 0.3, (100, 4))
    y = rng.integers(0, 2, 100).astype(np.int8)
    y[:5] = -1  # read_plink's missing case-control phenotype
    with pytest.raises(ValueError, match="keep the samples with y >= 0"):
        association_scan(G, y)
    assert set(association_scan(G, y, test="linear")["test"]) == {"ols"}

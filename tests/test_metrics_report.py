"""evaluate(): the report's numbers, the baselines' verdicts, the text and the figure."""

import io
import json

import numpy as np
import pytest

from genosynth.baselines import AlleleFrequencySampler, Copycat
from genosynth.data._genotypes import as_genotypes
from genosynth.datasets import simulate_case_control
from genosynth.metrics import (
    EvaluationReport,
    allele_frequency_metrics,
    distance_attack,
    distance_to_closest_record,
    evaluate,
    ld_metrics,
)
from genosynth.metrics.report import _meets

# Used by genosynth/cli.py and the benchmarks: these names must not change.
REQUIRED = [
    "af_pearson_r",
    "ld_r2_correlation",
    "tstr_auc_synthetic",
    "tstr_auc_real",
    "tstr_auc_ratio",
    "prs_auc_ratio",
    "mia_auc",
    "identical_match_rate",
    "nnaa",
    "dcr_ratio",
]


@pytest.fixture(scope="module")
def cohort():
    ds = simulate_case_control(
        1000,
        n_variants=256,
        n_causal=20,
        heritability=0.6,
        prevalence=0.4,
        random_state=1,
        demography="constant",
        n_chromosomes=1,
    )
    G, variants = as_genotypes(ds)
    y = np.asarray(ds["sample_phenotype"].values)
    causal = np.asarray(ds["variant_causal"].values)
    perm = np.random.default_rng(0).permutation(G.shape[0])
    tr, ho = perm[:700], perm[700:]
    return G[tr], y[tr], G[ho], y[ho], variants, causal


def _report(gen, cohort, **kwargs):
    G, y, G_hold, y_hold, variants, causal = cohort
    G_syn, y_syn = gen.fit(G, y).sample(y=y, random_state=0)
    report = evaluate(
        G,
        y,
        G_hold,
        y_hold,
        G_syn,
        y_syn,
        variants=variants,
        causal=causal,
        n_bootstrap=100,
        **kwargs,
    )
    return report, G_syn, y_syn


@pytest.fixture(scope="module")
def af_report(cohort):
    return _report(AlleleFrequencySampler(), cohort)


@pytest.fixture(scope="module")
def copycat_report(cohort):
    return _report(Copycat(), cohort)


def test_table_layout_and_required_names(af_report):
    report = af_report[0]
    assert isinstance(report, EvaluationReport)
    frame = report.to_frame()
    assert set(REQUIRED) <= set(frame.index)
    assert {"value", "ideal", "verdict"} <= set(frame.columns)
    assert set(frame["group"]) == {"Fidelity", "Utility", "Privacy"}
    assert set(frame["verdict"]) <= {"ok", "check", ""}
    assert frame.index.is_unique and not frame.index.str.endswith("_ci_low").any()
    # Every metric function's scalars are there, not only the headline ones.
    for name in (
        "three_point_pearson_r",
        "pca_wasserstein_mean",
        "hwe_f_mae",
        "ccd_pearson_r",
        "kinship_synthetic_fraction_above_holdout_p99",
        "kinship_holdout_p99",
        "nndr_synthetic_median",
        "domias_auc",
        "assoc_beta_pearson_r",
        "assoc_causal_power_synthetic",
        "prs_auc_synthetic",
        "privacy_loss",
        "nnaa_real",
        "nnaa_synthetic",
    ):
        assert name in frame.index, name
    assert (
        json.loads(json.dumps(report.to_dict()))["af_pearson_r"]
        == frame.loc["af_pearson_r", "value"]
    )
    assert frame.loc["tstr_auc_synthetic", "ideal"] == frame.loc["tstr_auc_real", "value"]
    assert frame.loc["mia_auc", "ci_low"] < frame.loc["mia_auc", "ci_high"]


def test_report_values_are_the_metric_functions_values(cohort, copycat_report):
    G, y, G_hold, _, variants, _ = cohort
    report, G_syn, _ = copycat_report
    v = report.to_dict()
    assert v["af_pearson_r"] == allele_frequency_metrics(G, G_syn)["af_pearson_r"]
    assert v["ld_r2_correlation"] == ld_metrics(G, G_syn, variants=variants)["ld_r2_correlation"]
    assert v["dcr_ratio"] == distance_to_closest_record(G, G_hold, G_syn)["dcr_ratio"]
    assert v["mia_auc"] == distance_attack(G, G_hold, G_syn, n_bootstrap=0)["mia_auc"]


def test_af_sampler_verdicts(af_report):
    frame = af_report[0].to_frame()
    value, verdict = frame["value"], frame["verdict"]
    assert value["af_pearson_r"] > 0.995 and verdict["af_pearson_r"] == "ok"
    assert abs(value["ld_r2_correlation"]) < 0.3 and verdict["ld_r2_correlation"] == "check"
    assert value["identical_match_rate"] == 0.0 and verdict["identical_match_rate"] == "ok"
    assert abs(value["mia_auc"] - 0.5) < 0.05
    assert value["three_point_pearson_r"] < 0.3
    # Without LD the synthetic rows are easy to tell from real ones.
    assert value["nnaa"] > 0.6 and verdict["nnaa"] == "check"
    # Independent sites make no one's relative.
    assert value["kinship_synthetic_fraction_above_holdout_p99"] <= 0.01


def test_copycat_verdicts(copycat_report):
    frame = copycat_report[0].to_frame()
    value, verdict = frame["value"], frame["verdict"]
    assert value["identical_match_rate"] == 1.0 and verdict["identical_match_rate"] == "check"
    assert value["mia_auc"] > 0.7 and verdict["mia_auc"] == "check"
    assert value["domias_auc"] > 0.7 and verdict["domias_auc"] == "check"
    assert value["nnaa"] < 0.4 and verdict["nnaa"] == "check"
    assert value["dcr_ratio"] == 0.0 and verdict["dcr_ratio"] == "check"
    assert value["ld_r2_correlation"] > 0.95 and verdict["ld_r2_correlation"] == "ok"
    assert value["af_pearson_r"] > 0.995 and verdict["af_pearson_r"] == "ok"
    # Copies are as related to the training set as anyone can be (rows without a
    # heterozygous site have no KING estimate).
    assert value["kinship_synthetic_fraction_above_holdout_p99"] >= 0.98
    # Copies carry the training signal: TSTR close to TRTR.
    assert value["tstr_auc_ratio"] > 0.9 and value["prs_auc_ratio"] > 0.9
    assert value["assoc_beta_pearson_r"] > 0.9


def test_summary_text(af_report):
    report = af_report[0]
    text = report.summary()
    lines = text.splitlines()
    assert lines[0].startswith("genosynth evaluation: 700 train, 300 holdout, 700 synthetic")
    for heading in ("Fidelity", "Utility", "Privacy"):
        assert heading in lines
    assert lines.index("Fidelity") < lines.index("Utility") < lines.index("Privacy")
    ld_line = next(line for line in lines if line.strip().startswith("ld_r2_correlation"))
    assert ld_line.rstrip().endswith("check") and "target >= 0.95" in ld_line
    assert "targets missed" in text and "ld_r2_correlation" in lines[-2]
    assert repr(report).startswith("<EvaluationReport:")


def test_plot_draws_every_panel(copycat_report):
    fig = copycat_report[0].plot()
    titles = [ax.get_title() for ax in fig.axes]
    for expected in (
        "Allele frequency",
        "LD r²",
        "LD decay",
        "PCA",
        "Association",
        "Distance to closest",
        "Membership inference",
    ):
        assert any(t.startswith(expected) for t in titles), expected
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    assert buf.getvalue()[:4] == b"\x89PNG"


def test_max_samples_subsamples_queries_but_keeps_every_reference(cohort):
    G, y, G_hold, y_hold, _, _ = cohort
    G_syn, y_syn = Copycat().fit(G, y).sample(y=y, random_state=0)
    report = evaluate(G, y, G_hold, y_hold, G_syn, y_syn, max_samples=100, n_bootstrap=0)
    v = report.to_dict()
    assert v["identical_match_rate"] == 1.0  # every copy still finds its original
    assert report.details["dcr_synthetic"].size == 100
    assert report.details["mia_scores"].size == 200
    with pytest.raises(ValueError, match="max_samples"):
        evaluate(G, y, G_hold, y_hold, G_syn, y_syn, max_samples=1)


def test_targets():
    assert _meets((">=", 0.995), 0.995, {}) and not _meets((">=", 0.995), 0.99, {})
    assert _meets(("<=", 0.53), 0.53, {}) and not _meets(("<=", 0.53), np.nan, {})
    assert _meets(("between", 0.9, 1.3), 1.3, {}) and not _meets(("between", 0.9, 1.3), 0.8, {})
    ref = ("<=ref", "identical_match_rate_holdout")
    assert _meets(ref, 0.0, {"identical_match_rate_holdout": 0.0})
    assert not _meets(ref, 0.01, {"identical_match_rate_holdout": 0.0})
    assert _meets(ref, 0.01, {"identical_match_rate_holdout": 0.02})

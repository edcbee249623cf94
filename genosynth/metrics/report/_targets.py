"""What each metric of the report should be: the targets table and its verdicts.

A metric's :class:`_Spec` gives its ideal value (a number, or the name of the
reference metric it should match, e.g. the holdout's), the acceptance target
it is judged against, if any, and whether :meth:`EvaluationReport.summary` shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The groups of the report, in the order the summary shows them.
GROUPS = ("Fidelity", "Utility", "Privacy")


@dataclass(frozen=True)
class _Spec:
    """What a metric should be: ``ideal`` is a number or the name of a reference metric."""

    ideal: float | str = float("nan")
    target: tuple | None = None
    headline: bool = False


# The project's acceptance targets (docs/user_guide/evaluation.rst, "The table"), the
# MIA target applying to both attacks. Metrics without a target get an empty verdict.
_SPECS = {
    "af_pearson_r": _Spec(1.0, (">=", 0.995), True),
    "af_mae": _Spec(0.0, None, True),
    "af_max_drift": _Spec(0.0),
    "genotype_freq_mae": _Spec(0.0, None, True),
    "genotype_freq_max": _Spec(0.0),
    "hwe_f_mae": _Spec(0.0, None, True),
    "hwe_f_synthetic_mean": _Spec("hwe_f_real_mean"),
    "hwe_rejected_synthetic": _Spec("hwe_rejected_real"),
    "het_synthetic_mean": _Spec("het_real_mean"),
    "het_wasserstein": _Spec(0.0),
    "het_variant_mae": _Spec(0.0),
    "ld_r2_correlation": _Spec(1.0, (">=", 0.95), True),
    "ld_r2_mae": _Spec(0.0, None, True),
    "ld_decay_max_abs_diff": _Spec(0.0, None, True),
    "three_point_pearson_r": _Spec(1.0, None, True),
    "three_point_mae": _Spec(0.0),
    "pca_wasserstein_mean": _Spec("pca_holdout_wasserstein_mean", None, True),
    "pca_fraction_outside": _Spec("pca_holdout_fraction_outside", None, True),
    "ccd_pearson_r": _Spec(1.0, None, True),
    "ccd_mae": _Spec(0.0),
    "ccd_sign_agreement": _Spec(1.0, None, True),
    "tstr_auc_synthetic": _Spec("tstr_auc_real", None, True),
    "tstr_auc_real": _Spec(headline=True),
    "tstr_auc_ratio": _Spec(1.0, (">=", 0.97), True),
    "tstr_pr_auc_synthetic": _Spec("tstr_pr_auc_real"),
    "tstr_pr_auc_ratio": _Spec(1.0),
    "tstr_balanced_accuracy_synthetic": _Spec("tstr_balanced_accuracy_real"),
    "tstr_balanced_accuracy_ratio": _Spec(1.0),
    "tstr_r2_synthetic": _Spec("tstr_r2_real", None, True),
    "tstr_r2_real": _Spec(headline=True),
    "tstr_r2_ratio": _Spec(1.0, None, True),
    "prs_auc_synthetic": _Spec("prs_auc_real", None, True),
    "prs_auc_real": _Spec(headline=True),
    "prs_auc_ratio": _Spec(1.0, (">=", 0.97), True),
    "prs_pr_auc_synthetic": _Spec("prs_pr_auc_real"),
    "prs_pr_auc_ratio": _Spec(1.0),
    "prs_balanced_accuracy_synthetic": _Spec("prs_balanced_accuracy_real"),
    "prs_balanced_accuracy_ratio": _Spec(1.0),
    "assoc_beta_pearson_r": _Spec(1.0, None, True),
    "assoc_log10p_pearson_r": _Spec(1.0),
    "assoc_sign_concordance": _Spec(1.0),
    "assoc_sign_concordance_discoveries": _Spec(1.0, None, True),
    "assoc_n_discoveries_synthetic": _Spec("assoc_n_discoveries_real"),
    "assoc_replication_rate": _Spec(1.0, None, True),
    "assoc_spurious_rate": _Spec(0.0, None, True),
    "assoc_causal_power_synthetic": _Spec("assoc_causal_power_real", None, True),
    "identical_match_rate": _Spec(0.0, ("<=ref", "identical_match_rate_holdout"), True),
    "identical_match_rate_synthetic": _Spec(
        0.0, ("<=ref", "identical_match_rate_holdout_holdout"), True
    ),
    "near_duplicate_rate_synthetic": _Spec("near_duplicate_rate_holdout", None, True),
    "distinct_fraction_synthetic": _Spec(1.0, None, True),
    "dcr_ratio": _Spec(1.0, ("between", 0.9, 1.3), True),
    "dcr_synthetic_median": _Spec("dcr_holdout_median"),
    "dcr_fraction_below_holdout_p5": _Spec("dcr_holdout_fraction_below_p5", None, True),
    "nndr_synthetic_median": _Spec("nndr_holdout_median", None, True),
    "nnaa": _Spec(0.5, ("between", 0.45, 0.60), True),
    "nnaa_real": _Spec(0.5),
    "nnaa_synthetic": _Spec(0.5),
    "nnaa_holdout": _Spec(0.5),
    "privacy_loss": _Spec(0.0, None, True),
    "mia_auc": _Spec(0.5, ("<=", 0.53), True),
    "mia_tpr_at_1pct_fpr": _Spec(0.01),
    "domias_auc": _Spec(0.5, ("<=", 0.53), True),
    "domias_tpr_at_1pct_fpr": _Spec(0.01),
    "kinship_synthetic_fraction_above_holdout_p99": _Spec(0.01, None, True),
    "kinship_holdout_p99": _Spec(),
    "segment_synthetic_fraction_above_holdout_p99": _Spec(
        "segment_holdout_fraction_above_holdout_p99", None, True
    ),
    "segment_synthetic_median": _Spec("segment_holdout_median"),
    "haplotype_segment_synthetic_fraction_above_holdout_p99": _Spec(
        "haplotype_segment_holdout_fraction_above_holdout_p99", None, True
    ),
    "haplotype_segment_synthetic_median": _Spec("haplotype_segment_holdout_median"),
}


def _target_text(target) -> str:
    """The target as the report shows it ("" without one)."""
    if target is None:
        return ""
    kind = target[0]
    if kind == ">=":
        return f">= {target[1]:g}"
    if kind == "<=":
        return f"<= {target[1]:g}"
    if kind == "between":
        return f"{target[1]:g}-{target[2]:g}"
    return "0 (holdout rate if higher)"


def _meets(target, value, values) -> bool:
    """Whether ``value`` meets ``target``; ``values`` holds the reference of a "<=ref" target."""
    if not np.isfinite(value):
        return False
    kind = target[0]
    if kind == ">=":
        return value >= target[1]
    if kind == "<=":
        return value <= target[1]
    if kind == "between":
        return target[1] <= value <= target[2]
    return value <= max(0.0, values.get(target[1], 0.0))


def _verdict(target, value, values) -> str:
    """The verdict of ``value`` against ``target``: "ok", "check", or "" without a target."""
    if target is None:
        return ""
    return "ok" if _meets(target, value, values) else "check"

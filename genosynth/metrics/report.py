"""One call to judge a synthetic cohort: :func:`evaluate` and its :class:`EvaluationReport`.

The protocol is the SPEC's: real individuals are split into train and
holdout before anything is fitted; the generator sees only train; the
synthetic cohort is compared with train (fidelity), used to train models
scored on the holdout (utility), and checked for closeness to train using the
holdout as the yardstick of an unseen person (privacy).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from genosynth._alignment import align_variants, flip_note
from genosynth._diversity import count_duplicates, row_hashes
from genosynth.data._haplotypes import is_phased
from genosynth.metrics import _inputs
from genosynth.metrics._neighbours import _nearest
from genosynth.metrics.fidelity import (
    allele_frequency_metrics,
    case_control_differences,
    genotype_frequency_metrics,
    heterozygosity_metrics,
)
from genosynth.metrics.kinship import relatives
from genosynth.metrics.ld import ld_matrix, ld_metrics, three_point_correlations
from genosynth.metrics.membership import density_ratio_attack, distance_attack
from genosynth.metrics.pca import pca_overlap
from genosynth.metrics.privacy import (
    _closest_records,
    _summarise_dcr,
    _summarise_imr,
    _summarise_nndr,
    adversarial_accuracy,
)
from genosynth.metrics.segments import shared_segments
from genosynth.metrics.utility import association_recovery, tstr

GROUPS = ("Fidelity", "Utility", "Privacy")

# Variants shown in the LD heatmap of the figure.
_HEATMAP_VARIANTS = 100


@dataclass(frozen=True)
class _Spec:
    """What a metric should be: ``ideal`` is a number or the name of a reference metric."""

    ideal: float | str = float("nan")
    target: tuple | None = None
    headline: bool = False


# SPEC targets ("How results are judged"), plus the same MIA target for the
# second attack. Metrics without a target get an empty verdict.
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

# KING's relationship classes assume genome-wide, LD-pruned variants; on the panel they call
# unrelated people relatives, so the report keeps only the calibrated kinship row.
_PANEL_KING_CLASSES = tuple(
    f"kinship_{who}_{what}"
    for who in ("synthetic", "holdout")
    for what in ("duplicates", "first_degree", "second_degree", "fraction_with_relative")
)


def _target_text(target) -> str:
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


def _is_scalar(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _build_frame(groups: dict) -> pd.DataFrame:
    """One row per scalar metric; ``*_ci_low`` / ``*_ci_high`` become columns of their metric."""
    values = {}
    group_of = {}
    for group, results in groups.items():
        for name, v in results.items():
            if _is_scalar(v):
                values[name] = float(v)
                group_of[name] = group
    rows = []
    for name, value in values.items():
        if name.endswith(("_ci_low", "_ci_high")):
            continue
        spec = _SPECS.get(name, _Spec())
        ideal = values.get(spec.ideal, np.nan) if isinstance(spec.ideal, str) else spec.ideal
        verdict = ""
        if spec.target is not None:
            verdict = "ok" if _meets(spec.target, value, values) else "check"
        rows.append(
            {
                "metric": name,
                "group": group_of[name],
                "value": value,
                "ci_low": values.get(f"{name}_ci_low", np.nan),
                "ci_high": values.get(f"{name}_ci_high", np.nan),
                "ideal": ideal,
                "target": _target_text(spec.target),
                "verdict": verdict,
                "headline": spec.headline,
            }
        )
    return pd.DataFrame(rows).set_index("metric")


class EvaluationReport:
    """The result of :func:`evaluate`: a metric table, a text summary and a figure.

    Attributes
    ----------
    details : dict
        Per-variant, per-pair and per-individual arrays behind the metrics
        (allele frequencies, LD r² of each pair, the LD-decay table, PCA
        scores, DCRs, attack scores, association effects), as returned by the
        individual metric functions.
    timings : dict
        Seconds spent in each part of the evaluation.
    shape : dict
        Number of individuals of each cohort and of variants.
    notes : list of str
        What was done to the inputs before measuring (e.g. variants whose
        ref/alt were swapped between cohorts, and flipped); shown by
        :meth:`summary`.
    """

    def __init__(self, frame: pd.DataFrame, details: dict, timings: dict, shape: dict, notes=()):
        self._frame = frame
        self.details = details
        self.timings = timings
        self.shape = shape
        self.notes = list(notes)

    def to_frame(self) -> pd.DataFrame:
        """The metric table, one row per metric.

        Returns
        -------
        pandas.DataFrame
            Indexed by metric name, with columns ``group`` (Fidelity /
            Utility / Privacy), ``value``, ``ci_low`` and ``ci_high`` (95%
            bootstrap interval where one is computed, else NaN), ``ideal``
            (a number, or the value of the reference it should match, e.g.
            the holdout's), ``target`` (the SPEC target, if any), ``verdict``
            ("ok" / "check" against the target; empty without a target) and
            ``headline`` (shown by :meth:`summary`).
        """
        return self._frame.copy()

    def to_dict(self) -> dict:
        """Metric name to value (floats only: JSON-serialisable).

        Returns
        -------
        dict
        """
        return {name: float(v) for name, v in self._frame["value"].items()}

    @property
    def verdicts(self) -> dict:
        """Metric name to "ok" / "check" for the metrics that have a target."""
        v = self._frame["verdict"]
        return v[v != ""].to_dict()

    def summary(self) -> str:
        """A text report for a terminal: the headline metrics, grouped.

        Returns
        -------
        str
        """
        s = self.shape
        lines = [
            f"genosynth evaluation: {s['n_train']} train, {s['n_holdout']} holdout, "
            f"{s['n_synthetic']} synthetic individuals x {s['n_variants']} variants",
        ]
        lines += [f"note: {note}" for note in self.notes]
        head = self._frame[self._frame["headline"]]
        width = max(len(n) for n in head.index)
        for group in GROUPS:
            rows = head[head["group"] == group]
            if rows.empty:
                continue
            lines += ["", group]
            for name, row in rows.iterrows():
                ci = ""
                if np.isfinite(row["ci_low"]):
                    ci = f"[{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]"
                ideal = "" if not np.isfinite(row["ideal"]) else f"ideal {_fmt(row['ideal'])}"
                target = f"target {row['target']}" if row["target"] else ""
                lines.append(
                    f"  {name:<{width}}  {_fmt(row['value']):>8} {ci:<18} {ideal:<14} "
                    f"{target:<22} {row['verdict']}".rstrip()
                )
        checks = [n for n, v in self.verdicts.items() if v == "check"]
        n_targets = len(self.verdicts)
        lines.append("")
        if checks:
            lines.append(f"{len(checks)} of {n_targets} targets missed: {', '.join(checks)}")
        else:
            lines.append(f"all {n_targets} targets met")
        lines.append(
            f"({len(self._frame)} metrics in to_frame(); computed in "
            f"{sum(self.timings.values()):.1f} s)"
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        checks = sum(v == "check" for v in self.verdicts.values())
        return (
            f"<EvaluationReport: {len(self._frame)} metrics, "
            f"{len(self.verdicts) - checks}/{len(self.verdicts)} targets met>"
        )

    def plot(self, figsize=(18, 8.5)):
        """Draw the diagnostic figure.

        Panels: allele frequencies, LD r² of nearby pairs, LD decay, an LD
        heatmap of the first variants (real below the diagonal, synthetic
        above), PCA of real / synthetic / holdout individuals, association
        effects, DCR histograms and the membership-inference ROC curves.

        Parameters
        ----------
        figsize : tuple of float, default=(18, 8.5)

        Returns
        -------
        matplotlib.figure.Figure
        """
        from matplotlib.figure import Figure

        d, m = self.details, self.to_dict()
        fig = Figure(figsize=figsize, layout="constrained")
        ax = fig.subplots(2, 4).ravel()
        _scatter(ax[0], d["af_real"], d["af_synthetic"], "alt allele frequency")
        ax[0].set_title(f"Allele frequency (r = {m['af_pearson_r']:.4f})")
        _scatter(ax[1], d["ld_r2_real"], d["ld_r2_synthetic"], "r²")
        ax[1].set_title(f"LD r², nearby pairs (r = {m['ld_r2_correlation']:.3f})")
        decay = d["ld_decay"]
        ax[2].plot(decay["distance_mean"], decay["r2_real"], "o-", label="real")
        ax[2].plot(decay["distance_mean"], decay["r2_synthetic"], "s--", label="synthetic")
        ax[2].set(title="LD decay", xlabel="pair distance", ylabel="mean r²")
        ax[2].legend()
        heat = np.tril(d["ld_heatmap_real"]) + np.triu(d["ld_heatmap_synthetic"], 1)
        im = ax[3].imshow(heat, vmin=0, vmax=1, cmap="Reds", interpolation="nearest")
        ax[3].set_title("LD r²: real (lower) / synthetic (upper)")
        fig.colorbar(im, ax=ax[3], shrink=0.8)
        for name, key, style in (
            ("real", "pca_real", {"s": 4, "alpha": 0.4}),
            ("synthetic", "pca_synthetic", {"s": 4, "alpha": 0.4}),
            ("holdout", "pca_holdout", {"s": 4, "alpha": 0.4, "marker": "x"}),
        ):
            if key in d and d[key].shape[1] >= 2:
                ax[4].scatter(d[key][:, 0], d[key][:, 1], label=name, **style)
        ax[4].set(title="PCA (fitted on real train)", xlabel="PC1", ylabel="PC2")
        ax[4].legend(markerscale=3)
        _scatter(ax[5], d["assoc_beta_real"], d["assoc_beta_synthetic"], "GWAS beta")
        ax[5].set_title(f"Association effects (r = {m['assoc_beta_pearson_r']:.3f})")
        bins = np.histogram_bin_edges(np.r_[d["dcr_synthetic"], d["dcr_holdout"]], bins=40)
        ax[6].hist(d["dcr_holdout"], bins=bins, density=True, alpha=0.5, label="holdout")
        ax[6].hist(d["dcr_synthetic"], bins=bins, density=True, alpha=0.5, label="synthetic")
        ax[6].set(
            title=f"Distance to closest training record (ratio {m['dcr_ratio']:.2f})",
            xlabel="Hamming distance",
            ylabel="density",
        )
        ax[6].legend()
        for prefix, label in (("mia", "distance"), ("domias", "density ratio")):
            fpr, tpr = _roc(d[f"{prefix}_scores"], d["membership"])
            ax[7].plot(fpr, tpr, label=f"{label} (AUC {m[f'{prefix}_auc']:.3f})")
        ax[7].plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        ax[7].set(
            title="Membership inference", xlabel="false positive rate", ylabel="true positive rate"
        )
        ax[7].legend()
        return fig


def _fmt(v) -> str:
    if not np.isfinite(v):
        return "nan"
    return f"{v:.0f}" if abs(v) >= 1e4 else f"{v:.4g}"


def _scatter(ax, real, synthetic, what, max_points=20_000):
    real, synthetic = np.asarray(real), np.asarray(synthetic)
    ok = np.isfinite(real) & np.isfinite(synthetic)
    real, synthetic = real[ok], synthetic[ok]
    if real.size > max_points:  # keep the figure light; the metric uses every point
        keep = np.random.default_rng(0).choice(real.size, max_points, replace=False)
        real, synthetic = real[keep], synthetic[keep]
    ax.scatter(real, synthetic, s=3, alpha=0.3)
    if real.size:
        lo, hi = min(real.min(), synthetic.min()), max(real.max(), synthetic.max())
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls=":")
    ax.set(xlabel=f"real {what}", ylabel=f"synthetic {what}")


def _roc(scores, membership):
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(membership, scores)
    return fpr, tpr


class _Timer:
    def __init__(self):
        self.timings = {}

    def __call__(self, name, fn, *args, **kwargs):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        self.timings[name] = time.perf_counter() - start
        return out


def _aligned(real: dict, synthetic: tuple) -> tuple:
    """Put every cohort on the synthetic panel, matching variants by id and alleles.

    Only cohorts with variant metadata (Datasets) are matched; arrays are
    taken to be on the same variants already. Without synthetic metadata the
    training panel is the reference. Returns the three matrices, the panel's
    variant table and a note per cohort whose ref/alt had to be flipped.
    """
    syn, var_syn = synthetic
    named = dict(real)
    target_name, (target_G, target_var) = "synthetic", (syn, var_syn)
    if var_syn is None:
        target_name, (target_G, target_var) = "real_train", named.pop("real_train")
    out, notes = {target_name: target_G}, []
    for name, (G, var) in named.items():
        if target_var is None or var is None:
            out[name] = G
            continue
        alignment = align_variants(target_var, var, target_name=target_name, source_name=name)
        identity = alignment.index.size == G.shape[1] and np.array_equal(
            alignment.index, np.arange(G.shape[1])
        )
        out[name] = G if identity and not alignment.n_flipped else alignment.apply(G)
        if alignment.n_flipped:
            notes.append(flip_note(alignment.n_flipped, name, target_name))
    out.setdefault("synthetic", syn)
    return out["real_train"], out["real_holdout"], out["synthetic"], target_var, notes


def _synthetic_duplicates(syn, syn_q, hold_q, rng) -> dict:
    """Synthetic individuals that repeat one another, against the holdout as yardstick.

    ``identical_match_rate_synthetic``: fraction of synthetic rows identical
    to another synthetic row (the holdout's own rate beside it);
    ``near_duplicate_rate_synthetic``: fraction whose nearest other synthetic
    row is at most the 5th percentile of the holdout's nearest-other-holdout
    distances (both cohorts cut to the same size: the nearest neighbour of a
    larger cohort is closer); ``distinct_fraction_synthetic``: distinct rows
    among all synthetic rows.
    """
    n = min(len(syn_q), len(hold_q))
    if n < 2:
        return {}
    syn_n = syn_q[np.sort(rng.choice(len(syn_q), n, replace=False))]
    hold_n = hold_q[np.sort(rng.choice(len(hold_q), n, replace=False))]
    d_syn = _nearest(syn_n, syn_n, 1, exclude_self=True)[0][:, 0]
    d_hold = _nearest(hold_n, hold_n, 1, exclude_self=True)[0][:, 0]
    p5 = float(np.quantile(d_hold, 0.05))
    count = count_duplicates(row_hashes(syn))
    return {
        "identical_match_rate_synthetic": float(np.mean(d_syn == 0)),
        "identical_match_rate_holdout_holdout": float(np.mean(d_hold == 0)),
        "near_duplicate_rate_synthetic": float(np.mean(d_syn <= p5)),
        "near_duplicate_rate_holdout": float(np.mean(d_hold <= p5)),
        "distinct_fraction_synthetic": count.n_distinct / count.n_rows,
        "nearest_synthetic_distance": d_syn,
    }


def evaluate(
    real_train,
    y_train,
    real_holdout,
    y_holdout,
    synthetic,
    y_synthetic,
    *,
    variants=None,
    causal=None,
    random_state=0,
    max_samples=10_000,
    n_bootstrap=200,
) -> EvaluationReport:
    """Judge a synthetic cohort: fidelity, utility and privacy in one report.

    Runs, with their default settings unless stated:

    * Fidelity (synthetic vs real train): :func:`allele_frequency_metrics`,
      :func:`genotype_frequency_metrics`, :func:`heterozygosity_metrics`,
      :func:`ld_metrics`, :func:`three_point_correlations`,
      :func:`pca_overlap` (holdout projected as the yardstick),
      :func:`case_control_differences`.
    * Utility: :func:`tstr` with the default penalised logistic regression
      (keys ``tstr_*``) and with :class:`genosynth.prs.PRSClassifier`
      (all variants, keys ``prs_*``); :func:`association_recovery` (real
      train vs synthetic, with ``causal`` if given).
    * Privacy: :func:`identical_match_rate`,
      :func:`distance_to_closest_record` (``dcr_ratio`` = median
      DCR(synthetic -> train) / median DCR(holdout -> train)),
      :func:`nearest_neighbour_distance_ratio`, :func:`adversarial_accuracy`
      (``nnaa``), :func:`distance_attack` (``mia_auc``),
      :func:`density_ratio_attack` (``domias_auc``) and :func:`relatives`
      (the kinship row calibrated on the holdout; KING's relationship
      classes are left out, their cut-offs do not hold on a selected panel);
      :func:`shared_segments` (``segment_*``: the longest run of panel SNPs
      shared with a training individual against the holdout's 99th
      percentile, on every individual; ``haplotype_segment_*`` too when the
      three cohorts are phased Datasets).

    Each metric's value is judged against the SPEC target where there is one
    (``verdict`` "ok" / "check"): AF r >= 0.995, LD r² correlation >= 0.95,
    TSTR/TRTR AUC ratio >= 0.97 (both models), MIA AUC <= 0.53 (both
    attacks), IMR 0 (or no more than the holdout's background rate), NNAA in
    0.45-0.60, DCR ratio in 0.9-1.3.

    Parameters
    ----------
    real_train, real_holdout, synthetic : array-like (n, n_variants) or xarray.Dataset
        Genotypes 0/1/2 (-1/NaN missing) on the same variants, in genomic order.
        Datasets are matched to the synthetic panel by variant id *and*
        alleles: a variant whose ref/alt are swapped has its dosages flipped
        (and the report says so in :attr:`EvaluationReport.notes`); different
        alleles under one id, duplicate ids or missing variants raise a
        ValueError. Arrays are taken to be on the same variants as given.
    y_train, y_holdout, y_synthetic : array-like of shape (n,)
        Binary labels 0 (control) / 1 (case); or a quantitative trait
        (floats) in all three, for which utility is the regression
        :func:`tstr` (keys ``tstr_r2_*``) and the linear
        :func:`association_recovery`, and the case-control rows
        (:func:`case_control_differences`, the ``prs_*`` classifier) are
        left out.
    variants : pandas.DataFrame, optional
        The panel's variant table (``contig``, ``position``; e.g.
        ``GWASSelector.selected_variants_``) for LD by base-pair distance;
        taken from ``real_train`` when it is a Dataset; otherwise distances
        are counted in variants.
    causal : array-like, optional
        True causal variants (boolean mask or indices) for
        :func:`association_recovery`.
    random_state : int, default=0
        Seeds every random step (bootstrap, triplet sampling, subsampling).
    max_samples : int or None, default=10000
        Cap on the individuals of each cohort that *query* the privacy
        metrics (synthetic and holdout rows looking for their closest
        training record, members and non-members of the attacks, rows of
        the adversarial accuracy), drawn without replacement; training rows
        are never dropped as *references*, so an exact copy is always found.
        Nearest-neighbour cost grows with the product of cohort sizes; None
        uses everyone. Cohorts at or below the cap are used whole.
    n_bootstrap : int, default=200
        Bootstrap replicates of the TSTR and membership-attack intervals.

    Returns
    -------
    EvaluationReport

    Examples
    --------
    >>> import numpy as np
    >>> from genosynth.baselines import Copycat
    >>> rng = np.random.default_rng(0)
    >>> G = rng.integers(0, 3, size=(500, 60))
    >>> y = (G[:, :5].sum(axis=1) + rng.normal(size=500) > 5).astype(int)
    >>> G_syn, y_syn = Copycat().fit(G[:400], y[:400]).sample(y=y[:400], random_state=0)
    >>> report = evaluate(G[:400], y[:400], G[400:], y[400:], G_syn, y_syn, n_bootstrap=20)
    >>> report.verdicts["identical_match_rate"], report.to_dict()["identical_match_rate"]
    ('check', 1.0)
    """
    train, var_train = _inputs.genotypes_and_variants(real_train, "real_train")
    holdout, var_holdout = _inputs.genotypes_and_variants(real_holdout, "real_holdout")
    syn, var_syn = _inputs.genotypes_and_variants(synthetic, "synthetic")
    train, holdout, syn, panel, notes = _aligned(
        {"real_train": (train, var_train), "real_holdout": (holdout, var_holdout)},
        (syn, var_syn),
    )
    L = _inputs.same_panel(real_train=train, real_holdout=holdout, synthetic=syn)
    if variants is None:
        variants = panel
    if max_samples is not None and int(max_samples) < 2:
        raise ValueError(f"max_samples must be at least 2 or None, got {max_samples}")
    _, continuous = _inputs.outcomes(
        {"y_train": y_train, "y_holdout": y_holdout, "y_synthetic": y_synthetic},
        {"y_train": len(train), "y_holdout": len(holdout), "y_synthetic": len(syn)},
    )
    rng = _inputs.rng_from(random_state)
    seed = int(rng.integers(2**31 - 1))
    timer = _Timer()
    fid, util, priv = {}, {}, {}

    fid.update(timer("allele_frequencies", allele_frequency_metrics, train, syn))
    fid.update(timer("genotype_frequencies", genotype_frequency_metrics, train, syn))
    fid.update(timer("heterozygosity", heterozygosity_metrics, train, syn))
    fid.update(timer("ld", ld_metrics, train, syn, variants=variants))
    fid.update(
        timer(
            "three_point",
            three_point_correlations,
            train,
            syn,
            variants=variants,
            random_state=seed,
        )
    )
    fid.update(timer("pca", pca_overlap, train, syn, holdout=holdout, random_state=seed))
    if not continuous:
        fid.update(
            timer("case_control", case_control_differences, train, y_train, syn, y_synthetic)
        )
    stop = min(L, _HEATMAP_VARIANTS)
    fid["ld_heatmap_real"] = ld_matrix(train, stop=stop)
    fid["ld_heatmap_synthetic"] = ld_matrix(syn, stop=stop)

    from genosynth.prs import PRSClassifier

    args = (train, y_train, holdout, y_holdout, syn, y_synthetic)
    util.update(timer("tstr", tstr, *args, n_bootstrap=n_bootstrap, random_state=seed))
    if not continuous:  # PRSClassifier calibrates case probabilities
        util.update(
            timer(
                "tstr_prs",
                tstr,
                *args,
                estimator=PRSClassifier(),
                n_bootstrap=n_bootstrap,
                random_state=seed,
                prefix="prs",
            )
        )
    util.update(
        timer("association", association_recovery, train, y_train, syn, y_synthetic, causal=causal)
    )

    pick = np.random.default_rng(seed)
    syn_q = syn[_inputs.subsample(syn.shape[0], max_samples, pick)]
    hold_q = holdout[_inputs.subsample(holdout.shape[0], max_samples, pick)]
    train_q = train[_inputs.subsample(train.shape[0], max_samples, pick)]
    closest = timer("closest_records", _closest_records, train, hold_q, syn_q)
    priv.update(_summarise_imr(closest))
    priv.update(timer("synthetic_duplicates", _synthetic_duplicates, syn, syn_q, hold_q, pick))
    priv.update(_summarise_dcr(closest))
    if train.shape[0] >= 2:
        priv.update(_summarise_nndr(closest))
    priv.update(
        timer(
            "adversarial_accuracy", adversarial_accuracy, train_q, hold_q, syn_q, random_state=seed
        )
    )
    priv.update(
        timer(
            "distance_attack",
            distance_attack,
            train_q,
            hold_q,
            syn,
            n_bootstrap=n_bootstrap,
            random_state=seed,
        )
    )
    attack = timer(
        "density_ratio_attack",
        density_ratio_attack,
        train_q,
        hold_q,
        syn,
        n_bootstrap=n_bootstrap,
        random_state=seed,
    )
    priv.update(attack)
    kinship = timer("kinship", relatives, train, hold_q, syn_q)
    priv.update({k: v for k, v in kinship.items() if k not in _PANEL_KING_CLASSES})
    # Linear in the cohort sizes (a PBWT): every individual, not max_samples. Phased
    # Datasets are passed whole for the haplotype rows; anything else as the dosages read.
    segment_inputs = (real_train, real_holdout, synthetic)
    if notes or not all(is_phased(X) for X in segment_inputs):  # aligned: use the dosages
        segment_inputs = (train, holdout, syn)
    priv.update(timer("shared_segments", shared_segments, *segment_inputs, variants=variants))

    groups = {"Fidelity": fid, "Utility": util, "Privacy": priv}
    frame = _build_frame(groups)
    details = {k: v for g in groups.values() for k, v in g.items() if not _is_scalar(v)}
    shape = {
        "n_train": train.shape[0],
        "n_holdout": holdout.shape[0],
        "n_synthetic": syn.shape[0],
        "n_variants": L,
    }
    return EvaluationReport(frame, details, timer.timings, shape, notes=notes)

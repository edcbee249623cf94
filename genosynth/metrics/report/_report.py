"""The :class:`EvaluationReport` of :func:`evaluate`: its metric table and text summary.

The figure is drawn by :mod:`._figures`; the ideal values, targets and verdicts
come from the table of :mod:`._targets`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from genosynth.metrics.report._figures import diagnostic_figure
from genosynth.metrics.report._targets import _SPECS, GROUPS, _Spec, _target_text, _verdict


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
        rows.append(
            {
                "metric": name,
                "group": group_of[name],
                "value": value,
                "ci_low": values.get(f"{name}_ci_low", np.nan),
                "ci_high": values.get(f"{name}_ci_high", np.nan),
                "ideal": ideal,
                "target": _target_text(spec.target),
                "verdict": _verdict(spec.target, value, values),
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
            the holdout's), ``target`` (the acceptance target, if any), ``verdict``
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
        return diagnostic_figure(self.details, self.to_dict(), figsize)


def _fmt(v) -> str:
    if not np.isfinite(v):
        return "nan"
    return f"{v:.0f}" if abs(v) >= 1e4 else f"{v:.4g}"

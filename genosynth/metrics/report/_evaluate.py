"""One call to judge a synthetic cohort: :func:`evaluate`, returning an EvaluationReport.

The protocol is that of docs/user_guide/privacy_protocol.rst; its steps, one
per metric family, are in :mod:`._steps`.
"""

from __future__ import annotations

from genosynth.metrics import _inputs
from genosynth.metrics.report._report import EvaluationReport, _build_frame, _is_scalar
from genosynth.metrics.report._steps import (
    _cohorts,
    _fidelity,
    _privacy,
    _segments,
    _Timer,
    _utility,
)


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

    Each metric's value is judged against the project's acceptance target
    where there is one (``verdict`` "ok" / "check"): AF r >= 0.995, LD r² correlation >= 0.95,
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
    train, holdout, syn, panel, notes = _cohorts(real_train, real_holdout, synthetic)
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

    fid = _fidelity(
        timer,
        train,
        y_train,
        holdout,
        syn,
        y_synthetic,
        variants=variants,
        continuous=continuous,
        seed=seed,
    )
    util = _utility(
        timer,
        (train, y_train, holdout, y_holdout, syn, y_synthetic),
        causal=causal,
        continuous=continuous,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
    priv = _privacy(
        timer, train, holdout, syn, max_samples=max_samples, n_bootstrap=n_bootstrap, seed=seed
    )
    priv.update(
        _segments(
            timer,
            (real_train, real_holdout, synthetic),
            (train, holdout, syn),
            notes,
            variants=variants,
        )
    )

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

"""The steps of :func:`evaluate`: reading the cohorts, then one step per metric family.

Real individuals are split into train and holdout before anything is fitted;
the generator sees only train; the synthetic cohort is compared with train
(:func:`_fidelity`), used to train models scored on the holdout
(:func:`_utility`), and checked for closeness to train using the holdout as
the yardstick of an unseen person (:func:`_privacy`, :func:`_segments`). Each
step returns its metric functions' results merged into one dict, in call order.
"""

from __future__ import annotations

import time

import numpy as np

from genosynth.data._alignment import align_variants, flip_note
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
from genosynth.stats._diversity import count_duplicates, row_hashes

# Variants shown in the LD heatmap of the figure.
_HEATMAP_VARIANTS = 100

# KING's relationship classes assume genome-wide, LD-pruned variants; on the panel they call
# unrelated people relatives, so the report keeps only the calibrated kinship row.
_PANEL_KING_CLASSES = tuple(
    f"kinship_{who}_{what}"
    for who in ("synthetic", "holdout")
    for what in ("duplicates", "first_degree", "second_degree", "fraction_with_relative")
)


class _Timer:
    """Calls a metric function and records its seconds in ``timings`` under a name."""

    def __init__(self):
        self.timings = {}

    def __call__(self, name, fn, *args, **kwargs):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        self.timings[name] = time.perf_counter() - start
        return out


def _cohorts(real_train, real_holdout, synthetic) -> tuple:
    """The three genotype matrices on one panel, the panel's variant table and the notes."""
    train, var_train = _inputs.genotypes_and_variants(real_train, "real_train")
    holdout, var_holdout = _inputs.genotypes_and_variants(real_holdout, "real_holdout")
    syn, var_syn = _inputs.genotypes_and_variants(synthetic, "synthetic")
    return _aligned(
        {"real_train": (train, var_train), "real_holdout": (holdout, var_holdout)},
        (syn, var_syn),
    )


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


def _fidelity(timer, train, y_train, holdout, syn, y_synthetic, *, variants, continuous, seed):
    """Synthetic against real train: frequencies, LD, PCA, case-control differences."""
    fid = {}
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
    stop = min(train.shape[1], _HEATMAP_VARIANTS)
    fid["ld_heatmap_real"] = ld_matrix(train, stop=stop)
    fid["ld_heatmap_synthetic"] = ld_matrix(syn, stop=stop)
    return fid


def _utility(timer, args, *, causal, continuous, n_bootstrap, seed):
    """TSTR with both models, scored on the holdout, and the recovery of associations.

    ``args`` is ``(train, y_train, holdout, y_holdout, syn, y_synthetic)``.
    """
    # The PRS classifier is the one import from the association layer; the package
    # module makes it (tests/test_architecture.py lists that import as an exception).
    from genosynth.metrics.report import _prs_classifier

    train, y_train, _, _, syn, y_synthetic = args
    util = {}
    util.update(timer("tstr", tstr, *args, n_bootstrap=n_bootstrap, random_state=seed))
    if not continuous:  # PRSClassifier calibrates case probabilities
        util.update(
            timer(
                "tstr_prs",
                tstr,
                *args,
                estimator=_prs_classifier(),
                n_bootstrap=n_bootstrap,
                random_state=seed,
                prefix="prs",
            )
        )
    util.update(
        timer("association", association_recovery, train, y_train, syn, y_synthetic, causal=causal)
    )
    return util


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


def _privacy(timer, train, holdout, syn, *, max_samples, n_bootstrap, seed):
    """Closeness to train against the holdout's: matches, distances, attacks, relatives.

    At most ``max_samples`` rows of each cohort query; every training row is a reference.
    """
    pick = np.random.default_rng(seed)
    syn_q = syn[_inputs.subsample(syn.shape[0], max_samples, pick)]
    hold_q = holdout[_inputs.subsample(holdout.shape[0], max_samples, pick)]
    train_q = train[_inputs.subsample(train.shape[0], max_samples, pick)]
    priv = {}
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
    for name, attack in (
        ("distance_attack", distance_attack),
        ("density_ratio_attack", density_ratio_attack),
    ):
        priv.update(
            timer(name, attack, train_q, hold_q, syn, n_bootstrap=n_bootstrap, random_state=seed)
        )
    kinship = timer("kinship", relatives, train, hold_q, syn_q)
    priv.update({k: v for k, v in kinship.items() if k not in _PANEL_KING_CLASSES})
    return priv


def _segments(timer, given, aligned, notes, *, variants):
    """Shared segments of every individual (a PBWT: linear in the cohort sizes, no cap).

    Phased Datasets are passed whole (``given``) for the haplotype rows; anything
    else, or cohorts whose alleles were flipped, as the ``aligned`` dosages.
    """
    inputs = given
    if notes or not all(is_phased(X) for X in given):
        inputs = aligned
    return timer("shared_segments", shared_segments, *inputs, variants=variants)

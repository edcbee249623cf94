"""Judging synthetic genotypes: fidelity, utility, association recovery and privacy.

Every function takes real and synthetic genotypes as arrays ``(n_samples,
n_variants)`` of 0/1/2 (-1 or NaN missing) or as sgkit Datasets, documents
its definition, ideal value and how ties and missing calls are treated, and
returns a dict of named values. :func:`evaluate` runs the whole protocol
(:ref:`privacy-protocol`) and returns an :class:`EvaluationReport`.

This package never imports torch.

Fidelity
    :func:`allele_frequency_metrics`, :func:`genotype_frequency_metrics`,
    :func:`hardy_weinberg_exact`, :func:`heterozygosity_metrics`,
    :func:`ld_metrics`, :func:`ld_matrix`, :func:`three_point_correlations`,
    :func:`pca_overlap`, :func:`case_control_differences`.
Utility
    :func:`tstr`, :func:`association_recovery`.
Privacy
    :func:`identical_match_rate`, :func:`distance_to_closest_record`,
    :func:`nearest_neighbour_distance_ratio`, :func:`adversarial_accuracy`,
    :func:`distance_attack`, :func:`density_ratio_attack`,
    :func:`relatives`, :func:`king_kinship`, :func:`shared_segments`,
    :func:`longest_shared_segments`.
Distances
    :func:`hamming_distances`, :func:`nearest_neighbours`.
"""

from genosynth.metrics._neighbours import hamming_distances, nearest_neighbours
from genosynth.metrics.fidelity import (
    allele_frequencies,
    allele_frequency_metrics,
    case_control_differences,
    genotype_frequency_metrics,
    hardy_weinberg_exact,
    heterozygosity_metrics,
)
from genosynth.metrics.kinship import king_kinship, relatives
from genosynth.metrics.ld import ld_matrix, ld_metrics, three_point_correlations
from genosynth.metrics.membership import density_ratio_attack, distance_attack
from genosynth.metrics.pca import pca_overlap
from genosynth.metrics.privacy import (
    adversarial_accuracy,
    distance_to_closest_record,
    identical_match_rate,
    nearest_neighbour_distance_ratio,
)
from genosynth.metrics.report import EvaluationReport, evaluate
from genosynth.metrics.segments import longest_shared_segments, shared_segments
from genosynth.metrics.utility import association_recovery, tstr

__all__ = [
    "EvaluationReport",
    "adversarial_accuracy",
    "allele_frequencies",
    "allele_frequency_metrics",
    "association_recovery",
    "case_control_differences",
    "density_ratio_attack",
    "distance_attack",
    "distance_to_closest_record",
    "evaluate",
    "genotype_frequency_metrics",
    "hamming_distances",
    "hardy_weinberg_exact",
    "heterozygosity_metrics",
    "identical_match_rate",
    "king_kinship",
    "ld_matrix",
    "ld_metrics",
    "longest_shared_segments",
    "nearest_neighbour_distance_ratio",
    "nearest_neighbours",
    "pca_overlap",
    "relatives",
    "shared_segments",
    "three_point_correlations",
    "tstr",
]

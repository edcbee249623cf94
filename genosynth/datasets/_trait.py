"""The trait: known causal variants, a liability, and optionally an ancestry effect.

``n_causal`` variants drawn at random carry effects ``b_j ~ N(0, 1)`` on
standardised genotypes ``(x_ij - 2 p_j) / sqrt(2 p_j (1 - p_j))`` (``p_j``:
the cohort's alternate allele frequency), rescaled so that the genetic value
has variance ``heritability`` in the cohort; the liability is the genetic
value plus environmental noise ``N(0, 1 - heritability)`` plus, with
``ancestry_effect``, a shift that depends on ancestry alone (a confounder:
ancestry-informative variants then associate with the trait unless the
analysis adjusts for ancestry, e.g. with principal components).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np


@dataclass
class Trait:
    causal: np.ndarray  # (n_causal,) sorted variant indices
    effect: np.ndarray  # (variants,) per alt allele, liability scale
    liability: np.ndarray  # (samples,)
    ancestry_shift: np.ndarray | None  # (samples,) the ancestry part of the liability


def ancestry_matrix(genetics, populations):
    """Each individual's ancestry fractions and the names of their columns.

    Without admixture, ancestry is the sampled population itself (one-hot);
    with it, the fractions traced through the census (columns never reached
    are dropped).
    """
    if genetics.ancestry is None:
        one_hot = np.eye(len(populations))[genetics.population]
        return one_hot, tuple(populations)
    present = genetics.ancestry.sum(axis=0) > 0
    names = tuple(n for n, keep in zip(genetics.ancestry_names, present) if keep)
    return genetics.ancestry[:, present], names


def check_ancestry_effect(ancestry_effect, names):
    """The shift per ancestry as an array over ``names`` (0 where not named), or None."""
    if ancestry_effect is None:
        return None
    if not isinstance(ancestry_effect, dict):
        raise TypeError(
            "ancestry_effect must be a dict of population name -> liability shift, got "
            f"{type(ancestry_effect).__name__}"
        )
    shift = np.zeros(len(names))
    for name, value in ancestry_effect.items():
        if name not in names:
            raise ValueError(
                f"ancestry_effect names {name!r}, which is not an ancestry of this cohort "
                f"(its ancestries: {', '.join(names)})"
            )
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise ValueError(f"ancestry_effect[{name!r}] must be a finite number, got {value!r}")
        shift[names.index(name)] = float(value)
    return shift


def draw_trait(genetics, n_causal, heritability, rng, ancestry_shift=None) -> Trait:
    n_variants = genetics.call_genotype.shape[0]
    if n_causal > n_variants:
        raise ValueError(
            f"n_causal={n_causal} exceeds the {n_variants} common variants simulated; "
            "increase sequence_length or lower n_causal"
        )
    causal = np.sort(rng.choice(n_variants, size=n_causal, replace=False))
    dosage = genetics.call_genotype[causal].sum(axis=2, dtype=np.float64)  # (n_causal, samples)
    freq = dosage.mean(axis=1) / 2.0
    scale = np.sqrt(2.0 * freq * (1.0 - freq))
    standardised_effect = rng.standard_normal(n_causal)
    per_allele = standardised_effect / scale
    genetic = per_allele @ (dosage - 2.0 * freq[:, None])
    genetic_variance = genetic.var()
    if heritability > 0 and genetic_variance == 0:
        raise ValueError(
            "the causal variants do not vary jointly in this cohort; increase n_samples"
        )
    gain = math.sqrt(heritability / genetic_variance) if heritability > 0 else 0.0
    environment = rng.standard_normal(genetics.call_genotype.shape[1])
    liability = gain * genetic + math.sqrt(1.0 - heritability) * environment
    if ancestry_shift is not None:
        liability = liability + ancestry_shift
    effect = np.zeros(n_variants)
    effect[causal] = gain * per_allele
    return Trait(causal=causal, effect=effect, liability=liability, ancestry_shift=ancestry_shift)

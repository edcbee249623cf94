"""Simulated cohorts with real linkage disequilibrium and known causal variants.

A cohort is a sample of a population whose history comes from the field's
own library of demographic models (stdpopsim's ``HomSap`` models, by default
the growing European population of Tennessen et al. 2012), simulated with
msprime on stretches of several HomSap chromosomes, with a trait built from
known causal variants under the liability-threshold model. A cohort drawn
this way is what a biobank is: a small sample of a large population, in which
unrelated individuals share only short stretches of haplotype.

* :func:`simulate_case_control` — binary trait (cases = the highest
  liabilities);
* :func:`simulate_quantitative_trait` — the standardised liability as a trait;
* :func:`load_demo` — a fixed small cohort for the demo and the examples.

Allele coding follows genosynth's convention: ``variant_allele[:, 0]`` (ref)
is the ancestral allele, ``variant_allele[:, 1]`` (alt) the derived one, and
``variant_effect`` is the change in liability per copy of the alt allele.

Private modules: ``_demography`` (which population history, which genome),
``_genetics`` (msprime, streamed into int8), ``_trait`` (causal variants,
liability, ancestry effect), ``_dataset`` (the sgkit Dataset), ``_cohorts``
(the public functions).
"""

from genosynth.datasets._cohorts import (
    load_demo,
    simulate_case_control,
    simulate_quantitative_trait,
)
from genosynth.datasets._demography import DEFAULT_DEMOGRAPHY, GROWTH_TIME, SPLIT_TIME

__all__ = [
    "DEFAULT_DEMOGRAPHY",
    "GROWTH_TIME",
    "SPLIT_TIME",
    "load_demo",
    "simulate_case_control",
    "simulate_quantitative_trait",
]

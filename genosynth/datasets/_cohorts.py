"""The public simulators: a case-control cohort, a quantitative trait, the demo cohort."""

from __future__ import annotations

import functools
import math

import numpy as np

from genosynth.datasets._checks import check_int, check_real, rng_and_seed_record
from genosynth.datasets._dataset import build_dataset
from genosynth.datasets._demography import DEFAULT_DEMOGRAPHY, SPLIT_TIME, resolve_model
from genosynth.datasets._genetics import simulate_genetics
from genosynth.datasets._trait import ancestry_matrix, check_ancestry_effect, draw_trait

_DEFAULT_CHROMOSOMES = 6


def _check_sizes(n_samples, sequence_length, n_variants, n_causal, n_chromosomes):
    n_samples = check_int("n_samples", n_samples, 2)
    n_causal = check_int("n_causal", n_causal, 1)
    n_chromosomes = check_int("n_chromosomes", n_chromosomes, 1)
    if (sequence_length is None) == (n_variants is None):
        raise ValueError(
            "give exactly one of sequence_length (bp per chromosome) and n_variants "
            f"(number of common variants); got sequence_length={sequence_length!r}, "
            f"n_variants={n_variants!r}"
        )
    if sequence_length is not None:
        length = check_real("sequence_length", sequence_length, 1.0, math.inf)
        if length != int(length):
            raise ValueError(f"sequence_length must be a whole number of bp, got {length}")
        return n_samples, n_causal, n_chromosomes, [int(length)] * n_chromosomes, None
    n_variants = check_int("n_variants", n_variants, n_chromosomes)
    if n_causal > n_variants:
        raise ValueError(f"n_causal={n_causal} exceeds n_variants={n_variants}")
    targets = [
        n_variants // n_chromosomes + (c < n_variants % n_chromosomes) for c in range(n_chromosomes)
    ]
    return n_samples, n_causal, n_chromosomes, None, targets


def _simulate(
    n_samples,
    *,
    demography,
    populations,
    sequence_length,
    n_variants,
    n_causal,
    heritability,
    ancestry_effect,
    maf_min,
    n_chromosomes,
    recombination_rate,
    mutation_rate,
    site_fraction,
    n_populations,
    effective_population_size,
    growth_factor,
    random_state,
    n_jobs,
    check_extra=None,
):
    """Genetics and liability of a cohort, and the attrs describing how they were made."""
    n_samples, n_causal, n_chromosomes, lengths, targets = _check_sizes(
        n_samples, sequence_length, n_variants, n_causal, n_chromosomes
    )
    heritability = check_real("heritability", heritability, 0.0, 1.0)
    maf_min = check_real("maf_min", maf_min, 0.0, 0.5, closed_low=False)
    if not (isinstance(site_fraction, str) and site_fraction == "auto"):
        site_fraction = check_real("site_fraction", site_fraction, 0.0, 1.0, closed_low=False)
    model, counts = resolve_model(
        demography,
        populations,
        n_samples,
        n_chromosomes,
        recombination_rate,
        mutation_rate,
        n_populations=n_populations,
        effective_population_size=effective_population_size,
        growth_factor=growth_factor,
    )
    extra = check_extra(n_samples) if check_extra is not None else None
    # Names are checked before the simulation where they can be: the sampled populations
    # without admixture, any population of the demography with it (then again afterwards,
    # against the ancestries the census actually reached).
    check_ancestry_effect(
        ancestry_effect,
        model.populations
        if model.census_time is None
        else tuple(p.name for p in model.demography.populations),
    )
    rng, seed_record = rng_and_seed_record(random_state)
    genetics = simulate_genetics(
        model,
        counts,
        n_samples,
        targets or [None] * n_chromosomes,
        lengths or [None] * n_chromosomes,
        maf_min,
        site_fraction,
        rng,
        n_jobs=n_jobs,
    )
    fractions, ancestries = ancestry_matrix(genetics, model.populations)
    shift = check_ancestry_effect(ancestry_effect, ancestries)
    trait = draw_trait(
        genetics, n_causal, heritability, rng, None if shift is None else fractions @ shift
    )
    attrs = {
        "n_causal": n_causal,
        "heritability": heritability,
        "demography": model.name,
        "populations": list(model.populations),
        "n_populations": len(model.populations),
        "maf_min": maf_min,
        "n_chromosomes": n_chromosomes,
        "chromosomes": list(model.chromosome_ids),
        "sequence_length": genetics.sequence_length,
        "n_sites_simulated": genetics.n_sites,
        "recombination_rate": list(model.recombination_rates),
        "mutation_rate": model.mutation_rate,
        "site_fraction": genetics.site_fraction,
        "random_state": seed_record,
    }
    if model.constant is not None:
        attrs["split_time"] = SPLIT_TIME if len(model.populations) > 1 else 0
        attrs["effective_population_size"] = model.constant["effective_population_size"]
        attrs["growth_factor"] = model.constant["growth_factor"]
    if ancestry_effect is not None:
        attrs["ancestry_effect"] = {k: float(v) for k, v in ancestry_effect.items()}
    extra_vars = {}
    if genetics.ancestry is not None:
        attrs["ancestries"] = list(ancestries)
        extra_vars["sample_ancestry"] = (("samples", "ancestries"), fractions)
    attrs.update(_versions(model))
    return genetics, trait, attrs, extra_vars, rng, extra


def _versions(model):
    import msprime

    versions = {"msprime_version": msprime.__version__}
    if model.name not in ("constant", "msprime.Demography"):
        import stdpopsim

        versions["stdpopsim_version"] = stdpopsim.__version__
    return versions


_COMMON_PARAMETERS = """\
    demography : str or msprime.Demography, default="OutOfAfrica_2T12"
        The population history the cohort is drawn from:

        * a stdpopsim ``HomSap`` model id, e.g. ``"OutOfAfrica_2T12"`` (the
          default: Tennessen et al. 2012, whose European population grew
          from ~9,300 to ~500,000 over the last 205 generations, so that a
          cohort of thousands is a small sample of a large population, as a
          biobank is), ``"OutOfAfrica_3G09"`` or ``"AmericanAdmixture_4B18"``;
        * an ``msprime.Demography`` (not modified);
        * ``"constant"``: genosynth's own model of ``n_populations`` demes of
          ``effective_population_size`` individuals (optionally grown by
          ``growth_factor``), on uniform rates. Fast, and kept for unit tests:
          a cohort of thousands drawn from 10,000 people is a family, whose
          holdout individuals carry whole-region copies of training haplotypes.

        With a stdpopsim or msprime demography, chromosome ``c`` is a stretch
        of HomSap chromosome ``c`` at its mean recombination rate (no genetic
        map is downloaded), and the mutation rate is the one the model was
        inferred with (else the chromosome's).
    populations : str, list of str or dict, optional
        Populations to sample (stdpopsim or msprime demographies): names,
        among which individuals are divided evenly in random order, or a
        dict of name to number of individuals (summing to ``n_samples``).
        Default: ``"EUR"`` for ``"OutOfAfrica_2T12"``, every population that
        can be sampled at the present for other models.
        ``sample_population`` records each individual's population.
    sequence_length : int, optional
        Length in bp of each simulated chromosome; every common variant found
        is kept. Exactly one of ``sequence_length`` and ``n_variants``.
    n_variants : int, optional
        Number of common variants to return, spread evenly over the
        chromosomes. Each chromosome is simulated a little longer than the
        expected length for its share and its *first* common variants are
        kept (a contiguous region, so LD stays natural); a run that falls
        short is redone on a longer chromosome. With a stdpopsim or msprime
        demography the mutations are thinned (``site_fraction="auto"``) so
        that each chromosome spans about 12 Mb.
    n_causal : int, default=50
        Number of causal variants, drawn uniformly among the kept variants.
    heritability : float, default=0.5
        Share of the variance of the liability's genetic value + noise
        explained by the causal variants, in [0, 1].
    ancestry_effect : dict, optional
        A shift of the liability per ancestry, e.g. ``{"AFR": 0.5}``: each
        individual's liability moves by the sum of the shifts of its
        ancestries weighted by its ancestry fractions (its own population
        without admixture; traced through the tree sequence with it, see
        ``sample_ancestry``). A confounder: association tests that do not
        adjust for ancestry then find ancestry-informative variants.
    maf_min : float, default=0.01
        Minimum minor allele frequency of the kept variants, in (0, 0.5].
    n_chromosomes : int, default=6
        Number of independently simulated chromosomes (contigs ``"1"``,
        ``"2"``, ...; at most 22, the HomSap autosomes, except with
        ``"constant"``), so that trait loci spread over independent regions.
    recombination_rate : float, optional
        Per bp per generation, on every chromosome. Default: each HomSap
        chromosome's mean rate (``1e-8`` with ``"constant"``).
    mutation_rate : float, optional
        Per bp per generation. Default: the model's (``1.25e-8`` with
        ``"constant"``).
    site_fraction : float or "auto", default="auto"
        Share of the simulated mutations kept, in (0, 1]: the mutation rate
        is multiplied by it, which is the same as keeping each site at random
        with this probability, as a genotyping array types a fraction of the
        common SNPs (about one per 4 kb, against one per 400 bp simulated at
        10,000 individuals). ``"auto"``: with ``n_variants`` and a stdpopsim
        or msprime demography, the fraction that spreads each chromosome's
        share over a stretch of about 12 Mb, so that the genome is long enough
        for unrelated people to look unrelated (at most 1: a request that
        needs more than 12 Mb per chromosome keeps every site); 1 otherwise.
        Recorded in ``attrs["site_fraction"]``.
    n_populations : int, optional
        ``"constant"`` only: number of demes (default 1). With more than one,
        the demes split from an ancestral population ``SPLIT_TIME`` = 2,000
        generations ago.
    effective_population_size : float, optional
        ``"constant"`` only: diploid effective size of every deme (default
        10,000).
    growth_factor : float, optional
        ``"constant"`` only: present-day size of every deme as a multiple of
        ``effective_population_size`` (default 1), reached by exponential
        growth over the last ``GROWTH_TIME`` = 204 generations.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds everything, msprime included. The same value gives an identical
        Dataset, whatever ``n_jobs``.
    n_jobs : int, optional
        Worker processes simulating chromosomes side by side (msprime runs
        on one core): None means 1, -1 every core. The "constant" model
        always runs in one process."""


def _format_doc(doc):
    return doc.replace("    COMMON_PARAMETERS", _COMMON_PARAMETERS)


def simulate_case_control(
    n_samples=2000,
    *,
    demography=DEFAULT_DEMOGRAPHY,
    populations=None,
    sequence_length=None,
    n_variants=None,
    n_causal=50,
    heritability=0.5,
    prevalence=0.2,
    ancestry_effect=None,
    maf_min=0.01,
    n_chromosomes=_DEFAULT_CHROMOSOMES,
    recombination_rate=None,
    mutation_rate=None,
    site_fraction="auto",
    n_populations=None,
    effective_population_size=None,
    growth_factor=None,
    random_state=None,
    n_jobs=None,
):
    def check_prevalence(n):
        value = check_real("prevalence", prevalence, 0.0, 1.0, closed_low=False, closed_high=False)
        n_cases = round(value * n)
        if not 1 <= n_cases <= n - 1:
            raise ValueError(
                f"prevalence={value} gives {n_cases} cases among {n} individuals; both "
                "classes need at least one individual"
            )
        return value, n_cases

    genetics, trait, attrs, extra_vars, rng, (prev, n_cases) = _simulate(
        n_samples,
        demography=demography,
        populations=populations,
        sequence_length=sequence_length,
        n_variants=n_variants,
        n_causal=n_causal,
        heritability=heritability,
        ancestry_effect=ancestry_effect,
        maf_min=maf_min,
        n_chromosomes=n_chromosomes,
        recombination_rate=recombination_rate,
        mutation_rate=mutation_rate,
        site_fraction=site_fraction,
        n_populations=n_populations,
        effective_population_size=effective_population_size,
        growth_factor=growth_factor,
        random_state=random_state,
        n_jobs=n_jobs,
        check_extra=check_prevalence,
    )
    phenotype = np.zeros(genetics.call_genotype.shape[1], dtype=np.int8)
    phenotype[np.argsort(trait.liability, kind="stable")[-n_cases:]] = 1
    attrs = {"trait": "binary", "prevalence": prev, **attrs}
    extra_vars["sample_liability"] = ("samples", trait.liability)
    return build_dataset(genetics, trait, phenotype, extra_vars, attrs, rng)


simulate_case_control.__doc__ = _format_doc(
    """Simulate a case-control cohort under the liability-threshold model.

    Genotypes are simulated with msprime (coalescent with recombination, then
    biallelic mutations) under the chosen population history; common
    variants are kept; ``n_causal`` of them, drawn at random, carry effects
    ``N(0, 1)`` on standardised genotypes, rescaled so that the genetic value
    explains ``heritability`` of the liability's variance in the cohort;
    environmental noise has variance ``1 - heritability``. The
    ``round(prevalence * n_samples)`` individuals with the highest liability
    are the cases, so the realised prevalence is the requested one up to
    ``1 / (2 n_samples)``.

    Parameters
    ----------
    n_samples : int, default=2000
        Number of diploid individuals.
    COMMON_PARAMETERS
    prevalence : float, default=0.2
        Fraction of cases, in (0, 1).

    Returns
    -------
    xarray.Dataset
        An sgkit Dataset with ``call_genotype`` (variants, samples, ploidy)
        ``int8`` phased haplotypes; ``call_genotype_mask`` and
        ``call_genotype_phased`` (read-only zero-copy views: nothing is
        missing, everything is phased); ``variant_contig``, ``contig_id``,
        ``variant_position`` (1-based, strictly increasing within a contig),
        ``variant_allele`` (ref = ancestral, alt = derived; random
        nucleotides), ``variant_id`` (``"contig:position"``), ``sample_id``,
        ``sample_phenotype`` (``int8`` 0/1), ``sample_liability``,
        ``sample_population`` (index into ``attrs["populations"]``),
        ``variant_effect`` (effect on the liability per copy of the alt
        allele, 0 for non-causal variants) and ``variant_causal``; with an
        admixed population, ``sample_ancestry`` (samples, ancestries): the
        share of each individual's genome inherited through each population
        of ``attrs["ancestries"]`` just before the admixture. ``attrs``
        record the simulation parameters.

    Raises
    ------
    ValueError
        If a parameter is out of range, if the demography is unknown or lacks
        a requested population, if both or neither of ``sequence_length`` and
        ``n_variants`` are given, if ``n_causal`` exceeds the number of common
        variants, or if the prevalence gives no case or no control.
    TypeError
        If a parameter has the wrong type.

    See Also
    --------
    simulate_quantitative_trait : the same cohort with a continuous trait.
    load_demo : a fixed cohort for examples.

    Examples
    --------
    >>> from genosynth.datasets import simulate_case_control
    >>> ds = simulate_case_control(200, n_variants=300, n_causal=5, prevalence=0.25,
    ...                            random_state=0)
    >>> ds["call_genotype"].shape
    (300, 200, 2)
    >>> int(ds["sample_phenotype"].sum()), ds.attrs["populations"]
    (50, ['EUR'])

    Three populations, one of them admixed, with a trait that shifts with
    African ancestry:

    >>> ds = simulate_case_control(300, demography="AmericanAdmixture_4B18",
    ...                            n_variants=300, n_causal=5,
    ...                            ancestry_effect={"AFR": 1.0}, random_state=0)
    >>> ds.attrs["populations"], ds.attrs["ancestries"]
    (['AFR', 'EUR', 'ASIA', 'ADMIX'], ['AFR', 'EUR', 'ASIA'])
    """
)


def simulate_quantitative_trait(
    n_samples=2000,
    *,
    demography=DEFAULT_DEMOGRAPHY,
    populations=None,
    sequence_length=None,
    n_variants=None,
    n_causal=50,
    heritability=0.5,
    ancestry_effect=None,
    maf_min=0.01,
    n_chromosomes=_DEFAULT_CHROMOSOMES,
    recombination_rate=None,
    mutation_rate=None,
    site_fraction="auto",
    n_populations=None,
    effective_population_size=None,
    growth_factor=None,
    random_state=None,
    n_jobs=None,
):
    genetics, trait, attrs, extra_vars, rng, _ = _simulate(
        n_samples,
        demography=demography,
        populations=populations,
        sequence_length=sequence_length,
        n_variants=n_variants,
        n_causal=n_causal,
        heritability=heritability,
        ancestry_effect=ancestry_effect,
        maf_min=maf_min,
        n_chromosomes=n_chromosomes,
        recombination_rate=recombination_rate,
        mutation_rate=mutation_rate,
        site_fraction=site_fraction,
        n_populations=n_populations,
        effective_population_size=effective_population_size,
        growth_factor=growth_factor,
        random_state=random_state,
        n_jobs=n_jobs,
    )
    sd = trait.liability.std()
    phenotype = (trait.liability - trait.liability.mean()) / sd
    trait.effect /= sd
    attrs = {"trait": "quantitative", **attrs}
    return build_dataset(genetics, trait, phenotype, extra_vars, attrs, rng)


simulate_quantitative_trait.__doc__ = _format_doc(
    """Simulate a cohort with a continuous, standardised trait.

    The genetics and the liability are exactly those of
    :func:`simulate_case_control` with the same arguments; the phenotype is
    the liability standardised to mean 0 and variance 1 in the cohort, and
    ``variant_effect`` is expressed on that standardised scale.

    Parameters
    ----------
    n_samples : int, default=2000
        Number of diploid individuals.
    COMMON_PARAMETERS

    Returns
    -------
    xarray.Dataset
        As :func:`simulate_case_control` returns, without
        ``sample_liability``, and with ``sample_phenotype`` of dtype float64.

    Examples
    --------
    >>> from genosynth.datasets import simulate_quantitative_trait
    >>> ds = simulate_quantitative_trait(200, n_variants=300, n_causal=5, random_state=0)
    >>> y = ds["sample_phenotype"].values
    >>> bool(abs(y.mean()) < 1e-12), round(float(y.std()), 6)
    (True, 1.0)
    """
)


@functools.lru_cache(maxsize=1)
def _demo_cohort():
    return simulate_case_control(
        3000,
        n_variants=4000,
        n_causal=100,
        heritability=0.5,
        prevalence=0.3,
        random_state=20260301,
        # The same cohort whatever the core count; chromosomes are simulated in parallel
        # (benchmarks/README.md, "The default cohort: stdpopsim's growing European population").
        n_jobs=-1,
    )


def load_demo():
    """A small fixed case-control cohort for the demo, the examples and the docs.

    3,000 individuals sampled from the growing European population of the
    default demography (stdpopsim ``OutOfAfrica_2T12``) x 4,000 common
    variants (MAF >= 0.01) on six chromosomes, 100 causal variants,
    heritability 0.5 on the liability scale, prevalence 0.3 (900 cases).
    Built by :func:`simulate_case_control` with a fixed seed the first time,
    then served from a cache; every call returns an
    independent copy.

    Returns
    -------
    xarray.Dataset
        See :func:`simulate_case_control`.

    Examples
    --------
    >>> from genosynth.datasets import load_demo
    >>> ds = load_demo()
    >>> dict(ds.sizes)["samples"], dict(ds.sizes)["variants"]
    (3000, 4000)
    >>> int(ds["sample_phenotype"].sum()), ds.attrs["demography"]
    (900, 'OutOfAfrica_2T12')
    """
    return _demo_cohort().copy(deep=True)

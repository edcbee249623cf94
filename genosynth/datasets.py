"""Simulated cohorts with real linkage disequilibrium and known causal variants.

Genotypes come from msprime: a coalescent with recombination (so linkage
disequilibrium (LD) decays with distance as in real genomes) followed by
mutations under a binary (0 = ancestral, 1 = derived) model, so every site is
biallelic. Only common variants (minor allele frequency >= ``maf_min``) are
kept. A trait is then built from ``n_causal`` variants drawn at random:

* per-variant effects ``b_j ~ N(0, 1)`` on standardised genotypes
  ``(x_ij - 2 p_j) / sqrt(2 p_j (1 - p_j))`` (``p_j``: the cohort's alternate
  allele frequency), rescaled so that the genetic value has variance
  ``heritability`` in the cohort;
* liability = genetic value + environmental noise ``N(0, 1 - heritability)``;
* :func:`simulate_case_control`: the ``round(prevalence * n_samples)``
  individuals with the highest liability are cases (liability-threshold
  model with the threshold at the cohort's ``1 - prevalence`` quantile);
  :func:`simulate_quantitative_trait`: the phenotype is the standardised
  liability.

Allele coding follows genosynth's convention: ``variant_allele[:, 0]`` (ref)
is the ancestral allele, ``variant_allele[:, 1]`` (alt) the derived one, and
``variant_effect`` is the change in liability per copy of the alt allele.

The genotype matrix is streamed from the tree sequence into one preallocated
``int8`` array of the kept variants only (``ts.genotype_matrix()`` would hold
every site of the cohort as ``int32``), so peak memory stays close to the size
of ``call_genotype`` itself.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

__all__ = [
    "GROWTH_TIME",
    "SPLIT_TIME",
    "load_demo",
    "simulate_case_control",
    "simulate_quantitative_trait",
]

# Generations since the demes of a multi-population cohort split from their common
# ancestor. With demes of N_e = 10,000 this gives F_ST ~ 1 - exp(-T / 2N_e) ~ 0.1,
# the order of magnitude between continental human groups.
SPLIT_TIME = 2_000

# Generations of recent exponential growth when ``growth_factor > 1``: the span of the
# European-ancestry growth phase in Tennessen et al. (2012), which multiplied the
# population about 54-fold (from ~9,500 to ~512,000) over 204 generations.
GROWTH_TIME = 204

_NUCLEOTIDES = np.array([b"A", b"C", b"G", b"T"], dtype="S1")

# Over-simulate by this factor (plus a small-count allowance) so that one run usually
# yields the requested number of common variants; surplus variants are dropped.
_LENGTH_MARGIN = 1.15


@dataclass
class _Genetics:
    call_genotype: np.ndarray  # (variants, samples, 2) int8, phased haplotypes
    position: np.ndarray  # (variants,) int64, 1-based
    contig: np.ndarray  # (variants,) int64 index into contig names
    population: np.ndarray  # (samples,) int64
    sequence_length: list  # simulated bp per chromosome
    n_sites: list  # sites simulated per chromosome, before the MAF filter


@dataclass
class _Trait:
    causal: np.ndarray  # (n_causal,) sorted variant indices
    effect: np.ndarray  # (variants,) per alt allele, liability scale
    liability: np.ndarray  # (samples,)


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def _check_real(name, value, low, high, *, closed_low=True, closed_high=True):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    above = value >= low if closed_low else value > low
    below = value <= high if closed_high else value < high
    if not math.isfinite(value) or not (above and below):
        interval = f"{'[' if closed_low else '('}{low}, {high}{']' if closed_high else ')'}"
        raise ValueError(f"{name} must lie in {interval}, got {value}")
    return value


def _check_genetics_params(
    n_samples,
    sequence_length,
    n_variants,
    n_causal,
    heritability,
    n_populations,
    maf_min,
    n_chromosomes,
    recombination_rate,
    mutation_rate,
    effective_population_size,
    growth_factor,
):
    params = {
        "n_samples": _check_int("n_samples", n_samples, 2),
        "n_causal": _check_int("n_causal", n_causal, 1),
        "heritability": _check_real("heritability", heritability, 0.0, 1.0),
        "n_populations": _check_int("n_populations", n_populations, 1),
        "maf_min": _check_real("maf_min", maf_min, 0.0, 0.5, closed_low=False),
        "n_chromosomes": _check_int("n_chromosomes", n_chromosomes, 1),
        "recombination_rate": _check_real("recombination_rate", recombination_rate, 0.0, 1.0),
        "mutation_rate": _check_real("mutation_rate", mutation_rate, 0.0, 1.0, closed_low=False),
        "effective_population_size": _check_real(
            "effective_population_size", effective_population_size, 0.0, math.inf, closed_low=False
        ),
        "growth_factor": _check_real("growth_factor", growth_factor, 1.0, math.inf),
    }
    if (sequence_length is None) == (n_variants is None):
        raise ValueError(
            "give exactly one of sequence_length (bp per chromosome) and n_variants "
            f"(number of common variants); got sequence_length={sequence_length!r}, "
            f"n_variants={n_variants!r}"
        )
    if sequence_length is not None:
        length = _check_real("sequence_length", sequence_length, 1.0, math.inf)
        if length != int(length):
            raise ValueError(f"sequence_length must be a whole number of bp, got {length}")
        params["sequence_length"], params["n_variants"] = int(length), None
    else:
        params["sequence_length"] = None
        params["n_variants"] = _check_int("n_variants", n_variants, params["n_chromosomes"])
        if params["n_causal"] > params["n_variants"]:
            raise ValueError(
                f"n_causal={params['n_causal']} exceeds n_variants={params['n_variants']}"
            )
    if params["n_populations"] > params["n_samples"]:
        raise ValueError(
            f"n_populations={params['n_populations']} exceeds n_samples={params['n_samples']}"
        )
    return params


def _rng_and_seed_record(random_state):
    """A Generator, and what to record in ``attrs`` so the cohort can be rebuilt."""
    if isinstance(random_state, np.random.Generator):
        return random_state, "numpy.random.Generator (state not recorded)"
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, Integral)
    ):
        raise TypeError(
            f"random_state must be None, an int or a numpy Generator, got {random_state!r}"
        )
    seed_sequence = np.random.SeedSequence(random_state)
    # The entropy of a None seed is recorded too, so any cohort can be regenerated.
    return np.random.Generator(np.random.PCG64(seed_sequence)), str(seed_sequence.entropy)


def _msprime_seed(rng) -> int:
    return int(rng.integers(1, 2**31 - 1))


def _demography(n_populations, effective_population_size, growth_factor):
    import msprime

    demography = msprime.Demography()
    for k in range(n_populations):
        # msprime sizes are given at the present and shrink going back in time.
        demography.add_population(
            name=f"pop{k}",
            initial_size=effective_population_size * growth_factor,
            growth_rate=math.log(growth_factor) / GROWTH_TIME,
        )
        if growth_factor > 1:
            demography.add_population_parameters_change(
                time=GROWTH_TIME,
                initial_size=effective_population_size,
                growth_rate=0,
                population=f"pop{k}",
            )
    if n_populations > 1:
        demography.add_population(name="ancestral", initial_size=effective_population_size)
        demography.add_population_split(
            time=SPLIT_TIME,
            derived=[f"pop{k}" for k in range(n_populations)],
            ancestral="ancestral",
        )
    return demography


def _sample_sets(population):
    """msprime SampleSets reproducing the (shuffled) population of each individual, in order."""
    import msprime

    starts = np.flatnonzero(np.diff(population, prepend=-1))
    sizes = np.diff(np.append(starts, population.size))
    return [
        msprime.SampleSet(int(size), population=int(population[start]), ploidy=2)
        for start, size in zip(starts, sizes)
    ]


def _expected_common_density(n_haplotypes, maf_min, effective_population_size, mutation_rate):
    """Expected common sites per bp in a constant-size panmictic population.

    Under the standard coalescent a site carries the derived allele on ``i`` of
    ``n`` haplotypes with expected density ``theta / i`` per bp
    (``theta = 4 N_e mu``); summing ``i`` over the common range gives the rate.
    Structured demographies only add branch length, so this is a lower bound there.
    """
    low = max(1, math.ceil(maf_min * n_haplotypes))
    counts = np.arange(low, n_haplotypes - low + 1)
    theta = 4.0 * effective_population_size * mutation_rate
    return theta * float(np.sum(1.0 / counts))


def _simulate_tree_sequence(length, samples, demography, params, rng):
    import msprime

    ts = msprime.sim_ancestry(
        samples=samples,
        demography=demography,
        sequence_length=length,
        recombination_rate=params["recombination_rate"],
        random_seed=_msprime_seed(rng),
    )
    return msprime.sim_mutations(
        ts,
        rate=params["mutation_rate"],
        model=msprime.BinaryMutationModel(),
        random_seed=_msprime_seed(rng),
    )


def _common_sites(ts, maf_min):
    """Ids of the sites whose minor allele frequency is >= maf_min (first streaming pass)."""
    n_haplotypes = ts.num_samples
    derived = np.empty(ts.num_sites, dtype=np.int64)
    for variant in ts.variants(copy=False):
        derived[variant.site.id] = np.count_nonzero(variant.genotypes)
    minor = np.minimum(derived, n_haplotypes - derived)
    return np.flatnonzero(minor / n_haplotypes >= maf_min)


def _simulate_chromosome(length, target, samples, demography, params, rng):
    """One chromosome's tree sequence and the ids of the common sites to keep.

    With a ``target`` number of variants, the first ``target`` common sites are
    kept (a contiguous region with its natural SNP density and LD); if the run
    falls short, a longer chromosome is simulated afresh.
    """
    while True:
        ts = _simulate_tree_sequence(length, samples, demography, params, rng)
        keep = _common_sites(ts, params["maf_min"])
        if target is None or keep.size >= target:
            return ts, keep[:target]
        shortfall = target / max(keep.size, 1)
        length = math.ceil(length * shortfall * _LENGTH_MARGIN)


def _fill_haplotypes(ts, keep, out):
    """Second streaming pass: decode only the kept sites into ``out`` (variants, 2 * samples)."""
    dropped = np.setdiff1d(np.arange(ts.num_sites), keep)
    for row, variant in zip(out, ts.delete_sites(dropped).variants(copy=False)):
        row[:] = variant.genotypes


def _simulate_genetics(params, rng) -> _Genetics:
    n_samples = params["n_samples"]
    n_chrom = params["n_chromosomes"]
    sizes = [
        n_samples // params["n_populations"] + (k < n_samples % params["n_populations"])
        for k in range(params["n_populations"])
    ]
    population = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    samples = _sample_sets(population)
    demography = _demography(
        params["n_populations"], params["effective_population_size"], params["growth_factor"]
    )

    if params["n_variants"] is None:
        targets = [None] * n_chrom
        lengths = [params["sequence_length"]] * n_chrom
    else:
        targets = [
            params["n_variants"] // n_chrom + (c < params["n_variants"] % n_chrom)
            for c in range(n_chrom)
        ]
        density = _expected_common_density(
            2 * n_samples,
            params["maf_min"],
            params["effective_population_size"],
            params["mutation_rate"],
        )
        lengths = [math.ceil(t * (_LENGTH_MARGIN + 2.0 / math.sqrt(t)) / density) for t in targets]

    chromosomes = [
        _simulate_chromosome(length, target, samples, demography, params, rng)
        for length, target in zip(lengths, targets)
    ]
    n_kept = sum(keep.size for _, keep in chromosomes)
    call_genotype = np.empty((n_kept, n_samples, 2), dtype=np.int8)
    haplotypes = call_genotype.reshape(n_kept, 2 * n_samples)
    positions, contigs, start = [], [], 0
    for c, (ts, keep) in enumerate(chromosomes):
        # sim_ancestry numbers sample nodes so that individual i owns nodes 2i and 2i + 1.
        _fill_haplotypes(ts, keep, haplotypes[start : start + keep.size])
        positions.append(ts.sites_position[keep].astype(np.int64) + 1)
        contigs.append(np.full(keep.size, c, dtype=np.int64))
        start += keep.size
    return _Genetics(
        call_genotype=call_genotype,
        position=np.concatenate(positions),
        contig=np.concatenate(contigs),
        population=population.astype(np.int64),
        sequence_length=[int(ts.sequence_length) for ts, _ in chromosomes],
        n_sites=[int(ts.num_sites) for ts, _ in chromosomes],
    )


def _draw_trait(genetics: _Genetics, n_causal, heritability, rng) -> _Trait:
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
    effect = np.zeros(n_variants)
    effect[causal] = gain * per_allele
    return _Trait(causal=causal, effect=effect, liability=liability)


def _variable_specs():
    from sgkit.variables import ArrayLikeSpec

    def spec(name, kind, dims, doc):
        return name, ArrayLikeSpec(name, kind=kind, dims=dims, __doc__=doc)

    return dict(
        [
            spec(
                "sample_phenotype",
                {"i", "f"},
                ("samples",),
                "Trait: 0 (control) / 1 (case), or a standardised quantitative value.",
            ),
            spec("sample_population", "i", ("samples",), "Index of the sample's deme."),
            spec("sample_liability", "f", ("samples",), "Liability: genetic value + noise."),
            spec(
                "variant_effect",
                "f",
                ("variants",),
                "True causal effect on the liability per copy of the alt allele (0 if not causal).",
            ),
            spec("variant_causal", "b", ("variants",), "Whether the variant is causal."),
        ]
    )


_SGKIT_VARIABLES = (
    "call_genotype",
    "call_genotype_mask",
    "call_genotype_phased",
    "contig_id",
    "variant_contig",
    "variant_position",
    "variant_allele",
    "variant_id",
    "sample_id",
)


def _build_dataset(genetics: _Genetics, trait: _Trait, phenotype, extra_vars, attrs, rng):
    import sgkit
    import xarray as xr

    n_variants, n_samples, _ = genetics.call_genotype.shape
    contig_names = [str(c + 1) for c in range(len(genetics.sequence_length))]
    ref = rng.integers(0, 4, size=n_variants)
    alt = (ref + rng.integers(1, 4, size=n_variants)) % 4
    variant_id = np.array(
        [f"{contig_names[c]}:{p}" for c, p in zip(genetics.contig, genetics.position)]
    )
    # No call is missing and all are phased: zero-copy read-only views instead of two more
    # arrays the size of the cohort (a deep copy of the Dataset materialises them).
    no_missing = np.broadcast_to(np.False_, genetics.call_genotype.shape)
    phased = np.broadcast_to(np.True_, (n_variants, n_samples))
    gt_dims = ("variants", "samples", "ploidy")
    data_vars = {
        "contig_id": ("contigs", np.array(contig_names)),
        "variant_contig": ("variants", genetics.contig),
        "variant_position": ("variants", genetics.position),
        "variant_allele": (
            ("variants", "alleles"),
            np.stack([_NUCLEOTIDES[ref], _NUCLEOTIDES[alt]], 1),
        ),
        "variant_id": ("variants", variant_id),
        "sample_id": ("samples", np.array([f"ind{i}" for i in range(n_samples)])),
        "call_genotype": (gt_dims, genetics.call_genotype, {"mixed_ploidy": False}),
        "call_genotype_mask": (gt_dims, no_missing),
        "call_genotype_phased": (("variants", "samples"), phased),
        "sample_phenotype": ("samples", phenotype),
        "sample_population": ("samples", genetics.population),
        "variant_effect": ("variants", trait.effect),
        "variant_causal": ("variants", np.isin(np.arange(n_variants), trait.causal)),
        **extra_vars,
    }
    ds = xr.Dataset(
        data_vars,
        attrs={"contigs": contig_names, "source": "genosynth.datasets (msprime)", **attrs},
    )
    specs = _variable_specs()
    return sgkit.variables.annotate(
        ds, *_SGKIT_VARIABLES, {name: specs[name] for name in specs if name in ds}
    )


def _attrs(params, seed_record, genetics, **trait_params):
    import msprime

    return {
        **trait_params,
        "n_causal": params["n_causal"],
        "n_populations": params["n_populations"],
        "split_time": SPLIT_TIME if params["n_populations"] > 1 else 0,
        "maf_min": params["maf_min"],
        "n_chromosomes": params["n_chromosomes"],
        "sequence_length": genetics.sequence_length,
        "n_sites_simulated": genetics.n_sites,
        "recombination_rate": params["recombination_rate"],
        "mutation_rate": params["mutation_rate"],
        "effective_population_size": params["effective_population_size"],
        "growth_factor": params["growth_factor"],
        "random_state": seed_record,
        "msprime_version": msprime.__version__,
    }


def simulate_case_control(
    n_samples=2000,
    *,
    sequence_length=None,
    n_variants=None,
    n_causal=50,
    heritability=0.5,
    prevalence=0.2,
    n_populations=1,
    maf_min=0.01,
    n_chromosomes=1,
    recombination_rate=1e-8,
    mutation_rate=1.25e-8,
    effective_population_size=10_000,
    growth_factor=1.0,
    random_state=None,
):
    """Simulate a case-control cohort under the liability-threshold model.

    Genotypes are simulated with msprime (coalescent with recombination, then
    biallelic mutations); common variants are kept; ``n_causal`` of them, drawn
    at random, carry effects ``N(0, 1)`` on standardised genotypes, rescaled so
    that the genetic value explains ``heritability`` of the liability's
    variance in the cohort; environmental noise has variance
    ``1 - heritability``. The ``round(prevalence * n_samples)`` individuals
    with the highest liability are the cases, so the realised prevalence is
    the requested one up to ``1 / (2 n_samples)``.

    Parameters
    ----------
    n_samples : int, default=2000
        Number of diploid individuals.
    sequence_length : int, optional
        Length in bp of each simulated chromosome; every common variant found
        is kept. Exactly one of ``sequence_length`` and ``n_variants``.
    n_variants : int, optional
        Number of common variants to return, spread evenly over the
        chromosomes. Each chromosome is simulated a little longer than the
        expected length for its share and its *first* common variants are
        kept (a contiguous region, so SNP density and LD stay natural); a run
        that falls short is redone on a longer chromosome.
    n_causal : int, default=50
        Number of causal variants, drawn uniformly among the kept variants.
    heritability : float, default=0.5
        Share of the liability's variance explained by the causal variants,
        in [0, 1].
    prevalence : float, default=0.2
        Fraction of cases, in (0, 1).
    n_populations : int, default=1
        Number of demes. With more than one, the demes (``N_e`` each) split
        from an ancestral population ``SPLIT_TIME`` = 2,000 generations ago,
        individuals are divided evenly between them in random order, and
        ``sample_population`` records each one's deme. The trait model is the
        same in every deme (no mean shift).
    maf_min : float, default=0.01
        Minimum minor allele frequency of the kept variants, in (0, 0.5].
    n_chromosomes : int, default=1
        Number of independently simulated chromosomes (contigs ``"1"``,
        ``"2"``, ...).
    recombination_rate : float, default=1e-8
        Per bp per generation.
    mutation_rate : float, default=1.25e-8
        Per bp per generation.
    effective_population_size : float, default=10_000
        Diploid effective size of every deme.
    growth_factor : float, default=1.0
        Present-day size of every deme as a multiple of
        ``effective_population_size``. Above 1, each deme grew exponentially
        by this factor over the last ``GROWTH_TIME`` = 204 generations (the
        European growth phase of Tennessen et al. 2012 was about 54-fold);
        before that its size was ``effective_population_size``. With a
        constant size (1), a cohort of thousands is a sizeable share of a
        population of 10,000, so most individuals carry long haplotypes that
        are identical to another member's over a whole region, as close
        relatives would; recent growth makes such sharing as rare as in a
        large modern population, while older history still shapes the LD.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds everything, msprime included. The same value gives an identical
        Dataset; the genotypes, causal variants and liabilities equal those
        of :func:`simulate_quantitative_trait` with the same arguments.

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
        ``sample_population``, ``variant_effect`` (effect on the liability per
        copy of the alt allele, 0 for non-causal variants) and
        ``variant_causal``. ``attrs`` record the simulation parameters.

    Raises
    ------
    ValueError
        If a parameter is out of range, if both or neither of
        ``sequence_length`` and ``n_variants`` are given, if ``n_causal``
        exceeds the number of common variants, or if the prevalence gives no
        case or no control.

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
    >>> int(ds["sample_phenotype"].sum()), int(ds["variant_causal"].sum())
    (50, 5)
    """
    params = _check_genetics_params(
        n_samples,
        sequence_length,
        n_variants,
        n_causal,
        heritability,
        n_populations,
        maf_min,
        n_chromosomes,
        recombination_rate,
        mutation_rate,
        effective_population_size,
        growth_factor,
    )
    prevalence = _check_real(
        "prevalence", prevalence, 0.0, 1.0, closed_low=False, closed_high=False
    )
    n_cases = round(prevalence * params["n_samples"])
    if not 1 <= n_cases <= params["n_samples"] - 1:
        raise ValueError(
            f"prevalence={prevalence} gives {n_cases} cases among {params['n_samples']} "
            "individuals; both classes need at least one individual"
        )
    rng, seed_record = _rng_and_seed_record(random_state)
    genetics = _simulate_genetics(params, rng)
    trait = _draw_trait(genetics, params["n_causal"], params["heritability"], rng)
    phenotype = np.zeros(params["n_samples"], dtype=np.int8)
    phenotype[np.argsort(trait.liability, kind="stable")[-n_cases:]] = 1
    attrs = _attrs(
        params,
        seed_record,
        genetics,
        trait="binary",
        heritability=params["heritability"],
        prevalence=prevalence,
    )
    extra = {"sample_liability": ("samples", trait.liability)}
    return _build_dataset(genetics, trait, phenotype, extra, attrs, rng)


def simulate_quantitative_trait(
    n_samples=2000,
    *,
    sequence_length=None,
    n_variants=None,
    n_causal=50,
    heritability=0.5,
    n_populations=1,
    maf_min=0.01,
    n_chromosomes=1,
    recombination_rate=1e-8,
    mutation_rate=1.25e-8,
    effective_population_size=10_000,
    growth_factor=1.0,
    random_state=None,
):
    """Simulate a cohort with a continuous, standardised trait.

    The genetics and the liability are exactly those of
    :func:`simulate_case_control` with the same arguments; the phenotype is
    the liability standardised to mean 0 and variance 1 in the cohort, and
    ``variant_effect`` is expressed on that standardised scale.

    Parameters
    ----------
    n_samples, sequence_length, n_variants, n_causal, heritability, \
n_populations, maf_min, n_chromosomes, recombination_rate, mutation_rate, \
effective_population_size, growth_factor, random_state
        As in :func:`simulate_case_control`.

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
    params = _check_genetics_params(
        n_samples,
        sequence_length,
        n_variants,
        n_causal,
        heritability,
        n_populations,
        maf_min,
        n_chromosomes,
        recombination_rate,
        mutation_rate,
        effective_population_size,
        growth_factor,
    )
    rng, seed_record = _rng_and_seed_record(random_state)
    genetics = _simulate_genetics(params, rng)
    trait = _draw_trait(genetics, params["n_causal"], params["heritability"], rng)
    sd = trait.liability.std()
    phenotype = (trait.liability - trait.liability.mean()) / sd
    trait.effect /= sd
    attrs = _attrs(
        params, seed_record, genetics, trait="quantitative", heritability=params["heritability"]
    )
    return _build_dataset(genetics, trait, phenotype, {}, attrs, rng)


@functools.lru_cache(maxsize=1)
def _demo_cohort():
    return simulate_case_control(
        3000,
        n_variants=4000,
        n_causal=100,
        heritability=0.5,
        prevalence=0.3,
        n_chromosomes=2,
        random_state=20260301,
    )


def load_demo():
    """A small fixed case-control cohort for the demo, the examples and the docs.

    3,000 individuals (one population) x 4,000 common variants (MAF >= 0.01)
    on two chromosomes, 100 causal variants, heritability 0.5 on the
    liability scale, prevalence 0.3 (900 cases). Built by
    :func:`simulate_case_control` with a fixed seed in a few seconds the first
    time, then served from a cache; every call returns an independent copy.

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
    >>> int(ds["sample_phenotype"].sum())
    900
    """
    return _demo_cohort().copy(deep=True)

"""Haplotypes from msprime, streamed into one int8 array of the common variants.

Each chromosome is a coalescent with recombination (so LD decays with
distance as in real genomes) followed by mutations under a binary
(0 = ancestral, 1 = derived) model, so every site is biallelic. Only common
variants (minor allele frequency >= ``maf_min``) are kept. The genotype matrix
is streamed from the tree sequence into one preallocated ``int8`` array of
the kept variants only (``ts.genotype_matrix()`` would hold every site of the
cohort as ``int32``), so peak memory stays close to the size of
``call_genotype`` itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Over-simulate by this factor (plus a small-count allowance) so that one run usually
# yields the requested number of common variants; surplus variants are dropped.
_LENGTH_MARGIN = 1.15
# The same for stdpopsim and msprime histories, whose recent growth turns variation rare: they
# hold fewer common sites per Mb than the constant-size formula predicts, by more than the
# plain margin covers, so with it each chromosome would be simulated twice
# (benchmarks/README.md, "The default cohort: stdpopsim's growing European population").
_GROWN_LENGTH_MARGIN = 1.35

# With n_variants and a stdpopsim or msprime history, each chromosome is a stretch of about
# this many bp, and mutations are thinned so that it holds its share of the variants. A
# stretch of a few Mb crammed with every common SNP makes a panel of near-identical
# haplotypes and a genome too short for kinship: holdout haplotypes repeat training ones over
# a GWAS panel, and unrelated holdout individuals look like relatives of training ones; at
# this length both stay within the cohort yardstick's targets (benchmarks/README.md, "Is the
# cohort a biobank or a family?").
STRETCH_LENGTH = 12_000_000


@dataclass
class Genetics:
    call_genotype: np.ndarray  # (variants, samples, 2) int8, phased haplotypes
    position: np.ndarray  # (variants,) int64, 1-based
    contig: np.ndarray  # (variants,) int64 index into contig names
    population: np.ndarray  # (samples,) int64 index into Model.populations
    sequence_length: list  # simulated bp per chromosome
    n_sites: list  # sites simulated per chromosome, before the MAF filter
    ancestry: np.ndarray | None  # (samples, populations of the demography) fractions
    ancestry_names: tuple | None  # the demography's population names (ancestry columns)
    site_fraction: float  # share of the mutations kept (the mutation rate's thinning)


def _msprime_seed(rng) -> int:
    return int(rng.integers(1, 2**31 - 1))


def _sample_sets(population, population_ids):
    """msprime SampleSets reproducing the (shuffled) population of each individual, in order."""
    import msprime

    starts = np.flatnonzero(np.diff(population, prepend=-1))
    sizes = np.diff(np.append(starts, population.size))
    return [
        msprime.SampleSet(int(size), population=population_ids[population[start]], ploidy=2)
        for start, size in zip(starts, sizes)
    ]


def _expected_common_density(n_haplotypes, maf_min, pair_coalescence_time, mutation_rate):
    """Expected common sites per bp in a constant-size panmictic population.

    Under the standard coalescent a site carries the derived allele on ``i`` of
    ``n`` haplotypes with expected density ``theta / i`` per bp
    (``theta = 4 N_e mu = 2 mu E[T2]``); summing ``i`` over the common range
    gives the rate. Structure only adds branch length; recent growth moves
    variation from common to rare, which the shortfall loop of
    :func:`_simulate_chromosome` absorbs.
    """
    low = max(1, math.ceil(maf_min * n_haplotypes))
    counts = np.arange(low, n_haplotypes - low + 1)
    theta = 2.0 * pair_coalescence_time * mutation_rate
    return theta * float(np.sum(1.0 / counts))


def _simulate_tree_sequence(length, samples, model, chromosome, mutation_rate, rng):
    import msprime

    ts = msprime.sim_ancestry(
        samples=samples,
        demography=model.demography,
        sequence_length=length,
        recombination_rate=model.recombination_rates[chromosome],
        random_seed=_msprime_seed(rng),
    )
    return msprime.sim_mutations(
        ts,
        rate=mutation_rate,
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


def _check_length(length, model, chromosome):
    limit = model.max_lengths[chromosome]
    if limit is not None and length > limit:
        raise ValueError(
            f"chromosome {model.chromosome_ids[chromosome]} would need {length:,} bp but HomSap "
            f"chromosome {model.chromosome_ids[chromosome]} has {limit:,}; use more "
            "chromosomes (n_chromosomes) or fewer variants"
        )


def _simulate_chromosome(length, target, samples, model, chromosome, maf_min, mutation_rate, rng):
    """One chromosome's tree sequence and the ids of the common sites to keep.

    With a ``target`` number of variants, the first ``target`` common sites are
    kept (a contiguous region with its natural SNP density and LD); if the run
    falls short, a longer chromosome is simulated afresh.
    """
    while True:
        _check_length(length, model, chromosome)
        ts = _simulate_tree_sequence(length, samples, model, chromosome, mutation_rate, rng)
        keep = _common_sites(ts, maf_min)
        if target is None or keep.size >= target:
            return ts, keep[:target]
        shortfall = target / max(keep.size, 1)
        length = math.ceil(length * shortfall * _LENGTH_MARGIN)
        limit = model.max_lengths[chromosome]
        if limit is not None and length > limit >= ts.sequence_length * 1.01:
            length = limit  # the whole chromosome is the last try


def _fill_haplotypes(ts, keep, out):
    """Second streaming pass: decode only the kept sites into ``out`` (variants, 2 * samples)."""
    dropped = np.setdiff1d(np.arange(ts.num_sites), keep)
    for row, variant in zip(out, ts.delete_sites(dropped).variants(copy=False)):
        row[:] = variant.genotypes


def _ancestry_spans(ts, n_samples, n_populations):
    """Bp of each individual's two haplotypes inherited through each census population.

    The census records every lineage alive just before the admixture;
    ``link_ancestors`` maps each sample segment to the census lineage it descends
    from, whose population is the segment's ancestry.
    """
    import msprime

    census = np.flatnonzero(ts.nodes_flags & msprime.NODE_IS_CEN_EVENT)
    samples = ts.samples()
    edges = ts.dump_tables().link_ancestors(samples, census)
    # sim_ancestry numbers sample nodes so that individual i owns nodes 2i and 2i + 1.
    individual = edges.child // 2
    population = ts.nodes_population[edges.parent]
    span = np.bincount(
        individual * n_populations + population,
        weights=edges.right - edges.left,
        minlength=n_samples * n_populations,
    )
    return span.reshape(n_samples, n_populations)


def _assign_populations(model, n_samples, counts, rng):
    if counts is None:
        k = len(model.populations)
        counts = [n_samples // k + (i < n_samples % k) for i in range(k)]
    return rng.permutation(np.repeat(np.arange(len(counts)), counts))


def _auto_site_fraction(model, targets, density, margin):
    """The thinning that makes each chromosome a stretch of about ``STRETCH_LENGTH`` bp."""
    if model.constant is not None or targets[0] is None:
        return 1.0
    natural = max(t * (margin + 2.0 / math.sqrt(t)) / density for t in targets)
    return min(1.0, natural / STRETCH_LENGTH)


@dataclass
class _Chromosome:
    haplotypes: np.ndarray  # (kept variants, 2 * samples) int8
    position: np.ndarray  # (kept variants,) int64, 1-based
    sequence_length: int
    n_sites: int
    ancestry_spans: np.ndarray | None  # (samples, populations) bp, with a census


def _one_chromosome(length, target, samples, model, c, maf_min, mutation_rate, rng, out=None):
    """Simulate chromosome ``c`` and decode its kept sites (into ``out`` if given).

    Runs in a worker process when chromosomes are simulated in parallel: only
    the int8 haplotypes travel back, never the tree sequence.
    """
    ts, keep = _simulate_chromosome(length, target, samples, model, c, maf_min, mutation_rate, rng)
    if out is None:
        out = np.empty((keep.size, ts.num_samples), dtype=np.int8)
    _fill_haplotypes(ts, keep, out)
    spans = None
    if model.census_time is not None:
        spans = _ancestry_spans(ts, ts.num_samples // 2, model.demography.num_populations)
    return _Chromosome(
        haplotypes=out,
        position=ts.sites_position[keep].astype(np.int64) + 1,
        sequence_length=int(ts.sequence_length),
        n_sites=int(ts.num_sites),
        ancestry_spans=spans,
    )


def _chromosome_rngs(model, rng, n_chromosomes):
    """The random stream of each chromosome.

    The "constant" model draws every chromosome from the cohort's own stream in
    turn, as it always has (its seeded cohorts stay what they were); other
    histories give each chromosome an independent child stream, so the
    cohort is the same whatever the number of worker processes.
    """
    if model.constant is not None:
        return [rng] * n_chromosomes
    return rng.spawn(n_chromosomes)


def simulate_genetics(
    model, counts, n_samples, targets, lengths, maf_min, site_fraction, rng, n_jobs=None
) -> Genetics:
    """Simulate every chromosome of the cohort.

    ``targets`` (numbers of common variants per chromosome) or ``lengths``
    (bp per chromosome) is a list of None. ``site_fraction`` thins the
    mutations (a float in (0, 1], or "auto", see :func:`_auto_site_fraction`).
    ``n_jobs`` worker processes simulate chromosomes side by side (joblib's
    convention: None is 1, -1 every core); the "constant" model always runs
    in this process.
    """
    population = _assign_populations(model, n_samples, counts, rng)
    samples = _sample_sets(population, model.population_ids)
    density = _expected_common_density(
        2 * n_samples, maf_min, model.pair_coalescence_time, model.mutation_rate
    )
    margin = _LENGTH_MARGIN if model.constant is not None else _GROWN_LENGTH_MARGIN
    if site_fraction == "auto":
        site_fraction = _auto_site_fraction(model, targets, density, margin)
    if lengths[0] is None:
        density *= site_fraction
        lengths = [math.ceil(t * (margin + 2.0 / math.sqrt(t)) / density) for t in targets]
        lengths = [
            length if limit is None else min(length, limit)
            for length, limit in zip(lengths, model.max_lengths)
        ]
    else:
        for c, length in enumerate(lengths):
            _check_length(length, model, c)

    mutation_rate = model.mutation_rate * site_fraction
    rngs = _chromosome_rngs(model, rng, len(lengths))
    jobs = [
        (length, target, samples, model, c, maf_min, mutation_rate, rngs[c])
        for c, (length, target) in enumerate(zip(lengths, targets))
    ]
    call_genotype = None
    if targets[0] is not None:
        # The size is known: every chromosome is decoded straight into its rows.
        call_genotype = np.empty((sum(targets), n_samples, 2), dtype=np.int8)
        haplotypes = call_genotype.reshape(sum(targets), 2 * n_samples)
        starts = np.cumsum([0, *targets])
    if model.constant is not None or n_jobs in (None, 1):
        chromosomes = (
            _one_chromosome(
                *job, out=None if call_genotype is None else haplotypes[starts[c] : starts[c + 1]]
            )
            for c, job in enumerate(jobs)
        )
    else:
        from joblib import Parallel, delayed

        chromosomes = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_one_chromosome)(*job) for job in jobs
        )
    done = []
    for c, chromosome in enumerate(chromosomes):
        if call_genotype is not None and chromosome.haplotypes.base is not call_genotype:
            haplotypes[starts[c] : starts[c + 1]] = chromosome.haplotypes
        if call_genotype is not None:
            chromosome.haplotypes = None  # free a worker's copy as soon as it is placed
        done.append(chromosome)
    if call_genotype is None:
        stacked = np.concatenate([ch.haplotypes for ch in done])
        call_genotype = stacked.reshape(stacked.shape[0], n_samples, 2)

    ancestry = names = None
    if model.census_time is not None:
        spans = sum(ch.ancestry_spans for ch in done)
        ancestry = spans / spans.sum(axis=1, keepdims=True)
        names = tuple(p.name for p in model.demography.populations)
    return Genetics(
        call_genotype=call_genotype,
        position=np.concatenate([ch.position for ch in done]),
        contig=np.concatenate(
            [np.full(ch.position.size, c, dtype=np.int64) for c, ch in enumerate(done)]
        ),
        population=population.astype(np.int64),
        sequence_length=[ch.sequence_length for ch in done],
        n_sites=[ch.n_sites for ch in done],
        ancestry=ancestry,
        ancestry_names=names,
        site_fraction=float(site_fraction),
    )

"""Which population history a cohort is drawn from, and the genome it is drawn on.

:func:`resolve_model` turns the ``demography`` parameter of the simulators
into one :class:`Model`: the msprime demography, the populations sampled,
the mutation rate and, per chromosome, the recombination rate, its HomSap name
and the longest stretch that fits on it.

* ``"constant"``: genosynth's own model of demes of ``N_e`` individuals that
  split ``SPLIT_TIME`` generations ago, optionally with recent exponential
  growth; uniform rates ``1e-8`` (recombination) and ``1.25e-8`` (mutation)
  per bp per generation unless given. Kept for fast unit tests: a cohort of
  thousands is a sizeable share of such a population, i.e. a family.
* a stdpopsim ``HomSap`` model id, or an ``msprime.Demography``: chromosome
  ``c`` is a stretch of HomSap chromosome ``c`` with that chromosome's mean
  recombination rate (no genetic map: nothing is downloaded); the mutation
  rate is the one the model was inferred with (as stdpopsim recommends), else
  the chromosome's.

Admixed populations (a population founded at one time from several sources,
as ``ADMIX`` in ``AmericanAdmixture_4B18``) get a census event just before
the admixture, so that each individual's ancestry fractions can be read off
the tree sequence afterwards.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass

from genosynth.datasets._checks import check_int, check_real

# Generations since the demes of a multi-population "constant" cohort split from their common
# ancestor. With demes of N_e = 10,000 this gives F_ST ~ 1 - exp(-T / 2N_e) ~ 0.1,
# the order of magnitude between continental human groups.
SPLIT_TIME = 2_000

# Generations of recent exponential growth of the "constant" model when ``growth_factor > 1``:
# the span of the European-ancestry growth phase in Tennessen et al. (2012), which multiplied
# the population about 54-fold (from ~9,500 to ~512,000) over 204 generations.
GROWTH_TIME = 204

# The default: Tennessen et al. (2012), whose European-American population grew from ~9,300
# to ~500,000 over the last 205 generations, as a biobank's population did.
DEFAULT_DEMOGRAPHY = "OutOfAfrica_2T12"

# Populations sampled when ``populations=None``: models named here sample these, every other
# model samples each population that can be sampled at the present, evenly.
_DEFAULT_POPULATIONS = {"OutOfAfrica_2T12": ("EUR",)}

# Rates of the "constant" model when none is given (per bp per generation).
_CONSTANT_RECOMBINATION_RATE = 1e-8
_CONSTANT_MUTATION_RATE = 1.25e-8
_CONSTANT_DEFAULTS = {"n_populations": 1, "effective_population_size": 10_000, "growth_factor": 1}

# HomSap autosomes, the chromosomes a cohort's contigs are stretches of.
_N_AUTOSOMES = 22


@dataclass(frozen=True)
class Model:
    """A resolved population history and genome; see the module docstring."""

    name: str  # "constant", a stdpopsim model id, or "msprime.Demography"
    demography: object  # msprime.Demography, census included where ancestry is traced
    populations: tuple  # names of the sampled populations
    population_ids: tuple  # their ids in ``demography``
    mutation_rate: float
    recombination_rates: tuple  # per chromosome
    chromosome_ids: tuple  # HomSap chromosome of each contig ("1", "2", ...)
    max_lengths: tuple  # longest stretch per chromosome (bp), or None without a limit
    pair_coalescence_time: float  # expected T2 (generations), the smallest in a sampled deme
    census_time: float | None  # where ancestry is read, None without admixture
    constant: dict | None  # the "constant" model's own parameters, else None


def _constant_demography(n_populations, effective_population_size, growth_factor):
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


def _check_constant_params(n_populations, effective_population_size, growth_factor):
    given = {
        "n_populations": n_populations,
        "effective_population_size": effective_population_size,
        "growth_factor": growth_factor,
    }
    params = {k: (_CONSTANT_DEFAULTS[k] if v is None else v) for k, v in given.items()}
    return {
        "n_populations": check_int("n_populations", params["n_populations"], 1),
        "effective_population_size": check_real(
            "effective_population_size",
            params["effective_population_size"],
            0.0,
            math.inf,
            closed_low=False,
        ),
        "growth_factor": check_real("growth_factor", params["growth_factor"], 1.0, math.inf),
    }


def _stdpopsim_model(model_id):
    import stdpopsim

    species = stdpopsim.get_species("HomSap")
    known = [m.id for m in species.demographic_models]
    if model_id not in known:
        raise ValueError(
            f"demography={model_id!r} is neither 'constant' nor a stdpopsim HomSap model; "
            f"known models: {', '.join(known)}"
        )
    model = species.get_demographic_model(model_id)
    return model.model, model.mutation_rate


def _sampleable(demography):
    return [p.name for p in demography.populations if p.default_sampling_time in (None, 0)]


def _resolve_populations(populations, demography, default, n_samples):
    """Names of the sampled populations, and how many individuals each gets (or None: even)."""
    names = [p.name for p in demography.populations]
    if populations is None:
        return tuple(default), None
    if isinstance(populations, str):
        populations = (populations,)
    counts = None
    if isinstance(populations, dict):
        counts = [check_int(f"populations[{k!r}]", v, 1) for k, v in populations.items()]
        if sum(counts) != n_samples:
            raise ValueError(
                f"populations gives {sum(counts)} individuals in all, but n_samples={n_samples}"
            )
        populations = list(populations)
    populations = list(populations)
    if not populations:
        raise ValueError("populations is empty: name at least one population to sample")
    for name in populations:
        if not isinstance(name, str):
            raise TypeError(f"populations must be names (str), got {name!r}")
        if name not in names:
            raise ValueError(
                f"population {name!r} is not in this demography; its populations are "
                f"{', '.join(names)}"
            )
        if name not in _sampleable(demography):
            raise ValueError(
                f"population {name!r} cannot be sampled at the present in this demography "
                f"(populations sampleable today: {', '.join(_sampleable(demography))})"
            )
    if len(set(populations)) != len(populations):
        raise ValueError(f"populations names a population twice: {populations}")
    return tuple(populations), counts


def _admixture_time(demography, sampled_ids):
    """The most recent time a sampled population was founded from several sources, or None.

    A split is coded by stdpopsim as a mass migration of every lineage to one
    population; an admixture moves a population's lineages to several sources at one
    time (or is an msprime ``Admixture`` event).
    """
    import msprime

    destinations = {}
    times = []
    for event in demography.events:
        if isinstance(event, msprime.demography.Admixture):
            if demography[event.derived].id in sampled_ids:
                times.append(event.time)
        elif isinstance(event, msprime.demography.MassMigration):
            source = demography[event.source].id
            if source in sampled_ids:
                destinations.setdefault((event.time, source), set()).add(demography[event.dest].id)
    times += [time for (time, _), dest in destinations.items() if len(dest) > 1]
    return min(times) if times else None


def _homsap_chromosomes(n_chromosomes):
    import stdpopsim

    if n_chromosomes > _N_AUTOSOMES:
        raise ValueError(
            f"n_chromosomes={n_chromosomes}: a HomSap cohort has at most {_N_AUTOSOMES} "
            "chromosomes (the autosomes); use demography='constant' for more"
        )
    genome = stdpopsim.get_species("HomSap").genome
    return [genome.get_chromosome(str(c + 1)) for c in range(n_chromosomes)]


def _pair_coalescence_time(debug, population):
    """E[T2] of two lineages of ``population``: the integral of their survival curve.

    A fixed log-spaced grid instead of msprime's adaptive (and much slower)
    ``mean_coalescence_time``: the value only sizes the chromosomes to
    simulate, which a shortfall loop corrects anyway.
    """
    import numpy as np

    steps = np.concatenate([[0.0], np.geomspace(1.0, 1e7, 400)])
    with warnings.catch_warnings():
        # The step-doubling accuracy warning: a 1% error is immaterial here.
        warnings.simplefilter("ignore", UserWarning)
        _, survival = debug.coalescence_rate_trajectory(steps, {population: 2})
    return float(np.trapezoid(survival, steps))


def resolve_model(
    demography,
    populations,
    n_samples,
    n_chromosomes,
    recombination_rate,
    mutation_rate,
    *,
    n_populations=None,
    effective_population_size=None,
    growth_factor=None,
):
    """The :class:`Model` of a simulator call, and the individuals per population.

    The counts are None for an even split. Every bad value is a clear error.
    """
    import msprime

    if recombination_rate is not None:
        recombination_rate = check_real("recombination_rate", recombination_rate, 0.0, 1.0)
    if mutation_rate is not None:
        mutation_rate = check_real("mutation_rate", mutation_rate, 0.0, 1.0, closed_low=False)

    if isinstance(demography, str) and demography == "constant":
        if populations is not None:
            raise ValueError(
                "populations applies to stdpopsim or msprime demographies; the 'constant' "
                "model takes n_populations"
            )
        params = _check_constant_params(n_populations, effective_population_size, growth_factor)
        if params["n_populations"] > n_samples:
            raise ValueError(
                f"n_populations={params['n_populations']} exceeds n_samples={n_samples}"
            )
        dem = _constant_demography(**params)
        names = tuple(f"pop{k}" for k in range(params["n_populations"]))
        rate = _CONSTANT_RECOMBINATION_RATE if recombination_rate is None else recombination_rate
        return Model(
            name="constant",
            demography=dem,
            populations=names,
            population_ids=tuple(range(len(names))),
            mutation_rate=_CONSTANT_MUTATION_RATE if mutation_rate is None else mutation_rate,
            recombination_rates=(rate,) * n_chromosomes,
            chromosome_ids=tuple(str(c + 1) for c in range(n_chromosomes)),
            max_lengths=(None,) * n_chromosomes,
            pair_coalescence_time=2.0 * params["effective_population_size"],
            census_time=None,
            constant=params,
        ), None

    for name, value in (
        ("n_populations", n_populations),
        ("effective_population_size", effective_population_size),
        ("growth_factor", growth_factor),
    ):
        if value is not None:
            raise ValueError(
                f"{name} applies only to demography='constant'; a stdpopsim or msprime "
                "demography sets the population history itself"
            )
    if isinstance(demography, str):
        name = demography
        dem, model_mutation_rate = _stdpopsim_model(demography)
    elif isinstance(demography, msprime.Demography):
        name = "msprime.Demography"
        dem, model_mutation_rate = copy.deepcopy(demography), None
    else:
        raise TypeError(
            "demography must be 'constant', a stdpopsim HomSap model id or an "
            f"msprime.Demography, got {type(demography).__name__}"
        )
    default = _DEFAULT_POPULATIONS.get(name) or _sampleable(dem)
    names, counts = _resolve_populations(populations, dem, default, n_samples)
    if len(names) > n_samples:
        raise ValueError(f"{len(names)} populations to sample exceed n_samples={n_samples}")
    ids = tuple(dem[p].id for p in names)
    chromosomes = _homsap_chromosomes(n_chromosomes)
    census_time = _admixture_time(dem, ids)
    if census_time is not None:
        # Just older than the admixture, so every admixed lineage already sits in its source.
        census_time = census_time * (1 + 1e-9) + 1e-9
        dem.add_census(time=census_time)
        dem.sort_events()
    debug = dem.debug()
    pair_time = min(_pair_coalescence_time(debug, p) for p in names)
    if mutation_rate is None:
        mutation_rate = model_mutation_rate or chromosomes[0].mutation_rate
    return Model(
        name=name,
        demography=dem,
        populations=names,
        population_ids=ids,
        mutation_rate=float(mutation_rate),
        recombination_rates=tuple(
            float(c.recombination_rate if recombination_rate is None else recombination_rate)
            for c in chromosomes
        ),
        chromosome_ids=tuple(c.id for c in chromosomes),
        max_lengths=tuple(int(c.length) for c in chromosomes),
        pair_coalescence_time=float(pair_time),
        census_time=census_time,
        constant=None,
    ), counts

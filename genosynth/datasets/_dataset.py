"""The sgkit Dataset of a simulated cohort: sgkit's variables plus the simulation's truth."""

from __future__ import annotations

import numpy as np

_NUCLEOTIDES = np.array([b"A", b"C", b"G", b"T"], dtype="S1")

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
            spec(
                "sample_population",
                "i",
                ("samples",),
                "Index of the sample's population in attrs['populations'].",
            ),
            spec(
                "sample_ancestry",
                "f",
                ("samples", "ancestries"),
                "Share of the genome inherited from each population of attrs['ancestries'].",
            ),
            spec(
                "sample_liability",
                "f",
                ("samples",),
                "Liability: genetic value + noise (+ ancestry shift).",
            ),
            spec(
                "variant_effect",
                "f",
                ("variants",),
                "True causal effect on the liability per copy of the alt allele (0 if not causal).",
            ),
            spec("variant_causal", "b", ("variants",), "Whether the variant is causal."),
        ]
    )


def build_dataset(genetics, trait, phenotype, extra_vars, attrs, rng):
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

"""
A privacy audit, with the two baselines that bracket it
=======================================================

Is anyone in the training cohort exposed by the synthetic cohort? genosynth's
audit answers with distances: a synthetic individual should be no closer to the
training individuals than a *new* real person — a holdout individual the generator
never saw — is.

Two trivial generators bracket every audit:

* the **allele-frequency sampler** draws every variant independently from its
  class-wise genotype frequencies: it cannot copy anyone, but it also loses all
  linkage disequilibrium;
* the **copycat** hands back training individuals: perfect LD, no privacy at all.

Between them stands the classical way to make new genomes, the **haplotype mosaic**
(Li and Stephens' copying model): each synthetic haplotype is copied piecewise from
training haplotypes, switching donor where a recombination would fall.

A useful generator keeps LD like the copycat and privacy like the allele-frequency
sampler. This example audits genosynth side by side with all three.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve
from sklearn.model_selection import train_test_split

from genosynth import (
    ConditionalLatentDiffusion,
    GenerativePipeline,
    GenotypeVAE,
    GWASSelector,
    as_genotypes,
)
from genosynth.baselines import AlleleFrequencySampler, Copycat, HaplotypeMosaic
from genosynth.datasets import simulate_case_control
from genosynth.metrics import evaluate

# The test suite runs every example with GENOSYNTH_EXAMPLE_SCALE=tiny to check it in seconds.
TINY = os.environ.get("GENOSYNTH_EXAMPLE_SCALE") == "tiny"

# %%
# Four generators fitted on the same training individuals
# -------------------------------------------------------
ds = simulate_case_control(
    300 if TINY else 1500,
    n_variants=300 if TINY else 1500,
    n_causal=30,
    heritability=0.6,
    prevalence=0.3,
    random_state=0,
)
y = ds["sample_phenotype"].values
idx_train, idx_holdout = train_test_split(
    np.arange(len(y)), test_size=0.3, stratify=y, random_state=0
)
y_train, y_holdout = y[idx_train], y[idx_holdout]
pipe = GenerativePipeline(
    [
        ("gwas", GWASSelector(n_snps=32 if TINY else 256)),
        ("vae", GenotypeVAE(max_iter=2 if TINY else 60, batch_size=32, random_state=0)),
        ("diffusion", ConditionalLatentDiffusion(max_iter=2 if TINY else 200, random_state=0)),
    ]
).fit(ds.isel(samples=idx_train), y_train)

# The baselines work on the same panel as genosynth.
panel = pipe["gwas"].get_support(indices=True)
G, _ = as_genotypes(ds)
G_train, G_holdout = G[idx_train][:, panel], G[idx_holdout][:, panel]

generators = {
    "genosynth": pipe,
    "AF sampler": AlleleFrequencySampler().fit(G_train, y_train),
    "copycat": Copycat().fit(G_train, y_train),
    # The mosaic copies the panel's phased haplotypes, which dosages have lost.
    "mosaic": HaplotypeMosaic().fit(ds.isel(samples=idx_train, variants=panel), y_train),
}

# %%
# Audit each synthetic cohort
# ---------------------------
# Each generator produces one synthetic individual per training individual, with the
# same label. :func:`~genosynth.metrics.evaluate` computes every metric; its
# ``details`` keep the distances and attack scores behind them.
reports = {}
for name, generator in generators.items():
    G_syn, y_syn = generator.sample(y=y_train, random_state=0)
    reports[name] = evaluate(
        G_train,
        y_train,
        G_holdout,
        y_holdout,
        G_syn,
        y_syn,
        variants=pipe["gwas"].selected_variants_,
        n_bootstrap=20 if TINY else 200,
    )

# %%
# The numbers side by side: privacy, and the fidelity it is traded against.
rows = [
    "identical_match_rate",
    "dcr_ratio",
    "nndr_synthetic_median",
    "nnaa",
    "mia_auc",
    "domias_auc",
    "kinship_synthetic_fraction_above_holdout_p99",
    "segment_synthetic_fraction_above_holdout_p99",
    "af_pearson_r",
    "ld_r2_correlation",
    "tstr_auc_ratio",
]
table = pd.DataFrame({name: r.to_frame().loc[rows, "value"] for name, r in reports.items()})
table["ideal"] = reports["genosynth"].to_frame().loc[rows, "ideal"]
table["target"] = reports["genosynth"].to_frame().loc[rows, "target"]
table.round(3)

# %%
# Distance to the closest training record
# ---------------------------------------
# For every synthetic individual and every holdout individual, the Hamming distance
# (allele copies that differ) to the nearest training individual. A private
# generator's histogram sits on top of the holdout's; the copycat's collapses at 0.
# A histogram to the right of the holdout's (ratio above 1) copies no one, but its
# individuals are less like real people than new real people are: a fidelity cost,
# which the allele-frequency sampler shows in the extreme.
fig, axes = plt.subplots(1, len(reports), figsize=(16, 3.6), layout="constrained")
for ax, (name, report) in zip(axes, reports.items()):
    d = report.details
    bins = np.histogram_bin_edges(np.r_[d["dcr_synthetic"], d["dcr_holdout"]], bins=40)
    ax.hist(d["dcr_holdout"], bins, density=True, alpha=0.5, label="holdout (new people)")
    ax.hist(d["dcr_synthetic"], bins, density=True, alpha=0.5, label="synthetic")
    ax.set(title=f"{name}: DCR ratio {report.to_dict()['dcr_ratio']:.2f}", xlabel="distance")
axes[0].set_ylabel("density")
axes[0].legend()

# %%
# Membership inference
# --------------------
# The attacker holds the synthetic cohort and one real person's genotypes, and
# guesses "member" when the person is close to some synthetic individual. The ROC
# curve over members (training) and non-members (holdout) should follow the
# diagonal; the copycat gives every member away.
fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
for name, report in reports.items():
    d = report.details
    fpr, tpr, _ = roc_curve(d["membership"], d["mia_scores"])
    ax.plot(fpr, tpr, label=f"{name} (AUC {report.to_dict()['mia_auc']:.3f})")
ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
ax.set(xlabel="false positive rate", ylabel="true positive rate")
ax.set_title("Distance attack: members vs non-members")
ax.legend()

# %%
# Privacy against fidelity
# ------------------------
# The bracket in one picture: LD fidelity against the membership-inference AUC.
# The target corner is the upper left: high LD correlation, AUC near 0.5.
fig, ax = plt.subplots(figsize=(5, 4.5), layout="constrained")
for name, report in reports.items():
    m = report.to_dict()
    ax.scatter(m["mia_auc"], m["ld_r2_correlation"], s=60)
    ax.annotate(
        name, (m["mia_auc"], m["ld_r2_correlation"]), xytext=(6, 4), textcoords="offset points"
    )
ax.axvline(0.5, color="grey", lw=0.8, ls=":")
ax.margins(x=0.2, y=0.1)
ax.set(xlabel="membership-inference AUC (ideal 0.5)", ylabel="LD r² correlation (ideal 1)")
ax.set_title("Privacy vs LD fidelity")

# %%
# The mosaic's privacy knob: how long a stretch it may copy
# ---------------------------------------------------------
# ``max_segment_snps`` caps every stretch copied from one donor haplotype. Short caps
# keep a synthetic individual from carrying any long piece of a real one, and pay for
# it in LD: the curve below sweeps the cap, with genosynth on the same axes. Leakage
# is the median of each synthetic individual's longest run of panel SNPs identical to
# some training individual, beside the same statistic of the holdout (new people),
# which is the level a private generator should not exceed.
caps = [5, 20] if TINY else [5, 10, 20, 40]
curve = {}
for cap in caps:
    mosaic = HaplotypeMosaic(max_segment_snps=cap)
    mosaic.fit(ds.isel(samples=idx_train, variants=panel), y_train)
    G_syn, y_syn = mosaic.sample(y=y_train, random_state=0)
    curve[cap] = evaluate(
        G_train,
        y_train,
        G_holdout,
        y_holdout,
        G_syn,
        y_syn,
        variants=pipe["gwas"].selected_variants_,
        n_bootstrap=20,
    ).to_dict()
curve[None] = reports["mosaic"].to_dict()
fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
order = [*caps, None]
ax.plot(
    [curve[c]["segment_synthetic_median"] for c in order],
    [curve[c]["ld_r2_correlation"] for c in order],
    marker="o",
    label="mosaic, segment cap swept",
)
for c in order:
    ax.annotate(
        "no cap" if c is None else f"cap {c}",
        (curve[c]["segment_synthetic_median"], curve[c]["ld_r2_correlation"]),
        xytext=(6, -10),
        textcoords="offset points",
    )
learned = reports["genosynth"].to_dict()
ax.scatter(
    learned["segment_synthetic_median"],
    learned["ld_r2_correlation"],
    marker="*",
    s=160,
    color="C3",
    label="genosynth",
    zorder=3,
)
ax.axvline(
    learned["segment_holdout_median"], color="grey", lw=0.8, ls=":", label="holdout (new people)"
)
ax.set(
    xlabel="median longest segment shared with a training individual (SNPs)",
    ylabel="LD r² correlation (ideal 1)",
)
ax.set_title("LD against copied-segment length")
ax.legend()

# %%
# These audits are empirical: they catch copies, near-copies and a nearest-neighbour
# attacker's membership signal on this panel. They are not a formal guarantee such
# as differential privacy; see :ref:`privacy-protocol`.

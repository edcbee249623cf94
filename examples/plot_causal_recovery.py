"""
A controlled simulation: does GWAS on synthetic data find the causal variants?
==============================================================================

In a simulation the truth is known: which variants cause the trait and by how much.
That allows the strictest utility test of the SNPgen paper — run a GWAS on the
synthetic cohort and ask whether it finds the causal variants with the power and
the effect sizes of a GWAS on the real training individuals.

Both GWAS use the same per-variant logistic regression
(:func:`genosynth.association.association_scan`) on cohorts of the same size, so
their discoveries are comparable. Discoveries are variants with a
Benjamini-Hochberg q-value below 0.05.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from genosynth import (
    ConditionalLatentDiffusion,
    GenerativePipeline,
    GenotypeVAE,
    GWASSelector,
    as_genotypes,
)
from genosynth.baselines import AlleleFrequencySampler, Copycat
from genosynth.datasets import simulate_case_control
from genosynth.metrics import association_recovery

# The test suite runs every example with GENOSYNTH_EXAMPLE_SCALE=tiny to check it in seconds.
TINY = os.environ.get("GENOSYNTH_EXAMPLE_SCALE") == "tiny"

# %%
# A cohort with known causal variants
# -----------------------------------
# 40 causal variants explain 40% of the liability; ``variant_causal`` and
# ``variant_effect`` (per copy of the alternate allele, on the liability scale)
# record the truth.
ds = simulate_case_control(
    300 if TINY else 1500,
    n_variants=300 if TINY else 1500,
    n_causal=40,
    heritability=0.4,
    prevalence=0.3,
    random_state=7,
)
y = ds["sample_phenotype"].values
idx_train, idx_holdout = train_test_split(
    np.arange(len(y)), test_size=0.3, stratify=y, random_state=0
)
y_train = y[idx_train]

pipe = GenerativePipeline(
    [
        ("gwas", GWASSelector(n_snps=32 if TINY else 256)),
        ("vae", GenotypeVAE(max_iter=2 if TINY else 60, batch_size=32, random_state=0)),
        ("diffusion", ConditionalLatentDiffusion(max_iter=2 if TINY else 200, random_state=0)),
    ]
).fit(ds.isel(samples=idx_train), y_train)

# %%
# The synthetic cohort can only contain the panel, so the question is asked of the
# causal variants the selection kept.
panel = pipe["gwas"].get_support(indices=True)
causal = ds["variant_causal"].values[panel]
effect = ds["variant_effect"].values[panel]
print(
    f"the panel of {len(panel)} variants holds {causal.sum()} of the "
    f"{int(ds['variant_causal'].sum())} causal variants"
)

G, _ = as_genotypes(ds)
G_train = G[idx_train][:, panel]
G_syn, y_syn = pipe.sample(y=y_train, random_state=0)

# %%
# GWAS on synthetic against GWAS on real
# --------------------------------------
rec = association_recovery(G_train, y_train, G_syn, y_syn, causal=causal)
for key in (
    "assoc_causal_power_real",
    "assoc_causal_power_synthetic",
    "assoc_beta_pearson_r",
    "assoc_sign_concordance_discoveries",
    "assoc_replication_rate",
    "assoc_spurious_rate",
):
    print(f"{key:<36} {rec[key]:.3f}")

# %%
# Effects and significance, variant by variant. Causal variants are marked: a
# faithful synthetic cohort puts them on the diagonal, with the same significance.
fig, ax = plt.subplots(1, 2, figsize=(10, 4.3), layout="constrained")
b_real, b_syn = rec["assoc_beta_real"], rec["assoc_beta_synthetic"]
ax[0].scatter(b_real[~causal], b_syn[~causal], s=8, alpha=0.6, label="not causal")
ax[0].scatter(b_real[causal], b_syn[causal], s=40, marker="x", c="C3", label="causal")
lim = np.nanmax(np.abs(np.r_[b_real, b_syn]))
ax[0].plot([-lim, lim], [-lim, lim], color="grey", lw=0.8, ls=":")
ax[0].set(
    xlabel="beta, real training GWAS",
    ylabel="beta, synthetic GWAS",
    title=f"Effects (r = {rec['assoc_beta_pearson_r']:.2f})",
)
ax[0].legend()

lp_real, lp_syn = -np.log10(rec["assoc_p_real"]), -np.log10(rec["assoc_p_synthetic"])
ax[1].scatter(lp_real[~causal], lp_syn[~causal], s=8, alpha=0.6)
ax[1].scatter(lp_real[causal], lp_syn[causal], s=40, marker="x", c="C3")
top = np.nanmax(np.r_[lp_real, lp_syn])
ax[1].plot([0, top], [0, top], color="grey", lw=0.8, ls=":")
ax[1].set(xlabel="-log10 p, real", ylabel="-log10 p, synthetic", title="Significance")

# %%
# Against the truth: the estimated log-odds of each causal variant against its true
# effect on the liability (different scales, so look at order and sign).
fig, ax = plt.subplots(figsize=(5.5, 4.3), layout="constrained")
ax.scatter(effect[causal], b_real[causal], label="real training GWAS")
ax.scatter(effect[causal], b_syn[causal], marker="s", label="synthetic GWAS")
ax.axhline(0, color="grey", lw=0.8)
ax.axvline(0, color="grey", lw=0.8)
ax.set(xlabel="true effect (liability scale)", ylabel="estimated beta (log-odds)")
ax.set_title("Causal variants in the panel")
ax.legend()

# %%
# Power at every significance threshold
# --------------------------------------
# The panel was chosen for its association in these very training individuals, so
# at the usual q < 0.05 nearly every panel variant is a "discovery" of the real
# training GWAS — the winner's curse at work. Stricter thresholds separate the
# variants that carry signal from those that were selected by chance. The curve
# of power against the threshold compares the synthetic GWAS with the real one over
# the whole range; the two baselines bracket it. The allele-frequency sampler keeps
# each variant's genotype frequencies within cases and within controls, hence its
# marginal association (it only loses LD); the copycat returns training individuals,
# and so reproduces the real GWAS up to resampling.
print(
    f"real training GWAS: {rec['assoc_n_discoveries_real']} of {len(panel)} panel "
    "variants have q < 0.05"
)

generators = {
    "genosynth": pipe,
    "AF sampler": AlleleFrequencySampler().fit(G_train, y_train),
    "copycat": Copycat().fit(G_train, y_train),
}
q_values = {"real training GWAS": rec["assoc_q_real"]}
for name, generator in generators.items():
    G_s, y_s = generator.sample(y=y_train, random_state=0)
    q_values[name] = association_recovery(G_train, y_train, G_s, y_s)["assoc_q_synthetic"]

# From below the smallest q-value of any cohort up to 0.1.
smallest = min(np.nanmin(q[q > 0], initial=1.0) for q in q_values.values())
thresholds = np.logspace(np.log10(smallest) - 1, -1, 60)
fig, ax = plt.subplots(figsize=(6.5, 4.3), layout="constrained")
for name, q in q_values.items():
    q = np.nan_to_num(q, nan=1.0)
    power = [(q[causal] < t).mean() for t in thresholds]
    style = {"color": "black", "lw": 2.5} if name.startswith("real") else {}
    ax.plot(thresholds, power, label=name, **style)
ax.set(xscale="log", xlabel="q-value threshold", ylabel="fraction of causal variants found")
ax.set_title(f"Power on the {causal.sum()} causal variants of the panel")
ax.legend()

# %%
# A curve to the right of the real one means power was lost in generation; to the
# left, the synthetic GWAS is *more* significant than the real one, as when guidance
# exaggerates the differences between cases and controls (see the guidance example).

# %%
# How much does one synthetic cohort vary?
# ----------------------------------------
# One synthetic cohort is one draw. Drawing several (different ``random_state``)
# from the same fitted pipeline shows the spread of the recovery.
n_draws = 2 if TINY else 5
rows = []
for seed in range(n_draws):
    G_s, y_s = pipe.sample(y=y_train, random_state=seed)
    r = association_recovery(G_train, y_train, G_s, y_s, causal=causal, q_threshold=1e-4)
    rows.append(
        {
            "seed": seed,
            "beta_pearson_r": r["assoc_beta_pearson_r"],
            "causal_power_q_1e-4": r["assoc_causal_power_synthetic"],
            "discoveries_q_1e-4": r["assoc_n_discoveries_synthetic"],
        }
    )
draws = pd.DataFrame(rows).set_index("seed")
q_real = np.nan_to_num(rec["assoc_q_real"], nan=1.0)
print(
    f"real training GWAS at q < 1e-4: power {(q_real[causal] < 1e-4).mean():.3f}, "
    f"{(q_real < 1e-4).sum()} discoveries"
)
draws.agg(["mean", "min", "max"]).round(3)

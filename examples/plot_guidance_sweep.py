"""
Conditional sampling and the guidance scale
===========================================

:class:`~genosynth.ConditionalLatentDiffusion` learns the latent distribution of
each label and, through a learned *null* label, of the whole cohort. At sampling
time classifier-free guidance mixes the two predictions with a scale ``s``:
``s = 0`` ignores the label, ``s = 1`` samples the conditional model as learned, and
``s > 1`` exaggerates what distinguishes cases from controls.

This example samples cases and controls on demand, then sweeps ``s`` on one fitted
pipeline (guidance is a sampling-time parameter: nothing is refitted) and watches
class signal, fidelity and privacy move together.
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
from genosynth.datasets import simulate_case_control
from genosynth.metrics import (
    allele_frequency_metrics,
    case_control_differences,
    distance_attack,
    distance_to_closest_record,
    ld_metrics,
    tstr,
)
from genosynth.prs import PRSClassifier

# The test suite runs every example with GENOSYNTH_EXAMPLE_SCALE=tiny to check it in seconds.
TINY = os.environ.get("GENOSYNTH_EXAMPLE_SCALE") == "tiny"

# %%
# Fit a pipeline on the training individuals
# ------------------------------------------
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
        (
            "diffusion",
            # Guide every sampling step (the default guides only the noisy half),
            # so that s = 0 below is the unconditional model throughout.
            ConditionalLatentDiffusion(
                guidance_interval=(0.0, 1.0), max_iter=2 if TINY else 200, random_state=0
            ),
        ),
    ]
).fit(ds.isel(samples=idx_train), y_train)

panel = pipe["gwas"].get_support(indices=True)
variants = pipe["gwas"].selected_variants_
G, _ = as_genotypes(ds)
G_train, G_holdout = G[idx_train][:, panel], G[idx_holdout][:, panel]

# %%
# Cases and controls on demand
# ----------------------------
# ``y`` chooses the labels: a scalar gives every synthetic individual that label,
# an array gives one individual per entry, ``None`` draws from the training mix.
n = 100 if TINY else 500
G_cases, _ = pipe.sample(n, y=1, random_state=1)
G_controls, _ = pipe.sample(n, y=0, random_state=2)

# %%
# A polygenic risk score fitted on the *real* training individuals scores both
# synthetic groups. If the generator learned the disease signal, synthetic cases
# carry more risk alleles than synthetic controls, as real cases do.
prs = PRSClassifier().fit(G_train, y_train)
fig, ax = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained", sharex=True)
bins = np.linspace(*np.percentile(prs.polygenic_score(G_train), [0.5, 99.5]), 40)
for label, name in ((0, "controls"), (1, "cases")):
    ax[0].hist(prs.polygenic_score(G_train[y_train == label]), bins, alpha=0.5, label=name)
ax[0].set(title="Real training individuals", xlabel="polygenic score")
ax[1].hist(prs.polygenic_score(G_controls), bins, alpha=0.5, label="controls (y=0)")
ax[1].hist(prs.polygenic_score(G_cases), bins, alpha=0.5, label="cases (y=1)")
ax[1].set(
    title=f"Synthetic individuals (s = {pipe['diffusion'].guidance_scale:g})",
    xlabel="polygenic score",
)
for a in ax:
    a.legend()

# %%
# The guidance-scale sweep
# ------------------------
# For each ``s``, sample a cohort the size of the training cohort with its label mix
# and measure
#
# * class signal: the correlation of case-control allele-frequency differences with
#   the real ones, and the train-on-synthetic / test-on-real AUC of a PRS;
# * fidelity: the allele-frequency correlation and the LD r² correlation;
# * privacy: the ratio of the median distance to the closest training record
#   (synthetic vs holdout; below 1 means closer than new real people) and the
#   membership-inference AUC (ideal 0.5).
scales = [0.0, 1.0, 3.0] if TINY else [0.0, 1.0, 2.0, 3.0, 5.0, 8.0]
rows = []
for s in scales:
    G_syn, y_syn = pipe.sample(y=y_train, conditioning="guidance", guidance_scale=s, random_state=0)
    utility = tstr(
        G_train,
        y_train,
        G_holdout,
        y_holdout,
        G_syn,
        y_syn,
        estimator=PRSClassifier(),
        n_bootstrap=0,
        prefix="prs",
    )
    rows.append(
        {
            "guidance_scale": s,
            "ccd_pearson_r": case_control_differences(G_train, y_train, G_syn, y_syn)[
                "ccd_pearson_r"
            ],
            "prs_auc_ratio": utility["prs_auc_ratio"],
            "af_pearson_r": allele_frequency_metrics(G_train, G_syn)["af_pearson_r"],
            "ld_r2_correlation": ld_metrics(G_train, G_syn, variants=variants)["ld_r2_correlation"],
            "dcr_ratio": distance_to_closest_record(G_train, G_holdout, G_syn)["dcr_ratio"],
            "mia_auc": distance_attack(G_train, G_holdout, G_syn, n_bootstrap=0)["mia_auc"],
        }
    )
sweep = pd.DataFrame(rows).set_index("guidance_scale")
sweep.round(3)

# %%
titles = {
    "ccd_pearson_r": "case-control AF difference r",
    "prs_auc_ratio": "PRS AUC, synthetic / real",
    "af_pearson_r": "allele frequency r",
    "ld_r2_correlation": "LD r² correlation",
    "dcr_ratio": "DCR ratio (synthetic / holdout)",
    "mia_auc": "membership-inference AUC",
}
ideal = {"ccd_pearson_r": 1, "prs_auc_ratio": 1, "af_pearson_r": 1, "ld_r2_correlation": 1}
ideal.update(dcr_ratio=1, mia_auc=0.5)
fig, axes = plt.subplots(2, 3, figsize=(11, 6), layout="constrained", sharex=True)
# One column per question: class signal, fidelity, privacy.
for ax, (column, title) in zip(axes.T.ravel(), titles.items()):
    ax.plot(sweep.index, sweep[column], "o-")
    ax.axhline(ideal[column], color="grey", lw=0.8, ls=":")
    ax.set(title=title, xlabel="guidance scale s")
fig.suptitle("One fitted pipeline, sampled at several guidance scales")

# %%
# Read the three columns together: a scale that sharpens the class signal is
# only worth it while fidelity and privacy hold. Choose ``s`` on your own cohort this
# way (on a validation split if the holdout must stay untouched), then fix it with
# ``ConditionalLatentDiffusion(guidance_scale=...)`` or pass it to each ``sample`` call.

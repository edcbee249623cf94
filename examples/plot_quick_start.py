"""
Quick start: from a case-control cohort to a judged synthetic cohort
====================================================================

This is the whole genosynth workflow in five steps:

1. simulate a case-control cohort (msprime, so the variants carry real linkage
   disequilibrium, and a liability-threshold trait with known causal variants);
2. split it into training and holdout individuals **before anything is fitted**;
3. fit the three-stage pipeline (GWAS selection, genotype VAE, conditional latent
   diffusion) on the training individuals only;
4. sample a synthetic cohort with the training label mix;
5. judge it for fidelity, utility and privacy with :func:`genosynth.metrics.evaluate`.

The cohort and the training lengths are small so that the example runs in about a
minute on a laptop CPU; the numbers printed below come from this run, not from a
tuned model.
"""

import os
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from genosynth import (
    ConditionalLatentDiffusion,
    GenerativePipeline,
    GenotypeVAE,
    GWASSelector,
    as_genotypes,
)
from genosynth.datasets import simulate_case_control
from genosynth.metrics import evaluate

# The test suite runs every example with GENOSYNTH_EXAMPLE_SCALE=tiny to check it in seconds.
TINY = os.environ.get("GENOSYNTH_EXAMPLE_SCALE") == "tiny"

# %%
# A simulated cohort
# ------------------
# :func:`~genosynth.datasets.simulate_case_control` returns an sgkit Dataset:
# ``call_genotype`` (variants x samples x ploidy), the variant table, the label in
# ``sample_phenotype`` (0 control, 1 case) and the truth of the simulation
# (``variant_causal``, ``variant_effect``).
ds = simulate_case_control(
    300 if TINY else 1500,
    n_variants=300 if TINY else 1500,
    n_causal=30,
    heritability=0.6,
    prevalence=0.3,
    random_state=0,
)
y = ds["sample_phenotype"].values
print(f"{ds.sizes['samples']} individuals x {ds.sizes['variants']} variants, {y.mean():.0%} cases")

# %%
# Split before anything is fitted
# -------------------------------
# The GWAS selection is the first step of the pipeline, so fitting on the training
# split is enough to keep every holdout individual out of the panel, the VAE and
# the diffusion model (see :ref:`privacy-protocol`).
idx_train, idx_holdout = train_test_split(
    np.arange(len(y)), test_size=0.3, stratify=y, random_state=0
)
train = ds.isel(samples=idx_train)
y_train, y_holdout = y[idx_train], y[idx_holdout]

# %%
# Fit the pipeline
# ----------------
# :class:`~genosynth.GenerativePipeline` is a scikit-learn ``Pipeline`` that can also
# sample. Parameters are estimator parameters, visible in its ``repr``.
pipe = GenerativePipeline(
    [
        ("gwas", GWASSelector(n_snps=32 if TINY else 256)),
        ("vae", GenotypeVAE(max_iter=2 if TINY else 60, batch_size=32, random_state=0)),
        ("diffusion", ConditionalLatentDiffusion(max_iter=2 if TINY else 200, random_state=0)),
    ]
)
start = time.perf_counter()
pipe.fit(train, y_train)
print(f"fitted in {time.perf_counter() - start:.1f} s")
pipe["gwas"].selected_variants_.head()

# %%
# Sample a synthetic cohort
# -------------------------
# One synthetic individual per training individual, with the same label: passing
# ``y=y_train`` reproduces the training label mix exactly. The same
# ``random_state`` always gives the same cohort.
start = time.perf_counter()
G_syn, y_syn = pipe.sample(y=y_train, random_state=0)
print(f"sampled {len(y_syn)} individuals in {time.perf_counter() - start:.2f} s")

# %%
# The same cohort as an sgkit Dataset carries the panel's variant ids, positions and
# alleles, ready for :func:`genosynth.write_plink` or :func:`genosynth.save_zarr`.
ds_syn = pipe.sample_dataset(y=y_train, random_state=0)
ds_syn

# %%
# Judge it
# --------
# The real training and holdout genotypes, restricted to the selected panel, are the
# references: fidelity compares the synthetic cohort with the training individuals,
# utility trains models on it and tests them on the holdout, privacy asks whether
# synthetic individuals sit closer to training individuals than unseen real people do.
panel = pipe["gwas"].get_support(indices=True)
G, _ = as_genotypes(ds)
G_train, G_holdout = G[idx_train][:, panel], G[idx_holdout][:, panel]

report = evaluate(
    G_train,
    y_train,
    G_holdout,
    y_holdout,
    G_syn,
    y_syn,
    variants=pipe["gwas"].selected_variants_,
    n_bootstrap=20 if TINY else 200,
)
print(report.summary())

# %%
# Every metric, with its interval, ideal value, target and verdict, is in
# ``report.to_frame()``; :ref:`reading-the-report` explains each of them.
report.to_frame().head(10)

# %%
# The diagnostic figure: allele frequencies and LD of synthetic against real (on
# the diagonal when perfect), LD decay and an LD heatmap (real below, synthetic
# above the diagonal), PCA, association effects, distances to the closest training
# record and the membership-inference ROC curves.
fig = plt.figure(report.plot())

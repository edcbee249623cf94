"""
Train on synthetic, test on real: a polygenic risk score
========================================================

The question a user of a synthetic cohort cares about: *if I build my model on the
synthetic data, does it work on real people?* Train-on-synthetic / test-on-real
(TSTR) answers it directly. A model is fitted once on the synthetic cohort and once
on the real training cohort (TRTR), and both predict the same real holdout
individuals, whom neither the generator nor the models have seen.

The model here is the one a statistical geneticist fits first, a polygenic risk
score (:class:`~genosynth.prs.PRSClassifier`: per-variant GWAS effects summed, with
optional clumping and p-value thresholding).
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

from genosynth import (
    ConditionalLatentDiffusion,
    GenerativePipeline,
    GenotypeVAE,
    GWASSelector,
    as_genotypes,
)
from genosynth.baselines import AlleleFrequencySampler
from genosynth.datasets import simulate_case_control
from genosynth.metrics import tstr
from genosynth.prs import PRSClassifier

# The test suite runs every example with GENOSYNTH_EXAMPLE_SCALE=tiny to check it in seconds.
TINY = os.environ.get("GENOSYNTH_EXAMPLE_SCALE") == "tiny"

# %%
# A synthetic copy of the training cohort
# ---------------------------------------
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

panel = pipe["gwas"].get_support(indices=True)
variants = pipe["gwas"].selected_variants_
G, _ = as_genotypes(ds)
G_train, G_holdout = G[idx_train][:, panel], G[idx_holdout][:, panel]
G_syn, y_syn = pipe.sample(y=y_train, random_state=0)

# %%
# Two risk scores, one holdout
# ----------------------------
# The same PRS recipe is fitted on each cohort: the synthetic one, and the real
# training individuals for reference.
prs_syn = PRSClassifier().fit(G_syn, y_syn)
prs_real = PRSClassifier().fit(G_train, y_train)

fig, ax = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
for name, model in (("trained on synthetic", prs_syn), ("trained on real", prs_real)):
    score = model.decision_function(G_holdout)
    fpr, tpr, _ = roc_curve(y_holdout, score)
    ax[0].plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(y_holdout, score):.3f})")
ax[0].plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
ax[0].set(xlabel="false positive rate", ylabel="true positive rate")
ax[0].set_title("Real holdout individuals")
ax[0].legend()

# The per-variant effects each score is built from.
ax[1].scatter(prs_real.effects_, prs_syn.effects_, s=8)
lim = np.abs(np.r_[prs_real.effects_, prs_syn.effects_]).max()
ax[1].plot([-lim, lim], [-lim, lim], color="grey", lw=0.8, ls=":")
ax[1].set(xlabel="effect estimated on real (log-odds)", ylabel="effect estimated on synthetic")
ax[1].set_title("PRS weights")

# %%
# With uncertainty
# ----------------
# :func:`~genosynth.metrics.tstr` does the same with 95% bootstrap intervals over the
# holdout individuals (cases and controls resampled separately); the interval of the
# ratio is paired, both AUCs being computed on the same resample.
res = tstr(
    G_train,
    y_train,
    G_holdout,
    y_holdout,
    G_syn,
    y_syn,
    estimator=PRSClassifier(),
    n_bootstrap=20 if TINY else 500,
    prefix="prs",
)
for key in ("prs_auc_synthetic", "prs_auc_real", "prs_auc_ratio"):
    print(f"{key:<18} {res[key]:.3f}  [{res[key + '_ci_low']:.3f}, {res[key + '_ci_high']:.3f}]")

# %%
# Clumping and thresholding
# -------------------------
# A clumping-and-thresholding (C+T) PRS keeps the most significant variant of each
# LD clump and only variants below a p-value threshold. Each threshold gives one
# model; all are fitted on the synthetic cohort (the variant positions come from the
# panel, which clumping needs) and scored on the holdout, and likewise on the real
# training cohort.
thresholds = [1e-3, 1e-1, 1.0] if TINY else [1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
rows = []
for p in thresholds:
    row = {"p_threshold": p}
    for name, (Gx, yx) in (("synthetic", (G_syn, y_syn)), ("real", (G_train, y_train))):
        model = PRSClassifier(p_threshold=p, clump=True, clump_r2=0.2)
        model.fit(Gx, yx, variants=variants)
        row[f"variants_{name}"] = int(model.support_.sum())
        if row[f"variants_{name}"]:
            row[f"auc_{name}"] = roc_auc_score(y_holdout, model.decision_function(G_holdout))
        else:
            row[f"auc_{name}"] = np.nan  # no variant passes: no score
    rows.append(row)
ct = pd.DataFrame(rows).set_index("p_threshold")
ct.round(3)

# %%
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.plot(ct.index, ct["auc_real"], "o-", label="trained on real")
ax.plot(ct.index, ct["auc_synthetic"], "s--", label="trained on synthetic")
ax.set(xscale="log", xlabel="p-value threshold", ylabel="holdout AUC")
ax.set_title("C+T polygenic risk score")
ax.legend()

# %%
# What TSTR with a PRS does — and does not — test
# -----------------------------------------------
# A PRS is a sum of *marginal* per-variant effects. A generator that only keeps each
# variant's genotype frequencies within cases and within controls — the
# allele-frequency sampler baseline, which has no LD at all — keeps those marginal
# effects too:
G_af, y_af = AlleleFrequencySampler().fit(G_train, y_train).sample(y=y_train, random_state=0)
auc_af = roc_auc_score(y_holdout, PRSClassifier().fit(G_af, y_af).decision_function(G_holdout))
print(f"PRS trained on the allele-frequency sampler's cohort: holdout AUC {auc_af:.3f}")

# %%
# So a good PRS TSTR shows that the case-control signal survived generation, not
# that the joint structure did. The fidelity metrics (LD, three-point correlations,
# PCA) and a multivariate model, such as the penalised logistic regression that
# :func:`~genosynth.metrics.evaluate` reports as ``tstr_*``, judge the rest.

"""
The genotype VAE: reconstruction accuracy and the latent space
==============================================================

:class:`~genosynth.GenotypeVAE` compresses the selected panel into a short latent
sequence and decodes it back to genotypes through a categorical decoder (three
probabilities per variant). Everything genosynth generates goes through this
decoder, so its **reconstruction accuracy on individuals it never saw** is the
ceiling of the synthetic cohort's quality.

Accuracy alone can flatter: most variants have a common genotype, and always
predicting it is already right most of the time. This example compares the VAE
with that *majority* baseline, variant by variant, and looks at the latent space
the diffusion model will learn.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from genosynth import GenotypeVAE, GWASSelector
from genosynth.datasets import simulate_case_control

# The test suite runs every example with GENOSYNTH_EXAMPLE_SCALE=tiny to check it in seconds.
TINY = os.environ.get("GENOSYNTH_EXAMPLE_SCALE") == "tiny"

# %%
# A panel of training and holdout individuals
# -------------------------------------------
# The selector is fitted on the training individuals; ``transform`` then gives the
# same panel for the holdout.
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
selector = GWASSelector(n_snps=32 if TINY else 256)
G_train = selector.fit_transform(ds.isel(samples=idx_train), y[idx_train])
G_holdout = selector.transform(ds.isel(samples=idx_holdout))
y_train, y_holdout = y[idx_train], y[idx_holdout]
print(f"panel: {G_train.shape[1]} variants; {len(y_train)} train, {len(y_holdout)} holdout")

# %%
# Fit the VAE
# -----------
# The VAE holds out a validation split of the training individuals, scores
# reconstruction accuracy after each epoch and keeps the best epoch's weights.
vae = GenotypeVAE(max_iter=2 if TINY else 60, batch_size=32, random_state=0)
vae.fit(G_train)
print(f"latent dimension: {vae.n_latent_} (panel of {G_train.shape[1]} variants)")
print(f"epochs run: {vae.n_iter_}, best: {vae.best_iteration_}")

fig, ax = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
ax[0].plot(np.arange(1, vae.n_iter_ + 1), vae.loss_curve_)
ax[0].set(xlabel="epoch", ylabel="training loss", title="Training loss")
ax[1].plot(np.arange(1, vae.n_iter_ + 1), vae.validation_scores_)
ax[1].axvline(vae.best_iteration_, color="grey", ls=":", label="kept")
ax[1].set(xlabel="epoch", ylabel="accuracy", title="Validation reconstruction accuracy")
ax[1].legend()

# %%
# Held-out reconstruction against the majority baseline
# -----------------------------------------------------
# ``transform`` gives the posterior mean of each individual's latent and
# ``inverse_transform`` decodes the most probable genotype of every variant.
G_rec = vae.inverse_transform(vae.transform(G_holdout))
correct = G_rec == G_holdout

# The baseline predicts, at every variant, the genotype most common in training.
majority = np.array([np.bincount(col, minlength=3).argmax() for col in G_train.T])
baseline = G_holdout == majority

print(f"holdout reconstruction accuracy: {correct.mean():.4f}")
print(f"majority-genotype baseline:      {baseline.mean():.4f}")
for g, name in enumerate(["hom. reference (0)", "heterozygous (1)", "hom. alternate (2)"]):
    calls = G_holdout == g
    print(f"  accuracy on {name:<19}: {correct[calls].mean():.4f} of {calls.sum()} calls")

# %%
# The baseline is hardest to beat at common variants, where the majority genotype
# is right only about half the time; the VAE has to use the LD with neighbouring
# variants to do better there.
maf = np.minimum(G_train.mean(axis=0) / 2, 1 - G_train.mean(axis=0) / 2)
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.scatter(maf, baseline.mean(axis=0), s=10, label="majority genotype")
ax.scatter(maf, correct.mean(axis=0), s=10, label="VAE")
ax.set(xlabel="minor allele frequency", ylabel="holdout accuracy per variant")
ax.set_title("Reconstruction accuracy by variant")
ax.legend()

# %%
# The latent space
# ----------------
# The diffusion model learns the distribution of these latents given the label.
# A PCA of the training and holdout latents shows how the cohort is spread: the
# holdout individuals should fall among the training ones (the encoder generalises).
# The panel was selected for its association with the trait, so cases and controls
# are expected to differ in the latent space, while overlapping as they do in
# genotype space — the disease signal is spread thinly over many variants.
Z_train, Z_holdout = vae.transform(G_train), vae.transform(G_holdout)
pca = PCA(n_components=2).fit(Z_train)
P_train, P_holdout = pca.transform(Z_train), pca.transform(Z_holdout)

fig, ax = plt.subplots(1, 2, figsize=(10, 4.5), layout="constrained", sharex=True, sharey=True)
for label, name in ((0, "controls"), (1, "cases")):
    ax[0].scatter(*P_train[y_train == label].T, s=5, alpha=0.5, label=name)
ax[0].set_title("Training latents by label")
ax[1].scatter(*P_train.T, s=5, alpha=0.3, label="train")
ax[1].scatter(*P_holdout.T, s=5, alpha=0.5, marker="x", label="holdout")
ax[1].set_title("Training and holdout latents")
for a in ax:
    a.set(xlabel="latent PC1", ylabel="latent PC2")
    a.legend(markerscale=3)

# %%
# The case-control signal in the latent space: the mean of the first principal
# component in each group, in units of its standard deviation.
pc1 = P_train[:, 0]
gap = (pc1[y_train == 1].mean() - pc1[y_train == 0].mean()) / pc1.std()
print(f"case - control difference on latent PC1: {gap:+.2f} standard deviations")

"""
GWAS-guided selection: a Manhattan plot, the panel, and agreement with plink2
=============================================================================

The first stage of genosynth, :class:`~genosynth.GWASSelector`, runs a genome-wide
association scan on the **training individuals** and keeps the ``n_snps`` most
associated variants that pass quality control, in genomic order. This example

* draws the scan as a Manhattan plot with the selected panel and the true causal
  variants of the simulation;
* checks the calibration of the p-values with a QQ plot;
* shows what LD clumping changes;
* reruns the same scan with ``plink2 --glm`` and compares the two (skipped when
  ``plink2`` is not installed).
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats
from sklearn.model_selection import train_test_split

from genosynth import GWASSelector, write_plink
from genosynth.datasets import simulate_case_control

# The test suite runs every example with GENOSYNTH_EXAMPLE_SCALE=tiny to check it in seconds.
TINY = os.environ.get("GENOSYNTH_EXAMPLE_SCALE") == "tiny"

# %%
# A cohort on two chromosomes
# ---------------------------
# 40 causal variants explain half of the liability of a trait with 30% prevalence.
ds = simulate_case_control(
    400 if TINY else 2000,
    n_variants=400 if TINY else 3000,
    n_causal=40,
    heritability=0.5,
    prevalence=0.3,
    n_chromosomes=2,
    random_state=1,
)
y = ds["sample_phenotype"].values
idx_train, idx_holdout = train_test_split(
    np.arange(len(y)), test_size=0.3, stratify=y, random_state=0
)
train = ds.isel(samples=idx_train)
y_train = y[idx_train]
causal = ds["variant_causal"].values

# %%
# The scan and the panel
# ----------------------
# ``fit`` runs the scan (logistic regression of the trait on each variant's
# alternate-allele dosage) and selects the panel. ``results_`` keeps one row per
# variant: effect, standard error, statistic, p-value, which test produced it, and
# whether the variant was selected.
n_snps = 32 if TINY else 256
selector = GWASSelector(n_snps=n_snps).fit(train, y_train)
res = selector.results_
res.sort_values("p").head()

# %%
print(
    f"panel: {selector.get_support().sum()} of {len(res)} variants; "
    f"it contains {causal[selector.get_support()].sum()} of the {causal.sum()} causal variants"
)

# %%
# A Manhattan plot: one point per variant, chromosomes side by side. The panel is
# the top of each peak *and* its neighbours in LD — which is what the generator
# needs to reproduce.
# Chromosomes are laid end to end, in megabases.
offset = res.groupby("contig", sort=False)["position"].max().cumsum().shift(fill_value=0)
x = (res["position"].to_numpy() + res["contig"].map(offset).to_numpy()) / 1e6
logp = -np.log10(res["p"].to_numpy())
chromosome = pd.factorize(res["contig"])[0]

fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
ax.scatter(x, logp, c=np.array(["#4c72b0", "#8fa8d3"])[chromosome % 2], s=6, label="variant")
sel = res["selected"].to_numpy()
ax.scatter(x[sel], logp[sel], s=14, facecolors="none", edgecolors="#dd8452", label="selected")
ax.scatter(x[causal], logp[causal], marker="x", s=30, c="#c44e52", label="causal (truth)")
ax.axhline(-np.log10(5e-8), color="grey", lw=0.8, ls="--")
middles = pd.Series(x).groupby(chromosome).median()
ax.set_xticks(middles.to_numpy(), [f"chr {c}" for c in res["contig"].unique()])
ax.set(xlabel="chromosome (positions in order, end to end)", ylabel="-log10 p")
ax.set_title(f"GWAS on the training individuals, panel of {sel.sum()} variants")
ax.legend(loc="upper right", markerscale=1.5)

# %%
# Calibration: a QQ plot
# ----------------------
# Under the null, p-values are uniform. The genomic inflation factor
# :math:`\lambda_{GC}` compares the median chi-square statistic with its null
# median; a polygenic trait with variants in LD lifts it above 1 — not a sign of
# miscalibration as long as the bulk of the QQ curve follows the diagonal.
p = np.sort(res["p"].dropna().to_numpy())
expected = (np.arange(1, len(p) + 1) - 0.5) / len(p)
lambda_gc = np.median(stats.chi2.isf(p, 1)) / stats.chi2.ppf(0.5, 1)

fig, ax = plt.subplots(figsize=(4.5, 4.5), layout="constrained")
ax.scatter(-np.log10(expected), -np.log10(p), s=6)
lim = -np.log10(expected[0])
ax.plot([0, lim], [0, lim], color="grey", lw=0.8, ls=":")
ax.set(xlabel="expected -log10 p", ylabel="observed -log10 p")
ax.set_title(f"QQ plot (lambda_GC = {lambda_gc:.2f})")

# %%
# LD clumping
# -----------
# ``clump=True`` skips a variant when a more significant selected variant within
# ``clump_kb`` is in LD with it (``r2 >= clump_r2``), as ``plink --clump`` does.
# The clumped panel reaches further down the list of independent signals, at the
# price of the LD between neighbours that a generator is meant to learn.
clumped = GWASSelector(n_snps=n_snps, clump=True, clump_r2=0.2).fit(train, y_train)
for name, s in (("unclumped", selector), ("clumped", clumped)):
    support = s.get_support()
    print(
        f"{name:>9}: {causal[support].sum():2d} causal variants in the panel, "
        f"p-value of the last variant kept {s.pvalues_[support].max():.2g}"
    )

# %%
# Agreement with plink2
# ---------------------
# The same training individuals are written as PLINK 1 files (plink2's convention:
# A1 is the alternate allele, the one genosynth's dosages count) and tested with
# ``plink2 --glm``, with Firth regression where the plain fit diverges, as
# genosynth does. genosynth's ``beta`` and plink2's ``BETA`` are log-odds per copy
# of the same allele, so they should agree in sign and size.
plink2 = shutil.which("plink2")
if plink2 is None:
    print("plink2 is not on the PATH: skipping the comparison")
else:
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "train"
        write_plink(train, prefix)
        subprocess.run(
            [
                plink2,
                "--bfile",
                str(prefix),
                "--glm",
                "allow-no-covars",
                "omit-ref",
                "firth-fallback",
                "cols=+beta",
                "--threads",
                "1",
                "--out",
                str(prefix),
            ],
            check=True,
            capture_output=True,
        )
        glm = pd.read_csv(f"{prefix}.PHENO1.glm.logistic.hybrid", sep="\t")
    both = res.merge(glm, left_on="id", right_on="ID", validate="one_to_one")
    ok = both["p"].notna() & both["P"].notna()
    both = both[ok]
    ours, theirs = -np.log10(both["p"]), -np.log10(both["P"])
    top_ours = set(both.nsmallest(n_snps, "p")["id"])
    top_theirs = set(both.nsmallest(n_snps, "P")["id"])
    print(f"variants compared: {len(both)}")
    print(f"largest |difference| of -log10 p: {np.max(np.abs(ours - theirs)):.2g}")
    print(f"largest |difference| of beta:     {np.max(np.abs(both['beta'] - both['BETA'])):.2g}")
    print(f"same allele tested (A1 = alt):    {bool((both['A1'] == both['alt']).all())}")
    print(f"top-{n_snps} overlap:                {len(top_ours & top_theirs)} of {n_snps}")

    fig, axes = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
    axes[0].scatter(theirs, ours, s=6)
    axes[0].set(xlabel="plink2 -log10 p", ylabel="genosynth -log10 p", title="p-values")
    axes[1].scatter(both["BETA"], both["beta"], s=6)
    axes[1].set(xlabel="plink2 BETA", ylabel="genosynth beta", title="effects (log-odds)")
    for ax in axes:
        lo, hi = ax.get_xlim()
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls=":")

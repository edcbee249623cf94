"""
sgkit, PLINK and Zarr: real and synthetic cohorts in and out
============================================================

genosynth reads and writes genotypes through `sgkit <https://sgkit-dev.github.io/sgkit/>`_:
in memory a cohort is an xarray Dataset with ``call_genotype`` (variants x samples x
ploidy, -1 missing), the variant table and the sample variables. On disk it is PLINK 1
(``.bed/.bim/.fam``) or Zarr. One allele convention holds everywhere: a dosage
counts copies of the **alternate** allele, ``variant_allele[:, 1]``; in PLINK files
that allele is A1, as plink2 expects, so plink2 reports the same frequencies and
effects as genosynth.

This example takes a cohort through PLINK, fits genosynth on the lazily read file,
writes the synthetic cohort to PLINK and Zarr, checks it with plink2 (when installed),
and saves and reloads the fitted model.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import genosynth
from genosynth import (
    ConditionalLatentDiffusion,
    GenerativePipeline,
    GenotypeVAE,
    GWASSelector,
    as_genotypes,
    load_zarr,
    read_plink,
    save_zarr,
    write_plink,
)
from genosynth.datasets import simulate_case_control

# The test suite runs every example with GENOSYNTH_EXAMPLE_SCALE=tiny to check it in seconds.
TINY = os.environ.get("GENOSYNTH_EXAMPLE_SCALE") == "tiny"

# Everything is written to a temporary directory, removed at the end.
tmp = tempfile.TemporaryDirectory()
workdir = Path(tmp.name)

# %%
# A cohort to PLINK and back
# --------------------------
# :func:`~genosynth.write_plink` writes ``.bed/.bim/.fam``, with the label as the
# ``.fam`` phenotype in PLINK's 1 (control) / 2 (case) coding.
ds = simulate_case_control(
    300 if TINY else 1000,
    n_variants=300 if TINY else 1000,
    n_causal=20,
    heritability=0.6,
    prevalence=0.3,
    random_state=0,
)
write_plink(ds, workdir / "cohort")
print(sorted(p.name for p in workdir.iterdir()))

# %%
# :func:`~genosynth.read_plink` opens the files *lazily*: the Dataset's genotypes are a
# dask array, and nothing is read from the ``.bed`` until it is needed.
cohort = read_plink(workdir / "cohort")
print(type(cohort["call_genotype"].data))
cohort

# %%
# The round trip is exact: same dosages, same alleles, same labels.
G_before, variants_before = as_genotypes(ds)
G_after, variants_after = as_genotypes(cohort)
print("dosages identical:", np.array_equal(G_before, G_after))
print("alleles identical:", variants_before[["ref", "alt"]].equals(variants_after[["ref", "alt"]]))
print("labels identical: ", np.array_equal(ds["sample_phenotype"], cohort["sample_phenotype"]))

# %%
# Fit on the lazy PLINK Dataset
# -----------------------------
# The GWAS selection streams the file block of variants by block; only the selected
# panel is then held in memory (see :ref:`cpu-gpu` on scaling). For the privacy
# protocol, split the samples first, exactly as with an in-memory Dataset:
# ``cohort.isel(samples=idx_train)`` stays lazy. This example fits on everyone
# because it is about files, not about evaluation.
y = cohort["sample_phenotype"].values
pipe = GenerativePipeline(
    [
        ("gwas", GWASSelector(n_snps=32 if TINY else 128)),
        ("vae", GenotypeVAE(max_iter=2 if TINY else 60, batch_size=32, random_state=0)),
        ("diffusion", ConditionalLatentDiffusion(max_iter=2 if TINY else 200, random_state=0)),
    ]
).fit(cohort, y)

# %%
# The synthetic cohort as a Dataset
# ---------------------------------
# :meth:`~genosynth.GenerativePipeline.sample_dataset` carries the panel's variant ids,
# contigs, positions and alleles, sample ids ``syn0, syn1, ...`` and the labels.
synthetic = pipe.sample_dataset(len(y), y=None, random_state=0)
synthetic

# %%
# Write it as PLINK and as Zarr, and read both back.
write_plink(synthetic, workdir / "synthetic")
save_zarr(synthetic, workdir / "synthetic.zarr")
from_plink = read_plink(workdir / "synthetic")
from_zarr = load_zarr(workdir / "synthetic.zarr")
G_syn, variants_syn = as_genotypes(synthetic)
print("PLINK round trip identical:", np.array_equal(as_genotypes(from_plink)[0], G_syn))
print("Zarr round trip identical: ", np.array_equal(as_genotypes(from_zarr)[0], G_syn))
print(
    "panel matches the selection:",
    variants_syn["id"].tolist() == pipe["gwas"].selected_variants_["id"].tolist(),
)

# %%
# plink2 reads the synthetic cohort
# ---------------------------------
# ``plink2 --freq`` on the synthetic files reports the frequency of A1, the
# alternate allele: it must equal genosynth's own allele frequency of the same
# Dataset. Against the real cohort's frequencies on the panel, the points show how
# well the generator kept allele frequencies. (Skipped without plink2.)
real_af = G_after[:, pipe["gwas"].get_support()].mean(axis=0) / 2
syn_af = G_syn.mean(axis=0) / 2
plink2 = shutil.which("plink2")
if plink2 is not None:
    subprocess.run(
        [
            plink2,
            "--bfile",
            str(workdir / "synthetic"),
            "--freq",
            "--out",
            str(workdir / "synthetic"),
        ],
        check=True,
        capture_output=True,
    )
    freq = pd.read_csv(workdir / "synthetic.afreq", sep="\t")
    freq = freq.set_index("ID").loc[variants_syn["id"]]
    plink2_af = freq["ALT_FREQS"].to_numpy()
    same_allele = np.array_equal(freq["ALT"].to_numpy(), variants_syn["alt"].to_numpy())
    print(f"plink2 ALT is genosynth's alt: {bool(same_allele)}")
    print(f"largest |plink2 - genosynth| frequency: {np.max(np.abs(plink2_af - syn_af)):.1e}")
else:
    print("plink2 is not on the PATH: skipping the plink2 check")

fig, ax = plt.subplots(figsize=(5, 4.5), layout="constrained")
ax.scatter(real_af, syn_af, s=10)
ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
ax.set(xlabel="alt allele frequency, real cohort", ylabel="alt allele frequency, synthetic")
ax.set_title("The panel, as read back from the synthetic PLINK files")

# %%
# Save and reload the model
# -------------------------
# :func:`genosynth.save` writes one safetensors file: the estimators' parameters and
# fitted weights, a JSON header and a checksum — never training genotypes, and no
# pickle, so loading executes no code from the file. The reloaded pipeline samples
# exactly the same cohort for the same ``random_state``.
path = genosynth.save(pipe, workdir / "model.genosynth")
print(f"model file: {path.stat().st_size / 1e6:.2f} MB")
reloaded = genosynth.load(path)
G_again, _ = reloaded.sample(len(y), random_state=0)
print(
    "same cohort after reloading:", np.array_equal(G_again, pipe.sample(len(y), random_state=0)[0])
)

# %%
tmp.cleanup()

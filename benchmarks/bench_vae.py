"""GenotypeVAE: held-out reconstruction accuracy and fit time at 8x, 16x and 32x.

Simulates an msprime case-control cohort, splits it 80/20 *before* selection,
chooses a 1,024-SNP panel with GWASSelector on the training part, fits
GenotypeVAE with default settings at each compression and reports held-out
reconstruction accuracy beside the trivial baseline (each SNP's most frequent
training genotype), the fit time, and the latents' per-dimension mean/std.

Usage::

    python benchmarks/bench_vae.py                      # N=10,000 (8,000 train), K=1,024
    python benchmarks/bench_vae.py --n-samples 4000 --compressions 16
    python benchmarks/bench_vae.py --compressions "" --time-all   # only the default fit on all N
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from genosynth import GenotypeVAE, GWASSelector
from genosynth.data._genotypes import as_genotypes
from genosynth.datasets import simulate_case_control


def majority_accuracy(train: np.ndarray, test: np.ndarray) -> float:
    """Accuracy of predicting each SNP's most frequent training genotype."""
    mode = np.array([np.bincount(c[c >= 0], minlength=3).argmax() for c in train.T])
    observed = test >= 0
    return float((test == mode)[observed].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--n-variants", type=int, default=8_000)
    parser.add_argument("--n-snps", type=int, default=1024)
    parser.add_argument("--compressions", default="8,16,32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--time-all",
        action="store_true",
        help="also time the default fit on all N individuals (the issue's fit-time budget)",
    )
    args = parser.parse_args()

    ds = simulate_case_control(
        args.n_samples,
        n_jobs=2,  # chromosomes simulated side by side: the same cohort, sooner
        n_variants=args.n_variants,
        n_causal=200,
        heritability=0.5,
        prevalence=0.3,
        random_state=args.seed,
    )
    y = ds["sample_phenotype"].values
    idx_tr, idx_ho = train_test_split(
        np.arange(len(y)), test_size=0.2, stratify=y, random_state=args.seed
    )
    selector = GWASSelector(n_snps=args.n_snps).fit(ds.isel(samples=idx_tr), y[idx_tr])
    G, _ = as_genotypes(ds)
    panel = selector.get_support(indices=True)
    train, test = G[idx_tr][:, panel], G[idx_ho][:, panel]
    baseline = majority_accuracy(train, test)
    print(
        f"cohort {len(y)} x {args.n_variants} (msprime); panel {len(panel)} SNPs by GWAS; "
        f"train {len(train)}, held out {len(test)}; torch threads {torch.get_num_threads()}"
    )
    print()
    print(
        "| compression | latent dims | held-out accuracy | train accuracy | majority baseline "
        "| fit (s) | epochs (best) | latent mean (avg) | latent std (avg, min-max) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for c in (int(v) for v in args.compressions.split(",") if v):
        start = time.perf_counter()
        vae = GenotypeVAE(compression=c, random_state=args.seed).fit(train)
        fit_s = time.perf_counter() - start
        std = vae.latent_std_
        print(
            f"| {c}x | {vae.n_latent_} | {vae.score(test):.4f} | {vae.score(train):.4f} "
            f"| {baseline:.4f} | {fit_s:.0f} | {vae.n_iter_} ({vae.best_iteration_}) "
            f"| {vae.latent_mean_.mean():+.3f} "
            f"| {std.mean():.3f} ({std.min():.3f}-{std.max():.3f}) |",
            flush=True,
        )
    if args.time_all:
        everyone = G[:, panel]
        start = time.perf_counter()
        vae = GenotypeVAE(random_state=args.seed).fit(everyone)
        print(
            f"\ndefault GenotypeVAE().fit on all {everyone.shape[0]} x {everyone.shape[1]}: "
            f"{time.perf_counter() - start:.0f} s, {vae.n_iter_} epochs"
        )


if __name__ == "__main__":
    main()

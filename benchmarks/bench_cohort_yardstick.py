"""Is the simulated cohort a biobank or a family? The holdout yardstick, measured.

Every privacy metric compares synthetic individuals with *new real people* (the
holdout). That yardstick only means something if holdout individuals are not
relatives of the training individuals. For each cohort (the default and, as the
reference, the constant-size population of 10,000) this script splits 80/20 and
prints, side by side:

* the share of holdout haplotypes (per chromosome, ``call_genotype`` phasing)
  that are exact copies of a training haplotype over the panel SNPs of a
  ``GWASSelector(n_snps=1024)`` fitted on the training split (target <= 20%);
* KING-robust kinship (:func:`genosynth.metrics.king_kinship`) of each holdout
  individual with the training set, on all simulated common variants: the share
  with a first-degree relative (phi >= 0.177, target < 1%) and the median
  closest kinship (target < 0.0884, the second-degree threshold);
* the privacy metrics with half the holdout playing the synthetic cohort:
  NNAA halves (target 0.45-0.55 each) and the DCR ratio (target 1.0).

Usage::

    python benchmarks/bench_cohort_yardstick.py                  # N = 10,000, 30,000 SNPs
    python benchmarks/bench_cohort_yardstick.py --n-samples 6000 --n-variants 8000
    python benchmarks/bench_cohort_yardstick.py --demographies OutOfAfrica_2T12

Prints a markdown table (copy it into benchmarks/README.md with the date).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def haplotype_copy_share(ds, train, holdout, panel) -> float:
    """Share of holdout haplotypes identical to a training haplotype on their chromosome."""
    contig = ds["variant_contig"].values[panel]
    shares, weights = [], []
    for c in np.unique(contig):
        H = ds["call_genotype"].values[panel[contig == c]]  # (snps, samples, 2)
        seen = {h.tobytes() for h in H[:, train, :].transpose(1, 2, 0).reshape(2 * len(train), -1)}
        query = H[:, holdout, :].transpose(1, 2, 0).reshape(2 * len(holdout), -1)
        shares.append(np.mean([h.tobytes() in seen for h in query]))
        weights.append(1)
    return float(np.average(shares, weights=weights))


def closest_kinship(G, train, holdout, block=1000) -> np.ndarray:
    from genosynth.metrics import king_kinship

    out = np.empty(len(holdout))
    for i in range(0, len(holdout), block):
        rows = holdout[i : i + block]
        phi = king_kinship(G[rows], G[train])
        out[i : i + block] = np.nan_to_num(phi, nan=-np.inf).max(axis=1)
    return out


def measure(demography, n_samples, n_variants, n_chromosomes, n_jobs, seed) -> dict:
    from genosynth import GWASSelector
    from genosynth.data._genotypes import as_genotypes
    from genosynth.datasets import simulate_case_control
    from genosynth.metrics import adversarial_accuracy, distance_to_closest_record

    t0 = time.perf_counter()
    ds = simulate_case_control(
        n_samples,
        demography=demography,
        n_variants=n_variants,
        n_chromosomes=n_chromosomes,
        n_jobs=n_jobs,
        n_causal=200,
        prevalence=0.3,
        random_state=seed,
    )
    t_sim = time.perf_counter() - t0
    perm = np.random.default_rng(seed).permutation(n_samples)
    train, holdout = np.sort(perm[: int(0.8 * n_samples)]), np.sort(perm[int(0.8 * n_samples) :])
    y = ds["sample_phenotype"].values
    selector = GWASSelector(n_snps=1024).fit(ds.isel(samples=train), y[train])
    panel = selector.get_support(indices=True)
    G = as_genotypes(ds)[0]

    t0 = time.perf_counter()
    phi = closest_kinship(G, train, holdout)
    t_king = time.perf_counter() - t0
    half = len(holdout) // 2
    a, b = holdout[:half], holdout[half:]
    Gp = G[:, panel]
    aa = adversarial_accuracy(Gp[train], Gp[b], Gp[a], random_state=seed)
    dcr = distance_to_closest_record(Gp[train], Gp[b], Gp[a])
    return {
        "cohort": demography,
        "N": n_samples,
        "variants": ds.sizes["variants"],
        "Mb": sum(ds.attrs["sequence_length"]) / 1e6,
        "simulate_s": t_sim,
        "king_s": t_king,
        "copies": haplotype_copy_share(ds, train, holdout, panel),
        "first_degree": float(np.mean(phi >= 0.177)),
        "second_degree": float(np.mean(phi > 0.0884)),
        "median_phi": float(np.median(phi)),
        "p99_phi": float(np.quantile(phi, 0.99)),
        "nnaa_real": aa["nnaa_real"],
        "nnaa_synthetic": aa["nnaa_synthetic"],
        "dcr_ratio": dcr["dcr_ratio"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--n-variants", type=int, default=30_000)
    parser.add_argument("--n-chromosomes", type=int, default=6)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--demographies", default="OutOfAfrica_2T12,constant")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = [
        measure(d, args.n_samples, args.n_variants, args.n_chromosomes, args.n_jobs, args.seed)
        for d in args.demographies.split(",")
    ]
    print(
        "| cohort | N | common SNPs (Mb) | holdout haplotypes copied (panel) | "
        "first-degree (phi >= 0.177) | > second-degree | median closest phi | "
        "99th pct | NNAA real / synthetic half | DCR ratio | simulate / KING (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['cohort']} | {r['N']:,} | {r['variants']:,} ({r['Mb']:.1f}) | "
            f"{r['copies']:.1%} | {r['first_degree']:.2%} | {r['second_degree']:.2%} | "
            f"{r['median_phi']:.4f} | {r['p99_phi']:.4f} | {r['nnaa_real']:.3f} / "
            f"{r['nnaa_synthetic']:.3f} | {r['dcr_ratio']:.3f} | "
            f"{r['simulate_s']:.0f} / {r['king_s']:.0f} |"
        )


if __name__ == "__main__":
    main()

"""Speed of the haplotype mosaic and of the segment-sharing metric, in seconds.

Throughput depends on the cohort's shape, not its genetics, so random phased
haplotypes stand in for a cohort: ``--n-train`` training individuals on
``--n-snps`` SNPs over six contigs. Reported:

* HaplotypeMosaic sampling: synthetic individuals per second, without caps,
  with a segment cap and with a donor cap (the slowest path);
* :func:`genosynth.metrics.shared_segments` of ``--n-train`` synthetic and a
  quarter as many holdout individuals against the training set, on genotypes
  and on haplotypes, and what a blockwise brute force (every pair, every SNP)
  would take, extrapolated from ``--brute-queries`` queries.

Usage::

    python benchmarks/bench_mosaic.py                      # 8,000 x 1,024: ~15 s
    python benchmarks/bench_mosaic.py --n-train 2000 --n-snps 256
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _cohort(n, L, rng):
    import xarray as xr

    gt = (rng.random((L, n, 2)) < 0.3).astype(np.int8)
    contig = np.repeat(np.arange(6), -(-L // 6))[:L]
    return xr.Dataset(
        {
            "call_genotype": (("variants", "samples", "ploidy"), gt),
            "call_genotype_phased": (("variants", "samples"), np.ones((L, n), bool)),
            "variant_position": ("variants", (np.arange(L) % -(-L // 6) + 1) * 12_000_000 // L),
            "variant_contig": ("variants", contig),
        },
        attrs={"contigs": [str(c + 1) for c in range(6)]},
    )


def _brute_force_seconds(train, queries, new_contig):
    """Seconds per query of the longest identical run against every training row."""
    t0 = time.perf_counter()
    for q in queries:
        same = train == q
        run = np.zeros(len(train), dtype=np.int32)
        best = 0
        for k in range(train.shape[1]):
            run = np.where(same[:, k], np.where(new_contig[k], 0, run) + 1, 0)
            best = max(best, int(run.max()))
    return (time.perf_counter() - t0) / len(queries)


def main() -> None:
    from genosynth.baselines import HaplotypeMosaic
    from genosynth.data._genotypes import as_genotypes
    from genosynth.metrics import shared_segments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=8000)
    parser.add_argument("--n-snps", type=int, default=1024)
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--brute-queries", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    train = _cohort(args.n_train, args.n_snps, rng)
    y = rng.integers(0, 2, args.n_train)
    est = HaplotypeMosaic().fit(train, y)
    est.sample(10, random_state=0)  # the first call lays the haplotypes out by SNP, once
    print(f"HaplotypeMosaic, {args.n_train} training individuals x {args.n_snps} SNPs:")
    for params in ({}, {"max_segment_snps": 20}, {"max_donor_fraction": 0.05}):
        est.set_params(**{"max_segment_snps": None, "max_donor_fraction": None, **params})
        t0 = time.perf_counter()
        est.sample(args.n_samples, random_state=0)
        seconds = time.perf_counter() - t0
        print(
            f"  {params or 'no caps'}: {args.n_samples} individuals in {seconds:.2f} s "
            f"= {args.n_samples / seconds:,.0f} / s"
        )
    syn = est.set_params(max_donor_fraction=None).sample_dataset(args.n_train, random_state=1)
    holdout = _cohort(args.n_train // 4, args.n_snps, rng)
    n_query = args.n_train + args.n_train // 4
    print(f"shared_segments, {n_query} queries vs {args.n_train} training individuals:")
    t0 = time.perf_counter()
    shared_segments(train, holdout, syn)
    both = time.perf_counter() - t0
    t0 = time.perf_counter()
    shared_segments(train, holdout, syn, haplotypes=False)
    dosage = time.perf_counter() - t0
    print(f"  genotypes {dosage:.1f} s; genotypes + haplotypes {both:.1f} s")
    G = as_genotypes(train)[0]
    queries = as_genotypes(syn)[0][: args.brute_queries]
    per_query = _brute_force_seconds(G, queries, est.switch_probability_ >= 1)
    print(f"  brute force (every pair): {per_query * n_query:.0f} s (extrapolated)")


if __name__ == "__main__":
    main()

"""Time and peak memory of the msprime cohort simulator.

Target (issue 22): 10,000 individuals x >= 30,000 common SNPs of the default
cohort (stdpopsim ``OutOfAfrica_2T12``, European population, four chromosomes)
in under two minutes on 2 cores, with peak memory near the int8 size of the
genotype matrix.

Run in a fresh process so that the peak resident set size belongs to this run alone::

    python benchmarks/bench_datasets.py                       # 10,000 x 30,000, default
    python benchmarks/bench_datasets.py --demography constant --n-chromosomes 1
    python benchmarks/bench_datasets.py --demography AmericanAdmixture_4B18
    python benchmarks/bench_datasets.py --n-samples 2000 --n-variants 5000

Printed ratios: wall time / 120 s budget; peak RSS / bytes of ``call_genotype``
(variants x samples x 2 int8, the phased matrix returned); peak RSS / bytes of
the dosage matrix (variants x samples int8); and the bytes an int32
``ts.genotype_matrix()`` of every simulated site would have needed (arithmetic
from the number of sites simulated, which the simulator records, not measured)
relative to the peak RSS.
"""

import argparse
import resource
import sys
import time

MB = 2**20


def _peak_rss_bytes() -> int:
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--n-variants", type=int, default=30_000)
    parser.add_argument("--demography", default="OutOfAfrica_2T12")
    parser.add_argument("--n-populations", type=int, help="demography 'constant' only")
    parser.add_argument("--n-chromosomes", type=int, default=6)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import msprime  # noqa: F401  (import cost is not simulation cost)
    import sgkit  # noqa: F401

    from genosynth.datasets import simulate_case_control

    baseline = _peak_rss_bytes()
    t0 = time.perf_counter()
    ds = simulate_case_control(
        args.n_samples,
        n_variants=args.n_variants,
        n_causal=200,
        demography=args.demography,
        n_populations=args.n_populations,
        n_chromosomes=args.n_chromosomes,
        n_jobs=args.n_jobs,
        random_state=args.seed,
    )
    wall = time.perf_counter() - t0
    peak = _peak_rss_bytes()

    n_var, n_samp = ds.sizes["variants"], ds.sizes["samples"]
    gt_bytes = ds["call_genotype"].nbytes
    dosage_bytes = n_var * n_samp
    int32_all_sites = sum(ds.attrs["n_sites_simulated"]) * 2 * n_samp * 4
    print(
        f"cohort: {n_samp} individuals x {n_var} common SNPs "
        f"({sum(ds.attrs['n_sites_simulated'])} sites simulated, "
        f"{sum(ds.attrs['sequence_length']) / 1e6:.1f} Mb, "
        f"{args.demography}: {', '.join(ds.attrs['populations'])}, "
        f"{args.n_chromosomes} chromosome(s))"
    )
    print(f"wall time               : {wall:8.1f} s   ({wall / 120:.2f} x the 120 s budget)")
    print(f"peak RSS                : {peak / MB:8.0f} MB  (after imports: {baseline / MB:.0f} MB)")
    print(
        f"call_genotype int8      : {gt_bytes / MB:8.0f} MB  "
        f"peak / this = {peak / gt_bytes:.2f}, (peak - imports) / this = "
        f"{(peak - baseline) / gt_bytes:.2f}"
    )
    print(
        f"dosage matrix int8      : {dosage_bytes / MB:8.0f} MB  peak / this = "
        f"{peak / dosage_bytes:.2f}"
    )
    print(
        f"int32 genotype_matrix() : {int32_all_sites / MB:8.0f} MB  (would be "
        f"{int32_all_sites / peak:.1f} x our peak; computed, not allocated)"
    )


if __name__ == "__main__":
    main()

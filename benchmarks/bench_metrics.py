"""Scale of the privacy metrics and cost of the full report.

Two parts:

``nn``
    :func:`genosynth.metrics.nearest_neighbours` of every query row among the
    reference rows (Hamming distance on dosages, blockwise float32 GEMM),
    the kernel behind IMR, DCR, NNDR, NNAA and the membership attacks. The
    issue's target: 50,000 x 50,000 individuals at L = 2,048 variants finish
    on 2 cores with bounded memory. Each size runs in its own process so that
    its peak RSS is its own; the first rows are checked against a brute-force
    ``|a - b|.sum()``.
``evaluate``
    :func:`genosynth.metrics.evaluate` on an msprime cohort (train, holdout,
    synthetic from the two baseline generators), with the time of each part.

Usage::

    python benchmarks/bench_metrics.py nn                          # 50,000 x 50,000, L=2,048
    python benchmarks/bench_metrics.py nn --sizes 5000,20000,50000
    python benchmarks/bench_metrics.py evaluate                    # 2,400/600/2,400 x 1,024

Prints markdown tables (copy them into benchmarks/README.md with the date).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _genotypes(n, L, rng, af):
    """Hardy-Weinberg genotypes drawn from per-variant allele frequencies, int8.

    Drawn 512 rows at a time so that the generator's temporaries stay small
    next to the matrices (peak RSS is a high-water mark).
    """
    G = np.empty((n, L), dtype=np.int8)
    for s in range(0, n, 512):
        m = min(512, n - s)
        G[s : s + m] = (rng.random((m, L)) < af).astype(np.int8) + (rng.random((m, L)) < af)
    return G


def run_nn(n_query: int, n_reference: int, n_variants: int, block_size: int, k: int) -> dict:
    """Time one nearest-neighbour search (in this process).

    :func:`genosynth.metrics.nearest_neighbours` is input validation
    (``as_genotypes``) followed by the blockwise kernel; the two are timed
    and their memory high-water marks recorded separately, kernel first.
    """
    from genosynth.data._genotypes import as_genotypes
    from genosynth.metrics._neighbours import _nearest

    rng = np.random.default_rng(0)
    af = rng.uniform(0.05, 0.5, n_variants).astype(np.float32)
    Q = _genotypes(n_query, n_variants, rng, af)
    R = _genotypes(n_reference, n_variants, rng, af)
    rss_inputs = _peak_rss_mb()
    t0 = time.perf_counter()
    d, _ = _nearest(Q, R, k, block_size=block_size)
    kernel_s = time.perf_counter() - t0
    rss_kernel = _peak_rss_mb()
    t0 = time.perf_counter()
    as_genotypes(Q)
    as_genotypes(R)
    validate_s = time.perf_counter() - t0
    rss_validate = _peak_rss_mb()
    ok = all(
        np.array_equal(np.sort(np.abs(R - Q[i].astype(np.int16)).sum(axis=1))[:k], d[i])
        for i in range(min(20, n_query))
    )
    flop = 2.0 * n_query * n_reference * 2 * n_variants
    return {
        "n_query": n_query,
        "n_reference": n_reference,
        "L": n_variants,
        "block_size": block_size,
        "k": k,
        "kernel_s": kernel_s,
        "validate_s": validate_s,
        "gflop_per_s": flop / kernel_s / 1e9,
        "inputs_mb": (Q.nbytes + R.nbytes) / 2**20,
        "rss_after_inputs_mb": rss_inputs,
        "rss_peak_kernel_mb": rss_kernel,
        "rss_peak_validation_mb": rss_validate,
        "brute_force_agrees": ok,
    }


def run_evaluate(n_train: int, n_holdout: int, n_variants: int, seed: int) -> list[dict]:
    """Time evaluate() on the two baselines of one msprime cohort (in this process)."""
    from genosynth.baselines import AlleleFrequencySampler, Copycat
    from genosynth.data._genotypes import as_genotypes
    from genosynth.datasets import simulate_case_control
    from genosynth.metrics import evaluate

    n = n_train + n_holdout
    ds = simulate_case_control(
        n,
        n_jobs=2,  # chromosomes simulated side by side: the same cohort, sooner
        n_variants=n_variants,
        n_causal=100,
        heritability=0.5,
        prevalence=0.3,
        random_state=seed,
    )
    G, variants = as_genotypes(ds)
    y = np.asarray(ds["sample_phenotype"].values)
    causal = np.asarray(ds["variant_causal"].values)
    perm = np.random.default_rng(seed).permutation(n)
    tr, ho = perm[:n_train], perm[n_train:]
    rows = []
    for name, gen in (("AF sampler", AlleleFrequencySampler()), ("copycat", Copycat())):
        G_syn, y_syn = gen.fit(G[tr], y[tr]).sample(y=y[tr], random_state=seed + 1)
        t0 = time.perf_counter()
        report = evaluate(
            G[tr],
            y[tr],
            G[ho],
            y[ho],
            G_syn,
            y_syn,
            variants=variants,
            causal=causal,
            random_state=seed,
        )
        elapsed = time.perf_counter() - t0
        rows.append(
            {
                "generator": name,
                "seconds": elapsed,
                "timings": report.timings,
                "values": report.to_dict(),
                "verdicts": report.verdicts,
            }
        )
    return rows


def _nn_table(results) -> str:
    cols = [
        "n_query",
        "n_reference",
        "L",
        "block_size",
        "k",
        "kernel_s",
        "validate_s",
        "gflop_per_s",
        "inputs_mb",
        "rss_after_inputs_mb",
        "rss_peak_kernel_mb",
        "rss_peak_validation_mb",
        "brute_force_agrees",
    ]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in results:
        cells = [f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]) for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _evaluate_tables(rows) -> str:
    parts = sorted({p for r in rows for p in r["timings"]}, key=lambda p: -rows[0]["timings"][p])
    lines = [
        "| part | " + " | ".join(r["generator"] for r in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for p in parts:
        lines.append(f"| {p} | " + " | ".join(f"{r['timings'][p]:.2f}" for r in rows) + " |")
    lines.append("| **total (s)** | " + " | ".join(f"{r['seconds']:.2f}" for r in rows) + " |")
    lines += [
        "",
        "| metric | " + " | ".join(r["generator"] for r in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for m in rows[0]["verdicts"]:
        cells = [f"{r['values'][m]:.3f} ({r['verdicts'][m]})" for r in rows]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("nn", "evaluate"))
    parser.add_argument("--sizes", default="50000", help="nn: comma list of n (query = ref)")
    parser.add_argument(
        "--n-variants",
        type=int,
        default=None,
        help="variants (nn default 2048, evaluate default 1024)",
    )
    parser.add_argument("--block-size", type=int, default=2048)
    parser.add_argument("--k", type=int, default=1)
    parser.add_argument("--n-train", type=int, default=2400)
    parser.add_argument("--n-holdout", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: one nn size in-process
    args = parser.parse_args()
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")

    if args.part == "evaluate":
        rows = run_evaluate(args.n_train, args.n_holdout, args.n_variants or 1024, args.seed)
        print(
            f"evaluate: {args.n_train} train / {args.n_holdout} holdout / {args.n_train} "
            f"synthetic x {args.n_variants or 1024} variants (OPENBLAS_NUM_THREADS={threads})"
        )
        print(_evaluate_tables(rows))
        return

    L = args.n_variants or 2048
    if args.one:
        n = int(args.one)
        print(json.dumps(run_nn(n, n, L, args.block_size, args.k)))
        return
    results = []
    for n in (int(v) for v in args.sizes.split(",")):
        cmd = [
            sys.executable,
            __file__,
            "nn",
            "--one",
            str(n),
            "--n-variants",
            str(L),
            "--block-size",
            str(args.block_size),
            "--k",
            str(args.k),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        res = json.loads(out.strip().splitlines()[-1])
        results.append(res)
        print(
            f"n={n}: kernel {res['kernel_s']:.1f} s, peak RSS {res['rss_peak_kernel_mb']:.0f} MB",
            file=sys.stderr,
            flush=True,
        )
    print(f"nearest_neighbours (OPENBLAS_NUM_THREADS={threads}, {os.cpu_count()} CPUs)")
    print(_nn_table(results))


if __name__ == "__main__":
    main()

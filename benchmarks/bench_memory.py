"""Peak memory of the default pipeline: the cohort in memory against the cohort on disk.

The peak RSS that ``bench_speed.py`` reports includes the benchmark's own copy of
the cohort: it loads the N x 30,000 Zarr cache into memory and slices the training
split from it, which holds the calls (and their masks) twice. A biobank-sized
cohort is read from Zarr lazily instead; :class:`~genosynth.GWASSelector` then
scans it in blocks and only the selected panel reaches the networks. This script
fits the default float32 pipeline both ways, each in its own process (its own
peak), and samples as many individuals as train. Memory, not time, is measured:
the networks train for ``--epochs`` epochs (their batches, weights, optimiser
state and best checkpoint do not grow with the epoch count).

Usage::

    python benchmarks/bench_memory.py             # N = 10,000, K = 1,024
    python benchmarks/bench_memory.py --n 30000   # bench_speed.py's cohort cache, N = 30,000

Prints a markdown table (copy it into benchmarks/README.md with the date).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from bench_speed import FLOAT32, _arithmetic, _pipeline  # noqa: E402


def _rss() -> int:
    """Resident set size in bytes, from /proc (Linux; no extra dependency)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _PeakRSS:
    """Highest resident set size seen since the last ``take()`` (polled every 20 ms)."""

    def __init__(self):
        self._peak = _rss()
        threading.Thread(target=self._poll, daemon=True).start()

    def _poll(self):
        while True:
            self._peak = max(self._peak, _rss())
            time.sleep(0.02)

    def take(self) -> float:
        time.sleep(0.05)
        peak, self._peak = self._peak, _rss()
        return peak / 2**20


def run(n: int, n_snps: int, seed: int, lazy: bool, epochs: int, cache: Path) -> dict:
    from sklearn.model_selection import train_test_split

    from genosynth.io import load_zarr

    path = cache / f"cohort_n{n}_v30000_s{seed}.zarr"
    if not path.exists():
        sys.exit(f"no cohort cache at {path}: run bench_speed.py for N = {n} first")
    peak = _PeakRSS()
    ds = load_zarr(path) if lazy else load_zarr(path).load()
    y = np.asarray(ds["sample_phenotype"].values)
    idx_tr, _ = train_test_split(np.arange(n), test_size=0.2, stratify=y, random_state=seed)
    opened = peak.take()
    pipe = _pipeline(
        n_snps, seed, FLOAT32 | {"vae__max_iter": epochs, "diffusion__max_iter": epochs}
    )
    pipe.fit(ds.isel(samples=idx_tr), y[idx_tr])
    fitted = peak.take()
    pipe.sample(y=y[idx_tr], random_state=seed + 1)
    sampled = peak.take()
    return {
        "N": n,
        "cohort": "on disk (lazy Zarr)" if lazy else "in memory",
        "arithmetic": _arithmetic(pipe),
        "opened_mb": opened,
        "fit_mb": fitted,
        "sample_mb": sampled,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--n-snps", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/genosynth-bench-cache"))
    parser.add_argument("--child", choices=("memory", "lazy"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        row = run(args.n, args.n_snps, args.seed, args.child == "lazy", args.epochs, args.cache)
        print(json.dumps(row))
        return
    rows = []
    for mode in ("memory", "lazy"):
        cmd = [sys.executable, __file__, "--child", mode, "--n", str(args.n)]
        cmd += ["--n-snps", str(args.n_snps), "--seed", str(args.seed)]
        cmd += ["--epochs", str(args.epochs), "--cache", str(args.cache)]
        child = subprocess.run(cmd, capture_output=True, text=True)
        if child.returncode:
            sys.exit(f"{mode} run failed:\n{child.stderr}")
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
    print(
        "| N | cohort | arithmetic | peak: opened (MB) | fit (MB) | sample N_train (MB) "
        "| peak RSS (MB) |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['N']:,} | {r['cohort']} | {r['arithmetic']} | {r['opened_mb']:,.0f} | "
            f"{r['fit_mb']:,.0f} | {r['sample_mb']:,.0f} | {r['peak_rss_mb']:,.0f} |"
        )


if __name__ == "__main__":
    main()

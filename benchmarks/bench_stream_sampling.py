"""Peak memory of sampling a large synthetic cohort to PLINK, streamed vs in memory.

Fits a tiny model (two epochs: the memory of sampling does not depend on how
well the model learned) on a simulated cohort, saves it, then measures in
fresh processes -- so that each peak RSS is that run's alone:

* streamed: ``pipe.sample_dataset(n, out=PREFIX, format="plink")``, chunk by
  chunk (what ``genosynth sample`` does), at ``--n`` individuals;
* in memory: ``pipe.sample_dataset(n)`` then ``write_plink``, at the smaller
  ``--n-memory`` (the way every cohort was written before chunking).

Usage::

    python benchmarks/bench_stream_sampling.py            # 1,000,000 x 1,024 SNPs
    python benchmarks/bench_stream_sampling.py --n 20000 --n-memory 5000 --snps 128
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

PEAK_RSS_LIMIT_GB = 1.0


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux: KB


def _fit(args, workdir: Path) -> Path:
    from genosynth import (
        ConditionalLatentDiffusion,
        GenerativePipeline,
        GenotypeVAE,
        GWASSelector,
        save,
    )
    from genosynth.datasets import simulate_case_control

    ds = simulate_case_control(
        400, n_variants=args.snps + args.snps // 2, n_causal=10, random_state=0, n_chromosomes=1
    )
    pipe = GenerativePipeline(
        [
            ("gwas", GWASSelector(n_snps=args.snps)),
            ("vae", GenotypeVAE(max_iter=2, random_state=0)),
            (
                "diffusion",
                ConditionalLatentDiffusion(max_iter=2, denoiser=args.denoiser, random_state=0),
            ),
        ]
    )
    pipe.fit(ds, ds["sample_phenotype"].values)
    return save(pipe, workdir / "tiny.genosynth", overwrite=True)


def _worker(mode: str, model: str, n: int, out: str, chunk_size: int, conditioning: str) -> None:
    import torch

    from genosynth import GenerativePipeline, load
    from genosynth.io import write_plink

    torch.set_num_threads(1)
    pipe = GenerativePipeline(load(model).steps)
    baseline = _peak_rss_gb()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiny model's collapse warning
        if mode == "stream":
            pipe.sample_dataset(
                n,
                random_state=0,
                out=out,
                format="plink",
                chunk_size=chunk_size,
                overwrite=True,
                conditioning=conditioning,
            )
        else:
            ds = pipe.sample_dataset(n, random_state=0, conditioning=conditioning)
            write_plink(ds, out, overwrite=True)
    elapsed = time.perf_counter() - start
    result = {"seconds": elapsed, "peak_rss_gb": _peak_rss_gb(), "rss_before_gb": baseline}
    print(json.dumps(result))


def _run(mode, model, n, out, args) -> dict:
    cmd = [sys.executable, __file__, "--worker", mode, "--model", str(model), "--n", str(n)]
    cmd += ["--out", str(out), "--chunk-size", str(args.chunk_size)]
    cmd += ["--conditioning", args.conditioning]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="streamed individuals")
    parser.add_argument("--n-memory", type=int, default=100_000, help="in-memory individuals")
    parser.add_argument("--snps", type=int, default=1024)
    parser.add_argument("--chunk-size", type=int, default=2048)
    parser.add_argument(
        "--conditioning",
        choices=("auto", "label_model", "guidance"),
        default="guidance",
        help="guidance samples ~3x faster than the label model's rejection (auto); the "
        "memory per chunk is measured either way",
    )
    parser.add_argument("--denoiser", choices=("conv", "mlp"), default="mlp")
    parser.add_argument("--workdir", help="where the model and cohorts go (default: a temp dir)")
    parser.add_argument("--worker", choices=("stream", "memory"), help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker, args.model, args.n, args.out, args.chunk_size, args.conditioning)
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.workdir or tmp)
        start = time.perf_counter()
        model = _fit(args, workdir)
        print(f"tiny model ({args.snps} SNPs, {args.denoiser} denoiser, 2 epochs, conditioning "
              f"{args.conditioning}) fitted in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        rows = {
            "streamed": (args.n, _run("stream", model, args.n, workdir / "s", args)),
            "in memory": (args.n_memory, _run("memory", model, args.n_memory, workdir / "m", args)),
        }
    print(f"{'':<10} {'individuals':>12} {'SNPs':>6} {'peak RSS (GB)':>14} {'time (s)':>9} "
          f"{'individuals/s':>14}")  # fmt: skip
    for name, (n, r) in rows.items():
        print(
            f"{name:<10} {n:>12,} {args.snps:>6} {r['peak_rss_gb']:>14.2f} "
            f"{r['seconds']:>9.1f} {n / r['seconds']:>14,.0f}"
        )
    peak = rows["streamed"][1]["peak_rss_gb"]
    verdict = "within" if peak <= PEAK_RSS_LIMIT_GB else "ABOVE"
    print(f"streamed peak RSS {peak:.2f} GB: {verdict} the {PEAK_RSS_LIMIT_GB:.0f} GB target")
    return 0


if __name__ == "__main__":
    sys.exit(main())

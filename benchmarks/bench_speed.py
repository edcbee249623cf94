"""Speed of the default pipeline: fit time, peak memory and sampling throughput.

Three tables, every figure naming its arithmetic path (float32 or bfloat16):

* **fit** at each ``--fit-sizes`` N (80% train): the whole pipeline's fit split
  into GWAS, VAE network, label model and diffusion, peak RSS, and sampling
  throughput of one call of 8,000 individuals (decoding and the label model's
  rejection included), cold and warm. The cohort is read lazily from its Zarr
  cache, as a biobank's would be, so the peak RSS is the pipeline's own (not
  the benchmark's copy of an N x 30,000 cohort);
* **sampling** at each ``--snps`` K on the N = 10,000 cohort: warm throughput
  of 8,000 per call, from models fitted for ``--sampling-epochs`` epochs (the
  cost of a network evaluation does not depend on how long it was trained);
* each configuration given with ``--config NAME=JSON`` (pipeline ``set_params``
  keys, e.g. ``'before={"diffusion__max_iter": 160}'``) runs side by side with
  the default in the same invocation; ``--reference PATH`` runs every row
  again with another checkout (e.g. ``git worktree add /tmp/ref <commit>``:
  the previous default, whose network layout no parameter reproduces), as
  ``NAME, reference``, importing genosynth from there.

``--dtype float32`` (the default here) forces float32 arithmetic in every
stage, as on a CPU without native bfloat16; ``--dtype auto`` takes what the
machine computes natively. Each run is its own process (its own peak RSS);
simulated cohorts are cached as Zarr under ``--cache``.

Usage::

    python benchmarks/bench_speed.py                               # N = 10,000, K = 1,024
    python benchmarks/bench_speed.py --fit-sizes 10000,30000 --snps 512,1024,2048
    python benchmarks/bench_speed.py --config 'before={"diffusion__max_iter": 160}'
    git worktree add /tmp/genosynth-ref 9fbb06f        # the default before issue 26's changes
    python benchmarks/bench_speed.py --reference /tmp/genosynth-ref --dtype auto
    python benchmarks/bench_speed.py --fit-sizes 10000,30000,100000 --site-fraction 1 \
        --config 'short={"vae__max_iter": 2, "diffusion__max_iter": 4}' --no-default

Prints markdown tables (copy them into benchmarks/README.md with the date).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

FLOAT32 = {
    "vae__training_dtype": "float32",
    "vae__decoding_dtype": "float32",
    "diffusion__training_dtype": "float32",
    "diffusion__sampling_dtype": "float32",
}
N_SAMPLED = 8000


def _cohort(n: int, n_variants: int, seed: int, cache: Path, lazy=False, site_fraction="auto"):
    """The default simulated cohort, from the Zarr cache when it is there.

    ``lazy``: leave the calls on disk (dask-backed), as a biobank-sized cohort
    is read; otherwise load them into memory. ``site_fraction=1.0`` keeps every
    mutation, so the same number of common variants spans a several times
    shorter genome, which simulates several times faster: the same cost for the
    pipeline (N, variants and panel are what it pays for), denser LD.
    """
    from genosynth.datasets import simulate_case_control
    from genosynth.io import load_zarr, save_zarr

    tag = "" if site_fraction == "auto" else f"_sf{site_fraction:g}"
    path = cache / f"cohort_n{n}_v{n_variants}_s{seed}{tag}.zarr"
    if not path.exists():
        t0 = time.perf_counter()
        ds = simulate_case_control(
            n,
            n_variants=n_variants,
            n_causal=200,
            heritability=0.5,
            prevalence=0.3,
            site_fraction=site_fraction,
            random_state=seed,
            n_jobs=2,
        )
        print(f"simulated N={n} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        cache.mkdir(parents=True, exist_ok=True)
        save_zarr(ds, path)
    ds = load_zarr(path)
    return ds if lazy else ds.load()


def _pipeline(n_snps: int, seed: int, params: dict):
    from genosynth import ConditionalLatentDiffusion, GenerativePipeline, GenotypeVAE, GWASSelector

    pipe = GenerativePipeline(
        [
            ("gwas", GWASSelector(n_snps=n_snps)),
            ("vae", GenotypeVAE(random_state=seed)),
            ("diffusion", ConditionalLatentDiffusion(random_state=seed)),
        ]
    )
    return pipe.set_params(**params)


def arithmetic_paths(pipe) -> dict:
    """The precision each torch stage of a fitted pipeline ran in ("auto" resolved here)."""
    from genosynth.generative._torch_utils import resolve_dtype

    vae, diffusion = pipe["vae"], pipe["diffusion"]
    return {
        "vae training": resolve_dtype(vae._device(), vae.training_dtype),
        "decoding": resolve_dtype(vae._device(), vae.decoding_dtype),
        "diffusion training": resolve_dtype(diffusion._device(), diffusion.training_dtype),
        "sampling": resolve_dtype(diffusion._device(), diffusion.sampling_dtype),
    }


def _arithmetic(pipe) -> str:
    paths = arithmetic_paths(pipe)
    kinds = set(paths.values())
    return kinds.pop() if len(kinds) == 1 else ", ".join(f"{k} {v}" for k, v in paths.items())


def _throughput(pipe, y, seed) -> float:
    t0 = time.perf_counter()
    G, _ = pipe.sample(y=y, random_state=seed)
    return len(G) / (time.perf_counter() - t0)


def _stage_seconds(log: str) -> dict:
    """Seconds per pipeline step, from the lines sklearn's ``verbose=True`` prints."""
    return {
        m[1]: float(m[2]) * (60 if m[3] == "min" else 1)
        for m in re.finditer(r"Processing (\w+), total=\s*([\d.]+)(min|s)", log)
    }


def timed_fit(pipe, X, y) -> tuple[float, dict]:
    """Fit ``pipe`` on ``(X, y)``: wall-clock seconds, and seconds per step."""
    pipe.set_params(verbose=True)  # sklearn prints each step's time
    log = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(log):
        pipe.fit(X, y)
    return time.perf_counter() - t0, _stage_seconds(log.getvalue())


def run_fit(n, n_snps, n_variants, seed, params, cache, site_fraction="auto") -> dict:
    """Fit the pipeline on 80% of the cohort; time its stages; sample 8,000 twice."""
    from sklearn.model_selection import train_test_split

    from genosynth.data._genotypes import as_genotypes
    from genosynth.stats._label_model import fit_label_model

    ds = _cohort(n, n_variants, seed, cache, lazy=True, site_fraction=site_fraction)
    y = np.asarray(ds["sample_phenotype"].values)
    idx_tr, _ = train_test_split(np.arange(n), test_size=0.2, stratify=y, random_state=seed)
    pipe = _pipeline(n_snps, seed, params)
    fit_s, stage = timed_fit(pipe, ds.isel(samples=idx_tr), y[idx_tr])
    label_s = float("nan")
    if pipe["vae"].has_label_model():
        # The label model's share of the VAE step: the same fit again, timed on its own.
        panel_ds = ds.isel(samples=idx_tr, variants=pipe["gwas"].get_support(indices=True))
        panel = as_genotypes(panel_ds)[0]
        codes = np.searchsorted(pipe["vae"].label_classes_, y[idx_tr])
        t0 = time.perf_counter()
        fit_label_model(panel, codes, 2, random_state=0)
        label_s = time.perf_counter() - t0
    y_req = y[idx_tr][:N_SAMPLED]
    cold = _throughput(pipe, y_req, seed + 1)
    warm = _throughput(pipe, y_req, seed + 2)
    return {
        "N": n,
        "K": n_snps,
        "arithmetic": _arithmetic(pipe),
        "fit_s": fit_s,
        "gwas_s": stage.get("gwas", float("nan")),
        "vae_s": stage.get("vae", float("nan")),
        "label_model_s": label_s,
        "diffusion_s": stage.get("diffusion", float("nan")),
        "vae_epochs": pipe["vae"].n_iter_,
        "diffusion_epochs": pipe["diffusion"].n_iter_,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cold_per_s": cold,
        "warm_per_s": warm,
    }


def run_sampling(n_snps, n_variants, seed, params, epochs, cache, site_fraction="auto"):
    """Warm throughput at panel size ``n_snps`` (short fits: the cost is per evaluation)."""
    ds = _cohort(10_000, n_variants, seed, cache, site_fraction=site_fraction)
    y = np.asarray(ds["sample_phenotype"].values)
    pipe = _pipeline(n_snps, seed, {"vae__max_iter": epochs, "diffusion__max_iter": epochs})
    pipe.set_params(**params)
    pipe.fit(ds, y)
    y_req = y[:N_SAMPLED]
    _throughput(pipe, y_req, seed + 1)  # warm-up call
    rounds = [_throughput(pipe, y_req, seed + 2 + r) for r in range(3)]
    return {
        "K": n_snps,
        "arithmetic": _arithmetic(pipe),
        "warm_per_s": float(np.median(rounds)),
        "range": (min(rounds), max(rounds)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(argv_tail: list[str], package_root: Path | None = None) -> dict:
    """One run in its own process; ``package_root``: import genosynth from that checkout."""
    cmd = [sys.executable, __file__, *argv_tail]
    env = None
    if package_root is not None:
        env = dict(os.environ, PYTHONPATH=str(package_root.resolve()))
    child = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if child.returncode:
        sys.exit(f"{' '.join(argv_tail)} failed:\n{child.stderr}")
    sys.stderr.write(child.stderr)
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit-sizes", default="10000")
    parser.add_argument("--snps", default="", help="comma list of K for the sampling table")
    parser.add_argument("--n-snps", type=int, default=1024, help="K of the fit table")
    parser.add_argument("--n-variants", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", default="float32", choices=["float32", "auto"])
    parser.add_argument("--sampling-epochs", type=int, default=2)
    parser.add_argument(
        "--site-fraction",
        type=lambda v: v if v == "auto" else float(v),
        default="auto",
        help="simulate_case_control(site_fraction=...): 1.0 for a fast-simulated short genome",
    )
    parser.add_argument(
        "--config", action="append", default=[], help="NAME=JSON of pipeline set_params"
    )
    parser.add_argument(
        "--no-default", action="store_true", help="run the --config rows only (no default row)"
    )
    parser.add_argument(
        "--reference",
        type=Path,
        help="a checkout of another genosynth version (e.g. a git worktree of the previous "
        "default): every row runs again with it, as 'NAME, reference', side by side",
    )
    parser.add_argument("--cache", type=Path, default=Path("/tmp/genosynth-bench-cache"))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: one run, as JSON
    args = parser.parse_args()

    if args.one:
        import genosynth

        # Which checkout this run imported: the row's version.
        print(f"genosynth from {Path(genosynth.__file__).parent.parent}", file=sys.stderr)
        spec = json.loads(args.one)
        if spec["kind"] == "fit":
            res = run_fit(
                spec["N"],
                args.n_snps,
                args.n_variants,
                args.seed,
                spec["params"],
                args.cache,
                args.site_fraction,
            )
        else:
            res = run_sampling(
                spec["K"],
                args.n_variants,
                args.seed,
                spec["params"],
                args.sampling_epochs,
                args.cache,
                args.site_fraction,
            )
        print(json.dumps(res))
        return

    base = FLOAT32 if args.dtype == "float32" else {}
    # (name, set_params, checkout to import genosynth from: None is this one)
    configs = [] if args.no_default else [("default", dict(base), None)]
    for item in args.config:
        name, _, text = item.partition("=")
        configs.append((name, base | json.loads(text), None))
    if args.reference is not None:
        # Every row again with the other checkout, right after its own.
        configs = [
            row
            for name, params, root in configs
            for row in ((name, params, root), (f"{name}, reference", params, args.reference))
        ]
    common = [
        "--n-snps",
        str(args.n_snps),
        "--n-variants",
        str(args.n_variants),
        "--seed",
        str(args.seed),
        "--sampling-epochs",
        str(args.sampling_epochs),
        "--cache",
        str(args.cache),
        "--site-fraction",
        str(args.site_fraction),
    ]

    print(
        "| N | config | arithmetic | fit (s): gwas + VAE (label model) + diffusion | "
        "epochs VAE / diffusion | peak RSS (MB) | sampled/s cold / warm |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in (int(v) for v in args.fit_sizes.split(",") if v):
        for name, params, root in configs:
            spec = {"kind": "fit", "N": n, "params": params}
            r = _child([*common, "--one", json.dumps(spec)], root)
            print(
                f"| {n:,} | {name} | {r['arithmetic']} | {r['fit_s']:.0f}: {r['gwas_s']:.0f} + "
                f"{r['vae_s']:.0f} ({r['label_model_s']:.0f}) + {r['diffusion_s']:.0f} | "
                f"{r['vae_epochs']} / {r['diffusion_epochs']} | {r['peak_rss_mb']:,.0f} | "
                f"{r['cold_per_s']:,.0f} / {r['warm_per_s']:,.0f} |",
                flush=True,
            )
    snps = [int(v) for v in args.snps.split(",") if v]
    if snps:
        print()
        print("| K | config | arithmetic | sampled/s, warm (median of 3; range) | peak RSS (MB) |")
        print("|---|---|---|---|---|")
    for k in snps:
        for name, params, root in configs:
            spec = {"kind": "sampling", "K": k, "params": params}
            r = _child([*common, "--one", json.dumps(spec)], root)
            lo, hi = r["range"]
            print(
                f"| {k:,} | {name} | {r['arithmetic']} | {r['warm_per_s']:,.0f} "
                f"({lo:,.0f}-{hi:,.0f}) | {r['peak_rss_mb']:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

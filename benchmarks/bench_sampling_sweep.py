"""Sampling settings against quality, on one fitted default pipeline.

Sampling-time settings (the diffusion's ``n_steps``, ``sampler``,
``sampling_dtype``, inference batch, ...) change speed and quality without a
refit, so they are judged here on the same fitted model: the default
pipeline, fitted in float32 on 8,000 of the default N = 10,000 cohort
(``bench_speed.py``'s cohort and split), saved under ``--cache`` and reused by
later runs. Each ``--config NAME=JSON`` (pipeline ``set_params`` keys, e.g.
``'steps4={"diffusion__n_steps": 4}'``) samples as many individuals as train
with the train label mix, timed warm, and is judged with the metrics of
``bench_end_to_end.py``, side by side with the default settings. Each
``--refit NAME=JSON`` (ConditionalLatentDiffusion parameters) fits a new
diffusion model on the same VAE's latents (its fit time is printed) and is
judged the same way: denoiser and training variants at a fraction of a whole
pipeline's fit. Each ``--fit NAME=JSON`` (pipeline ``set_params`` keys, on top of
float32) fits a whole new pipeline on the same split, its fit time split by
stage: training budgets judged against the cached default.

Usage::

    python benchmarks/bench_sampling_sweep.py \\
        --config 'steps6={"diffusion__n_steps": 6}' --config 'steps4={"diffusion__n_steps": 4}'
    python benchmarks/bench_sampling_sweep.py --refit 'hidden96={"hidden_size": 96}'
    python benchmarks/bench_sampling_sweep.py --fit 'short={"vae__max_iter": 24}'

Prints a markdown table (copy it into benchmarks/README.md with the date).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from bench_end_to_end import KEY_METRICS, judge  # noqa: E402
from bench_speed import FLOAT32, _arithmetic, _cohort, _pipeline, timed_fit  # noqa: E402


def _fitted(args, ds, idx_tr, y):
    """The default float32 pipeline fitted on the train split, from the cache when saved."""
    from genosynth import load, save

    path = args.cache / f"pipeline_n{len(y)}_k{args.n_snps}_s{args.seed}_float32.gsm"
    if path.exists():
        return load(path)
    t0 = time.perf_counter()
    pipe = _pipeline(args.n_snps, args.seed, FLOAT32).fit(ds.isel(samples=idx_tr), y[idx_tr])
    print(f"fitted in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    save(pipe, path)
    return pipe


def add_default_arguments(parser) -> None:
    """The cohort, panel, seed and cache options of every script judging the cached default."""
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--n-snps", type=int, default=1024)
    parser.add_argument("--n-variants", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/genosynth-bench-cache"))


def default_setup(args) -> SimpleNamespace:
    """The cohort's split, the cached default pipeline and what ``judged`` compares against."""
    from sklearn.model_selection import train_test_split

    from genosynth.data._genotypes import as_genotypes

    ds = _cohort(args.n, args.n_variants, args.seed, args.cache)
    y = np.asarray(ds["sample_phenotype"].values)
    idx_tr, idx_ho = train_test_split(
        np.arange(args.n), test_size=0.2, stratify=y, random_state=args.seed
    )
    pipe = _fitted(args, ds, idx_tr, y)
    panel = pipe["gwas"].get_support(indices=True)
    G = as_genotypes(ds)[0]
    return SimpleNamespace(
        ds=ds,
        idx_tr=idx_tr,
        pipe=pipe,
        G_tr=G[idx_tr][:, panel],
        G_ho=G[idx_ho][:, panel],
        y_tr=y[idx_tr],
        y_ho=y[idx_ho],
        causal=np.asarray(ds["variant_causal"].values)[panel],
        variants=pipe["gwas"].selected_variants_,
        seed=args.seed,
    )


def judged(setup, name, fitted, extra=None, sample_seed=None) -> dict:
    """One row: ``fitted`` samples as many as train (timed warm) and is judged against them.

    ``sample_seed`` seeds the judged cohort (default: the setup's seed + 1).
    """
    fitted.sample(y=setup.y_tr[:500], random_state=setup.seed)  # warm: caches and threads
    t0 = time.perf_counter()
    seed = setup.seed + 1 if sample_seed is None else sample_seed
    G_syn, y_syn = fitted.sample(y=setup.y_tr, random_state=seed)
    rate = len(y_syn) / (time.perf_counter() - t0)
    row = {"config": name, "arithmetic": _arithmetic(fitted), "samples_per_s": rate}
    row |= (extra or {}) | judge(
        setup.G_tr, setup.y_tr, setup.G_ho, setup.y_ho, G_syn, y_syn, setup.variants, setup.causal
    )
    print(json.dumps(row), file=sys.stderr)
    return row


def print_table(rows, cols) -> None:
    """``rows`` as a markdown table of ``cols`` (floats to three decimals)."""
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        cells = [
            f"{row[c]:.3f}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in cols
        ]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_default_arguments(parser)
    parser.add_argument("--config", action="append", default=[], help="NAME=JSON of set_params")
    parser.add_argument("--refit", action="append", default=[], help="NAME=JSON of diffusion")
    parser.add_argument("--fit", action="append", default=[], help="NAME=JSON of set_params")
    args = parser.parse_args()
    configs = [("default", {})]
    for spec in args.config:
        name, _, params = spec.partition("=")
        configs.append((name, json.loads(params)))
    refits, fits = (
        [(name, json.loads(params)) for name, _, params in (s.partition("=") for s in specs)]
        for specs in (args.refit, args.fit)
    )

    from genosynth import GenerativePipeline

    setup = default_setup(args)
    pipe, G_tr, y_tr = setup.pipe, setup.G_tr, setup.y_tr
    defaults = pipe.get_params()
    rows = []

    for name, params in configs:
        pipe.set_params(**params)
        rows.append(judged(setup, name, pipe))
        pipe.set_params(**{k: defaults[k] for k in params})
    if refits:
        from sklearn.base import clone

        Z = pipe["vae"].transform(G_tr)
        for name, params in refits:
            diffusion = clone(pipe["diffusion"]).set_params(**params)
            t0 = time.perf_counter()
            diffusion.fit(Z, y_tr, latent_channels=pipe["vae"].latent_channels)
            extra = {"diffusion_fit_s": time.perf_counter() - t0, "epochs": diffusion.n_iter_}
            refitted = GenerativePipeline([*pipe.steps[:-1], ("diffusion", diffusion)])
            rows.append(judged(setup, name, refitted, extra))

    for name, params in fits:
        fitted = _pipeline(args.n_snps, args.seed, FLOAT32 | params)
        fit_s, stages = timed_fit(fitted, setup.ds.isel(samples=setup.idx_tr), y_tr)
        extra = {
            "fit_s": fit_s,
            "stages_s": " + ".join(f"{s:.0f}" for s in stages.values()),
            "epochs": f"{fitted['vae'].n_iter_} / {fitted['diffusion'].n_iter_}",
        }
        rows.append(judged(setup, name, fitted, extra))

    cols = ["config", "arithmetic", "samples_per_s", "diffusion_fit_s", "epochs", *KEY_METRICS]
    if fits:
        cols[3:3] = ["fit_s", "stages_s"]
    print_table(rows, cols)


if __name__ == "__main__":
    main()

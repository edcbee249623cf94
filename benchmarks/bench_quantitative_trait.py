"""A quantitative trait: where the trait signal goes, and what guidance does to it.

Simulates the cohort of ``bench_end_to_end.py --trait quantitative`` (same genetics, the
standardised liability as the label, 80/20 random split before anything is fitted), fits
the default pipeline on train, and judges with :func:`genosynth.metrics.evaluate`:

* the VAE's reconstructions of the training individuals (the ceiling of any latent model);
* synthetic cohorts with the training traits at each guidance scale.

The fitted pipeline is cached with :func:`genosynth.save` (``--cache``), so further sweeps
(``--diffusion`` sampling settings) skip the fit.

Usage::

    python benchmarks/bench_quantitative_trait.py --size 6000 --guidance 1,2,4,6
    python benchmarks/bench_quantitative_trait.py --guidance 2,4 \
        --diffusion '{"guidance_interval": [0.0, 1.0]}'
    python benchmarks/bench_quantitative_trait.py --fit '{"snr_gamma": null}' --cache /tmp/nosnr

Prints a markdown table (copy it into benchmarks/README.md with the date).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import joblib
import numpy as np

KEYS = [
    "af_pearson_r",
    "ld_r2_correlation",
    "tstr_r2_ratio",
    "assoc_beta_pearson_r",
    "mia_auc",
    "nnaa",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--guidance", default="1,2,4,6")
    parser.add_argument("--cache", default="/tmp/genosynth_trait", help="path prefix of the cache")
    parser.add_argument("--fit", type=json.loads, default={}, help="diffusion fit parameters")
    parser.add_argument("--diffusion", type=json.loads, default={}, help="sampling parameters")
    args = parser.parse_args()

    import genosynth
    from genosynth import (
        ConditionalLatentDiffusion,
        GenerativePipeline,
        GenotypeVAE,
        GWASSelector,
    )
    from genosynth.data._genotypes import as_genotypes
    from genosynth.datasets import simulate_quantitative_trait
    from genosynth.metrics import evaluate

    model, data = Path(args.cache + ".genosynth"), Path(args.cache + ".joblib")
    if model.exists() and data.exists():
        pipe, d = genosynth.load(model), joblib.load(data)
    else:
        n, seed = args.size, args.seed
        ds = simulate_quantitative_trait(
            n, n_variants=30_000, n_causal=200, heritability=0.5, random_state=seed, n_jobs=2
        )
        y = np.asarray(ds["sample_phenotype"].values)
        # the split of bench_end_to_end.py (train_test_split, unstratified)
        from sklearn.model_selection import train_test_split

        tr, ho = train_test_split(np.arange(n), test_size=0.2, random_state=seed)
        pipe = GenerativePipeline(
            [
                ("gwas", GWASSelector(n_snps=1024)),
                ("vae", GenotypeVAE(random_state=seed)),
                ("diffusion", ConditionalLatentDiffusion(**args.fit, random_state=seed)),
            ]
        )
        t0 = time.perf_counter()
        pipe.fit(ds.isel(samples=tr), y[tr])
        print(f"fit {time.perf_counter() - t0:.0f} s", flush=True)
        panel = pipe["gwas"].get_support(indices=True)
        G, _ = as_genotypes(ds)
        d = {
            "G_tr": G[tr][:, panel],
            "G_ho": G[ho][:, panel],
            "y_tr": y[tr],
            "y_ho": y[ho],
            "variants": pipe["gwas"].selected_variants_,
        }
        genosynth.save(pipe, model)
        joblib.dump(d, data)
    pipe["diffusion"].set_params(**args.diffusion)

    def row(name, G, y, rate=""):
        report = evaluate(d["G_tr"], d["y_tr"], d["G_ho"], d["y_ho"], G, y, variants=d["variants"])
        values = report.to_dict()
        cells = " | ".join(f"{values[k]:.3f}" for k in KEYS)
        print(f"| {name} | {cells} | {rate} |", flush=True)

    print("| synthetic cohort | " + " | ".join(KEYS) + " | sampled / s |")
    print("|---|" + "---|" * (len(KEYS) + 1))
    rec = pipe["vae"].inverse_transform(pipe["vae"].transform(d["G_tr"]))
    row("VAE reconstructions (ceiling)", rec, d["y_tr"])
    for scale in (float(g) for g in args.guidance.split(",") if g):
        t0 = time.perf_counter()
        G, y = pipe.sample(y=d["y_tr"], random_state=args.seed + 1, guidance_scale=scale)
        row(f"guidance {scale:g}", G, y, f"{len(y) / (time.perf_counter() - t0):,.0f}")


if __name__ == "__main__":
    main()

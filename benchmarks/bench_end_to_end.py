"""The paper's protocol on msprime cohorts: genosynth vs the baselines.

For each cohort size N and panel size K: simulate, split 80/20 train/holdout
*before anything is fitted*, fit the pipeline on train, sample as many
synthetic individuals as train with the train label mix, and judge the
generators (genosynth, class-conditional allele-frequency sampler, copycat,
and the Li-Stephens haplotype mosaic on the same panel's phased haplotypes)
with :func:`genosynth.metrics.evaluate`. Fit time, sampling throughput and
peak memory are recorded too; each configuration runs in its own process so
peak RSS is its own.

Usage::

    python benchmarks/bench_end_to_end.py                       # N=2000,6000,10000; K=1024
    python benchmarks/bench_end_to_end.py --sizes 2000 --n-snps 512,1024,2048
    python benchmarks/bench_end_to_end.py --guidance 1,2,3,4,5  # guidance sweep at one size
    # (the default rows sample with the VAE's label model; the sweep uses SNPgen's guidance)
    python benchmarks/bench_end_to_end.py --sizes 6000 --denoiser mlp --guidance 1,2
    python benchmarks/bench_end_to_end.py --sizes 6000 --vae-label-weight 1  # phenotype head
    python benchmarks/bench_end_to_end.py --sizes 6000 --vae-decoder-noise 0.3
    python benchmarks/bench_end_to_end.py --sizes 6000 --demography constant  # a family
    python benchmarks/bench_end_to_end.py --sizes 10000 --demography AmericanAdmixture_4B18 \
        --ancestry-effect '{"AFR": 0.5}' --n-pcs 4       # structured, confounded, adjusted
    python benchmarks/bench_end_to_end.py --sizes 6000 --trait quantitative  # continuous label
    python benchmarks/bench_end_to_end.py --sizes 6000 \
        --diffusion '{"snr_gamma": null, "sampler": "ddim", "n_steps": 15}'
    python benchmarks/bench_end_to_end.py --sizes 10000 \
        --vae '{"training_dtype": "float32"}' --diffusion '{"training_dtype": "float32"}'
    python benchmarks/bench_end_to_end.py --sizes 10000 --mosaic-caps 5,10,20,40  # LD vs leakage
    python benchmarks/bench_end_to_end.py --sizes 6000 --mosaic '{"effective_population_size": 3e4}'

Prints markdown tables (copy them into benchmarks/README.md with the date).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import resource
import subprocess
import sys
import time

import numpy as np

# The table's columns: fidelity, then utility, then privacy.
_FIDELITY = ["af_pearson_r", "ld_r2_correlation"]
_PRIVACY = [
    "mia_auc",
    "identical_match_rate",
    "nnaa",
    "nnaa_real",
    "nnaa_synthetic",
    "dcr_ratio",
    "segment_synthetic_fraction_above_holdout_p99",
]
KEY_METRICS = [
    *_FIDELITY,
    "nearby_r2_ratio",
    "tstr_auc_ratio",
    "tstr_auc_synthetic",
    "tstr_auc_real",
    "prs_auc_ratio",
    "ct_auc_ratio",
    "hgb_auc_ratio",
    "ccd_pearson_r",
    "ccd_sign_agreement",
    "assoc_beta_pearson_r",
    "causal_power_ratio",
    *_PRIVACY,
]
# With --trait quantitative: utility is the regression TSTR and the linear scan.
TRAIT_METRICS = [
    *_FIDELITY,
    "tstr_r2_ratio",
    "tstr_r2_synthetic",
    "tstr_r2_real",
    "assoc_beta_pearson_r",
    *_PRIVACY,
]
STAGES = ("gwas", "vae", "diffusion")


def _signal(G_tr, y_tr, G_ho, y_ho, G_syn, y_syn, variants, frame, trait) -> dict:
    """The trait-signal rows beyond evaluate's: more learners, causal power, nearby LD."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from genosynth.metrics import tstr
    from genosynth.metrics.ld import ld_metrics
    from genosynth.prs import PRSClassifier

    class ClumpedPRS(PRSClassifier):  # C+T: clumped on the panel's positions, p < 0.01
        def fit(self, X, y):
            return super().fit(X, y, variants=variants)

    ld = ld_metrics(G_tr, G_syn, variants=variants)
    out = {"nearby_r2_ratio": float(np.mean(ld["ld_r2_synthetic"]) / np.mean(ld["ld_r2_real"]))}
    if "assoc_causal_power_real" in frame.index:
        real = float(frame.loc["assoc_causal_power_real", "value"])
        syn = float(frame.loc["assoc_causal_power_synthetic", "value"])
        out["causal_power_ratio"] = syn / real if real else float("nan")
    if trait == "binary":
        args = (G_tr, y_tr, G_ho, y_ho, G_syn, y_syn)
        hgb = HistGradientBoostingClassifier(random_state=0)
        out["hgb_auc_ratio"] = tstr(*args, estimator=hgb, n_bootstrap=20)["tstr_auc_ratio"]
        ct = ClumpedPRS(clump=True, p_threshold=0.01)
        out["ct_auc_ratio"] = tstr(*args, estimator=ct, n_bootstrap=20)["tstr_auc_ratio"]
    return out


def judge(G_tr, y_tr, G_ho, y_ho, G_syn, y_syn, variants, causal, trait="binary") -> dict:
    """The table's metrics of one synthetic cohort: evaluate's rows and the signal rows."""
    from genosynth.metrics import evaluate

    metrics = TRAIT_METRICS if trait == "quantitative" else KEY_METRICS
    frame = evaluate(
        G_tr, y_tr, G_ho, y_ho, G_syn, y_syn, variants=variants, causal=causal
    ).to_frame()
    values = {m: float(frame.loc[m, "value"]) for m in metrics if m in frame.index}
    return values | _signal(G_tr, y_tr, G_ho, y_ho, G_syn, y_syn, variants, frame, trait)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _principal_components(ds, rows, n_pcs, seed):
    """Top PCs of standardised dosages (every 10th variant), fitted on ``rows``, for all."""
    from sklearn.decomposition import PCA

    from genosynth.data._genotypes import as_genotypes

    G = as_genotypes(ds)[0][:, ::10].astype(np.float32)
    mean, sd = G[rows].mean(axis=0), G[rows].std(axis=0) + 1e-6
    pca = PCA(n_pcs, svd_solver="randomized", random_state=seed).fit((G[rows] - mean) / sd)
    return pca.transform((G - mean) / sd)


def run_one(
    n_samples: int,
    n_snps: int,
    n_variants: int,
    seed: int,
    guidance=None,
    denoiser="auto",
    vae_params=None,
    cohort=None,
    diffusion_params=None,
    trait="binary",
    n_pcs=0,
    mosaic_params=None,
    mosaic_caps=(),
) -> dict:
    """Simulate, split, fit, sample and evaluate one configuration (in this process)."""
    from sklearn.model_selection import train_test_split

    from genosynth import ConditionalLatentDiffusion, GenerativePipeline, GenotypeVAE, GWASSelector
    from genosynth.baselines import AlleleFrequencySampler, Copycat, HaplotypeMosaic
    from genosynth.data._genotypes import as_genotypes
    from genosynth.datasets import simulate_case_control, simulate_quantitative_trait

    t0 = time.perf_counter()
    genetics = dict(
        n_variants=n_variants,
        n_causal=200,
        heritability=0.5,
        random_state=seed,
        n_jobs=2,
        **(cohort or {}),
    )
    if trait == "quantitative":  # the same genetics, the standardised liability as the trait
        ds = simulate_quantitative_trait(n_samples, **genetics)
    else:
        ds = simulate_case_control(n_samples, prevalence=0.3, **genetics)
    t_sim = time.perf_counter() - t0
    y = np.asarray(ds["sample_phenotype"].values)
    idx_tr, idx_ho = train_test_split(
        np.arange(n_samples),
        test_size=0.2,
        stratify=None if trait == "quantitative" else y,
        random_state=seed,
    )
    y_tr, y_ho = y[idx_tr], y[idx_ho]
    fit_params = {}
    if n_pcs:
        # Ancestry PCs of the training individuals adjust the selection scan.
        ds["sample_pca"] = (("samples", "pcs"), _principal_components(ds, idx_tr, n_pcs, seed))
        fit_params["gwas__covariates"] = "sample_pca"
    pipe = GenerativePipeline(
        [
            ("gwas", GWASSelector(n_snps=n_snps)),
            ("vae", GenotypeVAE(**(vae_params or {}), random_state=seed)),
            (
                "diffusion",
                ConditionalLatentDiffusion(
                    denoiser=denoiser, **(diffusion_params or {}), random_state=seed
                ),
            ),
        ]
    )
    # sklearn's Pipeline(verbose=True) prints each step's time; keep them per stage.
    pipe.set_params(verbose=True)
    log = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(log):
        pipe.fit(ds.isel(samples=idx_tr), y_tr, **fit_params)
    t_fit = time.perf_counter() - t0
    timings = re.finditer(r"Processing (\w+), total=\s*([\d.]+)(min|s)", log.getvalue())
    stage_s = {m[1]: float(m[2]) * (60 if m[3] == "min" else 1) for m in timings}
    panel = pipe["gwas"].get_support(indices=True)
    G, _ = as_genotypes(ds)
    G_tr, G_ho = G[idx_tr][:, panel], G[idx_ho][:, panel]
    variants = pipe["gwas"].selected_variants_

    metrics = TRAIT_METRICS if trait == "quantitative" else KEY_METRICS
    causal = np.asarray(ds["variant_causal"].values)[panel]

    def judged(G_syn, y_syn) -> dict:
        return judge(G_tr, y_tr, G_ho, y_ho, G_syn, y_syn, variants, causal, trait)

    # The default samples with the label model (class labels); SNPgen's guidance beside it.
    runs = [("label model" if pipe["vae"].has_label_model() else "guidance", {})]
    if pipe["vae"].has_label_model():
        runs.append(("guidance", {"conditioning": "guidance"}))
    if guidance:
        runs = [
            (f"guidance {g}", {"conditioning": "guidance", "guidance_scale": g}) for g in guidance
        ]
    rows = []
    for label, params in runs:
        t0 = time.perf_counter()
        G_syn, y_syn = pipe.sample(y=y_tr, random_state=seed + 1, **params)
        t_sample = time.perf_counter() - t0
        row = {
            "generator": f"genosynth ({pipe['diffusion'].module_config_['architecture']})"
            + "".join(f", VAE {k}={v}" for k, v in (vae_params or {}).items())
            + "".join(f", {k}={v}" for k, v in (diffusion_params or {}).items()),
            "conditioning": label,
            "samples_per_s": len(y_syn) / t_sample,
        }
        row.update(judged(G_syn, y_syn))
        rows.append(row)
    if not guidance:
        # The mosaic copies the panel's phased haplotypes; the others its dosages.
        phased_panel = ds.isel(samples=idx_tr, variants=panel)
        mosaics = [("mosaic", HaplotypeMosaic(**(mosaic_params or {})))]
        for cap in mosaic_caps:
            gen = HaplotypeMosaic(**(mosaic_params or {}), max_segment_snps=cap)
            mosaics.append((f"mosaic, max_segment_snps={cap}", gen))
        for name, gen in (
            ("AF sampler", AlleleFrequencySampler()),
            ("copycat", Copycat()),
            *mosaics,
        ):
            t0 = time.perf_counter()
            gen.fit(phased_panel if isinstance(gen, HaplotypeMosaic) else G_tr, y_tr)
            t_fit_b = time.perf_counter() - t0
            t0 = time.perf_counter()
            G_b, y_b = gen.sample(y=y_tr, random_state=seed + 1)
            t_sample = time.perf_counter() - t0
            label = name + "".join(f", {k}={v}" for k, v in (mosaic_params or {}).items())
            row = {
                "generator": label if isinstance(gen, HaplotypeMosaic) else name,
                "conditioning": None,
                "fit_s": t_fit_b,
                "samples_per_s": len(y_b) / t_sample,
            }
            row.update(judged(G_b, y_b))
            rows.append(row)
    from bench_speed import arithmetic_paths  # every speed figure names its arithmetic

    arithmetic = arithmetic_paths(pipe)
    return {
        "N": n_samples,
        "K": n_snps,
        "arithmetic": arithmetic,
        "simulate_s": t_sim,
        "fit_s": t_fit,
        "stage_s": stage_s,
        "peak_rss_mb": _peak_rss_mb(),
        "rows": rows,
        "metrics": metrics,
    }


def _table(results: list[dict]) -> str:
    cols = (
        ["N", "K", "generator", "conditioning"] + results[0]["metrics"] + ["samples_per_s", "fit_s"]
    )
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for res in results:
        for row in res["rows"]:
            cells = []
            for c in cols:
                v = row.get(c, res.get(c))  # a generator's own fit time before the pipeline's
                cells.append("" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v)))
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,6000,10000")
    parser.add_argument("--n-snps", default="1024")
    parser.add_argument("--n-variants", type=int, default=30_000)
    parser.add_argument("--guidance", default="", help="comma list: run a guidance sweep")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--demography",
        default="OutOfAfrica_2T12",
        help="simulate_case_control(demography=...): a stdpopsim HomSap id or 'constant'",
    )
    parser.add_argument("--populations", type=json.loads, help='JSON, e.g. \'["YRI", "CEU"]\'')
    parser.add_argument("--ancestry-effect", type=json.loads, help="JSON, e.g. '{\"AFR\": 0.5}'")
    parser.add_argument(
        "--n-pcs", type=int, default=0, help="ancestry PCs as covariates of the GWAS selection"
    )
    parser.add_argument(
        "--trait",
        default="binary",
        choices=["binary", "quantitative"],
        help="case-control labels, or the standardised liability as a continuous label",
    )
    parser.add_argument("--denoiser", default="auto", choices=["auto", "mlp", "conv"])
    parser.add_argument(
        "--vae-label-weight", type=float, default=0.0, help="GenotypeVAE(label_weight=...)"
    )
    parser.add_argument(
        "--vae-decoder-noise", type=float, default=0.0, help="GenotypeVAE(decoder_noise=...)"
    )
    parser.add_argument(
        "--vae",
        type=json.loads,
        default={},
        help='more GenotypeVAE parameters as JSON, e.g. \'{"training_dtype": "bfloat16"}\'',
    )
    parser.add_argument(
        "--diffusion",
        type=json.loads,
        default={},
        help='more ConditionalLatentDiffusion parameters as JSON, e.g. \'{"sampler": "dpm++2m"}\'',
    )
    parser.add_argument(
        "--mosaic",
        type=json.loads,
        default={},
        help="HaplotypeMosaic parameters as JSON, e.g. '{\"effective_population_size\": 3e4}'",
    )
    parser.add_argument(
        "--mosaic-caps",
        default="",
        help="comma list of max_segment_snps: one more mosaic row each (the LD-vs-leakage curve)",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: "N,K" run in-process
    args = parser.parse_args()
    guidance = [float(g) for g in args.guidance.split(",") if g]
    vae_params = {
        name: value
        for name, value in (
            ("label_weight", args.vae_label_weight),
            ("decoder_noise", args.vae_decoder_noise),
        )
        if value
    } | args.vae

    if args.one:
        n, k = (int(v) for v in args.one.split(","))
        res = run_one(
            n,
            k,
            args.n_variants,
            args.seed,
            guidance,
            denoiser=args.denoiser,
            vae_params=vae_params,
            cohort={
                k: v
                for k, v in (
                    ("demography", args.demography),
                    ("populations", args.populations),
                    ("ancestry_effect", args.ancestry_effect),
                )
                if v is not None
            },
            n_pcs=args.n_pcs,
            diffusion_params=args.diffusion,
            trait=args.trait,
            mosaic_params=args.mosaic,
            mosaic_caps=[int(c) for c in args.mosaic_caps.split(",") if c],
        )
        print(json.dumps(res))
        return

    results = []
    for n in (int(v) for v in args.sizes.split(",")):
        for k in (int(v) for v in args.n_snps.split(",")):
            # The child parses this run's own flags; only --one (parsed last) is new.
            cmd = [sys.executable, __file__, *sys.argv[1:], "--one", f"{n},{k}"]
            child = subprocess.run(cmd, capture_output=True, text=True)
            if child.returncode:
                sys.exit(f"N={n} K={k} failed:\n{child.stderr}")
            res = json.loads(child.stdout.strip().splitlines()[-1])
            results.append(res)
            print(
                f"N={n} K={k}: simulate {res['simulate_s']:.1f} s, fit {res['fit_s']:.1f} s, "
                f"peak RSS {res['peak_rss_mb']:.0f} MB",
                file=sys.stderr,
                flush=True,
            )
    print(_table(results))
    print()
    for r in results:
        path = ", ".join(f"{k} {v}" for k, v in r["arithmetic"].items())
        print(f"N={r['N']} K={r['K']} arithmetic: {path}")
    print()
    print("| N | K | simulate (s) | fit (s): gwas + vae + diffusion | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for r in results:
        stages = " + ".join(f"{r['stage_s'].get(k, float('nan')):.0f}" for k in STAGES)
        print(
            f"| {r['N']} | {r['K']} | {r['simulate_s']:.1f} | {r['fit_s']:.1f}: {stages} | "
            f"{r['peak_rss_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()

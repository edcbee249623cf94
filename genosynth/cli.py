"""The ``genosynth`` command line: demo, fit, sample, evaluate."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


class CLIError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def _as_cli_errors():
    """Library errors (missing or malformed input) as one-line CLI errors; warnings as notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            yield
        except (FileNotFoundError, ValueError) as exc:
            raise CLIError(str(exc)) from exc
        finally:
            for warning in caught:
                _log(str(warning.message))


def _phenotype(ds, pheno_path, pheno_name):
    """The label per sample (NaN where missing), from --pheno or from the .fam file."""
    from genosynth.io import dataset_phenotype, read_phenotype

    if pheno_path is None:
        if "sample_phenotype" not in ds:
            raise CLIError("no phenotype: the .fam file has none; pass --pheno FILE")
        return dataset_phenotype(ds)
    with _as_cli_errors():
        return read_phenotype(pheno_path, ds["sample_id"].values, column=pheno_name)


def _covariates(ds, covar_path):
    from genosynth.io import read_covariates

    if covar_path is None:
        return None
    with _as_cli_errors():
        return read_covariates(covar_path, ds["sample_id"].values)


def _positive(kind):
    """An argparse type: a number of ``kind`` greater than zero."""

    def parse(text: str):
        value = kind(text)  # a ValueError here is reported by argparse
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


# The *_dtype values of the estimators (genosynth.generative._torch_utils.DTYPES, which
# imports torch: the parser is built without it so that --help is instant).
_PRECISIONS = ("auto", "float32", "bfloat16")


def _default_pipeline(n_snps: int, random_state: int, verbose: bool):
    from genosynth import (
        ConditionalLatentDiffusion,
        GenerativePipeline,
        GenotypeVAE,
        GWASSelector,
    )

    return GenerativePipeline(
        [
            ("gwas", GWASSelector(n_snps=n_snps)),
            ("vae", GenotypeVAE(random_state=random_state, verbose=verbose)),
            ("diffusion", ConditionalLatentDiffusion(random_state=random_state, verbose=verbose)),
        ]
    )


def _fit_timed(pipe, X, y, **fit_params):
    start = time.perf_counter()
    _log("fitting: GWAS selection -> VAE -> latent diffusion ...")
    pipe.fit(X, y, **fit_params)
    _log(f"fitted in {time.perf_counter() - start:.1f} s; label: {_label_summary(pipe[-1])}")
    return pipe


def _label_summary(diffusion) -> str:
    """What the generator conditions on, for the fit log."""
    from genosynth.data._labels import has_continuous_label

    if has_continuous_label(diffusion):
        low, high = diffusion.label_quantiles_[[0, -1]]
        return f"a quantitative trait (range {low:.4g} to {high:.4g})"
    return f"{len(diffusion.classes_)} classes {diffusion.classes_.tolist()}"


def cmd_demo(args) -> int:
    from sklearn.model_selection import train_test_split

    from genosynth.baselines import AlleleFrequencySampler, Copycat
    from genosynth.data._genotypes import as_genotypes
    from genosynth.datasets import load_demo
    from genosynth.metrics import evaluate

    _log("simulating the demo cohort (msprime) ...")
    ds = load_demo()
    y = np.asarray(ds["sample_phenotype"].values)
    idx_train, idx_hold = train_test_split(
        np.arange(len(y)), test_size=0.2, stratify=y, random_state=args.seed
    )
    train = ds.isel(samples=idx_train)
    y_train, y_hold = y[idx_train], y[idx_hold]
    _log(
        f"cohort: {ds.sizes['samples']} individuals x {ds.sizes['variants']} variants; "
        f"train {len(idx_train)}, holdout {len(idx_hold)} (split before anything is fitted)"
    )
    pipe = _fit_timed(_default_pipeline(args.n_snps, args.seed, not args.quiet), train, y_train)
    panel = pipe["gwas"].get_support(indices=True)
    G_all, _ = as_genotypes(ds)
    G_train, G_hold = G_all[idx_train][:, panel], G_all[idx_hold][:, panel]

    start = time.perf_counter()
    G_syn, y_syn = pipe.sample(y=y_train, random_state=args.seed)
    elapsed = time.perf_counter() - start
    _log(f"sampled {len(y_syn)} synthetic individuals in {elapsed:.2f} s")

    variants = pipe["gwas"].selected_variants_
    report = evaluate(G_train, y_train, G_hold, y_hold, G_syn, y_syn, variants=variants)
    print(report.summary())
    baselines = {
        "AF sampler": AlleleFrequencySampler().fit(G_train, y_train),
        "copycat": Copycat().fit(G_train, y_train),
    }
    rows = {"genosynth": report.to_frame()["value"]}
    for name, gen in baselines.items():
        G_b, y_b = gen.sample(y=y_train, random_state=args.seed)
        rows[name] = evaluate(
            G_train, y_train, G_hold, y_hold, G_b, y_b, variants=variants
        ).to_frame()["value"]
    print("\nSide by side with the trivial baselines:")
    print(pd.DataFrame(rows).to_string(float_format=lambda v: f"{v:.3f}"))
    if args.plot:
        _save_figure(report, args.plot, args.force)
        _log(f"figure written to {args.plot}")
    return 0


def _check_output(paths, force: bool, what: str, store: bool = False) -> None:
    """Fail before the work, not after it, when an output cannot (or may not) be written."""
    from genosynth._atomic import check_output

    try:
        check_output(paths, overwrite=force, what=what, store=store)
    except FileExistsError as exc:
        raise CLIError(f"{exc.args[0].split(' (pass')[0]}; pass --force to replace it") from None
    except OSError as exc:
        raise CLIError(str(exc)) from None


def _check_outputs(args, *names: str) -> None:
    """``--csv``/``--plot``-style optional output files, checked up front."""
    for name in names:
        path = getattr(args, name, None)
        if path:
            _check_output(path, args.force, f"--{name} file")


def _read_plink(prefix, **kwargs):
    from genosynth.io import read_plink

    try:
        return read_plink(prefix, **kwargs)
    except (FileNotFoundError, ValueError) as exc:  # missing or malformed .bed/.bim/.fam
        raise CLIError(str(exc)) from exc


def cmd_fit(args) -> int:
    from genosynth import save

    _check_output(args.out, args.force, "model file")
    ds = _read_plink(args.plink)
    y = _phenotype(ds, args.pheno, args.pheno_name)
    covariates = _covariates(ds, args.covar)
    keep = ~np.isnan(y)
    if covariates is not None:
        keep &= ~np.isnan(covariates).any(axis=1)
    if not keep.any():
        if covariates is None:
            raise CLIError("no sample has a phenotype (all are missing: -9, NA or nan)")
        raise CLIError("no sample has both a phenotype and complete covariates")
    if not keep.all():
        _log(f"excluding {int((~keep).sum())} samples with a missing phenotype or covariate")
        # Re-open with only those individuals: keeps the direct .bed dosage path.
        ds = _read_plink(args.plink, samples=np.flatnonzero(keep))
        covariates = covariates[keep] if covariates is not None else None
    y = y[keep]
    if np.all(np.isin(y, (0, 1))):
        y = y.astype(np.int64)
    pipe = _default_pipeline(args.n_snps, args.seed, not args.quiet)
    pipe.set_params(vae__decoder_noise=args.decoder_noise, diffusion__label_type=args.label_type)
    if args.label_type == "continuous":  # the association test to match
        pipe.set_params(gwas__test="linear")
    if args.denoiser is not None:
        pipe.set_params(diffusion__denoiser=args.denoiser)
    if args.precision is not None:
        pipe.set_params(
            vae__training_dtype=args.precision, diffusion__training_dtype=args.precision
        )
    if args.epochs is not None:
        pipe.set_params(diffusion__max_iter=args.epochs)
    if args.learning_rate is not None:
        pipe.set_params(diffusion__learning_rate_init=args.learning_rate)
    fit_params = {} if covariates is None else {"gwas__covariates": covariates}
    try:
        _fit_timed(pipe, ds, y, **fit_params)
    except ValueError as exc:  # the data cannot be fitted as given, named by the estimator
        raise CLIError(str(exc)) from exc
    save(pipe, args.out, overwrite=args.force)
    _log(f"model written to {args.out}")
    return 0


def cmd_sample(args) -> int:
    from sklearn.pipeline import Pipeline

    from genosynth import GenerativePipeline, load
    from genosynth._atomic import plink_paths
    from genosynth._streaming import write_samples

    if args.n < 1:
        raise CLIError(f"--n must be a positive number of individuals, got {args.n}")
    try:
        pipe = load(args.model)
    except (FileNotFoundError, ValueError) as exc:
        raise CLIError(str(exc)) from exc
    if not isinstance(pipe, Pipeline) or not hasattr(pipe[-1], "sample"):
        raise CLIError(
            f"{args.model} holds a {type(pipe).__name__}, not a fitted generative pipeline "
            "(write one with `genosynth fit`)"
        )
    pipe = GenerativePipeline(pipe.steps)  # a plain sklearn Pipeline samples the same way
    y = None
    if args.cases is not None:
        from genosynth.data._labels import has_continuous_label

        if has_continuous_label(pipe[-1]):
            raise CLIError("--cases needs a case-control model; this model's label is continuous")
        if not 0 <= args.cases <= 1:
            raise CLIError(f"--cases is a fraction in [0, 1], got {args.cases}")
        n_cases = int(round(args.cases * args.n))
        y = np.r_[np.ones(n_cases, dtype=np.int64), np.zeros(args.n - n_cases, dtype=np.int64)]
    conditioning = _conditioning(pipe, args)
    pipe.set_params(**_sampling_params(args))
    # Before any sampling (the arguments were checked first: they are the user's first error).
    if args.format == "plink":
        _check_output(plink_paths(args.out), args.force, "PLINK file")
    else:
        _check_output(args.out, args.force, "Zarr store", store=True)
    if args.format == "zarr":
        _check_zarr_space(pipe, args)
    try:
        # Chunk by chunk: memory stays bounded whatever --n is.
        write_samples(
            pipe,
            args.n,
            args.out,
            format=args.format,
            y=y,
            random_state=args.seed,
            overwrite=args.force,
            conditioning=conditioning,
        )
    except ValueError as exc:  # a sampling setting out of range, or labels PLINK cannot hold
        raise CLIError(str(exc)) from exc
    n_variants = int(pipe["gwas"].get_support().sum()) if "gwas" in pipe.named_steps else "?"
    _log(f"wrote {args.n} synthetic individuals x {n_variants} variants to {args.out}")
    return 0


def _conditioning(pipe, args) -> str:
    """``--conditioning`` resolved; the guidance flags need the guided sampler."""
    from genosynth.pipeline import _label_model_step

    resolved = args.conditioning
    if resolved == "auto":
        resolved = "guidance" if _label_model_step(pipe) is None else "label_model"
    given = [
        f
        for f, v in (("--guidance", args.guidance), ("--guidance-interval", args.guidance_interval))
        if v is not None
    ]
    if given and resolved != "guidance":
        raise CLIError(
            f"{' and '.join(given)} apply to --conditioning guidance; this model samples with "
            "its label model (the default)"
        )
    return args.conditioning


def _check_zarr_space(pipe, args) -> None:
    """A Zarr store compresses; below about one bit per genotype is not to be expected."""
    from genosynth._atomic import check_free_space
    from genosynth._streaming import _panel

    _, n_variants = _panel(pipe)
    if n_variants:
        try:
            check_free_space(
                Path(args.out).parent, args.n * n_variants // 8, "the Zarr store (about)"
            )
        except OSError as exc:
            raise CLIError(str(exc)) from None


def _sampling_params(args) -> dict:
    """The diffusion settings the ``sample`` flags override, as pipeline parameters."""
    params = {"sampler": args.sampler, "n_steps": args.steps, "guidance_scale": args.guidance}
    if args.guidance_interval is not None:
        try:
            params["guidance_interval"] = tuple(float(v) for v in args.guidance_interval.split(","))
        except ValueError:
            raise CLIError(
                f"--guidance-interval takes START,STOP fractions, got {args.guidance_interval!r}"
            ) from None
    overrides = {f"diffusion__{k}": v for k, v in params.items() if v is not None}
    if args.precision is not None:
        overrides.update(
            diffusion__sampling_dtype=args.precision, vae__decoding_dtype=args.precision
        )
    return overrides


def _read_any(path):
    from genosynth.io import load_zarr

    path = Path(path)
    if path.suffix != ".zarr" and not path.is_dir():
        return _read_plink(path)
    try:
        return load_zarr(path)
    except (FileNotFoundError, ValueError) as exc:
        raise CLIError(str(exc)) from exc


def cmd_evaluate(args) -> int:
    from genosynth.metrics import evaluate

    _check_outputs(args, "csv", "plot")
    parts = {}
    for name in ("train", "holdout", "synthetic"):
        ds = _read_any(getattr(args, name))
        if "sample_phenotype" not in ds:
            raise CLIError(f"the {name} data carry no phenotype (sample_phenotype)")
        y = np.asarray(ds["sample_phenotype"].values)
        # read_plink marks a missing binary phenotype -1 and a missing trait NaN.
        missing = np.isnan(y) if y.dtype.kind == "f" else y < 0
        if missing.all():
            raise CLIError(f"no individual of the {name} data has a phenotype")
        if missing.any():
            _log(f"{name}: excluding {int(missing.sum())} individuals with a missing phenotype")
            ds, y = ds.isel(samples=np.flatnonzero(~missing)), y[~missing]
        parts[name] = (ds, y)
    try:
        # Datasets: evaluate matches the variants by id and alleles (flipping swapped ones).
        report = evaluate(*parts["train"], *parts["holdout"], *parts["synthetic"])
    except ValueError as exc:  # unmatched variants or labels that do not match across the three
        raise CLIError(str(exc)) from exc
    for note in report.notes:
        _log(f"note: {note}")
    print(report.summary())
    if args.csv:
        _write_atomic(args.csv, args.force, lambda tmp: report.to_frame().to_csv(tmp))
    if args.plot:
        _save_figure(report, args.plot, args.force)
    return 0


def _write_atomic(path, force: bool, write) -> None:
    from genosynth._atomic import atomic_output

    with atomic_output(path, overwrite=force) as tmp:
        write(tmp)


def _save_figure(report, path, force: bool) -> None:
    # savefig picks the format from the suffix: keep it on the temporary name.
    fmt = Path(path).suffix.lstrip(".") or "png"
    _write_atomic(
        path,
        force,
        lambda tmp: report.plot().savefig(tmp, format=fmt, dpi=120, bbox_inches="tight"),
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``genosynth`` command."""
    parser = argparse.ArgumentParser(
        prog="genosynth", description="Phenotype-conditioned synthetic genotypes."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    force = {"action": "store_true", "help": "replace existing output files"}
    demo = sub.add_parser("demo", help="simulate a cohort, fit, sample and print the report")
    demo.add_argument("--n-snps", type=int, default=1024)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--plot", help="also write the report figure to this file")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.add_argument("--force", **force)
    demo.set_defaults(func=cmd_demo)

    fit = sub.add_parser("fit", help="fit a pipeline on a PLINK cohort and save it")
    fit.add_argument("--plink", required=True, help="PLINK 1 prefix (.bed/.bim/.fam)")
    fit.add_argument("--pheno", help="phenotype file with a header (FID) IID VALUE...")
    fit.add_argument("--pheno-name", help="phenotype column (default: the first)")
    fit.add_argument("--covar", help="covariate file with a header (FID) IID COV1 COV2...")
    fit.add_argument("--n-snps", type=int, default=1024)
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument(
        "--label-type",
        choices=("auto", "categorical", "continuous"),
        default="auto",
        help="how the phenotype conditions the generator: classes (case/control, "
        "multi-class) or a quantitative trait; auto: continuous when the values are not "
        "all whole numbers",
    )
    fit.add_argument(
        "--denoiser",
        choices=("conv", "mlp"),
        help="diffusion network: conv (default; higher LD fidelity) or mlp (about 2x faster)",
    )
    fit.add_argument(
        "--decoder-noise",
        type=float,
        default=0.0,
        help="GenotypeVAE decoder_noise: train the decoder on noised latents (e.g. 0.3; "
        "higher AF/LD fidelity, synthetic individuals easier to tell from real ones)",
    )
    fit.add_argument(
        "--precision",
        choices=_PRECISIONS,
        help="matrix products in training the VAE and the denoiser (default auto: bfloat16 on "
        "devices with native bfloat16, ~1.5x faster; float32 elsewhere)",
    )
    fit.add_argument(
        "--epochs",
        type=_positive(int),
        help="denoiser training epochs (default: conv min(240, 1,152,000 / training rows), "
        "i.e. 160 at 10,000 individuals; mlp 400)",
    )
    fit.add_argument(
        "--learning-rate",
        type=_positive(float),
        help="denoiser peak learning rate (default: 2e-3 for conv, 1e-3 for mlp)",
    )
    fit.add_argument("--out", required=True, help="model file to write")
    fit.add_argument("--quiet", action="store_true")
    fit.add_argument("--force", **force)
    fit.set_defaults(func=cmd_fit)

    sample = sub.add_parser("sample", help="sample a synthetic cohort from a saved model")
    sample.add_argument("model")
    sample.add_argument("--n", type=int, required=True, help="number of individuals")
    sample.add_argument("--cases", type=float, help="fraction of cases (default: training mix)")
    sample.add_argument("--format", choices=("plink", "zarr"), default="plink")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument(
        "--precision",
        choices=_PRECISIONS,
        help="precision of the denoiser and the decoder (default: the model's; auto is bfloat16 "
        "on devices with native bfloat16, ~2x faster; float32 is bit-identical across machines)",
    )
    sample.add_argument(
        "--conditioning",
        choices=("auto", "label_model", "guidance"),
        default="auto",
        help="how labels are carried: the VAE's label model p(y | G) with rejection, or "
        "classifier-free guidance (default auto: the label model when the model has one)",
    )
    sample.add_argument(
        "--guidance", type=float, help="guidance scale, with --conditioning guidance"
    )
    sample.add_argument(
        "--guidance-interval",
        help="START,STOP: guide only steps in this fraction of the noising process (e.g. 0.5,1)",
    )
    sample.add_argument("--steps", type=int, help="sampling steps (default: the model's)")
    sample.add_argument(
        "--sampler", choices=("ddim", "dpm++2m"), help="ODE sampler (default: the model's)"
    )
    sample.add_argument("--out", required=True, help="PLINK prefix or Zarr path")
    sample.add_argument("--force", **force)
    sample.set_defaults(func=cmd_sample)

    ev = sub.add_parser("evaluate", help="judge a synthetic cohort against real train/holdout")
    ev.add_argument("--train", required=True, help="real training data (PLINK prefix or Zarr)")
    ev.add_argument("--holdout", required=True, help="real holdout data (PLINK prefix or Zarr)")
    ev.add_argument("--synthetic", required=True, help="synthetic data (PLINK prefix or Zarr)")
    ev.add_argument("--csv", help="write the metric table to this CSV file")
    ev.add_argument("--plot", help="write the report figure to this file")
    ev.add_argument("--force", **force)
    ev.set_defaults(func=cmd_evaluate)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``genosynth`` command."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CLIError, OSError, MemoryError) as exc:
        # OSError / MemoryError: the system refused (disk, permissions, memory),
        # named in one line rather than a traceback.
        message = str(exc).replace("\n", " ") or type(exc).__name__
        print(f"error: {message} (genosynth {args.command})", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

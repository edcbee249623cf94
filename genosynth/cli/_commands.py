"""The commands of the ``genosynth`` command line: read, call the library, print."""

from __future__ import annotations

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


def _pipeline(args):
    """The default pipeline for ``--n-snps``, ``--seed``, ``--quiet`` and ``--epochs``."""
    from genosynth.pipeline import default_pipeline

    pipe = default_pipeline(args.n_snps, random_state=args.seed, verbose=not args.quiet)
    if args.epochs is not None:
        pipe.set_params(diffusion__max_iter=args.epochs)
    return pipe


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
    pipe = _fit_timed(_pipeline(args), train, y_train)
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
    from genosynth.data._atomic import check_output

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
    from genosynth.io import complete_samples

    _check_output(args.out, args.force, "model file")
    ds = _read_plink(args.plink)
    y = _phenotype(ds, args.pheno, args.pheno_name)
    covariates = _covariates(ds, args.covar)
    with _as_cli_errors():
        keep, y = complete_samples(y, covariates)
    if not keep.all():
        _log(f"excluding {int((~keep).sum())} samples with a missing phenotype or covariate")
        # Re-open with only those individuals: keeps the direct .bed dosage path.
        ds = _read_plink(args.plink, samples=np.flatnonzero(keep))
        covariates = covariates[keep] if covariates is not None else None
    pipe = _pipeline(args)
    pipe.set_params(vae__decoder_noise=args.decoder_noise, diffusion__label_type=args.label_type)
    if args.label_type == "continuous":  # the association test to match
        pipe.set_params(gwas__test="linear")
    if args.denoiser is not None:
        pipe.set_params(diffusion__denoiser=args.denoiser)
    if args.precision is not None:
        pipe.set_params(
            vae__training_dtype=args.precision, diffusion__training_dtype=args.precision
        )
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
    from genosynth._streaming import write_samples
    from genosynth.data._atomic import plink_paths

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
    """``--conditioning`` checked; the guidance flags need the guided sampler."""
    from genosynth.pipeline import resolve_conditioning

    with _as_cli_errors():
        resolved = resolve_conditioning(pipe, args.conditioning)
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
    from genosynth.io import dataset_phenotype
    from genosynth.metrics import evaluate

    _check_outputs(args, "csv", "plot")
    parts = {}
    for name in ("train", "holdout", "synthetic"):
        ds = _read_any(getattr(args, name))
        if "sample_phenotype" not in ds:
            raise CLIError(f"the {name} data carry no phenotype (sample_phenotype)")
        y = np.asarray(ds["sample_phenotype"].values)
        missing = np.isnan(dataset_phenotype(ds))
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
    from genosynth.data._atomic import atomic_output

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

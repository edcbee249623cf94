"""The argument parser of the ``genosynth`` command (no torch import: ``--help`` is instant)."""

from __future__ import annotations

import argparse

from genosynth.cli._commands import cmd_demo, cmd_evaluate, cmd_fit, cmd_sample


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``genosynth`` command."""
    parser = argparse.ArgumentParser(
        prog="genosynth", description="Phenotype-conditioned synthetic genotypes."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    force = {"action": "store_true", "help": "replace existing output files"}
    demo = sub.add_parser("demo", help="simulate a cohort, fit, sample and print the report")
    demo.add_argument(
        "--n-snps",
        type=int,
        default=512,
        help="panel size (default 512: an eighth of the demo cohort's 4,000 variants, which "
        "keeps the demo to a few minutes on two cores; genosynth fit defaults to 1,024)",
    )
    demo.add_argument(
        "--epochs",
        type=_positive(int),
        default=160,
        help="denoiser training epochs (default 160 for the demo, within its time budget; "
        "genosynth fit defaults to the model's own budget)",
    )
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
        help="diffusion network: conv (default; higher LD fidelity) or mlp (faster)",
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
        "devices with native bfloat16, where it is faster; float32 elsewhere)",
    )
    fit.add_argument(
        "--epochs",
        type=_positive(int),
        help="denoiser training epochs (default: conv min(240, 720,000 / training rows), "
        "i.e. 100 at 10,000 individuals; mlp 400)",
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
        "on devices with native bfloat16, where it is faster; float32 is bit-identical across "
        "machines)",
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
    sample.add_argument(
        "--steps",
        type=int,
        help="sampling steps of the fitted denoiser (default: the model's, or its distilled "
        "few-step sampler when it has one)",
    )
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

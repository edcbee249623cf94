"""The genosynth command line: fit -> sample -> evaluate on PLINK files, clear errors."""

import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genosynth.cli import build_parser, main
from genosynth.data._genotypes import as_genotypes
from genosynth.datasets import simulate_case_control
from genosynth.io import read_plink, write_plink


@pytest.fixture(scope="module")
def plink_cohort(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    ds = simulate_case_control(
        400, n_variants=200, n_causal=8, random_state=2, demography="constant", n_chromosomes=1
    )
    write_plink(ds.isel(samples=slice(0, 300)), d / "train")
    write_plink(ds.isel(samples=slice(300, 400)), d / "hold")
    return d, ds


def _shrink_cli_models(monkeypatch, max_iter):
    """The CLI builds default estimators: cut their training to ``max_iter`` epochs."""
    from genosynth import pipeline

    original = pipeline.default_pipeline

    def tiny(n_snps, *, random_state, verbose):
        pipe = original(n_snps, random_state=random_state)
        return pipe.set_params(vae__max_iter=max_iter, diffusion__max_iter=max_iter)

    monkeypatch.setattr(pipeline, "default_pipeline", tiny)


def test_fit_sample_evaluate(plink_cohort, monkeypatch, capsys):
    d, ds = plink_cohort
    _shrink_cli_models(monkeypatch, max_iter=2)
    assert (
        main(
            [
                "fit",
                "--plink",
                str(d / "train"),
                "--n-snps",
                "24",
                "--out",
                str(d / "m.genosynth"),
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "sample",
                str(d / "m.genosynth"),
                "--n",
                "40",
                "--cases",
                "0.25",
                "--format",
                "plink",
                "--out",
                str(d / "syn"),
            ]
        )
        == 0
    )
    syn = read_plink(d / "syn")
    G, variants = as_genotypes(syn)
    assert G.shape == (40, 24)
    assert int(syn["sample_phenotype"].values.sum()) == 10
    assert set(variants["id"]) <= set(ds["variant_id"].values.astype(str))
    assert (
        main(
            [
                "sample",
                str(d / "m.genosynth"),
                "--n",
                "5",
                "--format",
                "zarr",
                "--out",
                str(d / "syn.zarr"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "evaluate",
                "--train",
                str(d / "train"),
                "--holdout",
                str(d / "hold"),
                "--synthetic",
                str(d / "syn"),
                "--csv",
                str(d / "r.csv"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Privacy" in out and "mia_auc" in out
    assert len(pd.read_csv(d / "r.csv")) > 5


def test_denoiser_decoder_noise_and_precision_flags(plink_cohort, monkeypatch, tmp_path):
    d, _ = plink_cohort
    from genosynth import load

    _shrink_cli_models(monkeypatch, max_iter=1)
    model = str(tmp_path / "m.genosynth")
    fit = ["fit", "--plink", str(d / "train"), "--n-snps", "8", "--quiet", "--out", model]
    assert main([*fit, "--decoder-noise", "0.3"]) == 0
    pipe = load(model)
    assert pipe["diffusion"].module_config_["architecture"] == "conv"  # the default
    assert pipe["vae"].decoder_noise == 0.3
    assert pipe["vae"].training_dtype == pipe["diffusion"].training_dtype == "auto"
    mlp = str(tmp_path / "mlp.genosynth")
    assert main([*fit[:-1], mlp, "--denoiser", "mlp", "--precision", "float32"]) == 0
    assert load(mlp)["diffusion"].module_config_["architecture"] == "mlp"
    assert load(mlp)["vae"].training_dtype == load(mlp)["diffusion"].training_dtype == "float32"
    low = str(tmp_path / "low.genosynth")
    assert main([*fit[:-1], low, "--precision", "bfloat16"]) == 0
    assert load(low)["vae"].training_dtype == load(low)["diffusion"].training_dtype == "bfloat16"
    short = str(tmp_path / "short.genosynth")
    assert main([*fit[:-1], short, "--epochs", "2", "--learning-rate", "2e-3"]) == 0
    diffusion = load(short)["diffusion"]
    assert (diffusion.max_iter, diffusion.learning_rate_init) == (2, 0.002)
    assert len(diffusion.loss_curve_) == 2  # the shrunken test default is 1 epoch
    sample = ["sample", model, "--n", "12", "--format", "plink", "--seed", "1"]
    assert main([*sample, "--out", str(tmp_path / "a")]) == 0
    assert main([*sample, "--precision", "float32", "--out", str(tmp_path / "b")]) == 0
    G_a, _ = as_genotypes(read_plink(tmp_path / "a"))
    G_b, _ = as_genotypes(read_plink(tmp_path / "b"))
    assert G_a.shape == G_b.shape == (12, 8)


def test_sampler_choices_are_the_library_samplers():
    # The CLI lists them literally so that parsing flags does not import torch.
    from genosynth.generative.diffusion._schedules import SAMPLERS

    sample = build_parser()._subparsers._group_actions[0].choices["sample"]
    (action,) = [a for a in sample._actions if a.dest == "sampler"]
    assert sorted(action.choices) == sorted(SAMPLERS)


def test_precision_choices_are_the_library_dtypes():
    from genosynth.generative._torch_utils import DTYPES

    for command in ("fit", "sample"):
        parser = build_parser()._subparsers._group_actions[0].choices[command]
        (action,) = [a for a in parser._actions if a.dest == "precision"]
        assert set(action.choices) == DTYPES


def test_sample_flags_set_the_sampler(plink_cohort, monkeypatch, tmp_path, capsys):
    d, _ = plink_cohort
    from genosynth import load

    _shrink_cli_models(monkeypatch, max_iter=2)
    model = str(tmp_path / "m.genosynth")
    fit = ["fit", "--plink", str(d / "train"), "--n-snps", "8", "--quiet", "--out", model]
    assert main(fit) == 0
    sample = ["sample", model, "--n", "40", "--format", "plink", "--seed", "1"]
    flags = "--sampler dpm++2m --steps 6 --guidance 3 --guidance-interval 0.5,1".split()
    # the guidance flags need the guided sampler; this model has a label model
    assert main([*sample, *flags, "--out", str(tmp_path / "refused")]) == 2
    assert "apply to --conditioning guidance" in capsys.readouterr().err
    flags += ["--conditioning", "guidance"]
    flags += ["--precision", "float32"]
    assert main([*sample, *flags, "--out", str(tmp_path / "a")]) == 0
    # the file holds what the library gives with the same settings
    pipe = load(model).set_params(
        diffusion__sampler="dpm++2m",
        diffusion__n_steps=6,
        diffusion__guidance_scale=3.0,
        diffusion__guidance_interval=(0.5, 1.0),
        diffusion__sampling_dtype="float32",
        vae__decoding_dtype="float32",
    )
    expected = pipe.sample_dataset(40, random_state=1, conditioning="guidance")
    G_cli, _ = as_genotypes(read_plink(tmp_path / "a"))
    np.testing.assert_array_equal(G_cli, as_genotypes(expected)[0])
    for bad, message in [("0.6,0.4", "guidance_interval"), ("late", "START,STOP")]:
        out = str(tmp_path / "bad")
        guided = [*sample, "--conditioning", "guidance"]
        assert main([*guided, "--guidance-interval", bad, "--out", out]) == 2
        assert message in capsys.readouterr().err


def test_pheno_and_covar_files(plink_cohort, monkeypatch, tmp_path):
    d, ds = plink_cohort
    _shrink_cli_models(monkeypatch, max_iter=1)
    ids = ds["sample_id"].values[:300].astype(str)
    pheno = pd.DataFrame({"FID": ids, "IID": ids, "T2D": ds["sample_phenotype"].values[:300] + 1})
    pheno.to_csv(tmp_path / "p.txt", sep="\t", index=False)
    covar = pd.DataFrame({"IID": ids, "PC1": np.linspace(0, 1, 300), "AGE": np.arange(300) % 50})
    covar.to_csv(tmp_path / "c.txt", sep="\t", index=False)
    assert (
        main(
            [
                "fit",
                "--plink",
                str(d / "train"),
                "--pheno",
                str(tmp_path / "p.txt"),
                "--covar",
                str(tmp_path / "c.txt"),
                "--n-snps",
                "8",
                "--out",
                str(tmp_path / "m.genosynth"),
                "--quiet",
            ]
        )
        == 0
    )


def test_quantitative_trait_fit_sample_evaluate(plink_cohort, monkeypatch, tmp_path, capsys):
    import genosynth

    d, ds = plink_cohort
    _shrink_cli_models(monkeypatch, max_iter=2)
    ids = ds["sample_id"].values[:300].astype(str)
    height = 170 + 7 * np.random.default_rng(0).normal(size=300)
    pd.DataFrame({"IID": ids, "HEIGHT": height}).to_csv(tmp_path / "p.txt", sep="\t", index=False)
    model = tmp_path / "m.genosynth"
    fit = ["fit", "--plink", str(d / "train"), "--n-snps", "8", "--quiet"]
    capsys.readouterr()
    assert main([*fit, "--pheno", str(tmp_path / "p.txt"), "--out", str(model)]) == 0
    assert "label: a quantitative trait (range" in capsys.readouterr().err
    pipe = genosynth.load(model)
    assert pipe["diffusion"].label_type_ == "continuous" and pipe["gwas"].test_ == "linear"
    out = str(tmp_path / "syn")
    assert main(["sample", str(model), "--n", "30", "--format", "plink", "--out", out]) == 0
    trait = read_plink(out)["sample_phenotype"].values
    assert trait.dtype.kind == "f" and height.min() <= trait.min() <= trait.max() <= height.max()
    capsys.readouterr()
    assert main(["sample", str(model), "--n", "30", "--cases", "0.5", "--out", out]) == 2
    assert "label is continuous" in capsys.readouterr().err
    # whole-number values are classes unless --label-type says otherwise
    forced = tmp_path / "f.genosynth"
    assert main([*fit, "--label-type", "continuous", "--out", str(forced)]) == 0
    pipe = genosynth.load(forced)
    assert pipe["diffusion"].label_type_ == "continuous" and pipe["gwas"].test_ == "linear"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit", "--plink", "/nonexistent/x", "--n-snps", "8", "--out", "m"], "not found"),
        (["sample", "/nonexistent/m.genosynth", "--n", "3", "--out", "o"], "not found"),
    ],
)
def test_clear_errors(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_unknown_sample_ids_and_bad_pheno_file(plink_cohort, tmp_path, capsys):
    d, _ = plink_cohort
    (tmp_path / "p.txt").write_text("IID\tY\nstranger1\t1\nstranger2\t0\n")
    assert (
        main(
            [
                "fit",
                "--plink",
                str(d / "train"),
                "--pheno",
                str(tmp_path / "p.txt"),
                "--n-snps",
                "8",
                "--out",
                str(tmp_path / "m"),
            ]
        )
        == 2
    )
    assert "not in the genotype data" in capsys.readouterr().err
    (tmp_path / "q.txt").write_text("a b\n1 2\n")
    assert (
        main(
            [
                "fit",
                "--plink",
                str(d / "train"),
                "--pheno",
                str(tmp_path / "q.txt"),
                "--n-snps",
                "8",
                "--out",
                str(tmp_path / "m"),
            ]
        )
        == 2
    )
    assert "IID" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--epochs", "0", "must be greater than 0, got 0"),
        ("--epochs", "1.5", "invalid int value: '1.5'"),
        ("--learning-rate", "-0.001", "must be greater than 0, got -0.001"),
    ],
)
def test_fit_refuses_non_positive_epochs_and_learning_rate(flag, value, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--plink", "x", "--out", "m", flag, value])
    assert exc.value.code == 2
    assert f"argument {flag}: {message}" in capsys.readouterr().err


def test_demo_defaults_and_refuses_non_positive_epochs(capsys):
    demo = build_parser().parse_args(["demo"])
    assert (demo.n_snps, demo.epochs) == (512, 160)  # the demo's budget (benchmarks/README.md)
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--epochs", "0"])
    assert exc.value.code == 2
    assert "argument --epochs: must be greater than 0, got 0" in capsys.readouterr().err


def test_readme_commands_parse():
    """Every ``genosynth`` command line in the README uses flags the parser knows."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.DOTALL)
    lines = "".join(blocks).replace("\\\n", " ").splitlines()
    commands = [shlex.split(line) for line in lines if line.startswith("genosynth ")]
    assert len(commands) >= 2
    parser = build_parser()
    for command in commands:
        args = parser.parse_args(command[1:])  # exits (code 2) on an unknown flag
        assert args.func.__name__ == f"cmd_{command[1]}"


def _fit_argv(d, out, *extra):
    return ["fit", "--plink", str(d / "train"), "--n-snps", "8", "--out", str(out), *extra]


@pytest.mark.parametrize(
    "pheno, extra, message",
    [
        ("IID\tY\n{a}\tcase\n{b}\tcontrol\n", [], "non-numeric values, e.g. ['case', 'control']"),
        ("", [], "cannot be read as a table"),
        (None, [], "is not a file"),
        ("IID\tY\n{a}\t1\n{b}\t1\n", [], "single"),
        ("IID\tY\n{a}\t1\n{b}\t2\n", ["--n-snps", "500"], "n_snps=500"),
    ],
)
def test_fit_reports_bad_phenotypes_and_settings_without_a_traceback(
    plink_cohort, tmp_path, capsys, pheno, extra, message
):
    d, ds = plink_cohort
    ids = np.asarray(ds["sample_id"].values)[:300].astype(str)
    path = tmp_path / "p.txt"
    if pheno is None:
        path.mkdir()
    else:
        lines = pheno.format(a=ids[0], b=ids[1])
        if "\t1\n" in lines:  # a whole cohort with the given values alternating
            values = [line.split("\t")[1] for line in lines.splitlines()[1:]]
            lines = "IID\tY\n" + "".join(f"{i}\t{values[k % 2]}\n" for k, i in enumerate(ids))
        path.write_text(lines)
    assert main([*_fit_argv(d, tmp_path / "m.genosynth", "--pheno", str(path)), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_fit_checks_the_output_directory_before_fitting(plink_cohort, tmp_path, capsys):
    d, _ = plink_cohort
    assert main(_fit_argv(d, tmp_path / "absent" / "m.genosynth")) == 2
    assert "output directory" in capsys.readouterr().err


def test_plink_zero_is_a_missing_phenotype_next_to_1_and_2(
    plink_cohort, tmp_path, monkeypatch, capsys
):
    # PLINK codes 1 = control, 2 = case, 0 = missing: 0 must not become a third class.
    d, ds = plink_cohort
    _shrink_cli_models(monkeypatch, max_iter=2)
    ids = np.asarray(ds["sample_id"].values)[:300].astype(str)
    codes = np.resize([1, 2, 1, 0], 300)
    table = "IID\tY\n" + "".join(f"{i}\t{c}\n" for i, c in zip(ids, codes))
    (tmp_path / "p.txt").write_text(table)
    argv = _fit_argv(d, tmp_path / "m.genosynth", "--pheno", str(tmp_path / "p.txt"), "--quiet")
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "reading 0 as missing" in err
    assert "excluding 75 samples" in err
    assert "2 classes [0, 1]" in err


def test_sample_refuses_a_model_that_is_not_a_generative_pipeline(tmp_path, capsys):
    import genosynth
    from genosynth.baselines import AlleleFrequencySampler

    rng = np.random.default_rng(0)
    est = AlleleFrequencySampler().fit(rng.integers(0, 3, (20, 5)), rng.integers(0, 2, 20))
    model = genosynth.save(est, tmp_path / "af.genosynth")
    assert main(["sample", str(model), "--n", "3", "--out", str(tmp_path / "o")]) == 2
    assert "holds a AlleleFrequencySampler, not a fitted generative pipeline" in (
        capsys.readouterr().err
    )


def test_evaluate_drops_individuals_with_a_missing_phenotype(plink_cohort, tmp_path, capsys):
    d, _ = plink_cohort
    for ext in ("bed", "bim"):
        (tmp_path / f"train.{ext}").write_bytes((d / f"train.{ext}").read_bytes())
    fam = (d / "train.fam").read_text().splitlines()
    fam[:5] = [" ".join(line.split()[:5] + ["-9"]) for line in fam[:5]]
    (tmp_path / "train.fam").write_text("\n".join(fam) + "\n")
    argv = ["evaluate", "--train", str(tmp_path / "train"), "--holdout", str(d / "hold")]
    assert main([*argv, "--synthetic", str(d / "hold")]) == 0
    captured = capsys.readouterr()
    assert "train: excluding 5 individuals with a missing phenotype" in captured.err
    assert "tstr_auc_ratio" in captured.out

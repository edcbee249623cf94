"""Issue 24: never lose a user's data, never give wrong numbers quietly.

One section per point of the issue. Command-line cases run the installed
``genosynth`` entry point in a subprocess and expect one ``error:`` line and
exit status 2, with output locations refused before any fit starts.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genosynth import (
    ConditionalLatentDiffusion,
    GenerativePipeline,
    GenotypeVAE,
    GWASSelector,
    load,
    save,
)
from genosynth._streaming import write_samples
from genosynth.baselines import AlleleFrequencySampler
from genosynth.data._alignment import align_variants
from genosynth.data._genotypes import as_genotypes, default_variants
from genosynth.datasets import simulate_case_control
from genosynth.io import load_zarr, read_plink, save_zarr, to_dataset, write_plink
from genosynth.metrics import evaluate

GENOSYNTH = shutil.which("genosynth") or str(Path(sys.executable).with_name("genosynth"))
_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def run_cli(*args, timeout=240):
    """The real ``genosynth`` command; returns (exit status, stderr)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run(
        [GENOSYNTH, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env
    )
    return proc.returncode, proc.stderr


def assert_cli_error(rc, err, *fragments):
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], err


@contextlib.contextmanager
def read_only(directory: Path):
    """A directory nobody may write to (root ignores mode bits: make it immutable)."""
    directory.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(directory)], capture_output=True).returncode:
            pytest.skip("cannot make a read-only directory here (chattr unavailable)")
        try:
            yield directory
        finally:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
    else:
        directory.chmod(0o500)
        try:
            yield directory
        finally:
            directory.chmod(0o700)


@pytest.fixture(scope="module")
def cohort():
    return simulate_case_control(
        240, n_variants=120, n_causal=6, random_state=3, demography="constant", n_chromosomes=1
    )


@pytest.fixture(scope="module")
def tiny_pipe(cohort):
    """A model that learned almost nothing (1-2 epochs): the collapsed generator of point 3."""
    pipe = GenerativePipeline(
        [
            ("gwas", GWASSelector(n_snps=32)),
            ("vae", GenotypeVAE(max_iter=1, random_state=0)),
            ("diffusion", ConditionalLatentDiffusion(max_iter=2, random_state=0)),
        ]
    )
    return pipe.fit(cohort, cohort["sample_phenotype"].values)


@pytest.fixture(scope="module")
def af_pipe(cohort):
    """A generator with independent rows (the AF sampler) on the selected panel."""
    pipe = GenerativePipeline([("gwas", GWASSelector(n_snps=32)), ("af", AlleleFrequencySampler())])
    return pipe.fit(cohort, cohort["sample_phenotype"].values)


@pytest.fixture(scope="module")
def model_file(tiny_pipe, tmp_path_factory):
    return save(tiny_pipe, tmp_path_factory.mktemp("model") / "tiny.genosynth")


@pytest.fixture(scope="module")
def plink_cohort(cohort, tmp_path_factory):
    d = tmp_path_factory.mktemp("plink")
    write_plink(cohort, d / "real")
    return d / "real"


def _swap_dataset_alleles(ds):
    """The same individuals coded against the other allele: ref/alt swapped, dosages 2 - g."""
    G, variants = as_genotypes(ds)
    swapped = variants.rename(columns={"ref": "alt", "alt": "ref"})
    y = ds["sample_phenotype"].values
    return to_dataset(np.where(G < 0, G, 2 - G), y=y, variants=swapped)


# ---------------------------------------------------------------------------------
# 1. Variants are matched by id and alleles
# ---------------------------------------------------------------------------------


@_SETTINGS
@given(data=st.data())
def test_alignment_recovers_any_permutation_and_flip(data):
    n_var = data.draw(st.integers(1, 30))
    alleles = data.draw(
        st.lists(
            st.tuples(st.sampled_from("ACGT"), st.sampled_from("ACGT")).filter(
                lambda p: p[0] != p[1]
            ),
            min_size=n_var,
            max_size=n_var,
        )
    )
    target = pd.DataFrame(
        {
            "id": [f"rs{i}" for i in range(n_var)],
            "ref": [a for a, _ in alleles],
            "alt": [b for _, b in alleles],
        }
    )
    order = np.array(data.draw(st.permutations(range(n_var))))
    flip = np.array(data.draw(st.lists(st.booleans(), min_size=n_var, max_size=n_var)))
    source = target.iloc[order].reset_index(drop=True)
    source.loc[flip, ["ref", "alt"]] = source.loc[flip, ["alt", "ref"]].to_numpy()
    rng = np.random.default_rng(n_var)
    G_target = rng.integers(-1, 3, size=(5, n_var)).astype(np.int8)
    G_source = G_target[:, order].copy()
    G_source[:, flip] = np.where(G_source[:, flip] < 0, -1, 2 - G_source[:, flip])
    alignment = align_variants(target, source)
    assert alignment.n_flipped == int(flip.sum())
    np.testing.assert_array_equal(alignment.apply(G_source), G_target)


def test_alignment_refuses_other_alleles_and_duplicate_ids():
    target = pd.DataFrame({"id": ["a", "b"], "ref": ["A", "C"], "alt": ["G", "T"]})
    other = target.assign(alt=["G", "A"])  # b is C/A in one file, C/T in the other
    with pytest.raises(ValueError, match=r"1 variants have different alleles.*b \(C/T vs C/A\)"):
        align_variants(target, other)
    dup = pd.DataFrame({"id": ["a", "a"], "ref": ["A", "A"], "alt": ["G", "G"]})
    with pytest.raises(ValueError, match="duplicate variant id"):
        align_variants(target, dup)
    with pytest.raises(ValueError, match="duplicate variant id"):
        align_variants(dup, target)


def test_evaluate_flips_swapped_alleles_and_says_so(cohort):
    train, hold = cohort.isel(samples=slice(0, 160)), cohort.isel(samples=slice(160, 240))
    syn = cohort.isel(samples=slice(80, 240))  # any cohort on the same variants
    y = lambda ds: ds["sample_phenotype"].values  # noqa: E731
    kwargs = {"n_bootstrap": 5}
    same = evaluate(train, y(train), hold, y(hold), syn, y(syn), **kwargs).to_dict()
    report = evaluate(train, y(train), hold, y(hold), _swap_dataset_alleles(syn), y(syn), **kwargs)
    flipped = report.to_dict()
    assert same["af_pearson_r"] > 0.9
    assert flipped["af_pearson_r"] == pytest.approx(same["af_pearson_r"])
    assert flipped["ld_r2_correlation"] == pytest.approx(same["ld_r2_correlation"])
    n = cohort.sizes["variants"]
    assert report.notes == [
        f"{n} variants of real_train have ref/alt swapped relative to synthetic: their "
        "dosages were flipped",
        f"{n} variants of real_holdout have ref/alt swapped relative to synthetic: their "
        "dosages were flipped",
    ]
    assert "note: " in report.summary()


def test_evaluate_refuses_duplicate_ids(cohort):
    G, variants = as_genotypes(cohort)
    y = cohort["sample_phenotype"].values
    dup = to_dataset(G, y=y, variants=variants.assign(id=["same"] * len(variants)))
    with pytest.raises(ValueError, match="duplicate variant id"):
        evaluate(cohort, y, cohort, y, dup, y, n_bootstrap=5)


def test_cli_evaluate_flips_and_refuses_mismatched_alleles(cohort, tmp_path):
    train, hold = cohort.isel(samples=slice(0, 160)), cohort.isel(samples=slice(160, 240))
    write_plink(train, tmp_path / "train")
    write_plink(hold, tmp_path / "hold")
    write_plink(_swap_dataset_alleles(train), tmp_path / "swapped")
    argv = ["evaluate", "--train", tmp_path / "train", "--holdout", tmp_path / "hold"]
    csv = tmp_path / "report.csv"
    rc, err = run_cli(*argv, "--synthetic", tmp_path / "swapped", "--csv", csv)
    assert rc == 0, err
    assert "note: 120 variants of real_train have ref/alt swapped" in err
    table = pd.read_csv(csv, index_col=0)["value"]
    assert table["af_pearson_r"] == pytest.approx(1.0)  # the same individuals, correctly read
    G, variants = as_genotypes(train)
    other = variants.assign(alt=np.where(variants["ref"] == "T", "G", "T"))
    write_plink(to_dataset(G, y=train["sample_phenotype"].values, variants=other), tmp_path / "o")
    rc, err = run_cli(*argv, "--synthetic", tmp_path / "o")
    assert_cli_error(rc, err, "have different alleles")


# ---------------------------------------------------------------------------------
# 2. Existing outputs are refused; writes are temp-file-then-rename
# ---------------------------------------------------------------------------------


def test_write_plink_refuses_existing_files_unless_overwrite(cohort, tmp_path):
    small = cohort.isel(samples=slice(0, 10))
    write_plink(cohort, tmp_path / "c")
    before = (tmp_path / "c.bed").read_bytes()
    with pytest.raises(FileExistsError, match="c.bim already exists"):
        write_plink(small, tmp_path / "c")
    assert (tmp_path / "c.bed").read_bytes() == before
    write_plink(small, tmp_path / "c", overwrite=True)
    assert read_plink(tmp_path / "c").sizes["samples"] == 10


def test_interrupted_writes_leave_nothing_behind(cohort, tiny_pipe, tmp_path, monkeypatch):
    import sgkit.io.plink

    def crash(ds, bed_path, **_):
        Path(bed_path).write_bytes(b"\x6c\x1b")  # half a file, then the crash
        raise KeyboardInterrupt

    monkeypatch.setattr(sgkit.io.plink, "write_plink", crash)
    with pytest.raises(KeyboardInterrupt):
        write_plink(cohort, tmp_path / "c")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []

    write_plink(cohort, tmp_path / "keep")
    before = (tmp_path / "keep.bed").read_bytes()

    def chunks_then_crash(*args, **kwargs):
        yield 0, np.zeros((4, 32), dtype=np.int8), np.zeros(4, dtype=np.int64)
        raise RuntimeError("disk full")

    monkeypatch.setattr("genosynth._streaming.iter_sample_chunks", chunks_then_crash)
    with pytest.raises(RuntimeError, match="disk full"):
        write_samples(tiny_pipe, 8, tmp_path / "keep", overwrite=True)
    assert (tmp_path / "keep.bed").read_bytes() == before  # the old cohort is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.bed", "keep.bim", "keep.fam"]


def test_save_and_zarr_refuse_existing_outputs(tiny_pipe, cohort, tmp_path):
    path = save(tiny_pipe, tmp_path / "m.genosynth")
    with pytest.raises(FileExistsError, match="model file .* already exists"):
        save(tiny_pipe, path)
    save(tiny_pipe, path, overwrite=True)
    store = save_zarr(cohort, tmp_path / "c.zarr")
    with pytest.raises(FileExistsError):
        save_zarr(cohort.isel(samples=slice(0, 5)), store)
    save_zarr(cohort.isel(samples=slice(0, 5)), store, overwrite=True)
    assert load_zarr(store).sizes["samples"] == 5


def test_cli_sample_refuses_existing_cohort_unless_force(model_file, tmp_path):
    rc, err = run_cli("sample", model_file, "--n", 12, "--out", tmp_path / "syn")
    assert rc == 0, err
    before = (tmp_path / "syn.bed").read_bytes()
    rc, err = run_cli("sample", model_file, "--n", 4, "--out", tmp_path / "syn")
    assert_cli_error(rc, err, "already exists", "--force")
    assert (tmp_path / "syn.bed").read_bytes() == before
    rc, err = run_cli("sample", model_file, "--n", 4, "--out", tmp_path / "syn", "--force")
    assert rc == 0, err
    assert read_plink(tmp_path / "syn").sizes["samples"] == 4


# ---------------------------------------------------------------------------------
# 3. Collapsed samples are counted and warned about
# ---------------------------------------------------------------------------------


def test_collapsed_generator_warns_and_report_shows_it(tiny_pipe, af_pipe, cohort):
    with pytest.warns(UserWarning, match=r"synthetic individuals are identical to another one"):
        G, y = tiny_pipe.sample(60, random_state=0)
    n_distinct = len(np.unique(G, axis=0))
    assert n_distinct < 10  # the premise: two epochs learn next to nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # independent rows on 32 SNPs: no warning
        G_af, y_af = af_pipe.sample(60, random_state=0)
    panel = af_pipe["gwas"].get_support()
    G_real = as_genotypes(cohort)[0][:, panel]
    y_real = cohort["sample_phenotype"].values
    args = (G_real[:160], y_real[:160], G_real[160:], y_real[160:])
    collapsed = evaluate(*args, G, y, n_bootstrap=5)
    fine = evaluate(*args, G_af, y_af, n_bootstrap=5)
    m = collapsed.to_dict()
    assert m["distinct_fraction_synthetic"] == pytest.approx(n_distinct / 60)
    assert m["identical_match_rate_synthetic"] > 0.8
    assert collapsed.verdicts["identical_match_rate_synthetic"] == "check"
    assert m["near_duplicate_rate_synthetic"] > 0.8
    assert fine.to_dict()["identical_match_rate_synthetic"] == 0.0
    assert fine.verdicts["identical_match_rate_synthetic"] == "ok"
    assert "identical_match_rate_synthetic" in collapsed.summary()


def test_collapse_warning_is_calibrated_on_narrow_panels():
    from genosynth.stats._diversity import count_duplicates, row_hashes, warn_if_collapsed

    count = count_duplicates(row_hashes(np.zeros((100, 4), dtype=np.int8)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 4 rare SNPs: unrelated people do coincide
        warn_if_collapsed(count, 4, maf=np.full(4, 0.01))
        warn_if_collapsed(count, 4)  # no frequencies, narrow panel: cannot tell
        warn_if_collapsed(count, 4, maf=np.full(4, 0.5))  # 2% of pairs coincide: expected
    wide = count_duplicates(row_hashes(np.zeros((100, 64), dtype=np.int8)))
    with pytest.warns(UserWarning, match="100 of 100"):  # 64 common SNPs: they would not
        warn_if_collapsed(wide, 64, maf=np.full(64, 0.5))


@_SETTINGS
@given(rows=st.lists(st.lists(st.integers(-1, 2), min_size=6, max_size=6), min_size=1))
def test_row_hashes_count_distinct_rows(rows):
    from genosynth.stats._diversity import count_duplicates, row_hashes

    G = np.array(rows, dtype=np.int8)
    count = count_duplicates(row_hashes(G))
    _, counts = np.unique(G, axis=0, return_counts=True)
    assert count.n_distinct == len(counts)
    assert count.n_repeated == int(counts[counts > 1].sum())


# ---------------------------------------------------------------------------------
# 4. Alleles PLINK cannot hold are refused
# ---------------------------------------------------------------------------------


@_SETTINGS
@given(
    allele=st.one_of(
        st.just(""),
        st.builds(
            lambda a, s, b: a + s + b,
            st.text("ACGT", max_size=2),
            st.sampled_from([" ", "\t", "\n", "\r"]),
            st.text("ACGT", max_size=2),
        ),
    )
)
def test_write_plink_refuses_alleles_with_whitespace(allele, tmp_path_factory):
    variants = default_variants(2)
    variants.loc[1, "alt"] = allele
    ds = to_dataset(np.array([[0, 1], [2, 1]]), y=[0, 1], variants=variants)
    d = tmp_path_factory.mktemp("alleles")
    with pytest.raises(ValueError, match="variant_allele values must be non-empty"):
        write_plink(ds, d / "bad")
    assert list(d.iterdir()) == []


# ---------------------------------------------------------------------------------
# 5. The command line: one error line, exit status 2, outputs checked before the fit
# ---------------------------------------------------------------------------------


def test_cli_fit_refuses_unwritable_outputs_before_fitting(plink_cohort, tmp_path):
    fit = ["fit", "--plink", plink_cohort, "--quiet", "--out"]
    rc, err = run_cli(*fit, tmp_path)
    assert_cli_error(rc, err, "is a directory")
    assert "fitting" not in err
    with read_only(tmp_path / "ro") as ro:
        rc, err = run_cli(*fit, ro / "m.genosynth")
    assert_cli_error(rc, err, "is not writable")
    rc, err = run_cli(*fit, tmp_path / "missing" / "m.genosynth")
    assert_cli_error(rc, err, "does not exist")


def test_cli_sample_and_evaluate_refuse_read_only_outputs(model_file, plink_cohort, tmp_path):
    with read_only(tmp_path / "ro") as ro:
        rc, err = run_cli("sample", model_file, "--n", 8, "--format", "zarr", "--out", ro / "s")
        assert_cli_error(rc, err, "is not writable")
        rc, err = run_cli("sample", model_file, "--n", 8, "--out", ro / "s")
        assert_cli_error(rc, err, "is not writable")
        argv = ["evaluate", "--train", plink_cohort, "--holdout", plink_cohort]
        rc, err = run_cli(*argv, "--synthetic", plink_cohort, "--csv", ro / "r.csv")
        assert_cli_error(rc, err, "is not writable")


def test_cli_fit_binary_phenotype_file_and_missing_phenotypes(plink_cohort, tmp_path):
    binary = tmp_path / "pheno.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    fit = ["fit", "--plink", plink_cohort, "--out", tmp_path / "m.genosynth", "--quiet"]
    rc, err = run_cli(*fit, "--pheno", binary)
    assert_cli_error(rc, err, "is not a text table")
    fam = pd.read_csv(f"{plink_cohort}.fam", sep=r"\s+", header=None)
    pheno = tmp_path / "pheno.txt"
    pd.DataFrame({"IID": fam[1], "T": -9}).to_csv(pheno, sep="\t", index=False)
    rc, err = run_cli(*fit, "--pheno", pheno)
    assert_cli_error(rc, err, "no sample has a phenotype")
    assert "covariate" not in err


def test_cli_bim_positions_beyond_int32_or_negative(cohort, tmp_path):
    for name, position in (("big", 2**31), ("negative", -5)):
        write_plink(cohort, tmp_path / name)
        bim = pd.read_csv(tmp_path / f"{name}.bim", sep="\t", header=None)
        bim.loc[3, 3] = position
        bim.to_csv(tmp_path / f"{name}.bim", sep="\t", header=False, index=False)
        with pytest.raises(ValueError, match=r"positions must lie in \[0, 2147483647\]"):
            read_plink(tmp_path / name)
        rc, err = run_cli("fit", "--plink", tmp_path / name, "--out", tmp_path / "m", "--quiet")
        assert_cli_error(rc, err, "positions must lie in", str(position))


def _forge_header(path, out, edit):
    """Rewrite a model file's header with ``edit`` and a recomputed checksum."""
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    from genosynth.persistence import _digest

    with safe_open(str(path), framework="numpy") as f:
        header = json.loads(f.metadata()["genosynth"])
    arrays = load_file(str(path))
    header = edit(header, arrays)
    text = header if isinstance(header, str) else json.dumps(header)
    digest = _digest(header, arrays) if not isinstance(header, str) else "x"
    save_file(arrays, str(out), metadata={"genosynth": text, "sha256": digest})
    return out


def test_cli_deeply_nested_model_header(model_file, tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    forged = _forge_header(model_file, tmp_path / "deep.genosynth", lambda h, a: deep)
    with pytest.raises(ValueError, match="header is corrupt"):
        load(forged)
    rc, err = run_cli("sample", forged, "--n", 5, "--out", tmp_path / "s")
    assert_cli_error(rc, err, "header is corrupt")

    def nest(header, arrays):
        value = 0
        for _ in range(500):
            value = [value]
        header["steps"][0]["params"]["extra"] = value
        return header

    nested = _forge_header(model_file, tmp_path / "nested.genosynth", nest)
    with pytest.raises(ValueError, match="nested deeper than"):
        load(nested)


def test_cli_sample_too_large_for_the_disk(tmp_path):
    """``--n 1000000000`` streams (no MemoryError); on 512 SNPs that is a 128 GB .bed."""
    ds = simulate_case_control(200, n_variants=600, n_causal=5, random_state=0, n_chromosomes=1)
    pipe = GenerativePipeline(
        [("gwas", GWASSelector(n_snps=512)), ("af", AlleleFrequencySampler())]
    )
    model = save(pipe.fit(ds, ds["sample_phenotype"].values), tmp_path / "wide.genosynth")
    n, need = 1_000_000_000, 3 + 512 * 250_000_000
    if shutil.disk_usage(tmp_path).free >= need:
        pytest.skip("this disk could hold the 128 GB cohort")
    out = tmp_path / "out"
    out.mkdir()
    rc, err = run_cli("sample", model, "--n", n, "--out", out / "s")
    assert_cli_error(rc, err, "the .bed file needs 119.2 GB of disk space")
    assert list(out.iterdir()) == []


# ---------------------------------------------------------------------------------
# 6. Large requests: chunked writing, and in-memory requests that cannot fit
# ---------------------------------------------------------------------------------


def test_streamed_plink_is_the_in_memory_cohort_when_it_fits_one_chunk(af_pipe, tmp_path):
    ds = af_pipe.sample_dataset(50, random_state=7)
    write_plink(ds, tmp_path / "memory")
    af_pipe.sample_dataset(50, random_state=7, out=tmp_path / "stream", format="plink")
    assert (tmp_path / "stream.bed").read_bytes() == (tmp_path / "memory.bed").read_bytes()
    for ext in ("bim", "fam"):
        memory = pd.read_csv(tmp_path / f"memory.{ext}", sep=r"\s+", header=None)
        stream = pd.read_csv(tmp_path / f"stream.{ext}", sep=r"\s+", header=None)
        pd.testing.assert_frame_equal(stream, memory, check_dtype=False)


@pytest.mark.parametrize("n", [1, 3, 17, 64, 101])
def test_chunked_writes_round_trip_and_are_reproducible(af_pipe, tmp_path, n):
    kwargs = {"random_state": 1, "chunk_size": 16}
    plink = af_pipe.sample_dataset(n, out=tmp_path / "p", format="plink", **kwargs)
    zarr = af_pipe.sample_dataset(n, out=tmp_path / "z.zarr", format="zarr", **kwargs)
    again = af_pipe.sample_dataset(n, out=tmp_path / "again", format="plink", **kwargs)
    G_p, G_z = as_genotypes(plink)[0], as_genotypes(zarr)[0]
    assert G_p.shape == (n, 32)
    np.testing.assert_array_equal(G_p, G_z)
    np.testing.assert_array_equal(G_p, as_genotypes(again)[0])
    np.testing.assert_array_equal(plink["sample_phenotype"], zarr["sample_phenotype"])
    assert zarr["sample_id"].values.tolist() == [f"syn{i}" for i in range(n)]
    assert plink["variant_id"].values.tolist() == af_pipe["gwas"].selected_variants_["id"].tolist()
    if n > 16:  # several chunks draw different individuals, not one chunk repeated
        assert not np.array_equal(G_p[:16], G_p[16:32])


def test_in_memory_request_that_cannot_fit_is_refused(af_pipe):
    with pytest.raises(
        MemoryError, match=r"needs about .* (GB|TB|PB).* write the cohort in chunks"
    ):
        af_pipe.sample(10**13, random_state=0)
    with pytest.raises(MemoryError, match="sample_dataset"):
        af_pipe.sample_dataset(10**12, random_state=0)


def test_stream_benchmark_script_runs_at_a_tiny_size(tmp_path):
    script = Path(__file__).parents[1] / "benchmarks" / "bench_stream_sampling.py"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, str(script), "--n", "2000", "--n-memory", "500", "--snps", "64",
         "--chunk-size", "512", "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "peak RSS" in out.stdout and "streamed" in out.stdout and "in memory" in out.stdout


# ---------------------------------------------------------------------------------
# 7. Messages that name the real problem
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [float("nan"), float("inf")])
def test_guidance_nan_or_inf_is_named(tiny_pipe, scale):
    with pytest.raises(ValueError, match="guidance_scale must be a finite number"):
        tiny_pipe[-1].sample(3, guidance_scale=scale, random_state=0)


def test_vae_on_all_missing_data():
    with pytest.raises(ValueError, match="every genotype call is missing"):
        GenotypeVAE(max_iter=1).fit(np.full((10, 16), -1))


def test_load_zarr_on_a_file(tmp_path):
    path = tmp_path / "not.zarr"
    path.write_text("hello")
    with pytest.raises(ValueError, match="is not a Zarr store"):
        load_zarr(path)
    with pytest.raises(FileNotFoundError):
        load_zarr(tmp_path / "absent.zarr")


def test_diffusion_progress_bar_shows_a_positive_validation_mse(capsys, tiny_pipe):
    Z = np.random.default_rng(0).normal(size=(60, 8)).astype(np.float32)
    y = np.r_[np.zeros(30), np.ones(30)].astype(int)
    ConditionalLatentDiffusion(max_iter=2, verbose=True, denoiser="mlp", random_state=0).fit(Z, y)
    err = capsys.readouterr().err
    import re

    values = [float(v) for v in re.findall(r"val_mse=(-?[\d.]+)", err)]
    assert values and all(v > 0 for v in values)
    assert "val=" not in err


# ---------------------------------------------------------------------------------
# 8. No quiet coercions
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [1.7, 0, True, "8"])
def test_n_steps_must_be_a_positive_integer(tiny_pipe, bad):
    with pytest.raises(ValueError, match="n_steps must be a positive integer"):
        tiny_pipe[-1].sample(2, n_steps=bad, random_state=0)


@pytest.mark.parametrize("bad", [True, False, 2.0, np.bool_(True)])
def test_n_samples_must_be_a_count(af_pipe, tiny_pipe, bad):
    for pipe in (af_pipe, tiny_pipe):
        with pytest.raises(ValueError, match="n_samples must be a positive integer"):
            pipe.sample(bad, random_state=0)


def test_invalid_parameters_set_after_fit_are_refused_at_sampling(tiny_pipe):
    from sklearn.base import clone

    diffusion = clone(tiny_pipe[-1])
    diffusion.__dict__.update(
        {k: v for k, v in vars(tiny_pipe[-1]).items() if k.endswith("_") and k[0] != "_"}
    )
    diffusion.set_params(sampler="euler")
    with pytest.raises(ValueError, match="'sampler' parameter"):
        diffusion.sample(2, random_state=0)
    diffusion.set_params(sampler="ddim", n_steps=1.7)
    with pytest.raises(ValueError, match="'n_steps' parameter"):
        diffusion.sample(2, random_state=0)


def test_edited_model_with_inconsistent_shapes_is_refused(model_file, tmp_path):
    def shrink_mask(header, arrays):
        for step in header["steps"]:
            if step["class"] == "GWASSelector":
                step["fitted"]["n_features_in_"] = step["fitted"]["n_features_in_"] + 3
        return header

    forged = _forge_header(model_file, tmp_path / "edited.genosynth", shrink_mask)
    with pytest.raises(ValueError, match="selects from 120 variants but was fitted on 123"):
        load(forged)

    def other_vae(header, arrays):
        for step in header["steps"]:
            if step["class"] == "GenotypeVAE":
                step["fitted"]["n_features_in_"] = 31
        return header

    forged = _forge_header(model_file, tmp_path / "edited2.genosynth", other_vae)
    with pytest.raises(ValueError, match="outputs 32 features but step 'vae' was fitted on 31"):
        load(forged)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_model_files_follow_the_umask(af_pipe, tmp_path, umask):
    old = os.umask(umask)
    try:
        path = save(af_pipe, tmp_path / f"m{umask}.genosynth")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_arrays_and_to_dataset_share_one_default_variant_table():
    rng = np.random.default_rng(0)
    G = rng.integers(0, 3, size=(60, 20))
    y = (G[:, 0] + rng.normal(size=60) > 1).astype(int)
    selector = GWASSelector(n_snps=5).fit(G, y)
    default = to_dataset(G)
    from genosynth.data._genotypes import variant_table

    pd.testing.assert_frame_equal(
        selector.results_[["id", "contig", "position", "ref", "alt"]],
        variant_table(default),
        check_dtype=False,
    )
    assert variant_table(default)["position"].min() == 1

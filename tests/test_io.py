"""Writers and readers: Dataset construction, PLINK and Zarr round trips are exact."""

import numpy as np
import pandas as pd
import pytest

from genosynth.data._genotypes import as_genotypes, variant_table
from genosynth.io import load_zarr, read_plink, save_zarr, to_dataset, write_plink


@pytest.fixture
def cohort():
    rng = np.random.default_rng(0)
    G = rng.integers(0, 3, size=(12, 8)).astype(np.int8)
    G[rng.random(G.shape) < 0.05] = -1
    G[:, 3] = 2  # a variant where everyone carries two alt alleles: orientation must hold
    variants = pd.DataFrame(
        {
            "id": [f"rs{i}" for i in range(8)],
            "contig": ["1"] * 5 + ["2"] * 3,
            "position": [100, 250, 300, 900, 1200, 50, 60, 70],
            "ref": list("ACGTACGT"),
            "alt": list("GTACGTAC"),
        }
    )
    y = rng.integers(0, 2, size=12)
    return G, variants, y


def test_to_dataset_is_valid_sgkit(cohort):
    import sgkit

    G, variants, y = cohort
    ds = to_dataset(G, y=y, variants=variants, sample_prefix="s")
    # sgkit's own specs accept every variable it registers (the label is ours)
    sgkit.variables.validate(ds, *[v for v in ds.data_vars if v != "sample_phenotype"])
    assert ds["sample_id"].values.tolist()[:2] == ["s0", "s1"]
    np.testing.assert_array_equal(ds["sample_phenotype"].values, y)
    back, meta = as_genotypes(ds)
    np.testing.assert_array_equal(back, G)
    pd.testing.assert_frame_equal(meta, variants, check_dtype=False)


def test_plink_round_trip_is_exact(cohort, tmp_path):
    G, variants, y = cohort
    ds = to_dataset(G, y=y, variants=variants)
    prefix = write_plink(ds, tmp_path / "c")
    bim = pd.read_csv(tmp_path / "c.bim", sep="\t", header=None)
    # plink2 convention: A1 (5th column) = ALT, the allele our dosages count
    assert bim[4].tolist() == variants["alt"].tolist()
    assert bim[5].tolist() == variants["ref"].tolist()
    fam = pd.read_csv(tmp_path / "c.fam", sep=r"\s+", header=None)
    assert fam[5].tolist() == (y + 1).tolist()  # PLINK 1/2 coding
    back = read_plink(prefix)
    G2, meta = as_genotypes(back)
    np.testing.assert_array_equal(G2, G)
    pd.testing.assert_frame_equal(meta, variants, check_dtype=False)
    np.testing.assert_array_equal(back["sample_phenotype"].values, y)


def test_read_plink_matches_sgkit_reader_across_chunks(cohort, tmp_path, monkeypatch):
    """bed_reader-decoded calls equal sgkit's (alleles swapped), across chunk edges."""
    from sgkit.io.plink import read_plink as sgkit_read_plink

    import genosynth.io

    G, variants, y = cohort
    prefix = write_plink(to_dataset(G, y=y, variants=variants), tmp_path / "c")
    monkeypatch.setattr(genosynth.io, "_BED_CHUNK_BYTES", 3 * 2 * G.shape[0])  # 3 variants
    ours = read_plink(prefix)
    assert ours["call_genotype"].data.numblocks[0] == 3
    ref = sgkit_read_plink(path=str(prefix))
    ref_gt = ref["call_genotype"].values
    # sgkit's allele 0 is A1 (our alt): its dosage of allele 0 is our alt dosage
    ref_dosage = np.where((ref_gt < 0).any(-1), -1, (ref_gt == 0).sum(-1)).T
    np.testing.assert_array_equal(as_genotypes(ours)[0], ref_dosage)
    np.testing.assert_array_equal(
        ours["call_genotype_mask"].values, ref["call_genotype_mask"].values
    )
    np.testing.assert_array_equal(
        ours["variant_allele"].values, ref["variant_allele"].values[:, ::-1]
    )
    assert ours["call_genotype"].dtype == np.int8
    # Our .bim/.fam parsing gives sgkit's variables, values and dtypes.
    for name in ref.variables:
        if name in ("call_genotype", "call_genotype_mask", "variant_allele", "sample_phenotype"):
            continue
        np.testing.assert_array_equal(ours[name].values, ref[name].values, err_msg=name)
        assert ours[name].dtype.kind == ref[name].dtype.kind, name
        assert ours[name].dims == ref[name].dims, name
    assert ours.attrs["contigs"] == ["1", "2"]
    np.testing.assert_array_equal(ours["sample_phenotype"].values, ref["sample_phenotype"] - 1)


def test_read_plink_reads_dosages_directly_unless_the_calls_change(cohort, tmp_path):
    """The data layer's shortcut to read_plink's dosages is exact and falls back safely."""
    from genosynth.data._genotypes import _call_genotype_to_dosage, _direct_dosage

    G, variants, y = cohort
    ds = read_plink(write_plink(to_dataset(G, y=y, variants=variants), tmp_path / "c"))
    assert _direct_dosage(ds) is not None
    via_calls = _call_genotype_to_dosage(
        ds["call_genotype"].values, ds["call_genotype_mask"].values
    )
    np.testing.assert_array_equal(via_calls, G)
    np.testing.assert_array_equal(as_genotypes(ds)[0], G)
    # Subsetting samples or masking calls changes the arrays: the ordinary path must run.
    rows = [5, 0, 7]
    subset = ds.isel(samples=rows)
    assert _direct_dosage(subset) is None
    np.testing.assert_array_equal(as_genotypes(subset)[0], G[rows])
    i, j = np.argwhere(G >= 0)[0]
    extra = np.zeros(ds["call_genotype_mask"].shape, dtype=bool)
    extra[j, i] = True  # (variants, samples, ploidy)
    masked = ds.assign(call_genotype_mask=ds["call_genotype_mask"] | extra)
    assert _direct_dosage(masked) is None
    assert as_genotypes(masked)[0][i, j] == -1


def test_read_plink_samples_keeps_the_fast_path(cohort, tmp_path):
    from genosynth.data._genotypes import _direct_dosage

    G, variants, y = cohort
    prefix = write_plink(to_dataset(G, y=y, variants=variants), tmp_path / "c")
    rows = np.array([7, 2, 3])
    ds = read_plink(prefix, samples=rows)
    assert _direct_dosage(ds) is not None
    np.testing.assert_array_equal(as_genotypes(ds)[0], G[rows])
    np.testing.assert_array_equal(ds["sample_phenotype"].values, y[rows])
    full = read_plink(prefix)
    assert ds["sample_id"].values.tolist() == full["sample_id"].values[rows].tolist()
    mask = np.zeros(len(y), dtype=bool)
    mask[[1, 4]] = True
    np.testing.assert_array_equal(as_genotypes(read_plink(prefix, samples=mask))[0], G[mask])
    with pytest.raises(ValueError, match=r"must lie in \[0, 12\)"):
        read_plink(prefix, samples=[0, 12])
    with pytest.raises(TypeError, match="integer positions or a boolean mask"):
        read_plink(prefix, samples=["ind0"])


def test_read_plink_phenotypes_and_malformed_tables(cohort, tmp_path):
    G, variants, y = cohort
    prefix = write_plink(to_dataset(G, y=y, variants=variants), tmp_path / "c")
    fam = pd.read_csv(tmp_path / "c.fam", sep=r"\s+", header=None)
    fam[5] = np.linspace(-1.5, 3.0, len(fam))  # a quantitative trait
    fam.loc[2, 5] = -9
    fam.to_csv(tmp_path / "c.fam", sep=" ", header=False, index=False)
    pheno = read_plink(prefix)["sample_phenotype"].values
    assert pheno.dtype == np.float64 and np.isnan(pheno[2])
    np.testing.assert_allclose(np.delete(pheno, 2), np.delete(fam[5].to_numpy(), 2))
    (tmp_path / "c.bim").write_text("1 rs1 0 100 A\n")
    with pytest.raises(ValueError, match="c.bim has 5 columns"):
        read_plink(prefix)


def test_plink_orientation_against_plink2_counts(cohort, tmp_path):
    """plink2 --freq on our files reports the alt frequency we compute."""
    import shutil
    import subprocess

    if shutil.which("plink2") is None:
        pytest.skip("plink2 not installed")
    G, variants, y = cohort
    write_plink(to_dataset(G, y=y, variants=variants), tmp_path / "c")
    subprocess.run(
        ["plink2", "--bfile", str(tmp_path / "c"), "--freq", "--out", str(tmp_path / "f")],
        check=True,
        capture_output=True,
    )
    freq = pd.read_csv(tmp_path / "f.afreq", sep="\t")
    ours = np.array([G[G[:, j] >= 0, j].mean() / 2 for j in range(G.shape[1])])
    np.testing.assert_allclose(freq["ALT_FREQS"].to_numpy(), ours, atol=1e-6)
    assert freq["ALT"].tolist() == variants["alt"].tolist()


def test_zarr_round_trip(cohort, tmp_path):
    G, variants, y = cohort
    ds = to_dataset(G, y=y, variants=variants)
    back = load_zarr(save_zarr(ds, tmp_path / "c.zarr"))
    np.testing.assert_array_equal(as_genotypes(back)[0], G)
    pd.testing.assert_frame_equal(variant_table(back), variants, check_dtype=False)
    with pytest.raises(FileExistsError):
        save_zarr(ds, tmp_path / "c.zarr")


def test_errors(cohort, tmp_path):
    G, variants, y = cohort
    with pytest.raises(ValueError, match="rows"):
        to_dataset(G, variants=variants.iloc[:3])
    with pytest.raises(ValueError, match="columns"):
        to_dataset(G, variants=variants.drop(columns="alt"))
    with pytest.raises(ValueError, match="entries"):
        to_dataset(G, y=y[:-1])
    with pytest.raises(FileNotFoundError, match="c.bed"):
        read_plink(tmp_path / "c")


@pytest.mark.parametrize(
    "labels, dtype, back",
    [
        ([0, 1, -1, 1], np.int8, [0, 1, -1, 1]),  # read_plink's own int8 labels, -1 missing
        ([0.0, 1.0, np.nan, 1.0], float, [0, 1, -1, 1]),
        ([0, 1, 3, 1], np.int64, [0.0, 1.0, 3.0, 1.0]),  # classes PLINK holds as values
        ([5.5, np.nan, 2.0, 1.0], float, [5.5, np.nan, 2.0, 1.0]),
    ],
)
def test_plink_phenotypes_round_trip_with_missing_values(tmp_path, labels, dtype, back):
    ds = to_dataset(np.array([[0, 1], [1, 2], [2, 0], [1, 1]]))
    ds["sample_phenotype"] = ("samples", np.array(labels, dtype=dtype))
    got = read_plink(write_plink(ds, tmp_path / "p"))["sample_phenotype"].values
    np.testing.assert_array_equal(got, np.array(back))


def test_write_plink_refuses_what_plink_would_misread(tmp_path):
    ds = to_dataset(np.array([[0, 1], [1, 2], [2, 0]]))
    ds["sample_phenotype"] = ("samples", np.array([0, 1, 2]))  # three classes, not 1/2 codes
    with pytest.raises(ValueError, match="case/control codes"):
        write_plink(ds, tmp_path / "p")
    ds = to_dataset(np.array([[0, 1], [1, 2]]), sample_ids=["a b", "c"])
    with pytest.raises(ValueError, match="whitespace"):
        write_plink(ds, tmp_path / "q")


def test_read_plink_holds_more_contigs_than_int16(tmp_path):
    # Scaffold assemblies can name more contigs than sgkit's int16 codes hold.
    n = 33_000
    bim = "".join(f"scaf{i}\tv{i}\t0\t1\tA\tG\n" for i in range(n))
    (tmp_path / "s.bim").write_text(bim)
    (tmp_path / "s.fam").write_text("f1 i1 0 0 0 -9\n")
    (tmp_path / "s.bed").write_bytes(bytes([0x6C, 0x1B, 0x01]) + bytes([0b11] * n))
    ds = read_plink(tmp_path / "s")
    contig = ds["variant_contig"].values
    assert contig.dtype == np.int32
    assert ds["contig_id"].values[contig[32_768]] == "scaf32768"

"""Phenotype and covariate tables: read by sample id, PLINK's missing coding, clear errors."""

import numpy as np
import pytest

from genosynth import read_covariates, read_phenotype
from genosynth.io import align_samples, read_plink, read_sample_table, to_dataset, write_plink


def write(tmp_path, text, name="table.txt"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_phenotype_is_matched_by_id_with_plink_coding(tmp_path):
    path = write(tmp_path, "FID IID status age\n0 c 2\t40\n0 a 1 50\n0 b -9 61\n")
    # Rows follow the genotype data's order; an id the table leaves out is missing.
    y = read_phenotype(path, ["a", "b", "c", "d"])
    np.testing.assert_array_equal(y, [0.0, np.nan, 1.0, np.nan])
    np.testing.assert_array_equal(
        read_phenotype(path, ["c", "a", "b"], column="age"), [40.0, 50.0, 61.0]
    )
    # A 0 in a 1/2 column is PLINK's missing value, and the reader says it read it so.
    path0 = write(tmp_path, "IID y\na 1\nb 2\nc 0\n", "zero.txt")
    with pytest.warns(UserWarning, match="reading 0 as missing"):
        np.testing.assert_array_equal(read_phenotype(path0, ["a", "b", "c"]), [0, 1, np.nan])
    # Already 0/1-coded labels and quantitative traits are read as they are.
    path01 = write(tmp_path, "IID y\na 0\nb 1\n", "01.txt")
    np.testing.assert_array_equal(read_phenotype(path01, ["a", "b"]), [0.0, 1.0])


def test_table_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="phenotype file not found"):
        read_phenotype(tmp_path / "none.txt", ["a"])
    with pytest.raises(ValueError, match="needs a header line with an IID column"):
        read_phenotype(write(tmp_path, "ID y\na 1\n"), ["a"])
    with pytest.raises(ValueError, match="not in the genotype data"):
        read_phenotype(write(tmp_path, "IID y\na 1\nz 2\n"), ["a"])
    with pytest.raises(ValueError, match="non-numeric values, e.g. \\['high'\\]"):
        read_phenotype(write(tmp_path, "IID y\na 1\nb high\n"), ["a", "b"])
    with pytest.raises(ValueError, match="more than once"):
        read_sample_table(write(tmp_path, "IID y\na 1\na 2\n"), "phenotype")
    with pytest.raises(ValueError, match="column 'bmi' not in"):
        read_phenotype(write(tmp_path, "IID y\na 1\n"), ["a"], column="bmi")
    with pytest.raises(ValueError, match="covariate file .* has non-numeric values"):
        read_covariates(write(tmp_path, "IID pc1\na x\n"), ["a"])
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(ValueError, match="not a text table"):
        read_phenotype(binary, ["a"])


def test_covariates_align_and_missing_is_nan(tmp_path):
    path = write(tmp_path, "IID age pc1\nb 61 -0.2\na 50 NA\n")
    X = read_covariates(path, ["a", "b", "c"])
    np.testing.assert_array_equal(X, [[50.0, np.nan], [61.0, -0.2], [np.nan, np.nan]])
    assert align_samples(read_sample_table(path), ["b", "a"]).index.tolist() == ["b", "a"]
    with pytest.raises(ValueError, match=r"1 sample id\(s\) in the sample file are not in"):
        align_samples(read_sample_table(path), ["b"])


def test_fam_and_table_share_plink_missing_coding(tmp_path):
    # A -9 written to a .fam by write_plink and a -9 in a table are both missing.
    G = np.array([[0, 1], [2, 1], [1, 0]])
    ds = to_dataset(G, np.array([1, -1, 0]), sample_ids=["a", "b", "c"])
    prefix = write_plink(ds, tmp_path / "cohort")
    fam = (tmp_path / "cohort.fam").read_text().split("\n")
    assert fam[1].split()[5] == "-9"
    pheno = read_plink(prefix)["sample_phenotype"].values.tolist()
    assert pheno == [1, -1, 0]
    table = write(tmp_path, "IID y\na 2\nb -9\nc 1\n")
    np.testing.assert_array_equal(read_phenotype(table, ["a", "b", "c"]), [1.0, np.nan, 0.0])


def test_complete_samples_keeps_phenotype_and_covariates():
    from genosynth import complete_samples

    keep, y = complete_samples([0.0, 1.0, np.nan, 1.0], [[1.0, 2.0], [np.nan, 0.0], [0, 0], [3, 4]])
    assert keep.tolist() == [True, False, False, True]
    assert y.tolist() == [0, 1] and y.dtype == np.int64  # case-control floats become classes
    keep, y = complete_samples([0.5, np.nan, 2.0])  # a trait stays float
    assert keep.tolist() == [True, False, True] and y.dtype == np.float64
    with pytest.raises(ValueError, match="no sample has a phenotype"):
        complete_samples([np.nan, np.nan])
    with pytest.raises(ValueError, match="complete covariates"):
        complete_samples([1.0, 0.0], [[np.nan], [np.nan]])

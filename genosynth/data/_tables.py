"""Per-sample tables beside the genotypes: phenotypes and covariates, PLINK style.

A sample table is whitespace separated with a header line naming an ``IID``
column (``FID`` optional, ``#FID``/``#IID`` accepted as plink2 writes them)
and one or more value columns, as ``plink2 --pheno`` and ``--covar`` read
them. Its rows are matched to the genotype data by sample id: a table may
list the samples in any order and leave some out (their values are then
missing), but an id the genotypes do not have is refused, since it usually
means the table belongs to other data.

Phenotype values follow PLINK's missing coding: ``-9``, ``NA`` and ``nan`` are
missing, and a column of 1s and 2s (with 0 allowed as missing) is PLINK's case-
control coding, read as 0 = control, 1 = case. Any other text is an error, never a
silent missing value.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

# PLINK's missing phenotype value, in .fam files and in phenotype tables alike.
PLINK_MISSING_PHENOTYPE = -9


def read_sample_table(path, what: str = "sample") -> pd.DataFrame:
    """Read a PLINK-style sample table, indexed by ``IID`` (as text), value columns only.

    Parameters
    ----------
    path : str or Path
        The table.
    what : str, default="sample"
        What the table holds ("phenotype", "covariate"), for error messages.

    Returns
    -------
    pandas.DataFrame
        One row per sample id, the value columns as read (not yet numeric).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If it is not a text table, has no ``IID`` column or no value column,
        or lists a sample id twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pheno.txt"
    >>> _ = path.write_text("FID IID height\\n1 a 1.7\\n2 b 1.6\\n")
    >>> read_sample_table(path, "phenotype")
        height
    IID
    a      1.7
    b      1.6
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} file not found: {path}")
    if not path.is_file():
        raise ValueError(f"{what} file {path} is not a file")
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    try:
        if b"\x00" in head:
            raise UnicodeDecodeError("utf-8", head, 0, 1, "NUL byte")
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.end < len(head) - 3:  # not just a multi-byte character cut at the 64 KB mark
            raise ValueError(
                f"{what} file {path} is not a text table (it holds bytes that are not UTF-8 "
                "text; is it a binary file?)"
            ) from None
    try:
        table = pd.read_csv(path, sep=r"\s+", dtype={"FID": str, "IID": str, "#FID": str})
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise ValueError(f"{what} file {path} cannot be read as a table ({exc})") from exc
    except UnicodeDecodeError:
        raise ValueError(
            f"{what} file {path} is not a text table (it holds bytes that are not UTF-8 text)"
        ) from None
    table = table.rename(columns={"#FID": "FID", "#IID": "IID"})
    if "IID" not in table.columns:
        raise ValueError(
            f"{what} file {path} needs a header line with an IID column "
            f"(found columns {list(table.columns)})"
        )
    value_columns = [c for c in table.columns if c not in ("FID", "IID")]
    if not value_columns:
        raise ValueError(f"{what} file {path} has no value column besides FID/IID")
    if table["IID"].duplicated().any():
        dup = table.loc[table["IID"].duplicated(), "IID"].head(3).tolist()
        raise ValueError(f"{what} file {path} lists sample ids more than once: {dup}")
    return table.set_index(table["IID"].astype(str))[value_columns]


def align_samples(table: pd.DataFrame, sample_ids, what: str = "sample") -> pd.DataFrame:
    """The rows of ``table`` in the order of ``sample_ids``; absent samples are missing (NaN).

    An id in the table that is not among ``sample_ids`` is refused
    (``ValueError``): it usually means the table belongs to other data.

    Examples
    --------
    >>> t = pd.DataFrame({"x": [1.0, 2.0]}, index=["b", "a"])
    >>> align_samples(t, ["a", "b", "c"])["x"].tolist()
    [2.0, 1.0, nan]
    """
    sample_ids = np.asarray(sample_ids).astype(str)
    unknown = table.index.difference(pd.Index(sample_ids))
    if len(unknown):
        raise ValueError(
            f"{len(unknown)} sample id(s) in the {what} file are not in the genotype data, "
            f"e.g. {unknown[:3].tolist()}"
        )
    return table.reindex(sample_ids)


def read_phenotype(path, sample_ids, *, column=None) -> np.ndarray:
    """One phenotype column of a sample table, in the order of ``sample_ids``.

    Parameters
    ----------
    path : str or Path
        A PLINK-style phenotype table (see the module notes).
    sample_ids : array-like of str
        The genotype data's sample ids (``ds["sample_id"]``).
    column : str, default=None
        The column to read; None reads the first value column.

    Returns
    -------
    ndarray of shape (n_samples,), float
        The phenotype, NaN where missing. A PLINK 1/2 case-control column
        comes back as 0.0 (control) / 1.0 (case); a 0 in such a column is
        missing (and a warning says so).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pheno.txt"
    >>> _ = path.write_text("IID status\\nb 2\\na 1\\nc -9\\n")
    >>> read_phenotype(path, ["a", "b", "c", "d"]).tolist()
    [0.0, 1.0, nan, nan]
    """
    table = align_samples(read_sample_table(path, "phenotype"), sample_ids, "phenotype")
    column = table.columns[0] if column is None else column
    if column not in table.columns:
        raise ValueError(f"phenotype column {column!r} not in {path} ({list(table.columns)})")
    values = pd.to_numeric(table[column], errors="coerce")
    # Blank-like entries (NA, nan) are missing; any other text is an error, not a silent NaN.
    text = table[column][values.isna() & table[column].notna()]
    if len(text):
        raise ValueError(
            f"phenotype column {column!r} of {path} has non-numeric values, "
            f"e.g. {text.unique()[:3].tolist()} (missing is {PLINK_MISSING_PHENOTYPE}, NA or nan)"
        )
    # A copy: for a float column pandas may hand back a read-only view.
    y = values.to_numpy(dtype=float, copy=True)
    y[y == PLINK_MISSING_PHENOTYPE] = np.nan
    found = set(np.unique(y[~np.isnan(y)]).tolist())
    if {1.0, 2.0} <= found <= {0.0, 1.0, 2.0}:  # PLINK's coding: 1 control, 2 case, 0 missing
        if 0.0 in found:
            warnings.warn(
                "phenotype coded 1 = control, 2 = case (PLINK): reading 0 as missing",
                UserWarning,
                stacklevel=2,
            )
            y[y == 0] = np.nan
        y = y - 1
    return y


def read_covariates(path, sample_ids) -> np.ndarray:
    """Every value column of a covariate table, in the order of ``sample_ids``.

    Returns an array (n_samples, n_covariates) of floats, NaN for samples
    the table leaves out or values written ``NA``; other text is refused.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "covar.txt"
    >>> _ = path.write_text("IID age pc1\\na 50 0.1\\nb 61 -0.2\\n")
    >>> read_covariates(path, ["b", "a"]).tolist()
    [[61.0, -0.2], [50.0, 0.1]]
    """
    table = align_samples(read_sample_table(path, "covariate"), sample_ids, "covariate")
    try:
        return table.apply(pd.to_numeric).to_numpy(dtype=float)
    except ValueError as exc:
        raise ValueError(f"covariate file {path} has non-numeric values ({exc})") from exc


def dataset_phenotype(ds) -> np.ndarray:
    """The Dataset's ``sample_phenotype`` as floats, NaN where missing.

    Binary labels as :func:`genosynth.io.read_plink` returns them (int8,
    -1 missing) become 0.0/1.0/NaN; a quantitative trait is returned as it is
    (NaN already marks its missing values).

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset({"sample_phenotype": ("samples", np.array([1, -1, 0], dtype=np.int8))})
    >>> dataset_phenotype(ds).tolist()
    [1.0, nan, 0.0]
    """
    if "sample_phenotype" not in ds:
        raise ValueError("the Dataset has no phenotype (sample_phenotype)")
    pheno = np.asarray(ds["sample_phenotype"].values)
    if pheno.dtype.kind == "f":
        return pheno.astype(float)
    return np.where(pheno < 0, np.nan, pheno.astype(float))


def complete_samples(phenotype, covariates=None) -> tuple[np.ndarray, np.ndarray]:
    """The samples a model can be fitted on, and their labels.

    A sample is kept when its phenotype is present and, when ``covariates``
    are given, every covariate is. Case-control phenotypes read as floats
    (0.0/1.0, as :func:`read_phenotype` and :func:`dataset_phenotype` return
    them) become integer class labels; any other trait stays as it is.

    Parameters
    ----------
    phenotype : array-like of shape (n_samples,)
        Phenotype values, NaN where missing.
    covariates : array-like of shape (n_samples, n_covariates), optional
        Covariate values, NaN where missing.

    Returns
    -------
    keep : ndarray of bool, shape (n_samples,)
        The complete samples.
    y : ndarray of shape (keep.sum(),)
        Their labels: int64 for a 0/1 phenotype, float otherwise.

    Raises
    ------
    ValueError
        When no sample is complete.

    Examples
    --------
    >>> keep, y = complete_samples([1.0, np.nan, 0.0], [[0.5], [0.1], [np.nan]])
    >>> keep.tolist(), y.tolist(), y.dtype.name
    ([True, False, False], [1], 'int64')
    """
    y = np.asarray(phenotype, dtype=float)
    keep = ~np.isnan(y)
    if covariates is not None:
        covariates = np.asarray(covariates, dtype=float).reshape(len(y), -1)
        keep &= ~np.isnan(covariates).any(axis=1)
    if not keep.any():
        if covariates is None:
            raise ValueError("no sample has a phenotype (all are missing: -9, NA or nan)")
        raise ValueError("no sample has both a phenotype and complete covariates")
    y = y[keep]
    if np.isin(y, (0, 1)).all():
        y = y.astype(np.int64)
    return keep, y

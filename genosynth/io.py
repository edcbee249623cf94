"""Build sgkit Datasets from dosages, and read/write PLINK 1 and Zarr through sgkit.

Orientation is preserved everywhere: dosages count ``variant_allele[:, 1]``,
the alternate allele. PLINK files follow plink2's convention: A1 (fifth
``.bim`` column) is ALT and A2 (sixth) is REF, so plink2 reports our alt
frequencies and tests our alt allele. sgkit's own PLINK reader and writer use
the opposite order ([A1, A2] as [ref, alt]); :func:`write_plink` and
:func:`read_plink` swap the alleles (the writer flips allele indices; the
reader decodes A1 counts straight from the ``.bed``) so that a round trip
array -> Dataset -> PLINK -> Dataset -> array is exact and files mean the
same thing to plink2 as to genosynth.

The label lives in the sample variable ``sample_phenotype``. Binary labels are
0 (control) / 1 (case) in genosynth; PLINK codes them 1 / 2 with -9 missing,
and :func:`write_plink` / :func:`read_plink` translate between the two.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from genosynth.data._atomic import atomic_output, atomic_outputs, plink_paths
from genosynth.data._genotypes import (
    ALT_COUNT,
    MISSING,
    VARIANT_COLUMNS,
    _dosage_to_calls,
    alt_count_variable,
    as_genotypes,
    check_labels,
    default_variants,
)
from genosynth.data._tables import (  # noqa: F401  (public here: io reads every input file)
    PLINK_MISSING_PHENOTYPE,
    align_samples,
    complete_samples,
    dataset_phenotype,
    read_covariates,
    read_phenotype,
    read_sample_table,
)

# Calls decoded per dask chunk by read_plink (whole samples, as many variants as fit).
_BED_CHUNK_BYTES = 64 * 2**20


def _check_variants(variants, n_variants: int) -> pd.DataFrame:
    if variants is None:
        return default_variants(n_variants)
    if not isinstance(variants, pd.DataFrame):
        raise TypeError(
            f"variants must be a pandas DataFrame with columns {VARIANT_COLUMNS}, "
            f"got {type(variants).__name__}"
        )
    missing = [c for c in VARIANT_COLUMNS if c not in variants.columns]
    if missing:
        raise ValueError(f"variants is missing the columns {missing}")
    if len(variants) != n_variants:
        raise ValueError(
            f"variants has {len(variants)} rows but the genotypes have {n_variants} variants"
        )
    return variants.reset_index(drop=True)


def to_dataset(G, y=None, variants=None, *, sample_prefix: str = "syn", sample_ids=None):
    """Build an sgkit Dataset from a dosage matrix.

    Parameters
    ----------
    G : array-like of shape (n_samples, n_variants)
        Alternate-allele dosages 0/1/2, -1 or NaN for missing.
    y : array-like of shape (n_samples,), optional
        Labels, stored as the sample variable ``sample_phenotype``.
    variants : pandas.DataFrame, optional
        Columns ``id, contig, position, ref, alt`` (e.g. a selector's
        ``selected_variants_``). Defaults to
        :func:`genosynth.data._genotypes.default_variants` (ids ``snp0..``, contig
        ``"1"``, positions ``1..n``, alleles ``A``/``B``), as for a model
        fitted on a plain array.
    sample_prefix : str, default="syn"
        Sample ids are ``f"{sample_prefix}{i}"`` unless ``sample_ids`` is given.
    sample_ids : array-like of str, optional
        Explicit sample ids.

    Returns
    -------
    xarray.Dataset
        Unphased ``call_genotype`` (a dosage of 1 is stored as ``[0, 1]``),
        ``call_genotype_mask``, ``variant_*``, ``contig_id``, ``sample_id`` and,
        when ``y`` is given, ``sample_phenotype``.

    Examples
    --------
    >>> import numpy as np
    >>> ds = to_dataset(np.array([[0, 1, 2], [2, -1, 0]]), y=[0, 1])
    >>> ds["call_genotype"].shape
    (3, 2, 2)
    >>> as_genotypes(ds)[0]
    array([[ 0,  1,  2],
           [ 2, -1,  0]], dtype=int8)
    """
    import sgkit

    G, _ = as_genotypes(G)
    n_samples, n_variants = G.shape
    variants = _check_variants(variants, n_variants)
    contig_names = list(pd.unique(variants["contig"].astype(str)))
    contig_codes = pd.Categorical(variants["contig"].astype(str), categories=contig_names).codes
    gt = _dosage_to_calls(G.T)
    if sample_ids is None:
        sample_ids = np.array([f"{sample_prefix}{i}" for i in range(n_samples)])
    sample_ids = np.asarray(sample_ids).astype(str)
    if sample_ids.shape != (n_samples,):
        raise ValueError(f"sample_ids must have {n_samples} entries, got {sample_ids.shape}")
    alleles = np.stack(
        [variants["ref"].astype(str).to_numpy(), variants["alt"].astype(str).to_numpy()], axis=1
    ).astype("S")
    ds = sgkit.create_genotype_call_dataset(
        variant_contig_names=contig_names,
        variant_contig=np.asarray(contig_codes, dtype=np.int64),
        variant_position=variants["position"].to_numpy(dtype=np.int64),
        variant_allele=alleles,
        sample_id=sample_ids,
        call_genotype=gt,
        variant_id=variants["id"].astype(str).to_numpy(),
    )
    if y is not None:
        y = check_labels(y, n_samples)
        ds["sample_phenotype"] = ("samples", y)
    return ds


def write_plink(ds, prefix, *, overwrite: bool = False) -> Path:
    """Write a Dataset to PLINK 1 ``prefix.{bed,bim,fam}`` through sgkit.

    Binary 0/1 ``sample_phenotype`` is written in PLINK's 1 (control) /
    2 (case) coding; other numeric phenotypes are written as they are, with
    -9 for missing. The three files are written under temporary names and
    renamed into place, so an interrupted write leaves no partial cohort.

    Parameters
    ----------
    ds : xarray.Dataset
        A Dataset with ``call_genotype`` (e.g. from :func:`to_dataset`).
    prefix : str or path-like
        Output path without extension.
    overwrite : bool, default=False
        Replace an existing ``.bed``/``.bim``/``.fam``; by default an
        existing one is refused (FileExistsError).

    Returns
    -------
    pathlib.Path
        The prefix written.

    Raises
    ------
    ValueError
        If sample ids, variant ids or alleles are empty or hold whitespace
        (PLINK's separator), or the labels cannot be written in PLINK's coding.
    FileExistsError
        If one of the files exists and ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> ds = to_dataset(np.array([[0, 1], [2, 1]]), y=[0, 1])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     prefix = write_plink(ds, f"{d}/cohort")
    ...     back = read_plink(prefix)
    ...     bool((as_genotypes(back)[0] == as_genotypes(ds)[0]).all())
    True
    """
    from sgkit.io.plink import write_plink as _sgkit_write_plink

    prefix = Path(prefix)
    if "call_genotype" not in ds:
        raise ValueError("write_plink needs 'call_genotype' (build one with to_dataset)")
    check_plink_text(
        sample_ids=np.asarray(ds["sample_id"].values) if "sample_id" in ds else None,
        variant_ids=np.asarray(ds["variant_id"].values) if "variant_id" in ds else None,
        alleles=np.asarray(ds["variant_allele"].values) if "variant_allele" in ds else None,
    )
    out = _swap_alleles(ds)
    if "sample_phenotype" in ds:
        coded = _fam_phenotype(np.asarray(ds["sample_phenotype"].values))
        out = out.assign(sample_phenotype=("samples", coded))
    # sgkit rejects variables it does not know how to write next to the PLINK ones.
    keep = [
        v
        for v in out.data_vars
        if v.startswith(("call_", "variant_", "sample_", "contig_")) and v != ALT_COUNT
    ]
    paths = plink_paths(prefix)
    with atomic_outputs(paths, overwrite=overwrite, what="PLINK file") as (bim, fam, bed):
        _sgkit_write_plink(out[keep], bed_path=str(bed), bim_path=str(bim), fam_path=str(fam))
    return prefix


def _as_text(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype.kind == "S":
        return np.char.decode(values, "utf-8", errors="replace")
    return values.astype(str)


def check_plink_text(*, sample_ids=None, variant_ids=None, alleles=None) -> None:
    """Refuse ids and alleles that a PLINK reader would split or lose.

    PLINK's ``.bim`` and ``.fam`` are whitespace-separated: an id or allele
    that is empty or holds a space shifts every later column, and neither
    :func:`read_plink` nor plink2 can read the file back.

    Examples
    --------
    >>> check_plink_text(alleles=np.array([["A", "C"], ["G", ""]]))
    Traceback (most recent call last):
    ...
    ValueError: variant_allele values must be non-empty and free of whitespace ...
    """
    for name, values in (
        ("sample_id", sample_ids),
        ("variant_id", variant_ids),
        ("variant_allele", alleles),
    ):
        if values is None:
            continue
        text = _as_text(values).ravel()
        bad = [v for v in text if not v or any(c.isspace() for c in v)]
        if bad:
            raise ValueError(
                f"{name} values must be non-empty and free of whitespace in PLINK files, "
                f"got {bad[:3]}"
            )


def _swap_alleles(ds):
    """Exchange allele 0 and allele 1: sgkit's PLINK order <-> plink2's (A1 = ALT)."""
    gt = ds["call_genotype"]
    flipped = gt.where(gt < 0, 1 - gt).astype(gt.dtype)
    return ds.assign(call_genotype=flipped, variant_allele=ds["variant_allele"][:, ::-1].copy())


def _int_for(n_codes: int):
    return np.int16 if n_codes <= np.iinfo(np.int16).max else np.int32


def _fam_phenotype(y: np.ndarray) -> np.ndarray:
    """Labels -> the ``.fam`` column that :func:`read_plink` reads back as the same labels.

    0/1 labels become PLINK's 1 (control) / 2 (case); missing (NaN, or -1 in
    the int8 labels ``read_plink`` returns) becomes -9. Anything else is
    written as a value, unless PLINK would take it for case/control codes.
    """
    values = y.astype(np.float64)
    missing = np.isnan(values)
    observed = set(np.unique(values[~missing]).tolist())
    if y.dtype.kind in "iu" and observed - {-1.0} <= {0.0, 1.0}:
        missing |= values == -1
        observed -= {-1.0}
    if not observed:
        return np.full(len(values), PLINK_MISSING_PHENOTYPE, dtype=np.int64)
    if observed <= {0.0, 1.0}:
        return np.where(missing, PLINK_MISSING_PHENOTYPE, np.where(values == 1, 2, 1))
    if observed - {0.0} <= {1.0, 2.0}:
        raise ValueError(
            f"sample_phenotype holds {sorted(observed)}, which PLINK reads as case/control codes "
            "(1 control, 2 case, 0 missing); recode the labels or write Zarr (save_zarr)"
        )
    return np.where(missing, PLINK_MISSING_PHENOTYPE, values)


def _missing_calls(dosage: np.ndarray) -> np.ndarray:
    """``call_genotype_mask`` of :func:`_dosage_to_calls` without reading the calls."""
    return np.repeat((dosage < 0)[..., None], 2, axis=-1)


def _lazy_bed_calls(bed_path: Path, n_file_samples: int, n_variants: int, rows=None):
    """``call_genotype`` and its mask, (variants, samples, 2) dask arrays decoded by bed_reader,
    and the dosages (variants, samples) they derive from.

    ``rows`` (int positions in the ``.fam``) keeps only those samples, in that order.

    bed_reader counts A1 straight into int8 (``count_A1=True``), which is our
    alternate allele. Calls and mask are both derived from the same dosage
    chunk, so computing them together reads each chunk once. (sgkit's reader
    builds each chunk through int64 temporaries and in the opposite allele
    order, which then has to be flipped; benchmarks/README.md, "GWAS
    selection", has runs before and after the switch.)
    """
    import dask
    import dask.array as da
    from bed_reader import open_bed

    n_samples = n_file_samples if rows is None else len(rows)
    sample_index = slice(None) if rows is None else rows
    # Whole samples per chunk: the association scan streams blocks of variants.
    step = max(1, min(n_variants, _BED_CHUNK_BYTES // max(1, 2 * n_samples)))

    def load(start: int, stop: int) -> np.ndarray:
        with open_bed(
            bed_path, count_A1=True, iid_count=n_file_samples, sid_count=n_variants, num_threads=1
        ) as bed:
            # Fortran order = the .bed's variant-major layout, so dosage.T is
            # C-contiguous (variants, samples): the conversions stream through memory.
            index = np.s_[sample_index, start:stop]
            dosage = bed.read(index=index, dtype=np.int8, order="F").T
        return np.maximum(dosage, MISSING, out=dosage)  # bed_reader's missing is -127

    if n_variants == 0:
        empty = da.zeros((0, n_samples, 2), dtype=np.int8)
        return empty, empty.astype(bool), da.zeros((0, n_samples), dtype=np.int8)
    dosage = da.concatenate(
        [
            da.from_delayed(
                dask.delayed(load)(start, min(start + step, n_variants)),
                shape=(min(start + step, n_variants) - start, n_samples),
                dtype=np.int8,
            )
            for start in range(0, n_variants, step)
        ],
        axis=0,
    )
    calls = dosage.map_blocks(
        _dosage_to_calls, new_axis=2, chunks=dosage.chunks + ((2,),), dtype=np.int8
    )
    mask = dosage.map_blocks(_missing_calls, new_axis=2, chunks=dosage.chunks + ((2,),), dtype=bool)
    return calls, mask, dosage


_FAM_COLUMNS = ("family_id", "member_id", "paternal_id", "maternal_id", "sex", "phenotype")
_BIM_COLUMNS = ("contig", "variant_id", "cm_position", "position", "a1", "a2")


def _read_plink_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """A whitespace-separated ``.bim``/``.fam`` as strings, checking the column count."""
    try:
        table = pd.read_csv(path, sep=r"\s+", header=None, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        table = pd.DataFrame(columns=range(len(columns)))
    except pd.errors.ParserError as err:
        raise ValueError(f"{path} is not a valid PLINK file: {err}") from None
    if table.shape[1] != len(columns):
        raise ValueError(
            f"{path} has {table.shape[1]} columns, a PLINK {path.suffix} file has "
            f"{len(columns)} ({', '.join(columns)})"
        )
    table.columns = list(columns)
    return table


def _bim_positions(column: pd.Series, path: Path) -> np.ndarray:
    """The ``.bim`` base-pair positions as int32 (sgkit's dtype), refusing what it cannot hold."""
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna() | (values != values.round())
    if bad.any():
        raise ValueError(
            f"{path}: the fourth column (position) must be integers, got "
            f"{column[bad].head(3).tolist()}"
        )
    values = values.to_numpy(dtype=np.float64)
    limit = np.iinfo(np.int32).max
    outside = (values < 0) | (values > limit)
    if outside.any():
        raise ValueError(
            f"{path}: positions must lie in [0, {limit}] (0 = unknown); found "
            f"{values[outside][:3].astype(np.int64).tolist()}"
        )
    return values.astype(np.int32)


def _plink_phenotype(values: pd.Series, binary: bool | None, path: Path) -> np.ndarray:
    """``.fam`` phenotypes: 1/2 case-control -> int8 0/1 (-1 missing), else float (NaN missing)."""
    pheno = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    missing = np.isnan(pheno) | (pheno == PLINK_MISSING_PHENOTYPE)
    observed = pheno[~missing & (pheno != 0)]
    if binary is None:
        binary = observed.size > 0 and set(np.unique(observed).tolist()) <= {1.0, 2.0}
    if binary:
        bad = ~missing & ~np.isin(pheno, (0, 1, 2))
        if bad.any():
            raise ValueError(
                f"{path}: binary phenotypes must be 1 (control), 2 (case), 0 or -9 (missing); "
                f"found {np.unique(pheno[bad])[:5].tolist()}"
            )
        return np.where(pheno == 2, 1, np.where(pheno == 1, 0, -1)).astype(np.int8)
    return np.where(missing, np.nan, pheno)


def _sample_rows(samples, n: int, path: Path) -> np.ndarray | None:
    """``read_plink(samples=...)`` as int positions into the ``.fam`` (None = all)."""
    if samples is None:
        return None
    samples = np.asarray(samples)
    if samples.dtype == bool:
        if samples.shape != (n,):
            raise ValueError(
                f"a boolean samples mask needs {n} entries ({path}), got {samples.shape}"
            )
        return np.flatnonzero(samples)
    if samples.ndim != 1 or samples.dtype.kind not in "iu":
        raise TypeError("samples must be integer positions or a boolean mask over the .fam rows")
    if samples.size and (samples.min() < 0 or samples.max() >= n):
        raise ValueError(f"sample positions must lie in [0, {n}) for {path}")
    return samples.astype(np.intp)


def read_plink(prefix, *, samples=None, binary_phenotype: bool | None = None):
    """Read PLINK 1 ``prefix.{bed,bim,fam}`` lazily (dask-backed) as an sgkit Dataset.

    The ``.bim`` and ``.fam`` tables are parsed with pandas; the calls are
    decoded chunk by chunk with ``bed_reader`` only when computed, so a cohort
    larger than memory can be streamed (e.g. by :class:`GWASSelector`). The
    Dataset has the variables of ``sgkit.io.plink.read_plink`` (with the
    alleles in our [ref, alt] = [A2, A1] order), and ``call_alt_count``:
    the lazy alternate-allele counts (variants, samples; int8, -1 missing)
    that ``call_genotype`` is derived from, which genosynth reads instead of
    the calls while the calls are unchanged (:func:`save_zarr` leaves it out).

    Parameters
    ----------
    prefix : str or path-like
        Path without extension.
    samples : array-like of int or bool, optional
        Read only these individuals (positions in the ``.fam``, or a mask),
        e.g. the training split. Prefer this to ``ds.isel(samples=...)`` on
        a large cohort: it keeps the fast path that reads the ``.bed``'s
        dosages directly (an ``isel`` Dataset decodes the calls instead).
    binary_phenotype : bool, optional
        Whether the ``.fam`` phenotype is PLINK's 1/2 case-control coding
        (translated to int8 0/1, with 0 and -9 as missing = -1). Otherwise it
        is read as a float with -9 and non-numbers as NaN. ``None`` decides
        from the values: all in {1, 2, 0, -9} means binary.

    Returns
    -------
    xarray.Dataset
        Lazy sgkit Dataset; ``variant_allele[:, 1]`` is A1 (plink2's ALT),
        the allele the dosages count.

    Examples
    --------
    See :func:`write_plink`.
    """
    import xarray as xr

    prefix = Path(prefix)
    paths = {}
    for ext in ("bed", "bim", "fam"):
        paths[ext] = prefix.with_name(prefix.name + f".{ext}")
        if not paths[ext].exists():
            raise FileNotFoundError(f"PLINK file not found: {paths[ext]}")
    bim = _read_plink_table(paths["bim"], _BIM_COLUMNS)
    fam = _read_plink_table(paths["fam"], _FAM_COLUMNS)
    position = _bim_positions(bim["position"], paths["bim"])
    rows = _sample_rows(samples, len(fam), paths["fam"])
    gt, mask, dosage = _lazy_bed_calls(paths["bed"], len(fam), len(bim), rows)
    if rows is not None:
        fam = fam.iloc[rows].reset_index(drop=True)
    # Contigs are numbered in order of first appearance, as sgkit does.
    contig_code, contig_names = pd.factorize(bim["contig"])
    contig_names = np.asarray(contig_names, dtype=str)

    def pedigree(column):  # PLINK's "0" is sgkit's "." (missing)
        values = fam[column].to_numpy(dtype=str)
        return np.where(values == "0", ".", values)

    sex = pd.to_numeric(fam["sex"], errors="coerce").to_numpy()
    call_dims = ("variants", "samples", "ploidy")
    ds = xr.Dataset(
        {
            "contig_id": ("contigs", contig_names),
            # int16 as sgkit's reader, unless there are more contigs (scaffolds) than it holds.
            "variant_contig": ("variants", contig_code.astype(_int_for(len(contig_names)))),
            "variant_position": ("variants", position),
            # ours are [ref, alt] = [A2, A1]
            "variant_allele": (
                ("variants", "alleles"),
                np.stack([bim["a2"].to_numpy(dtype=str), bim["a1"].to_numpy(dtype=str)], 1).astype(
                    "S"
                ),
            ),
            "sample_id": ("samples", fam["member_id"].to_numpy(dtype=str)),
            "call_genotype": (call_dims, gt, {"mixed_ploidy": False}),
            "call_genotype_mask": (call_dims, mask),
            ALT_COUNT: alt_count_variable(dosage, gt, mask),
            "variant_id": ("variants", bim["variant_id"].to_numpy(dtype=str)),
            "sample_family_id": ("samples", pedigree("family_id")),
            "sample_member_id": ("samples", fam["member_id"].to_numpy(dtype=str)),
            "sample_paternal_id": ("samples", pedigree("paternal_id")),
            "sample_maternal_id": ("samples", pedigree("maternal_id")),
            "sample_sex": ("samples", np.where(np.isin(sex, (1, 2)), sex, -1).astype(np.int8)),
            "sample_phenotype": (
                "samples",
                _plink_phenotype(fam["phenotype"], binary_phenotype, paths["fam"]),
            ),
        },
        attrs={"contigs": contig_names.tolist(), "source": f"genosynth-{package_version()}"},
    )
    return ds


def package_version() -> str:
    """genosynth's version, as written into the files it produces (Datasets, model files)."""
    from genosynth import __version__

    return __version__


def save_zarr(ds, path, *, overwrite: bool = False) -> Path:
    """Save a Dataset to a Zarr store through sgkit.

    The store is written under a temporary name and renamed into place.

    Parameters
    ----------
    ds : xarray.Dataset
    path : str or path-like
    overwrite : bool, default=False
        Replace an existing store; by default it is refused (FileExistsError).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> ds = to_dataset(np.array([[0, 1], [2, 1]]))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     back = load_zarr(save_zarr(ds, f"{d}/cohort.zarr"))
    ...     back["call_genotype"].shape
    (2, 2, 2)
    """
    import sgkit

    path = Path(path)
    # read_plink's dosages behind its calls are derived data: not stored twice.
    ds = ds.drop_vars(ALT_COUNT, errors="ignore")
    with atomic_output(path, overwrite=overwrite, what="Zarr store", store=True) as tmp:
        sgkit.save_dataset(ds, str(tmp))
    return path


_ZARR_MARKERS = (".zgroup", "zarr.json")


def load_zarr(path):
    """Load a Dataset saved with :func:`save_zarr` (lazily, dask-backed).

    Raises
    ------
    FileNotFoundError
        If nothing exists at ``path``.
    ValueError
        If ``path`` exists but is not a Zarr store (a file, or a directory
        without Zarr metadata).
    """
    import sgkit

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Zarr store not found: {path}")
    if not path.is_dir() or not any((path / m).exists() for m in _ZARR_MARKERS):
        what = "a file" if not path.is_dir() else "a directory without Zarr metadata"
        raise ValueError(f"{path} is not a Zarr store ({what}); save one with save_zarr")
    return sgkit.load_dataset(str(path))

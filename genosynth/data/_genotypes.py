"""The genotype data layer: every supported input becomes an int8 dosage matrix.

Convention used everywhere in genosynth: a dosage counts copies of the
*alternate* allele, ``variant_allele[:, 1]`` in an sgkit Dataset. Dosages are
``int8`` of shape ``(n_samples, n_variants)`` with values 0, 1, 2 and ``-1``
for a missing call.

Supported inputs
----------------
* an sgkit :class:`xarray.Dataset` with ``call_genotype`` (variants, samples,
  ploidy=2; negative allele index = missing; ``call_genotype_mask`` honoured);
* an sgkit Dataset with only ``call_dosage`` (variants, samples; float, NaN
  missing);
* a numpy or dask array ``(n_samples, n_variants)`` of 0/1/2 with -1 or NaN
  for missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

MISSING = -1
VARIANT_COLUMNS = ("id", "contig", "position", "ref", "alt")

_GENOTYPE_DIMS = ("variants", "samples", "ploidy")
_DOSAGE_DIMS = ("variants", "samples")


def _is_dataset(X) -> bool:
    # Imported lazily so that pure-array users never pay for xarray's import.
    try:
        import xarray as xr
    except ImportError:  # pragma: no cover - xarray is a hard dependency
        return False
    return isinstance(X, xr.Dataset)


def _is_dask(X) -> bool:
    return type(X).__module__.startswith("dask.")


def _genotype_variable(ds) -> str:
    if "call_genotype" in ds:
        return "call_genotype"
    if "call_dosage" in ds:
        return "call_dosage"
    raise ValueError(
        "the Dataset has neither 'call_genotype' nor 'call_dosage': one of them is required "
        f"(variables present: {sorted(ds.data_vars)})"
    )


def _check_dataset_layout(ds) -> str:
    var = _genotype_variable(ds)
    dims = tuple(ds[var].dims)
    expected = _GENOTYPE_DIMS if var == "call_genotype" else _DOSAGE_DIMS
    if dims != expected:
        raise ValueError(f"'{var}' must have dimensions {expected}, got {dims}")
    if var == "call_genotype":
        ploidy = ds.sizes["ploidy"]
        if ploidy != 2:
            raise ValueError(f"only diploid genotypes are supported, got ploidy={ploidy}")
    if ds.sizes["variants"] == 0 or ds.sizes["samples"] == 0:
        raise ValueError(
            f"empty genotype data: {ds.sizes['samples']} samples x {ds.sizes['variants']} variants"
        )
    return var


def shape_of(X) -> tuple[int, int]:
    """Return ``(n_samples, n_variants)`` of any supported input without loading it."""
    if _is_dataset(X):
        _check_dataset_layout(X)
        return int(X.sizes["samples"]), int(X.sizes["variants"])
    arr = X if _is_dask(X) or isinstance(X, np.ndarray) else np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(
            f"genotypes must be a 2-D array (n_samples, n_variants), got {arr.ndim}-D "
            f"with shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"empty genotype data: shape {arr.shape}")
    return int(arr.shape[0]), int(arr.shape[1])


def _byte_pairs() -> np.ndarray:
    """Every 16-bit pattern as its two int8 bytes in memory order, (65536, 2) int16."""
    return np.arange(2**16, dtype=np.uint16).view(np.int8).reshape(-1, 2).astype(np.int16)


def _pair_table() -> np.ndarray:
    """Dosage of each pair of int8 allele indices, read as one uint16.

    Lookup tables let a (variants, samples, 2) int8 block be converted in one
    gather over a (variants, samples) uint16 view, instead of several passes
    over the two allele planes.
    ``_INVALID`` marks an allele index above 1.
    """
    pairs = _byte_pairs()
    a, b = pairs[:, 0], pairs[:, 1]
    dosage = np.where((a < 0) | (b < 0), MISSING, a + b)
    return np.where((a > 1) | (b > 1), _INVALID, dosage).astype(np.int8)


def _calls_table() -> np.ndarray:
    """Unphased allele-index pair of each int8 dosage byte, as uint16 (256,)."""
    dosage = np.arange(256, dtype=np.uint8).view(np.int8)
    calls = np.empty((256, 2), dtype=np.int8)
    calls[:, 0] = dosage == 2
    calls[:, 1] = dosage >= 1
    calls[dosage < 0] = MISSING
    return calls.view(np.uint16).ravel()


_INVALID = 3
_PAIR_TO_DOSAGE = _pair_table()
_DOSAGE_TO_CALLS = _calls_table()


def _dosage_to_calls(dosage: np.ndarray) -> np.ndarray:
    """(variants, samples) alt dosages, negative = missing -> unphased allele indices (..., 2).

    A dosage of 1 becomes ``[0, 1]``; any negative value becomes ``[-1, -1]``.
    """
    # C order: the gathered pairs then have the layout the int8 view needs.
    dosage = np.ascontiguousarray(dosage, dtype=np.int8)
    pairs = _DOSAGE_TO_CALLS[dosage.view(np.uint8)]
    return pairs.view(np.int8).reshape(dosage.shape + (2,))


def _call_genotype_to_dosage(gt: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """(variants, samples, 2) allele indices -> (samples, variants) alt-allele counts."""
    gt = np.asarray(gt)
    if not np.issubdtype(gt.dtype, np.integer):
        raise TypeError(f"'call_genotype' must hold integer allele indices, got dtype {gt.dtype}")
    if gt.dtype != np.int8:
        if gt.size and gt.max(initial=0) > 1:
            _raise_allele_index(int(gt.max()))
        # Any negative index is missing; the remaining values are 0 or 1.
        gt = np.maximum(gt, MISSING).astype(np.int8)
    pairs = np.ascontiguousarray(gt).view(np.uint16)[..., 0]
    if mask is not None:
        # A masked allele byte becomes 0xFF (= -1, missing) before the lookup.
        masked = np.ascontiguousarray(mask, dtype=bool).view(np.uint16)[..., 0]
        pairs = pairs | (masked * np.uint16(0xFF))
    dosage = _PAIR_TO_DOSAGE[pairs]
    if dosage.size and dosage.max() == _INVALID:
        _raise_allele_index(int(gt.max()))
    return np.ascontiguousarray(dosage.T)


def _raise_allele_index(index: int):
    raise ValueError(
        f"'call_genotype' holds allele index {index}: "
        "only biallelic variants (allele indices 0 and 1) are supported"
    )


def _float_to_dosage(x: np.ndarray, what: str, allow_rounding: bool) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    missing = np.isnan(x)
    finite = x[~missing]
    if finite.size:
        lo, hi = finite.min(), finite.max()
        if lo < 0 or hi > 2:
            raise ValueError(f"{what} must lie within [0, 2] (NaN = missing); found [{lo}, {hi}]")
        if not allow_rounding and not np.all(finite == np.round(finite)):
            raise ValueError(
                f"{what} holds non-integral dosages; genosynth models hard calls. "
                "Pass allow_rounding=True to round them to the nearest genotype."
            )
    out = np.full(x.shape, MISSING, dtype=np.int8)
    out[~missing] = np.rint(finite).astype(np.int8)
    return out


def _array_to_dosage(X, allow_rounding: bool) -> np.ndarray:
    arr = np.asarray(X)
    if arr.dtype == bool or arr.dtype.kind in "OUSV":
        raise TypeError(
            f"genotypes must be numeric dosages 0/1/2 (-1 or NaN = missing), got dtype {arr.dtype}"
        )
    if arr.dtype.kind == "f":
        x = arr.astype(np.float64, copy=True)
        x[x == MISSING] = np.nan
        return _float_to_dosage(x, "genotype dosages", allow_rounding)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"unsupported genotype dtype {arr.dtype}")
    # Integers in [-1, 2] are exactly the allowed codes: a min/max scan avoids
    # the full-size boolean temporaries of np.isin on biobank-sized blocks.
    if arr.size and (arr.min() < MISSING or arr.max() > 2):
        bad = (arr < MISSING) | (arr > 2)
        if bad.any():
            values = np.unique(arr[bad])[:5].tolist()
            raise ValueError(
                f"genotypes must be 0, 1, 2 or -1 (missing); found {values} "
                f"in {int(bad.sum())} cells"
            )
    return arr.astype(np.int8, copy=False)


# A reader that builds ``call_genotype`` from dosages (read_plink) keeps those dosages in
# the Dataset as ``call_alt_count`` (variants, samples; int8, -1 missing), with the dask
# names of the calls and mask derived from them in its ``derived_from`` attribute. The data
# layer then reads the dosages directly instead of expanding them into calls and back, which
# was most of what a Dataset input cost over an array (benchmarks/README.md, "GWAS
# selection", third run). Dask names are content tokens, so a match means exactly these
# calls; any change to the calls (subsetting samples, rechunking, editing) gives new names
# and the ordinary path.
ALT_COUNT = "call_alt_count"


def alt_count_variable(dosage, calls, mask):
    """The ``call_alt_count`` variable of lazy ``dosage`` (variants, samples) int8, -1
    missing, from which the dask arrays ``calls`` and ``mask`` were derived."""
    return (
        ("variants", "samples"),
        dosage,
        {
            "derived_from": [calls.name, mask.name],
            "comment": "alternate-allele count per call, -1 missing; the source of call_genotype",
        },
    )


def _direct_dosage(ds):
    """(samples, variants) lazy dosages behind the Dataset's very calls, else None."""
    if ALT_COUNT not in ds or "call_genotype" not in ds or "call_genotype_mask" not in ds:
        return None
    calls, mask = ds["call_genotype"].data, ds["call_genotype_mask"].data
    if not (_is_dask(calls) and _is_dask(mask)):
        return None
    if list(ds[ALT_COUNT].attrs.get("derived_from", ())) != [calls.name, mask.name]:
        return None
    return ds[ALT_COUNT].data.T


def _dataset_block(ds, var: str, sl: slice, allow_rounding: bool) -> np.ndarray:
    direct = _direct_dosage(ds)
    if direct is not None:
        return np.ascontiguousarray(direct[:, sl].compute())
    if var == "call_genotype":
        names = [var] + (["call_genotype_mask"] if "call_genotype_mask" in ds else [])
        # One compute for calls and mask: with a lazy reader (sgkit's PLINK
        # reader derives the mask from the calls) the block is decoded once.
        sub = ds[names].isel(variants=sl).compute()
        mask = sub["call_genotype_mask"].values if len(names) == 2 else None
        return _call_genotype_to_dosage(sub[var].values, mask)
    block = ds[var][sl]
    return np.ascontiguousarray(_float_to_dosage(block.values, "'call_dosage'", allow_rounding).T)


def as_genotypes(X, *, allow_rounding: bool = False) -> tuple[np.ndarray, pd.DataFrame | None]:
    """Convert any supported genotype input to dosages and variant metadata.

    Parameters
    ----------
    X : xarray.Dataset or array-like of shape (n_samples, n_variants)
        An sgkit Dataset (``call_genotype`` or ``call_dosage``) or an array of
        alternate-allele dosages 0/1/2 with -1 or NaN for missing calls.
    allow_rounding : bool, default=False
        Round non-integral dosages to the nearest genotype instead of raising.

    Returns
    -------
    G : ndarray of shape (n_samples, n_variants), dtype int8
        Alternate-allele dosages, -1 where the call is missing.
    variants : pandas.DataFrame or None
        One row per variant with columns ``id, contig, position, ref, alt``
        when ``X`` is a Dataset; None for a bare array.

    Examples
    --------
    >>> import numpy as np
    >>> G, variants = as_genotypes(np.array([[0, 1], [2, np.nan]]))
    >>> G
    array([[ 0,  1],
           [ 2, -1]], dtype=int8)
    >>> variants is None
    True
    """
    shape_of(X)
    if _is_dataset(X):
        var = _check_dataset_layout(X)
        G = _dataset_block(X, var, slice(None), allow_rounding)
        return G, variant_table(X)
    return _array_to_dosage(X, allow_rounding), None


def iter_variant_blocks(
    X, block_size: int = 4096, *, allow_rounding: bool = False
) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield ``(variant_slice, dosages)`` blocks without materialising ``X`` whole.

    Lazy (dask-backed) Datasets and dask arrays are computed one block of
    variants at a time, the next block being read in a background thread
    while the caller works on the current one; peak memory is bounded by two
    blocks, whatever the cohort size.

    Parameters
    ----------
    X : xarray.Dataset or array-like of shape (n_samples, n_variants)
        Any input accepted by :func:`as_genotypes`.
    block_size : int, default=4096
        Number of variants per block.
    allow_rounding : bool, default=False
        See :func:`as_genotypes`.

    Yields
    ------
    variant_slice : slice
        The variants covered by this block.
    G_block : ndarray of shape (n_samples, stop - start), dtype int8

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((3, 5), dtype=np.int8)
    >>> [(s.start, s.stop, g.shape) for s, g in iter_variant_blocks(X, block_size=2)]
    [(0, 2, (3, 2)), (2, 4, (3, 2)), (4, 5, (3, 1))]
    """
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    _, n_variants = shape_of(X)
    slices = [
        slice(start, min(start + block_size, n_variants))
        for start in range(0, n_variants, block_size)
    ]
    if _is_dataset(X):
        var = _check_dataset_layout(X)
        lazy = _is_dask(X[var].data)

        def load(sl):
            return _dataset_block(X, var, sl, allow_rounding)

    else:
        arr = X if _is_dask(X) or isinstance(X, np.ndarray) else np.asarray(X)
        lazy = _is_dask(arr)

        def load(sl):
            block = arr[:, sl]
            return _array_to_dosage(block.compute() if lazy else block, allow_rounding)

    if not lazy or len(slices) < 2:
        for sl in slices:
            yield sl, load(sl)
        return
    # Read and decode the next block in a background thread while the caller
    # works on this one: decoding (bed_reader, numpy gathers) releases the GIL,
    # so reading overlaps with the caller's matrix products.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(load, slices[0])
        for i, sl in enumerate(slices):
            block = pending.result()
            if i + 1 < len(slices):
                pending = pool.submit(load, slices[i + 1])
            yield sl, block


def _decode(values) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype.kind == "S":
        try:  # numpy's ASCII cast is much faster than np.char.decode
            return values.astype(str).astype(object)
        except UnicodeDecodeError:
            return np.char.decode(values, "utf-8").astype(object)
    return values.astype(str).astype(object)


def variant_table(ds) -> pd.DataFrame:
    """Variant metadata of an sgkit Dataset as a DataFrame.

    Columns are ``id, contig, position, ref, alt``; ``alt`` is
    ``variant_allele[:, 1]``, the allele that dosages count. Missing metadata
    is filled with a documented default: ids ``"{contig}:{position}"`` when
    ``variant_id`` is absent, positions ``0..n-1`` when ``variant_position`` is
    absent, alleles ``"A"``/``"B"`` when ``variant_allele`` is absent.

    Examples
    --------
    >>> import sgkit
    >>> ds = sgkit.simulate_genotype_call_dataset(n_variant=2, n_sample=3, seed=0)
    >>> variant_table(ds).columns.tolist()
    ['id', 'contig', 'position', 'ref', 'alt']
    """
    n = int(ds.sizes["variants"])
    if "variant_position" in ds:
        position = np.asarray(ds["variant_position"].values, dtype=np.int64)
    else:
        position = np.arange(n, dtype=np.int64)
    if "variant_contig" in ds:
        codes = np.asarray(ds["variant_contig"].values)
        if "contig_id" in ds:
            names = _decode(ds["contig_id"].values)
        else:
            names = np.asarray(ds.attrs.get("contigs", []), dtype=object)
        contig = names[codes] if len(names) else _decode(codes)
    else:
        contig = np.full(n, "1", dtype=object)
    if "variant_allele" in ds:
        alleles = _decode(ds["variant_allele"].values)
        ref, alt = alleles[:, 0], alleles[:, 1]
    else:
        ref, alt = np.full(n, "A", dtype=object), np.full(n, "B", dtype=object)
    if "variant_id" in ds:
        ids = _decode(ds["variant_id"].values)
    else:
        ids = np.array([f"{c}:{p}" for c, p in zip(contig, position)], dtype=object)
    return pd.DataFrame({"id": ids, "contig": contig, "position": position, "ref": ref, "alt": alt})


def require_calls(G: np.ndarray, who: str) -> None:
    """Refuse dosages in which every call is missing: nothing can be learned from them.

    Examples
    --------
    >>> require_calls(np.full((2, 3), -1, dtype=np.int8), "fit")
    Traceback (most recent call last):
    ...
    ValueError: fit: every genotype call is missing (-1 / NaN); there is nothing to learn from
    """
    if not (np.asarray(G) >= 0).any():
        raise ValueError(
            f"{who}: every genotype call is missing (-1 / NaN); there is nothing to learn from"
        )


def default_variants(n_variants: int) -> pd.DataFrame:
    """The variant table of data that carry none (a plain array): one default everywhere.

    Ids ``snp0, snp1, ...``, contig ``"1"``, positions ``1..n`` (1-based, as
    in VCF and PLINK, where 0 means an unknown position) and alleles
    ``A``/``B`` (dosages count ``B``). Used by :class:`GWASSelector` for
    arrays and by :func:`genosynth.io.to_dataset` without ``variants``, so a
    model fitted on an array and the Datasets it samples agree.

    Examples
    --------
    >>> default_variants(2)
         id contig  position ref alt
    0  snp0      1         1   A   B
    1  snp1      1         2   A   B
    """
    return pd.DataFrame(
        {
            "id": np.array([f"snp{i}" for i in range(n_variants)], dtype=object),
            "contig": np.full(n_variants, "1", dtype=object),
            "position": np.arange(1, n_variants + 1, dtype=np.int64),
            "ref": np.full(n_variants, "A", dtype=object),
            "alt": np.full(n_variants, "B", dtype=object),
        }
    )


def check_labels(
    y, n_samples: int | None = None, *, name: str = "y", rows: str = "genotypes"
) -> np.ndarray:
    """Validate a label vector: 1-D, finite, and one entry per sample.

    ``rows`` names what ``n_samples`` counts, for the error message.

    Examples
    --------
    >>> check_labels([0, 1, 1], n_samples=3)
    array([0, 1, 1])
    """
    if y is None:
        raise ValueError(f"{name} is required")
    if _is_dataset(y):
        raise TypeError(f"{name} must be array-like, got a Dataset")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {y.shape}")
    if n_samples is not None and y.shape[0] != n_samples:
        raise ValueError(f"{name} has {y.shape[0]} entries but the {rows} have {n_samples} samples")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {y.dtype}")
    return y

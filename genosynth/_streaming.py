"""Sampling large synthetic cohorts to PLINK or Zarr in chunks, with bounded memory.

``pipe.sample(n)`` holds the whole cohort (and its noise and latents) in
memory. A million individuals on 1,024 SNPs is a gigabyte of dosages before
the sgkit Dataset doubles it; here the cohort is drawn ``chunk_size``
individuals at a time and each chunk is written out before the next is
drawn, so memory is bounded by one chunk whatever ``n_samples`` is.

Chunks are seeded from ``random_state`` (one seed per chunk), so a streamed
cohort is reproducible for a given ``random_state`` and ``chunk_size``. A
cohort that fits in one chunk is drawn with ``random_state`` itself: it is
exactly ``pipe.sample_dataset(n_samples, random_state=...)``.

The ``.bed`` is written directly (variant-major, 2 bits per genotype, as
PLINK 1 defines it): each chunk of individuals fills a contiguous run of
bytes in every variant's row. Every output goes through
:mod:`genosynth.data._atomic`: a temporary file renamed into place at the end.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_selection import SelectorMixin
from sklearn.utils import check_random_state

from genosynth.data._atomic import (
    atomic_output,
    atomic_outputs,
    check_free_space,
    format_bytes,
    plink_paths,
)
from genosynth.data._genotypes import default_variants
from genosynth.stats._diversity import count_duplicates, row_hashes, warn_if_collapsed

# Individuals per chunk, a multiple of 4 (whole .bed bytes). Sampling needs far
# more than the dosages per row (latents, decoder outputs, the label model's
# proposals: ~75 KB a row at 1,024 SNPs), so chunks stay small: 2,048 rows peak
# at about 0.6 GB of RSS with torch loaded (benchmarks/README.md).
DEFAULT_CHUNK_SIZE = 2048
_BED_MAGIC = bytes([0x6C, 0x1B, 0x01])  # PLINK 1 .bed, variant-major
# 2-bit .bed code of each dosage + 1 (missing, 0, 1, 2 ALT copies); A1 is ALT:
# 00 = two A1, 10 = heterozygous, 11 = two A2, 01 = missing.
_BED_CODE = np.array([0b01, 0b11, 0b10, 0b00], dtype=np.uint8)
# Bytes per (individual x SNP) an in-memory sample needs beyond the output:
# the sgkit Dataset's calls and mask (4 bytes) on top of the int8 dosages.
_DATASET_BYTES_PER_CALL = 5
_COLLAPSE_MESSAGE = ".*synthetic individuals are identical to another"
# Rows whose hashes are kept for the collapse check: enough to see a repeat
# rate, and bounded (8 MB) whatever the cohort size.
_MAX_HASHED_ROWS = 1_000_000


def _panel(pipe):
    """(selector or None, number of panel variants or None) of a fitted pipeline."""
    selector = next((s for _, s in pipe.steps[:-1] if isinstance(s, SelectorMixin)), None)
    if selector is not None:
        return selector, int(np.count_nonzero(selector.get_support()))
    for _, step in reversed(pipe.steps[:-1]):
        if hasattr(step, "n_features_in_"):
            return None, int(step.n_features_in_)
    return None, None


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def check_fits_in_memory(pipe, n_rows: int, *, dataset: bool = False) -> None:
    """Refuse an in-memory sample larger than the memory available, naming its size.

    Parameters
    ----------
    pipe : sklearn.pipeline.Pipeline
        The fitted generative pipeline.
    n_rows : int
        Individuals requested.
    dataset : bool, default=False
        Whether an sgkit Dataset is built too (``sample_dataset``).

    Raises
    ------
    MemoryError
        With the bytes needed and available, pointing at chunked writing.
    """
    _, n_variants = _panel(pipe)
    n_latent = int(getattr(pipe._final_estimator, "n_features_in_", 0))
    if n_variants is None:
        return
    # Dosages, plus noise, latents and their decoded copy (float32) per row.
    per_row = n_variants * (1 + (_DATASET_BYTES_PER_CALL if dataset else 0)) + 12 * n_latent
    need = int(n_rows) * per_row
    available = _available_memory()
    if available is not None and need > available:
        raise MemoryError(
            f"sampling {n_rows} individuals x {n_variants} SNPs in memory needs about "
            f"{format_bytes(need)}, and {format_bytes(available)} is available; write the "
            "cohort in chunks instead: pipe.sample_dataset(n, out=PATH) or `genosynth sample`"
        )


def _chunk_bounds(n: int, chunk_size: int) -> list[tuple[int, int]]:
    return [(start, min(start + chunk_size, n)) for start in range(0, n, chunk_size)]


def _chunk_seeds(random_state, n_chunks: int) -> list:
    if n_chunks == 1:  # one chunk: exactly the in-memory sample of this random_state
        return [random_state]
    rng = check_random_state(random_state)
    return [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=n_chunks)]


def _chunk_labels(y, start: int, stop: int):
    if y is None or np.ndim(y) == 0:
        return y
    return np.asarray(y)[start:stop]


def _check_chunk_size(chunk_size) -> int:
    if chunk_size is None:
        return DEFAULT_CHUNK_SIZE
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer):
        raise ValueError(f"chunk_size must be a positive multiple of 4, got {chunk_size!r}")
    if chunk_size < 4 or chunk_size % 4:
        raise ValueError(f"chunk_size must be a positive multiple of 4, got {chunk_size}")
    return int(chunk_size)


def iter_sample_chunks(
    pipe, n_samples, *, y=None, random_state=None, chunk_size=None, **sample_params
):
    """Yield ``(start, G, y)`` chunks of a synthetic cohort, ``chunk_size`` rows at a time.

    At the end a single warning is given if the rows repeat one another
    (see :mod:`genosynth.stats._diversity`; counted on the first million rows),
    instead of one per chunk.

    Examples
    --------
    See :func:`write_samples`.
    """
    from genosynth.data._labels import requested
    from genosynth.pipeline import sample_genotypes

    chunk_size = _check_chunk_size(chunk_size)
    n, _ = requested(n_samples, y)
    bounds = _chunk_bounds(n, chunk_size)
    hashes = np.empty(min(n, _MAX_HASHED_ROWS), dtype=np.uint64)
    selector, n_variants = _panel(pipe)
    for (start, stop), seed in zip(bounds, _chunk_seeds(random_state, len(bounds))):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_COLLAPSE_MESSAGE, category=UserWarning)
            G, y_out = sample_genotypes(
                pipe,
                stop - start,
                y=_chunk_labels(y, start, stop),
                random_state=seed,
                **sample_params,
            )
        if start < len(hashes):
            hashes[start:stop] = row_hashes(G[: len(hashes) - start])
        yield start, G, y_out
    maf = None
    if selector is not None and hasattr(selector, "maf_"):
        maf = np.asarray(selector.maf_)[selector.get_support()]
    warn_if_collapsed(count_duplicates(hashes), n_variants or 0, maf, stacklevel=2)


def _pack_bed(G: np.ndarray) -> np.ndarray:
    """(n, L) int8 dosages -> (L, ceil(n / 4)) uint8 ``.bed`` bytes (individual 0 lowest bits)."""
    n, L = G.shape
    codes = _BED_CODE[G.astype(np.int16) + 1]
    pad = (-n) % 4
    if pad:  # the unused bits of a variant's last byte are zero
        codes = np.concatenate([codes, np.zeros((pad, L), dtype=np.uint8)])
    quads = codes.reshape(-1, 4, L)
    packed = quads[:, 0] | (quads[:, 1] << 2) | (quads[:, 2] << 4) | (quads[:, 3] << 6)
    return np.ascontiguousarray(packed.T)


def _bim_text(variants: pd.DataFrame) -> str:
    # A1 (fifth column) is ALT, A2 REF: plink2's convention, as genosynth.io.write_plink.
    rows = zip(
        variants["contig"].astype(str),
        variants["id"].astype(str),
        variants["position"].astype(np.int64),
        variants["alt"].astype(str),
        variants["ref"].astype(str),
    )
    return "".join(f"{c}\t{i}\t0\t{p}\t{a1}\t{a2}\n" for c, i, p, a1, a2 in rows)


def _fam_coder(pipe):
    """Chunk labels -> ``.fam`` phenotypes, coded as write_plink would code the whole cohort.

    write_plink decides the coding (PLINK's 1/2 case-control or values) from
    the labels it sees; a chunk may hold only controls, so the decision is
    made on every label the model can produce (its classes, or the range of
    its trait) along with the chunk's.
    """
    from genosynth.data._labels import has_continuous_label
    from genosynth.io import _fam_phenotype

    final = pipe._final_estimator
    if has_continuous_label(final) and hasattr(final, "label_quantiles_"):
        reference = np.asarray(final.label_quantiles_)[[0, -1]].astype(np.float64)
    elif hasattr(final, "classes_"):
        reference = np.asarray(final.classes_)
    else:
        reference = None

    def code(y: np.ndarray) -> np.ndarray:
        if reference is None or y.size == 0:
            return _fam_phenotype(y)
        both = np.concatenate([reference.astype(np.result_type(reference, y)), y])
        return _fam_phenotype(both)[len(reference) :]

    return code


def _write_plink_chunks(chunks, prefix, n: int, variants, sample_prefix, overwrite, code) -> Path:
    from genosynth.io import check_plink_text

    bim_path, fam_path, bed_path = plink_paths(prefix)
    n_variants = len(variants)
    check_plink_text(
        variant_ids=variants["id"].astype(str).to_numpy(),
        alleles=variants[["ref", "alt"]].astype(str).to_numpy(),
        sample_ids=np.array([sample_prefix + "0"]),
    )
    row_bytes = (n + 3) // 4
    check_free_space(bed_path.parent, len(_BED_MAGIC) + n_variants * row_bytes, "the .bed file")
    with atomic_outputs([bim_path, fam_path, bed_path], overwrite=overwrite, what="PLINK file") as (
        tmp_bim,
        tmp_fam,
        tmp_bed,
    ):
        tmp_bim.write_text(_bim_text(variants))
        fd = os.open(tmp_bed, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        fam = open(tmp_fam, "w")
        try:
            os.write(fd, _BED_MAGIC)
            os.ftruncate(fd, len(_BED_MAGIC) + n_variants * row_bytes)
            for start, G, y_chunk in chunks:
                if G.shape[1] != n_variants:
                    raise ValueError(
                        f"the pipeline sampled {G.shape[1]} variants, its panel has {n_variants}"
                    )
                packed = _pack_bed(G)
                offset = len(_BED_MAGIC) + start // 4
                for j in range(n_variants):
                    os.pwrite(fd, packed[j].tobytes(), offset + j * row_bytes)
                pheno = code(np.asarray(y_chunk)).tolist()
                # Family id 0 (none), as genosynth.io.write_plink writes it.
                fam.write(
                    "".join(
                        f"0\t{sample_prefix}{start + i}\t0\t0\t0\t{_fam_value(v)}\n"
                        for i, v in enumerate(pheno)
                    )
                )
        finally:
            os.close(fd)
            fam.close()
    return Path(prefix)


def _fam_value(value) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _write_zarr_chunks(chunks, path, n, variants, sample_prefix, chunk_size, overwrite) -> Path:
    import sgkit

    from genosynth.io import to_dataset

    # A Zarr store compresses: below about one bit per genotype is not to be expected.
    check_free_space(Path(path).parent, n * len(variants) // 8, "the Zarr store (about)")
    width = None
    with atomic_output(path, overwrite=overwrite, what="Zarr store", store=True) as tmp:
        for start, G, y_chunk in chunks:
            ids = [f"{sample_prefix}{i}" for i in range(start, start + len(G))]
            # One string width for every chunk: Zarr appends need one dtype.
            width = width or len(f"{sample_prefix}{n - 1}")
            ids = np.array(ids, dtype=f"<U{width}")
            ds = to_dataset(G, y=y_chunk, variants=variants, sample_ids=ids)
            per_sample = [v for v in ds.data_vars if "samples" in ds[v].dims]
            # Zarr chunks of whole sampling chunks: each append fills its own chunks.
            ds = ds.assign({v: ds[v].chunk({"samples": chunk_size}) for v in per_sample})
            if start == 0:
                sgkit.save_dataset(ds, str(tmp))
            else:
                sgkit.save_dataset(ds[per_sample], str(tmp), mode="a", append_dim="samples")
    return Path(path)


def write_samples(
    pipe,
    n_samples,
    path,
    *,
    format="plink",
    y=None,
    random_state=None,
    chunk_size=None,
    overwrite=False,
    sample_prefix="syn",
    **sample_params,
) -> Path:
    """Sample a synthetic cohort chunk by chunk straight into PLINK or Zarr.

    Parameters
    ----------
    pipe : sklearn.pipeline.Pipeline
        A fitted generative pipeline (see :func:`genosynth.sample_genotypes`).
    n_samples : int
        Number of individuals (ignored when ``y`` is an array).
    path : str or path-like
        PLINK prefix (``format="plink"``) or Zarr store path.
    format : {"plink", "zarr"}, default="plink"
    y : None, scalar or array-like, default=None
        Labels, as in :func:`genosynth.sample_genotypes`.
    random_state : int, RandomState instance or None
        Seeds the chunks; see the module notes on reproducibility.
    chunk_size : int, optional
        Individuals per chunk, a multiple of 4 (default 2,048).
    overwrite : bool, default=False
        Replace existing outputs instead of refusing them.
    sample_prefix : str, default="syn"
        Sample ids are ``f"{sample_prefix}{i}"``.
    **sample_params
        Passed to the final step's ``sample``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> from genosynth import GenerativePipeline, GWASSelector
    >>> from genosynth.baselines import AlleleFrequencySampler
    >>> from genosynth.io import read_plink
    >>> from genosynth.datasets import simulate_case_control
    >>> ds = simulate_case_control(200, n_variants=50, n_causal=5, random_state=0)
    >>> pipe = GenerativePipeline([("gwas", GWASSelector(n_snps=10)),
    ...                            ("af", AlleleFrequencySampler())])
    >>> pipe = pipe.fit(ds, ds["sample_phenotype"].values)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     prefix = write_samples(pipe, 1000, f"{d}/syn", chunk_size=256, random_state=0)
    ...     dict(read_plink(prefix).sizes)["samples"]
    1000
    """
    if format not in ("plink", "zarr"):
        raise ValueError(f"format must be 'plink' or 'zarr', got {format!r}")
    chunk_size = _check_chunk_size(chunk_size)
    from genosynth.data._labels import requested

    n, _ = requested(n_samples, y)
    selector, n_variants = _panel(pipe)
    variants = getattr(selector, "selected_variants_", None)
    if variants is None and n_variants is not None:
        variants = default_variants(n_variants)
    chunks = iter_sample_chunks(
        pipe, n, y=y, random_state=random_state, chunk_size=chunk_size, **sample_params
    )
    if format == "plink":
        code = _fam_coder(pipe)
        return _write_plink_chunks(chunks, path, n, variants, sample_prefix, overwrite, code)
    return _write_zarr_chunks(chunks, path, n, variants, sample_prefix, chunk_size, overwrite)

"""The public scan: :func:`association_scan` and its table of results."""

from __future__ import annotations

import numpy as np
import pandas as pd

from genosynth.association._constants import RESULT_COLUMNS, TEST_NAMES
from genosynth.association._null_model import null_model
from genosynth.association._scan import ScanResult, refine_candidates, scan
from genosynth.data._genotypes import shape_of
from genosynth.stats._genetics import minor_allele_frequency
from genosynth.stats._pvalues import p_from_neglog10

__all__ = ["association_scan"]


def results_frame(result: ScanResult) -> pd.DataFrame:
    """The scan as a DataFrame with :data:`RESULT_COLUMNS`, one row per variant."""
    frame = result.variants.reset_index(drop=True).copy()
    frame["maf"] = result.maf
    frame["n_obs"] = result.n_obs
    frame["missing_rate"] = result.missing_rate
    frame["beta"] = result.beta
    frame["se"] = result.se
    frame["stat"] = result.stat
    frame["p"] = p_from_neglog10(result.neglog10p)
    frame["test"] = TEST_NAMES[result.test]
    return frame[list(RESULT_COLUMNS)]


def association_scan(
    X,
    y,
    covariates=None,
    *,
    test="auto",
    refine="all",
    maf_min=0.0,
    block_size=None,
):
    """Test every variant for association with a trait, streaming the genotypes.

    Parameters
    ----------
    X : xarray.Dataset or array-like of shape (n_samples, n_variants)
        Genotypes in any form :func:`genosynth.as_genotypes` accepts; lazy
        (dask-backed) Datasets are read one block of variants at a time.
    y : array-like of shape (n_samples,)
        The trait: two distinct values make it binary (the larger is the
        case), more make it continuous (see ``test``).
    covariates : array-like of shape (n_samples, n_covariates), optional
        Adjustment variables (ancestry PCs, sex, age). No NaN allowed; an
        intercept is always added.
    test : {"auto", "logistic", "linear"}, default="auto"
        The model. ``"auto"`` picks logistic for two-valued ``y``, linear
        otherwise.
    refine : "all", int or None, default="all"
        Binary traits only: ``"all"`` fits the full logistic model (Wald,
        Firth fallback) for every variant; an int ``k`` ranks all variants by
        the score test and fits the ``k`` best; ``None`` reports score tests
        only. Linear traits always get exact OLS t-tests.
    maf_min : float, default=0.0
        Variants with a lower minor allele frequency (over called samples) are
        not tested: their ``beta, se, stat, p`` are NaN.
    block_size : int, optional
        Variants per streamed block. Default: the dask chunk size along
        variants for lazy inputs, else about 64 MB of int8 dosages.

    Returns
    -------
    pandas.DataFrame
        One row per variant, in input order, with columns ``id, contig,
        position, ref, alt`` (for arrays: ``"snp{i}"``, ``"1"``, ``i + 1``, ``"A"``,
        ``"B"``), ``maf``, ``n_obs`` (called samples used), ``missing_rate``,
        ``beta`` (per copy of ``alt``; log-odds for binary traits), ``se``,
        ``stat`` (z for score/Wald/Firth, t for OLS), ``p`` (two-sided) and
        ``test`` (``"score"``, ``"wald"``, ``"firth"`` or ``"ols"``).
        Monomorphic variants have ``stat = 0``, ``p = 1`` and NaN ``beta``/``se``.

    Raises
    ------
    ValueError
        If ``y`` has one value or the wrong length, covariates hold NaN or are
        collinear, or a parameter is out of range.

    See Also
    --------
    genosynth.GWASSelector : selects the panel from such a scan, with QC.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> G = rng.binomial(2, 0.3, size=(500, 4))
    >>> y = (rng.random(500) < 0.2 + 0.15 * G[:, 0]).astype(int)
    >>> res = association_scan(G, y)
    >>> res[["id", "beta", "p", "test"]].round(4).head(2)
         id    beta       p  test
    0  snp0  0.6598  0.0000  wald
    1  snp1 -0.0299  0.8393  wald
    """
    return results_frame(_scan_result(X, y, covariates, test, refine, maf_min, block_size))


def _scan_result(X, y, covariates, test, refine, maf_min, block_size) -> ScanResult:
    """:func:`association_scan` before its DataFrame: keeps -log10 p, exact where p underflows."""
    n, L = shape_of(X)
    if not (isinstance(maf_min, int | float | np.floating) and 0.0 <= maf_min <= 0.5):
        raise ValueError(f"maf_min must be a number in [0, 0.5], got {maf_min!r}")
    if block_size is not None and (
        isinstance(block_size, bool)
        or not isinstance(block_size, int | np.integer)
        or block_size < 1
    ):
        raise ValueError(f"block_size must be a positive integer or None, got {block_size!r}")
    if refine not in ("all", None) and (
        isinstance(refine, bool) or not isinstance(refine, int | np.integer) or refine < 0
    ):
        raise ValueError(f"refine must be 'all', None or a non-negative int, got {refine!r}")
    model = null_model(y, covariates, test, n)
    capacity = 0
    if model.kind == "logistic" and refine not in ("all", None):
        capacity = int(refine) if model.k > 1 else 0
    result = scan(
        X,
        model,
        block_size=block_size,
        refine_in_block=(refine == "all"),
        capacity=capacity,
        eligible=(lambda bs, hwe: _maf_ok(bs.counts, maf_min)) if maf_min > 0 else None,
    )
    if model.kind == "logistic" and refine not in ("all", None) and int(refine) > 0:
        if model.k > 1:
            index, G = result.candidates.ranked()
        else:
            ok = result.testable & _maf_ok(result.counts, maf_min)
            ok &= np.isfinite(result.neglog10p)
            cand = np.flatnonzero(ok)
            order = np.lexsort((cand, -result.neglog10p[cand]))
            index, G = cand[order[: int(refine)]], None
        refine_candidates(result, model, index, G)
    if maf_min > 0:
        low = ~_maf_ok(result.counts, maf_min)
        for arr in (result.beta, result.se, result.stat, result.neglog10p):
            arr[low] = np.nan
    return result


def _maf_ok(counts: np.ndarray, maf_min: float) -> np.ndarray:
    n = counts[:, :3].sum(axis=1)
    return (n > 0) & (minor_allele_frequency(counts) >= maf_min)

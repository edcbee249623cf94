"""GWAS-guided SNP selection: the first stage of the generative pipeline.

:class:`GWASSelector` is a scikit-learn feature selector whose score function
is a genome-wide association scan (:mod:`genosynth.association`), run on the
individuals it is fitted on only, so that held-out individuals never
influence the panel.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context
from sklearn.feature_selection import SelectorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from genosynth.association import (
    TEST_NAMES,
    check_covariates,
    default_variants,
    gather_columns,
    null_model,
    refine_candidates,
    scan,
)
from genosynth.data._genotypes import (
    VARIANT_COLUMNS,
    _is_dask,
    _is_dataset,
    as_genotypes,
    shape_of,
    variant_table,
)
from genosynth.stats._clumping import GreedyClumper
from genosynth.stats._genetics import minor_allele_frequency
from genosynth.stats._pvalues import p_from_neglog10

__all__ = ["GWASSelector"]

# Candidates kept per panel slot when their rank may still change (score-ranked
# logistic scans with covariates) or when clumping will discard some of them.
_CANDIDATES_PER_SNP = 4


def _above_max_missing(n_missing: np.ndarray, max_missing: float, n: int) -> np.ndarray:
    """Missing rate above ``max_missing``, with a rate exactly on it passing.

    ``0.29 * 100`` is 28.999999999999996 in floating point, so the count is
    compared with the product up to a relative tolerance of 1e-12.
    """
    return n_missing > max_missing * n * (1 + 1e-12)


def _dataset_covariates(ds, names) -> np.ndarray:
    """Stack the named sample variables of a Dataset into an (n_samples, c) matrix."""
    columns = []
    for name in names:
        if name not in ds:
            raise ValueError(
                f"covariate {name!r} is not a variable of the Dataset "
                f"(sample variables: {sorted(v for v in ds.data_vars if 'samples' in ds[v].dims)})"
            )
        var = ds[name]
        if not var.dims or var.dims[0] != "samples" or var.ndim > 2:
            raise ValueError(
                f"covariate {name!r} must have dimensions ('samples',) or ('samples', k), "
                f"got {var.dims}"
            )
        values = np.asarray(var.values, dtype=np.float64)
        columns.append(values[:, None] if values.ndim == 1 else values)
    return np.concatenate(columns, axis=1)


def _resolve_covariates(X, covariates, n_samples):
    if covariates is None:
        return None
    if isinstance(covariates, str):
        covariates = [covariates]
    if (
        isinstance(covariates, list | tuple)
        and covariates
        and all(isinstance(c, str) for c in covariates)
    ):
        if not _is_dataset(X):
            raise TypeError(
                "covariates given as variable names need X to be an sgkit Dataset; "
                "pass an array of shape (n_samples, n_covariates) instead"
            )
        covariates = _dataset_covariates(X, covariates)
    return check_covariates(covariates, n_samples)


class GWASSelector(SelectorMixin, BaseEstimator):
    """Select the SNPs most associated with a trait, after QC, in genomic order.

    ``fit`` runs a genome-wide association scan on the samples it is given
    (streaming lazy Datasets block by block), filters variants by minor
    allele frequency, call rate and optionally Hardy-Weinberg equilibrium,
    ranks the rest by p-value (ties: earlier variant first) and keeps the
    ``n_snps`` best, optionally LD-clumped. ``transform`` returns their
    genotypes, in input (genomic) order, as an ``int8`` panel.

    Binary traits are tested by logistic regression: a score test ranks every
    variant with matrix products, then the best candidates (``4 * n_snps``)
    are refitted by maximum likelihood (Wald test; Firth regression when the
    genotype separates cases from controls or the fit diverges, as plink2's
    ``--glm firth-fallback``). Without covariates the full fit is exact and
    cheap for every variant (it only needs the 2 x 3 genotype table).
    Continuous traits get exact OLS t-tests. See :mod:`genosynth.association`.

    Parameters
    ----------
    n_snps : int, default=1024
        Size of the panel.
    test : {"auto", "logistic", "linear"}, default="auto"
        Association model; ``"auto"`` uses logistic for a two-valued ``y``.
    p_threshold : float, optional
        Only variants with ``p <= p_threshold`` may be selected; the panel is
        then smaller than ``n_snps`` (with a warning) if too few qualify.
    maf_min : float, default=0.01
        Minimum minor allele frequency (over called samples). Monomorphic
        variants are never selected, whatever this value.
    max_missing : float, default=0.05
        Maximum fraction of missing calls of a variant.
    hwe_p_min : float, optional
        Drop variants whose exact Hardy-Weinberg test (in controls for binary
        traits, in everyone otherwise) has ``p < hwe_p_min``, as plink
        ``--hwe``.
    clump : bool, default=False
        Greedy LD clumping while filling the panel, as PLINK ``--clump``: a
        variant is skipped when an already selected, more significant variant
        on the same contig within ``clump_kb`` has ``r^2 >= clump_r2`` with it.
    clump_r2 : float, default=0.5
        r^2 threshold of clumping: PLINK 1.9's haplotype r^2, estimated by EM
        from the genotypes of jointly called samples.
    clump_kb : float, default=250
        Clumping window radius in kilobases.
    block_size : int, optional
        Variants per streamed block; default follows the dask chunks of lazy
        inputs, else about 64 MB of ``int8`` per block.
    output : {"dosages", "dataset"}, default="dosages"
        What ``transform`` hands on: the panel's dosages, or the input
        Dataset restricted to the panel (calls with their phase, variant
        positions), which :class:`~genosynth.baselines.HaplotypeMosaic`
        needs and dosages have lost. ``"dataset"`` needs Dataset input.

    Attributes
    ----------
    n_features_in_ : int
        Number of variants seen in ``fit``.
    test_ : str
        ``"logistic"`` or ``"linear"``: the model used.
    pvalues_ : ndarray of shape (n_features_in_,)
        Two-sided p-values (NaN where a variant could not be tested).
    scores_ : ndarray of shape (n_features_in_,)
        ``-log10(p)``, computed in log space: finite even when ``p``
        underflows to 0. Ranking uses these.
    betas_ : ndarray of shape (n_features_in_,)
        Effect per copy of the alternate allele (log-odds for binary traits).
    stderr_ : ndarray of shape (n_features_in_,)
        Standard errors of ``betas_``.
    n_obs_ : ndarray of shape (n_features_in_,)
        Called samples per variant.
    maf_ : ndarray of shape (n_features_in_,)
        Minor allele frequency per variant.
    qc_pass_ : ndarray of shape (n_features_in_,), bool
        Whether the variant passed QC (MAF, missingness, HWE, polymorphic).
    results_ : pandas.DataFrame
        One row per variant: ``id, contig, position, ref, alt, maf, beta, se,
        stat, p, test, selected`` (``test`` says which test produced the
        row: ``"score"``, ``"wald"``, ``"firth"`` or ``"ols"``).
    selected_variants_ : pandas.DataFrame
        ``id, contig, position, ref, alt`` of the panel, in genomic order.

    See Also
    --------
    genosynth.association.association_scan : the scan alone, as a DataFrame.

    Examples
    --------
    >>> from genosynth import GWASSelector
    >>> from genosynth.datasets import simulate_case_control
    >>> ds = simulate_case_control(400, n_variants=300, n_causal=10, random_state=0)
    >>> sel = GWASSelector(n_snps=16).fit(ds, ds["sample_phenotype"].values)
    >>> sel.transform(ds).shape
    (400, 16)
    >>> sel.results_.columns.tolist()[:5]
    ['id', 'contig', 'position', 'ref', 'alt']
    >>> panel = sel.selected_variants_  # in genomic order
    >>> bool(panel.groupby("contig")["position"].apply(lambda p: p.is_monotonic_increasing).all())
    True
    """

    _parameter_constraints: dict = {
        "n_snps": [Interval(Integral, 1, None, closed="left")],
        "test": [StrOptions({"auto", "logistic", "linear"})],
        "p_threshold": [Interval(Real, 0, 1, closed="right"), None],
        "maf_min": [Interval(Real, 0, 0.5, closed="both")],
        "max_missing": [Interval(Real, 0, 1, closed="both")],
        "hwe_p_min": [Interval(Real, 0, 1, closed="both"), None],
        "clump": ["boolean"],
        "clump_r2": [Interval(Real, 0, 1, closed="both")],
        "clump_kb": [Interval(Real, 0, None, closed="left")],
        "block_size": [Interval(Integral, 1, None, closed="left"), None],
        "output": [StrOptions({"dosages", "dataset"})],
    }

    def __init__(
        self,
        n_snps=1024,
        *,
        test="auto",
        p_threshold=None,
        maf_min=0.01,
        max_missing=0.05,
        hwe_p_min=None,
        clump=False,
        clump_r2=0.5,
        clump_kb=250,
        block_size=None,
        output="dosages",
    ):
        self.n_snps = n_snps
        self.test = test
        self.p_threshold = p_threshold
        self.maf_min = maf_min
        self.max_missing = max_missing
        self.hwe_p_min = hwe_p_min
        self.clump = clump
        self.clump_r2 = clump_r2
        self.clump_kb = clump_kb
        self.block_size = block_size
        self.output = output

    # ----------------------------------------------------------------------------------
    # fitting
    # ----------------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, covariates=None):
        """Run the association scan on ``(X, y)`` and select the panel.

        Parameters
        ----------
        X : xarray.Dataset or array-like of shape (n_samples, n_variants)
            Genotypes (see :func:`genosynth.as_genotypes`).
        y : array-like of shape (n_samples,)
            The trait.
        covariates : array-like of shape (n_samples, n_covariates) or list of str, optional
            Adjustment covariates, or names of sample variables of the
            Dataset ``X`` (1-D, or 2-D such as ``sample_pca_projection``).

        Returns
        -------
        self : GWASSelector
        """
        self._fit(X, y, covariates)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, covariates=None):
        """Fit, then return the panel of ``X`` without reading ``X`` a second time.

        Returns
        -------
        ndarray of shape (n_samples, n_selected), dtype int8, or xarray.Dataset
            Alternate-allele dosages of the selected variants, -1 missing;
            with ``output="dataset"``, ``X`` restricted to them.
        """
        self._check_output_input(X)
        panel = self._fit(X, y, covariates)
        if self.output == "dataset":
            return X.isel(variants=np.flatnonzero(self._get_support_mask()))
        return panel

    def _check_output_input(self, X) -> None:
        if self.output == "dataset" and not _is_dataset(X):
            raise ValueError(
                f"output='dataset' hands on the panel of an sgkit Dataset, but X is a "
                f"{type(X).__name__}; pass a Dataset or use output='dosages'"
            )

    def _fit(self, X, y, covariates) -> np.ndarray:
        if y is None:
            raise ValueError(
                "GWASSelector requires y to be passed, but the target y is None: the "
                "association scan needs the trait"
            )
        n, L = shape_of(X)
        cov = _resolve_covariates(X, covariates, n)
        model = null_model(y, cov, self.test, n)
        # Candidates' ranks are final when every variant got its definitive test in
        # the scan; otherwise (score-ranked logistic with covariates) keep 4 x n_snps.
        final_in_scan = model.kind == "linear" or model.k == 1
        per_snp = 1 if final_in_scan and not self.clump else _CANDIDATES_PER_SNP
        capacity = min(L, per_snp * self.n_snps)
        hwe_rows = None
        if self.hwe_p_min is not None:
            hwe_rows = np.flatnonzero(model.y == 0) if model.kind == "logistic" else np.arange(n)

        def eligible(bs, hwe):
            return self._qc(bs.counts, bs.testable, hwe, n)

        result = scan(
            X,
            model,
            block_size=self.block_size,
            refine_in_block=(model.kind == "logistic" and model.k == 1),
            eligible=eligible,
            capacity=capacity,
            hwe_rows=hwe_rows,
        )
        qc = self._qc(result.counts, result.testable, result.hwe_p, n)
        self._check_enough(qc, result, n)

        index, G = result.candidates.ranked()
        refine_candidates(result, model, index, G)
        chosen, panel = self._choose(X, result, model, qc, index, G)

        order = np.argsort(chosen, kind="stable")
        chosen, panel = chosen[order], panel[:, order]
        self._set_fitted(result, qc, chosen, model.kind)
        return panel

    def _qc(self, counts, testable, hwe, n) -> np.ndarray:
        maf = minor_allele_frequency(counts)
        ok = testable & (maf > 0) & (maf >= self.maf_min)
        ok &= ~_above_max_missing(counts[:, 3], self.max_missing, n)
        if self.hwe_p_min is not None and hwe is not None:
            ok &= ~(hwe < self.hwe_p_min)
        return ok

    def _check_enough(self, qc, result, n) -> None:
        n_pass = int(qc.sum())
        if n_pass >= self.n_snps:
            return
        maf = result.maf
        parts = [
            f"{int((~result.testable | ~(maf > 0)).sum())} monomorphic or untestable",
            f"{int((maf < self.maf_min).sum())} with MAF < {self.maf_min}",
            f"{int(_above_max_missing(result.counts[:, 3], self.max_missing, n).sum())} "
            "with missing rate "
            f"> {self.max_missing}",
        ]
        if self.hwe_p_min is not None:
            parts.append(
                f"{int((result.hwe_p < self.hwe_p_min).sum())} with HWE p < {self.hwe_p_min}"
            )
        raise ValueError(
            f"n_snps={self.n_snps} but only {n_pass} of {len(qc)} variants pass QC "
            f"({'; '.join(parts)}); lower n_snps or relax maf_min/max_missing/hwe_p_min"
        )

    def _choose(self, X, result, model, qc, index, G):
        """Walk candidates best first (threshold, clumping) until the panel is full.

        ``result.neglog10p`` holds each candidate's definitive test and, for a
        variant not yet refitted, the scan's score test (logistic with
        covariates), which can overstate a rare variant carried only by cases
        a thousandfold. So a refitted candidate is taken only once no variant
        still waiting for its refit scores better; until then the next batch
        of waiting variants, best score first, is refitted and joins the walk.
        """
        min_score = -np.log10(self.p_threshold) if self.p_threshold is not None else -np.inf
        clumper = GreedyClumper(self.clump_r2, self.clump_kb * 1000.0) if self.clump else None
        chosen, columns = [], []
        considered = np.zeros(len(qc), dtype=bool)
        need = self.n_snps
        while True:
            considered[index] = True
            key = result.neglog10p[index]
            order = np.lexsort((index, -key))
            index, G, key = index[order], G[:, order], key[order]
            ok = key >= min_score
            index, G, key = index[ok], G[:, ok], key[ok]
            rest = np.flatnonzero(qc & ~considered & (result.neglog10p >= min_score))
            bound = result.neglog10p[rest].max() if rest.size else -np.inf
            ready = int(np.sum(key >= bound))  # a prefix: key is sorted
            if clumper is None:
                take = np.arange(min(need, ready))
            else:
                meta = result.variants.iloc[index[:ready]]
                accepted = clumper.offer(
                    G[:, :ready],
                    meta["contig"].to_numpy(),
                    meta["position"].to_numpy(),
                    limit=self.n_snps,
                )
                take = np.flatnonzero(accepted)
            chosen.append(index[take])
            columns.append(G[:, take])
            need -= take.size
            if need <= 0 or rest.size == 0:
                break
            # Candidates not yet offered wait for the next batch's refits.
            batch = rest[np.lexsort((rest, -result.neglog10p[rest]))][
                : _CANDIDATES_PER_SNP * self.n_snps
            ]
            G_batch = gather_columns(X, batch, self.block_size)
            refine_candidates(result, model, batch, G_batch)
            index = np.concatenate([index[ready:], batch])
            G = np.concatenate([G[:, ready:], G_batch], axis=1)
        chosen = np.concatenate(chosen)
        if chosen.size < self.n_snps:
            why = []
            if self.p_threshold is not None:
                why.append(f"p <= {self.p_threshold}")
            if self.clump:
                why.append(f"clumping at r2 >= {self.clump_r2} within {self.clump_kb} kb")
            warnings.warn(
                f"only {chosen.size} variants qualify ({', '.join(why)}); the panel has "
                f"{chosen.size} SNPs instead of n_snps={self.n_snps}",
                UserWarning,
                stacklevel=4,
            )
        panel = np.concatenate(columns, axis=1) if columns else np.empty((G.shape[0], 0), np.int8)
        return chosen, panel

    def _set_fitted(self, result, qc, chosen, kind) -> None:
        L = len(qc)
        selected = np.zeros(L, dtype=bool)
        selected[chosen] = True
        p = p_from_neglog10(result.neglog10p)
        self.n_features_in_ = L
        self.test_ = kind
        self.scores_ = result.neglog10p
        self.pvalues_ = p
        self.betas_ = result.beta
        self.stderr_ = result.se
        self.n_obs_ = result.n_obs
        self.maf_ = result.maf
        self.qc_pass_ = qc
        self.results_ = self._results_frame(
            result.variants,
            result.maf,
            result.beta,
            result.se,
            result.stat,
            p,
            TEST_NAMES[result.test],
            selected,
        )
        self.selected_variants_ = result.variants.iloc[chosen][list(VARIANT_COLUMNS)].reset_index(
            drop=True
        )

    @staticmethod
    def _results_frame(variants, maf, beta, se, stat, p, test, selected) -> pd.DataFrame:
        frame = variants[list(VARIANT_COLUMNS)].reset_index(drop=True).copy()
        for name, values in (
            ("maf", maf),
            ("beta", beta),
            ("se", se),
            ("stat", stat),
            ("p", p),
            ("test", np.asarray(test, dtype=object)),
            ("selected", selected),
        ):
            frame[name] = values
        return frame

    # ----------------------------------------------------------------------------------
    # selector interface
    # ----------------------------------------------------------------------------------

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.results_["selected"].to_numpy(dtype=bool)

    def get_feature_names_out(self, input_features=None):
        """Ids of the selected variants, in genomic order.

        Parameters
        ----------
        input_features : array-like of str, optional
            Names for all ``n_features_in_`` variants; default the variant ids
            seen in ``fit`` (``"snp{i}"`` for arrays).

        Returns
        -------
        ndarray of str objects
        """
        mask = self._get_support_mask()
        if input_features is None:
            return self.results_["id"].to_numpy(dtype=object)[mask]
        names = np.asarray(input_features, dtype=object)
        if names.shape != (self.n_features_in_,):
            raise ValueError(
                f"input_features has {names.size} names, expected {self.n_features_in_}"
            )
        return names[mask]

    def _check_width(self, X) -> int:
        n, L = shape_of(X)
        if L != self.n_features_in_:
            raise ValueError(
                f"X has {L} features, but GWASSelector is expecting {self.n_features_in_} "
                "features as input (variants seen in fit)"
            )
        return n

    def transform(self, X):
        """The selected panel of ``X``: int8 dosages, -1 missing, genomic order.

        Only the selected variants of a lazy Dataset are read.

        Parameters
        ----------
        X : xarray.Dataset or array-like of shape (n_samples, n_features_in_)
            The same variants as in ``fit`` (checked by id for Datasets).

        Returns
        -------
        ndarray of shape (n_samples, n_selected), dtype int8, or xarray.Dataset
            With ``output="dataset"``, ``X`` restricted to the panel.
        """
        check_is_fitted(self)
        self._check_output_input(X)
        self._check_width(X)
        index = np.flatnonzero(self._get_support_mask())
        if index.size == 0 and self.output == "dosages":  # fit warned: an empty panel
            return np.empty((shape_of(X)[0], 0), dtype=np.int8)
        if _is_dataset(X):
            ids = variant_table(X)["id"].to_numpy(dtype=object)
            fitted_ids = self.results_["id"].to_numpy(dtype=object)
            default = default_variants(self.n_features_in_)["id"].to_numpy(dtype=object)
            if not np.array_equal(fitted_ids, default) and not np.array_equal(
                ids[index].astype(str), fitted_ids[index].astype(str)
            ):
                raise ValueError(
                    "X does not hold the variants GWASSelector was fitted on "
                    "(the ids of the selected variants differ)"
                )
            panel = X.isel(variants=index)
            return panel if self.output == "dataset" else as_genotypes(panel)[0]
        arr = X if (_is_dask(X) or isinstance(X, np.ndarray)) else np.asarray(X)
        return as_genotypes(arr[:, index])[0]

    def inverse_transform(self, X):
        """Place a panel back among all ``n_features_in_`` variants.

        Unselected variants are *missing* (-1), never invented homozygous
        reference calls (what sklearn's zero-filling would produce).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_selected)

        Returns
        -------
        ndarray of shape (n_samples, n_features_in_), dtype int8
        """
        check_is_fitted(self)
        G, _ = as_genotypes(X)
        index = np.flatnonzero(self._get_support_mask())
        if G.shape[1] != index.size:
            raise ValueError(
                f"X has {G.shape[1]} columns but the panel has {index.size} selected variants"
            )
        out = np.full((G.shape[0], self.n_features_in_), -1, dtype=np.int8)
        out[:, index] = G
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN = missing call
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = []  # the panel is int8 whatever the input
        return tags

    # ----------------------------------------------------------------------------------
    # persistence (genosynth.save / genosynth.load)
    # ----------------------------------------------------------------------------------

    _ARRAYS = ("scores_", "pvalues_", "betas_", "stderr_", "n_obs_", "maf_", "qc_pass_")

    def _export_fitted(self):
        """Numbers as tensors, variant labels as JSON lists (compact for large scans)."""
        if not hasattr(self, "results_"):
            return {}, {}
        res = self.results_
        arrays = {name: getattr(self, name) for name in self._ARRAYS}
        arrays["stat"] = res["stat"].to_numpy(dtype=np.float64)
        arrays["position"] = res["position"].to_numpy(dtype=np.int64)
        arrays["selected"] = res["selected"].to_numpy(dtype=bool)
        codes = {name: code for code, name in enumerate(TEST_NAMES)}
        arrays["test"] = np.array([codes[t] for t in res["test"]], dtype=np.int8)
        fitted = {
            "n_features_in_": int(self.n_features_in_),
            "test_": self.test_,
            "labels": {c: res[c].astype(str).tolist() for c in ("id", "contig", "ref", "alt")},
        }
        return fitted, arrays

    def _import_fitted(self, fitted, arrays):
        if not fitted:
            return self
        self.n_features_in_ = int(fitted["n_features_in_"])
        self.test_ = fitted["test_"]
        for name in self._ARRAYS:
            setattr(self, name, arrays[name])
        variants = pd.DataFrame(
            {
                "id": np.asarray(fitted["labels"]["id"], dtype=object),
                "contig": np.asarray(fitted["labels"]["contig"], dtype=object),
                "position": arrays["position"].astype(np.int64),
                "ref": np.asarray(fitted["labels"]["ref"], dtype=object),
                "alt": np.asarray(fitted["labels"]["alt"], dtype=object),
            }
        )
        selected = arrays["selected"].astype(bool)
        test = TEST_NAMES[arrays["test"].astype(np.int64)]
        self.results_ = self._results_frame(
            variants,
            self.maf_,
            self.betas_,
            self.stderr_,
            arrays["stat"],
            self.pvalues_,
            test,
            selected,
        )
        self.selected_variants_ = variants.iloc[np.flatnonzero(selected)].reset_index(drop=True)
        return self

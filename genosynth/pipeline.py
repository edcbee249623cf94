"""Sampling synthetic cohorts from a fitted pipeline.

A fitted pipeline ``[selector, vae, diffusion]`` generates genotypes by running
backwards: the final step samples latents for the requested labels, each
transformer before it maps them back with ``inverse_transform`` (the VAE
decodes genotypes), and the walk stops at the feature selector: the product is
the genotype panel the selector chose, never a genome-wide matrix padded with
invented calls.
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.feature_selection import SelectorMixin
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from genosynth._diversity import warn_if_collapsed_rows
from genosynth._streaming import check_fits_in_memory, write_samples
from genosynth.io import load_zarr, read_plink, to_dataset


def _final_estimator_can_sample(pipe) -> bool:
    return hasattr(pipe._final_estimator, "sample")


def _decoder_steps(pipe: Pipeline) -> list:
    """The transformers between the selector (exclusive) and the sampler, last first."""
    decoders = []
    for _, step in reversed(pipe.steps[:-1]):
        if step is None or step == "passthrough":
            continue
        if isinstance(step, SelectorMixin):
            break
        decoders.append(step)
    return decoders


def _selector(pipe: Pipeline):
    for _, step in pipe.steps[:-1]:
        if isinstance(step, SelectorMixin):
            return step
    return None


def sample_genotypes(
    pipe: Pipeline,
    n_samples: int = 1,
    *,
    y=None,
    random_state=None,
    decode: str = "argmax",
    **sample_params,
):
    """Sample synthetic genotypes from a fitted (plain sklearn) pipeline.

    Parameters
    ----------
    pipe : sklearn.pipeline.Pipeline
        Fitted; its final step has a ``sample`` method returning ``(Z, y)``
        (e.g. :class:`~genosynth.ConditionalLatentDiffusion`).
    n_samples : int, default=1
        Number of synthetic individuals (ignored when ``y`` is an array).
    y : None, scalar or array-like, default=None
        None draws labels from the training label mix; a scalar gives every
        sample that label; an array gives one sample per entry.
    random_state : int, RandomState instance or None, default=None
        Seeds both the latent sampler and, with ``decode="sample"``, the
        decoder. The same value gives identical cohorts.
    decode : {"argmax", "sample"}, default="argmax"
        How the VAE turns genotype probabilities into calls.
    **sample_params
        Passed to the final step's ``sample`` (e.g. ``guidance_scale``,
        ``n_steps``).

    Returns
    -------
    G : ndarray of shape (n_samples, n_panel), dtype int8
        Alternate-allele dosages on the selected panel.
    y : ndarray of shape (n_samples,)
        The label of each synthetic individual.

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> from genosynth import GWASSelector, GenotypeVAE, ConditionalLatentDiffusion
    >>> from genosynth.datasets import simulate_case_control
    >>> ds = simulate_case_control(300, n_variants=200, n_causal=10, random_state=0)
    >>> pipe = Pipeline([
    ...     ("gwas", GWASSelector(n_snps=32)),
    ...     ("vae", GenotypeVAE(max_iter=2, random_state=0)),
    ...     ("diffusion", ConditionalLatentDiffusion(max_iter=2, random_state=0)),
    ... ]).fit(ds, ds["sample_phenotype"].values)
    >>> G, y = sample_genotypes(pipe, 5, y=1, random_state=0)
    >>> G.shape, y.tolist()
    ((5, 32), [1, 1, 1, 1, 1])
    """
    check_is_fitted(pipe)
    if not _final_estimator_can_sample(pipe):
        raise TypeError(
            f"the final step {type(pipe._final_estimator).__name__} has no 'sample' method"
        )
    if decode not in ("argmax", "sample"):
        raise ValueError(f"decode must be 'argmax' or 'sample', got {decode!r}")
    check_fits_in_memory(pipe, n_samples if y is None or np.ndim(y) == 0 else len(y))
    rng = check_random_state(random_state)
    sample_seed, decode_seed = (int(s) for s in rng.randint(np.iinfo(np.int32).max, size=2))
    Z, y_out = pipe._final_estimator.sample(
        n_samples, y=y, random_state=sample_seed, **sample_params
    )
    out = Z
    for step in _decoder_steps(pipe):
        accepted = inspect.signature(step.inverse_transform).parameters
        kwargs = {}
        if "decode" in accepted:
            kwargs["decode"] = decode
        if "random_state" in accepted:
            kwargs["random_state"] = decode_seed
        out = step.inverse_transform(out, **kwargs)
    out = np.asarray(out)
    warn_if_collapsed_rows(out, _selector(pipe))
    return out, np.asarray(y_out)


class GenerativePipeline(Pipeline):
    """A :class:`sklearn.pipeline.Pipeline` that can also sample synthetic cohorts.

    It adds :meth:`sample` and :meth:`sample_dataset`, available when the last
    step has a ``sample`` method; everything else is sklearn's Pipeline.

    Examples
    --------
    >>> from genosynth import (GenerativePipeline, GWASSelector, GenotypeVAE,
    ...                        ConditionalLatentDiffusion)
    >>> from genosynth.datasets import simulate_case_control
    >>> ds = simulate_case_control(300, n_variants=200, n_causal=10, random_state=0)
    >>> pipe = GenerativePipeline([
    ...     ("gwas", GWASSelector(n_snps=32)),
    ...     ("vae", GenotypeVAE(max_iter=2, random_state=0)),
    ...     ("diffusion", ConditionalLatentDiffusion(max_iter=2, random_state=0)),
    ... ]).fit(ds, ds["sample_phenotype"].values)
    >>> syn = pipe.sample_dataset(4, random_state=0)
    >>> syn["call_genotype"].shape
    (32, 4, 2)
    """

    @available_if(_final_estimator_can_sample)
    def sample(self, n_samples=1, *, y=None, random_state=None, **sample_params):
        """Sample ``(G, y)``: genotypes on the selected panel and their labels.

        See :func:`sample_genotypes` for the parameters.
        """
        return sample_genotypes(self, n_samples, y=y, random_state=random_state, **sample_params)

    @available_if(_final_estimator_can_sample)
    def sample_dataset(
        self,
        n_samples=1,
        *,
        y=None,
        random_state=None,
        sample_prefix="syn",
        out=None,
        format="zarr",
        overwrite=False,
        chunk_size=None,
        **sample_params,
    ):
        """Sample a synthetic cohort as an sgkit Dataset of the selected panel.

        The Dataset carries the panel's variant ids, contigs, positions and
        alleles (when the training data had them), sample ids
        ``f"{sample_prefix}{i}"`` and the label as ``sample_phenotype``.

        With ``out``, the cohort is sampled ``chunk_size`` individuals at a
        time straight into a ``format`` file (memory bounded by one chunk,
        for cohorts of any size) and returned opened lazily from it; a cohort
        of one chunk is the same as without ``out``.

        Parameters
        ----------
        out : str or path-like, optional
            Zarr store or PLINK prefix to write.
        format : {"zarr", "plink"}, default="zarr"
            Format of ``out``.
        overwrite : bool, default=False
            Replace an existing ``out`` instead of refusing it.
        chunk_size : int, optional
            Individuals per chunk with ``out`` (a multiple of 4; default 16,384).

        Returns
        -------
        xarray.Dataset
        """
        if out is not None:
            path = write_samples(
                self,
                n_samples,
                out,
                format=format,
                y=y,
                random_state=random_state,
                chunk_size=chunk_size,
                overwrite=overwrite,
                sample_prefix=sample_prefix,
                **sample_params,
            )
            return read_plink(path) if format == "plink" else load_zarr(path)
        check_fits_in_memory(
            self, n_samples if y is None or np.ndim(y) == 0 else len(y), dataset=True
        )
        G, y_out = self.sample(n_samples, y=y, random_state=random_state, **sample_params)
        selector = _selector(self)
        variants = getattr(selector, "selected_variants_", None)
        return to_dataset(G, y=y_out, variants=variants, sample_prefix=sample_prefix)

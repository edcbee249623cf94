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

from genosynth._streaming import check_fits_in_memory, write_samples
from genosynth.data._labels import class_codes, has_continuous_label
from genosynth.io import load_zarr, read_plink, to_dataset
from genosynth.stats._diversity import warn_if_collapsed_rows
from genosynth.stats._label_model import fill_by_rejection


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


def _label_model_step(pipe: Pipeline):
    """The step whose label model ``p(y | G)`` on the panel the pipeline samples with, or None.

    It is the decoder nearest the selector (its ``inverse_transform`` returns
    the panel), and its label model must know the final step's classes.
    """
    final = pipe._final_estimator
    decoders = _decoder_steps(pipe)
    if not decoders or has_continuous_label(final) or not hasattr(final, "classes_"):
        return None
    step = decoders[-1]
    if not getattr(step, "has_label_model", lambda: False)():
        return None
    if not np.array_equal(step.label_classes_, final.classes_):
        return None
    return step


def _decoded(pipe: Pipeline, Z, decode: str, seed: int) -> np.ndarray:
    """Latents mapped back to the panel through every decoder step."""
    out = Z
    for step in _decoder_steps(pipe):
        accepted = inspect.signature(step.inverse_transform).parameters
        kwargs = {}
        if "decode" in accepted:
            kwargs["decode"] = decode
        if "random_state" in accepted:
            kwargs["random_state"] = seed
        out = step.inverse_transform(out, **kwargs)
    return np.asarray(out)


def _sample_with_label_model(pipe, labeller, n_samples, y, decode, rng, sample_params):
    """Rows of ``p(G | y)``, by rejection from unconditional samples (:func:`sample_genotypes`)."""
    final = pipe._final_estimator
    codes = class_codes(n_samples, y, final.classes_, final.class_prior_, rng)
    draws = np.random.default_rng(int(rng.randint(np.iinfo(np.int32).max)))

    def propose(m, gen):
        sample_seed, decode_seed = (int(s) for s in gen.integers(np.iinfo(np.int32).max, size=2))
        Z, _ = final.sample(
            m,
            y=None,
            guidance_scale=0.0,
            guidance_interval=(0.0, 1.0),
            random_state=sample_seed,
            **sample_params,
        )
        G = _decoded(pipe, Z, decode, decode_seed)
        return G, labeller.label_proba(G)

    return fill_by_rejection(codes, propose, draws), final.classes_[codes]


def resolve_conditioning(pipe: Pipeline, conditioning: str = "auto") -> str:
    """How :func:`sample_genotypes` carries the labels for this fitted pipeline.

    Parameters
    ----------
    pipe : Pipeline
        A fitted generative pipeline.
    conditioning : {"auto", "label_model", "guidance"}, default="auto"
        As :func:`sample_genotypes` takes it.

    Returns
    -------
    {"label_model", "guidance"}
        ``"auto"`` resolved: the label model when the decoder next to the
        selector has one for the final step's classes, else guidance.

    Raises
    ------
    ValueError
        For an unknown value, or ``"label_model"`` on a pipeline without one.
    """
    if conditioning not in ("auto", "label_model", "guidance"):
        raise ValueError(
            f"conditioning must be 'auto', 'label_model' or 'guidance', got {conditioning!r}"
        )
    if conditioning == "guidance":
        return "guidance"
    has_label_model = _label_model_step(pipe) is not None
    if conditioning == "label_model" and not has_label_model:
        raise ValueError(
            "conditioning='label_model' needs a label model for the final step's classes: "
            "fit the pipeline on class labels with GenotypeVAE(label_model='auto')"
        )
    return "label_model" if has_label_model else "guidance"


def sample_genotypes(
    pipe: Pipeline,
    n_samples: int = 1,
    *,
    y=None,
    random_state=None,
    decode: str = "argmax",
    conditioning: str = "auto",
    **sample_params,
):
    """Sample synthetic genotypes from a fitted (plain sklearn) pipeline.

    Two ways of conditioning on the label are available. With
    ``"label_model"`` the pipeline samples the factorisation
    ``p(G, y) = p(G) p(y | G)``: genotypes come from the unconditional latent
    model (the diffusion model's null label, one network evaluation per
    step), and each proposal ``G`` is kept as a row of label ``c`` with
    probability ``p(c | G)`` from the VAE's label model (see
    :class:`~genosynth.GenotypeVAE`, ``label_model``); kept rows then follow
    ``p(G | c)``, whatever the proposals' label mix, and proposals are drawn
    until every requested row is filled. With ``"guidance"`` the diffusion
    model is conditioned on the label by classifier-free guidance, as in
    SNPgen. On the default realistic cohort the label model carried the
    trait signal further for every downstream learner
    (``benchmarks/README.md``, "Carrying the trait signal").

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
    conditioning : {"auto", "label_model", "guidance"}, default="auto"
        ``"auto"``: ``"label_model"`` when the decoder next to the selector
        has a fitted label model for the final step's classes (the default
        VAE fitted on class labels), else ``"guidance"`` (a continuous
        trait, ``GenotypeVAE(label_model=None)``, models saved before label
        models existed).
    **sample_params
        Passed to the final step's ``sample`` (e.g. ``n_steps``; and
        ``guidance_scale`` with ``conditioning="guidance"``).

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
    >>> G, y = sample_genotypes(pipe, 5, y=1, conditioning="guidance", random_state=0)
    >>> G.shape
    (5, 32)
    """
    check_is_fitted(pipe)
    if not _final_estimator_can_sample(pipe):
        raise TypeError(
            f"the final step {type(pipe._final_estimator).__name__} has no 'sample' method"
        )
    if decode not in ("argmax", "sample"):
        raise ValueError(f"decode must be 'argmax' or 'sample', got {decode!r}")
    check_fits_in_memory(pipe, n_samples if y is None or np.ndim(y) == 0 else len(y))
    labeller = None
    if resolve_conditioning(pipe, conditioning) == "label_model":
        labeller = _label_model_step(pipe)
    rng = check_random_state(random_state)
    if labeller is not None:
        if sample_params.get("guidance_scale") is not None:
            raise ValueError(
                "guidance_scale applies to conditioning='guidance'; the label model samples "
                "the unconditional latent model"
            )
        sample_params.pop("guidance_scale", None)
        G, y_out = _sample_with_label_model(
            pipe, labeller, n_samples, y, decode, rng, sample_params
        )
        warn_if_collapsed_rows(G, _selector(pipe))
        return G, y_out
    sample_seed, decode_seed = (int(s) for s in rng.randint(np.iinfo(np.int32).max, size=2))
    Z, y_out = pipe._final_estimator.sample(
        n_samples, y=y, random_state=sample_seed, **sample_params
    )
    out = _decoded(pipe, Z, decode, decode_seed)
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

    def fit(self, X, y=None, **params):
        """Fit the steps as :class:`~sklearn.pipeline.Pipeline` does, handing on the latent layout.

        When the final step's ``fit`` takes ``latent_channels`` (the
        diffusion model), it is passed the ``latent_channels`` of the step
        that feeds it (the VAE), so that the two read the latent in one
        layout; a contradicting setting on the final step is refused there.
        """
        name, final = self.steps[-1]
        decoders = _decoder_steps(self)
        channels = getattr(decoders[0], "latent_channels", None) if decoders else None
        takes_layout = (
            final not in (None, "passthrough")
            and "latent_channels" in inspect.signature(final.fit).parameters
        )
        if takes_layout and isinstance(channels, int) and f"{name}__latent_channels" not in params:
            params[f"{name}__latent_channels"] = channels
        return super().fit(X, y, **params)

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
            Individuals per chunk with ``out`` (a multiple of 4; default 2,048).

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


def default_pipeline(n_snps: int = 1024, *, random_state=None, verbose=False):
    """The default generative pipeline: GWAS selection, VAE, latent diffusion.

    What ``genosynth fit`` and ``genosynth demo`` fit: a
    :class:`~genosynth.GWASSelector` of ``n_snps`` variants, a
    :class:`~genosynth.GenotypeVAE` and a
    :class:`~genosynth.ConditionalLatentDiffusion`, every other parameter at
    its default. Change any of them with ``set_params`` (e.g.
    ``vae__max_iter``).

    Parameters
    ----------
    n_snps : int, default=1024
        Panel size of the selector.
    random_state : int, RandomState instance or None, default=None
        Seed of the VAE and of the diffusion model.
    verbose : bool, default=False
        Progress bars while the networks train.

    Returns
    -------
    GenerativePipeline
        Unfitted, with steps ``"gwas"``, ``"vae"`` and ``"diffusion"``.

    Examples
    --------
    >>> from genosynth.pipeline import default_pipeline
    >>> pipe = default_pipeline(512, random_state=0)
    >>> list(pipe.named_steps), pipe["gwas"].n_snps
    (['gwas', 'vae', 'diffusion'], 512)
    """
    from genosynth.generative.diffusion.diffusion import ConditionalLatentDiffusion
    from genosynth.generative.vae.vae import GenotypeVAE
    from genosynth.selection import GWASSelector

    return GenerativePipeline(
        [
            ("gwas", GWASSelector(n_snps=n_snps)),
            ("vae", GenotypeVAE(random_state=random_state, verbose=verbose)),
            (
                "diffusion",
                ConditionalLatentDiffusion(random_state=random_state, verbose=verbose),
            ),
        ]
    )

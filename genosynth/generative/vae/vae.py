"""GenotypeVAE: compress a genotype panel into a small continuous latent."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted
from torch.nn import functional as F

from genosynth.data._genotypes import as_genotypes, check_labels, require_calls
from genosynth.generative._torch_estimator import TorchEstimatorMixin
from genosynth.generative._torch_utils import (
    DTYPES,
    inference_batches,
    precision,
    seed_from,
    seeded,
)
from genosynth.generative.vae._vae_modules import GenotypeAutoencoder
from genosynth.stats._label_model import fit_label_model, label_probabilities

# Rows per inference batch on a CPU (see inference_batches).
_CPU_BATCH = 64
# max_iter="auto": at most this many epochs, and no more than needed to see
# this many training examples (see the max_iter docstring).
_AUTO_MAX_EPOCHS = 40
_AUTO_EXAMPLES = 216_000
# The label model's fitted attributes, and the most classes it models (as the
# diffusion model's categorical conditioning).
_LABEL_MODEL_ATTRIBUTES = (
    "label_classes_",
    "label_coef_",
    "label_intercept_",
    "label_dosage_mean_",
    "label_dosage_scale_",
    "label_C_",
)
_MAX_LABEL_CLASSES = 20


def _padded(G: np.ndarray, n_positions: int) -> torch.Tensor:
    """int8 genotypes (n, L) -> int8 tensor (n, n_positions), padding marked missing."""
    out = np.full((G.shape[0], n_positions), -1, dtype=np.int8)
    out[:, : G.shape[1]] = G
    return torch.from_numpy(out)


def _accuracy(module, G: torch.Tensor) -> float:
    """Share of observed calls whose argmax decoding (from the posterior mean) is right."""
    hits, seen = 0, 0
    for rows in inference_batches(G.shape[0], module.embed.device, _CPU_BATCH):
        g = G[rows].to(module.embed.device).long()
        pred = module.decode(module.encode(g)[0]).argmax(-1)
        observed = g >= 0
        hits += int((pred == g)[observed].sum())
        seen += int(observed.sum())
    return hits / max(seen, 1)


class GenotypeVAE(TorchEstimatorMixin, TransformerMixin, BaseEstimator):
    """Variational autoencoder that compresses a genotype panel along the SNP axis.

    Genotypes (0/1/2 alternate-allele dosages) are one-hot encoded per SNP,
    shortened ``compression`` times by a 1D convolutional encoder with
    residual blocks, and decoded by a categorical decoder: three logits per
    SNP, trained with cross-entropy plus ``kl_weight`` times the KL
    divergence of the Gaussian posterior from N(0, I). The first and last
    layers are SNP-specific (each SNP has its own embedding and output
    weights); the convolutional trunk between them learns local LD.

    Missing calls (-1) are left out of the reconstruction loss and enter the
    encoder as an all-zero one-hot vector ("no information"), never as an
    imputed genotype. A panel whose length is not a multiple of
    ``compression`` is padded internally with missing calls.

    Parameters
    ----------
    compression : {2, 4, 8, 16, 32, 64}, default=16
        Length reduction from the panel to the latent sequence.
    latent_channels : int, default=8
        Channels of the latent sequence; the latent has
        ``latent_channels * ceil(L / compression)`` dimensions.
    hidden_channels : int, default=64
        Width of the convolutional trunk at the bottleneck.
    base_channels : int, default=16
        Width per SNP from which the stages' widths grow: a stage spanning
        ``k`` SNPs per position is ``k * base_channels`` wide, at most
        ``hidden_channels`` (with the default single stage, the bottleneck's
        ``hidden_channels``).
    n_blocks : int, default=2
        Residual blocks at the bottleneck, in the encoder and in the decoder.
    stride : {2, 4, 8, 16, 32, 64}, default=16
        Length reduction of each downsampling stage of the encoder (and
        upsampling stage of the decoder): ``compression`` is reached in
        stages of ``stride`` (the last one takes what is left). The first
        stage is a table of a vector per SNP and genotype, summed over each
        group of ``stride`` SNPs; the decoder's last reads each SNP's logits
        from its group's features with the SNP's own weights. The default
        reaches the 16x compression in that one stage, so that no layer runs
        at the panel's full length: it trains faster than stride-2 stages,
        reconstructed held-out individuals better, and the diffusion model
        learned more LD from its latents (benchmarks/README.md,
        "Importance-sampled timesteps and a one-stage VAE").
    kl_weight : float, default=1e-3
        Weight of the KL term relative to the mean per-call cross-entropy
        (the KL is divided by the panel length, so 1.0 is the plain ELBO).
    label_weight : float, default=0.0
        When positive, ``fit(X, y)`` also trains a linear head predicting
        the class label ``y`` from the latent mean, shaping the latent by
        the trait (class labels only).
    label_model : {"auto"} or None, default="auto"
        ``"auto"``: when ``fit`` is given class labels (2 to 20 classes),
        also fit a sparse logistic model of the label given the panel,
        ``p(y | G)`` (L1 penalty chosen by cross-validated log-loss), which
        :class:`~genosynth.GenerativePipeline` uses to carry the trait
        signal: it samples genotypes from the unconditional latent model and
        keeps each proposal as a row of label ``c`` with probability
        ``p(c | G)``, so that kept rows follow ``p(G | c)`` (see
        :func:`genosynth.pipeline.sample_genotypes`). Continuous labels and
        ``None`` fit no label model; the pipeline then conditions the
        diffusion by classifier-free guidance, as SNPgen does. The model is a
        statistic of the training individuals, saved with the model file.
    decoder_noise : float, default=0.0
        Standard deviation of extra Gaussian noise added to the latent
        before decoding in training, relative to each latent dimension's
        spread in the mini-batch. A generator's latents miss the encodings of
        real individuals by a little, and a decoder trained only on (nearly
        deterministic) encodings turns that error into genotype combinations
        no one carries; a decoder trained on noised latents snaps them back.
        It buys allele-frequency and LD fidelity for the MLP denoiser at some
        reconstruction accuracy and with synthetic individuals easier to tell
        apart from real ones, hence off by default (benchmarks/README.md,
        "Where the distance-based rows fail: NNAA halves, local windows,
        decoder noise"). ``kl_weight`` acts the same way through the
        posterior variance but costs more reconstruction accuracy for the
        same gain.
    max_iter : int or "auto", default="auto"
        Maximum number of epochs; the cosine learning-rate decay spans them.
        ``"auto"`` is ``min(40, ceil(216,000 / n_train))``: 40 epochs for
        cohorts up to 5,400 training rows, then a fixed budget of ~216,000
        training examples, which bounds the fit time of large cohorts; fewer
        epochs on mid-sized cohorts gave synthetic individuals easier to tell
        apart from real ones (benchmarks/README.md, "GenotypeVAE").
    batch_size : int or "auto", default="auto"
        Mini-batch size. ``"auto"`` is ``min(128, max(16, n_train // 32))``:
        at least about 32 optimiser steps per epoch, so small cohorts get
        enough updates within ``max_iter`` epochs and large ones use
        efficient batches.
    learning_rate_init : float, default=5e-3
        Initial AdamW learning rate (cosine-decayed).
    weight_decay : float, default=0.0
        AdamW weight decay.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the samples, score reconstruction
        accuracy after each epoch, stop after ``n_iter_no_change`` epochs
        without improvement and keep the best epoch's weights.
    validation_fraction : float, default=0.1
        Share of samples held out when ``early_stopping``.
    n_iter_no_change : int, default=15
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum validation-accuracy gain that counts as improvement.
    warm_start : bool, default=False
        Continue training the fitted network on the next ``fit``.
    decoding_dtype : {"auto", "float32", "bfloat16"}, default="auto"
        Precision of the decoder's matrix products in :meth:`inverse_transform`
        and :meth:`decode_proba` (encoding is always float32; training has
        its own ``training_dtype``).
        ``"bfloat16"`` (torch autocast) is faster where the device computes
        it natively and decodes nearly all genotypes as float32 does
        (benchmarks/README.md, "Sampling throughput"); like the diffusion's
        ``sampling_dtype``, it is not bit-identical across machines.
        ``"auto"``: bfloat16 where the device computes it natively
        (CPUs with AVX512-BF16 or AMX, CUDA GPUs with bfloat16), float32
        elsewhere.
    training_dtype : {"auto", "float32", "bfloat16"}, default="auto"
        Precision of the network's matrix products in :meth:`fit` (torch
        autocast; the weights, the optimiser state, the losses and the
        validation accuracy stay float32). ``"bfloat16"`` is faster where the
        device computes it natively, at the same held-out reconstruction
        (benchmarks/README.md, "bfloat16 training"). Fits repeat on one
        machine but are not
        bit-identical to float32 fits, nor across machines. ``"auto"``:
        bfloat16 where the device computes it natively, float32 elsewhere.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda[:k]"``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the validation split, batch order and
        the reparameterisation noise.
    verbose : bool, default=False
        Show a progress bar with the running loss and validation accuracy.

    Attributes
    ----------
    n_features_in_ : int
        Panel length ``L``.
    n_latent_ : int
        Dimensions of the latent (columns of :meth:`transform`).
    module_ : torch.nn.Module
        The fitted network (best validation checkpoint).
    loss_curve_ : list of float
        Training loss per epoch.
    validation_scores_ : list of float
        Validation reconstruction accuracy per epoch.
    n_iter_ : int
        Epochs run.
    best_iteration_ : int
        Epoch whose weights were kept.
    latent_mean_, latent_std_ : ndarray of shape (n_latent_,)
        Per-dimension mean and standard deviation of the training latents.
    latent_scale_ : float
        One scale factor for the latents (root mean square of ``latent_std_``).
    classes_ : ndarray
        Labels of the phenotype head (only when ``label_weight > 0``).
    label_classes_ : ndarray
        Labels of the label model (only when one was fitted, see
        ``label_model``).
    label_coef_, label_intercept_ : ndarray
        The label model's coefficients (one row for two classes, one per
        class otherwise) on standardised dosages, and its intercepts.
    label_dosage_mean_, label_dosage_scale_ : ndarray of shape (n_features_in_,)
        The dosage standardisation of the label model.
    label_C_ : float
        The label model's penalty (scikit-learn's ``C``) chosen by
        cross-validation.

    Examples
    --------
    >>> import numpy as np
    >>> from genosynth import GenotypeVAE
    >>> rng = np.random.default_rng(0)
    >>> G = rng.integers(0, 3, size=(200, 50), dtype=np.int8)
    >>> vae = GenotypeVAE(compression=4, max_iter=3, random_state=0).fit(G)
    >>> Z = vae.transform(G)
    >>> Z.shape
    (200, 104)
    >>> vae.inverse_transform(Z).shape
    (200, 50)
    """

    _parameter_constraints = {
        "compression": [Options(Integral, {2, 4, 8, 16, 32, 64})],
        "latent_channels": [Interval(Integral, 1, None, closed="left")],
        "hidden_channels": [Interval(Integral, 1, None, closed="left")],
        "base_channels": [Interval(Integral, 1, None, closed="left")],
        "n_blocks": [Interval(Integral, 0, None, closed="left")],
        "stride": [Options(Integral, {2, 4, 8, 16, 32, 64})],
        "kl_weight": [Interval(Real, 0, None, closed="left")],
        "label_weight": [Interval(Real, 0, None, closed="left")],
        "decoder_noise": [Interval(Real, 0, None, closed="left")],
        "label_model": [StrOptions({"auto"}), None],
        "decoding_dtype": [StrOptions(DTYPES)],
        "training_dtype": [StrOptions(DTYPES)],
        "max_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        compression=16,
        latent_channels=8,
        *,
        hidden_channels=64,
        base_channels=16,
        n_blocks=2,
        stride=16,
        kl_weight=1e-3,
        label_weight=0.0,
        decoder_noise=0.0,
        label_model="auto",
        max_iter="auto",
        batch_size="auto",
        learning_rate_init=5e-3,
        weight_decay=0.0,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=15,
        tol=1e-4,
        warm_start=False,
        decoding_dtype="auto",
        training_dtype="auto",
        device="auto",
        random_state=None,
        verbose=False,
    ):
        self.compression = compression
        self.latent_channels = latent_channels
        self.hidden_channels = hidden_channels
        self.base_channels = base_channels
        self.n_blocks = n_blocks
        self.stride = stride
        self.kl_weight = kl_weight
        self.label_weight = label_weight
        self.decoder_noise = decoder_noise
        self.label_model = label_model
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.decoding_dtype = decoding_dtype
        self.training_dtype = training_dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # Parameters a model file written before they existed was fitted with (persistence).
    _legacy_params = {"stride": 2}

    # -- network -----------------------------------------------------------------------------

    def _build_module(self, config: dict) -> GenotypeAutoencoder:
        return GenotypeAutoencoder(**config)

    def _config(self, n_features: int, n_classes: int) -> dict:
        n_positions = -(-n_features // self.compression) * self.compression
        return {
            "n_positions": n_positions,
            "compression": self.compression,
            "latent_channels": self.latent_channels,
            "hidden_channels": self.hidden_channels,
            "base_channels": self.base_channels,
            "n_blocks": self.n_blocks,
            "n_classes": n_classes,
            "stride": self.stride,
            "snp_tables": True,
        }

    def _genotypes(self, X, *, reset: bool) -> np.ndarray:
        G, _ = as_genotypes(X)
        if reset:
            return G
        check_is_fitted(self)
        if G.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {G.shape[1]} features, but GenotypeVAE is expecting "
                f"{self.n_features_in_} features as input (the variants of the fitted panel)"
            )
        return G

    def _latent_shape(self) -> tuple[int, int]:
        cfg = self.module_config_
        return cfg["n_positions"] // cfg["compression"], cfg["latent_channels"]

    # -- fitting -----------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the autoencoder on genotypes ``X`` (and labels ``y`` for the head).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_variants) or sgkit Dataset
            Alternate-allele dosages 0/1/2, -1 or NaN missing.
        y : array-like of shape (n_samples,), optional
            Phenotype labels, for the label model (``label_model="auto"``,
            class labels) and the phenotype head (``label_weight > 0``).

        Returns
        -------
        self
        """
        continuing = self.warm_start and hasattr(self, "module_")
        G = self._genotypes(X, reset=not continuing)
        require_calls(G, "GenotypeVAE.fit")
        n = G.shape[0]
        labels = None
        if self.label_weight > 0:
            if y is None:
                raise ValueError("label_weight > 0 needs labels: call fit(X, y)")
            if type_of_target(y, input_name="y") == "continuous":
                raise ValueError(
                    "the phenotype head (label_weight > 0) predicts class labels; "
                    "y is continuous: fit with label_weight=0"
                )
            y = check_labels(y, n)
            if continuing:
                if self.module_.label_head is None:
                    raise ValueError(
                        "this model was fitted without a phenotype head (label_weight=0); a "
                        "warm start cannot add one: fit with warm_start=False"
                    )
                unseen = np.setdiff1d(y, self.classes_)
                if unseen.size:
                    raise ValueError(
                        f"labels {unseen[:5].tolist()} were not seen in the first fit "
                        f"(classes: {self.classes_.tolist()})"
                    )
                labels = np.searchsorted(self.classes_, y)
            else:
                encoder = LabelEncoder().fit(y)
                self.classes_ = encoder.classes_
                labels = encoder.transform(y)
            if len(np.unique(labels)) < 2:
                raise ValueError("the phenotype head needs at least two classes in y")
        if n < 2:
            raise ValueError(f"GenotypeVAE needs at least 2 samples, got n_samples = {n}")

        device = self._device()
        seed = seed_from(self.random_state)
        rng = np.random.default_rng(seed)
        if not continuing:
            n_classes = len(self.classes_) if labels is not None else 0
            if labels is None and hasattr(self, "classes_"):
                del self.classes_  # a fresh fit without labels has no phenotype head
            self.n_features_in_ = G.shape[1]
            self.module_config_ = self._config(G.shape[1], n_classes)
            with seeded(seed):
                self.module_ = self._build_module(self.module_config_)
        self._module_on(device)

        G_all = _padded(G, self.module_config_["n_positions"]).to(device)
        y_all = None if labels is None else torch.as_tensor(labels, device=device)
        fit_idx, val_idx = self._validation_split(n, rng, device)
        train_tensors = (G_all[fit_idx],) + (() if y_all is None else (y_all[fit_idx],))
        validation = (G_all[val_idx],) if len(val_idx) else None
        self._train_network(
            train_tensors,
            validation,
            lambda net, tensors: _accuracy(net, tensors[0]),
            rng=rng,
            device=device,
            history=self._continued_history() if continuing else None,
        )

        Z = self._encode(G_all)
        self.n_latent_ = Z.shape[1]
        self.latent_mean_ = Z.mean(0)
        self.latent_std_ = Z.std(0)
        self.latent_scale_ = float(np.sqrt(np.mean(self.latent_std_**2)))
        self._fit_label_model(G, y, seed)
        return self

    def _fit_label_model(self, G: np.ndarray, y, seed: int) -> None:
        """Fit ``p(y | G)`` for class labels (see ``label_model``), or drop a stale one."""
        for attr in _LABEL_MODEL_ATTRIBUTES:
            if hasattr(self, attr):
                delattr(self, attr)
        if self.label_model is None or y is None:
            return
        y = check_labels(y, G.shape[0])
        kind = type_of_target(y, input_name="y")
        if kind not in ("binary", "multiclass"):
            return  # a quantitative trait: the diffusion model's guidance carries it
        encoder = LabelEncoder().fit(y)
        if not 2 <= len(encoder.classes_) <= _MAX_LABEL_CLASSES:
            return
        fitted = fit_label_model(
            G, encoder.transform(y), len(encoder.classes_), random_state=seed % 2**32
        )
        self.label_classes_ = encoder.classes_
        self.label_coef_ = fitted["coef"]
        self.label_intercept_ = fitted["intercept"]
        self.label_dosage_mean_ = fitted["mean"]
        self.label_dosage_scale_ = fitted["scale"]
        self.label_C_ = fitted["C"]

    def has_label_model(self) -> bool:
        """Whether ``fit`` fitted the label model ``p(y | G)`` (see ``label_model``)."""
        return hasattr(self, "label_coef_")

    def label_proba(self, X) -> np.ndarray:
        """Probabilities of each label given the genotypes, from the label model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_) or sgkit Dataset
            Dosages on the fitted panel (-1 or NaN missing: a missing call
            adds nothing to the score).

        Returns
        -------
        ndarray of shape (n_samples, len(label_classes_))
            Column ``k`` is ``p(label_classes_[k] | G)``.

        Examples
        --------
        >>> import numpy as np
        >>> from genosynth import GenotypeVAE
        >>> rng = np.random.default_rng(0)
        >>> G = rng.integers(0, 3, size=(200, 32), dtype=np.int8)
        >>> y = (G[:, 0] + rng.normal(size=200) > 1).astype(int)
        >>> vae = GenotypeVAE(compression=4, max_iter=2, random_state=0).fit(G, y)
        >>> p = vae.label_proba(G)
        >>> p.shape, bool(np.allclose(p.sum(1), 1))
        ((200, 2), True)
        """
        check_is_fitted(self)
        if not self.has_label_model():
            raise AttributeError(
                "this GenotypeVAE has no label model: fit it with class labels and "
                "label_model='auto'"
            )
        G = self._genotypes(X, reset=False)
        return label_probabilities(
            G,
            self.label_coef_,
            self.label_intercept_,
            self.label_dosage_mean_,
            self.label_dosage_scale_,
        )

    def _epoch_budget(self, n_train: int) -> int:
        if self.max_iter == "auto":
            return min(_AUTO_MAX_EPOCHS, math.ceil(_AUTO_EXAMPLES / max(n_train, 1)))
        return self.max_iter

    def _objective(self, device):
        """The loss of one mini-batch: reconstruction cross-entropy + KL (+ the label head)."""
        kl_weight, label_weight = float(self.kl_weight), float(self.label_weight)
        decoder_noise = float(self.decoder_noise)
        n_features = float(self.n_features_in_)
        training_dtype = self.training_dtype

        def loss_fn(net, batch, generator):
            g = batch[0].long()
            with precision(device, training_dtype):
                mu, logvar = net.encode(g)
                mu, logvar = mu.float(), logvar.float()
                noise = torch.randn(mu.shape, generator=generator, device=mu.device)
                z = mu + torch.exp(0.5 * logvar) * noise
                if decoder_noise > 0 and len(mu) > 1:  # a one-row batch has no spread
                    spread = mu.detach().std(0, keepdim=True)
                    extra = torch.randn(mu.shape, generator=generator, device=mu.device)
                    z = z + decoder_noise * spread * extra
                logits = net.decode(z).float()
            # Missing and padded calls (-1) are left out of the mean.
            loss = F.cross_entropy(logits.reshape(-1, 3), g.reshape(-1), ignore_index=-1)
            kl = 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar).sum((1, 2)).mean()
            loss = loss + kl_weight * kl / n_features
            if label_weight > 0:
                loss = loss + label_weight * F.cross_entropy(net.classify(mu), batch[1])
            return loss

        return loss_fn

    def _batch_size(self, n_train: int) -> int:
        if self.batch_size == "auto":
            return min(128, max(16, n_train // 32))
        return self.batch_size

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_")

    # -- encoding and decoding ---------------------------------------------------------------

    @torch.no_grad()
    def _encode(self, G_padded: torch.Tensor) -> np.ndarray:
        module = self._module_on(self._device()).eval()
        out = []
        for rows in inference_batches(G_padded.shape[0], module.embed.device, _CPU_BATCH):
            g = G_padded[rows].to(module.embed.device).long()
            out.append(module.encode(g)[0].flatten(1).cpu())
        return torch.cat(out).numpy()

    def transform(self, X):
        """Posterior means of the latent, one row per sample (deterministic).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_variants) or sgkit Dataset

        Returns
        -------
        Z : ndarray of shape (n_samples, n_latent_), float32
        """
        G = self._genotypes(X, reset=False)
        return self._encode(_padded(G, self.module_config_["n_positions"]))

    @torch.no_grad()
    def _decoded(self, Z, fn) -> np.ndarray:
        """``fn(logits)`` batch by batch, for logits (batch, n_variants, 3), concatenated."""
        check_is_fitted(self)
        Z = np.asarray(Z, dtype=np.float32)
        if Z.ndim != 2 or Z.shape[1] != self.n_latent_:
            raise ValueError(
                f"latents must have shape (n_samples, {self.n_latent_}), got {Z.shape}"
            )
        if not np.isfinite(Z).all():
            raise ValueError("latents contain NaN or infinite values")
        module = self._module_on(self._device()).eval()
        device = module.embed.device
        out = []
        # Reduced per batch (argmax, draw): the full logits of a large cohort
        # never sit in memory at once.
        for rows in inference_batches(Z.shape[0], device, _CPU_BATCH):
            z = torch.from_numpy(Z[rows]).to(device)
            with precision(device, self.decoding_dtype):
                logits = module.decode(z.reshape(len(z), *self._latent_shape()))
            out.append(fn(logits[:, : self.n_features_in_].float()).cpu().numpy())
        return np.concatenate(out) if out else fn(torch.empty(0, self.n_features_in_, 3)).numpy()

    def decode_proba(self, Z) -> np.ndarray:
        """Genotype probabilities per SNP, shape (n_samples, n_variants, 3).

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_latent_)
        """
        return self._decoded(Z, lambda logits: torch.softmax(logits, -1))

    def inverse_transform(self, Z, *, decode="argmax", random_state=None):
        """Decode latents into genotypes.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_latent_)
        decode : {"argmax", "sample"}, default="argmax"
            The most probable genotype per SNP, or one drawn from the
            decoder's categorical distribution (seeded by ``random_state``).
        random_state : int, RandomState instance or None
            Used only with ``decode="sample"``.

        Returns
        -------
        G : ndarray of shape (n_samples, n_variants), int8
        """
        if decode == "argmax":
            return self._decoded(Z, lambda logits: logits.argmax(-1).to(torch.int8))
        if decode != "sample":
            raise ValueError(f"decode must be 'argmax' or 'sample', got {decode!r}")
        gen = self._generator(random_state, self._device())

        def draw(logits):
            probs = torch.softmax(logits, -1).reshape(-1, 3)
            calls = torch.multinomial(probs, 1, generator=gen).reshape(logits.shape[:2])
            return calls.to(torch.int8)

        return self._decoded(Z, draw)

    def score(self, X, y=None):
        """Reconstruction accuracy: share of observed calls decoded correctly.

        Encodes with the posterior mean and decodes by argmax; missing calls
        are not counted.
        """
        G = self._genotypes(X, reset=False)
        module = self._module_on(self._device()).eval()
        with torch.no_grad():
            padded = _padded(G, self.module_config_["n_positions"]).to(module.embed.device)
            return _accuracy(module, padded)

    def get_feature_names_out(self, input_features=None):
        """Latent feature names ``vae0 ... vae{n_latent_-1}``."""
        check_is_fitted(self)
        return np.asarray([f"vae{i}" for i in range(self.n_latent_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.input_tags.allow_nan = True  # NaN = missing call
        return tags

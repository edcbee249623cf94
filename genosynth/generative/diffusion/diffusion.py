"""ConditionalLatentDiffusion: label-conditioned sampling of VAE latents."""

from __future__ import annotations

import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_is_fitted

from genosynth.data._genotypes import check_labels
from genosynth.data._labels import (
    has_continuous_label,
    positive_int,
    requested_labels,
    trait_summary,
)
from genosynth.generative._torch_estimator import TorchEstimatorMixin
from genosynth.generative._torch_utils import (
    DTYPES,
    inference_batches,
    precision,
    resolve_dtype,
    seed_from,
    seeded,
)
from genosynth.generative.diffusion._denoiser import DENOISERS
from genosynth.generative.diffusion._distillation import distil_unconditional, student_timesteps
from genosynth.generative.diffusion._schedules import (
    SAMPLERS,
    SCHEDULES,
    add_noise,
    importance_timesteps,
    min_snr_velocity_weights,
    sampling_timesteps,
    velocity,
)

_N_VALIDATION_REPEATS = 4
# Channels per latent position under latent_channels="auto" when no VAE hands them on:
# GenotypeVAE's default.
_DEFAULT_LATENT_CHANNELS = 8
# (hidden_size, n_blocks) of each denoiser when set to "auto"; measured choices,
# see benchmarks/README.md ("Denoiser").
_AUTO_SIZES = {"mlp": (256, 3), "conv": (128, 3)}
# snr_gamma of each denoiser when set to "auto" (benchmarks/README.md, "Sampler,
# guidance interval and Min-SNR training"):
# a trade of TSTR for LD and closeness to real people, worth it for the conv network
# (whose purpose is LD), not for the MLP (small LD gain, larger TSTR loss).
_AUTO_SNR_GAMMA = {"mlp": None, "conv": 2.0}
# learning_rate_init and max_iter of each denoiser when set to "auto": at most
# _AUTO_MAX_EPOCHS epochs, and for the conv network at most a budget of training
# examples, which bounds the fit time of large cohorts at a small cost in LD; the
# cap keeps the demo cohort's fit short (benchmarks/README.md, "The conv denoiser
# by default"). The MLP loses label signal at the conv network's shorter schedule
# and costs little per epoch, so it keeps 400 epochs at 1e-3.
_AUTO_LEARNING_RATE = {"mlp": 1e-3, "conv": 2e-3}
_AUTO_MAX_EPOCHS = {"mlp": 400, "conv": 240}
_AUTO_EXAMPLES = {"mlp": None, "conv": 100 * 7_200}
# Rows sampled together on a CPU (see inference_batches), by network and
# sampling dtype: the conv network's float32 activations are wider than the
# MLP's and fall out of cache sooner, so it samples fastest in smaller batches,
# while its bfloat16 copy and the MLP are fastest at 256 (benchmarks/README.md,
# "Sampling throughput").
_CPU_BATCH = {
    ("mlp", "float32"): 256,
    ("mlp", "bfloat16"): 256,
    ("conv", "float32"): 64,
    ("conv", "bfloat16"): 256,
}
# The distillation budget of distilled_steps: teacher trajectories from fresh
# noise (a fixed number: the student learns the teacher's map, not the data, so
# the cost does not grow with the cohort), student epochs over them and the
# student's peak learning rate (benchmarks/README.md, "Distilled few-step
# samplers").
_DISTILLATION_TRAJECTORIES = 32_000
# distilled_steps="auto": a 2-step sampler when the denoiser trains on at least this
# many latents, where the fit's cost no longer grows with the cohort (the epoch
# budgets are budgets of examples) and the fixed cost of distillation is a modest
# share of it; none below, where the fit is short and sampling already cheap.
_AUTO_DISTILLED_STEPS = 2
_AUTO_DISTILLATION_ROWS = 4_000
_DISTILLATION_EPOCHS = 6
_DISTILLATION_LEARNING_RATE = 5e-4
# Rows per pass when scoring the validation latents on a CPU.
_VALIDATION_BATCH = 512
# More classes than this under label_type="auto" look like a trait in whole units.
_MANY_CLASSES = 20


def _architecture(config: dict) -> str:
    """The denoiser a module config describes; files written before ``"conv"`` existed hold MLPs."""
    return config.get("architecture", "mlp")


def _validation_score(net, tensors) -> float:
    """Minus the velocity MSE of the validation draws (higher is better).

    Scored in row batches, which keep the conv network's activations in cache
    on a CPU.
    """
    x_t, t, labels, target = tensors
    total = 0.0
    for rows in inference_batches(len(x_t), x_t.device, _VALIDATION_BATCH):
        err = net(x_t[rows], t[rows], labels[rows]) - target[rows]
        total += float(err.square().sum())
    return -total / target.numel()


class ConditionalLatentDiffusion(TorchEstimatorMixin, BaseEstimator):
    """Label-conditioned denoising diffusion in a latent space, with classifier-free guidance.

    Fitted on latents ``Z`` (e.g. :meth:`GenotypeVAE.transform`) and labels
    ``y``; :meth:`sample` draws new latents for requested labels. Labels are
    classes (binary or multi-class, embedded by a table) or the values of a
    quantitative trait (embedded from its standardised value; see
    ``label_type``). Latents are standardised per dimension internally and
    returned on their original scale.

    The model is a DDPM with ``n_timesteps`` noising steps; the network
    predicts the velocity ``v = sqrt(a_t) eps - sqrt(1 - a_t) z`` (equivalent
    to predicting the noise, and numerically stable at the pure-noise end
    where an epsilon model's estimate of ``z`` divides by almost zero). The
    label is replaced by a learned null token with probability ``p_uncond``
    during training, so one network learns both the conditional and the
    unconditional prediction; sampling mixes them,
    ``v = v_uncond + s * (v_cond - v_uncond)`` with
    ``s = guidance_scale``, in one batched pass, and integrates the
    probability-flow ODE from noise in ``n_steps`` steps of ``sampler``.

    Parameters
    ----------
    denoiser : {"auto", "conv", "mlp"}, default="auto"
        The network. ``"conv"``: kernel-3 convolutions along the latent read
        as ``n_features // latent_channels`` positions of ``latent_channels``
        values (the layout of :meth:`GenotypeVAE.transform`), grouped into
        tokens of ``patch_size`` positions; it learns the local haplotype
        structure. ``"mlp"``: a residual MLP over the flattened latent,
        cheaper to fit and to sample but blurrier: its samples blend
        individuals and weaken LD (benchmarks/README.md, "Denoiser: why the
        MLP blends, and the convolutional alternative").
        ``"auto"``: ``"conv"`` when ``latent_channels`` divides the number of
        latent features (every :class:`GenotypeVAE` latent with matching
        ``latent_channels``), ``"mlp"`` otherwise; ``module_config_`` records
        the choice.
    hidden_size : int or "auto", default="auto"
        Width of the residual stream (channels per token for ``"conv"``).
        ``"auto"``: 256 for ``"mlp"``, 128 for ``"conv"``.
    n_blocks : int or "auto", default="auto"
        Residual blocks of the denoiser. ``"auto"``: 3 for both (for
        ``"conv"`` a receptive field of 13 tokens, 52 latent positions with
        ``patch_size=4``).
    latent_channels : int or "auto", default="auto"
        Channels per latent position, for ``denoiser="conv"`` (must divide
        the number of latent features). ``"auto"``: the channels the
        upstream VAE hands on when a :class:`~genosynth.GenerativePipeline`
        fits this step (the ``latent_channels`` argument of :meth:`fit`),
        else 8, the VAE's default. An int that contradicts the VAE's is
        refused rather than read in the wrong layout. Ignored by ``"mlp"``.
    patch_size : int, default=4
        Consecutive latent positions that ``denoiser="conv"`` reads as one
        token. Patches shorten the sequence the convolutions run over, so a
        wider stream costs less: patches of 4 with 128 channels learn as well
        as single positions with 64 channels, in less time
        (benchmarks/README.md, "Denoiser: why the MLP blends, and the
        convolutional alternative"). Ignored by ``"mlp"``.
    n_timesteps : int, default=1000
        Training diffusion steps ``T``.
    beta_schedule : {"cosine", "scaled_linear"}, default="cosine"
        Noise schedule; "scaled_linear" is the reference implementation's.
    p_uncond : float, default=0.2
        Probability of training with the null label.
    label_type : {"auto", "categorical", "continuous"}, default="auto"
        How ``y`` conditions the model. ``"categorical"``: class labels, one
        learned embedding per class. ``"continuous"``: a quantitative trait;
        the standardised value ``v`` is embedded as ``v * w + MLP(v)``, and
        :meth:`sample` takes any value within the range seen in ``fit``.
        ``"auto"``: ``"continuous"`` when sklearn's ``type_of_target`` calls
        ``y`` continuous (floats that are not all whole numbers), else
        ``"categorical"``; set it explicitly for, say, a trait recorded in
        whole years.
    snr_gamma : float, "auto" or None, default="auto"
        Min-SNR-gamma weighting of the training loss (Hang et al. 2023; see
        :func:`genosynth.generative.diffusion._schedules.min_snr_velocity_weights`): nearly clean
        timesteps stop dominating the gradient. None trains on the plain
        velocity loss. ``"auto"``: 2 for ``"conv"``, None for ``"mlp"``.
        It is a trade of a little label signal for LD and for synthetic
        individuals as far from the training set as new people: worth it for
        the conv network, whose purpose is LD, not for the MLP
        (benchmarks/README.md, "Sampler, guidance interval and Min-SNR
        training"). Set None when the label signal matters more than LD.
    timestep_sampling : {"importance", "uniform"}, default="importance"
        How training draws the timestep of each row under ``snr_gamma``.
        ``"uniform"``: every timestep equally often, each row's loss
        multiplied by its weight, so most rows land where the weight is near
        zero (both ends of the process) and teach little. ``"importance"``:
        timesteps drawn in proportion to their weight (mixed with a tenth of
        uniform draws, stratified within each mini-batch), each row's loss
        corrected so that the objective is the same: the same loss with
        less noise, which learned more in the same number of epochs
        (benchmarks/README.md, "Importance-sampled timesteps and a one-stage
        VAE"). Without ``snr_gamma`` both draw uniformly.
    guidance_scale : float, default=4.0
        Default classifier-free guidance strength ``s`` for :meth:`sample`
        on the steps of ``guidance_interval`` (1 = plain conditional model,
        0 = unconditional; with ``guidance_interval=(0.0, 1.0)``, 0 is an
        unconditional model throughout). The default is the strength with
        the best TSTR in the guidance sweep of benchmarks/README.md
        ("Sampler, guidance interval and Min-SNR training").
    guidance_interval : (float, float), default=(0.5, 1.0)
        The part of the noising process, as fractions ``(start, stop)`` of
        ``n_timesteps``, whose sampling steps are guided; the other steps use
        the plain conditional model (``s = 1``) in one pass instead of two
        (Kynkäänniemi et al. 2024). Guidance acts on the label signal at the
        noisy end of the process, so ``(0.5, 1.0)`` keeps what full guidance
        gives at fewer network evaluations, while guiding only the clean end
        loses the label signal (benchmarks/README.md, "Sampler, guidance
        interval and Min-SNR training").
    n_steps : int, default=8
        Default number of sampling steps; cost is linear in the steps. The
        default is the fewest steps that score like many more
        (benchmarks/README.md, "Sampler, guidance interval and Min-SNR
        training").
    sampler : {"dpm++2m", "ddim"}, default="dpm++2m"
        ODE solver of :meth:`sample`. ``"ddim"``: deterministic DDIM (first
        order). ``"dpm++2m"``: DPM-Solver++(2M) (Lu et al. 2022), second
        order at the same cost per step, so fewer steps give the same
        cohort (benchmarks/README.md, "Sampler, guidance interval and
        Min-SNR training").
    distilled_steps : int, "auto" or None, default="auto"
        After fitting, also train a few-step sampler for unconditional
        draws: a copy of the denoiser trained so that each of its
        ``distilled_steps`` DDIM steps lands where a stretch of the fitted
        denoiser's ``n_steps`` steps lands (equal stretches; when they cannot
        be, the longer ones at the noisy end), on the fitted denoiser's own
        trajectories from fresh noise (no training data enters, so it adds
        nothing to what the model reveals about its training individuals).
        :meth:`sample` then uses it whenever every step is unconditional
        (``guidance_scale=0`` over ``(0.0, 1.0)``, which is how the
        label-model pipeline samples) and ``n_steps`` is not passed; guided
        draws keep the fitted denoiser. The default samples about twice as
        fast as ``n_steps`` steps and keeps a little less local LD
        (benchmarks/README.md, "Importance-sampled timesteps and a one-stage
        VAE"). None, or a value not below ``n_steps``: no distillation. It
        costs fit time (32,000 trajectories and six epochs of training over
        them, a fixed budget whatever the cohort size). ``"auto"``: 2 when
        the denoiser trains on 4,000 latents or more (after the validation
        split), where the fit's cost no longer grows with the cohort and the
        fixed cost of distillation is a modest share of it; None below, where
        the fit is short and sampling already cheap.
    sampling_dtype : {"auto", "float32", "bfloat16"}, default="auto"
        Precision of the denoiser in :meth:`sample` (training has its own
        ``training_dtype``). ``"bfloat16"`` runs a bfloat16 copy of the
        network (the sampler's updates stay float32), faster on CPUs with
        native bfloat16 (AVX512-BF16, AMX) and on GPUs; its cohorts score
        like float32 ones (benchmarks/README.md, "bfloat16 sampling") but
        are not bit-identical to them, nor across machines with different
        bfloat16 kernels. ``"auto"``: bfloat16 where the device computes it
        natively, float32 elsewhere.
    training_dtype : {"auto", "float32", "bfloat16"}, default="auto"
        Precision of the denoiser's matrix products in :meth:`fit` (torch
        autocast; the weights, the optimiser state, the loss and the
        validation score stay float32). ``"bfloat16"`` is faster where the
        device computes it natively, and its cohorts score like float32 ones
        (benchmarks/README.md, "bfloat16 training"). Fits repeat on one
        machine but are not bit-identical to float32 fits, nor across
        machines. ``"auto"``:
        bfloat16 where the device computes it natively (CPUs with
        AVX512-BF16 or AMX, CUDA GPUs with bfloat16), float32 elsewhere.
    max_iter : int or "auto", default="auto"
        Maximum number of epochs. ``"auto"``: 400 for ``"mlp"``; for
        ``"conv"`` ``min(240, ceil(1,152,000 / n_fit))`` with ``n_fit`` the
        training rows after the validation split, i.e. 240 epochs up to
        4,800 rows and then a fixed budget of training examples, 160 epochs
        at 10,000 individuals: a bounded fit time whose cost in LD against
        much longer training is small (benchmarks/README.md, "The conv
        denoiser by default").
    batch_size : int, default=256
        Mini-batch size.
    learning_rate_init : float or "auto", default="auto"
        Peak AdamW learning rate (cosine-decayed). ``"auto"``: 2e-3 for
        ``"conv"``, 1e-3 for ``"mlp"``.
    weight_decay : float, default=0.0
        AdamW weight decay.
    ema_decay : float, default=0.995
        Exponential moving average of the weights per optimiser step; the
        EMA weights are the ones validated and kept.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the latents, score the denoising
        loss on them (fixed noise and timesteps) after each epoch, stop after
        ``n_iter_no_change`` epochs without improvement and keep the best
        EMA weights. Stopping on held-out loss also stops the network from
        memorising training individuals.
    validation_fraction : float, default=0.1
        Share of samples held out when ``early_stopping``.
    n_iter_no_change : int, default=40
        Patience of early stopping, in epochs.
    tol : float, default=0.0
        Minimum validation improvement that counts.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda[:k]"``.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, validation split, batch order and training
        noise. Sampling has its own ``random_state`` argument.
    verbose : bool, default=False
        Show a progress bar with the running loss and validation score.

    Attributes
    ----------
    label_type_ : {"categorical", "continuous"}
        How the fitted model is conditioned (``label_type`` resolved).
    classes_ : ndarray
        Labels seen in ``fit`` (categorical labels only).
    class_prior_ : ndarray
        Share of each label in the training data (used when ``y=None``;
        categorical labels only).
    label_mean_, label_scale_ : float
        Standardisation of a continuous label (continuous labels only).
    label_quantiles_ : ndarray
        Up to 1,001 evenly spaced quantiles of a continuous training label,
        from its minimum to its maximum: :meth:`sample` with ``y=None`` draws
        labels from them, and requested labels must lie between the first and
        the last (continuous labels only).
    n_features_in_ : int
        Latent dimension.
    mean_, scale_ : ndarray of shape (n_features_in_,)
        Per-dimension standardisation of the latents.
    module_ : torch.nn.Module
        The denoiser (EMA weights of the best validation epoch).
    distilled_module_ : torch.nn.Module
        The few-step unconditional sampler (only when ``fit`` distilled one,
        see ``distilled_steps``).
    distilled_timesteps_ : list of int
        Its DDIM timesteps, noisiest first (only with ``distilled_module_``).
    distilled_from_ : dict
        The ``n_steps`` and ``sampler`` of the fitted denoiser it was
        distilled from (only with ``distilled_module_``): after
        ``set_params`` changes either, :meth:`sample` runs the fitted
        denoiser with the new settings instead.
    loss_curve_, validation_scores_ : list of float
        Training loss and validation score (minus the denoising loss) per epoch.
    n_iter_, best_iteration_ : int
        Epochs run, and the epoch whose weights were kept.

    Examples
    --------
    >>> import numpy as np
    >>> from genosynth import ConditionalLatentDiffusion
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 300)
    >>> Z = rng.normal(size=(300, 8)) + 3 * y[:, None]
    >>> model = ConditionalLatentDiffusion(max_iter=5, random_state=0).fit(Z, y)
    >>> Z_new, y_new = model.sample(4, y=1, random_state=0)
    >>> Z_new.shape, y_new.tolist()
    ((4, 8), [1, 1, 1, 1])

    A quantitative trait:

    >>> trait = Z[:, 0] + rng.normal(size=300)
    >>> model = ConditionalLatentDiffusion(max_iter=5, random_state=0).fit(Z, trait)
    >>> model.label_type_
    'continuous'
    >>> Z_new, y_new = model.sample(y=[-1.0, 0.5], random_state=0)
    >>> Z_new.shape, y_new.tolist()
    ((2, 8), [-1.0, 0.5])
    """

    _parameter_constraints = {
        "denoiser": [StrOptions({*DENOISERS, "auto"})],
        "latent_channels": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "patch_size": [Interval(Integral, 1, None, closed="left")],
        "hidden_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "n_blocks": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "n_timesteps": [Interval(Integral, 2, None, closed="left")],
        "beta_schedule": [StrOptions(set(SCHEDULES))],
        "p_uncond": [Interval(Real, 0, 1, closed="both")],
        "label_type": [StrOptions({"auto", "categorical", "continuous"})],
        "snr_gamma": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"}), None],
        "timestep_sampling": [StrOptions({"importance", "uniform"})],
        "guidance_scale": [Interval(Real, 0, None, closed="left")],
        "guidance_interval": ["array-like"],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "sampler": [StrOptions(set(SAMPLERS))],
        "distilled_steps": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "sampling_dtype": [StrOptions(DTYPES)],
        "training_dtype": [StrOptions(DTYPES)],
        "max_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "ema_decay": [Interval(Real, 0, 1, closed="left"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        denoiser="auto",
        *,
        hidden_size="auto",
        n_blocks="auto",
        latent_channels="auto",
        patch_size=4,
        n_timesteps=1000,
        beta_schedule="cosine",
        p_uncond=0.2,
        guidance_scale=4.0,
        n_steps=8,
        label_type="auto",
        snr_gamma="auto",
        timestep_sampling="importance",
        guidance_interval=(0.5, 1.0),
        sampler="dpm++2m",
        distilled_steps="auto",
        sampling_dtype="auto",
        training_dtype="auto",
        max_iter="auto",
        batch_size=256,
        learning_rate_init="auto",
        weight_decay=0.0,
        ema_decay=0.995,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=40,
        tol=0.0,
        device="auto",
        random_state=None,
        verbose=False,
    ):
        self.denoiser = denoiser
        self.hidden_size = hidden_size
        self.n_blocks = n_blocks
        self.latent_channels = latent_channels
        self.patch_size = patch_size
        self.n_timesteps = n_timesteps
        self.beta_schedule = beta_schedule
        self.p_uncond = p_uncond
        self.label_type = label_type
        self.snr_gamma = snr_gamma
        self.timestep_sampling = timestep_sampling
        self.guidance_scale = guidance_scale
        self.guidance_interval = guidance_interval
        self.n_steps = n_steps
        self.sampler = sampler
        self.distilled_steps = distilled_steps
        self.sampling_dtype = sampling_dtype
        self.training_dtype = training_dtype
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.weight_decay = weight_decay
        self.ema_decay = ema_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    _fitted_modules = ("module_", "distilled_module_")
    # Parameters a model file written before they existed was fitted with (persistence).
    _legacy_params = {"timestep_sampling": "uniform"}

    def _build_module(self, config: dict) -> torch.nn.Module:
        kwargs = {k: v for k, v in config.items() if k != "architecture"}
        return DENOISERS[_architecture(config)](**kwargs)

    def _alphas_cumprod(self) -> torch.Tensor:
        return SCHEDULES[self.beta_schedule](self.n_timesteps).float()

    def _resolved_channels(self, handed_on) -> int:
        """Channels per latent position: the parameter, or what the VAE hands on."""
        if handed_on is not None:
            handed_on = positive_int(handed_on, "latent_channels")
            if self.latent_channels not in ("auto", handed_on):
                raise ValueError(
                    f"latent_channels={self.latent_channels} contradicts the VAE's latent of "
                    f"{handed_on} channels per position; leave it 'auto' or set it to "
                    f"{handed_on}"
                )
            return handed_on
        return _DEFAULT_LATENT_CHANNELS if self.latent_channels == "auto" else self.latent_channels

    def _resolved_denoiser(self, n_features: int, channels: int) -> str:
        """The network ``denoiser`` names for a latent of ``n_features`` values."""
        if self.denoiser != "auto":
            return self.denoiser
        # The conv network needs whole positions of latent_channels values.
        return "mlp" if n_features % channels else "conv"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, Z, y, *, latent_channels=None):
        """Fit the denoiser on latents ``Z`` with labels ``y``.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_features)
            Latent vectors (e.g. from :meth:`GenotypeVAE.transform`).
        y : array-like of shape (n_samples,)
            Class labels (binary or multi-class) or a quantitative trait
            (see ``label_type``).
        latent_channels : int, default=None
            The layout of ``Z``: values per latent position, as the encoder
            that made it lays them out. A :class:`~genosynth.GenerativePipeline`
            passes its VAE's; None leaves it to the ``latent_channels``
            parameter.

        Returns
        -------
        self
        """
        self._guidance_interval()
        teacher_steps = sampling_timesteps(self.n_timesteps, self.n_steps)
        for name in ("distilled_module_", "distilled_timesteps_", "distilled_from_"):
            self.__dict__.pop(name, None)  # a refit without distillation keeps no stale sampler
        Z = check_array(Z, dtype=np.float32, ensure_min_samples=2, input_name="Z")
        labels = self._fit_labels(y, Z.shape[0])
        self.n_features_in_ = Z.shape[1]
        channels = self._resolved_channels(latent_channels)
        architecture = self._resolved_denoiser(Z.shape[1], channels)
        if architecture == "conv" and Z.shape[1] % channels:
            raise ValueError(
                f"denoiser='conv' reads the {Z.shape[1]} latent features as positions of "
                f"latent_channels={channels} values, which does not divide them; "
                "set latent_channels to the VAE's"
            )
        self.mean_ = Z.mean(0)
        std = Z.std(0)
        # A constant latent dimension is modelled as exactly its training value.
        self.scale_ = np.where(std > 1e-8, std, 1.0).astype(np.float32)
        X = (Z - self.mean_) / self.scale_

        device = self._device()
        seed = seed_from(self.random_state)
        rng = np.random.default_rng(seed)
        auto_hidden, auto_blocks = self.hidden_size == "auto", self.n_blocks == "auto"
        self.module_config_ = {
            "architecture": architecture,
            "n_features": self.n_features_in_,
            "n_classes": None if self.label_type_ == "continuous" else len(self.classes_),
            "hidden": _AUTO_SIZES[architecture][0] if auto_hidden else self.hidden_size,
            "n_blocks": _AUTO_SIZES[architecture][1] if auto_blocks else self.n_blocks,
        }
        if architecture == "conv":
            self.module_config_["channels"] = channels
            self.module_config_["patch"] = self.patch_size
        with seeded(seed):
            self.module_ = self._build_module(self.module_config_).to(device)

        X_t = torch.from_numpy(X).to(device)
        y_t = torch.from_numpy(labels).to(device)
        fit_idx, val_idx = self._validation_split(len(X), rng, device)
        validation = None
        if len(val_idx):
            validation = self._validation_draws(
                X_t[val_idx], y_t[val_idx], self._generator(rng.integers(2**31), "cpu"), device
            )
        self._train_network(
            (X_t[fit_idx], y_t[fit_idx]),
            validation,
            _validation_score,
            rng=rng,
            device=device,
            ema_decay=self.ema_decay,
            # The score is minus the validation velocity MSE: show the MSE itself.
            score_name="val_mse",
            score_is_negated_loss=True,
        )
        student_steps = self._student_steps(len(fit_idx))
        if student_steps is not None:
            self._distil(teacher_steps, student_steps, rng, device)
        return self

    def _student_steps(self, n_rows: int) -> int | None:
        """The steps of the sampler ``fit`` distils for ``n_rows`` training latents, or None.

        ``distilled_steps`` resolved; no student at or beyond ``n_steps``, which
        the fitted denoiser already samples in.
        """
        steps = self.distilled_steps
        if steps == "auto":
            steps = _AUTO_DISTILLED_STEPS if n_rows >= _AUTO_DISTILLATION_ROWS else None
        return steps if steps is not None and steps < self.n_steps else None

    def _distil(self, teacher_steps, student_steps: int, rng, device) -> None:
        """Train ``distilled_module_``, the ``student_steps``-step unconditional sampler."""
        self.distilled_module_, history = distil_unconditional(
            self.module_,
            self.n_features_in_,
            self._alphas_cumprod(),
            teacher_steps,
            self.sampler,
            student_steps,
            n_trajectories=_DISTILLATION_TRAJECTORIES,
            max_iter=_DISTILLATION_EPOCHS,
            learning_rate_init=_DISTILLATION_LEARNING_RATE,
            ema_decay=self.ema_decay,
            validation_fraction=self.validation_fraction,
            generator=self._generator(rng.integers(2**31), "cpu"),
            training_dtype=self.training_dtype,
            verbose=bool(self.verbose),
        )
        self.distilled_module_.eval()
        self.distilled_timesteps_ = student_timesteps(teacher_steps, student_steps)
        self.distilled_from_ = {"n_steps": self.n_steps, "sampler": self.sampler}

    def _epoch_budget(self, n_train: int) -> int:
        if self.max_iter != "auto":
            return self.max_iter
        architecture = self.module_config_["architecture"]
        cap, budget = _AUTO_MAX_EPOCHS[architecture], _AUTO_EXAMPLES[architecture]
        if budget is None:
            return cap
        return min(cap, math.ceil(budget / max(n_train, 1)))

    def _learning_rate(self) -> float:
        if self.learning_rate_init == "auto":
            return _AUTO_LEARNING_RATE[self.module_config_["architecture"]]
        return self.learning_rate_init

    def _snr_weights(self, alphas_cumprod: torch.Tensor):
        """Per-timestep loss weights of Min-SNR training, or None (``snr_gamma``)."""
        gamma = self.snr_gamma
        if gamma == "auto":
            gamma = _AUTO_SNR_GAMMA[self.module_config_["architecture"]]
        return None if gamma is None else min_snr_velocity_weights(alphas_cumprod, float(gamma))

    def _objective(self, device):
        """The loss of one mini-batch: velocity MSE (Min-SNR weighted), some labels nulled."""
        ac = self._alphas_cumprod().to(device)
        T, p_uncond = self.n_timesteps, float(self.p_uncond)
        snr_weight = self._snr_weights(ac)
        importance = self.timestep_sampling == "importance"
        training_dtype = self.training_dtype

        def loss_fn(net, batch, generator):
            x0, lab = batch
            b = len(x0)
            if snr_weight is not None and importance:
                t, correction = importance_timesteps(snr_weight, b, generator)
            else:
                t = torch.randint(0, T, (b,), generator=generator, device=device)
                correction = None if snr_weight is None else snr_weight[t]
            noise = torch.randn(x0.shape, generator=generator, device=device)
            drop = torch.rand(b, generator=generator, device=device) < p_uncond
            lab = torch.where(drop, torch.full_like(lab, net.null_label), lab)
            with precision(device, training_dtype):
                pred = net(add_noise(x0, noise, ac[t]), t, lab)
            err = (pred.float() - velocity(x0, noise, ac[t])).square().mean(-1)
            if correction is not None:
                err = err * correction
            return err.mean()

        return loss_fn

    def _validation_draws(self, x0, labels, generator, device) -> tuple:
        """Noised validation latents, their timesteps, labels and target velocities.

        The noise and timesteps are drawn once, so that every epoch is scored
        on the same draws; each latent is repeated to average over timesteps.
        """
        ac = self._alphas_cumprod().to(device)
        x0 = x0.repeat(_N_VALIDATION_REPEATS, 1)
        labels = labels.repeat(_N_VALIDATION_REPEATS)
        t = torch.randint(0, self.n_timesteps, (len(x0),), generator=generator).to(device)
        noise = torch.randn(x0.shape, generator=generator).to(device)
        return add_noise(x0, noise, ac[t]), t, labels, velocity(x0, noise, ac[t])

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_")

    def _fit_labels(self, y, n_samples: int) -> np.ndarray:
        """Check ``y``, set the label attributes, and return what the network sees.

        Class indices (int64) for categorical labels, standardised values
        (float32) for a continuous one.
        """
        # type_of_target first: it names unknown label types as sklearn's checks expect.
        kind = type_of_target(y, input_name="y", raise_unknown=True)
        label_type = self.label_type
        if label_type == "auto":
            label_type = "continuous" if kind == "continuous" else "categorical"
        if label_type == "categorical" and kind not in ("binary", "multiclass"):
            raise ValueError(
                f"Unknown label type: y must be class labels, got {kind!r} targets "
                "(set label_type='continuous' for a quantitative trait)"
            )
        if kind not in ("binary", "multiclass", "continuous"):
            raise ValueError(f"y must be one label per sample, got {kind!r} targets")
        y = check_labels(y, n_samples, rows="latents")
        self.label_type_ = label_type
        if label_type == "continuous":
            self.label_mean_, self.label_scale_, self.label_quantiles_ = trait_summary(y)
            return ((y - self.label_mean_) / self.label_scale_).astype(np.float32)
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) < 2:
            raise ValueError(
                f"y has a single class ({encoder.classes_[0]!r}); conditioning needs at least two"
            )
        if self.label_type == "auto" and len(encoder.classes_) > _MANY_CLASSES:
            warnings.warn(
                f"y has {len(encoder.classes_)} classes, each conditioned on by its own "
                "embedding; if it is a quantitative trait recorded in whole units, set "
                "label_type='continuous'",
                UserWarning,
                stacklevel=3,
            )
        self.classes_ = encoder.classes_
        labels = encoder.transform(y)
        self.class_prior_ = np.bincount(labels, minlength=len(self.classes_)) / len(labels)
        return labels.astype(np.int64)

    def _guidance_interval(self, value=None) -> tuple[float, float]:
        """``guidance_interval`` (or ``value``) checked: fractions ``0 <= start <= stop <= 1``."""
        value = self.guidance_interval if value is None else value
        try:
            interval = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            interval = np.full(1, np.nan)  # reported below, with the value given
        if interval.shape != (2,) or not 0 <= interval[0] <= interval[1] <= 1:
            raise ValueError(
                f"guidance_interval must be two fractions 0 <= start <= stop <= 1, got {value!r}"
            )
        return float(interval[0]), float(interval[1])

    def _requested_labels(self, n_samples, y, rng) -> tuple[np.ndarray, np.ndarray]:
        """The labels of the rows to sample (see :meth:`sample`).

        Returns what the network sees (class indices, or standardised values
        of a continuous label) and the labels to report.
        """
        seen, labels = requested_labels(self, n_samples, y, rng)
        if has_continuous_label(self):
            return ((seen - self.label_mean_) / self.label_scale_).astype(np.float32), labels
        return seen, labels

    def sample(
        self,
        n_samples=1,
        *,
        y=None,
        guidance_scale=None,
        guidance_interval=None,
        n_steps=None,
        random_state=None,
    ):
        """Draw latents for requested labels.

        Parameters
        ----------
        n_samples : int, default=1
            Number of latents (ignored when ``y`` is an array).
        y : None, scalar or array-like, default=None
            None draws labels from the training label mix (for a continuous
            label, from its training distribution); a scalar gives all
            samples that label; an array gives one sample per entry. A
            continuous label must lie within the range seen in ``fit``.
        guidance_scale : float, optional
            Classifier-free guidance strength; defaults to the parameter.
        guidance_interval : (float, float), optional
            The steps ``guidance_scale`` applies to; defaults to the
            parameter. ``guidance_scale=0`` with ``(0.0, 1.0)`` samples the
            unconditional model, one network evaluation per step.
        n_steps : int, optional
            Sampling steps of the fitted denoiser; defaults to the parameter.
            Unconditional draws of a model fitted with a distilled sampler
            (``distilled_steps``) use it unless ``n_steps`` is passed or the
            ``n_steps`` or ``sampler`` parameter changed since the fit.
        random_state : int, RandomState instance or None
            The same value gives identical output.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features_in_), float32
        y : ndarray of shape (n_samples,)
            The label of each latent.
        """
        check_is_fitted(self)
        self._validate_params()  # set_params after fit (sampler="euler") is refused here
        scale = self.guidance_scale if guidance_scale is None else float(guidance_scale)
        steps = positive_int(self.n_steps if n_steps is None else n_steps, "n_steps")
        if not (np.isfinite(scale) and scale >= 0):
            raise ValueError(f"guidance_scale must be a finite number >= 0, got {scale}")
        self._guidance_interval()  # an invalid parameter is refused even when overridden here
        start, stop = self._guidance_interval(guidance_interval)
        rng = check_random_state(random_state)
        labels, y_out = self._requested_labels(n_samples, y, rng)
        continuous = has_continuous_label(self)
        gen = self._generator(rng, "cpu")
        # Every step unconditional: the distilled sampler, when fitted, takes them, unless
        # other sampling steps are asked for than those it was distilled from.
        settings = {"n_steps": self.n_steps, "sampler": self.sampler}
        distilled = (
            n_steps is None
            and scale == 0.0
            and (start, stop) == (0.0, 1.0)
            and hasattr(self, "distilled_module_")
            and getattr(self, "distilled_from_", settings) == settings
        )
        if distilled:
            module = self._module_on(self._device(), "distilled_module_").eval()
            sampler, timesteps = "ddim", list(self.distilled_timesteps_)
        else:
            module = self._module_on(self._device()).eval()
            sampler, timesteps = self.sampler, sampling_timesteps(self.n_timesteps, steps)
        device = module.out.weight.device
        sampling_dtype = resolve_dtype(device, self.sampling_dtype)
        if sampling_dtype == "bfloat16":
            # A bfloat16 copy of the network rather than autocast, which
            # re-casts every layer's weights and float32 activations on each
            # call (benchmarks/README.md, "bfloat16 sampling").
            module = copy.deepcopy(module).to(torch.bfloat16)
        dtype = module.out.weight.dtype
        # Noise is drawn on the CPU so a seed gives the same cohort on any device.
        noise = torch.randn((len(labels), self.n_features_in_), generator=gen)
        every_label = None if continuous else torch.arange(module.null_label + 1, device=device)
        alphas_cumprod = self._alphas_cumprod()
        out = []
        cpu_rows = _CPU_BATCH[_architecture(self.module_config_), sampling_dtype]
        for rows in inference_batches(len(labels), device, cpu_rows):
            # The conditioning layers run once per distinct label of a step:
            # `keys` lists those labels (the null label last), `lab` and `null`
            # index them per row. A continuous label has one key per row.
            if continuous:
                keys = torch.from_numpy(np.append(labels[rows], np.nan).astype(np.float32))
                keys = keys.to(device)
                lab = torch.arange(len(keys) - 1, device=device)
                null = torch.full_like(lab, len(keys) - 1)
            else:
                keys = every_label
                lab = torch.as_tensor(labels[rows], device=device)
                null = torch.full_like(lab, module.null_label)

            def v_fn(x_t, t, lab=lab, null=null, keys=keys):
                s = scale if start <= t / self.n_timesteps <= stop else 1.0
                table = module.condition(torch.full((len(keys),), t, device=device), keys)
                x_t = x_t.to(dtype)
                if s in (0.0, 1.0):  # one prediction: unconditional or conditional
                    index = null if s == 0 else lab
                    v = module(x_t, None, None, cond=table, index=index)
                else:
                    v = module.guided(x_t, table, lab, null, s)
                # The sampler's update itself stays in float32.
                return v.float()

            x_T = noise[rows].to(device)
            out.append(SAMPLERS[sampler](v_fn, x_T, alphas_cumprod, timesteps).cpu())
        x = torch.cat(out) if out else noise
        Z = x.numpy() * self.scale_ + self.mean_
        return Z.astype(np.float32), y_out

"""Noise schedules and samplers for latent diffusion: pure maths, no network.

A discrete DDPM with ``T`` steps is described by ``alphas_cumprod`` (the
signal share kept after ``t + 1`` noising steps): ``x_t = sqrt(a_t) x_0 +
sqrt(1 - a_t) eps``. The network predicts the "velocity" ``v = sqrt(a_t) eps -
sqrt(1 - a_t) x_0`` (Salimans & Ho 2022) rather than the noise: both ``x_0``
and ``eps`` follow from ``v`` without dividing by ``sqrt(a_t)``, which is
close to zero at the pure-noise end and would blow up an epsilon model's
estimate of ``x_0`` there. The network is passed in as a callable
``v_fn(x, t)``; randomness enters only through explicit arguments.
"""

from __future__ import annotations

import math

import torch


def scaled_linear_alphas_cumprod(
    n_timesteps: int, beta_start: float = 0.00085, beta_end: float = 0.012
) -> torch.Tensor:
    """Cumulative signal share of the "scaled linear" schedule (the reference's).

    Betas are linear in their square root between ``beta_start`` and
    ``beta_end``.

    Examples
    --------
    >>> a = scaled_linear_alphas_cumprod(1000)
    >>> bool(a[0] > 0.999 and a[-1] < 0.01)
    True
    """
    betas = torch.linspace(beta_start**0.5, beta_end**0.5, n_timesteps, dtype=torch.float64) ** 2
    return torch.cumprod(1.0 - betas, 0)


def cosine_alphas_cumprod(n_timesteps: int, offset: float = 0.008) -> torch.Tensor:
    """Cumulative signal share of the cosine schedule (Nichol & Dhariwal 2021).

    Betas are clipped at 0.999 so the last step is (almost) pure noise
    without dividing by zero.

    Examples
    --------
    >>> a = cosine_alphas_cumprod(1000)
    >>> bool(a[0] > 0.999 and a[-1] < 1e-4)
    True
    """
    s = torch.arange(n_timesteps + 1, dtype=torch.float64) / n_timesteps
    f = torch.cos((s + offset) / (1 + offset) * math.pi / 2) ** 2
    betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
    return torch.cumprod(1.0 - betas, 0)


SCHEDULES = {"cosine": cosine_alphas_cumprod, "scaled_linear": scaled_linear_alphas_cumprod}


def add_noise(x0: torch.Tensor, noise: torch.Tensor, alphas_cumprod_t: torch.Tensor):
    """Forward process: ``x_t`` from clean ``x0``, noise and ``a_t`` of shape (batch,)."""
    a = alphas_cumprod_t.unsqueeze(-1)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def velocity(x0: torch.Tensor, noise: torch.Tensor, alphas_cumprod_t: torch.Tensor):
    """The v-prediction target for clean ``x0``, its noise, and ``a_t`` of shape (batch,)."""
    a = alphas_cumprod_t.unsqueeze(-1)
    return a.sqrt() * noise - (1 - a).sqrt() * x0


def min_snr_velocity_weights(alphas_cumprod: torch.Tensor, gamma: float) -> torch.Tensor:
    """Per-timestep weights of the velocity loss for Min-SNR-gamma training.

    Hang et al. 2023: weighting each timestep's clean-sample error by
    ``min(SNR, gamma)`` stops the nearly clean steps (huge SNR, trivial
    denoising) from dominating the gradient, and the timesteps stop competing
    for the network's capacity. A velocity error is ``SNR + 1`` times the
    clean-sample error, so the velocity loss is weighted by
    ``min(SNR, gamma) / (SNR + 1)``, with ``SNR = a / (1 - a)``.

    Examples
    --------
    >>> ac = torch.tensor([0.999, 0.5, 0.001], dtype=torch.float64)
    >>> [round(w, 3) for w in min_snr_velocity_weights(ac, 5.0).tolist()]
    [0.005, 0.5, 0.001]
    """
    snr = alphas_cumprod / (1 - alphas_cumprod)
    return snr.clamp(max=gamma) / (snr + 1)


def importance_timesteps(
    weights: torch.Tensor, n: int, generator: torch.Generator, floor: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Timesteps drawn in proportion to their loss weights, and each draw's correction.

    A weighted loss ``mean_t w(t) L_t`` over uniform timesteps spends most
    rows where ``w`` is nearly zero (Min-SNR weights are small at both ends
    of the process). Drawing ``t`` from ``p(t) = (1 - floor) w(t) / sum(w) +
    floor / T`` and weighting each row by ``w(t) / (T p(t))`` estimates the
    same loss, without bias, with rows where the weight is; ``floor`` keeps
    every timestep in training. The ``n`` draws are stratified (one per
    ``1/n`` of the cumulative distribution, in random order), which covers the
    process evenly within every mini-batch.

    Parameters
    ----------
    weights : Tensor of shape (T,)
        Non-negative loss weight of each timestep.
    n : int
        Number of draws.
    generator : torch.Generator
        Source of randomness; the draws are on its device.
    floor : float, default=0.1
        Share of the uniform distribution in the mixture.

    Returns
    -------
    t : Tensor of shape (n,), int64
    correction : Tensor of shape (n,), float32
        ``w(t) / (T p(t))``: multiply each row's unweighted loss by it.

    Examples
    --------
    >>> w = torch.tensor([0.0, 1.0, 3.0, 0.0])
    >>> t, c = importance_timesteps(w, 20_000, torch.Generator().manual_seed(0))
    >>> [round(float((t == k).float().mean()), 3) for k in range(4)]
    [0.025, 0.25, 0.7, 0.025]
    >>> round(float(c.mean()), 2)  # the mean weight, as uniform draws would give
    1.0
    """
    T, device = len(weights), generator.device
    w = weights.to(device, torch.float64).clamp(min=0)
    p = (1 - floor) * w / w.sum() + floor / T
    cdf = torch.cumsum(p, 0)
    stratum = torch.randperm(n, generator=generator, device=device).double()
    u = (stratum + torch.rand(n, generator=generator, device=device, dtype=torch.float64)) / n
    t = torch.searchsorted(cdf, u * cdf[-1]).clamp(max=T - 1)
    return t, (w[t] / (T * p[t])).float()


def sampling_timesteps(n_timesteps: int, n_steps: int) -> list[int]:
    """``n_steps`` evenly spaced training timesteps, last (noisiest) first.

    "Trailing" spacing: the first step is always ``T - 1``, so sampling starts
    from the schedule's pure-noise end whatever ``n_steps`` is.

    Examples
    --------
    >>> sampling_timesteps(1000, 4)
    [999, 749, 499, 249]
    """
    if not 1 <= n_steps <= n_timesteps:
        raise ValueError(f"n_steps must be in [1, {n_timesteps}], got {n_steps}")
    return [round(n_timesteps - 1 - i * n_timesteps / n_steps) for i in range(n_steps)]


@torch.no_grad()
def ddim_sample(v_fn, x: torch.Tensor, alphas_cumprod: torch.Tensor, timesteps) -> torch.Tensor:
    """Deterministic DDIM (eta = 0) from noise ``x`` through ``timesteps``.

    Parameters
    ----------
    v_fn : callable
        ``v_fn(x, t)`` -> predicted velocity, ``t`` an int timestep.
    x : Tensor of shape (batch, dim)
        Standard normal starting noise.
    alphas_cumprod : Tensor of shape (T,)
    timesteps : sequence of int
        Decreasing, from :func:`sampling_timesteps`.

    Returns
    -------
    Tensor of shape (batch, dim): the denoised sample.
    """
    ac = alphas_cumprod.to(x.device, torch.float32)
    steps = list(timesteps)
    for i, t in enumerate(steps):
        a_t = ac[t]
        a_prev = ac[steps[i + 1]] if i + 1 < len(steps) else torch.ones((), device=x.device)
        v = v_fn(x, t)
        x0 = a_t.sqrt() * x - (1 - a_t).sqrt() * v
        eps = (1 - a_t).sqrt() * x + a_t.sqrt() * v
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    return x


@torch.no_grad()
def dpm_solver_2m_sample(
    v_fn, x: torch.Tensor, alphas_cumprod: torch.Tensor, timesteps
) -> torch.Tensor:
    """DPM-Solver++(2M) (Lu et al. 2022): a second-order multistep ODE sampler.

    It integrates the same probability-flow ODE as deterministic DDIM, in the
    log signal-to-noise ratio ``lambda = log(sqrt(a) / sqrt(1 - a))``, from
    clean-sample predictions ``x0``. DDIM treats ``x0`` as constant over a
    step (first order); this sampler extrapolates it linearly in ``lambda``
    from the current and the previous prediction, which costs nothing extra
    and cuts the discretisation error, so fewer steps give the same cohort.
    The first step (no previous prediction) is a DDIM step, and the last
    returns the final ``x0`` prediction, as DDIM does.

    Parameters and return value are those of :func:`ddim_sample`.

    Examples
    --------
    An exact velocity oracle for Gaussian data ``N(3, 0.5^2)`` carries
    standard normal noise to that distribution:

    >>> ac = cosine_alphas_cumprod(1000).float()
    >>> def oracle(x, t):
    ...     a = ac[t]
    ...     x0 = 3 + a.sqrt() * 0.25 / (a * 0.25 + 1 - a) * (x - a.sqrt() * 3)
    ...     return (a.sqrt() * x - x0) / (1 - a).sqrt()
    >>> noise = torch.randn(20_000, 1, generator=torch.Generator().manual_seed(0))
    >>> out = dpm_solver_2m_sample(oracle, noise, ac, sampling_timesteps(1000, 15))
    >>> round(out.mean().item(), 1), round(out.std().item(), 2)
    (3.0, 0.5)
    """
    ac = alphas_cumprod.to(x.device, torch.float32)
    steps = list(timesteps)
    x0_prev = h_prev = None
    for i, t in enumerate(steps):
        a_t = ac[t]
        v = v_fn(x, t)
        x0 = a_t.sqrt() * x - (1 - a_t).sqrt() * v
        if i + 1 == len(steps):
            return x0
        a_s = ac[steps[i + 1]]
        h = 0.5 * (torch.log(a_s / (1 - a_s)) - torch.log(a_t / (1 - a_t)))
        d = x0
        if x0_prev is not None:
            # Linear extrapolation of x0 in lambda from the last two predictions.
            d = x0 + (x0 - x0_prev) * h / (2 * h_prev)
        x = ((1 - a_s) / (1 - a_t)).sqrt() * x - a_s.sqrt() * torch.expm1(-h) * d
        x0_prev, h_prev = x0, h
    return x


SAMPLERS = {"ddim": ddim_sample, "dpm++2m": dpm_solver_2m_sample}

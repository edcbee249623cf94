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

"""The denoising network of :class:`genosynth.ConditionalLatentDiffusion`.

A residual MLP over the flattened latent. Its conditioning -- timestep and
label -- enters every block as a FiLM scale and shift. The label embedding
has one extra row, the learned *null token*, that stands for "no label" in
classifier-free guidance.

Why an MLP and not a U-Net: the VAE latent is a few hundred numbers, so a
convolutional U-Net of millions of parameters buys nothing but sampling time;
an MLP of a few hundred thousand parameters samples thousands of individuals
per second on a CPU.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps, shape (len(t), dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device) / half)
    args = t.float().unsqueeze(-1) * freqs
    return torch.cat([torch.cos(args), torch.sin(args)], -1)


class FiLMBlock(nn.Module):
    """LayerNorm -> FiLM(cond) -> SiLU -> Linear -> SiLU -> Linear, plus the identity."""

    def __init__(self, hidden: int):
        super().__init__()
        self.norm = nn.LayerNorm(hidden, elementwise_affine=False)
        self.film = nn.Linear(hidden, 2 * hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        # Start as the identity so deep stacks train stably.
        nn.init.zeros_(self.fc2.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, h, cond, index=None):
        film = self.film(cond)
        if index is not None:  # cond is a table of distinct rows: gather after the product
            film = film[index]
        scale, shift = film.chunk(2, -1)
        x = self.norm(h) * (1 + scale) + shift
        return h + self.fc2(F.silu(self.fc1(F.silu(x))))


class Denoiser(nn.Module):
    """Predicts the velocity of a noised latent given its timestep and label.

    Parameters
    ----------
    n_features : int
        Latent dimension.
    n_classes : int
        Number of labels; index ``n_classes`` is the null token.
    hidden : int
        Width of the residual stream.
    n_blocks : int
        Residual blocks.
    """

    def __init__(self, n_features: int, n_classes: int, hidden: int, n_blocks: int):
        super().__init__()
        self.n_classes = n_classes
        self.time_dim = min(hidden, 128)
        self.inp = nn.Linear(n_features, hidden)
        self.time_mlp = nn.Sequential(
            nn.Linear(self.time_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden)
        )
        self.label_embed = nn.Embedding(n_classes + 1, hidden)
        self.blocks = nn.ModuleList([FiLMBlock(hidden) for _ in range(n_blocks)])
        self.out_norm = nn.LayerNorm(hidden)
        self.out = nn.Linear(hidden, n_features)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    @property
    def null_label(self) -> int:
        return self.n_classes

    def condition(self, t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Conditioning vector per row from timesteps and labels (null token allowed)."""
        return F.silu(
            self.time_mlp(timestep_embedding(t, self.time_dim)) + self.label_embed(labels)
        )

    def forward(self, x, t, labels, cond=None, index=None):
        """Predicted velocity for ``x`` (batch, n_features) at timesteps ``t``.

        Sampling passes ``cond`` precomputed for the few distinct
        (timestep, label) pairs of a step and ``index`` mapping rows to them,
        so the conditioning layers run once per pair instead of once per row.
        """
        if cond is None:
            cond = self.condition(t, labels)
        h = self.inp(x)
        for block in self.blocks:
            h = block(h, cond, index)
        return self.out(F.silu(self.out_norm(h)))

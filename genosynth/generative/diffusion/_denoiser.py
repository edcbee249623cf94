"""The denoising networks of :class:`genosynth.ConditionalLatentDiffusion`.

Two networks share one design: a residual stack whose conditioning --
timestep and label -- enters every block as a FiLM scale and shift. A class
label is embedded by a table with one extra row, the learned *null token*,
that stands for "no label" in classifier-free guidance; a continuous label
(``n_classes=None``) by a small network of its value, with NaN standing for
"no label" and mapped to a learned null vector.

* :class:`Denoiser` (``denoiser="mlp"``) is a residual MLP over the flattened
  latent: a few hundred thousand parameters, cheap on a CPU.
* :class:`ConvDenoiser` (``denoiser="conv"``) reads the latent as the
  sequence :class:`genosynth.GenotypeVAE` lays out -- ``n_features //
  channels`` positions of ``channels`` values, grouped into tokens of a few
  consecutive positions -- and mixes neighbouring tokens with kernel-3
  convolutions, plus a learned embedding per token (positions along a panel
  are not exchangeable). Locality is what lets it
  learn the *local* joint distribution of haplotype blocks from a few thousand
  individuals; an MLP over 512 dimensions instead learns a smooth, nearly
  Gaussian density whose samples decode to blends of individuals with
  weakened LD (measured in benchmarks/README.md). It costs several times more
  per sample.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from genosynth.generative.vae._vae_modules import Conv3


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps, shape (len(t), dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device) / half)
    args = t.float().unsqueeze(-1) * freqs
    return torch.cat([torch.cos(args), torch.sin(args)], -1)


class FiLMBlock(nn.Module):
    """LayerNorm -> FiLM(cond) -> SiLU -> mix -> SiLU -> mix, plus the identity.

    ``mix`` is a linear layer over features (MLP) or a kernel-3 convolution
    over positions (``conv=True``, input (batch, positions, hidden)).
    """

    def __init__(self, hidden: int, conv: bool = False):
        super().__init__()
        layer = Conv3 if conv else nn.Linear
        self.norm = nn.LayerNorm(hidden, elementwise_affine=False)
        self.film = nn.Linear(hidden, 2 * hidden)
        self.fc1 = layer(hidden, hidden)
        self.fc2 = layer(hidden, hidden)
        # Start as the identity so deep stacks train stably.
        last = self.fc2.linear if conv else self.fc2
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, h, cond, index=None):
        film = self.film(cond)
        if index is not None:  # cond is a table of distinct rows: gather after the product
            film = film[index]
        if h.dim() == 3:  # one scale and shift per row, shared by its positions
            film = film.unsqueeze(1)
        scale, shift = film.chunk(2, -1)
        x = self.norm(h) * (1 + scale) + shift
        return h + self.fc2(F.silu(self.fc1(F.silu(x))))


class ValueEmbedding(nn.Module):
    """Embedding of a continuous label: ``v * w + MLP(v)`` for a standardised value ``v``.

    The linear term, initialised like the rows of a class embedding, gives
    the value a strong monotone handle from the first training step (on a
    benchmark of 720 latents the conditional slope of the decoded genotypes
    reached 0.09 of the real one after 60 epochs against 0.035 with the MLP
    alone); the MLP (``Linear -> SiLU -> Linear``) adds curvature. NaN
    marks "no label" and is embedded as a learned null vector, the
    continuous counterpart of the null token.
    """

    def __init__(self, hidden: int):
        super().__init__()
        self.linear = nn.Parameter(torch.randn(hidden))
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.null = nn.Parameter(torch.randn(hidden))

    def forward(self, values: torch.Tensor) -> torch.Tensor:
        missing = values.isnan().unsqueeze(-1)
        v = values.nan_to_num(0.0).unsqueeze(-1).to(self.null.dtype)
        return torch.where(missing, self.null, v * self.linear + self.net(v))


class _ConditionedStack(nn.Module):
    """Timestep/label conditioning and the FiLM residual stack both networks share."""

    def __init__(self, n_classes: int | None, hidden: int, n_blocks: int, conv: bool):
        super().__init__()
        self.n_classes = n_classes
        self.time_dim = min(hidden, 128)
        self.time_mlp = nn.Sequential(
            nn.Linear(self.time_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden)
        )
        if n_classes is None:
            self.label_embed = ValueEmbedding(hidden)
        else:
            self.label_embed = nn.Embedding(n_classes + 1, hidden)
        self.blocks = nn.ModuleList([FiLMBlock(hidden, conv) for _ in range(n_blocks)])
        self.out_norm = nn.LayerNorm(hidden)

    @property
    def null_label(self) -> int | float:
        """The label meaning "no label": index ``n_classes``, or NaN for a continuous label."""
        return math.nan if self.n_classes is None else self.n_classes

    def condition(self, t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Conditioning vector per row from timesteps and labels (null label allowed)."""
        emb = timestep_embedding(t, self.time_dim).to(self.time_mlp[0].weight.dtype)
        return F.silu(self.time_mlp(emb) + self.label_embed(labels))

    def _stack(self, h, t, labels, cond, index):
        if cond is None:
            cond = self.condition(t, labels)
        for block in self.blocks:
            h = block(h, cond, index)
        return F.silu(self.out_norm(h))

    def forward(self, x, t, labels, cond=None, index=None):
        """Predicted velocity for ``x`` (batch, n_features) at timesteps ``t``.

        Sampling passes ``cond`` precomputed for the few distinct
        (timestep, label) pairs of a step and ``index`` mapping rows to them,
        so the conditioning layers run once per pair instead of once per row.
        """
        return self._project(self._stack(self._embed(x), t, labels, cond, index), len(x))

    def guided(self, x, cond, index, null_index, scale: float):
        """Classifier-free guided velocity ``u + scale * (c - u)`` in one batched pass.

        ``c`` is the prediction under the labels ``index`` and ``u`` under the
        null token. The input embedding does not see the label, so it runs
        once; the output projection is affine, so the two predictions are
        mixed before it: two of the network's layers run once instead of
        twice, with the same result.
        """
        h = self._embed(x)
        both = self._stack(torch.cat([h, h]), None, None, cond, torch.cat([index, null_index]))
        conditional, unconditional = both.chunk(2)
        mixed = unconditional + scale * (conditional - unconditional)
        return self._project(mixed, len(x))


class Denoiser(_ConditionedStack):
    """Residual MLP predicting the velocity of a noised latent from its timestep and label.

    Parameters
    ----------
    n_features : int
        Latent dimension.
    n_classes : int or None
        Number of labels; index ``n_classes`` is the null token. None: one
        continuous label (NaN is the null label).
    hidden : int
        Width of the residual stream.
    n_blocks : int
        Residual blocks.
    """

    def __init__(self, n_features: int, n_classes: int | None, hidden: int, n_blocks: int):
        super().__init__(n_classes, hidden, n_blocks, conv=False)
        self.inp = nn.Linear(n_features, hidden)
        self.out = nn.Linear(hidden, n_features)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def _embed(self, x):
        return self.inp(x)

    def _project(self, h, n_rows: int):
        return self.out(h)


class ConvDenoiser(_ConditionedStack):
    """Convolutional denoiser over the latent read as a sequence (see the module docstring).

    Parameters
    ----------
    n_features : int
        Latent dimension, a multiple of ``channels``.
    n_classes : int or None
        Number of labels; index ``n_classes`` is the null token. None: one
        continuous label (NaN is the null label).
    hidden : int
        Channels of the residual stream.
    n_blocks : int
        Residual blocks (each widens the receptive field by 4 tokens).
    channels : int
        Latent channels per position.
    patch : int, default=1
        Consecutive latent positions read as one token (the sequence is
        zero-padded to a multiple). Patches shorten the sequence the
        convolutions run over, so a wider stream costs less.
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int | None,
        hidden: int,
        n_blocks: int,
        channels: int,
        patch: int = 1,
    ):
        super().__init__(n_classes, hidden, n_blocks, conv=True)
        self.channels = channels
        self.patch = patch
        self.length = n_features // channels
        self.n_tokens = -(-self.length // patch)
        self.inp = nn.Linear(patch * channels, hidden)
        self.position = nn.Parameter(torch.randn(self.n_tokens, hidden) * 0.02)
        self.out = nn.Linear(hidden, patch * channels)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def _embed(self, x):
        pad = (self.n_tokens * self.patch - self.length) * self.channels
        tokens = F.pad(x, (0, pad)).reshape(len(x), self.n_tokens, -1)
        return self.inp(tokens) + self.position

    def _project(self, h, n_rows: int):
        return self.out(h).reshape(n_rows, -1)[:, : self.length * self.channels]


DENOISERS = {"mlp": Denoiser, "conv": ConvDenoiser}

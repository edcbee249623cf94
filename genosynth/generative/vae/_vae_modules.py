"""The torch network behind :class:`genosynth.GenotypeVAE`.

Shapes are written ``(batch, channels, positions)``. A panel of ``L`` SNPs is
padded to ``L_pad``, a multiple of the compression factor ``c``; the latent is
``(batch, latent_channels, L_pad // c)``.

Why the design differs a little from a plain image-style 1D U-Net: the SNPs of
a panel are not exchangeable positions of one signal. Each has its own allele
frequencies and its own neighbours, so the first and last layers are
*SNP-specific* (an embedding per SNP and genotype, and a per-SNP output head),
while the shared convolutional trunk between them learns the LD patterns.
The trunk halves the length with strided convolutions (doubling channels up
to ``hidden_channels``) and spends its residual blocks at the bottleneck
resolution, where they are cheap: that keeps a 16x model fast on a CPU.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class Conv3(nn.Module):
    """Kernel-3 convolution over positions in channels-last layout (B, L, C).

    Written as one matrix product over the concatenated left, centre and
    right neighbours: on a CPU this is several times faster than
    ``nn.Conv1d`` for the short, narrow sequences of a genotype latent.
    """

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.linear = nn.Linear(3 * c_in, c_out)

    def forward(self, x):
        left = F.pad(x, (0, 0, 1, 0))[:, :-1]
        right = F.pad(x, (0, 0, 0, 1))[:, 1:]
        return self.linear(torch.cat([left, x, right], -1))


class ResBlock(nn.Module):
    """LayerNorm -> SiLU -> conv3, twice, plus the identity (channels-last)."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(channels)
        self.conv1 = Conv3(channels, channels)
        self.norm2 = nn.LayerNorm(channels)
        self.conv2 = Conv3(channels, channels)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        return x + self.conv2(F.silu(self.norm2(h)))


class Down(nn.Module):
    """Stride-2, kernel-2 convolution: pairs of neighbours -> one position."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.linear = nn.Linear(2 * c_in, c_out)

    def forward(self, x):
        b, n, c = x.shape
        return F.silu(self.linear(x.reshape(b, n // 2, 2 * c)))


class Up(nn.Module):
    """Stride-2, kernel-2 transposed convolution: one position -> two."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.linear = nn.Linear(c_in, 2 * c_out)

    def forward(self, x):
        b, n, _ = x.shape
        return F.silu(self.linear(x).reshape(b, 2 * n, -1))


def _widths(n_stages: int, base: int, hidden: int) -> list[int]:
    """Channel width after each of the ``n_stages`` halvings, capped at ``hidden``."""
    return [min(hidden, base * 2 ** (i + 1)) for i in range(n_stages)]


class GenotypeAutoencoder(nn.Module):
    """Convolutional VAE over one-hot genotypes with a categorical decoder.

    Parameters
    ----------
    n_positions : int
        Padded panel length ``L_pad`` (a multiple of ``compression``).
    compression : int
        Length reduction factor, a power of two.
    latent_channels : int
        Channels of the latent sequence.
    hidden_channels : int
        Width of the trunk at the bottleneck.
    base_channels : int
        Width of the SNP embedding at full resolution.
    n_blocks : int
        Residual blocks at the bottleneck, in the encoder and the decoder each.
    n_classes : int
        Size of the optional phenotype head (0 = no head).
    """

    def __init__(
        self,
        n_positions: int,
        compression: int,
        latent_channels: int,
        hidden_channels: int,
        base_channels: int,
        n_blocks: int,
        n_classes: int = 0,
    ):
        super().__init__()
        n_stages = int(round(math.log2(compression)))
        widths = _widths(n_stages, base_channels, hidden_channels)
        self.n_positions = n_positions
        self.latent_length = n_positions // compression
        self.latent_channels = latent_channels

        # SNP-specific one-hot embedding, (L_pad, 3, base): genotype g at SNP j
        # is embed[j, g]; a missing or padded call is the zero vector.
        self.embed = nn.Parameter(torch.randn(n_positions, 3, base_channels) * 0.5)
        c_in, stages = base_channels, []
        for c_out in widths:
            stages.append(Down(c_in, c_out))
            c_in = c_out
        self.down = nn.Sequential(*stages, *[ResBlock(c_in) for _ in range(n_blocks)])
        self.enc_out = nn.Sequential(
            nn.LayerNorm(c_in), nn.SiLU(), nn.Linear(c_in, 2 * latent_channels)
        )

        stages = [Conv3(latent_channels, c_in), *[ResBlock(c_in) for _ in range(n_blocks)]]
        stages += [nn.LayerNorm(c_in), nn.SiLU()]
        for c_out in [*reversed(widths[:-1]), base_channels]:
            stages.append(Up(c_in, c_out))
            c_in = c_out
        self.up = nn.Sequential(*stages)
        # SNP-specific output head: 3 logits per SNP from its own weights.
        self.head_weight = nn.Parameter(torch.randn(n_positions, base_channels, 3) * 0.02)
        self.head_bias = nn.Parameter(torch.zeros(n_positions, 3))
        n_latent = latent_channels * self.latent_length
        self.label_head = nn.Linear(n_latent, n_classes) if n_classes > 0 else None

    def embed_genotypes(self, G: torch.Tensor) -> torch.Tensor:
        """(B, L_pad) int64 genotypes, -1 missing -> (B, L_pad, base_channels)."""
        onehot = torch.stack([G == 0, G == 1, G == 2], -1).to(self.embed.dtype)
        return torch.einsum("blk,lkc->blc", onehot, self.embed)

    def encode(self, G: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance, each (B, L_lat, latent_channels)."""
        mu, logvar = self.enc_out(self.down(self.embed_genotypes(G))).chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents (B, L_lat, latent_channels) -> genotype logits (B, L_pad, 3)."""
        h = self.up(z)  # (B, L_pad, base)
        # One (B, base) @ (base, 3) product per SNP, as a batched product over SNPs.
        # Copying h into SNP-major order first is about half the cost of letting
        # bmm (or einsum) read it strided (benchmarks/README.md, "Shorter training
        # budgets, the VAE's per-SNP head"); the products are the same, bit for bit.
        logits = torch.bmm(h.transpose(0, 1).contiguous(), self.head_weight)
        return logits.transpose(0, 1) + self.head_bias

    def classify(self, mu: torch.Tensor) -> torch.Tensor:
        return self.label_head(mu.flatten(1))

"""The torch network behind :class:`genosynth.GenotypeVAE`.

Shapes are written channels last, ``(batch, positions, channels)``. A panel of
``L`` SNPs is padded to ``L_pad``, a multiple of the compression factor ``c``;
the latent is ``(batch, L_pad // c, latent_channels)``.

Why the design differs from a plain image-style 1D U-Net: the SNPs of a panel
are not exchangeable positions of one signal. Each has its own allele
frequencies and its own neighbours, so the first and last layers are
*SNP-specific*, while the shared convolutional trunk between them learns the
LD patterns. The first layer is a table: a vector per SNP and genotype, summed
over each group of ``stride`` consecutive SNPs (a strided convolution over the
one-hot genotypes, with weights of its own at every position); the last reads
each SNP's three logits from its group's features with the SNP's own weights.
By default one such stage reaches the 16x compression and the residual blocks
all run at the bottleneck resolution, where they are cheap; no layer runs at
the panel's full length, which keeps training and decoding fast on a CPU.
Several strided stages (``stride`` below the compression) are available, as is
the layout of model files written before the tables (``snp_tables=False``).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def _autocasting(device_type: str) -> bool:
    """Whether autocast is on for ``device_type`` (torch 2.2's and later spellings)."""
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4 takes no device type
        if device_type == "cpu":
            return torch.is_autocast_cpu_enabled()
        return torch.is_autocast_enabled()


class _ShiftedProducts(torch.autograd.Function):
    """A kernel-3 convolution as one product of the input and shifted sums of its outputs.

    ``weight`` (c_out, 3 c_in) holds the left, centre and right blocks as
    :class:`Conv3`'s linear layer does. The forward pass multiplies the input
    once by the three blocks stacked, (B n, c_in) @ (c_in, 3 c_out), and adds
    each neighbour's block output to the position it feeds; the backward pass
    gathers the output gradient into the same three blocks, so that both input
    and weight gradients are single products too. Unlike the product over the
    concatenated neighbours, nothing of three times the input's size is copied
    or padded in either direction.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        b, n, c_in = x.shape
        c_out = weight.shape[0]
        stacked = weight.reshape(c_out, 3, c_in).transpose(0, 1).reshape(3 * c_out, c_in)
        blocks = (x.reshape(b * n, c_in) @ stacked.t()).reshape(b, n, 3, c_out)
        y = blocks[:, :, 1] + bias
        y[:, 1:] += blocks[:, :-1, 0]  # position i's left neighbour is i - 1
        y[:, :-1] += blocks[:, 1:, 2]  # and its right neighbour i + 1
        ctx.save_for_backward(x, stacked)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, stacked = ctx.saved_tensors
        b, n, c_in = x.shape
        c_out = grad.shape[-1]
        blocks = grad.new_zeros(b, n, 3, c_out)
        blocks[:, :-1, 0] = grad[:, 1:]
        blocks[:, :, 1] = grad
        blocks[:, 1:, 2] = grad[:, :-1]
        blocks = blocks.reshape(b * n, 3 * c_out)
        grad_x = (blocks @ stacked).reshape(b, n, c_in)
        grad_stacked = blocks.t() @ x.reshape(b * n, c_in)
        grad_weight = grad_stacked.reshape(3, c_out, c_in).transpose(0, 1).reshape(c_out, -1)
        return grad_x, grad_weight, grad.sum((0, 1))


class Conv3(nn.Module):
    """Kernel-3 convolution over positions in channels-last layout (B, L, C).

    Written as matrix products rather than ``nn.Conv1d``, which is several
    times slower on a CPU for the short, narrow sequences of a genotype latent:
    in float32 training, one product and shifted sums (:class:`_ShiftedProducts`,
    whose backward pass is the cheaper); otherwise (inference, autocast) one
    product over the concatenated left, centre and right neighbours, which
    autocast runs in its precision. Both compute the same convolution from the
    same weights (benchmarks/README.md, "Importance-sampled timesteps and a
    one-stage VAE").
    """

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.linear = nn.Linear(3 * c_in, c_out)

    def forward(self, x):
        training = torch.is_grad_enabled() and (x.requires_grad or self.linear.weight.requires_grad)
        if not training or _autocasting(x.device.type) or x.dtype != self.linear.weight.dtype:
            left = F.pad(x, (0, 0, 1, 0))[:, :-1]
            right = F.pad(x, (0, 0, 0, 1))[:, 1:]
            return self.linear(torch.cat([left, x, right], -1))
        return _ShiftedProducts.apply(x, self.linear.weight, self.linear.bias)


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
    """Stride-``s``, kernel-``s`` convolution: ``s`` neighbours -> one position."""

    def __init__(self, c_in: int, c_out: int, stride: int = 2):
        super().__init__()
        self.stride = stride
        self.linear = nn.Linear(stride * c_in, c_out)

    def forward(self, x):
        b, n, c = x.shape
        return F.silu(self.linear(x.reshape(b, n // self.stride, self.stride * c)))


class Up(nn.Module):
    """Stride-``s``, kernel-``s`` transposed convolution: one position -> ``s``."""

    def __init__(self, c_in: int, c_out: int, stride: int = 2):
        super().__init__()
        self.stride = stride
        self.linear = nn.Linear(c_in, stride * c_out)

    def forward(self, x):
        b, n, _ = x.shape
        return F.silu(self.linear(x).reshape(b, self.stride * n, -1))


def stage_strides(compression: int, stride: int) -> list[int]:
    """The length reduction of each downsampling stage: ``stride`` until ``compression``.

    The last stage takes what is left when ``stride`` does not divide it evenly.

    Examples
    --------
    >>> stage_strides(16, 2), stage_strides(16, 4), stage_strides(32, 4), stage_strides(2, 4)
    ([2, 2, 2, 2], [4, 4], [4, 4, 2], [2])
    """
    strides, left = [], compression
    while left > 1:
        strides.append(min(stride, left))
        left //= strides[-1]
    return strides


def _widths(strides: list[int], base: int, hidden: int) -> list[int]:
    """Channel width after each stage: ``base`` times the SNPs a position spans, at most
    ``hidden``."""
    return [min(hidden, base * math.prod(strides[: i + 1])) for i in range(len(strides))]


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
        Width per SNP from which the stage widths grow (see :func:`_widths`).
    n_blocks : int
        Residual blocks at the bottleneck, in the encoder and the decoder each.
    n_classes : int
        Size of the optional phenotype head (0 = no head).
    stride : int
        Length reduction of each downsampling stage (see :func:`stage_strides`).
    snp_tables : bool
        The SNP-specific layers as tables (see the module docstring): the
        first stage looks up a vector per SNP and genotype, at the stage's
        width, and sums it over each group of ``stride`` SNPs; the last reads
        each SNP's three logits from its group's features with the SNP's own
        weights. False is the layout of model files written before: a
        ``base_channels``-wide embedding per SNP, a strided convolution over
        it, and the same in reverse, with a non-linearity, before the head.
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
        stride: int = 2,
        snp_tables: bool = False,
    ):
        super().__init__()
        strides = stage_strides(compression, stride)
        widths = _widths(strides, base_channels, hidden_channels)
        self.n_positions = n_positions
        self.latent_length = n_positions // compression
        self.latent_channels = latent_channels
        self.snp_tables = snp_tables
        self.group = strides[0]  # SNPs summed by the first stage's table, read by the last
        downs = list(zip(widths, strides))
        ups = list(zip([*reversed(widths[:-1]), base_channels], reversed(strides)))

        if snp_tables:
            # (L_pad, 3, width): genotype g at SNP j adds embed[j, g] to its group's
            # features; a missing or padded call adds nothing. Scaled so that the sum
            # over a group starts with unit variance.
            width = widths[0]
            self.embed = nn.Parameter(torch.randn(n_positions, 3, width) / math.sqrt(self.group))
            self.embed_bias = nn.Parameter(torch.zeros(width))
            c_in, downs, ups = width, downs[1:], ups[:-1]
        else:
            self.embed = nn.Parameter(torch.randn(n_positions, 3, base_channels) * 0.5)
            c_in = base_channels
        stages = []
        for c_out, s in downs:
            stages.append(Down(c_in, c_out, s))
            c_in = c_out
        self.down = nn.Sequential(*stages, *[ResBlock(c_in) for _ in range(n_blocks)])
        self.enc_out = nn.Sequential(
            nn.LayerNorm(c_in), nn.SiLU(), nn.Linear(c_in, 2 * latent_channels)
        )

        stages = [Conv3(latent_channels, c_in), *[ResBlock(c_in) for _ in range(n_blocks)]]
        stages += [nn.LayerNorm(c_in), nn.SiLU()]
        for c_out, s in ups:
            stages.append(Up(c_in, c_out, s))
            c_in = c_out
        self.up = nn.Sequential(*stages)
        # SNP-specific output head: 3 logits per SNP from its own weights.
        self.head_weight = nn.Parameter(torch.randn(n_positions, c_in, 3) * 0.02)
        self.head_bias = nn.Parameter(torch.zeros(n_positions, 3))
        n_latent = latent_channels * self.latent_length
        self.label_head = nn.Linear(n_latent, n_classes) if n_classes > 0 else None

    def embed_genotypes(self, G: torch.Tensor) -> torch.Tensor:
        """(B, L_pad) int64 genotypes, -1 missing -> the first stage's input or output.

        With ``snp_tables``: the first stage's output, (B, L_pad / group, width),
        each group's table entries summed as one batched one-hot product per
        group. Otherwise the per-SNP embedding, (B, L_pad, base_channels).
        """
        if self.snp_tables:
            b, n = G.shape
            onehot = torch.stack([G == 0, G == 1, G == 2], -1).to(self.embed.dtype)
            onehot = onehot.reshape(b, n // self.group, 3 * self.group).transpose(0, 1)
            table = self.embed.reshape(n // self.group, 3 * self.group, -1)
            return F.silu(torch.bmm(onehot, table).transpose(0, 1) + self.embed_bias)
        # The one-hot product written as three masked sums: a batched product
        # over SNPs of (B, 3) @ (3, base) blocks costs several times more.
        out = (G == 0).unsqueeze(-1) * self.embed[:, 0]
        out = out + (G == 1).unsqueeze(-1) * self.embed[:, 1]
        return out + (G == 2).unsqueeze(-1) * self.embed[:, 2]

    def encode(self, G: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance, each (B, L_lat, latent_channels)."""
        mu, logvar = self.enc_out(self.down(self.embed_genotypes(G))).chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents (B, L_lat, latent_channels) -> genotype logits (B, L_pad, 3)."""
        h = self.up(z)  # (B, L_pad / group, width) with snp_tables, else (B, L_pad, base)
        b, n_groups, c = h.shape
        if self.snp_tables:
            # Each group's SNPs read from its features: one (B, c) @ (c, 3 * group)
            # product per group, the weights laid out group-major.
            w = self.head_weight.reshape(n_groups, self.group, c, 3).transpose(1, 2)
            logits = torch.bmm(h.transpose(0, 1), w.reshape(n_groups, c, 3 * self.group))
            return logits.transpose(0, 1).reshape(b, -1, 3) + self.head_bias
        # One (B, base) @ (base, 3) product per SNP, as a batched product over SNPs.
        # Copying h into SNP-major order first is about half the cost of letting
        # bmm (or einsum) read it strided (benchmarks/README.md, "Shorter training
        # budgets, the VAE's per-SNP head"); the products are the same, bit for bit.
        logits = torch.bmm(h.transpose(0, 1).contiguous(), self.head_weight)
        return logits.transpose(0, 1) + self.head_bias

    def classify(self, mu: torch.Tensor) -> torch.Tensor:
        return self.label_head(mu.flatten(1))

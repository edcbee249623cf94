"""Device selection, precision and seeding shared by the torch-backed estimators.

Randomness rule: an estimator turns its ``random_state`` into one integer seed
and from it into local :class:`torch.Generator` objects. The global torch RNG
is only touched inside :func:`seeded`, which restores it afterwards, so fitting
a genosynth model never changes a user's global random stream.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from sklearn.utils import check_random_state

DTYPES = {"float32", "bfloat16", "auto"}
"""The precisions a ``*_dtype`` parameter of a genosynth estimator accepts."""


def native_bfloat16(device) -> bool:
    """Whether ``device`` computes in bfloat16 natively rather than by emulation.

    A CPU counts when it has AVX512-BF16 or AMX-BF16 (read from torch's own
    CPU feature probe; torch builds without the probe count as no), a CUDA
    device when torch reports bfloat16 support.

    Examples
    --------
    >>> isinstance(native_bfloat16("cpu"), bool)
    True
    """
    device = torch.device(device)
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    probe = getattr(torch.cpu, "get_capabilities", None)
    if probe is None:
        return False
    features = probe()
    return bool(features.get("avx512_bf16") or features.get("amx_bf16"))


def resolve_dtype(device, dtype: str) -> str:
    """Turn a ``*_dtype`` parameter into ``"float32"`` or ``"bfloat16"``.

    ``"auto"`` is bfloat16 where the device computes it natively
    (:func:`native_bfloat16`) and float32 elsewhere: emulated bfloat16 is
    slower than float32, so it would buy nothing.

    Examples
    --------
    >>> resolve_dtype("cpu", "float32")
    'float32'
    >>> resolve_dtype("cpu", "auto") in {"float32", "bfloat16"}
    True
    """
    if dtype != "auto":
        return dtype
    return "bfloat16" if native_bfloat16(device) else "float32"


def precision(device: torch.device, dtype: str):
    """Context in which the matrix products of ``device`` run in ``dtype`` (one of DTYPES).

    ``"bfloat16"`` is torch autocast (weights and reductions stay float32);
    ``"float32"`` changes nothing; ``"auto"`` is resolved by :func:`resolve_dtype`.
    """
    enabled = resolve_dtype(device, dtype) == "bfloat16"
    return torch.autocast(device.type, torch.bfloat16, enabled=enabled)


def resolve_device(device) -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda[:k]"`` or a torch.device into a device.

    ``"auto"`` picks CUDA when it is available and the CPU otherwise.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise TypeError(f"device must be a string or torch.device, got {type(device).__name__}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:  # torch's own message lists every device type it knows
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu' or 'cuda[:k]'"
        ) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available")
    return dev


def inference_batches(n_rows: int, device, cpu_rows: int) -> list[slice]:
    """Row slices for inference without gradients.

    On a CPU, small batches whose activations stay in cache cost less per
    row than one large batch (benchmarks/README.md, "Sampling throughput");
    a GPU wants large batches.

    Examples
    --------
    >>> inference_batches(5, "cpu", cpu_rows=2)
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    step = cpu_rows if torch.device(device).type == "cpu" else 4096
    return [slice(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


def seed_from(random_state) -> int:
    """Draw one 31-bit integer seed from an sklearn-style ``random_state``.

    Examples
    --------
    >>> seed_from(0) == seed_from(0)
    True
    """
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A local :class:`torch.Generator` on ``device`` seeded with ``seed``."""
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen


@contextlib.contextmanager
def seeded(seed: int):
    """Run a block (e.g. weight initialisation) under a fixed seed.

    The global torch RNG state is saved and restored, so the caller's global
    random stream is unchanged.
    """
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield


def state_dict_to_cpu(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of a module's state dict (for pickling and checkpoints)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}

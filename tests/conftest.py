"""Test-session settings shared by all test modules."""

import os

# Under pytest-xdist each worker is its own process; two workers each running torch
# with two threads would oversubscribe the two cores CI has.
if os.environ.get("PYTEST_XDIST_WORKER"):
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass

"""Parameter checks shared by the simulators: a clear TypeError or ValueError, never a coercion."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np


def check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def check_real(name, value, low, high, *, closed_low=True, closed_high=True):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    above = value >= low if closed_low else value > low
    below = value <= high if closed_high else value < high
    if not math.isfinite(value) or not (above and below):
        interval = f"{'[' if closed_low else '('}{low}, {high}{']' if closed_high else ')'}"
        raise ValueError(f"{name} must lie in {interval}, got {value}")
    return value


def rng_and_seed_record(random_state):
    """A Generator, and what to record in ``attrs`` so the cohort can be rebuilt."""
    if isinstance(random_state, np.random.Generator):
        return random_state, "numpy.random.Generator (state not recorded)"
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, Integral)
    ):
        raise TypeError(
            f"random_state must be None, an int or a numpy Generator, got {random_state!r}"
        )
    seed_sequence = np.random.SeedSequence(random_state)
    # The entropy of a None seed is recorded too, so any cohort can be regenerated.
    return np.random.Generator(np.random.PCG64(seed_sequence)), str(seed_sequence.entropy)

"""Input handling shared by every metric: genotypes, labels and variant positions.

Every public metric accepts genotypes as arrays ``(n_samples, n_variants)`` of
0/1/2 (-1 or NaN missing) or as sgkit Datasets; they all go through
:func:`genosynth.data._genotypes.as_genotypes` here, so the alternate-allele
convention and the validation messages are the data layer's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from genosynth.data._genotypes import check_labels
from genosynth.stats._genetics import named_genotypes


def genotypes(X, name: str) -> np.ndarray:
    """``X`` as int8 dosages (-1 missing); errors name the argument."""
    G, _ = genotypes_and_variants(X, name)
    return G


def genotypes_and_variants(X, name: str) -> tuple[np.ndarray, pd.DataFrame | None]:
    """``X`` as int8 dosages plus its variant table (None for arrays)."""
    return named_genotypes(X, name)


def same_panel(**named: np.ndarray) -> int:
    """Check that every matrix has the same number of variants; return it."""
    widths = {name: G.shape[1] for name, G in named.items()}
    if len(set(widths.values())) != 1:
        raise ValueError(
            "real and synthetic genotypes must cover the same variants (same columns); "
            f"got {widths}"
        )
    return next(iter(widths.values()))


def binary_labels(y, n_samples: int, name: str) -> np.ndarray:
    """Validate binary 0/1 labels (genosynth's case/control coding) as int8."""
    y = check_labels(y, n_samples, name=name)
    values = np.unique(y)
    if not np.all(np.isin(values, (0, 1))):
        raise ValueError(
            f"{name} must hold binary labels 0 (control) / 1 (case); found {values[:5].tolist()}"
        )
    return y.astype(np.int8)


def outcomes(named: dict, n_samples: dict) -> tuple[dict, bool]:
    """Labels of several cohorts, all binary 0/1 or all a quantitative trait.

    Binary labels become int8 and must hold both classes; a quantitative
    trait (float labels that are not all 0/1) becomes float64 and must vary.
    Returns the checked labels by name and whether they are continuous.
    """
    checked, kinds = {}, {}
    for name, y in named.items():
        y = check_labels(y, n_samples[name], name=name)
        if np.all(np.isin(np.unique(y), (0, 1))):
            checked[name], kinds[name] = y.astype(np.int8), "binary"
            both_classes(checked[name], name)
        elif y.dtype.kind == "f":
            checked[name], kinds[name] = y.astype(np.float64), "continuous"
            if not np.ptp(checked[name]) > 0:
                raise ValueError(f"{name} is constant; a quantitative trait must vary")
        else:
            raise ValueError(
                f"{name} must hold binary labels 0 (control) / 1 (case) or a quantitative "
                f"trait as floats; found {np.unique(y)[:5].tolist()}"
            )
    if len(set(kinds.values())) > 1:
        raise ValueError(f"labels must be all binary or all quantitative, got {kinds}")
    return checked, next(iter(kinds.values())) == "continuous"


def both_classes(y: np.ndarray, name: str) -> None:
    """Raise when a binary label vector lacks cases or controls."""
    if np.unique(y).size < 2:
        raise ValueError(f"{name} must contain both cases (1) and controls (0)")


def positions(variants: pd.DataFrame | None, n_variants: int) -> tuple[np.ndarray, np.ndarray]:
    """Contig codes and base-pair positions; panel order when ``variants`` is None.

    Without variant metadata every variant is on one contig at position equal
    to its column index, so "distance" is measured in variants.
    """
    if variants is None:
        return np.zeros(n_variants, dtype=np.int64), np.arange(n_variants, dtype=np.int64)
    if not isinstance(variants, pd.DataFrame):
        raise TypeError(f"variants must be a pandas DataFrame, got {type(variants).__name__}")
    missing = [c for c in ("contig", "position") if c not in variants.columns]
    if missing:
        raise ValueError(f"variants needs the columns 'contig' and 'position'; missing {missing}")
    if len(variants) != n_variants:
        raise ValueError(
            f"variants has {len(variants)} rows but the genotypes have {n_variants} variants"
        )
    contig = pd.factorize(variants["contig"].astype(str))[0].astype(np.int64)
    position = variants["position"].to_numpy(dtype=np.int64)
    return contig, position


def rng_from(random_state) -> np.random.Generator:
    """A numpy Generator from None, an int, a Generator or a RandomState."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if random_state is None or isinstance(random_state, int | np.integer):
        return np.random.default_rng(random_state)
    raise TypeError(f"random_state must be None, an int or a numpy Generator, got {random_state!r}")


def subsample(n: int, max_n: int | None, rng: np.random.Generator) -> np.ndarray:
    """Sorted row indices: all rows, or ``max_n`` drawn without replacement."""
    if max_n is None or n <= max_n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_n, replace=False))

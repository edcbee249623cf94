"""Label requests of the generators' ``sample`` methods, and continuous labels.

Every generator (the diffusion model and the baselines) follows one sampling
contract: ``y=None`` draws labels from the training distribution, a scalar
gives every row that label, an array gives one row per entry. A continuous
label (a quantitative trait) is remembered by its mean, standard deviation
and quantiles -- its distribution, without any individual's value beyond the
two extremes -- and requests outside the training range are refused, since no
generator here can extrapolate a trait.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

# Evenly spaced quantiles kept of a continuous training label.
N_QUANTILES = 1001


def positive_int(value, name: str) -> int:
    """``value`` as an int if it is a whole number >= 1; refuse anything else.

    Booleans and floats are refused rather than coerced: ``True`` is not a
    count of individuals, and ``n_steps=1.7`` must not silently become 1.

    Examples
    --------
    >>> positive_int(3, "n_steps")
    3
    >>> positive_int(1.7, "n_steps")
    Traceback (most recent call last):
    ...
    ValueError: n_steps must be a positive integer, got 1.7
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_n_samples(n_samples) -> int:
    return positive_int(n_samples, "n_samples")


def has_continuous_label(est) -> bool:
    """Whether a fitted generator is conditioned on a quantitative trait.

    Models fitted (and files saved) before continuous labels existed have no
    ``label_type_``: they hold class labels.
    """
    return getattr(est, "label_type_", "categorical") == "continuous"


def requested(n_samples, y) -> tuple[int, np.ndarray | None]:
    """The rows a ``sample`` call asks for: their number, and their labels unless ``y`` is None.

    An array ``y`` asks for one row per entry, and ``n_samples`` is then ignored.

    Examples
    --------
    >>> requested(3, 1)
    (3, array([1, 1, 1]))
    >>> requested(1, [0.5, 2.0])
    (2, array([0.5, 2. ]))
    """
    if y is None:
        return _check_n_samples(n_samples), None
    values = np.asarray(y)
    if values.ndim == 0:
        n = _check_n_samples(n_samples)
        return n, np.full(n, values.item())
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"y must be None, a scalar or a non-empty 1-D array, got {values.shape}")
    return values.size, values  # one row per entry, whatever n_samples says


def class_codes(n_samples, y, classes: np.ndarray, prior: np.ndarray, rng) -> np.ndarray:
    """Class codes (indices into ``classes``) of the rows a ``sample`` call asks for.

    ``y=None`` draws them from ``prior`` (the training label mix) with
    ``rng`` (a ``RandomState``); requested labels must be among ``classes``.

    Examples
    --------
    >>> class_codes(3, "case", np.array(["case", "control"]), np.array([0.5, 0.5]), None)
    array([0, 0, 0])
    """
    n, values = requested(n_samples, y)
    if values is None:
        return rng.choice(len(classes), size=n, p=prior)
    unknown = np.setdiff1d(values, classes)
    if len(unknown):
        raise ValueError(
            f"labels {unknown.tolist()} were not seen in fit (classes: {classes.tolist()})"
        )
    return np.searchsorted(classes, values)


def requested_labels(est, n_samples, y, rng) -> tuple[np.ndarray, np.ndarray]:
    """What a fitted generator's ``sample`` call asks for: one label coder for every generator.

    Returns the class codes (indices into ``est.classes_``) or, for a
    quantitative trait, the trait values of the rows to generate, and the
    labels to report with them. ``y=None`` draws from the training label mix
    (``est.class_prior_``, or the trait's quantiles); trait requests outside
    the training range and unseen classes are refused.

    Examples
    --------
    >>> class Fitted:
    ...     classes_, class_prior_ = np.array(["case", "control"]), np.array([0.3, 0.7])
    >>> requested_labels(Fitted(), 1, ["control", "case"], None)
    (array([1, 0]), array(['control', 'case'], dtype='<U7'))
    """
    if has_continuous_label(est):
        n, values = requested(n_samples, y)
        if values is None:
            values = draw_trait(est.label_quantiles_, n, rng)
        values = check_trait(values, est.label_quantiles_)
        return values, values
    codes = class_codes(n_samples, y, est.classes_, est.class_prior_, rng)
    return codes, est.classes_[codes]


def trait_summary(values: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Mean, standard deviation and up to ``N_QUANTILES`` quantiles of a training trait.

    Examples
    --------
    >>> mean, sd, q = trait_summary(np.array([1.0, 2.0, 3.0]))
    >>> mean, round(sd, 3), q.tolist()
    (2.0, 0.816, [1.0, 2.0, 3.0])
    """
    values = np.asarray(values, dtype=np.float64)
    scale = float(values.std())
    if not scale > 0:
        raise ValueError(f"y is constant ({values[0]!r}); conditioning needs a label that varies")
    n = min(N_QUANTILES, values.size)
    return float(values.mean()), scale, np.quantile(values, np.linspace(0, 1, n))


def draw_trait(quantiles: np.ndarray, n: int, rng) -> np.ndarray:
    """``n`` values from the distribution the quantiles describe (linear interpolation)."""
    return np.interp(rng.random_sample(n), np.linspace(0, 1, len(quantiles)), quantiles)


def check_trait(values: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Requested trait values as float64, refused outside the training range (or NaN)."""
    if values.dtype.kind not in "biuf":
        raise TypeError(f"y must be numeric for a continuous label, got dtype {values.dtype}")
    values = values.astype(np.float64)
    low, high = quantiles[0], quantiles[-1]
    outside = values[~((values >= low) & (values <= high))]  # NaN counts as outside
    if outside.size:
        raise ValueError(
            f"labels {outside[:5].tolist()} are outside the range seen in fit "
            f"[{low:.6g}, {high:.6g}]; the model cannot extrapolate a continuous label"
        )
    return values

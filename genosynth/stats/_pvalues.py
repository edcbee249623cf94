"""p-values kept on the -log10 scale, and back.

Association scans report -log10 p, computed from log survival functions, so
that the strongest hits keep their ranks where p itself underflows to 0 (a
t statistic of 40 on 8,000 degrees of freedom has p below 1e-300). Every
consumer that needs p turns it back here, in one way.
"""

from __future__ import annotations

import numpy as np


def p_from_neglog10(neglog10p) -> np.ndarray:
    """p-values from -log10 p, capped at 1; NaN stays NaN, huge values underflow to 0.

    Examples
    --------
    >>> p_from_neglog10([0.0, 2.0, 400.0, np.nan]).tolist()
    [1.0, 0.01, 0.0, nan]
    """
    with np.errstate(over="ignore", under="ignore"):
        return np.minimum(1.0, np.power(10.0, -np.asarray(neglog10p, dtype=np.float64)))

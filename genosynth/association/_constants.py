"""What every test of a scan shares: result columns, test codes, the float batch.

``_FLOAT_BATCH`` is read at call time as ``_constants._FLOAT_BATCH`` by the
block statistics and the batched logistic fit, so that one assignment to
``genosynth.association._constants._FLOAT_BATCH`` (e.g. a test shrinking the
batches) reaches both.
"""

from __future__ import annotations

import numpy as np

RESULT_COLUMNS = (
    "id",
    "contig",
    "position",
    "ref",
    "alt",
    "maf",
    "n_obs",
    "missing_rate",
    "beta",
    "se",
    "stat",
    "p",
    "test",
)

# Test codes stored per variant while scanning; their names in the results.
SCORE, WALD, FIRTH, OLS = 0, 1, 2, 3
TEST_NAMES = np.array(["score", "wald", "firth", "ols"], dtype=object)

# Float working set of one batch of variants (elements of an n x m float64 array).
_FLOAT_BATCH = 1 << 21

"""Adapting sklearn's common checks to estimators that only accept genotypes."""

import numpy as np


def bin_to_genotypes(X):
    """Bin sklearn's continuous check data into genotypes 0/1/2.

    sklearn's common checks feed continuous floats, which genotype estimators
    rightly refuse. The binning is pointwise (so subsets bin alike) and spreads
    any continuous data over 0/1/2 so columns are polymorphic; NaN and inf pass
    through, and non-float input is returned unchanged.
    """
    X = np.asarray(X) if not hasattr(X, "toarray") else X
    if isinstance(X, np.ndarray) and X.dtype.kind == "f" and X.size:
        finite = np.isfinite(X)
        X = np.where(finite, np.floor(np.abs(np.nan_to_num(X)) * 7) % 3, X)
    return X


_SPARSE = "the dense data layer refuses sparse input, not in sklearn's words"

# Checks every genotype estimator fails for the same reason: the data layer
# (genosynth.data._genotypes.as_genotypes) validates input in its own words.
DATA_LAYER_FAILURES = {
    "check_estimator_sparse_array": _SPARSE,
    "check_estimator_sparse_matrix": _SPARSE,
    "check_estimator_sparse_tag": _SPARSE,
    "check_estimators_empty_data_messages": "the data layer's own message: 'empty genotype data'",
    "check_complex_data": "refused with the data layer's TypeError, not sklearn's wording",
    "check_dtype_object": "object arrays are refused: genotypes must be numeric dosages",
    "check_fit2d_predict1d": "1-D input refused by the data layer ('must be a 2-D array'), "
    "not in sklearn's 'Reshape your data' words",
}

"""The data layer: every input becomes int8 alt-allele dosages, bad input is refused."""

import dask.array as da
import numpy as np
import pytest
import sgkit
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from genosynth.data._genotypes import as_genotypes, check_labels, iter_variant_blocks, shape_of


def _gt_dataset(gt, **extra):
    """A minimal sgkit-style Dataset from (variants, samples, ploidy) allele indices."""
    gt = np.asarray(gt, dtype=np.int8)
    data = {"call_genotype": (("variants", "samples", "ploidy"), gt)}
    data.update(extra)
    return xr.Dataset(data)


def test_call_genotype_counts_alternate_allele():
    # variant 0: sample 0 hom-ref, sample 1 het; variant 1: hom-alt, half-missing
    gt = [[[0, 0], [1, 0]], [[1, 1], [-1, 1]]]
    G, variants = as_genotypes(_gt_dataset(gt))
    np.testing.assert_array_equal(G, [[0, 2], [1, -1]])
    assert G.dtype == np.int8
    assert variants["position"].tolist() == [0, 1]


def test_call_genotype_mask_is_honoured():
    gt = np.zeros((2, 3, 2), dtype=np.int8)
    mask = np.zeros_like(gt, dtype=bool)
    mask[1, 2, 0] = True
    ds = _gt_dataset(gt, call_genotype_mask=(("variants", "samples", "ploidy"), mask))
    G, _ = as_genotypes(ds)
    assert G[2, 1] == -1
    assert (G[[0, 1], :] == 0).all() and G[2, 0] == 0


def test_sgkit_simulated_dataset_matches_manual_count():
    ds = sgkit.simulate_genotype_call_dataset(n_variant=20, n_sample=7, missing_pct=0.1, seed=3)
    G, variants = as_genotypes(ds)
    gt = ds["call_genotype"].values
    expected = (gt == 1).sum(-1).T.astype(int)
    expected[(gt < 0).any(-1).T] = -1
    np.testing.assert_array_equal(G, expected)
    assert list(variants.columns) == ["id", "contig", "position", "ref", "alt"]
    assert variants["alt"].tolist() == [a.decode() for a in ds["variant_allele"].values[:, 1]]


def test_ploidy_other_than_two_is_refused():
    with pytest.raises(ValueError, match="ploidy=3"):
        as_genotypes(_gt_dataset(np.zeros((2, 2, 3))))


def test_wrong_dimension_order_is_refused():
    ds = xr.Dataset({"call_genotype": (("samples", "variants", "ploidy"), np.zeros((2, 3, 2)))})
    with pytest.raises(ValueError, match="dimensions"):
        as_genotypes(ds)


def test_missing_genotype_variable_is_refused():
    with pytest.raises(ValueError, match="call_genotype"):
        as_genotypes(xr.Dataset({"variant_position": ("variants", [1, 2])}))


def test_multiallelic_is_refused():
    with pytest.raises(ValueError, match="biallelic"):
        as_genotypes(_gt_dataset([[[0, 2]]]))


def test_call_dosage_integral_and_rounding():
    dos = np.array([[0.0, 2.0], [np.nan, 1.0]])  # (variants, samples)
    ds = xr.Dataset({"call_dosage": (("variants", "samples"), dos)})
    G, _ = as_genotypes(ds)
    np.testing.assert_array_equal(G, [[0, -1], [2, 1]])
    soft = ds.assign(call_dosage=(("variants", "samples"), dos + 0.2 * (dos < 1.5)))
    with pytest.raises(ValueError, match="non-integral"):
        as_genotypes(soft)
    G2, _ = as_genotypes(soft, allow_rounding=True)
    np.testing.assert_array_equal(G2, [[0, -1], [2, 1]])


def test_call_dosage_out_of_range():
    ds = xr.Dataset({"call_dosage": (("variants", "samples"), np.array([[0.0, 2.5]]))})
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        as_genotypes(ds)


def test_array_inputs():
    G, variants = as_genotypes([[0, 1, 2], [-1, 0, 0]])
    assert variants is None and G.dtype == np.int8
    Gf, _ = as_genotypes(np.array([[0, np.nan, 2.0]]))
    np.testing.assert_array_equal(Gf, [[0, -1, 2]])
    Gd, _ = as_genotypes(da.from_array(np.array([[1, 2], [0, 1]]), chunks=1))
    np.testing.assert_array_equal(Gd, [[1, 2], [0, 1]])


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.array([[0, 3]]), ValueError, "0, 1, 2 or -1"),
        (np.array([[0, -2]]), ValueError, "0, 1, 2 or -1"),
        (np.array([0, 1, 2]), ValueError, "2-D"),
        (np.zeros((0, 4)), ValueError, "empty"),
        (np.array([[True, False]]), TypeError, "dtype"),
        (np.array([["0", "1"]]), TypeError, "dtype"),
    ],
)
def test_bad_arrays(bad, error, match):
    with pytest.raises(error, match=match):
        as_genotypes(bad)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.int16, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6), elements=st.integers(-3, 4)
    )
)
def test_validator_fuzz_integers(arr):
    valid = np.isin(arr, (-1, 0, 1, 2)).all()
    if valid:
        G, _ = as_genotypes(arr)
        np.testing.assert_array_equal(G, arr)
    else:
        with pytest.raises(ValueError):
            as_genotypes(arr)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=5),
        elements=st.one_of(st.floats(-1, 3), st.just(np.nan), st.sampled_from([0.0, 1.0, 2.0])),
    )
)
def test_validator_fuzz_floats(arr):
    # Never silently coerced: either an exact conversion or a ValueError.
    try:
        G, _ = as_genotypes(arr)
    except ValueError:
        finite = arr[~np.isnan(arr) & (arr != -1)]
        assert ((finite < 0) | (finite > 2) | (finite != np.round(finite))).any()
        return
    expected = np.where(np.isnan(arr) | (arr == -1), -1, arr)
    np.testing.assert_array_equal(G, expected)


def test_iter_variant_blocks_streams_dask_dataset():
    ds = sgkit.simulate_genotype_call_dataset(n_variant=50, n_sample=9, missing_pct=0.05, seed=1)
    lazy = ds.chunk({"variants": 7})
    full, _ = as_genotypes(ds)
    blocks = list(iter_variant_blocks(lazy, block_size=16))
    assert [b[0].start for b in blocks] == [0, 16, 32, 48]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in blocks], axis=1), full)
    assert shape_of(lazy) == (9, 50)


def test_check_labels():
    assert check_labels([[1], [0]], 2).tolist() == [1, 0]
    with pytest.raises(ValueError, match="3 entries but the genotypes have 2"):
        check_labels([0, 1, 1], 2)
    with pytest.raises(ValueError, match="NaN"):
        check_labels([0.0, np.nan], 2)
    with pytest.raises(TypeError, match="numeric"):
        check_labels(["a", "b"], 2)

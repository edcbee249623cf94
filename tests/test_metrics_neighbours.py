"""Blockwise Hamming distances and nearest neighbours against brute force."""

import subprocess
import sys

import numpy as np
import pytest

from genosynth.metrics import hamming_distances, nearest_neighbours


def brute_force(A, B):
    """Hamming distance with missing sites skipped and rescaled to the panel length."""
    A, B = np.asarray(A), np.asarray(B)
    both = (A[:, None, :] >= 0) & (B[None, :, :] >= 0)
    diff = (np.abs(A[:, None, :] - B[None, :, :]) * both).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = diff * A.shape[1] / both.sum(-1)
    out[both.sum(-1) == 0] = np.inf
    return out


def test_hand_computed_distances():
    A = [[0, 1, 2, 2]]
    B = [[2, 1, 0, 2], [0, 0, 2, 1], [0, 1, 2, 2]]
    np.testing.assert_array_equal(hamming_distances(A, B), [[4, 2, 0]])
    # |0-2| + |1-1| over the two comparable sites, rescaled by 4 / 2.
    assert hamming_distances([[0, 1, -1, 2]], [[2, 1, 1, -1]])[0, 0] == 4.0
    assert hamming_distances([[-1, 1]], [[1, -1]])[0, 0] == np.inf


@pytest.mark.parametrize("missing", [0.0, 0.15])
@pytest.mark.parametrize("block_size", [1, 7, 4096])
def test_blockwise_equals_brute_force(missing, block_size):
    rng = np.random.default_rng(1)
    A = rng.integers(0, 3, (33, 29)).astype(np.int8)
    B = rng.integers(0, 3, (21, 29)).astype(np.int8)
    A[rng.random(A.shape) < missing] = -1
    B[rng.random(B.shape) < missing] = -1
    np.testing.assert_allclose(
        hamming_distances(A, B, block_size=block_size), brute_force(A, B), rtol=1e-6
    )


def test_float32_is_exact_on_long_panels():
    rng = np.random.default_rng(2)
    A = rng.integers(0, 3, (5, 5000))
    B = rng.integers(0, 3, (4, 5000))
    np.testing.assert_array_equal(hamming_distances(A, B), brute_force(A, B))


def test_nearest_neighbours_match_sorted_brute_force():
    rng = np.random.default_rng(3)
    Q, R = rng.integers(0, 3, (40, 15)), rng.integers(0, 3, (55, 15))
    d, idx = nearest_neighbours(Q, R, k=3, block_size=8)
    full = brute_force(Q, R)
    np.testing.assert_array_equal(d, np.sort(full, axis=1)[:, :3])
    np.testing.assert_array_equal(np.take_along_axis(full, idx, axis=1), d)


def test_exclude_self_keeps_identical_other_rows():
    G = np.array([[0, 0], [0, 0], [2, 2], [2, 1]])
    d, idx = nearest_neighbours(G, G, k=1, exclude_self=True, block_size=3)
    np.testing.assert_array_equal(d[:, 0], [0, 0, 1, 1])
    np.testing.assert_array_equal(idx[:, 0], [1, 0, 3, 2])


def test_datasets_are_accepted():
    sgkit = pytest.importorskip("sgkit")
    ds = sgkit.simulate_genotype_call_dataset(n_variant=12, n_sample=6, seed=0)
    G = ds["call_genotype"].values.sum(axis=2).T
    np.testing.assert_array_equal(hamming_distances(ds), brute_force(G, G))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="same variants"):
        hamming_distances(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="A: genotypes must be 0, 1, 2"):
        hamming_distances([[0, 3]])
    with pytest.raises(ValueError, match="k must be between 1"):
        nearest_neighbours([[0, 1]], [[0, 1]], k=2)
    with pytest.raises(ValueError, match="k must be between 1"):
        nearest_neighbours([[0, 1]], [[0, 1]], k=1, exclude_self=True)


def test_metrics_baselines_and_prs_never_import_torch():
    code = (
        "import sys, genosynth.metrics, genosynth.prs, genosynth.baselines; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_equal_rescaled_distances_tie_exactly():
    # 1 difference in 3 comparable sites and 2 in 6 are both 10/3 on a 10-SNP panel;
    # rescaling in float32 rounded them one ulp apart and broke the tie.
    S = np.zeros((1, 10), dtype=int)
    T = np.array([[1, 0, 0] + [-1] * 7])
    H = np.array([[1, 1, 0, 0, 0, 0, -1, -1, -1, -1]])
    d_t, d_h = hamming_distances(T, S)[0, 0], hamming_distances(H, S)[0, 0]
    assert d_t == d_h == np.float32(10 / 3)
    from genosynth.metrics import distance_attack

    assert distance_attack(T, H, S, n_bootstrap=0)["mia_auc"] == 0.5

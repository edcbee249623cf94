"""Blockwise Hamming distances between genotype matrices, and nearest neighbours.

Distance
--------
The distance between two individuals is the Hamming distance on dosages,
``d(a, b) = sum_j |a_j - b_j|`` (0 to ``2 L``): the number of allele copies
that differ. It is computed exactly with one float32 matrix product through a
*thermometer* encoding of each dosage, ``t(g) = ([g >= 1], [g >= 2])``: for
``g, h`` in {0, 1, 2}, ``|g - h| = |t1(g) - t1(h)| + |t2(g) - t2(h)|`` and, for
0/1 indicators, ``|u - v| = u + v - 2 u v``. Hence, with ``T`` the
``(n, 2 L)`` thermometer matrix and ``s`` the row sums of dosages,

    D = s_a[:, None] + s_b[None, :] - 2 T_a @ T_b.T

Every entry is an integer below 2**24, so float32 arithmetic is exact.

Missing calls
-------------
A site missing in either individual is left out of their comparison and the
distance is rescaled to the full panel, ``d * L / n_comparable``, so that
individuals with missing calls are not artificially close. With ``P`` the
``(n, L)`` matrix of non-missing indicators and ``X`` the dosages with missing
set to 0, the sums over pairwise-comparable sites are ``X_a @ P_b.T`` and
``P_a @ X_b.T`` and ``n_comparable = P_a @ P_b.T``. A pair with no comparable
site has distance ``inf``. Without missing calls this reduces to the formula
above (and only that product is computed).

Memory is bounded by the block sizes, never by ``n_a * n_b``: a block of
query rows meets a block of reference rows at a time, and nearest-neighbour
searches keep only the ``k`` best distances per query row. The matrix products
run in BLAS, which uses every available core.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from genosynth.metrics import _inputs

DEFAULT_BLOCK = 2048


def _encode(G: np.ndarray) -> dict:
    """Thermometer (and, with missing calls, presence/dosage) encodings, float32."""
    n, L = G.shape
    present = G >= 0
    T = np.empty((n, 2 * L), dtype=np.float32)
    np.greater_equal(G, 1, out=T[:, :L], casting="unsafe")
    np.greater_equal(G, 2, out=T[:, L:], casting="unsafe")
    enc = {"T": T, "missing": not present.all()}
    if enc["missing"]:
        enc["P"] = present.astype(np.float32)
        enc["X"] = np.where(present, G, 0).astype(np.float32)
    else:
        enc["s"] = G.sum(axis=1, dtype=np.float32)
    return enc


def _block_distances(a: dict, b: dict, n_variants: int) -> np.ndarray:
    if not (a["missing"] or b["missing"]):
        D = a["T"] @ b["T"].T
        D *= -2
        D += a["s"][:, None]
        D += b["s"][None, :]
        return D
    Pa = a.get("P", np.ones((a["T"].shape[0], n_variants), dtype=np.float32))
    Pb = b.get("P", np.ones((b["T"].shape[0], n_variants), dtype=np.float32))
    Xa = a["X"] if a["missing"] else a["T"][:, :n_variants] + a["T"][:, n_variants:]
    Xb = b["X"] if b["missing"] else b["T"][:, :n_variants] + b["T"][:, n_variants:]
    D = Xa @ Pb.T + Pa @ Xb.T - 2 * (a["T"] @ b["T"].T)
    comparable = Pa @ Pb.T
    # d * L is exact in float64 and the division then rounds once, so equal
    # ratios (1 of 3 sites, 2 of 6) give the same float32 distance and tie;
    # float32 arithmetic could round them one ulp apart.
    with np.errstate(divide="ignore", invalid="ignore"):
        D = (D.astype(np.float64) * n_variants / comparable).astype(np.float32)
    D[comparable == 0] = np.inf
    return D


def iter_distance_blocks(
    A: np.ndarray, B: np.ndarray, *, block_size: int = DEFAULT_BLOCK
) -> Iterator[tuple[slice, slice, np.ndarray]]:
    """Yield ``(rows_of_A, rows_of_B, D)`` with ``D`` the float32 distance block."""
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    L = A.shape[1]
    for i in range(0, A.shape[0], block_size):
        rows = slice(i, min(i + block_size, A.shape[0]))
        a = _encode(A[rows])
        for j in range(0, B.shape[0], block_size):
            cols = slice(j, min(j + block_size, B.shape[0]))
            yield rows, cols, _block_distances(a, _encode(B[cols]), L)


def hamming_distances(A, B=None, *, block_size: int = DEFAULT_BLOCK) -> np.ndarray:
    """All pairwise Hamming distances on dosages, ``sum_j |a_j - b_j|``.

    Sites missing in either individual are skipped and the distance is
    rescaled to the panel length (``d * L / n_comparable``; ``inf`` when no
    site is comparable). The full ``(n_a, n_b)`` matrix is returned, so use
    :func:`nearest_neighbours` for large cohorts.

    Parameters
    ----------
    A : array-like of shape (n_a, n_variants) or xarray.Dataset
        Genotypes 0/1/2 (-1 or NaN missing) or an sgkit Dataset.
    B : array-like of shape (n_b, n_variants) or xarray.Dataset, optional
        Defaults to ``A``.
    block_size : int, default=2048
        Rows per block of the matrix products.

    Returns
    -------
    D : ndarray of shape (n_a, n_b), dtype float32

    Examples
    --------
    >>> hamming_distances([[0, 1, 2]], [[2, 1, 0], [0, 1, 1]])
    array([[4., 1.]], dtype=float32)
    """
    A = _inputs.genotypes(A, "A")
    B = A if B is None else _inputs.genotypes(B, "B")
    _inputs.same_panel(A=A, B=B)
    D = np.empty((A.shape[0], B.shape[0]), dtype=np.float32)
    for rows, cols, block in iter_distance_blocks(A, B, block_size=block_size):
        D[rows, cols] = block
    return D


def _merge_topk(best_d, best_i, D, offset, k):
    cand_d = np.concatenate([best_d, D], axis=1)
    cand_i = np.concatenate(
        [best_i, np.broadcast_to(np.arange(offset, offset + D.shape[1]), D.shape)], axis=1
    )
    if k == 1:
        pos = np.argmin(cand_d, axis=1)[:, None]
    else:
        pos = np.argpartition(cand_d, k - 1, axis=1)[:, :k]
        order = np.argsort(np.take_along_axis(cand_d, pos, axis=1), axis=1, kind="stable")
        pos = np.take_along_axis(pos, order, axis=1)
    return np.take_along_axis(cand_d, pos, axis=1), np.take_along_axis(cand_i, pos, axis=1)


def nearest_neighbours(
    query, reference, k: int = 1, *, exclude_self: bool = False, block_size: int = DEFAULT_BLOCK
) -> tuple[np.ndarray, np.ndarray]:
    """Distances to (and indices of) the ``k`` nearest reference rows of each query row.

    Hamming distance on dosages as in :func:`hamming_distances`, computed
    block by block so memory stays bounded for any cohort size.

    Parameters
    ----------
    query, reference : array-like of shape (n, n_variants) or xarray.Dataset
        Genotypes on the same variants.
    k : int, default=1
        Number of neighbours.
    exclude_self : bool, default=False
        ``query`` and ``reference`` are the same individuals: row ``i`` is not
        its own neighbour (an identical *other* row still is, at distance 0).
    block_size : int, default=2048
        Rows per block; peak memory grows with ``block_size**2``.

    Returns
    -------
    distances : ndarray of shape (n_query, k), dtype float32
        Sorted ascending. Ties are exact (integer distances without missing
        calls); which of several equidistant neighbours is reported in
        ``indices`` is unspecified, the distances are not affected.
    indices : ndarray of shape (n_query, k), dtype int64

    Examples
    --------
    >>> d, i = nearest_neighbours([[0, 0], [2, 2]], [[0, 1], [2, 2], [1, 1]], k=2)
    >>> d
    array([[1., 2.],
           [0., 2.]], dtype=float32)
    >>> i[:, 0]
    array([0, 1])
    """
    Q = _inputs.genotypes(query, "query")
    R = _inputs.genotypes(reference, "reference")
    _inputs.same_panel(query=Q, reference=R)
    return _nearest(Q, R, k, exclude_self=exclude_self, block_size=block_size)


def _nearest(Q, R, k, *, exclude_self=False, block_size=DEFAULT_BLOCK):
    """:func:`nearest_neighbours` on validated int8 matrices."""
    n_ref = R.shape[0] - (1 if exclude_self else 0)
    if not 1 <= k <= n_ref:
        raise ValueError(f"k must be between 1 and the number of reference rows ({n_ref}), got {k}")
    if exclude_self and Q.shape[0] != R.shape[0]:
        raise ValueError("exclude_self=True needs query and reference to be the same rows")
    best_d = np.full((Q.shape[0], k), np.inf, dtype=np.float32)
    best_i = np.full((Q.shape[0], k), -1, dtype=np.int64)
    for rows, cols, D in iter_distance_blocks(Q, R, block_size=block_size):
        if exclude_self:
            diag = np.arange(max(rows.start, cols.start), min(rows.stop, cols.stop))
            D[diag - rows.start, diag - cols.start] = np.inf
        best_d[rows], best_i[rows] = _merge_topk(best_d[rows], best_i[rows], D, cols.start, k)
    return best_d, best_i

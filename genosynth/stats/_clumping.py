"""Greedy LD clumping by p-value, as PLINK's ``--clump``.

PLINK walks the variants from the most to the least significant; each one not
yet absorbed becomes an *index* variant and absorbs every remaining variant on
the same contig within ``clump_kb`` whose r^2 with it is at least
``clump_r2``. A variant absorbed by an index variant never becomes one, and
absorbed variants absorb nothing. Hence a variant is an index variant exactly
when no *earlier index variant* nearby is in LD with it, which lets the walk
run incrementally against the index variants accepted so far and stop once
enough have been found.

r^2 is PLINK 1.9's: the squared correlation of *haplotype* alleles, from
two-locus haplotype frequencies estimated by maximum likelihood (EM over the
phase of double heterozygotes) from unphased genotypes called at both
variants. (The squared correlation of dosages, :func:`dosage_r2`, is a
slightly different estimator; near the threshold the two can disagree.)
"""

from __future__ import annotations

import numpy as np


def dosage_r2(x: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Squared correlation of dosage vector ``x`` with each column of ``Y``.

    Parameters
    ----------
    x : ndarray of shape (n,), int8
        Dosages, -1 missing.
    Y : ndarray of shape (n, m), int8
        Dosages, -1 missing.

    Returns
    -------
    r2 : ndarray of shape (m,)
        Over the samples called at both variants; 0 when either is constant there.
    """
    both = (Y >= 0) & (x >= 0)[:, None]
    xf = np.where(both, x[:, None], 0).astype(np.float64)
    yf = np.where(both, Y, 0).astype(np.float64)
    n = both.sum(axis=0).astype(np.float64)
    sx, sy = xf.sum(axis=0), yf.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cxy = (xf * yf).sum(axis=0) - sx * sy / n
        vx = (xf * xf).sum(axis=0) - sx * sx / n
        vy = (yf * yf).sum(axis=0) - sy * sy / n
        r2 = cxy * cxy / (vx * vy)
    return np.where((vx > 0) & (vy > 0) & (n > 1), r2, 0.0)


def haplotype_r2(x: np.ndarray, Y: np.ndarray, *, max_iter: int = 500) -> np.ndarray:
    """Haplotype r^2 of variant ``x`` with each column of ``Y``, by EM from genotypes.

    The 3 x 3 table of two-locus genotypes fixes every haplotype except in
    double heterozygotes, whose phase (AB/ab or Ab/aB) EM apportions with
    weights ``p_AB p_ab : p_Ab p_aB``. Then ``D = p_AB - p_A p_B`` and
    ``r^2 = D^2 / (p_A (1 - p_A) p_B (1 - p_B))``.

    Parameters
    ----------
    x : ndarray of shape (n,), int8
        Dosages, -1 missing.
    Y : ndarray of shape (n, m), int8
        Dosages, -1 missing.

    Returns
    -------
    r2 : ndarray of shape (m,)
        0 when a variant is monomorphic among the jointly called samples.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0, 1, 2, 1, 0, 2], dtype=np.int8)
    >>> haplotype_r2(x, np.stack([x, 2 - x], axis=1)).round(6)
    array([1., 1.])
    """
    T = np.empty((Y.shape[1], 3, 3))
    for i in range(3):
        xi = x == i
        for j in range(3):
            T[:, i, j] = (xi[:, None] & (Y == j)).sum(axis=0)
    # Haplotype counts fixed by the genotypes: 11 = alt-alt, 10 = alt x / ref y, ...
    h11 = 2 * T[:, 2, 2] + T[:, 2, 1] + T[:, 1, 2]
    h10 = 2 * T[:, 2, 0] + T[:, 2, 1] + T[:, 1, 0]
    h01 = 2 * T[:, 0, 2] + T[:, 0, 1] + T[:, 1, 2]
    h00 = 2 * T[:, 0, 0] + T[:, 0, 1] + T[:, 1, 0]
    dh = T[:, 1, 1]
    total = 2.0 * T.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.full(len(dh), 0.5)  # share of double heterozygotes phased AB/ab
        for _ in range(max_iter):
            p11, p00 = (h11 + dh * f) / total, (h00 + dh * f) / total
            p10, p01 = (h10 + dh * (1 - f)) / total, (h01 + dh * (1 - f)) / total
            cis, trans = p11 * p00, p10 * p01
            new = np.where(cis + trans > 0, cis / (cis + trans), 0.5)
            done = np.all(np.abs(new - f) < 1e-12)
            f = new
            if done:
                break
        p11 = (h11 + dh * f) / total
        pa = (h11 + h10 + dh) / total
        pb = (h11 + h01 + dh) / total
        D = p11 - pa * pb
        r2 = D * D / (pa * (1 - pa) * pb * (1 - pb))
    return np.where(np.isfinite(r2), np.clip(r2, 0.0, 1.0), 0.0)


class GreedyClumper:
    """Incremental PLINK-style clumping over candidates offered best first.

    Parameters
    ----------
    r2_threshold : float
        A candidate with r^2 >= this with an accepted index variant nearby is absorbed.
    window_bp : float
        "Nearby": same contig and ``|position difference| <= window_bp``.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.array([0, 1, 2, 1, 0, 2], dtype=np.int8)
    >>> G = np.stack([g, g, 2 - g], axis=1)          # 3 copies of one signal
    >>> c = GreedyClumper(0.5, 250_000)
    >>> c.offer(G, np.array(["1", "1", "1"]), np.array([10, 20, 5_000_000]))
    array([ True, False,  True])
    """

    def __init__(self, r2_threshold: float, window_bp: float):
        self.r2_threshold = float(r2_threshold)
        self.window_bp = float(window_bp)
        self.n_accepted = 0
        self._G = np.empty((0, 0), dtype=np.int8)  # accepted genotypes, grown by doubling
        self._contig = np.empty(0, dtype=object)
        self._position = np.empty(0)

    def _grow(self, n_samples: int) -> None:
        cap = max(64, 2 * self._G.shape[1])
        G = np.empty((n_samples, cap), dtype=np.int8)
        if self.n_accepted:
            G[:, : self.n_accepted] = self._G[:, : self.n_accepted]
        contig = np.empty(cap, dtype=object)
        contig[: self.n_accepted] = self._contig[: self.n_accepted]
        position = np.empty(cap)
        position[: self.n_accepted] = self._position[: self.n_accepted]
        self._G, self._contig, self._position = G, contig, position

    def offer(self, G: np.ndarray, contig, position, limit: int | None = None) -> np.ndarray:
        """Walk the columns of ``G`` in order; return which became index variants.

        Stops accepting once ``limit`` index variants exist in total (later
        columns are then reported as not accepted).
        """
        contig = np.asarray(contig).astype(str).astype(object)
        position = np.asarray(position, dtype=np.float64)
        accepted = np.zeros(G.shape[1], dtype=bool)
        for j in range(G.shape[1]):
            if limit is not None and self.n_accepted >= limit:
                break
            k = self.n_accepted
            near = np.flatnonzero(
                (self._contig[:k] == contig[j])
                & (np.abs(self._position[:k] - position[j]) <= self.window_bp)
            )
            if near.size and np.any(haplotype_r2(G[:, j], self._G[:, near]) >= self.r2_threshold):
                continue
            accepted[j] = True
            if k == self._G.shape[1]:
                self._grow(G.shape[0])
            self._G[:, k] = G[:, j]
            self._contig[k] = contig[j]
            self._position[k] = position[j]
            self.n_accepted += 1
        return accepted

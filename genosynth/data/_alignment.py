"""Matching the variants of two cohorts by id *and* alleles.

Two files can name the same variant and still count different alleles: a
synthetic cohort written with ref/alt the other way round than the real data
has dosage ``2 - g`` where the real data have ``g``. Matching by id alone
then turns every allele frequency into its complement and every effect into
its opposite, with nothing to warn the user (an allele-frequency r of -0.78
instead of 0.78). Here a variant matches when its id matches and its two
alleles are the same set: in the same order it is kept, swapped it is
flipped (and counted, so the caller can say so); any other pair of alleles
is a different variant under the same name and is refused, as are duplicate
ids, which make the match ambiguous.

Numpy and pandas only: :mod:`genosynth.metrics` uses it and must not import torch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd


class Alignment(NamedTuple):
    """Where each target variant is in the source, and whether its alleles are swapped.

    Attributes
    ----------
    index : ndarray of shape (n_target,), int
        Column of the source matrix holding each target variant.
    flip : ndarray of shape (n_target,), bool
        True where the source counts the target's *reference* allele.
    """

    index: np.ndarray
    flip: np.ndarray

    @property
    def n_flipped(self) -> int:
        """Number of variants whose ref/alt are swapped between the two cohorts."""
        return int(self.flip.sum())

    def apply(self, G: np.ndarray) -> np.ndarray:
        """Source dosages ``G`` (n, n_source) re-expressed on the target variants.

        Examples
        --------
        >>> a = Alignment(np.array([1, 0]), np.array([True, False]))
        >>> a.apply(np.array([[0, 2], [1, -1]], dtype=np.int8))
        array([[ 0,  0],
               [-1,  1]], dtype=int8)
        """
        out = np.asarray(G)[:, self.index]
        if self.flip.any():
            cols = out[:, self.flip]
            out[:, self.flip] = np.where(cols < 0, cols, 2 - cols)
        return out


def _check_unique(ids: np.ndarray, what: str) -> None:
    dup = pd.Index(ids)[pd.Index(ids).duplicated()]
    if len(dup):
        raise ValueError(
            f"{what} has {len(dup)} duplicate variant id(s), e.g. {pd.unique(dup)[:3].tolist()}: "
            "variants cannot be matched by id; give every variant a unique id "
            "(e.g. plink2 --set-all-var-ids @:#:$r:$a)"
        )


def align_variants(
    target: pd.DataFrame, source: pd.DataFrame, *, target_name="target", source_name="source"
) -> Alignment:
    """Find the ``target`` variants in ``source`` by id and alleles.

    Parameters
    ----------
    target, source : pandas.DataFrame
        Variant tables with columns ``id``, ``ref`` and ``alt`` (dosages
        count ``alt``), e.g. from :func:`genosynth.data._genotypes.variant_table`.
    target_name, source_name : str
        Names of the two cohorts, for the messages.

    Returns
    -------
    Alignment

    Raises
    ------
    ValueError
        If either table has duplicate ids, a target variant is missing from
        the source, or a variant's alleles differ other than by a ref/alt swap.

    Examples
    --------
    >>> t = pd.DataFrame({"id": ["a", "b"], "ref": ["A", "C"], "alt": ["G", "T"]})
    >>> s = pd.DataFrame({"id": ["b", "a"], "ref": ["T", "A"], "alt": ["C", "G"]})
    >>> a = align_variants(t, s)
    >>> a.index.tolist(), a.flip.tolist(), a.n_flipped
    ([1, 0], [False, True], 1)
    """
    t_ids = target["id"].astype(str).to_numpy()
    s_ids = source["id"].astype(str).to_numpy()
    _check_unique(t_ids, target_name)
    _check_unique(s_ids, source_name)
    index = pd.Index(s_ids).get_indexer(t_ids)
    absent = index < 0
    if absent.any():
        raise ValueError(
            f"{int(absent.sum())} {target_name} variants are not in {source_name}, "
            f"e.g. {t_ids[absent][:3].tolist()}"
        )
    t_ref, t_alt = (target[c].astype(str).to_numpy() for c in ("ref", "alt"))
    s_ref, s_alt = (source[c].astype(str).to_numpy()[index] for c in ("ref", "alt"))
    same = (t_ref == s_ref) & (t_alt == s_alt)
    swapped = (t_ref == s_alt) & (t_alt == s_ref) & ~same
    bad = ~(same | swapped)
    if bad.any():
        j = np.flatnonzero(bad)[:3]
        examples = [
            f"{t_ids[k]} ({t_ref[k]}/{t_alt[k]} vs {s_ref[k]}/{s_alt[k]})" for k in j.tolist()
        ]
        raise ValueError(
            f"{int(bad.sum())} variants have different alleles in {target_name} and "
            f"{source_name} (ref/alt), e.g. {', '.join(examples)}: they are not the same "
            "variants"
        )
    return Alignment(index.astype(np.intp), swapped)


def flip_note(n_flipped: int, source_name: str, target_name: str) -> str:
    """The sentence a report shows for ref/alt swaps (empty when there are none).

    Examples
    --------
    >>> flip_note(3, "train", "synthetic")
    '3 variants of train have ref/alt swapped relative to synthetic: their dosages were flipped'
    """
    if not n_flipped:
        return ""
    return (
        f"{n_flipped} variant{'s' if n_flipped != 1 else ''} of {source_name} "
        f"{'have' if n_flipped != 1 else 'has'} ref/alt swapped relative to {target_name}: "
        "their dosages were flipped"
    )

"""The data room: genotype arrays and Datasets, labels, haplotypes.

Everything above reads genotypes through :func:`~genosynth.data._genotypes.as_genotypes`
and labels through :mod:`genosynth.data._labels`. Nothing here imports torch or any
other genosynth room. PLINK/Zarr reading and writing is :mod:`genosynth.io` and model
files are :mod:`genosynth.persistence`; both belong to this layer.
"""

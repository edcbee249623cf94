"""genosynth: phenotype-conditioned synthetic genotypes.

GWAS-guided SNP selection, a genotype VAE and label-conditioned latent
diffusion, as scikit-learn estimators over small torch cores.
"""

from genosynth._genotypes import as_genotypes, iter_variant_blocks

__version__ = "0.1.0.dev0"

__all__ = ["as_genotypes", "iter_variant_blocks", "__version__"]

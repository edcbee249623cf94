"""genosynth: phenotype-conditioned synthetic genotypes.

GWAS-guided SNP selection, a genotype VAE and label-conditioned latent
diffusion, as scikit-learn estimators over small torch cores.

Public names are imported lazily, so that ``import genosynth.metrics`` (pure
numpy/scipy) never imports torch.
"""

from importlib import import_module

__version__ = "0.1.0.dev0"

_LAZY = {
    "as_genotypes": "genosynth.data._genotypes",
    "iter_variant_blocks": "genosynth.data._genotypes",
    "to_dataset": "genosynth.io",
    "read_plink": "genosynth.io",
    "write_plink": "genosynth.io",
    "save_zarr": "genosynth.io",
    "load_zarr": "genosynth.io",
    "read_phenotype": "genosynth.io",
    "read_covariates": "genosynth.io",
    "complete_samples": "genosynth.io",
    "GWASSelector": "genosynth.selection",
    "GenotypeVAE": "genosynth.generative.vae.vae",
    "ConditionalLatentDiffusion": "genosynth.generative.diffusion.diffusion",
    "GenerativePipeline": "genosynth.pipeline",
    "sample_genotypes": "genosynth.pipeline",
    "default_pipeline": "genosynth.pipeline",
    "save": "genosynth.persistence",
    "load": "genosynth.persistence",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'genosynth' has no attribute {name!r}")


def __dir__():
    return __all__

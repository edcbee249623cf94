"""Genotype VAE (public path; the code lives in :mod:`genosynth.generative.vae`)."""

from genosynth.generative.vae.vae import GenotypeVAE

__all__ = ["GenotypeVAE"]

"""Conditional latent diffusion (public path; the code lives in
:mod:`genosynth.generative.diffusion`)."""

from genosynth.generative.diffusion.diffusion import ConditionalLatentDiffusion

__all__ = ["ConditionalLatentDiffusion"]

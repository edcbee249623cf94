"""Conditional latent diffusion: the estimator (:mod:`.diffusion`), the denoising
networks (:mod:`._denoiser`), and the pure noise schedules and samplers
(:mod:`._schedules`)."""

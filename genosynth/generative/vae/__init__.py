"""The genotype VAE: the estimator (:mod:`.vae`) and its torch networks (:mod:`._vae_modules`)."""

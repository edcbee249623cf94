"""The generative room: the only code in genosynth that imports torch.

The torch estimator base (:mod:`._torch_estimator`), device/seed/precision helpers
(:mod:`._torch_utils`), the training loop (:mod:`._training`), and the two models:
:mod:`.vae` (``GenotypeVAE`` and its networks) and :mod:`.diffusion`
(``ConditionalLatentDiffusion``, its denoisers, schedules and samplers). The public
names are re-exported as :mod:`genosynth.vae` and :mod:`genosynth.diffusion`.
"""

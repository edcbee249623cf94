"""The order of the example gallery (importable, so Sphinx can pickle the configuration)."""

import os

# The gallery reads as a course: the whole workflow first, then one stage at a time, then
# the evaluation stories, then files. Examples not listed here come last, by name.
STORY_ORDER = [
    "plot_quick_start.py",
    "plot_gwas_selection.py",
    "plot_vae_latent_space.py",
    "plot_guidance_sweep.py",
    "plot_privacy_audit.py",
    "plot_tstr_prs.py",
    "plot_causal_recovery.py",
    "plot_round_trip.py",
]


class StoryOrder:
    """Sort key of sphinx-gallery's ``within_subsection_order``."""

    def __init__(self, src_dir=None):
        self.src_dir = src_dir

    def __repr__(self):
        return "StoryOrder"

    def __call__(self, filename):
        name = os.path.basename(filename)
        rank = STORY_ORDER.index(name) if name in STORY_ORDER else len(STORY_ORDER)
        return rank, name

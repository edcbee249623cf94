"""Sphinx configuration of the genosynth documentation.

Build (warnings are errors)::

    sphinx-build -W -b html docs docs/_build/html

The example gallery is executed during the build. Set ``GENOSYNTH_DOCS_EXECUTE=0``
to render the examples without running them (a fast check of the prose and the
API reference), or ``GENOSYNTH_EXAMPLE_SCALE=tiny`` to run every example at a tiny
size (figures and output are then only smoke-test quality).

Nothing here needs the network: intersphinx is deliberately not enabled, so
references to numpy, xarray or scikit-learn objects render as plain text.
"""

import os
import re
import sys
import warnings

import genosynth

# docs/ itself holds the gallery-order module, referenced by name so the configuration pickles.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

project = "genosynth"
author = "genosynth developers"
copyright = "genosynth developers"
version = release = genosynth.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md", "auto_examples/*.ipynb", "auto_examples/*.py"]
root_doc = "index"

# API reference: one generated page per public object (docs/gen_modules/, not committed).
autosummary_generate = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"
# numpydoc would otherwise add an autosummary table of every method, including the
# ones inherited from scikit-learn; the class template lists genosynth's own methods.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# The gallery: every examples/plot_*.py is run and its figures and printed output kept.
_execute = os.environ.get("GENOSYNTH_DOCS_EXECUTE", "1").strip().lower() not in ("0", "false", "no")

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": _execute,
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "within_subsection_order": "_gallery_order.StoryOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "doc_module": ("genosynth",),
    "backreferences_dir": "gen_modules/backreferences",
}

# Third-party deprecation chatter during example execution is not ours to fix and must not
# fail a -W build; genosynth's own warnings still show in the examples' output.
warnings.filterwarnings("ignore", category=DeprecationWarning, module="dask.*")
warnings.filterwarnings("ignore", category=FutureWarning, module="sgkit.*")
warnings.filterwarnings("ignore", message="Dask currently has limited support")

# Fitted-attribute names such as ``n_features_in_`` written bare in a docstring (e.g. in
# "ndarray of shape (n_samples, n_features_in_)") are hyperlink references to reStructuredText,
# which would fail the build with "Unknown target name". Render them as literals instead.
# An index that follows the name ("effects_[j]") joins the literal: a literal may not be
# followed directly by "[".
_TRAILING_UNDERSCORE = re.compile(r"(?<![\w`*])([A-Za-z]\w*[A-Za-z0-9]_(?:\[[^\]\s]*\])?)(?![\w`])")
_LITERAL_OR_ROLE = re.compile(r"(``.+?``|:\w+:`.+?`|`.+?`_{0,2})")


def _quote_fitted_attributes(app, what, name, obj, options, lines):
    for k, line in enumerate(lines):
        if line.lstrip().startswith((">>>", "...")):
            continue
        parts = _LITERAL_OR_ROLE.split(line)
        # split() with one capture group alternates plain text and literals/roles.
        parts[::2] = [_TRAILING_UNDERSCORE.sub(r"``\1``", p) for p in parts[::2]]
        lines[k] = "".join(parts)


def setup(app):
    # Priority below numpydoc's (500) so the raw docstring is fixed before numpydoc parses it.
    app.connect("autodoc-process-docstring", _quote_fitted_attributes, priority=400)


html_theme = "pydata_sphinx_theme"
html_title = f"genosynth {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False

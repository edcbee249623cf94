"""Every gallery example runs to the end at tiny size and draws its figures.

Each example runs in its own Python process (as sphinx-gallery and a reader would run it),
with ``GENOSYNTH_EXAMPLE_SCALE=tiny``, which every example reads to shrink its cohort and
training lengths. The full-size gallery is executed by the documentation build
(``sphinx-build -W -b html docs docs/_build/html``). The API reference is checked here too:
it must list every public object, so that a new one cannot be forgotten; and when the
``docs`` extra is installed, the whole documentation is built with warnings as errors,
gallery included, at the tiny size.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))

# Runs the example as __main__ and reports how many figures it left open (sphinx-gallery
# collects exactly those).
_RUNNER = textwrap.dedent(
    """
    import runpy, sys
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    runpy.run_path(sys.argv[1], run_name="__main__")
    print(f"__figures__={len(plt.get_fignums())}")
    """
)


def _env() -> dict:
    # One torch/BLAS thread: the tiny networks gain nothing from more, and on a shared
    # machine (or next to another xdist worker) multi-threaded torch can slow down by
    # orders of magnitude.
    return {
        **os.environ,
        "GENOSYNTH_EXAMPLE_SCALE": "tiny",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }


def test_the_gallery_is_complete():
    # The stories the documentation promises (issue 7), one file each.
    topics = [
        "quick_start",
        "gwas",
        "vae",
        "guidance",
        "privacy",
        "prs",
        "causal",
        "round_trip",
    ]
    names = [p.stem for p in EXAMPLES]
    missing = [t for t in topics if not any(t in n for n in names)]
    assert not missing, f"no example for {missing}; examples are {names}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_has_a_gallery_header(path):
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring, f"{path.name} needs a module docstring (the gallery page's text)"
    title, underline = docstring.splitlines()[:2]
    assert title.strip() and set(underline.strip()) == {"="}, (
        f"{path.name}: the docstring must start with a title underlined with '='"
    )
    assert len(underline.strip()) >= len(title.strip()), f"{path.name}: title underline too short"
    assert "GENOSYNTH_EXAMPLE_SCALE" in path.read_text(), (
        f"{path.name} must read GENOSYNTH_EXAMPLE_SCALE to shrink itself for the test suite"
    )


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_at_tiny_size(path, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(path)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stderr[-4000:]}"
    n_figures = int(proc.stdout.rsplit("__figures__=", 1)[1])
    assert n_figures >= 1, f"{path.name} draws no figure"
    assert not list(tmp_path.iterdir()), f"{path.name} left files in its working directory"


def _public_names() -> set[str]:
    """Qualified names of every public object: the package namespace and the public modules."""
    import genosynth
    import genosynth.association
    import genosynth.baselines
    import genosynth.datasets
    import genosynth.metrics
    import genosynth.prs

    names = {f"genosynth.{n}" for n in genosynth.__all__ if n != "__version__"}
    for module in (
        genosynth.association,
        genosynth.baselines,
        genosynth.datasets,
        genosynth.metrics,
        genosynth.prs,
    ):
        public = getattr(module, "__all__", None)
        if public is None:  # no __all__: the classes and functions the module defines
            public = [
                n
                for n, obj in vars(module).items()
                if not n.startswith("_")
                and callable(obj)
                and getattr(obj, "__module__", None) == module.__name__
            ]
        names |= {f"{module.__name__}.{n}" for n in public if callable(getattr(module, n))}
    return names


def test_api_reference_lists_every_public_object():
    text = (ROOT / "docs" / "api.rst").read_text()
    listed = set()
    module = "genosynth"
    for line in text.splitlines():
        m = re.match(r"\.\. currentmodule:: (\S+)", line)
        if m:
            module = m.group(1)
        elif re.match(r"   [A-Za-z_]\w*$", line):
            listed.add(f"{module}.{line.strip()}")
    missing = sorted(_public_names() - listed)
    assert not missing, f"docs/api.rst does not list {missing}"


def test_documentation_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx_gallery", reason="the docs extra is not installed")
    pytest.importorskip("numpydoc", reason="the docs extra is not installed")
    pytest.importorskip("pydata_sphinx_theme", reason="the docs extra is not installed")
    # A copy, so the generated gallery and API pages never land in the working tree.
    for name in ("docs", "examples"):
        shutil.copytree(
            ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("_build", "auto_*", "gen_*")
        )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(tmp_path / "docs"),
            str(tmp_path / "html"),
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"sphinx-build failed:\n{proc.stderr[-4000:]}"
    built = {p.stem for p in (tmp_path / "html" / "auto_examples").glob("plot_*.html")}
    assert built == {p.stem for p in EXAMPLES}

"""The import direction of the package (docs/architecture.rst), checked on the source.

Layers, lowest first: data -> stats -> association (selection, PRS, baselines) ->
generative (the only torch code) -> pipeline (and the CLI). A module may import its own
layer and the layers below it, never one above. ``genosynth.metrics`` stands beside the
chain: it may import data and stats only, and never torch. Every import statement counts,
including those inside functions (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "genosynth"

ORDER = ["data", "stats", "association", "generative", "pipeline"]
ALLOWED = {layer: set(ORDER[: i + 1]) for i, layer in enumerate(ORDER)}
ALLOWED["metrics"] = {"data", "stats", "metrics"}
ALLOWED["pipeline"] |= {"metrics"}

# Module (or package) name -> layer; the longest matching prefix wins.
LAYERS = {
    "genosynth.data": "data",
    "genosynth.datasets": "data",
    "genosynth.io": "data",
    "genosynth.persistence": "data",
    "genosynth.stats": "stats",
    "genosynth.association": "association",
    "genosynth.selection": "association",
    "genosynth.prs": "association",
    "genosynth.baselines": "association",
    "genosynth.generative": "generative",
    "genosynth.vae": "generative",
    "genosynth.diffusion": "generative",
    "genosynth.metrics": "metrics",
    "genosynth.pipeline": "pipeline",
    "genosynth.cli": "pipeline",
    # Chunked sampling to disk: it drives a fitted pipeline, so it sits in the pipeline layer.
    "genosynth._streaming": "pipeline",
}

# Imports that run against the direction today, each with its reason. The test fails when
# one disappears, so that the list only shrinks.
EXCEPTIONS = {
    ("genosynth.metrics.utility", "genosynth.association"): (
        "association_recovery runs the package's GWAS scan (numpy only) on real and synthetic"
    ),
    ("genosynth.metrics.report", "genosynth.prs"): (
        "evaluate's TSTR includes the marginal-effect PRS classifier (numpy/sklearn only)"
    ),
}

TORCH = {"torch"}


def layer_of(module: str) -> str | None:
    """The layer of a genosynth module (None for the package root and unknown names)."""
    best = None
    for prefix, layer in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, layer)
    return best[1] if best else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool) -> set[str]:
    """Absolute names of every module ``source`` imports (relative imports resolved)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.add(target)
            # ``from genosynth.metrics import _inputs`` imports a module, not a name.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def package_graph() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        graph[name] = imports_of(path.read_text(), name, path.name == "__init__.py")
    return graph


def violations(graph: dict[str, set[str]], known: set[str]) -> list[tuple[str, str, str]]:
    """(importer, imported, why) for every import against the direction.

    ``known`` is the set of module names that exist, so that ``from pkg import name`` is
    judged by the module ``pkg`` when ``name`` is not a module.
    """
    found = []
    for module, imported in graph.items():
        layer = layer_of(module)
        if layer is None:
            if module != "genosynth":
                found.append((module, "", "module in no layer: add it to LAYERS"))
            continue
        for target in sorted(imported):
            top = target.split(".")[0]
            if layer == "metrics" and top in TORCH:
                found.append((module, target, "metrics never import torch"))
            elif top in TORCH and layer not in {"generative", "pipeline"}:
                found.append((module, target, "torch is imported only by generative"))
            if top != "genosynth" or target == "genosynth" or target not in known:
                continue  # the package root only holds the version and lazy names
            other = layer_of(target)
            if other not in ALLOWED[layer]:
                found.append((module, target, f"{layer} may not import {other}"))
    return found


def _against_direction(graph):
    known = set(graph)
    return [
        v
        for v in violations(graph, known)
        if not any(v[0] == a and (v[1] == b or v[1].startswith(b + ".")) for a, b in EXCEPTIONS)
    ]


def test_every_module_is_in_a_layer():
    unplaced = [m for m in package_graph() if m != "genosynth" and layer_of(m) is None]
    assert not unplaced, f"add these modules to a layer in LAYERS: {unplaced}"


def test_imports_follow_the_direction():
    bad = _against_direction(package_graph())
    assert not bad, "imports against the direction:\n" + "\n".join(
        f"  {a} -> {b}: {why}" for a, b, why in bad
    )


@pytest.mark.parametrize("exception", sorted(EXCEPTIONS))
def test_each_exception_is_still_needed(exception):
    importer, imported = exception
    targets = package_graph()[importer]
    assert any(t == imported or t.startswith(imported + ".") for t in targets), (
        f"{importer} no longer imports {imported}: remove it from EXCEPTIONS"
    )


def test_the_check_catches_bad_graphs():
    graph = {
        "genosynth.data._genotypes": {"numpy", "genosynth.stats._genetics"},  # data -> stats
        "genosynth.stats._genetics": {"genosynth.data._genotypes"},  # fine
        "genosynth.association": {"genosynth.generative._training"},  # association -> gen
        "genosynth.generative._training": {"torch", "genosynth.pipeline"},  # gen -> pipeline
        "genosynth.metrics.fidelity": {"torch", "genosynth.selection"},  # two faults
        "genosynth.selection": {"torch"},  # torch outside generative
        "genosynth.pipeline": {"genosynth.generative._training", "genosynth.metrics"},  # fine
        "genosynth.newroom": {"numpy"},  # in no layer
    }
    found = {(a, b) for a, b, _ in violations(graph, set(graph))}
    assert found == {
        ("genosynth.data._genotypes", "genosynth.stats._genetics"),
        ("genosynth.association", "genosynth.generative._training"),
        ("genosynth.generative._training", "genosynth.pipeline"),
        ("genosynth.metrics.fidelity", "torch"),
        ("genosynth.metrics.fidelity", "genosynth.selection"),
        ("genosynth.selection", "torch"),
        ("genosynth.newroom", ""),
    }


def test_relative_and_from_imports_are_resolved():
    src = "from . import _inputs\nfrom ..stats import _genetics\nimport torch.nn as nn\n"
    found = imports_of(src, "genosynth.metrics.fidelity", is_package=False)
    assert {"genosynth.metrics._inputs", "genosynth.stats._genetics", "torch.nn"} <= found
    found = imports_of("from ._x import y\n", "genosynth.metrics", is_package=True)
    assert "genosynth.metrics._x" in found


def test_importing_metrics_does_not_import_torch():
    code = (
        "import sys, genosynth.metrics, genosynth.metrics.report, genosynth.stats._genetics; "
        "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr

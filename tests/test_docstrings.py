"""The Examples sections of the docstrings run and print what they show."""

import doctest
import importlib
import pkgutil

import pytest

import genosynth

MODULES = sorted(m.name for m in pkgutil.walk_packages(genosynth.__path__, "genosynth."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"

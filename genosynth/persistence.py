"""Save and load fitted pipelines without pickle.

A model file is one `safetensors <https://github.com/huggingface/safetensors>`_
file: numeric arrays (network weights, fitted statistics) as tensors, and
everything else (class names, parameters, small fitted values) as JSON in the
file's header. Loading parses data only, so a model file can never run code:
only genosynth's own estimator classes can be named in it, and only fitted
attributes (``name_``) can be set from it. A checksum over the header and every
tensor refuses files that were damaged or edited after saving. It is not a
signature -- whoever edits a file on purpose can recompute it -- so a file
that passes it is still checked for its structure, and anything malformed is
refused with a ValueError; trust a model file as much as its source.

Privacy hygiene: a model file holds summary statistics and network weights,
never training genotypes; estimators that memorise individuals (the copycat
baseline) cannot be saved. The one exception is the haplotype-copying
baseline, whose reference panel of training haplotypes *is* the model (as
HAPGEN2's is): saving it warns that the file is as sensitive as the data.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from importlib import import_module
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from genosynth.data._atomic import atomic_output
from genosynth.io import package_version as _version

FORMAT = "genosynth-model"
FORMAT_VERSION = 1
# Deepest nesting of the JSON header that save writes is 6 (steps, a step,
# its fitted state, a DataFrame, a column, a value); beyond this a header is
# refused before anything recurses into it.
_MAX_HEADER_DEPTH = 32

# The only classes a model file may name: loading never imports anything else.
_ESTIMATORS = {
    "GWASSelector": "genosynth.selection",
    "GenotypeVAE": "genosynth.generative.vae.vae",
    "ConditionalLatentDiffusion": "genosynth.generative.diffusion.diffusion",
    "AlleleFrequencySampler": "genosynth.baselines",
    "HaplotypeMosaic": "genosynth.baselines",
    "PRSClassifier": "genosynth.prs",
}
_PIPELINES = {"GenerativePipeline": "genosynth.pipeline", "Pipeline": "sklearn.pipeline"}
_UNSAVEABLE = {"Copycat": "it stores training genotypes, which a shareable model must not"}


def _json_value(value, where: str):
    """A JSON-safe rendering of a parameter or small fitted value (or TypeError)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_json_value(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v, where) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.kind in "OUS":
        return {"__ndarray__": value.astype(str).tolist(), "dtype": value.dtype.kind}
    if isinstance(value, pd.DataFrame):
        return {
            "__dataframe__": {c: value[c].tolist() for c in value.columns},
            "dtypes": {c: str(value[c].dtype) for c in value.columns},
        }
    raise TypeError(f"cannot save {where} of type {type(value).__name__}")


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=object)
        if "__dataframe__" in value:
            frame = pd.DataFrame(value["__dataframe__"])
            for col, dtype in value["dtypes"].items():
                if dtype not in ("object", "str", "string"):
                    frame[col] = frame[col].astype(dtype)
            return frame
        return {k: _from_json(v) for k, v in value.items()}
    return value


def _export_estimator(est, name: str) -> tuple[dict, dict[str, np.ndarray]]:
    cls = type(est).__name__
    if cls in _UNSAVEABLE:
        raise TypeError(f"step {name!r} ({cls}) cannot be saved: {_UNSAVEABLE[cls]}")
    if cls not in _ESTIMATORS:
        raise TypeError(
            f"step {name!r} is a {cls}; genosynth.save stores only genosynth estimators "
            f"({', '.join(sorted(_ESTIMATORS))}); use joblib for other objects"
        )
    check_is_fitted(est)  # a NotFittedError naming the estimator, not a missing attribute
    params = {k: _json_value(v, f"parameter {name}__{k}") for k, v in est.get_params(False).items()}
    export = getattr(est, "_export_fitted", None) or (lambda: split_fitted(est))
    fitted, arrays = export()
    fitted = _json_value(fitted, f"fitted state of {name!r}")
    arrays = {f"{name}/{k}": np.ascontiguousarray(v) for k, v in arrays.items()}
    return {"name": name, "class": cls, "params": params, "fitted": fitted}, arrays


def set_fitted(est, attributes: dict) -> None:
    """Set fitted attributes read from a model file, refusing any other name.

    Only public names ending in ``_`` may be set, so a file cannot replace a
    method (``sample``) or private state.
    """
    bad = sorted(n for n in attributes if not (n.isidentifier() and n.endswith("_")) or n[0] == "_")
    if bad:
        raise ValueError(f"{type(est).__name__} cannot take {bad}: not fitted attributes")
    for name, value in attributes.items():
        setattr(est, name, value)


def _import_estimator(spec: dict, arrays: dict[str, np.ndarray]):
    cls_name = spec["class"]
    if cls_name not in _ESTIMATORS:
        raise ValueError(f"model file names an unknown estimator class {cls_name!r}")
    cls = getattr(import_module(_ESTIMATORS[cls_name]), cls_name)
    # A parameter added after the file was written takes the value that reproduces
    # the fitted model (the class's _legacy_params), not today's default.
    params = getattr(cls, "_legacy_params", {}) | _from_json(spec["params"])
    est = cls(**params)
    prefix = spec["name"] + "/"
    own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
    fitted = _from_json(spec["fitted"])
    if not isinstance(fitted, dict):
        raise ValueError(f"the fitted state of step {spec['name']!r} is not a mapping")
    if hasattr(est, "_import_fitted"):
        return est._import_fitted(fitted, own)
    set_fitted(est, {**fitted, **own})
    return est


def split_fitted(est, skip=()) -> tuple[dict, dict[str, np.ndarray]]:
    """An estimator's fitted attributes (``name_``): numeric arrays apart from the rest.

    Numeric arrays become tensors of the model file; everything else goes to
    its JSON header. Names in ``skip`` are left to the estimator itself.
    """
    fitted, arrays = {}, {}
    for attr, value in vars(est).items():
        if not attr.endswith("_") or attr.startswith("_") or attr in skip:
            continue
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            arrays[attr] = value
        else:
            fitted[attr] = value
    return fitted, arrays


def _digest(header: dict, arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for key in sorted(arrays):
        arr = arrays[key]
        h.update(f"{key}|{arr.dtype.str}|{arr.shape}".encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def save(pipe, path, *, overwrite: bool = False) -> Path:
    """Save a fitted genosynth pipeline (or single estimator) to a safetensors file.

    The file is written under a temporary name and renamed into place (an
    interrupted save leaves no partial model), with the permissions of the
    umask like any other new file.

    Parameters
    ----------
    pipe : GenerativePipeline, sklearn Pipeline or genosynth estimator
        Fitted. Every step must be a genosynth estimator.
    path : str or path-like
        Output file (conventionally ``*.genosynth``).
    overwrite : bool, default=False
        Replace an existing file; by default it is refused (FileExistsError).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from genosynth.baselines import AlleleFrequencySampler
    >>> rng = np.random.default_rng(0)
    >>> est = AlleleFrequencySampler().fit(rng.integers(0, 3, (20, 5)), rng.integers(0, 2, 20))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     back = load(save(est, f"{d}/af.genosynth"))
    >>> np.array_equal(back.sample(3, random_state=0)[0], est.sample(3, random_state=0)[0])
    True
    """
    from safetensors.numpy import save_file

    if isinstance(pipe, Pipeline):
        kind = type(pipe).__name__
        if kind not in _PIPELINES:
            raise TypeError(f"cannot save a {kind}; use GenerativePipeline or Pipeline")
        steps = pipe.steps
    else:
        kind, steps = None, [("estimator", pipe)]
    specs, arrays = [], {}
    for name, est in steps:
        spec, own = _export_estimator(est, name)
        specs.append(spec)
        arrays.update(own)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "genosynth_version": _version(),
        "pipeline": kind,
        "steps": specs,
    }
    metadata = {"genosynth": json.dumps(header), "sha256": _digest(header, arrays)}
    path = Path(path)
    with atomic_output(path, overwrite=overwrite, what="model file") as tmp:
        save_file(arrays, str(tmp), metadata=metadata)
    return path


def load(path):
    """Load a model saved by :func:`save`; never executes code from the file.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a genosynth model, was altered after saving, names
        a class genosynth does not know, or has an unsupported format version.

    Warns
    -----
    UserWarning
        When the file was written by another genosynth version.

    Examples
    --------
    See :func:`save`.
    """
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        # TypeError: a tensor dtype numpy cannot hold (bfloat16), never written by save.
        raise ValueError(f"{path} is not a genosynth model file ({exc})") from exc
    if "genosynth" not in metadata:
        raise ValueError(f"{path} is a safetensors file but not a genosynth model")
    try:
        header = json.loads(metadata["genosynth"])
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{path}: the model header is corrupt ({exc!r})") from None
    if _depth(header) > _MAX_HEADER_DEPTH:
        raise ValueError(
            f"{path}: the model header is nested deeper than {_MAX_HEADER_DEPTH} levels; "
            "genosynth never writes such a file"
        )
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a genosynth model file")
    if header.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path} uses model format {header.get('format_version')}; this genosynth "
            f"({_version()}) reads format {FORMAT_VERSION}"
        )
    if metadata.get("sha256") != _digest(header, arrays):
        raise ValueError(f"{path} was modified after it was saved (checksum mismatch); refusing it")
    if header.get("genosynth_version") != _version():
        warnings.warn(
            f"{path} was saved by genosynth {header.get('genosynth_version')}, "
            f"this is {_version()}",
            UserWarning,
            stacklevel=2,
        )
    try:
        return _import_model(header, arrays)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    except (KeyError, TypeError, AttributeError, IndexError, RuntimeError, RecursionError) as exc:
        # A file that passed the checksum yet does not have the structure save
        # writes: refuse it as a whole rather than leak the error of whichever
        # step tripped over it.
        raise ValueError(f"{path} is a malformed genosynth model file ({exc!r})") from exc


def _depth(value) -> int:
    """Nesting depth of parsed JSON, without recursion (a crafted header may be very deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > _MAX_HEADER_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _check_shapes(steps: list) -> None:
    """Refuse a pipeline whose steps do not fit one another.

    Each step must accept what the step before it produces: a selector's
    mask covers its ``n_features_in_`` and keeps as many variants as the next
    step takes; a transformer's output width (``n_latent_``) is the next
    step's input width. A file edited by hand, with its checksum recomputed,
    would otherwise load and fail (or sample nonsense) later.
    """
    from sklearn.feature_selection import SelectorMixin

    for (name, step), (next_name, following) in zip(steps, steps[1:]):
        width = None
        if isinstance(step, SelectorMixin):
            mask = np.asarray(step.get_support())
            n_in = getattr(step, "n_features_in_", mask.size)
            if mask.shape != (n_in,):
                raise ValueError(
                    f"step {name!r} selects from {mask.size} variants but was fitted on {n_in}"
                )
            width = int(mask.sum())
        elif hasattr(step, "n_latent_"):
            width = int(step.n_latent_)
        expected = getattr(following, "n_features_in_", None)
        if width is not None and expected is not None and width != int(expected):
            raise ValueError(
                f"step {name!r} outputs {width} features but step {next_name!r} was fitted "
                f"on {int(expected)}: the model file is inconsistent"
            )


def _import_model(header: dict, arrays: dict[str, np.ndarray]):
    specs = header["steps"]
    if not isinstance(specs, list) or not specs or not all(isinstance(s, dict) for s in specs):
        raise ValueError("'steps' must be a non-empty list of step records")
    names = [spec["name"] for spec in specs]
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise ValueError(f"step names must be distinct strings, got {names}")
    unclaimed = sorted(k for k in arrays if k.split("/", 1)[0] not in names)
    if unclaimed:
        raise ValueError(f"tensors {unclaimed[:5]} belong to no step")
    steps = [(spec["name"], _import_estimator(spec, arrays)) for spec in specs]
    _check_shapes(steps)
    kind = header.get("pipeline")
    if kind is None:
        if len(steps) != 1:
            raise ValueError(f"a single estimator's file holds {len(steps)} steps")
        return steps[0][1]
    if kind not in _PIPELINES:
        raise ValueError(f"model file names an unknown pipeline class {kind!r}")
    return getattr(import_module(_PIPELINES[kind]), kind)(steps)

"""Writing outputs safely: refuse to overwrite, and never leave a half-written file.

Every file genosynth writes (model files, PLINK triples, Zarr stores, CSV
tables) goes through here. An output is first checked -- its directory
exists and is writable, it is not a directory when a file is expected, and
it does not exist unless the caller asked to overwrite it -- so that a command
line run fails *before* an hour-long fit rather than after it. The content is
then written under a temporary name in the same directory and renamed into
place: a crash, a full disk or an interrupt leaves the previous file (or
nothing), never a truncated cohort.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

# Suffixes of the three files of a PLINK 1 fileset, renamed into place with the
# .bed last: a reader that finds the .bed finds its .bim and .fam too.
PLINK_SUFFIXES = (".bim", ".fam", ".bed")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_file_mode() -> int:
    """The permission bits a new file gets under the current umask (e.g. 0o644).

    Examples
    --------
    >>> default_file_mode() & 0o600
    384
    """
    return 0o666 & ~_umask()


def plink_paths(prefix) -> list[Path]:
    """The ``.bim``, ``.fam`` and ``.bed`` paths of a PLINK prefix.

    Examples
    --------
    >>> [p.name for p in plink_paths("out/cohort")]
    ['cohort.bim', 'cohort.fam', 'cohort.bed']
    """
    prefix = Path(prefix)
    return [prefix.with_name(prefix.name + suffix) for suffix in PLINK_SUFFIXES]


def check_output(
    paths: Path | str | Sequence, *, overwrite: bool = False, what="output", store: bool = False
) -> None:
    """Refuse an output that cannot be written, before any work is done.

    Parameters
    ----------
    paths : path-like or sequence of path-like
        The file(s) or directory store to be written.
    overwrite : bool, default=False
        Whether existing outputs may be replaced.
    what : str, default="output"
        What the output is, for the messages.
    store : bool, default=False
        Whether the outputs are directory stores (Zarr) rather than files.

    Raises
    ------
    FileExistsError
        If an output exists and ``overwrite`` is False.
    IsADirectoryError
        If an output that names a file is an existing directory.
    PermissionError
        If the output's directory is not writable.
    FileNotFoundError
        If the output's directory does not exist.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     check_output(f"{d}/model.genosynth")
    ...     check_output(d, what="model file")
    Traceback (most recent call last):
    ...
    IsADirectoryError: model file ... is a directory
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    for path in map(Path, paths):
        parent = path.parent
        if not parent.is_dir():
            raise FileNotFoundError(f"output directory {parent} (for the {what}) does not exist")
        if path.is_dir() and not store:
            raise IsADirectoryError(f"{what} {path} is a directory")
        if path.exists() and not overwrite:
            raise FileExistsError(
                f"{what} {path} already exists (pass overwrite=True to replace it)"
            )
        if not os.access(parent, os.W_OK | os.X_OK):
            raise PermissionError(f"output directory {parent} (for the {what}) is not writable")


def _temporary_twin(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:12]}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _move_into_place(tmp: Path, final: Path) -> None:
    if tmp.is_dir() and final.exists():
        # os.replace cannot replace a non-empty directory: set the old store aside first.
        old = _temporary_twin(final)
        os.replace(final, old)
        os.replace(tmp, final)
        _remove(old)
    else:
        os.replace(tmp, final)


@contextlib.contextmanager
def atomic_outputs(
    paths: Sequence, *, overwrite: bool = False, what: str = "output", store: bool = False
) -> Iterator[list[Path]]:
    """Temporary paths to write to, renamed onto ``paths`` when the block succeeds.

    On an exception (or an interrupt) the temporary files are removed and the
    outputs are left as they were. New files get the permissions of the umask,
    whatever the writer used.

    Parameters
    ----------
    paths : sequence of path-like
        The final outputs (files, or directories such as Zarr stores).
    overwrite : bool, default=False
        Whether existing outputs may be replaced (checked by :func:`check_output`).
    what : str, default="output"
        What the outputs are, for the messages.
    store : bool, default=False
        Whether the outputs are directory stores (Zarr) rather than files.

    Yields
    ------
    list of pathlib.Path
        One temporary path per output, in the same directory as it.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with atomic_outputs([f"{d}/a.txt"]) as (tmp,):
    ...         _ = tmp.write_text("hello")
    ...     open(f"{d}/a.txt").read()
    'hello'
    """
    finals = [Path(p) for p in paths]
    check_output(finals, overwrite=overwrite, what=what, store=store)
    temps = [_temporary_twin(p) for p in finals]
    try:
        yield temps
        mode = default_file_mode()
        for tmp in temps:
            if tmp.is_file():
                os.chmod(tmp, mode)
        for tmp, final in zip(temps, finals):
            _move_into_place(tmp, final)
    finally:
        for tmp in temps:
            if tmp.exists():
                _remove(tmp)


@contextlib.contextmanager
def atomic_output(
    path, *, overwrite: bool = False, what: str = "output", store: bool = False
) -> Iterator[Path]:
    """:func:`atomic_outputs` for a single output.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with atomic_output(f"{d}/a.txt") as tmp:
    ...         _ = tmp.write_text("first")
    ...     with atomic_output(f"{d}/a.txt") as tmp:
    ...         pass
    Traceback (most recent call last):
    ...
    FileExistsError: output ... already exists (pass overwrite=True to replace it)
    """
    with atomic_outputs([path], overwrite=overwrite, what=what, store=store) as (tmp,):
        yield tmp


def check_free_space(directory, n_bytes: int, what: str) -> None:
    """Refuse a write that needs more disk space than ``directory`` has free.

    Examples
    --------
    >>> check_free_space(".", 2**80, "a cohort")
    Traceback (most recent call last):
    ...
    OSError: a cohort needs ... of disk space; ... has ... free
    """
    free = shutil.disk_usage(directory).free
    if n_bytes > free:
        raise OSError(
            f"{what} needs {format_bytes(n_bytes)} of disk space; "
            f"{directory} has {format_bytes(free)} free"
        )


def format_bytes(n_bytes: float) -> str:
    """A byte count for a message, e.g. ``'1.5 GB'``.

    Examples
    --------
    >>> format_bytes(1536 * 2**20)
    '1.5 GB'
    """
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if abs(n_bytes) < 1024 or unit == "PB":
            return f"{n_bytes:.0f} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    raise AssertionError("unreachable")

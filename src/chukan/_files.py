"""Files a run writes: all or nothing, never over what it reads, with a plain file's mode.

A run that writes several files (convert: output, rejects, manifest) writes each to a
temporary file beside its target and, only once everything is written and checked,
renames them into place, the manifest last: an output whose manifest names its hash is
complete. A killed run leaves ``.NAME.chukan-PID-XXXX.tmp`` files, which the next run
writing NAME removes once their process is gone.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with OutputSet([folder / "a.txt", folder / "b.txt"]) as (a, b):
...     _ = a.write(b"one")
...     _ = b.write(b"two")
>>> sorted(p.name for p in folder.iterdir())
['a.txt', 'b.txt']
>>> check_distinct([folder / "a.txt"], [folder / "a.txt"])  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
chukan.errors.SameFileError: the output ... is also an input of this run: nothing was written
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from chukan import _core
from chukan.errors import FileError, SameFileError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from types import TracebackType

    import numpy.typing as npt

    #: reads byte spans (offsets, lengths) of a source again, in the order given: their
    #: bytes back to back, and where each starts (:func:`gathered`)
    Reread = Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]],
                      tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]]

__all__ = ["OutputSet", "check_distinct", "gathered", "open_input", "rereading",
           "sync_so_far"]


def _identity(path: Path) -> tuple[str, tuple[int, int] | None]:
    """The resolved path, and the (device, inode) of the file if it exists: two names of
    one file (a hard link, a symlink, ``./x`` and ``x``) compare equal."""
    resolved = os.path.normcase(str(path.resolve()))
    try:
        st = path.stat()
    except OSError:
        return resolved, None
    return resolved, (st.st_dev, st.st_ino) if st.st_ino else None


def check_distinct(inputs: Iterable[str | Path | object],
                   outputs: Sequence[str | Path]) -> None:
    """Raise :class:`~chukan.errors.SameFileError` when an output is an input, or two
    outputs are one file, by path or by inode; inputs that are not paths (bytes, open
    files) are passed over."""
    seen: dict[object, str] = {}
    for p in inputs:
        if isinstance(p, str | Path):
            name, inode = _identity(Path(p))
            seen[name] = "input"
            if inode is not None:
                seen[inode] = "input"
    for p in outputs:
        name, inode = _identity(Path(p))
        role = seen.get(name) or (seen.get(inode) if inode is not None else None)
        if role is not None:
            what = "an input" if role == "input" else "another output"
            msg = f"the output {p} is also {what} of this run: nothing was written"
            raise SameFileError(msg)
        seen[name] = "output"
        if inode is not None:
            seen[inode] = "output"


def open_input(path: str | Path) -> BinaryIO:
    """Open a file to read in binary, an OS error becoming a :class:`FileError`."""
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise FileError(path, exc) from exc


_STRAY = re.compile(r"^\.(?P<name>.+)\.chukan-(?P<pid>\d+)-[0-9a-f]+\.tmp$")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` may still be running (on doubt: yes, its file stays)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":  # an open file cannot be removed there: unlink decides
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _remove_strays(target: Path) -> None:
    """Temporary files that an earlier, killed run left for ``target``."""
    # names only, tested by prefix first: an output folder can hold tens of thousands
    prefix = f".{target.name}.chukan-"
    with contextlib.suppress(OSError), os.scandir(target.parent) as entries:
        for entry in entries:
            if not entry.name.startswith(prefix):
                continue
            m = _STRAY.match(entry.name)
            if m and m["name"] == target.name and not _alive(int(m["pid"])):
                with contextlib.suppress(OSError):
                    (target.parent / entry.name).unlink()


def _create(target: Path) -> tuple[Path, BinaryIO]:
    """A new temporary file beside ``target``, with the mode a plain ``open`` gives: the
    old file's when there is one, else 0666 less the umask (the OS applies it)."""
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.chukan-{os.getpid()}-"
                               f"{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise FileError(target, exc) from exc
        with contextlib.suppress(OSError):
            tmp.chmod(target.stat().st_mode & 0o7777)
        return tmp, os.fdopen(fd, "wb")
    raise FileError(target, FileExistsError("no free temporary name"))


def sync_so_far(fh: BinaryIO) -> None:
    """Put what has been written to ``fh`` on disk now, where it is a file (a buffer in
    memory has nothing to sync). A writer that formats a file in slices syncs each one
    while the next is formatted: the sync before the rename (:class:`OutputSet`) is
    then left with the last slice alone, where it had the whole file to wait for.

    >>> import io
    >>> sync_so_far(io.BytesIO(b"in memory"))
    """
    try:
        fd = fh.fileno()
    except OSError:  # (io.UnsupportedOperation: no file under it)
        return
    fh.flush()
    os.fsync(fd)


class OutputSet:
    """Temporary files for ``targets``; on a clean exit each replaces its target, in
    order (put the manifest last); on an error every temporary file is removed and the
    targets are left as they were. OS errors become :class:`FileError` naming the path.
    """

    def __init__(self, targets: Sequence[str | Path]) -> None:
        """Nothing is created before ``with``."""
        self.targets = [Path(t) for t in targets]
        self.files: list[tuple[Path, BinaryIO]] = []

    def __enter__(self) -> list[BinaryIO]:
        """Create the temporary files (after removing strays of killed runs)."""
        try:
            for target in self.targets:
                _remove_strays(target)
                self.files.append(_create(target))
        except BaseException:
            self._discard()
            raise
        return [fh for _, fh in self.files]

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Commit on success, discard on an error; an OS error is said as a FileError."""
        if exc_type is not None:
            self._discard()
            if isinstance(exc, OSError) and not isinstance(exc, FileError):
                where = getattr(exc, "filename", None) or self.targets[0]
                raise FileError(where, exc) from exc
            return
        target = self.targets[0]
        try:
            for (_, fh), name in zip(self.files, self.targets, strict=True):
                target = name  # the file an error is about
                fh.flush()
                os.fsync(fh.fileno())  # on disk before it replaces anything
                fh.close()
            for (tmp, _), target in zip(self.files, self.targets, strict=True):
                tmp.replace(target)
        except OSError as err:
            self._discard()
            raise FileError(target, err) from err

    def _discard(self) -> None:
        for tmp, fh in self.files:
            with contextlib.suppress(OSError):
                fh.close()
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        self.files.clear()


def gathered(data: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64],
             lengths: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.uint8],
                                                      npt.NDArray[np.int64]]:
    """The bytes of ``data`` at each offset (``lengths`` of them, fewer where ``data``
    ends first) back to back, and where each row starts (one more than the rows), in
    the core (a gather by numpy index takes 16 bytes of index per byte).

    >>> gathered(np.frombuffer(b"abcdef", np.uint8), np.array([4, 1, 9]), np.array([5, 2, 1]))
    (array([101, 102,  98,  99], dtype=uint8), array([0, 2, 4, 4]))
    """
    offsets = np.clip(offsets, 0, len(data)).astype(np.int64)
    lengths = np.clip(np.minimum(lengths, len(data) - offsets), 0, None).astype(np.int64)
    at = np.zeros(len(offsets) + 1, np.int64)
    np.cumsum(lengths, out=at[1:])
    return _core.gather_spans(data, offsets, lengths), at


@contextlib.contextmanager
def rereading(source: object) -> Iterator[Reread | None]:
    """How to read a source's bytes again, many spans at once (:func:`gathered`), while
    the block lasts: bytes, and a path (opened once, at the first call: reading back the
    外字 of each batch opened the file again each time); None for an open stream.

    A path's spans are read in file order, a window of at most :data:`REREAD_WINDOW`
    bytes at a time (memory stays bounded, and a file cut short meanwhile gives fewer
    bytes: a map of it killed the process with SIGBUS)."""
    if isinstance(source, bytes):
        data = np.frombuffer(source, np.uint8)
        yield lambda offsets, lengths: gathered(data, offsets, lengths)
        return
    if not isinstance(source, str | Path):
        yield None
        return
    path = source
    held: list[BinaryIO] = []

    def read(offsets: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]
             ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
        if not held:
            held.append(open_input(path))
        return _windowed(held[0], np.asarray(offsets, np.int64),
                         np.maximum(np.asarray(lengths, np.int64), 0))

    try:
        yield read
    finally:
        for fh in held:
            fh.close()


#: Bytes of a file read at once when spans of it are read again.
REREAD_WINDOW = 16 << 20


def _windowed(fh: BinaryIO, offsets: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]
              ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """:func:`gathered` over an open file: the spans in file order, a window at a time
    (one read per window, not per span), then put back in the order given."""
    order = np.argsort(offsets, kind="stable")
    first, ends = offsets[order], offsets[order] + lengths[order]
    pieces, got = [], np.zeros(len(order), np.int64)
    bucket = (first - (first[0] if len(first) else 0)) // REREAD_WINDOW
    cuts = np.flatnonzero(np.diff(bucket)) + 1
    for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), len(order)], strict=True):
        if lo == hi:
            continue
        start = int(first[lo])
        fh.seek(start)
        window = np.frombuffer(fh.read(int(ends[lo:hi].max()) - start), np.uint8)
        data, at = gathered(window, first[lo:hi] - start, lengths[order][lo:hi])
        pieces.append(data)
        got[lo:hi] = np.diff(at)
    # the rows back in the order asked: a second gather, over what was read
    data = np.concatenate(pieces) if pieces else np.zeros(0, np.uint8)
    starts = np.zeros(len(order) + 1, np.int64)
    np.cumsum(got, out=starts[1:])
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    return gathered(data, starts[:-1][back], got[back])

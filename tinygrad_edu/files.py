"""Opening the files a user names: paths only, regular files only, so that reading can neither block nor touch
a file the caller still owns; and writing files all or nothing (:func:`replacing`, which every file the package
writes goes through), with errors that say who was writing.

Standard library only; used by :mod:`tinygrad_edu.serialization` (model files), :mod:`tinygrad_edu.data` and the
drawings (:mod:`tinygrad_edu.viz`, :mod:`tinygrad_edu.player`).

* An integer is refused rather than taken as a file descriptor: reading from it and closing it would take the
  caller's file away.
* A named pipe, a terminal or a device is refused before anything is read from it: opening a pipe nobody writes
  to would wait forever, and ``/dev/zero`` never ends.
* A file is written under a temporary name next to its destination (in a folder of its own that only its owner may
  enter) and renamed over it once it is complete and on disk, so a full disk or an interruption leaves the old file
  as it was and no half-written one, and a private file saved over is never readable by others meanwhile.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import io
import os
import stat
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["checked_path", "open_regular_file", "replacing", "write_text", "decoded_text", "home_advice"]

PathLike = str | bytes | os.PathLike[str] | os.PathLike[bytes]


def home_advice(path: str | bytes | os.PathLike, name: str = "path") -> str:
    """For a path that starts with ``~`` (the shell's home folder, which torchvision and pandas expand and ``open``
    does not), the words that end an error about it not existing; else "".

        >>> home_advice("~/data/model.npz")
        " ('~' is not your home folder here, as for open(): give os.path.expanduser(path))"
    """
    if not os.fsdecode(checked_path(path, "home_advice")).startswith("~"):
        return ""
    return f" ('~' is not your home folder here, as for open(): give os.path.expanduser({name}))"


def checked_path(path: object, operation: str) -> str | bytes:
    """``path`` as a ``str`` (or ``bytes``) file name; anything else is a ``TypeError`` naming ``operation``
    (an int too: it would be taken as a file descriptor), an empty name, one holding NUL or one the file system's
    encoding cannot write (ASCII under ``LC_ALL=C`` without UTF-8 mode) a ``ValueError``."""
    if isinstance(path, (str, bytes, os.PathLike)):
        try:
            name = os.fspath(path)
        except TypeError as error:  # an os.PathLike whose __fspath__ returns no str or bytes
            raise TypeError(f"{operation}: {error}") from None
        if not name:
            raise ValueError(f"{operation}: the file name is empty")
        if ("\0" if isinstance(name, str) else b"\0") in name:
            raise ValueError(f"{operation}: the file name {name!r:.200} holds a NUL character, which no file name can")
        try:  # under an ASCII (LC_ALL=C) or Latin-1 locale, 'café' or 'Ωμέγα' has no bytes: a bare UnicodeEncodeError
            os.fsencode(name)
        except UnicodeEncodeError as error:
            raise ValueError(f"{operation}: the file name {name!r:.200} cannot be written in this system's encoding of "
                             f"file names, {sys.getfilesystemencoding()} (set by the locale), which lacks "
                             f"{error.object[error.start:error.end]!r}; use a UTF-8 locale (LC_ALL=C.UTF-8) or "
                             "Python's UTF-8 mode (PYTHONUTF8=1)") from None
        return name
    opened = getattr(path, "name", None) if isinstance(path, io.IOBase) else None
    if isinstance(opened, (str, bytes)):  # open(path): its repr, cut at 60 characters, would lose the name
        raise TypeError(f"{operation}: expected a file path (str or os.PathLike), got an open file "
                        f"({type(path).__name__}); open files are not accepted: give its path, "
                        f"{os.fsdecode(opened)!r:.300}")
    raise TypeError(f"{operation}: expected a file path (str or os.PathLike), got {type(path).__name__} "
                    f"{str(path)[:60]}; file descriptors and open files are not accepted")


def _kind(mode: int) -> str:
    kinds = [(stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket")]
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def open_regular_file(path: object, operation: str) -> BinaryIO:
    """Open ``path`` for reading in binary mode if it is a regular file (following symbolic links).

    Raises ``TypeError`` for a non-path, ``ValueError`` for a pipe, device or socket, and the ``OSError`` that
    ``open`` would (``FileNotFoundError``, ``IsADirectoryError``, ``PermissionError``...), each naming ``operation``.
    The file is opened without blocking, so a pipe nobody writes to is refused at once instead of waiting.
    """
    name = checked_path(path, operation)
    try:
        descriptor = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as error:  # os.open's message does not say who wanted the file
        home = home_advice(name) if isinstance(error, FileNotFoundError) else ""
        raise type(error)(error.errno, f"{operation}: {error.strerror}{home}", os.fsdecode(name)) from None
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, f"{operation}: {os.strerror(errno.EISDIR)}", os.fsdecode(name))
        if not stat.S_ISREG(mode):
            raise ValueError(f"{operation}: {os.fsdecode(name)!r} is {_kind(mode)}, not a regular file")
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def decoded_text(data: bytes) -> str:
    """A text file's ``data`` as Windows saves it too: UTF-8 after the byte order mark its editors start a file
    with, or UTF-16 with its mark (Windows PowerShell's ``echo 0.5 > f``).  Else UTF-8: ``UnicodeDecodeError``."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"decoded_text: data must be the bytes read from a file, got {type(data).__name__}")
    data = bytes(data)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def write_text(path: object, text: str | None, operation: str) -> None:
    """Write ``text`` to ``path`` in UTF-8, making the missing folders (only them for ``text=None``).  A failure (a
    folder where the file goes, a file where a folder goes, no permission) is the ``OSError`` naming ``operation``:
    pathlib's own message names the file only (``NotADirectoryError`` for a file in the way of a folder)."""
    path = Path(os.fsdecode(checked_path(path, operation)))
    if not (text is None or isinstance(text, str)):
        raise TypeError(f"{operation}: the text to write must be a str, got {type(text).__name__}")
    if text is not None and not text.isascii():
        try:  # before the file is opened: text that UTF-8 cannot hold (a lone surrogate) would leave it empty
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(f"{operation}: cannot write {str(path)!r}: the text is not valid Unicode "
                             f"({error.reason} at position {error.start})") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as error:  # mkdir: a file where a folder of the path should be
        raise NotADirectoryError(errno.ENOTDIR, f"{operation}: cannot write {str(path)!r}: {str(error.filename)!r} "
                                 "is a file, not a folder") from None
    except OSError as error:
        raise type(error)(error.errno, f"{operation}: cannot write {str(path)!r}: {error.strerror}") from None
    if text is not None:
        with replacing(path, operation) as temporary, open(temporary, "xb") as file:
            file.write(text.encode("utf-8"))


@contextlib.contextmanager
def replacing(path: PathLike, operation: str, *, doing: str = "write") -> Iterator[str]:
    """The name of a new temporary file next to ``path``, for the body to write; when the body ends without an
    error, the file is put on disk and renamed over ``path`` (over the file a symbolic link points to; an old file
    keeps its permissions; while it is written, it lies in a folder of its own that only its owner may enter, so a
    private file saved over is never readable by others in between).  A failure removes the temporary file and
    leaves an old ``path`` as it was; an ``OSError`` is raised as ``operation: cannot <doing> 'path': cause``,
    naming the user's file, not ours.  A folder, pipe or device at ``path`` (renaming onto ``/dev/null`` would
    replace it), a loop of links and a file ``open`` would refuse are refused before the body runs.  Making
    missing folders is the caller's choice."""
    name = os.fsdecode(checked_path(path, operation))
    failure = f"{operation}: cannot {doing} {name!r}"
    destination = os.path.realpath(name)
    if os.path.islink(destination):  # realpath stops at a loop of links: the rename would replace one of them
        raise OSError(errno.ELOOP, f"{failure}: {os.strerror(errno.ELOOP)}")
    if os.path.isdir(destination):
        raise IsADirectoryError(errno.EISDIR, f"{failure}: {os.strerror(errno.EISDIR)}")
    if os.path.exists(destination):
        mode = os.stat(destination).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"{failure}: it is {_kind(mode)}, not a regular file; it is left alone")
        try:  # a read-only file, or disk: the rename would get past what open(name, "wb") refuses
            os.close(os.open(destination, os.O_WRONLY))
        except OSError as error:
            raise type(error)(error.errno, f"{failure}: {error.strerror}") from None
    folder, base = os.path.split(destination)
    # base cut short: a name near the system's limit (255 bytes) must not become too long for the temporary folder.
    # The file is made (by the body) with the umask's permissions, often readable by all, and takes an old file's
    # only before the rename: inside a folder of mode 0700 nobody else can open it meanwhile
    private = os.path.join(folder, f".{base[:40]}.{uuid.uuid4().hex}.tmp")
    try:
        os.mkdir(private, 0o700)
    except OSError as error:
        raise type(error)(error.errno, f"{failure}: {error.strerror or error}") from None
    temporary = os.path.join(private, base[:40])
    try:
        yield temporary
        if os.path.exists(destination):  # a private file stays private
            os.chmod(temporary, stat.S_IMODE(os.stat(destination).st_mode))
        descriptor = os.open(temporary, os.O_WRONLY)
        try:
            os.fsync(descriptor)  # on disk before the rename, so that a crash cannot leave an empty file
        finally:
            os.close(descriptor)
        os.replace(temporary, destination)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        if isinstance(error, OSError) and error.filename in (temporary, None):  # (a full disk names no file)
            raise type(error)(error.errno, f"{failure}: {error.strerror or error}") from None
        raise
    finally:
        with contextlib.suppress(OSError):
            os.rmdir(private)


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)

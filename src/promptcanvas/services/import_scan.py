"""Where an import's files come from: a folder (walked, optionally confined to a root) or a zip.

A source lists every regular file once, with a key that names it across runs, its size and
its modification time, and reads a file's bytes on demand (up to a limit). What counts as an
image is decided by content later; here a name only decides which files are worth a look.
"""

from __future__ import annotations

import abc
import errno
import hashlib
import os
import stat
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from promptcanvas.domain.errors import InvalidInput, NotFound, TooLarge

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp"})
MAGIC_BYTES = 12
_WILLNEED = getattr(os, "POSIX_FADV_WILLNEED", None)  # not on macOS or Windows
# How a folder's files are opened: without blocking (a FIFO swapped in since the scan; reading a
# regular file never blocks on it), not inherited, and without newline translation (Windows).
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of a source; `problem` set means it is reported and never read."""

    key: str  # stable across runs: the absolute path, or the zip's hash plus the member name
    name: str  # what a person recognises: the path below the import's top folder
    size: int
    mtime_ns: int
    problem: str | None = None

    @property
    def looks_like_image(self) -> bool:
        """True when the name has an image suffix (content decides what it really is)."""
        return os.path.splitext(self.name)[1].lower() in IMAGE_SUFFIXES


def _hidden(name: str) -> bool:
    # Dot-files are tools' own state (.DS_Store, ._x.png AppleDouble forks, .thumbnails).
    return name.startswith(".") or name == "__MACOSX"


class Source(abc.ABC):
    """A set of files to import."""

    label: str

    @abc.abstractmethod
    def entries(self) -> Iterator[Entry]:
        """Every regular file, in a stable order."""

    @abc.abstractmethod
    def read(self, entry: Entry, limit: int) -> bytes:
        """The file's bytes; at most limit + 1 of them (so a caller can tell it was longer)."""

    def prefetch(self, entries: Sequence[Entry]) -> None:  # noqa: B027 (optional, no-op)
        """A hint that these files are read next (sources on disk start reading them)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release what the source holds open."""


class FolderSource(Source):
    """A folder walked recursively; hidden files and folder symlinks are skipped.

    With `confine`, a symlinked file is followed only when it resolves inside that folder;
    one that leads outside is reported, never read.
    """

    def __init__(self, top: Path, *, confine: Path | None = None) -> None:
        self.top = top.absolute()
        self.confine = confine.resolve() if confine is not None else None
        self.label = str(self.top)

    def entries(self) -> Iterator[Entry]:
        """Files below the top folder, sorted by path within each folder."""
        if self.top.is_file():
            yield from self._file(self.top, self.top.name)
            return
        pending = [(self.top, "")]
        while pending:
            folder, rel = pending.pop()
            try:
                with os.scandir(folder) as scan:
                    found = sorted(scan, key=lambda e: e.name)
            except OSError:
                continue  # vanished or unreadable: nothing in it can be imported
            subfolders = []
            for item in found:
                if _hidden(item.name):
                    continue
                name = f"{rel}/{item.name}" if rel else item.name
                try:
                    if item.is_dir(follow_symlinks=False):
                        subfolders.append((Path(item.path), name))
                    elif item.is_symlink() or item.is_file(follow_symlinks=False):
                        yield from self._file(Path(item.path), name)
                except OSError:
                    continue
            pending.extend(reversed(subfolders))

    def _file(self, path: Path, name: str) -> Iterator[Entry]:
        key = str(path)
        try:
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                target = path.resolve()
                if self.confine is not None and not target.is_relative_to(self.confine):
                    yield Entry(key, name, 0, 0, "symlink leads outside the import root")
                    return
                info = target.stat()
        except OSError:
            return  # gone, or a dangling link
        if stat.S_ISREG(info.st_mode):
            yield Entry(key, name, info.st_size, info.st_mtime_ns)

    def read(self, entry: Entry, limit: int) -> bytes:
        """Read the file (following an allowed symlink); OSError if it is no longer a regular
        file (opened without blocking, so a FIFO put in its place since the scan cannot hang
        the import)."""
        # Asking for exactly what the scan saw (plus one byte, to notice growth) instead of
        # limit + 1: a read of n bytes allocates n first, and 256 MB per file cost 0.1-0.3 ms.
        fd = os.open(entry.key, _OPEN_FLAGS)
        with open(fd, "rb") as stream:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(errno.EINVAL, "not a regular file any more")
            data = stream.read(min(limit, entry.size) + 1)
            if len(data) > entry.size:  # it grew since the scan: read on, to the limit
                data += stream.read(limit + 1 - len(data))
            return data

    def prefetch(self, entries: Sequence[Entry]) -> None:
        """Start the system reading these files into its cache, in the background.

        A folder that was not read lately is on disk. An import asks for each chunk when it
        hands the chunk to its workers, so the disk reads it while earlier chunks are worked
        on; otherwise each worker waits for one file at a time. Opened without blocking (a
        file swapped for a FIFO since the scan); any error just skips the hint.
        """
        if _WILLNEED is None:
            return
        for e in entries:
            try:
                fd = os.open(e.key, _OPEN_FLAGS)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, _WILLNEED)
            except OSError:
                pass
            finally:
                os.close(fd)

    def close(self) -> None:
        """Nothing is held open between reads."""


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """Caps that keep a hostile archive from exhausting memory or disk."""

    max_members: int
    max_total_bytes: int  # sum of declared uncompressed sizes
    max_file_bytes: int
    max_ratio: float = 100.0  # images barely compress further: a high ratio is a bomb


def _bad_name(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return (
        name.startswith(("/", "\\"))
        or (len(name) > 1 and name[1] == ":")
        or ".." in parts
        or "\x00" in name
    )


def check_zip(archive: zipfile.ZipFile, limits: ZipLimits) -> list[zipfile.ZipInfo]:
    """The members worth reading; refuses the whole archive if anything in it is hostile."""
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise TooLarge(
            f"the zip has {len(members):,} members; the limit is {limits.max_members:,}",
            {"field": "file", "limit": limits.max_members},
        )
    bad = [m.filename for m in members if _bad_name(m.filename)]
    if bad:
        raise InvalidInput(
            "the zip has member names that are absolute or contain '..'",
            {"field": "file", "members": bad[:20]},
        )
    links = [m.filename for m in members if stat.S_ISLNK(m.external_attr >> 16)]
    if links:
        raise InvalidInput("the zip contains symlinks", {"field": "file", "members": links[:20]})
    if any(m.flag_bits & 0x1 for m in members):
        raise InvalidInput("the zip has encrypted members", {"field": "file"})
    total = sum(m.file_size for m in members)
    if total > limits.max_total_bytes:
        raise TooLarge(
            f"the zip would unpack to {total:,} bytes; the limit is {limits.max_total_bytes:,}",
            {"field": "file", "limit": limits.max_total_bytes},
        )
    for m in members:
        big = m.file_size > 1024 * 1024
        if big and m.file_size > limits.max_ratio * max(1, m.compress_size):
            raise TooLarge(
                f"{m.filename} unpacks {m.file_size / max(1, m.compress_size):,.0f} times its "
                "packed size; this looks like a zip bomb",
                {"field": "file", "member": m.filename},
            )
    return [
        m for m in members if not m.is_dir() and not any(_hidden(p) for p in m.filename.split("/"))
    ]


class ZipSource(Source):
    """The members of a zip archive, read into memory one at a time (never extracted)."""

    def __init__(
        self,
        stream: IO[bytes],
        limits: ZipLimits,
        *,
        label: str = "upload.zip",
        owns_stream: bool = False,
    ) -> None:
        self.stream = stream
        self.label = label
        self.owns_stream = owns_stream  # close() closes the stream too
        digest = hashlib.sha256()
        stream.seek(0)
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
        self.sha = digest.hexdigest()
        stream.seek(0)
        try:
            self.archive = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise InvalidInput("the file is not a zip archive", {"field": "file"}) from None
        self.limits = limits
        self.members = {m.filename: m for m in check_zip(self.archive, limits)}

    def entries(self) -> Iterator[Entry]:
        """Members in name order; the zip's date stands for the modification time."""
        for name in sorted(self.members):
            m = self.members[name]
            try:
                when = datetime(*m.date_time, tzinfo=UTC)
            except ValueError:
                when = datetime(1980, 1, 1, tzinfo=UTC)
            mtime_ns = int(when.timestamp()) * 1_000_000_000
            yield Entry(f"zip:{self.sha}:{name}", name, m.file_size, mtime_ns)

    def read(self, entry: Entry, limit: int) -> bytes:
        """Decompress one member, never more than limit + 1 bytes whatever its header says."""
        member = self.members[entry.name]
        with self.archive.open(member) as stream:
            data = stream.read(min(limit, member.file_size) + 1)
        if len(data) > member.file_size:
            raise ValueError("the member is larger than its zip header says")
        return data

    def close(self) -> None:
        """Close the archive (and the stream, if it was handed over)."""
        self.archive.close()
        if self.owns_stream:
            self.stream.close()


def resolve_in_roots(raw: str, roots: list[Path]) -> tuple[Path, Path]:
    """A requested server path as (resolved path, the import root holding it).

    Refused: no roots configured, '..' anywhere, a path (after following every symlink) that
    is not inside a root, a path that does not exist.
    """
    if not roots:
        raise InvalidInput(
            "importing from a server path is disabled; the administrator can allow folders "
            "with PROMPTCANVAS_IMPORT_ROOTS",
            {"field": "path"},
        )
    if not raw.strip() or "\x00" in raw or len(raw) > 4096:
        raise InvalidInput("path must be a folder path", {"field": "path"})
    if ".." in raw.replace("\\", "/").split("/"):
        raise InvalidInput("path must not contain '..'", {"field": "path"})
    given = Path(raw)
    resolved_roots = [root.resolve() for root in roots]
    candidates = [given] if given.is_absolute() else [root / given for root in resolved_roots]
    for candidate in candidates:
        try:
            target = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        for root in resolved_roots:
            if target.is_relative_to(root):
                return target, root
        raise InvalidInput(
            "path is outside the folders this server imports from",
            {"field": "path", "roots": [str(r) for r in resolved_roots]},
        )
    raise NotFound("no such folder inside the import roots", {"field": "path"})

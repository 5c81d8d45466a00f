"""Containers and directories: what to read, and as which stream.

Directories are walked recursively in sorted order. ``.zip``, ``.gz``, ``.tar.gz`` /
``.tgz``, ``.tar``, ``.bz2`` and ``.xz`` are read directly, recognised by their magic
bytes; tar and gzip are streamed (one member at a time, never extracted to disk), zip
members are opened one by one. Members are dispatched by sniffing like plain files,
nested archives included. Files whose name says they are documentation, metadata or
media (MANIFEST, README, LICENSE, ``.md``, ``.csv``, ``.pcap``, ``.yml``...) are
skipped with the counted reason ``not a log file``.
"""

from __future__ import annotations

import bz2
import io
import lzma
import os
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from . import detect

#: Nested archives (an archive inside an archive) deeper than this are not opened.
MAX_DEPTH = 4


class Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read (for sniffing) and are replayed."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head = head
        self._pos = 0
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        if self._pos < len(self._head):
            n = min(len(b), len(self._head) - self._pos)
            b[:n] = self._head[self._pos : self._pos + n]
            self._pos += n
            return n
        data = self._rest.read(len(b))
        n = len(data)
        b[:n] = data
        return n


class GzipStream(io.RawIOBase):
    """Decompressed gzip data, tolerant like ``gzip -d``: concatenated members are read
    one after the other and trailing garbage after the last member (Security-Datasets
    ``.tar.gz`` files end with a stray ``\\n``) is ignored instead of failing the read
    (``gzip.GzipFile`` raises ``BadGzipFile`` there and loses buffered data). A stream cut
    before the end of a member raises EOFError, after everything decompressible.
    """

    CHUNK = 1 << 16

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._out = b""
        self._pos = 0
        self._done = False
        self.trailing_garbage = 0

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        while not self._done and self._pos >= len(self._out):
            data = self._raw.read(self.CHUNK)
            if not data:
                self._done = True
                if not self._d.eof:
                    raise EOFError("compressed stream ends before the end of its last member")
                return
            out = self._d.decompress(data)
            while self._d.eof:
                rest = self._d.unused_data
                if not rest:
                    break
                if rest[:2] != b"\x1f\x8b":
                    self.trailing_garbage += len(rest) + len(self._raw.read())
                    self._done = True
                    break
                self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                out += self._d.decompress(rest)
            self._out, self._pos = out, 0

    def readinto(self, b) -> int:  # type: ignore[override]
        if self._pos >= len(self._out):
            self._fill()
            if self._pos >= len(self._out):
                return 0
        n = min(len(b), len(self._out) - self._pos)
        b[:n] = self._out[self._pos : self._pos + n]
        self._pos += n
        return n


def sniffed(stream: BinaryIO) -> tuple[str, BinaryIO]:
    """(format, a buffered stream that still starts at the first byte)."""
    head = stream.read(detect.SNIFF_BYTES)
    fmt = detect.sniff(head)
    return fmt, io.BufferedReader(Prefixed(head, stream), buffer_size=1 << 16)


def walk(path: str | Path) -> Iterator[str]:
    """Regular files under `path` (or `path` itself), sorted, as path strings."""
    p = str(path)
    if os.path.isdir(p):
        for root, dirs, files in os.walk(p):
            dirs.sort()
            for f in sorted(files):
                yield os.path.join(root, f)
    else:
        yield p


def members(fmt: str, stream: BinaryIO, name: str) -> Iterator[tuple[str, BinaryIO]]:
    """(display name, stream) of each member of the archive `stream` (format `fmt`).

    Directory entries are left out. A single-file compressed stream (``x.log.gz``)
    has one member, the decompressed data, named ``name!x.log``.
    """
    if fmt == detect.ZIP:
        if not stream.seekable():
            stream = io.BytesIO(stream.read())
        with zipfile.ZipFile(stream) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                if info.is_dir():
                    continue
                with zf.open(info) as f:
                    yield f"{name}!{info.filename}", f
        return
    if fmt == detect.TAR:
        with tarfile.open(fileobj=stream, mode="r|*") as tf:
            for m in tf:
                if m.isfile():
                    f = tf.extractfile(m)
                    if f is not None:
                        yield f"{name}!{m.name}", f
        return
    if fmt == detect.GZIP:
        inner: BinaryIO = io.BufferedReader(GzipStream(stream), buffer_size=1 << 16)
    else:
        inner = bz2.BZ2File(stream) if fmt == detect.BZIP2 else lzma.LZMAFile(stream)
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix, repl in ((".tgz", ".tar"), (".gz", ""), (".bz2", ""), (".xz", "")):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)] + repl
            break
    yield f"{name}!{base}", inner

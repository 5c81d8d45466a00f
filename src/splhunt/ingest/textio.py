"""Line iteration over a binary stream: BOMs, UTF-16, CRLF, and bad UTF-8.

Non-UTF-8 policy (documented, tested): a line that is not valid UTF-8 is decoded with
``errors='replace'`` (each bad byte becomes U+FFFD), the event it belongs to is kept,
and a warning ``non-UTF-8 bytes replaced`` naming the file and line is counted. Files
with a UTF-16 byte-order mark are decoded as UTF-16; a UTF-8 BOM is dropped.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import BinaryIO

from .common import Context

REASON_BAD_UTF8 = "non-UTF-8 bytes replaced"


def iter_lines(stream: BinaryIO, ctx: Context) -> Iterator[tuple[int, str, str]]:
    """(1-based line number, line text without its end-of-line, the end-of-line)."""
    head = stream.peek(4)[:4] if hasattr(stream, "peek") else b""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = io.TextIOWrapper(stream, encoding="utf-16", errors="replace", newline="")
        try:
            for n, line in enumerate(text, 1):
                if "\ufffd" in line:
                    ctx.warn(f"line {n}", "invalid UTF-16 replaced", REASON_BAD_UTF8)
                body = line.rstrip("\r\n")
                yield n, body, line[len(body) :]
        finally:
            text.detach()  # the caller owns (and closes) the binary stream
        return
    for n, b in enumerate(stream, 1):
        try:
            line = b.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = b.decode("utf-8", errors="replace")
            ctx.warn(
                f"line {n}",
                f"non-UTF-8 byte 0x{b[exc.start]:02x} at column {exc.start + 1}; "
                "decoded with U+FFFD replacement",
                REASON_BAD_UTF8,
            )
        if n == 1 and line.startswith("\ufeff"):
            line = line[1:]
        if line.endswith("\n"):
            if line.endswith("\r\n"):
                yield n, line[:-2], "\r\n"
            else:
                yield n, line[:-1], "\n"
        elif line.endswith("\r"):
            yield n, line[:-1], "\r"
        else:
            yield n, line, ""

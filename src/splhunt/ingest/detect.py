"""Format sniffing from a file's first bytes (the extension is only a hint for skipping).

``ElfFile\\0`` is EVTX; ``PK\\3\\4`` zip; ``\\x1f\\x8b`` gzip (``.gz``, ``.tar.gz``,
``.tgz``); ``BZh`` bzip2; ``\\xfd7zXZ`` xz; ``ustar`` at offset 257 tar. Text (UTF-8,
UTF-8 with BOM, or UTF-16 with BOM) is classified by its first line that is neither
blank nor a ``#`` comment: ``<`` XML events, ``{`` / ``[`` / ``"`` JSON, a
``MM/DD/YYYY HH:MM:SS AM`` date classic WinEventLog text, a syslog header followed by
``<Event`` XML events (Sysmon for Linux in ``/var/log/syslog``).
"""

from __future__ import annotations

import codecs
import re
from pathlib import PurePath

from .sysmon_linux import strip_syslog

EVTX = "evtx"
XML = "xml"
JSON = "json"
CLASSIC = "wineventlog"
ZIP = "zip"
GZIP = "gzip"
BZIP2 = "bz2"
XZ = "xz"
TAR = "tar"
UNKNOWN = "unknown"
CONTAINERS = frozenset({ZIP, GZIP, BZIP2, XZ, TAR})

#: How many bytes `sniff` wants to see.
SNIFF_BYTES = 8192

_DATE = re.compile(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}")

#: Names never read as logs (compared case-insensitively).
_SKIP_PREFIXES = ("manifest", "readme", "license", "licence", "notice", "copying", "changelog", "authors")
_SKIP_EXTENSIONS = frozenset(
    """md csv tsv pcap pcapng cap yml yaml py pyc ps1 psm1 psd1 sh bat cmd exe dll sys so dylib
    png jpg jpeg gif bmp svg ico mp4 mkv avi mov webm mp3 wav pdf html htm css js doc docx
    xls xlsx ppt pptx rtf ini toml cfg lock sig asc pem crt der p12 pfx jar class whl
    sqlite db duckdb wal parquet arrow feather pickle pkl npy""".split()
)


def skip_by_name(name: str) -> bool:
    """True for files that are documentation, metadata or media, not logs."""
    base = PurePath(name.replace("\\", "/")).name
    low = base.lower()
    if not low or low.startswith(".") or low.startswith(_SKIP_PREFIXES):
        return True
    ext = low.rsplit(".", 1)[-1] if "." in low else ""
    return ext in _SKIP_EXTENSIONS


def sniff(head: bytes) -> str:
    """The format of a file whose first bytes are `head` (see module docstring)."""
    if head.startswith(b"ElfFile\x00"):
        return EVTX
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ZIP
    if head.startswith(b"\x1f\x8b"):
        return GZIP
    if head.startswith(b"BZh") and len(head) > 3 and head[3:4].isdigit():
        return BZIP2
    if head.startswith(b"\xfd7zXZ\x00"):
        return XZ
    if len(head) >= 262 and head[257:262] == b"ustar":
        return TAR
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head[2 : len(head) & ~1].decode("utf-16-le" if head[:2] == codecs.BOM_UTF16_LE else "utf-16-be", "replace")
    else:
        if b"\x00" in head[:512]:
            return UNKNOWN
        text = head.decode("utf-8", "replace").lstrip("\ufeff")
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        c = s[0]
        if c == "<":
            return XML
        if c in "{[":
            return JSON
        if c == '"':
            return JSON if "<Event" in s[:200] else UNKNOWN
        if _DATE.match(s):
            return CLASSIC
        if "<Event" in s and strip_syslog(s) is not None:
            return XML
        return UNKNOWN
    return UNKNOWN

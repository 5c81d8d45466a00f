"""Ingest: Windows / Sysmon event logs in every common format -> the event store.

Formats (sniffed from content, not the extension): EVTX (`evtx`), Splunk
XmlWinEventLog lines (`xmlwineventlog`), JSON lines from NXLog / OTRF Security-Datasets
/ winlogbeat / evtx_dump (`jsonl`), classic multi-line WinEventLog text
(`wineventlog`); in directories, zip, gzip, tar(.gz), bz2 and xz archives
(`containers`).

Every event dict has ``_raw``, ``_time`` (float epoch seconds, UTC, or None),
``host``, ``source``, ``sourcetype``, ``index`` and the fields the Splunk Add-on for
Microsoft Windows 8.8.0 extracts, under the same case-sensitive names. Windows
events, whatever their file format, are brought to their Windows XML rendering and
extracted by one code path (`winxml`), so the same event gives the same fields from
EVTX, XML lines or JSON. Decisions (each documented in its module):

* System attribute values keep their single quotes (``UserID`` = ``'S-1-5-18'``), as
  the add-on's regex captures them (`winxml`).
* XML events: ``source`` = ``XmlWinEventLog:<Channel>``, ``sourcetype`` =
  ``XmlWinEventLog``; classic text: ``WinEventLog:<LogName>`` / ``WinEventLog``
  (`wineventlog`). ``host`` = ``Computer`` / ``ComputerName``. Arguments override.
* Non-UTF-8 bytes are replaced (U+FFFD), the event kept, a warning counted (`textio`).
* UserData leaf elements are extracted as fields in addition to ``UserData_Xml``
  (`winxml`).

Public API: `ingest_paths`, `read_events`, `IngestReport`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .pipeline import Options, Position, events_of_file, ingest, input_files
from .report import FileStats, IngestReport

if TYPE_CHECKING:
    from splhunt.engines.store import Store

__all__ = ["ingest_paths", "read_events", "IngestReport", "FileStats"]


def ingest_paths(
    paths: list[str | Path],
    store: Store,
    *,
    source: str | None = None,
    sourcetype: str | None = None,
    index: str = "main",
    host: str | None = None,
    batch_size: int = 20_000,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> IngestReport:
    """Read every event under `paths` (files, directories, archives) into `store`.

    Events are written in batches of at most `batch_size`; memory is bounded by it, not
    by file size. `progress(bytes_done, bytes_total)` is called after each batch.
    `workers` (default: automatic, from CPU count and input size; environment
    ``SPLHUNT_INGEST_WORKERS`` overrides) sets how many processes parse files.
    Returns the run's `IngestReport`.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    opts = Options(source, sourcetype, index, host)
    return ingest([str(p) for p in paths], store, opts, batch_size, progress, workers)


def read_events(
    path: str | Path,
    *,
    source: str | None = None,
    sourcetype: str | None = None,
    index: str = "main",
    host: str | None = None,
    report: IngestReport | None = None,
) -> Iterator[dict[str, Any]]:
    """Events of one path (file, directory or archive), one dict at a time.

    Counts and messages go to `report` when given.
    """
    rep = report if report is not None else IngestReport()
    opts = Options(source, sourcetype, index, host)
    pos = Position(0)
    for f, explicit in input_files([str(path)]):
        yield from events_of_file(f, rep, opts, pos, explicit)

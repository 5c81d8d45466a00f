"""What an ingest run did: counts per file, per format and per skip reason, and messages.

Every record a reader meets ends up either *read* (written to the store) or *skipped*
(with a counted reason and, for bad input, a message naming the file and the record or
line). Warnings are counted separately: a warned event is still read (for example a
record whose non-UTF-8 bytes were replaced, or one without a parseable timestamp).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: How many messages `IngestReport.errors` / `.warnings` keep; the counts keep going.
MAX_MESSAGES = 1000


@dataclass
class FileStats:
    """Counts for one input file (or archive member)."""

    format: str = ""
    read: int = 0
    skipped: int = 0


@dataclass
class IngestReport:
    """Counts and messages of one ingest run (see module docstring)."""

    files: int = 0
    read: int = 0
    skipped: int = 0
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0
    warnings_by_reason: dict[str, int] = field(default_factory=dict)
    by_format: dict[str, int] = field(default_factory=dict)
    #: Per input file as given or found in a directory walk (an archive's members are
    #: added up under the archive's path): format, read, skipped.
    per_file: dict[str, FileStats] = field(default_factory=dict)
    #: Per archive member, named ``archive.zip!member`` (nested: ``a.zip!b.tar!c``).
    per_member: dict[str, FileStats] = field(default_factory=dict)
    bytes_total: int = 0
    seconds: float = 0.0

    # -- recording ---------------------------------------------------------------------
    def file(self, name: str) -> FileStats:
        """Stats of input file `name` (created empty on first use)."""
        st = self.per_file.get(name)
        if st is None:
            st = self.per_file[name] = FileStats()
        return st

    def member(self, name: str) -> FileStats:
        """Stats of archive member `name` (created empty on first use)."""
        st = self.per_member.get(name)
        if st is None:
            st = self.per_member[name] = FileStats()
        return st

    def add_error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_MESSAGES:
            self.errors.append(message)

    def skip(
        self,
        name: str,
        reason: str,
        message: str | None = None,
        count: int = 1,
        member: str | None = None,
    ) -> None:
        """Count `count` records of input file `name` (archive `member`) as skipped."""
        self.skipped += count
        self.skipped_by_reason[reason] = self.skipped_by_reason.get(reason, 0) + count
        self.file(name).skipped += count
        if member is not None:
            self.member(member).skipped += count
        if message is not None:
            self.add_error(message)

    def warn(self, reason: str, message: str | None = None) -> None:
        """Count one warning (the event concerned is still read)."""
        self.warning_count += 1
        self.warnings_by_reason[reason] = self.warnings_by_reason.get(reason, 0) + 1
        if message is not None and len(self.warnings) < MAX_MESSAGES:
            self.warnings.append(message)

    def count_read(self, name: str, fmt: str, n: int, member: str | None = None) -> None:
        """Count `n` events of format `fmt` read from input file `name` (archive `member`)."""
        self.read += n
        self.by_format[fmt] = self.by_format.get(fmt, 0) + n
        self.file(name).read += n
        if member is not None:
            self.member(member).read += n

    def merge(self, other: IngestReport) -> None:
        """Add another report's counts and messages into this one."""
        self.files += other.files
        self.read += other.read
        self.skipped += other.skipped
        for k, v in other.skipped_by_reason.items():
            self.skipped_by_reason[k] = self.skipped_by_reason.get(k, 0) + v
        for k, v in other.warnings_by_reason.items():
            self.warnings_by_reason[k] = self.warnings_by_reason.get(k, 0) + v
        for k, v in other.by_format.items():
            self.by_format[k] = self.by_format.get(k, 0) + v
        for table, get in ((other.per_file, self.file), (other.per_member, self.member)):
            for name, st in table.items():
                mine = get(name)
                mine.format = mine.format or st.format
                mine.read += st.read
                mine.skipped += st.skipped
        self.error_count += other.error_count
        self.errors.extend(other.errors[: max(0, MAX_MESSAGES - len(self.errors))])
        self.warning_count += other.warning_count
        self.warnings.extend(other.warnings[: max(0, MAX_MESSAGES - len(self.warnings))])

    # -- reading -----------------------------------------------------------------------
    def summary(self) -> str:
        """One paragraph: files, events read and skipped (with reasons), formats, errors."""
        parts = [f"Ingested {self.read:,} event{'s' if self.read != 1 else ''}"]
        parts.append(f" from {self.files:,} file{'s' if self.files != 1 else ''}")
        if self.by_format:
            fmts = ", ".join(f"{k} {v:,}" for k, v in sorted(self.by_format.items()))
            parts.append(f" ({fmts})")
        if self.seconds > 0 and self.read:
            parts.append(f" in {self.seconds:.1f}s ({self.read / self.seconds:,.0f} events/s)")
        parts.append(".")
        if self.skipped:
            reasons = ", ".join(
                f"{k}: {v:,}" for k, v in sorted(self.skipped_by_reason.items(), key=lambda kv: -kv[1])
            )
            parts.append(f" Skipped {self.skipped:,} ({reasons}).")
        else:
            parts.append(" Nothing skipped.")
        if self.warning_count:
            reasons = ", ".join(
                f"{k}: {v:,}" for k, v in sorted(self.warnings_by_reason.items(), key=lambda kv: -kv[1])
            )
            parts.append(f" {self.warning_count:,} warning(s) on events kept ({reasons}).")
        if self.error_count:
            first = self.errors[0] if self.errors else ""
            parts.append(f" {self.error_count:,} error message(s); first: {first}")
        return "".join(parts)

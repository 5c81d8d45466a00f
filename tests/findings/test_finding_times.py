"""Finding times as epoch seconds (`persist._epoch`): the fast text path must give exactly
what `datetime.strptime(...).timestamp()` gives, and leave everything else to it."""

from __future__ import annotations

import datetime as dt

import pytest

from splhunt.engines.persist import _epoch, _fast_epoch


def _strptime(s: str, fmt: str) -> float:
    return dt.datetime.strptime(s, fmt).replace(tzinfo=dt.UTC).timestamp()


CASES = [
    # text, expected epoch (None: not a time)
    ("2024-01-05T10:00:00", _strptime("2024-01-05T10:00:00", "%Y-%m-%dT%H:%M:%S")),
    ("2024-01-05 10:00:00.5", 1704448800.5),
    ("2024-02-29 23:59:59.123456", _strptime("2024-02-29 23:59:59.123456", "%Y-%m-%d %H:%M:%S.%f")),
    ("01/05/2024 10:00:00", 1704448800.0),  # security_content_ctime
    ("1/5/2024 10:00:00", 1704448800.0),  # strptime's %m and %d take one digit
    ("12/31/1969 23:59:59", -1.0),
    ("1704448800", 1704448800.0),
    ("1704448800.25", 1704448800.25),
    (1704448800, 1704448800.0),
    (["01/05/2024 10:00:00", "01/06/2024 10:00:00"], 1704448800.0),  # first value
    ("2024-01-05T10:00:00+01:00", 1704445200.0),  # fromisoformat fallback
    ("2023-02-29 10:00:00", None),  # no such day
    ("2024-01-05 24:00:00", None),
    ("2024-01-05 10:00:60", None),
    ("13/05/2024 10:00:00", None),
    ("yesterday", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("value", "want"), CASES)
def test_epoch(value: object, want: float | None) -> None:
    assert _epoch(value) == want


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("2031-07-19T04:05:06.000001", "%Y-%m-%dT%H:%M:%S.%f"),
        ("2031-07-19 04:05:06.1", "%Y-%m-%d %H:%M:%S.%f"),
        ("07/19/2031 04:05:06.999999", "%m/%d/%Y %H:%M:%S.%f"),
        ("1901-03-01 00:00:00", "%Y-%m-%d %H:%M:%S"),
    ],
)
def test_fast_path_equals_strptime(text: str, fmt: str) -> None:
    got = _fast_epoch(text)
    assert got is not None and got == _strptime(text, fmt)

"""A store can be counted and then get a new session (DuckDB refuses to register the
session's functions while a result of the connection is still open)."""

from __future__ import annotations

from splhunt.api import Session
from splhunt.engines.store import Store


def test_new_session_after_count() -> None:
    store = Store()
    store.append([{"_raw": "a", "EventCode": "1", "_time": 0.0}, {"_raw": "b", "EventCode": "2", "_time": 1.0}])
    assert store.count() == 2
    s = Session(store=store)  # registers the engine's functions on the same connection
    assert s.search("EventCode=2 | stats count").rows == [{"count": 1}]

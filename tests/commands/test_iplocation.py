"""iplocation with a user-supplied MaxMind database, and its refusal without one."""

from __future__ import annotations

from pathlib import Path

import pytest

from splhunt.api import Session
from splhunt.errors import SplUnsupportedError


@pytest.fixture()
def mmdb(tmp_path: Path) -> Path:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    w = MMDBWriter(ip_version=4, database_type="GeoLite2-City")
    w.insert_network(
        IPSet(["81.2.69.0/24"]),
        {
            "city": {"names": {"en": "London"}},
            "country": {"names": {"en": "United Kingdom"}},
            "subdivisions": [{"names": {"en": "England"}}],
            "continent": {"names": {"en": "Europe"}},
            "location": {"latitude": 51.5, "longitude": -0.1, "time_zone": "Europe/London"},
        },
    )
    path = tmp_path / "city.mmdb"
    w.to_db_file(str(path))
    return path


def _session(**kw) -> Session:
    s = Session(knowledge=False, **kw)
    s.store.append([{"_time": 1.0, "_raw": "a", "src": "81.2.69.10"}, {"_time": 2.0, "_raw": "b", "src": "10.0.0.1"}])
    return s


def test_iplocation_fields_from_the_database(mmdb: Path) -> None:
    s = _session(geoip=mmdb)
    rows = s.search("iplocation prefix=src_ allfields=true src | table src src_City src_Country src_Region src_lat src_lon src_Continent src_Timezone | sort src").rows
    assert rows[0] == {"src": "10.0.0.1", "src_City": None, "src_Country": None, "src_Region": None,
                       "src_lat": None, "src_lon": None, "src_Continent": None, "src_Timezone": None}
    assert rows[1] == {"src": "81.2.69.10", "src_City": "London", "src_Country": "United Kingdom",
                       "src_Region": "England", "src_lat": 51.5, "src_lon": -0.1, "src_Continent": "Europe",
                       "src_Timezone": "Europe/London"}


def test_iplocation_refused_without_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPLHUNT_GEOIP_DB", raising=False)
    with pytest.raises(SplUnsupportedError, match="iplocation.*GeoIP"):
        _session().search("iplocation src")

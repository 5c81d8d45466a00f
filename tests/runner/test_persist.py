"""The persistent store: sha256 dedup, per-file transactions, interrupted ingests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from splhunt.engines.persist import event_count, ingest_incremental, open_store
from splhunt.engines.store import Store

REPO = Path(__file__).resolve().parents[2]


def fingerprint(db: Path) -> tuple[int, list[str], list[str], int]:
    """(events, sorted file hashes, sorted md5 of every _raw, registry rows)."""
    st = open_store(db)
    try:
        n = event_count(st)
        hashes = sorted(r[0] for r in st.con.execute("SELECT sha256 FROM _files").fetchall())
        raws = sorted(r[0] for r in st.con.execute('SELECT md5("_raw") FROM events').fetchall())
        nfiles = st.con.execute("SELECT count(*) FROM _files").fetchall()[0][0]
        return n, hashes, raws, nfiles
    finally:
        st.close()


@pytest.fixture()
def clean(split_logs: Path, tmp_path: Path) -> tuple[int, list[str], list[str], int]:
    db = tmp_path / "clean.db"
    st = open_store(db)
    rep = ingest_incremental([split_logs], st, chunk_bytes=0)
    st.close()
    assert rep.transactions == 4 and rep.files_not_log == [str(split_logs / "README.md")]
    fp = fingerprint(db)
    assert fp[0] == 28 and fp[3] == 4
    return fp


def test_second_ingest_reads_nothing_and_copies_are_recognised(
    split_logs: Path, tmp_path: Path, clean: tuple
) -> None:
    db = tmp_path / "s.db"
    st = open_store(db)
    ingest_incremental([split_logs], st)
    shutil.copyfile(split_logs / "part0.xml.log", tmp_path / "copy.log")
    rep = ingest_incremental([split_logs, tmp_path / "copy.log"], st)
    assert rep.files_new == [] and len(rep.files_known) == 5
    assert dict(rep.files_known)[str(tmp_path / "copy.log")].endswith("part0.xml.log")
    st.close()
    assert fingerprint(db) == clean


def test_exception_mid_file_rolls_back_that_file_only(
    split_logs: Path, tmp_path: Path, clean: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.db"
    st = open_store(db)
    calls = {"n": 0}
    real = Store.append_columns

    def flaky(self, columns, n, mv_fields=None):  # noqa: ANN001, ANN202
        calls["n"] += 1
        if calls["n"] == 6:  # file 2 (batches of 3, 3 and 1 events per file), last batch
            raise RuntimeError("disk on fire")
        return real(self, columns, n, mv_fields)

    monkeypatch.setattr(Store, "append_columns", flaky)
    rep = ingest_incremental([split_logs], st, chunk_bytes=0, batch_size=3)
    monkeypatch.setattr(Store, "append_columns", real)
    assert len(rep.files_failed) == 1 and "disk on fire" in rep.files_failed[0][1]
    assert rep.files_failed[0][0].endswith("part1.xml.log")
    # consistent: exactly the committed files' events, registry in step
    committed = st.con.execute("SELECT sum(events), count(*) FROM _files").fetchall()[0]
    assert (st.count(), committed[1]) == (committed[0], 3) and committed[0] == 21
    # the store is usable after the rollback (registry reloaded)
    assert set(st.fields) >= {"_raw", "EventID"}
    rep = ingest_incremental([split_logs], st)
    assert len(rep.files_new) == 1 and len(rep.files_known) == 3
    st.close()
    assert fingerprint(db) == clean


KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from splhunt.engines.persist import ingest_incremental, open_store
    from splhunt.engines.store import Store

    db, logs, where = sys.argv[1], sys.argv[2], sys.argv[3]
    st = open_store(db)
    if where == "mid-file":
        real = Store.append_columns
        calls = {"n": 0}
        def dying(self, columns, n, mv_fields=None):
            calls["n"] += 1
            out = real(self, columns, n, mv_fields)
            if calls["n"] == 5:  # second file, its second batch written, not committed
                os.kill(os.getpid(), signal.SIGKILL)
            return out
        Store.append_columns = dying
        ingest_incremental([logs], st, chunk_bytes=0, batch_size=3)
    else:
        def after(files):
            os.kill(os.getpid(), signal.SIGKILL)
        ingest_incremental([logs], st, chunk_bytes=0, after_commit=after)
    """
)


@pytest.mark.parametrize("where", ["after-first-commit", "mid-file"])
def test_killed_ingest_then_rerun_equals_clean_run(
    where: str, split_logs: Path, tmp_path: Path, clean: tuple
) -> None:
    db = tmp_path / "k.db"
    script = tmp_path / "kill.py"
    script.write_text(KILL_SCRIPT)
    env = {**os.environ, "SPLHUNT_INGEST_WORKERS": "1"}
    proc = subprocess.run([sys.executable, str(script), str(db), str(split_logs), where],
                          env=env, capture_output=True, timeout=300, check=False)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    n, hashes, _raws, nfiles = fingerprint(db)
    assert nfiles == 1 and n == 7 and len(hashes) == 1  # only the first file committed
    st = open_store(db)
    rep = ingest_incremental([split_logs], st)
    st.close()
    assert len(rep.files_new) == 3 and len(rep.files_known) == 1
    assert fingerprint(db) == clean

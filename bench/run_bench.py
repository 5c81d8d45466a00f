"""splhunt benchmark: ingest per format, the hunt with the applicable ESCU catalog, the seed.

Builds a corpus of real events from ../shared/data (XmlWinEventLog lines, JSON lines,
EVTX, classic WinEventLog text), replicated up to --events with shifted times and host
names, under bench/out/ (git-ignored). Then times each phase separately and prints a
table and a last line:

    events=N detections=K ingest_eps=X hunt_eps=Y end_to_end_eps=Z peak_rss_mb=M

`hunt_eps` counts event x detection checks per second over the hunt phase, which runs
as `splhunt hunt` does: the detections whose data source is present in the corpus
(inventory, `data_source`, probe searches), the knowledge view and tstats datasets built
once, then each search, findings and risk (`--all-detections`: every production one).
`end_to_end_eps` is events over ingest plus hunt. CPU seconds count every thread of the
process. The store is a DuckDB file under bench/out with `--memory-limit` (2GB: the
process's peak is DuckDB's limit plus ~1.7 GB of Python and memory DuckDB does not
count; at 1M events 3GB gave a 4.7 GB peak and a 16 s faster view build, 2GB 3.8 GB).
Reads no network; writes only under bench/out (git-ignored).

Usage: python bench/run_bench.py [--events 1000000] [--shared ../shared] [--keep]
       [--all-detections]
"""

from __future__ import annotations

import argparse
import csv
import gc
import gzip
import os
import re
import resource
import shutil
import sys
import tarfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"

XML_TIME = re.compile(r"(SystemTime=')(\d{4}-\d\d-\d\d)|(<Data Name='UtcTime'>)(\d{4}-\d\d-\d\d)")
XML_HOST = re.compile(r"<Computer>([^<]*)</Computer>")
JSON_HOST = re.compile(r'"(Hostname|Computer|computer_name)"\s*:\s*"([^"]*)"')


def _read_member_text(path: Path) -> list[str]:
    """Lines of a plain, .gz, .zip or .tar.gz log file."""
    name = path.name.lower()
    if name.endswith((".tar.gz", ".tgz")):
        lines: list[str] = []
        with tarfile.open(path) as tf:
            for m in tf.getmembers():
                if m.isfile():
                    f = tf.extractfile(m)
                    if f is not None:
                        lines += f.read().decode("utf-8", "replace").splitlines()
        return lines
    if name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace").read().splitlines()
    if name.endswith(".zip"):
        lines = []
        with zipfile.ZipFile(path) as zf:
            for n in zf.namelist():
                lines += zf.read(n).decode("utf-8", "replace").splitlines()
        return lines
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def collect(shared: Path) -> dict[str, list]:
    """Real events by format from MANIFEST.csv (xml lines, json lines, evtx paths, classic text)."""
    data = shared / "data"
    xml: list[str] = []
    jsonl: list[str] = []
    evtx: list[Path] = []
    classic: list[str] = []
    with open(data / "MANIFEST.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            p = data / row["local_path"]
            if not p.exists():
                continue
            fmt, sub = row["format"], row["subformat"]
            if "MALFORMED" in row.get("notes", ""):
                continue
            if fmt == "evtx":
                evtx.append(p)
            elif fmt == "xmlwineventlog":
                xml += [ln for ln in _read_member_text(p) if ln.startswith("<Event")]
            elif fmt == "json-lines":
                jsonl += [ln for ln in _read_member_text(p) if ln.startswith("{")]
            elif "wineventlog-text" in sub:
                classic.append(p.read_text(encoding="utf-8", errors="replace"))
    return {"xml": xml, "jsonl": jsonl, "evtx": evtx, "classic": classic}


def _shift_xml(line: str, k: int) -> str:
    if k == 0:
        return line
    line = XML_HOST.sub(lambda m: f"<Computer>r{k}-{m.group(1)}</Computer>", line)
    # move the year forward by k (keeps every other part of the timestamp real)
    return XML_TIME.sub(
        lambda m: (m.group(1) or m.group(3)) + str(int((m.group(2) or m.group(4))[:4]) + k) + (m.group(2) or m.group(4))[4:],
        line,
    )


def _shift_json(line: str, k: int) -> str:
    if k == 0:
        return line
    line = JSON_HOST.sub(lambda m: f'"{m.group(1)}": "r{k}-{m.group(2)}"', line)
    return re.sub(r'"(\d{4})-(\d\d-\d\d[ T])', lambda m: f'"{int(m.group(1)) + k}-{m.group(2)}', line)


def build_corpus(events: dict[str, list], target: int) -> dict[str, tuple[list[Path], int]]:
    """Write the replicated corpus; returns format -> (files, event count)."""
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    shares = {"xml": 0.4, "jsonl": 0.4, "evtx": 0.2}
    out: dict[str, tuple[list[Path], int]] = {}
    for fmt, shift in (("xml", _shift_xml), ("jsonl", _shift_json)):
        src = events[fmt]
        want = int(target * shares[fmt])
        path = OUT / f"corpus.{fmt}.log"
        n = 0
        with open(path, "w", encoding="utf-8") as fh:
            k = 0
            while n < want and src:
                for ln in src:
                    fh.write(shift(ln, k) + "\n")
                    n += 1
                    if n >= want:
                        break
                k += 1
        out[fmt] = ([path], n)
    # EVTX cannot be rewritten: read the real files as many times as needed
    from evtx import PyEvtxParser

    per_file = [(p, sum(1 for _ in PyEvtxParser(str(p)).records_json())) for p in events["evtx"]]
    total = sum(n for _, n in per_file) or 1
    reps = max(1, round(target * shares["evtx"] / total))
    files: list[Path] = []
    d = OUT / "evtx"
    d.mkdir()
    for r in range(reps):
        for i, (p, _) in enumerate(per_file):
            dst = d / f"{r}_{i}_{p.name}"
            shutil.copyfile(p, dst)
            files.append(dst)
    out["evtx"] = (files, total * reps)
    cl = OUT / "corpus.classic.log"
    cl.write_text("\n".join(events["classic"]), encoding="utf-8")
    out["classic"] = ([cl], 0)
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Phase:
    """Wall and CPU seconds of one phase (CPU: every thread of this process)."""

    def __init__(self, name: str, events: int = 0):
        self.name, self.events = name, events
        self.wall = self.cpu = 0.0
        self.peak = 0.0  # peak RSS of the process so far when the phase ended (MB)

    def __enter__(self) -> Phase:
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._w
        self.cpu = time.process_time() - self._c
        self.peak = peak_rss_mb()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--keep", action="store_true", help="keep bench/out afterwards")
    ap.add_argument("--memory-limit", default="2GB", help="DuckDB's memory_limit for the store")
    ap.add_argument("--all-detections", action="store_true",
                    help="run every production detection, not only those whose data is present")
    args = ap.parse_args()
    if not (args.shared / "data" / "MANIFEST.csv").exists():
        print(f"no ../shared at {args.shared}: nothing to benchmark", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO / "src"))
    import importlib

    from splhunt.content import load_detection
    from splhunt.engines.persist import event_count
    from splhunt.engines.store import MEMORY_ENV, Store
    from splhunt.runner.common import Content

    hunt_mod = importlib.import_module("splhunt.runner.hunt")

    t = time.perf_counter()
    corpus = build_corpus(collect(args.shared), args.events)
    print(f"corpus built in {time.perf_counter() - t:.1f}s under {OUT}")

    # a store file, as `splhunt ingest --db` makes: DuckDB keeps what does not fit in
    # --memory-limit on disk, beside the file (an in-memory store of 1M events held 18 GB);
    # the limit goes through the store's own setting, as a user would give it
    os.environ[MEMORY_ENV] = args.memory_limit
    store = Store(str(OUT / "bench.duckdb"))
    content = Content.load(args.shared / "escu")
    session = content.session(store)
    phases: list[Phase] = []
    for fmt in ("evtx", "jsonl", "xml", "classic"):
        files, _ = corpus[fmt]
        before = store.count()
        with Phase(f"ingest {fmt}") as ph:
            session.ingest(files)
        ph.events = store.count() - before
        phases.append(ph)
    total_events = event_count(store)
    ingest = [p for p in phases if p.name.startswith("ingest")]
    ingest_s = sum(p.wall for p in ingest)

    # The hunt as `splhunt hunt` runs it: select the detections whose data is present
    # (inventory + data_source, probe searches for the rest), build the knowledge view
    # and the tstats datasets once, run them, make findings and risk. Nothing is saved.
    dets = hunt_mod.filter_detections(content.lib.detections.values())
    with Phase("knowledge view (materialise)", total_events) as view_ph:
        session.base()  # the hunt's probes and searches read it; built once
    phases.append(view_ph)
    with Phase("hunt (select + run)", total_events) as hunt_ph:
        if args.all_detections:
            session.prepare([d.search for d in dets])
            ran = 0
            for d in dets:
                try:
                    session.run_detection(d)
                    ran += 1
                except Exception:  # noqa: BLE001 - refusals are counted by `splhunt coverage`
                    pass
            res = None
        else:
            res = hunt_mod.hunt(store, content, dets, save=False)
            ran = len(res.by_status(hunt_mod.RUN))
    phases.append(hunt_ph)
    if res is not None:
        # a detection's `seconds` is its own planning, query and findings; the queries run
        # on a second connection while the next detection is planned, so these overlap
        det_s = sum(st.seconds for st in res.statuses if st.status == hunt_mod.RUN)
        dsets = Phase("  of which: tstats datasets", total_events)
        dsets.wall = res.view_seconds
        failures = res.by_status(hunt_mod.FAILED)
        failed = len(failures)
        fail_s = sum(st.seconds for st in failures)
        runs = Phase(f"  of which: {ran + failed} detections (wall)", total_events)
        runs.wall = res.search_seconds
        ran_ph = Phase(f"    their own time: {ran} that ran", total_events)
        ran_ph.wall = det_s
        fails = Phase(f"    their own time: {failed} that failed", total_events)
        fails.wall = fail_s
        rest = Phase("  of which: the rest (inventory, probes, risk)", total_events)
        rest.wall = max(0.0, hunt_ph.wall - res.view_seconds - res.search_seconds)
        phases += [dsets, runs, ran_ph, fails, rest]
        print(f"hunt: {ran} run, {len(res.by_status(hunt_mod.SKIPPED))} skipped (data absent), "
              f"{failed} failed, {len(res.findings)} findings")
        for reason, n in res.reasons(hunt_mod.FAILED):
            print(f"  failed {n}: {reason.splitlines()[0][:150]}")
        for st in sorted(failures, key=lambda st: -st.seconds)[:3]:
            print(f"  failed after {st.seconds:.2f} s: {st.detection.name}")
        secs = sorted((st.seconds, st.detection.name) for st in res.statuses if st.status == hunt_mod.RUN)
        if secs:
            print(f"searches: median {secs[len(secs) // 2][0] * 1000:.0f} ms; "
                  f"slowest {len(secs[-10:])} take {sum(s for s, _ in secs[-10:]):.1f} s of {det_s:.1f} s:")
            for s, name in reversed(secs[-10:]):
                print(f"  {s:7.2f} s  {name}")

    # The hunt's 142k findings are no longer needed. Held, they made the seed's timing
    # mostly the first full garbage collection after the hunt (2.5-3.0 s against 0.06 s).
    res = None
    gc.collect()
    seed = load_detection(REPO / "data" / "samples" / "windows_devtunnels_image_loaded.yml")
    with Phase("seed detection", total_events) as seed_ph:
        got = session.run_detection(seed)
    phases.append(seed_ph)
    print(f"seed: {len(got.result.rows)} result rows")

    print(f"{'phase':42s} {'events':>10s} {'wall s':>9s} {'cpu s':>9s} {'events/s':>12s} {'peak MB':>8s}")
    for ph in phases:
        rate = ph.events / ph.wall if ph.wall else 0
        cpu = f"{ph.cpu:9.2f}" if ph.cpu else f"{'':9s}"
        peak = f"{ph.peak:8.0f}" if ph.peak else ""
        print(f"{ph.name:42s} {ph.events:10d} {ph.wall:9.2f} {cpu} {rate:12.0f} {peak}")
    ingest_eps = total_events / ingest_s if ingest_s else 0
    # event x detection checks per second over the hunt: knowledge view, selection, runs
    hunt_s = view_ph.wall + hunt_ph.wall
    hunt_eps = total_events * ran / hunt_s if hunt_s else 0
    e2e = total_events / (ingest_s + hunt_s)
    store.close()
    if not args.keep:
        shutil.rmtree(OUT, ignore_errors=True)
    print(
        f"events={total_events} detections={ran} ingest_eps={ingest_eps:.0f} "
        f"hunt_eps={hunt_eps:.0f} end_to_end_eps={e2e:.0f} peak_rss_mb={peak_rss_mb():.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

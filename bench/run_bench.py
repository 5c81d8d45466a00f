"""splhunt benchmark: ingest per format, the hunt with the applicable ESCU catalog, the seed.

Builds a corpus of real events from ../shared/data (XmlWinEventLog lines, JSON lines,
EVTX, classic WinEventLog text), replicated up to --events with shifted times and host
names, under bench/out/ (git-ignored). Then times each phase separately and prints a
table and a last line:

    events=N detections=K ingest_eps=X hunt_eps=Y end_to_end_eps=Z peak_rss_mb=M

`hunt_eps` counts event x detection checks per second. Reads no network.

Usage: python bench/run_bench.py [--events 1000000] [--shared ../shared] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import gzip
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--keep", action="store_true", help="keep bench/out afterwards")
    args = ap.parse_args()
    if not (args.shared / "data" / "MANIFEST.csv").exists():
        print(f"no ../shared at {args.shared}: nothing to benchmark", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO / "src"))
    from splhunt.api import Session
    from splhunt.content import load_content, load_detection

    t = time.perf_counter()
    corpus = build_corpus(collect(args.shared), args.events)
    print(f"corpus built in {time.perf_counter() - t:.1f}s under {OUT}")

    session = Session()
    rows: list[tuple[str, int, float]] = []
    total_events = 0
    ingest_s = 0.0
    for fmt in ("evtx", "jsonl", "xml", "classic"):
        files, _ = corpus[fmt]
        before = session.store.count()
        t = time.perf_counter()
        session.ingest(files)
        dt = time.perf_counter() - t
        n = session.store.count() - before
        rows.append((f"ingest {fmt}", n, dt))
        total_events += n
        ingest_s += dt
    t = time.perf_counter()
    session.base()  # search-time add-on fields, materialised once
    kv_s = time.perf_counter() - t
    rows.append(("add-on fields (materialise)", total_events, kv_s))

    lib = load_content(args.shared / "escu")
    session.content = lib
    for m in lib.macros.values():
        from splhunt.spl.macros import MacroDef

        session.macros.add(MacroDef(m.name, m.definition, tuple(m.arguments or ())))
    dets = [d for d in lib.detections.values() if d.status == "production"]
    ran = 0
    t = time.perf_counter()
    for d in dets:
        try:
            session.search(d.search)
            ran += 1
        except Exception:  # noqa: BLE001 - refusals are counted by `splhunt coverage`
            pass
    hunt_s = time.perf_counter() - t
    rows.append((f"hunt ({ran} detections)", total_events, hunt_s))

    seed = load_detection(REPO / "data" / "samples" / "windows_devtunnels_image_loaded.yml")
    t = time.perf_counter()
    session.run_detection(seed)
    seed_s = time.perf_counter() - t
    rows.append(("seed detection", total_events, seed_s))

    print(f"{'phase':32s} {'events':>10s} {'seconds':>9s} {'events/s':>12s}")
    for name, n, dt in rows:
        print(f"{name:32s} {n:10d} {dt:9.2f} {n / dt if dt else 0:12.0f}")
    ingest_eps = total_events / ingest_s if ingest_s else 0
    hunt_eps = total_events * ran / (hunt_s + kv_s) if hunt_s else 0
    e2e = total_events / (ingest_s + kv_s + hunt_s)
    if not args.keep:
        shutil.rmtree(OUT, ignore_errors=True)
    print(
        f"events={total_events} detections={ran} ingest_eps={ingest_eps:.0f} "
        f"hunt_eps={hunt_eps:.0f} end_to_end_eps={e2e:.0f} peak_rss_mb={peak_rss_mb():.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

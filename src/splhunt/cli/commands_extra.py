"""`splhunt ingest`, `test`, `hunt`, `drilldown` and `findings`, registered on the main app."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from splhunt.cli.main import EngineOpt, ParquetOpt, SparkMasterOpt, app, engine_options, err, out
from splhunt.errors import SplhuntError

DbOpt = Annotated[Path | None, typer.Option("--db", help="persistent store file (DuckDB)")]


def _fail(msg: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {msg}", highlight=False)
    raise typer.Exit(code)


def _progress_ingest(store: Any, paths: list[Path], **opts: Any) -> Any:
    """Incremental ingest with a progress bar on big inputs; prints its summary to stderr."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from splhunt.engines.persist import ingest_incremental

    for p in paths:
        if not p.exists():
            _fail(f"{p}: no such file or folder")
    with Progress(
        TextColumn("ingest"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    ) as prog:
        task = prog.add_task("ingest", total=None)

        def progress(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)

        rep = ingest_incremental(paths, store, progress=progress, **opts)
    err.print(rep.summary(), highlight=False)
    return rep


def _content(path: Path | None, near: list[Path] | None = None, store: Any = None) -> Any:
    from splhunt.engines.persist import get_meta
    from splhunt.runner.common import Content, find_content_root

    if path is None and near:
        path = next((r for r in (find_content_root(p) for p in near) if r is not None), None)
    if path is None and store is not None:
        saved = get_meta(store, "content")
        path = Path(saved) if saved and Path(saved).is_dir() else None
    try:
        c = Content.load(path)
    except SplhuntError as e:
        _fail(str(e))
    if c.lib is not None and c.lib.errors:
        err.print(f"[yellow]content:[/] {len(c.lib.errors)} file(s) failed to load; first: {c.lib.errors[0]}", highlight=False)
    return c


# --------------------------------------------------------------------------- ingest


@app.command("ingest")
def ingest_cmd(
    paths: Annotated[list[str], typer.Argument(help="log files or folders (with --engine spark: any URI the cluster reads)")],
    db: Annotated[Path | None, typer.Option("--db", help="persistent store file (created if absent)")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="duckdb (the --db file) or parquet (the --out layout)")] = "duckdb",
    out_uri: Annotated[str | None, typer.Option(
        "--out", help="with --format parquet: the Parquet store to write (a path, or s3://... through DuckDB's httpfs)")] = None,
    source: Annotated[str | None, typer.Option("--source", help="override every event's source")] = None,
    sourcetype: Annotated[str | None, typer.Option("--sourcetype", help="override every event's sourcetype")] = None,
    index: Annotated[str, typer.Option("--index", help="index of the events")] = "main",
    host: Annotated[str | None, typer.Option("--host", help="override every event's host")] = None,
    engine: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
) -> None:
    """Add logs to a persistent store; files already in it (same sha256) are not read again.

    With `--engine spark --format parquet --out URI` Spark reads the logs where they
    are (s3a://, abfss://, hdfs://, paths), each file in a task running splhunt's own
    readers, and writes the layout: for logs already in a lake.

    With `--format parquet --out URI` the events are written as the Parquet store both
    engines read (`--parquet URI` on search, run and hunt): partitioned by sourcetype
    and day, with the field registry beside them. The layout is rewritten whole from the
    logs given, or, with `--db`, from everything in that store after adding them."""
    from splhunt.engines.persist import event_count, open_store

    if fmt not in ("duckdb", "parquet"):
        raise typer.BadParameter("--format must be duckdb or parquet")
    if fmt == "duckdb":
        if db is None or out_uri is not None:
            raise typer.BadParameter("--format duckdb needs --db FILE (and no --out; --out is for --format parquet)")
    elif out_uri is None:
        raise typer.BadParameter("--format parquet needs --out URI")
    if engine == "spark":
        if fmt != "parquet" or db is not None:
            raise typer.BadParameter("--engine spark writes the Parquet layout: give --format parquet --out URI, not --db")
        _spark_ingest(paths, out_uri, spark_master, source=source, sourcetype=sourcetype, index=index, host=host)
        return
    if engine != "duckdb":
        raise typer.BadParameter("--engine must be duckdb or spark")
    paths = [Path(p) for p in paths]
    store = open_store(db)
    _progress_ingest(store, paths, source=source, sourcetype=sourcetype, index=index, host=host)
    n = event_count(store)
    files = store.con.execute("SELECT count(*) FROM _files").fetchall()[0][0]
    if db is not None:
        err.print(f"{db}: {n:,} events from {files:,} file(s).", highlight=False)
    if out_uri is not None:
        from splhunt.engines.parquet import write_parquet

        t0 = time.perf_counter()
        try:
            meta = write_parquet(store, out_uri)
        except SplhuntError as e:
            _fail(str(e))
        err.print(f"{out_uri}: {meta['events']:,} events, {len(meta['fields']):,} fields, "
                  f"{len(meta['sources']):,} source/sourcetype pair(s) as Parquet ({time.perf_counter() - t0:.1f}s).",
                  highlight=False)
    store.close()


def _spark_ingest(paths: list[str], out_uri: str, master: str | None, **opts: Any) -> None:
    from splhunt.engines.spark import spark_session
    from splhunt.engines.spark_ingest import ingest_on_spark

    t0 = time.perf_counter()
    try:
        meta, report = ingest_on_spark(spark_session(master), paths, out_uri, **opts)
    except SplhuntError as e:
        _fail(str(e))
    err.print(report.summary(), highlight=False)
    err.print(f"{out_uri}: {meta['events']:,} events, {len(meta['fields']):,} fields, "
              f"{len(meta['sources']):,} source/sourcetype pair(s) written by Spark ({time.perf_counter() - t0:.1f}s).",
              highlight=False)


# --------------------------------------------------------------------------- test


@app.command("test")
def test_cmd(
    detections: Annotated[list[Path], typer.Argument(help="detection YAML files or folders")],
    attack_data: Annotated[Path, typer.Option("--attack-data", help="splunk/attack_data checkout (holding datasets/) or its datasets/ folder")],
    content: Annotated[Path | None, typer.Option("--content", help="ESCU content folder (default: found above the detections)")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or junit")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write the report to this file")] = None,
    status: Annotated[list[str] | None, typer.Option("--status", help="only detections with this status (repeatable)")] = None,
    engine: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
) -> None:
    """Run detections' ESCU unit tests against local attack data, judged as contentctl does."""
    from splhunt.runner.testing import (
        ERROR,
        FAIL,
        PASS,
        SKIP,
        counts,
        junit_xml,
        load_detections,
        run_tests,
    )

    if fmt not in ("table", "json", "junit"):
        raise typer.BadParameter("--format must be table, json or junit")
    if not attack_data.is_dir():
        _fail(f"{attack_data}: attack data folder not found")
    opts = engine_options(engine, spark_master)
    c = _content(content, detections)
    c.engine, c.engine_options = engine, opts
    dets, load_errors = load_detections(detections)
    if status:
        wanted = {s.lower() for s in status}
        dets = [d for d in dets if d.status.lower() in wanted]
    t0 = time.perf_counter()

    def progress(o: Any) -> None:
        if fmt == "table" and err.is_terminal:
            err.print(f"[dim]{o.status:7s} {o.detection}: {o.test}[/]", highlight=False)

    outcomes = load_errors + run_tests(dets, attack_data, c, progress=progress)
    secs = time.perf_counter() - t0
    n = counts(outcomes)
    if fmt == "json":
        text = json.dumps([o.as_dict() for o in outcomes], indent=2, default=str)
    elif fmt == "junit":
        text = junit_xml(outcomes)
    else:
        text = None
    if text is not None:
        if output:
            output.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        else:
            out.out(text, highlight=False)
    else:
        style = {PASS: "green", FAIL: "red", ERROR: "magenta", SKIP: "yellow"}
        t = Table(title="detection tests")
        for col in ("detection", "test", "status", "results", "reason"):
            t.add_column(col, overflow="fold")
        shown = [o for o in outcomes if o.status != SKIP or len(outcomes) <= 200]
        for o in shown:
            t.add_row(o.detection, o.test, f"[{style[o.status]}]{o.status}[/]", str(o.results), o.reason)
        out.print(t)
        if len(shown) < len(outcomes):
            out.print(f"({len(outcomes) - len(shown)} skipped test(s) not listed; --format json lists all)")
        if output:
            output.write_text(json.dumps([o.as_dict() for o in outcomes], indent=2), encoding="utf-8")
    skipped_reasons: dict[str, int] = {}
    for o in outcomes:
        if o.status == SKIP:
            key = "data missing" if o.reason.startswith("data missing") else o.reason
            skipped_reasons[key] = skipped_reasons.get(key, 0) + 1
    why = ", ".join(f"{k}: {v}" for k, v in sorted(skipped_reasons.items(), key=lambda kv: -kv[1]))
    err.print(
        f"{len(outcomes)} test(s): {n[PASS]} passed, {n[FAIL]} failed, {n[ERROR]} error(s), "
        f"{n[SKIP]} skipped" + (f" ({why})" if why else "") + f" in {secs:.1f}s.",
        highlight=False,
    )
    if n[FAIL] or n[ERROR]:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- hunt


def _fmt_time(t: float | None) -> str:
    import datetime as _dt

    if t is None:
        return ""
    return _dt.datetime.fromtimestamp(t, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


@app.command("hunt")
def hunt_cmd(
    paths: Annotated[list[Path] | None, typer.Argument(help="log files or folders (optional with --db)")] = None,
    content: Annotated[Path | None, typer.Option("--content", help="ESCU content folder")] = None,
    db: DbOpt = None,
    types: Annotated[list[str] | None, typer.Option("--type", help="detection type: TTP, Anomaly, Hunting, Correlation (repeatable)")] = None,
    stories: Annotated[list[str] | None, typer.Option("--story", help="analytic story name (repeatable)")] = None,
    mitre: Annotated[list[str] | None, typer.Option("--mitre", help="ATT&CK technique id; includes sub-techniques (repeatable)")] = None,
    status: Annotated[list[str] | None, typer.Option("--status", help="detection status (repeatable; default production)")] = None,
    detection: Annotated[list[str] | None, typer.Option("--detection", help="only this detection name or id (repeatable)")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv")] = "table",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="list every skipped detection")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds one detection may run (0: no limit; DuckDB only)")] = 300,
    parquet: ParquetOpt = None,
    engine: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
) -> None:
    """Run every detection whose data is present; findings and risk per entity, as RBA.

    Over `--parquet` (read-only) findings and risk are reported but not stored, and
    correlation detections, which read the stored risk events, are skipped."""
    from splhunt.cli.main import _check_inputs
    from splhunt.engines.persist import open_store, set_meta
    from splhunt.runner.hunt import FAILED, SKIPPED, filter_detections, hunt

    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("--format must be table, json or csv")
    _check_inputs(bool(paths), db, parquet)
    opts = engine_options(engine, spark_master)
    try:
        if parquet is not None:
            from splhunt.engines.parquet import open_parquet_store, spark_catalog

            if engine == "spark":
                store, opts = spark_catalog(parquet, opts)
            else:
                store = open_parquet_store(parquet)
        else:
            store = open_store(db)
    except SplhuntError as e:
        _fail(str(e))
    c = _content(content, None, store)
    if c.lib is None:
        _fail("--content is required (no content folder recorded in the store)")
    c.engine, c.engine_options = engine, opts
    t0 = time.perf_counter()
    if paths:
        _progress_ingest(store, paths)
    ingest_secs = time.perf_counter() - t0
    if db is not None and c.lib.root is not None:
        set_meta(store, "content", str(Path(c.lib.root).resolve()))
    dets_all = list(c.lib.detections.values())
    dets = filter_detections(
        dets_all, types=types or (), stories=stories or (), mitre=mitre or (),
        statuses=status or ("production",), names=detection or (),
    )

    def progress(st: Any) -> None:
        if fmt == "table" and err.is_terminal:
            err.print(f"[dim]{st.status:7s} {st.detection.name} ({st.results} result(s), {st.seconds:.1f}s)[/]", highlight=False)

    try:
        res = hunt(store, c, dets, progress=progress, timeout=(timeout or None) if engine == "duckdb" else None,
                   save=parquet is None)
    except SplhuntError as e:  # the engine did not start (Spark: Java, master URL)
        _fail(str(e))
    meta = opts.get("parquet_meta")
    if meta is not None and meta.get("inventory") and store.count() != meta["events"]:
        # a catalog store (Parquet on object storage): one row per inventory entry, the
        # counts are in the layout's inventory sidecar
        from splhunt.runner.hunt import Inventory, _channel_of

        inv = Inventory()
        for r in meta["inventory"]:
            if r.get("index") == "risk":
                continue
            ch, code = r.get("Channel"), r.get("EventCode") or r.get("EventID")
            ch = (ch[0] if isinstance(ch, list) and ch else ch)
            code = code[0] if isinstance(code, list) and code else code
            st = r.get("sourcetype")
            inv.rows.append(((ch.lower() if isinstance(ch, str) and ch else None) or _channel_of(r.get("source")),
                             st.lower() if st else None, str(code).strip() if code else None, int(r["events"])))
        res.events, res.inventory = sum(n for *_, n in inv.rows), inv.describe()
    res.filtered_out = len(dets_all) - len(dets)
    res.ingest_seconds = ingest_secs
    res.seconds += ingest_secs
    summ = res.summary()
    if fmt == "json":
        doc = {
            "summary": summ,
            "inventory": res.inventory,
            "detections": [s.as_dict() for s in res.statuses],
            "entities": [e.as_dict() for e in res.entities],
            "findings": [json.loads(f.model_dump_json()) for f in res.findings],
        }
        out.out(json.dumps(doc, indent=2, default=str), highlight=False)
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        cols = ["risk_object", "risk_object_type", "total_score", "risk_events", "detection_count",
                "detections", "mitre_tactics", "mitre_techniques", "first_seen", "last_seen"]
        w.writerow(cols)
        for e in res.entities:
            d = e.as_dict()
            w.writerow(["|".join(d[k]) if isinstance(d[k], list) else d[k] for k in cols])
        out.out(buf.getvalue(), end="", highlight=False)
    else:
        _hunt_tables(res, verbose)
    lines = [
        f"events: {summ['events']:,}  ({res.inventory})" if res.inventory else f"events: {summ['events']:,}",
        f"detections: {summ['detections_run']} run ({summ['detections_with_findings']} with findings), "
        f"{summ['detections_skipped']} skipped, {summ['detections_failed']} failed"
        f" ({summ['detections_filtered_out']} filtered out by the options)",
        f"findings: {summ['findings']:,}; risk events: {summ['risk_events']:,}; "
        f"risk entities: {summ['risk_entities']:,}",
        f"time: {summ['seconds']:.1f}s (ingest {summ['ingest_seconds']:.1f}s, "
        f"knowledge view {summ['knowledge_view_seconds']:.1f}s)",
    ]
    for title, st in (("failed", FAILED), ("skipped", SKIPPED)):
        reasons = res.reasons(st)
        if reasons:
            lines.append(f"{title} by reason:")
            lines += [f"  {n:5d}  {r}" for r, n in reasons[:25]]
            if len(reasons) > 25:
                lines.append(f"  ... {len(reasons) - 25} more reason(s)")
    con = err if fmt != "table" else out
    if fmt == "table":
        out.rule("summary")
    con.print("\n".join(lines), highlight=False)
    store.close()


def _hunt_tables(res: Any, verbose: bool) -> None:
    from splhunt.runner.hunt import FAILED, RUN, SKIPPED

    if res.entities:
        t = Table(title="risk by entity (RBA)")
        for col in ("risk object", "type", "score", "detections", "tactics", "techniques", "first seen", "last seen"):
            t.add_column(col, overflow="fold")
        for e in res.entities:
            t.add_row(e.risk_object, e.risk_object_type, f"{e.total_score:g}", str(e.detection_count),
                      ", ".join(e.tactics), ", ".join(e.techniques), _fmt_time(e.first_seen), _fmt_time(e.last_seen))
        out.print(t)
    if res.findings:
        t = Table(title="findings")
        for col in ("id", "detection", "score", "severity", "message"):
            t.add_column(col, overflow="fold")
        for f in sorted(res.findings, key=lambda f: (-f.risk_score, f.detection_name)):
            t.add_row(f.id, f.detection_name, f"{f.risk_score:g}", f.severity, f.message)
        out.print(t)
    t = Table(title="detections run")
    for col in ("detection", "type", "status", "results", "findings", "seconds", "why / error"):
        t.add_column(col, overflow="fold")
    for s in res.statuses:
        if s.status in (RUN, FAILED):
            style = "red" if s.status == FAILED else "green" if s.findings else ""
            t.add_row(s.detection.name, s.detection.type or "", f"[{style}]{s.status}[/]" if style else s.status,
                      str(s.results), str(s.findings), f"{s.seconds:.2f}", s.reason)
    out.print(t)
    skipped = res.by_status(SKIPPED)
    if skipped:
        out.print(f"[bold]skipped[/] ({len(skipped)}):", highlight=False)
        groups: dict[str, list[str]] = {}
        for s in skipped:
            groups.setdefault(s.reason, []).append(s.detection.name)
        for reason, names in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            listed = names if verbose else names[:3]
            more = "" if verbose or len(names) <= 3 else f", ... (+{len(names) - 3}; --verbose lists all)"
            out.print(f"  {len(names):4d}  {reason}: {', '.join(listed)}{more}", highlight=False)


# --------------------------------------------------------------------------- drilldown, findings


@app.command("drilldown")
def drilldown_cmd(
    finding_id: Annotated[str, typer.Argument(help="finding id (or a unique prefix)")],
    db: Annotated[Path, typer.Option("--db", help="the store a hunt saved the finding in")],
    content: Annotated[Path | None, typer.Option("--content", help="ESCU content folder (default: the hunt's)")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """Run a stored finding's drilldown searches."""
    from splhunt.cli.output import render
    from splhunt.engines.persist import load_finding, open_store
    from splhunt.runner.drilldown import run_drilldowns

    if fmt not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json")
    if not db.exists():
        _fail(f"{db}: no such store")
    store = open_store(db)
    finding = load_finding(store, finding_id)
    if finding is None:
        _fail(f"no finding {finding_id!r} in {db} (see `splhunt findings --db {db}`)")
    assert finding is not None
    c = _content(content, None, store)
    runs = run_drilldowns(store, c, finding)
    if fmt == "json":
        out.out(json.dumps({"finding": finding["id"], "detection": finding["detection_name"],
                            "drilldowns": [r.as_dict() for r in runs]}, indent=2, default=str), highlight=False)
    else:
        out.print(f"[bold]finding[/] {finding['id']}: {finding['message']}", highlight=False)
        if not runs:
            out.print("(the detection has no drilldown searches)")
        for r in runs:
            out.rule(r.name)
            out.print(r.search, highlight=False, markup=False)
            for note in r.notes:
                out.print(f"[dim]note: {note}[/]", highlight=False)
            if r.error:
                out.print(f"[bold red]error:[/] {r.error}", highlight=False)
            else:
                render(r.columns, r.rows, "table", out)
    store.close()
    if any(r.error for r in runs):
        raise typer.Exit(1)


@app.command("findings")
def findings_cmd(
    db: Annotated[Path, typer.Option("--db", help="a store hunts saved findings in")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv")] = "table",
    risk: Annotated[bool, typer.Option("--risk", help="risk per entity instead of findings")] = False,
) -> None:
    """List the findings (or the risk per entity) stored by hunts."""
    from splhunt.cli.output import render
    from splhunt.engines.persist import open_store
    from splhunt.runner.risk import aggregate, stored_risk_rows

    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("--format must be table, json or csv")
    if not db.exists():
        _fail(f"{db}: no such store")
    store = open_store(db)
    if risk:
        rows = [e.as_dict() for e in aggregate(stored_risk_rows(store))]
        cols = ["risk_object", "risk_object_type", "total_score", "detection_count", "mitre_tactics",
                "mitre_techniques", "first_seen", "last_seen"]
    else:
        cur = store.con.execute(
            "SELECT id, detection_name, risk_score, severity, message FROM findings "
            "ORDER BY risk_score DESC, detection_name, id"
        )
        cols = ["id", "detection_name", "risk_score", "severity", "message"]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    render(cols, rows, fmt, out)
    store.close()

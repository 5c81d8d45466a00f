"""The `splhunt` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from splhunt.cli.output import FORMATS, render
from splhunt.errors import SplhuntError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Run Splunk SPL detections over Windows logs.")
out = Console(soft_wrap=True)
err = Console(stderr=True)

Fmt = Annotated[str, typer.Option("--format", "-f", help="table, json, jsonl or csv")]
ContentOpt = Annotated[Path | None, typer.Option("--content", help="ESCU content folder (macros/, lookups/, ...)")]
SourceOpt = Annotated[str | None, typer.Option("--source", help="override every event's source")]
SourcetypeOpt = Annotated[str | None, typer.Option("--sourcetype", help="override every event's sourcetype")]
DbOpt = Annotated[Path | None, typer.Option("--db", help="persistent store file (see `splhunt ingest`)")]
EngineOpt = Annotated[str, typer.Option("--engine", help="where searches run: duckdb (embedded) or spark (pip install '.[spark]', Java 17)")]
SparkMasterOpt = Annotated[str | None, typer.Option(
    "--spark-master", help="Spark master URL (default: $SPARK_MASTER, else spark.master of spark-defaults.conf, else local[*])")]
ParquetOpt = Annotated[str | None, typer.Option(
    "--parquet", help="read events from a Parquet store written by `splhunt ingest --format parquet` (path or URI; read-only)")]


def engine_options(engine: str, spark_master: str | None) -> dict:
    """`Session(engine_options=...)` for the --engine/--spark-master options."""
    from splhunt.engines import ENGINES

    if engine not in ENGINES:
        raise typer.BadParameter(f"--engine must be one of {', '.join(ENGINES)}")
    if spark_master and engine != "spark":
        raise typer.BadParameter("--spark-master needs --engine spark")
    return {"master": spark_master} if spark_master else {}


def _check_inputs(has_paths: bool, db: Path | None, parquet: str | None, what: str = "log paths") -> None:
    if db is not None and parquet is not None:
        raise typer.BadParameter("give --db or --parquet, not both")
    if parquet is not None and has_paths:
        raise typer.BadParameter("--parquet is read-only: add logs with `splhunt ingest PATH --format parquet --out URI`")
    if not has_paths and db is None and parquet is None:
        raise typer.BadParameter(f"give {what}, --db with a store made by `splhunt ingest`, or --parquet URI")


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")


def _session(content: Path | None, db: Path | None = None, engine: str = "duckdb",  # noqa: ANN202
             spark_master: str | None = None, parquet: str | None = None):
    from splhunt.api import Session

    opts = engine_options(engine, spark_master)
    if parquet is not None:
        from splhunt.engines.parquet import parquet_session

        return parquet_session(parquet, engine=engine, engine_options=opts, content=content)
    if db is not None:
        from splhunt.engines.persist import open_store

        return Session(open_store(db), content=content, engine=engine, engine_options=opts)
    return Session(content=content, engine=engine, engine_options=opts)


def _ingest(session, paths: list[Path], source: str | None, sourcetype: str | None, incremental: bool = False) -> None:  # noqa: ANN001
    total = sum(p.stat().st_size if p.is_file() else sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) for p in paths)
    with Progress(
        TextColumn("ingest"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=err, transient=True, disable=not err.is_terminal or total < 5_000_000,
    ) as prog:
        task = prog.add_task("ingest", total=total)

        def progress(done: int, _total: int) -> None:
            prog.update(task, completed=done)

        if incremental:  # --db: files already in the store (same sha256) are not read again
            from splhunt.engines.persist import ingest_incremental

            report = ingest_incremental(paths, session.store, source=source, sourcetype=sourcetype, progress=progress)
        else:
            report = session.ingest(paths, source=source, sourcetype=sourcetype, progress=progress)
    err.print(report.summary(), highlight=False)


def _fail(e: Exception) -> None:
    err.print(f"[bold red]error:[/] {e}", highlight=False)
    raise typer.Exit(2)


@app.command()
def search(
    spl: Annotated[str, typer.Argument(help="the SPL search")],
    paths: Annotated[list[Path] | None, typer.Argument(help="log files or folders (optional with --db)")] = None,
    content: ContentOpt = None,
    fmt: Fmt = "table",
    source: SourceOpt = None,
    sourcetype: SourcetypeOpt = None,
    show_sql: Annotated[bool, typer.Option("--show-sql", help="print the compiled SQL to stderr")] = False,
    db: DbOpt = None,
    parquet: ParquetOpt = None,
    engine: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
) -> None:
    """Run an SPL search over log files, a --db store or a --parquet store."""
    _check_format(fmt)
    _check_inputs(bool(paths), db, parquet)
    try:
        s = _session(content, db, engine, spark_master, parquet)
        if paths:
            _ingest(s, paths, source, sourcetype, incremental=db is not None)
        res = s.search(spl)
    except SplhuntError as e:
        _fail(e)
        return
    if show_sql:
        err.print(res.sql, highlight=False)
    render(res.columns, res.rows, fmt, out)


@app.command()
def run(
    detections: Annotated[list[Path], typer.Argument(help="ESCU detection YAML files")],
    logs: Annotated[list[Path] | None, typer.Option("--logs", help="log files or folders (optional with --db)")] = None,
    content: ContentOpt = None,
    fmt: Fmt = "table",
    source: SourceOpt = None,
    sourcetype: SourcetypeOpt = None,
    db: DbOpt = None,
    parquet: ParquetOpt = None,
    engine: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
) -> None:
    """Run detections over log files, a --db store or a --parquet store: print their results and findings."""
    from splhunt.content import load_detection

    _check_format(fmt)
    _check_inputs(bool(logs), db, parquet, "--logs")
    try:
        s = _session(content, db, engine, spark_master, parquet)
        if logs:
            _ingest(s, logs, source, sourcetype, incremental=db is not None)
        dets = [load_detection(p) for p in detections]
    except SplhuntError as e:
        _fail(e)
        return
    all_json = []
    failed = False
    for det in dets:
        try:
            r = s.run_detection(det)
        except SplhuntError as e:
            err.print(f"[bold red]{det.name}:[/] {e}", highlight=False)
            failed = True
            continue
        if fmt in ("json", "jsonl"):
            item = {
                "detection": det.name,
                "columns": r.result.columns,
                "results": [{c: row.get(c) for c in r.result.columns} for row in r.result.rows],
                "findings": [json.loads(f.model_dump_json()) for f in r.findings],
            }
            if fmt == "jsonl":
                for f in item["findings"]:
                    out.out(json.dumps(f, default=str), highlight=False)
            else:
                all_json.append(item)
            continue
        out.rule(f"{det.name}  ({len(r.result.rows)} result(s), {len(r.findings)} finding(s))")
        render(r.result.columns, r.result.rows, fmt, out)
        if fmt == "table":
            for f in r.findings:
                objs = ", ".join(f"{o.type} {o.value} (+{o.score:g})" for o in f.risk_objects)
                out.print(f"[bold]finding[/] {f.id}: {f.message}  [dim]risk: {objs}; ATT&CK: {', '.join(f.mitre_attack_ids)}[/]", highlight=False)
    if fmt == "json":
        out.out(json.dumps(all_json, indent=2, default=str), highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command()
def coverage(
    content: Annotated[Path, typer.Argument(help="ESCU content folder")],
    status: Annotated[list[str], typer.Option("--status", help="detection statuses to include")] = ["production"],  # noqa: B006
    logs: Annotated[list[Path] | None, typer.Option("--logs", help="also run over these logs")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    engine: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
) -> None:
    """How many detections load, expand, parse, compile and execute (on --engine); every failure listed."""
    from splhunt.coverage import STEPS, run_coverage

    if fmt not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json")
    opts = engine_options(engine, spark_master)
    try:
        def progress(i: int, n: int) -> None:  # a Spark run takes a while: say how far it is
            if i % 100 == 0 or i == n:
                err.print(f"coverage: {i}/{n} detections", highlight=False)

        rep = run_coverage(content, statuses=tuple(status), logs=logs, engine=engine, engine_options=opts,
                           progress=progress)
    except SplhuntError as e:
        _fail(e)
        return
    if fmt == "json":
        out.out(json.dumps({"engine": engine, **rep.as_dict()}, indent=2), highlight=False)
        return
    from rich.table import Table

    t = Table(title=f"coverage of {content} ({', '.join(status)}) on {engine}")
    t.add_column("step")
    t.add_column("count", justify="right")
    t.add_column("%", justify="right")
    t.add_row("total", str(rep.total), "")
    for s in STEPS:
        t.add_row(s, str(rep.counts[s]), f"{100 * rep.counts[s] / max(rep.total, 1):.1f}")
    if rep.executed_real is not None:
        t.add_row("executed over logs", str(rep.executed_real), f"{100 * rep.executed_real / max(rep.total, 1):.1f}")
        t.add_row("with results", str(rep.with_results), "")
    out.print(t)
    out.print("[bold]failures by cause[/]")
    for cause, n in rep.by_cause(40):
        out.print(f"{n:5d}  {cause}", highlight=False)
    out.print("[bold]failures[/]")
    for f in rep.failures:
        out.print(f"{f.step:9s} {f.file}: {f.error}", highlight=False)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


import splhunt.cli.commands_extra  # noqa: E402,F401  (registers ingest, test, hunt, drilldown, findings)

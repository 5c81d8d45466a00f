"""CIM data model datasets as SPL compiled by the project's own compiler.

A dataset is what Splunk's data model defines: the root's constraint search (with the
root's own `| eval` base pipeline for Endpoint), `| search <constraint>` for each child,
then the calculated fields in order. splhunt compiles exactly that SPL over the
search-time view, then exposes each data model field under its dotted name
(`Processes.process_name`): the prefix is the dataset that defines the field; the
BaseEvent fields `_time`, `host`, `source` and `sourcetype` keep their plain names.
"""

from __future__ import annotations

from sqlglot import exp

from splhunt.compile.compiler import Compiler
from splhunt.compile.stage import MV, FieldInfo, Stage, allocate, colref, ident
from splhunt.errors import SplUnsupportedError
from splhunt.spl.macros import MacroDef, MacroLibrary
from splhunt.spl.parser import parse

BASE_FIELDS = ("_time", "host", "source", "sourcetype")


def resolve(spec: str):  # noqa: ANN201 - ResolvedDataset
    """`Endpoint.Processes` or `Change` (its single root) -> the resolved dataset."""
    from splhunt.knowledge import load_knowledge

    k = load_knowledge()
    model_name, _, ds_name = spec.partition(".")
    try:
        model = k.datamodel(model_name)
    except KeyError:
        raise SplUnsupportedError(
            f"data model {model_name}",
            f"splhunt has no definition of it (defined: {', '.join(sorted(k.datamodels))})",
        ) from None
    if not ds_name:
        roots = model.roots
        if len(roots) != 1:
            raise SplUnsupportedError(f"data model {model_name} without a dataset", f"it has several roots: {', '.join(roots)}")
        ds_name = roots[0]
    if "." in ds_name:
        ds_name = ds_name.rsplit(".", 1)[1]
    try:
        return model, model.dataset(ds_name)
    except KeyError:
        raise SplUnsupportedError(f"dataset {model_name}.{ds_name}", "not in the data model") from None


def _apply_calculation(cc: Compiler, stage: Stage, calc) -> Stage:  # noqa: ANN001
    """One data model calculation: an eval, or a lookup against a knowledge table.

    A lookup calculation fills its output fields only where the event has none.
    """
    from splhunt.compile.compiler import Ctx
    from splhunt.compile.expr import Typed, compile_expr, to_str
    from splhunt.knowledge import load_knowledge
    from splhunt.knowledge.compile import inline_lookup
    from splhunt.spl.parser import parse_eval

    if calc.kind == "eval":
        t = compile_expr(parse_eval(calc.expression), Ctx(cc, stage))
        return cc.with_columns(stage, [(o, t) for o in calc.outputs])
    if calc.kind == "lookup":
        k = load_knowledge()
        ldef, _ = k.lookup_table(calc.lookup)
        rows = k.lookup_rows(calc.lookup)
        if len(calc.inputs) != 1:
            raise SplUnsupportedError(f"data model lookup {calc.lookup}", "multi-key lookups")
        col, fieldname = calc.inputs[0]
        if not stage.has(fieldname):
            return stage
        key = to_str(Typed(stage.col(fieldname), stage.kind(fieldname)))
        if not ldef.case_sensitive_match:
            key = exp.Lower(this=key)
        new = []
        for out in calc.outputs:
            looked = inline_lookup(key, rows, col, out, ldef)
            cur = stage.col(out) if stage.has(out) else None
            new.append((out, Typed(exp.func("COALESCE", cur, looked) if cur is not None else looked, "str")))
        return cc.with_columns(stage, new)
    raise SplUnsupportedError(f"data model calculation type {calc.kind}")


def dataset_events_stage(cc: Compiler, spec: str) -> Stage:
    """The dataset's events (constraints and calculations applied) with every field under
    its own name: what `| from datamodel Model.Dataset` returns (ESCU reads it unprefixed:
    `| from datamodel Risk.All_Risk | search normalized_risk_object=...`,
    `| from datamodel Web.Web | stats count by action, dest`)."""
    model, ds = resolve(spec)
    macros = MacroLibrary({k: MacroDef(k, v) for k, v in (model.macros or {}).items()})
    inner = cc.compile_commands(parse(macros.expand(ds.search)).commands, cc.base_stage())
    for _owner, calc in ds.calculations:
        inner = _apply_calculation(cc, inner, calc)
    return inner


def dataset_stage(cc: Compiler, spec: str) -> Stage:
    """A stage holding the dataset's events with dotted data model field names.

    A compiler with a `dataset_cache` (a session's, see `Session._dataset`) reads the
    dataset from a table built once per store version: the dataset is a pure function of
    the search-time view, so the rows are the same."""
    hook = getattr(cc, "dataset_cache", None)
    if hook is not None:
        model, ds = resolve(spec)
        got = hook(model.name, ds.name, lambda c: build_dataset_stage(c, spec))
        if got is not None:
            rel, fields = got
            return cc.push(exp.select("*").from_(rel.copy()), dict(fields))
    return build_dataset_stage(cc, spec)


def build_dataset_stage(cc: Compiler, spec: str) -> Stage:
    """`dataset_stage` compiled inline (never from a cache)."""
    _model, ds = resolve(spec)
    inner = dataset_events_stage(cc, spec)
    fields: dict[str, FieldInfo] = {}
    taken: set[str] = set()
    proj: list[exp.Expression] = []
    for f in ds.fields:
        owner = getattr(f, "dataset", None) or ds.name
        dotted = f.name if f.name in BASE_FIELDS else f"{owner}.{f.name}"
        if owner in ("BaseEvent", "BaseSearch") and f.name not in BASE_FIELDS:
            dotted = f"{ds.chain[0].name}.{f.name}"
        if dotted in fields:
            continue
        col = allocate(dotted, taken)
        taken.add(col.lower())
        if inner.has(f.name):
            fi = inner.fields[f.name]
            proj.append(exp.alias_(colref(fi.col), ident(col)))
            kind = fi.kind
        else:
            kind = MV if getattr(f, "multivalue", False) else "str"
            typ = exp.DataType.build("VARCHAR[]" if kind == MV else "VARCHAR")
            proj.append(exp.alias_(exp.Cast(this=exp.Null(), to=typ), ident(col)))
        fields[dotted] = FieldInfo(col, kind)
    return cc.push(cc.select_from(inner).select(*proj), fields)

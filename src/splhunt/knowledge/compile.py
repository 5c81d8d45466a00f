"""Compile add-on knowledge (data in `knowledge/data/`) into the search-time view.

Splunk applies, per event, the attributes of the props stanzas its source and
sourcetype match, in this order: REPORT extractions, FIELDALIAS, EVAL (all EVALs in
parallel), LOOKUP, then eventtypes and tags. The view here does the same as four CTEs
over the raw `events` table. Each attribute becomes a column expression that applies
only to the (source, sourcetype) pairs whose stanzas carry it:

    CASE WHEN source = '...' AND sourcetype = '...' THEN <rule> ELSE <field as it was> END

EVAL and eventtype texts are compiled by the project's own SPL compiler, so the add-on
rules and user searches share one semantics. The generic XML extraction (Windows TA
`REPORT-0xml_*`, Sysmon `sysmon-data`) is done by ingest; rules marked `done_at_ingest`
and `$1::$2` formats are skipped here for that reason.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from splhunt.compile.compiler import Base, Capabilities, Compiler, Ctx
from splhunt.compile.expr import Typed, compile_expr, to_mv, to_str
from splhunt.compile.regex import engine_pattern, python_pattern
from splhunt.compile.search import compile_search
from splhunt.compile.stage import BOOL, MV, NULL, STR, FieldInfo, Stage, allocate, colref, ident
from splhunt.engines.store import Store
from splhunt.errors import SplhuntError
from splhunt.spl.parser import parse_eval, parse_search_expr

Combo = tuple[str | None, str | None]


@dataclass
class KnowledgeNotes:
    """Rules the view could not apply, with the reason (shown by `splhunt knowledge`)."""

    skipped: list[str]


def _combo_cond(combos: list[Combo], keys: tuple[exp.Expression, exp.Expression]) -> exp.Expression:
    """`combos` as a condition on the (source, sourcetype) columns `keys` (the registry's
    columns, which need not be named as the fields are)."""
    src, st = keys
    parts = []
    for source, sourcetype in combos:
        a = (
            exp.EQ(this=src.copy(), expression=exp.Literal.string(source))
            if source is not None
            else exp.Is(this=src.copy(), expression=exp.Null())
        )
        b = (
            exp.EQ(this=st.copy(), expression=exp.Literal.string(sourcetype))
            if sourcetype is not None
            else exp.Is(this=st.copy(), expression=exp.Null())
        )
        parts.append(exp.and_(a, b))
    return exp.or_(*parts) if len(parts) > 1 else parts[0]


class _View:
    """Builds the CTE chain, one layer at a time."""

    def __init__(self, store: Store, caps: Capabilities):
        self.caps = caps
        self.fields: dict[str, FieldInfo] = {
            f: FieldInfo(fc.col, fc.kind) for f, fc in store.fields.items()
        }
        self.ctes: list[tuple[str, exp.Expression]] = []
        self.name = "events"
        self.compiler = Compiler(Base(exp.to_table("events"), self.fields), caps)
        self.notes: list[str] = []
        #: fields some layer sets (the others pass the raw column through unchanged)
        self.derived: set[str] = set()

    def stage(self) -> Stage:
        return Stage(self.name, self.fields)

    def layer(self, name: str, new: dict[str, tuple[exp.Expression, str]]) -> None:
        """Add a CTE that sets `new` fields (expr, kind) and keeps the rest."""
        if not new:
            return
        self.derived.update(new)
        fields = dict(self.fields)
        taken = {fi.col.lower() for fi in fields.values()}
        cols: dict[str, str] = {}
        for f, (_, kind) in new.items():
            if f in fields:
                cols[f] = fields[f].col
            else:
                cols[f] = allocate(f, taken)
                taken.add(cols[f].lower())
            fields[f] = FieldInfo(cols[f], kind)
        proj = []
        for f, fi in fields.items():
            if f in new:
                proj.append(exp.alias_(new[f][0], ident(cols[f])))
            else:
                proj.append(colref(fi.col))
        # the select is new: building on it needs no copy (copying it, with every rule
        # expression in it, was a third of the view's build time)
        sel = exp.select(*proj).from_(exp.to_table(ident(self.name)), copy=False)
        self.ctes.append((name, sel))
        self.name = name
        self.fields = fields

    def keys(self) -> tuple[exp.Expression, exp.Expression]:
        """The (source, sourcetype) columns of the current layer."""
        return self.current("source").sql, self.current("sourcetype").sql

    def current(self, f: str) -> Typed:
        if f in self.fields:
            return Typed(colref(self.fields[f].col), self.fields[f].kind)
        return Typed(exp.Null(), NULL)


def _merge_cases(
    arms: list[tuple[list[Combo], Typed]], fallback: Typed, keys: tuple[exp.Expression, exp.Expression]
) -> tuple[exp.Expression, str]:
    kinds = {t.kind for _, t in arms if t.kind != NULL} | (
        {fallback.kind} if fallback.kind != NULL else set()
    )
    if BOOL in kinds:
        raise SplhuntError("a knowledge EVAL yields a boolean")
    want_mv = MV in kinds
    conv = to_mv if want_mv else to_str
    ifs = [exp.If(this=_combo_cond(combos, keys), true=conv(t)) for combos, t in arms]
    return exp.Case(ifs=ifs, default=conv(fallback)), MV if want_mv else STR


def _regex_extract(
    caps: Capabilities, src: exp.Expression, pattern: str, group: int | str, *, all_: bool = False
) -> exp.Expression:
    p2 = engine_pattern(pattern, caps)
    if p2 is None and not caps.pcre_udf:
        raise SplhuntError(f"this engine's regexes cannot run {pattern}")
    if p2 is None:
        if all_:
            raise SplhuntError(f"repeat-match extraction needs RE2: {pattern}")
        if isinstance(group, str):
            import re as _re

            group = _re.compile(python_pattern(pattern)).groupindex[group]
        return exp.Anonymous(
            this="splhunt_re_extract",
            expressions=[
                src,
                exp.Literal.string(python_pattern(pattern)),
                exp.Literal.number(group),
            ],
        )
    if isinstance(group, str):
        # engines take a group number: find the named group's index
        import re as _re

        group = _re.compile(python_pattern(pattern)).groupindex[group]
    grp = exp.Literal.number(group)
    if all_:
        e = exp.RegexpExtractAll(this=src, expression=exp.Literal.string(p2), group=grp)
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=exp.ArraySize(this=e), expression=exp.Literal.number(0)),
                    true=exp.Null(),
                )
            ],
            default=e,
        )
    e = exp.RegexpExtract(this=src, expression=exp.Literal.string(p2), group=grp)
    # RE2 returns '' when nothing matched; Splunk sets no field
    return exp.Nullif(this=e, expression=exp.Literal.string(""))


def _qcol(store: Store, field: str) -> str:
    fc = store.fields.get(field)
    return '"' + (fc.col if fc else field).replace('"', '""') + '"'


def knowledge_base(store: Store, caps: Capabilities) -> Base:
    """The search-time view over `store` as the base relation for pipelines."""
    from splhunt.knowledge import load_knowledge

    k = load_knowledge()
    combos: list[Combo] = [
        (s, st)
        for s, st in store.con.execute(
            f"SELECT DISTINCT {_qcol(store, 'source')}, {_qcol(store, 'sourcetype')} FROM events"
        ).fetchall()
    ]
    merged = {c: k.merged_attributes(c[0] or "", c[1] or "", None) for c in combos}
    v = _View(store, caps)

    # 1. EXTRACT, then REPORT (fixed output names only), in Splunk's order: EXTRACTs, then
    # REPORT classes, each by ASCII class name, a class's transforms as listed. Each one
    # reads its source field as the earlier ones left it (the Windows add-on's
    # `SubjectUserName_as_Caller_User_Name` feeds `Caller_User_Name_as_src_user`), and
    # without MV_ADD a value already there wins. `field::"$1"` is `field::$1`.
    # A value's `recipe` (how it was derived) is hashable: combos deriving a field the same
    # way share one expression object (cheap to group, smaller SQL).
    by_field: dict[str, list[tuple[list[Combo], Typed]]] = defaultdict(list)
    rx_cache: dict[tuple[Any, str, int | str, bool], exp.Expression | None] = {}
    made: dict[Any, Typed] = {}
    for c, m in merged.items():
        steps: list[tuple[str, str, list[tuple[str, int | str]], bool]] = [
            (ex.source_field, ex.regex, [(g, g) for g in ex.named_groups], False)
            for ex in m.extracts
        ]
        for rep in m.runtime_reports:
            for t in rep.transforms:
                if t.done_at_ingest or t.regex is None or t.dest_key:
                    continue
                outs: list[tuple[str, int | str]] = []
                if t.format:
                    for part in t.format.split():
                        name, _, val = part.partition("::")
                        val = val.strip('"')
                        if name.startswith("$") or not val.startswith("$") or not val[1:].isdigit():
                            continue
                        outs.append((name, int(val[1:])))
                    if not outs:
                        continue  # `$1::$2`: extracted by ingest
                else:
                    outs = [(g, g) for g in t.named_groups]
                steps.append((t.source_key, t.regex, outs, t.repeat_match))
        state: dict[str, Typed] = {}
        recipe: dict[str, Any] = {}
        for skey, regex, outs, repeat in steps:
            src = state.get(skey) or v.current(skey)
            if src.kind == NULL:
                continue
            text = (
                to_str(src)
                if src.kind != MV
                else exp.ArrayToString(this=src.sql, expression=exp.Literal.string("\n"))
            )
            src_recipe = recipe.get(skey, ("col", skey))
            for name, grp in outs:
                key = (src_recipe, regex, grp, repeat)
                if key not in rx_cache:
                    try:
                        rx_cache[key] = _regex_extract(caps, text, regex, grp, all_=repeat)
                    except SplhuntError as e:
                        rx_cache[key] = None
                        note = f"REPORT {name}: {e}"
                        if note not in v.notes:
                            v.notes.append(note)
                ext = rx_cache[key]
                if ext is None:
                    continue
                cur = state.get(name) or v.current(name)
                kind = MV if repeat else STR
                r = ("rx", key, recipe.get(name, ("col", name)) if cur.kind != NULL else None)
                if r not in made:
                    # MV_ADD=false: an existing value wins over the new extraction
                    val = (
                        exp.func("COALESCE", to_mv(cur) if repeat else to_str(cur), ext)
                        if cur.kind != NULL
                        else ext
                    )
                    made[r] = Typed(val, kind)
                state[name], recipe[name] = made[r], r
        for name, t in state.items():
            by_field[name].append(([c], t))
    v.layer(
        "k_report",
        {f: _merge_cases(_group_arms(arms), v.current(f), v.keys()) for f, arms in by_field.items()},
    )

    # 2. FIELDALIAS (all see the extracted fields)
    by_field = defaultdict(list)
    for c, m in merged.items():
        for fa in m.fieldaliases:
            for pair in fa.pairs:
                src = v.current(pair.src)
                if pair.mode.upper() == "ASNEW":
                    cur = v.current(pair.dst)
                    val = (
                        Typed(exp.func("COALESCE", to_str(cur), to_str(src)), STR)
                        if cur.kind != NULL
                        else src
                    )
                else:
                    val = src  # AS: a missing source removes the target
                by_field[pair.dst].append(([c], val))
    v.layer("k_alias", {f: _merge_cases(arms, v.current(f), v.keys()) for f, arms in by_field.items()})

    # 3. EVAL, in parallel: every expression reads the post-alias fields
    by_field = defaultdict(list)
    ctx = Ctx(v.compiler, v.stage())
    cache: dict[str, Typed] = {}
    for c, m in merged.items():
        for ev in m.evals:
            text = ev.expression
            try:
                if text not in cache:
                    cache[text] = compile_expr(parse_eval(text), ctx)
                by_field[ev.field].append(([c], cache[text]))
            except SplhuntError as e:
                note = f"EVAL-{ev.field} ({ev.stanza}): {e}"
                if note not in v.notes:
                    v.notes.append(note)
    v.layer(
        "k_eval", {f: _merge_cases(_group_arms(arms), v.current(f), v.keys()) for f, arms in by_field.items()}
    )

    # 4. LOOKUP (small tables inlined as CASE), in order per event: a later OUTPUTNEW fills
    # only what the earlier lookups left empty (several Windows lookups output `action`).
    by_field = defaultdict(list)
    made = {}
    for c, m in merged.items():
        state = {}
        recipe = {}
        for lk in m.lookups:
            try:
                ldef, _ = k.lookup_table(lk.lookup)
                rows = k.lookup_rows(lk.lookup)
            except Exception as e:  # noqa: BLE001 - recorded, not fatal
                v.notes.append(f"LOOKUP {lk.lookup}: {e}")
                continue
            if ldef.incomplete or len(lk.inputs) != 1:
                note = f"LOOKUP {lk.lookup}: skipped ({ldef.reason or 'multi-key lookup'})"
                if note not in v.notes:
                    v.notes.append(note)
                continue
            key = lk.inputs[0]
            kin = state.get(key.field) or v.current(key.field)
            if kin.kind == NULL:
                continue
            key_recipe = recipe.get(key.field, ("col", key.field))
            new = (lk.output_mode or "OUTPUT").upper() == "OUTPUTNEW"
            for out in lk.outputs:
                cur = state.get(out.field) or v.current(out.field)
                keep = new and cur.kind != NULL
                r = ("lk", lk.lookup, key_recipe, key.column, out.column,
                     recipe.get(out.field, ("col", out.field)) if keep else None)
                if r not in made:
                    keyexpr = to_str(kin)
                    if not ldef.case_sensitive_match:
                        keyexpr = exp.Lower(this=keyexpr)
                    looked = inline_lookup(keyexpr, rows, key.column, out.column, ldef)
                    val = exp.func("COALESCE", to_str(cur), looked) if keep else looked
                    made[r] = Typed(val, STR)
                state[out.field], recipe[out.field] = made[r], r
        for name, t in state.items():
            by_field[name].append(([c], t))
    v.layer(
        "k_lookup",
        {f: _merge_cases(_group_arms(arms), v.current(f), v.keys()) for f, arms in by_field.items()},
    )

    # 5. eventtypes and tags
    ctx = Ctx(v.compiler, v.stage())
    et_arms: list[exp.Expression] = []
    tag_arms: list[exp.Expression] = []
    searches = {et.name: et.search for et in k.eventtypes}
    for et in k.eventtypes:
        try:
            cond = compile_search(parse_search_expr(_expand_eventtypes(et.search, searches)), ctx)
        except SplhuntError as e:
            v.notes.append(f"eventtype {et.name}: {e}")
            continue
        hit = exp.func("COALESCE", cond, exp.false())
        et_arms.append(exp.Case(ifs=[exp.If(this=hit, true=exp.Literal.string(et.name))]))
        for tag in et.tags:
            tag_arms.append(exp.Case(ifs=[exp.If(this=hit, true=exp.Literal.string(tag))]))
    new: dict[str, tuple[exp.Expression, str]] = {}
    if et_arms:
        new["eventtype"] = (_nonnull_list(et_arms), MV)
    if tag_arms:
        new["tag"] = (exp.ArraySort(this=exp.ArrayDistinct(this=_nonnull_list(tag_arms))), MV)
    v.layer("k_tags", new)

    base = Base(exp.to_table(ident(v.name)), dict(v.fields), list(v.ctes))
    base.notes = v.notes  # type: ignore[attr-defined]
    base.derived = v.derived  # type: ignore[attr-defined]
    return base


_EVENTTYPE_REF = re.compile(r'\beventtype\s*=\s*(?:"([^"]+)"|([^\s()"]+))')


def _expand_eventtypes(search: str, searches: dict[str, str], depth: int = 0) -> str:
    """`eventtype=wineventlog_security` inside an eventtype search, replaced by that
    eventtype's own search in parentheses (Splunk matches the nested eventtype; the
    `eventtype` field does not exist yet while eventtypes are being computed)."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name not in searches or depth > 8:
            return m.group(0)
        return "(" + _expand_eventtypes(searches[name], searches, depth + 1) + ")"

    return _EVENTTYPE_REF.sub(sub, search)


def inline_lookup(keyexpr: exp.Expression, rows: list[dict[str, str]], key_col: str, out_col: str, ldef: Any) -> exp.Expression:
    """A small lookup table as a CASE over the key (exact match, first row wins).

    `default_match` applies when `min_matches` >= 1 and nothing matched, as in Splunk.
    """
    cs = ldef.case_sensitive_match
    mapping = [
        exp.If(
            this=exp.EQ(this=keyexpr, expression=exp.Literal.string(r[key_col] if cs else r[key_col].lower())),
            true=exp.Literal.string(r[out_col]),
        )
        for r in rows
        if r.get(out_col) not in (None, "") and r.get(key_col) is not None
    ]
    default = exp.Literal.string(ldef.default_match) if ldef.default_match is not None and ldef.min_matches >= 1 else exp.Null()
    return exp.Case(ifs=mapping, default=default) if mapping else default


def _group_arms(arms: list[tuple[list[Combo], Typed]]) -> list[tuple[list[Combo], Typed]]:
    """Merge arms with the same SQL so each distinct rule appears once in the CASE."""
    if len(arms) < 2:
        return arms
    out: dict[str, tuple[list[Combo], Typed]] = {}
    seen: dict[int, str] = {}  # the same expression object renders once
    for combos, t in arms:
        key = seen.get(id(t.sql))
        if key is None:
            key = seen[id(t.sql)] = t.sql.sql() + t.kind
        if key in out:
            out[key][0].extend(combos)
        else:
            out[key] = (list(combos), t)
    return list(out.values())


def _nonnull_list(items: list[exp.Expression]) -> exp.Expression:
    x = exp.to_identifier("_x")
    lst = exp.ArrayFilter(
        this=exp.Array(expressions=items),
        expression=exp.Lambda(
            this=exp.Not(this=exp.Is(this=exp.Column(this=x), expression=exp.Null())),
            expressions=[x],
        ),
    )
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.EQ(this=exp.ArraySize(this=lst), expression=exp.Literal.number(0)),
                true=exp.Null(),
            )
        ],
        default=lst,
    )


__all__ = ["knowledge_base", "KnowledgeNotes", "Any"]

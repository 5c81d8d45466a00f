"""`rex [field=f] [max_match=N] "regex"` and `rex [field=f] mode=sed "s/a/b/g"`.

Extraction (Splunk Search Reference, rex):
- the regex (PCRE) is matched, unanchored, against `field` (default `_raw`); each named
  group `(?<name>...)` / `(?P<name>...)` sets the field `name`;
- an event the regex does not match keeps its fields as they were (an existing field of
  the same name is not cleared); a group that does not take part in the match, or
  captures the empty string, leaves its field as it was too (splhunt cannot tell the
  two apart on RE2, so both behave like "no value");
- `max_match=1` (default) takes the first match; `max_match=N>1` collects up to N
  matches and `max_match=0` all of them, giving multivalue fields;
- a multivalue input field is matched on its first value;
- patterns RE2 cannot run (lookaround, backreferences) use the engine's PCRE fallback
  function for `max_match=1`; with `max_match` other than 1 they are refused.

Sed mode: `s/regex/replacement/flags` replaces the first match, or every match with
the `g` flag (`\\1` refers to a group); `y/abc/xyz/` maps characters one to one. A
multivalue field is edited value by value. `offset_field` is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import only_group, regex_groups
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed, num_to_str, to_str
from splhunt.compile.regex import engine_pattern as compile_engine_pattern
from splhunt.compile.regex import python_pattern
from splhunt.compile.stage import MV, NULL, NUM, STR, Stage
from splhunt.errors import SplUnsupportedError
from splhunt.spl import ast as A
from splhunt.spl.lexer import STRING
from splhunt.spl.parser import CommandParser

REX_OPTIONS = {"field": "", "max_match": "", "offset_field": "", "mode": ""}


def engine_pattern(ctx: Ctx, pattern: str) -> str | None:
    """The pattern for the engine's native regex functions, or None (needs the fallback)."""
    return compile_engine_pattern(pattern, ctx.caps)


def extract_one(ctx: Ctx, s: exp.Expression, pattern: str, group: int) -> exp.Expression:
    """Group `group` of the first match (null or '' when there is none)."""
    p = engine_pattern(ctx, pattern)
    if p is None:
        if not ctx.caps.pcre_udf:
            raise SplUnsupportedError(f"regex {pattern!r}", "this engine has no PCRE support")
        return exp.Anonymous(
            this="splhunt_re_extract",
            expressions=[s, exp.Literal.string(python_pattern(pattern)), exp.Literal.number(group)],
        )
    if group > 1:
        p, group = only_group(p, group), 1
    return exp.RegexpExtract(this=s, expression=exp.Literal.string(p), group=exp.Literal.number(group))


def extract_all(ctx: Ctx, s: exp.Expression, pattern: str, group: int) -> exp.Expression:
    """Group `group` of every match, as a list."""
    p = engine_pattern(ctx, pattern)
    if p is None:
        raise SplUnsupportedError(
            f"regex {pattern!r} with several matches",
            "lookaround/backreferences run only through the single-match fallback; use max_match=1",
        )
    if group > 1:
        p, group = only_group(p, group), 1
    return exp.RegexpExtractAll(this=s, expression=exp.Literal.string(p), group=exp.Literal.number(group))


def nonempty(e: exp.Expression) -> exp.Expression:
    """`e`, with the empty string as null."""
    return exp.Nullif(this=e, expression=exp.Literal.string(""))


def list_nonempty(lst: exp.Expression, limit: int | None) -> exp.Expression:
    """The non-empty values of a list, at most `limit`; null when none is left."""
    x = exp.to_identifier("__rx")
    kept = exp.ArrayFilter(
        this=lst,
        expression=exp.Lambda(
            this=exp.NEQ(this=exp.Column(this=x), expression=exp.Literal.string("")), expressions=[x]
        ),
    )
    if limit:
        kept = exp.ArraySlice(this=kept, start=exp.Literal.number(1), end=exp.Literal.number(limit))
    return exp.Case(
        ifs=[exp.If(this=exp.EQ(this=exp.ArraySize(this=kept), expression=exp.Literal.number(0)), true=exp.Null())],
        default=kept,
    )


def keep_old(new: exp.Expression, new_kind: str, old: Typed) -> Typed:
    """`new` where it has a value, else the field's previous value."""
    if old.kind == NULL:
        return Typed(new, new_kind)
    if new_kind == MV or old.kind == MV:
        from splhunt.compile.expr import to_mv

        n = new if new_kind == MV else to_mv(Typed(new, STR))
        return Typed(exp.func("COALESCE", n, to_mv(old)), MV)
    o = num_to_str(old.sql) if old.kind == NUM else old.sql
    return Typed(exp.func("COALESCE", new, o), STR)


# ---------------------------------------------------------------- sed expressions


def split_sed(expr: str) -> tuple[str, list[str]]:
    """`s/a/b/g` -> ("s", ["a", "b", "g"]); the delimiter is the character after s/y."""
    if len(expr) < 2 or expr[0] not in "sy":
        raise ValueError("a sed expression starts with s or y")
    cmd, delim = expr[0], expr[1]
    parts: list[str] = []
    cur: list[str] = []
    i = 2
    while i < len(expr):
        c = expr[i]
        if c == "\\" and i + 1 < len(expr):
            if expr[i + 1] == delim:
                cur.append(delim)
            else:
                cur.append(expr[i : i + 2])
            i += 2
            continue
        if c == delim:
            parts.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    parts.append("".join(cur))
    if len(parts) != 3:
        raise ValueError(f"expected {cmd}{delim}...{delim}...{delim}[flags]")
    return cmd, parts


def sed_replace(ctx: Ctx, s: exp.Expression, pattern: str, repl: str, global_: bool) -> exp.Expression:
    p = engine_pattern(ctx, pattern)
    if p is None:
        if not global_:
            raise SplUnsupportedError(
                f"rex mode=sed with regex {pattern!r} and no g flag",
                "the PCRE fallback replaces every match; add the g flag or avoid lookaround",
            )
        if not ctx.caps.pcre_udf:
            raise SplUnsupportedError(f"regex {pattern!r}", "this engine has no PCRE support")
        return exp.Anonymous(
            this="splhunt_re_replace",
            expressions=[s, exp.Literal.string(python_pattern(pattern)), exp.Literal.string(repl)],
        )
    if not global_ and ctx.caps.dialect != "duckdb":
        raise SplUnsupportedError(
            "rex mode=sed without the g flag", f"{ctx.caps.dialect} replaces every match"
        )
    if ctx.caps.replace_backref == "$":
        repl = re.sub(r"\$", r"\\$", repl)
        repl = re.sub(r"\\(\d)", r"$\1", repl)
    if global_:
        return exp.RegexpReplace(
            this=s, expression=exp.Literal.string(p), replacement=exp.Literal.string(repl),
            modifiers=exp.Literal.string("g"),
        )
    # DuckDB replaces only the first match without the 'g' option
    return exp.RegexpReplace(
        this=s, expression=exp.Literal.string(p), replacement=exp.Literal.string(repl), single_replace=True
    )


@command("rex")
@dataclass(frozen=True)
class Rex(A.Command):
    field: str
    pattern: str
    max_match: int
    sed: bool

    @classmethod
    def parse(cls, p: CommandParser) -> Rex:
        opts = p.options(REX_OPTIONS)
        t = p.peek()
        if t.type != STRING:
            raise p.error("expected a quoted regular expression")
        p.next()
        opts.update(p.options(REX_OPTIONS))
        p.expect_end()
        if "offset_field" in opts:
            raise p.unsupported("offset_field", "match offsets are not computed")
        mode = opts.get("mode", "").lower()
        if mode and mode != "sed":
            raise p.error(f"unknown mode {opts['mode']!r}; only mode=sed exists")
        try:
            mm = int(opts.get("max_match", "1"))
        except ValueError:
            raise p.error(f"max_match must be a number, not {opts['max_match']!r}") from None
        if mode == "sed":
            try:
                cmd, parts = split_sed(t.value)
            except ValueError as e:
                raise p.error(f"bad sed expression: {e}", t) from None
            if cmd == "s":
                flags = parts[2]
                if flags not in ("", "g") and not flags.isdigit():
                    raise p.unsupported(f"sed flags {flags!r}", "only g or a number are known", t)
                if flags.isdigit() and flags != "1":
                    raise p.unsupported(f"sed flag {flags} (replace the Nth match)", "only g or 1", t)
            elif len(parts[0]) != len(parts[1]):
                raise p.error("y/// needs the same number of characters on both sides", t)
        else:
            names, _ = regex_groups(t.value)
            if not names:
                raise p.error(f"the regex {t.value!r} does not extract anything; name a group as (?<name>...)", t)
            if any(n.startswith(("_KEY_", "_VAL_")) for n in names):
                raise p.unsupported("_KEY_/_VAL_ groups", "fields named by the data are not supported", t)
        return cls(p.name, p.pos, opts.get("field", "_raw"), t.value, mm, mode == "sed")

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        stage = ctx.stage
        if not stage.has(self.field):
            return stage  # nothing to match: the fields stay as they are
        src = ctx.field(self.field)
        if self.sed:
            return self._sed(ctx, src)
        s = to_str(src)
        names, _ = regex_groups(self.pattern)
        new: list[tuple[str, Typed]] = []
        for name, grp in names.items():
            if self.max_match == 1:
                val = nonempty(extract_one(ctx, s, self.pattern, grp))
                new.append((name, keep_old(val, STR, ctx.field(name))))
            else:
                lst = list_nonempty(extract_all(ctx, s, self.pattern, grp), self.max_match or None)
                new.append((name, keep_old(lst, MV, ctx.field(name))))
        return ctx.compiler.with_columns(stage, new)

    def _sed(self, ctx: Ctx, src: Typed) -> Stage:
        cmd, parts = split_sed(self.pattern)

        def edit(s: exp.Expression) -> exp.Expression:
            if cmd == "y":
                return exp.Translate(this=s, from_=exp.Literal.string(parts[0]), to=exp.Literal.string(parts[1]))
            return sed_replace(ctx, s, parts[0], parts[1], parts[2] == "g")

        if src.kind == MV:
            x = exp.to_identifier("__sed")
            out = Typed(exp.Transform(this=src.sql, expression=exp.Lambda(this=edit(exp.Column(this=x)), expressions=[x])), MV)
        else:
            out = Typed(edit(to_str(src)), STR)
        return ctx.compiler.with_columns(ctx.stage, [(self.field, out)])

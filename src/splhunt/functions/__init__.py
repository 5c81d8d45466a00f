"""Eval functions: one table, `FUNCTIONS`, name -> builder.

A builder takes the compiled arguments (`Typed`) and the context and returns a
`Typed`. Modules in this package register builders with `@function(name, arity)`.
Functions splhunt knows but refuses are in `UNSUPPORTED`, with the reason.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from splhunt.compile.expr import Typed, compile_expr, to_str
from splhunt.compile.stage import BOOL, MV
from splhunt.errors import CompileError, SplUnsupportedError
from splhunt.spl import ast as A

if TYPE_CHECKING:
    from splhunt.compile.compiler import Ctx

Builder = Callable[[list[Typed], "Ctx", A.Call], Typed]


@dataclass(frozen=True)
class FunctionDef:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    build: Builder
    raw_args: bool = False  # builder gets uncompiled AST args (in `call.args`)
    doc: str = ""


FUNCTIONS: dict[str, FunctionDef] = {}
UNSUPPORTED: dict[str, str] = {}


def function(name: str, min_args: int, max_args: int | None = -1, *, raw: bool = False) -> Callable[[Builder], Builder]:
    """Register an eval function. `max_args=-1` means exactly `min_args`."""

    def deco(fn: Builder) -> Builder:
        FUNCTIONS[name] = FunctionDef(
            name, min_args, min_args if max_args == -1 else max_args, fn, raw, (fn.__doc__ or "").strip()
        )
        return fn

    return deco


def call_function(call: A.Call, ctx: Ctx) -> Typed:
    fdef = FUNCTIONS.get(call.name)
    if fdef is None:
        if call.name in UNSUPPORTED:
            raise SplUnsupportedError(f"eval function {call.name}()", UNSUPPORTED[call.name])
        raise SplUnsupportedError(f"eval function {call.name}()", "unknown function")
    if f"{call.name}()" in ctx.caps.refused:
        raise SplUnsupportedError(f"eval function {call.name}() on this engine", ctx.caps.refused[f"{call.name}()"])
    n = len(call.args)
    if n < fdef.min_args or (fdef.max_args is not None and n > fdef.max_args):
        want = (
            str(fdef.min_args)
            if fdef.max_args == fdef.min_args
            else f"{fdef.min_args} to {fdef.max_args if fdef.max_args is not None else 'any'}"
        )
        raise CompileError(f"{call.name}() takes {want} arguments, got {n}")
    args = [] if fdef.raw_args else [compile_expr(a, ctx) for a in call.args]
    return fdef.build(args, ctx, call)


def like_expr(a: Typed, b: Typed) -> Typed:
    """SQL LIKE as Splunk's like(): `%` any run, `_` one character, case-sensitive.

    A backslash is an ordinary character. The LIKE says so with an explicit ESCAPE
    (the backslash, doubled in the pattern): without one, Spark reads `\\` as its
    default escape and refuses patterns such as `HKLM\\System\\%`.
    """
    pattern = to_str(b)
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        pattern = exp.Literal.string(pattern.this.replace("\\", "\\\\"))
    else:
        pattern = exp.Replace(
            this=pattern, expression=exp.Literal.string("\\"), replacement=exp.Literal.string("\\\\")
        )

    def like(v: exp.Expression) -> exp.Expression:
        return exp.Escape(this=exp.Like(this=v, expression=pattern.copy()), expression=exp.Literal.string("\\"))

    if a.kind == MV:
        from splhunt.compile.expr import mv_any

        return Typed(mv_any(a.sql, like), BOOL)
    return Typed(like(to_str(a)), BOOL)


def _load_all() -> None:
    """Import every module of this package: each registers its functions."""
    import pkgutil

    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")


_load_all()

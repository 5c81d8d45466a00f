"""`eval f=expr [, f2=expr2 ...]`: compute fields. Later assignments see earlier ones."""

from __future__ import annotations

from dataclasses import dataclass

from splhunt.commands import command
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import compile_expr
from splhunt.compile.stage import BOOL, Stage
from splhunt.errors import CompileError
from splhunt.spl import ast as A
from splhunt.spl.lexer import EOF, NUMBER, OP, QNAME, STRING, WORD
from splhunt.spl.parser import CommandParser, EvalParser


@command("eval")
@dataclass(frozen=True)
class Eval(A.Command):
    assignments: tuple[tuple[str, A.Expr], ...]

    @classmethod
    def parse(cls, p: CommandParser) -> Eval:
        ep = EvalParser(p.text, p.start, p.end)
        out: list[tuple[str, A.Expr]] = []
        while True:
            t = ep.next()
            if t.type not in (WORD, QNAME, STRING):
                raise ep.error("eval: expected a field name", t)
            name, end = t.value, t.end
            # Splunk takes `set-mppreference=...` as one target name: glue adjacent `-` parts
            while t.type == WORD and ep.peek().type == OP and ep.peek().value == "-" and ep.peek().pos == end:
                dash = ep.next()
                part = ep.peek()
                if part.pos != dash.end or part.type not in (WORD, NUMBER):
                    raise ep.error("eval: bad field name", part)
                ep.next()
                name, end = f"{name}-{part.value}", part.end
            ep.expect("=")
            out.append((name, ep.parse_expr()))
            nxt = ep.next()
            if nxt.type == EOF:
                break
            if not (nxt.type == OP and nxt.value == ","):
                raise ep.error(f"eval: unexpected {nxt.value!r}", nxt)
        return cls("eval", p.pos, tuple(out))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        from splhunt.compile.expr import compile_expr as ce

        stage = ctx.stage
        for name, e in self.assignments:
            t = ce(e, Ctx(ctx.compiler, stage))
            if t.kind == BOOL:
                raise CompileError(f"eval {name}: a comparison cannot be assigned; use if()")
            stage = ctx.compiler.with_columns(stage, [(name, t)])
        return stage


__all__ = ["Eval", "compile_expr"]

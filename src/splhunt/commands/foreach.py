"""`foreach <field-pattern>... [fieldstr=S] [matchstr=S] [matchseg1=S] [ <subsearch> ]`.

Runs the bracketed subsearch once for each current field that matches the patterns,
with `<<FIELD>>` replaced by the field name, `<<MATCHSTR>>` by the part matched by the
pattern's `*` (and `<<MATCHSEG1>>`, ... for each `*`). The template is text, as in
Splunk, so the substituted subsearch is parsed and compiled per field. Only streaming
commands (eval, ...) are allowed inside. Internal fields (starting with `_`) are not
matched by `*`, as in Splunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from splhunt.commands import command
from splhunt.compile.compiler import Ctx
from splhunt.compile.stage import ORDER, Stage
from splhunt.errors import SplUnsupportedError
from splhunt.spl import ast as A
from splhunt.spl.lexer import SUBSEARCH
from splhunt.spl.parser import CommandParser, parse

_OPTS = {"fieldstr": "", "matchstr": "", "matchseg1": "", "matchseg2": "", "matchseg3": "", "mode": ""}


@command("foreach")
@dataclass(frozen=True)
class Foreach(A.Command):
    patterns: tuple[str, ...]
    template: str
    options: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, p: CommandParser) -> Foreach:
        patterns: list[str] = []
        opts: dict[str, str] = {}
        template = None
        while not p.at_end():
            t = p.peek()
            if t.type == SUBSEARCH:
                template = t.value
                p.next()
                break
            o = p.options(_OPTS)
            if o:
                opts.update(o)
                continue
            patterns.append(p.word("a field pattern"))
        p.expect_end()
        if template is None:
            raise p.error("needs a [subsearch] template")
        if not patterns:
            raise p.error("needs at least one field pattern")
        if opts.get("mode", "multifield") != "multifield":
            raise p.unsupported(f"mode={opts['mode']}", "only multifield mode is supported")
        # check the template parses with a sample substitution
        parse(_substitute(template, "x", ("x",), opts))
        return cls(p.name, p.pos, tuple(patterns), template, tuple(sorted(opts.items())))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        opts = dict(self.options)
        stage = ctx.stage
        targets: list[tuple[str, tuple[str, ...]]] = []
        for pat in self.patterns:
            rx = re.compile("".join("(.*)" if c == "*" else re.escape(c) for c in pat), re.S)
            for f in stage.names():
                if f == ORDER or (f.startswith("_") and not pat.startswith("_")):
                    continue
                m = rx.fullmatch(f)
                if m and f not in [t[0] for t in targets]:
                    targets.append((f, m.groups()))
        for f, segs in targets:
            text = _substitute(self.template, f, segs, opts)
            pipeline = parse(text)
            for cmd in pipeline.commands:
                if cmd.name not in ("eval", "where", "search", "fillnull", "rename", "convert"):
                    raise SplUnsupportedError(f"foreach with {cmd.name} inside", "only streaming commands")
            stage = ctx.compiler.compile_commands(pipeline.commands, stage)
        return stage


def _substitute(template: str, field: str, segs: tuple[str, ...], opts: dict[str, str]) -> str:
    out = template.replace(opts.get("fieldstr", "<<FIELD>>"), field)
    out = out.replace(opts.get("matchstr", "<<MATCHSTR>>"), "".join(segs))
    for i, seg in enumerate(segs, 1):
        out = out.replace(opts.get(f"matchseg{i}", f"<<MATCHSEG{i}>>"), seg)
    return out

"""SPL parser: pipelines, search expressions and eval expressions.

`parse(text)` splits the query on top-level pipes, names each command, and hands its
text to that command's own `parse` (registered in `splhunt.commands`). Commands read
their arguments through `CommandParser`, which offers the shared pieces: options,
field lists, search expressions and eval expressions.

Search expressions follow Splunk's precedence: NOT binds tightest, then OR, then AND
(explicit or implicit), so ``a b OR c`` is ``a AND (b OR c)``.
"""

from __future__ import annotations

from splhunt.errors import SplSyntaxError, SplUnsupportedError
from splhunt.spl import ast as A
from splhunt.spl.lexer import EOF, NUMBER, OP, QNAME, STRING, SUBSEARCH, WORD, Token, tokenize

# ---------------------------------------------------------------- pipeline splitting


def split_pipeline(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) spans of the commands of text[start:end], split on top-level `|`."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    seg = start
    i = start
    depth = 0
    while i < end:
        c = text[i]
        if c == "\\" and i + 1 < end and text[i + 1] == '"':
            i += 2  # escaped quote outside a string
            continue
        if c == '"':
            j = i + 1
            while j < end and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= end:
                raise SplSyntaxError("unterminated string", text, i)
            i = j + 1
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth < 0:
                raise SplSyntaxError("unbalanced ']'", text, i)
        elif c == "|" and depth == 0:
            spans.append((seg, i))
            seg = i + 1
        i += 1
    if depth > 0:
        raise SplSyntaxError("unbalanced '[': no matching ']'", text, text.rfind("[", start, end))
    spans.append((seg, end))
    return spans


def parse(text: str, start: int = 0, end: int | None = None, *, subsearch: bool = False) -> A.Pipeline:
    """Parse SPL (macros already expanded) into a Pipeline."""
    from splhunt.commands import COMMANDS

    end = len(text) if end is None else end
    spans = split_pipeline(text, start, end)
    commands: list[A.Command] = []
    for idx, (s, e) in enumerate(spans):
        # skip leading whitespace
        while s < e and text[s] in " \t\r\n":
            s += 1
        if s >= e:
            if idx == 0 and len(spans) > 1:
                continue  # query starting with "| tstats ..."
            raise SplSyntaxError("empty command: nothing between pipes", text, s)
        toks = tokenize(text, s, e)
        first = toks[0]
        name = first.value.lower() if first.type == WORD else ""
        if name in COMMANDS and not (idx == 0 and _looks_like_search_term(toks)):
            body = first.end
        elif idx == 0:
            name, body = "search", s  # the first command's `search` is implicit
        elif first.type == WORD:
            raise SplUnsupportedError(
                f"command '{first.value}'", "not an SPL command splhunt knows", text, first.pos
            )
        else:
            raise SplSyntaxError("expected a command name", text, first.pos)
        cls = COMMANDS[name]
        p = CommandParser(text, body, e, name, s)
        cmd = cls.parse(p)
        commands.append(cmd)
    if not commands:
        raise SplSyntaxError("empty search", text, start)
    return A.Pipeline(tuple(commands), text[start:end])


def _looks_like_search_term(toks: list[Token]) -> bool:
    """`search` is implicit in the first command: `index=x ...` must not be read as a command.

    A first word followed by `=` (like `index=main`) or a quoted string is a search term.
    """
    return len(toks) > 1 and toks[1].type == OP and toks[1].value in ("=", "!=", "<", ">", "<=", ">=")


# ---------------------------------------------------------------- command argument parsing


class CommandParser:
    """Cursor over one command's text, with the shared argument grammars."""

    def __init__(self, text: str, start: int, end: int, name: str, cmd_pos: int):
        self.text = text
        self.start = start
        self.end = end
        self.name = name
        self.pos = cmd_pos
        self.toks = tokenize(text, start, end)
        self.i = 0

    # token cursor --------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        j = min(self.i + k, len(self.toks) - 1)
        return self.toks[j]

    def next(self) -> Token:
        t = self.toks[self.i]
        if t.type != EOF:
            self.i += 1
        return t

    def at_end(self) -> bool:
        return self.peek().type == EOF

    def error(self, msg: str, tok: Token | None = None) -> SplSyntaxError:
        t = tok or self.peek()
        return SplSyntaxError(f"{self.name}: {msg}", self.text, t.pos)

    def unsupported(self, what: str, reason: str = "", tok: Token | None = None) -> SplUnsupportedError:
        t = tok or self.peek()
        return SplUnsupportedError(f"{self.name} {what}", reason, self.text, t.pos)

    def accept_op(self, op: str) -> bool:
        t = self.peek()
        if t.type == OP and t.value == op:
            self.i += 1
            return True
        return False

    def expect_op(self, op: str) -> Token:
        t = self.peek()
        if t.type == OP and t.value == op:
            return self.next()
        raise self.error(f"expected '{op}'")

    def accept_word(self, *words: str) -> bool:
        if self.peek().is_word(*words):
            self.i += 1
            return True
        return False

    def expect_end(self) -> None:
        if not self.at_end():
            raise self.error(f"unexpected {self.peek().value!r}")

    def word(self, what: str = "a field name") -> str:
        t = self.peek()
        if t.type in (WORD, STRING):
            self.i += 1
            return t.value
        raise self.error(f"expected {what}")

    def rest_pos(self) -> int:
        return self.peek().pos

    # shared grammars -----------------------------------------------------------------
    def options(self, allowed: dict[str, str] | None = None) -> dict[str, str]:
        """Leading `key=value` options. `allowed` maps accepted keys (lower) to a doc; others fail."""
        opts: dict[str, str] = {}
        while True:
            t, eq, v = self.peek(), self.peek(1), self.peek(2)
            if t.type == WORD and eq.type == OP and eq.value == "=" and v.type in (WORD, STRING):
                key = t.value.lower()
                if allowed is not None and key not in allowed:
                    # not an option: a field=value argument (e.g. search terms); stop here
                    if key.isidentifier() and self._option_like(key):
                        raise self.unsupported(f"option '{t.value}'", "not supported", t)
                    break
                opts[key] = v.value
                self.i += 3
                continue
            break
        return opts

    def _option_like(self, key: str) -> bool:
        return True

    def field_list(self, stop: tuple[str, ...] = (), allow_comma: bool = True) -> list[str]:
        """Field names (wildcards allowed) up to a stop word or the end."""
        out: list[str] = []
        while not self.at_end():
            t = self.peek()
            if t.type == OP and t.value == "," and allow_comma:
                self.i += 1
                continue
            if t.type == WORD and t.value.lower() in stop:
                break
            if t.type not in (WORD, STRING):
                break
            self.i += 1
            nxt = self.peek()
            if t.type == WORD and nxt.type == OP and nxt.value == "(" and nxt.pos == t.end:
                # a field named like an aggregation: `predicted(x)`, `count(user)`
                from splhunt.spl.lexer import matching_bracket

                close = matching_bracket(self.text, nxt.pos, "(", ")")
                out.append(self.text[t.pos : close + 1])
                self.seek(close + 1)
                continue
            out.append(t.value)
        return out

    def search_expr(self) -> A.SearchNode:
        """A search expression up to the end of the command."""
        sp = SearchParser(self.text, self.toks, self.i)
        node = sp.parse_all()
        self.i = sp.i
        return node

    def eval_expr(self, start: int | None = None, end: int | None = None) -> tuple[A.Expr, int]:
        """An eval expression from text offset `start` (default: current token)."""
        s = self.peek().pos if start is None else start
        e = self.end if end is None else end
        ep = EvalParser(self.text, s, e)
        expr = ep.parse_expr()
        return expr, ep.peek().pos

    def seek(self, offset: int) -> None:
        """Move the token cursor to the first token at or after text offset `offset`."""
        while self.peek().type != EOF and self.peek().pos < offset:
            self.i += 1


# ---------------------------------------------------------------- search expressions

_CMP = ("=", "!=", "<", ">", "<=", ">=", "==")


class SearchParser:
    """Recursive descent over search-mode tokens."""

    def __init__(self, text: str, toks: list[Token], i: int = 0):
        self.text = text
        self.toks = toks
        self.i = i

    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Token:
        t = self.toks[self.i]
        if t.type != EOF:
            self.i += 1
        return t

    def parse_all(self) -> A.SearchNode:
        node = self.parse_and()
        t = self.peek()
        if t.type != EOF:
            raise SplSyntaxError(f"search: unexpected {t.value!r}", self.text, t.pos)
        return node

    def _at_stop(self) -> bool:
        t = self.peek()
        return t.type == EOF or (t.type == OP and t.value == ")")

    def parse_and(self) -> A.SearchNode:
        items: list[A.SearchNode] = []
        while not self._at_stop():
            if self.peek().is_word("AND") and items:
                self.next()
                if self._at_stop():
                    raise SplSyntaxError("search: AND needs a term after it", self.text, self.peek().pos)
                continue
            items.append(self.parse_or())
        if not items:
            return A.SAll()
        return items[0] if len(items) == 1 else A.SAnd(tuple(items))

    def parse_or(self) -> A.SearchNode:
        items = [self.parse_not()]
        while self.peek().is_word("OR"):
            t = self.next()
            if self._at_stop():
                raise SplSyntaxError("search: OR needs a term after it", self.text, t.pos)
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else A.SOr(tuple(items))

    def parse_not(self) -> A.SearchNode:
        if self.peek().is_word("NOT"):
            t = self.next()
            if self._at_stop():
                raise SplSyntaxError("search: NOT needs a term after it", self.text, t.pos)
            return A.SNot(self.parse_not())
        return self.parse_primary()

    def parse_primary(self) -> A.SearchNode:
        t = self.peek()
        if t.type == OP and t.value == "(":
            self.next()
            node = self.parse_and()
            close = self.peek()
            if not (close.type == OP and close.value == ")"):
                raise SplSyntaxError("search: missing ')'", self.text, t.pos)
            self.next()
            return node
        if t.type == SUBSEARCH:
            self.next()
            inner = parse(self.text, t.pos + 1, t.end - 1, subsearch=True)
            return A.SSubsearch(inner, t.pos)
        if t.type in (WORD, STRING):
            nxt = self.peek(1)
            if nxt.type == OP and nxt.value in _CMP:
                self.next()
                op = self.next().value
                v = self.peek()
                if v.type not in (WORD, STRING):
                    # `field=` with nothing: Splunk treats as field="" (matches nothing useful)
                    if v.type == EOF or (v.type == OP and v.value == ")"):
                        raise SplSyntaxError(f"search: {t.value}{op} needs a value", self.text, nxt.pos)
                    raise SplSyntaxError(f"search: unexpected {v.value!r} after {op}", self.text, v.pos)
                self.next()
                return A.SCompare(t.value, "=" if op == "==" else op, v.value, v.type == STRING, t.pos)
            if nxt.is_word("IN") and self.peek(2).type == OP and self.peek(2).value == "(":
                self.next()
                self.next()
                self.next()
                values: list[str] = []
                while True:
                    v = self.next()
                    if v.type == OP and v.value == ")":
                        break
                    if v.type == OP and v.value == ",":
                        continue
                    if v.type in (WORD, STRING):
                        values.append(v.value)
                        continue
                    raise SplSyntaxError("search: unterminated IN list", self.text, v.pos)
                return A.SIn(t.value, tuple(values))
            self.next()
            if t.type == WORD and t.value == "*":
                return A.SAll()
            if t.type == WORD and t.value.upper() in ("TERM", "CASE") and self.peek().type == OP and self.peek().value == "(":
                raise SplUnsupportedError(f"search directive {t.value.upper()}()", "not supported yet", self.text, t.pos)
            return A.STerm(t.value, t.type == STRING, t.pos)
        raise SplSyntaxError(f"search: unexpected {t.value!r}", self.text, t.pos)


# ---------------------------------------------------------------- eval expressions

_PRECEDENCE: list[tuple[str, ...]] = [
    ("OR",),
    ("XOR",),
    ("AND",),
    # NOT handled as unary between AND and comparisons
    ("=", "==", "!=", "LIKE"),
    ("<", "<=", ">", ">="),
    ("+", "-", "."),
    ("*", "/", "%"),
]


class EvalParser:
    """Precedence-climbing parser for eval/where expressions over eval-mode tokens."""

    def __init__(self, text: str, start: int, end: int):
        self.text = text
        self.toks = tokenize(text, start, end, mode="eval")
        self.i = 0

    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Token:
        t = self.toks[self.i]
        if t.type != EOF:
            self.i += 1
        return t

    def error(self, msg: str, tok: Token | None = None) -> SplSyntaxError:
        return SplSyntaxError(msg, self.text, (tok or self.peek()).pos)

    def expect(self, op: str) -> Token:
        t = self.peek()
        if t.type == OP and t.value == op:
            return self.next()
        raise self.error(f"expected '{op}'" + (f" but found {t.value!r}" if t.value else ""))

    def parse_expr(self) -> A.Expr:
        return self._binary(0)

    def _op_at(self, level: int) -> str | None:
        t = self.peek()
        ops = _PRECEDENCE[level]
        if t.type == OP and t.value in ops:
            return t.value
        if t.type == WORD and t.value.upper() in ops:
            return t.value.upper()
        return None

    def _binary(self, level: int) -> A.Expr:
        if level == 3:
            # NOT sits between AND and comparisons
            if self.peek().is_word("NOT"):
                self.next()
                return A.UnOp("NOT", self._binary(3))
        if level >= len(_PRECEDENCE):
            return self._unary()
        left = self._binary(level + 1)
        while True:
            op = self._op_at(level)
            if op is None:
                # `x IN (...)` at comparison level
                if level == 3 and self.peek().is_word("IN") and self.peek(1).type == OP and self.peek(1).value == "(":
                    self.next()
                    self.next()
                    vals = self._args_until_close()
                    left = A.InList(left, tuple(vals))
                    continue
                if level == 3 and self.peek().is_word("NOT") and self.peek(1).is_word("IN"):
                    self.next()
                    self.next()
                    self.expect("(")
                    vals = self._args_until_close()
                    left = A.UnOp("NOT", A.InList(left, tuple(vals)))
                    continue
                return left
            self.next()
            right = self._binary(level + 1) if level != 3 else self._binary(4)
            if op == "==":
                op = "="
            left = A.BinOp(op, left, right)

    def _args_until_close(self) -> list[A.Expr]:
        args: list[A.Expr] = []
        if self.peek().type == OP and self.peek().value == ")":
            self.next()
            return args
        while True:
            args.append(self.parse_expr())
            t = self.next()
            if t.type == OP and t.value == ")":
                return args
            if not (t.type == OP and t.value == ","):
                raise self.error("expected ',' or ')'", t)

    def _unary(self) -> A.Expr:
        t = self.peek()
        if t.type == OP and t.value == "-":
            self.next()
            inner = self._unary()
            if isinstance(inner, A.Lit) and isinstance(inner.value, int | float) and not isinstance(inner.value, bool):
                return A.Lit(-inner.value)
            return A.UnOp("-", inner)
        if t.type == OP and t.value == "+":
            self.next()
            return self._unary()
        if t.is_word("NOT"):
            self.next()
            return A.UnOp("NOT", self._unary())
        return self._primary()

    def _primary(self) -> A.Expr:
        t = self.next()
        if t.type == NUMBER:
            v = t.value
            try:
                return A.Lit(int(v)) if v.isdigit() else A.Lit(float(v))
            except ValueError as e:
                raise self.error(f"bad number {v!r}", t) from e
        if t.type == STRING:
            return A.Lit(t.value)
        if t.type == QNAME:
            return A.Field(t.value)
        if t.type == OP and t.value == "(":
            e = self.parse_expr()
            self.expect(")")
            return e
        if t.type == WORD:
            nxt = self.peek()
            if nxt.type == OP and nxt.value == "(" and nxt.pos == t.end or (
                nxt.type == OP and nxt.value == "(" and t.value.isidentifier()
            ):
                self.next()
                args = self._args_until_close()
                return A.Call(t.value.lower(), tuple(args), t.pos)
            up = t.value.upper()
            if up in ("TRUE", "FALSE") and False:
                return A.Lit(up == "TRUE")
            return A.Field(t.value)
        if t.type == SUBSEARCH:
            raise SplUnsupportedError("subsearch inside eval", "", self.text, t.pos)
        if t.type == EOF:
            raise self.error("expression ended early", t)
        raise self.error(f"unexpected {t.value!r}", t)


def parse_eval(text: str) -> A.Expr:
    """Parse a standalone eval expression (used by knowledge rules and tests)."""
    p = EvalParser(text, 0, len(text))
    e = p.parse_expr()
    if p.peek().type != EOF:
        raise p.error(f"unexpected {p.peek().value!r}")
    return e


def parse_search_expr(text: str) -> A.SearchNode:
    """Parse a standalone search expression (eventtype and datamodel constraints)."""
    toks = tokenize(text, 0, len(text))
    return SearchParser(text, toks).parse_all()

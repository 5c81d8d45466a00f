"""SPL lexer.

SPL has two token grammars. In `search` (and in the argument lists of most commands)
a word runs until whitespace or one of ``( ) = ! < > , [ ] | "``, so ``*\\Temp\\*`` or
``Processes.process_name`` is one word. In `eval`/`where` expressions operators split
words (``a-b`` is a subtraction, ``a.b`` a concatenation) and single quotes name a field. `tokenize` takes the
mode. Positions are offsets into the full query text, so errors can point at them.

Double-quoted strings follow Splunk: ``\\"`` is a quote and ``\\\\`` a backslash; any
other backslash is kept as written (``"C:\\Windows"`` stays ``C:\\Windows``).
"""

from __future__ import annotations

from dataclasses import dataclass

from splhunt.errors import SplSyntaxError

WORD = "WORD"
STRING = "STRING"  # "double quoted"
QNAME = "QNAME"  # 'single quoted' (a field name in eval)
NUMBER = "NUMBER"
OP = "OP"
SUBSEARCH = "SUBSEARCH"  # [ ... ] raw text
EOF = "EOF"

_SEARCH_STOP = set(' \t\r\n()=!<>,[]|"')
_EVAL_OPS = ("==", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", ".", ",", "(", ")")


@dataclass(frozen=True)
class Token:
    type: str
    value: str
    pos: int  # offset of the token's first character in the full text
    end: int
    quoted: bool = False

    def is_word(self, *words: str) -> bool:
        """True if this is an unquoted word equal (case-insensitively) to one of `words`."""
        return self.type == WORD and self.value.upper() in {w.upper() for w in words}


def unescape_string(body: str) -> str:
    """Splunk double-quoted string body: ``\\"`` -> ``"``, ``\\\\`` -> ``\\``, rest kept."""
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and body[i + 1] in '"\\':
            out.append(body[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _read_quoted(text: str, i: int, quote: str) -> int:
    """Return the index just past the closing quote of the string starting at text[i]."""
    j = i + 1
    n = len(text)
    while j < n:
        c = text[j]
        if c == "\\" and j + 1 < n:
            j += 2
            continue
        if c == quote:
            return j + 1
        j += 1
    raise SplSyntaxError(f"unterminated {quote}-quoted string", text, i)


def matching_bracket(text: str, i: int, open_: str = "[", close: str = "]") -> int:
    """Index of the bracket closing the one at text[i], skipping quoted strings."""
    depth = 0
    j = i
    n = len(text)
    while j < n:
        c = text[j]
        if c == '"':
            j = _read_quoted(text, j, '"')
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return j
        j += 1
    raise SplSyntaxError(f"unbalanced '{open_}': no matching '{close}'", text, i)


def tokenize(text: str, start: int = 0, end: int | None = None, mode: str = "search") -> list[Token]:
    """Tokenize text[start:end] in `search` or `eval` mode; always ends with an EOF token."""
    end = len(text) if end is None else end
    toks: list[Token] = []
    i = start
    while i < end:
        c = text[i]
        if c in " \t\r\n":
            i += 1
            continue
        if c == '"':
            j = _read_quoted(text, i, '"')
            if j > end:
                raise SplSyntaxError("unterminated string", text, i)
            value = unescape_string(text[i + 1 : j - 1])
            if mode == "search" and j < end and text[j] not in _SEARCH_STOP and not text[j].isalnum():
                # "Web".* : a quoted part glued to a bare word is one word
                k = j
                while k < end and text[k] not in _SEARCH_STOP:
                    k += 1
                toks.append(Token(WORD, value + text[j:k], i, k))
                i = k
                continue
            toks.append(Token(STRING, value, i, j, True))
            i = j
            continue
        if c == "[":
            j = matching_bracket(text, i)
            toks.append(Token(SUBSEARCH, text[i + 1 : j], i, j + 1))
            i = j + 1
            continue
        if mode == "eval":
            if c == "'":
                j = _read_quoted(text, i, "'")
                toks.append(Token(QNAME, text[i + 1 : j - 1].replace("\\'", "'"), i, j, True))
                i = j
                continue
            if c.isdigit() or (c == "." and i + 1 < end and text[i + 1].isdigit()):
                j = i
                while j < end and (text[j].isdigit() or text[j] == "."):
                    j += 1
                if j < end and text[j] in "eE" and j + 1 < end and (
                    text[j + 1].isdigit() or (text[j + 1] in "+-" and j + 2 < end and text[j + 2].isdigit())
                ):
                    j += 2
                    while j < end and text[j].isdigit():
                        j += 1
                if j < end and (text[j].isalpha() or text[j] == "_"):
                    # 7zip, 0x1f: a word that starts with a digit
                    while j < end and (text[j].isalnum() or text[j] in "_."):
                        j += 1
                    toks.append(Token(WORD, text[i:j], i, j))
                else:
                    toks.append(Token(NUMBER, text[i:j], i, j))
                i = j
                continue
            for op in _EVAL_OPS:
                if text.startswith(op, i):
                    toks.append(Token(OP, op, i, i + len(op)))
                    i += len(op)
                    break
            else:
                j = i
                while j < end:
                    ch = text[j]
                    if ch.isalnum() or ch in "_@$:{}&#~^?":
                        j += 1
                    else:
                        # `.` is eval's concatenation operator: `a.b` is a . b, and a dotted
                        # field name must be quoted ('Processes.process_name'), as Splunk's
                        # eval documents (ESCU's RTLO detections rely on it).
                        break
                if j == i:
                    raise SplSyntaxError(f"unexpected character {c!r}", text, i)
                toks.append(Token(WORD, text[i:j], i, j))
                i = j
            continue
        # search mode
        two = text[i : i + 2]
        if two in ("!=", "<=", ">=", "=="):
            toks.append(Token(OP, two, i, i + 2))
            i += 2
            continue
        if c in "()=<>,|":
            toks.append(Token(OP, c, i, i + 1))
            i += 1
            continue
        if c == "]":
            raise SplSyntaxError("unbalanced ']'", text, i)
        j = i
        escaped = False
        while j < end:
            ch = text[j]
            if ch == "\\" and j + 1 < end and text[j + 1] == '"':
                j += 2  # an escaped quote inside a bare word: *\"privileged\":true*
                escaped = True
                continue
            if ch == '"' and j > i:
                # a quoted part inside a word, as in foo"bar baz": keep it in the word
                j = _read_quoted(text, j, '"')
                continue
            if ch in _SEARCH_STOP and not (ch == "!" and text[j : j + 2] != "!="):
                break
            j += 1
        word = text[i:j].replace('\\"', '"') if escaped else text[i:j]
        toks.append(Token(WORD, word, i, j))
        i = j
    stop = end
    while stop > start and text[stop - 1] in " \t\r\n":
        stop -= 1
    toks.append(Token(EOF, "", stop, stop))
    return toks

"""SPL commands: one module per command, each with its AST node, parser and compiler.

A command class is registered with `@command("name", ...)` and provides
`parse(p: CommandParser) -> Self` and `compile(ctx: Ctx, first: bool) -> Stage`.
`COMMANDS` maps every name (and alias) to its class. Commands splhunt knows but
refuses are listed in `REFUSED` with the reason.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

COMMANDS: dict[str, Any] = {}

#: Known SPL commands that splhunt refuses, with the reason shown to the user.
REFUSED: dict[str, str] = {}


def command(*names: str) -> Callable[[type], type]:
    """Register a command class under one or more SPL names."""

    def deco(cls: type) -> type:
        for n in names:
            COMMANDS[n] = cls
        return cls

    return deco


def _load_all() -> None:
    """Import every module of this package: each registers its commands."""
    import pkgutil

    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")


_load_all()

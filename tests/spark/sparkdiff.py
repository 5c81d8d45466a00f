"""Running one SPL on both engines and comparing what comes back."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from splhunt.errors import SplhuntError, SplUnsupportedError


def norm_value(v: Any) -> Any:
    """A cell comparable across engines: numbers by value (floats to 12 significant
    digits: the engines sum in different orders), lists element by element."""
    if isinstance(v, list):
        return [norm_value(x) for x in v]
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int | float | Decimal):
        f = float(v)
        if math.isnan(f) or math.isinf(f):
            return str(f)
        return float(f"{f:.12g}")
    return str(v)


def norm_rows(rows: list[dict[str, Any]], ordered: bool = False) -> list[Any]:
    items = [sorted((k, norm_value(v)) for k, v in r.items()) for r in rows]
    return items if ordered else sorted(items, key=repr)


def outcome(session: Any, spl: str) -> tuple[str, Any]:
    """("rows", (columns, rows)), ("refused", message), ("error", message) or
    ("crash", message) for an exception splhunt did not mean to raise."""
    try:
        res = session.search(spl)
    except SplUnsupportedError as e:
        return "refused", str(e)
    except SplhuntError as e:
        return "error", str(e)
    except Exception as e:  # noqa: BLE001 - reported by the caller
        return "crash", f"{type(e).__name__}: {e}"
    return "rows", (res.columns, res.rows)

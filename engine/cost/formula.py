"""Batch autoscale formulas: the node counts a formula can reach, read where the formula states them."""

from __future__ import annotations

import re


def _split_top(text: str, sep: str) -> list[str]:
    """Split on `sep` outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return False
    return depth == 0


def _call(expr: str) -> tuple[str, list[str]] | None:
    """`min(a, b)` -> ('min', ['a', 'b']); None when the expression is not one such call."""
    match = re.match(r"^(min|max)\s*\((.*)\)$", expr, re.IGNORECASE | re.DOTALL)
    if not match or not _balanced(match.group(2)):
        return None
    return match.group(1).lower(), _split_top(match.group(2), ",")


def _strip_parens(expr: str) -> str:
    expr = expr.strip()
    while expr.startswith("(") and expr.endswith(")") and _balanced(expr[1:-1]):
        expr = expr[1:-1].strip()
    return expr


def _bound(expr: str, upper: bool, assignments: dict[str, str], depth: int = 0) -> float | None:
    """The upper (or lower) bound of an autoscale expression, following `assignments`; None if it has none."""
    expr = _strip_parens(expr)
    if depth > 20:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", expr):
        return float(expr)
    if expr.lower() in assignments:
        return _bound(assignments[expr.lower()], upper, assignments, depth + 1)
    call = _call(expr)
    if call:
        name, args = call
        values = [_bound(a, upper, assignments, depth + 1) for a in args]
        known = [v for v in values if v is not None]
        if name == "min" and upper and known:
            return min(known)  # min(...) is at most any bounded argument
        if name == "max" and not upper and known:
            return max(known)  # max(...) is at least any bounded argument
        if known and len(known) == len(values):
            return min(known) if name == "min" else max(known)
        return None
    ternary = re.match(r"^([^?]*)\?(.*)$", expr, re.DOTALL)
    if ternary:
        branches = _split_top(ternary.group(2), ":")
        if len(branches) == 2:
            values = [_bound(b, upper, assignments, depth + 1) for b in branches]
            if all(v is not None for v in values):
                return max(v for v in values if v is not None) if upper else min(v for v in values if v is not None)
    return None


def autoscale_bounds(formula: str) -> dict[str, tuple[float, float | None, list[str]]]:
    """For each node-count target a Batch autoscale formula assigns: (nodes with no tasks, max nodes or None, notes).

    The max is read where the formula states it: a constant, `min(..., N)`, or a variable holding a constant
    (`$maxNodes = 4; ... $TargetDedicatedNodes = min($maxNodes, $pending)`). With no such bound it is None
    (unbounded). The idle count is `max(N, ...)`'s floor when present, else assumed 0 (no tasks, no nodes).
    """
    text = re.sub(r"//[^\n]*", "", formula)
    assignments: dict[str, str] = {}
    for statement in _split_top(text, ";"):
        match = re.match(r"^\s*(\$?\w+)\s*=(?!=)(.*)$", statement, re.DOTALL)
        if match:
            assignments[match.group(1).lower()] = match.group(2).strip()

    out: dict[str, tuple[float, float | None, list[str]]] = {}
    for target in ("$targetdedicatednodes", "$targetlowprioritynodes"):
        if target not in assignments:
            continue
        notes: list[str] = []
        high = _bound(assignments[target], True, assignments)
        if high is None:
            notes.append("the autoscale formula states no maximum: unbounded")
        low = _bound(assignments[target], False, assignments)
        if low is None:
            low = 0.0
            notes.append("assumes the autoscale formula gives 0 nodes when no tasks are pending")
        out[target] = (low, high, notes)
    return out

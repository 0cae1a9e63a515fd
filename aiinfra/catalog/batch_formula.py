"""Reading a Batch autoscale formula without running it: the node counts each target can reach.

The one reader of formulas, for the policy pack (is a pool Spot-only, how far can it grow), the cost estimate (idle
nodes and the maximum, per priority) and the component's tests (the formula BatchGpuPool writes must read back as its
settings). components/batch_autoscale.py writes formulas; nothing else parses them.

What the reader understands, from Microsoft Learn "Create a formula to automatically scale compute nodes in a Batch
pool": statements separated by `;` (the last one may omit it), `//` comments and line breaks, user variables with or
without `$` (names are case-insensitive), and the two targets `$TargetDedicatedNodes` and `$TargetLowPriorityNodes`
(low-priority nodes are Spot nodes in Batch-managed accounts). A target's maximum is read where the formula states it:
a constant, `min(..., N)`, a variable holding one (`$maxNodes = 4; $TargetDedicatedNodes = min($maxNodes, $x)`),
`max(...)` of bounded values, a ternary whose branches are bounded, or parentheses around any of these. Its idle count
(nodes with no tasks) is the floor of `max(N, ...)` when there is one, else assumed 0. Anything else (arithmetic on
samples, `avg`, ...) has no bound the text states: the maximum is then None (unbounded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEDICATED_TARGET = "$TargetDedicatedNodes"
LOW_PRIORITY_TARGET = "$TargetLowPriorityNodes"

_NO_MAXIMUM = "the autoscale formula states no maximum: unbounded"
_IDLE_ASSUMED = "assumes the autoscale formula gives 0 nodes when no tasks are pending"
_MAX_DEPTH = 20  # variables followed / calls nested before a bound is given up


@dataclass(frozen=True)
class TargetBounds:
    """What one target (`$TargetDedicatedNodes` or `$TargetLowPriorityNodes`) can be."""

    idle: float
    """Nodes it asks for with no tasks: the floor the formula states, else 0 (then `notes` says so)."""
    max: float | None
    """The most nodes it can ask for; None when the formula states no bound (unbounded)."""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormulaBounds:
    """The targets a formula assigns; an unassigned target is None."""

    dedicated: TargetBounds | None
    low_priority: TargetBounds | None


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


def _ternary_branches(expr: str) -> tuple[str, str] | None:
    """The two branches of `cond ? a : b` outside parentheses; None when the expression is not a ternary. Ternaries
    group to the right (`c1 ? 6 : c2 ? 2 : 0` is `c1 ? 6 : (c2 ? 2 : 0)`), so the ':' that closes the first '?' is
    the first one at depth 0 with no other '?' still open (a ternary nested in the first branch has its own ':')."""
    depth, opened, question = 0, 0, -1
    for i, ch in enumerate(expr):
        depth += (ch == "(") - (ch == ")")
        if depth != 0 or ch not in "?:":
            continue
        if ch == "?":
            question = i if question < 0 else question
            opened += 1
        elif question >= 0:
            opened -= 1
            if opened == 0:
                return expr[question + 1 : i].strip(), expr[i + 1 :].strip()
    return None


def _strip_parens(expr: str) -> str:
    expr = expr.strip()
    while expr.startswith("(") and expr.endswith(")") and _balanced(expr[1:-1]):
        expr = expr[1:-1].strip()
    return expr


def _bound(expr: str, upper: bool, assignments: dict[str, str], depth: int = 0) -> float | None:
    """The upper (or lower) bound of an autoscale expression, following `assignments`; None if it has none."""
    expr = _strip_parens(expr)
    if depth > _MAX_DEPTH:
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
    branches = _ternary_branches(expr)
    if branches:
        values = [_bound(b, upper, assignments, depth + 1) for b in branches]
        known = [v for v in values if v is not None]
        if len(known) == 2:
            return max(known) if upper else min(known)
    return None


def _assignments(formula: str) -> dict[str, str]:
    """Variable (lower-cased) -> the expression last assigned to it; comments removed."""
    text = re.sub(r"//[^\n]*", "", formula)
    assignments: dict[str, str] = {}
    for statement in _split_top(text, ";"):
        match = re.match(r"^\s*(\$?\w+)\s*=(?!=)(.*)$", statement, re.DOTALL)
        if match:
            assignments[match.group(1).lower()] = match.group(2).strip()
    return assignments


def _target(assignments: dict[str, str], target: str) -> TargetBounds | None:
    expression = assignments.get(target.lower())
    if expression is None:
        return None
    notes: list[str] = []
    high = _bound(expression, True, assignments)
    if high is None:
        notes.append(_NO_MAXIMUM)
    low = _bound(expression, False, assignments)
    if low is None:
        low = 0.0
        notes.append(_IDLE_ASSUMED)
    return TargetBounds(low, high, tuple(notes))


def formula_bounds(formula: str) -> FormulaBounds:
    """The bounds of each node-count target the formula assigns (see the module doc for what is understood)."""
    assignments = _assignments(formula)
    return FormulaBounds(
        dedicated=_target(assignments, DEDICATED_TARGET),
        low_priority=_target(assignments, LOW_PRIORITY_TARGET),
    )

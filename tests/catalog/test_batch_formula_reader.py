"""The one reader of Batch autoscale formulas (aiinfra.catalog.batch_formula): what each target can reach."""

from __future__ import annotations

import pytest

from aiinfra.catalog.batch_formula import FormulaBounds, TargetBounds, formula_bounds
from aiinfra.catalog.pools import BATCH_POOL, REGULAR, SPOT, pools
from aiinfra.components.batch_autoscale import AutoscaleSettings, autoscale_formula

NO_MAX = "the autoscale formula states no maximum: unbounded"
IDLE_ASSUMED = "assumes the autoscale formula gives 0 nodes when no tasks are pending"


def ranges(formula: str) -> tuple[tuple[float, float | None] | None, tuple[float, float | None] | None]:
    """((idle, max) of $TargetDedicatedNodes, (idle, max) of $TargetLowPriorityNodes); None when not assigned."""
    bounds = formula_bounds(formula)
    return tuple(None if t is None else (t.idle, t.max) for t in (bounds.dedicated, bounds.low_priority))  # type: ignore[return-value]


@pytest.mark.parametrize(
    "formula, dedicated, low_priority",
    [
        ("$TargetLowPriorityNodes = min(4, $x); $TargetDedicatedNodes = 0;", (0, 0), (0, 4)),
        ("$TargetDedicatedNodes = min(2, $x);", (0, 2), None),
        ("$TargetLowPriorityNodes = $x * 2;", None, (0, None)),
        ("$TargetDedicatedNodes = 3;", (3, 3), None),
        ("$NodeDeallocationOption = taskcompletion;", None, None),
        ("", None, None),
        # variables holding constants, and max(...) inside min(...)
        (
            "$maxNodes = 6; $lowMax = 4; $dedMax = 2;\n$TargetLowPriorityNodes = min($lowMax, max(0, $want));\n"
            "$TargetDedicatedNodes = min($dedMax, $want);",
            (0, 2),
            (0, 4),
        ),
        (
            "$dedMax = 0; $TargetLowPriorityNodes = min(3, $w); $TargetDedicatedNodes = min($dedMax, $w);",
            (0, 0),
            (0, 3),
        ),
        # a comment is not a statement, even with a `;` in it
        ("// $TargetDedicatedNodes = 9;\n$TargetLowPriorityNodes = min(2, $x);", None, (0, 2)),
        ("$TargetDedicatedNodes = min(3, $x); // later; $TargetDedicatedNodes = 9;", (0, 3), None),
        # commas inside a sample call do not split min()'s arguments
        (
            "$TargetDedicatedNodes = min($PendingTasks.GetSample(180 * TimeInterval_Second, 70 * TimeInterval_Second),"
            " 4)",
            (0, 4),
            None,
        ),
        # max(N, ...) is a floor: nodes kept with no task
        ("// keep one warm\n$TargetLowPriorityNodes = max(1, min(8, $PendingTasks.GetSample(1)));", None, (1, 8)),
        ("$TargetDedicatedNodes = max(2, $PendingTasks.GetSample(1));", (2, None), None),
        # a ternary is bounded by its branches; a variable may lack the `$`; the last statement may lack its `;`
        (
            "cap = 6; $TargetDedicatedNodes = $busy > 0 ? cap : 0; $NodeDeallocationOption = taskcompletion",
            (0, 6),
            None,
        ),
        ("$x = $p == 0 ? 1 : 2; $TargetLowPriorityNodes = min(2, $x);", None, (1, 2)),
        # ternaries group to the right, with or without parentheses, in either branch
        ("$TargetDedicatedNodes = $a > 5 ? 6 : $a > 0 ? 2 : 0;", (0, 6), None),
        ("$TargetDedicatedNodes = $a > 5 ? $b > 0 ? 8 : 3 : 1;", (1, 8), None),
        ("$TargetDedicatedNodes = ($a ? 1 : 2) > 1 ? 4 : 3;", (3, 4), None),
        # case-insensitive names and functions, redundant parentheses, the last assignment wins
        ("$TARGETDEDICATEDNODES = (MIN(5, $x));", (0, 5), None),
        ("$TargetDedicatedNodes = 5; $TargetDedicatedNodes = min(2, $x);", (0, 2), None),
        # arithmetic on bounds is not followed: no bound stated
        ("$TargetDedicatedNodes = min(2, $x) + 1;", (0, None), None),
    ],
)
def test_target_ranges(formula: str, dedicated: object, low_priority: object) -> None:
    assert ranges(formula) == (dedicated, low_priority)


def test_notes_say_what_was_assumed() -> None:
    assert formula_bounds("$TargetLowPriorityNodes = $PendingTasks.GetSample(1);") == FormulaBounds(
        dedicated=None, low_priority=TargetBounds(0.0, None, (NO_MAX, IDLE_ASSUMED))
    )
    assert formula_bounds("$TargetDedicatedNodes = 2;").dedicated == TargetBounds(2.0, 2.0, ())


def test_a_variable_cycle_gives_no_bound_instead_of_recursing_forever() -> None:
    assert ranges("$a = $b; $b = $a; $TargetDedicatedNodes = $a;") == ((0, None), None)


@pytest.mark.parametrize("share", [1.0, 0.0, 0.5, 0.75])
@pytest.mark.parametrize("max_nodes, slots", [(4, 1), (4, 2), (8, 1), (3, 4)])
def test_the_formula_batch_gpu_pool_writes_reads_back_as_its_settings(share: float, max_nodes: int, slots: int) -> None:
    """The writer (components/batch_autoscale.py) and the reader agree: the ceilings are exactly the settings, the pool
    is Spot-only exactly when no node is dedicated, and an empty queue means no node."""
    settings = AutoscaleSettings(max_nodes=max_nodes, low_priority_share=share)
    formula = autoscale_formula(settings, task_slots_per_node=slots)
    assert ranges(formula) == ((0, settings.dedicated_max), (0, settings.low_priority_max))
    (pool,) = pools(
        BATCH_POOL, "p", {"vmSize": "Standard_NC4as_T4_v3", "scaleSettings": {"autoScale": {"formula": formula}}}
    )
    assert pool.max_nodes == max_nodes and pool.min_nodes == 0 and pool.autoscale
    assert pool.spot == (settings.dedicated_max == 0)  # share 1, or a share that rounds up to every node
    assert [(n.capacity, n.max) for n in pool.nodes] == [
        (kind, float(n)) for kind, n in ((REGULAR, settings.dedicated_max), (SPOT, settings.low_priority_max)) if n
    ]

"""The Batch pool autoscale formula, generated from typed settings (pure logic, no Pulumi).

The pool follows its queue: `$PendingTasks` (queued + running tasks) decides how many nodes are wanted, an empty
queue means **zero** nodes, the count never exceeds `max_nodes`, and the wanted nodes are split between low-priority
and dedicated capacity by `low_priority_share` (1 = all low-priority). `$NodeDeallocationOption` is `taskcompletion`,
so scaling in never kills a running task.

Low-priority nodes of a Batch-managed account are Spot VMs (Azure/Batch#196: low-priority was retired and is served
as Spot), so they can be preempted. When the pool also has dedicated capacity (`low_priority_share` < 1), the
formula replaces preempted low-priority nodes with dedicated ones (`$PreemptedNodeCount`, Microsoft Learn "Use Spot
VMs with Batch workloads"; read with `GetSample` like the other sample metrics, as Learn's preempted-nodes example
does), up to the dedicated maximum: a small queue still drains while Spot capacity is gone.
Preempted nodes are not billed, so the running nodes stay within `max_nodes`.

The formula uses only the variables, operators and functions the Batch autoscale reference documents (samples,
`GetSamplePercent`, `avg`, `max`, `min`, comparisons, `+`, the ternary operator). Targets must be whole node counts, so
"nodes for N tasks at S slots per node" (a ceiling) is written as a sum of comparisons, each 1 or 0 — exact, and
capped at `max_nodes` by construction. Source: Microsoft Learn, "Create a formula to automatically scale compute nodes
in a Batch pool" (evaluation interval 5 minutes to 168 hours; formula at most 8 KB and 100 statements).

This module writes formulas; aiinfra.catalog.batch_formula is the one reader of them (policy pack, cost estimate).
"""

from __future__ import annotations

from fractions import Fraction
from math import ceil

from pydantic import Field, model_validator

from ._base import ArgsModel

MIN_EVALUATION_MINUTES = 5
MAX_EVALUATION_MINUTES = 168 * 60
MAX_FORMULA_BYTES = 8 * 1024
MAX_STATEMENTS = 100
MAX_TASK_SLOTS_PER_NODE = 256

HEADER = "// aiinfra BatchGpuPool autoscale, generated from typed settings: change the settings, not this text."


class AutoscaleSettings(ArgsModel):
    """How a Batch GPU pool follows its task queue."""

    max_nodes: int = Field(default=2, ge=1, le=100)
    """Most nodes the pool may have (low-priority and dedicated together); the cost ceiling of the pool."""
    low_priority_share: float = Field(default=1.0, ge=0.0, le=1.0)
    """Share of the wanted nodes requested as low-priority (Spot in Batch-managed accounts: evictable, much
    cheaper): 1 = all low-priority, 0 = all dedicated; in between, the low-priority count is rounded up (low-priority
    preferred) and preempted low-priority nodes are replaced by dedicated ones up to the dedicated share."""
    sample_window_minutes: int = Field(default=10, ge=2, le=180)
    """Look-back window of `$PendingTasks` samples (one every 30 s) whose average keeps nodes while a burst drains."""
    min_sample_percent: int = Field(default=70, ge=1, le=100)
    """Use the window's average only when at least this percentage of its samples is available; otherwise the
    latest sample alone decides."""
    evaluation_interval_minutes: int = Field(
        default=MIN_EVALUATION_MINUTES, ge=MIN_EVALUATION_MINUTES, le=MAX_EVALUATION_MINUTES
    )
    """How often Batch evaluates the formula; Azure accepts 5 minutes to 168 hours. An idle node is released at the
    next evaluation after the queue empties, so this is also the longest an idle GPU node is paid for."""

    @model_validator(mode="after")
    def _share_is_exact(self) -> AutoscaleSettings:
        # The share becomes an exact fraction; reject float noise such as 0.3333333333 that would make odd rounding.
        if Fraction(str(self.low_priority_share)).denominator > 1000:
            raise ValueError(f"lowPriorityShare {self.low_priority_share} has more than 3 decimals; use e.g. 0.75")
        return self

    @property
    def evaluation_interval(self) -> str:
        """ISO 8601 duration for `scaleSettings.autoScale.evaluationInterval`."""
        return f"PT{self.evaluation_interval_minutes}M"

    @property
    def low_priority_max(self) -> int:
        """Most low-priority nodes: the share of `max_nodes`, rounded up."""
        return low_priority_nodes(self.max_nodes, self.low_priority_share)

    @property
    def dedicated_max(self) -> int:
        return self.max_nodes - self.low_priority_max


def low_priority_nodes(wanted: int, share: float) -> int:
    """Low-priority nodes out of `wanted`: `ceil(wanted * share)`, computed exactly (no float rounding)."""
    return ceil(wanted * Fraction(str(share)))


def _count_above(variable: str, thresholds: list[int], operator: str) -> str:
    """`(v > t1) + (v > t2) + ...`: how many thresholds `v` passes; `0` when there are none."""
    return " + ".join(f"({variable} {operator} {t})" for t in thresholds) or "0"


def autoscale_formula(settings: AutoscaleSettings, *, task_slots_per_node: int = 1) -> str:
    """The autoscale formula for `settings`, for a pool running `task_slots_per_node` tasks per node.

    Raises ValueError naming the argument when `task_slots_per_node` is out of Azure's range.
    """
    if not isinstance(task_slots_per_node, int) or not 1 <= task_slots_per_node <= MAX_TASK_SLOTS_PER_NODE:
        raise ValueError(
            f"taskSlotsPerNode must be an integer from 1 to {MAX_TASK_SLOTS_PER_NODE}, got {task_slots_per_node!r}"
        )
    s = settings
    window = f"TimeInterval_Minute * {s.sample_window_minutes}"
    slots = task_slots_per_node
    lines = [
        HEADER,
        f"$maxNodes = {s.max_nodes};",
        "// Demand: tasks queued or running. An empty queue means no node at all; otherwise the larger of the latest",
        f"// sample and the {s.sample_window_minutes}-minute average, when at least {s.min_sample_percent}% of that "
        "window's samples are in.",
        "$demandNow = max(0, $PendingTasks.GetSample(1));",
        f"$samplePercent = $PendingTasks.GetSamplePercent({window});",
        f"$demandAverage = $samplePercent < {s.min_sample_percent} ? $demandNow : "
        f"avg($PendingTasks.GetSample({window}));",
        "$demand = $demandNow > 0 ? max($demandNow, $demandAverage) : 0;",
        f"// Whole nodes for the demand at {slots} task slot(s) per node, at most $maxNodes: each comparison is 1 or 0.",
        f"$wantedNodes = {_count_above('$demand', [k * slots for k in range(s.max_nodes)], '>')};",
    ]
    share = s.low_priority_share
    if s.dedicated_max == 0:
        lines += [
            "// All nodes low-priority.",
            "$TargetLowPriorityNodes = min($maxNodes, $wantedNodes);",
            "$TargetDedicatedNodes = 0;",
        ]
    elif share <= 0:
        lines += [
            "// All nodes dedicated.",
            "$TargetLowPriorityNodes = 0;",
            "$TargetDedicatedNodes = min($maxNodes, $wantedNodes);",
        ]
    else:
        # The k-th low-priority node is wanted from the first node count whose share, rounded up, reaches k.
        thresholds = [
            next(n for n in range(1, s.max_nodes + 1) if low_priority_nodes(n, share) >= k)
            for k in range(1, s.low_priority_max + 1)
        ]
        lines += [
            f"// {share:g} of the wanted nodes low-priority (rounded up), the rest dedicated.",
            f"$lowPriorityMax = {s.low_priority_max};",
            f"$dedicatedMax = {s.dedicated_max};",
            f"$lowPriorityNodes = {_count_above('$wantedNodes', thresholds, '>=')};",
            "$TargetLowPriorityNodes = min($lowPriorityMax, $lowPriorityNodes);",
            "// Preempted Spot nodes are replaced by dedicated ones, within the dedicated maximum.",
            # $PreemptedNodeCount is a sample metric: Learn's preempted-nodes example reads it with GetSample
            # ("Create a formula to automatically scale compute nodes in a Batch pool"); GetSample(1) is the latest.
            "$preemptedNodes = min($lowPriorityNodes, max(0, $PreemptedNodeCount.GetSample(1)));",
            "$TargetDedicatedNodes = min($dedicatedMax, $wantedNodes - $lowPriorityNodes + $preemptedNodes);",
        ]
    lines.append("$NodeDeallocationOption = taskcompletion;")
    formula = "\n".join(lines) + "\n"
    statements = sum(1 for line in lines if not line.startswith("//"))
    if len(formula.encode()) > MAX_FORMULA_BYTES or statements > MAX_STATEMENTS:
        raise ValueError(
            f"the autoscale formula for maxNodes {s.max_nodes} exceeds Azure's limits "
            f"({MAX_FORMULA_BYTES} bytes, {MAX_STATEMENTS} statements); lower maxNodes"
        )
    return formula

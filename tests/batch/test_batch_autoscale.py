"""The autoscale formula generator: what the formula does (through a small evaluator), its parts, and validation."""

from __future__ import annotations

import pytest
from formula_eval import Samples, evaluate

from aiinfra.components._base import ComponentArgsError
from aiinfra.components.batch_autoscale import AutoscaleSettings, autoscale_formula, low_priority_nodes


def targets(
    settings: AutoscaleSettings, pending: list[float], *, slots: int = 1, percent: float = 100.0, preempted: float = 0.0
) -> tuple[float, float]:
    """(low-priority, dedicated) nodes the formula asks for, given the `$PendingTasks` history (newest last) and the
    pool's preempted Spot nodes."""
    result = evaluate(
        autoscale_formula(settings, task_slots_per_node=slots),
        pending=Samples([float(p) for p in pending], percent),
        preempted=preempted,
    )
    return result.number("$TargetLowPriorityNodes"), result.number("$TargetDedicatedNodes")


def test_an_empty_queue_means_zero_nodes():
    settings = AutoscaleSettings(max_nodes=4, low_priority_share=0.5)
    assert targets(settings, [0.0] * 20) == (0.0, 0.0)


def test_a_queue_that_just_drained_releases_every_node():
    # The window average is still high, but nothing is queued or running now: no node is kept.
    assert targets(AutoscaleSettings(max_nodes=4), [9.0] * 19 + [0.0]) == (0.0, 0.0)


def test_a_long_queue_asks_for_max_nodes_and_never_more():
    assert targets(AutoscaleSettings(max_nodes=3), [500.0] * 20) == (3.0, 0.0)
    assert sum(targets(AutoscaleSettings(max_nodes=8, low_priority_share=0.75), [10_000.0] * 20)) == 8.0


@pytest.mark.parametrize(
    "pending, slots, nodes", [(1, 1, 1), (3, 1, 3), (1, 4, 1), (4, 4, 1), (5, 4, 2), (8, 4, 2), (9, 4, 3), (2.5, 1, 3)]
)
def test_nodes_are_the_pending_tasks_over_task_slots_rounded_up(pending, slots, nodes):
    assert targets(AutoscaleSettings(max_nodes=10), [pending] * 20, slots=slots) == (nodes, 0.0)


def test_all_low_priority_by_default():
    settings = AutoscaleSettings(max_nodes=4)
    assert settings.low_priority_share == 1.0
    for pending in range(0, 7):
        low, dedicated = targets(settings, [float(pending)] * 20)
        assert dedicated == 0.0 and low == min(pending, 4)


@pytest.mark.parametrize("share", [0.25, 0.5, 0.6, 0.75, 0.9])
def test_the_low_priority_share_is_honoured_and_rounded_up(share):
    settings = AutoscaleSettings(max_nodes=10, low_priority_share=share)
    for wanted in range(0, 11):
        low, dedicated = targets(settings, [float(wanted)] * 20)
        assert low + dedicated == wanted
        assert low == low_priority_nodes(wanted, share)
        assert low >= wanted * share  # low-priority is preferred when the split is not whole


def test_share_zero_asks_for_dedicated_nodes_only():
    assert targets(AutoscaleSettings(max_nodes=4, low_priority_share=0), [3.0] * 20) == (0.0, 3.0)


def test_a_preempted_spot_node_is_covered_by_a_dedicated_one_so_a_small_queue_drains():
    # prd: 8 nodes, three in four Spot. One queued task asks for one Spot node; when it is preempted, a dedicated
    # node takes the task (Learn, "Use Spot VMs with Batch workloads": $PreemptedNodeCount).
    prd = AutoscaleSettings(max_nodes=8, low_priority_share=0.75)
    assert targets(prd, [1.0] * 20) == (1.0, 0.0)
    assert targets(prd, [1.0] * 20, preempted=1) == (1.0, 1.0)
    # Cover never exceeds the dedicated maximum, nor the preempted nodes the queue still needs.
    assert targets(prd, [8.0] * 20, preempted=6) == (6.0, 2.0)
    assert targets(prd, [2.0] * 20, preempted=5) == (2.0, 2.0)
    assert targets(prd, [0.0] * 20, preempted=3) == (0.0, 0.0)  # an empty queue still means no node


@pytest.mark.parametrize("pending", [0, 1, 3, 5, 8, 50])
@pytest.mark.parametrize("preempted", [0, 1, 2, 6, 9])
def test_running_nodes_never_exceed_max_nodes_with_preemption_cover(pending, preempted):
    settings = AutoscaleSettings(max_nodes=8, low_priority_share=0.75)
    low, dedicated = targets(settings, [float(pending)] * 20, preempted=preempted)
    running_spot = max(0.0, low - min(low, preempted))  # preempted nodes are not billed
    assert running_spot + dedicated <= 8 and low <= 6 and dedicated <= 2


def test_an_all_spot_pool_gets_no_dedicated_cover():
    # dev/test policy wants Spot only: with no dedicated share there is nothing to cover with.
    assert targets(AutoscaleSettings(max_nodes=4), [2.0] * 20, preempted=2) == (2.0, 0.0)


def test_too_few_samples_fall_back_to_the_latest_one():
    settings = AutoscaleSettings(max_nodes=10, min_sample_percent=70)
    history = [8.0] * 19 + [2.0]
    assert targets(settings, history, percent=50.0) == (2.0, 0.0)  # average not trusted
    assert targets(settings, history, percent=90.0) == (8.0, 0.0)  # max(latest, window average)


def test_node_deallocation_waits_for_running_tasks():
    result = evaluate(autoscale_formula(AutoscaleSettings()), pending=Samples([1.0] * 20))
    assert result.variables["$NodeDeallocationOption"] == "taskcompletion"


def test_formula_text_parts():
    text = autoscale_formula(
        AutoscaleSettings(max_nodes=6, sample_window_minutes=15, min_sample_percent=80), task_slots_per_node=2
    )
    assert "$PendingTasks.GetSamplePercent(TimeInterval_Minute * 15)" in text
    assert "$samplePercent < 80" in text
    assert "$maxNodes = 6;" in text
    assert "($demand > 10)" in text and "($demand > 12)" not in text  # 6 nodes x 2 slots
    assert "$TargetDedicatedNodes = 0;" in text
    assert text.rstrip().endswith("$NodeDeallocationOption = taskcompletion;")
    assert text.startswith("// aiinfra BatchGpuPool autoscale")


def test_same_settings_same_formula():
    settings = AutoscaleSettings(max_nodes=5, low_priority_share=0.4)
    assert autoscale_formula(settings, task_slots_per_node=3) == autoscale_formula(settings, task_slots_per_node=3)


def test_evaluation_interval_is_an_iso_duration_of_at_least_five_minutes():
    assert AutoscaleSettings().evaluation_interval == "PT5M"
    assert AutoscaleSettings(evaluation_interval_minutes=15).evaluation_interval == "PT15M"


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("evaluation_interval_minutes", 4, "evaluation_interval_minutes: Input should be greater than or equal to 5"),
        ("evaluation_interval_minutes", 168 * 60 + 1, "evaluation_interval_minutes"),
        ("max_nodes", 0, "max_nodes: Input should be greater than or equal to 1"),
        ("max_nodes", 101, "max_nodes"),
        ("low_priority_share", 1.5, "low_priority_share: Input should be less than or equal to 1"),
        ("low_priority_share", -0.1, "low_priority_share"),
        ("low_priority_share", 0.33333, "more than 3 decimals"),
        ("sample_window_minutes", 1, "sample_window_minutes"),
        ("min_sample_percent", 0, "min_sample_percent"),
    ],
)
def test_invalid_settings_fail_naming_the_field(field, value, fragment):
    with pytest.raises(ComponentArgsError, match="AutoscaleSettings: invalid args") as error:
        AutoscaleSettings(**{field: value})
    assert fragment in str(error.value)


def test_unknown_setting_is_an_error_with_a_hint():
    with pytest.raises(ComponentArgsError, match="maxNode: unknown key; did you mean 'maxNodes'"):
        AutoscaleSettings(maxNode=3)  # pyright: ignore[reportCallIssue]  # the misspelling is what is tested


@pytest.mark.parametrize("slots", [0, 257, 1.5])
def test_task_slots_out_of_range_are_rejected(slots):
    with pytest.raises(ValueError, match="taskSlotsPerNode must be an integer from 1 to 256"):
        autoscale_formula(AutoscaleSettings(), task_slots_per_node=slots)


def test_the_largest_formula_fits_azure_limits():
    text = autoscale_formula(AutoscaleSettings(max_nodes=100, low_priority_share=0.5), task_slots_per_node=256)
    assert len(text.encode()) <= 8 * 1024
    assert sum(1 for line in text.splitlines() if line and not line.startswith("//")) <= 100

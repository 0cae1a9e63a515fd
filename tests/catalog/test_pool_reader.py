"""The one reader of pool sizes, priorities and scaling (aiinfra.catalog.pools), for the pack, the cost estimate and the
diagram: Azure's defaults, every service's way of saying Spot, and values unknown in preview."""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from aiinfra.catalog.pools import (
    AKS_AGENT_POOL,
    AKS_CLUSTER,
    BATCH_POOL,
    COUNT_DEFAULTED,
    LOW_PRIORITY,
    ML_COMPUTE,
    NO_AML_MAXIMUM,
    NO_BATCH_SCALE,
    NO_FORMULA_TARGET,
    REGULAR,
    SPOT,
    Nodes,
    capacity_of,
    pools,
    workload_profile,
    workload_profiles,
)

T4 = "Standard_NC4as_T4_v3"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # how pulumi_policy receives a value unknown in preview
COMPUTED = "<computed>"  # how the offline engine records one


def aml(scale: dict, **inner: object) -> dict:
    return {"properties": {"computeType": "AmlCompute", "properties": {"vmSize": T4, "scaleSettings": scale, **inner}}}


def test_aml_cluster_defaults() -> None:
    (pool,) = pools(ML_COMPUTE, "gpu", aml({"maxNodeCount": 3.0}))
    assert (pool.min_nodes, pool.max_nodes, pool.idle_minutes, pool.spot, pool.autoscale) == (
        0.0,
        3.0,
        2.0,
        False,
        True,
    )
    assert pool.nodes == (Nodes(REGULAR, 0.0, 3.0),) and pool.gpu and pool.label() == "AML compute cluster 'gpu'"
    (named,) = pools(ML_COMPUTE, "logical", {"computeName": "cluster", **aml({})})
    assert named.name == "cluster" and named.max_nodes is None and named.nodes[0].notes == (NO_AML_MAXIMUM,)
    assert pools(ML_COMPUTE, "ci", {"properties": {"computeType": "ComputeInstance"}}) == []


def test_aml_low_priority_and_idle_time() -> None:
    (pool,) = pools(
        ML_COMPUTE,
        "c",
        aml(
            {"minNodeCount": 1.0, "maxNodeCount": 2.0, "nodeIdleTimeBeforeScaleDown": "PT30M"}, vmPriority="LowPriority"
        ),
    )
    assert (pool.spot, pool.nodes[0].capacity, pool.priority, pool.idle_minutes) == (
        True,
        LOW_PRIORITY,
        "LowPriority",
        30,
    )
    assert (pool.min_nodes, pool.max_nodes) == (1.0, 2.0)


def test_aks_pools_inline_and_separate() -> None:
    (fixed, spot) = pools(
        AKS_CLUSTER,
        "aks",
        {
            "agentPoolProfiles": [
                {"name": "gpu", "vmSize": "Standard_NC24ads_A100_v4", "count": 2.0},
                {
                    "name": "spot",
                    "vmSize": T4,
                    "enableAutoScaling": True,
                    "minCount": 0.0,
                    "maxCount": 3.0,
                    "scaleSetPriority": "Spot",
                    "nodeLabels": {"workload": "training"},
                },
            ]
        },
    )
    assert (fixed.name, fixed.autoscale, fixed.min_nodes, fixed.max_nodes, fixed.where, fixed.spot) == (
        "gpu",
        False,
        2.0,
        2.0,
        "agentPoolProfiles[0].",
        False,
    )
    assert (spot.min_nodes, spot.max_nodes, spot.spot, spot.nodes) == (0.0, 3.0, True, (Nodes(SPOT, 0.0, 3.0),))
    assert spot.labels == {"workload": "training"} and spot.where == "agentPoolProfiles[1]."
    (separate,) = pools(AKS_AGENT_POOL, "logical", {"agentPoolName": "infer", "vmSize": T4, "count": 1.0})
    assert (separate.name, separate.where, separate.label()) == ("infer", "", "AKS node pool 'infer'")


def test_aks_count_defaults_to_one() -> None:
    """An AKS pool without `count` runs 1 node (azure-rest-api-specs: "The default value is 1")."""
    (pool,) = pools(AKS_AGENT_POOL, "gpu", {"vmSize": T4})
    assert (pool.min_nodes, pool.max_nodes) == (1.0, 1.0) and pool.nodes[0].notes == (COUNT_DEFAULTED,)
    (autoscaled,) = pools(
        AKS_AGENT_POOL, "gpu", {"vmSize": T4, "enableAutoScaling": "true", "minCount": 0, "maxCount": 4}
    )
    assert (autoscaled.autoscale, autoscaled.min_nodes, autoscaled.max_nodes) == (True, 0.0, 4.0)


@pytest.mark.parametrize(
    "fixed, nodes, spot, size",
    [
        ({"targetDedicatedNodes": 1.0, "targetLowPriorityNodes": 2.0}, [(REGULAR, 1.0), (SPOT, 2.0)], False, 3.0),
        ({"targetLowPriorityNodes": 2.0}, [(SPOT, 2.0)], True, 2.0),
        ({"targetDedicatedNodes": 1.0}, [(REGULAR, 1.0)], False, 1.0),
        ({}, [], None, 0.0),
    ],
)
def test_batch_fixed_scale(fixed: dict, nodes: list, spot: bool | None, size: float) -> None:
    (pool,) = pools(BATCH_POOL, "b", {"poolName": "train", "vmSize": T4, "scaleSettings": {"fixedScale": fixed}})
    assert [(n.capacity, n.max) for n in pool.nodes] == nodes and all(n.idle == n.max for n in pool.nodes)
    assert (pool.spot, pool.min_nodes, pool.max_nodes, pool.autoscale, pool.name) == (spot, size, size, False, "train")


def test_batch_without_scale_settings_has_no_node() -> None:
    (pool,) = pools(BATCH_POOL, "b", {"vmSize": T4})
    assert pool.nodes == (Nodes(REGULAR, 0.0, 0.0, (NO_BATCH_SCALE,)),) and pool.spot is None and pool.max_nodes == 0


def test_batch_autoscale_pool() -> None:
    formula = "$TargetLowPriorityNodes = min(4, $PendingTasks.GetSample(1)); $TargetDedicatedNodes = 0;"
    (pool,) = pools(BATCH_POOL, "b", {"vmSize": T4, "scaleSettings": {"autoScale": {"formula": formula}}})
    assert (pool.spot, pool.max_nodes, pool.min_nodes, pool.idle_minutes) == (True, 4.0, 0.0, 15.0)
    assert [(n.capacity, n.idle, n.max) for n in pool.nodes] == [(SPOT, 0.0, 4.0)]
    quick = {"formula": formula, "evaluationInterval": "PT5M"}
    assert pools(BATCH_POOL, "b", {"scaleSettings": {"autoScale": quick}})[0].idle_minutes == 5.0


@pytest.mark.parametrize(
    "formula", ["$NodeDeallocationOption = taskcompletion;", "$TargetDedicatedNodes = 0; $TargetLowPriorityNodes = 0;"]
)
def test_a_formula_that_asks_for_no_node_is_read_as_unbounded_dedicated(formula: str) -> None:
    """Nothing the formula states caps the pool (Batch may keep the current count): priced unbounded, not Spot."""
    (pool,) = pools(BATCH_POOL, "b", {"scaleSettings": {"autoScale": {"formula": formula}}})
    assert pool.nodes == (Nodes(REGULAR, 0.0, None, (NO_FORMULA_TARGET,)),) and pool.spot is False
    assert pool.max_nodes is None


@pytest.mark.parametrize(
    "priority, capacity",
    [
        ("LowPriority", LOW_PRIORITY),
        ("Dedicated", REGULAR),
        ("Spot", SPOT),
        ("spot", SPOT),
        ("Low", SPOT),
        ("Regular", REGULAR),
        (None, REGULAR),
        (COMPUTED, REGULAR),
    ],
)
def test_capacity_of_every_services_priority(priority: object, capacity: str) -> None:
    assert capacity_of(priority) == capacity


def test_values_computed_in_the_offline_engine_are_not_numbers() -> None:
    (pool,) = pools(
        AKS_AGENT_POOL, "gpu", {"vmSize": COMPUTED, "enableAutoScaling": True, "minCount": 0.0, "maxCount": COMPUTED}
    )
    assert (pool.min_nodes, pool.max_nodes, pool.gpu) == (0.0, None, False)


def test_unknown_values_in_the_pack_are_not_hidden() -> None:
    """pulumi_policy turns UnknownValueError into its "can't run policy during preview" advisory: the reader lets it
    through instead of guessing, and reads nothing a rule does not ask for."""
    props = unknown_checking_proxy({"vmSize": T4, "enableAutoScaling": True, "minCount": 0.0, "maxCount": UNKNOWN})
    (pool,) = pools(AKS_AGENT_POOL, "gpu", props)
    with pytest.raises(UnknownValueError):
        _ = pool.max_nodes
    environment = unknown_checking_proxy(
        {
            "workloadProfiles": [
                {"name": UNKNOWN, "workloadProfileType": "Consumption"},
                {"name": "a100", "workloadProfileType": "NC24-A100", "maximumCount": 2.0},
            ]
        }
    )
    dedicated = [p for p in workload_profiles(environment) if p.dedicated]
    assert [(p.index, p.name, p.min_nodes, p.max_nodes) for p in dedicated] == [(1, "a100", None, 2.0)]


def test_workload_profiles() -> None:
    environment = {
        "workloadProfiles": [
            {"name": "Consumption", "workloadProfileType": "Consumption"},
            {"name": "t4", "workloadProfileType": "Consumption-GPU-NC8as-T4"},
            {"name": "a100", "workloadProfileType": "NC24-A100", "minimumCount": 0.0, "maximumCount": 2.0},
            {"name": "cpu", "workloadProfileType": "D4", "minimumCount": 1.0},
        ]
    }
    kinds = [(p.kind, p.dedicated, p.serverless_gpu, p.gpu) for p in workload_profiles(environment)]
    assert kinds == [
        ("Consumption", False, False, False),
        ("Consumption-GPU-NC8as-T4", False, True, True),
        ("NC24-A100", True, False, True),
        ("D4", True, False, False),
    ]
    a100 = workload_profile(environment, "a100")
    assert a100 is not None and (a100.min_nodes, a100.max_nodes) == (0.0, 2.0)
    assert workload_profile(environment, "missing") is None and workload_profile(environment, None) is None


@pytest.mark.parametrize(
    "type_token, props",
    [
        (
            AKS_CLUSTER,
            {"agentPoolProfiles": [{"name": "old", "vmSize": "Standard_NC6s_v3", "count": UNKNOWN}]},
        ),
        (
            AKS_AGENT_POOL,
            {"vmSize": "Standard_NC6s_v3", "enableAutoScaling": True, "minCount": 0.0, "maxCount": UNKNOWN},
        ),
        (BATCH_POOL, {"vmSize": "Standard_NC6s_v3", "scaleSettings": {"autoScale": {"formula": UNKNOWN}}}),
        (
            BATCH_POOL,
            {"vmSize": "Standard_NC6s_v3", "scaleSettings": {"fixedScale": {"targetDedicatedNodes": UNKNOWN}}},
        ),
        (
            ML_COMPUTE,
            {
                "properties": {
                    "computeType": "AmlCompute",
                    "properties": {"vmSize": "Standard_NC6s_v3", "scaleSettings": {"maxNodeCount": UNKNOWN}},
                }
            },
        ),
    ],
)
def test_an_unknown_scale_value_hides_only_the_scale(type_token: str, props: dict) -> None:
    """In preview one unknown count, maximum or formula must not stop the size rules (retired, allowed) or, for AML
    and AKS, the priority rule: the size and priority are read without touching the scale settings."""
    (pool,) = pools(type_token, "p", unknown_checking_proxy(props))
    assert (pool.vm_size, pool.gpu) == ("Standard_NC6s_v3", True)
    if type_token != BATCH_POOL:
        assert pool.spot is False and pool.labels == {}
    with pytest.raises(UnknownValueError):
        _ = (pool.min_nodes, pool.max_nodes, pool.nodes)


@pytest.mark.parametrize(
    "formula, idle",
    [
        ("$TargetDedicatedNodes = max(2, min($PendingTasks.GetSample(1), 6));", 2.0),
        ("$isWorkingWeekdayHour = $curTime.hour >= 8; $TargetDedicatedNodes = $isWorkingWeekdayHour ? 20 : 10;", 10.0),
        ("$TargetLowPriorityNodes = min(4, $PendingTasks.GetSample(1));", 0.0),
    ],
)
def test_a_batch_formula_minimum_is_its_stated_idle_floor(formula: str, idle: float) -> None:
    (pool,) = pools(BATCH_POOL, "b", {"vmSize": T4, "scaleSettings": {"autoScale": {"formula": formula}}})
    assert pool.min_nodes == idle

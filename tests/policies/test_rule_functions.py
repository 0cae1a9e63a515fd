"""Fast, direct tests of the rule functions and their helpers — no engine, no process."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jsonschema
import pytest
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from aiinfra.catalog.gpu_skus import CATALOGUE, RETIRED
from aiinfra.policies import RULES, Resource, rule
from aiinfra.policies._props import arm_id_parts, canonical_type, duration_minutes, same
from aiinfra.policies.gpu import CURRENT_GPU_SKUS, is_gpu_sku, is_retired_sku

PACK = Path(__file__).resolve().parents[2] / "policies"
COMPUTE = "azure-native:machinelearningservices:Compute"


@pytest.mark.parametrize(
    "raw, minutes",
    [
        ("PT5M", 5.0),
        ("PT120S", 2.0),
        ("PT1H30M", 90.0),
        ("P1D", 1440.0),
        ("10m", 10.0),
        ("90s", 1.5),
        ("pt15m", 15.0),
        ("", None),
        ("PT", None),
        ("soon", None),
        (None, None),
    ],
)
def test_durations(raw: object, minutes: float | None) -> None:
    assert duration_minutes(raw) == minutes


def test_type_tokens_and_arm_ids() -> None:
    assert canonical_type("azure-native:storage/v20230101:StorageAccount") == "azure-native:storage:StorageAccount"
    assert canonical_type("aws:s3/bucket:Bucket") == "aws:s3/bucket:Bucket"
    assert arm_id_parts("/subscriptions/s/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/SA") == (
        "rg",
        "microsoft.storage/storageaccounts",
        "sa",
    )
    assert arm_id_parts("not-an-id") is None
    assert same("disabled", "Disabled") and not same(None, "Disabled")


def test_pack_reads_sizes_from_the_shared_catalogue() -> None:
    """One source: the pack's notion of retired and current sizes is the catalogue's, case-insensitively as Azure."""
    assert all(is_retired_sku(s) and is_retired_sku(s.upper()) for s in RETIRED)
    assert set(CATALOGUE) <= set(CURRENT_GPU_SKUS)
    assert not any(is_retired_sku(s) for s in CURRENT_GPU_SKUS)
    assert all(is_gpu_sku(s) for s in (*CURRENT_GPU_SKUS, *RETIRED)) and not is_gpu_sku("Standard_D4s_v5")


def test_rule_run_applies_defaults_exemptions_and_type_filter() -> None:
    scale = rule("gpu-pool-scale-to-zero")
    props = {
        "properties": {
            "computeType": "AmlCompute",
            "properties": {
                "vmSize": "Standard_NC4as_T4_v3",
                "scaleSettings": {"minNodeCount": 1.0, "maxNodeCount": 2.0},
            },
        }
    }
    resource = Resource(COMPUTE, "warm", "urn:pulumi:prd::p::" + COMPUTE + "::warm", props)
    assert scale.run(resource) == [
        "AML compute cluster 'warm' has minNodeCount 1; set properties.properties.scaleSettings.minNodeCount to 0."
    ]
    assert scale.run(resource, {"exemptions": [{"resource": "warm", "reason": "online endpoint"}]}) == []
    other = Resource("azure-native:storage:StorageAccount", "sa", "urn", {})
    assert scale.run(other) == []
    versioned = Resource("azure-native:machinelearningservices/v20240401:Compute", "warm", "urn", props)
    assert scale.run(versioned)


def test_unknowns_surface_as_unknown_value_error() -> None:
    public = rule("public-network-access-disabled")
    props = unknown_checking_proxy({"publicNetworkAccess": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"})
    with pytest.raises(UnknownValueError):
        public.run(Resource("azure-native:storage:StorageAccount", "sa", "urn", props))
    known = unknown_checking_proxy({"publicNetworkAccess": "Disabled", "tags": {}})
    assert public.run(Resource("azure-native:storage:StorageAccount", "sa", "urn", known)) == []


@pytest.mark.parametrize("r", RULES, ids=lambda r: r.name)
def test_rule_metadata(r) -> None:
    assert r.name == r.name.lower() and " " not in r.name and "--" not in r.name
    assert "How to fix:" in r.description and r.fix and r.sources and r.severity
    assert (r.check is None) != (r.stack_check is None)
    schema = {"type": "object", "properties": r.config_properties(), "additionalProperties": False}
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(r.defaults(), schema)
    if r.check is not None and not r.resource_types:
        # an all-types rule (narrowed by its config) still only looks at azure-native resources
        assert r.applies_to("azure-native:network:VirtualNetwork") and not r.applies_to("pulumi:providers:azure-native")
    # the fix names the azure-native Python argument (snake_case or `arg=`) and the ARM property path
    assert re.search(r"\b[a-z]+_[a-z_]+\b|\b[a-z]+=", r.fix), f"{r.name}: name the azure-native argument"
    assert "ARM" in r.fix or re.search(r"\bproperties\.|\b[a-z]+[A-Z]\w*\b", r.fix), f"{r.name}: name the ARM path"


def test_pack_imports_only_itself_and_the_policy_sdk() -> None:
    """The pack may use the shared catalogue of Azure facts, never the components or the engine."""
    allowed_roots = {"pulumi_policy", "pulumi", "__future__", "aiinfra.policies", "aiinfra.catalog"}
    stdlib = {
        "collections",
        "dataclasses",
        "fnmatch",
        "re",
        "typing",
        "types",
        "json",
        "argparse",
        "sys",
        "pathlib",
        "datetime",
    }
    for path in PACK.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                root = ".".join(node.module.split(".")[: 2 if node.module.startswith("aiinfra.") else 1])
            elif isinstance(node, ast.Import):
                root = node.names[0].name.split(".")[0]
            else:
                continue
            assert root in allowed_roots | stdlib, f"{path.name} imports {root}"


def test_fastpath_converts_each_message_once_and_passes_other_calls_through() -> None:
    from google.protobuf import json_format, struct_pb2

    from aiinfra.policies._fastpath import _CachingJsonFormat, install

    calls: list[object] = []

    class Counting:
        def MessageToDict(self, message, *args, **kwargs):  # noqa: N802
            calls.append(message)
            return json_format.MessageToDict(message, *args, **kwargs)

    shim = _CachingJsonFormat(Counting())  # pyright: ignore[reportArgumentType]  # a counting stand-in for the module
    first, second = struct_pb2.Struct(), struct_pb2.Struct()
    first.update({"a": 1.0})
    second.update({"a": 2.0})
    assert shim.MessageToDict(first) is shim.MessageToDict(first) and len(calls) == 1
    assert shim.MessageToDict(second) == {"a": 2.0} and len(calls) == 2
    assert shim.MessageToDict(first) == {"a": 1.0} and len(calls) == 2  # properties and provider alternate
    others = [struct_pb2.Struct() for _ in range(4)]
    for other in others:
        shim.MessageToDict(other)
    assert len(calls) == 6
    shim.MessageToDict(first)
    assert len(calls) == 7  # only the last few messages are remembered
    shim.MessageToDict(first, preserving_proto_field_name=True)
    shim.MessageToDict(first, preserving_proto_field_name=True)
    assert len(calls) == 9  # calls with options are never cached
    assert _CachingJsonFormat(json_format).Parse is json_format.Parse
    assert install() and install()  # idempotent


def test_a_fixed_gpu_pool_without_count_runs_azures_default_one_node() -> None:
    """AKS's `count` defaults to 1: a fixed GPU pool that leaves it out still keeps a node (it used to pass unseen)."""
    pool = "azure-native:containerservice:AgentPool"
    props = {"agentPoolName": "gpu", "vmSize": "Standard_NC4as_T4_v3", "mode": "User"}
    resource = Resource(pool, "gpu", "urn:pulumi:dev::p::" + pool + "::gpu", props)
    assert rule("gpu-pool-scale-to-zero").run(resource) == [
        "AKS node pool 'gpu' runs a fixed 1 GPU node(s) with autoscaling off; set enableAutoScaling true with minCount 0."
    ]


def test_a_batch_formula_the_old_pack_reader_missed_is_capped() -> None:
    """The pack reads formulas with the catalogue's reader: a ternary and a final statement without `;` are bounded."""
    props = {
        "poolName": "train",
        "vmSize": "Standard_NC4as_T4_v3",
        "scaleSettings": {
            "autoScale": {"formula": "$TargetLowPriorityNodes = $PendingTasks.GetSample(1) > 0 ? 12 : 0"}
        },
    }
    resource = Resource("azure-native:batch:Pool", "train", "urn", props)
    assert rule("gpu-pool-max-nodes").run(resource) == [
        "Batch pool 'train' can grow to 12 GPU nodes; the cap here is 8."
    ]
    assert rule("gpu-pool-low-priority").run(resource) == []


RETIRED_NC = "Standard_NC6s_v3"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # a value unknown in `pulumi preview`, as pulumi_policy receives it


@pytest.mark.parametrize(
    "type_token, props, retired",
    [
        (
            "azure-native:containerservice:ManagedCluster",
            {"agentPoolProfiles": [{"name": "old", "mode": "User", "vmSize": RETIRED_NC, "count": UNKNOWN}]},
            "AKS node pool 'old'",
        ),
        (
            "azure-native:containerservice:AgentPool",
            {
                "agentPoolName": "gpu",
                "vmSize": RETIRED_NC,
                "enableAutoScaling": True,
                "minCount": 0.0,
                "maxCount": UNKNOWN,
            },
            "AKS node pool 'gpu'",
        ),
        (
            "azure-native:batch:Pool",
            {"poolName": "cf", "vmSize": RETIRED_NC, "scaleSettings": {"autoScale": {"formula": UNKNOWN}}},
            "Batch pool 'cf'",
        ),
    ],
)
def test_an_unknown_scale_value_does_not_hide_the_size_rules(type_token: str, props: dict, retired: str) -> None:
    """Under `pulumi preview` one count, maximum or formula from an apply used to stop every GPU rule for the resource
    (pulumi_policy's "can't run during preview"), the critical gpu-sku-not-retired among them."""
    resource = Resource(type_token, "r", "urn", unknown_checking_proxy(props))
    assert rule("gpu-sku-not-retired").run(resource) == [
        f"{retired} uses {RETIRED_NC}, which Azure has retired; VMs of this size cannot be created."
    ]
    assert len(rule("gpu-sku-allowed").run(resource)) == 1
    if type_token != "azure-native:batch:Pool":  # a Batch pool's priority is in its scale settings
        assert rule("gpu-pool-low-priority").run(resource) == [
            f"{retired} ({RETIRED_NC}) uses dedicated capacity; set scaleSetPriority 'Spot' with "
            "scaleSetEvictionPolicy 'Delete' and spotMaxPrice -1."
        ]
        assert rule("gpu-pool-idle-scale-down").run(resource) == []  # the AKS idle time is the cluster's
    with pytest.raises(UnknownValueError):
        rule("gpu-pool-max-nodes").run(resource)


@pytest.mark.parametrize(
    "type_token, props, message",
    [
        (
            "azure-native:containerservice:AgentPool",
            {"agentPoolName": "gpu", "vmSize": "Standard_NC4as_T4_v3", "enableAutoScaling": True, "minCount": 0.0},
            "AKS node pool 'gpu' has no maximum node count; set maxCount (autoscaling) to at most 8.",
        ),
        (
            "azure-native:batch:Pool",
            {
                "poolName": "b",
                "vmSize": "Standard_NC4as_T4_v3",
                "scaleSettings": {"autoScale": {"formula": "$TargetLowPriorityNodes = $PendingTasks.GetSample(1);"}},
            },
            "Batch pool 'b' has no maximum node count; bound each target the autoscale formula assigns, e.g. "
            "$TargetDedicatedNodes = min(N, ...), with N at most 8.",
        ),
    ],
)
def test_a_gpu_pool_without_a_maximum_is_reported(type_token: str, props: dict, message: str) -> None:
    assert rule("gpu-pool-max-nodes").run(Resource(type_token, "r", "urn", props)) == [message]


@pytest.mark.parametrize(
    "formula, floor",
    [
        ("$TargetLowPriorityNodes = max(2, min(8, $PendingTasks.GetSample(1)));", "2"),
        # Learn, "Create a formula to automatically scale compute nodes in a Batch pool": a working-hours schedule
        (
            "$curTime = time(); $workHours = $curTime.hour >= 8 && $curTime.hour < 18; $isWeekday = $curTime.weekday "
            ">= 1 && $curTime.weekday <= 5; $isWorkingWeekdayHour = $workHours && $isWeekday; $TargetDedicatedNodes "
            "= $isWorkingWeekdayHour ? 20:10; $NodeDeallocationOption = taskcompletion;",
            "10",
        ),
    ],
)
def test_a_batch_formula_that_never_reaches_zero_fails_scale_to_zero(formula: str, floor: str) -> None:
    props = {"poolName": "b", "vmSize": "Standard_NC4as_T4_v3", "scaleSettings": {"autoScale": {"formula": formula}}}
    assert rule("gpu-pool-scale-to-zero").run(Resource("azure-native:batch:Pool", "b", "urn", props)) == [
        f"Batch pool 'b''s autoscale formula keeps at least {floor} GPU node(s) with no tasks (the floor it states, "
        "e.g. max(N, ...) or a schedule's branches); let $TargetDedicatedNodes and $TargetLowPriorityNodes reach 0 "
        "when no tasks are pending."
    ]


def test_the_cluster_idle_time_is_checked_only_for_a_cluster_with_a_gpu_pool() -> None:
    cluster = "azure-native:containerservice:ManagedCluster"
    slow = {"scaleDownUnneededTime": "1h"}
    cpu_only = {"autoScalerProfile": slow, "agentPoolProfiles": [{"name": "sys", "vmSize": "Standard_D4ds_v5"}]}
    assert rule("gpu-pool-idle-scale-down").run(Resource(cluster, "aks", "urn", cpu_only)) == []
    gpu = {"name": "gpu", "vmSize": "Standard_NC4as_T4_v3", "enableAutoScaling": True, "minCount": 0.0}
    with_gpu = {**cpu_only, "agentPoolProfiles": [*cpu_only["agentPoolProfiles"], gpu]}
    assert rule("gpu-pool-idle-scale-down").run(Resource(cluster, "aks", "urn", with_gpu)) == [
        "autoScalerProfile.scaleDownUnneededTime is '1h'; idle nodes must be removed within 30 minutes."
    ]

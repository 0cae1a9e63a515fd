"""GPU cost rules (no external scanner has these): cheap capacity outside prd, scale to zero, short idle time,
capped pool sizes, an allow-list of current GPU sizes and never a retired one, no Spot under prd inference."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from aiinfra.catalog.pools import AKS_POOL, AML_CLUSTER, BATCH, POOL_TYPES, workload_profiles

from ._props import AKS_AGENT_POOL, AKS_CLUSTER, CONTAINER_APPS_ENV, duration_minutes, get, text
from ._rule import Resource, Rule
from .gpu import CURRENT_GPU_SKUS, Pool, is_retired_sku, pools

CONCERN = "compute-cost"
VIRTUAL_MACHINE = "azure-native:compute:VirtualMachine"
SCALE_SET = "azure-native:compute:VirtualMachineScaleSet"

_CHEAP_CAPACITY = {
    AML_CLUSTER: "set properties.properties.vmPriority to 'LowPriority'",
    AKS_POOL: "set scaleSetPriority 'Spot' with scaleSetEvictionPolicy 'Delete' and spotMaxPrice -1",
    BATCH: "request targetLowPriorityNodes (autoscale: assign $TargetLowPriorityNodes and keep "
    "$TargetDedicatedNodes at 0)",
}


_NO_MAXIMUM = {
    AML_CLUSTER: "set properties.properties.scaleSettings.maxNodeCount to at most",
    AKS_POOL: "set {where}maxCount (autoscaling) to at most",
    BATCH: "bound each target the autoscale formula assigns, e.g. $TargetDedicatedNodes = min(N, ...), with N at most",
}


def _gpu_pools(resource: Resource) -> list[Pool]:
    return [pool for pool in pools(resource.type, resource.name, resource.props) if pool.gpu]


def check_low_priority(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    for pool in _gpu_pools(resource):
        if pool.spot is False:
            yield f"{pool.label()} ({pool.vm_size}) uses dedicated capacity; {_CHEAP_CAPACITY[pool.kind]}."


def check_scale_to_zero(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    for pool in _gpu_pools(resource):
        if pool.min_nodes is None or pool.min_nodes <= 0:
            continue
        if pool.kind == AKS_POOL and not pool.autoscale:
            yield (
                f"{pool.label()} runs a fixed {text(pool.min_nodes)} GPU node(s) with autoscaling off; set "
                f"{pool.where}enableAutoScaling true with minCount 0."
            )
        elif pool.kind == AKS_POOL:
            yield f"{pool.label()} has minCount {text(pool.min_nodes)}; set {pool.where}minCount to 0."
        elif pool.kind == BATCH and pool.autoscale:
            yield (
                f"{pool.label()}'s autoscale formula keeps at least {text(pool.min_nodes)} GPU node(s) with no tasks "
                "(the floor it states, e.g. max(N, ...) or a schedule's branches); let $TargetDedicatedNodes and "
                "$TargetLowPriorityNodes reach 0 when no tasks are pending."
            )
        elif pool.kind == BATCH:
            yield (
                f"{pool.label()} keeps a fixed {text(pool.min_nodes)} GPU node(s); use an autoscale formula that "
                "reaches 0 nodes when the queue is empty."
            )
        else:
            yield (
                f"{pool.label()} has minNodeCount {text(pool.min_nodes)}; set "
                "properties.properties.scaleSettings.minNodeCount to 0."
            )


def check_idle_scale_down(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    limit = float(config["maxIdleMinutes"])
    gpu_pools = _gpu_pools(resource)
    # The cluster-wide autoscaler setting matters here only for the cluster's own (inline) GPU pools; an AgentPool
    # declared separately is its own resource and is judged on its own settings.
    if resource.type == AKS_CLUSTER and gpu_pools:
        raw = get(resource.props, "autoScalerProfile", "scaleDownUnneededTime")
        minutes = 10.0 if raw is None else duration_minutes(raw)  # AKS default: 10m
        if minutes is None or minutes > limit:
            yield (
                f"autoScalerProfile.scaleDownUnneededTime is {text(raw)}; idle nodes must be removed within "
                f"{text(limit)} minutes."
            )
    for pool in gpu_pools:
        if pool.idle_minutes is not None and pool.idle_minutes > limit:
            setting = (
                "scaleSettings.autoScale.evaluationInterval"
                if pool.kind == BATCH
                else "properties.properties.scaleSettings.nodeIdleTimeBeforeScaleDown"
            )
            yield (
                f"{pool.label()} keeps idle nodes for {text(round(pool.idle_minutes, 1))} minutes; set {setting} "
                f"to at most {text(limit)} minutes."
            )


def check_max_nodes(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    cap = float(config["maxNodes"])
    for pool in _gpu_pools(resource):
        if pool.max_nodes is None:
            yield f"{pool.label()} has no maximum node count; {_NO_MAXIMUM[pool.kind].format(where=pool.where)} {text(cap)}."
        elif pool.max_nodes > cap:
            yield f"{pool.label()} can grow to {text(pool.max_nodes)} GPU nodes; the cap here is {text(cap)}."


def check_allowed_sku(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    allowed = [str(sku) for sku in config["allowedSkus"]]
    lowered = {sku.lower() for sku in allowed}
    for pool in _gpu_pools(resource):
        if str(pool.vm_size).lower() not in lowered:
            yield f"{pool.label()} uses {text(pool.vm_size)}, which is not allowed here; allowed: {', '.join(allowed)}."


def check_not_retired(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    if resource.type == VIRTUAL_MACHINE:
        sizes = [("virtual machine", get(resource.props, "hardwareProfile", "vmSize"))]
    elif resource.type == SCALE_SET:
        sizes = [("scale set", get(resource.props, "sku", "name"))]
    else:
        sizes = [(pool.label(), pool.vm_size) for pool in pools(resource.type, resource.name, resource.props)]
    for label, size in sizes:
        if is_retired_sku(size):
            yield f"{label} uses {size}, which Azure has retired; VMs of this size cannot be created."


def is_inference_pool(pool: Pool, config: Mapping[str, Any]) -> bool:
    label = pool.labels.get(str(config["labelKey"]))
    values = {str(v).lower() for v in config["inferenceLabelValues"]}
    if isinstance(label, str) and label.lower() in values:
        return True
    return any(fnmatch.fnmatchcase(pool.name.lower(), str(p).lower()) for p in config["inferenceNamePatterns"])


def check_inference_not_spot(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    for pool in pools(resource.type, resource.name, resource.props):
        if pool.kind == AKS_POOL and pool.spot and is_inference_pool(pool, config):
            yield (
                f"{pool.label()} serves inference on Spot capacity, which Azure can evict at any time; set "
                f"{pool.where}scaleSetPriority 'Regular'."
            )


def check_workload_profiles(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    cap = float(config["maxNodes"])
    for profile in workload_profiles(resource.props):
        if not profile.dedicated:
            continue  # Consumption and serverless GPU (Consumption-GPU-*) profiles bill per use, with no node count
        label = f"workloadProfiles[{profile.index}] ('{profile.name}', {profile.kind})"
        minimum, maximum = profile.min_nodes, profile.max_nodes
        if minimum is None or minimum > 0:
            yield (
                f"{label} has minimumCount {text(minimum)}; set minimum_count 0 so an idle dedicated profile "
                "bills no nodes."
            )
        if maximum is None or maximum > cap:
            yield f"{label} has maximumCount {text(maximum)}; cap maximum_count at {text(cap)} here."


_EXEMPTIONS_NOTE = " Exempt a pool by name in this policy's `exemptions` (with the reason)."

RULES = [
    Rule(
        name="gpu-pool-low-priority",
        concern=CONCERN,
        summary="GPU pools outside production must run on low-priority / Spot capacity (up to ~80-90% cheaper).",
        fix="AML compute: AmlComputePropertiesArgs(vm_priority='LowPriority') (ARM: "
        "properties.properties.vmPriority); AKS: scale_set_priority='Spot' with "
        "scale_set_eviction_policy='Delete' and spot_max_price=-1 (ARM: properties.scaleSetPriority); Batch: "
        "low-priority nodes only (scale_settings target_low_priority_nodes / $TargetLowPriorityNodes)."
        + _EXEMPTIONS_NOTE,
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=("aiinfra",),
        resource_types=POOL_TYPES,
        check=check_low_priority,
    ),
    Rule(
        name="gpu-pool-scale-to-zero",
        concern=CONCERN,
        summary="GPU pools must be able to scale to zero nodes (minimum 0), so an idle pool costs nothing.",
        fix="AML compute: ScaleSettingsArgs(min_node_count=0) (ARM: "
        "properties.properties.scaleSettings.minNodeCount); AKS: enable_auto_scaling=True with min_count=0 (ARM: "
        "properties.enableAutoScaling / .minCount); Batch: scale_settings={'auto_scale': {'formula': ...}} "
        "reaching 0 (ARM: properties.scaleSettings.autoScale.formula)." + _EXEMPTIONS_NOTE,
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=("Checkov CKV_AZURE_150", "aiinfra"),
        resource_types=POOL_TYPES,
        check=check_scale_to_zero,
    ),
    Rule(
        name="gpu-pool-idle-scale-down",
        concern=CONCERN,
        summary="Idle GPU nodes must be released within maxIdleMinutes (AKS: a cluster's "
        "autoScalerProfile.scaleDownUnneededTime is checked when it has a GPU pool inline; a separately declared "
        "AgentPool is judged by its own settings).",
        fix="AML compute: ScaleSettingsArgs(node_idle_time_before_scale_down='PT10M') (ARM: "
        "properties.properties.scaleSettings.nodeIdleTimeBeforeScaleDown); AKS: "
        "auto_scaler_profile={'scale_down_unneeded_time': '10m'} (ARM: "
        "properties.autoScalerProfile.scaleDownUnneededTime); Batch: auto_scale evaluation_interval (ARM: "
        "properties.scaleSettings.autoScale.evaluationInterval).",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=("aiinfra",),
        resource_types=POOL_TYPES,
        config={
            "maxIdleMinutes": {
                "type": "number",
                "minimum": 0,
                "default": 30,
                "description": "Longest time an idle GPU node may be kept, in minutes.",
            }
        },
        check=check_idle_scale_down,
    ),
    Rule(
        name="gpu-pool-max-nodes",
        concern=CONCERN,
        summary="GPU pools may not grow beyond maxNodes nodes (a per-environment spend cap) and must state a "
        "maximum (AKS maxCount, AML maxNodeCount, a bound in a Batch autoscale formula).",
        fix="Lower the pool's maximum — AML max_node_count (ARM: properties.properties.scaleSettings.maxNodeCount), "
        "AKS max_count (ARM: properties.maxCount), Batch target nodes (ARM: properties.scaleSettings) — or raise "
        "this environment's maxNodes in the policy config after a budget review." + _EXEMPTIONS_NOTE,
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.MANDATORY,
        sources=("aiinfra",),
        resource_types=POOL_TYPES,
        config={
            "maxNodes": {
                "type": "integer",
                "minimum": 0,
                "default": 8,
                "description": "Largest node count a GPU pool may scale to.",
            }
        },
        check=check_max_nodes,
    ),
    Rule(
        name="gpu-sku-allowed",
        concern=CONCERN,
        summary="GPU pools must use a VM size from this environment's allow-list.",
        fix="Pick a vm_size from allowedSkus (ARM: properties.vmSize / properties.properties.vmSize; see the "
        "message), or add the size to this environment's policy config after a cost and quota review."
        + _EXEMPTIONS_NOTE,
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.MANDATORY,
        sources=("Azure Policy: Allowed virtual machine size SKUs", "aiinfra"),
        resource_types=POOL_TYPES,
        config={
            "allowedSkus": {
                "type": "array",
                "items": {"type": "string", "pattern": "^Standard_N"},
                "uniqueItems": True,
                "default": list(CURRENT_GPU_SKUS),
                "description": "GPU VM sizes (Standard_N*) allowed in this environment.",
            }
        },
        check=check_allowed_sku,
    ),
    Rule(
        name="gpu-sku-not-retired",
        concern=CONCERN,
        summary="No pool or VM may use a retired size (NC, NCv2, ND, NV: retired 2023-09-06; NCv3 such as "
        "Standard_NC6s_v3 and NDv2: retired 2025-09-30).",
        fix="Change vm_size (ARM: vmSize / hardwareProfile.vmSize) to a current size: NC A100 v4 (e.g. "
        "Standard_NC24ads_A100_v4) for V100-class work, NCasT4_v3 (e.g. Standard_NC4as_T4_v3) for small training "
        "and inference.",
        severity=Severity.CRITICAL,
        default_level=EnforcementLevel.MANDATORY,
        sources=("Azure retirement notices (NCv3, NDv2, NC/NCv2/ND/NV series)",),
        resource_types=POOL_TYPES + (VIRTUAL_MACHINE, SCALE_SET),
        check=check_not_retired,
        exemptable=False,
    ),
    Rule(
        name="container-apps-dedicated-profile-scale",
        concern=CONCERN,
        summary="Dedicated (non-Consumption) Container Apps workload profiles must scale to zero (minimumCount 0) "
        "and have a capped maximumCount.",
        fix="ManagedEnvironment(workload_profiles=[{'name': ..., 'workload_profile_type': 'NC24-A100', "
        "'minimum_count': 0, 'maximum_count': <= maxNodes}]) (ARM: properties.workloadProfiles[].minimumCount / "
        ".maximumCount); serverless Consumption-GPU profiles need neither." + _EXEMPTIONS_NOTE,
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "Learn: Workload profiles in Azure Container Apps (learn.microsoft.com/azure/container-apps/"
            "workload-profiles-overview)",
            "aiinfra",
        ),
        resource_types=(CONTAINER_APPS_ENV,),
        config={
            "maxNodes": {
                "type": "integer",
                "minimum": 0,
                "default": 4,
                "description": "Largest maximumCount a dedicated workload profile may have.",
            }
        },
        check=check_workload_profiles,
    ),
    Rule(
        name="inference-pool-no-spot",
        concern=CONCERN,
        summary="AKS node pools that serve inference (node label labelKey in inferenceLabelValues, or a name "
        "matching inferenceNamePatterns) must not run on Spot capacity.",
        fix="scale_set_priority='Regular' on inference pools (ARM: properties.scaleSetPriority); keep Spot for "
        "training pools; reserved instances cut the cost of always-on serving instead.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.ADVISORY,
        sources=("aiinfra",),
        resource_types=(AKS_AGENT_POOL, AKS_CLUSTER),
        config={
            "labelKey": {
                "type": "string",
                "default": "workload",
                "description": "Node label whose value says what a pool runs.",
            },
            "inferenceLabelValues": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["inference", "gpu-inference", "serving"],
                "description": "Values of labelKey that mark an inference pool.",
            },
            "inferenceNamePatterns": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["inf*", "*infer*", "serv*"],
                "description": "Pool-name wildcards (case-insensitive) that mark an inference pool.",
            },
        },
        check=check_inference_not_spot,
    ),
]

"""GPU pools as the cost rules see them, whatever service runs them (AML compute, AKS node pool, Batch pool).

`pools(resource)` turns one resource's wire properties into `Pool`s with the same fields, so each cost rule is
written once. The SKU lists are facts about Azure, not configuration: which sizes exist and which are retired.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiinfra.catalog.gpu_skus import CATALOGUE, OTHER_CURRENT_GPU_SIZES, is_gpu_size, retired_on

from ._props import (
    AKS_AGENT_POOL,
    AKS_CLUSTER,
    BATCH_POOL,
    ML_COMPUTE,
    duration_minutes,
    get,
    is_true,
    items,
    mapping,
    number,
    same,
)

# Current GPU sizes an AI platform plausibly runs: the catalogue's and the other current sizes it names.
CURRENT_GPU_SKUS: tuple[str, ...] = (*CATALOGUE, *OTHER_CURRENT_GPU_SIZES)


def is_gpu_sku(vm_size: Any) -> bool:
    return is_gpu_size(vm_size)


def is_retired_sku(vm_size: Any) -> bool:
    return retired_on(vm_size) is not None


@dataclass(frozen=True)
class Pool:
    """One pool of nodes, service-neutral. `None` means the value cannot be told from the properties."""

    kind: str  # "AML compute cluster", "AKS node pool", "Batch pool"
    name: str
    vm_size: Any
    spot: bool | None  # low-priority / Spot capacity
    min_nodes: float | None
    max_nodes: float | None
    autoscale: bool
    idle_minutes: float | None  # time an idle node is kept before scale-down
    labels: Mapping[str, Any] = field(default_factory=dict)
    where: str = ""  # property path prefix, for messages

    @property
    def gpu(self) -> bool:
        return is_gpu_sku(self.vm_size)

    def label(self) -> str:
        return f"{self.kind} '{self.name}'"


def _or_default(value: float | None, default: float) -> float:
    """Azure's default when the property is not set (AML: 120 s idle; Batch: 15 min evaluation interval)."""
    return default if value is None else value


def _aks_pool(profile: Mapping[str, Any], name: str, where: str) -> Pool:
    autoscale = is_true(profile.get("enableAutoScaling"))
    count = number(profile.get("count"))
    return Pool(
        kind="AKS node pool",
        name=name,
        vm_size=profile.get("vmSize"),
        spot=same(profile.get("scaleSetPriority"), "Spot"),
        min_nodes=number(profile.get("minCount")) if autoscale else count,
        max_nodes=number(profile.get("maxCount")) if autoscale else count,
        autoscale=autoscale,
        idle_minutes=None,  # cluster-wide: autoScalerProfile.scaleDownUnneededTime on the ManagedCluster
        labels=mapping(profile.get("nodeLabels")),
        where=where,
    )


_ASSIGN = re.compile(r"(\$[A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)\s*([^;]*);")
_COMMENT = re.compile(r"//[^\n]*")


def _top_level_args(call: str) -> list[str] | None:
    """`min(a, f(b, c))` -> ['a', 'f(b, c)']; None if `call` is not one `min(...)` call."""
    match = re.fullmatch(r"min\s*\((.*)\)", call.strip(), re.DOTALL)
    if not match:
        return None
    args, depth, current = [], 0, ""
    for char in match.group(1):
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            args.append(current.strip())
            current = ""
        else:
            current += char
    return args + [current.strip()]


def _bound(expression: str, variables: Mapping[str, str], depth: int = 0) -> float | None:
    """The largest value an assignment can take, when it is a constant or `min()` of something constant."""
    expression = expression.strip()
    if re.fullmatch(r"\d+(\.\d+)?", expression):
        return float(expression)
    if depth < 4 and expression.lower() in variables:
        return _bound(variables[expression.lower()], variables, depth + 1)
    args = _top_level_args(expression)
    if args and depth < 4:
        bounds = [b for b in (_bound(a, variables, depth + 1) for a in args) if b is not None]
        return min(bounds) if bounds else None
    return None


@dataclass(frozen=True)
class FormulaFacts:
    low_priority: bool  # the formula asks for low-priority nodes
    dedicated_zero: bool  # ...and never for dedicated ones
    max_nodes: float | None  # the most nodes it can ask for, when its targets are capped by constants


def batch_formula(formula: str) -> FormulaFacts:
    """What a Batch autoscale formula's target assignments say, without running it. Unassigned targets are 0."""
    variables = {name.lower(): value for name, value in _ASSIGN.findall(_COMMENT.sub("", formula))}
    dedicated = variables.get("$targetdedicatednodes")
    low = variables.get("$targetlowprioritynodes")
    dedicated_cap = 0.0 if dedicated is None else _bound(dedicated, variables)
    low_cap = 0.0 if low is None else _bound(low, variables)
    total = None if dedicated_cap is None or low_cap is None else dedicated_cap + low_cap
    return FormulaFacts(
        low_priority=low is not None and low_cap != 0.0, dedicated_zero=dedicated_cap == 0.0, max_nodes=total
    )


def _batch_pool(name: str, props: Mapping[str, Any]) -> Pool:
    fixed = mapping(get(props, "scaleSettings", "fixedScale"))
    auto = mapping(get(props, "scaleSettings", "autoScale"))
    if auto:
        facts = batch_formula(str(auto.get("formula") or ""))
        return Pool(
            kind="Batch pool",
            name=name,
            vm_size=props.get("vmSize"),
            spot=facts.low_priority and facts.dedicated_zero,
            min_nodes=None,
            max_nodes=facts.max_nodes,
            autoscale=True,
            idle_minutes=_or_default(duration_minutes(auto.get("evaluationInterval")), 15.0),
            where="scaleSettings.autoScale",
        )
    dedicated = number(fixed.get("targetDedicatedNodes")) or 0.0
    low = number(fixed.get("targetLowPriorityNodes")) or 0.0
    return Pool(
        kind="Batch pool",
        name=name,
        vm_size=props.get("vmSize"),
        spot=dedicated == 0 and low > 0 if (dedicated or low) else None,
        min_nodes=dedicated + low,
        max_nodes=dedicated + low,
        autoscale=False,
        idle_minutes=None,
        where="scaleSettings.fixedScale",
    )


def pools(type_token: str, name: str, props: Mapping[str, Any]) -> list[Pool]:
    """The pools one resource defines (a ManagedCluster may define several inline)."""
    if type_token == ML_COMPUTE:
        compute = mapping(props.get("properties"))
        if not same(compute.get("computeType"), "AmlCompute"):
            return []
        inner = mapping(compute.get("properties"))
        scale = mapping(inner.get("scaleSettings"))
        priority = inner.get("vmPriority")
        return [
            Pool(
                kind="AML compute cluster",
                name=str(props.get("computeName") or name),
                vm_size=inner.get("vmSize"),
                spot=same(priority, "LowPriority"),
                min_nodes=_or_default(number(scale.get("minNodeCount")), 0.0),
                max_nodes=number(scale.get("maxNodeCount")),
                autoscale=True,
                idle_minutes=_or_default(duration_minutes(scale.get("nodeIdleTimeBeforeScaleDown")), 2.0),
                where="properties.properties",
            )
        ]
    if type_token == AKS_AGENT_POOL:
        return [_aks_pool(props, str(props.get("agentPoolName") or name), "")]
    if type_token == AKS_CLUSTER:
        return [
            _aks_pool(mapping(profile), str(get(profile, "name") or f"#{i}"), f"agentPoolProfiles[{i}].")
            for i, profile in enumerate(items(props.get("agentPoolProfiles")))
        ]
    if type_token == BATCH_POOL:
        return [_batch_pool(str(props.get("poolName") or name), props)]
    return []

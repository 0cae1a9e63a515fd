"""A pool's size, priority and scaling, read once from any program's wire properties, whatever service runs it.

One reader for the policy pack (cost rules), the cost estimate and the diagram. `pools(type, name, props)` turns an
AML compute cluster, an AKS node pool (its own AgentPool, or inline in a ManagedCluster) or a Batch pool into `Pool`s
with the same fields; `workload_profiles(props)` does the same for a Container Apps environment's workload profiles.
`None` means the value cannot be told from the properties (absent without an Azure default, or unknown in preview).

Azure's defaults and rules applied here, with their sources:
- AML compute (`properties.properties`): `scaleSettings.minNodeCount` defaults to 0 and `nodeIdleTimeBeforeScaleDown`
  to 120 s; `vmPriority` is `Dedicated` or `LowPriority` (azure-rest-api-specs, machineLearningServices
  `ScaleSettings`, `AmlComputeProperties`).
- AKS node pool: the cluster autoscaler sizes it between `minCount` and `maxCount` when `enableAutoScaling` is true;
  otherwise it runs `count` nodes, which defaults to 1 ("The default value is 1", azure-rest-api-specs containerService
  `ManagedClusterAgentPoolProfileProperties.count`); `scaleSetPriority` `Spot` is evictable capacity. The idle time
  before scale-down is the cluster's (`autoScalerProfile.scaleDownUnneededTime`), not the pool's.
- Batch pool: `scaleSettings.fixedScale` (`targetDedicatedNodes`, `targetLowPriorityNodes`, both default 0) or
  `scaleSettings.autoScale` (a formula, read by `batch_formula`; evaluated every `evaluationInterval`, default 15
  minutes; its minimum is the idle floor the formula states, e.g. `max(2, ...)`). Low-priority nodes of a Batch-managed account are Spot VMs (Azure/Batch#196), priced and counted as Spot.
  No scale settings: Azure creates the pool with 0 nodes.
- Container Apps workload profiles: `Consumption` and serverless GPU `Consumption-GPU-*` profiles bill per use and have
  no node count; any other (dedicated) profile bills per instance between `minimumCount` and `maximumCount`
  (Microsoft Learn, "Workload profiles in Azure Container Apps"; "Using serverless GPUs in Azure Container Apps").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .batch_formula import TargetBounds, formula_bounds
from .gpu_skus import is_gpu_size
from .wire import duration_minutes, get, is_true, items, mapping, number, same

ML_COMPUTE = "azure-native:machinelearningservices:Compute"
AKS_CLUSTER = "azure-native:containerservice:ManagedCluster"
AKS_AGENT_POOL = "azure-native:containerservice:AgentPool"
BATCH_POOL = "azure-native:batch:Pool"
POOL_TYPES = (ML_COMPUTE, AKS_AGENT_POOL, AKS_CLUSTER, BATCH_POOL)

AML_CLUSTER, AKS_POOL, BATCH = "AML compute cluster", "AKS node pool", "Batch pool"

# What capacity a node is, as prices and quotas tell them apart.
REGULAR, SPOT, LOW_PRIORITY = "regular", "spot", "low-priority"

AML_IDLE_MINUTES = 2.0  # nodeIdleTimeBeforeScaleDown default: PT120S
BATCH_EVALUATION_MINUTES = 15.0  # autoScale.evaluationInterval default: PT15M
AKS_DEFAULT_COUNT = 1.0
COUNT_DEFAULTED = "count not set: Azure's default is 1"
NO_AML_MAXIMUM = "no scaleSettings.maxNodeCount"
NO_BATCH_SCALE = "no scaleSettings: Azure starts it at 0 nodes"
NO_FORMULA_TARGET = "the autoscale formula sets no $TargetDedicatedNodes / $TargetLowPriorityNodes bound"


def capacity_of(priority: Any) -> str:
    """REGULAR, SPOT or LOW_PRIORITY for a priority property as any service writes it (AML `vmPriority`
    `LowPriority`/`Dedicated`, AKS `scaleSetPriority` `Spot`/`Regular`, VM and scale set `priority`
    `Regular`/`Low`/`Spot`); anything else, absent or unknown is regular capacity."""
    text = priority.lower().replace(" ", "").replace("_", "") if isinstance(priority, str) else ""
    if text in ("spot", "low") or text.startswith("spot"):
        return SPOT
    return LOW_PRIORITY if text.startswith("lowpriority") else REGULAR


@dataclass(frozen=True)
class Nodes:
    """Nodes of one capacity in a pool: `idle` with nothing to run, at most `max` (None: unbounded or unknown)."""

    capacity: str
    idle: float | None
    max: float | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scale:
    """How many nodes a pool runs: what only the scale settings (count, min/max, formula) tell."""

    min_nodes: float | None
    max_nodes: float | None
    autoscale: bool
    idle_minutes: float | None  # time an idle node is kept before scale-down
    nodes: tuple[Nodes, ...]  # by capacity: one entry, or a Batch pool's dedicated and low-priority nodes
    spot: bool | None  # every node it can run is Spot / low-priority; None when it can run no node


@dataclass(frozen=True)
class Pool:
    """One pool of nodes, service-neutral.

    Only the kind, name and VM size are read up front. The priority, labels and scale settings are read when first
    asked for, so a rule about the size (retired, allowed) is not stopped by a count, maximum or formula that is
    unknown in preview (reading one raises pulumi_policy's UnknownValueError in the pack), and the priority rule needs
    only the priority (AML, AKS)."""

    kind: str  # AML_CLUSTER, AKS_POOL or BATCH
    name: str
    vm_size: Any  # as written (unknown in preview: the pack never sees it, the engine sees `<computed>`)
    where: str = ""  # property path prefix, for messages
    props: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the pool's own properties

    @property
    def gpu(self) -> bool:
        return is_gpu_size(self.vm_size)

    def label(self) -> str:
        return f"{self.kind} '{self.name}'"

    @property
    def priority(self) -> Any:
        """The priority property as written (AML vmPriority, AKS scaleSetPriority; None for Batch)."""
        if self.kind == AML_CLUSTER:
            return self.props.get("vmPriority")
        return self.props.get("scaleSetPriority") if self.kind == AKS_POOL else None

    @property
    def labels(self) -> Mapping[str, Any]:
        return mapping(self.props.get("nodeLabels")) if self.kind == AKS_POOL else {}

    @cached_property
    def scale(self) -> Scale:
        return {AML_CLUSTER: _aml_scale, AKS_POOL: _aks_scale}.get(self.kind, _batch_scale)(self)

    @property
    def spot(self) -> bool | None:
        """Every node it can run is Spot / low-priority (AML, AKS: from the priority alone); None when it can run
        no node (Batch)."""
        return self.scale.spot if self.kind == BATCH else capacity_of(self.priority) != REGULAR

    @property
    def min_nodes(self) -> float | None:
        return self.scale.min_nodes

    @property
    def max_nodes(self) -> float | None:
        return self.scale.max_nodes

    @property
    def autoscale(self) -> bool:
        return self.scale.autoscale

    @property
    def idle_minutes(self) -> float | None:
        """Time an idle node is kept; None for AKS, where it is the cluster's (read without the pool's scale)."""
        return None if self.kind == AKS_POOL else self.scale.idle_minutes

    @property
    def nodes(self) -> tuple[Nodes, ...]:
        return self.scale.nodes


def _one_priority(
    pool: Pool, minimum: float | None, maximum: float | None, notes: tuple[str, ...], **scale: Any
) -> Scale:
    """The scale of a pool whose nodes all have the capacity its priority property says (AML and AKS)."""
    kind = capacity_of(pool.priority)
    nodes = (Nodes(kind, minimum, maximum, notes),)
    return Scale(min_nodes=minimum, max_nodes=maximum, nodes=nodes, spot=kind != REGULAR, **scale)


def _aml(name: str, props: Mapping[str, Any]) -> list[Pool]:
    compute = mapping(props.get("properties"))
    if not same(compute.get("computeType"), "AmlCompute"):
        return []
    inner = mapping(compute.get("properties"))
    name = str(props.get("computeName") or name)
    return [Pool(AML_CLUSTER, name, inner.get("vmSize"), "properties.properties", inner)]


def _aml_scale(pool: Pool) -> Scale:
    scale = mapping(pool.props.get("scaleSettings"))
    minimum = number(scale.get("minNodeCount"))
    maximum = number(scale.get("maxNodeCount"))
    idle = duration_minutes(scale.get("nodeIdleTimeBeforeScaleDown"))
    return _one_priority(
        pool,
        0.0 if minimum is None else minimum,
        maximum,
        () if maximum is not None else (NO_AML_MAXIMUM,),
        autoscale=True,
        idle_minutes=AML_IDLE_MINUTES if idle is None else idle,
    )


def _aks_scale(pool: Pool) -> Scale:
    profile = pool.props
    autoscale = is_true(profile.get("enableAutoScaling"))
    if autoscale:  # the autoscaler sizes it between minCount and maxCount; count is only the starting size
        minimum, maximum, notes = number(profile.get("minCount")), number(profile.get("maxCount")), ()
    else:
        count = number(profile.get("count"))
        notes = () if count is not None else (COUNT_DEFAULTED,)
        minimum = maximum = AKS_DEFAULT_COUNT if count is None else count
    # idle time is cluster-wide: autoScalerProfile.scaleDownUnneededTime on the ManagedCluster
    return _one_priority(pool, minimum, maximum, notes, autoscale=autoscale, idle_minutes=None)


def _total(values: Sequence[float | None]) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def _running_spot(nodes: Sequence[Nodes]) -> bool | None:
    """Every node the pool can run is Spot / low-priority; None when it can run none."""
    running = [n for n in nodes if n.max != 0]
    return all(n.capacity != REGULAR for n in running) if running else None


def _batch_nodes(target: TargetBounds | None, kind: str) -> list[Nodes]:
    if target is None or target.max == 0:
        return []
    return [Nodes(kind, target.idle, target.max, target.notes)]


def _batch(name: str, props: Mapping[str, Any]) -> Pool:
    fixed = isinstance(get(props, "scaleSettings", "fixedScale"), Mapping)
    auto = not fixed and bool(mapping(get(props, "scaleSettings", "autoScale")))
    where = "scaleSettings.autoScale" if auto else "scaleSettings.fixedScale"
    return Pool(BATCH, str(props.get("poolName") or name), props.get("vmSize"), where, props)


def _batch_scale(pool: Pool) -> Scale:
    props = pool.props
    fixed = get(props, "scaleSettings", "fixedScale")
    auto = mapping(get(props, "scaleSettings", "autoScale"))
    if auto and not isinstance(fixed, Mapping):
        bounds = formula_bounds(str(auto.get("formula") or ""))
        nodes = _batch_nodes(bounds.dedicated, REGULAR) + _batch_nodes(bounds.low_priority, SPOT)
        nodes = nodes or [Nodes(REGULAR, 0.0, None, (NO_FORMULA_TARGET,))]
        idle = duration_minutes(auto.get("evaluationInterval"))
        return Scale(
            min_nodes=_total([n.idle for n in nodes]),  # the idle floors the formula states (max(2, ...), a ? 20 : 10)
            max_nodes=_total([n.max for n in nodes]),
            autoscale=True,
            idle_minutes=BATCH_EVALUATION_MINUTES if idle is None else idle,
            nodes=tuple(nodes),
            spot=_running_spot(nodes),
        )
    if isinstance(fixed, Mapping):
        dedicated = number(fixed.get("targetDedicatedNodes")) or 0.0
        low = number(fixed.get("targetLowPriorityNodes")) or 0.0
        nodes = [Nodes(kind, n, n) for kind, n in ((REGULAR, dedicated), (SPOT, low)) if n]
    else:
        nodes = [Nodes(REGULAR, 0.0, 0.0, (NO_BATCH_SCALE,))]
    size = _total([n.max for n in nodes])
    return Scale(
        min_nodes=size,
        max_nodes=size,
        autoscale=False,
        idle_minutes=None,
        nodes=tuple(nodes),
        spot=_running_spot(nodes),
    )


def agent_pools(type_token: str, name: str, props: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(name, property-path prefix, wire properties) of each AKS node pool a resource defines: an AgentPool is one
    pool, a ManagedCluster has its `agentPoolProfiles` inline. Reads nothing else, so a rule about another pool
    property is not stopped by a scaling value that is unknown in preview."""
    if type_token == AKS_AGENT_POOL:
        return [(str(props.get("agentPoolName") or name), "", props)]
    if type_token == AKS_CLUSTER:
        return [
            (str(get(profile, "name") or f"#{i}"), f"agentPoolProfiles[{i}].", mapping(profile))
            for i, profile in enumerate(items(props.get("agentPoolProfiles")))
        ]
    return []


def pools(type_token: str, name: str, props: Mapping[str, Any]) -> list[Pool]:
    """The pools one resource defines (a ManagedCluster may define several inline); [] for other types."""
    if type_token == ML_COMPUTE:
        return _aml(name, props)
    if type_token == BATCH_POOL:
        return [_batch(name, props)]
    return [
        Pool(AKS_POOL, pool_name, profile.get("vmSize"), where, profile)
        for pool_name, where, profile in agent_pools(type_token, name, props)
    ]


@dataclass(frozen=True)
class WorkloadProfile:
    """One entry of a Container Apps environment's `workloadProfiles`. Only the type is read up front; the rest is
    read when asked for, so the pack reads no property of a profile it does not check (a value unknown in preview
    would stop its rule)."""

    index: int
    kind: str  # workloadProfileType ('' when not set)
    props: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def name(self) -> Any:
        return get(self.props, "name")

    @property
    def min_nodes(self) -> float | None:
        return number(get(self.props, "minimumCount"))

    @property
    def max_nodes(self) -> float | None:
        return number(get(self.props, "maximumCount"))

    @property
    def dedicated(self) -> bool:
        """Billed per instance with a node count; Consumption and serverless GPU profiles bill per use."""
        return bool(self.kind) and not self.kind.lower().startswith("consumption")

    @property
    def serverless_gpu(self) -> bool:
        return self.kind.lower().startswith("consumption-gpu")

    @property
    def gpu(self) -> bool:
        """A GPU profile: serverless (`Consumption-GPU-*`) or dedicated (the `NC*` profile types)."""
        return self.serverless_gpu or self.kind.upper().startswith("NC")


def workload_profiles(props: Mapping[str, Any]) -> list[WorkloadProfile]:
    """The workload profiles of a ManagedEnvironment's properties, in order."""
    profiles = []
    for i, profile in enumerate(items(props.get("workloadProfiles"))):
        kind = get(profile, "workloadProfileType")
        profiles.append(WorkloadProfile(i, kind if isinstance(kind, str) else "", mapping(profile)))
    return profiles


def workload_profile(props: Mapping[str, Any], name: Any) -> WorkloadProfile | None:
    """The environment's profile called `name` (what a Container App's `workloadProfileName` picks)."""
    if not isinstance(name, str) or not name:
        return None
    return next((p for p in workload_profiles(props) if p.name == name), None)

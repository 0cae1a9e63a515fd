"""What each priced resource costs: one rule per azure-native type, into items billed per unit-hour."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiinfra.catalog.gpu_skus import is_gpu_size
from aiinfra.catalog.pools import (
    AKS_POOL,
    BATCH,
    REGULAR,
    Pool,
    capacity_of,
    pools,
    workload_profile,
    workload_profiles,
)

from ..plan import COMPUTED_MARKER, Registration
from .compute_instance import compute_instance_hours
from .plan_index import _PARENT_ID_KEYS, PlanIndex, _num, dig, text_of
from .prices import HOURS_PER_MONTH, PriceTable, Quote


def _monthly(hourly: float | None) -> float | None:
    return None if hourly is None else hourly * HOURS_PER_MONTH


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class Item:
    """Something billed per unit-hour: `idle_units` run with zero jobs, `max_units` (None: unbounded) at max scale."""

    resource: Registration
    label: str
    rate: Quote
    idle_units: float
    max_units: float | None
    gpu: bool = False
    dedicated_rate: Quote | None = None  # a spot / low-priority item's dedicated equivalent, for the saving
    notes: list[str] = field(default_factory=list)
    # What the capacity is, for the quota view (engine/quota.py): VM size, priority and region of VM items, the
    # workload profile of serverless GPU items.
    vm_size: str | None = None
    priority: str = REGULAR
    region: str | None = None
    profile: str | None = None
    unknown: bool = False  # its node count is unknown until apply (preview semantics): unpriced, not unbounded

    @staticmethod
    def _times(units: float | None, rate: float | None) -> float | None:
        if units == 0:
            return 0.0  # nothing runs: free whatever the price
        return None if units is None or rate is None else units * rate

    @property
    def idle_hourly(self) -> float | None:
        return None if self.unknown else self._times(self.idle_units, self.rate.hourly)

    @property
    def max_hourly(self) -> float | None:
        return None if self.unknown else self._times(self.max_units, self.rate.hourly)

    @property
    def saving_hourly(self) -> float | None:
        if self.dedicated_rate is None:
            return 0.0
        dedicated = self._times(self.max_units, self.dedicated_rate.hourly)
        actual = self.max_hourly
        return None if dedicated is None or actual is None else dedicated - actual

    @property
    def problem(self) -> str | None:
        if self.unknown:
            return self.rate.problem or UNKNOWN_UNTIL_APPLY
        if self.rate.problem and (self.idle_units or self.max_units != 0):
            return self.rate.problem
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.resource.urn,
            "type": self.resource.type,
            "name": self.resource.name,
            "label": self.label,
            "gpu": self.gpu,
            "idleUnits": self.idle_units,
            "maxUnits": self.max_units,
            "ratePerHour": _round(self.rate.hourly, 4),
            "idleMonthly": _round(_monthly(self.idle_hourly), 2),
            "maxHourly": _round(self.max_hourly, 4),
            "spotSavingHourly": _round(self.saving_hourly, 4),
            "approximate": self.rate.approximate,
            "unpriced": self.problem,
            "unknownUntilApply": self.unknown,
            "notes": self.notes,
            "price": self.rate.row.as_json() if self.rate.row else None,
        }


UNKNOWN_UNTIL_APPLY = "node count unknown until apply (preview semantics)"

# The inputs that size a pool, by kind and autoscaling (paths under the pool's own properties). Under preview semantics any of them may
# be `<computed>` (an `apply` or another resource's output): the pool reader takes an unknown number for an absent one
# (an AKS count for Azure's default 1, a Batch target for 0, the marker for formula text), so the estimate checks here.
_AKS_SCALE_INPUTS = {
    True: (("enableAutoScaling",), ("minCount",), ("maxCount",)),
    False: (("enableAutoScaling",), ("count",)),
}
_BATCH_SCALE_INPUTS = (
    ("scaleSettings",),
    ("scaleSettings", "fixedScale"),
    ("scaleSettings", "fixedScale", "targetDedicatedNodes"),
    ("scaleSettings", "fixedScale", "targetLowPriorityNodes"),
    ("scaleSettings", "autoScale"),
    ("scaleSettings", "autoScale", "formula"),
)
_AML_SCALE_INPUTS = (("scaleSettings",), ("scaleSettings", "minNodeCount"), ("scaleSettings", "maxNodeCount"))


def unknown_scale(pool: Pool) -> list[str]:
    """The property paths of the pool's size inputs that are unknown until apply."""
    if pool.kind == AKS_POOL:
        paths, prefix = _AKS_SCALE_INPUTS[pool.autoscale], pool.where  # "" or "agentPoolProfiles[i]."
    elif pool.kind == BATCH:
        paths, prefix = _BATCH_SCALE_INPUTS, ""
    else:
        paths, prefix = _AML_SCALE_INPUTS, pool.where + "."  # the pool's props are properties.properties
    return [prefix + ".".join(path) for path in paths if dig(pool.props, *path) == COMPUTED_MARKER]


class _Pricer:
    def __init__(self, plan: PlanIndex, prices: PriceTable) -> None:
        self.plan = plan
        self.prices = prices

    def vms(
        self,
        r: Registration,
        label: str,
        size: str | None,
        priority: str,
        idle: float,
        peak: float | None,
        notes: list[str] | None = None,
    ) -> Item:
        notes = list(notes or [])
        if size is None:
            return Item(r, label, Quote(problem=f"{label}: no vmSize"), idle, peak, notes=notes)
        region = self.plan.region_of(r)
        kind = "" if priority == REGULAR else f" {priority}"
        item = Item(
            r,
            f"{label}: {size}{kind}",
            self.prices.vm(size, region, priority),
            idle,
            peak,
            gpu=is_gpu_size(size),
            notes=notes,
            vm_size=size,
            priority=priority,
            region=region,
        )
        if priority != REGULAR:
            item.dedicated_rate = self.prices.vm(size, region, REGULAR)
        return item

    def pool_items(self, r: Registration, pool: Pool, label: str) -> list[Item]:
        """One item per capacity the pool runs (a Batch pool may run dedicated and Spot nodes)."""
        size = text_of(pool.vm_size)
        unknown = unknown_scale(pool)
        if unknown:
            item = self.vms(
                r, label, size, REGULAR, 0.0, None, [f"{', '.join(unknown)}: unknown until apply (preview semantics)"]
            )
            item.unknown = True
            return [item]
        return [self.vms(r, label, size, n.capacity, n.idle or 0.0, n.max, list(n.notes)) for n in pool.nodes]

    def aml_compute(self, r: Registration) -> list[Item]:
        props = r.inputs.get("properties") or {}
        kind = text_of(dig(props, "computeType"))
        if kind == "ComputeInstance":
            # Hook (issue 20): billed while running, for the hours its schedules keep it on (compute_instance.py).
            hours, notes = compute_instance_hours(props)
            return [
                self.vms(
                    r,
                    f"AML compute instance {r.name} (while running)",
                    text_of(dig(props, "properties", "vmSize")),
                    REGULAR,
                    hours / HOURS_PER_MONTH,
                    1.0,
                    notes,
                )
            ]
        return [
            item
            for pool in pools(r.type, r.name, r.inputs)
            for item in self.pool_items(r, pool, f"AML compute cluster {r.name}")
        ]

    def agent_pool(self, r: Registration, pool: Pool, label: str) -> Item:
        """An AKS node pool, inline in the cluster or its own AgentPool: min..max when autoscaling, else count."""
        mode = (text_of(pool.props.get("mode")) or "User").lower()
        (item,) = self.pool_items(r, pool, f"{label} ({mode})")
        return item

    def managed_cluster(self, r: Registration) -> list[Item]:
        tier = text_of(dig(r.inputs, "sku", "tier")) or "Free"
        if tier.lower() == "free":
            rate = Quote(free_because="the Free tier has no charge")
        else:
            rate = self.prices.service("Azure Kubernetes Service", tier, self.plan.region_of(r))
        items = [Item(r, f"AKS {r.name} control plane, {tier} tier", rate, 1.0, 1.0)]
        raw = r.inputs.get("agentPoolProfiles") or []
        for i, pool in enumerate(pools(r.type, r.name, r.inputs)):
            if isinstance(raw[i], dict):  # an entry that is not an object is no pool
                items.append(self.agent_pool(r, pool, f"AKS {r.name} pool {text_of(raw[i].get('name')) or i}"))
        return items

    def aks_agent_pool(self, r: Registration) -> list[Item]:
        (pool,) = pools(r.type, r.name, r.inputs)
        return [self.agent_pool(r, pool, f"AKS node pool {r.name}")]

    def batch_pool(self, r: Registration) -> list[Item]:
        (pool,) = pools(r.type, r.name, r.inputs)
        return self.pool_items(r, pool, f"Batch pool {r.name}")

    def _environment_profile(self, r: Registration) -> tuple[Registration | None, str | None]:
        env = None
        for key in _PARENT_ID_KEYS:
            env = env or self.plan.referenced(r.inputs.get(key))
        if env is None:
            return None, None
        profile = workload_profile(env.inputs, text_of(r.inputs.get("workloadProfileName")))
        return env, text_of(profile.kind) if profile else None

    def _serverless_gpu(
        self, r: Registration, label: str, idle: float, peak: float | None, notes: list[str]
    ) -> list[Item]:
        env, profile = self._environment_profile(r)
        if env is None or not profile or not profile.lower().startswith("consumption-gpu"):
            return []  # consumption CPU is billed per use: not estimated
        region = self.plan.region_of(r)
        rate = self.prices.service("Azure Container Apps", profile, region)
        return [
            Item(r, f"{label} on {profile}", rate, idle, peak, gpu=True, notes=notes, region=region, profile=profile)
        ]

    def container_app(self, r: Registration) -> list[Item]:
        scale = dig(r.inputs, "template", "scale") or {}
        notes = []
        peak = _num(scale.get("maxReplicas"))
        if peak is None:
            peak = 10.0
            notes.append("maxReplicas not set: Azure's default is 10")
        return self._serverless_gpu(r, f"Container App {r.name}", _num(scale.get("minReplicas")) or 0.0, peak, notes)

    def container_job(self, r: Registration) -> list[Item]:
        config = r.inputs.get("configuration") or {}
        notes: list[str] = []
        trigger = next(
            (
                config[k]
                for k in ("eventTriggerConfig", "manualTriggerConfig", "scheduleTriggerConfig")
                if isinstance(config.get(k), dict)
            ),
            {},
        )
        parallelism = _num(trigger.get("parallelism")) or 1.0
        executions = _num(dig(trigger, "scale", "maxExecutions"))
        if "scale" in trigger and executions is None:
            executions = 100.0
            notes.append("scale.maxExecutions not set: Azure's default is 100")
        peak = parallelism * (executions or 1.0)
        return self._serverless_gpu(r, f"Container Apps job {r.name}", 0.0, peak, notes)

    def managed_environment(self, r: Registration) -> list[Item]:
        """Dedicated workload profiles bill per instance; consumption ones (CPU or GPU) bill the apps on them."""
        items = []
        for profile in workload_profiles(r.inputs):
            kind = text_of(profile.kind)
            if not kind or not profile.dedicated:
                continue
            rate = self.prices.service("Azure Container Apps", kind, self.plan.region_of(r))
            items.append(
                Item(
                    r,
                    f"Container Apps environment {r.name} dedicated profile {kind}",
                    rate,
                    profile.min_nodes or 0.0,
                    profile.max_nodes,
                    gpu=profile.gpu,
                )
            )
        return items

    def fixed(self, r: Registration, label: str, rate: Quote) -> list[Item]:
        return [Item(r, label, rate, 1.0, 1.0)]

    def private_endpoint(self, r: Registration) -> list[Item]:
        rate = self.prices.service(
            "Virtual Network",
            "Standard",
            self.plan.region_of(r),
            product="Virtual Network Private Link",
            meter_suffix="Private Endpoint",
        )
        return self.fixed(r, f"private endpoint {r.name}", rate)

    def registry(self, r: Registration) -> list[Item]:
        tier = text_of(dig(r.inputs, "sku", "name")) or "?"
        rate = self.prices.service("Container Registry", tier, self.plan.region_of(r), meter_suffix="Registry Unit")
        return self.fixed(r, f"container registry {r.name}, {tier}", rate)

    def firewall(self, r: Registration, tier: str, label: str) -> list[Item]:
        rate = self.prices.service(
            "Azure Firewall", tier, self.plan.region_of(r), product="Azure Firewall", meter_suffix="Deployment"
        )
        return self.fixed(r, f"{label}, {tier}", rate)

    def azure_firewall(self, r: Registration) -> list[Item]:
        return self.firewall(r, text_of(dig(r.inputs, "sku", "tier")) or "Standard", f"Azure Firewall {r.name}")

    def ml_workspace(self, r: Registration) -> list[Item]:
        return [*self._ml_workspace_firewall(r), *self._ml_workspace_cmk_services(r)]

    def _ml_workspace_cmk_services(self, r: Registration) -> list[Item]:
        """What Azure bills for a workspace encrypted with a customer-managed key, by the workspace's setting (Learn,
        "Customer-managed keys for Azure Machine Learning"):
        - classic (`enableServiceSideCMKEncryption` unset or false): Azure creates an Azure Cosmos DB account, an Azure
          AI Search service and a storage account in a Microsoft-managed resource group of your subscription, billed
          to it ("the costs for your subscription are higher"; Cosmos DB request units scale as needed). When the
          workspace has a private endpoint, that group also holds a Microsoft-managed virtual network;
        - service-side (`enableServiceSideCMKEncryption: true`): the metadata goes to Microsoft's multitenant
          resources (document-level CMK encryption), so no Cosmos DB and no storage in your subscription. Only an AI
          Search instance, hosted by Microsoft per workspace, is charged to your subscription through the workspace.
        Neither has a list price to quote here, so the item is unpriced and every total with it is a lower bound (`≥`).
        """
        if (text_of(dig(r.inputs, "encryption", "status")) or "").lower() != "enabled":
            return []
        if r.inputs.get("enableServiceSideCMKEncryption") is True:
            return self.fixed(
                r,
                f"Azure AI Search of CMK ML workspace {r.name} (service-side encryption: hosted by Microsoft, billed "
                "through the workspace)",
                Quote(
                    problem="not estimated: with service-side CMK encryption Azure bills a dedicated AI Search "
                    "instance through the workspace; Cosmos DB and storage stay on Microsoft's side"
                ),
            )
        return self.fixed(
            r,
            f"Azure Cosmos DB, AI Search and storage of CMK ML workspace {r.name} (managed resource group)",
            Quote(
                problem="not estimated: Azure creates and bills these for a customer-managed-key workspace, in a "
                "Microsoft-managed resource group of your subscription (with a Microsoft-managed virtual network "
                "too when the workspace has a private endpoint)"
            ),
        )

    def _ml_workspace_firewall(self, r: Registration) -> list[Item]:
        """A managed network that allows only approved outbound and has FQDN rules runs an Azure Firewall."""
        network = r.inputs.get("managedNetwork") or {}
        rules = [v for v in (network.get("outboundRules") or {}).values() if isinstance(v, dict)]
        group = text_of(r.inputs.get("resourceGroupName"))
        for rule in self.plan.resources:
            if (
                rule.type == "azure-native:machinelearningservices:ManagedNetworkSettingsRule"
                and self.plan.named(r.type, text_of(rule.inputs.get("workspaceName")), group) is r
            ):
                rules.append(rule.inputs.get("properties") or {})
        fqdn = sum(1 for rule in rules if str(rule.get("type", "")).upper() == "FQDN")
        if network.get("isolationMode") != "AllowOnlyApprovedOutbound" or not fqdn:
            return []
        tier = text_of(network.get("firewallSku")) or "Standard"
        rules_text = f"{fqdn} FQDN rule{'s' * (fqdn > 1)}"
        return self.firewall(r, tier, f"Azure Firewall of ML workspace {r.name}'s managed network ({rules_text})")

    def nat_gateway(self, r: Registration) -> list[Item]:
        rate = self.prices.service("NAT Gateway", "Standard", self.plan.region_of(r), meter_suffix="Gateway")
        return self.fixed(r, f"NAT gateway {r.name}", rate)

    def public_ip(self, r: Registration) -> list[Item]:
        """A Standard public IP bills per hour while it exists (Basic was retired on 2025-09-30, so has no row)."""
        sku = text_of(dig(r.inputs, "sku", "name")) or "Standard"
        rate = self.prices.service("Virtual Network", sku, self.plan.region_of(r), product="IP Addresses")
        return self.fixed(r, f"public IP {r.name}, {sku}", rate)

    def always_on(self, r: Registration) -> list[Item]:
        """A type with a standing charge (or one we know nothing of) and no rule: an unpriced item, so every total
        it belongs to is a lower bound (`≥`), never a complete figure."""
        short = r.type.removeprefix("azure-native:")
        return self.fixed(
            r,
            f"{short} {r.name}",
            Quote(problem=f"no price for {short} in the price table (it may bill while it exists)"),
        )

    def virtual_machine(self, r: Registration) -> list[Item]:
        return [
            self.vms(
                r,
                f"VM {r.name}",
                text_of(dig(r.inputs, "hardwareProfile", "vmSize")),
                capacity_of(r.inputs.get("priority")),
                1.0,
                1.0,
            )
        ]

    def scale_set(self, r: Registration) -> list[Item]:
        capacity = _num(dig(r.inputs, "sku", "capacity"))
        notes = [] if capacity is not None else ["sku.capacity not set"]
        return [
            self.vms(
                r,
                f"VM scale set {r.name}",
                text_of(dig(r.inputs, "sku", "name")),
                capacity_of(dig(r.inputs, "virtualMachineProfile", "priority")),
                capacity or 0.0,
                capacity,
                notes,
            )
        ]

    def rules(self) -> dict[str, Callable[[Registration], list[Item]]]:
        return {
            "azure-native:machinelearningservices:Compute": self.aml_compute,
            "azure-native:machinelearningservices:Workspace": self.ml_workspace,
            "azure-native:containerservice:ManagedCluster": self.managed_cluster,
            "azure-native:containerservice:AgentPool": self.aks_agent_pool,
            "azure-native:batch:Pool": self.batch_pool,
            "azure-native:app:ContainerApp": self.container_app,
            "azure-native:app:Job": self.container_job,
            "azure-native:app:ManagedEnvironment": self.managed_environment,
            "azure-native:network:PrivateEndpoint": self.private_endpoint,
            "azure-native:network:AzureFirewall": self.azure_firewall,
            "azure-native:containerregistry:Registry": self.registry,
            "azure-native:compute:VirtualMachine": self.virtual_machine,
            "azure-native:compute:VirtualMachineScaleSet": self.scale_set,
            "azure-native:network:NatGateway": self.nat_gateway,
            "azure-native:network:PublicIPAddress": self.public_ip,
            # Azure OpenAI deployments: priced in their own module (engine/cost/openai.py).
            "azure-native:cognitiveservices:Deployment": self.openai_deployment,
            # Private DNS zones, VPN/ExpressRoute gateways, App Service plans, SQL databases (engine/cost/standing.py).
            **self.standing_rules(),
        }

    def standing_rules(self) -> dict[str, Callable[[Registration], list[Item]]]:
        from .standing import STANDING_RULES  # its own module; it imports this one

        return {kind: functools.partial(rule, self) for kind, rule in STANDING_RULES.items()}

    def openai_deployment(self, r: Registration) -> list[Item]:
        from .openai import price_openai_deployment  # its own module; it imports this one

        return price_openai_deployment(self.prices, r)


# Resource types with no standing charge of their own; anything else unpriced is listed as "not estimated".
_NO_CHARGE = {
    "authorization:RoleAssignment",
    "authorization:RoleDefinition",
    "authorization:ManagementLockAtResourceGroupLevel",
    "authorization:ManagementLockByScope",
    "authorization:PolicyAssignment",
    "batch:BatchAccount",
    "cognitiveservices:Account",
    "cognitiveservices:RaiPolicy",
    "machinelearningservices:WorkspaceConnection",
    "consumption:Budget",
    "insights:DiagnosticSetting",
    "machinelearningservices:ManagedNetworkSettingsRule",
    "monitor:DiagnosticSetting",
    "storage:ManagementPolicy",
    "storage:BlobServiceProperties",
    "managedidentity:FederatedIdentityCredential",
    "managedidentity:UserAssignedIdentity",
    "network:NetworkSecurityGroup",
    "network:PrivateDnsZoneGroup",
    "network:Route",
    "network:RouteTable",
    "network:SecurityRule",
    "network:Subnet",
    "network:VirtualNetwork",
    "resources:ResourceGroup",
    "compute:DiskEncryptionSet",
    "containerservice:MaintenanceConfiguration",
    "kubernetesconfiguration:Extension",
    "monitor:DataCollectionRuleAssociation",
    "privatedns:VirtualNetworkLink",
    "sql:Server",
}

# Types billed only for what they store, ingest or serve (per GB, per operation, per query): $0 for an idle month
# beyond what is stored, so listed as "billed by use" without making a total a lower bound. Each service's pricing
# page bills them that way (storage per GB stored and per operation; Key Vault software keys and secrets per 10,000
# operations; Log Analytics and Application Insights per GB ingested on pay-as-you-go; record sets within their zone).
# An HSM-protected key bills per key per month, so it is not here (see _standing).
_BILLED_BY_USE = {
    "applicationinsights:Component",
    "insights:Component",
    "keyvault:Vault",
    "keyvault:Key",
    "keyvault:Secret",
    "monitor:DataCollectionRule",
    "operationalinsights:Workspace",
    "privatedns:PrivateRecordSet",
    "storage:StorageAccount",
    "storage:BlobContainer",
    "storage:Queue",
    "storage:Table",
    "storage:FileShare",
}


def _standing(r: Registration, short: str) -> bool:
    """Whether an unpriced resource may bill while it exists (an always-on charge the total leaves out)."""
    if short in _NO_CHARGE:
        return False
    if short == "keyvault:Key":
        return str(dig(r.inputs, "properties", "kty") or "").upper().endswith("-HSM")
    if short == "operationalinsights:Workspace":
        return str(dig(r.inputs, "sku", "name") or "PerGB2018").lower() == "capacityreservation"
    return short not in _BILLED_BY_USE

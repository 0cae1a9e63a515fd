"""The quota an environment needs at full scale: the first thing that stops a real GPU deploy.

Read from the cost estimate's items (each VM item knows its size, priority, region and max count; each serverless GPU
item its workload profile), so the pools are read once, by the estimate. Which quota a pool draws on depends on the
service:

- AML compute clusters: Azure Machine Learning's own quota, per VM family and region, with one regional low-priority
  pool ("Azure Machine Learning compute is an exception. It has a separate quota from the core compute quota",
  Microsoft Learn, "Manage and increase quotas and limits for resources with Azure Machine Learning",
  https://learn.microsoft.com/azure/machine-learning/how-to-manage-quotas);
- AKS node pools (VM scale sets in the subscription): the Compute vCPU quota per VM family and region, plus
  "Total Regional vCPUs"; Spot pools draw on the regional Spot/low-priority vCPU quota instead
  (https://learn.microsoft.com/azure/quotas/per-vm-quota-requests, https://learn.microsoft.com/azure/quotas/spot-quota);
- Batch pools: in the default Batch-service pool allocation mode, the Batch account's own quotas (dedicated vCPUs per
  VM family, total low-priority/Spot vCPUs); in user-subscription mode, the subscription's Compute quotas
  (https://learn.microsoft.com/azure/batch/batch-quota-limit);
- Container Apps serverless GPUs: GPU quota per workload profile (one GPU per replica of the NC8as-T4 and NC24-A100
  profiles), requested through Azure support for an environment (https://learn.microsoft.com/azure/container-apps/
  quota-requests).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiinfra.catalog.gpu_skus import CATALOGUE as GPU_SIZES
from aiinfra.catalog.pools import REGULAR
from aiinfra.catalog.serverless_gpus import serverless_gpu

from .cost import CostEstimate, Item
from .monitor import Registration

AML, AKS, BATCH, APPS, VMS = "Azure Machine Learning", "AKS (Compute)", "Batch", "Container Apps", "Compute"
DEDICATED, LOW_PRIORITY = "dedicated", "low-priority/Spot"

_SERVICE_OF = {
    "azure-native:machinelearningservices:Compute": AML,
    "azure-native:containerservice:ManagedCluster": AKS,
    "azure-native:containerservice:AgentPool": AKS,
    "azure-native:batch:Pool": BATCH,
    "azure-native:compute:VirtualMachine": VMS,
    "azure-native:compute:VirtualMachineScaleSet": VMS,
}

HOW_TO_REQUEST = {
    AML: "Azure portal > Azure Machine Learning > Quota (or Quotas > Machine Learning): request per VM family and "
    "region; low-priority is one regional quota (learn.microsoft.com/azure/machine-learning/how-to-manage-quotas)",
    AKS: "Azure portal > Quotas > Compute: request the VM-family vCPUs and Total Regional vCPUs; Spot pools need "
    "Total Regional Spot vCPUs (learn.microsoft.com/azure/quotas/per-vm-quota-requests, .../spot-quota)",
    VMS: "Azure portal > Quotas > Compute: VM-family vCPUs and Total Regional vCPUs "
    "(learn.microsoft.com/azure/quotas/per-vm-quota-requests)",
    BATCH: "Azure portal > the Batch account > Quotas > Request quota increase: dedicated vCPUs per VM family, "
    "low-priority vCPUs in total (learn.microsoft.com/azure/batch/batch-quota-limit)",
    APPS: "Azure portal > Help + support > New support request > Service and subscription limits (quotas) > "
    "Container Apps: managed environment consumption GPUs per profile "
    "(learn.microsoft.com/azure/container-apps/quota-requests)",
}


# The one quota low-priority and Spot capacity draws on, per service (sources above).
_LOW_PRIORITY_QUOTA = {
    AML: "low-priority vCPUs (regional)",
    AKS: "Total Regional Spot vCPUs",
    VMS: "Total Regional Spot vCPUs",
    BATCH: "low-priority vCPUs (account)",
}

_SIZE = re.compile(r"^standard_([a-z]+?)(\d+)([a-z]*)(?:_([a-z0-9]+))?_v(\d+)$", re.IGNORECASE)


def vm_quota_family(size: str) -> tuple[int, str] | None:
    """(vCPUs, quota family) of a VM size: the GPU catalogue's entry, else read from the size's name the way Azure names
    the family (`Standard_D8ds_v5` -> 8 vCPUs, standardDDSv5Family); None when the name does not follow the pattern."""
    known = next((s for name, s in GPU_SIZES.items() if name.lower() == size.lower()), None)
    if known is not None:
        return known.vcpus, known.family
    match = _SIZE.match(size)
    if not match:
        return None
    series, vcpus, features, accelerator, generation = match.groups()
    accel = (accelerator or "").upper()
    return int(vcpus), f"standard{series.upper()}{features.upper()}{accel}v{generation}Family"


@dataclass
class QuotaNeed:
    service: str
    scope: str  # where the quota lives: a region, or a Batch account in a region
    family: str  # a VM family, a profile, or "regional low-priority"
    kind: str  # DEDICATED or LOW_PRIORITY (or "GPUs" for serverless)
    amount: float
    unit: str  # "vCPUs" or "GPUs"
    pools: list[str]
    unbounded: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "scope": self.scope,
            "family": self.family,
            "kind": self.kind,
            "amount": None if self.unbounded else self.amount,
            "unit": self.unit,
            "pools": self.pools,
            "unbounded": self.unbounded,
            "howToRequest": HOW_TO_REQUEST[self.service],
        }


def _batch_scope(item: Item, accounts: dict[str, Any]) -> tuple[str, str]:
    account_name = item.resource.inputs.get("accountName")
    account = accounts.get(str(account_name).lower()) if isinstance(account_name, str) else None
    mode = (account.inputs.get("poolAllocationMode") if account is not None else None) or "BatchService"
    if str(mode).lower() == "usersubscription":
        return VMS, f"{item.region or '?'}"
    return BATCH, f"{item.region or '?'} / account {account_name}"


def quota_needs(estimate: CostEstimate, resources: Iterable[Registration]) -> list[QuotaNeed]:
    """What the plan needs at full scale, per service, scope, family and priority; low-priority and Spot vCPUs add up in
    one regional quota, so they are listed once per region and service. `resources` are the plan's (for the Batch
    accounts' pool allocation mode)."""
    accounts = {
        str(r.inputs.get("accountName")).lower(): r for r in resources if r.type == "azure-native:batch:BatchAccount"
    }
    needs: dict[tuple[str, str, str, str], QuotaNeed] = {}

    def add(service: str, scope: str, family: str, kind: str, amount: float | None, unit: str, pool: str) -> None:
        need = needs.setdefault((service, scope, family, kind), QuotaNeed(service, scope, family, kind, 0.0, unit, []))
        if amount is None:
            need.unbounded = True
        else:
            need.amount += amount
        if pool not in need.pools:
            need.pools.append(pool)

    for item in estimate.items:
        if item.profile is not None:
            gpu = serverless_gpu(item.profile)
            if gpu is not None:
                # Serverless GPU quota is granted per managed environment (and per subscription for the A100s).
                env_id = item.resource.inputs.get("managedEnvironmentId") or item.resource.inputs.get("environmentId")
                env = str(env_id).rstrip("/").rsplit("/", 1)[-1] if isinstance(env_id, str) and "/" in env_id else "?"
                add(
                    APPS,
                    f"{item.region or '?'} / environment {env}",
                    item.profile,
                    "GPUs",
                    None if item.max_units is None else item.max_units * gpu.gpus,
                    "GPUs",
                    item.resource.name,
                )
            continue
        service = _SERVICE_OF.get(item.resource.type)
        if service is None or item.vm_size is None or item.max_units == 0:
            continue
        scope = item.region or "?"
        if service == BATCH:
            service, scope = _batch_scope(item, accounts)
        size = vm_quota_family(item.vm_size)
        vcpus, family = size if size else (None, f"{item.vm_size} (family unknown)")
        amount = None if item.max_units is None or vcpus is None else item.max_units * vcpus
        if item.priority == REGULAR:
            add(service, scope, family, DEDICATED, amount, "vCPUs", item.resource.name)
            if service in (AKS, VMS):
                add(service, scope, "Total Regional vCPUs", DEDICATED, amount, "vCPUs", item.resource.name)
        else:
            add(service, scope, _LOW_PRIORITY_QUOTA[service], LOW_PRIORITY, amount, "vCPUs", item.resource.name)
    order = {AML: 0, AKS: 1, BATCH: 2, VMS: 3, APPS: 4}
    return sorted(
        needs.values(),
        key=lambda n: (order[n.service], n.scope, n.kind != DEDICATED, n.family.startswith("Total"), n.family),
    )


def render_quota(needs: Sequence[QuotaNeed], how: bool = True) -> str:
    if not needs:
        return "Quota at full scale: no VM pools or serverless GPUs in the plan"
    header = ("service", "where", "quota", "", "at full scale", "pools")
    rows = []
    for n in needs:
        amount = "unbounded" if n.unbounded else f"{n.amount:,.0f} {n.unit}"
        rows.append((n.service, n.scope, n.family, n.kind if n.unit == "vCPUs" else "", amount, ", ".join(n.pools)))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["Quota needed at full scale (every pool at its maximum):"]
    for r in [header, *rows]:
        lines.append(
            ("  " + "  ".join(c.rjust(widths[i]) if i == 4 else c.ljust(widths[i]) for i, c in enumerate(r))).rstrip()
        )
    if how:
        lines.append("  how to request:")
        lines += [f"    {service}: {HOW_TO_REQUEST[service]}" for service in dict.fromkeys(n.service for n in needs)]
    return "\n".join(lines)


def gpu_vcpus(needs: Iterable[QuotaNeed]) -> tuple[float, float]:
    """(dedicated, low-priority/Spot) vCPUs of GPU families at full scale, for the one-screen summary."""
    gpu_families = {s.family for s in GPU_SIZES.values()}
    dedicated = sum(n.amount for n in needs if n.unit == "vCPUs" and n.kind == DEDICATED and n.family in gpu_families)
    low = sum(n.amount for n in needs if n.unit == "vCPUs" and n.kind == LOW_PRIORITY)
    return dedicated, low

"""Offline cost estimate of a recorded plan: idle $/month, max-scale $/hour and the spot saving, per component.

It reads only what any azure-native program registers (resource types and their wire-format inputs), never our
components, and prices it from a table of Azure Retail Prices API items (`engine/prices/*.json`, or an export passed
with `--prices FILE` / `AIINFRA_PRICES`). A SKU, region or tier the table does not have is reported as unpriced,
never guessed; a retired VM size is refused even if a table still lists it.

Terms:
- idle: what runs with zero jobs, for a month of 730 hours (min nodes, system pools, private endpoints, AKS tier,
  the firewall a managed network creates, the registry tier ...);
- max: one hour with every pool at its maximum, fixed items included; x 730 it is the month the budget is compared with;
- spot saving: at max scale, what the spot / low-priority pools save per hour against the same pools dedicated.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from aiinfra.catalog.gpu_skus import RETIRED, RETIREMENT_SOURCE

from .monitor import Registration
from .runner import Plan

HOURS_PER_MONTH = 730
PRICES_DIR = Path(__file__).resolve().parent / "prices"
DEFAULT_PRICE_FILES = (PRICES_DIR / "azure-retail-prices.json",)
PRICES_ENV = "AIINFRA_PRICES"
STACK_TYPE = "pulumi:pulumi:Stack"
_ANY_REGION = ("", "global")
_COMPUTED = "<computed>"

REGULAR, SPOT, LOW_PRIORITY = "regular", "spot", "low-priority"


class PriceTableError(Exception):
    """A price file cannot be used; the message names the file and the field."""


# --------------------------------------------------------------------------------------------------------------------
# The price table


@dataclass(frozen=True)
class PriceRow:
    """One Azure Retail Prices API item, with where the figure came from."""

    service_name: str
    product_name: str
    sku_name: str
    meter_name: str
    arm_sku_name: str
    arm_region_name: str
    retail_price: float
    unit_of_measure: str
    hours_per_unit: float | None  # None: not billed by time (per GB, per 10K operations ...)
    currency_code: str
    type: str
    effective_start_date: str
    source: str
    read_on: str | None
    approximate: bool
    note: str | None
    file_rank: int  # later files win over earlier ones

    @property
    def hourly(self) -> float:
        assert self.hours_per_unit is not None
        return self.retail_price / self.hours_per_unit

    @property
    def priority(self) -> str:
        names = f"{self.sku_name} {self.meter_name}".lower()
        if "low priority" in names:
            return LOW_PRIORITY
        return SPOT if "spot" in names else REGULAR

    def as_json(self) -> dict[str, Any]:
        return {"serviceName": self.service_name, "skuName": self.sku_name, "meterName": self.meter_name,
                "armSkuName": self.arm_sku_name, "armRegionName": self.arm_region_name,
                "retailPrice": self.retail_price, "unitOfMeasure": self.unit_of_measure,
                "currencyCode": self.currency_code, "source": self.source, "readOn": self.read_on,
                "approximate": self.approximate, "note": self.note}


@dataclass(frozen=True)
class Quote:
    """A price per unit-hour, or why there is none."""

    row: PriceRow | None = None
    problem: str | None = None
    free_because: str | None = None  # a tier that is not billed at all (AKS Free)

    @property
    def hourly(self) -> float | None:
        if self.free_because is not None:
            return 0.0
        return self.row.hourly if self.row is not None else None

    @property
    def approximate(self) -> bool:
        return self.row is not None and self.row.approximate


_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*/?\s*(hours?|days?|months?)\s*$", re.IGNORECASE)
_UNIT_HOURS = {"hour": 1.0, "day": 24.0, "month": float(HOURS_PER_MONTH)}


def _hours_per_unit(unit: str) -> float | None:
    """'1 Hour' -> 1, '100 Hours' -> 100, '1/Day' -> 24, '1/Month' -> 730; other units (GB ...) -> None."""
    match = _UNIT.match(unit)
    if not match:
        return None
    count = float(match.group(1) or 1)
    return count * _UNIT_HOURS[match.group(2).lower().rstrip("s")]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise PriceTableError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PriceTableError(f"{path}: not valid JSON: {exc}") from None


class _Fields:
    """Typed reads of one JSON object, with errors that name the file and the field."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise PriceTableError(f"{where}: expected an object, got {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.where = where

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise PriceTableError(f"{self.where}.{key}: expected a string, got {value!r}")
        return value

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if self.data.get(key) is not None else None

    def number(self, key: str) -> float:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise PriceTableError(f"{self.where}.{key}: expected a non-negative number, got {value!r}")
        return float(value)

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise PriceTableError(f"{self.where}.{key}: expected true or false, got {value!r}")
        return value


def _parse_row(item: Any, where: str, defaults: dict[str, str | None], rank: int) -> PriceRow:
    f = _Fields(item, where)
    unit = f.text("unitOfMeasure")
    row = PriceRow(
        service_name=f.text("serviceName"),
        product_name=f.text("productName", ""),
        sku_name=f.text("skuName", ""),
        meter_name=f.text("meterName", ""),
        arm_sku_name=f.text("armSkuName", ""),
        arm_region_name=f.text("armRegionName"),
        retail_price=f.number("retailPrice"),
        unit_of_measure=unit,
        hours_per_unit=_hours_per_unit(unit),
        currency_code=f.text("currencyCode"),
        type=f.text("type", "Consumption"),
        effective_start_date=f.text("effectiveStartDate", ""),
        source=f.optional_text("source") or defaults["source"] or "",
        read_on=f.optional_text("readOn") or defaults["readOn"],
        approximate=f.flag("approximate"),
        note=f.optional_text("note"),
        file_rank=rank,
    )
    if not (row.arm_sku_name or row.sku_name or row.meter_name):
        raise PriceTableError(f"{where}: needs at least one of armSkuName, skuName, meterName")
    if row.hours_per_unit == 0:
        raise PriceTableError(f"{where}.unitOfMeasure: '{unit}' is zero hours")
    return row


def _items_of(data: Any, path: Path) -> tuple[list[Any], str]:
    """A file is a list of items, or an API page / our own file: an object with 'Items'."""
    if isinstance(data, list):
        return data, ""
    if isinstance(data, dict) and isinstance(data.get("Items"), list):
        return data["Items"], "Items"
    raise PriceTableError(f"{path}: expected a list of price items or an object with an 'Items' list "
                          "(the Azure Retail Prices API's page shape)")


@dataclass(frozen=True)
class RetiredSize:
    arm_sku_name: str
    retired_on: str
    source: str


@dataclass
class PriceTable:
    rows: list[PriceRow]
    files: list[Path]
    retired: dict[str, RetiredSize] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return self.rows[0].currency_code if self.rows else "USD"

    def read_on(self) -> list[str]:
        return sorted({r.read_on or "not recorded" for r in self.rows})

    def _best(self, rows: Iterable[PriceRow], region: str) -> PriceRow | None:
        """The row for `region`, else a region-independent one; the latest file, then the latest effective date."""
        rows = list(rows)
        for wanted in ((region,), _ANY_REGION):
            here = [r for r in rows if r.arm_region_name.lower() in wanted]
            if here:
                return max(here, key=lambda r: (r.file_rank, r.effective_start_date))
        return None

    def _billable(self, service: str) -> list[PriceRow]:
        return [r for r in self.rows if r.service_name.lower() == service.lower()
                and r.hours_per_unit is not None and r.type.lower() == "consumption"]

    def vm(self, size: str, region: str | None, priority: str = REGULAR) -> Quote:
        """Linux pay-as-you-go price of one VM of `size` in `region`, at `priority`."""
        retired = self.retired.get(size.lower())
        if retired:
            return Quote(problem=f"{size} was retired by Azure on {retired.retired_on}; "
                                 "not priced, choose a current size")
        rows = [r for r in self._billable("Virtual Machines")
                if r.arm_sku_name.lower() == size.lower() and "windows" not in r.product_name.lower()]
        if not rows:
            return Quote(problem=f"{size} is not in the price table")
        if region is None:
            return Quote(problem=f"{size}: region unknown "
                                 "(no location on the resource, its parent or its resource group)")
        # Spot and low-priority are one figure in most catalogues; take the other when only one is listed.
        preference = {REGULAR: (REGULAR,), SPOT: (SPOT, LOW_PRIORITY), LOW_PRIORITY: (LOW_PRIORITY, SPOT)}[priority]
        for wanted in preference:
            best = self._best((r for r in rows if r.priority == wanted), region)
            if best:
                return Quote(row=best)
        listed = sorted({r.arm_region_name for r in rows if r.priority in preference})
        what = "" if priority == REGULAR else f"{priority} "
        if not listed:
            return Quote(problem=f"no {what}price for {size} in the price table")
        return Quote(problem=f"no {what}price for {size} in {region} (the table has {', '.join(listed)})")

    def service(self, service: str, sku: str, region: str | None, *, product: str | None = None,
                meter_suffix: str | None = None) -> Quote:
        """A time-billed meter of a non-VM service, e.g. ('Azure Firewall', 'Standard', 'eastus')."""
        rows = [r for r in self._billable(service) if r.sku_name.lower() == sku.lower()
                and (product is None or r.product_name.lower() == product.lower())
                and (meter_suffix is None or r.meter_name.lower().endswith(meter_suffix.lower()))]
        best = self._best(rows, region or "")
        if best:
            return Quote(row=best)
        if rows and region is None:
            return Quote(problem=f"{service} {sku}: region unknown")
        where = f" in {region}" if region else ""
        return Quote(problem=f"no price for {service} {sku}{where} in the price table")


def price_files_from_env() -> list[Path] | None:
    """`AIINFRA_PRICES`: one or more price files, separated like PATH."""
    value = os.environ.get(PRICES_ENV, "").strip()
    return [Path(p) for p in value.split(os.pathsep) if p] or None


def _retired_sizes() -> dict[str, RetiredSize]:
    """The catalogue's retired sizes (one source for the components, the pack and the estimate)."""
    return {name.lower(): RetiredSize(name, day, RETIREMENT_SOURCE) for name, day in RETIRED.items()}


def load_price_table(paths: Sequence[Path | str] | None = None) -> PriceTable:
    """Price rows from `paths` (default: `AIINFRA_PRICES`, else the built-in table); later files win on a tie.

    A file is the Azure Retail Prices API's shape: a list of items, or an object with `Items`. Our own rows add
    `source`, `readOn`, `approximate` and `note`; rows without them take the file's top-level `source` / `readOn`
    (or the file's path).
    """
    files = [Path(p) for p in (paths or price_files_from_env() or DEFAULT_PRICE_FILES)]
    rows: list[PriceRow] = []
    for rank, path in enumerate(files):
        data = _read_json(path)
        items, key = _items_of(data, path)
        top = data if isinstance(data, dict) else {}
        defaults = {"source": top.get("source") if isinstance(top.get("source"), str) else str(path),
                    "readOn": top.get("readOn") if isinstance(top.get("readOn"), str) else None}
        prefix = f"{path}: {key}" if key else f"{path}: item"
        rows += [_parse_row(item, f"{prefix}[{i}]", defaults, rank) for i, item in enumerate(items)]
    currencies = sorted({r.currency_code for r in rows})
    if len(currencies) > 1:
        raise PriceTableError(f"{', '.join(map(str, files))}: currencyCode: rows mix {', '.join(currencies)}; "
                              "export one currency")
    return PriceTable(rows=rows, files=files, retired=_retired_sizes())


# --------------------------------------------------------------------------------------------------------------------
# Reading the plan


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def text_of(value: Any) -> str | None:
    """A known, non-empty string input; None for absent, empty or preview-time unknown values."""
    return value if isinstance(value, str) and value and value != _COMPUTED else None


def dig(data: Any, *keys: str) -> Any:
    """`dig(inputs, "sku", "tier")`: a nested input, or None when any level is missing."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data



def azure_name(r: Registration) -> str:
    """The name the program gave the resource in Azure, else its logical name.

    That is its own `<resource>Name` input, or `name`, or a `<suffix>Name` whose suffix ends the type's name
    (`environmentName` of a ManagedEnvironment, `accountName` of a BatchAccount); an AKS cluster's is `resourceName`.
    Other `...Name` inputs name a parent (a Batch pool's `accountName`).
    """
    kind = r.type.split(":")[-1]
    keys = [kind[:1].lower() + kind[1:] + "Name", "name"]
    keys += sorted(k for k in r.inputs if k.endswith("Name") and k != "Name" and kind.lower().endswith(k[:-4].lower()))
    keys += ["resourceName"] if kind == "ManagedCluster" else []
    return next((v for v in (text_of(r.inputs.get(k)) for k in keys) if v), text_of(r.outputs.get("name")) or r.name)


def _region(value: str) -> str:
    return value.replace(" ", "").lower()


def _is_gpu_size(size: str) -> bool:
    return re.match(r"^standard_n[a-z]", size.lower()) is not None


# Children that take their region from the parent resource they name.
_PARENT_BY_NAME = {
    "azure-native:machinelearningservices:Compute": ("workspaceName", "azure-native:machinelearningservices:Workspace"),
    "azure-native:machinelearningservices:ManagedNetworkSettingsRule":
        ("workspaceName", "azure-native:machinelearningservices:Workspace"),
    "azure-native:batch:Pool": ("accountName", "azure-native:batch:BatchAccount"),
    "azure-native:containerservice:AgentPool": ("resourceName", "azure-native:containerservice:ManagedCluster"),
}
_PARENT_ID_KEYS = ("managedEnvironmentId", "environmentId")


class PlanIndex:
    """Lookups over one plan: Azure resources by id and by (type, name), regions, top-level components."""

    def __init__(self, resources: Sequence[Registration]) -> None:
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}
        self.by_id = {r.id.lower(): r for r in self.resources if r.custom and r.id}
        self.by_name: dict[tuple[str, str, str], Registration] = {}
        for r in self.resources:
            name = azure_name(r)
            group = text_of(r.inputs.get("resourceGroupName")) or ""
            self.by_name.setdefault((r.type, name.lower(), group.lower()), r)
            self.by_name.setdefault((r.type, name.lower(), ""), r)

    def named(self, type_token: str, name: str | None, group: str | None = None) -> Registration | None:
        if not name:
            return None
        return (self.by_name.get((type_token, name.lower(), (group or "").lower()))
                or self.by_name.get((type_token, name.lower(), "")))

    def referenced(self, value: Any) -> Registration | None:
        text = text_of(value)
        return self.by_id.get(text.lower()) if text else None

    def region_of(self, r: Registration, depth: int = 0) -> str | None:
        """The resource's `location`, else its parent resource's, else its resource group's."""
        own = text_of(r.inputs.get("location"))
        if own or depth > 4:
            return _region(own) if own else None
        group = text_of(r.inputs.get("resourceGroupName"))
        parent: Registration | None = None
        if r.type in _PARENT_BY_NAME:
            key, parent_type = _PARENT_BY_NAME[r.type]
            parent = self.named(parent_type, text_of(r.inputs.get(key)), group)
        for key in _PARENT_ID_KEYS:
            parent = parent or self.referenced(r.inputs.get(key))
        if parent is None and group:
            parent = self.named("azure-native:resources:ResourceGroup", group)
        return self.region_of(parent, depth + 1) if parent is not None else None

    def top_level(self, r: Registration) -> Registration | None:
        """The ancestor directly under the stack, when it is a component; None for resources outside components."""
        node = r
        while node.parent in self.by_urn and self.by_urn[node.parent].type != STACK_TYPE:
            node = self.by_urn[node.parent]
        return None if node.custom else node


# --------------------------------------------------------------------------------------------------------------------
# What each priced resource costs


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

    @staticmethod
    def _times(units: float | None, rate: float | None) -> float | None:
        if units == 0:
            return 0.0  # nothing runs: free whatever the price
        return None if units is None or rate is None else units * rate

    @property
    def idle_hourly(self) -> float | None:
        return self._times(self.idle_units, self.rate.hourly)

    @property
    def max_hourly(self) -> float | None:
        return self._times(self.max_units, self.rate.hourly)

    @property
    def saving_hourly(self) -> float | None:
        if self.dedicated_rate is None:
            return 0.0
        dedicated = self._times(self.max_units, self.dedicated_rate.hourly)
        actual = self.max_hourly
        return None if dedicated is None or actual is None else dedicated - actual

    @property
    def problem(self) -> str | None:
        if self.rate.problem and (self.idle_units or self.max_units != 0):
            return self.rate.problem
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.resource.urn, "type": self.resource.type, "name": self.resource.name, "label": self.label,
            "gpu": self.gpu, "idleUnits": self.idle_units, "maxUnits": self.max_units,
            "ratePerHour": _round(self.rate.hourly, 4), "idleMonthly": _round(_monthly(self.idle_hourly), 2),
            "maxHourly": _round(self.max_hourly, 4), "spotSavingHourly": _round(self.saving_hourly, 4),
            "approximate": self.rate.approximate, "unpriced": self.problem, "notes": self.notes,
            "price": self.rate.row.as_json() if self.rate.row else None,
        }


def _priority(value: Any) -> str:
    text = (text_of(value) or "").lower().replace(" ", "").replace("_", "")
    if text in ("spot", "low") or text.startswith("spot"):
        return SPOT
    return LOW_PRIORITY if text.startswith("lowpriority") else REGULAR


class _Pricer:
    def __init__(self, plan: PlanIndex, prices: PriceTable) -> None:
        self.plan = plan
        self.prices = prices

    def vms(self, r: Registration, label: str, size: str | None, priority: str, idle: float,
            peak: float | None, notes: list[str] | None = None) -> Item:
        notes = list(notes or [])
        if size is None:
            return Item(r, label, Quote(problem=f"{label}: no vmSize"), idle, peak, notes=notes)
        region = self.plan.region_of(r)
        kind = "" if priority == REGULAR else f" {priority}"
        item = Item(r, f"{label}: {size}{kind}", self.prices.vm(size, region, priority), idle, peak,
                    gpu=_is_gpu_size(size), notes=notes, vm_size=size, priority=priority, region=region)
        if priority != REGULAR:
            item.dedicated_rate = self.prices.vm(size, region, REGULAR)
        return item

    def aml_compute(self, r: Registration) -> list[Item]:
        props = r.inputs.get("properties") or {}
        inner = dig(props, "properties") or {}
        size = text_of(dig(inner, "vmSize"))
        kind = text_of(dig(props, "computeType"))
        if kind == "AmlCompute":
            scale = inner.get("scaleSettings") or {}
            low, high = _num(scale.get("minNodeCount")), _num(scale.get("maxNodeCount"))
            notes = [] if high is not None else ["no scaleSettings.maxNodeCount"]
            return [self.vms(r, f"AML compute cluster {r.name}", size, _priority(dig(inner, "vmPriority")),
                             low or 0.0, high, notes)]
        if kind == "ComputeInstance":
            return [self.vms(r, f"AML compute instance {r.name}", size, REGULAR, 1.0, 1.0,
                             ["runs until stopped or its idle shutdown fires"])]
        return []

    def agent_pool(self, r: Registration, pool: dict[str, Any], label: str) -> Item:
        """An AKS node pool, inline in the cluster or its own AgentPool: min..max when autoscaling, else count."""
        notes: list[str] = []
        count = _num(pool.get("count"))
        if count is None:
            count = 1.0
            notes.append("count not set: Azure's default is 1")
        if pool.get("enableAutoScaling") is True:
            idle, peak = _num(pool.get("minCount")) or 0.0, _num(pool.get("maxCount"))
        else:
            idle, peak = count, count
        mode = (text_of(pool.get("mode")) or "User").lower()
        return self.vms(r, f"{label} ({mode})", text_of(pool.get("vmSize")),
                        _priority(pool.get("scaleSetPriority")), idle, peak, notes)

    def managed_cluster(self, r: Registration) -> list[Item]:
        tier = text_of(dig(r.inputs, "sku", "tier")) or "Free"
        if tier.lower() == "free":
            rate = Quote(free_because="the Free tier has no charge")
        else:
            rate = self.prices.service("Azure Kubernetes Service", tier, self.plan.region_of(r))
        items = [Item(r, f"AKS {r.name} control plane, {tier} tier", rate, 1.0, 1.0)]
        for i, pool in enumerate(r.inputs.get("agentPoolProfiles") or []):
            if isinstance(pool, dict):
                items.append(self.agent_pool(r, pool, f"AKS {r.name} pool {text_of(pool.get('name')) or i}"))
        return items

    def aks_agent_pool(self, r: Registration) -> list[Item]:
        return [self.agent_pool(r, r.inputs, f"AKS node pool {r.name}")]

    def batch_pool(self, r: Registration) -> list[Item]:
        size = text_of(r.inputs.get("vmSize"))
        label = f"Batch pool {r.name}"
        fixed = dig(r.inputs, "scaleSettings", "fixedScale")
        formula = text_of(dig(r.inputs, "scaleSettings", "autoScale", "formula"))
        if isinstance(fixed, dict):
            pools = [(REGULAR, _num(fixed.get("targetDedicatedNodes")) or 0.0),
                     (SPOT, _num(fixed.get("targetLowPriorityNodes")) or 0.0)]
            return [self.vms(r, label, size, priority, n, n) for priority, n in pools if n]
        if formula is None:
            return [self.vms(r, label, size, REGULAR, 0.0, 0.0, ["no scaleSettings: Azure starts it at 0 nodes"])]
        bounds = autoscale_bounds(formula)
        items = []
        # Batch-managed accounts serve low-priority nodes as Spot VMs (Azure/Batch#196), priced as Spot.
        for priority, target in ((REGULAR, "$TargetDedicatedNodes"), (SPOT, "$TargetLowPriorityNodes")):
            if target.lower() in bounds:
                low, high, notes = bounds[target.lower()]
                if high != 0:
                    items.append(self.vms(r, label, size, priority, low, high, notes))
        if not items:
            items.append(self.vms(r, label, size, REGULAR, 0.0, None, [
                "the autoscale formula sets no $TargetDedicatedNodes / $TargetLowPriorityNodes bound"]))
        return items

    def _environment_profile(self, r: Registration) -> tuple[Registration | None, str | None]:
        env = None
        for key in _PARENT_ID_KEYS:
            env = env or self.plan.referenced(r.inputs.get(key))
        wanted = text_of(r.inputs.get("workloadProfileName"))
        if env is None or wanted is None:
            return env, None
        for profile in env.inputs.get("workloadProfiles") or []:
            if isinstance(profile, dict) and text_of(profile.get("name")) == wanted:
                return env, text_of(profile.get("workloadProfileType"))
        return env, None

    def _serverless_gpu(self, r: Registration, label: str, idle: float, peak: float | None,
                        notes: list[str]) -> list[Item]:
        env, profile = self._environment_profile(r)
        if env is None or not profile or not profile.lower().startswith("consumption-gpu"):
            return []  # consumption CPU is billed per use: not estimated
        region = self.plan.region_of(r)
        rate = self.prices.service("Azure Container Apps", profile, region)
        return [Item(r, f"{label} on {profile}", rate, idle, peak, gpu=True, notes=notes, region=region,
                     profile=profile)]

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
        trigger = next((config[k] for k in ("eventTriggerConfig", "manualTriggerConfig", "scheduleTriggerConfig")
                        if isinstance(config.get(k), dict)), {})
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
        for profile in r.inputs.get("workloadProfiles") or []:
            kind = text_of(dig(profile, "workloadProfileType")) or ""
            if not kind or kind.lower().startswith("consumption"):
                continue
            low, high = _num(profile.get("minimumCount")) or 0.0, _num(profile.get("maximumCount"))
            rate = self.prices.service("Azure Container Apps", kind, self.plan.region_of(r))
            items.append(Item(r, f"Container Apps environment {r.name} dedicated profile {kind}", rate, low, high,
                              gpu=kind.upper().startswith("NC")))
        return items

    def fixed(self, r: Registration, label: str, rate: Quote) -> list[Item]:
        return [Item(r, label, rate, 1.0, 1.0)]

    def private_endpoint(self, r: Registration) -> list[Item]:
        rate = self.prices.service("Virtual Network", "Standard", self.plan.region_of(r),
                                   product="Virtual Network Private Link", meter_suffix="Private Endpoint")
        return self.fixed(r, f"private endpoint {r.name}", rate)

    def registry(self, r: Registration) -> list[Item]:
        tier = text_of(dig(r.inputs, "sku", "name")) or "?"
        rate = self.prices.service("Container Registry", tier, self.plan.region_of(r), meter_suffix="Registry Unit")
        return self.fixed(r, f"container registry {r.name}, {tier}", rate)

    def firewall(self, r: Registration, tier: str, label: str) -> list[Item]:
        rate = self.prices.service("Azure Firewall", tier, self.plan.region_of(r), product="Azure Firewall",
                                   meter_suffix="Deployment")
        return self.fixed(r, f"{label}, {tier}", rate)

    def azure_firewall(self, r: Registration) -> list[Item]:
        return self.firewall(r, text_of(dig(r.inputs, "sku", "tier")) or "Standard", f"Azure Firewall {r.name}")

    def ml_workspace(self, r: Registration) -> list[Item]:
        """A managed network that allows only approved outbound and has FQDN rules runs an Azure Firewall."""
        network = r.inputs.get("managedNetwork") or {}
        rules = [v for v in (network.get("outboundRules") or {}).values() if isinstance(v, dict)]
        group = text_of(r.inputs.get("resourceGroupName"))
        for rule in self.plan.resources:
            if (rule.type == "azure-native:machinelearningservices:ManagedNetworkSettingsRule"
                    and self.plan.named(r.type, text_of(rule.inputs.get("workspaceName")), group) is r):
                rules.append(rule.inputs.get("properties") or {})
        fqdn = sum(1 for rule in rules if str(rule.get("type", "")).upper() == "FQDN")
        if network.get("isolationMode") != "AllowOnlyApprovedOutbound" or not fqdn:
            return []
        tier = text_of(network.get("firewallSku")) or "Standard"
        rules_text = f"{fqdn} FQDN rule{'s' * (fqdn > 1)}"
        return self.firewall(r, tier, f"Azure Firewall of ML workspace {r.name}'s managed network ({rules_text})")

    def virtual_machine(self, r: Registration) -> list[Item]:
        return [self.vms(r, f"VM {r.name}", text_of(dig(r.inputs, "hardwareProfile", "vmSize")),
                         _priority(r.inputs.get("priority")), 1.0, 1.0)]

    def scale_set(self, r: Registration) -> list[Item]:
        capacity = _num(dig(r.inputs, "sku", "capacity"))
        notes = [] if capacity is not None else ["sku.capacity not set"]
        return [self.vms(r, f"VM scale set {r.name}", text_of(dig(r.inputs, "sku", "name")),
                         _priority(dig(r.inputs, "virtualMachineProfile", "priority")),
                         capacity or 0.0, capacity, notes)]

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
            # Azure OpenAI deployments: priced in their own module (engine/openai_cost.py).
            "azure-native:cognitiveservices:Deployment": self.openai_deployment,
        }

    def openai_deployment(self, r: Registration) -> list[Item]:
        from .openai_cost import price_openai_deployment  # its own module; it imports this one
        return price_openai_deployment(self.prices, r)


# Resource types with no standing charge of their own; anything else unpriced is listed as "not estimated".
_NO_CHARGE = {
    "authorization:RoleAssignment", "authorization:RoleDefinition", "authorization:ManagementLockAtResourceGroupLevel",
    "authorization:ManagementLockByScope", "authorization:PolicyAssignment", "batch:BatchAccount",
    "cognitiveservices:Account", "cognitiveservices:RaiPolicy", "machinelearningservices:WorkspaceConnection",
    "consumption:Budget", "insights:DiagnosticSetting", "machinelearningservices:ManagedNetworkSettingsRule",
    "monitor:DiagnosticSetting", "storage:ManagementPolicy", "storage:BlobServiceProperties",
    "managedidentity:FederatedIdentityCredential", "managedidentity:UserAssignedIdentity",
    "network:NetworkSecurityGroup", "network:PrivateDnsZoneGroup", "network:Route", "network:RouteTable",
    "network:SecurityRule", "network:Subnet", "network:VirtualNetwork", "resources:ResourceGroup",
}


# --------------------------------------------------------------------------------------------------------------------
# Batch autoscale formulas


def _split_top(text: str, sep: str) -> list[str]:
    """Split on `sep` outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return False
    return depth == 0


def _call(expr: str) -> tuple[str, list[str]] | None:
    """`min(a, b)` -> ('min', ['a', 'b']); None when the expression is not one such call."""
    match = re.match(r"^(min|max)\s*\((.*)\)$", expr, re.IGNORECASE | re.DOTALL)
    if not match or not _balanced(match.group(2)):
        return None
    return match.group(1).lower(), _split_top(match.group(2), ",")


def _strip_parens(expr: str) -> str:
    expr = expr.strip()
    while expr.startswith("(") and expr.endswith(")") and _balanced(expr[1:-1]):
        expr = expr[1:-1].strip()
    return expr


def autoscale_bounds(formula: str) -> dict[str, tuple[float, float | None, list[str]]]:
    """For each node-count target a Batch autoscale formula assigns: (nodes with no tasks, max nodes or None, notes).

    The max is read where the formula states it: a constant, `min(..., N)`, or a variable holding a constant
    (`$maxNodes = 4; ... $TargetDedicatedNodes = min($maxNodes, $pending)`). With no such bound it is None
    (unbounded). The idle count is `max(N, ...)`'s floor when present, else assumed 0 (no tasks, no nodes).
    """
    text = re.sub(r"//[^\n]*", "", formula)
    assignments: dict[str, str] = {}
    for statement in _split_top(text, ";"):
        match = re.match(r"^\s*(\$?\w+)\s*=(?!=)(.*)$", statement, re.DOTALL)
        if match:
            assignments[match.group(1).lower()] = match.group(2).strip()

    def bound(expr: str, upper: bool, depth: int = 0) -> float | None:
        expr = _strip_parens(expr)
        if depth > 20:
            return None
        if re.fullmatch(r"\d+(\.\d+)?", expr):
            return float(expr)
        if expr.lower() in assignments:
            return bound(assignments[expr.lower()], upper, depth + 1)
        call = _call(expr)
        if call:
            name, args = call
            values = [bound(a, upper, depth + 1) for a in args]
            known = [v for v in values if v is not None]
            if name == "min" and upper and known:
                return min(known)  # min(...) is at most any bounded argument
            if name == "max" and not upper and known:
                return max(known)  # max(...) is at least any bounded argument
            if known and len(known) == len(values):
                return min(known) if name == "min" else max(known)
            return None
        ternary = re.match(r"^([^?]*)\?(.*)$", expr, re.DOTALL)
        if ternary:
            branches = _split_top(ternary.group(2), ":")
            if len(branches) == 2:
                values = [bound(b, upper, depth + 1) for b in branches]
                if all(v is not None for v in values):
                    return max(v for v in values if v is not None) if upper else min(v for v in values if v is not None)
        return None

    out: dict[str, tuple[float, float | None, list[str]]] = {}
    for target in ("$targetdedicatednodes", "$targetlowprioritynodes"):
        if target not in assignments:
            continue
        notes: list[str] = []
        high = bound(assignments[target], upper=True)
        if high is None:
            notes.append("the autoscale formula states no maximum: unbounded")
        low = bound(assignments[target], upper=False)
        if low is None:
            low = 0.0
            notes.append("assumes the autoscale formula gives 0 nodes when no tasks are pending")
        out[target] = (low, high, notes)
    return out


# --------------------------------------------------------------------------------------------------------------------
# The estimate


def _monthly(hourly: float | None) -> float | None:
    return None if hourly is None else hourly * HOURS_PER_MONTH


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class Totals:
    """Sums over items. `*_complete` False: some item is unpriced and the figure is a lower bound."""

    idle_monthly: float = 0.0
    idle_gpu_monthly: float = 0.0
    max_hourly: float = 0.0
    spot_saving_hourly: float = 0.0
    idle_complete: bool = True
    idle_gpu_complete: bool = True
    max_complete: bool = True
    saving_complete: bool = True
    max_unbounded: bool = False
    idle_approximate: bool = False
    idle_gpu_approximate: bool = False
    max_approximate: bool = False

    def add(self, item: Item) -> None:
        idle, peak = item.idle_hourly, item.max_hourly
        approximate = item.rate.approximate
        if idle is None:
            self.idle_complete = False
            self.idle_gpu_complete &= not item.gpu
        else:
            self.idle_monthly += idle * HOURS_PER_MONTH
            self.idle_gpu_monthly += idle * HOURS_PER_MONTH if item.gpu else 0.0
            self.idle_approximate |= approximate and idle > 0
            self.idle_gpu_approximate |= approximate and idle > 0 and item.gpu
        if peak is None:
            self.max_complete = False
            self.max_unbounded |= item.max_units is None
        else:
            self.max_hourly += peak
            self.max_approximate |= approximate and peak > 0
        saving = item.saving_hourly
        self.spot_saving_hourly += saving or 0.0
        self.saving_complete &= saving is not None or not item.max_units

    @property
    def max_monthly(self) -> float:
        return self.max_hourly * HOURS_PER_MONTH

    @classmethod
    def of(cls, items: Iterable[Item]) -> Totals:
        totals = cls()
        for item in items:
            totals.add(item)
        return totals

    def as_json(self) -> dict[str, Any]:
        return {"idleMonthly": round(self.idle_monthly, 2), "idleGpuMonthly": round(self.idle_gpu_monthly, 2),
                "maxHourly": round(self.max_hourly, 4), "maxMonthly": round(self.max_monthly, 2),
                "spotSavingHourly": round(self.spot_saving_hourly, 4), "idleComplete": self.idle_complete,
                "idleGpuComplete": self.idle_gpu_complete, "maxComplete": self.max_complete,
                "spotSavingComplete": self.saving_complete,
                "maxUnbounded": self.max_unbounded, "idleApproximate": self.idle_approximate,
                "maxApproximate": self.max_approximate}


@dataclass
class Group:
    """One top-level component (or the resources outside any component) and its priced items."""

    urn: str | None
    name: str
    type: str
    items: list[Item] = field(default_factory=list)

    @property
    def totals(self) -> Totals:
        return Totals.of(self.items)

    def as_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "name": self.name, "type": self.type, **self.totals.as_json(),
                "items": [i.as_json() for i in self.items]}


@dataclass
class Budget:
    name: str
    amount: float | None
    time_grain: str
    scope: str | None

    @property
    def monthly(self) -> float | None:
        per = {"monthly": 1, "billingmonth": 1, "quarterly": 3, "billingquarter": 3,
               "annually": 12, "billingannual": 12}
        months = per.get(self.time_grain.lower())
        return None if self.amount is None or months is None else self.amount / months


@dataclass
class CostEstimate:
    stack: str
    prices: PriceTable
    groups: list[Group]
    budgets: list[Budget]
    not_estimated: dict[str, int]

    @property
    def items(self) -> list[Item]:
        return [i for g in self.groups for i in g.items]

    @property
    def totals(self) -> Totals:
        return Totals.of(self.items)

    @property
    def basis(self) -> str:
        files = ", ".join(_display_path(p) for p in self.prices.files)
        return (f"list prices, {self.prices.currency}, pay-as-you-go, Linux, {HOURS_PER_MONTH} h/month; "
                f"from {files} (read {', '.join(self.prices.read_on()) or 'not recorded'}); may be stale")

    def unpriced(self) -> list[tuple[Item, str]]:
        return [(i, i.problem) for i in self.items if i.problem]

    def notes(self) -> list[str]:
        """What a figure assumes: the price rows' notes (per GB extra ...) and the items' (defaults, formulas)."""
        out: list[str] = []
        for item in self.items:
            if not (item.idle_units or item.max_units != 0):
                continue
            row = item.rate.row
            if row is not None and row.note:
                out.append(f"{row.service_name} {row.sku_name}: {row.note}")
            out += [f"{item.label}: {note}" for note in item.notes]
        return list(dict.fromkeys(out))

    def warnings(self) -> list[str]:
        totals = self.totals
        out: list[str] = []
        if not self.budgets:
            out.append("no azure-native:consumption:Budget in the plan: nothing to compare the estimate with")
        for budget in self.budgets:
            monthly = budget.monthly
            if monthly is None:
                out.append(f"budget '{budget.name}': amount or time grain unknown ({budget.time_grain}), not compared")
                continue
            if totals.max_unbounded:
                out.append(f"budget '{budget.name}' ({_money(monthly)}/month): some pool has no maximum, so max scale "
                           "cannot be compared with it")
            elif totals.max_monthly > monthly:
                at_least = "" if totals.max_complete else "at least "
                out.append(f"budget '{budget.name}' ({_money(monthly)}/month) would be exceeded by a month at max "
                           f"scale: {at_least}{_money(totals.max_monthly)}")
            if totals.idle_monthly > monthly:
                out.append(f"budget '{budget.name}' ({_money(monthly)}/month) is exceeded by the idle cost alone: "
                           f"{_money(totals.idle_monthly)}/month")
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "basis": self.basis,
            "currency": self.prices.currency,
            "hoursPerMonth": HOURS_PER_MONTH,
            "priceFiles": [_display_path(p) for p in self.prices.files],
            "pricesReadOn": self.prices.read_on(),
            "totals": self.totals.as_json(),
            "components": [g.as_json() for g in self.groups],
            "budgets": [{"name": b.name, "amount": b.amount, "timeGrain": b.time_grain, "scope": b.scope,
                         "monthly": _round(b.monthly, 2)} for b in self.budgets],
            "unpriced": [{"urn": i.resource.urn, "label": i.label, "reason": why} for i, why in self.unpriced()],
            "notEstimated": self.not_estimated,
            "notes": self.notes(),
            "warnings": self.warnings(),
        }


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PRICES_DIR.parent.parent))
    except ValueError:
        return str(path)


def estimate(plan: Plan | Sequence[Registration], prices: PriceTable | None = None,
             stack: str | None = None) -> CostEstimate:
    """Price a recorded plan (a `Plan`, or its registrations) with `prices` (default: `load_price_table()`)."""
    resources = plan.resources if isinstance(plan, Plan) else list(plan)
    stack = stack or (plan.stack if isinstance(plan, Plan) else "")
    prices = prices if prices is not None else load_price_table()
    index = PlanIndex(resources)
    pricer = _Pricer(index, prices)
    rules = pricer.rules()

    groups: dict[str, Group] = {}
    outside = Group(urn=None, name="(outside components)", type="")
    not_estimated: dict[str, int] = {}
    budgets: list[Budget] = []
    for r in sorted(resources, key=lambda r: r.urn):
        if not r.custom or not r.type.startswith("azure-native:"):
            continue
        short = r.type.removeprefix("azure-native:")
        if r.type == "azure-native:consumption:Budget":
            budgets.append(Budget(name=text_of(r.inputs.get("budgetName")) or r.name,
                                  amount=_num(r.inputs.get("amount")),
                                  time_grain=text_of(r.inputs.get("timeGrain")) or "Monthly",
                                  scope=text_of(r.inputs.get("scope"))))
        rule = rules.get(r.type)
        if rule is None:
            if short not in _NO_CHARGE:
                not_estimated[short] = not_estimated.get(short, 0) + 1
            continue
        items = rule(r)
        if not items:
            continue
        top = index.top_level(r)
        group = outside if top is None else groups.setdefault(top.urn, Group(urn=top.urn, name=top.name, type=top.type))
        group.items.extend(items)
    for group in [*groups.values(), outside]:
        group.items.sort(key=lambda i: (i.label, i.resource.urn))
    ordered = sorted(groups.values(), key=lambda g: (g.name, g.type)) + ([outside] if outside.items else [])
    return CostEstimate(stack=stack, prices=prices, groups=ordered, budgets=budgets,
                        not_estimated=dict(sorted(not_estimated.items())))


# --------------------------------------------------------------------------------------------------------------------
# Text


def _money(value: float | None, approximate: bool = False, lower_bound: bool = False) -> str:
    if value is None:
        return "unpriced"
    digits = 4 if 0 < abs(value) < 1 else 2
    text = f"${value:,.{digits}f}"
    return ("≥ " if lower_bound else "") + ("~" if approximate and value else "") + text


def totals_cells(t: Totals) -> tuple[str, str, str, str]:
    """Idle $/month, idle GPU $/month, max $/hour and spot saving $/hour as the preview prints them."""
    idle = _money(t.idle_monthly, t.idle_approximate, not t.idle_complete)
    gpu = _money(t.idle_gpu_monthly, t.idle_gpu_approximate, not t.idle_gpu_complete)
    peak = _money(t.max_hourly, t.max_approximate, not t.max_complete)
    if t.max_unbounded:
        peak += " (unbounded)"
    saving = _money(t.spot_saving_hourly, lower_bound=not t.saving_complete) \
        if t.spot_saving_hourly or not t.saving_complete else "-"
    return idle, gpu, peak, saving


def render_cost(estimate: CostEstimate, items: bool = True) -> str:
    """A compact table: per component idle $/month, idle GPU $/month, max-scale $/hour, spot saving $/hour."""
    header = ("", "idle $/month", "idle GPU $/month", "max $/hour", "spot saving $/hour")
    rows: list[tuple[str, ...]] = []
    for group in estimate.groups:
        rows.append((f"{group.name}" + (f" ({group.type})" if group.type else ""), *totals_cells(group.totals)))
        if items:
            for item in group.items:
                if item.idle_units or item.max_units != 0:
                    peak = _money(item.max_hourly, item.rate.approximate) if item.max_units is not None else "unbounded"
                    rows.append((f"  {item.label}", _money(_monthly(item.idle_hourly), item.rate.approximate), "",
                                 peak, _money(item.saving_hourly) if item.dedicated_rate else ""))
    rows.append((f"total ({estimate.stack})", *totals_cells(estimate.totals)))
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells))
        return ("  " + "  ".join(padded)).rstrip()

    out = [f"Cost estimate: {estimate.basis}", line(header), *map(line, rows)]
    out.append("  idle: running with zero jobs, a month; max: one hour with every pool at its maximum; "
               "~ approximate figure; ≥ some items unpriced")
    totals = estimate.totals
    for budget in estimate.budgets:
        if budget.monthly:
            at_least = {True: "", False: "≥ "}
            peak = ("unbounded" if totals.max_unbounded
                    else f"{at_least[totals.max_complete]}{totals.max_monthly / budget.monthly:.0%}")
            out.append(f"budget '{budget.name}': {_money(budget.monthly)}/month; idle is "
                       f"{at_least[totals.idle_complete]}{totals.idle_monthly / budget.monthly:.0%} of it, "
                       f"a month at max scale {peak}")
    for item, why in estimate.unpriced():
        out.append(f"unpriced: {item.label}: {why}")
    if items:
        out += [f"note: {note}" for note in estimate.notes()]
    if estimate.not_estimated:
        kinds = ", ".join(f"{t} x{n}" for t, n in estimate.not_estimated.items())
        out.append(f"not estimated (billed by use, or not in the price table): {kinds}")
    out += [f"warning: {w}" for w in estimate.warnings()]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------------------------
# Pricing a saved plan: `python -m engine.cost PLAN.json`


def registrations_from_json(document: Any, where: str) -> tuple[str, list[Registration]]:
    """The stack name and registrations of a plan saved by `preview --json` (or of its "plan" member)."""
    plan = document.get("plan", document) if isinstance(document, dict) else None
    if not isinstance(plan, dict) or not isinstance(plan.get("resources"), list):
        raise PriceTableError(f"{where}: expected a plan with a 'resources' list (as `preview --json` writes)")
    resources = []
    for i, item in enumerate(plan["resources"]):
        f = _Fields(item, f"{where}: resources[{i}]")
        resources.append(Registration(
            urn=f.text("urn"), type=f.text("type"), name=f.text("name"), parent=f.optional_text("parent"),
            custom=f.flag("custom"), provider=f.optional_text("provider"), inputs=dict(f.data.get("inputs") or {}),
            dependencies=list(f.data.get("dependencies") or []),
            property_dependencies=dict(f.data.get("propertyDependencies") or {}), protect=f.flag("protect"),
            id=f.optional_text("id"), outputs=dict(f.data.get("outputs") or {})))
    return str(plan.get("stack") or ""), resources


def main(argv: Sequence[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m engine.cost",
                                     description="Price a plan saved by `python -m stacks.preview ENV --json FILE`.")
    parser.add_argument("plan", type=Path, help="the saved plan (JSON)")
    parser.add_argument("--prices", metavar="FILE", type=Path, action="append",
                        help="price table(s) in the Azure Retail Prices API's shape (repeatable; later files win)")
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    args = parser.parse_args(argv)
    try:
        stack, resources = registrations_from_json(_read_json(args.plan), str(args.plan))
        cost = estimate(resources, load_price_table(args.prices), stack=stack)
    except PriceTableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(cost.as_json(), indent=2, sort_keys=True) if args.json else render_cost(cost))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

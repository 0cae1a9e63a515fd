"""Governance: resources that cost money or hold data carry the tags cost reports and owners are found by, and every
resource stays in the regions the environment allows (data residency)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._props import (
    AKS_AGENT_POOL,
    AKS_CLUSTER,
    APP_CONFIGURATION,
    BATCH_ACCOUNT,
    BATCH_POOL,
    COGNITIVE_ACCOUNT,
    CONTAINER_APP,
    CONTAINER_APPS_ENV,
    CONTAINER_REGISTRY,
    COSMOS_ACCOUNT,
    EVENT_HUBS,
    KEY_VAULT,
    ML_COMPUTE,
    ML_WORKSPACE,
    PRIVATE_ENDPOINT,
    SEARCH_SERVICE,
    SERVICE_BUS,
    STORAGE_ACCOUNT,
    mapping,
    text,
)
from ._rule import Resource, Rule

CONCERN = "governance"

# Resources with a bill of their own or data in them. Free containers (resource groups, VNets, subnets, NSGs, DNS
# zones, role assignments, identities) are left out: a missing tag there attributes no spend and finds no owner.
TAGGED_TYPES: tuple[str, ...] = (
    ML_WORKSPACE,
    ML_COMPUTE,
    STORAGE_ACCOUNT,
    KEY_VAULT,
    CONTAINER_REGISTRY,
    AKS_CLUSTER,
    AKS_AGENT_POOL,
    BATCH_ACCOUNT,
    CONTAINER_APPS_ENV,
    CONTAINER_APP,
    COGNITIVE_ACCOUNT,
    COSMOS_ACCOUNT,
    SERVICE_BUS,
    EVENT_HUBS,
    APP_CONFIGURATION,
    SEARCH_SERVICE,
    PRIVATE_ENDPOINT,
    "azure-native:operationalinsights:Workspace",
    "azure-native:compute:VirtualMachine",
    "azure-native:compute:VirtualMachineScaleSet",
    "azure-native:compute:Disk",
    "azure-native:sql:Server",
    "azure-native:sql:Database",
    "azure-native:network:AzureFirewall",
    "azure-native:network:ApplicationGateway",
    "azure-native:network:VirtualNetworkGateway",
    "azure-native:network:ExpressRouteGateway",
    "azure-native:network:BastionHost",
    "azure-native:network:NatGateway",
    "azure-native:network:PublicIPAddress",
    "azure-native:cache:Redis",
    "azure-native:web:AppServicePlan",
)
# Batch pools have no tags in the Batch API (the account carries them); left out on purpose.
assert BATCH_POOL not in TAGGED_TYPES

# Locations that are not a region: global resources (private DNS zones, Front Door, Traffic Manager).
NON_REGIONAL = ("global",)


def check_required_tags(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if resource.type.lower() not in {str(t).lower() for t in config["taggedTypes"]}:
        return
    tags = mapping(resource.props.get("tags"))
    present = {str(key).lower() for key, value in tags.items() if isinstance(value, str) and value.strip()}
    missing = [str(tag) for tag in config["requiredTags"] if str(tag).lower() not in present]
    if missing:
        yield f"missing or empty tag(s): {', '.join(missing)}; add them to tags={{...}}."


def normal_region(location: str) -> str:
    """'West US 3' and 'westus3' name the same region (ARM accepts both)."""
    return location.replace(" ", "").lower()


def check_allowed_locations(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    allowed = [str(a) for a in config["allowedLocations"]]
    location = resource.props.get("location")
    if not allowed or not isinstance(location, str) or not location.strip():
        return  # no list configured, or the provider's default location (checked on the provider's config)
    if normal_region(location) in NON_REGIONAL:
        return
    if normal_region(location) not in {normal_region(a) for a in allowed}:
        yield (
            f"location is {text(location)}; this environment allows only {', '.join(allowed)} (set location= "
            "one of them, or azure-native:location in the stack config)."
        )


RULES = [
    Rule(
        name="required-tags",
        concern=CONCERN,
        summary="Resources that cost money or hold data (taggedTypes) must carry the requiredTags (names compare "
        "case-insensitively, as in Azure), so spend can be attributed; free resources are not checked.",
        fix="Add the missing tags with non-empty values: tags={'environment': ..., 'owner': ..., 'costCenter': ...} "
        "(ARM: tags) — pass one tags dict to every resource of the environment.",
        severity=Severity.LOW,
        default_level=EnforcementLevel.ADVISORY,
        sources=("Azure Policy: Require a tag on resources", "PSRule Azure.Resource.UseTags"),
        resource_types=(),  # every type; taggedTypes (configurable) decides
        config={
            "requiredTags": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "uniqueItems": True,
                "default": ["environment", "owner", "costCenter"],
                "description": "Tag names every tagged resource must carry.",
            },
            "taggedTypes": {
                "type": "array",
                "items": {"type": "string", "pattern": "^azure-native:"},
                "uniqueItems": True,
                "default": list(TAGGED_TYPES),
                "description": "azure-native type tokens (without API version) that must be tagged: "
                "those that cost money or hold data.",
            },
        },
        check=check_required_tags,
    ),
    Rule(
        name="allowed-locations",
        concern=CONCERN,
        summary="Resources must be created in one of the environment's allowedLocations (data residency); an "
        "empty list allows every region.",
        fix="Set location= one of allowedLocations (ARM: location), or azure-native:location in the stack config; "
        "a resource's region cannot change, it is replaced.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Azure Policy: Allowed locations (e56962a6-4747-49cd-b67b-bf8b01975c4c)",
            "PSRule Azure.Resource.AllowedRegions",
        ),
        resource_types=(),
        config={
            "allowedLocations": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "uniqueItems": True,
                "default": [],
                "description": "Azure regions resources may be created in ('westus3' or "
                "'West US 3'); 'global' resources are always allowed.",
            }
        },
        check=check_allowed_locations,
    ),
]

"""Stack-level rules: a private-only resource is useless without its private endpoints, and a private endpoint
is useless without the DNS records that make clients resolve to it.

These look at the whole stack. In a preview, ids of resources still to be created are unknown, so a private
endpoint is matched to its target by the ARM id when it is known, and otherwise by the program's own wiring
(the property dependencies of `privateLinkServiceConnections`, then plain dependencies).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, Severity

from ._props import (
    BATCH_ACCOUNT,
    COGNITIVE_ACCOUNT,
    CONTAINER_REGISTRY,
    KEY_VAULT,
    ML_WORKSPACE,
    PRIVATE_DNS_ZONE,
    PRIVATE_DNS_ZONE_GROUP,
    PRIVATE_ENDPOINT,
    STORAGE_ACCOUNT,
    arm_id_parts,
    canonical_type,
    get,
    items,
    same,
)
from ._rule import UNKNOWN, Rule, known
from .network import PUBLIC_NETWORK_ACCESS

CONCERN = "stack"


@dataclass(frozen=True)
class Target:
    """A service that is reached through private endpoints: its config key, ARM type and Azure-name input."""

    config_key: str
    arm_type: str
    name_input: str
    default_groups: tuple[str, ...]
    valid_groups: tuple[str, ...]  # the sub-resources Private Link offers for this type (Learn: private endpoint DNS)


TARGETS: dict[str, Target] = {
    ML_WORKSPACE: Target(
        "machineLearningWorkspaceGroupIds",
        "microsoft.machinelearningservices/workspaces",
        "workspaceName",
        ("amlworkspace",),
        ("amlworkspace",),
    ),
    KEY_VAULT: Target("keyVaultGroupIds", "microsoft.keyvault/vaults", "vaultName", ("vault",), ("vault",)),
    STORAGE_ACCOUNT: Target(
        "storageAccountGroupIds",
        "microsoft.storage/storageaccounts",
        "accountName",
        ("blob", "file", "dfs"),
        tuple(g + suffix for g in ("blob", "file", "queue", "table", "web", "dfs") for suffix in ("", "_secondary")),
    ),
    CONTAINER_REGISTRY: Target(
        "containerRegistryGroupIds",
        "microsoft.containerregistry/registries",
        "registryName",
        ("registry",),
        ("registry",),
    ),
    BATCH_ACCOUNT: Target(
        "batchAccountGroupIds",
        "microsoft.batch/batchaccounts",
        "accountName",
        ("batchAccount", "nodeManagement"),
        ("batchAccount", "nodeManagement"),
    ),
    COGNITIVE_ACCOUNT: Target(
        "cognitiveServicesAccountGroupIds",
        "microsoft.cognitiveservices/accounts",
        "accountName",
        ("account",),
        ("account",),
    ),
}

_CONNECTION_KEYS = ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections")


def _type(resource: PolicyResource) -> str:
    return canonical_type(resource.resource_type)


def _text(resource: PolicyResource, *path: str) -> str | None:
    value = known(lambda: get(resource.props, *path))
    return value if isinstance(value, str) and value else None


def _azure_identity(resource: PolicyResource) -> tuple[str, str, str] | None:
    """(resource group, ARM type, name), lower-cased, for a target whose Azure name the program set."""
    target = TARGETS[_type(resource)]
    own_id = arm_id_parts(_text(resource, "id"))
    if own_id:
        return own_id
    name, group = _text(resource, target.name_input), _text(resource, "resourceGroupName")
    return (group.lower(), target.arm_type, name.lower()) if name and group else None


@dataclass
class Coverage:
    """What the private endpoints of one target provide."""

    endpoints: list[PolicyResource] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # lower-cased group id -> as the program wrote it
    unverifiable: bool = False  # some endpoint's group ids cannot be known during preview


def _wired(endpoint: PolicyResource, candidates: list[PolicyResource], plain: bool) -> list[PolicyResource]:
    """Targets the program wired into the endpoint's connections (property dependencies), else, when `plain`,
    the targets among its dependencies."""
    linked = [dep for key in _CONNECTION_KEYS for dep in endpoint.property_dependencies.get(key, [])]
    wired = [c for c in candidates if any(dep is c for dep in linked)]
    if wired or not plain:
        return wired
    return [c for c in candidates if any(dep is c for dep in endpoint.dependencies)]


def coverage(resources: list[PolicyResource]) -> dict[str, Coverage]:
    """For every target resource (by URN), the private endpoints that point at it and the group ids they carry."""
    targets = [r for r in resources if _type(r) in TARGETS]
    by_identity = {ident: t for t in targets if (ident := _azure_identity(t)) is not None}
    result: dict[str, Coverage] = {t.urn: Coverage() for t in targets}
    for endpoint in (r for r in resources if _type(r) == PRIVATE_ENDPOINT):
        connections = []
        for key in _CONNECTION_KEYS:
            found = known(lambda key=key, endpoint=endpoint: items(endpoint.props.get(key)))
            connections += [] if found is UNKNOWN else found
        for connection in connections:
            groups = known(lambda connection=connection: [str(g) for g in items(get(connection, "groupIds"))])
            link = known(lambda connection=connection: get(connection, "privateLinkServiceId"))
            parts = arm_id_parts(link) if isinstance(link, str) else None
            matched = [by_identity[parts]] if parts in by_identity else []
            if not matched:
                # The id is unknown (preview) or names a target by a name the program did not set: trust the wiring,
                # but only when it is unambiguous; plain dependencies only when the id says nothing at all.
                wired = _wired(endpoint, targets, plain=parts is None)
                matched = wired if len(wired) == 1 else []
            for target in matched:
                entry = result[target.urn]
                entry.endpoints.append(endpoint)
                if groups is UNKNOWN:
                    entry.unverifiable = True
                else:
                    entry.groups.update({g.lower(): g for g in groups})
    return result


def _private_only(resource: PolicyResource) -> bool:
    access = known(lambda: get(resource.props, *PUBLIC_NETWORK_ACCESS[_type(resource)]))
    return access is not UNKNOWN and same(access, "Disabled")


def check_private_endpoints(
    resources: list[PolicyResource], config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    covered = coverage(resources)
    for resource in resources:
        if _type(resource) not in TARGETS or exempt(resource) or not _private_only(resource):
            continue
        required = [str(g) for g in config[TARGETS[_type(resource)].config_key]]
        entry = covered[resource.urn]
        if not entry.endpoints:
            yield (
                f"public network access is disabled but no private endpoint in this stack connects to it; add "
                f"private endpoints for group id(s) {', '.join(required)}.",
                resource.urn,
            )
            continue
        missing = [g for g in required if g.lower() not in entry.groups]
        if missing and not entry.unverifiable:
            yield (
                f"its private endpoints cover {', '.join(sorted(entry.groups.values())) or 'no group'} but not "
                f"{', '.join(missing)}; add a private endpoint per missing group id.",
                resource.urn,
            )


def check_group_ids_fit(
    resources: list[PolicyResource], _config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    covered = coverage(resources)
    for resource in resources:
        if _type(resource) not in TARGETS or exempt(resource):
            continue
        valid = TARGETS[_type(resource)].valid_groups
        wrong = sorted(g for key, g in covered[resource.urn].groups.items() if key not in {v.lower() for v in valid})
        if wrong:
            yield (
                f"a private endpoint to this {TARGETS[_type(resource)].arm_type} asks for group id(s) "
                f"{', '.join(wrong)}, which this resource type does not offer (valid: {', '.join(valid)}); ARM "
                "rejects the endpoint. Fix group_ids in private_link_service_connections.",
                resource.urn,
            )


def _points_at(zone_group: PolicyResource, endpoint: PolicyResource) -> bool:
    if zone_group.parent is endpoint:
        return True
    if any(dep is endpoint for dep in zone_group.property_dependencies.get("privateEndpointName", [])):
        return True
    name = _text(zone_group, "privateEndpointName")
    group = _text(zone_group, "resourceGroupName")
    own = _text(endpoint, "privateEndpointName") or _text(endpoint, "name")
    own_group = _text(endpoint, "resourceGroupName")
    return bool(name and own and name.lower() == own.lower() and (group or "").lower() == (own_group or "").lower())


def _zone_names(zone_group: PolicyResource) -> set[str] | None:
    """Private DNS zone names the group registers the endpoint in; None if they cannot be known in preview."""
    configs = known(lambda: items(zone_group.props.get("privateDnsZoneConfigs")))
    if configs is UNKNOWN:
        return None
    names: set[str] = set()
    for config in configs:
        zone_id = known(lambda config=config: get(config, "privateDnsZoneId"))
        if not isinstance(zone_id, str):
            wired = [
                d
                for d in zone_group.property_dependencies.get("privateDnsZoneConfigs", [])
                if _type(d) == PRIVATE_DNS_ZONE
            ]
            zone_names = [_text(d, "privateZoneName") for d in wired]
            if not wired or not all(zone_names):
                return None
            names.update(str(n).lower() for n in zone_names)
            continue
        names.add(zone_id.rstrip("/").split("/")[-1].lower())
    return names


def check_dns_zone_groups(
    resources: list[PolicyResource], config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    zone_groups = [r for r in resources if _type(r) == PRIVATE_DNS_ZONE_GROUP]
    required_zones = {str(k).lower(): [str(z) for z in v] for k, v in dict(config["requiredZones"]).items()}
    for endpoint in resources:
        if _type(endpoint) != PRIVATE_ENDPOINT or exempt(endpoint):
            continue
        mine = [g for g in zone_groups if _points_at(g, endpoint)]
        if not mine:
            yield (
                "this private endpoint has no PrivateDnsZoneGroup, so clients keep resolving the service's public "
                "name; add one with the service's privatelink zone(s).",
                endpoint.urn,
            )
            continue
        zones: set[str] = set()
        for group in mine:
            names = _zone_names(group)
            if names is None:
                break  # a zone cannot be known during preview: the zone names are not checked
            zones |= names
        else:
            groups = known(
                lambda endpoint=endpoint: [
                    str(g).lower()
                    for c in items(endpoint.props.get("privateLinkServiceConnections"))
                    for g in items(get(c, "groupIds"))
                ]
            )
            if groups is UNKNOWN:
                continue
            if not zones:
                yield "its PrivateDnsZoneGroup lists no private DNS zone.", endpoint.urn
            for group_id in groups:
                wanted = required_zones.get(group_id, [])
                missing = [z for z in wanted if z.lower() not in zones]
                if missing:
                    yield (
                        f"group id '{group_id}' needs DNS records in {', '.join(wanted)}; its zone group lacks "
                        f"{', '.join(missing)}.",
                        endpoint.urn,
                    )


def _group_ids_property(target: Target, service: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "uniqueItems": True,
        "default": list(target.default_groups),
        "description": f"Private endpoint group ids every private-only {service} needs.",
    }


RULES = [
    Rule(
        name="private-endpoint-required",
        concern=CONCERN,
        summary="Every resource with public network access disabled (ML workspace, Key Vault, storage, ACR, Batch, "
        "Cognitive Services) must have private endpoints in the stack for each required group id.",
        fix="Add a network.PrivateEndpoint per missing group id with "
        "private_link_service_connections=[{'private_link_service_id': <the resource's id>, 'group_ids': [...]}] "
        "(ARM: properties.privateLinkServiceConnections[].groupIds; e.g. amlworkspace, vault, blob/file/dfs, "
        "registry, batchAccount/nodeManagement, account).",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Azure Policy: Azure Machine Learning workspaces should use private link",
            "Azure Policy: Storage accounts should use private link",
            "Azure Policy: Azure Key Vaults should use private link",
            "Azure Policy: Container registries should use private link",
            "Azure Policy: Cognitive Services should use private link",
        ),
        config={
            TARGETS[ML_WORKSPACE].config_key: _group_ids_property(TARGETS[ML_WORKSPACE], "ML workspace"),
            TARGETS[KEY_VAULT].config_key: _group_ids_property(TARGETS[KEY_VAULT], "Key Vault"),
            TARGETS[STORAGE_ACCOUNT].config_key: _group_ids_property(TARGETS[STORAGE_ACCOUNT], "storage account"),
            TARGETS[CONTAINER_REGISTRY].config_key: _group_ids_property(
                TARGETS[CONTAINER_REGISTRY], "container registry"
            ),
            TARGETS[BATCH_ACCOUNT].config_key: _group_ids_property(TARGETS[BATCH_ACCOUNT], "Batch account"),
            TARGETS[COGNITIVE_ACCOUNT].config_key: _group_ids_property(
                TARGETS[COGNITIVE_ACCOUNT], "Cognitive Services account"
            ),
        },
        stack_check=check_private_endpoints,
    ),
    Rule(
        name="private-endpoint-group-id-valid",
        concern="deployability",
        summary="A private endpoint's group ids must be sub-resources its target offers (e.g. 'vault' for Key "
        "Vault, 'blob'/'file'/'dfs'/... for storage, 'amlworkspace' for ML); anything else fails the "
        "deployment.",
        fix="Set group_ids in private_link_service_connections (ARM: properties.privateLinkServiceConnections[]."
        "groupIds) to a sub-resource the target supports (see the message).",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "Learn: Azure Private Endpoint private DNS zone values — sub-resources per resource type "
            "(learn.microsoft.com/azure/private-link/private-endpoint-dns)",
            "aiinfra",
        ),
        stack_check=check_group_ids_fit,
    ),
    Rule(
        name="private-endpoint-dns-zone-group",
        concern=CONCERN,
        summary="Every private endpoint must have a PrivateDnsZoneGroup registering it in the service's privatelink "
        "DNS zone(s) (both api.azureml.ms and notebooks.azure.net for an ML workspace).",
        fix="Add a network.PrivateDnsZoneGroup (parent= or private_endpoint_name= the endpoint) whose "
        "private_dns_zone_configs list every zone in requiredZones for the endpoint's group id (ARM: "
        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups properties.privateDnsZoneConfigs).",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Azure Policy: Configure Azure Machine Learning workspace to use private DNS zones",
            "Azure Policy: Configure private DNS zones for private endpoints (per service)",
        ),
        config={
            "requiredZones": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "default": {"amlworkspace": ["privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"]},
                "description": "Group id -> private DNS zones its endpoint's zone group must include.",
            }
        },
        stack_check=check_dns_zone_groups,
    ),
]

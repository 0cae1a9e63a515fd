"""The cross-cutting interface every aiinfra component offers the same way (the AVM lesson).

Written once, called by all components: tags, lock, diagnostic settings, role assignments, managed
identity, private endpoints with their DNS zone groups, and customer-managed keys.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Literal

import pulumi
import pulumiverse_time as time
from pulumi_azure_native import authorization, managedidentity, monitor, network
from pydantic import AfterValidator, Field

from ._base import ArgsModel, InputStr, ResourceList
from .naming import NamingConvention

# Private DNS zones per private-link group. Region-specific zones take the region in `{region}`.
PRIVATE_DNS_ZONES: dict[str, tuple[str, ...]] = {
    "blob": ("privatelink.blob.core.windows.net",),
    "file": ("privatelink.file.core.windows.net",),
    "dfs": ("privatelink.dfs.core.windows.net",),
    "queue": ("privatelink.queue.core.windows.net",),
    "table": ("privatelink.table.core.windows.net",),
    "vault": ("privatelink.vaultcore.azure.net",),
    "registry": ("privatelink.azurecr.io",),
    "amlworkspace": ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"),
    "batchAccount": ("privatelink.batch.azure.com",),
    "nodeManagement": ("privatelink.batch.azure.com",),
    "management": ("privatelink.{region}.azmk8s.io",),
    "managedEnvironments": ("privatelink.{region}.azurecontainerapps.io",),
    "account": ("privatelink.cognitiveservices.azure.com", "privatelink.openai.azure.com"),
    # Azure Monitor private link scope (Learn, "Azure Private Endpoint private DNS zone values": Azure Monitor).
    "azuremonitor": (
        "privatelink.monitor.azure.com",
        "privatelink.oms.opinsights.azure.com",
        "privatelink.ods.opinsights.azure.com",
        "privatelink.agentsvc.azure-automation.net",
        "privatelink.blob.core.windows.net",
    ),
}

# Groups whose zones change name resolution for the whole VNet once linked: an Azure Monitor zone without the scope's
# records breaks every agent in the VNet (Learn, "Design your Azure Private Link setup": AMPLS DNS is shared), so an
# environment only creates them together with its private link scope.
OPT_IN_DNS_GROUPS = frozenset({"azuremonitor"})

# Built-in role definition GUIDs (identical in every Azure tenant).
BUILTIN_ROLES: dict[str, str] = {
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    "Key Vault Administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage File Data Privileged Contributor": "69566ab7-960f-475b-8e7c-b3118f30c6bd",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Queue Data Reader": "19e7f393-937e-4f77-808e-94535e297925",
    "Storage Queue Data Message Processor": "8a0f0c08-91a1-4084-bc3d-661d67233fed",
    "Storage Account Contributor": "17d1049b-9a84-46fb-8f53-869881c3d3ab",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    "AzureML Compute Operator": "e503ece1-11d0-4e8e-8e2c-7a6c3bf38815",
    "AzureML Data Scientist": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    "Azure Kubernetes Service Cluster Admin Role": "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8",
    "Kubernetes Extension Contributor": "85cb6faf-e071-4c9b-8136-154b5a04f717",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Private DNS Zone Contributor": "b12aa53e-6015-4669-85d0-8515ebb3ae7f",
    "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "Azure AI Enterprise Network Connection Approver": "b556d68e-0be0-4f35-a333-ad7ee1ce17ea",
    # Learn, "Azure built-in roles for AI + machine learning" (same ids in AVM avm/res/cognitive-services/account):
    # OpenAI User calls the inference APIs and reads deployments, nothing more (no keys, no deployment changes).
    "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
}

_ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("0f6a7d1e-3c52-4a8e-9a57-8b2e7b4c1d90")


def dns_zone_names(group_id: str, location: str) -> tuple[str, ...]:
    """The private DNS zone(s) a private endpoint of `group_id` registers in."""
    if group_id not in PRIVATE_DNS_ZONES:
        raise ValueError(f"no private DNS zone known for group '{group_id}'")
    return tuple(z.format(region=location.lower()) for z in PRIVATE_DNS_ZONES[group_id])


_IMAGE = re.compile(
    r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
    r"|@sha256:[0-9a-f]{64})$"
)


def _registry_image(image: str) -> str:
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        raise ValueError(
            f"'{image}' names a registry ('{first}'); give the repository in the shared registry "
            "(e.g. 'inference/llm:1.2.0'): the registry's login server is added for you"
        )
    if not _IMAGE.match(image):
        raise ValueError(f"'{image}' is not a repository with a tag or digest (e.g. 'inference/llm:1.2.0')")
    return image


RegistryImage = Annotated[str, AfterValidator(_registry_image)]
"""`repository:tag` (or `@sha256:` digest) in the environment's container registry, without the login server."""


def registry_image_name(login_server: pulumi.Input[str], image: str) -> pulumi.Output[str]:
    """The full image name `<login server>/<repository>:<tag>` of a `RegistryImage`."""
    return pulumi.Output.concat(login_server, "/", image)


class CustomerManagedKey(ArgsModel):
    """A Key Vault key and the user-assigned identity allowed to wrap/unwrap with it."""

    key_vault_id: InputStr
    """Resource id of the Key Vault holding the key."""
    key_vault_uri: InputStr
    """Vault URI, e.g. `https://kv-x.vault.azure.net/`."""
    key_name: InputStr
    """Name of the RSA key."""
    key_id: InputStr
    """Versionless key URL (`https://<vault>.vault.azure.net/keys/<name>`), so Azure follows rotations."""
    key_version_url: InputStr | None = None
    """Versioned key URL (`.../keys/<name>/<version>`), for services that must be given a version: a Disk Encryption
    Set (which follows rotations with rotationToLatestKeyVersionEnabled) and Azure ML workspaces (required there; a
    rotation reaches them through `pulumi refresh` + `pulumi up`)."""
    identity_id: InputStr
    """Resource id of the user-assigned identity with Key Vault Crypto Service Encryption User on the key."""
    identity_client_id: InputStr
    """Client id of that identity (some services, e.g. ACR, want the client id)."""
    identity_principal_id: InputStr
    """Principal (object) id of that identity."""
    depends_on: ResourceList = Field(default_factory=list)
    """The identity's permission on the key (its role assignment) and a wait for it to take effect: a resource
    encrypted with the key must wait for them, or Azure rejects the key as unreadable. For Azure ML workspaces it must
    also cover the Azure Cosmos DB service principal's grant on the key (SharedServices makes both)."""


class RoleAssignmentSpec(ArgsModel):
    """Grant `role` on the component's main resource to a principal."""

    principal_id: InputStr
    """Object id of the user, group or service principal."""
    role: str = Field(min_length=1)
    """Built-in role name (see `BUILTIN_ROLES`) or a full role definition id."""
    principal_type: Literal["User", "Group", "ServicePrincipal", "ForeignGroup", "Device"] = "Group"
    """Principal type; setting it avoids replication-delay failures right after a principal is created."""


class CommonArgs(ArgsModel):
    """Fields every component takes, in the same shape."""

    naming: NamingConvention
    """Naming convention for every Azure name the component creates."""
    resource_group_name: InputStr
    """Resource group to create the component's resources in."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags applied to every taggable resource (e.g. owner, costCenter)."""
    lock: bool = False
    """Put a CanNotDelete lock on the component's stateful resources and mark them `protect`."""
    log_analytics_workspace_id: InputStr | None = None
    """Send diagnostic logs and metrics to this Log Analytics workspace; None sends none."""
    role_assignments: list[RoleAssignmentSpec] = Field(default_factory=list)
    """Extra role assignments on the component's main resource."""

    @property
    def location(self) -> str:
        return self.naming.location


def child_opts(
    parent: pulumi.Resource,
    *,
    protect: bool = False,
    depends_on: Sequence[pulumi.Resource] | None = None,
    delete_before_replace: bool = False,
) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(
        parent=parent,
        protect=protect,
        depends_on=list(depends_on or []),
        delete_before_replace=delete_before_replace or None,
    )


def user_assigned_identity(
    parent: pulumi.Resource, logical_name: str, *, args: CommonArgs, workload: str
) -> managedidentity.UserAssignedIdentity:
    """A user-assigned identity named by the convention for `workload` (e.g. `batch-nodes`), in the component's group."""
    return managedidentity.UserAssignedIdentity(
        logical_name,
        resource_name_=args.naming.name("user_assigned_identity", workload),
        resource_group_name=args.resource_group_name,
        location=args.location,
        tags=args.tags,
        opts=child_opts(parent, delete_before_replace=True),
    )


def identity_map(*identity_ids: pulumi.Input[str]) -> pulumi.Output[dict[str, Any]]:
    """`userAssignedIdentities` in the map form most ARM APIs take: {identity id: {}}.

    Identity ids are outputs, and an output cannot be a dict key, so the map is built inside an apply.
    """
    return pulumi.Output.all(*identity_ids).apply(lambda ids: {str(i): {} for i in ids})


def role_definition_id(role: str) -> pulumi.Output[str]:
    """Full role definition id in the current subscription for a built-in role name (or pass an id through)."""
    if role.startswith("/"):
        return pulumi.Output.from_input(role)
    if role not in BUILTIN_ROLES:
        raise ValueError(f"unknown built-in role '{role}'; known: {', '.join(sorted(BUILTIN_ROLES))}")
    guid = BUILTIN_ROLES[role]
    return authorization.get_client_config_output().subscription_id.apply(
        lambda sub: f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    )


def custom_role_definition_id(
    in_subscription: pulumi.Input[str], role: authorization.RoleDefinition, guid: str
) -> pulumi.Output[str]:
    """The subscription-level id of a custom role defined with `guid` (the form role assignments take), given any
    resource id in that subscription; it waits for the role to exist."""
    return pulumi.Output.all(pulumi.Output.from_input(in_subscription), role.id).apply(
        lambda v: f"{v[0].split('/resourceGroups/')[0]}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    )


def role_assignment(
    parent: pulumi.Resource,
    logical_name: str,
    *,
    naming: NamingConvention,
    scope: pulumi.Input[str],
    principal_id: pulumi.Input[str],
    role: str,
    principal_type: str = "ServicePrincipal",
    role_definition: pulumi.Input[str] | None = None,
    condition: pulumi.Input[str] | None = None,
) -> authorization.RoleAssignment:
    """A role assignment whose name (a GUID) is derived from the convention, the logical name and the scope: stable
    across runs.

    The scope is part of the name because a role assignment's name must be unique in the whole Entra tenant, not only
    at its scope (Learn, "Understand Azure role assignments": Name): two environments with the same prefix, environment
    and region in two subscriptions of one tenant must not collide (Bicep's guidance builds it from the scope too:
    `guid(scope, principalId, roleDefinitionId)`).

    `condition` is an Azure ABAC condition (version 2.0), e.g. the roles a role-assignment administrator may grant.
    """
    seed = [naming.prefix, naming.environment, naming.location, naming.unique_seed, logical_name, role]
    name = pulumi.Output.from_input(scope).apply(
        lambda at: str(uuid.uuid5(_ROLE_ASSIGNMENT_NAMESPACE, "|".join([*seed, at.lower()])))
    )
    return authorization.RoleAssignment(
        logical_name,
        role_assignment_name=name,
        scope=scope,
        principal_id=principal_id,
        principal_type=principal_type,
        role_definition_id=role_definition if role_definition is not None else role_definition_id(role),
        condition=condition,
        condition_version="2.0" if condition is not None else None,
        # A new principal or scope replaces the assignment (ARM refuses the update: RoleAssignmentUpdateNotPermitted;
        # pulumi-azure-native forces the replacement, pulumi/pulumi-azure-native#771, #1010) and the provider already
        # asks for delete-first then, since the name is not one it generated (provider.go Diff). Saying so explicitly
        # covers the replacements the engine forces instead (`pulumi up --replace`, replace_on_changes), where a
        # second assignment could not take the fixed name (the failure in pulumi/pulumi-azure-native#2253).
        opts=child_opts(parent, delete_before_replace=True),
    )


# How long to wait after a role assignment before a service uses it. Azure RBAC changes can take minutes to take
# effect (Learn, "Troubleshoot Azure RBAC": role assignment changes); AVM's Key Vault module waits after its role
# assignments before key operations (`wait_for_rbac_before_key_operations`, its CMK example uses 70s).
RBAC_PROPAGATION_WAIT = "90s"


def rbac_wait(parent: pulumi.Resource, logical_name: str, grants: Sequence[pulumi.Resource]) -> time.Sleep:
    """A wait after `grants` for their role assignments to take effect, before whatever depends on it uses them.

    It waits again whenever one of the assignments is replaced (a new principal, scope or role: the `triggers`),
    not only the first time: otherwise a resource updated after a replaced grant would use it before it works.
    """
    triggers: dict[str, pulumi.Input[str]] = {
        f"grant{i}": pulumi.Output.all(g.principal_id, g.scope, g.role_definition_id).apply("|".join)
        for i, g in enumerate(r for r in grants if isinstance(r, authorization.RoleAssignment))
    }
    return time.Sleep(
        logical_name,
        create_duration=RBAC_PROPAGATION_WAIT,
        triggers=triggers or None,
        opts=child_opts(parent, depends_on=grants),
    )


def extra_role_assignments(
    parent: pulumi.Resource, component_name: str, args: CommonArgs, scope: pulumi.Input[str]
) -> list[authorization.RoleAssignment]:
    """The `role_assignments` a caller asked for on the component's main resource."""
    return [
        role_assignment(
            parent,
            f"{component_name}-ra-{i}",
            naming=args.naming,
            scope=scope,
            principal_id=spec.principal_id,
            role=spec.role,
            principal_type=spec.principal_type,
        )
        for i, spec in enumerate(args.role_assignments)
    ]


def private_endpoint(
    parent: pulumi.Resource,
    logical_name: str,
    *,
    args: CommonArgs,
    azure_name: str,
    subnet_id: pulumi.Input[str],
    target_id: pulumi.Input[str],
    group_id: str,
    dns_zone_ids: Sequence[pulumi.Input[str]],
    depends_on: Sequence[pulumi.Resource] | None = None,
) -> network.PrivateEndpoint:
    """A private endpoint to `target_id` for one group, with its private DNS zone group.

    Without the zone group, clients in the VNet keep resolving the public name and the service
    (with public access disabled) refuses them: a private endpoint is only usable with it.
    """
    if not dns_zone_ids:
        raise ValueError(f"private endpoint '{logical_name}' needs at least one private DNS zone id")
    endpoint = network.PrivateEndpoint(
        logical_name,
        private_endpoint_name=azure_name,
        resource_group_name=args.resource_group_name,
        location=args.location,
        subnet=network.SubnetArgs(id=subnet_id),
        custom_network_interface_name=f"{azure_name}-nic",
        private_link_service_connections=[
            network.PrivateLinkServiceConnectionArgs(
                name=f"{azure_name}-{group_id}",
                private_link_service_id=target_id,
                group_ids=[group_id],
            )
        ],
        tags=args.tags,
        opts=child_opts(parent, depends_on=depends_on),
    )
    network.PrivateDnsZoneGroup(
        f"{logical_name}-dns",
        private_dns_zone_group_name="default",
        private_endpoint_name=endpoint.name,
        resource_group_name=args.resource_group_name,
        private_dns_zone_configs=[
            network.PrivateDnsZoneConfigArgs(name=f"zone-{i}", private_dns_zone_id=zone_id)
            for i, zone_id in enumerate(dns_zone_ids)
        ],
        opts=child_opts(endpoint),
    )
    return endpoint


def diagnostic_setting(
    parent: pulumi.Resource,
    logical_name: str,
    *,
    resource_id: pulumi.Input[str],
    workspace_id: pulumi.Input[str] | None,
    log_categories: Sequence[str] | None = None,
    all_logs: bool = True,
    metrics: bool = True,
    metric_categories: Sequence[str] = ("AllMetrics",),
) -> monitor.DiagnosticSetting | None:
    """Send a resource's logs (all, or the named categories) and metrics to Log Analytics.

    Most resource types take the `AllMetrics` metric category; some reject it and name their own
    (storage accounts and their services: `Transaction`). Returns None when no workspace is given,
    so callers need no `if` of their own.
    """
    if workspace_id is None:
        return None
    if log_categories:
        logs = [monitor.DiagnosticsLogSettingsArgs(category=c, enabled=True) for c in log_categories]
    elif all_logs:
        logs = [monitor.DiagnosticsLogSettingsArgs(category_group="allLogs", enabled=True)]
    else:
        logs = []
    return monitor.DiagnosticSetting(
        logical_name,
        name="to-log-analytics",
        resource_uri=resource_id,
        workspace_id=workspace_id,
        log_analytics_destination_type="Dedicated",
        logs=logs,
        metrics=[monitor.DiagnosticsMetricSettingsArgs(category=c, enabled=True) for c in metric_categories]
        if metrics
        else [],
        opts=child_opts(parent, delete_before_replace=True),
    )


def delete_lock(
    parent: pulumi.Resource, logical_name: str, *, scope: pulumi.Input[str], enabled: bool
) -> authorization.ManagementLockByScope | None:
    """A CanNotDelete lock on `scope` when `enabled` (stateful resources in production)."""
    if not enabled:
        return None
    return authorization.ManagementLockByScope(
        logical_name,
        lock_name="do-not-delete",
        scope=scope,
        level="CanNotDelete",
        notes="Managed by aiinfra: remove `lock` in the stack config before deleting this resource.",
        opts=child_opts(parent, delete_before_replace=True),
    )

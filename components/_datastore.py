"""Azure ML datastores for data that already lives in storage: identity-based, with container-scoped data roles.

Called by SecureWorkspace (one small hook); kept in its own module. For each configured ADLS Gen2 filesystem or
blob container it creates:

- a datastore with no credentials (`credentials.credentialsType: None`): jobs reach the data with an identity (the
  submitting user's, or the compute's managed identity), never an account key or SAS; the studio previews data with
  the workspace's user-assigned identity (`serviceDataAccessAuthIdentity: WorkspaceUserAssignedIdentity`);
- the data roles on exactly that container (scope `<account>/blobServices/default/containers/<name>`): Storage Blob
  Data Reader for the workspace identity (studio preview), Storage Blob Data Reader or Contributor (`readOnly`) for
  the compute identity (jobs and compute instances running as the compute).

Sources: Microsoft Learn, "Create datastores" (identity-based ADLS Gen2 and blob datastores, `credentials: None`),
"Data administration: identity-based data access" (the roles the compute and workspace identities need, "Storage
Blob Data Reader" for the workspace identity to preview data in the studio), and "Scope for Azure RBAC"
(container scope `.../blobServices/default/containers/<container>`). With a managed network that allows only
approved outbound, a storage account of your own is reached through a private endpoint outbound rule you add
(`outboundRules`, type PrivateEndpoint, `subresourceTarget` dfs or blob): "Managed virtual network isolation".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import pulumi
from pulumi_azure_native import machinelearningservices as ml
from pydantic import Field

from ._base import ArgsModel, duplicates
from .interfaces import BUILTIN_ROLES, child_opts, role_assignment
from .naming import NamingConvention

_STORAGE_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.Storage/storageAccounts/(?P<account>[a-z0-9]{3,24})$",
    re.IGNORECASE,
)
DATA_ROLES = ("Storage Blob Data Reader", "Storage Blob Data Contributor")
"""The only roles the deployer may grant on a datastore's container (see delegate_datastore_access)."""
DATASTORE_TYPES = {"adlsGen2": "AzureDataLakeGen2", "blob": "AzureBlob"}
PRIVATE_ENDPOINT_SUBRESOURCE = {"adlsGen2": "dfs", "blob": "blob"}


class DatastoreSettings(ArgsModel):
    """An existing ADLS Gen2 filesystem or blob container, attached to the workspace (an entry of `datastores`)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{2,254}$")
    """Datastore name in the workspace (lower-case letters, digits, `_`), e.g. `raw_images`."""
    kind: Literal["adlsGen2", "blob"] = "adlsGen2"
    """`adlsGen2` (a filesystem of a hierarchical-namespace account) or `blob` (a blob container)."""
    storage_account_id: str = Field(pattern=r"(?i)" + _STORAGE_ID.pattern)
    """Resource id of the existing storage account."""
    container: str = Field(pattern=r"^[a-z0-9]([a-z0-9]|-(?:[a-z0-9])){1,61}[a-z0-9]?$", max_length=63)
    """The filesystem / container name (3-63 lower-case letters, digits, single hyphens)."""
    read_only: bool = True
    """The compute identity gets Storage Blob Data Reader (true) or Contributor (false) on the container."""
    description: str = ""
    """What the data is."""

    @property
    def account_name(self) -> str:
        match = _STORAGE_ID.match(self.storage_account_id)
        assert match is not None
        return match["account"]

    @property
    def container_scope(self) -> str:
        return f"{self.storage_account_id}/blobServices/default/containers/{self.container}"


def validate_datastores(
    datastores: list[DatastoreSettings],
    *,
    approved_outbound_only: bool,
    private_endpoint_rules: Sequence[tuple[object, str | None]],
) -> list[DatastoreSettings]:
    """Unique names, and (approved-outbound managed network) a private endpoint rule to each account's sub-resource.

    `private_endpoint_rules`: (service resource id, sub-resource) of the workspace's PrivateEndpoint outbound rules.
    """
    repeated = duplicates(d.name for d in datastores)
    if repeated:
        raise ValueError(f"datastores: duplicate datastore name(s) {', '.join(repeated)}")
    if approved_outbound_only:
        # Rules to resources made in the same program (their id an Output) cannot name a datastore's existing account.
        reachable = {
            (target.lower(), (sub or "").lower()) for target, sub in private_endpoint_rules if isinstance(target, str)
        }
        for i, store in enumerate(datastores):
            sub = PRIVATE_ENDPOINT_SUBRESOURCE[store.kind]
            if (store.storage_account_id.lower(), sub) not in reachable:
                raise ValueError(
                    f"datastores[{i}] ({store.name}): the managed network allows only approved outbound, so compute "
                    f"cannot reach {store.account_name}; add an outboundRules entry of type PrivateEndpoint with "
                    f"serviceResourceId {store.storage_account_id} and subresourceTarget {sub}"
                )
    return datastores


def datastores(
    parent: pulumi.Resource,
    component_name: str,
    *,
    stores: Sequence[DatastoreSettings],
    naming: NamingConvention,
    workspace_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    workspace_principal_id: pulumi.Input[str],
    compute_principal_id: pulumi.Input[str],
    depends_on: Sequence[pulumi.Resource],
) -> list[ml.Datastore]:
    """One identity-based datastore per entry, after the container-scoped role assignments it relies on."""
    made = []
    for store in stores:
        grants = [
            role_assignment(
                parent,
                f"{component_name}-ds-{store.name}-id-reader",
                naming=naming,
                scope=store.container_scope,
                principal_id=workspace_principal_id,
                role="Storage Blob Data Reader",
            ),
            role_assignment(
                parent,
                f"{component_name}-ds-{store.name}-compute",
                naming=naming,
                scope=store.container_scope,
                principal_id=compute_principal_id,
                role="Storage Blob Data Reader" if store.read_only else "Storage Blob Data Contributor",
            ),
        ]
        match = _STORAGE_ID.match(store.storage_account_id)
        assert match is not None
        credentials = ml.NoneDatastoreCredentialsArgs(credentials_type="None")
        studio_identity = ml.ServiceDataAccessAuthIdentity.WORKSPACE_USER_ASSIGNED_IDENTITY
        properties: ml.AzureDataLakeGen2DatastoreArgs | ml.AzureBlobDatastoreArgs
        if store.kind == "adlsGen2":
            properties = ml.AzureDataLakeGen2DatastoreArgs(
                datastore_type=DATASTORE_TYPES["adlsGen2"],
                account_name=store.account_name,
                filesystem=store.container,
                credentials=credentials,
                description=store.description or None,
                service_data_access_auth_identity=studio_identity,
                subscription_id=match["sub"],
                resource_group=match["rg"],
            )
        else:
            properties = ml.AzureBlobDatastoreArgs(
                datastore_type=DATASTORE_TYPES["blob"],
                account_name=store.account_name,
                container_name=store.container,
                credentials=credentials,
                description=store.description or None,
                service_data_access_auth_identity=studio_identity,
                subscription_id=match["sub"],
                resource_group=match["rg"],
            )
        made.append(
            ml.Datastore(
                f"{component_name}-ds-{store.name}",
                name=store.name,
                workspace_name=workspace_name,
                resource_group_name=resource_group_name,
                properties=properties,
                opts=child_opts(parent, depends_on=[*depends_on, *grants]),
            )
        )
    return made


def delegation_condition() -> str:
    """ABAC condition (version 2.0): role assignments on the container may be created or deleted only for DATA_ROLES.

    Microsoft Learn, "Delegate Azure role assignment management to others with conditions" (constrain roles:
    `@Request[...RoleDefinitionId] ForAnyOfAnyValues:GuidEquals` for write, `@Resource[...]` for delete).
    """
    guids = ", ".join(sorted(BUILTIN_ROLES[r] for r in DATA_ROLES))
    role = "Microsoft.Authorization/roleAssignments:RoleDefinitionId"
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        f"(@Request[{role}] ForAnyOfAnyValues:GuidEquals {{{guids}}}))"
        " AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        f"(@Resource[{role}] ForAnyOfAnyValues:GuidEquals {{{guids}}}))"
    )


def delegate_datastore_access(
    parent: pulumi.Resource,
    logical_prefix: str,
    *,
    naming: NamingConvention,
    principal_id: pulumi.Input[str],
    stores: Sequence[tuple[str, DatastoreSettings]],
) -> list[pulumi.Resource]:
    """Let the pipeline's deployer grant the data roles on each datastore's container, and nothing else there.

    The platform stack assigns the workspace and compute identities their roles on the container, which lives in
    another resource group (often another subscription) than the deployer's own; the administrator running
    bootstrap/ gives the deployer Role Based Access Control Administrator on exactly that container, limited by
    `delegation_condition` to the two Storage Blob Data roles. `stores`: (workspace name, datastore settings).
    """
    made: list[pulumi.Resource] = []
    seen: set[str] = set()
    for workspace, store in stores:
        scope = store.container_scope.lower()
        if scope in seen:
            continue
        seen.add(scope)
        made.append(
            role_assignment(
                parent,
                f"{logical_prefix}-datastore-{workspace}-{store.name}",
                naming=naming,
                scope=store.container_scope,
                principal_id=principal_id,
                role="Role Based Access Control Administrator",
                condition=delegation_condition(),
            )
        )
    return made

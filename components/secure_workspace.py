"""SecureWorkspace: an Azure ML workspace that is private, identity-based and isolated by a managed network.

One workspace per data-access boundary (e.g. `research`, `vision`), several per environment, all sharing one
SharedServices (Key Vault, storage, ACR, Application Insights, private DNS zones). What it creates:

- the workspace, linked to the shared services, public network access off, default datastores reached with the
  workspace identity (no storage keys), data isolation on (several workspaces share one storage account);
- a private endpoint (`amlworkspace`) registered in BOTH private DNS zones the workspace needs;
- a managed network (`AllowOnlyApprovedOutbound` by default) provisioned together with the workspace, so the first
  compute never races the network;
- a user-assigned workspace identity with the roles Azure ML documents for it, granted *before* the workspace
  exists, and a separate user-assigned identity for compute nodes (pull images, read/write data, read secrets);
- customer-managed key encryption and the high-business-impact flag when asked;
- an image-build CPU cluster that scales to zero (a private registry cannot build images itself);
- Azure AD groups for data scientists and admins (or existing ones), a custom data-scientist role that runs jobs
  on existing compute but cannot create, change or delete compute or the workspace, and the admins' roles;
- diagnostic settings with explicit AML log categories, and `protect` when `lock` is set (plus a CanNotDelete lock
  only without a managed network: Learn's managed-network page says scope locks block its operations).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any, Literal

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import authorization, network
from pulumi_azure_native import machinelearningservices as ml
from pydantic import Field, field_validator, model_validator

from aiinfra.catalog.wire import arm_id_parts

from ._aml import ClusterShape, ComputeName, ComputePlacement, aml_cluster, validate_idle_minutes
from ._base import ArgsModel, InputStr, ResourceList, duplicates, publish
from ._compute_instance import ComputeInstanceSettings, compute_instances, validate_compute_instances
from ._datastore import DatastoreSettings, datastores, validate_datastores
from .interfaces import (
    CommonArgs,
    child_opts,
    custom_role_definition_id,
    delete_lock,
    diagnostic_setting,
    extra_role_assignments,
    private_endpoint,
    rbac_wait,
    role_assignment,
    user_assigned_identity,
)
from .naming import NamingConvention
from .shared_services import SharedServicesRef

# The AML resource log categories worth keeping: compute and job lifecycle, GPU utilisation, and the audit trail of
# changes (not the high-volume read events). Microsoft Learn, "Supported logs for
# Microsoft.MachineLearningServices/workspaces".
DIAGNOSTIC_LOG_CATEGORIES: tuple[str, ...] = (
    "AmlComputeClusterEvent",
    "AmlComputeClusterNodeEvent",
    "AmlComputeJobEvent",
    "AmlComputeCpuGpuUtilization",
    "AmlRunStatusChangedEvent",
    "ComputeInstanceEvent",
    "ModelsChangeEvent",
    "ModelsActionEvent",
    "DeploymentEventAKS",
    "EnvironmentChangeEvent",
    "DataSetChangeEvent",
    "DataStoreChangeEvent",
    "RunEvent",
)

_WS = "Microsoft.MachineLearningServices/workspaces"

# The data-scientist custom role. Azure RBAC matches `*` against any text, so `workspaces/*/write` also grants
# `workspaces/computes/write`; the exact compute and workspace operations are excluded explicitly, besides the
# wildcard forms the built-in AzureML Data Scientist role uses.
DATA_SCIENTIST_ACTIONS: tuple[str, ...] = (
    f"{_WS}/read",
    f"{_WS}/*/read",
    f"{_WS}/*/action",
    f"{_WS}/*/write",
    f"{_WS}/*/delete",
)
DATA_SCIENTIST_NOT_ACTIONS: tuple[str, ...] = (
    f"{_WS}/write",
    f"{_WS}/delete",
    f"{_WS}/computes/write",
    f"{_WS}/computes/delete",
    f"{_WS}/computes/*/write",
    f"{_WS}/computes/*/delete",
    f"{_WS}/computes/listKeys/action",
    f"{_WS}/listKeys/action",
    f"{_WS}/listStorageAccountKeys/action",
    f"{_WS}/privateEndpointConnections/write",
    f"{_WS}/privateEndpointConnections/delete",
    f"{_WS}/outboundRules/write",
    f"{_WS}/outboundRules/delete",
    f"{_WS}/provisionManagedNetwork/action",
)

# FQDN rule sets for `AllowOnlyApprovedOutbound` (Learn, "Managed virtual network isolation", scenario-specific
# outbound rules). Every FQDN rule makes Azure run an Azure Firewall in the managed network (a fixed hourly cost).
FQDN_RULE_SETS: dict[str, tuple[str, ...]] = {
    # "Access public machine learning packages" (pip and conda during image builds and jobs). Learn names
    # *.pythonhosted.org for a custom index; pip downloads every wheel from files.pythonhosted.org, so it is here too.
    "python-packages": ("pypi.org", "*.pythonhosted.org", "anaconda.com", "*.anaconda.com", "*.anaconda.org"),
    # Docker Hub base images of environment builds (the Docker hosts of Learn's Hugging Face scenario).
    "docker-hub": ("docker.io", "*.docker.io", "*.docker.com", "production.cloudflare.docker.com"),
    # "Use HuggingFace models": Learn's list, plus huggingface.co itself (the Hub API the libraries call first).
    "huggingface": (
        "docker.io",
        "*.docker.io",
        "*.docker.com",
        "production.cloudflare.docker.com",
        "cdn.auth0.com",
        "cdn-lfs.huggingface.co",
        "huggingface.co",
    ),
}
FqdnRuleSet = Literal["python-packages", "docker-hub", "huggingface"]

_ROLE_NAMESPACE = uuid.UUID("3c9b8f64-2a8e-4f0e-9d53-1b7c6a0e5f21")
_RESERVED_RULE_PREFIX = "aiinfra-"
_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_FQDN = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_PORTS = re.compile(r"^(\*|\d{1,5}(-\d{1,5})?(\s*,\s*\d{1,5}(-\d{1,5})?)*)$")


class OutboundRule(ArgsModel):
    """A user-defined outbound rule of the workspace's managed network."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")
    """Rule name, unique in the workspace (letters, digits, '-', '_'; the `aiinfra-` prefix is reserved)."""
    type: Literal["PrivateEndpoint", "ServiceTag", "FQDN"]
    """`PrivateEndpoint` (any mode), `ServiceTag` or `FQDN` (only with `AllowOnlyApprovedOutbound`). FQDN rules
    make Azure deploy an Azure Firewall in the managed network: a fixed hourly cost for the workspace."""
    service_resource_id: InputStr | None = None
    """PrivateEndpoint: resource id of the target (same tenant). The workspace identity gets the Azure AI Enterprise
    Network Connection Approver role on it, so the endpoint is approved."""
    subresource_target: str | None = None
    """PrivateEndpoint: the target's sub-resource (group id), e.g. `blob`, `vault`, `registry`, `account`."""
    spark_enabled: bool = False
    """PrivateEndpoint: also reachable from serverless Spark."""
    service_tag: str | None = None
    """ServiceTag: the Azure service tag, e.g. `DataFactory`, `AzureOpenDatasets`."""
    protocol: Literal["TCP", "UDP", "ICMP", "*"] = "TCP"
    """ServiceTag: protocol."""
    port_ranges: str = "443"
    """ServiceTag: ports, e.g. `443` or `80, 8080-8089`."""
    destination: str | None = None
    """FQDN: host name, optionally with a leading `*.` (ports 80 and 443 only)."""

    @field_validator("port_ranges")
    @classmethod
    def _ports(cls, value: str) -> str:
        if not _PORTS.match(value.strip()):
            raise ValueError(f"'{value}' is not a port list like '443' or '80, 8080-8089'")
        return value

    @field_validator("destination")
    @classmethod
    def _fqdn(cls, value: str | None) -> str | None:
        if value is not None and not _FQDN.match(value.lower()):
            raise ValueError(f"'{value}' is not a host name (e.g. 'huggingface.co' or '*.huggingface.co')")
        return value

    @model_validator(mode="after")
    def _fields_of_type(self) -> OutboundRule:
        if self.name.lower().startswith(_RESERVED_RULE_PREFIX):
            raise ValueError(
                f"rule name '{self.name}': the '{_RESERVED_RULE_PREFIX}' prefix is reserved for the "
                "rules SecureWorkspace adds itself"
            )
        required = {
            "PrivateEndpoint": ("service_resource_id", "subresource_target"),
            "ServiceTag": ("service_tag",),
            "FQDN": ("destination",),
        }
        missing = [_alias(f) for f in required[self.type] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a {self.type} rule needs {', '.join(missing)}")
        foreign = [
            _alias(f)
            for t, fields in required.items()
            if t != self.type
            for f in fields
            if getattr(self, f) is not None
        ]
        if foreign:
            raise ValueError(f"{', '.join(foreign)} do(es) not apply to a {self.type} rule")
        return self

    def wire(self) -> Any:
        """The rule as the workspace's `managedNetwork.outboundRules` takes it."""
        if self.type == "PrivateEndpoint":
            return ml.PrivateEndpointOutboundRuleArgs(
                type="PrivateEndpoint",
                category=ml.RuleCategory.USER_DEFINED,
                destination=ml.PrivateEndpointDestinationArgs(
                    service_resource_id=self.service_resource_id,
                    subresource_target=self.subresource_target,
                    spark_enabled=self.spark_enabled,
                ),
            )
        if self.type == "ServiceTag":
            return ml.ServiceTagOutboundRuleArgs(
                type="ServiceTag",
                category=ml.RuleCategory.USER_DEFINED,
                destination=ml.ServiceTagDestinationArgs(
                    service_tag=self.service_tag,
                    protocol=self.protocol,
                    port_ranges=self.port_ranges,
                    action=ml.RuleAction.ALLOW,
                ),
            )
        return ml.FqdnOutboundRuleArgs(type="FQDN", category=ml.RuleCategory.USER_DEFINED, destination=self.destination)


_BLOB_DATA_ACTIONS = ("read", "write", "delete", "add/action", "move/action")


def workspace_containers_condition(workspace_guid: str) -> str:
    """An ABAC condition (version 2.0) limiting blob data actions to containers whose name holds the workspace's GUID
    (its default datastores `azureml-blobstore-<guid>` and, with data isolation, its other containers)."""
    actions = " AND ".join(
        f"!(ActionMatches{{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/{a}'}})"
        for a in _BLOB_DATA_ACTIONS
    )
    return (
        f"(({actions}) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] "
        f"StringLike '*{workspace_guid}*'))"
    )


def fqdn_rule_set_rules(sets: Sequence[str], own_rules: list[OutboundRule]) -> dict[str, Any]:
    """The FQDN rules of the named sets (each host once, none a rule of the caller's already allows), by rule name."""
    covered = {r.destination.lower() for r in own_rules if r.type == "FQDN" and r.destination}
    hosts: list[str] = []
    for name in sets:
        hosts += [h for h in FQDN_RULE_SETS[name] if h not in hosts and h not in covered]
    return {
        f"{_RESERVED_RULE_PREFIX}fqdn-{re.sub(r'[^a-z0-9]+', '-', host.replace('*.', 'any-')).strip('-')}": ml.FqdnOutboundRuleArgs(
            type="FQDN", category=ml.RuleCategory.USER_DEFINED, destination=host
        )
        for host in hosts
    }


def _alias(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


class ImageBuildCluster(ArgsModel):
    """The CPU cluster that builds environment images: a registry behind a private endpoint cannot build them."""

    name: ComputeName = "image-build"
    """Compute name of the cluster (set as the workspace's `imageBuildCompute`)."""
    vm_size: str = Field(default="Standard_D4s_v5", pattern=r"^Standard_[A-Za-z0-9_]+$")
    """CPU VM size of the build nodes."""
    max_nodes: int = Field(default=1, ge=1, le=4)
    """Parallel image builds; the cluster scales to zero between builds."""
    idle_minutes: int = 5
    """Idle time before a build node is removed."""

    @field_validator("idle_minutes")
    @classmethod
    def _idle(cls, minutes: int) -> int:
        return validate_idle_minutes(minutes)


class WorkspaceAccess(ArgsModel):
    """Who may use the workspace: an Azure AD group of data scientists and one of admins."""

    data_scientists_group_object_id: str | None = Field(default=None, pattern=_UUID)
    """Object id of an existing Azure AD group of data scientists; None creates a security group."""
    admins_group_object_id: str | None = Field(default=None, pattern=_UUID)
    """Object id of an existing Azure AD group of workspace admins; None creates a security group."""
    group_owner_object_ids: list[str] = Field(default_factory=list)
    """Owners of the groups this creates (object ids); empty makes the deploying identity the owner."""

    @field_validator("group_owner_object_ids")
    @classmethod
    def _owner_ids(cls, ids: list[str]) -> list[str]:
        bad = [i for i in ids if not re.match(_UUID, i)]
        if bad:
            raise ValueError(f"not object ids (GUIDs): {', '.join(bad)}")
        return ids


class SecureWorkspaceSettings(ArgsModel):
    """What an environment chooses about one workspace (an entry of `workspaces` in stack config)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9]{1,11}$")
    """Workload name of the workspace, its data-access boundary (e.g. `research`); part of its Azure names."""
    friendly_name: str | None = None
    """Display name in the studio; defaults to the workload name."""
    description: str = ""
    """What the workspace is for."""
    public_network_access: Literal["Disabled", "Enabled"] = "Disabled"
    """`Enabled` opens the workspace to the internet besides its private endpoint (the policy pack flags it)."""
    isolation_mode: Literal["AllowOnlyApprovedOutbound", "AllowInternetOutbound", "Disabled"] = (
        "AllowOnlyApprovedOutbound"
    )
    """Managed network: `AllowOnlyApprovedOutbound` (only Azure's required rules plus `outboundRules`),
    `AllowInternetOutbound`, or `Disabled` (computes go into the shared AML compute subnet instead). Azure allows
    no way back: approved-only cannot become internet-outbound, and a managed network cannot be disabled."""
    outbound_rules: list[OutboundRule] = Field(default_factory=list)
    """Extra outbound rules of the managed network (private endpoints, service tags, FQDNs)."""
    storage_outbound_subresources: list[Literal["dfs", "queue", "table", "web"]] = Field(
        default_factory=lambda: ["dfs"]
    )
    """Shared storage sub-resources the managed network reaches through extra private endpoints. Azure adds the
    blob, file, Key Vault and registry endpoints itself; `dfs` serves ADLS Gen2 paths, `queue` and `table` batch
    endpoints. Only with a managed network."""
    fqdn_rule_sets: list[FqdnRuleSet] = Field(default_factory=lambda: ["python-packages", "docker-hub"])
    """Named sets of FQDN outbound rules for `AllowOnlyApprovedOutbound` (ignored by the other modes, which reach the
    internet anyway): `python-packages` (pypi, conda), `docker-hub` (base images) — what image builds and `pip
    install` in jobs need by default — and `huggingface` (Learn's list for Hugging Face models). Any FQDN rule makes
    Azure deploy an Azure Firewall (see firewallSku); set `[]` when a private feed (behind a PrivateEndpoint rule)
    serves packages and images."""
    firewall_sku: Literal["Basic", "Standard"] = "Basic"
    """Azure Firewall tier deployed when FQDN rules exist (approved-only mode). Basic is the cheaper one."""
    require_cmk: bool = False
    """Encrypt the workspace's service data with the environment's customer-managed key (needs the shared CMK)."""
    hbi_workspace: bool = False
    """High business impact: Microsoft collects less diagnostic data and encrypts compute scratch disks."""
    enable_data_isolation: bool = True
    """Prefix this workspace's containers, secrets and images with its id in the shared storage, Key Vault and ACR
    (several workspaces share them). Only settable at creation."""
    image_build: ImageBuildCluster | None = Field(default_factory=ImageBuildCluster)
    """CPU cluster for image builds (scale to zero); None leaves image builds to the registry (public ACR only)."""
    diagnostic_log_categories: list[str] = Field(default_factory=lambda: list(DIAGNOSTIC_LOG_CATEGORIES), min_length=1)
    """AML resource log categories sent to Log Analytics."""
    access: WorkspaceAccess = Field(default_factory=WorkspaceAccess)
    """Azure AD groups of data scientists and admins."""
    compute_instances: list[ComputeInstanceSettings] = Field(default_factory=list)
    """Personal compute instances, one per listed user: private, idle shutdown and a start/stop schedule
    (components/_compute_instance.py)."""
    datastores: list[DatastoreSettings] = Field(default_factory=list)
    """Identity-based datastores for existing ADLS Gen2 / blob containers, with data roles on exactly those
    containers (components/_datastore.py)."""

    @model_validator(mode="after")
    def _operations(self) -> SecureWorkspaceSettings:
        validate_compute_instances(self.compute_instances)
        validate_datastores(
            self.datastores,
            approved_outbound_only=self.isolation_mode == "AllowOnlyApprovedOutbound",
            private_endpoint_rules=[
                (r.service_resource_id, r.subresource_target)
                for r in self.outbound_rules
                if r.type == "PrivateEndpoint"
            ],
        )
        return self

    @model_validator(mode="after")
    def _network_rules(self) -> SecureWorkspaceSettings:
        repeated = duplicates(rule.name for rule in self.outbound_rules)
        if repeated:
            raise ValueError(f"outboundRules: duplicate rule name(s) {', '.join(repeated)}")
        if self.isolation_mode == "Disabled":
            if self.outbound_rules:
                raise ValueError(
                    "outboundRules need a managed network; set isolationMode to "
                    "AllowOnlyApprovedOutbound or AllowInternetOutbound, or remove them"
                )
            if "storage_outbound_subresources" in self.model_fields_set and self.storage_outbound_subresources:
                raise ValueError("storageOutboundSubresources need a managed network; set isolationMode or remove it")
        elif self.isolation_mode == "AllowInternetOutbound":
            approved_only = [r.name for r in self.outbound_rules if r.type != "PrivateEndpoint"]
            if approved_only:
                raise ValueError(
                    f"outboundRules {', '.join(approved_only)}: ServiceTag and FQDN rules only apply with "
                    "isolationMode AllowOnlyApprovedOutbound (internet outbound already allows them)"
                )
        return self

    @property
    def managed_network(self) -> bool:
        return self.isolation_mode != "Disabled"

    @property
    def compute_names(self) -> list[str]:
        """Compute names the workspace itself creates."""
        return [self.image_build.name] if self.image_build else []


class SecureWorkspaceArgs(CommonArgs, SecureWorkspaceSettings):
    """Args of SecureWorkspace: the common component args, the workspace settings and the shared services."""

    shared: SharedServicesRef
    """The environment's shared services (`SharedServices.ref`, or one built by hand)."""
    data_scientist_role_id: str | None = Field(
        default=None, pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )
    """GUID of an existing data-scientist custom role (bootstrap/ creates it, assignable in the group): assigned
    here instead of defining one, so the deployer needs no `roleDefinitions/write`. None defines the role here."""

    @model_validator(mode="after")
    def _shared_services_offer_what_is_asked(self) -> SecureWorkspaceArgs:
        if self.require_cmk and self.shared.cmk is None:
            raise ValueError(
                "require_cmk needs the shared services' customer-managed key (SharedServices with "
                "require_cmk, or a SharedServicesRef with cmk)"
            )
        if self.require_cmk and self.shared.cmk is not None and self.shared.cmk.key_version_url is None:
            raise ValueError(
                "shared.cmk.key_version_url is required with require_cmk: Azure ML takes a versioned key URL "
                "(`https://<vault>.vault.azure.net/keys/<name>/<version>`, the `kid` of `az keyvault key show`; "
                "Learn, 'Use customer-managed keys with Azure Machine Learning'); set it on the CustomerManagedKey"
            )
        if not self.managed_network:
            self.shared.require("aml_compute_subnet_id", "isolation_mode 'Disabled' puts computes into your VNet")
        return self


class SecureWorkspaceRef(ArgsModel):
    """What computes (GpuComputePool, an attached AKS cluster) need from a workspace.

    `SecureWorkspace.ref` gives one; for a workspace made elsewhere, build one by hand.
    """

    naming: NamingConvention
    """Naming convention of the environment."""
    resource_group_name: InputStr
    """Resource group of the workspace (computes are created there)."""
    workspace_name: InputStr
    """Azure name of the workspace."""
    workspace_id: InputStr
    """Resource id of the workspace."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags for the computes."""
    managed_network: bool = True
    """The workspace has a managed network: computes live in it and must not name a subnet."""
    compute_subnet_id: InputStr | None = None
    """Subnet for computes when the workspace has no managed network."""
    compute_identity_id: InputStr | None = None
    """User-assigned identity for compute nodes (AcrPull, storage data, Key Vault secrets)."""
    depends_on: ResourceList = Field(default_factory=list)
    """What a compute must wait for: the workspace, whose managed network is provisioned with it, and the compute
    identity's role assignments."""

    @property
    def location(self) -> str:
        return self.naming.location


def _in_group(target: InputStr, resource_group_name: InputStr) -> bool:
    """Whether an outbound rule's target lies in the environment's resource group: a resource the program makes (an
    Output id) does; an ARM id string does when its resourceGroups segment names the group."""
    if not isinstance(target, str):
        return True
    parts = arm_id_parts(target)
    return isinstance(resource_group_name, str) and parts is not None and parts[0] == resource_group_name.lower()


class SecureWorkspace(pulumi.ComponentResource):
    """A private Azure ML workspace on the shared services, with its managed network, identities and access."""

    ref: SecureWorkspaceRef
    location: str
    workspace: ml.Workspace
    workspace_name: pulumi.Output[str]
    workspace_id: pulumi.Output[str]
    resource_group_name: pulumi.Output[str]
    discovery_url: pulumi.Output[str | None]
    principal_id: pulumi.Output[str]
    identity_id: pulumi.Output[str]
    identity_principal_id: pulumi.Output[str]
    compute_identity_id: pulumi.Output[str]
    compute_identity_principal_id: pulumi.Output[str]
    private_endpoint_id: pulumi.Output[str]
    data_scientists_group_object_id: pulumi.Output[str]
    admins_group_object_id: pulumi.Output[str]
    data_scientist_role_definition_id: pulumi.Output[str]

    def __init__(self, name: str, args: SecureWorkspaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Everything that can fail on input fails here, before anything is registered.
        zone_ids = args.shared.dns_zone_ids_for("amlworkspace")
        super().__init__("aiinfra:ml:SecureWorkspace", name, None, opts)
        self.location = args.location
        ws = args.name
        workspace_identity = user_assigned_identity(self, f"{name}-id", args=args, workload=f"{ws}-mlw")
        compute_identity = user_assigned_identity(self, f"{name}-compute-id", args=args, workload=f"{ws}-compute")
        grants = self._workspace_identity_grants(name, args, workspace_identity.principal_id)
        self.workspace = workspace = self._workspace(name, args, workspace_identity.id, grants)
        # Learn's user-assigned identity table also lists Contributor on the workspace itself, which can only follow
        # it; computes wait for it to take effect as they wait for the compute identity's grants.
        on_workspace = self._grant(
            name, args.naming, workspace_identity.principal_id, "id", [("mlw", workspace.id, ("Contributor",))]
        )
        workspace_granted = rbac_wait(self, f"{name}-mlw-rbac-wait", on_workspace)
        endpoint = self._private_endpoint(name, args, workspace, zone_ids)
        self._diagnostics_and_lock(name, args, workspace)
        scientists, admins, role = self._access(name, args, workspace)
        compute_ready = self._data_access(name, args, workspace, compute_identity.principal_id, scientists)
        self.ref = SecureWorkspaceRef(
            naming=args.naming,
            resource_group_name=args.resource_group_name,
            workspace_name=workspace.name,
            workspace_id=workspace.id,
            tags=args.tags,
            managed_network=args.managed_network,
            compute_subnet_id=None if args.managed_network else args.shared.aml_compute_subnet_id,
            compute_identity_id=compute_identity.id,
            depends_on=[workspace, compute_ready, workspace_granted],
        )
        self._computes(name, args, workspace, compute_identity.id)
        datastores(
            self,
            name,
            stores=args.datastores,
            naming=args.naming,
            workspace_name=workspace.name,
            resource_group_name=args.resource_group_name,
            workspace_principal_id=workspace_identity.principal_id,
            compute_principal_id=compute_identity.principal_id,
            depends_on=[workspace],
        )
        # Attributes for callers only (not registered outputs: `principalId` already carries the first).
        self.identity_principal_id = workspace_identity.principal_id
        self.compute_identity_principal_id = compute_identity.principal_id
        publish(
            self,
            workspace_name=workspace.name,
            workspace_id=workspace.id,
            resource_group_name=pulumi.Output.from_input(args.resource_group_name),
            location=self.location,
            discovery_url=workspace.discovery_url,
            principal_id=workspace_identity.principal_id,
            identity_id=workspace_identity.id,
            compute_identity_id=compute_identity.id,
            private_endpoint_id=endpoint.id,
            data_scientists_group_object_id=scientists,
            admins_group_object_id=admins,
            data_scientist_role_definition_id=role,
        )

    def _workspace_identity_grants(
        self, name: str, args: SecureWorkspaceArgs, principal_id: pulumi.Output[str]
    ) -> list[pulumi.Resource]:
        """The workspace identity's roles (Microsoft Learn, "Set up authentication between Azure Machine Learning and
        other services": user-assigned workspace identity). Granted before the workspace, which uses them while it is
        created (default datastores, and the managed network's private endpoints it provisions now).

        Storage Blob Data Contributor on the account, whatever `enable_data_isolation` says, before the workspace.
        The storage account has shared keys off and the workspace uses `systemDatastoresAuthMode: Identity`, so this
        identity reaches blob data only through a data-plane role. Learn's per-scenario table ("Set up authentication
        between Azure Machine Learning and other services", RBAC roles by scenario) lists "Storage Blob Data
        Contributor on storage" as required for a workspace with a user-assigned identity. The same page's "Workspace
        identity types" table says role assignments for a user-assigned identity are "managed by you" (only a
        system-assigned identity gets Microsoft-made grants), so we cannot count on the conditioned role the "Data
        isolation for shared resources" section describes. Microsoft's quickstart
        `machine-learning-dependencies-role-assignment` (Azure/azure-quickstart-templates) also grants this role to
        the primary user-assigned identity before the workspace. (AVM's machine-learning-services/workspace `encr`
        test gives its identity no storage role, but its account keeps shared keys on: no evidence for identity-only
        storage.) Trade-off, written down in
        docs/components/secure_workspace.md: the grant is account-wide, because an ABAC condition on the container
        name needs the workspace GUID, and that exists only once the workspace does. The compute identity and the
        data scientists keep the conditioned role."""
        shared, n = args.shared, args.naming
        grants = self._grant(
            name,
            n,
            principal_id,
            "id",
            [
                (
                    "st",
                    shared.storage_account_id,
                    ("Contributor", "Storage Blob Data Contributor", "Storage File Data Privileged Contributor"),
                ),
                ("kv", shared.key_vault_id, ("Contributor", "Key Vault Administrator")),
                ("acr", shared.container_registry_id, ("Contributor",)),
                ("appi", shared.application_insights_id, ("Contributor",)),
            ],
        )
        if not args.managed_network:
            return grants
        # Since 2025 Azure no longer approves managed-network private endpoints for a user-assigned workspace
        # identity by itself: the identity needs this role on every target.
        targets = [
            ("st", shared.storage_account_id),
            ("kv", shared.key_vault_id),
            ("acr", shared.container_registry_id),
        ]
        rule_targets = [
            (r.name, r.service_resource_id)
            for r in args.outbound_rules
            if r.type == "PrivateEndpoint" and r.service_resource_id is not None
        ]
        # A target outside the environment's resource group (another team's data lake, another subscription) is not
        # ours to grant on: the deployer's rights end at its group (DeployerIdentity), so the grant would fail the
        # whole `up` with AuthorizationFailed. Its owner approves the managed private endpoint instead.
        foreign = [(rule, target) for rule, target in rule_targets if not _in_group(target, args.resource_group_name)]
        targets += [(f"rule-{rule}", target) for rule, target in rule_targets if (rule, target) not in foreign]
        if foreign:
            pulumi.log.warn(
                f"workspace '{args.name}': outbound rule(s) {', '.join(rule for rule, _ in foreign)} target "
                "resources outside this environment's resource group; their owners approve the managed private "
                "endpoints (no approver grant from here)"
            )
        grants += self._grant(
            name,
            n,
            principal_id,
            "id",
            [(key, scope, ("Azure AI Enterprise Network Connection Approver",)) for key, scope in targets],
        )
        # Learn, "Managed virtual network isolation": the workspace identity needs Reader on the private endpoints of
        # the storage it reaches through the managed network.
        grants += self._grant(
            name,
            n,
            principal_id,
            "id",
            [(f"st-pe-{i}", pe, ("Reader",)) for i, pe in enumerate(shared.storage_private_endpoint_ids)],
        )
        return grants

    def _workspace(
        self,
        name: str,
        args: SecureWorkspaceArgs,
        identity_id: pulumi.Output[str],
        grants: list[pulumi.Resource],
    ) -> ml.Workspace:
        """The workspace, after its identity's grants have taken effect."""
        shared, n = args.shared, args.naming
        cmk = shared.cmk if args.require_cmk else None
        identity_ids: list[pulumi.Input[str]] = [identity_id]
        if cmk is not None:
            # CMK can only be chosen at creation, and Azure rejects a key its identity cannot read yet.
            identity_ids.append(cmk.identity_id)
        # Azure ML uses these grants while it creates the workspace; role assignments take effect minutes after ARM
        # returns them, so wait (SharedServices' CMK wait covers the key's grants, including Cosmos DB's).
        granted = rbac_wait(self, f"{name}-rbac-wait", grants)
        ready: list[pulumi.Resource] = [granted, *(cmk.depends_on if cmk is not None else [])]
        return ml.Workspace(
            f"{name}-workspace",
            workspace_name=n.name("machine_learning_workspace", args.name),
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="Default",
            sku=ml.SkuArgs(name="Basic", tier=ml.SkuTier.BASIC),
            friendly_name=args.friendly_name or args.name,
            description=args.description or None,
            # User-assigned only: every feature used here works with the user-assigned primary identity (Learn, "Set
            # up authentication between Azure Machine Learning and other services"), and a system-assigned one would
            # be an extra principal with no grants.
            identity=ml.ManagedServiceIdentityArgs(
                type=ml.ManagedServiceIdentityType.USER_ASSIGNED,
                user_assigned_identities=identity_ids,
            ),
            primary_user_assigned_identity=identity_id,
            key_vault=shared.key_vault_id,
            storage_account=shared.storage_account_id,
            container_registry=shared.container_registry_id,
            application_insights=shared.application_insights_id,
            public_network_access=ml.PublicNetworkAccessType(args.public_network_access),
            allow_public_access_when_behind_vnet=False,
            system_datastores_auth_mode=ml.SystemDatastoresAuthMode.IDENTITY,
            enable_data_isolation=args.enable_data_isolation,
            hbi_workspace=args.hbi_workspace,
            v1_legacy_mode=False,
            encryption=self._encryption(args) if cmk is not None else None,
            managed_network=self._managed_network(args),
            # Provision the managed network as part of creating the workspace instead of on the first compute:
            # a compute created right after the workspace otherwise races the network and times out.
            provision_network_now=True if args.managed_network else None,
            image_build_compute=args.image_build.name if args.image_build else None,
            tags=args.tags,
            opts=child_opts(self, protect=args.lock, depends_on=ready),
        )

    def _private_endpoint(
        self, name: str, args: SecureWorkspaceArgs, workspace: ml.Workspace, zone_ids: list[InputStr]
    ) -> network.PrivateEndpoint:
        return private_endpoint(
            self,
            f"{name}-pe",
            args=args,
            azure_name=args.naming.name("private_endpoint", args.name, "mlw"),
            subnet_id=args.shared.private_endpoint_subnet_id,
            target_id=workspace.id,
            group_id="amlworkspace",
            dns_zone_ids=zone_ids,
        )

    def _diagnostics_and_lock(self, name: str, args: SecureWorkspaceArgs, workspace: ml.Workspace) -> None:
        diagnostic_setting(
            self,
            f"{name}-diag",
            resource_id=workspace.id,
            workspace_id=args.log_analytics_workspace_id,
            log_categories=args.diagnostic_log_categories,
        )
        # Learn, "Managed virtual network isolation" (limitations): a scope lock on the workspace blocks operations
        # of its managed network, and a delete lock also blocks replacing a compute. `protect` still guards it.
        delete_lock(self, f"{name}-lock", scope=workspace.id, enabled=args.lock and not args.managed_network)
        extra_role_assignments(self, name, args, workspace.id)

    def _data_access(
        self,
        name: str,
        args: SecureWorkspaceArgs,
        workspace: ml.Workspace,
        compute_principal_id: pulumi.Output[str],
        scientists: pulumi.Output[str],
    ) -> pulumi.Resource:
        """Data access of the compute nodes and the data scientists; returns the wait after
        the compute identity's grants, which computes depend on.

        Blob data only in this workspace's containers (an ABAC condition on the container name, which carries the
        workspace's GUID), so one workspace cannot read another's data in the shared account. Learn, "Authorize access
        to blobs using Azure ABAC" (container-name conditions) and "Use Azure Machine Learning with storage that has
        local (key) auth disabled" (people need blob and file data roles). Azure ABAC does not cover Azure Files: the
        file role is account-wide. Without data isolation the workspaces share containers (e.g. `azureml`) whose
        names carry no GUID: the condition would lock the nodes out of them, so it applies only with isolation (the
        default)."""
        shared, n = args.shared, args.naming
        workspace_containers = (
            workspace.workspace_id.apply(workspace_containers_condition) if args.enable_data_isolation else None
        )
        compute_grants = self._grant(
            name,
            n,
            compute_principal_id,
            "compute-id",
            [
                ("acr", shared.container_registry_id, ("AcrPull",)),
                ("kv", shared.key_vault_id, ("Key Vault Secrets User",)),
            ],
        )
        blob_readers = [
            ("compute-id-st-storage-blob-data-contributor", compute_principal_id, "ServicePrincipal"),
            ("data-scientists-st-blob", scientists, "Group"),
        ]
        blob_grants = [
            role_assignment(
                self,
                f"{name}-{key}",
                naming=n,
                scope=shared.storage_account_id,
                principal_id=principal_id,
                principal_type=principal_type,
                role="Storage Blob Data Contributor",
                condition=workspace_containers,
            )
            for key, principal_id, principal_type in blob_readers
        ]
        compute_grants.append(blob_grants[0])
        role_assignment(
            self,
            f"{name}-data-scientists-st-file",
            naming=n,
            scope=shared.storage_account_id,
            principal_id=scientists,
            principal_type="Group",
            role="Storage File Data Privileged Contributor",
        )
        return rbac_wait(self, f"{name}-compute-rbac-wait", compute_grants)

    def _computes(
        self, name: str, args: SecureWorkspaceArgs, workspace: ml.Workspace, compute_identity_id: pulumi.Output[str]
    ) -> None:
        """The image-build cluster and (issue 20) personal compute instances, after the workspace and the compute
        identity's grants (`ref.depends_on`)."""
        placement = ComputePlacement(
            workspace_name=workspace.name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            identity_id=compute_identity_id,
            subnet_id=self.ref.compute_subnet_id,
            tags=args.tags,
            depends_on=self.ref.depends_on,
        )
        if args.image_build is not None:
            build = args.image_build
            aml_cluster(
                self,
                f"{name}-image-build",
                placement=placement,
                compute_name=build.name,
                shape=ClusterShape(
                    vm_size=build.vm_size,
                    priority=ml.VmPriority.DEDICATED,
                    min_nodes=0,
                    max_nodes=build.max_nodes,
                    idle_minutes=build.idle_minutes,
                ),
                description="Builds environment images (the registry is private)",
            )
        compute_instances(
            self, name, instances=args.compute_instances, naming=args.naming, workspace=args.name, placement=placement
        )

    def _grant(
        self,
        name: str,
        naming: NamingConvention,
        principal_id: pulumi.Input[str],
        who: str,
        grants: list[tuple[str, pulumi.Input[str], tuple[str, ...]]],
    ) -> list[pulumi.Resource]:
        """Role assignments of one managed identity: (target key, scope, roles)."""
        made: list[pulumi.Resource] = []
        for key, scope, roles in grants:
            for role in roles:
                slug = re.sub(r"[^a-z0-9]+", "-", role.lower()).strip("-")
                made.append(
                    role_assignment(
                        self,
                        f"{name}-{who}-{key}-{slug}",
                        naming=naming,
                        scope=scope,
                        principal_id=principal_id,
                        role=role,
                    )
                )
        return made

    @staticmethod
    def _encryption(args: SecureWorkspaceArgs) -> ml.EncryptionPropertyArgs:
        cmk = args.shared.cmk
        assert cmk is not None and cmk.key_version_url is not None  # checked by the args model
        return ml.EncryptionPropertyArgs(
            status=ml.EncryptionStatus.ENABLED,
            # Azure ML takes a versioned key URL (Learn, "Use customer-managed keys with Azure Machine Learning":
            # `https://<vault>.vault.azure.net/keys/<name>/<version>`; AVM passes the versioned id too) and documents
            # no versionless form, so it does not follow Key Vault's automatic rotation by itself. After a rotation,
            # `pulumi refresh` reads the key's new version and `pulumi up` updates this identifier in place (Learn,
            # "Customer-managed keys for Azure Machine Learning", Limitations: another key of the original vault is
            # allowed); docs/components/secure_workspace.md has the procedure. The args require the version.
            key_vault_properties=ml.KeyVaultPropertiesArgs(
                key_identifier=cmk.key_version_url,
                key_vault_arm_id=cmk.key_vault_id,
            ),
            identity=ml.IdentityForCmkArgs(user_assigned_identity=cmk.identity_id),
        )

    @staticmethod
    def _managed_network(args: SecureWorkspaceArgs) -> ml.ManagedNetworkSettingsArgs:
        if not args.managed_network:
            return ml.ManagedNetworkSettingsArgs(isolation_mode=ml.IsolationMode.DISABLED)
        # Azure itself adds the required private endpoints to the workspace, its storage (blob, file), Key Vault and
        # registry; these are the ones it does not add.
        rules: dict[str, Any] = {
            f"{_RESERVED_RULE_PREFIX}storage-{sub}": ml.PrivateEndpointOutboundRuleArgs(
                type="PrivateEndpoint",
                category=ml.RuleCategory.USER_DEFINED,
                destination=ml.PrivateEndpointDestinationArgs(
                    service_resource_id=args.shared.storage_account_id, subresource_target=sub, spark_enabled=False
                ),
            )
            for sub in args.storage_outbound_subresources
        }
        rules.update({rule.name: rule.wire() for rule in args.outbound_rules})
        approved_only = args.isolation_mode == "AllowOnlyApprovedOutbound"
        if approved_only:
            rules.update(fqdn_rule_set_rules(args.fqdn_rule_sets, args.outbound_rules))
        has_fqdn = any(getattr(rule, "type", None) == "FQDN" for rule in rules.values())
        return ml.ManagedNetworkSettingsArgs(
            isolation_mode=ml.IsolationMode(args.isolation_mode),
            outbound_rules=rules or None,
            firewall_sku=ml.FirewallSku(args.firewall_sku) if approved_only and has_fqdn else None,
        )

    def _access(
        self, name: str, args: SecureWorkspaceArgs, workspace: ml.Workspace
    ) -> tuple[pulumi.Output[str], pulumi.Output[str], pulumi.Output[str]]:
        """Azure AD groups, the data-scientist custom role and the role assignments of both groups."""
        n, access = args.naming, args.access
        display = n.name("machine_learning_workspace", args.name)
        scientists = self._group(
            name,
            "data-scientists",
            f"{display}-data-scientists",
            f"Data scientists of Azure ML workspace {display}: run jobs on its compute.",
            access.data_scientists_group_object_id,
            access.group_owner_object_ids,
        )
        admins = self._group(
            name,
            "admins",
            f"{display}-admins",
            f"Admins of Azure ML workspace {display}: manage its compute and settings.",
            access.admins_group_object_id,
            access.group_owner_object_ids,
        )

        if args.data_scientist_role_id is not None:  # created by bootstrap/ (issue 14: no roleDefinitions/write)
            guid = args.data_scientist_role_id.lower()
            role_id = authorization.get_client_config_output().subscription_id.apply(
                lambda sub: f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
            )
        else:
            guid, role_id = self._data_scientist_role(name, args, workspace, display)
        role_assignment(
            self,
            f"{name}-data-scientists-role",
            naming=n,
            scope=workspace.id,
            principal_id=scientists,
            role=f"custom:{guid}",
            principal_type="Group",
            role_definition=role_id,
        )
        self._admin_roles(name, n, workspace, admins)
        return scientists, admins, role_id

    def _data_scientist_role(
        self, name: str, args: SecureWorkspaceArgs, workspace: ml.Workspace, display: str
    ) -> tuple[str, pulumi.Output[str]]:
        """The workspace's own data-scientist role (when bootstrap/ made none): its GUID and definition id."""
        n = args.naming
        guid = str(
            uuid.uuid5(
                _ROLE_NAMESPACE,
                "|".join([n.prefix, n.environment, n.location, n.unique_seed, args.name, "data-scientist"]),
            )
        )
        # A custom role can be created at resource-group scope (no subscription-wide rights needed) and is
        # assignable only on this workspace.
        group_scope = workspace.id.apply(lambda i: i.split("/providers/")[0])
        role = authorization.RoleDefinition(
            f"{name}-data-scientist-role",
            role_definition_id=guid,
            scope=group_scope,
            role_name=f"{display} data scientist",
            description=(
                f"Runs jobs and uses the existing compute of Azure ML workspace {display}; cannot create, "
                "change or delete compute, nor change or delete the workspace."
            ),
            role_type="CustomRole",
            permissions=[
                authorization.PermissionArgs(
                    actions=list(DATA_SCIENTIST_ACTIONS),
                    not_actions=list(DATA_SCIENTIST_NOT_ACTIONS),
                    data_actions=[],
                    not_data_actions=[],
                )
            ],
            assignable_scopes=[workspace.id],
            opts=child_opts(self),
        )
        role_id = custom_role_definition_id(workspace.id, role, guid)
        return guid, role_id

    def _admin_roles(self, name: str, n: NamingConvention, workspace: ml.Workspace, admins: pulumi.Output[str]) -> None:
        for builtin in ("AzureML Compute Operator", "Contributor"):
            slug = re.sub(r"[^a-z0-9]+", "-", builtin.lower()).strip("-")
            role_assignment(
                self,
                f"{name}-admins-{slug}",
                naming=n,
                scope=workspace.id,
                principal_id=admins,
                role=builtin,
                principal_type="Group",
            )

    def _group(
        self, name: str, key: str, display_name: str, description: str, existing: str | None, owners: list[str]
    ) -> pulumi.Output[str]:
        if existing is not None:
            return pulumi.Output.from_input(existing)
        group = azuread.Group(
            f"{name}-{key}",
            display_name=display_name,
            description=description,
            security_enabled=True,
            mail_enabled=False,
            prevent_duplicate_names=True,
            owners=owners or None,
            opts=child_opts(self),
        )
        return group.object_id

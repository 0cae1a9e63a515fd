"""BatchGpuPool: a private, Azure AD-only Batch account with one GPU pool that follows its task queue down to zero.

The account has public network access disabled and is reached through two private endpoints (`batchAccount` for
the API, `nodeManagement` for the nodes' simplified communication), both registered in `privatelink.batch.azure.com`.
It accepts Azure AD tokens only, reaches its auto-storage (the shared storage account) with its own managed identity,
and is encrypted with the environment's customer-managed key when the environment has one.

The pool runs containers on a GPU size from the shared catalogue, on an Ubuntu HPC image whose NVIDIA drivers and
container runtime are preinstalled; nodes have no public IPs, live in the Batch subnet, pull images from the shared
registry with a user-assigned identity (no registry passwords), and refuse to take tasks until a start task has seen
the GPUs (`nvidia-smi`). Its size comes from an autoscale formula generated from typed settings
(`components/batch_autoscale.py`): zero nodes with an empty queue, low-priority (Spot) capacity preferred, preempted
Spot nodes covered by dedicated ones where the pool has a dedicated share. The temporary disk is encrypted, and the
nodes reach only their own blob containers in the shared storage account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pulumi
from pulumi_azure_native import batch, managedidentity, storage
from pydantic import Field, field_validator, model_validator

from aiinfra.catalog.gpu_skus import GpuVmSize, lookup

from ._base import ArgsModel, publish
from .batch_autoscale import MAX_TASK_SLOTS_PER_NODE, AutoscaleSettings, autoscale_formula
from .interfaces import (
    CommonArgs,
    CustomerManagedKey,
    RegistryImage,
    child_opts,
    delete_lock,
    diagnostic_setting,
    extra_role_assignments,
    private_endpoint,
    rbac_wait,
    registry_image_name,
    role_assignment,
    user_assigned_identity,
)
from .shared_services import SharedServicesRef


@dataclass(frozen=True)
class BatchImage:
    publisher: str
    offer: str
    sku: str
    node_agent_sku_id: str


# Marketplace images with NVIDIA drivers, CUDA and a Docker-compatible runtime preinstalled (the Azure HPC images),
# with the Batch node agent that matches each. Batch ends support for the `batch.node.ubuntu 22.04` agent on
# 2027-06-30 (Azure/Batch#200: after it, pool creation and resize may fail and pools may be scaled to zero); 24.04 is
# the migration path it names for microsoft-dsvm images, so it is the default.
IMAGES: dict[str, BatchImage] = {
    "ubuntu-hpc-2204": BatchImage("microsoft-dsvm", "ubuntu-hpc", "2204", "batch.node.ubuntu 22.04"),
    "ubuntu-hpc-2404": BatchImage("microsoft-dsvm", "ubuntu-hpc", "2404", "batch.node.ubuntu 24.04"),
}
RETIRING_IMAGES: dict[str, str] = {"ubuntu-hpc-2204": "2027-06-30"}
"""Images whose node agent Batch retires, and when (Azure/Batch#200)."""


class BatchGpuPoolSettings(ArgsModel):
    """What an environment chooses about its Batch GPU pool (the `batch` section of stack config)."""

    vm_size: GpuVmSize = "Standard_NC4as_T4_v3"
    """GPU VM size of the pool's nodes, from the shared GPU catalogue (retired sizes are rejected)."""
    image: Literal["ubuntu-hpc-2204", "ubuntu-hpc-2404"] = "ubuntu-hpc-2404"
    """Node OS image: Ubuntu HPC (microsoft-dsvm) with NVIDIA drivers and a container runtime; the matching Batch
    node agent is chosen for you. `ubuntu-hpc-2204` still works but its node agent retires on 2027-06-30
    (Azure/Batch#200)."""
    autoscale: AutoscaleSettings = Field(default_factory=AutoscaleSettings)
    """How the pool follows its task queue: max nodes, low-priority share, sample window, evaluation interval."""
    task_slots_per_node: int = Field(default=1, ge=1, le=MAX_TASK_SLOTS_PER_NODE)
    """Tasks a node runs at once (Azure allows up to 4 x the size's vCPUs, at most 256); one per GPU is typical."""
    task_scheduling: Literal["Pack", "Spread"] = "Pack"
    """`Pack` fills a node's task slots before using the next node, so idle nodes empty out and scale in sooner;
    `Spread` balances tasks across nodes."""
    container_images: list[RegistryImage] = Field(default_factory=list)
    """Images (repository:tag in the shared registry) to pull onto every node before it takes tasks."""
    storage_containers: list[str] = Field(default_factory=lambda: ["batch"], min_length=1)
    """Blob containers in the shared storage account the nodes read task input from and write output to; they are
    created, and the node identity gets Storage Blob Data Contributor on these containers only (not the account)."""
    encryption_at_host: bool = False
    """Encrypt every node disk (OS, temporary, cache) on the VM host. Needs the subscription feature
    `Microsoft.Compute/EncryptionAtHost` registered (bootstrap/ registers it) and a size whose `EncryptionAtHostSupported` capability is true
    (`az vm list-skus`); False leaves the OS disk to managed-disk encryption at rest and encrypts the temporary
    disk through the pool's disk encryption configuration."""
    private_network: bool = True
    """Disable the account's public network access and reach it through private endpoints. False opts out: the
    account's public endpoint is enabled (nodes still get no public IPs)."""
    use_customer_managed_key: bool = True
    """Encrypt the account with the environment's customer-managed key when the shared services have one
    (`shared.requireCmk`); False opts out."""

    @field_validator("storage_containers")
    @classmethod
    def _container_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not re.fullmatch(r"[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]", name):
                raise ValueError(
                    f"'{name}' is not a blob container name (3-63 lowercase letters, digits and single "
                    "hyphens, starting and ending with a letter or digit)"
                )
        if len(set(names)) != len(names):
            raise ValueError(f"container names must be unique, got {names}")
        return names

    @model_validator(mode="after")
    def _task_slots_fit_the_size(self) -> BatchGpuPoolSettings:
        limit = min(4 * lookup(self.vm_size).vcpus, MAX_TASK_SLOTS_PER_NODE)
        if self.task_slots_per_node > limit:
            raise ValueError(
                f"taskSlotsPerNode {self.task_slots_per_node} is more than {self.vm_size} allows "
                f"({limit}: 4 x its {lookup(self.vm_size).vcpus} vCPUs)"
            )
        return self


class BatchGpuPoolArgs(CommonArgs, BatchGpuPoolSettings):
    """Args of BatchGpuPool: the common component args, the environment's settings and the shared services."""

    shared: SharedServicesRef
    """The shared services: Batch subnet, private endpoint subnet and DNS zones, storage, registry, CMK."""

    @model_validator(mode="after")
    def _shared_has_what_batch_needs(self) -> BatchGpuPoolArgs:
        self.shared.require("batch_subnet_id", "the pool's nodes are placed in the Batch subnet")
        return self


def start_task_command(gpu_count: int) -> str:
    """Fail the node unless the NVIDIA driver answers and sees all `gpu_count` GPUs of the size."""
    check = (
        f'gpus=$(nvidia-smi --list-gpus | grep -c "^GPU ") && '
        f"nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader && "
        f'if [ "$gpus" -lt {gpu_count} ]; then echo "expected {gpu_count} GPU(s), found $gpus" >&2; exit 1; fi'
    )
    return f"/bin/bash -c 'set -euo pipefail; {check}'"


class BatchGpuPool(pulumi.ComponentResource):
    """A private Batch account (AAD only, identity-based auto-storage, CMK when asked) with one autoscaled GPU pool."""

    account_id: pulumi.Output[str]
    account_name: pulumi.Output[str]
    account_endpoint: pulumi.Output[str]
    pool_name: pulumi.Output[str]
    node_identity_id: pulumi.Output[str]
    node_identity_principal_id: pulumi.Output[str]
    node_identity_client_id: pulumi.Output[str]

    def __init__(self, name: str, args: BatchGpuPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aiinfra:batch:BatchGpuPool", name, None, opts)
        cmk = args.shared.cmk if args.use_customer_managed_key else None
        # One identity for the account (auto-storage, CMK), one for the nodes (registry, storage).
        account_identity = user_assigned_identity(self, f"{name}-account-id", args=args, workload="batch")
        node_identity = user_assigned_identity(self, f"{name}-node-id", args=args, workload="batch-nodes")
        account_grants = self._account_grants(name, args, account_identity, cmk)
        node_grants = self._node_grants(name, args, node_identity)
        account = self._account(name, args, account_identity, node_identity, cmk, grants=account_grants)
        self._account_guards(name, args, account)
        endpoints = self._private_endpoints(name, args, account)
        pool = self._pool(name, args, account, node_identity, depends_on=[*node_grants, *endpoints])
        publish(
            self,
            account_id=account.id,
            account_name=account.name,
            account_endpoint=account.account_endpoint,
            pool_name=pool.name,
            node_identity_id=node_identity.id,
            node_identity_principal_id=node_identity.principal_id,
            node_identity_client_id=node_identity.client_id,
        )

    # --- identities' grants ---------------------------------------------------------------------------------------

    def _account_grants(
        self,
        name: str,
        args: BatchGpuPoolArgs,
        account_identity: managedidentity.UserAssignedIdentity,
        cmk: CustomerManagedKey | None,
    ) -> list[pulumi.Resource]:
        grants: list[pulumi.Resource] = [
            # Auto-storage in BatchAccountManagedIdentity mode: the account reads and writes blobs as itself.
            role_assignment(
                self,
                f"{name}-account-storage",
                naming=args.naming,
                scope=args.shared.storage_account_id,
                principal_id=account_identity.principal_id,
                role="Storage Blob Data Contributor",
            ),
        ]
        if cmk is not None:
            # Batch needs get/wrapKey/unwrapKey on the key before the account can be created with it.
            key_scope = pulumi.Output.concat(cmk.key_vault_id, "/keys/", cmk.key_name)
            grants.append(
                role_assignment(
                    self,
                    f"{name}-account-cmk",
                    naming=args.naming,
                    scope=key_scope,
                    principal_id=account_identity.principal_id,
                    role="Key Vault Crypto Service Encryption User",
                )
            )
        return grants

    def _node_grants(
        self, name: str, args: BatchGpuPoolArgs, node_identity: managedidentity.UserAssignedIdentity
    ) -> list[pulumi.Resource]:
        """AcrPull on the shared registry, and blob data access to the task containers only (created here): tasks
        read input and write output there (least privilege; the shared account holds every workspace's data)."""
        ref = args.shared
        grants: list[pulumi.Resource] = [
            role_assignment(
                self,
                f"{name}-node-acr-pull",
                naming=args.naming,
                scope=ref.container_registry_id,
                principal_id=node_identity.principal_id,
                role="AcrPull",
            ),
        ]
        for container_name in args.storage_containers:
            container = storage.BlobContainer(
                f"{name}-container-{container_name}",
                container_name=container_name,
                account_name=ref.storage_account_name,
                resource_group_name=ref.resource_group_name,
                public_access=storage.PublicAccess.NONE,
                opts=child_opts(self),
            )
            grants.append(
                role_assignment(
                    self,
                    f"{name}-node-storage-{container_name}",
                    naming=args.naming,
                    scope=container.id,
                    principal_id=node_identity.principal_id,
                    role="Storage Blob Data Contributor",
                )
            )
        return grants

    # --- the account ----------------------------------------------------------------------------------------------

    def _account(
        self,
        name: str,
        args: BatchGpuPoolArgs,
        account_identity: managedidentity.UserAssignedIdentity,
        node_identity: managedidentity.UserAssignedIdentity,
        cmk: CustomerManagedKey | None,
        *,
        grants: list[pulumi.Resource],
    ) -> batch.BatchAccount:
        # Batch checks the key (and auto-storage) with the account identity while it creates the account, but role
        # assignments take effect minutes after ARM returns them (Learn, "Troubleshoot Azure RBAC"): wait, as
        # SharedServices and SecureWorkspace do after their grants (AVM waits before key operations too).
        ready = rbac_wait(self, f"{name}-account-rbac-wait", grants)
        return batch.BatchAccount(
            f"{name}-account",
            account_name=args.naming.name("batch_account"),
            resource_group_name=args.resource_group_name,
            location=args.location,
            pool_allocation_mode=batch.PoolAllocationMode.BATCH_SERVICE,
            allowed_authentication_modes=[batch.AuthenticationMode.AAD],
            public_network_access=(
                batch.PublicNetworkAccessType.DISABLED
                if args.private_network
                else batch.PublicNetworkAccessType.ENABLED
            ),
            identity=batch.BatchAccountIdentityArgs(
                type=batch.ResourceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[account_identity.id],
            ),
            auto_storage=batch.AutoStorageBasePropertiesArgs(
                storage_account_id=args.shared.storage_account_id,
                authentication_mode=batch.AutoStorageAuthenticationMode.BATCH_ACCOUNT_MANAGED_IDENTITY,
                node_identity_reference=batch.ComputeNodeIdentityReferenceArgs(resource_id=node_identity.id),
            ),
            encryption=batch.EncryptionPropertiesArgs(
                key_source=batch.KeySource.MICROSOFT_KEY_VAULT,
                # Versionless key URL: Batch follows the key's automatic rotation.
                key_vault_properties=batch.KeyVaultPropertiesArgs(key_identifier=cmk.key_id),
            )
            if cmk is not None
            else None,
            tags=args.tags,
            opts=child_opts(self, protect=args.lock, depends_on=[*grants, ready]),
        )

    def _account_guards(self, name: str, args: BatchGpuPoolArgs, account: batch.BatchAccount) -> None:
        """The delete lock (when asked), diagnostics to Log Analytics, the caller's extra role assignments."""
        delete_lock(self, f"{name}-account-lock", scope=account.id, enabled=args.lock)
        diagnostic_setting(
            self,
            f"{name}-account-diag",
            resource_id=account.id,
            workspace_id=args.log_analytics_workspace_id or args.shared.log_analytics_workspace_id,
        )
        extra_role_assignments(self, f"{name}-account", args, account.id)

    def _private_endpoints(
        self, name: str, args: BatchGpuPoolArgs, account: batch.BatchAccount
    ) -> list[pulumi.Resource]:
        """The account API and the nodes' simplified communication, both in privatelink.batch.azure.com."""
        if not args.private_network:
            return []
        return [
            private_endpoint(
                self,
                f"{name}-pe-{group}",
                args=args,
                azure_name=args.naming.name("private_endpoint", suffix),
                subnet_id=args.shared.private_endpoint_subnet_id,
                target_id=account.id,
                group_id=group,
                dns_zone_ids=args.shared.dns_zone_ids_for(group),
            )
            for group, suffix in (("batchAccount", "batch"), ("nodeManagement", "batch-nodes"))
        ]

    # --- the pool -------------------------------------------------------------------------------------------------

    def _pool(
        self,
        name: str,
        args: BatchGpuPoolArgs,
        account: batch.BatchAccount,
        node_identity: managedidentity.UserAssignedIdentity,
        *,
        depends_on: list[pulumi.Resource],
    ) -> batch.Pool:
        sku = lookup(args.vm_size)
        return batch.Pool(
            f"{name}-pool",
            pool_name=args.naming.name("batch_pool", "gpu"),
            account_name=account.name,
            resource_group_name=args.resource_group_name,
            display_name=f"GPU pool ({sku.name}, {sku.gpu_count}x {sku.gpu_model})",
            vm_size=sku.name,
            identity=batch.BatchPoolIdentityArgs(
                type=batch.PoolIdentityType.USER_ASSIGNED,
                user_assigned_identities=[node_identity.id],
            ),
            deployment_configuration=batch.DeploymentConfigurationArgs(
                virtual_machine_configuration=_vm_configuration(args, node_identity)
            ),
            network_configuration=batch.NetworkConfigurationArgs(
                subnet_id=args.shared.batch_subnet_id,
                public_ip_address_configuration=batch.PublicIPAddressConfigurationArgs(
                    provision=batch.IPAddressProvisioningType.NO_PUBLIC_IP_ADDRESSES
                ),
            ),
            target_node_communication_mode=batch.NodeCommunicationMode.SIMPLIFIED,
            task_slots_per_node=args.task_slots_per_node,
            task_scheduling_policy=batch.TaskSchedulingPolicyArgs(
                node_fill_type=batch.ComputeNodeFillType(args.task_scheduling)
            ),
            inter_node_communication=batch.InterNodeCommunicationState.DISABLED,
            start_task=batch.StartTaskArgs(
                command_line=start_task_command(sku.gpu_count),
                user_identity=batch.UserIdentityArgs(
                    auto_user=batch.AutoUserSpecificationArgs(
                        scope=batch.AutoUserScope.POOL, elevation_level=batch.ElevationLevel.ADMIN
                    )
                ),
                wait_for_success=True,
                max_task_retry_count=2,
            ),
            scale_settings=batch.ScaleSettingsArgs(
                auto_scale=batch.AutoScaleSettingsArgs(
                    formula=autoscale_formula(args.autoscale, task_slots_per_node=args.task_slots_per_node),
                    evaluation_interval=args.autoscale.evaluation_interval,
                )
            ),
            tags=args.tags,
            opts=child_opts(self, depends_on=depends_on),
        )


def _vm_configuration(
    args: BatchGpuPoolArgs, node_identity: managedidentity.UserAssignedIdentity
) -> batch.VirtualMachineConfigurationArgs:
    """The image, disk encryption, and the containers pulled from the shared registry with the node identity."""
    image = IMAGES[args.image]
    login_server = args.shared.container_registry_login_server
    registry = batch.ContainerRegistryArgs(
        registry_server=login_server,
        identity_reference=batch.ComputeNodeIdentityReferenceArgs(resource_id=node_identity.id),
    )
    return batch.VirtualMachineConfigurationArgs(
        image_reference=batch.ImageReferenceArgs(
            publisher=image.publisher, offer=image.offer, sku=image.sku, version="latest"
        ),
        node_agent_sku_id=image.node_agent_sku_id,
        # Linux pools encrypt the temporary disk this way (only target Batch accepts on Linux, per the API's
        # DiskEncryptionConfiguration); the OS disk is a managed disk, encrypted at rest. Encryption at host covers
        # every disk where the subscription and size support it (Learn: "Create a pool with disk encryption
        # enabled"; Azure Policy "Azure Batch pools should have disk encryption enabled").
        disk_encryption_configuration=batch.DiskEncryptionConfigurationArgs(
            targets=[batch.DiskEncryptionTarget.TEMPORARY_DISK]
        ),
        security_profile=batch.SecurityProfileArgs(encryption_at_host=True) if args.encryption_at_host else None,
        container_configuration=batch.ContainerConfigurationArgs(
            type=batch.ContainerType.DOCKER_COMPATIBLE,
            container_registries=[registry],
            container_image_names=[registry_image_name(login_server, i) for i in args.container_images] or None,
        ),
    )

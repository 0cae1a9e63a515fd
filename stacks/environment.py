"""Compose one environment from its validated config. No `if env == "prd"`: config carries intent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_azure_native import authorization, resources

from aiinfra.components.aks_gpu_cluster import AksGpuCluster, AksGpuClusterArgs, AksGpuClusterSettings, AmlAttachment
from aiinfra.components.gpu_compute_pool import GpuComputePool, GpuComputePoolArgs, GpuComputePoolSettings
from aiinfra.components.secure_workspace import SecureWorkspace, SecureWorkspaceArgs, SecureWorkspaceSettings
from aiinfra.components.batch_gpu_pool import BatchGpuPool, BatchGpuPoolArgs, BatchGpuPoolSettings
from aiinfra.components.container_apps_gpu import ContainerAppsGpu, ContainerAppsGpuArgs, ContainerAppsGpuSettings
from aiinfra.components.shared_services import SharedServices, SharedServicesArgs

from .config import PlatformConfig


@dataclass
class Environment:
    resource_group: resources.ResourceGroup | None
    """The environment's resource group when this stack creates it; None when bootstrap/ created it
    (`createResourceGroup: false`)."""
    shared: SharedServices
    outputs: dict[str, Any] = field(default_factory=dict)
    workspaces: dict[str, SecureWorkspace] = field(default_factory=dict)
    """Azure ML workspaces by workload name (e.g. `research`), for computes attached to them."""


def build_environment(config: PlatformConfig) -> Environment:
    # Names unique per subscription and stack by default (issue 12, item 4): a Key Vault name stays taken for 90 days
    # after `pulumi destroy` (purge protection), so two users of one example config, or a second stack, must not share
    # them. `namingSeed` adds to this scope, to re-create an environment inside the soft-delete window.
    subscription_id = authorization.get_client_config().subscription_id
    config = config.scoped_to(subscription_id, pulumi.get_project(), pulumi.get_stack())
    naming = config.naming
    tags = config.all_tags
    group_name: pulumi.Input[str] = naming.name("resource_group")
    group = None
    if config.create_resource_group:
        group = resources.ResourceGroup("rg", resource_group_name=group_name, location=config.location, tags=tags)
        group_name = group.name
    shared = SharedServices(
        "shared",
        SharedServicesArgs(
            naming=naming,
            resource_group_name=group_name,
            tags=tags,
            lock=config.lock_stateful_resources,
            **dict(config.shared),
        ),
    )
    outputs: dict[str, Any] = {
        "resourceGroupName": group_name,
        "virtualNetworkId": shared.virtual_network_id,
        "keyVaultId": shared.key_vault_id,
        "storageAccountId": shared.storage_account_id,
        "containerRegistryLoginServer": shared.ref.container_registry_login_server,
        "logAnalyticsWorkspaceId": shared.log_analytics_workspace_id,
    }
    workspaces = build_workspaces(config, group_name, shared)
    outputs["mlWorkspaces"] = {
        key: {"id": w.workspace_id, "name": w.workspace_name, "discoveryUrl": w.discovery_url,
              "privateEndpointId": w.private_endpoint_id,
              "dataScientistsGroupObjectId": w.data_scientists_group_object_id}
        for key, w in workspaces.items()
    }
    build_gpu_services(config, group_name, shared, outputs)
    build_aks(config, group_name, shared, workspaces, outputs)
    return Environment(resource_group=group, shared=shared, outputs=outputs, workspaces=workspaces)


def common_args(config: PlatformConfig, group_name: pulumi.Input[str], shared: SharedServices) -> dict[str, Any]:
    """The CommonArgs every component of the environment gets: naming, group, tags, lock, Log Analytics."""
    return dict(naming=config.naming, resource_group_name=group_name, tags=config.all_tags,
                lock=config.lock_stateful_resources, log_analytics_workspace_id=shared.log_analytics_workspace_id)


def build_workspaces(config: PlatformConfig, group_name: pulumi.Input[str],
                     shared: SharedServices) -> dict[str, SecureWorkspace]:
    """One SecureWorkspace per `workspaces` entry, with its GPU pools as children."""
    workspaces: dict[str, SecureWorkspace] = {}
    for entry in config.workspaces:
        settings = {f: getattr(entry, f) for f in SecureWorkspaceSettings.model_fields}
        workspace = SecureWorkspace(
            f"ml-{entry.name}",
            SecureWorkspaceArgs(**common_args(config, group_name, shared), shared=shared.ref, **settings),
        )
        for pool in entry.compute_pools:
            GpuComputePool(
                f"ml-{entry.name}-{pool.name}",
                GpuComputePoolArgs(workspace=workspace.ref,
                                   **{f: getattr(pool, f) for f in GpuComputePoolSettings.model_fields}),
                opts=pulumi.ResourceOptions(parent=workspace),
            )
        workspaces[entry.name] = workspace
    return workspaces


def build_gpu_services(config: PlatformConfig, group_name: pulumi.Input[str], shared: SharedServices,
                       outputs: dict[str, Any]) -> None:
    """The Batch GPU pool (queued work) and the serverless GPU apps (real-time requests), where config asks."""
    common = common_args(config, group_name, shared)
    if config.batch is not None:
        pool = BatchGpuPool("batch", BatchGpuPoolArgs(
            **common, shared=shared.ref,
            **{f: getattr(config.batch, f) for f in BatchGpuPoolSettings.model_fields}))
        outputs["batchAccountEndpoint"] = pool.account_endpoint
        outputs["batchPoolName"] = pool.pool_name
    if config.container_apps is not None:
        apps = ContainerAppsGpu("apps", ContainerAppsGpuArgs(
            **common, shared=shared.ref,
            **{f: getattr(config.container_apps, f) for f in ContainerAppsGpuSettings.model_fields}))
        outputs["containerAppsEnvironmentId"] = apps.environment_id
        outputs["containerAppsDefaultDomain"] = apps.default_domain
        outputs["containerAppFqdns"] = apps.app_fqdns


def build_aks(config: PlatformConfig, group_name: pulumi.Input[str], shared: SharedServices,
              workspaces: dict[str, SecureWorkspace], outputs: dict[str, Any]) -> None:
    """The private AKS GPU cluster, attached to the workspace config names, where config asks for one."""
    if config.aks is None:
        return
    attachment = None
    if config.aks.attach is not None:
        ref = workspaces[config.aks.attach.workspace].ref
        attachment = AmlAttachment(
            workspace_name=ref.workspace_name,
            workspace_resource_group_name=ref.resource_group_name,
            workspace_location=ref.location,
            identity_id=ref.compute_identity_id,
            depends_on=ref.depends_on,
            compute_name=config.aks.attach.compute_name,
            namespace=config.aks.attach.namespace,
        )
    cluster = AksGpuCluster(
        "aks",
        AksGpuClusterArgs(
            **common_args(config, group_name, shared),
            shared=shared.ref,
            aml_attachment=attachment,
            **{f: getattr(config.aks, f) for f in AksGpuClusterSettings.model_fields},
        ),
    )
    outputs["aksClusterName"] = cluster.cluster_name
    outputs["aksPrivateFqdn"] = cluster.private_fqdn
    outputs["aksOidcIssuerUrl"] = cluster.oidc_issuer_url
    outputs["aksGpuPools"] = cluster.gpu_pool_names

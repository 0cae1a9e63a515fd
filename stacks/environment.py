"""Compose one environment from its validated config. No `if env == "prd"`: config carries intent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_azure_native import authorization, resources

from aiinfra.components.ai_services import AiServices, AiServicesArgs, AiServicesSettings, AiWorkspaceConnection
from aiinfra.components.aks_gpu_cluster import (
    AksGpuCluster,
    AksGpuClusterArgs,
    AksGpuClusterSettings,
    AmlAttachment,
    InferenceTls,
)
from aiinfra.components.batch_gpu_pool import BatchGpuPool, BatchGpuPoolArgs, BatchGpuPoolSettings
from aiinfra.components.container_apps_gpu import ContainerAppsGpu, ContainerAppsGpuArgs, ContainerAppsGpuSettings
from aiinfra.components.gpu_compute_pool import GpuComputePool, GpuComputePoolArgs, GpuComputePoolSettings
from aiinfra.components.platform_monitoring import PlatformMonitoring, PlatformMonitoringArgs
from aiinfra.components.secure_workspace import (
    OutboundRule,
    SecureWorkspace,
    SecureWorkspaceArgs,
    SecureWorkspaceSettings,
)
from aiinfra.components.shared_services import SharedServices, SharedServicesArgs

from .config import (
    AKS_TLS_CERTIFICATE_KEY,
    AKS_TLS_KEY_KEY,
    CONFIG_NAMESPACE,
    PlatformConfig,
    container_app_secret_values,
    load_secret,
)
from .operations import build_alerts


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
    monitoring = None
    if config.monitoring is not None:
        # Before the shared services: the budget notifies the action group too.
        monitoring = PlatformMonitoring(
            "monitor",
            PlatformMonitoringArgs(
                naming=naming,
                resource_group_name=group_name,
                tags=tags,
                emails=config.monitoring.emails,
                webhook_url=config.monitoring.webhook_url,
            ),
        )
    shared = SharedServices(
        "shared",
        SharedServicesArgs(
            naming=naming,
            resource_group_name=group_name,
            tags=tags,
            lock=config.lock_stateful_resources,
            budget_action_group_ids=[monitoring.action_group_id] if monitoring is not None else [],
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
    ai = build_ai_services(config, group_name, shared, outputs)
    workspaces = build_workspaces(config, group_name, shared, extra_outbound_rules=ai_outbound_rules(config, ai))
    outputs["mlWorkspaces"] = {
        key: {
            "id": w.workspace_id,
            "name": w.workspace_name,
            "discoveryUrl": w.discovery_url,
            "privateEndpointId": w.private_endpoint_id,
            "dataScientistsGroupObjectId": w.data_scientists_group_object_id,
        }
        for key, w in workspaces.items()
    }
    services = build_gpu_services(config, group_name, shared, outputs)
    connect_ai_services(config, ai, workspaces, services[1])
    cluster = build_aks(config, group_name, shared, workspaces, outputs)
    if monitoring is not None:
        outputs["actionGroupId"] = monitoring.action_group_id
        build_alerts(config, group_name, shared, monitoring, workspaces, services, cluster)
    return Environment(resource_group=group, shared=shared, outputs=outputs, workspaces=workspaces)


def common_args(config: PlatformConfig, group_name: pulumi.Input[str], shared: SharedServices) -> dict[str, Any]:
    """The CommonArgs every component of the environment gets: naming, group, tags, lock, Log Analytics."""
    return dict(
        naming=config.naming,
        resource_group_name=group_name,
        tags=config.all_tags,
        lock=config.lock_stateful_resources,
        log_analytics_workspace_id=shared.log_analytics_workspace_id,
    )


def build_workspaces(
    config: PlatformConfig,
    group_name: pulumi.Input[str],
    shared: SharedServices,
    extra_outbound_rules: dict[str, list[OutboundRule]] | None = None,
) -> dict[str, SecureWorkspace]:
    """One SecureWorkspace per `workspaces` entry, with its GPU pools as children.

    `extra_outbound_rules` (by workspace name) are added to the entry's own managed-network rules: the private
    endpoints other components need the workspace to reach (e.g. the Azure OpenAI account)."""
    workspaces: dict[str, SecureWorkspace] = {}
    for entry in config.workspaces:
        # Only what the stack file sets: the settings' own defaults apply to the rest, and a default passed
        # explicitly would count as set (e.g. storageOutboundSubresources, refused without a managed network).
        settings = {f: getattr(entry, f) for f in SecureWorkspaceSettings.model_fields if f in entry.model_fields_set}
        extra = (extra_outbound_rules or {}).get(entry.name, [])
        if extra:
            settings["outbound_rules"] = [*entry.outbound_rules, *extra]
        workspace = SecureWorkspace(
            f"ml-{entry.name}",
            SecureWorkspaceArgs(
                **common_args(config, group_name, shared),
                shared=shared.ref,
                data_scientist_role_id=config.data_scientist_role_id,
                **settings,
            ),
        )
        for pool in entry.compute_pools:
            GpuComputePool(
                f"ml-{entry.name}-{pool.name}",
                GpuComputePoolArgs(
                    workspace=workspace.ref, **{f: getattr(pool, f) for f in GpuComputePoolSettings.model_fields}
                ),
                opts=pulumi.ResourceOptions(parent=workspace),
            )
        workspaces[entry.name] = workspace
    return workspaces


def build_gpu_services(
    config: PlatformConfig, group_name: pulumi.Input[str], shared: SharedServices, outputs: dict[str, Any]
) -> tuple[BatchGpuPool | None, ContainerAppsGpu | None]:
    """The Batch GPU pool (queued work) and the serverless GPU apps (real-time requests), where config asks."""
    common = common_args(config, group_name, shared)
    pool = apps = None
    if config.batch is not None:
        pool = BatchGpuPool(
            "batch",
            BatchGpuPoolArgs(
                **common, shared=shared.ref, **{f: getattr(config.batch, f) for f in BatchGpuPoolSettings.model_fields}
            ),
        )
        outputs["batchAccountEndpoint"] = pool.account_endpoint
        outputs["batchPoolName"] = pool.pool_name
    if config.container_apps is not None:
        settings = {f: getattr(config.container_apps, f) for f in ContainerAppsGpuSettings.model_fields}
        settings["caller_ranges"] = config.container_app_callers
        apps = ContainerAppsGpu(
            "apps",
            ContainerAppsGpuArgs(
                **common, shared=shared.ref, secret_values=container_app_secret_values(config), **settings
            ),
        )
        outputs["containerAppsEnvironmentId"] = apps.environment_id
        outputs["containerAppsDefaultDomain"] = apps.default_domain
        outputs["containerAppFqdns"] = apps.app_fqdns
    return pool, apps


def build_aks(
    config: PlatformConfig,
    group_name: pulumi.Input[str],
    shared: SharedServices,
    workspaces: dict[str, SecureWorkspace],
    outputs: dict[str, Any],
) -> AksGpuCluster | None:
    """The private AKS GPU cluster, attached to the workspace config names, where config asks for one."""
    if config.aks is None:
        return None
    attachment = None
    if config.aks.attach is not None:
        workspace = workspaces[config.aks.attach.workspace]
        ref = workspace.ref
        attachment = AmlAttachment(
            workspace_name=ref.workspace_name,
            workspace_resource_group_name=ref.resource_group_name,
            workspace_location=ref.location,
            workspace_managed_network=ref.managed_network,
            # The workspace acts through its primary user-assigned identity: it gets the attach roles.
            workspace_principal_id=workspace.identity_principal_id,
            identity_id=ref.compute_identity_id,
            depends_on=ref.depends_on,
            compute_name=config.aks.attach.compute_name,
            namespace=config.aks.attach.namespace,
        )
    tls = None
    extension = config.aks.azure_ml_extension
    if extension is not None and extension.serves_https:
        purpose = (
            "aiinfra:platform.aks.azureMlExtension serves HTTPS inference, which needs the router's "
            "PEM {what} for sslCname"
        )
        tls = InferenceTls(
            certificate_pem=load_secret(CONFIG_NAMESPACE, AKS_TLS_CERTIFICATE_KEY, purpose.format(what="certificate")),
            key_pem=load_secret(CONFIG_NAMESPACE, AKS_TLS_KEY_KEY, purpose.format(what="private key")),
        )
    cluster = AksGpuCluster(
        "aks",
        AksGpuClusterArgs(
            **common_args(config, group_name, shared),
            shared=shared.ref,
            aml_attachment=attachment,
            inference_tls=tls,
            **{f: getattr(config.aks, f) for f in AksGpuClusterSettings.model_fields},
        ),
    )
    outputs["aksClusterName"] = cluster.cluster_name
    outputs["aksPrivateFqdn"] = cluster.private_fqdn
    outputs["aksOidcIssuerUrl"] = cluster.oidc_issuer_url
    outputs["aksGpuPools"] = cluster.gpu_pool_names
    return cluster


# --- issue 19: Azure OpenAI (AiServices) -------------------------------------------------------------------------
def build_ai_services(
    config: PlatformConfig, group_name: pulumi.Input[str], shared: SharedServices, outputs: dict[str, Any]
) -> AiServices | None:
    """The private Azure OpenAI account, before the workspaces: their managed networks need its id."""
    if config.ai_services is None:
        return None
    ai = AiServices(
        "ai",
        AiServicesArgs(
            **common_args(config, group_name, shared),
            shared=shared.ref,
            **{f: getattr(config.ai_services, f) for f in AiServicesSettings.model_fields},
        ),
    )
    outputs["openAiEndpoint"] = ai.endpoint
    outputs["openAiDeployments"] = ai.deployment_names
    return ai


def _connected_workspaces(config: PlatformConfig) -> list[str]:
    ai = config.ai_services
    if ai is None:
        return []
    return [w.name for w in config.workspaces] if ai.connect_workspaces is None else list(ai.connect_workspaces)


def ai_outbound_rules(config: PlatformConfig, ai: AiServices | None) -> dict[str, list[OutboundRule]]:
    """A private-endpoint outbound rule to the account for each connected workspace with a managed network."""
    if ai is None:
        return {}
    managed = {w.name for w in config.workspaces if w.managed_network}
    return {name: [ai.workspace_outbound_rule()] for name in _connected_workspaces(config) if name in managed}


def connect_ai_services(
    config: PlatformConfig, ai: AiServices | None, workspaces: dict[str, SecureWorkspace], apps: ContainerAppsGpu | None
) -> None:
    """Workspace connections (Entra ID auth) and OpenAI User for the workspaces' and apps' identities."""
    if ai is None or config.ai_services is None:
        return
    for name in _connected_workspaces(config):
        workspace = workspaces[name]
        ai.connect_workspace(
            AiWorkspaceConnection(
                key=name,
                workspace_name=workspace.workspace_name,
                resource_group_name=workspace.resource_group_name,
                principal_ids=[workspace.identity_principal_id, workspace.compute_identity_principal_id],
            )
        )
        # The workspace's data scientists call the models from prompt flow and notebooks with their own tokens.
        ai.grant_openai_user(f"{name}-data-scientists", workspace.data_scientists_group_object_id, "Group")
    if apps is not None and config.ai_services.container_apps:
        for app_name, principal in sorted(apps.app_identity_principal_ids.items()):
            ai.grant_openai_user(f"apps-{app_name}", principal, "ServicePrincipal")


# --- end issue 19 ------------------------------------------------------------------------------------------------

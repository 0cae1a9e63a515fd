"""Compose one environment from its validated config. No `if env == "prd"`: config carries intent."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import resources

from components.shared_services import SharedServices, SharedServicesArgs

from .config import PlatformConfig


@dataclass
class Environment:
    resource_group: resources.ResourceGroup
    shared: SharedServices
    outputs: dict[str, pulumi.Input[str]] = field(default_factory=dict)


def build_environment(config: PlatformConfig) -> Environment:
    naming = config.naming
    tags = config.all_tags
    group = resources.ResourceGroup(
        "rg",
        resource_group_name=naming.name("resource_group"),
        location=config.location,
        tags=tags,
    )
    shared = SharedServices(
        "shared",
        SharedServicesArgs(
            naming=naming,
            resource_group_name=group.name,
            tags=tags,
            lock=config.lock_stateful_resources,
            **dict(config.shared),
        ),
    )
    outputs: dict[str, pulumi.Input[str]] = {
        "resourceGroupName": group.name,
        "virtualNetworkId": shared.virtual_network_id,
        "keyVaultId": shared.key_vault_id,
        "storageAccountId": shared.storage_account_id,
        "containerRegistryLoginServer": shared.ref.container_registry_login_server,
        "logAnalyticsWorkspaceId": shared.log_analytics_workspace_id,
    }
    return Environment(resource_group=group, shared=shared, outputs=outputs)

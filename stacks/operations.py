"""Operations wiring of one environment (issue 20): the alert rules on what the environment built, from config.

Kept apart from stacks/environment.py (one hook there): it reads the config of the watched components (GPU cluster
names, max nodes and replicas) and hands PlatformAlerts their resource ids.
"""

from __future__ import annotations

import pulumi

from aiinfra.catalog.gpu_skus import is_gpu_size
from aiinfra.components.aks_gpu_cluster import AksGpuCluster
from aiinfra.components.batch_gpu_pool import BatchGpuPool
from aiinfra.components.container_apps_gpu import ContainerAppsGpu
from aiinfra.components.platform_monitoring import (
    MonitoredAksCluster,
    MonitoredBatchPool,
    MonitoredContainerApp,
    MonitoredWorkspace,
    PlatformAlerts,
    PlatformAlertsArgs,
    PlatformMonitoring,
)
from aiinfra.components.secure_workspace import SecureWorkspace
from aiinfra.components.shared_services import SharedServices

from .config import PlatformConfig


def build_alerts(
    config: PlatformConfig,
    group_name: pulumi.Input[str],
    shared: SharedServices,
    monitoring: PlatformMonitoring,
    workspaces: dict[str, SecureWorkspace],
    services: tuple[BatchGpuPool | None, ContainerAppsGpu | None],
    cluster: AksGpuCluster | None,
) -> PlatformAlerts:
    assert config.monitoring is not None
    pool, apps = services
    watched_workspaces = [
        MonitoredWorkspace(
            name=entry.name,
            workspace_id=workspaces[entry.name].workspace_id,
            gpu_cluster_names=[p.name for p in entry.compute_pools if is_gpu_size(p.vm_size)],
        )
        for entry in config.workspaces
    ]
    batch = None
    if pool is not None and config.batch is not None:
        batch = MonitoredBatchPool(account_id=pool.account_id, max_nodes=config.batch.autoscale.max_nodes)
    watched_apps = []
    if apps is not None and config.container_apps is not None:
        watched_apps = [
            MonitoredContainerApp(name=a.name, app_id=apps.app_ids[a.name], max_replicas=a.max_replicas)
            for a in config.container_apps.apps
        ]
    aks = None
    if cluster is not None and config.aks is not None:
        aks = MonitoredAksCluster(
            cluster_id=cluster.cluster_id, gpu_pools={p.name: p.max_count for p in config.aks.gpu_pools}
        )
    return PlatformAlerts(
        "alerts",
        PlatformAlertsArgs(
            naming=config.naming,
            resource_group_name=group_name,
            tags=config.all_tags,
            log_analytics_workspace_id=shared.log_analytics_workspace_id,
            action_group_id=monitoring.action_group_id,
            alerts=config.monitoring.alerts,
            workspaces=watched_workspaces,
            batch_pool=batch,
            container_apps=watched_apps,
            aks_cluster=aks,
        ),
        opts=pulumi.ResourceOptions(parent=monitoring),
    )

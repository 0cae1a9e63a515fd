"""Azure Machine Learning beyond public access and CMK: the managed network's outbound mode, and compute instances
that shut down when idle and are not reachable over SSH from the internet.

Unset values are judged by the API version azure-native 3.x uses (machinelearningservices 2025-12-01): an unset
`managedNetwork.isolationMode` means `Disabled` (no managed network: the workspace's computes use the customer's VNet,
which this rule cannot see), an unset compute-instance `idleTimeBeforeShutdown` means no idle shutdown, and an unset
`sshSettings.sshPublicAccess` means `Disabled` (REST spec `ComputeInstanceSshSettings`, default "Disabled").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._props import ML_COMPUTE, ML_WORKSPACE, duration_minutes, get, mapping, same, text
from ._rule import Resource, Rule


def check_managed_network(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if same(resource.props.get("kind"), "Project"):
        return  # a hub's projects share the hub's managed network
    mode = get(resource.props, "managedNetwork", "isolationMode")
    if same(mode, "AllowInternetOutbound"):
        yield (
            "managedNetwork.isolationMode is 'AllowInternetOutbound': every compute can reach the whole internet; "
            "set managed_network={'isolation_mode': 'AllowOnlyApprovedOutbound', 'outbound_rules': {...}}."
        )
    elif config["requireManagedNetwork"] and not same(mode, "AllowOnlyApprovedOutbound"):
        default = " (Azure's default: Disabled, no managed network)" if mode is None else ""
        yield (
            f"managedNetwork.isolationMode is {text(mode)}{default}; set managed_network={{'isolation_mode': "
            "'AllowOnlyApprovedOutbound'}."
        )


def check_compute_instance(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    compute = mapping(resource.props.get("properties"))
    if not same(compute.get("computeType"), "ComputeInstance"):
        return
    inner = mapping(compute.get("properties"))
    idle = inner.get("idleTimeBeforeShutdown")
    minutes = duration_minutes(idle)
    limit = float(config["maxIdleMinutes"])
    if idle is None:
        yield (
            "properties.properties.idleTimeBeforeShutdown is not set (Azure's default: never shut down); set "
            f"idle_time_before_shutdown, e.g. 'PT{int(limit)}M'."
        )
    elif minutes is None or minutes > limit:
        yield (
            f"properties.properties.idleTimeBeforeShutdown is {text(idle)}; an idle instance must shut down "
            f"within {int(limit)} minutes."
        )
    if same(get(inner, "sshSettings", "sshPublicAccess"), "Enabled"):
        yield (
            "properties.properties.sshSettings.sshPublicAccess is 'Enabled', which opens SSH on the instance's "
            "public IP; set ssh_settings={'ssh_public_access': 'Disabled'}."
        )


RULES = [
    Rule(
        name="ml-managed-network-outbound",
        concern="network",
        summary="Azure ML workspaces with a managed network must not allow internet outbound (only approved outbound "
        "rules); with requireManagedNetwork, a managed network is required.",
        fix="managed_network={'isolation_mode': 'AllowOnlyApprovedOutbound', 'outbound_rules': {...}} on the "
        "Workspace (ARM: properties.managedNetwork.isolationMode); the mode cannot go back to "
        "AllowInternetOutbound once approved-only is set.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "Learn: Workspace managed network isolation (learn.microsoft.com/azure/machine-learning/"
            "how-to-managed-network)",
            "aiinfra",
        ),
        resource_types=(ML_WORKSPACE,),
        config={
            "requireManagedNetwork": {
                "type": "boolean",
                "default": False,
                "description": "Also flag workspaces without a managed network (isolationMode unset or Disabled).",
            }
        },
        check=check_managed_network,
    ),
    Rule(
        name="ml-compute-instance-hardening",
        concern="compute-cost",
        summary="Azure ML compute instances must shut down when idle (within maxIdleMinutes) and must not open SSH "
        "to the internet.",
        fix="ComputeInstanceProperties: idle_time_before_shutdown='PT30M' and ssh_settings={'ssh_public_access': "
        "'Disabled'} (ARM: properties.properties.idleTimeBeforeShutdown, .sshSettings.sshPublicAccess); public "
        "IPs are checked by no-node-public-ip.",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "PSRule Azure.ML.ComputeIdleShutdown",
            "Azure Policy: Azure Machine Learning Compute Instance should have idle shutdown",
        ),
        resource_types=(ML_COMPUTE,),
        config={
            "maxIdleMinutes": {
                "type": "number",
                "minimum": 15,
                "default": 60,
                "description": "Longest idle time before a compute instance shuts down, in "
                "minutes (Azure accepts 15 minutes to 3 days).",
            }
        },
        check=check_compute_instance,
    ),
]

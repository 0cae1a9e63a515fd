"""Another team's notebooks: plain azure-native, dict-style args, names computed with apply; no aiinfra."""

import pulumi
from pulumi_azure_native import machinelearningservices as ml
from pulumi_azure_native import resources

location = pulumi.Config().require("location")
group = resources.ResourceGroup("lab", location=location)
workspace = ml.Workspace(
    "lab-ws",
    resource_group_name=group.name,
    location=location,
    workspace_name="mlw-lab",
    sku={"name": "Basic"},
    identity={"type": "SystemAssigned"},
)
name = workspace.name.apply(lambda n: f"{n}-night"[-24:].lstrip("-"))

# Runs overnight on weekdays: 20:00 to 06:00, i.e. 10 h x 5 nights.
ml.Compute(
    "night-owl",
    resource_group_name=group.name,
    workspace_name=workspace.name,
    compute_name=name,
    location=location,
    properties={
        "compute_type": "ComputeInstance",
        "disable_local_auth": True,
        "properties": {
            "vm_size": "Standard_D4s_v5",
            "idle_time_before_shutdown": "PT30M",
            "enable_node_public_ip": False,
            "schedules": {
                "compute_start_stop": [
                    {
                        "action": "Start",
                        "trigger_type": "Cron",
                        "status": "Enabled",
                        "cron": {"expression": "0 20 * * 1-5", "time_zone": "UTC"},
                    },
                    {
                        "action": "Stop",
                        "trigger_type": "Cron",
                        "status": "Enabled",
                        "cron": {"expression": "0 6 * * 2-6", "time_zone": "UTC"},
                    },
                ]
            },
        },
    },
)
# Never stopped by a schedule; written with the wire (camelCase) keys.
ml.Compute(
    "always-on",
    resource_group_name=group.name,
    workspace_name=workspace.name,
    compute_name="ci-always",
    location=location,
    properties={  # pyright: ignore[reportArgumentType]  # the wire (camelCase) keys are the point
        "computeType": "ComputeInstance",
        "disableLocalAuth": True,
        "properties": {"vmSize": "Standard_D4s_v5", "enableNodePublicIp": False},
    },
)
# A datastore holding the account key: the pack must refuse it.
ml.Datastore(
    "shared-drop",
    resource_group_name=group.name,
    workspace_name=workspace.name,
    name="drop",
    properties={
        "datastore_type": "AzureBlob",
        "account_name": "stlabdrop",
        "container_name": "drop",
        "credentials": {
            "credentials_type": "AccountKey",
            "secrets": {"secrets_type": "AccountKey", "key": "not-a-real-key"},
        },
    },
)
ml.Datastore(
    "curated",
    resource_group_name=group.name,
    workspace_name=workspace.name,
    name="curated",
    properties={
        "datastore_type": "AzureDataLakeGen2",
        "account_name": "stlabcur",
        "filesystem": "curated",
        "credentials": {"credentials_type": "None"},
    },
)

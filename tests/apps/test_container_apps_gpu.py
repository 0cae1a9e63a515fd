"""What a platform engineer relies on in ContainerAppsGpu, per environment, from the recorded plan; and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from aiinfra.components._base import ComponentArgsError
from aiinfra.components.container_apps_gpu import SERVERLESS_GPUS, ContainerAppsGpuArgs
from aiinfra.components.interfaces import BUILTIN_ROLES
from helpers import children, fake_shared_ref, group_ids, one, private_endpoints_to, zone_names_of
from stacks.config import ConfigError, parse_platform_config

ENV = "azure-native:app:ManagedEnvironment"
APP = "azure-native:app:ContainerApp"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
ROLE = "azure-native:authorization:RoleAssignment"
REPO = Path(__file__).resolve().parents[2]


def config_of(env: str) -> dict:
    return yaml.safe_load((REPO / f"Pulumi.{env}.yaml").read_text())["config"]["aiinfra:platform"]


def apps_of(plan) -> dict[str, object]:
    return {r.name.removeprefix("apps-").removesuffix("-app"): r for r in plan.of_type(APP)}


def grants(plan, app_name: str, role: str) -> list:
    identity = one(plan, IDENTITY, f"apps-{app_name}-id")
    return [r for r in plan.of_type(ROLE) if r.inputs["principalId"] == identity.outputs["principalId"]
            and r.inputs["roleDefinitionId"].endswith(BUILTIN_ROLES[role])]


def test_environment_is_internal_in_the_delegated_subnet(plan):
    environment = one(plan, ENV)
    vnet = environment.inputs["vnetConfiguration"]
    assert vnet["internal"] is True
    assert vnet["infrastructureSubnetId"] == one(plan, "azure-native:network:Subnet", "shared-snet-container-apps").id
    assert "publicNetworkAccess" not in environment.inputs or environment.inputs["publicNetworkAccess"] == "Disabled"


def test_environment_has_consumption_and_the_configured_serverless_gpu_profiles(plan, env):
    profiles = one(plan, ENV).inputs["workloadProfiles"]
    assert {"name": "Consumption", "workloadProfileType": "Consumption"}.items() <= profiles[0].items()
    wanted = [p["workloadProfileType"] for p in config_of(env)["containerApps"]["gpuProfiles"]]
    assert [p["workloadProfileType"] for p in profiles[1:]] == wanted
    for profile in profiles:
        assert "minimumCount" not in profile and "maximumCount" not in profile  # Azure rejects them on Consumption


def test_logs_reach_the_shared_workspace_without_a_shared_key(plan):
    environment = one(plan, ENV)
    assert environment.inputs["appLogsConfiguration"] == {"destination": "azure-monitor"}
    assert "sharedKey" not in json.dumps(environment.inputs)
    [diagnostics] = [d for d in plan.of_type("azure-native:monitor:DiagnosticSetting")
                     if d.inputs["resourceUri"] == environment.id]
    assert diagnostics.inputs["workspaceId"] == one(plan, "azure-native:operationalinsights:Workspace").id


def test_zone_redundant_where_the_region_has_zones_and_peer_traffic_encrypted(plan):
    environment = one(plan, ENV)
    assert environment.inputs["zoneRedundant"] is True  # westus3 has availability zones
    assert environment.inputs["peerTrafficConfiguration"] == {"encryption": {"enabled": True}}


def test_vnet_resolves_the_environment_domain_to_its_internal_ip(plan):
    environment = one(plan, ENV)
    [zone] = [z for z in plan.of_type("azure-native:privatedns:PrivateZone")
              if z.inputs["privateZoneName"] == environment.outputs["defaultDomain"]]
    records = {r.inputs["relativeRecordSetName"]: r for r in children(plan, zone, "azure-native:privatedns:PrivateRecordSet")}
    assert set(records) == {"*", "@"}
    for record in records.values():
        assert record.inputs["recordType"] == "A"
        assert record.inputs["aRecords"] == [{"ipv4Address": environment.outputs["staticIp"]}]
    [link] = children(plan, zone, "azure-native:privatedns:VirtualNetworkLink")
    assert link.inputs["virtualNetwork"]["id"] == one(plan, "azure-native:network:VirtualNetwork").id


def test_apps_run_on_serverless_gpu_profiles_with_the_profile_allocation(plan, env):
    profiles = {p["name"]: p["workloadProfileType"] for p in one(plan, ENV).inputs["workloadProfiles"]}
    configured = {a["name"]: a for a in config_of(env)["containerApps"]["apps"]}
    apps = apps_of(plan)
    assert set(apps) == set(configured)
    for name, app in apps.items():
        kind = profiles[app.inputs["workloadProfileName"]]
        assert kind.startswith("Consumption-GPU-")
        gpu = SERVERLESS_GPUS[kind]
        [container] = app.inputs["template"]["containers"]
        assert container["resources"]["cpu"] <= gpu.vcpus
        assert float(container["resources"]["memory"].removesuffix("Gi")) <= gpu.memory_gib
        assert app.inputs["managedEnvironmentId"] == one(plan, ENV).id


def test_apps_scale_to_zero_up_to_their_configured_max(plan, env):
    configured = {a["name"]: a for a in config_of(env)["containerApps"]["apps"]}
    for name, app in apps_of(plan).items():
        scale = app.inputs["template"]["scale"]
        assert scale["minReplicas"] == 0
        assert scale["maxReplicas"] == configured[name]["maxReplicas"]
        http = [r for r in scale["rules"] if "http" in r]
        assert http and http[0]["http"]["metadata"]["concurrentRequests"].isdigit()


def test_ingress_is_internal_and_https_only(plan):
    for app in apps_of(plan).values():
        ingress = app.inputs["configuration"]["ingress"]
        assert ingress["external"] is False
        assert ingress["allowInsecure"] is False


def test_images_are_pulled_from_the_shared_registry_with_the_app_identity(plan):
    registry = one(plan, "azure-native:containerregistry:Registry")
    server = registry.outputs["loginServer"]
    for name, app in apps_of(plan).items():
        identity = one(plan, IDENTITY, f"apps-{name}-id")
        assert app.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [identity.id]}
        assert app.inputs["configuration"]["registries"] == [{"server": server, "identity": identity.id}]
        [container] = app.inputs["template"]["containers"]
        assert container["image"].startswith(server + "/")
        [pull] = grants(plan, name, "AcrPull")
        assert pull.inputs["scope"] == registry.id
        assert pull.urn in app.dependencies, "AcrPull must exist before the app pulls its image"


def test_secrets_are_key_vault_references_read_with_the_app_identity(plan, env):
    vault = one(plan, "azure-native:keyvault:Vault", "shared-kv")  # secrets; the CMK has a vault of its own
    for name, app in apps_of(plan).items():
        configured = next(a for a in config_of(env)["containerApps"]["apps"] if a["name"] == name)
        secrets = app.inputs["configuration"].get("secrets", [])
        assert len(secrets) == len(configured.get("secrets", []))
        identity = one(plan, IDENTITY, f"apps-{name}-id")
        for secret in secrets:
            assert "value" not in secret
            assert secret["identity"] == identity.id
            assert secret["keyVaultUrl"] == f"{vault.outputs['properties']['vaultUri']}secrets/{secret['name']}"
            [grant] = [g for g in grants(plan, name, "Key Vault Secrets User")
                       if g.inputs["scope"] == f"{vault.id}/secrets/{secret['name']}"]
            assert grant.urn in app.dependencies
        env_vars = {e["name"]: e for e in app.inputs["template"]["containers"][0].get("env", [])}
        for secret in configured.get("secrets", []):
            assert env_vars[secret["envVar"]] == {"name": secret["envVar"], "secretRef": secret["keyVaultSecret"]}


def test_queue_scale_rule_reads_a_shared_storage_queue_with_the_app_identity(plan, env):
    storage = one(plan, "azure-native:storage:StorageAccount")
    queued = [a for a in config_of(env)["containerApps"]["apps"] if a.get("queue")]
    assert queued, "every environment exercises the queue rule"
    for configured in queued:
        app = apps_of(plan)[configured["name"]]
        identity = one(plan, IDENTITY, f"apps-{configured['name']}-id")
        [rule] = [r["azureQueue"] for r in app.inputs["template"]["scale"]["rules"] if "azureQueue" in r]
        assert rule == {"accountName": storage.inputs["accountName"], "queueName": configured["queue"]["queueName"],
                        "queueLength": configured["queue"]["messagesPerReplica"], "identity": identity.id}
        queue = one(plan, "azure-native:storage:Queue", f"apps-queue-{configured['queue']['queueName']}")
        assert queue.inputs["accountName"] == storage.inputs["accountName"]
        for role in ("Storage Queue Data Reader", "Storage Queue Data Message Processor"):
            [grant] = grants(plan, configured["name"], role)
            assert grant.inputs["scope"] == queue.id and grant.urn in app.dependencies
    # The shared storage refuses public traffic: the queue is reached through its own private endpoint.
    endpoints = [e for e in private_endpoints_to(plan, storage) if group_ids(e) == ["queue"]]
    assert len(endpoints) == 1
    assert zone_names_of(plan, endpoints[0]) == {"privatelink.queue.core.windows.net"}


# --- args: bad input fails naming the field, before anything is registered -------------------------------------

def args(location: str = "westus3", **overrides) -> ContainerAppsGpuArgs:
    shared = fake_shared_ref(location)
    fields = dict(naming=shared.naming, resource_group_name="rg", shared=shared,
                  apps=[{"name": "infer", "image": "inference/llm:1.0.0"}])
    fields.update(overrides)
    return ContainerAppsGpuArgs(**fields)


def test_defaults_are_a_t4_profile_and_scale_to_zero():
    built = args()
    assert [p.workload_profile_type for p in built.gpu_profiles] == ["Consumption-GPU-NC8as-T4"]
    assert built.apps[0].min_replicas == 0 and built.apps[0].max_replicas == 1
    assert built.profile_of(built.apps[0]) is built.gpu_profiles[0]


def test_a_region_without_serverless_gpus_is_rejected_naming_the_supported_regions():
    with pytest.raises(ComponentArgsError) as error:
        args(location="northeurope")
    message = str(error.value)
    assert "Consumption-GPU-NC8as-T4 is not offered in northeurope" in message
    for region in ("westus3", "australiaeast", "swedencentral"):
        assert region in message


def test_a100_only_where_azure_offers_it():
    with pytest.raises(ComponentArgsError, match="Consumption-GPU-NC24-A100 is not offered in westus2"):
        args(location="westus2", gpu_profiles=[{"workloadProfileType": "Consumption-GPU-NC24-A100"}])
    args(location="westus2")  # T4 is offered there


@pytest.mark.parametrize("overrides, fragment", [
    ({"gpu_profiles": [{"workloadProfileType": "Consumption-GPU-NC8as-T4", "minimumCount": 1}]},
     "minimumCount cannot be set on the serverless GPU profile Consumption-GPU-NC8as-T4"),
    ({"gpu_profiles": [{"workloadProfileType": "Consumption-GPU-NC8as-T4", "maximumCount": 3}]},
     "maximumCount cannot be set"),
    ({"gpu_profiles": [{"workloadProfileType": "Consumption-GPU-H100"}]}, "workloadProfileType: Input should be"),
    ({"gpu_profiles": []}, "gpu_profiles: List should have at least 1 item"),
    ({"gpu_profiles": [{"workloadProfileType": "Consumption-GPU-NC8as-T4"},
                       {"workloadProfileType": "Consumption-GPU-NC8as-T4"}]}, "profile names must be unique"),
    ({"apps": [{"name": "infer", "image": "inference/llm:1", "workloadProfile": "gpu-a100"}]},
     "apps[0].workloadProfile 'gpu-a100' is not one of the GPU profiles: gpu-t4"),
    ({"apps": [{"name": "infer", "image": "inference/llm:1", "cpu": 16}]},
     "apps[0].cpu 16 is more than a Consumption-GPU-NC8as-T4 replica has (8 vCPU)"),
    ({"apps": [{"name": "infer", "image": "inference/llm:1", "memoryGib": 64}]}, "(56 GiB)"),
    ({"apps": [{"name": "infer", "image": "inference/llm:1", "minReplicas": 3, "maxReplicas": 2}]},
     "minReplicas (3) must be <= maxReplicas (2)"),
    ({"apps": [{"name": "infer", "image": "ghcr.io/acme/llm:1"}]}, "names a registry ('ghcr.io')"),
    ({"apps": [{"name": "infer", "image": "inference/llm:1", "queue": {"queueName": "a--b"}}]},
     "consecutive hyphens"),
    ({"apps": [{"name": "Infer!", "image": "inference/llm:1"}]}, "apps[0].name: String should match pattern"),
    ({"apps": [{"name": "ab", "image": "x:1"}, {"name": "ab", "image": "y:1"}]}, "app names must be unique"),
    ({"apps": [{"name": "infer", "image": "inference/llm:1", "env": {"HF_TOKEN": "x"},
                "secrets": [{"keyVaultSecret": "hf-token", "envVar": "HF_TOKEN"}]}]}, "env and secrets both set HF_TOKEN"),
    ({"shared": fake_shared_ref(container_apps_subnet_id=None)}, "shared.container_apps_subnet_id is required"),
])
def test_invalid_args_fail_naming_the_field(overrides, fragment):
    with pytest.raises(ComponentArgsError, match="ContainerAppsGpuArgs: invalid args") as error:
        args(**overrides)
    assert fragment in str(error.value)


def test_zone_redundancy_only_where_the_region_has_zones():
    with pytest.raises(ComponentArgsError, match="zoneRedundant: westus has no availability zones"):
        args(location="westus", zone_redundant=True)
    assert args(location="westus").zone_redundant is None  # unset: the component decides per region


def test_stack_config_rejects_a_region_without_serverless_gpus_naming_the_path():
    raw = config_of("dev")
    raw["location"] = "northeurope"
    with pytest.raises(ConfigError) as error:
        parse_platform_config(raw, "Pulumi.dev.yaml")
    message = str(error.value)
    assert "aiinfra:platform: containerApps.gpuProfiles[0].workloadProfileType: Consumption-GPU-NC8as-T4 is not " \
           "offered in northeurope" in message
    assert "westus3" in message


def test_stack_config_rejects_instance_counts_on_gpu_profiles_naming_the_path():
    raw = config_of("dev")
    raw["containerApps"]["gpuProfiles"][0]["maximumCount"] = 2
    with pytest.raises(ConfigError, match=r"aiinfra:platform\.containerApps\.gpuProfiles\[0\]: maximumCount cannot"):
        parse_platform_config(raw, "Pulumi.dev.yaml")

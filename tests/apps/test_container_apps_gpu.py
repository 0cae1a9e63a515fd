"""What a platform engineer relies on in ContainerAppsGpu, per environment, from the recorded plan; and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import (
    children,
    fake_shared_ref,
    group_ids,
    one,
    private_endpoints_to,
    run_here,
    waits_for_rbac,
    zone_names_of,
)

from aiinfra.components._base import ComponentArgsError
from aiinfra.components.container_apps_gpu import BOOTSTRAP_IMAGE, SERVERLESS_GPUS, ContainerAppsGpuArgs
from aiinfra.components.interfaces import BUILTIN_ROLES
from aiinfra.engine import ProgramError
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
    return [
        r
        for r in plan.of_type(ROLE)
        if r.inputs["principalId"] == identity.outputs["principalId"]
        and r.inputs["roleDefinitionId"].endswith(BUILTIN_ROLES[role])
    ]


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
    [diagnostics] = [
        d for d in plan.of_type("azure-native:monitor:DiagnosticSetting") if d.inputs["resourceUri"] == environment.id
    ]
    assert diagnostics.inputs["workspaceId"] == one(plan, "azure-native:operationalinsights:Workspace").id


def test_zone_redundant_where_the_region_has_zones_and_peer_traffic_encrypted(plan):
    environment = one(plan, ENV)
    assert environment.inputs["zoneRedundant"] is True  # westus3 has availability zones
    assert environment.inputs["peerTrafficConfiguration"] == {"encryption": {"enabled": True}}


def test_vnet_resolves_the_environment_domain_to_its_internal_ip(plan):
    environment = one(plan, ENV)
    [zone] = [
        z
        for z in plan.of_type("azure-native:privatedns:PrivateZone")
        if z.inputs["privateZoneName"] == environment.outputs["defaultDomain"]
    ]
    records = {
        r.inputs["relativeRecordSetName"]: r for r in children(plan, zone, "azure-native:privatedns:PrivateRecordSet")
    }
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
    for app in apps.values():
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


def test_ingress_reaches_the_vnet_callers_only_over_https(plan):
    # external: false would make the apps reachable from the environment only: AKS, AML compute and Batch in the
    # VNet could not call them. VNet-wide ingress on the internal environment + Allow rules for their subnets.
    subnets = {
        s.name.removeprefix("shared-snet-"): s.inputs["addressPrefix"]
        for s in plan.of_type("azure-native:network:Subnet")
    }
    for app in apps_of(plan).values():
        ingress = app.inputs["configuration"]["ingress"]
        assert ingress["external"] is True
        assert ingress["allowInsecure"] is False
        rules = {r["name"]: r for r in ingress["ipSecurityRestrictions"]}
        assert {n: r["ipAddressRange"] for n, r in rules.items()} == {
            n: subnets[n] for n in ("aks", "aml-compute", "batch")
        }
        assert {r["action"] for r in rules.values()} == {"Allow"}
    assert one(plan, ENV).inputs["vnetConfiguration"]["internal"] is True  # never the internet


def test_callers_fqdns_resolve_in_the_vnet(plan, env):
    domain = one(plan, ENV).outputs["defaultDomain"]
    for name, fqdn in plan.stack_outputs["containerAppFqdns"].items():
        assert fqdn == f"{apps_of(plan)[name].inputs['containerAppName']}.{domain}"  # the private zone's wildcard


def test_apps_start_with_the_public_bootstrap_image_and_leave_the_image_to_the_release(plan):
    # The new registry is empty at the first deploy (MANIFEST_UNKNOWN): the model release sets the image later,
    # and infrastructure updates ignore it.
    for app in apps_of(plan).values():
        [container] = app.inputs["template"]["containers"]
        assert container["image"] == BOOTSTRAP_IMAGE
        assert app.ignore_changes == ["template.containers[0].image"]


def test_images_are_pulled_from_the_shared_registry_with_the_app_identity(plan):
    registry = one(plan, "azure-native:containerregistry:Registry")
    server = registry.outputs["loginServer"]
    for name, app in apps_of(plan).items():
        identity = one(plan, IDENTITY, f"apps-{name}-id")
        assert app.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [identity.id]}
        assert app.inputs["configuration"]["registries"] == [{"server": server, "identity": identity.id}]
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
            # The secret exists before the app reads it: created from the stack's Pulumi secret, in the vault.
            created = one(plan, "azure-native:keyvault:Secret", f"apps-secret-{secret['name']}")
            assert created.inputs["vaultName"] == vault.inputs["vaultName"]
            assert created.inputs["secretName"] == secret["name"]
            # The value is a Pulumi secret, so the engine records the whole properties object as one.
            assert created.inputs["properties"] == "[secret]"
            [grant] = [g for g in grants(plan, name, "Key Vault Secrets User") if g.inputs["scope"] == created.id]
            assert grant.urn in app.dependencies
            # Read at creation: the app waits until the grant has taken effect (RBAC propagation).
            assert waits_for_rbac(plan, app, grant.urn)
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
        assert rule == {
            "accountName": storage.inputs["accountName"],
            "queueName": configured["queue"]["queueName"],
            "queueLength": configured["queue"]["messagesPerReplica"],
            "identity": identity.id,
        }
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
    fields = dict(
        naming=shared.naming,
        resource_group_name="rg",
        shared=shared,
        apps=[{"name": "infer", "image": "inference/llm:1.0.0"}],
    )
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


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (
            {"gpu_profiles": [{"workloadProfileType": "Consumption-GPU-NC8as-T4", "minimumCount": 1}]},
            "minimumCount cannot be set on the serverless GPU profile Consumption-GPU-NC8as-T4",
        ),
        (
            {"gpu_profiles": [{"workloadProfileType": "Consumption-GPU-NC8as-T4", "maximumCount": 3}]},
            "maximumCount cannot be set",
        ),
        ({"gpu_profiles": [{"workloadProfileType": "Consumption-GPU-H100"}]}, "workloadProfileType: Input should be"),
        ({"gpu_profiles": []}, "gpu_profiles: List should have at least 1 item"),
        (
            {
                "gpu_profiles": [
                    {"workloadProfileType": "Consumption-GPU-NC8as-T4"},
                    {"workloadProfileType": "Consumption-GPU-NC8as-T4"},
                ]
            },
            "profile names must be unique",
        ),
        (
            {"apps": [{"name": "infer", "image": "inference/llm:1", "workloadProfile": "gpu-a100"}]},
            "apps[0].workloadProfile 'gpu-a100' is not one of the GPU profiles: gpu-t4",
        ),
        (
            {"apps": [{"name": "infer", "image": "inference/llm:1", "cpu": 16}]},
            "apps[0].cpu 16 is more than a Consumption-GPU-NC8as-T4 replica has (8 vCPU)",
        ),
        ({"apps": [{"name": "infer", "image": "inference/llm:1", "memoryGib": 64}]}, "(56 GiB)"),
        (
            {"apps": [{"name": "infer", "image": "inference/llm:1", "minReplicas": 3, "maxReplicas": 2}]},
            "minReplicas (3) must be <= maxReplicas (2)",
        ),
        ({"apps": [{"name": "infer", "image": "ghcr.io/acme/llm:1"}]}, "names a registry ('ghcr.io')"),
        (
            {"apps": [{"name": "infer", "image": "inference/llm:1", "queue": {"queueName": "a--b"}}]},
            "consecutive hyphens",
        ),
        ({"apps": [{"name": "Infer!", "image": "inference/llm:1"}]}, "apps[0].name: String should match pattern"),
        ({"apps": [{"name": "ab", "image": "x:1"}, {"name": "ab", "image": "y:1"}]}, "app names must be unique"),
        (
            {
                "apps": [
                    {
                        "name": "infer",
                        "image": "inference/llm:1",
                        "env": {"HF_TOKEN": "x"},
                        "secrets": [{"keyVaultSecret": "hf-token", "envVar": "HF_TOKEN"}],
                    }
                ]
            },
            "env and secrets both set HF_TOKEN",
        ),
        ({"shared": fake_shared_ref(container_apps_subnet_id=None)}, "shared.container_apps_subnet_id is required"),
    ],
)
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
    assert (
        "aiinfra:platform: containerApps.gpuProfiles[0].workloadProfileType: Consumption-GPU-NC8as-T4 is not "
        "offered in northeurope" in message
    )
    assert "westus3" in message


def test_stack_config_rejects_instance_counts_on_gpu_profiles_naming_the_path():
    raw = config_of("dev")
    raw["containerApps"]["gpuProfiles"][0]["maximumCount"] = 2
    with pytest.raises(ConfigError, match=r"aiinfra:platform\.containerApps\.gpuProfiles\[0\]: maximumCount cannot"):
        parse_platform_config(raw, "Pulumi.dev.yaml")


# --- first deploy: secrets from Pulumi secrets, images from the release, callers -----------------------------


def stack_without(tmp_path: Path, env: str, edit) -> Path:
    stack = yaml.safe_load((REPO / f"Pulumi.{env}.yaml").read_text())
    edit(stack["config"])
    for key in ("workspaces", "aks", "batch"):  # a smaller plan is enough here
        stack["config"]["aiinfra:platform"].pop(key, None)
    path = tmp_path / f"Pulumi.{env}.yaml"
    path.write_text(yaml.safe_dump(stack))
    return path


def test_a_secret_the_app_reads_must_come_from_a_stack_secret(tmp_path):
    path = stack_without(tmp_path, "dev", lambda c: c.pop("aiinfra:hf-token"))
    with pytest.raises(ProgramError) as error:
        run_here(REPO, "dev", stack_file=path)
    message = str(error.value)
    assert "aiinfra:platform.containerApps.apps[0].secrets[0]" in message
    assert "pulumi config set --secret aiinfra:hf-token" in message


def test_a_plaintext_secret_value_is_refused(tmp_path):
    path = stack_without(tmp_path, "dev", lambda c: c.update({"aiinfra:hf-token": "hf_plaintext"}))
    with pytest.raises(ProgramError, match="aiinfra:hf-token is stored in plain text"):
        run_here(REPO, "dev", stack_file=path)


def test_an_existing_secret_is_read_not_created(tmp_path):
    def edit(config):
        config.pop("aiinfra:hf-token")
        config["aiinfra:platform"]["containerApps"]["apps"][0]["secrets"][0]["existing"] = True

    plan = run_here(REPO, "dev", stack_file=stack_without(tmp_path, "dev", edit))
    assert not plan.of_type("azure-native:keyvault:Secret")
    vault = one(plan, "azure-native:keyvault:Vault")
    [grant] = grants(plan, "infer", "Key Vault Secrets User")
    assert grant.inputs["scope"] == f"{vault.id}/secrets/hf-token"


def test_stack_config_callers_can_be_narrowed_or_named_by_range(tmp_path):
    def edit(config):
        config["aiinfra:platform"]["containerApps"]["callerSubnets"] = ["aks"]

    plan = run_here(REPO, "dev", stack_file=stack_without(tmp_path, "dev", edit))
    [app] = plan.of_type(APP)
    rules = app.inputs["configuration"]["ingress"]["ipSecurityRestrictions"]
    assert [r["name"] for r in rules] == ["aks"]
    raw = config_of("dev")
    raw["containerApps"]["callerRanges"] = {"hub": "10.200.0.0/24"}
    with pytest.raises(ConfigError, match="set callerSubnets .* or callerRanges"):
        parse_platform_config(raw, "Pulumi.dev.yaml")
    raw["containerApps"]["callerSubnets"] = []
    assert parse_platform_config(raw, "Pulumi.dev.yaml").container_app_callers == {"hub": "10.200.0.0/24"}


def test_no_callers_keeps_ingress_inside_the_environment(tmp_path):
    def edit(config):
        config["aiinfra:platform"]["containerApps"]["callerSubnets"] = []

    plan = run_here(REPO, "dev", stack_file=stack_without(tmp_path, "dev", edit))
    [app] = plan.of_type(APP)
    ingress = app.inputs["configuration"]["ingress"]
    assert ingress["external"] is False and "ipSecurityRestrictions" not in ingress
    assert ".internal." in plan.stack_outputs["containerAppFqdns"]["infer"]


def test_preview_says_gpu_quota_and_create_only_gpu_profiles(plan):
    [notice] = [w for w in plan.warnings if "serverless GPU quota" in w]
    assert "can only be added when the environment is created" in notice


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (
            {"apps": [{"name": "infer", "minReplicas": 1}]},
            "apps[0].minReplicas: an app created with the bootstrap image",
        ),
        (
            {"apps": [{"name": "infer", "secrets": [{"keyVaultSecret": "tok", "envVar": "TOK"}]}]},
            "secret_values has no value for tok",
        ),
        ({"secret_values": {"other": "x"}}, "secret_values: other is not a secret any app creates"),
        ({"caller_ranges": {"aks": "10.0.0.0/33"}}, "aks: '10.0.0.0/33' is not a CIDR block"),
        ({"caller_ranges": {"anyone": "0.0.0.0/0"}}, "is not a private range"),
        ({"bootstrap_image": "quickstart"}, "bootstrap_image: String should match pattern"),
    ],
)
def test_first_deploy_args_fail_naming_the_field(overrides, fragment):
    with pytest.raises(ComponentArgsError, match="ContainerAppsGpuArgs: invalid args") as error:
        args(**overrides)
    assert fragment in str(error.value)


def test_bootstrap_app_may_keep_a_replica_when_the_ports_match():
    built = args(apps=[{"name": "infer", "minReplicas": 1, "targetPort": 80}])
    assert built.apps[0].image is None

"""What a platform engineer relies on in AiServices (the Azure OpenAI account of test and prd), from the recorded
plans; and each args / config error, before anything is registered."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import fake_shared_ref, group_ids, one, private_endpoints_to, waits_for, zone_names_of

from aiinfra.components._base import ComponentArgsError
from aiinfra.components.ai_services import AiServicesArgs, ContentFilter
from aiinfra.components.interfaces import BUILTIN_ROLES
from aiinfra.components.shared_services import SharedServicesRef
from stacks.config import ConfigError, parse_platform_config

ACCOUNT = "azure-native:cognitiveservices:Account"
DEPLOYMENT = "azure-native:cognitiveservices:Deployment"
RAI = "azure-native:cognitiveservices:RaiPolicy"
ROLE = "azure-native:authorization:RoleAssignment"
CONNECTION = "azure-native:machinelearningservices:WorkspaceConnection"
WORKSPACE = "azure-native:machinelearningservices:Workspace"
REPO = Path(__file__).resolve().parents[2]
OPENAI_USER = BUILTIN_ROLES["Cognitive Services OpenAI User"]


@pytest.fixture(params=["test", "prd"])
def ai_env(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def ai_plan(ai_env, plan_of):
    return plan_of(ai_env)


def raw_config(env: str) -> dict:
    return yaml.safe_load((REPO / f"Pulumi.{env}.yaml").read_text())["config"]["aiinfra:platform"]


def test_builtin_role_id_is_the_documented_one():
    # Learn, "Azure built-in roles for AI + machine learning"; the same GUID in AVM cognitive-services/account.
    assert OPENAI_USER == "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"


def test_account_is_private_keyless_and_restricted_outbound(ai_plan):
    account = one(ai_plan, ACCOUNT)
    props = account.inputs["properties"]
    assert account.inputs["kind"] == "OpenAI" and account.inputs["sku"]["name"] == "S0"
    assert props["customSubDomainName"] == account.inputs["accountName"]
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["disableLocalAuth"] is True
    assert props["networkAcls"]["defaultAction"] == "Deny"
    assert props["restrictOutboundNetworkAccess"] is True
    storage = one(ai_plan, "azure-native:storage:StorageAccount")
    assert props["allowedFqdnList"] == [f"{storage.inputs['accountName']}.blob.core.windows.net"]
    assert "SystemAssigned" in account.inputs["identity"]["type"]


def test_account_is_encrypted_with_the_shared_key_and_identity(ai_plan):
    account = one(ai_plan, ACCOUNT)
    encryption = account.inputs["properties"]["encryption"]
    cmk_identity = one(ai_plan, "azure-native:managedidentity:UserAssignedIdentity", "shared-cmk-id")
    assert encryption["keySource"] == "Microsoft.KeyVault"
    assert encryption["keyVaultProperties"]["identityClientId"] == cmk_identity.outputs["clientId"]
    assert encryption["keyVaultProperties"]["keyVersion"]
    assert account.inputs["identity"]["userAssignedIdentities"] == [cmk_identity.id]
    # Azure rejects a key the identity cannot read yet: the account waits for the identity's grant on the key.
    grants = [r for r in ai_plan.of_type(ROLE) if r.inputs["principalId"] == cmk_identity.outputs["principalId"]]
    # (directly, or through SharedServices' RBAC-propagation wait after it)
    assert grants and all(waits_for(ai_plan, account, g.urn) for g in grants)


def test_private_endpoint_registers_in_both_openai_zones(ai_plan):
    account = one(ai_plan, ACCOUNT)
    [endpoint] = private_endpoints_to(ai_plan, account)
    assert group_ids(endpoint) == ["account"]
    assert zone_names_of(ai_plan, endpoint) == {
        "privatelink.openai.azure.com",
        "privatelink.cognitiveservices.azure.com",
    }
    # In the shared VNet's private-endpoint subnet, whose zones are linked to the VNet: the Container Apps subnet
    # (same VNet, no NSG rule against VNet traffic) resolves and reaches it privately.
    subnet = one(ai_plan, "azure-native:network:Subnet", "shared-snet-private-endpoints")
    assert endpoint.inputs["subnet"]["id"] == subnet.id


def test_diagnostics_go_to_log_analytics(ai_plan):
    account = one(ai_plan, ACCOUNT)
    log = one(ai_plan, "azure-native:operationalinsights:Workspace")
    [setting] = [
        d for d in ai_plan.of_type("azure-native:monitor:DiagnosticSetting") if d.inputs["resourceUri"] == account.id
    ]
    assert setting.inputs["workspaceId"] == log.id
    assert setting.inputs["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]


def test_every_deployment_uses_the_blocking_custom_content_filter(ai_plan, ai_env):
    policy = one(ai_plan, RAI)
    props = policy.inputs["properties"]
    assert props["mode"] == "Default"
    wanted = raw_config(ai_env)["aiServices"]["contentFilter"]
    thresholds = {
        "Hate": wanted["hate"],
        "Sexual": wanted["sexual"],
        "Violence": wanted["violence"],
        "Selfharm": wanted["selfHarm"],
    }
    for category, threshold in thresholds.items():
        for source in ("Prompt", "Completion"):
            [entry] = [f for f in props["contentFilters"] if f["name"] == category and f["source"] == source]
            assert entry["enabled"] is True and entry["blocking"] is True
            assert entry["severityThreshold"] == threshold
    deployments = ai_plan.of_type(DEPLOYMENT)
    assert {d.inputs["deploymentName"] for d in deployments} == {"chat", "embeddings"}
    for deployment in deployments:
        assert deployment.inputs["properties"]["raiPolicyName"] == policy.outputs["name"]
        assert policy.urn in deployment.property_dependencies["properties"]


def test_deployments_come_from_config_and_are_created_one_at_a_time(ai_plan, ai_env):
    wanted = {d["name"]: d for d in raw_config(ai_env)["aiServices"]["deployments"]}
    deployments = {d.inputs["deploymentName"]: d for d in ai_plan.of_type(DEPLOYMENT)}
    for name, d in deployments.items():
        assert d.inputs["sku"] == {"name": wanted[name]["sku"], "capacity": wanted[name]["capacity"]}
        assert d.inputs["properties"]["model"] == {
            "format": "OpenAI",
            "name": wanted[name]["model"],
            "version": str(wanted[name]["version"]),
        }
    # Azure rejects concurrent writes under one account (AVM: @batchSize(1)): endpoint, policy, then one by one.
    assert deployments["chat"].urn in deployments["embeddings"].dependencies
    [endpoint] = private_endpoints_to(ai_plan, one(ai_plan, ACCOUNT))
    assert endpoint.urn in one(ai_plan, RAI).dependencies


def test_keyless_access_for_scientists_workspaces_and_apps(ai_plan):
    account = one(ai_plan, ACCOUNT)
    # The component's own grants (SecureWorkspace adds the network approver role for its outbound rule).
    grants = [r for r in ai_plan.of_type(ROLE) if r.inputs["scope"] == account.id and "aiinfra:ai:AiServices$" in r.urn]
    assert grants and all(g.inputs["roleDefinitionId"].endswith(OPENAI_USER) for g in grants)  # least privilege
    principals = {g.inputs["principalId"] for g in grants}
    for workspace_id in ai_plan.of_type("azure-native:managedidentity:UserAssignedIdentity"):
        name = workspace_id.name
        if (
            name.startswith("ml-")
            and (name.endswith("-id") or name.endswith("-compute-id"))
            or (name.startswith("apps-") and name.endswith("-id"))
        ):
            assert workspace_id.outputs["principalId"] in principals, name
    assert any(g.inputs["principalType"] == "Group" for g in grants)


def test_each_workspace_has_an_entra_id_connection_and_a_private_endpoint_rule(ai_plan):
    account = one(ai_plan, ACCOUNT)
    connections = ai_plan.of_type(CONNECTION)
    workspaces = ai_plan.of_type(WORKSPACE)
    assert len(connections) == len(workspaces) >= 1
    for connection in connections:
        props = connection.inputs["properties"]
        assert props["authType"] == "AAD" and props["category"] == "AzureOpenAI"
        assert props["target"] == f"https://{account.inputs['accountName']}.openai.azure.com/"
        assert props["metadata"]["ResourceId"] == account.id
    for workspace in workspaces:
        if workspace.inputs["managedNetwork"]["isolationMode"] == "Disabled":
            continue  # the AKS workspace (aksml) has no managed network: it reaches the account through the VNet
        rule = workspace.inputs["managedNetwork"]["outboundRules"]["azure-openai"]
        assert rule["type"] == "PrivateEndpoint"
        assert rule["destination"] == {
            "serviceResourceId": account.id,
            "subresourceTarget": "account",
            "sparkEnabled": False,
        }


def test_dev_has_no_account(plan_of):
    assert plan_of("dev").of_type(ACCOUNT) == []


# ---- args errors: named, before anything is registered ---------------------------------------------------------


def shared_with_zones(**overrides: Any) -> SharedServicesRef:
    ids = "/subscriptions/s/resourceGroups/rg-net/providers/Microsoft.Network/privateDnsZones"
    zones = {z: f"{ids}/{z}" for z in ("privatelink.openai.azure.com", "privatelink.cognitiveservices.azure.com")}
    return fake_shared_ref(private_dns_zone_ids=zones, **overrides)


def args(**overrides: Any) -> AiServicesArgs:
    shared: SharedServicesRef = overrides.pop("shared", None) or shared_with_zones()
    fields: dict[str, Any] = dict(
        naming=shared.naming,
        resource_group_name="rg",
        shared=shared,
        deployments=[{"name": "chat", "model": "gpt-4o", "version": "2024-11-20", "sku": "GlobalStandard"}],
    )
    fields.update(overrides)
    return AiServicesArgs(**fields)


def test_valid_args_build():
    assert args().deployments[0].kind == "chat"


@pytest.mark.parametrize(
    "deployment, message",
    [
        ({"model": "gpt-5-turbo", "version": "1"}, "unknown model 'gpt-5-turbo'; the catalogue"),
        ({"model": "gpt-4o", "version": "2099-01-01"}, "known versions of gpt-4o: 2024-11-20"),
        (
            {"model": "text-embedding-3-large", "version": "1", "sku": "ProvisionedManaged"},
            "is not offered as ProvisionedManaged",
        ),
        ({"model": "gpt-4.1", "version": "2025-04-14", "sku": "Standard"}, "is not offered as Standard in westus3"),
        (
            {"model": "gpt-4o", "version": "2024-11-20", "sku": "ProvisionedManaged", "capacity": 20},
            "needs at least 50 PTU, in steps of 50",
        ),
        (
            {"model": "gpt-4o", "version": "2024-11-20", "sku": "GlobalProvisionedManaged", "capacity": 17},
            "needs at least 15 PTU, in steps of 5",
        ),
        ({"model": "gpt-4o", "version": "2024-11-20", "sku": "Premium"}, "deployments[0].sku: Input should be"),
    ],
)
def test_bad_deployments_are_refused(deployment, message):
    with pytest.raises(ComponentArgsError, match=re.escape(message)):
        args(deployments=[{"name": "chat", **deployment}])


def test_provisioned_deployment_at_a_valid_size_is_accepted():
    built = args(
        deployments=[
            {
                "name": "chat",
                "model": "gpt-4o",
                "version": "2024-11-20",
                "sku": "GlobalProvisionedManaged",
                "capacity": 20,
            }
        ]
    )
    assert built.deployments[0].capacity == 20


def test_other_args_errors():
    with pytest.raises(ComponentArgsError, match="duplicate name"):
        args(deployments=[{"name": "chat", "model": "gpt-4o", "version": "2024-11-20"}] * 2)
    with pytest.raises(ComponentArgsError, match="must name at least one host"):
        args(allow_shared_storage=False)
    with pytest.raises(ComponentArgsError, match="not host names: https://x"):
        args(allowed_fqdns=["https://x"])
    with pytest.raises(ComponentArgsError, match="require_cmk needs the shared services' customer-managed key"):
        args(require_cmk=True)
    with pytest.raises(ComponentArgsError, match="content_filter.hate"):
        args(content_filter={"hate": "Off"})


def test_content_filter_blocks_prompts_and_completions_at_the_thresholds():
    filters = ContentFilter(hate="Low", violence="High").filters()
    harm = [f for f in filters if f.name in ("Hate", "Sexual", "Violence", "Selfharm")]
    assert len(harm) == 8 and all(f.blocking and f.enabled for f in harm)
    assert {(f.name, f.source) for f in harm} == {
        (c, s) for c in ("Hate", "Sexual", "Violence", "Selfharm") for s in ("Prompt", "Completion")
    }
    assert {f.severity_threshold for f in harm if f.name == "Hate"} == {"Low"}
    assert {f.severity_threshold for f in harm if f.name == "Violence"} == {"High"}


def test_missing_private_dns_zone_fails_before_registering():
    from aiinfra.components.ai_services import AiServices

    with pytest.raises(ComponentArgsError, match="privatelink.cognitiveservices.azure.com"):
        AiServices("ai", args(shared=fake_shared_ref()))


# ---- stack config errors: the YAML path and the stack file -------------------------------------------------------


def test_config_errors_name_the_key():
    base = raw_config("test")
    cases = [
        (
            lambda c: c["aiServices"]["deployments"][0].update(model="gpt-9"),
            "aiinfra:platform.aiServices: Value error, deployments[0] (chat): unknown model 'gpt-9'",
        ),
        (
            lambda c: c["aiServices"].update(connectWorkspaces=["nope"]),
            "aiServices.connectWorkspaces: no workspace named nope",
        ),
        (
            lambda c: c["shared"].update(requireCmk=False) or [w.update(requireCmk=False) for w in c["workspaces"]],
            "aiServices.requireCmk needs the environment's key",
        ),
        (
            lambda c: c["aiServices"]["deployments"][1].update(sku="DataZoneStandard"),
            "aiServices.deployments[1] (embeddings): text-embedding-3-large 1 is not offered as DataZoneStandard",
        ),
        (lambda c: c["aiServices"].update(keyAuth=True), "aiinfra:platform.aiServices.keyAuth: unknown key"),
    ]
    for change, message in cases:
        config = copy.deepcopy(base)
        change(config)
        with pytest.raises(ConfigError) as caught:
            parse_platform_config(config, "Pulumi.test.yaml")
        assert "Pulumi.test.yaml" in str(caught.value)
        assert message.replace("Value error, ", "") in str(caught.value), str(caught.value)

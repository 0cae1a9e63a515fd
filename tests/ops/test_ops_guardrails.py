"""Azure Policy guardrails and the cost anomaly alert: created by bootstrap/ (the administrator), from config."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from helpers import run_here

from aiinfra.components.policy_guardrails import BUILT_IN_POLICIES
from aiinfra.engine import Plan
from aiinfra.policies import RULES
from stacks.config import ConfigError, parse_platform_config

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = "azure-native:authorization:PolicyAssignment"
SCHEDULED_ACTION = "azure-native:costmanagement:ScheduledActionByScope"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
_plans: dict[str, Plan] = {}


def bootstrap(env: str) -> Plan:
    if env not in _plans:
        _plans[env] = run_here(REPO / "bootstrap", env)
    return _plans[env]


def assignments(plan: Plan) -> dict[str, dict]:
    return {r.name.removeprefix("guardrails-"): r.inputs for r in plan.of_type(ASSIGNMENT)}


def platform(env: str) -> dict:
    return copy.deepcopy(yaml.safe_load((REPO / f"Pulumi.{env}.yaml").read_text())["config"]["aiinfra:platform"])


@pytest.mark.parametrize("env", ["dev", "test", "prd"])
def test_assignments_follow_config_on_the_environments_group(env):
    plan = bootstrap(env)
    configured = platform(env)["policyGuardrails"]["assignments"]
    found = assignments(plan)
    assert set(found) == {k for k, effect in configured.items() if effect != "Disabled"}
    (group,) = plan.of_type("azure-native:resources:ResourceGroup")
    for key, inputs in found.items():
        policy = BUILT_IN_POLICIES[key]
        assert inputs["scope"] == group.id
        assert (
            inputs["policyDefinitionId"] == f"/providers/Microsoft.Authorization/policyDefinitions/"
            f"{policy.definition_guid}"
        )
        assert len(inputs["policyAssignmentName"]) <= 64
        if policy.effects:
            assert inputs["parameters"] == {"effect": {"value": configured[key]}}
            assert inputs["enforcementMode"] == "Default"
        else:
            assert "parameters" not in inputs
            assert inputs["enforcementMode"] == ("DoNotEnforce" if configured[key] == "Audit" else "Default")


def test_environments_differ_by_config():
    dev, prd = assignments(bootstrap("dev")), assignments(bootstrap("prd"))
    assert dev["storagePublicNetwork"]["parameters"]["effect"]["value"] == "Audit"
    assert prd["storagePublicNetwork"]["parameters"]["effect"]["value"] == "Deny"
    assert dev["nicNoPublicIp"]["enforcementMode"] == "DoNotEnforce"
    assert prd["nicNoPublicIp"]["enforcementMode"] == "Default"
    assert {"mlWorkspaceCmk", "storageCmk", "containerRegistryCmk"} <= set(prd)
    assert not {"mlWorkspaceCmk", "storageCmk", "containerRegistryCmk"} & set(dev)
    assert prd["storageCmk"]["parameters"]["effect"]["value"] == "Audit"


def test_every_guardrail_names_a_real_pack_rule_or_the_compute_instance_rules():
    names = {r.name for r in RULES}
    for key, policy in BUILT_IN_POLICIES.items():
        assert policy.mirrors in names or policy.mirrors.startswith("compute instance rules"), key
        assert len(policy.definition_guid) == 36


def test_the_deployer_cannot_assign_or_exempt_policy():
    plan = bootstrap("prd")
    for role in plan.of_type(ROLE_DEFINITION):
        for permission in role.inputs["permissions"]:
            assert not [a for a in permission["actions"] if "policy" in a.lower()]


def test_cost_anomaly_alert_is_a_daily_insight_alert_on_the_subscription():
    plan = bootstrap("prd")
    (action,) = plan.of_type(SCHEDULED_ACTION)
    inputs = action.inputs
    subscription = plan.stack_outputs["subscriptionId"]
    assert inputs["kind"] == "InsightAlert"
    assert inputs["scope"] == f"subscriptions/{subscription}"
    assert inputs["viewId"] == (
        f"/subscriptions/{subscription}/providers/Microsoft.CostManagement/views/ms:DailyAnomalyByResourceGroup"
    )
    assert inputs["notification"]["to"] == ["ml-platform@contoso.com", "finops@contoso.com"]
    assert len(inputs["notification"]["subject"]) <= 70
    assert inputs["schedule"]["frequency"] == "Daily" and inputs["status"] == "Enabled"


def test_the_platform_stack_assigns_no_policy(plan_of):
    for env in ("dev", "prd"):
        plan = plan_of(env)
        assert not plan.of_type(ASSIGNMENT) and not plan.of_type(SCHEDULED_ACTION)


@pytest.mark.parametrize(
    "assignments_,expected",
    [
        (
            {"storageCmk": "Deny"},
            "policyGuardrails.assignments: storageCmk: 'Storage accounts should use customer-managed "
            "key for encryption' does not take effect Deny; it takes Audit, Disabled",
        ),
        ({"storagePublicIp": "Deny"}, "policyGuardrails.assignments: 'storagePublicIp' is not a built-in policy"),
        (
            {"storagePublicNetwork": "Modify"},
            "policyGuardrails.assignments.storagePublicNetwork: Input should be 'Audit', 'Deny' or 'Disabled'",
        ),
    ],
)
def test_config_errors_name_the_key(assignments_, expected):
    config = platform("prd")
    config["policyGuardrails"]["assignments"] = assignments_
    with pytest.raises(ConfigError) as error:
        parse_platform_config(config, "Pulumi.prd.yaml")
    assert f"aiinfra:platform.{expected}" in str(error.value)


@pytest.mark.parametrize("env,containers", [("dev", {"raw"}), ("test", set()), ("prd", {"curated"})])
def test_deployer_may_grant_only_the_data_roles_on_each_datastore_container(env, containers):
    import re

    from aiinfra.components._datastore import DATA_ROLES
    from aiinfra.components.interfaces import BUILTIN_ROLES

    plan = bootstrap(env)
    deploy = next(r for r in plan.of_type("azuread:index/servicePrincipal:ServicePrincipal") if "-deploy-" in r.name)
    grants = [r for r in plan.of_type("azure-native:authorization:RoleAssignment") if "-datastore-" in r.name]
    assert {g.inputs["scope"].rsplit("/containers/", 1)[1] for g in grants} == containers
    for grant in grants:
        assert grant.inputs["principalId"] == deploy.outputs["objectId"]
        assert grant.inputs["roleDefinitionId"].endswith(BUILTIN_ROLES["Role Based Access Control Administrator"])
        assert "/blobServices/default/containers/" in grant.inputs["scope"]
        condition = grant.inputs["condition"]
        assert grant.inputs["conditionVersion"] == "2.0"
        allowed = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", condition))
        assert allowed == {BUILTIN_ROLES[r] for r in DATA_ROLES}
        assert condition.count("ForAnyOfAnyValues:GuidEquals") == 2, "granting and revoking are both constrained"


def _complies(key: str, resources) -> list[str]:
    """Our reading of each denying definition's policy rule (Azure/azure-policy), applied to a plan's resources."""

    def of(token):
        return [r for r in resources if r.type == f"azure-native:{token}"]

    bad: list[str] = []
    if key == "mlComputeLocalAuth":
        bad = [
            r.name
            for r in of("machinelearningservices:Compute")
            if r.inputs["properties"].get("disableLocalAuth") is not True
        ]
    elif key == "mlComputeInstanceIdleShutdown":
        bad = [
            r.name
            for r in of("machinelearningservices:Compute")
            if r.inputs["properties"]["computeType"] == "ComputeInstance"
            and not r.inputs["properties"]["properties"].get("idleTimeBeforeShutdown")
        ]
    elif key == "mlWorkspacePublicNetwork":
        bad = [
            r.name for r in of("machinelearningservices:Workspace") if r.inputs.get("publicNetworkAccess") != "Disabled"
        ]
    elif key == "storagePublicNetwork":
        bad = [r.name for r in of("storage:StorageAccount") if r.inputs.get("publicNetworkAccess") != "Disabled"]
    elif key == "keyVaultPublicNetwork":
        bad = [
            r.name
            for r in of("keyvault:Vault")
            if str(r.inputs["properties"].get("publicNetworkAccess", "")).lower() != "disabled"
        ]
    elif key == "containerRegistryPublicNetwork":
        bad = [r.name for r in of("containerregistry:Registry") if r.inputs.get("publicNetworkAccess") != "Disabled"]
    elif key == "batchPublicNetwork":
        bad = [r.name for r in of("batch:BatchAccount") if r.inputs.get("publicNetworkAccess") != "Disabled"]
    elif key == "aksPrivateCluster":
        bad = [
            r.name
            for r in of("containerservice:ManagedCluster")
            if (r.inputs.get("apiServerAccessProfile") or {}).get("enablePrivateCluster") is not True
        ]
    elif key == "nicNoPublicIp":
        bad = [
            r.name
            for r in of("network:NetworkInterface")
            if any(c.get("publicIPAddress") for c in r.inputs.get("ipConfigurations", []))
        ]
    else:
        raise AssertionError(f"{key}: teach this test the definition's rule before denying with it")
    return bad


@pytest.mark.parametrize("env", ["dev", "test", "prd"])
def test_no_denying_guardrail_refuses_our_own_platform(env, plan_of):
    plan = plan_of(env)
    denied = [k for k, effect in platform(env)["policyGuardrails"]["assignments"].items() if effect == "Deny"]
    assert denied
    for key in denied:
        assert _complies(key, plan.resources) == [], f"{env}: {key} (Deny) would refuse these"


def test_the_local_auth_definition_judges_every_compute_type_the_attached_aks_compute_too(plan_of):
    """mlComputeLocalAuth denies any compute without disableLocalAuth: the Kubernetes attach sets it as well."""
    plan = plan_of("prd")
    computes = plan.of_type("azure-native:machinelearningservices:Compute")
    kinds = {r.inputs["properties"]["computeType"] for r in computes}
    assert {"AmlCompute", "ComputeInstance", "Kubernetes"} <= kinds
    assert _complies("mlComputeLocalAuth", plan.resources) == []

"""AiServices used from another team's program (tests/ai/program): hand-built shared services, an AI Services
account with a provisioned deployment, a plain azure-native ML workspace; assertions on the recorded plan, its cost
and the pack's verdict."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import one, run_here

from aiinfra.engine import Plan
from aiinfra.engine.analyzer import analyze_plan
from aiinfra.engine.cost import estimate, load_price_table

PROGRAM = Path(__file__).resolve().parent / "program"
REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "azure-native:cognitiveservices:Account"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_here(PROGRAM, "dev")


def test_ai_services_kind_gets_its_own_name_and_the_given_allow_list(plan):
    account = one(plan, ACCOUNT)
    assert account.inputs["kind"] == "AIServices"
    assert account.inputs["accountName"].startswith("ais-fabrikam-qa-assist-")
    assert account.inputs["properties"]["allowedFqdnList"] == ["srch-fab.search.windows.net"]


def test_a_key_without_a_version_is_passed_without_one(plan):
    keys = one(plan, ACCOUNT).inputs["properties"]["encryption"]["keyVaultProperties"]
    assert keys == {
        "keyName": "openai",
        "keyVaultUri": "https://kv-fab.vault.azure.net/",
        "identityClientId": "6d1c2b3a-0000-4000-8000-000000000001",
    }


def test_plain_workspace_gets_the_rule_and_an_entra_id_connection(plan):
    account = one(plan, ACCOUNT)
    workspace = one(plan, "azure-native:machinelearningservices:Workspace")
    rule = workspace.inputs["managedNetwork"]["outboundRules"]["genai"]
    assert (
        rule["destination"]["serviceResourceId"] == account.id and rule["destination"]["subresourceTarget"] == "account"
    )
    connection = one(plan, "azure-native:machinelearningservices:WorkspaceConnection")
    assert connection.inputs["connectionName"] == "genai" and connection.inputs["properties"]["authType"] == "AAD"
    identity = one(plan, "azure-native:managedidentity:UserAssignedIdentity", "fab-mlw-id")
    grants = [
        r
        for r in plan.of_type("azure-native:authorization:RoleAssignment")
        if r.inputs["principalId"] == identity.outputs["principalId"]
    ]
    assert len(grants) == 1 and grants[0].urn in connection.dependencies


def test_cost_prices_ptus_per_hour_and_tokens_as_usage(plan):
    items = {i.label: i for i in estimate(plan, load_price_table()).items if "Azure OpenAI" in i.label}
    ptu = items["Azure OpenAI deployment gpt-ptu: gpt-4o 2024-11-20, 25 PTU DataZoneProvisionedManaged"]
    assert ptu.idle_hourly == ptu.max_hourly == pytest.approx(25 * 1.1)
    [tokens] = [i for label, i in items.items() if "usage-based" in label]
    assert tokens.idle_hourly == 0.0 and tokens.max_hourly == pytest.approx(100 * 60 * 0.00002)


@pytest.mark.integration  # the pack runs over gRPC in its own process
def test_prd_pack_finds_nothing_on_the_account_and_its_deployments(plan):
    report = analyze_plan(plan, REPO / "policies", REPO / "policies" / "config" / "prd.json")
    # allowed-locations is our environments' data residency (westus3/eastus in prd), not a property of the account:
    # this team deploys in swedencentral on purpose.
    ours = [v for v in report.violations if "cognitiveservices" in v.urn and v.policy != "allowed-locations"]
    assert ours == [], ours

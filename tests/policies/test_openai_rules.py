"""openai-deployment-content-filter through the pack's gRPC server (AnalyzeStack), on a stranger's plain
azure-native resources: a custom blocking policy passes; no policy, a built-in one, a missing one, a loose or
non-blocking one are refused; preview-time unknown names resolve through property dependencies."""

from __future__ import annotations

import copy

import pytest
from pack_client import Pack, StackResource, of

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
RULE = "openai-deployment-content-filter"
DEPLOYMENT = "azure-native:cognitiveservices:Deployment"
RAI = "azure-native:cognitiveservices:RaiPolicy"


def policy(
    name: str = "strict",
    threshold: str = "Medium",
    mode: str = "Default",
    blocking: bool = True,
    account: str = "oai-team",
) -> StackResource:
    filters = [
        {"name": c, "source": s, "enabled": True, "blocking": blocking, "severityThreshold": threshold}
        for c in ("Hate", "Sexual", "Violence", "Selfharm")
        for s in ("Prompt", "Completion")
    ]
    return StackResource(
        RAI,
        f"rai-{name}",
        {
            "accountName": account,
            "resourceGroupName": "rg",
            "raiPolicyName": name,
            "properties": {"mode": mode, "contentFilters": filters},
        },
    )


def deployment(
    rai: str | None = "strict",
    name: str = "gpt",
    account: str = "oai-team",
    property_deps: dict[str, list[str]] | None = None,
) -> StackResource:
    props: dict = {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}}
    if rai is not None:
        props["raiPolicyName"] = rai
    return StackResource(
        DEPLOYMENT,
        name,
        {"accountName": account, "resourceGroupName": "rg", "deploymentName": name, "properties": props},
        property_dependencies=property_deps,
    )


@pytest.fixture
def prd_pack(pack: Pack) -> Pack:
    pack.configure("prd")
    return pack


def test_custom_blocking_policy_passes(prd_pack):
    assert of(RULE, prd_pack.analyze_stack([policy(), deployment()])) == []


@pytest.mark.parametrize(
    "resources, message",
    [
        ([deployment(rai=None)], "raiPolicyName is not set"),
        ([deployment(rai="Microsoft.DefaultV2")], "is the built-in 'Microsoft.DefaultV2'"),
        ([deployment(rai="elsewhere")], "'elsewhere' is not a RAI policy in this stack"),
        ([policy(threshold="High"), deployment()], "blocks at 'High', looser than Medium"),
        ([policy(mode="Asynchronous_filter"), deployment()], "mode is 'Asynchronous_filter'"),
        ([policy(blocking=False), deployment()], "is not enabled and blocking"),
        ([policy(account="oai-other"), deployment()], "is not a RAI policy in this stack"),
    ],
)
def test_unfiltered_deployments_are_mandatory_violations(prd_pack, resources, message):
    found = of(RULE, prd_pack.analyze_stack(resources))
    assert len(found) == 1 and message in found[0].message, found
    assert found[0].level == "mandatory"
    assert found[0].urn == resources[-1].urn


def test_a_policy_missing_a_category_is_named(prd_pack):
    partial = policy()
    partial.props = copy.deepcopy(partial.props)
    partial.props["properties"]["contentFilters"] = [
        f for f in partial.props["properties"]["contentFilters"] if f["name"] != "Selfharm"
    ]
    [found] = of(RULE, prd_pack.analyze_stack([partial, deployment()]))
    assert "no Selfharm filter on prompts" in found.message and "no Selfharm filter on completions" in found.message


def test_unknown_name_at_preview_resolves_through_property_dependencies(prd_pack):
    loose = policy(threshold="High")
    found = of(
        RULE, prd_pack.analyze_stack([loose, deployment(rai=UNKNOWN, property_deps={"properties": [loose.urn]})])
    )
    assert len(found) == 1 and "looser than Medium" in found[0].message
    assert of(RULE, prd_pack.analyze_stack([deployment(rai=UNKNOWN)])) == []  # nothing to judge yet


def test_thresholds_and_outside_policies_are_configurable(pack):
    pack.configure("prd", **{RULE: {"loosestSeverityThreshold": "High", "allowPoliciesOutsideStack": True}})
    assert of(RULE, pack.analyze_stack([policy(threshold="High"), deployment()])) == []
    assert of(RULE, pack.analyze_stack([deployment(rai="elsewhere")])) == []


# ---- deployability: serialized deployments, offered model/type/region/size ---------------------------------------

ACCOUNT = "azure-native:cognitiveservices:Account"


def account(name: str = "oai-team", location: str = "westus3") -> StackResource:
    return StackResource(
        ACCOUNT, name, {"accountName": name, "resourceGroupName": "rg", "location": location, "kind": "OpenAI"}
    )


def sized(
    name: str,
    sku: str,
    capacity: int,
    model: str = "gpt-4o",
    version: str = "2024-11-20",
    deps: tuple[str, ...] = (),
    property_deps: dict[str, list[str]] | None = None,
    account_name: object = "oai-team",
) -> StackResource:
    return StackResource(
        DEPLOYMENT,
        name,
        {
            "accountName": account_name,
            "resourceGroupName": "rg",
            "deploymentName": name,
            "sku": {"name": sku, "capacity": capacity},
            "properties": {"model": {"format": "OpenAI", "name": model, "version": version}, "raiPolicyName": "strict"},
        },
        dependencies=deps,
        property_dependencies=property_deps,
    )


def test_concurrent_deployments_on_one_account_are_flagged(prd_pack):
    first, second = sized("a", "GlobalStandard", 10), sized("b", "GlobalStandard", 10)
    [found] = of("openai-deployments-serialized", prd_pack.analyze_stack([account(), policy(), first, second]))
    assert found.urn == second.urn and "same time as a" in found.message and found.level == "mandatory"
    chained = sized("b", "GlobalStandard", 10, deps=(first.urn,))
    assert of("openai-deployments-serialized", prd_pack.analyze_stack([account(), policy(), first, chained])) == []
    other = sized("c", "GlobalStandard", 10, account_name="oai-other")
    assert of("openai-deployments-serialized", prd_pack.analyze_stack([account(), policy(), first, other])) == []


def test_unknown_account_names_group_through_the_wiring(prd_pack):
    acct = account()
    wiring = {"accountName": [acct.urn]}
    first = sized("a", "GlobalStandard", 10, account_name=UNKNOWN, property_deps=wiring)
    second = sized("b", "GlobalStandard", 10, account_name=UNKNOWN, property_deps=wiring)
    assert len(of("openai-deployments-serialized", prd_pack.analyze_stack([acct, policy(), first, second]))) == 1


@pytest.mark.parametrize(
    "resources, message",
    [
        (
            [account(location="japaneast"), sized("a", "DataZoneStandard", 10)],
            "gpt-4o 2024-11-20 is not offered as DataZoneStandard in japaneast",
        ),
        ([sized("a", "GlobalProvisionedManaged", 17)], "needs at least 15 PTU, in steps of 5"),
        (
            [account(), sized("a", "ProvisionedManaged", 10, model="text-embedding-3-large", version="1")],
            "is not offered as ProvisionedManaged",
        ),
    ],
)
def test_deployments_azure_cannot_create_are_flagged(prd_pack, resources, message):
    [found] = of("openai-deployment-offered", prd_pack.analyze_stack([policy(), *resources]))
    assert message in found.message and found.level == "mandatory"


def test_offered_or_uncatalogued_deployments_pass_and_the_rules_are_advisory_by_default(pack):
    pack.configure(None)
    fine = [
        account(),
        policy(),
        sized("a", "GlobalStandard", 10),
        sized("b", "GlobalStandard", 10, model="gpt-next", version="1"),
    ]
    assert of("openai-deployment-offered", pack.analyze_stack(fine)) == []
    [found] = of("openai-deployments-serialized", pack.analyze_stack(fine))
    assert found.level == "advisory"

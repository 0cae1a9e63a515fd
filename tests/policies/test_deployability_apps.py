"""Container Apps deployability rules (policies/deployability_apps.py) and the internal-ingress pattern of
`container-apps-internal`, through the pack's gRPC server like the engine; programs in other styles (plain
azure-native, images pushed with docker-build, secrets of a vault made elsewhere, preview-time unknowns)."""

from __future__ import annotations

from typing import Any

import pytest
from pack_client import ENVIRONMENTS, Pack, StackResource, of

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
APP = "azure-native:app:ContainerApp"
ENV = "azure-native:app:ManagedEnvironment"
REGISTRY = "azure-native:containerregistry:Registry"
VAULT = "azure-native:keyvault:Vault"
SECRET = "azure-native:keyvault:Secret"
IMAGE_RULE = "container-app-image-available"
SECRET_RULE = "container-app-secret-available"
INTERNAL = "container-apps-internal"


def container_app(
    image: str = "mcr.microsoft.com/k8se/quickstart:latest",
    secrets: list[dict[str, Any]] | None = None,
    name: str = "scorer",
    property_deps: dict[str, list[str]] | None = None,
) -> StackResource:
    configuration: dict[str, Any] = {"ingress": {"external": False, "targetPort": 8080}}
    if secrets is not None:
        configuration["secrets"] = secrets
    return StackResource(
        APP,
        name,
        {
            "containerAppName": f"ca-{name}",
            "resourceGroupName": "rg-apps",
            "configuration": configuration,
            "template": {"containers": [{"name": name, "image": image}]},
        },
        property_dependencies=property_deps,
    )


def registry(name: str = "crteam", login_server: str | None = "crteam.azurecr.io") -> StackResource:
    props = {"registryName": name, "resourceGroupName": "rg-apps", "sku": {"name": "Premium"}}
    if login_server:
        props["loginServer"] = login_server
    return StackResource(REGISTRY, name, props)


def vault(name: str = "kv-team") -> StackResource:
    return StackResource(VAULT, name, {"vaultName": name, "resourceGroupName": "rg-apps"})


def kv_secret(name: str, vault_name: str = "kv-team") -> StackResource:
    return StackResource(
        SECRET,
        f"secret-{name}",
        {
            "secretName": name,
            "vaultName": vault_name,
            "resourceGroupName": "rg-apps",
            "properties": {"value": "[secret]"},
        },
    )


def kv_ref(secret: str, vault_name: str = "kv-team") -> dict[str, Any]:
    return {
        "name": secret.lower(),
        "keyVaultUrl": f"https://{vault_name}.vault.azure.net/secrets/{secret}",
        "identity": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id",
    }


@pytest.fixture(autouse=True)
def _prd(pack: Pack) -> None:
    pack.configure("prd")


# --- images ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_an_image_in_the_registry_the_program_creates_is_flagged(pack: Pack, env: str) -> None:
    pack.configure(env)
    app = container_app("crteam.azurecr.io/models/scorer:1.0")
    found = of(IMAGE_RULE, pack.analyze_stack([registry(), app]))
    assert [d.urn for d in found] == [app.urn]
    assert found[0].level == pack.levels[IMAGE_RULE] == "mandatory"
    assert "MANIFEST_UNKNOWN" in found[0].message and "which this program creates" in found[0].message


def test_the_rule_is_advisory_by_default(pack: Pack) -> None:
    pack.configure(None)
    found = of(IMAGE_RULE, pack.analyze_stack([registry(), container_app("crteam.azurecr.io/models/scorer:1.0")]))
    assert [d.level for d in found] == ["advisory"]


def test_a_public_bootstrap_image_passes(pack: Pack) -> None:
    assert not of(IMAGE_RULE, pack.analyze_stack([registry(), container_app()]))


def test_an_image_in_a_registry_made_elsewhere_needs_declaring(pack: Pack) -> None:
    app = container_app("crshared.azurecr.io/team/api:2")
    [found] = of(IMAGE_RULE, pack.analyze_stack([app]))
    assert "registry crshared.azurecr.io" in found.message
    pack.configure("prd", **{IMAGE_RULE: {"existingImages": ["crshared.azurecr.io/team/*"]}})
    assert not of(IMAGE_RULE, pack.analyze_stack([app]))


def test_an_image_the_program_pushes_passes(pack: Pack) -> None:
    pushed = StackResource(
        "docker-build:index:Image", "scorer-image", {"tags": ["crteam.azurecr.io/models/scorer:1.0"], "push": True}
    )
    assert not of(
        IMAGE_RULE, pack.analyze_stack([registry(), pushed, container_app("crteam.azurecr.io/models/scorer:1.0")])
    )


def test_registry_named_but_login_server_not_yet_known_is_matched_by_name(pack: Pack) -> None:
    found = of(
        IMAGE_RULE,
        pack.analyze_stack([registry(login_server=None), container_app("crteam.azurecr.io/models/scorer:1.0")]),
    )
    assert len(found) == 1


def test_unknown_image_built_from_a_new_registry_is_flagged_through_property_dependencies(pack: Pack) -> None:
    new = registry(login_server=UNKNOWN)
    app = container_app(UNKNOWN, property_deps={"template": [new.urn]})
    [found] = of(IMAGE_RULE, pack.analyze_stack([new, app]))
    assert "login server of registry crteam" in found.message
    unrelated = container_app(UNKNOWN, name="other")
    assert not of(IMAGE_RULE, pack.analyze_stack([new, unrelated]))


# --- Key Vault secrets ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_secret_nobody_creates_is_flagged(pack: Pack, env: str) -> None:
    pack.configure(env)
    app = container_app(secrets=[kv_ref("hf-token")])
    found = of(SECRET_RULE, pack.analyze_stack([vault(), app]))
    assert [d.urn for d in found] == [app.urn]
    assert found[0].level == "mandatory"
    assert "Unable to get value using Managed identity" in found[0].message


def test_a_created_secret_passes_and_matching_ignores_case(pack: Pack) -> None:
    assert not of(
        SECRET_RULE, pack.analyze_stack([vault(), kv_secret("HF-Token"), container_app(secrets=[kv_ref("hf-token")])])
    )


def test_a_secret_of_another_vault_with_the_same_name_does_not_count(pack: Pack) -> None:
    found = of(
        SECRET_RULE,
        pack.analyze_stack([vault(), kv_secret("hf-token", "kv-other"), container_app(secrets=[kv_ref("hf-token")])]),
    )
    assert len(found) == 1


def test_a_declared_existing_secret_passes(pack: Pack) -> None:
    pack.configure("prd", **{SECRET_RULE: {"existingSecrets": ["kv-sec/*"]}})
    assert not of(SECRET_RULE, pack.analyze_stack([container_app(secrets=[kv_ref("Api-Key", "kv-sec")])]))
    assert of(SECRET_RULE, pack.analyze_stack([container_app(secrets=[kv_ref("Api-Key", "kv-team")])]))


def test_plain_secret_values_are_not_this_rules_business(pack: Pack) -> None:
    app = container_app(secrets=[{"name": "conn", "value": "[secret]"}])
    assert not of(SECRET_RULE, pack.analyze_stack([app]))


def test_unknown_vault_url_is_matched_by_secret_name(pack: Pack) -> None:
    unknown_ref = {"name": "hf-token", "keyVaultUrl": UNKNOWN, "identity": "id"}
    assert not of(
        SECRET_RULE, pack.analyze_stack([vault(), kv_secret("hf-token"), container_app(secrets=[unknown_ref])])
    )
    [found] = of(SECRET_RULE, pack.analyze_stack([vault(), container_app(secrets=[unknown_ref])]))
    assert "no keyvault:Secret named 'hf-token'" in found.message


def test_exempted_app_is_skipped(pack: Pack) -> None:
    pack.configure("prd", **{SECRET_RULE: {"exemptions": [{"resource": "scorer", "reason": "secret made by SecOps"}]}})
    assert not of(SECRET_RULE, pack.analyze_stack([vault(), container_app(secrets=[kv_ref("hf-token")])]))


# --- container-apps-internal: VNet-wide ingress restricted to the callers is the documented pattern ---------------


def restricted(*rules: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "configuration": {
            "ingress": {
                "external": True,
                "targetPort": 8080,
                "ipSecurityRestrictions": [
                    {"name": n, "ipAddressRange": cidr, "action": action} for n, cidr, action in rules
                ],
            }
        }
    }


@pytest.mark.parametrize(
    "props, flagged, why",
    [
        (
            restricted(("aks", "10.30.0.0/18", "Allow"), ("batch", "10.30.96.0/19", "Allow")),
            False,
            "VNet-wide ingress allowed to the caller subnets only",
        ),
        ({"configuration": {"ingress": {"external": True}}}, True, "external ingress without IP rules"),
        (restricted(("all", "0.0.0.0/0", "Allow")), True, "an Allow-all rule restricts nothing"),
        (restricted(("bad", "203.0.113.0/24", "Deny")), True, "Deny rules admit everyone else"),
        ({"configuration": {"ingress": {"external": False}}}, False, "environment-only ingress"),
    ],
)
def test_app_ingress(pack: Pack, props: dict[str, Any], flagged: bool, why: str) -> None:
    found = of(INTERNAL, pack.analyze(APP, props))
    assert bool(found) is flagged, why


def test_a_public_environment_is_still_caught(pack: Pack) -> None:
    found = of(
        INTERNAL,
        pack.analyze(ENV, {"vnetConfiguration": {"internal": False, "infrastructureSubnetId": "/subnets/aca"}}),
    )
    assert found and found[0].level == "mandatory"
    assert not of(
        INTERNAL, pack.analyze(ENV, {"vnetConfiguration": {"internal": True, "infrastructureSubnetId": "/subnets/aca"}})
    )

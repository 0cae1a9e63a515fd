"""Issue 12 review's deployability rules (policies/deployability_ml2.py) through the pack's gRPC server: a registry
encrypted with a customer-managed key, in programs written in other styles (key URI known, or only wired to a Key)."""

from __future__ import annotations

from typing import Any

import pytest
from pack_client import ENVIRONMENTS, Pack, StackResource, of

ACR = "azure-native:containerregistry:Registry"
VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
IDENTITY_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/cmk"

IDENTITY_RULE = "acr-cmk-user-assigned-identity"
TRUSTED_RULE = "acr-cmk-key-vault-trusted-services"


def registry(
    identity: dict[str, Any] | None = None,
    key_identifier: Any = "https://kv-cmk.vault.azure.net/keys/cmk",
    **extra: Any,
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "registryName": "cracme",
        "resourceGroupName": "rg",
        "sku": {"name": "Premium"},
        "encryption": {
            "status": "enabled",
            "keyVaultProperties": {"keyIdentifier": key_identifier, "identity": "00000000-0000-0000-0000-000000000001"},
        },
        **extra,
    }
    if identity is not None:
        props["identity"] = identity
    return props


USER_ASSIGNED = {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY_ID: {}}}


def vault(bypass: str | None, public: str = "Disabled", name: str = "kv-cmk") -> StackResource:
    acls: dict[str, Any] = {"defaultAction": "Deny"}
    if bypass is not None:
        acls["bypass"] = bypass
    return StackResource(
        VAULT,
        name,
        {
            "vaultName": name,
            "resourceGroupName": "rg",
            "properties": {"publicNetworkAccess": public, "networkAcls": acls, "enableRbacAuthorization": True},
        },
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_cmk_registry_without_any_identity_is_flagged(pack: Pack, env: str) -> None:
    pack.configure(env)
    found = of(IDENTITY_RULE, pack.analyze(ACR, registry(None)))
    assert found and found[0].level == "mandatory" and "user-assigned" in found[0].message


def test_a_cmk_registry_switched_to_its_system_assigned_identity_passes(pack: Pack) -> None:
    """Review finding 9: Learn ("Rotate and revoke a customer-managed key", ACR) lets an existing registry enable and
    use its system-assigned identity for the key; the properties cannot tell that from a creation, so no finding."""
    pack.configure("prd")
    assert not of(IDENTITY_RULE, pack.analyze(ACR, registry({"type": "SystemAssigned"})))
    unnamed = registry({"type": "SystemAssigned"})
    del unnamed["encryption"]["keyVaultProperties"]["identity"]
    assert of(IDENTITY_RULE, pack.analyze(ACR, unnamed))


def test_a_cmk_registry_without_the_identitys_client_id_is_flagged(pack: Pack) -> None:
    pack.configure("prd")
    props = registry(USER_ASSIGNED)
    del props["encryption"]["keyVaultProperties"]["identity"]
    assert of(IDENTITY_RULE, pack.analyze(ACR, props))


def test_a_user_assigned_cmk_registry_and_a_plain_registry_pass(pack: Pack) -> None:
    pack.configure("prd")
    assert not of(IDENTITY_RULE, pack.analyze(ACR, registry(USER_ASSIGNED)))
    both = {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {IDENTITY_ID: {}}}
    assert not of(IDENTITY_RULE, pack.analyze(ACR, registry(both)))
    plain = {"registryName": "cr", "resourceGroupName": "rg", "sku": {"name": "Premium"}}
    assert not of(IDENTITY_RULE, pack.analyze(ACR, plain))


def test_the_identity_rule_is_advisory_by_default(pack: Pack) -> None:
    pack.configure(None)
    found = of(IDENTITY_RULE, pack.analyze(ACR, registry(None)))
    assert found and found[0].level == "advisory"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_firewalled_public_vault_that_admits_no_trusted_service_is_flagged_by_key_uri(pack: Pack, env: str) -> None:
    pack.configure(env)
    acr = StackResource(ACR, "acr", registry(USER_ASSIGNED))
    found = of(TRUSTED_RULE, pack.analyze_stack([vault("None", public="Enabled"), acr]))
    assert [d.urn for d in found] == [acr.urn] and found[0].level == "mandatory"
    assert "trusted" in found[0].message


def test_a_vault_with_public_access_disabled_admits_trusted_services_whatever_the_bypass(pack: Pack) -> None:
    """Review finding 9: the Key Vault REST spec, VaultProperties.publicNetworkAccess: 'disabled' blocks all traffic
    but private-endpoint and trusted-service traffic, and "will override the set firewall rules"."""
    pack.configure("prd")
    acr = StackResource(ACR, "acr", registry(USER_ASSIGNED))
    assert not of(TRUSTED_RULE, pack.analyze_stack([vault("None", public="Disabled"), acr]))


def test_the_vault_is_found_through_the_key_wiring_when_the_uri_is_unknown(pack: Pack) -> None:
    """Our own style: the key URI is an output of a keyvault.Key whose vaultName is the vault's output."""
    pack.configure("prd")
    closed = vault("None", public="Enabled", name="kv-other")
    key = StackResource(
        KEY, "cmk", {"keyName": "cmk", "vaultName": UNKNOWN}, property_dependencies={"vaultName": [closed.urn]}
    )
    acr = StackResource(
        ACR, "acr", registry(USER_ASSIGNED, key_identifier=UNKNOWN), property_dependencies={"encryption": [key.urn]}
    )
    assert of(TRUSTED_RULE, pack.analyze_stack([closed, key, acr]))


@pytest.mark.parametrize("bypass,public", [("AzureServices", "Disabled"), (None, "Disabled"), ("None", "Enabled")])
def test_trusted_services_or_an_open_vault_pass(pack: Pack, bypass: str | None, public: str) -> None:
    pack.configure("prd")
    open_vault = vault(bypass, public)
    if public == "Enabled":
        open_vault.props["properties"]["networkAcls"]["defaultAction"] = "Allow"
    acr = StackResource(ACR, "acr", registry(USER_ASSIGNED))
    assert not of(TRUSTED_RULE, pack.analyze_stack([open_vault, acr]))


def test_our_stacks_pass_both_rules(plan_of) -> None:
    """SharedServices' registry: user-assigned CMK identity, its vault closed but admitting trusted services."""
    plan = plan_of("prd")
    [registry_] = plan.of_type(ACR)
    assert registry_.inputs["identity"]["type"] == "UserAssigned"
    assert registry_.inputs["encryption"]["keyVaultProperties"]["identity"]
    cmk_vault = next(v for v in plan.of_type(VAULT) if v.name == "shared-kv-cmk")
    assert cmk_vault.inputs["properties"]["networkAcls"]["bypass"] == "AzureServices"
    assert cmk_vault.inputs["properties"]["publicNetworkAccess"] == "Disabled"

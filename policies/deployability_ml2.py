"""Deployability of an Azure ML platform, second set (issue 12 review): a container registry encrypted with a
customer-managed key.

- the registry must reach the key with a managed identity named in its encryption settings: a customer-managed key can
  only be enabled when the registry is created, through a user-assigned identity; later the registry may switch key
  access to its system-assigned identity (Learn, "Overview of customer-managed keys" and "Rotate and revoke a
  customer-managed key"). A resource's properties do not say whether it is being created, so the rule flags only what
  is wrong either way: no identity at all, or no identity named for the key;
- a key vault whose firewall denies by default (`networkAcls.defaultAction: Deny`) while public network access is on
  must let trusted Azure services through (`networkAcls.bypass` not `None`), or the registry's creation fails on the
  key. With `publicNetworkAccess: Disabled` the vault admits private-endpoint and trusted-service traffic whatever the
  firewall rules say (the Key Vault REST spec's VaultProperties.publicNetworkAccess: it "will override the set
  firewall rules"), so that vault passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, Severity

from ._props import CONTAINER_REGISTRY, KEY_VAULT, KEY_VAULT_KEY, get, mapping, same
from ._rule import UNKNOWN, Resource, Rule, known
from .stack import _text, _type  # one reading of a stack resource's type and string properties

CONCERN = "deployability"

_ACR_CMK = "Microsoft Learn: Overview of customer-managed keys (Azure Container Registry)"
_ACR_ENABLE = "Microsoft Learn: Enable a customer-managed key (Azure Container Registry), 'Enable trusted services'"


def _encrypted(props: Mapping[str, Any]) -> bool:
    return same(get(props, "encryption", "status"), "enabled")


def check_acr_cmk_identity(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    if not _encrypted(resource.props):
        return
    if get(resource.props, "identity", "type") is None:
        yield (
            "registry encryption uses a customer-managed key but the registry has no managed identity: the key can "
            "only be enabled at creation, through a user-assigned identity."
        )
    if get(resource.props, "encryption", "keyVaultProperties", "identity") is None:
        yield (
            "registry encryption names no identity (encryption.keyVaultProperties.identity: the client id of the "
            "user-assigned identity at creation), so the registry cannot read the key."
        )
    # A system-assigned identity alone is not flagged: Learn lets an existing registry move key access to it, and
    # nothing in the properties tells a creation (which needs the user-assigned identity) from that later switch.


def _vault_name_from_key_uri(uri: Any) -> str | None:
    """`https://<vault>.vault.azure.net/keys/<key>[/<version>]` -> `<vault>`."""
    if not isinstance(uri, str) or "://" not in uri:
        return None
    host = uri.split("://", 1)[1].split("/", 1)[0]
    return host.split(".", 1)[0].lower() or None


def _vault_of(registry: PolicyResource, vaults: list[PolicyResource]) -> PolicyResource | None:
    """The vault holding the registry's key: by the key URI's host, else through the program's wiring (the registry's
    `encryption` depends on a Key whose `vaultName` is a vault of the program)."""
    name = _vault_name_from_key_uri(
        known(lambda: get(registry.props, "encryption", "keyVaultProperties", "keyIdentifier"))
    )
    if name:
        return next((v for v in vaults if (_text(v, "vaultName") or "").lower() == name), None)
    for key in registry.property_dependencies.get("encryption", []):
        if _type(key) != KEY_VAULT_KEY:
            continue
        wired = [v for v in key.property_dependencies.get("vaultName", []) if _type(v) == KEY_VAULT]
        if wired:
            return wired[0]
        vault_name = (_text(key, "vaultName") or "").lower()
        return next((v for v in vaults if (_text(v, "vaultName") or "").lower() == vault_name), None)
    return None


def check_acr_cmk_trusted_services(
    resources: list[PolicyResource], _config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    vaults = [r for r in resources if _type(r) == KEY_VAULT]
    for registry in (r for r in resources if _type(r) == CONTAINER_REGISTRY and not exempt(r)):
        if known(lambda r=registry: _encrypted(r.props)) is not True:
            continue
        vault = _vault_of(registry, vaults)
        if vault is None:
            continue
        props = known(lambda v=vault: mapping(get(v.props, "properties")))
        if props is UNKNOWN:
            continue
        # publicNetworkAccess Disabled admits trusted services and overrides the firewall rules (Key Vault REST spec,
        # VaultProperties.publicNetworkAccess): only a public vault whose firewall denies and bypasses nothing blocks.
        firewalled = not same(props.get("publicNetworkAccess"), "Disabled") and same(
            get(props, "networkAcls", "defaultAction"), "Deny"
        )
        if firewalled and same(get(props, "networkAcls", "bypass"), "None"):
            yield (
                f"registry '{registry.name}' is encrypted with a key in vault '{vault.name}', whose firewall denies "
                "by default and lets no trusted Azure service through (networkAcls.bypass 'None'): Azure Container "
                "Registry reaches the key through the firewall only as a trusted service, so creating the registry "
                "fails.",
                registry.urn,
            )


RULES = [
    Rule(
        name="acr-cmk-user-assigned-identity",
        concern=CONCERN,
        summary="A container registry encrypted with a customer-managed key needs a managed identity, named in its "
        "encryption settings, to reach the key (a user-assigned one at creation; the system-assigned one is allowed "
        "later and not flagged).",
        fix="In Python: `identity=IdentityPropertiesArgs(type='UserAssigned', user_assigned_identities={id: {}})` and "
        "`encryption={'status': 'enabled', 'key_vault_properties': {'key_identifier': ..., 'identity': <client id>}}` "
        "(ARM identity, properties.encryption.keyVaultProperties.identity); grant the identity Key Vault Crypto "
        "Service Encryption User on the key before the registry.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            f"{_ACR_CMK} (enable only while creating a registry; configure a user-assigned managed identity; later "
            "the system-assigned identity may be used)",
            _ACR_ENABLE,
            "Microsoft Learn: Rotate and revoke a customer-managed key (Azure Container Registry): a rotation may "
            "enable and specify the registry's system-assigned identity",
        ),
        resource_types=(CONTAINER_REGISTRY,),
        check=check_acr_cmk_identity,
    ),
    Rule(
        name="acr-cmk-key-vault-trusted-services",
        concern=CONCERN,
        summary="A container registry encrypted with a customer-managed key needs its key vault to let trusted Azure "
        "services through when the vault's firewall denies by default while public network access is on.",
        fix="In Python: the vault's `properties={'network_acls': {'bypass': 'AzureServices', ...}}` (ARM "
        "properties.networkAcls.bypass), or `public_network_access='Disabled'` with a private endpoint (a vault with "
        "public access disabled still admits trusted services); create the key before the registry.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            _ACR_ENABLE,
            "Azure REST API: Key Vault VaultProperties.publicNetworkAccess ('disabled': all traffic but private "
            "endpoint and trusted-service traffic is blocked; this overrides the firewall rules)",
            "MicrosoftDocs/azure-docs#61015 (Key Vault log: 'Client address is not authorized and caller is not a "
            "trusted service' when the registry read its key through a vault firewall)",
        ),
        stack_check=check_acr_cmk_trusted_services,
    ),
]

"""Deployability of an Azure ML platform, second set (issue 12 review): a container registry encrypted with a
customer-managed key.

- the registry reaches the key with a *user-assigned* identity: a customer-managed key can only be enabled when the
  registry is created, and only with a user-assigned identity (the system-assigned one can be switched to later);
- a key vault that blocks public network access (private endpoint, firewall) lets the registry through only as a
  trusted Azure service: `networkAcls.bypass` must not be `None` there, or the registry's creation fails on the key.
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
    identity = mapping(get(resource.props, "identity"))
    kind = identity.get("type")
    if isinstance(kind, str) and "userassigned" not in kind.replace(" ", "").replace(",", "").lower():
        yield (
            f"registry encryption uses a customer-managed key but the registry's identity is '{kind}': a key can "
            "only be enabled at creation, through a user-assigned identity."
        )
    elif kind is None:
        yield "registry encryption uses a customer-managed key but the registry has no user-assigned identity."
    if get(resource.props, "encryption", "keyVaultProperties", "identity") is None:
        yield (
            "registry encryption names no identity (encryption.keyVaultProperties.identity: the user-assigned "
            "identity's client id), so the registry cannot read the key."
        )


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
        closed = same(props.get("publicNetworkAccess"), "Disabled") or same(
            get(props, "networkAcls", "defaultAction"), "Deny"
        )
        if closed and same(get(props, "networkAcls", "bypass"), "None"):
            yield (
                f"registry '{registry.name}' is encrypted with a key in vault '{vault.name}', which blocks public "
                "network access and lets no trusted Azure service through (networkAcls.bypass 'None'): Azure "
                "Container Registry reaches the key only as a trusted service, so creating the registry fails.",
                registry.urn,
            )


RULES = [
    Rule(
        name="acr-cmk-user-assigned-identity",
        concern=CONCERN,
        summary="A container registry encrypted with a customer-managed key must reach the key with a user-assigned "
        "identity named in its encryption settings: the key can only be enabled at creation, and only that way.",
        fix="In Python: `identity=IdentityPropertiesArgs(type='UserAssigned', user_assigned_identities={id: {}})` and "
        "`encryption={'status': 'enabled', 'key_vault_properties': {'key_identifier': ..., 'identity': <client id>}}` "
        "(ARM identity, properties.encryption.keyVaultProperties.identity); grant the identity Key Vault Crypto "
        "Service Encryption User on the key before the registry.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            f"{_ACR_CMK} (enable only while creating a registry; configure a user-assigned managed identity)",
            _ACR_ENABLE,
        ),
        resource_types=(CONTAINER_REGISTRY,),
        check=check_acr_cmk_identity,
    ),
    Rule(
        name="acr-cmk-key-vault-trusted-services",
        concern=CONCERN,
        summary="A container registry encrypted with a customer-managed key needs its key vault to let trusted Azure "
        "services through when the vault blocks public network access (private endpoint or firewall).",
        fix="In Python: the vault's `properties={'network_acls': {'bypass': 'AzureServices', ...}}` (ARM "
        "properties.networkAcls.bypass; a vault with publicNetworkAccess Disabled still admits trusted services); "
        "create the key before the registry.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            _ACR_ENABLE,
            "Azure REST API: Key Vault VaultProperties.publicNetworkAccess ('Disabled': all traffic but private "
            "endpoint and trusted-service traffic is blocked)",
            "MicrosoftDocs/azure-docs#61064 (registry creation failing on a firewalled vault)",
        ),
        stack_check=check_acr_cmk_trusted_services,
    ),
]

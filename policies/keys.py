"""Key Vault keys: HSM-backed where the environment asks for it, and never without an expiry and a rotation policy.

Read from `azure-native:keyvault:Key` (API 2024-11-01): `properties.kty` (unset: the service's default is a software
`RSA` key), `properties.attributes.expires` (seconds since 1970), `properties.rotationPolicy` (`attributes.expiryTime`
and `lifetimeActions[].action.type` 'rotate'). A rotation policy's `expiryTime` gives every new version an expiry,
so either form of expiry counts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._props import KEY_VAULT_KEY, get, items, mapping, same, text
from ._rule import Resource, Rule

HSM_KEY_TYPES = ("RSA-HSM", "EC-HSM", "oct-HSM")


def check_hsm(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    kty = get(resource.props, "properties", "kty")
    if not any(same(kty, hsm) for hsm in HSM_KEY_TYPES):
        default = " (Azure's default: a software RSA key)" if kty is None else ""
        yield (
            f"properties.kty is {text(kty)}{default}; set kty 'RSA-HSM' (or 'EC-HSM') on a Premium vault so the "
            "key never leaves a FIPS 140 Level 3 HSM."
        )


def check_expiry_rotation(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    properties = mapping(resource.props.get("properties"))
    rotation = mapping(properties.get("rotationPolicy"))
    expires = get(properties, "attributes", "expires")
    policy_expiry = get(rotation, "attributes", "expiryTime")
    if expires is None and not policy_expiry:
        yield (
            "the key has no expiry: set properties.rotation_policy.attributes.expiry_time (e.g. 'P1Y'; each "
            "version then expires) or properties.attributes.expires."
        )
    actions = [str(get(a, "action", "type") or "").lower() for a in items(rotation.get("lifetimeActions"))]
    if "rotate" not in actions:
        yield (
            "properties.rotationPolicy has no lifetime action of type 'rotate'; add rotation_policy="
            "{'lifetime_actions': [{'action': {'type': 'rotate'}, 'trigger': {'time_before_expiry': 'P30D'}}], "
            "...} (services that track the versionless key URI pick the new version up)."
        )


RULES = [
    Rule(
        name="keyvault-key-hsm",
        concern="encryption",
        summary="Key Vault keys (customer-managed keys) must be HSM-backed where the environment requires it.",
        fix="keyvault.Key(properties={'kty': 'RSA-HSM', 'key_size': 3072}) in a vault with sku name 'premium' "
        "(ARM: Microsoft.KeyVault/vaults/keys properties.kty); the key type cannot be changed, create a new key "
        "and move the services to it.",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "Checkov CKV_AZURE_112",
            "Azure Policy: Keys should be backed by a hardware security module (HSM) "
            "(587c79fe-dd04-4a5e-9d0b-f89598c7261b)",
        ),
        resource_types=(KEY_VAULT_KEY,),
        check=check_hsm,
    ),
    Rule(
        name="keyvault-key-expiry-rotation",
        concern="encryption",
        summary="Key Vault keys must have an expiry and a rotation policy that rotates them automatically.",
        fix="keyvault.Key(properties={'rotation_policy': {'attributes': {'expiry_time': 'P1Y'}, 'lifetime_actions': "
        "[{'action': {'type': 'rotate'}, 'trigger': {'time_before_expiry': 'P30D'}}]}}) (ARM: properties."
        "rotationPolicy); reference the key by its versionless URI where the service supports auto-rotation.",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Checkov CKV_AZURE_40",
            "PSRule Azure.KeyVault.AutoRotationPolicy",
            "Azure Policy: Key Vault keys should have an expiration date",
            "Azure Policy: Keys should have a rotation policy ensuring that their rotation is scheduled within "
            "the specified number of days after creation",
        ),
        resource_types=(KEY_VAULT_KEY,),
        check=check_expiry_rotation,
    ),
]

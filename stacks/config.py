"""The typed stack config: one `aiinfra:platform` object per environment, validated by one model.

Errors name the stack file and the key path as written in YAML, e.g.
`Pulumi.dev.yaml: aiinfra:platform.shared.addressSpace: '10.0.0.0/33' is not a valid IPv4 CIDR block`.
"""

from __future__ import annotations

import json
from typing import TypeVar

import pulumi
from pydantic import BaseModel, Field, ValidationError, field_validator

from components._base import ArgsModel, format_validation_error
from components.naming import REGION_CODES, NamingConvention
from components.shared_services import SharedServicesSettings

CONFIG_NAMESPACE = "aiinfra"
CONFIG_KEY = "platform"
REQUIRED_TAGS = ("owner", "costCenter")

M = TypeVar("M", bound=BaseModel)


class PlatformConfig(ArgsModel):
    """`aiinfra:platform` in `Pulumi.<env>.yaml`."""

    environment: str = Field(pattern=r"^[a-z][a-z0-9]{1,5}$")
    """Environment code used in every Azure name (e.g. `dev`, `test`, `prd`)."""
    prefix: str = Field(default="aiinfra", pattern=r"^[a-z][a-z0-9]{1,9}$")
    """Short organisation/product prefix for Azure names."""
    location: str
    """Azure region of the environment (needs GPU quota there, e.g. `westus3`, `eastus`)."""
    naming_seed: str = ""
    """Extra input to the hash suffix of globally unique names; set it to your subscription id."""
    tags: dict[str, str]
    """Tags on every resource; must include `owner` and `costCenter`."""
    lock_stateful_resources: bool = False
    """Protect Key Vault, storage and ACR (`protect` + CanNotDelete lock). Turn on in production."""
    shared: SharedServicesSettings
    """Network, DNS, Key Vault, storage, registry, monitoring and budget shared by all workspaces."""

    @field_validator("location")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.lower().replace(" ", "")
        if region not in REGION_CODES:
            raise ValueError(f"unknown Azure region '{value}'; use one of: {', '.join(sorted(REGION_CODES))}")
        return region

    @field_validator("tags")
    @classmethod
    def _required_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        missing = [t for t in REQUIRED_TAGS if not tags.get(t)]
        if missing:
            raise ValueError(f"missing required tag(s) {', '.join(missing)} (every resource carries them)")
        return tags

    @property
    def naming(self) -> NamingConvention:
        return NamingConvention(prefix=self.prefix, environment=self.environment, location=self.location,
                                unique_seed=self.naming_seed)

    @property
    def all_tags(self) -> dict[str, str]:
        return {**self.tags, "environment": self.environment, "managedBy": "pulumi-aiinfra"}


class ConfigError(pulumi.RunError):
    """Stack config that cannot be used; `pulumi up` prints it without a traceback."""


def validate_config_object(model: type[M], raw: object, key: str, stack_file: str) -> M:
    """Validate one structured config value (`key` as written in YAML); errors name the stack file and key path."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{stack_file}: {key} must be a mapping (an object of settings), "
                          f"got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = format_validation_error(exc, model, prefix=key)
        raise ConfigError(f"{stack_file}: invalid stack config:\n  " + "\n  ".join(lines)) from None


def load_config_object(model: type[M], namespace: str, key: str) -> M:
    """Read and validate the structured config value `<namespace>:<key>` of the current stack."""
    stack_file = f"Pulumi.{pulumi.get_stack()}.yaml"
    text = pulumi.Config(namespace).get(key)
    if text is None:
        raise ConfigError(f"{stack_file}: missing required key {namespace}:{key} under `config:`")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        raw = text
    return validate_config_object(model, raw, f"{namespace}:{key}", stack_file)


def parse_platform_config(raw: object, stack_file: str) -> PlatformConfig:
    """Validate the raw `aiinfra:platform` value; errors name the stack file and the YAML key path."""
    return validate_config_object(PlatformConfig, raw, f"{CONFIG_NAMESPACE}:{CONFIG_KEY}", stack_file)


def load_platform_config() -> PlatformConfig:
    """Read and validate `aiinfra:platform` for the current stack."""
    return load_config_object(PlatformConfig, CONFIG_NAMESPACE, CONFIG_KEY)

"""Workspace settings a platform engineer gets wrong, in Python and in stack config (errors name the YAML path)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from aiinfra.components import ComponentArgsError, NamingConvention, SecureWorkspaceArgs, SharedServicesRef
from aiinfra.components.secure_workspace import OutboundRule, SecureWorkspaceSettings
from stacks.config import ConfigError, parse_platform_config

REPO = Path(__file__).resolve().parents[2]


def settings(**values: Any) -> SecureWorkspaceSettings:
    return SecureWorkspaceSettings(**{"name": "research", **values})


def test_defaults_are_the_secure_ones():
    s = settings()
    assert s.public_network_access == "Disabled"
    assert s.isolation_mode == "AllowOnlyApprovedOutbound"
    assert s.enable_data_isolation is True
    assert s.storage_outbound_subresources == ["dfs"]
    assert s.image_build is not None and s.image_build.max_nodes == 1
    assert s.firewall_sku == "Basic"


@pytest.mark.parametrize(
    "rule,fragment",
    [
        ({"name": "huggingface", "type": "FQDN"}, "a FQDN rule needs destination"),
        (
            {"name": "huggingface", "type": "FQDN", "destination": "huggingface.co", "serviceTag": "x"},
            "serviceTag do(es) not apply to a FQDN rule",
        ),
        ({"name": "kv", "type": "PrivateEndpoint", "serviceResourceId": "/x"}, "needs subresourceTarget"),
        ({"name": "tag", "type": "ServiceTag", "serviceTag": "DataFactory", "portRanges": "443;80"}, "not a port list"),
        ({"name": "bad", "type": "FQDN", "destination": "https://huggingface.co/models"}, "is not a host name"),
        ({"name": "aiinfra-x", "type": "FQDN", "destination": "huggingface.co"}, "prefix is reserved"),
    ],
)
def test_bad_outbound_rules(rule, fragment):
    with pytest.raises(ComponentArgsError) as error:
        OutboundRule(**rule)
    assert fragment in str(error.value)


def test_fqdn_and_service_tag_rules_need_approved_only_mode():
    fqdn = {"name": "huggingface", "type": "FQDN", "destination": "huggingface.co"}
    with pytest.raises(ComponentArgsError, match="only apply with isolationMode AllowOnlyApprovedOutbound"):
        settings(isolation_mode="AllowInternetOutbound", outbound_rules=[fqdn])
    assert settings(outbound_rules=[fqdn]).outbound_rules[0].destination == "huggingface.co"


def test_rules_need_a_managed_network():
    with pytest.raises(ComponentArgsError, match="outboundRules need a managed network"):
        settings(
            isolation_mode="Disabled",
            outbound_rules=[
                {"name": "st", "type": "PrivateEndpoint", "serviceResourceId": "/st", "subresourceTarget": "blob"}
            ],
        )
    with pytest.raises(ComponentArgsError, match="storageOutboundSubresources need a managed network"):
        settings(isolation_mode="Disabled", storage_outbound_subresources=["dfs"])
    assert settings(isolation_mode="Disabled").managed_network is False


def test_duplicate_rule_names():
    rule = {"name": "huggingface", "type": "FQDN", "destination": "huggingface.co"}
    with pytest.raises(ComponentArgsError, match="duplicate rule name"):
        settings(outbound_rules=[rule, rule])


def test_group_ids_must_be_object_ids():
    with pytest.raises(ComponentArgsError, match="access.data_scientists_group_object_id"):
        settings(access={"data_scientists_group_object_id": "ml-data-scientists"})
    with pytest.raises(ComponentArgsError, match="not object ids"):
        settings(access={"group_owner_object_ids": ["me@contoso.com"]})


def shared_ref(**values: Any) -> SharedServicesRef:
    naming = NamingConvention(prefix="contoso", environment="dev", location="westus3")
    base: dict[str, Any] = dict(
        naming=naming,
        resource_group_name="rg",
        virtual_network_id="/vnet",
        private_endpoint_subnet_id="/snet-pe",
        private_dns_zone_ids={"privatelink.api.azureml.ms": "/z1", "privatelink.notebooks.azure.net": "/z2"},
        key_vault_id="/kv",
        key_vault_uri="https://kv.vault.azure.net/",
        storage_account_id="/st",
        storage_account_name="st",
        container_registry_id="/acr",
        container_registry_login_server="acr.azurecr.io",
        log_analytics_workspace_id="/log",
        application_insights_id="/appi",
    )
    base.update(values)
    return SharedServicesRef(**base)


def test_cmk_needs_the_shared_key():
    naming = NamingConvention(prefix="contoso", environment="dev", location="westus3")
    with pytest.raises(ComponentArgsError, match="require_cmk needs the shared services' customer-managed key"):
        SecureWorkspaceArgs(
            name="research", naming=naming, resource_group_name="rg", shared=shared_ref(), require_cmk=True
        )


def test_without_managed_network_the_shared_services_need_a_compute_subnet():
    naming = NamingConvention(prefix="contoso", environment="dev", location="westus3")
    with pytest.raises(ComponentArgsError, match="shared.aml_compute_subnet_id is required"):
        SecureWorkspaceArgs(
            name="research", naming=naming, resource_group_name="rg", shared=shared_ref(), isolation_mode="Disabled"
        )


# --- the same mistakes in stack config ---------------------------------------------------------------------


def dev_config() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]["aiinfra:platform"])


def config_error(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as error:
        parse_platform_config(raw, "Pulumi.dev.yaml")
    return str(error.value)


def test_min_above_max_names_the_yaml_path():
    raw = dev_config()
    raw["workspaces"][0]["computePools"][1].update(minNodes=3, maxNodes=1)
    assert "aiinfra:platform.workspaces[0].computePools[1].maxNodes: must be >= minNodes (3)" in config_error(raw)


def test_retired_size_names_the_yaml_path_and_the_valid_sizes():
    raw = dev_config()
    raw["workspaces"][1]["computePools"][0]["vmSize"] = "Standard_NC6s_v3"
    message = config_error(raw)
    assert "aiinfra:platform.workspaces[1].computePools[0].vmSize: 'Standard_NC6s_v3' was retired" in message
    assert "Standard_NC4as_T4_v3" in message


def test_unknown_pool_key_gets_a_suggestion():
    raw = dev_config()
    raw["workspaces"][0]["computePools"][0]["maxNode"] = 3
    assert "computePools[0].maxNode: unknown key; did you mean 'maxNodes'?" in config_error(raw)


def test_duplicate_workspaces_and_pools():
    raw = dev_config()
    raw["workspaces"].append(copy.deepcopy(raw["workspaces"][0]))
    assert "aiinfra:platform.workspaces: duplicate workspace name(s) research" in config_error(raw)
    raw = dev_config()
    pools = raw["workspaces"][0]["computePools"]
    pools.append(copy.deepcopy(pools[0]))
    assert "workspaces[0].computePools: duplicate compute name(s) t4-lowpri" in config_error(raw)
    raw = dev_config()
    raw["workspaces"][0]["computePools"][0]["name"] = "image-build"
    assert "is the image-build cluster's name" in config_error(raw)


def test_workspace_cmk_needs_the_environment_key():
    raw = dev_config()
    raw["workspaces"][0]["requireCmk"] = True
    assert "workspaces[0].requireCmk needs the environment's key: set shared.requireCmk to true" in config_error(raw)


def test_bad_priority_names_the_yaml_path():
    raw = dev_config()
    raw["workspaces"][0]["computePools"][0]["priority"] = "Spot"
    assert (
        "aiinfra:platform.workspaces[0].computePools[0].priority: Input should be 'LowPriority' or 'Dedicated'"
        in config_error(raw)
    )

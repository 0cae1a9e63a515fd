"""The replacement table (aiinfra.catalog.create_only) against the installed azure-native SDK: every path parameter
and immutable property is an input the SDK really has, every spec row is the API version the SDK uses."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from aiinfra.catalog.create_only import CATALOGUE, PATH_PARAMS, immutable, path_params


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def sdk(type_token: str):
    _, module, kind = type_token.split(":")
    return importlib.import_module(f"pulumi_azure_native.{module}"), kind


def inputs_of(module, kind: str) -> set[str]:
    """The resource's input names (wire format), from its Args class (`<Kind>InitArgs` where a nested input type
    already has the name `<Kind>Args`, as `network.NatGatewayArgs`)."""
    own = importlib.import_module(getattr(module, kind).__module__)
    args = getattr(own, kind + "InitArgs", None) or getattr(own, kind + "Args")
    return {camel(a) for a in inspect.signature(args.__init__).parameters} - {"Self"}


@pytest.mark.parametrize("type_token", sorted(PATH_PARAMS))
def test_path_parameters_are_the_sdk_getters_arguments(type_token: str) -> None:
    module, kind = sdk(type_token)
    args = inputs_of(module, kind)
    assert set(path_params(type_token)) <= args, f"{type_token}: not SDK inputs: {set(path_params(type_token)) - args}"
    getter = getattr(module, "get_" + snake(kind), None)
    if getter is not None:  # the GET's path parameters are the PUT's (query parameters such as expand aside)
        get_args = {camel(a) for a in inspect.signature(getter).parameters} - {"opts", "expand", "tenantId"}
        assert get_args == set(path_params(type_token)), type_token


@pytest.mark.parametrize("type_token", sorted(CATALOGUE))
def test_rows_name_the_api_version_the_sdk_uses_and_real_inputs(type_token: str) -> None:
    module, kind = sdk(type_token)
    facts = CATALOGUE[type_token]
    source = inspect.getsource(getattr(module, kind))
    assert f"Uses Azure REST API version {facts.api_version}." in source
    assert f"/{facts.api_version}/" in facts.spec, "the spec file read is the one of that API version"
    args = inputs_of(module, kind)
    for rule in immutable(type_token):
        assert rule.path.split(".")[0] in args, f"{type_token}: {rule.path} is not an input"
        assert rule.source


def test_an_uncatalogued_type_falls_back_to_the_usual_path_parameters() -> None:
    assert path_params("azure-native:web:WebApp") == ("resourceGroupName", "scope", "resourceUri", "webAppName")
    assert path_params("azuread:index/group:Group") == ()


def test_every_cloud_resource_type_of_our_stacks_has_its_path_parameters(plan_of) -> None:
    """A type left to the fallback would miss its parent names (a Deployment's accountName): catalogue each one."""
    for env in ("dev", "test", "prd"):
        missing = {
            r.type
            for r in plan_of(env).resources
            if r.custom and r.type.startswith("azure-native:") and r.type not in PATH_PARAMS
        }
        assert not missing, f"{env}: add to aiinfra/catalog/create_only.py PATH_PARAMS: {sorted(missing)}"

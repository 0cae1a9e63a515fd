"""Answers to every invoke (data source) a program may call, shaped like the provider's own answer.

`pulumi preview` runs invokes for real: `get_*`/`list_*` data sources reach Azure (or Entra ID) and return what is
there. Offline there is nothing to ask, so each invoke gets a deterministic, ARM-shaped fabrication instead:

- its *shape* comes from the provider SDK the program itself imported: the invoke token names a generated function
  (`azure-native:storage:listStorageAccountKeys` -> `pulumi_azure_native.storage.list_storage_account_keys`) whose
  `...Result` output type declares every field and its type, so any data source of any provider gets every field
  it declares (one element per list, nested objects filled), never a crash and never `None` where the service always
  answers a value;
- its *values* are deterministic (same program, same answer, every run), echo the invoke's arguments where the
  service would (names, ids the caller passed), follow ARM's id grammar, and reuse what the program itself registered
  (`get_registry` of a registry the program creates answers that registry's recorded state);
- *secrets are marked secret*: ARM hands secrets out through POST actions named `list*` (storage keys, registry
  credentials, kubeconfigs), which is why Bicep flags any `list*` result in an output as a leaked secret
  (https://learn.microsoft.com/azure/azure-resource-manager/bicep/linter-rule-outputs-should-not-contain-secrets),
  so every string a `list*`
  action returns other than names, ids and metadata, and any field whose name says it is a secret (password,
  connection string, shared/access key, token), comes back wrapped as a Pulumi secret, as the azure-native provider
  marks them (its schema's `secret: true`) and `pulumi preview` shows them (`[secret]`).

Where the service is known to answer more than the schema tells (two storage keys, two registry passwords, a
kubeconfig that decodes to YAML), a small table says so, each entry with the REST API page it follows.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import re
import sys
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi import _types as pulumi_types
from pulumi.runtime import rpc

from . import arm

# A field of a `list*` answer that is metadata, not the secret itself.
_NOT_SECRET = re.compile(
    r"(?i)^(id|name|type|kind|location|keyName|userName|username|permissions|creationTime|"
    r"expiry|.*Name|.*Id|.*Time|.*Date|.*Type)$"
)
# A field that is a secret whatever answers it.
_ALWAYS_SECRET = re.compile(
    r"(?i)(password|secret|connectionStrings?$|sharedKey|accessKey|primaryKey|"
    r"secondaryKey|token$|kubeconfig)"
)
_UUID_FIELD = re.compile(r"(?:Id|ID|Guid)$")
_URL_FIELD = re.compile(r"(?i)(url|uri|endpoint)$")
_MAX_DEPTH = 4  # output types nest; deeper than this a field is left out (None), as an optional field would be
DEFAULT_LOCATION = "westus3"

# Lookup of what the program registered: ARM id -> recorded outputs (None when it registered no such resource).
RegisteredState = Callable[[str], "Mapping[str, Any] | None"]


def secret(value: Any) -> Any:
    """`value` marked secret on the wire, as a provider marks a secret output."""
    return rpc.wrap_rpc_secret(value)


def _fake_secret(*parts: str, size: int = 48) -> str:
    """A deterministic base64 string the length of an Azure access key (64 bytes -> 88 characters by default)."""
    digest = b""
    counter = 0
    while len(digest) < size:
        digest += hashlib.sha256("/".join((*parts, str(counter))).encode()).digest()
        counter += 1
    return base64.b64encode(digest[:size]).decode()


# --------------------------------------------------------------------------------------------------------------------
# The SDK's declaration of an invoke's result


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def result_type(token: str) -> type | None:
    """The generated `...Result` output type of the invoke `token`, from the SDK the program imported (or None)."""
    parts = token.split(":")
    if len(parts) != 3:
        return None
    package, module, function = parts
    root = "pulumi_" + package.replace("-", "_")
    segments = [s for s in module.split("/") if s and s != "index" and s.lower() != function.lower()]
    class_name = function[:1].upper() + function[1:] + "Result"
    candidates = [".".join([root, *segments, _snake(function)]), ".".join([root, *segments])]
    for name in candidates:
        module_obj = sys.modules.get(name)
        if module_obj is None:
            try:
                module_obj = importlib.import_module(name)
            except Exception:  # noqa: BLE001 - an SDK without this module: no declared shape
                continue
        cls = getattr(module_obj, class_name, None)
        if isinstance(cls, type) and pulumi_types.is_output_type(cls):
            return cls
    return None


_FIELD_TYPES: dict[type, dict[str, Any]] = {}


def _field_types(cls: type) -> dict[str, Any]:
    if cls not in _FIELD_TYPES:
        try:
            _FIELD_TYPES[cls] = pulumi_types.output_type_types(cls)
        except Exception:  # noqa: BLE001 - unresolvable annotations: treat as a type with no declared fields
            _FIELD_TYPES[cls] = {}
    return _FIELD_TYPES[cls]


# --------------------------------------------------------------------------------------------------------------------
# Fabrication


class _Answer:
    """One invoke's fabrication context: its token, arguments and whether its strings are secrets."""

    def __init__(self, token: str, args: Mapping[str, Any]) -> None:
        self.token = token
        self.args = {k: v for k, v in args.items() if v is not None}
        self.function = token.split(":")[-1]
        self.is_list_action = self.function.startswith("list") or self.function.startswith("getSharedKeys")
        self.seed = token + "?" + "&".join(f"{k}={self.args[k]}" for k in sorted(self.args))

    def string(self, path: str, field: str) -> Any:
        if field in ("tenantId", "applicationTenantId"):
            return arm.TENANT_ID
        if field == "subscriptionId":
            return arm.SUBSCRIPTION_ID
        if field == "location":
            return str(self.args.get("location", DEFAULT_LOCATION))
        if _ALWAYS_SECRET.search(field) or (self.is_list_action and not _NOT_SECRET.match(field)):
            return secret(_fake_secret(self.seed, path))
        if _UUID_FIELD.search(field) or field == "id":
            return arm.deterministic_uuid(self.seed, path)
        if _URL_FIELD.search(field):
            return f"https://{field.lower()}.{arm.deterministic_uuid(self.seed, path)[:8]}.mock.invalid/"
        return f"{field}-{arm.deterministic_uuid(self.seed, path)[:8]}"

    def value(self, annotation: Any, path: str, field: str, depth: int) -> Any:
        origin = typing.get_origin(annotation)
        if origin is typing.Union:
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            return self.value(options[0], path, field, depth) if options else None
        if origin in (list, Sequence, typing.Sequence) or annotation in (list, Sequence):
            item = (typing.get_args(annotation) or (Any,))[0]
            return [self.value(item, f"{path}[0]", field, depth)]
        if origin in (dict, Mapping, typing.Mapping) or annotation in (dict, Mapping):
            return {}
        if annotation is str:
            return self.string(path, field)
        if annotation is bool:
            return False
        if annotation in (int, float):
            return 0
        if isinstance(annotation, type) and pulumi_types.is_output_type(annotation):
            if depth >= _MAX_DEPTH:
                return None
            return self.object(annotation, path, depth + 1)
        return None

    def object(self, cls: type, path: str, depth: int) -> dict[str, Any]:
        return {
            name: self.value(annotation, f"{path}.{name}" if path else name, name, depth)
            for name, annotation in sorted(_field_types(cls).items())
        }


def _resource_token(token: str) -> str | None:
    """`azure-native:network:getSubnet` -> `azure-native:network:Subnet` (the resource a `get*` reads)."""
    package, module, function = token.split(":")
    if package != "azure-native" or not function.startswith("get") or len(function) <= 3:
        return None
    return f"{package}:{module.split('/')[0]}:{function[3:]}"


def _resource_answer(token: str, args: Mapping[str, Any], registered: RegisteredState) -> dict[str, Any]:
    """What GET on an azure-native resource answers: its id, name and type, what the program set, what Azure adds."""
    resource = _resource_token(token)
    if resource is None:
        return {}
    rid = arm.resource_id(resource, "", dict(args))
    if rid is None:  # a parent's name missing from the arguments: nothing to say beyond the declared shape
        return {}
    recorded = registered(rid)
    if recorded is not None:
        return dict(recorded)
    name = arm.azure_name(resource, "", dict(args))
    state = arm.computed_outputs(resource, name, dict(args), rid)
    for key in [k for k in args if k == "resourceGroupName" or (k.endswith("Name") and args[k] == name)]:
        state.pop(key, None)  # path parameters of the GET, not properties of the answer
    state.update(id=rid, name=name, type=arm.arm_type(resource) or "")
    return state


def _known_answer(token: str, args: Mapping[str, Any], answer: _Answer) -> dict[str, Any] | None:
    """Answers whose shape the SDK's types cannot tell: how many keys, what a kubeconfig decodes to."""
    if token in ("azure-native:authorization:getClientConfig", "azuread:index/getClientConfig:getClientConfig"):
        return {
            "subscriptionId": arm.SUBSCRIPTION_ID,
            "tenantId": arm.TENANT_ID,
            "clientId": arm.deterministic_uuid("client"),
            "objectId": arm.CLIENT_OBJECT_ID,
        }
    function = token.split(":")[-1]
    if token.startswith("azure-native:storage:") and function == "listStorageAccountKeys":
        # Storage Accounts - List Keys: two keys, key1 and key2, permissions "FULL"
        # (https://learn.microsoft.com/rest/api/storagerp/storage-accounts/list-keys).
        return {
            "keys": [
                {
                    "keyName": key,
                    "permissions": "FULL",
                    "creationTime": "2026-01-01T00:00:00Z",
                    "value": secret(_fake_secret(answer.seed, key, size=64)),
                }
                for key in ("key1", "key2")
            ]
        }
    if token.startswith("azure-native:containerregistry:") and function == "listRegistryCredentials":
        # Registries - List Credentials: the admin user is the registry's name, with two passwords
        # (https://learn.microsoft.com/rest/api/containerregistry/registries/list-credentials).
        return {
            "username": str(args.get("registryName", "registry")),
            "passwords": [
                {"name": name, "value": secret(_fake_secret(answer.seed, name, size=24))}
                for name in ("password", "password2")
            ],
        }
    if (
        token.startswith("azure-native:containerservice:")
        and function.startswith("listManagedCluster")
        and function.endswith("Credentials")
    ):
        # Managed Clusters - List Cluster User/Admin/Monitoring User Credentials: `kubeconfigs[].value` is the
        # base64 of a kubeconfig YAML (https://learn.microsoft.com/rest/api/aks/managed-clusters/list-cluster-user-credentials).
        user = {
            "listManagedClusterAdminCredentials": "clusterAdmin",
            "listManagedClusterMonitoringUserCredentials": "clusterMonitoringUser",
        }.get(function, "clusterUser")
        cluster = str(args.get("resourceName", "cluster"))
        kubeconfig = (
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: {cluster}\n  cluster:\n    server: https://{cluster}.mock.azmk8s.io:443\n"
            f"    certificate-authority-data: {_fake_secret(answer.seed, 'ca')}\n"
            f"contexts:\n- name: {cluster}\n  context:\n    cluster: {cluster}\n    user: {user}\n"
            f"current-context: {cluster}\n"
            f"users:\n- name: {user}\n  user:\n    token: {_fake_secret(answer.seed, 'token', size=32)}\n"
        )
        return {"kubeconfigs": [{"name": user, "value": secret(base64.b64encode(kubeconfig.encode()).decode())}]}
    return None


def _azuread_answer(token: str, answer: _Answer, result: dict[str, Any]) -> dict[str, Any]:
    """Entra ID objects: one object id per lookup, the id the provider gives that kind of object."""
    function = token.split(":")[-1]
    if not token.startswith("azuread:") or "objectId" not in result:
        return result
    object_id = str(answer.args.get("objectId") or arm.deterministic_uuid(answer.seed, "object"))
    result["objectId"] = object_id
    collection = {"getGroup": "groups", "getApplication": "applications", "getUser": "users"}.get(function)
    if "id" in result:
        result["id"] = f"/{collection}/{object_id}" if collection else object_id
    return result


def answer_invoke(token: str, args: Mapping[str, Any], registered: RegisteredState) -> dict[str, Any]:
    """The result of the invoke `token` called with `args`: ARM-shaped, deterministic, secrets marked secret."""
    answer = _Answer(token, args)
    known = _known_answer(token, args, answer)
    if known is not None:
        return known
    cls = result_type(token)
    result = answer.object(cls, "", 0) if cls is not None else {}
    # What the caller passed comes back as it was passed (a display name, a client id, a resource's name).
    result.update({k: v for k, v in answer.args.items() if k in result and not isinstance(result[k], (dict, list))})
    if token.startswith("azure-native:"):
        result.update(_resource_answer(token, args, registered))
    return _azuread_answer(token, answer, result)

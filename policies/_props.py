"""Reading resource properties the way a policy sees them: camelCase wire names, floats, unknowns.

Properties arrive as a read-only mapping proxy from pulumi_policy: reading a value that is unknown during
preview raises `UnknownValueError`, an absent key is simply absent. These helpers never hide an unknown
(pulumi_policy turns it into its standard advisory "can't run policy during preview"); they only make absent
keys, wrong shapes and enum casing harmless. The generic readers (`get`, `number`, `same`, durations ...) are
aiinfra.catalog.wire's, shared with the cost estimate and the catalogue's pool reader; the pack-only ones are here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aiinfra.catalog.wire import arm_id_parts as arm_id_parts
from aiinfra.catalog.wire import duration_minutes as duration_minutes
from aiinfra.catalog.wire import get as get
from aiinfra.catalog.wire import is_true as is_true
from aiinfra.catalog.wire import items as items
from aiinfra.catalog.wire import mapping as mapping
from aiinfra.catalog.wire import number as number
from aiinfra.catalog.wire import same as same

# azure-native type tokens, without an explicit API version (`azure-native:storage/v20230101:...` is normalised).
ML_WORKSPACE = "azure-native:machinelearningservices:Workspace"
ML_COMPUTE = "azure-native:machinelearningservices:Compute"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
KEY_VAULT = "azure-native:keyvault:Vault"
CONTAINER_REGISTRY = "azure-native:containerregistry:Registry"
AKS_CLUSTER = "azure-native:containerservice:ManagedCluster"
AKS_AGENT_POOL = "azure-native:containerservice:AgentPool"
BATCH_ACCOUNT = "azure-native:batch:BatchAccount"
BATCH_POOL = "azure-native:batch:Pool"
CONTAINER_APPS_ENV = "azure-native:app:ManagedEnvironment"
CONTAINER_APP = "azure-native:app:ContainerApp"
COGNITIVE_ACCOUNT = "azure-native:cognitiveservices:Account"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
PRIVATE_DNS_ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
PRIVATE_DNS_ZONE = "azure-native:privatedns:PrivateZone"
K8S_EXTENSION = "azure-native:kubernetesconfiguration:Extension"
KEY_VAULT_KEY = "azure-native:keyvault:Key"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
NSG = "azure-native:network:NetworkSecurityGroup"
NSG_RULE = "azure-native:network:SecurityRule"
COSMOS_ACCOUNT = "azure-native:cosmosdb:DatabaseAccount"
SERVICE_BUS = "azure-native:servicebus:Namespace"
EVENT_HUBS = "azure-native:eventhub:Namespace"
APP_CONFIGURATION = "azure-native:appconfiguration:ConfigurationStore"
SEARCH_SERVICE = "azure-native:search:Service"

_VERSIONED = re.compile(r"^(azure-native:[a-z0-9]+)/v[0-9a-z]+(:[A-Za-z0-9]+)$")


def canonical_type(type_token: str) -> str:
    """`azure-native:storage/v20230101:StorageAccount` -> `azure-native:storage:StorageAccount`."""
    match = _VERSIONED.match(type_token)
    return match.group(1) + match.group(2) if match else type_token


def is_false(value: Any) -> bool:
    return value is False or same(value, "false")


def text(value: Any) -> str:
    """A property value for a message: absent -> 'not set', numbers without a spurious '.0'."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, Sequence):
        return "[" + ", ".join(text(v) for v in items(value)) + "]"
    return str(value)

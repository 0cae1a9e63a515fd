"""Operations: how a workspace reaches data that already lives in storage.

`datastore-credentials`: an Azure ML datastore must be identity-based. A datastore that stores an account key, a SAS
token, a service principal secret or a certificate keeps a long-lived secret in the workspace's Key Vault that every
job and user of the workspace can use, bypasses Azure RBAC on the data, and stops working once storage shared key
access is turned off (our `storage-shared-key-disabled` rule). Identity-based datastores (`credentials.credentialsType:
None`) let the submitting user's or the compute's managed identity reach the data under their own RBAC roles.
Sources: Microsoft Learn, "Create datastores" (credential-less / identity-based datastores) and "Data administration"
(identity-based data access); Azure/azure-rest-api-specs machinelearningservices `DatastoreCredentials`
(`credentialsType`: AccountKey, Certificate, None, Sas, ServicePrincipal). Both the current `Datastore` resource and
the v1 `MachineLearningDatastore` (secret fields `accountKey`, `sasToken`, `clientSecret`, `password`) are judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._props import get, same, text
from ._rule import Resource, Rule

CONCERN = "identity"
ML_DATASTORE = "azure-native:machinelearningservices:Datastore"
ML_DATASTORE_V1 = "azure-native:machinelearningservices:MachineLearningDatastore"
_V1_SECRETS = ("accountKey", "sasToken", "clientSecret", "password")


def check_datastore_credentials(resource: Resource, _config: Mapping[str, Any]) -> Iterator[str]:
    props = resource.props
    if resource.type == ML_DATASTORE_V1:
        present = [key for key in _V1_SECRETS if props.get(key) not in (None, "")]
        if present:
            yield (
                f"{', '.join(present)} set: the datastore stores a secret; drop it and grant the workspace and "
                "compute identities a Storage Blob Data role on the container instead."
            )
        return
    kind = get(props, "properties", "credentials", "credentialsType")
    if not same(kind, "None"):
        shown = "absent" if kind is None else text(kind)
        yield (
            f"properties.credentials.credentialsType is {shown}; set it to 'None' (identity-based access) and "
            "grant the workspace and compute identities a Storage Blob Data role on the container instead of an "
            "account key, SAS token, service principal secret or certificate."
        )


RULES = [
    Rule(
        name="datastore-credentials",
        concern=CONCERN,
        summary="Azure ML datastores must be identity-based (credentialsType None): no account keys, SAS tokens, "
        "service principal secrets or certificates stored in the workspace.",
        fix="Datastore(properties=...): credentials={'credentials_type': 'None'} (ARM: properties.credentials."
        "credentialsType), and grant the workspace identity Storage Blob Data Reader and the compute identity "
        "Storage Blob Data Reader/Contributor on exactly that container.",
        severity=Severity.HIGH,
        default_level=EnforcementLevel.MANDATORY,
        sources=(
            "Microsoft Learn: Create datastores (identity-based access)",
            "Azure Policy: Storage accounts should prevent shared key access",
        ),
        resource_types=(ML_DATASTORE, ML_DATASTORE_V1),
        check=check_datastore_credentials,
    ),
]

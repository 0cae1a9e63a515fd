"""policies/operations.py through the pack's gRPC server (as the engine drives it), and the rule function directly."""

from __future__ import annotations

from typing import Any

import pytest
from pack_client import ENVIRONMENTS, Pack, of

from aiinfra.policies import rule
from aiinfra.policies._rule import Resource

DATASTORE = "azure-native:machinelearningservices:Datastore"
DATASTORE_V1 = "azure-native:machinelearningservices:MachineLearningDatastore"
POLICY = "datastore-credentials"


def datastore(credentials: dict[str, Any] | None, kind: str = "AzureDataLakeGen2") -> dict[str, Any]:
    props: dict[str, Any] = {"datastoreType": kind, "accountName": "stdata", "filesystem": "raw"}
    if credentials is not None:
        props["credentials"] = credentials
    return {"name": "raw", "properties": props}


FLAGGED = [
    (
        "account key",
        DATASTORE,
        datastore({"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey", "key": "k"}}),
    ),
    (
        "sas",
        DATASTORE,
        datastore({"credentialsType": "Sas", "secrets": {"secretsType": "Sas", "sasToken": "t"}}, "AzureBlob"),
    ),
    (
        "service principal",
        DATASTORE,
        datastore({"credentialsType": "ServicePrincipal", "clientId": "c", "tenantId": "t"}),
    ),
    ("certificate", DATASTORE, datastore({"credentialsType": "Certificate"})),
    ("credentials absent", DATASTORE, datastore(None)),
    ("v1 account key", DATASTORE_V1, {"dataStoreType": "blob", "accountName": "st", "accountKey": "k"}),
    ("v1 sas token", DATASTORE_V1, {"dataStoreType": "blob", "accountName": "st", "sasToken": "t"}),
    ("v1 client secret", DATASTORE_V1, {"dataStoreType": "adls_gen2", "clientId": "c", "clientSecret": "s"}),
]
COMPLIANT = [
    ("identity gen2", DATASTORE, datastore({"credentialsType": "None"})),
    ("identity blob, enum lower-case", DATASTORE, datastore({"credentialsType": "none"}, "AzureBlob")),
    (
        "v1 workspace identity",
        DATASTORE_V1,
        {"dataStoreType": "blob", "accountName": "st", "workspaceSystemAssignedIdentity": True},
    ),
]


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("why,type_token,props", FLAGGED, ids=[c[0] for c in FLAGGED])
def test_secret_datastores_are_mandatory_violations_in_every_environment(
    pack: Pack, env: str, why: str, type_token: str, props: dict
) -> None:
    pack.configure(env)
    found = of(POLICY, pack.analyze(type_token, props))
    assert found and {d.level for d in found} == {"mandatory"}, why
    assert "identity" in found[0].message


@pytest.mark.parametrize("why,type_token,props", COMPLIANT, ids=[c[0] for c in COMPLIANT])
def test_identity_based_datastores_pass(pack: Pack, why: str, type_token: str, props: dict) -> None:
    pack.configure("prd")
    assert not of(POLICY, pack.analyze(type_token, props)), why


def test_rule_is_mandatory_by_default_and_can_be_exempted(pack: Pack) -> None:
    pack.configure(None)
    assert pack.levels[POLICY] == "mandatory"
    bad = datastore({"credentialsType": "AccountKey"})
    pack.configure("prd", **{POLICY: {"exemptions": [{"resource": "legacy-*", "reason": "vendor share, SAS only"}]}})
    assert not of(POLICY, pack.analyze(DATASTORE, bad, name="legacy-vendor"))
    assert of(POLICY, pack.analyze(DATASTORE, bad, name="raw"))


def test_rule_function_ignores_other_types() -> None:
    verdict = rule(POLICY).run(Resource("azure-native:storage:StorageAccount", "st", "urn:st", {"accountKey": "k"}))
    assert verdict == []
    versioned = rule(POLICY).run(
        Resource(
            "azure-native:machinelearningservices/v20240401:Datastore",
            "d",
            "urn:d",
            datastore({"credentialsType": "Sas"}),
        )
    )
    assert versioned and "Sas" in versioned[0]

"""Drive the policy pack over its gRPC server the way the engine does (used by the tests in this folder)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from aiinfra.engine.analyzer import (
    PolicyInfo,
    PolicyPackProcess,
    load_pack,
    load_policy_config,
    policy_infos,
    reconcile_config,
)

REPO = Path(__file__).resolve().parents[2]
PACK = REPO / "policies"
ENVIRONMENTS = ("dev", "test", "prd")
STACK_URN = "urn:pulumi:dev::stranger::pulumi:pulumi:Stack::stranger-dev"


def urn(type_token: str, name: str) -> str:
    return f"urn:pulumi:dev::stranger::{type_token}::{name}"


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: str
    message: str
    urn: str


@dataclass
class StackResource:
    """A resource for AnalyzeStack: outputs, parent, dependencies and property dependencies, like the engine."""

    type: str
    name: str
    props: dict[str, Any]
    parent: str = STACK_URN
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, list[str]] | None = None

    @property
    def urn(self) -> str:
        return urn(self.type, self.name)


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(values))
    return struct


def _diagnostics(response: analyzer_pb2.AnalyzeResponse) -> list[Diagnostic]:
    return [
        Diagnostic(d.policyName, analyzer_pb2.EnforcementLevel.Name(d.enforcementLevel).lower(), d.message, d.urn)
        for d in response.diagnostics
    ]


class Pack:
    """A running pack: configure it for an environment, then analyze resources or a stack."""

    def __init__(self, process: PolicyPackProcess) -> None:
        self.process = process
        self.info = process.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=60)
        self.policies: list[PolicyInfo] = policy_infos(self.info)
        self.levels: dict[str, str] = {}

    def configure(self, env: str | None = None, **overrides: dict[str, Any]) -> None:
        """The env's config file (or pack defaults for None) reconciled like the engine, plus per-policy overrides."""
        given = load_policy_config(PACK / "config" / f"{env}.json") if env else {}
        for name, settings in overrides.items():
            given[name] = {**given.get(name, {}), **settings}
        config = reconcile_config(self.policies, given, f"{env or 'defaults'} config")
        self.levels = {name: level for name, (level, _) in config.items()}
        self.process.stub.Configure(
            analyzer_pb2.ConfigureAnalyzerRequest(
                policyConfig={
                    name: analyzer_pb2.PolicyConfig(
                        enforcementLevel=analyzer_pb2.EnforcementLevel.Value(level.upper()), properties=_struct(props)
                    )
                    for name, (level, props) in config.items()
                }
            ),
            timeout=60,
        )

    def analyze(self, type_token: str, props: Mapping[str, Any], name: str = "subject") -> list[Diagnostic]:
        request = analyzer_pb2.AnalyzeRequest(
            type=type_token,
            urn=urn(type_token, name),
            name=name,
            properties=_struct(props),
            options=analyzer_pb2.AnalyzerResourceOptions(parent=STACK_URN),
        )
        return _diagnostics(self.process.stub.Analyze(request, timeout=60))

    def analyze_stack(self, resources: list[StackResource]) -> list[Diagnostic]:
        request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    urn=r.urn,
                    name=r.name,
                    properties=_struct(r.props),
                    parent=r.parent,
                    options=analyzer_pb2.AnalyzerResourceOptions(parent=r.parent),
                    dependencies=list(r.dependencies),
                    propertyDependencies={
                        k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                        for k, v in (r.property_dependencies or {}).items()
                    },
                )
                for r in resources
            ]
        )
        return _diagnostics(self.process.stub.AnalyzeStack(request, timeout=60))


@contextmanager
def running_pack() -> Iterator[Pack]:
    env = dict(
        os.environ, PULUMI_PROJECT="stranger", PULUMI_STACK="dev", PULUMI_DRY_RUN="true", PULUMI_CONFIG=json.dumps({})
    )
    with PolicyPackProcess(load_pack(PACK), env) as process:
        yield Pack(process)


def of(policy: str, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.policy == policy]

"""Run a CrossGuard policy pack over an offline plan exactly the way the Pulumi engine runs it.

What `pulumi preview --policy-pack DIR --policy-pack-config FILE` does, and what this does:
- reads DIR/PulumiPolicy.yaml (runtime, virtualenv option)                                      -> same
- starts the pack as its own process: `python -u -m pulumi.policy <engine> .` in DIR, with
  PULUMI_PROJECT / PULUMI_STACK / PULUMI_DRY_RUN / PULUMI_CONFIG in its environment, and reads
  the gRPC port from the first line of its stdout                                                -> same (the
  virtualenv's python when it exists, else this interpreter)
- GetAnalyzerInfo, then Configure with the config file reconciled over each policy's schema
  defaults and enforcement level (`all` first, then per policy), ConfigureStack                -> same, but the
  config is validated more strictly (unknown policies and unknown fields are errors, not ignored)
- Analyze for every registered resource with its inputs (unknowns as the unknown sentinel, resource
  references as the referenced id, or URN for components), options and provider                 -> same
- AnalyzeStack once with every resource's outputs, parent, dependencies, property dependencies   -> same
- stops the process                                                                               -> same, always

It knows no policy and no component: any pack, any plan.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO

import grpc
import jsonschema
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from .plan import COMPUTED_MARKER, Plan, Registration
from .runner import EngineError, load_project, load_stack_config

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown-value sentinel on the wire
LEVELS = ("advisory", "mandatory", "remediate", "disabled")
STARTUP_SECONDS = 60.0
CALL_SECONDS = 120.0
_MAX_MESSAGE = 400 * 1024 * 1024


class PolicyError(Exception):
    """The policy pack cannot be used: bad pack, bad config file, or the pack failed. A usage error."""


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement_level: str
    severity: str
    kind: str  # "resource" or "stack"
    config_schema: dict[str, Any]
    required: list[str]
    remediation: str


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    severity: str
    urn: str
    resource_type: str
    resource_name: str
    message: str  # what is wrong with this resource
    description: str  # the policy: what it requires and how to fix it
    fix: str  # the policy's remediation steps when it declares them, else its description

    def as_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "enforcementLevel": self.level,
            "severity": self.severity,
            "urn": self.urn,
            "resourceType": self.resource_type,
            "resourceName": self.resource_name,
            "message": self.message,
            "description": self.description,
            "fix": self.fix,
        }


@dataclass
class PolicyReport:
    pack: str
    version: str
    pack_dir: str
    config_file: str | None
    python: str
    policies: list[PolicyInfo]
    levels: dict[str, str]
    violations: list[Violation] = field(default_factory=list)
    resources_analyzed: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per phase (start, configure, analyze, analyzeStack): a measurement, so not part of `as_json`."""

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if v.level != "mandatory"]

    def as_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "version": self.version,
            "packDir": self.pack_dir,
            "configFile": self.config_file,
            "enforcementLevels": dict(sorted(self.levels.items())),
            "resourcesAnalyzed": self.resources_analyzed,
            "summary": {"mandatory": len(self.mandatory), "advisory": len(self.advisory)},
            "violations": [v.as_json() for v in self.violations],
        }


# --------------------------------------------------------------------------------------------- the pack project


@dataclass(frozen=True)
class PolicyPackProject:
    root: Path
    python: str
    version: str


def load_pack(pack_dir: Path | str) -> PolicyPackProject:
    root = Path(pack_dir).resolve()
    manifest = root / "PulumiPolicy.yaml"
    if not manifest.is_file():
        raise PolicyError(f"{manifest}: no PulumiPolicy.yaml here; point --policy-pack at a policy pack directory")
    try:
        data = yaml.safe_load(manifest.read_text()) or {}
    except yaml.YAMLError as exc:
        raise PolicyError(f"{manifest}: not valid YAML: {exc}") from None
    runtime = data.get("runtime") if isinstance(data, dict) else None
    name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if name != "python":
        raise PolicyError(f"{manifest}: runtime is '{name}'; only Python policy packs can be run offline")
    options = (runtime.get("options") if isinstance(runtime, dict) else None) or {}
    python = sys.executable
    virtualenv = options.get("virtualenv") if isinstance(options, dict) else None
    if isinstance(virtualenv, str) and virtualenv:
        candidate = root / virtualenv / "bin" / "python"
        if candidate.is_file():
            python = str(candidate)
    if not (root / "__main__.py").is_file():
        raise PolicyError(f"{root}: a Python policy pack needs a __main__.py that builds the PolicyPack")
    return PolicyPackProject(root=root, python=python, version=str(data.get("version") or ""))


# ------------------------------------------------------------------------------------------------ the process


class PolicyPackProcess:
    """The pack's own process and a gRPC stub to it; `close()` (or leaving the `with` block) always stops it."""

    def __init__(self, project: PolicyPackProject, env: Mapping[str, str]) -> None:
        self.project = project
        # The capture files must outlive __init__ (the process writes to them until close()), so their ExitStack
        # is moved onto the object with pop_all() and closed by close().
        with contextlib.ExitStack() as files:
            self._stdout: IO[bytes] = files.enter_context(tempfile.TemporaryFile())
            self._stderr: IO[bytes] = files.enter_context(tempfile.TemporaryFile())
            self._files = files.pop_all()
        self._channel: grpc.Channel | None = None
        self.process = subprocess.Popen(
            [project.python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."],
            cwd=project.root,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=self._stdout,
            stderr=self._stderr,
            start_new_session=True,
        )
        try:
            port = self._read_port()
            self._channel = grpc.insecure_channel(
                f"127.0.0.1:{port}",
                options=[
                    ("grpc.max_receive_message_length", _MAX_MESSAGE),
                    ("grpc.max_send_message_length", _MAX_MESSAGE),
                ],
            )
            grpc.channel_ready_future(self._channel).result(timeout=STARTUP_SECONDS)
            self.stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        except BaseException:
            self.close()
            raise

    def _read_port(self) -> int:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            self._stdout.seek(0)
            first = self._stdout.read().split(b"\n", 1)
            if len(first) == 2:
                line = first[0].decode(errors="replace").strip()
                if line.isdigit():
                    return int(line)
                raise PolicyError(
                    f"policy pack {self.project.root} printed {line!r} before its port; a pack must "
                    f"not write to stdout while starting{self._stderr_tail()}"
                )
            if self.process.poll() is not None:
                raise PolicyError(
                    f"policy pack {self.project.root} failed to start (exit code "
                    f"{self.process.returncode}){self._stderr_tail()}"
                )
            time.sleep(0.02)
        raise PolicyError(
            f"policy pack {self.project.root} did not print its port within {STARTUP_SECONDS:.0f}s{self._stderr_tail()}"
        )

    def _stderr_tail(self, lines: int = 25) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        if not text:
            return ""
        return ":\n    " + "\n    ".join(text.splitlines()[-lines:])

    def failure(self, what: str, exc: grpc.RpcError) -> PolicyError:
        details = exc.details() if hasattr(exc, "details") else str(exc)  # type: ignore[attr-defined]
        return PolicyError(f"policy pack {self.project.root} failed {what}: {details}{self._stderr_tail()}")

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._files.close()

    def __enter__(self) -> PolicyPackProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------------------------------- the config


def _level_name(value: int) -> str:
    return analyzer_pb2.EnforcementLevel.Name(value).lower()  # type: ignore[arg-type]


def _severity_name(value: int) -> str:
    name = analyzer_pb2.PolicySeverity.Name(value)  # type: ignore[arg-type]
    return name.removeprefix("POLICY_SEVERITY_").lower().replace("unspecified", "")


def policy_infos(info: analyzer_pb2.AnalyzerInfo) -> list[PolicyInfo]:
    result = []
    for p in info.policies:
        schema = json_format.MessageToDict(p.configSchema.properties) if p.HasField("configSchema") else {}
        required = list(p.configSchema.required) if p.HasField("configSchema") else []
        kind = "stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource"
        result.append(
            PolicyInfo(
                p.name,
                p.description,
                _level_name(p.enforcementLevel),
                _severity_name(p.severity),
                kind,
                schema,
                required,
                p.remediation_steps,
            )
        )
    return sorted(result, key=lambda p: p.name)


def load_policy_config(path: Path) -> dict[str, dict[str, Any]]:
    """Parse a `--policy-pack-config` file: {policy: level | {enforcementLevel?, ...properties}}."""
    try:
        raw = path.read_text()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy config: {exc.strerror}") from None
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: expected a JSON object of policy names to levels or settings")
    result: dict[str, dict[str, Any]] = {}
    for name, value in data.items():
        if isinstance(value, str):
            value = {"enforcementLevel": value}
        if not isinstance(value, dict):
            raise PolicyError(
                f"{path}: policy '{name}': expected an enforcement level string or an object, got {json.dumps(value)}"
            )
        level = value.get("enforcementLevel")
        if level is not None and level not in LEVELS:
            raise PolicyError(
                f"{path}: policy '{name}', field 'enforcementLevel': {json.dumps(level)} is not one of "
                f"{', '.join(LEVELS)}"
            )
        result[name] = dict(value)
    return result


def reconcile_config(
    policies: list[PolicyInfo], given: Mapping[str, dict[str, Any]], source: str
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Schema defaults and pack levels, then `all`, then each policy's settings; validated like the engine does."""
    known = {p.name: p for p in policies}
    errors = []
    for name in given:
        if name != "all" and name not in known:
            hint = difflib.get_close_matches(name, known, n=1)
            errors.append(
                f"{source}: unknown policy '{name}'"
                + (f" (did you mean '{hint[0]}'?)" if hint else "; see the pack's policy list")
            )
    all_settings = dict(given.get("all", {}))
    all_level = all_settings.pop("enforcementLevel", None)
    if all_settings:
        errors.append(f"{source}: policy 'all' accepts only an enforcement level, not {', '.join(all_settings)}")
    result: dict[str, tuple[str, dict[str, Any]]] = {}
    for policy in policies:
        properties = {
            k: v["default"] for k, v in policy.config_schema.items() if isinstance(v, dict) and "default" in v
        }
        level = all_level or policy.enforcement_level
        settings = dict(given.get(policy.name, {}))
        level = settings.pop("enforcementLevel", None) or level
        properties.update(settings)
        schema = {"type": "object", "properties": policy.config_schema, "additionalProperties": False}
        if policy.required:
            schema["required"] = policy.required
        validator = jsonschema.Draft7Validator(schema)
        for error in sorted(validator.iter_errors(properties), key=lambda e: list(e.absolute_path)):
            where = _field(error)
            errors.append(
                f"{source}: policy '{policy.name}'" + (f", field '{where}'" if where else "") + f": {_explain(error)}"
            )
        result[policy.name] = (level, properties)
    if errors:
        raise PolicyError("invalid policy config:\n  " + "\n  ".join(errors))
    return result


def _schema_properties(error: jsonschema.ValidationError) -> list[str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    return sorted(schema.get("properties", {}))


def _field(error: jsonschema.ValidationError) -> str:
    path = ""
    for step in error.absolute_path:
        path += f"[{step}]" if isinstance(step, int) else (f".{step}" if path else str(step))
    if error.validator == "additionalProperties" and not path and isinstance(error.instance, dict):
        return ", ".join(sorted(set(error.instance) - set(_schema_properties(error))))
    return path


def _explain(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        allowed = ", ".join(_schema_properties(error)) or "none"
        return f"not a setting of this policy (settings: {allowed}, enforcementLevel)"
    return error.message


# ------------------------------------------------------------------------------------------------ marshalling


def _wire_value(value: Any, ids: Mapping[str, str | None]) -> Any:
    """A recorded value as the engine marshals it for an analyzer (unknowns kept, resources as their id)."""
    if isinstance(value, dict):
        if set(value) == {"$resourceReference"}:
            urn = value["$resourceReference"]
            return ids.get(urn) or urn or UNKNOWN
        return {k: _wire_value(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire_value(v, ids) for v in value]
    if value == COMPUTED_MARKER:
        return UNKNOWN
    return value


def _struct(properties: Mapping[str, Any], ids: Mapping[str, str | None]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update({k: _wire_value(v, ids) for k, v in properties.items() if not k.startswith("__")})
    return struct


@dataclass(frozen=True)
class _Resource:
    urn: str
    type: str
    name: str
    parent: str
    protect: bool
    provider: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    dependencies: list[str]
    property_dependencies: Mapping[str, list[str]]
    ignore_changes: tuple[str, ...] = ()
    delete_before_replace: bool = False


def _resources(plan: Plan) -> list[_Resource]:
    stack_urn = f"urn:pulumi:{plan.stack}::{plan.project}::pulumi:pulumi:Stack::{plan.project}-{plan.stack}"
    stack = _Resource(
        stack_urn, "pulumi:pulumi:Stack", f"{plan.project}-{plan.stack}", "", False, "", {}, plan.stack_outputs, [], {}
    )

    def convert(r: Registration) -> _Resource:
        outputs = r.outputs if r.custom else plan.component_outputs.get(r.urn, {})
        return _Resource(
            r.urn,
            r.type,
            r.name,
            r.parent or "",
            r.protect,
            r.provider or "",
            r.inputs,
            outputs,
            sorted(set(r.dependencies)),
            {k: sorted(set(v)) for k, v in r.property_dependencies.items()},
            tuple(r.ignore_changes),
            r.delete_before_replace,
        )

    return [stack] + [convert(r) for r in plan.resources]


def _options(r: _Resource) -> analyzer_pb2.AnalyzerResourceOptions:
    """The resource options the Pulumi engine sends a policy pack (protect, parent, ignoreChanges, deleteBeforeReplace)."""
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=r.protect,
        parent=r.parent,
        ignoreChanges=list(r.ignore_changes),
        deleteBeforeReplace=r.delete_before_replace,
        # The plan records the option's value, not whether the program set it: an explicit False arrives as unset
        # (the CLI sends "defined" for any value the program gave).
        deleteBeforeReplaceDefined=r.delete_before_replace,
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(),
    )


def _provider(
    r: _Resource, by_urn: Mapping[str, _Resource], ids: Mapping[str, str | None]
) -> analyzer_pb2.AnalyzerProviderResource | None:
    provider = by_urn.get(r.provider.rsplit("::", 1)[0]) if r.provider else None
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, urn=provider.urn, name=provider.name, properties=_struct(provider.inputs, ids)
    )


# -------------------------------------------------------------------------------------------------- the driver


def analyze_plan(
    plan: Plan,
    pack_dir: Path | str,
    config_file: Path | str | None = None,
    stack_config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
) -> PolicyReport:
    """Start the pack, configure it, run Analyze per resource and AnalyzeStack once; stop it; return violations."""
    project = load_pack(pack_dir)
    given = load_policy_config(Path(config_file)) if config_file else {}
    env = dict(os.environ)
    env.update(
        PULUMI_PROJECT=plan.project,
        PULUMI_STACK=plan.stack,
        PULUMI_DRY_RUN="true",
        PULUMI_CONFIG=json.dumps(dict(stack_config or {}), sort_keys=True),
    )
    if secret_keys:
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(sorted(secret_keys))

    resources = _resources(plan)
    by_urn = {r.urn: r for r in resources}
    ids = {r.urn: r.id for r in plan.resources if r.custom}

    clock = time.perf_counter
    timings: dict[str, float] = {}
    started = clock()
    with PolicyPackProcess(project, env) as pack:
        timings["start"], started = clock() - started, clock()
        try:
            info = pack.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=CALL_SECONDS)
        except grpc.RpcError as exc:
            raise pack.failure("GetAnalyzerInfo", exc) from None
        policies = policy_infos(info)
        config = reconcile_config(policies, given, str(config_file) if config_file else "policy config")
        report = PolicyReport(
            pack=info.name,
            version=project.version or info.version,
            pack_dir=str(project.root),
            config_file=str(config_file) if config_file else None,
            python=project.python,
            policies=policies,
            levels={name: level for name, (level, _) in config.items()},
        )
        request = analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={
                name: analyzer_pb2.PolicyConfig(
                    enforcementLevel=analyzer_pb2.EnforcementLevel.Value(level.upper()), properties=_struct(props, {})
                )
                for name, (level, props) in config.items()
            }
        )
        try:
            pack.stub.Configure(request, timeout=CALL_SECONDS)
            with contextlib.suppress(grpc.RpcError):  # optional in the protocol; older packs lack it
                pack.stub.ConfigureStack(
                    analyzer_pb2.AnalyzerStackConfigureRequest(
                        stack=plan.stack,
                        project=plan.project,
                        organization="organization",
                        dry_run=True,
                        config=dict(stack_config or {}),
                        config_secret_keys=sorted(secret_keys or []),
                    ),
                    timeout=CALL_SECONDS,
                )
        except grpc.RpcError as exc:
            raise pack.failure("Configure", exc) from None
        timings["configure"], started = clock() - started, clock()

        diagnostics: list[tuple[str, analyzer_pb2.AnalyzeDiagnostic]] = []
        for r in resources:
            request = analyzer_pb2.AnalyzeRequest(
                type=r.type,
                urn=r.urn,
                name=r.name,
                properties=_struct(r.inputs, ids),
                options=_options(r),
                provider=_provider(r, by_urn, ids),
            )
            try:
                response = pack.stub.Analyze(request, timeout=CALL_SECONDS)
            except grpc.RpcError as exc:
                raise pack.failure(f"analyzing {r.urn}", exc) from None
            diagnostics += [(d.urn or r.urn, d) for d in response.diagnostics]
        timings["analyze"], started = clock() - started, clock()
        stack_request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    urn=r.urn,
                    name=r.name,
                    properties=_struct(r.outputs, ids),
                    options=_options(r),
                    provider=_provider(r, by_urn, ids),
                    parent=r.parent,
                    dependencies=r.dependencies,
                    propertyDependencies={
                        k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                        for k, v in r.property_dependencies.items()
                        if v
                    },
                )
                for r in resources
            ]
        )
        try:
            response = pack.stub.AnalyzeStack(stack_request, timeout=CALL_SECONDS)
        except grpc.RpcError as exc:
            raise pack.failure("running stack policies", exc) from None
        timings["analyzeStack"] = clock() - started
        stack_urn = resources[0].urn
        diagnostics += [(d.urn if d.urn in by_urn else stack_urn, d) for d in response.diagnostics]

    report.resources_analyzed = len(resources)
    report.timings = timings
    fixes = {p.name: p.remediation or p.description for p in policies}
    report.violations = sorted(
        (_violation(urn, d, by_urn, fixes) for urn, d in diagnostics),
        key=lambda v: (v.urn, v.level != "mandatory", v.policy, v.message),
    )
    return report


def _violation(
    urn: str, d: analyzer_pb2.AnalyzeDiagnostic, by_urn: Mapping[str, _Resource], fixes: Mapping[str, str]
) -> Violation:
    resource = by_urn.get(urn)
    message = d.message
    if d.description and message.startswith(d.description):
        message = message[len(d.description) :].strip()
    return Violation(
        policy=d.policyName,
        level=_level_name(d.enforcementLevel),
        severity=_severity_name(d.severity),
        urn=urn,
        resource_type=resource.type if resource else "",
        resource_name=resource.name if resource else urn,
        message=message or d.description,
        description=d.description,
        fix=fixes.get(d.policyName) or d.description,
    )


# -------------------------------------------------------------------------------------------------- rendering


def render_policy_report(report: PolicyReport) -> str:
    """Violations grouped by resource, each with its fix, then one count line."""
    config = f", config {report.config_file}" if report.config_file else ", no config file (pack defaults)"
    lines = [f"Policies: pack {report.pack} {report.version} ({len(report.policies)} policies{config})"]
    by_resource: dict[str, list[Violation]] = {}
    for v in report.violations:
        by_resource.setdefault(v.urn, []).append(v)
    for found in by_resource.values():
        lines.append(f"  {found[0].resource_name}  ({found[0].resource_type})")
        for v in found:
            lines.append(f"    [{v.level}] {v.policy}: {v.message}")
            lines.append(f"        fix: {v.fix}")
    mandatory, advisory = len(report.mandatory), len(report.advisory)
    if report.violations:
        lines.append(
            f"Policy violations: {mandatory} mandatory, {advisory} advisory "
            f"({len(by_resource)} resources affected, {report.resources_analyzed} analyzed)"
        )
    else:
        lines.append(f"Policy violations: none ({report.resources_analyzed} resources analyzed)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------- the preview CLI step


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    """`--policy-pack`, `--policy-pack-config`, `--no-policies`, named as on `pulumi preview`."""
    group = parser.add_argument_group("policies")
    group.add_argument(
        "--policy-pack",
        metavar="DIR",
        type=Path,
        help="policy pack to run (default: <project-dir>/policies when it has a PulumiPolicy.yaml)",
    )
    group.add_argument(
        "--policy-pack-config",
        metavar="FILE",
        type=Path,
        help="policy config JSON (default: <pack>/config/<env>.json when it exists)",
    )
    group.add_argument("--no-policies", action="store_true", help="do not run any policy pack")
    group.add_argument(
        "--policy-report",
        metavar="FILE",
        type=Path,
        help="also write the policy results for CI: FILE.sarif (SARIF 2.1.0, GitHub code scanning) "
        "or FILE.xml (JUnit XML, Azure DevOps test results)",
    )


def run_policy_step(args: argparse.Namespace, plan: Plan, document: dict[str, Any], out: TextIO) -> int:
    """Run the pack the flags select over `plan`, print the report to `out`, add it to `document["policies"]`.

    Returns 0 (no mandatory violation, or no pack), 1 (mandatory violations) or 2 (pack or config unusable; the
    reason is printed to stderr).
    """
    if args.no_policies:
        return 0
    report_file: Path | None = getattr(args, "policy_report", None)
    if report_file is not None:
        from .policy_report import ReportFormatError, report_format  # the CI formats live in their own module

        try:
            report_format(report_file)
        except ReportFormatError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    pack_dir: Path = args.policy_pack or Path(args.project_dir) / "policies"
    if args.policy_pack is None and not (pack_dir / "PulumiPolicy.yaml").is_file():
        return 0
    config_file: Path | None = args.policy_pack_config
    if config_file is None and (pack_dir / "config" / f"{args.env}.json").is_file():
        config_file = pack_dir / "config" / f"{args.env}.json"
    try:
        project = load_project(Path(args.project_dir).resolve())
        stack_file = Path(args.stack_file).resolve() if args.stack_file else None
        stack_config, secret_keys, _ = load_stack_config(project, args.env, stack_file)
        report = analyze_plan(plan, pack_dir, config_file, stack_config, secret_keys)
    except (PolicyError, EngineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n" + render_policy_report(report), file=out)
    document["policies"] = report.as_json()
    if report_file is not None:
        from .policy_report import write_policy_report

        try:
            kind = write_policy_report(report, report_file, Path(args.project_dir) / "Pulumi.yaml", plan.project)
        except OSError as exc:
            print(f"error: --policy-report {report_file}: cannot write: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"Policy report ({kind}): {report_file}", file=out)
    return 1 if report.mandatory else 0

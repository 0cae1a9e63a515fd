"""Run any Pulumi Python program directory the way `pulumi preview` would, against a recording mock monitor.

What the real CLI does, and what this does instead:
- reads `Pulumi.yaml` (name, runtime, main) and `Pulumi.<stack>.yaml` (config)      -> same
- passes config to the program as `<namespace>:<key>` strings, objects as JSON       -> same
- decrypts `secure:` values                                                          -> a placeholder, marked secret
- starts the language host, which runs `main` as `__main__` in a new Stack          -> same, in this process
- sends each registration to the resource monitor / providers                       -> RecordingMonitor + ArmMocks
- resolves every alias of every resource (to match URNs in the stack's state)       -> aliases dropped: there is
  no state offline, and resolving them (azure-native types carry one per past API version) was half of a run
A `pulumi.RunError` raised by the program is the program's own, user-facing error: it is reported
without a traceback, as the real CLI does.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pulumi
import yaml
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import set_mocks
from pulumi.runtime.stack import run_in_stack

from .monitor import SECRET_PLACEHOLDER, ArmMocks, RecordingMonitor, Registration



class EngineError(Exception):
    """The project or stack files cannot be used (missing, malformed): a usage error, not a program bug."""


class ProgramError(Exception):
    """The program stopped with its own user-facing error (`pulumi.RunError`)."""


@dataclass
class Plan:
    """Everything one offline preview registered, in a stable order."""

    project: str
    stack: str
    program: str
    resources: list[Registration]
    stack_outputs: dict[str, Any]
    component_outputs: dict[str, dict[str, Any]]
    warnings: list[str] = field(default_factory=list)

    def by_urn(self) -> dict[str, Registration]:
        return {r.urn: r for r in self.resources}

    def of_type(self, type_token: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_token]

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.resources:
            counts[r.type] = counts.get(r.type, 0) + 1
        return dict(sorted(counts.items()))

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "program": self.program,
            "summary": self.summary(),
            "resourceCount": len(self.resources),
            "resources": [r.as_json() for r in self.resources],
            "stackOutputs": self.stack_outputs,
            "componentOutputs": dict(sorted(self.component_outputs.items())),
            "warnings": self.warnings,
        }


@dataclass
class Project:
    name: str
    root: Path
    main: Path
    runtime: str


def load_project(project_dir: Path) -> Project:
    project_file = project_dir / "Pulumi.yaml"
    if not project_file.is_file():
        raise EngineError(f"{project_file}: no Pulumi.yaml here; point at a Pulumi project directory")
    try:
        data = yaml.safe_load(project_file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise EngineError(f"{project_file}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not data.get("name"):
        raise EngineError(f"{project_file}: needs a 'name'")
    runtime = data.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise EngineError(f"{project_file}: runtime is '{runtime_name}'; the offline engine runs Python programs only")
    main = project_dir / str(data.get("main") or ".")
    if not (main / "__main__.py").is_file():
        raise EngineError(f"{project_file}: main '{data.get('main') or '.'}' has no __main__.py")
    return Project(name=str(data["name"]), root=project_dir, main=main, runtime=runtime_name)


def _unsecure(value: Any) -> tuple[Any, bool]:
    """Replace `{secure: ...}` leaves by a placeholder; say whether any were found."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        found = False
        out = {}
        for k, v in value.items():
            out[k], f = _unsecure(v)
            found = found or f
        return out, found
    if isinstance(value, list):
        items = [_unsecure(v) for v in value]
        return [v for v, _ in items], any(f for _, f in items)
    return value, False


def load_stack_config(project: Project, stack: str, stack_file: Path | None) -> tuple[dict[str, str], list[str], Path]:
    """Config as the language host receives it: `ns:key` -> string (objects as JSON), plus the secret keys."""
    path = stack_file or project.root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise EngineError(f"{path}: no such stack file (stack '{stack}')")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise EngineError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise EngineError(f"{path}: expected a mapping with a 'config' key")
    raw = data.get("config") or {}
    if not isinstance(raw, dict):
        raise EngineError(f"{path}: 'config' must be a mapping of keys to values")
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        full_key = key if ":" in key else f"{project.name}:{key}"
        value, is_secret = _unsecure(value)
        if is_secret:
            secret_keys.append(full_key)
        config[full_key] = value if isinstance(value, str) else json.dumps(value)
    return config, secret_keys, path


class _WarningCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _without_aliases(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    """Aliases only say which URNs in the stack's state a resource used to have; an offline preview has no state.

    The SDK still turns each alias of each resource into Outputs and URNs when the resource is constructed
    (azure-native classes declare ~20, one per past API version), so a stack transformation drops them first.
    Nothing recorded changes: the monitor ignores aliases.
    """
    if not args.opts.aliases:
        return None
    opts = pulumi.ResourceOptions.merge(args.opts, None)  # a copy: the program's own options object stays as it is
    opts.aliases = None
    return pulumi.ResourceTransformationResult(args.props, opts)


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector off while the program runs, as it was afterwards.

    A run imports the azure-native SDK modules it uses: hundreds of thousands of long-lived objects. With the default
    thresholds the collector re-scans all of them every time the heap grows by a quarter (about a third of a run's time)
    and finds next to nothing: a run leaves little cyclic garbage (peak memory moves by 1-2%, docs/benchmarks.md),
    and what it leaves is collected once the collector is back on. Reference counting frees everything else as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _program_context(main: Path) -> Iterator[None]:
    """cwd and sys.path as the Python language host sets them for `main`."""
    old_cwd, old_path = os.getcwd(), list(sys.path)
    os.chdir(main)
    sys.path.insert(0, str(main))
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path


def run_program(project_dir: Path | str, stack: str, stack_file: Path | str | None = None) -> Plan:
    """Run the project's program for `stack` under the recording mock monitor and return its plan."""
    project = load_project(Path(project_dir).resolve())
    config, secret_keys, _ = load_stack_config(project, stack, Path(stack_file).resolve() if stack_file else None)

    monitor = RecordingMonitor(ArmMocks())
    logger = logging.getLogger(f"aiinfra.engine.{project.name}.{stack}")
    logger.propagate = False
    collector = _WarningCollector()
    logger.handlers[:] = [collector]

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        set_mocks(ArmMocks(), project=project.name, stack=stack, preview=True, logger=logger, monitor=monitor)
        # set_mocks registers a root stack of its own; the language host instead runs the program inside a new one.
        runtime_settings.ROOT.set(None)
        # A context property the SDK's own Settings.__init__ assigns; its descriptor typing has no setter.
        runtime_settings.SETTINGS.root_directory = str(project.root)  # pyright: ignore[reportAttributeAccessIssue]
        pulumi.runtime.set_all_config(config, secret_keys)

        def program() -> None:
            pulumi.runtime.register_stack_transformation(_without_aliases)
            with _program_context(project.main):
                runpy.run_path(str(project.main), run_name="__main__")

        try:
            with _no_cyclic_gc():
                loop.run_until_complete(run_in_stack(program))
        except pulumi.RunError as exc:
            raise ProgramError(str(exc)) from None
    finally:
        loop.close()
        asyncio.set_event_loop(None)

    registrations = sorted(monitor.registrations.values(), key=lambda r: r.urn)
    stack_urn = f"urn:pulumi:{stack}::{project.name}::pulumi:pulumi:Stack::{project.name}-{stack}"
    component_outputs = dict(monitor.component_outputs)
    stack_outputs = component_outputs.pop(stack_urn, {})
    return Plan(
        project=project.name,
        stack=stack,
        program=str(project.main.relative_to(project.root)),
        resources=registrations,
        stack_outputs=stack_outputs,
        component_outputs=component_outputs,
        warnings=sorted(set(collector.messages)),
    )

"""The language host's part: run one Pulumi Python program, in this process, under the recording mock monitor.

`engine/runner.py` starts this module in the program's own process, with the interpreter Pulumi would use for it
(so the program imports its own packages and modules, never ours); tests may also call `run` in-process. It needs
only the program's `pulumi` SDK and the standard library, never our dependencies: the runner reads Pulumi.yaml and
the stack file and hands over a plain `Task`.

What the real CLI does, and what this does instead:
- starts the language host, which runs `main` as `__main__` in a new Stack          -> same
- sends each registration to the resource monitor / providers                       -> RecordingMonitor + ArmMocks
- resolves every alias of every resource (to match URNs in the stack's state)       -> aliases dropped: there is
  no state offline, and resolving them (azure-native types carry one per past API version) was half of a run
- runs the program's transforms (`register_resource_transform`, `transforms=`)        -> same: the SDK applies them
- calls resource hooks and error hooks around create/update/delete                  -> never: nothing is created;
  the plan's warnings name the hooks the program registered
- reads a StackReference's outputs from the stack's state                           -> from the file the user gave
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
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_USAGE, EXIT_PROGRAM = 0, 2, 3
SUPPORTED_SDK_MAJOR = 3


class UsageError(Exception):
    """The run cannot start or finish for a reason the user fixes outside the program (a flag, a file, an SDK)."""


class ProgramFailed(Exception):
    """The program itself raised; the message is its error with its own frames."""


class ProgramRunError(Exception):
    """The program stopped with its own user-facing error (`pulumi.RunError`): its message, no traceback."""


@dataclass
class Task:
    """Everything the program's process needs: no file of ours to read, no YAML to parse."""

    project: str
    stack: str
    root: str
    main: str
    config: dict[str, str]
    secret_keys: list[str]
    semantics: str = "up"
    stack_references: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Task:
        return cls(**data)


class _WarningCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _check_sdk() -> None:
    """The program's pulumi SDK must be one whose mock runtime this engine drives (3.x, with a pluggable monitor)."""
    try:
        from importlib.metadata import version

        found = version("pulumi")
    except Exception:  # noqa: BLE001 - no distribution metadata: the import below says more
        found = "unknown"
    major = found.split(".")[0]
    if major.isdigit() and int(major) != SUPPORTED_SDK_MAJOR:
        raise UsageError(
            f"the program uses pulumi {found}; the offline engine drives the mock runtime of pulumi "
            f"{SUPPORTED_SDK_MAJOR}.x only"
        )
    try:
        import pulumi  # noqa: F401
        from pulumi.runtime.mocks import MockMonitor, set_mocks  # noqa: F401
        from pulumi.runtime.stack import run_in_stack  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            f"the program's interpreter ({sys.executable}) cannot import the pulumi SDK's mock runtime "
            f"({exc}); install the program's requirements (`pulumi install`) first"
        ) from None


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


def _user_frames(exc: BaseException, root: Path) -> str:
    """The program's error as Python prints it, with only the program's own frames (none of the engine's, the SDK's
    or asyncio's)."""
    frames = traceback.extract_tb(exc.__traceback__)
    root_text, engine_text = str(root) + os.sep, str(Path(__file__).resolve().parent) + os.sep

    def own(frame: traceback.FrameSummary) -> bool:
        name = frame.filename
        return (
            name.startswith(root_text)
            and not name.startswith(engine_text)
            and f"{os.sep}site-packages{os.sep}" not in name
        )

    kept = [f for f in frames if own(f)]
    lines = (
        ["Traceback (the program's frames):\n", *traceback.format_list(kept)]
        if kept
        else ["(raised by the pulumi SDK while resolving the program's values, outside the program's own code)\n"]
    )
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


def run(task: Task) -> Any:
    """Run the program of `task` under the recording mock monitor and return its `Plan`."""
    _check_sdk()
    import pulumi
    from pulumi.runtime import settings as runtime_settings
    from pulumi.runtime.mocks import set_mocks
    from pulumi.runtime.stack import run_in_stack

    from .monitor import ArmMocks, RecordingMonitor, StackReferenceMissing
    from .plan import Plan

    def without_aliases(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        """Aliases only say which URNs in the stack's state a resource used to have; an offline preview has no state.

        The SDK still turns each alias of each resource into Outputs and URNs when the resource is constructed
        (azure-native classes declare ~20, one per past API version), so a stack transformation drops them first.
        Nothing recorded changes: the monitor ignores aliases.
        """
        if not args.opts.aliases:
            return None
        opts = pulumi.ResourceOptions.merge(args.opts, None)  # a copy: the program's own options object stays as is
        opts.aliases = None
        return pulumi.ResourceTransformationResult(args.props, opts)

    root, main = Path(task.root), Path(task.main)
    mocks = ArmMocks(task.semantics, stack_references=task.stack_references)
    monitor = RecordingMonitor(mocks)
    logger = logging.getLogger(f"aiinfra.engine.{task.project}.{task.stack}")
    logger.propagate = False
    collector = _WarningCollector()
    logger.handlers[:] = [collector]

    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda _loop, _context: None)  # the program's error is reported once, below
    asyncio.set_event_loop(loop)
    try:
        set_mocks(mocks, project=task.project, stack=task.stack, preview=True, logger=logger, monitor=monitor)
        # set_mocks registers a root stack of its own; the language host instead runs the program inside a new one.
        runtime_settings.ROOT.set(None)
        # A context property the SDK's own Settings.__init__ assigns; its descriptor typing has no setter.
        runtime_settings.SETTINGS.root_directory = str(root)  # pyright: ignore[reportAttributeAccessIssue]
        pulumi.runtime.set_all_config(task.config, task.secret_keys)

        def program() -> None:
            pulumi.runtime.register_stack_transformation(without_aliases)
            with _program_context(main):
                runpy.run_path(str(main), run_name="__main__")

        try:
            with _no_cyclic_gc():
                loop.run_until_complete(run_in_stack(program))
        except pulumi.RunError as exc:
            raise ProgramRunError(str(exc)) from None
        except SystemExit as exc:  # the language host treats a program that exits as a failed one
            raise ProgramFailed(f"the program called sys.exit({exc.code!r}) before it finished") from None
        except Exception as exc:  # noqa: BLE001 - whatever the program raised is the program's failure
            if mocks.missing_reference is not None:
                raise UsageError(StackReferenceMissing.message(mocks.missing_reference)) from None
            raise ProgramFailed(_user_frames(exc, root)) from None
    finally:
        loop.close()
        asyncio.set_event_loop(None)

    registrations = sorted(monitor.registrations.values(), key=lambda r: r.urn)
    stack_urn = f"urn:pulumi:{task.stack}::{task.project}::pulumi:pulumi:Stack::{task.project}-{task.stack}"
    component_outputs = dict(monitor.component_outputs)
    stack_outputs = component_outputs.pop(stack_urn, {})
    return Plan(
        project=task.project,
        stack=task.stack,
        program=os.path.relpath(main, root) if main != root else ".",
        resources=registrations,
        stack_outputs=stack_outputs,
        component_outputs=component_outputs,
        warnings=sorted(set(collector.messages) | set(monitor.warnings)),
        semantics=task.semantics,
        default_providers=default_providers(task.config, task.secret_keys),
    )


# Stack config the default provider reads for the cost estimate: `azure-native:location` is where the azure-native
# provider puts a resource created without a `location` (pulumi/pulumi-azure-native, provider/pkg/provider/provider.go
# `getDefaultLocation`: the config location first, else the resource group's).
_DEFAULT_PROVIDER_KEYS = ("azure-native:location",)


def default_providers(config: dict[str, str], secret_keys: list[str]) -> dict[str, dict[str, Any]]:
    """{package: {input: value}} of the default providers, from the (non-secret) stack config keys above."""
    found: dict[str, dict[str, Any]] = {}
    for key in _DEFAULT_PROVIDER_KEYS:
        if key in config and key not in secret_keys:
            package, name = key.split(":", 1)
            found.setdefault(package, {})[name] = config[key]
    return found


def child_main(task_path: str, result_path: str) -> int:
    """Entry point in the program's own process: the task from a file, the plan (or the error) to a file."""
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # no "Task exception was never retrieved" noise
    task = Task.from_json(json.loads(Path(task_path).read_text()))
    code, result = EXIT_OK, {}
    try:
        result = {"plan": run(task).as_json()}
    except UsageError as exc:
        code, result = EXIT_USAGE, {"error": str(exc), "kind": "usage"}
    except ProgramRunError as exc:
        code, result = EXIT_USAGE, {"error": str(exc), "kind": "run-error"}
    except ProgramFailed as exc:
        code, result = EXIT_PROGRAM, {"error": str(exc), "kind": "program"}
    Path(result_path).write_text(json.dumps(result, sort_keys=True))
    sys.stdout.flush()
    sys.stderr.flush()
    # No interpreter teardown: the run leaves hundreds of thousands of SDK objects that need no freeing.
    os._exit(code)

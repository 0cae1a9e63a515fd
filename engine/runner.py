"""Run any Pulumi Python program directory the way `pulumi preview` would, against a recording mock monitor.

What the real CLI does, and what this does instead:
- reads `Pulumi.yaml` (name, runtime, main) and `Pulumi.<stack>.yaml` (config)      -> same
- passes config to the program as `<namespace>:<key>` strings, objects as JSON       -> same
- decrypts `secure:` values                                                          -> a placeholder, marked secret
- starts the program with the interpreter of its `runtime.options` (`virtualenv`,   -> same, in a process of its own
  `toolchain`), so it imports its own packages and its own modules                      (engine/host.py runs there)
A `pulumi.RunError` raised by the program is the program's own, user-facing error: it is reported without a
traceback, as the real CLI does (`ProgramError`). Any other exception is the program failing (`ProgramFailure`):
reported with the program's own frames only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import host
from .monitor import PREVIEW, SEMANTICS, UP
from .plan import SECRET_PLACEHOLDER, Plan, PlanFormatError

DEFAULT_SEMANTICS = UP
ENGINE_DIR = Path(__file__).resolve().parent
# Started with the program's interpreter: makes engine/ importable as a package of its own (without running
# aiinfra's or aiinfra.engine's __init__, whose imports need our dependencies) and hands over to engine/host.py.
_BOOTSTRAP = (
    "import sys, types\n"
    "del sys.path[0]\n"
    "package = types.ModuleType('_aiinfra_offline_engine')\n"
    "package.__path__ = [sys.argv[1]]\n"
    "sys.modules[package.__name__] = package\n"
    "from _aiinfra_offline_engine.host import child_main\n"
    "child_main(sys.argv[2], sys.argv[3])\n"
)


class EngineError(Exception):
    """The project or stack files cannot be used (missing, malformed): a usage error, not a program bug."""


class ProgramError(Exception):
    """The program stopped with its own user-facing error (`pulumi.RunError`)."""


class ProgramFailure(ProgramError):
    """The program itself failed (an exception it raised): the message is its error with its own frames."""


@dataclass
class Project:
    name: str
    root: Path
    main: Path
    runtime: str
    options: dict[str, Any]


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
    options = runtime.get("options") if isinstance(runtime, dict) else None
    if options is not None and not isinstance(options, dict):
        raise EngineError(f"{project_file}: runtime.options must be a mapping (toolchain, virtualenv, ...)")
    return Project(name=str(data["name"]), root=project_dir, main=main, runtime=runtime_name, options=options or {})


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


class _StackFileLoader(yaml.SafeLoader):
    """YAML as the Pulumi CLI reads a stack file: an unquoted date (`version: 2024-11-20`) stays the string it was
    written as (Go's yaml.v3 decodes untagged timestamps into a generic value as strings), never a date object."""


_StackFileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_stack_config(project: Project, stack: str, stack_file: Path | None) -> tuple[dict[str, str], list[str], Path]:
    """Config as the language host receives it: `ns:key` -> string (objects as JSON), plus the secret keys."""
    path = stack_file or project.root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise EngineError(f"{path}: no such stack file (stack '{stack}')")
    try:
        data = yaml.load(path.read_text(), Loader=_StackFileLoader) or {}  # noqa: S506 (a SafeLoader)
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


def program_interpreter(project: Project) -> tuple[Path, str | None]:
    """The Python `pulumi preview` would run the program with: its `runtime.options` (`virtualenv`, or the `uv`
    toolchain's default `.venv`, or poetry's environment), else the current interpreter
    (https://www.pulumi.com/docs/iac/concepts/projects/project-file/#runtime-options).

    `pulumi preview` creates a missing virtualenv and installs the program's requirements first; offline nothing can
    be installed, so a missing one falls back to the current interpreter, and the note (second value) says so.
    """
    where = project.root / "Pulumi.yaml"
    toolchain = str(project.options.get("toolchain") or "pip")
    virtualenv = project.options.get("virtualenv")
    if toolchain == "poetry":
        poetry = shutil.which("poetry")
        found = (
            subprocess.run([poetry, "env", "info", "--executable"], cwd=project.root, capture_output=True, text=True)
            if poetry
            else None
        )
        if found is None or found.returncode != 0 or not found.stdout.strip():
            return Path(sys.executable), (
                f"{where}: toolchain poetry has no environment here (run `pulumi install`); "
                f"ran with {sys.executable}, so the program's own packages may differ"
            )
        return Path(found.stdout.strip()), None
    if virtualenv is None and toolchain == "uv":
        virtualenv = ".venv"
    if virtualenv is None:
        return Path(sys.executable), None
    venv = Path(str(virtualenv)).expanduser()
    venv = venv if venv.is_absolute() else project.root / venv
    for candidate in (venv / "bin" / "python", venv / "Scripts" / "python.exe"):
        if candidate.is_file():
            return candidate, None
    return Path(sys.executable), (
        f"{where}: runtime.options.virtualenv '{virtualenv}' does not exist (create it "
        f"with `pulumi install`); ran with {sys.executable}, so the program's own "
        "packages may differ"
    )


def read_stack_reference(name: str, path: Path) -> dict[str, Any]:
    """The outputs of stack `name` from `path`: a plan JSON this tool wrote, or `pulumi stack output --json`."""
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        raise EngineError(f"--stack-reference {name}={path}: cannot read the file ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise EngineError(f"--stack-reference {name}={path}: not JSON ({exc})") from None
    if isinstance(document, dict) and ("plan" in document or "resources" in document):
        try:
            return Plan.from_json(document, str(path)).stack_outputs
        except PlanFormatError as exc:
            raise EngineError(f"--stack-reference {name}={path}: {exc}") from None
    if not isinstance(document, dict):
        raise EngineError(f"--stack-reference {name}={path}: expected an object of outputs or a saved plan")
    return document


def run_program(
    project_dir: Path | str,
    stack: str,
    stack_file: Path | str | None = None,
    *,
    semantics: str = DEFAULT_SEMANTICS,
    stack_references: dict[str, Path] | None = None,
    in_process: bool = False,
) -> Plan:
    """Run the project's program for `stack` under the recording mock monitor and return its plan.

    The program runs in a process of its own, with its own interpreter (`program_interpreter`); `in_process=True`
    runs it in this one instead (faster for many small runs of programs that need nothing of their own).
    """
    if semantics not in SEMANTICS:
        raise EngineError(f"semantics must be one of {', '.join(SEMANTICS)}, not '{semantics}'")
    project = load_project(Path(project_dir).resolve())
    config, secret_keys, _ = load_stack_config(project, stack, Path(stack_file).resolve() if stack_file else None)
    task = host.Task(
        project=project.name,
        stack=stack,
        root=str(project.root),
        main=str(project.main.resolve()),
        config=config,
        secret_keys=secret_keys,
        semantics=semantics,
        stack_references={
            name: read_stack_reference(name, Path(path)) for name, path in (stack_references or {}).items()
        },
    )
    if in_process:
        try:
            plan: Plan = host.run(task)
        except host.UsageError as exc:
            raise EngineError(str(exc)) from None
        except host.ProgramRunError as exc:
            raise ProgramError(str(exc)) from None
        except host.ProgramFailed as exc:
            raise ProgramFailure(str(exc)) from None
        return plan
    return _run_in_own_process(project, task)


def _run_in_own_process(project: Project, task: host.Task) -> Plan:
    interpreter, note = program_interpreter(project)
    with tempfile.TemporaryDirectory(prefix="aiinfra-preview-") as scratch:
        task_path, result_path = Path(scratch) / "task.json", Path(scratch) / "result.json"
        task_path.write_text(json.dumps(task.__dict__))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        proc = subprocess.run(
            [str(interpreter), "-c", _BOOTSTRAP, str(ENGINE_DIR), str(task_path), str(result_path)],
            cwd=project.main,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        result = json.loads(result_path.read_text()) if result_path.is_file() else None
    if result is None:
        tail = "\n  ".join(proc.stderr.strip().splitlines()[-15:])
        raise EngineError(
            f"the program's interpreter ({interpreter}) stopped before the program ran "
            f"(exit {proc.returncode}):\n  {tail}"
        )
    # What the program printed, as `pulumi preview` shows it (on stderr: stdout may carry `--json -`).
    sys.stderr.write(proc.stdout + proc.stderr)
    if "plan" in result:
        plan = Plan.from_json(result, "the program's plan")
        plan.warnings = sorted({*plan.warnings, note}) if note else plan.warnings
        return plan
    kind, message = result.get("kind"), str(result.get("error"))
    message = f"{message}\n(note: {note})" if note else message
    if kind == "usage":
        raise EngineError(message)
    if kind == "run-error":
        raise ProgramError(message)
    raise ProgramFailure(message)


__all__ = [
    "DEFAULT_SEMANTICS",
    "PREVIEW",
    "SECRET_PLACEHOLDER",
    "UP",
    "EngineError",
    "Plan",
    "ProgramError",
    "ProgramFailure",
    "Project",
    "load_project",
    "load_stack_config",
    "program_interpreter",
    "run_program",
]

"""One measurement, in a fresh interpreter: `python -m bench.child '<task as JSON>'`.

bench.benchmark starts one of these per measurement so runs share no imports, caches or memory; each writes its
timings (wall and CPU seconds per phase) and its peak memory (`ru_maxrss`, its own and its largest child's, e.g. the
policy pack) as JSON to the task's `result` path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import importlib
import json
import pickle
import resource
import runpy
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OWN_PACKAGES = ("components", "stacks", "engine", "policies")
PACK_PEAKS: list[int] = []  # peak RSS (kB) of each policy pack process this measurement started


def _cpu_seconds() -> float:
    """CPU of this process and of its finished children: the program runs in a process of its own
    (engine/runner.py), whose CPU is the program run's."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class Phases:
    """Wall and CPU seconds per named phase (a phase entered twice adds up)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), _cpu_seconds()
        try:
            yield
        finally:
            self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall
            self.cpu[name] = self.cpu.get(name, 0.0) + _cpu_seconds() - cpu

    def timed(self, name: str, function: Callable[..., Any], keep: list[Any] | None = None) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self(name):
                value = function(*args, **kwargs)
            if keep is not None:
                keep.append(value)
            return value

        return wrapper

    def as_json(self) -> dict[str, Any]:
        return {"wall": self.wall, "cpu": self.cpu}


def _watch_pack_memory(analyzer: Any, peaks: list[int]) -> None:
    """Record the policy pack process's peak RSS (Linux: VmHWM) just before the driver stops it.

    `ru_maxrss` of children would not do: the pack is forked from this process, so it counts this process's pages.
    """
    close = analyzer.PolicyPackProcess.close

    def close_and_measure(pack: Any) -> None:
        status = Path(f"/proc/{pack.process.pid}/status")
        if pack.process.poll() is None and status.is_file():
            peaks.extend(int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
        close(pack)

    analyzer.PolicyPackProcess.close = close_and_measure


def preview(task: dict[str, Any], phases: Phases) -> dict[str, Any]:
    """`python -m stacks.preview ENV` as a user runs it (its `__main__` block: tree, cost, policies, exit), with the
    engine's entry points timed: program run, cost, policy pass."""
    from aiinfra import engine
    from aiinfra.engine import analyzer, cost

    plans: list[Any] = []
    reports: list[Any] = []
    engine.run_program = phases.timed("program", engine.run_program, plans)
    cost.load_price_table = phases.timed("cost", cost.load_price_table)
    cost.estimate = phases.timed("cost", cost.estimate)
    analyzer.run_policy_step = phases.timed("policies", analyzer.run_policy_step)
    analyzer.analyze_plan = phases.timed("analyze_plan", analyzer.analyze_plan, reports)
    _watch_pack_memory(analyzer, PACK_PEAKS)
    sys.argv = ["stacks.preview", task["env"]]
    exit_code: Any = 0
    try:
        runpy.run_module("stacks.preview", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        exit_code = exc.code
    if exit_code not in (0, 1) or not plans or not reports:  # 1: mandatory violations, still a full preview
        raise SystemExit(f"preview {task['env']} exited {exit_code} (policies run: {bool(reports)})")
    return {"exitCode": exit_code, "resources": len(plans[0].resources), "policyTimings": reports[0].timings}


# Providers published outside the `pulumi_<name>` convention (pulumiverse): package name -> Python package.
_COMMUNITY_PACKAGES = {"time": "pulumiverse_time"}


def sdk_module(type_token: str) -> str:
    """The Python module of a provider type's class: `azure-native:network:VirtualNetwork` ->
    pulumi_azure_native.network, `azuread:index/group:Group` -> pulumi_azuread."""
    package, module, _ = type_token.split(":")
    python_package = _COMMUNITY_PACKAGES.get(package, "pulumi_" + package.replace("-", "_"))
    return python_package if module == "index" or module.startswith("index/") else f"{python_package}.{module}"


def _parents_first(plan: Any) -> list[dict[str, Any]]:
    """The plan's resources for bench/baseline_program: parents before children, custom ones with their SDK module."""
    depth = {r.urn: r.urn.split("::")[2].count("$") for r in plan.resources}
    return [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "custom": r.custom,
            "inputs": r.inputs,
            "module": sdk_module(r.type) if r.custom else None,
        }
        for r in sorted(plan.resources, key=lambda r: (depth[r.urn], r.urn))
    ]


def program(task: dict[str, Any], phases: Phases) -> dict[str, Any]:
    """engine.run_program on a project directory: the program alone (its own imports included), no policies."""
    with phases("imports"):
        from aiinfra.engine import run_program
    with phases("program"):
        plan = run_program(task["project"], task["stack"], task.get("stack_file"))
    if task.get("spec"):
        Path(task["spec"]).write_text(json.dumps(_parents_first(plan)))
    if task.get("plan"):
        Path(task["plan"]).write_bytes(pickle.dumps(plan))
    return {"resources": len(plan.resources), "types": len({r.type for r in plan.resources})}


def sdk(task: dict[str, Any], phases: Phases) -> dict[str, Any]:
    """Import (and load: the SDKs load submodules lazily) the SDK modules a spec's resources need, and nothing else,
    with the cyclic GC off as during a run: the part of the floor the SDK's own size sets."""
    resources = json.loads(Path(task["spec"]).read_text())
    modules = sorted({r["module"] for r in resources if r["module"]})
    with phases("imports"):
        import pulumi  # noqa: F401  (the runtime, as `engine` imports it before a run)
    gc.disable()
    with phases("program"):
        for name in modules:
            getattr(importlib.import_module(name), "__all__", None)  # any attribute loads a lazy module
    return {"resources": len(resources), "modules": len(modules)}


def policies(task: dict[str, Any], phases: Phases) -> dict[str, Any]:
    """The policy pack over a recorded plan (its resources repeated `copies` times): startup and Analyze rate."""
    with phases("imports"):
        from aiinfra.engine import analyzer
        from aiinfra.engine.runner import load_project, load_stack_config
    _watch_pack_memory(analyzer, PACK_PEAKS)
    plan = pickle.loads(Path(task["plan"]).read_bytes())
    copies = int(task.get("copies", 1))
    plan.resources = [
        dataclasses.replace(r, urn=f"{r.urn}~{k}", name=f"{r.name}~{k}") if k else r
        for k in range(copies)
        for r in plan.resources
    ]
    project = load_project(REPO)
    config, secret_keys, _ = load_stack_config(project, task["env"], None)
    config_file = REPO / "policies" / "config" / f"{task['env']}.json"
    with phases("policies"):
        report = analyzer.analyze_plan(plan, REPO / "policies", config_file, config, secret_keys)
    return {
        "resources": report.resources_analyzed,
        "policies": len(report.policies),
        "violations": len(report.violations),
        "policyTimings": report.timings,
    }


def compile_own(task: dict[str, Any], phases: Phases) -> dict[str, Any]:
    """Compile the repository's own modules the way every run does when bytecode is not written."""
    files = sorted(p for package in OWN_PACKAGES for p in (REPO / package).rglob("*.py"))
    with phases("compile"):
        for path in files:
            compile(path.read_bytes(), str(path), "exec")
    return {"files": len(files)}


KINDS: dict[str, Callable[[dict[str, Any], Phases], dict[str, Any]]] = {
    "preview": preview,
    "program": program,
    "sdk": sdk,
    "policies": policies,
    "compile": compile_own,
}


def main(argv: list[str]) -> None:
    task = json.loads(argv[0])
    phases = Phases()
    result = KINDS[task["kind"]](task, phases)
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.update(
        phases.as_json(),
        maxrssKb=own.ru_maxrss,
        packMaxrssKb=max(PACK_PEAKS, default=0),
        cpuTotal=own.ru_utime + own.ru_stime,
        childCpu=children.ru_utime + children.ru_stime,
    )
    Path(task["result"]).write_text(json.dumps(result))
    gc.freeze()  # as stacks.preview does: a quick exit, so the whole benchmark takes less time


if __name__ == "__main__":
    main(sys.argv[1:])

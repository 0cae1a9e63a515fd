"""How fast the offline preview is and how it grows: `python -m bench.benchmark [--quick] [--out FILE]` (`make bench`).

Measures, in one run on one machine, each measurement in a fresh interpreter (bench.child):
1. `python -m stacks.preview ENV` (with policies) for each environment: wall time, split into program run, policy
   pass and cost, and the resource count;
2. the program alone (engine.run_program, no policies) against baselines under the same engine: the same
   resources registered flat by their SDK classes, as many resources of a fake type (the floor of the Pulumi runtime
   itself), and importing the SDK modules alone;
3. growth: the dev config with 1, 10, 50 workspaces (each with its pools): time per resource;
4. the policy pack alone: its startup and Analyze calls per second once started;
5. the peak memory (ru_maxrss) of each run and of the policy pack process;
and writes the tables, with the machine they ran on, to docs/benchmarks.md. Times are medians of `--repeat` runs,
with their spread (± half the range, relative to the median) as the noise.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "docs" / "benchmarks.md"
BASELINE_PROGRAM = Path(__file__).resolve().parent / "baseline_program" / "__main__.py"
GROWTH_TEMPLATE = "dev"
BASELINE_STACK = "bench"

# The targets.
PROGRAM_VS_BASELINE = 1.3  # issue 16: the prd preview within 1.3x of the same resources registered flat
ANALYZE_MS_PER_RESOURCE = 5.0  # "a few milliseconds" per resource once the pack has started
GROWTH_PER_RESOURCE = 1.3  # time per resource at the largest size within 1.3x of that at the smallest


class BenchError(Exception):
    """A measurement failed: the message carries the child's error output."""


Result = dict[str, Any]


@dataclass
class Runner:
    """Starts one fresh interpreter per measurement and collects its JSON result."""

    workdir: Path
    verbose: bool = True
    count: int = 0

    def run(self, label: str, task: dict[str, Any]) -> Result:
        self.count += 1
        result_path = self.workdir / f"result-{self.count}.json"
        task = dict(task, result=str(result_path))
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "bench.child", json.dumps(task)],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        elapsed = time.perf_counter() - started
        if proc.returncode != 0 or not result_path.is_file():
            tail = "\n    ".join(proc.stderr.strip().splitlines()[-20:])
            raise BenchError(f"{label}: the measurement failed (exit {proc.returncode}):\n    {tail}")
        result: Result = json.loads(result_path.read_text())
        result["processWall"] = elapsed
        if self.verbose:
            print(f"  {label}: {elapsed:.2f} s", file=sys.stderr, flush=True)
        return result


# ------------------------------------------------------------------------------------------------- statistics


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> float:
    """Half the range relative to the median: the noise between repetitions."""
    middle = median(values)
    return (max(values) - min(values)) / 2 / middle if middle else 0.0


def seconds(values: Sequence[float]) -> str:
    text = f"{median(values):.2f} s"
    return text + (f" ±{spread(values):.0%}" if len(values) > 1 else "")


def millis(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def megabytes(kilobytes: Sequence[float]) -> str:
    return f"{max(kilobytes) / 1024:.0f} MB"


def pick(results: Sequence[Result], get: Callable[[Result], float]) -> list[float]:
    return [get(r) for r in results]


# ------------------------------------------------------------------------------------------------ generated input


def growth_stack_file(workspaces: int, directory: Path) -> Path:
    """The dev config with `workspaces` copies of its first workspace (pools included); AKS stays attached to its own
    workspace (one without a managed network), kept as well."""
    data = yaml.safe_load((REPO / f"Pulumi.{GROWTH_TEMPLATE}.yaml").read_text())
    platform_config = data["config"]["aiinfra:platform"]
    template = platform_config["workspaces"][0]
    attach = (platform_config.get("aks") or {}).get("attach")
    attached = [w for w in platform_config["workspaces"] if attach and w["name"] == attach["workspace"]]
    platform_config["workspaces"] = [
        dict(copy.deepcopy(template), name=f"ws{i:03d}") for i in range(workspaces)
    ] + attached
    path = directory / f"Pulumi.grow{workspaces}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def baseline_project(mode: str, spec: list[dict[str, Any]], directory: Path) -> Path:
    """A project directory running bench/baseline_program over `spec` (the measured plan's resources)."""
    project = directory / f"baseline-{mode}"
    project.mkdir()
    shutil.copy(BASELINE_PROGRAM, project / "__main__.py")
    (project / "Pulumi.yaml").write_text("name: baseline\nruntime: python\n")
    (project / f"Pulumi.{BASELINE_STACK}.yaml").write_text("config: {}\n")
    (project / "spec.json").write_text(json.dumps({"mode": mode, "resources": spec}))
    return project


# ------------------------------------------------------------------------------------------------ the measurements


@dataclass
class Measurements:
    envs: list[str]
    sizes: list[int]
    repeat: int
    copies: int
    baseline_env: str
    preview: dict[str, list[Result]] = field(default_factory=dict)
    program: dict[str, list[Result]] = field(default_factory=dict)
    growth: dict[int, list[Result]] = field(default_factory=dict)
    policies: list[Result] = field(default_factory=list)
    compile: list[Result] = field(default_factory=list)
    load: list[tuple[float, float, float]] = field(default_factory=list)
    started: str = ""
    seconds: float = 0.0


def measure(envs: list[str], sizes: list[int], repeat: int, copies: int, verbose: bool = True) -> Measurements:
    m = Measurements(envs=envs, sizes=sizes, repeat=repeat, copies=copies, baseline_env=envs[-1])
    m.started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    m.load.append(os.getloadavg())
    clock = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aiinfra-bench-") as tmp:
        workdir = Path(tmp)
        runner = Runner(workdir, verbose)
        spec_path, plan_path = workdir / "spec.json", workdir / "plan.pickle"
        stack_files = {n: growth_stack_file(n, workdir) for n in sizes}
        projects: dict[str, Path] = {}
        for rep in range(1, repeat + 1):
            if verbose:
                print(f"repetition {rep}/{repeat}", file=sys.stderr, flush=True)
            for env in envs:
                m.preview.setdefault(env, []).append(runner.run(f"preview {env}", {"kind": "preview", "env": env}))
            first = rep == 1
            m.program.setdefault("ours", []).append(
                runner.run(
                    f"program {m.baseline_env}",
                    {
                        "kind": "program",
                        "project": str(REPO),
                        "stack": m.baseline_env,
                        **({"spec": str(spec_path), "plan": str(plan_path)} if first else {}),
                    },
                )
            )
            if first:
                spec = json.loads(spec_path.read_text())
                projects = {mode: baseline_project(mode, spec, workdir) for mode in ("azure-native", "fake")}
            for mode, project in projects.items():
                m.program.setdefault(mode, []).append(
                    runner.run(
                        f"baseline {mode}", {"kind": "program", "project": str(project), "stack": BASELINE_STACK}
                    )
                )
            m.program.setdefault("sdk", []).append(
                runner.run("SDK modules alone", {"kind": "sdk", "spec": str(spec_path)})
            )
            for n in sizes:
                m.growth.setdefault(n, []).append(
                    runner.run(
                        f"growth {n} workspaces",
                        {
                            "kind": "program",
                            "project": str(REPO),
                            "stack": f"grow{n}",
                            "stack_file": str(stack_files[n]),
                        },
                    )
                )
            m.policies.append(
                runner.run(
                    f"policy pack ({copies}x {m.baseline_env})",
                    {"kind": "policies", "plan": str(plan_path), "env": m.baseline_env, "copies": copies},
                )
            )
            m.compile.append(runner.run("compile own modules", {"kind": "compile"}))
    m.load.append(os.getloadavg())
    m.seconds = time.perf_counter() - clock
    return m


# ---------------------------------------------------------------------------------------------------- the report


def machine() -> list[tuple[str, str]]:
    def proc(file: str, key: str) -> str | None:
        path = Path("/proc") / file
        lines = path.read_text().splitlines() if path.is_file() else []
        return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(key)), None)

    cpu = proc("cpuinfo", "model name") or platform.processor() or platform.machine()
    total_kb = proc("meminfo", "MemTotal:")
    memory = f"{int(total_kb.split()[0]) / 1024 / 1024:.1f} GiB" if total_kb else "unknown"
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("pulumi", "pulumi-azure-native", "pulumi-policy", "pydantic")
    )
    return [
        ("CPU", cpu),
        ("cores", str(os.cpu_count())),
        ("RAM", memory),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("packages", versions),
        ("PYTHONDONTWRITEBYTECODE", os.environ.get("PYTHONDONTWRITEBYTECODE") or "unset"),
    ]


def _wall(phase: str) -> Callable[[Result], float]:
    return lambda r: r["wall"].get(phase, 0.0)


def _cpu(phase: str) -> Callable[[Result], float]:
    return lambda r: r["cpu"].get(phase, 0.0)


def _per_resource(results: Sequence[Result]) -> float:
    return median(pick(results, _wall("program"))) / results[0]["resources"]


def preview_table(m: Measurements) -> list[str]:
    lines = [
        "| env | resources | whole command | program run | policy pass | cost | the rest | "
        "CPU (preview + pack) | peak memory (preview / pack) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for env, results in m.preview.items():
        rest = pick(
            results, lambda r: r["processWall"] - sum(r["wall"].get(p, 0.0) for p in ("program", "policies", "cost"))
        )
        lines.append(
            " | ".join(
                [
                    f"| {env}",
                    str(results[0]["resources"]),
                    seconds(pick(results, lambda r: r["processWall"])),
                    seconds(pick(results, _wall("program"))),
                    seconds(pick(results, _wall("policies"))),
                    seconds(pick(results, _wall("cost"))),
                    seconds(rest),
                    seconds(pick(results, lambda r: r["cpuTotal"] + r["childCpu"])),
                    f"{megabytes(pick(results, lambda r: r['maxrssKb']))} / "
                    f"{megabytes(pick(results, lambda r: r['packMaxrssKb']))} |",
                ]
            )
        )
    return lines


BASELINE_ROWS = {
    "ours": "our program (`stacks/`, {env})",
    "azure-native": "baseline: the same resources, flat (SDK classes, literal inputs)",
    "fake": "baseline: as many resources of a fake type (the Pulumi runtime alone)",
    "sdk": "no resources: only importing the SDK modules the same resources' classes live in",
}


def baseline_ratios(m: Measurements) -> dict[str, float]:
    ours = median(pick(m.program["ours"], _wall("program")))
    return {mode: ours / median(pick(results, _wall("program"))) for mode, results in m.program.items()}


def program_table(m: Measurements) -> list[str]:
    ratios = baseline_ratios(m)
    lines = [
        "| program | resources | run (wall) | run (CPU) | per resource | ours ÷ this | peak memory |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for mode, results in m.program.items():
        registers = mode != "sdk"
        lines.append(
            " | ".join(
                [
                    f"| {BASELINE_ROWS[mode].format(env=m.baseline_env)}",
                    str(results[0]["resources"]) if registers else "0",
                    seconds(pick(results, _wall("program"))),
                    seconds(pick(results, _cpu("program"))),
                    millis(_per_resource(results)) if registers else "–",
                    f"{ratios[mode]:.2f}x",
                    f"{megabytes(pick(results, lambda r: r['maxrssKb']))} |",
                ]
            )
        )
    return lines


def marginals(m: Measurements) -> dict[int, float]:
    """Per growth size after the first: the extra program time per extra resource since the previous size."""
    points = [(m.growth[n][0]["resources"], median(pick(m.growth[n], _wall("program")))) for n in m.sizes]
    return {
        n: (wall - before) / (count - count_before)
        for n, (count_before, before), (count, wall) in zip(m.sizes[1:], points, points[1:], strict=False)
        if count > count_before
    }


def growth_table(m: Measurements) -> list[str]:
    lines = [
        "| workspaces | resources | program run | run (CPU) | per resource | ÷ smallest | "
        "marginal per added resource | peak memory |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    base = _per_resource(m.growth[m.sizes[0]])
    marginal = marginals(m)
    for n in m.sizes:
        results = m.growth[n]
        lines.append(
            " | ".join(
                [
                    f"| {n}",
                    str(results[0]["resources"]),
                    seconds(pick(results, _wall("program"))),
                    seconds(pick(results, _cpu("program"))),
                    millis(_per_resource(results)),
                    f"{_per_resource(results) / base:.2f}x",
                    millis(marginal[n]) if n in marginal else "–",
                    f"{megabytes(pick(results, lambda r: r['maxrssKb']))} |",
                ]
            )
        )
    return lines


def analyze_rate(m: Measurements) -> tuple[float, float]:
    """Median (ms per Analyze call, calls per second) over the repetitions."""
    per_call = [r["policyTimings"]["analyze"] / r["resources"] for r in m.policies]
    return median(per_call), 1 / median(per_call)


def policy_table(m: Measurements) -> list[str]:
    ms_per_call, rate = analyze_rate(m)
    results = m.policies

    def timing(key: str) -> list[float]:
        return pick(results, lambda r: r["policyTimings"][key])

    return [
        "| resources analyzed | policies | pack startup | GetAnalyzerInfo + Configure | Analyze calls/s | "
        "per Analyze call | AnalyzeStack | whole pass | pack peak memory |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        " | ".join(
            [
                f"| {results[0]['resources']} ({m.copies}x {m.baseline_env})",
                str(results[0]["policies"]),
                seconds(timing("start")),
                seconds(timing("configure")),
                f"{rate:.0f}",
                millis(ms_per_call),
                seconds(timing("analyzeStack")),
                seconds(pick(results, _wall("policies"))),
                f"{megabytes(pick(results, lambda r: r['packMaxrssKb']))} |",
            ]
        ),
    ]


def targets(m: Measurements) -> list[str]:
    ratio = baseline_ratios(m)["azure-native"]
    ms_per_call, _ = analyze_rate(m)
    growth = _per_resource(m.growth[m.sizes[-1]]) / _per_resource(m.growth[m.sizes[0]])

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    return [
        f"- {m.baseline_env} program (no policies) ÷ the same resources registered flat: **{ratio:.2f}x** "
        f"(target ≤ {PROGRAM_VS_BASELINE}x): {verdict(ratio <= PROGRAM_VS_BASELINE)}.",
        f"- policy pass per resource once the pack has started: **{millis(ms_per_call)}** "
        f"(target: a few ms, ≤ {ANALYZE_MS_PER_RESOURCE:.0f} ms): "
        f"{verdict(ms_per_call * 1000 <= ANALYZE_MS_PER_RESOURCE)}.",
        f"- time per resource at {m.sizes[-1]} workspaces ÷ at {m.sizes[0]}: **{growth:.2f}x** "
        f"(target ≤ {GROWTH_PER_RESOURCE}x): {verdict(growth <= GROWTH_PER_RESOURCE)}; each resource added costs "
        + ", ".join(f"{millis(v)} up to {n} workspaces" for n, v in marginals(m).items())
        + ".",
    ]


def render(m: Measurements, command: str) -> str:
    compile_wall = median(pick(m.compile, _wall("compile")))
    (load_before, *_), (load_after, *_) = m.load[0], m.load[-1]
    out = [
        "# Benchmarks: how fast the offline preview is and how it grows",
        "",
        f"<!-- Generated by `{command}` (bench/benchmark.py); do not edit by hand: run `make bench`. -->",
        "",
        f"Measured {m.started}, {m.repeat} repetition(s) of every measurement, each in a fresh Python process "
        f"(nothing shared between runs). Times are medians, ± half the range between repetitions (the noise); "
        f"load average {load_before:.2f} before, {load_after:.2f} after; the whole run took {m.seconds:.0f} s.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {key} | {value} |" for key, value in machine()],
        "",
        "## Targets",
        "",
        *targets(m),
        "",
        "## 1. The preview, per environment",
        "",
        "`python -m stacks.preview ENV` as a user runs it: the program under the offline engine, the cost estimate, "
        "the policy pack (started, configured, one Analyze call per resource, one AnalyzeStack). *Whole command* is "
        "the process from start to exit; *the rest* is interpreter start, imports, printing the tree and reports, "
        "and exit. CPU counts both processes. Peak memory is the preview's `ru_maxrss` and the pack's VmHWM.",
        "",
        *preview_table(m),
        "",
        "## 2. The program against the floor",
        "",
        f"`engine.run_program` alone (no policies, no cost), the program's own imports included, against "
        f"programs generated from the {m.baseline_env} plan and run by the same engine (bench/baseline_program): "
        f"the same resources (types, names, parents, recorded inputs as literals) built by their SDK classes "
        f"(azure-native, azuread) in one flat loop, and as many `pulumi.CustomResource`s of a fake type with a few "
        f"inputs. The last row imports the SDK modules those classes live in and registers nothing: an SDK "
        f"module holds every resource of its Azure service with its input and output types (network: a few "
        f"hundred), so that part of the floor depends on which services a program uses, not on how many resources.",
        "",
        *program_table(m),
        "",
        "## 3. Growth",
        "",
        f"The {GROWTH_TEMPLATE} config with its first workspace (and its compute pools) copied N times "
        f"(bench.benchmark.growth_stack_file), run by `engine.run_program`. *Marginal* is the extra time per extra "
        f"resource from the previous row: the per-resource cost once the fixed cost (imports, shared services) is "
        f"paid.",
        "",
        *growth_table(m),
        "",
        "## 4. The policy pack alone",
        "",
        f"engine.analyzer.analyze_plan over the recorded {m.baseline_env} plan with its resources repeated "
        f"{m.copies}x: *pack startup* is from spawning the pack process to its gRPC server answering; Analyze calls "
        f"per second are measured after that (one call per resource, as the Pulumi engine makes them).",
        "",
        *policy_table(m),
        "",
        "## 5. Bytecode",
        "",
        f"With PYTHONDONTWRITEBYTECODE set, the repository's own modules (components, stacks, engine, policies: "
        f"{m.compile[0]['files']} files) are compiled on every run: {millis(compile_wall)} in all, against the "
        f"seconds above; site-packages is precompiled by `make setup`.",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.benchmark", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write (default: %(default)s)")
    parser.add_argument(
        "--envs",
        nargs="+",
        default=["dev", "test", "prd"],
        help="environments to preview; the last one is the baseline's and the policy pack's",
    )
    parser.add_argument("--sizes", nargs="+", type=int, default=[1, 10, 50], help="workspace counts for growth")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of every measurement (medians)")
    parser.add_argument(
        "--copies",
        type=int,
        default=5,
        help="the policy pack measurement analyzes the plan's resources this many times over",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: dev only, 1 and 2 workspaces, 1 repetition (checks the script, not speed)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.envs, args.sizes, args.repeat, args.copies = ["dev"], [1, 2], 1, 1
    command = "python -m bench.benchmark" + (" --quick" if args.quick else "")
    try:
        m = measure(args.envs, sorted(args.sizes), args.repeat, args.copies)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(m, command))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

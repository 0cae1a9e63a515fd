"""The library as users get it: a wheel, installed into a fresh virtualenv, used from their own Pulumi program.

Builds the wheel, installs it with the pinned dependencies into a new venv (the uv cache keeps this fast), and
previews examples/own_network — the README's "own network" program — offline with that venv's Python only:
the components, the offline engine and the policy pack all come from the installed wheel, not from this checkout.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pydantic
import pytest

from aiinfra import components
from aiinfra.components._base import ArgsModel

pytestmark = pytest.mark.integration  # builds the wheel and installs it into a fresh venv

REPO = Path(__file__).resolve().parents[2]
UV = REPO / ".venv" / "bin" / "uv"
EXAMPLE = REPO / "examples" / "own_network"


def run(*command: object, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run outside this checkout's environment: no PYTHONPATH or active venv leaks into the fresh one. Bytecode is
    written, so only the first program pays for compiling the (large) azure-native modules it imports."""
    leaks = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in leaks}
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, f"{command}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    """A wheel built from this checkout, installed with its pinned dependencies into a fresh venv."""
    uv = str(UV) if UV.is_file() else shutil.which("uv")
    assert uv, "uv is installed by `make setup`"
    root = tmp_path_factory.mktemp("package")
    run(uv, "build", "--wheel", "--quiet", "--out-dir", root / "dist", REPO, cwd=root)
    (wheel,) = (root / "dist").glob("aiinfra-*.whl")
    venv = root / "venv"
    run(uv, "venv", "--quiet", "--python", sys.executable, venv, cwd=root)
    python = venv / "bin" / "python"
    run(uv, "pip", "install", "--quiet", "--python", python, "-r", REPO / "requirements.txt", wheel, cwd=root)
    return {"wheel": wheel, "python": python, "root": root}


def test_wheel_holds_the_library_the_pack_and_type_information(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for required in (
        "aiinfra/__init__.py",
        "aiinfra/components/__init__.py",
        "aiinfra/components/py.typed",
        "aiinfra/components/shared_services.py",
        "aiinfra/catalog/gpu_skus.py",
        "aiinfra/catalog/pools.py",  # the pack reads pools, formulas and wire values through the catalogue
        "aiinfra/catalog/batch_formula.py",
        "aiinfra/catalog/wire.py",
        "aiinfra/policies/PulumiPolicy.yaml",
        "aiinfra/policies/__main__.py",
        "aiinfra/policies/config/prd.json",
        "aiinfra/policies/py.typed",
        "aiinfra/engine/runner.py",
        "aiinfra/engine/cli.py",
        "aiinfra/engine/py.typed",
        "aiinfra/engine/prices/azure-retail-prices.json",
    ):
        assert required in names, required
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    # One namespaced package: nothing else at the top of site-packages that could collide with a user's modules.
    assert {n.split("/")[0] for n in names} == {"aiinfra", next(n for n in names if ".dist-info/" in n).split("/")[0]}
    entry_points = (
        zipfile.ZipFile(installed["wheel"])
        .read(next(n for n in names if n.endswith(".dist-info/entry_points.txt")))
        .decode()
    )
    assert "aiinfra = aiinfra.engine.cli:main" in entry_points
    metadata = (
        zipfile.ZipFile(installed["wheel"]).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    )
    for dependency in ("pulumi-azure-native", "pulumi-azuread", "pydantic", "pulumi-policy"):
        assert f"Requires-Dist: {dependency}" in metadata


def test_example_program_previews_offline_from_the_installed_wheel(installed, tmp_path):
    python = installed["python"]
    project = tmp_path / "example"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    where = run(
        python,
        "-c",
        "import aiinfra.components, aiinfra.engine, aiinfra.policies, pathlib; "
        "print(pathlib.Path(aiinfra.components.__file__).parent); "
        "print(pathlib.Path(aiinfra.policies.__file__).parent)",
        cwd=tmp_path,
    ).stdout.split()
    for old_name in ("components", "engine", "policies", "stacks"):
        missing = run(python, "-c", f"import {old_name}", cwd=tmp_path, check=False)
        assert missing.returncode != 0 and "ModuleNotFoundError" in missing.stderr, old_name
    site = python.parent.parent
    assert all(Path(p).is_relative_to(site) for p in where), f"imported from outside the venv: {where}"
    pack = Path(where[1])

    # The console script, with the installed pack as the default judge of a program without a pack of its own.
    aiinfra = python.parent / "aiinfra"
    run(aiinfra, "preview", "dev", "--project-dir", project, "--json", tmp_path / "plan.json", "--quiet", cwd=tmp_path)
    document = json.loads((tmp_path / "plan.json").read_text())
    types = document["plan"]["summary"]
    assert types["aiinfra:ml:SecureWorkspace"] == 1 and types["aiinfra:ml:GpuComputePool"] == 1
    assert types["azure-native:machinelearningservices:Workspace"] == 1
    # The installed pack ran, with its own per-environment config, and the example passes it.
    assert Path(document["policies"]["packDir"]) == pack
    assert Path(document["policies"]["configFile"]) == pack / "config" / "dev.json"
    assert document["policies"]["resourcesAnalyzed"] > 20 and document["policies"]["violations"] == []


def test_bad_args_in_a_users_program_name_the_field(installed, tmp_path):
    project = tmp_path / "typo"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    main = project / "__main__.py"
    main.write_text(main.read_text().replace("max_nodes=2", "max_nodes=0"))
    result = run(
        installed["python"].parent / "aiinfra",
        "preview",
        "dev",
        "--project-dir",
        project,
        "--no-policies",
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert "GpuComputePoolArgs: invalid args:\n  max_nodes: Input should be greater than 0" in result.stderr
    assert "Traceback" not in result.stderr


def _public_args_models() -> list[type[ArgsModel]]:
    models = []
    for name in components.__all__:
        value = getattr(components, name)
        if inspect.isclass(value) and issubclass(value, ArgsModel) and value is not ArgsModel:
            models.append(value)
    return models


def test_public_api_is_exported_and_typed():
    assert (REPO / "components" / "py.typed").is_file()
    for name in components.__all__:
        assert hasattr(components, name), name
    exported = set(components.__all__)
    for required in (
        "SharedServices",
        "SharedServicesArgs",
        "SharedServicesSettings",
        "SharedServicesRef",
        "NamingConvention",
        "CustomerManagedKey",
        "RoleAssignmentSpec",
        "ComponentArgsError",
        "GpuVmSize",
        "lookup_gpu_sku",
        "DeployerIdentity",
        "DeployerIdentityArgs",
    ):
        assert required in exported, required
    # Every ComponentResource in components/ is part of the public API.
    import pulumi

    for module in sorted((REPO / "components").glob("[a-z]*.py")):
        source = module.read_text()
        for line in source.splitlines():
            if line.startswith("class ") and "(pulumi.ComponentResource)" in line:
                name = line.split()[1].split("(")[0]
                assert name in exported, f"{module.name}: {name} is not exported from components/__init__.py"
                assert issubclass(getattr(components, name), pulumi.ComponentResource)
    assert _public_args_models(), "no args models exported"
    assert issubclass(components.ComponentArgsError, pulumi.RunError)
    assert pydantic.BaseModel in components.SharedServicesArgs.__mro__

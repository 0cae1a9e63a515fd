"""Args models are ordinary pydantic models that pyright (and so IDEs) understand: a user's program with a wrong type
or a misspelt argument is reported before it runs, and completion knows each keyword with its type."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # runs pyright on a user's program

REPO = Path(__file__).resolve().parents[2]
PYRIGHT = REPO / ".venv" / "bin" / "pyright"

USER_PROGRAM = """
from aiinfra.components import GpuComputePoolSettings, SharedServicesSettings

pool = GpuComputePoolSettings(name="train", vm_size="Standard_NC4as_T4_v3", max_nodes="four")
shared = SharedServicesSettings(adress_space="10.0.0.0/16")
fine = GpuComputePoolSettings(name="train", vm_size="Standard_NC4as_T4_v3", max_nodes=4)
reveal_type(fine.max_nodes)
"""


def test_pyright_reports_a_wrong_type_and_an_unknown_argument_in_a_users_program(tmp_path):
    program = tmp_path / "user_program.py"
    program.write_text(USER_PROGRAM)
    result = subprocess.run(
        [str(PYRIGHT), "--pythonpath", str(REPO / ".venv" / "bin" / "python"), "--outputjson", str(program)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    diagnostics = json.loads(result.stdout)["generalDiagnostics"]
    errors = {
        (d["range"]["start"]["line"], d["message"].splitlines()[0]) for d in diagnostics if d["severity"] == "error"
    }
    assert any(line == 3 and '"max_nodes"' in message and '"int"' in message for line, message in errors), errors
    assert any(line == 4 and 'No parameter named "adress_space"' in message for line, message in errors), errors
    assert not any(line == 5 for line, _ in errors), errors
    revealed = [d["message"] for d in diagnostics if d["range"]["start"]["line"] == 6]
    assert revealed == ['Type of "fine.max_nodes" is "int"']

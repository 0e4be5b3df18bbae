"""The console script's entry point stays light: worker processes import it again first."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path


def test_the_console_script_imports_nothing_heavy_until_the_command_runs() -> None:
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    target = project["project"]["scripts"]["promptcanvas"]
    module, _, function = target.partition(":")
    code = (
        f"import sys; from {module} import {function}; "
        "print(sorted(m for m in ('sqlalchemy', 'PIL', 'numpy', 'typer') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_the_console_script_runs_the_cli() -> None:
    code = (
        "import sys; sys.argv = ['promptcanvas', '--help']; "
        "from promptcanvas.entrypoints.cli.launcher import main; main()"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "import" in out.stdout

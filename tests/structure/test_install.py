"""The library installs with pip and its console script is the same CLI as ``python -m explorer``.

The install goes into a fresh virtualenv that sees this test environment's packages through a
``.pth`` file (so nothing is downloaded), built without isolation from the repository itself.
The command then runs from a directory outside the repository, so it can only import the
installed copy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMAND = "shufflenet-explorer"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv with ``pip install .`` done in it; its ``bin`` folder."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=False)
    site = next((env_dir / "lib").glob("python*/site-packages"))
    (site / "test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    python = env_dir / "bin" / "python"
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-cache-dir", str(ROOT)],
        check=True,
        cwd=build,
        capture_output=True,
        timeout=300,
        env={**os.environ, "TMPDIR": str(build)},
    )
    return env_dir / "bin"


def run(argv: list, cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def test_the_installed_package_is_imported_not_the_repository(installed, tmp_path):
    found = run([installed / "python", "-c", "import explorer; print(explorer.__file__)"], tmp_path)
    assert found.returncode == 0, found.stderr
    assert Path(found.stdout.strip()).is_relative_to(installed.parent), found.stdout
    assert not Path(found.stdout.strip()).is_relative_to(ROOT)


def test_the_console_script_prints_table_1(installed, tmp_path):
    result = run([installed / COMMAND, "size", "--groups", "3"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Table 1 layout (computed from the built model)" in result.stdout
    assert "Stage2      28x28                    2       1              240" in result.stdout


@pytest.mark.parametrize("args", [["size", "--groups", "8", "--width", "0.5", "--json"], ["size", "--groups", "65"]])
def test_the_console_script_is_the_same_cli(installed, tmp_path, args):
    script = run([installed / COMMAND, *args], tmp_path)
    module = run([sys.executable, "-m", "explorer", *args], ROOT)
    assert (script.returncode, script.stdout, script.stderr) == (module.returncode, module.stdout, module.stderr)

"""Shell completion generated from the argument parser (shtab): the real shells load it."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import run_cli


def _complete_in_bash(script: str, words: list[str]) -> list[str]:
    line = " ".join(words)
    probe = (
        f"source {script}\n"
        f"COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; COMP_LINE='{line}'; "
        f"COMP_POINT={len(line)}\n"
        "_shtab_ciiguard\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_commands_and_options(tmp_path) -> None:
    run = run_cli("completion", "bash")
    assert run.code == 0
    script = tmp_path / "ciiguard.bash"
    script.write_text(run.stdout)
    assert "scan" in _complete_in_bash(str(script), ["ciiguard", "sc"])
    options = _complete_in_bash(str(script), ["ciiguard", "scan", "--skip-"])
    assert {"--skip-path", "--skip-policy"} <= set(options)


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_parse(shell: str, tmp_path) -> None:
    exe = shutil.which(shell)
    if exe is None:
        pytest.skip(
            f"{shell} is not installed here (apt-get install {shell}); only bash is checked"
        )
    run = run_cli("completion", shell)
    assert run.code == 0
    script = tmp_path / f"ciiguard.{shell}"
    script.write_text(run.stdout)
    proc = subprocess.run([exe, "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


def test_an_unknown_shell_is_a_usage_error() -> None:
    run = run_cli("completion", "cmd.exe")
    assert run.code == 2

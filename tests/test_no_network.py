"""Nothing goes over the network and nothing from the scanned tree is executed by default.

Every input format is scanned with sockets disabled: in-process with ``socket`` patched, through
the installed command with a ``sitecustomize`` guard that logs any attempt, and (where the system
allows it) in a network namespace without interfaces. Configurations that would run code under
Terraform or Pulumi (``external`` data sources, provisioners, ``file()``, Pulumi programs) are
read, never run: a marker file they would create never appears.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from ciiguard.testing import scan_path
from tests.conftest import FIXTURES, ciiguard_exe, clean_env, run_cli

# one of each input format, a remote module that is not downloaded, a Pulumi program not run
WORKLOAD = [
    FIXTURES / "adversarial" / "module-providers-map",
    FIXTURES / "adversarial" / "json-syntax-interpolation",
    FIXTURES / "adversarial" / "plan-module-provider",
    FIXTURES / "adversarial" / "pulumi-stack-config",
    FIXTURES / "adversarial" / "pulumi-stack-export",
    FIXTURES / "fail-closed" / "remote-module",
    FIXTURES / "fail-closed" / "pulumi-program-not-run",
]

GUARD = """
import os, socket

_LOG = os.environ["CIIGUARD_TEST_NET_LOG"]


def _deny(*args, **kwargs):
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(repr(args[1:2] or args[:1]) + "\\n")
    raise OSError("network access is disabled in this test")


for _name in ("connect", "connect_ex", "sendto", "sendmsg"):
    setattr(socket.socket, _name, _deny)
socket.getaddrinfo = _deny
socket.create_connection = _deny
"""


def _copy_workload(dest: Path) -> list[str]:
    names = []
    for src in WORKLOAD:
        name = f"{src.parent.name}-{src.name}"
        shutil.copytree(src, dest / name)
        names.append(name)
    return names


def _check_report(report: dict[str, Any]) -> None:
    """The scan did its job: findings from every format, and the two expected refusals."""
    policies = {(v["policy"], v["resource"].split("::")[-1]) for v in report["violations"]}
    assert ("CII001", "module.store.aws_s3_bucket.records") in policies  # HCL modules
    assert ("CII001", "aws_s3_bucket.records") in policies  # JSON syntax
    assert ("CII003", "module.records") in policies  # the remote module: not downloaded
    assert ("CII001", "records") in policies  # Pulumi
    messages = " ".join(e["message"] for e in report["errors"])
    assert "program not checked" in messages  # the Pulumi program was not run


def test_in_process_scan_opens_no_socket(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    attempts: list[Any] = []

    def deny(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("network access is disabled in this test")

    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        monkeypatch.setattr(socket.socket, name, deny)
    monkeypatch.setattr(socket, "getaddrinfo", deny)
    monkeypatch.setattr(socket, "create_connection", deny)
    _copy_workload(tmp_path)
    outcome = scan_path(tmp_path, check=False, use_cache=False)
    assert attempts == []
    assert outcome.exit_code == 2  # the Pulumi program that was not run
    assert {v.policy for v in outcome.violations} >= {"CII001", "CII003"}
    assert not any("network" in e for e in outcome.errors)


def test_installed_command_opens_no_socket(tmp_path: Path) -> None:
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "net.log"
    work = tmp_path / "work"
    work.mkdir()
    names = _copy_workload(work)
    env = clean_env(PYTHONPATH=str(guard), CIIGUARD_TEST_NET_LOG=str(log))
    probe = subprocess.run(  # the guard is active in a child of this environment
        [sys.executable, "-c", "import socket; socket.create_connection(('192.0.2.1', 80))"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert probe.returncode != 0 and log.read_text().strip(), "the socket guard must be active"
    log.write_text("")
    run = run_cli(
        "scan", *names, "--format", "json", "--jobs", "2", "--no-config", env=env, cwd=work
    )
    assert "Traceback" not in run.stderr
    assert log.read_text() == "", "ciiguard attempted network access"
    assert run.code == 2
    _check_report(run.json)


def _unshare_works() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    for flags in (["-n"], ["-rn"]):
        try:
            ok = subprocess.run([unshare, *flags, "true"], capture_output=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            continue
        if ok.returncode == 0:
            return True
    return False


@pytest.mark.skipif(not _unshare_works(), reason="no network namespaces here (unshare -n)")
def test_installed_command_in_a_namespace_without_network(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    names = _copy_workload(work)
    unshare = shutil.which("unshare")
    assert unshare is not None
    flags = (
        "-n"
        if subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0
        else "-rn"
    )
    proc = subprocess.run(
        [unshare, flags, *ciiguard_exe(), "scan", *names, "--format", "json", "--no-config"],
        cwd=work,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2
    _check_report(json.loads(proc.stdout))


# -- nothing is executed -----------------------------------------------------------------------
def test_code_in_the_scanned_tree_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    work = tmp_path / "work"
    (work / "tf").mkdir(parents=True)
    (work / "tf" / "main.tf").write_text(
        textwrap.dedent(
            f"""\
            data "external" "region" {{
              program = ["sh", "-c", "touch {marker}; echo '{{\\"region\\": \\"cn-north-1\\"}}'"]
            }}

            provider "aws" {{
              region = data.external.region.result.region
            }}

            resource "aws_s3_bucket" "b" {{
              tags = {{
                data-classification = "personal"
              }}

              provisioner "local-exec" {{
                command = "touch {marker}"
              }}
            }}

            locals {{
              from_file = file("{marker}.source")
            }}
            """
        )
    )
    (work / "py").mkdir()
    (work / "py" / "Pulumi.yaml").write_text("name: app\nruntime: python\n")
    (work / "py" / "__main__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (work / "py" / "setup.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    run = run_cli("scan", "tf", "py", "--format", "json", "--no-config", "--no-cache", cwd=work)
    assert not marker.exists(), "something in the scanned tree was executed"
    assert run.code == 2  # the Python program is reported as not checked
    assert [(v["policy"], v["resource"]) for v in run.json["violations"]] == [
        ("CII003", "aws_s3_bucket.b")  # the external data source is unknown, not run
    ]

"""Startup stays light: --version and a one-file Terraform scan import no pulumi, grpc or boto3."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import clean_env

HEAVY = ("pulumi", "pulumi_policy", "pulumi_aws", "grpc", "boto3", "botocore", "urllib3")

PROBE = """
import json, sys, time
t = time.perf_counter()
from ciiguard.cli.app import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r}
               or m.startswith(("ciiguard.parsers.pulumi", "ciiguard.parsers.terraform.plan")))
print(json.dumps({{"code": code, "heavy": heavy, "seconds": time.perf_counter() - t}}), file=sys.stderr)
"""


def probe(*args: str, cwd: Path | None = None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=set(HEAVY)), *args],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=cwd,
        timeout=120,
    )
    return json.loads(proc.stderr.strip().splitlines()[-1])


def test_version_imports_nothing_heavy() -> None:
    got = probe("--version")
    assert got["code"] == 0 and got["heavy"] == []


def test_one_file_terraform_scan_imports_nothing_heavy(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "cn-north-1"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  tags = { "data-classification" = "personal" }\n}\n'
    )
    got = probe(
        "scan",
        str(tmp_path),
        "--no-cache",
        "--no-config",
        "--format",
        "json",
        "--output",
        str(tmp_path / "out.json"),
    )
    assert got["code"] == 0 and got["heavy"] == []


def test_lazy_parsers_are_the_real_ones_behind_a_necessary_condition() -> None:
    """Every file of the test fixtures and examples a real parser claims passes its lazy
    stand-in's cheap check, and the stand-in answers as the real parser does."""
    from ciiguard.plugins.builtin import LazyParser, ciiguard_parsers

    root = Path(__file__).resolve().parent.parent
    files = [p for base in ("tests/fixtures", "examples") for p in (root / base).rglob("*")]
    files = [p for p in files if p.is_file() and ".terraform" not in p.parts]
    lazy = [p for p in ciiguard_parsers() if isinstance(p, LazyParser)]
    assert {p.name for p in lazy} == {
        "terragrunt",
        "terraform-plan",
        "pulumi-yaml",
        "pulumi-json",
        "pulumi-program",
    }
    claimed = 0
    for parser in lazy:
        assert parser.name == parser.real.name
        for f in files:
            real = parser.real.claims(f)
            assert parser.claims(f) == real, (parser.name, f)
            claimed += real
    assert claimed > 20


THIRD_PARTY = """
import json, sys
from ciiguard.cli.app import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
names = {m.split(".")[0] for m in sys.modules} - set(sys.stdlib_module_names)
print(json.dumps(sorted(n for n in names if not n.startswith("_") and n != "ciiguard")),
      file=sys.stderr)
"""


def test_a_cached_one_file_scan_imports_no_third_party_package_but_pluggy(tmp_path: Path) -> None:
    """The caches (parse, per-root, result, replay) and the streamed report are the standard
    library and ciiguard's own code: nothing new comes in with them (issue 24)."""
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "cn-north-1"\n}\n')
    env = clean_env(CIIGUARD_CACHE_DIR=str(tmp_path / "cache"))
    for _ in range(2):  # cold, then through the caches
        proc = subprocess.run(
            [sys.executable, "-c", THIRD_PARTY, "scan", str(tmp_path), "--no-config",
             "--format", "json", "--output", str(tmp_path / "out.json")],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert json.loads(proc.stderr.strip().splitlines()[-1]) == ["pluggy"]


def test_main_gives_a_caller_its_collector_back_and_the_command_keeps_it_off(
    tmp_path: Path,
) -> None:
    """A scan runs with the cycle collector's young threshold raised (millions of objects that
    never form cycles). ``main`` called as a library puts the caller's thresholds back; the
    command does not (``console`` exits at once, and the next allocation under the default
    threshold would walk every object the scan made)."""
    script = (
        "import gc, sys\n"
        "from ciiguard.cli import app\n"
        "gc.set_threshold(700, 10, 10)\n"
        "if sys.argv[1] == 'console':\n"
        "    app.os._exit = lambda code: (print(gc.get_threshold()), sys.stdout.flush(), sys.exit(code))\n"
        "    sys.argv[1:] = ['scan', sys.argv[2]]\n"
        "    app.console()\n"
        "else:\n"
        "    app.main(['scan', sys.argv[2]])\n"
        "    print(gc.get_threshold())\n"
    )
    example = (
        Path(__file__).resolve().parent.parent
        / "examples"
        / "terraform"
        / "cross-border-replication"
    )
    env = {**clean_env(), "CIIGUARD_CACHE_DIR": str(tmp_path)}
    for how, expected in (("library", "(700, 10, 10)"), ("console", "(2000000, 50, 100)")):
        proc = subprocess.run([sys.executable, "-c", script, how, str(example)], capture_output=True,
                              text=True, env=env, timeout=120)  # fmt: skip
        assert proc.stdout.strip().splitlines()[-1] == expected, (how, proc.stdout, proc.stderr)


def test_function_libraries_load_on_first_call_and_answer_as_their_tables() -> None:
    """The date, encoding and network functions are imported on their first call: ``LAZY``
    names exactly each module's functions, and a call through it is the table's own answer."""
    import importlib

    from ciiguard.parsers.terraform.lang import builtins

    code = (
        "import sys; from ciiguard.parsers.terraform.lang.builtins import FUNCTIONS; "
        "print(sorted(m for m in sys.modules if m.endswith(('.dates', '.network', '.encoding'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    calls = {"formatdate": ["YYYY", "2024-03-01T00:00:00Z"], "cidrhost": ["10.0.0.0/8", 3],
             "base64encode": ["ciiguard"], "timecmp": ["2024-01-01T00:00:00Z", "2023-01-01T00:00:00Z"]}  # fmt: skip
    for module, (table, names) in builtins.LAZY.items():
        real = getattr(importlib.import_module(module), table)
        assert sorted(names) == sorted(real), module
        for name in names:
            if name in calls:
                assert builtins._on_first_call(module, table, name)(calls[name]) == real[name](
                    calls[name]
                )

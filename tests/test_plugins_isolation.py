"""A broken plugin can never let a deployment through: each way a plugin can break is reported on
one line (plugin name, hook, exception summary), the other policies still report, the exit code
is 2 and no traceback is the output. End to end through the installed command and ``-p``."""

from __future__ import annotations

import os

import pytest

from tests.conftest import FIXTURES, Run, clean_env, run_cli

PLUGINS = FIXTURES / "plugins"
WORKLOAD = PLUGINS / "workload"


def plugin_env(**extra: str) -> dict[str, str]:
    env = clean_env(CIIGUARD_DISABLE_PLUGIN_AUTOLOAD="1")
    env.pop("CIIGUARD_DEBUG", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PLUGINS), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def scan(*plugins: str, fmt: str = "text", env: dict[str, str] | None = None) -> Run:
    args = [a for p in plugins for a in ("-p", p)]
    return run_cli("scan", str(WORKLOAD), "--format", fmt, *args, env=env or plugin_env())


def error_lines(run: Run) -> list[str]:
    return [
        line
        for line in (run.stdout + run.stderr).splitlines()
        if "plugin '" in line and "failed in" in line
    ]


BROKEN = [
    # plugin, hook, exception summary (start)
    ("broken_import", "import", "ImportError: cannot import name 'PolicyV2' from 'ciiguard'"),
    (
        "bad_registration",
        "register",
        "PluginValidationError: Plugin 'bad_registration' for hook 'ciiguard_classify'",
    ),
    ("crash_validate", "policy CRASH001 validate", "KeyError: 'bucket' (crash_validate.py:8)"),
    (
        "crash_classify",
        "ciiguard_classify",
        "ValueError: no owner tag on aws_s3_bucket.orders (crash_classify.py:8)",
    ),
    ("not_a_list", "ciiguard_policies", "returned Policy, expected a list"),
    ("unknown_hook", "register", "ciiguard_policy is not a ciiguard hook"),
    ("unmarked_hook", "register", "ciiguard_policies is not marked with @ciiguard.hookimpl"),
    ("duplicate_id", "ciiguard_policies", "policy id CII001 is already defined by 'builtin'"),
    ("bad_catalogue", "ciiguard_catalogue", "malformed catalogue data: KeyError('path')"),
    ("exits_zero", "policy EXIT001 validate", "SystemExit: 0 (exits_zero.py:9)"),
    (
        "wrong_classify",
        "ciiguard_classify",
        "returned bool, expected Classification or None (failed 2 times; first shown)",
    ),
]


@pytest.mark.parametrize(("plugin", "hook", "summary"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_plugin_is_reported_and_the_others_still_run(plugin, hook, summary) -> None:
    run = scan(plugin, "healthy")
    assert run.code == 2, run.stdout + run.stderr
    (line,) = error_lines(run)
    assert f"plugin '{plugin}' failed in {hook}: {summary}" in line
    assert "Traceback" not in run.stdout + run.stderr
    # the built-in policy and the healthy plugin's policy still report every bucket
    for policy in ("CII001", "HEALTHY001"):
        for bucket in ("aws_s3_bucket.orders", "aws_s3_bucket.logs"):
            assert f"{policy} [" in run.stdout and bucket in run.stdout


@pytest.mark.parametrize("plugin", ["crash_validate", "crash_classify", "broken_import"])
def test_json_report_carries_the_failure_and_every_other_violation(plugin) -> None:
    run = scan(plugin, "healthy", fmt="json")
    assert run.code == 2
    report = run.json
    messages = [e["message"] for e in report["errors"]]
    assert any(m.startswith(f"plugin '{plugin}' failed in ") for m in messages), messages
    found = {(v["policy"], v["resource"]) for v in report["violations"]}
    for policy in ("CII001", "HEALTHY001"):
        assert {(policy, "aws_s3_bucket.orders"), (policy, "aws_s3_bucket.logs")} <= found
    assert error_lines(Run(0, "", run.stderr)), "the failure is also on stderr"
    assert "Traceback" not in run.stderr


def test_policy_that_crashes_on_one_resource_still_checks_the_others() -> None:
    run = scan("crash_validate", fmt="json")
    crash = [v for v in run.json["violations"] if v["policy"] == "CRASH001"]
    assert [v["resource"] for v in crash] == ["aws_s3_bucket.orders"]
    (line,) = error_lines(Run(0, "", run.stderr))
    assert line.endswith("on aws_s3_bucket.logs")


def test_repeated_failures_are_one_line_with_a_count() -> None:
    (line,) = error_lines(scan("crash_classify"))
    assert "(failed 2 times; first shown)" in line


def test_all_broken_plugins_at_once_each_get_their_line() -> None:
    names = [b[0] for b in BROKEN]
    run = scan(*names, "healthy")
    assert run.code == 2
    lines = error_lines(run)
    assert sorted(line.split("plugin '")[1].split("'")[0] for line in lines) == sorted(names)
    assert "CII001 [BLOCKING] aws_s3_bucket.orders" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_a_failure_with_no_violations_is_still_exit_2_never_0(tmp_path) -> None:
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "cn-north-1"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  tags = { data-classification = "personal" }\n}\n'
    )
    run = run_cli("scan", str(tmp_path), "-p", "crash_classify", env=plugin_env())
    assert run.code == 2 and "violations (0 blocking)" in run.stdout
    assert len(error_lines(run)) == 1


@pytest.mark.parametrize("command", ["plugins", "policies"])
def test_listing_commands_report_broken_plugins_and_exit_2(command) -> None:
    run = run_cli(command, "-p", "broken_import", "-p", "healthy", env=plugin_env())
    assert run.code == 2
    (line,) = error_lines(run)
    assert "plugin 'broken_import' failed in import: ImportError" in line
    assert "healthy" in run.stdout and "Traceback" not in run.stderr


def test_plugins_lists_name_version_and_policies() -> None:
    run = run_cli("plugins", "-p", "healthy", env=plugin_env())
    assert run.code == 0, run.stderr
    (line,) = [x for x in run.stdout.splitlines() if x.startswith("healthy")]
    assert "1.2.3" in line and "HEALTHY001" in line


def test_disable_plugin_skips_a_broken_plugin_before_import() -> None:
    run = run_cli(
        "scan", str(WORKLOAD), "-p", "broken_import", "--disable-plugin", "broken_import",
        env=plugin_env(),
    )  # fmt: skip
    assert run.code == 1 and error_lines(run) == []


def test_the_builtin_plugin_cannot_be_disabled() -> None:
    run = run_cli("scan", str(WORKLOAD), "--disable-plugin", "builtin", env=plugin_env())
    assert run.code == 2
    (line,) = error_lines(run)
    assert "plugin 'builtin' failed in --disable-plugin" in line
    assert "CII001 [BLOCKING]" in run.stdout


def test_debug_environment_adds_the_traceback_after_the_one_line_report() -> None:
    run = scan("crash_validate", env=plugin_env(CIIGUARD_DEBUG="1"))
    assert run.code == 2
    assert "Traceback" in run.stderr and "KeyError: 'bucket'" in run.stderr
    assert len(error_lines(run)) == 2  # the one-line report, and the debug header


def test_a_crashing_reporter_is_named_with_its_format_and_exits_2() -> None:
    run = scan("crash_reporter", fmt="csv")
    assert run.code == 2
    assert run.stderr.strip().splitlines() == [
        "ciiguard: error: plugin 'crash_reporter' failed in reporter csv render: "
        "AttributeError: 'Report' object has no attribute 'missing' (crash_reporter.py:11)"
    ]
    other_format = scan("crash_reporter")  # loaded but not used: no effect
    assert other_format.code == 1 and error_lines(other_format) == []


def test_a_plugin_s_catalogue_fragment_extends_a_built_in_provider() -> None:
    """A fragment for ``aws`` that only adds a data-bearing type leaves AWS's regions as the
    built-in data tells them (botocore's partitions). Pluggy calls the last registered plugin
    first, so the plugin's fragment set the provider's facts, and every AWS region was unknown
    (fifteenth audit, with ``azurerm``)."""
    from ciiguard.model import Location
    from ciiguard.plugins import hookimpl
    from ciiguard.plugins.manager import build
    from ciiguard.scan import gather

    class Extra:
        @hookimpl
        def ciiguard_catalogue(self) -> list[dict[str, object]]:
            bearing = {"type": "aws_foo_store", "family": "object-storage", "source": "test"}
            return [{"provider": "aws", "source": "test", "data_bearing": [bearing]}]

    catalogue = gather(build(autoload=False, objects=[("extra", Extra())])).catalogue
    assert catalogue.location("aws", "ap-east-1")[0] is Location.OUTSIDE
    assert catalogue.location("aws", "cn-north-1")[0] is Location.MAINLAND
    assert catalogue.is_data_bearing("aws_foo_store")

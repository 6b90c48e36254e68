"""--policy and --skip-policy: the pipeline's command line picks the policies that run."""

from __future__ import annotations

from tests.conftest import EXAMPLES, run_cli

CASE = EXAMPLES / "terraform" / "cross-border-replication"


def policies(*extra: str) -> list[str]:
    run = run_cli("scan", str(CASE), "--format", "json", *extra)
    assert run.code == 1
    return sorted(v["policy"] for v in run.json["violations"])


def test_policy_and_skip_policy_select_what_runs_also_through_the_cache() -> None:
    everything = policies()
    assert {"CII001", "CII002"} <= set(everything)
    assert set(policies("--skip-policy", "CII002")) == set(everything) - {"CII002"}
    assert set(policies("--policy", "CII002")) == {"CII002"}
    assert policies() == everything  # a cached run with other flags changes nothing


def test_an_unknown_policy_id_is_one_line_exit_2() -> None:
    run = run_cli("scan", str(CASE), "--skip-policy", "CII099")
    assert run.code == 2
    assert "no policy 'CII099' (policies: CII001, CII002, CII003, CII004)" in run.stderr


def test_skip_path_leaves_matching_directories_and_files_unscanned() -> None:
    base = EXAMPLES / "terraform"
    everything = run_cli("scan", str(base), "--format", "json")
    skipped = run_cli(
        "scan", str(base), "--format", "json",
        "--skip-path", "cross-border*", "--skip-path", "foreign-region",
    )  # fmt: skip
    files = {r["file"] for r in skipped.json["resources"]}
    assert not any("/cross-border" in f or "/foreign-region/" in f for f in files)
    assert len(skipped.json["resources"]) < len(everything.json["resources"])
    assert {r["file"] for r in everything.json["resources"]} > files


def test_skip_paths_from_a_config_in_the_tree_is_a_relaxation(tmp_path) -> None:
    """Under --policy-config, skip_paths set by a file the change controls is ignored and CII004."""
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(
        'provider "aws" {\n  region = "ap-east-1"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  tags = { "data-classification" = "personal" }\n}\n'
    )
    (tmp_path / "infra" / "ciiguard.toml").write_text('skip_paths = ["*.tf"]\n')
    policy = tmp_path / "policy.toml"
    policy.write_text("cii_workload = false\n")
    run = run_cli(
        "scan", str(tmp_path / "infra"), "--no-cache", "--format", "json",
        "--policy-config", str(policy),
    )  # fmt: skip
    assert run.code == 1
    assert sorted(v["policy"] for v in run.json["violations"]) == ["CII001", "CII004"]


def test_version_names_python_and_the_plugin_api() -> None:
    import platform

    from ciiguard import __version__
    from ciiguard.plugins import PLUGIN_API

    run = run_cli("--version")
    assert run.code == 0
    assert run.stdout.strip() == (
        f"ciiguard {__version__} (Python {platform.python_version()}, plugin API {PLUGIN_API})"
    )


def test_quiet_shows_only_blocking_findings_and_compact_one_line_each(tmp_path) -> None:
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "ap-east-1"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  tags = { "data-classification" = "personal" }\n}\n'
        'resource "aws_s3_bucket" "c" {\n'
        "  # ciiguard:ignore CII001 an archive, moving next quarter\n"
        '  tags = { "data-classification" = "personal" }\n}\n'
    )
    full = run_cli("scan", str(tmp_path), "--no-cache")
    quiet = run_cli("scan", str(tmp_path), "--no-cache", "--quiet")
    compact = run_cli("scan", str(tmp_path), "--no-cache", "--compact")
    assert full.code == quiet.code == compact.code == 1
    assert "aws_s3_bucket.c" in full.stdout and "aws_s3_bucket.c" not in quiet.stdout
    assert "plugins:" not in quiet.stdout and quiet.stdout.rstrip().endswith("0 errors")
    (line,) = [x for x in compact.stdout.splitlines() if x.startswith("CII001 [BLOCKING]")]
    assert "aws_s3_bucket.b" in line and "main.tf:4" in line and "ap-east-1" in line
    assert "  fix:" not in compact.stdout

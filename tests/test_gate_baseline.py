"""Baselines: adopt the gate on an existing estate and fail only on new violations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import FIXTURES, run_cli

BASE = FIXTURES / "gate" / "baseline"


def scan(path: Path, *args: str, cwd: Path | None = None):
    return run_cli("scan", str(path), "--no-cache", *args, cwd=cwd)


def estate(tmp_path: Path) -> Path:
    shutil.copytree(BASE, tmp_path / "infra")
    return tmp_path / "infra"


def reformat_and_move(infra: Path) -> None:
    """What a refactoring commit does: new lines above, terraform fmt-like respacing, resources
    reordered and one moved to another file of the same module."""
    text = (infra / "main.tf").read_text()
    providers, _, rest = text.partition('resource "aws_s3_bucket" "legacy_logs"')
    bucket_block, _, table_block = rest.partition('resource "aws_dynamodb_table" "profiles"')
    bucket = 'resource "aws_s3_bucket" "legacy_logs"' + bucket_block
    table = 'resource "aws_dynamodb_table" "profiles"' + table_block
    table = table.replace("  name         = ", "  name = ").replace(
        "  hash_key     = ", "  hash_key = "
    )
    (infra / "main.tf").write_text(
        "# Estate of the analytics team.\n# Owner: data-platform.\n\n\n"
        + providers.replace("region = ", "region    = ")
        + "\n\n"
        + table
    )
    (infra / "storage.tf").write_text(
        "// moved here in the refactoring\n\n" + bucket.replace("   =", " =")
    )


def test_create_then_reuse_after_moving_lines_and_reformatting(tmp_path: Path) -> None:
    infra = estate(tmp_path)
    baseline = tmp_path / "ciiguard-baseline.json"
    run = scan(infra, "--create-baseline", str(baseline))
    assert run.code == 0, run.stdout + run.stderr
    assert "wrote 2 findings to the baseline" in run.stderr
    data = json.loads(baseline.read_text())
    assert data["schema"] == "ciiguard/baseline@1"
    assert sorted(f["policy"] for f in data["findings"]) == ["CII001", "CII002"]
    assert all(len(f["fingerprint"]) == 32 for f in data["findings"])

    before = scan(infra, "--baseline", str(baseline), "--format", "json")
    assert before.code == 0
    assert [v["status"] for v in before.json["violations"]] == ["baselined", "baselined"]
    assert before.json["summary"]["baselined"] == 2

    reformat_and_move(infra)
    after = scan(infra, "--baseline", str(baseline), "--format", "json")
    assert after.code == 0, after.stdout
    moved = {v["resource"]: v for v in after.json["violations"]}
    assert moved["aws_s3_bucket.legacy_logs"]["file"].endswith("storage.tf")
    assert {v["status"] for v in moved.values()} == {"baselined"}
    fps = sorted(v["fingerprint"] for v in before.json["violations"])
    assert fps == sorted(v["fingerprint"] for v in after.json["violations"])


def test_a_new_violation_fails_while_old_ones_stay_baselined(tmp_path: Path) -> None:
    infra = estate(tmp_path)
    baseline = tmp_path / "b.json"
    assert scan(infra, "--create-baseline", str(baseline)).code == 0
    with (infra / "main.tf").open("a") as f:
        f.write(
            '\nresource "aws_s3_bucket" "new_exports" {\n  provider = aws.tokyo\n'
            '  tags     = { "data-classification" = "important" }\n}\n'
        )
    # a new replica on the old table is new too, even though the resource is baselined
    text = (
        (infra / "main.tf")
        .read_text()
        .replace(
            '  replica {\n    region_name = "ap-southeast-1"\n  }\n',
            '  replica {\n    region_name = "ap-southeast-1"\n  }\n'
            '  replica {\n    region_name = "us-west-2"\n  }\n',
        )
    )
    (infra / "main.tf").write_text(text)
    sarif_out = tmp_path / "r.sarif"
    run = scan(
        infra, "--baseline", str(baseline), "--format", "json", "--format", f"sarif:{sarif_out}"
    )
    assert run.code == 1
    blocking = sorted(
        (v["policy"], v["resource"], v["region"]) for v in run.json["violations"] if v["blocking"]
    )
    assert blocking == [
        ("CII001", "aws_s3_bucket.new_exports", "ap-northeast-1"),
        ("CII002", "aws_dynamodb_table.profiles", "us-west-2"),
    ]
    states = {
        (r["properties"]["resource"], r["properties"]["region"]): r["baselineState"]
        for r in json.loads(sarif_out.read_text())["runs"][0]["results"]
    }
    assert states[("aws_s3_bucket.legacy_logs", "ap-northeast-1")] == "unchanged"
    assert states[("aws_s3_bucket.new_exports", "ap-northeast-1")] == "new"


def test_baseline_matches_from_another_working_directory(tmp_path: Path) -> None:
    infra = estate(tmp_path)
    assert scan(infra, "--create-baseline", str(tmp_path / "b.json")).code == 0
    run = scan(Path("infra"), "--baseline", "b.json", "--format", "json", cwd=tmp_path)
    assert run.code == 0
    assert {v["status"] for v in run.json["violations"]} == {"baselined"}


def test_baseline_from_the_config_file(tmp_path: Path) -> None:
    infra = estate(tmp_path)
    assert scan(infra, "--create-baseline", str(tmp_path / "ciiguard-baseline.json")).code == 0
    (tmp_path / "ciiguard.toml").write_text('baseline = "ciiguard-baseline.json"\n')
    run = scan(infra, "--format", "json")
    assert run.code == 0
    assert run.json["gate"]["baseline"].endswith("ciiguard-baseline.json")


def test_text_report_mentions_baselined_findings_without_listing_them(tmp_path: Path) -> None:
    infra = estate(tmp_path)
    assert scan(infra, "--create-baseline", str(tmp_path / "b.json")).code == 0
    run = scan(infra, "--baseline", str(tmp_path / "b.json"))
    assert run.code == 0
    assert "2 findings already in the baseline" in run.stdout
    assert "aws_s3_bucket.legacy_logs" not in run.stdout
    assert "2 baselined" in run.stdout.splitlines()[-1]


def test_bad_baselines_are_errors(tmp_path: Path) -> None:
    infra = estate(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    run = scan(infra, "--baseline", str(bad))
    assert run.code == 2 and "bad.json:1: not a JSON baseline" in run.stderr
    bad.write_text('{"schema": "something/else"}')
    run = scan(infra, "--baseline", str(bad))
    assert run.code == 2 and "not a ciiguard baseline" in run.stderr
    run = scan(infra, "--baseline", str(tmp_path / "missing.json"))
    assert run.code == 2 and "missing.json: no such baseline file" in run.stderr
    run = scan(infra, "--baseline", str(bad), "--create-baseline", str(tmp_path / "x.json"))
    assert run.code == 2 and "either --baseline or --create-baseline" in run.stderr


def test_no_baseline_is_written_from_an_incomplete_scan(tmp_path: Path) -> None:
    infra = estate(tmp_path)
    (infra / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n')
    out = tmp_path / "b.json"
    run = scan(infra, "--create-baseline", str(out))
    assert run.code == 2
    assert "not writing the baseline" in run.stderr
    assert not out.exists()


def shared_module_estate(infra: Path, *envs: str) -> Path:
    """modules/store (a personal bucket) and envs/<name> calling it from Hong Kong."""
    module = infra / "modules" / "store"
    module.mkdir(parents=True)
    (module / "main.tf").write_text(
        'resource "aws_s3_bucket" "orders" {\n'
        '  bucket = "orders"\n  tags   = { "data-classification" = "personal" }\n}\n'
    )
    for name in envs:
        _environment(infra, name)
    return infra


def _environment(infra: Path, name: str) -> None:
    """envs/<name> calling the shared module, in Hong Kong (the same finding in every env)."""
    env = infra / "envs" / name
    env.mkdir(parents=True)
    (env / "main.tf").write_text(
        'provider "aws" {\n  region = "ap-east-1"\n}\n\n'
        'module "store" {\n  source = "../../modules/store"\n}\n'
    )


def test_a_baseline_entry_of_one_root_never_hides_the_same_finding_in_another(
    tmp_path: Path,
) -> None:
    """Two environments calling one module give findings with one address, file and region:
    the baseline written while only staging existed must not let prod's copy through."""
    infra = shared_module_estate(tmp_path / "infra", "staging")
    baseline = tmp_path / "b.json"
    assert scan(infra, "--create-baseline", str(baseline)).code == 0
    alone = scan(infra, "--baseline", str(baseline), "--format", "json")
    assert alone.code == 0 and alone.json["violations"][0]["status"] == "baselined"
    assert alone.json["violations"][0]["root"].endswith("envs/staging")

    assert [f["root"] for f in json.loads(baseline.read_text())["findings"]] == [
        "infra/envs/staging"
    ]

    _environment(infra, "prod")
    both = scan(infra, "--baseline", str(baseline), "--format", "json")
    assert both.code == 1, both.stdout
    by_root = {Path(v["root"]).name: v for v in both.json["violations"]}
    assert by_root["prod"]["status"] == "violation" and by_root["prod"]["blocking"]
    assert by_root["staging"]["status"] == "baselined"  # its entry knows its root
    assert by_root["prod"]["fingerprint"] != by_root["staging"]["fingerprint"]

    # staging's entry never waives prod, even once staging is gone
    shutil.rmtree(infra / "envs" / "staging")
    prod_only = scan(infra, "--baseline", str(baseline), "--format", "json")
    assert prod_only.code == 1 and prod_only.json["violations"][0]["status"] == "violation"


def test_an_old_baseline_without_roots_waives_neither_copy_once_two_roots_share_it(
    tmp_path: Path,
) -> None:
    """A baseline from before roots were recorded cannot say which root it meant: fail closed."""
    infra = shared_module_estate(tmp_path / "infra", "staging")
    baseline = tmp_path / "b.json"
    assert scan(infra, "--create-baseline", str(baseline)).code == 0
    data = json.loads(baseline.read_text())
    for f in data["findings"]:
        del f["root"]
    baseline.write_text(json.dumps(data))
    assert scan(infra, "--baseline", str(baseline)).code == 0  # still matches alone
    _environment(infra, "prod")
    both = scan(infra, "--baseline", str(baseline), "--format", "json")
    assert both.code == 1
    assert {v["status"] for v in both.json["violations"]} == {"violation"}
    # a baseline written now keeps both apart, and keeps matching
    assert scan(infra, "--create-baseline", str(baseline)).code == 0
    again = scan(infra, "--baseline", str(baseline), "--format", "json")
    assert again.code == 0 and {v["status"] for v in again.json["violations"]} == {"baselined"}


def test_a_message_is_normalised_as_by_both_patterns_applied_in_turn() -> None:
    """``_normalise`` skips a pattern whose literal (``:``, ``line``) the message lacks: the
    same text as applying both, on messages with and without line references."""
    from ciiguard.gate import baseline as b

    def both(message: str) -> str:
        text = b._LINE_REF.sub(r"\1", message)
        text = b._LINE_WORD.sub("line", text)
        return " ".join(text.split())

    messages = [
        "aws_s3_bucket.b is in us-east-1 (main.tf:12)",
        "set at variables.tf:3:5 and lines 4-9",
        "line 7 of the plan",
        "pipeline 7 reads  the  bucket",  # "line" inside a word, no boundary
        "no reference here",
        "a: b line",
        "streamed to module.x.aws_kinesis_stream.s (see app.yaml:40, line 41)",
        "",
    ]
    for message in messages:
        assert b._normalise(message) == both(message), message

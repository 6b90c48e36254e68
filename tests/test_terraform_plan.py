"""Terraform plan JSON end to end through the installed command: what apply will create is judged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, FIXTURES, clean_env, run_cli

P = FIXTURES / "plan"
TF_EXAMPLES = sorted(d.name for d in (EXAMPLES / "terraform").iterdir() if d.is_dir())


def scan(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    run = run_cli("scan", *args, "--format", "json", "--no-cache", env=env)
    assert run.code in (0, 1), run.stderr
    return run.code, run.json


def by_address(report: dict) -> dict[str, dict]:
    return {r["address"]: r for r in report["resources"]}


def violations(report: dict) -> list[tuple[str, str]]:
    return sorted((v["policy"], v["resource"]) for v in report["violations"])


# -- parity with the HCL path --------------------------------------------------------------
def test_every_example_has_a_plan_fixture() -> None:
    assert TF_EXAMPLES, "examples/terraform is empty"
    missing = [e for e in TF_EXAMPLES if not (P / "examples" / f"{e}.json").is_file()]
    assert missing == []


@pytest.mark.parametrize("example", TF_EXAMPLES)
def test_plan_gives_the_same_verdict_per_resource_as_hcl(example: str) -> None:
    hcl_code, hcl = scan(str(EXAMPLES / "terraform" / example))
    plan_code, plan = scan(str(P / "examples" / f"{example}.json"))
    verdict = {a: (r["location"], r["in_scope"], r["region"]) for a, r in by_address(hcl).items()}
    assert {a: (r["location"], r["in_scope"], r["region"]) for a, r in by_address(plan).items()} == verdict
    assert violations(plan) == violations(hcl)
    assert plan_code == hcl_code
    assert {r["input"] for r in plan["resources"]} == {"terraform-plan"}


@pytest.mark.slow
@pytest.mark.parametrize("example", TF_EXAMPLES)
def test_source_maps_plan_findings_to_the_same_lines_as_hcl(example: str) -> None:
    src = EXAMPLES / "terraform" / example
    _, hcl = scan(str(src))
    _, plan = scan(str(P / "examples" / f"{example}.json"), "--source", str(src))
    lines = lambda rep: sorted((v["policy"], v["resource"], v["file"], v["line"]) for v in rep["violations"])  # noqa: E731
    assert lines(plan) == lines(hcl)
    assert {a: (r["file"], r["line"]) for a, r in by_address(plan).items()} == {
        a: (r["file"], r["line"]) for a, r in by_address(hcl).items()
    }


def test_without_source_findings_point_into_the_plan_file() -> None:
    _, report = scan(str(P / "examples" / "foreign-region.json"))
    (v,) = report["violations"]
    assert v["file"].endswith("foreign-region.json")
    text = (P / "examples" / "foreign-region.json").read_text().splitlines()
    assert '"address": "aws_s3_bucket.user_profiles"' in text[v["line"]]


# -- regions -------------------------------------------------------------------------------
def test_variable_referenced_provider_region_has_plan_provenance() -> None:
    code, report = scan(str(P / "examples" / "variable-driven.json"))
    ledger = by_address(report)["aws_s3_bucket.ledger"]
    assert ledger["region"] == "ap-southeast-1" and ledger["location"] == "outside"
    assert ledger["provenance"] == (
        'provider aws (plan configuration) <- var.region (plan variables) = "ap-southeast-1"'
    )
    assert code == 1


def test_module_provider_keys_passed_providers_count_and_for_each() -> None:
    code, report = scan(str(P / "modules.json"))
    res = by_address(report)
    assert set(res) == {
        'aws_s3_bucket.by_team["payments"]',
        'aws_s3_bucket.by_team["support"]',
        "aws_s3_bucket.logs[0]",
        "aws_s3_bucket.logs[1]",
        "module.store.aws_s3_bucket.data",
        "module.archive.aws_s3_bucket.cold",
        "module.archive.module.vault.aws_dynamodb_table.keys",
        "module.shards[0].aws_s3_bucket.shard",
        "module.shards[1].aws_s3_bucket.shard",
    }
    store = res["module.store.aws_s3_bucket.data"]
    assert (store["region"], store["location"]) == ("eu-central-1", "outside")
    assert store["provenance"] == (
        "provider module.store:aws (plan configuration) <- module.store.var.region "
        '(plan configuration) <- var.store_region (plan variables) = "eu-central-1"'
    )
    # providers = { aws = aws.hk }, and implicitly inherited one module further down
    for addr in ("module.archive.aws_s3_bucket.cold",
                 "module.archive.module.vault.aws_dynamodb_table.keys"):
        assert (res[addr]["region"], res[addr]["location"]) == ("ap-east-1", "outside")
    for addr in ('aws_s3_bucket.by_team["support"]', "aws_s3_bucket.logs[1]",
                 "module.shards[1].aws_s3_bucket.shard"):
        assert (res[addr]["region"], res[addr]["location"]) == ("cn-north-1", "mainland")
    assert violations(report) == [
        ("CII001", "module.archive.aws_s3_bucket.cold"),
        ("CII001", "module.archive.module.vault.aws_dynamodb_table.keys"),
        ("CII001", "module.store.aws_s3_bucket.data"),
    ]
    assert code == 1


def test_aws_v6_planned_region_is_used(tmp_path: Path) -> None:
    plan = json.loads((P / "examples" / "compliant.json").read_text())
    # the provider region is not resolvable (a local), but v6 planned each resource's region
    plan["configuration"]["provider_config"]["aws"]["expressions"]["region"] = {
        "references": ["local.home"]
    }
    f = tmp_path / "v6.json"
    f.write_text(json.dumps(plan))
    code, report = scan(str(f))
    bucket = by_address(report)["aws_s3_bucket.customer_records"]
    assert (bucket["region"], bucket["location"]) == ("cn-north-1", "mainland")
    assert "planned values" in bucket["provenance"]
    assert code == 0


def test_locals_resolve_only_with_source() -> None:
    code, report = scan(str(P / "local-region.json"))
    assert violations(report) == [("CII003", "aws_s3_bucket.b")]
    assert "does not record local values" in report["violations"][0]["message"]
    assert code == 1
    code, report = scan(str(P / "local-region.json"), "--source", str(P / "local-region"))
    b = by_address(report)["aws_s3_bucket.b"]
    assert (b["region"], b["location"]) == ("ap-east-1", "outside")
    assert "local.region (" in b["provenance"] and "var.geo (plan variables)" in b["provenance"]
    assert violations(report) == [("CII001", "aws_s3_bucket.b")]


def test_environment_region_applies_to_a_provider_without_region(tmp_path: Path) -> None:
    plan = json.loads((P / "examples" / "foreign-region.json").read_text())
    del plan["configuration"]["provider_config"]["aws"]["expressions"]
    f = tmp_path / "p.json"
    f.write_text(json.dumps(plan))
    code, report = scan(str(f), env=clean_env(AWS_REGION="cn-northwest-1"))
    assert by_address(report)["aws_s3_bucket.user_profiles"]["location"] == "mainland"
    assert code == 0
    code, report = scan(str(f))
    assert violations(report) == [("CII003", "aws_s3_bucket.user_profiles")]


# -- actions ----------------------------------------------------------------------------------
def test_whole_planned_state_is_judged_by_default_deletes_never() -> None:
    code, report = scan(str(P / "actions.json"))
    res = by_address(report)
    assert "aws_s3_bucket.abandoned" not in res  # only being deleted
    assert set(res) == {"aws_s3_bucket.legacy", "aws_s3_bucket.moved", "aws_s3_bucket.retagged"}
    assert violations(report) == [
        ("CII001", "aws_s3_bucket.legacy"),  # no-op: already deployed, still outside
        ("CII001", "aws_s3_bucket.moved"),  # replaced
    ]
    assert code == 1


def test_changed_only_judges_creates_updates_and_replacements() -> None:
    code, report = scan(str(P / "actions.json"), "--changed-only")
    assert violations(report) == [("CII001", "aws_s3_bucket.moved")]
    assert set(by_address(report)) == {"aws_s3_bucket.moved", "aws_s3_bucket.retagged"}
    assert code == 1


def test_changed_only_still_sees_unchanged_sources_of_a_new_flow(tmp_path: Path) -> None:
    plan = json.loads((P / "examples" / "cross-border-replication.json").read_text())
    for rc in plan["resource_changes"]:
        if rc["type"] != "aws_s3_bucket_replication_configuration":
            rc["change"]["actions"] = ["no-op"]
    f = tmp_path / "p.json"
    f.write_text(json.dumps(plan))
    code, report = scan(str(f), "--changed-only")
    assert violations(report) == [("CII002", "aws_s3_bucket_replication_configuration.orders")]
    assert code == 1


# -- unknown values ---------------------------------------------------------------------------
def test_unknown_values_resolve_through_references_or_fail_closed() -> None:
    code, report = scan(str(P / "unknowns.json"))
    res = by_address(report)
    (to_dr,) = res["aws_s3_bucket_replication_configuration.to_dr"]["flows"]
    assert to_dr["destination_resource"] == "aws_s3_bucket.dr" and to_dr["location"] == "outside"
    assert to_dr["source"] == "aws_s3_bucket.src"
    (partner,) = res["aws_s3_bucket_replication_configuration.to_partner"]["flows"]
    assert partner["destination_resource"] is None and partner["location"] == "unknown"
    audit = res["aws_dynamodb_table.audit"]
    assert audit["in_scope"] is True and audit["location"] == "unknown"  # unknown tags, local
    assert res["aws_s3_bucket.dr"]["in_scope"] is True  # receives replicated personal data
    assert violations(report) == [
        ("CII001", "aws_s3_bucket.dr"),
        ("CII002", "aws_s3_bucket_replication_configuration.to_dr"),
        ("CII003", "aws_dynamodb_table.audit"),
        ("CII003", "aws_s3_bucket_replication_configuration.to_partner"),
    ]
    assert code == 1


def test_unknown_computed_replication_of_a_bucket_is_not_a_flow() -> None:
    _, report = scan(str(P / "examples" / "foreign-region.json"))
    assert by_address(report)["aws_s3_bucket.user_profiles"]["flows"] == []


# -- encodings, recognition, bad input --------------------------------------------------------
def test_utf16_with_bom_from_powershell_and_utf8_with_bom() -> None:
    assert (P / "powershell-utf16.json").read_bytes()[:2] == b"\xff\xfe"
    code, report = scan(str(P / "powershell-utf16.json"))
    assert violations(report) == [("CII001", "aws_s3_bucket.user_profiles")]
    assert code == 1
    assert (P / "bom-utf8.json").read_bytes()[:3] == b"\xef\xbb\xbf"
    code, report = scan(str(P / "bom-utf8.json"))
    assert violations(report) == [("CII001", "aws_db_instance.members")]


def test_recognised_by_content_whatever_the_name(tmp_path: Path) -> None:
    f = tmp_path / "tfplan.out"
    f.write_bytes((P / "examples" / "alias.json").read_bytes())
    _, report = scan(str(f))
    assert violations(report) == [("CII001", "aws_db_instance.members")]
    _, report = scan(str(tmp_path))  # a directory walk finds it too
    assert violations(report) == [("CII001", "aws_db_instance.members")]


def test_claims_plans_by_content_never_terraform_json_syntax(tmp_path: Path) -> None:
    from ciiguard.parsers.terraform.plan import TerraformPlanParser

    parser = TerraformPlanParser()
    plan_bytes = (P / "examples" / "alias.json").read_bytes()
    for name, data, claimed in [
        ("anything.txt", plan_bytes, True),
        ("utf16.json", (P / "powershell-utf16.json").read_bytes(), True),
        ("main.tf.json", plan_bytes, False),
        ("terraform.tfvars.json", plan_bytes, False),
        ("other.json", b'{"format_version": "1.0", "values": {}}', False),
        ("empty.json", b"", False),
    ]:
        f = tmp_path / name
        f.write_bytes(data)
        assert parser.claims(f) is claimed, name


def test_compact_single_line_plan(tmp_path: Path) -> None:
    f = tmp_path / "plan.json"
    f.write_text(json.dumps(json.loads((P / "modules.json").read_text()), separators=(",", ":")))
    code, report = scan(str(f))
    assert len(report["resources"]) == 9 and code == 1


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        (b'{"format_version": "1.2", "planned_values": {"root_module": {}},\n  "x": [1,,2]}',
         ":2:", "invalid JSON"),
        (b'{"format_version": "1.2",\n "planned_values": {"root_module": {}}, "resource_changes": [\n'
         b' {"address": "aws_s3_bucket.b", "change": {"actions": ["create"]}}\n  ', ":", "invalid JSON"),
        (b'{"format_version": "2.0", "planned_values": {"root_module": {}}}', ":1:",
         "format_version 2.0 is not supported"),
        (b'{"format_version": "1.2", "planned_values": {"root_module": {}}, "errored": true}', ":",
         "errored"),
        (b'{"format_version": "1.2", "resource_changes": []}', ":", "no planned_values"),
        (b'{"format_version": "1.2", "planned_values": {"root_module": {}},\n"v": "\xff\xfe"}',
         ":2:", "not valid UTF-8"),
    ],
)
def test_bad_plans_are_one_line_errors_with_exit_2(
    tmp_path: Path, content: bytes, where: str, message: str
) -> None:
    f = tmp_path / "plan.json"
    f.write_bytes(content)
    run = run_cli("scan", str(f), "--no-cache")
    assert run.code == 2
    lines = [ln for ln in (run.stdout + run.stderr).splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, run.stdout + run.stderr
    assert "plan.json" + where in lines[0] and message in lines[0]
    assert "Traceback" not in run.stderr


def test_state_json_is_not_taken_for_a_plan(tmp_path: Path) -> None:
    f = tmp_path / "state.json"
    f.write_text('{"format_version": "1.0", "terraform_version": "1.11.4", "values": {}}')
    run = run_cli("scan", str(f), "--no-cache")
    assert run.code == 2 and "not an input ciiguard can read" in run.stdout + run.stderr


def test_source_lines_and_inline_suppressions(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    tf = (EXAMPLES / "terraform" / "cross-border-replication" / "main.tf").read_text()
    marker = 'resource "aws_s3_bucket" "orders_replica" {'
    (src / "main.tf").write_text(tf.replace(marker, "# ciiguard:ignore CII001 DR copy, ticket 7\n" + marker))
    plan = str(P / "examples" / "cross-border-replication.json")
    _, report = scan(plan, "--source", str(src))
    found = {(v["policy"], v["resource"]): v for v in report["violations"]}
    replica = found[("CII001", "aws_s3_bucket.orders_replica")]
    assert replica["status"] == "suppressed" and replica["file"].endswith("src/main.tf")
    flow = found[("CII002", "aws_s3_bucket_replication_configuration.orders")]
    lines = (src / "main.tf").read_text().splitlines()
    assert "bucket = aws_s3_bucket.orders_replica.arn" in lines[flow["line"]]  # destination block


def test_source_directory_must_exist() -> None:
    run = run_cli("scan", str(P / "local-region.json"), "--source", "no/such/dir", "--no-cache")
    assert run.code == 2 and "--source" in run.stdout + run.stderr


# -- older formats and the setup-terraform wrapper ----------------------------------------------


@pytest.mark.parametrize("fmt", ["0.1", "0.2"])
def test_older_plan_formats_give_the_verdicts_of_format_1(fmt: str) -> None:
    """Terraform 0.12-0.14 wrote format 0.1 and 0.15-1.0 format 0.2 (written here the way those
    versions' jsonplan/jsonconfig wrote them: make_fixtures.legacy)."""
    legacy = P / "legacy" / f"cross-border-replication-{fmt}.json"
    assert json.loads(legacy.read_text())["format_version"] == fmt
    code, report = scan(str(legacy))
    modern_code, modern = scan(str(P / "examples" / "cross-border-replication.json"))
    assert violations(report) == violations(modern) and code == modern_code == 1
    src = str(P / "modules-source")
    code, report = scan(str(P / "legacy" / f"modules-{fmt}.json"), "--source", src)
    modern_code, modern = scan(str(P / "modules.json"), "--source", src)
    assert violations(report) == violations(modern) and code == modern_code == 1


@pytest.mark.parametrize("fmt", ["0.1", "0.2"])
def test_an_older_plan_cannot_tell_an_inherited_provider_from_a_passed_one(fmt: str) -> None:
    """Before format 1.1 a module resource names "<call>:aws", whichever configuration it
    really gets: without --source that is CII003 saying so, never the root's region."""
    code, report = scan(str(P / "legacy" / f"modules-{fmt}.json"))
    res = by_address(report)
    store = res["module.store.aws_s3_bucket.data"]  # its module's own provider block: known
    assert (store["region"], store["location"]) == ("eu-central-1", "outside")
    cold = res["module.archive.aws_s3_bucket.cold"]
    assert cold["region"] is None and "scan with --source DIR" in cold["provenance"]
    assert ("CII003", "module.archive.aws_s3_bucket.cold") in violations(report)
    assert code == 1


def test_the_setup_terraform_wrapper_output_is_named_and_explained(tmp_path: Path) -> None:
    plan = (P / "examples" / "compliant.json").read_text()
    wrapped = tmp_path / "plan.json"
    wrapped.write_text(
        "[command]/home/runner/work/_temp/3f1e/terraform-bin show -json tfplan\n"
        + plan
        + "\n::debug::Terraform exited with code 0.\n::debug::exitcode: 0\n"
    )
    for target in (str(wrapped), str(tmp_path)):  # named, and found in a scanned directory
        run = run_cli("scan", target, "--no-config", "--no-cache")
        assert run.code == 2
        errors = [ln for ln in (run.stdout + run.stderr).splitlines() if "plan.json:1:" in ln]
        assert len(errors) == 1 and "terraform_wrapper: false" in errors[0], run.stderr


def test_the_wrapper_check_reads_a_head_and_answers_as_decoding_everything() -> None:
    """The check decodes only the file's first bytes; it must tell what decoding all of them
    (invalid bytes dropped) tells: invalid bytes before the prefix, a character cut at the
    head's end, both encodings."""
    import random

    from ciiguard.parsers.terraform.plan import WRAPPER_PREFIX, _starts_with_wrapper

    rng = random.Random(24)
    pieces = [b"[command]", b"[comm", b"and]", b"\xff", b"\xe4\xb8", b"\xe4\xb8\xad", b"{", b" ", b"\x00"]
    cases = [b"\xff" * n + b"[command]x" for n in (4090, 4095, 4096, 5000)]
    cases += [b"a" * n + b"\xe4\xb8\xad" + b"[command]" for n in (4094, 4095)]
    for _ in range(400):
        cases.append(b"".join(rng.choice(pieces) for _ in range(rng.choice((3, 30, 3000)))))
    for data in cases:
        for enc, bom, raw in (
            ("utf-8", 0, data),
            ("utf-8", 3, b"\xef\xbb\xbf" + data),
            ("utf-16-le", 2, b"\xff\xfe" + data.decode("latin-1").encode("utf-16-le")),
        ):
            whole = raw[bom:].decode(enc, errors="ignore").startswith(WRAPPER_PREFIX)
            assert _starts_with_wrapper(raw, enc, bom) is whole, (enc, raw[:40])


@pytest.mark.parametrize("fmt", ["0.3", "2.0"])
def test_an_unknown_plan_format_is_refused(tmp_path: Path, fmt: str) -> None:
    doc = json.loads((P / "examples" / "compliant.json").read_text())
    doc["format_version"] = fmt
    f = tmp_path / "plan.json"
    f.write_text(json.dumps(doc))
    run = run_cli("scan", str(f), "--no-config", "--no-cache")
    assert run.code == 2 and f"format_version {fmt} is not supported" in run.stdout + run.stderr

"""SARIF 2.1.0: every run validated against the official schema; rules, locations, suppressions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import quote

import jsonschema
import pytest

from tests.conftest import FIXTURES, ROOT, clean_env, run_cli
from tests.test_gate_approvals import write_case

# OASIS's SARIF 2.1.0 schema, copied into the repository with its licence (tests/schemas/)
SCHEMA_PATH = ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json"
GATE = FIXTURES / "gate"


def test_the_schema_is_the_official_one() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert (SCHEMA_PATH.parent / "LICENSE-sarif-schema.txt").is_file()


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def sarif_of(tmp_path: Path, *args: str, code: int | None = None) -> dict:
    out = tmp_path / "r.sarif"
    run = run_cli("scan", "--no-cache", *args, "--format", f"sarif:{out}")
    if code is not None:
        assert run.code == code, run.stdout + run.stderr
    return json.loads(out.read_text())


def valid(validator, doc: dict) -> dict:
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return doc


def test_rules_one_per_policy_with_help_and_legal_basis(validator, tmp_path: Path) -> None:
    doc = valid(validator, sarif_of(tmp_path, str(GATE / "soft"), code=1))
    assert doc["version"] == "2.1.0"
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "ciiguard"
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) == {"CII001", "CII002", "CII003", "CII004"}
    r = rules["CII002"]
    assert "Legal basis: CSL art. 37" in r["help"]["text"]
    assert "**Legal basis:**" in r["help"]["markdown"]
    assert r["properties"]["legalBasis"].startswith("CSL art. 37")
    assert r["defaultConfiguration"]["level"] == "error"
    assert float(r["properties"]["security-severity"]) >= 9.0


def test_results_have_physical_locations_and_rule_indexes(validator, tmp_path: Path) -> None:
    doc = valid(validator, sarif_of(tmp_path, str(GATE / "soft"), code=1))
    run = doc["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert set(by_rule) == {"CII001", "CII003"}
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "tests/fixtures/gate/soft/main.tf"
        assert loc["artifactLocation"]["uriBaseId"] == "SRCROOT"
        assert loc["region"]["startLine"] > 0
        assert len(result["partialFingerprints"]["ciiguard/v1"]) == 32
        assert result["level"] == "error"
    assert by_rule["CII001"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 16
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == ROOT.as_uri() + "/"
    assert run["invocations"][0]["executionSuccessful"] is True


def test_suppressed_findings_carry_suppressions(validator, tmp_path: Path) -> None:
    doc = valid(validator, sarif_of(tmp_path, str(GATE / "suppress"), code=1))
    results = doc["runs"][0]["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert len(suppressed) == 4
    by_res = {r["properties"]["resource"]: r for r in suppressed if r["ruleId"] == "CII001"}
    s = by_res["aws_s3_bucket.with_reason"]["suppressions"][0]
    assert s == {
        "kind": "inSource",
        "status": "accepted",
        "justification": "legacy analytics export, migrating under ticket OPS-12 "
        "(tests/fixtures/gate/suppress/main.tf:12)",
    }
    assert all(r["properties"]["status"] == "suppressed" for r in suppressed)
    open_ = [r for r in results if "suppressions" not in r]
    assert len(open_) == 5 and all(r["properties"]["blocking"] for r in open_)
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("gives no reason" in n["message"]["text"] and n["level"] == "warning" for n in notes)


def test_approved_exempted_and_baselined_runs_validate(validator, tmp_path: Path) -> None:
    write_case(tmp_path)
    doc = valid(validator, sarif_of(tmp_path, str(tmp_path), code=1))
    kinds = {
        r["properties"]["resource"]: r.get("suppressions", [{}])[0].get("kind")
        for r in doc["runs"][0]["results"]
    }
    assert kinds["aws_dynamodb_table.valid"] == "external"
    assert kinds["aws_dynamodb_table.expired"] is None

    soon = (dt.date.today() + dt.timedelta(days=200)).isoformat()
    cfg = tmp_path / "ex.toml"
    cfg.write_text(
        f'[[exemptions]]\nresource = "*"\npolicy = "CII003"\nreason = "var set by CD"\nexpires = {soon}\n'
    )
    base = tmp_path / "b.json"
    assert (
        run_cli("scan", "--no-cache", str(GATE / "soft"), "--create-baseline", str(base)).code == 0
    )
    doc = valid(
        validator,
        sarif_of(
            tmp_path, str(GATE / "soft"), "--config", str(cfg), "--baseline", str(base), code=0
        ),
    )
    results = {r["ruleId"]: r for r in doc["runs"][0]["results"]}
    assert results["CII003"]["suppressions"][0]["kind"] == "external"
    assert "var set by CD" in results["CII003"]["suppressions"][0]["justification"]
    assert results["CII001"]["baselineState"] == "unchanged"


def test_scan_errors_are_failed_invocations(validator, tmp_path: Path) -> None:
    (tmp_path / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n')
    doc = valid(validator, sarif_of(tmp_path, str(tmp_path), code=2))
    inv = doc["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    note = inv["toolExecutionNotifications"][0]
    assert note["level"] == "error"
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("broken.tf")


def test_inputs_outside_the_working_directory_are_relative_to_their_root(
    validator, tmp_path: Path
) -> None:
    """GitHub rejects results located by absolute file:// URIs: a scanned root outside the
    working directory gets a uriBaseId of its own, and its files are relative to it."""
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "eu-west-1"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  tags = { "data-classification" = "core" }\n}\n'
    )
    doc = valid(validator, sarif_of(tmp_path, str(tmp_path), code=1))
    run = doc["runs"][0]
    art = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    # tmp_path is outside the working directory (the repository)
    assert art == {"uri": "main.tf", "uriBaseId": "ROOT1"}
    assert run["originalUriBaseIds"]["ROOT1"]["uri"] == tmp_path.resolve().as_uri() + "/"
    assert run["automationDetails"]["id"] == "ciiguard/"
    assert run["tool"]["driver"]["fullName"].startswith("ciiguard ")


def test_nested_roots_outside_the_working_directory_map_files_to_the_nearest(
    validator, tmp_path: Path
) -> None:
    """Roots inside roots: a file belongs to its nearest root's base id (the deeper one comes
    first), whichever order the results come in."""
    body = (
        'provider "aws" {\n  region = "eu-west-1"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  tags = { "data-classification" = "core" }\n}\n'
    )
    for sub in ("a", "a/b", "a/b/c", "z"):
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
        (tmp_path / sub / "main.tf").write_text(body)
    doc = valid(validator, sarif_of(tmp_path, str(tmp_path), code=1))
    run = doc["runs"][0]
    bases = {k: v["uri"] for k, v in run["originalUriBaseIds"].items() if k != "SRCROOT"}
    seen = set()
    for result in run["results"]:
        art = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert art["uri"] == "main.tf", art
        seen.add(bases[art["uriBaseId"]])
    root = tmp_path.resolve().as_uri()
    assert seen == {f"{root}/a/", f"{root}/a/b/", f"{root}/a/b/c/", f"{root}/z/"}
    assert bases["ROOT1"] == f"{root}/a/b/c/"


def test_root_base_ids_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """Sibling roots at one depth were numbered in a set's order, which changes with
    PYTHONHASHSEED: the same scan gave ROOT1 and ROOT2 the other way round in another run."""
    body = (
        'provider "aws" {\n  region = "eu-west-1"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  tags = { "data-classification" = "core" }\n}\n'
    )
    for sub in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "main.tf").write_text(body)
    outputs = set()
    for seed in ("0", "1", "2", "3", "4"):
        run = run_cli(
            "scan", str(tmp_path), "--format", "sarif", "--no-cache", "--no-config",
            env=clean_env(PYTHONHASHSEED=seed),
        )  # fmt: skip
        assert run.code == 1, run.stderr
        bases = json.loads(run.stdout)["runs"][0]["originalUriBaseIds"]
        outputs.add(tuple((k, v["uri"]) for k, v in sorted(bases.items())))
    assert len(outputs) == 1
    ((_, first), *_) = [b for b in next(iter(outputs)) if b[0] == "ROOT1"]
    assert first.endswith("/alpha/")


def test_the_base_table_picks_what_the_loop_over_every_base_picked() -> None:
    """``_uri`` looks a file's base up by its parents: the result is the first base, in the
    order given, that the file is relative to, as when each base was tried in turn."""
    import random

    from ciiguard.reporters.sarif import SRCROOT, _Bases, _uri

    def loop(file: str, bases: dict[str, Path]) -> tuple[str, str | None]:  # the old _uri
        path = Path(file)
        if path.is_absolute():
            for base, root in bases.items():
                try:
                    rel = path.relative_to(root)
                except ValueError:
                    continue
                return quote(rel.as_posix()), base
            return path.as_uri(), None
        return quote(path.as_posix()), SRCROOT

    rng = random.Random(7)
    names = ["a", "b", "..", "c d", "%", "\u00e9"]
    for _ in range(300):
        dirs = [
            "/" + "/".join(rng.choice(names) for _ in range(rng.randint(0, 3))) for _ in range(6)
        ]
        dirs.append(rng.choice(["", ".", "a", "//a"]))  # not absolute, or POSIX's own // root
        rng.shuffle(dirs)
        bases = {f"ROOT{i + 1}": Path(d) for i, d in enumerate(dirs)}
        files = [d + rng.choice(["", "/main.tf", "/a/x.tf", "x.tf"]) for d in dirs]
        files += ["/elsewhere/main.tf", "rel/main.tf", "/"]
        table = _Bases(bases)
        for file in files:
            assert _uri(file, table) == loop(file, bases), (file, bases)


def test_baselined_results_are_accepted_so_code_scanning_shows_them_closed(
    validator, tmp_path: Path
) -> None:
    from tests.test_gate_baseline import shared_module_estate

    infra = shared_module_estate(tmp_path / "infra", "staging")
    baseline = tmp_path / "b.json"
    assert run_cli("scan", str(infra), "--no-cache", "--create-baseline", str(baseline)).code == 0
    doc = valid(validator, sarif_of(tmp_path, str(infra), "--baseline", str(baseline), code=0))
    (result,) = doc["runs"][0]["results"]
    assert result["baselineState"] == "unchanged"
    assert result["suppressions"][0]["status"] == "accepted"


@pytest.mark.slow
def test_sarif_multitool_with_githubs_ingestion_rules_reports_no_error(tmp_path: Path) -> None:
    """Microsoft's SARIF Multitool (npm @microsoft/sarif-multitool), `validate` with the SARIF
    and GitHub (Gh) rule kinds: no error and no GitHub ingestion finding."""
    import os
    import shutil
    import subprocess

    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("node/npm not installed: the SARIF Multitool's npm build cannot run")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ciiguard-tests"
    where = cache / "sarif-multitool"
    exe = where / "node_modules" / ".bin" / "sarif-multitool"
    if not exe.exists():
        where.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [npm, "install", "--silent", "--prefix", str(where), "@microsoft/sarif-multitool@5"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if proc.returncode != 0 or not exe.exists():
            pytest.skip(f"npm could not install the SARIF Multitool: {proc.stderr.strip()[:200]}")
    from tests.test_gate_baseline import shared_module_estate

    infra = shared_module_estate(tmp_path / "infra", "staging", "prod")
    baseline = tmp_path / "b.json"
    run_cli("scan", str(infra), "--no-cache", "--create-baseline", str(baseline))
    shutil.copytree(GATE / "suppress", infra / "suppress")
    sarif_of(tmp_path, str(infra), "--baseline", str(baseline))
    out = tmp_path / "validation.sarif"
    # the npm wrapper hands its arguments to a shell: the ;-lists need their own quotes
    proc = subprocess.run(
        [str(exe), "validate", str(tmp_path / "r.sarif"), "-o", str(out),
         "--rule-kind", '"Gh;Sarif"', "--level", '"Error;Warning;Note"'],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(out.read_text())["runs"][0].get("results", [])
    errors = [r for r in results if r.get("level") == "error"]
    github = [r for r in results if r["ruleId"].upper().startswith("GH")]
    assert not errors and not github, [(r["ruleId"], r["message"]) for r in errors + github]

    # In Azure Pipelines, with GitHub Advanced Security for Azure DevOps' rules (Ado) too: the
    # pipeline's predefined variables fill automationDetails as that service requires.
    azure = clean_env(
        TF_BUILD="True", SYSTEM_DEFINITIONID="12", BUILD_DEFINITIONNAME="infra-ci",
        SYSTEM_PHASEID="3a7c1b9e-2f4d-4e6a-9b8c-1d2e3f4a5b6c", SYSTEM_PHASENAME="Job",
        SYSTEM_COLLECTIONURI="https://dev.azure.com/acme/", SYSTEM_TEAMPROJECT="platform",
        BUILD_SOURCEBRANCH="refs/heads/main", BUILD_BUILDID="345",
    )  # fmt: skip
    ado = tmp_path / "ado.sarif"
    run_cli("scan", str(infra), "--no-cache", "--format", f"sarif:{ado}", env=azure)
    out_ado = tmp_path / "validation-ado.sarif"
    proc = subprocess.run(
        [str(exe), "validate", str(ado), "-o", str(out_ado),
         "--rule-kind", '"Gh;Ado;Sarif"', "--level", '"Error"'],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ado_results = json.loads(out_ado.read_text())["runs"][0].get("results", [])
    assert ado_results == [], [(r["ruleId"], r["message"]) for r in ado_results]

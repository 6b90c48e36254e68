"""The trust boundary's rules (``ciiguard.gate.trust``): every config key classified; what a file
of the scanned tree may tighten, what it may never relax; the pipeline's own limits on
exemptions, suppressions and approvals; and how the reports show what ran and what is waived."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ciiguard.gate import config as config_module
from ciiguard.gate.config import Config, ConfigError, concrete, load
from ciiguard.gate.trust import RULES, Kind, combine, rule_for
from ciiguard.model import Enforcement
from tests.conftest import clean_env, run_cli

DEFAULTS = {"CII001": Enforcement.MANDATORY, "PLUG001": Enforcement.ADVISORY}


def toml(tmp_path: Path, text: str, name: str = "ciiguard.toml", trusted: bool = False) -> Config:
    path = tmp_path / name
    path.write_text(text)
    return load(path, trusted=trusted)


# -- every key has a rule ----------------------------------------------------------------------
def test_every_config_key_is_classified() -> None:
    """A key without a rule fails here: add it to gate/trust.py RULES (tightening-only,
    relaxing or neutral) in the same change that adds it to gate/config.py."""
    keys = set(config_module.key_paths())
    assert keys == set(RULES), {"unclassified": keys - set(RULES), "stale": set(RULES) - keys}
    for key, rule in RULES.items():
        assert isinstance(rule.kind, Kind) and rule.effect
        assert rule.field in {f for f in Config.__dataclass_fields__}, key


def test_a_new_key_without_a_rule_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_module, "_TOP", (*config_module._TOP, "a_key_added_later"))
    assert "a_key_added_later" in set(config_module.key_paths()) - set(RULES)
    assert rule_for("a_key_added_later.x") is None


def test_an_unclassified_key_from_the_tree_is_treated_as_relaxing(tmp_path: Path) -> None:
    tree = Config(path=tmp_path / "c.toml", display="c.toml", keys=("a_key_added_later",))
    combined = combine(Config(trusted=True), [tree], DEFAULTS)
    (rel,) = combined.relaxations
    assert rel.key == "a_key_added_later" and not rel.applied


# -- tightening is accepted, relaxing is refused and reported ------------------------------------
def test_tightenings_from_the_tree_are_applied(tmp_path: Path) -> None:
    trusted = toml(tmp_path, 'allowed_regions = ["cn-north-1", "cn-northwest-1"]\n', "p.toml", True)
    tree = toml(
        tmp_path,
        "cii_workload = true\n"
        'fail_on = "advisory"\n'
        'suppressions = "forbid"\n'
        'allowed_regions = ["cn-north-1"]\n'
        "exemption_max_days = 30\n"
        "[classification]\n"
        'in_scope = ["personal", "sensitive-personal", "important", "core", "restricted"]\n'
        'out_of_scope = ["public"]\n'
        "[approval]\nmax_valid_days = 400\n"
        '[enforcement]\nPLUG001 = "mandatory"\nCII001 = "mandatory"\n',
    )
    combined = combine(trusted, [tree], DEFAULTS)
    assert combined.relaxations == ()
    c = combined.config
    assert c.cii_workload and c.fail_on == "advisory" and c.suppressions == "forbid"
    assert c.allowed_regions == {"*": ("cn-north-1",)}
    assert "restricted" in c.in_scope_values and c.out_of_scope_values == ("public",)
    assert c.approval_max_valid_days == 400 and c.exemption_max_days == 30
    assert c.enforcement["PLUG001"] == "mandatory"


def test_relaxations_are_refused_one_by_one(tmp_path: Path) -> None:
    trusted = toml(
        tmp_path,
        'fail_on = "advisory"\nsuppressions = "forbid"\nallowed_regions = ["cn-north-1"]\n'
        "[approval]\nmax_valid_days = 100\nwarn_days = 90\n",
        "p.toml",
        True,
    )
    tree = toml(
        tmp_path,
        "soft_fail = true\n"
        'fail_on = "mandatory"\n'
        'suppressions = "require-reason"\n'
        'allowed_regions = ["cn-north-1", "cn-northwest-1"]\n'
        "[classification]\n"
        'key = "x"\nin_scope = ["personal"]\nout_of_scope = ["public", "internal", "restricted"]\n'
        "[approval]\n"
        'key = "a"\nexpiry_key = "b"\nreference_pattern = ".*"\nmax_valid_days = 5000\nwarn_days = 1\n'
        '[enforcement]\nCII001 = "advisory"\nPLUG001 = "disabled"\n',
    )
    combined = combine(trusted, [tree], DEFAULTS)
    keys = {r.key: r for r in combined.relaxations}
    assert set(keys) == {
        "soft_fail",
        "fail_on",
        "suppressions",
        "allowed_regions",
        "classification.key",
        "classification.in_scope",
        "classification.out_of_scope",
        "approval.key",
        "approval.expiry_key",
        "approval.reference_pattern",
        "approval.max_valid_days",
        "enforcement.CII001",
        "enforcement.PLUG001",
    }
    assert keys["soft_fail"].line == 1 and keys["enforcement.PLUG001"].line == 17
    assert (
        "sensitive-personal, important, core out of scope" in keys["classification.in_scope"].effect
    )
    c = combined.config
    assert (bool(c.soft_fail), c.fail_on, c.suppressions) == (False, "advisory", "forbid")
    assert c.classification_key is None and c.approval_key is None
    assert c.approval_max_valid_days == 100
    assert c.approval_warn_days == 90  # neutral: the pipeline's value wins
    assert c.enforcement == {}


def test_without_the_policy_config_the_nearest_file_applies_and_warns(tmp_path: Path) -> None:
    tree = toml(
        tmp_path, 'soft_fail = true\nplugins = ["evil"]\n[enforcement]\nCII001 = "disabled"\n'
    )
    combined = combine(None, [tree], DEFAULTS)
    assert combined.config.soft_fail is True and combined.config.plugins == ()
    applied = {r.key: r.applied for r in combined.relaxations}
    assert applied == {"soft_fail": True, "plugins": False, "enforcement.CII001": True}


def test_a_pyproject_table_reports_its_full_key(tmp_path: Path) -> None:
    tree = toml(tmp_path, "[tool.ciiguard]\nsoft_fail = true\n", "pyproject.toml")
    (rel,) = combine(Config(trusted=True), [tree], DEFAULTS).relaxations
    assert (rel.key, rel.line) == ("tool.ciiguard.soft_fail", 2)


# -- the pipeline's own limits --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        ("aws_s3_bucket.legacy_*", True),
        ("aws_s3_bucket.legacy", True),
        ('module.store.aws_s3_bucket.b["x"]', True),
        ("module.store.*", True),
        ("urn:pulumi:prod::shop::aws:s3/bucket:Bucket::orders", True),
        ("*", False),
        ("*.*", False),
        ("aws_*", False),
        ("aws_s3_bucket.*", False),
        ("?ws_s3_bucket.b", False),
    ],
)
def test_exemption_patterns_must_be_concrete(pattern: str, ok: bool) -> None:
    assert concrete(pattern) is ok


def test_the_policy_configs_exemptions_are_concrete_and_dated(tmp_path: Path) -> None:
    soon = dt.date.today() + dt.timedelta(days=30)
    late = dt.date.today() + dt.timedelta(days=400)

    def exemption(resource: str, expires: dt.date, extra: str = "") -> str:
        return (
            f'{extra}[[exemptions]]\nresource = "{resource}"\npolicy = "CII001"\n'
            f'reason = "r"\nexpires = {expires.isoformat()}\n'
        )

    assert toml(tmp_path, exemption("aws_s3_bucket.a", soon), "p.toml", True).exemptions
    with pytest.raises(ConfigError, match="not a concrete resource pattern"):
        toml(tmp_path, exemption("*", soon), "p.toml", True)
    with pytest.raises(ConfigError, match="more than 365 days away"):
        toml(tmp_path, exemption("aws_s3_bucket.a", late), "p.toml", True)
    assert toml(
        tmp_path, exemption("aws_s3_bucket.a", late, "exemption_max_days = 500\n"), "p.toml", True
    )
    assert toml(tmp_path, exemption("*", late), "ciiguard.toml").exemptions  # the tree's: as before


def scan(tmp_path: Path, *args: str, cwd: Path | None = None):
    return run_cli("scan", "repo", "--no-cache", "--format", "json", *args, cwd=cwd or tmp_path)


def write_repo(tmp_path: Path, tf: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.tf").write_text(tf)
    return repo


OUTSIDE = (
    'provider "aws" {\n  region = "us-east-1"\n}\n'
    "# ciiguard:ignore CII001 vendor sandbox\n"
    'resource "aws_s3_bucket" "b" {\n  tags = { "data-classification" = "personal" }\n}\n'
)


def test_suppressions_forbid_and_require_reason(tmp_path: Path) -> None:
    write_repo(tmp_path, OUTSIDE)
    (tmp_path / "forbid.toml").write_text('suppressions = "forbid"\n')
    (tmp_path / "reason.toml").write_text('suppressions = "require-reason"\n')
    forbid = scan(tmp_path, "--policy-config", "forbid.toml")
    assert forbid.code == 1
    found = {(v["policy"], v["status"], v["line"]) for v in forbid.json["violations"]}
    assert found == {("CII001", "violation", 5), ("CII004", "violation", 4)}
    (waiver,) = forbid.json["waivers"]
    assert (waiver["reason"], waiver["status"]) == ("vendor sandbox", "forbidden by the pipeline")
    reason = scan(tmp_path, "--policy-config", "reason.toml")
    assert reason.code == 0
    assert reason.json["waivers"][0]["status"] == "applied to 1 finding"


REPLICA = (
    'provider "aws" {\n  region = "cn-north-1"\n}\n'
    'resource "aws_dynamodb_table" "t" {\n  name = "t"\n'
    '  tags = {\n    "data-classification" = "personal"\n'
    '    "cross-border-approval" = "{ref}"\n    "cross-border-approval-expires" = "{exp}"\n  }}\n'
    '  replica {{\n    region_name = "ap-southeast-1"\n  }}\n}}\n'
)


@pytest.mark.parametrize(
    ("ref", "days", "counts", "why"),
    [
        ("CAC-SA-2025-0001", 300, True, ""),
        ("lol", 300, False, "does not match the pipeline's pattern"),
        ("CAC-SA-2025-0001", 3000, False, "beyond the pipeline's maximum of 1095"),
    ],
)
def test_approvals_within_the_pipelines_constraints(
    tmp_path: Path, ref: str, days: int, counts: bool, why: str
) -> None:
    expires = (dt.date.today() + dt.timedelta(days=days)).isoformat()
    tf = (
        REPLICA.replace("{ref}", ref)
        .replace("{exp}", expires)
        .replace("{{", "{")
        .replace("}}", "}")
    )
    write_repo(tmp_path, tf)
    (tmp_path / "p.toml").write_text(
        '[approval]\nreference_pattern = "CAC-SA-[0-9]{4}-[0-9]{4}"\nmax_valid_days = 1095\n'
    )
    run = scan(tmp_path, "--policy-config", "p.toml")
    assert run.code == (0 if counts else 1), run.stdout + run.stderr
    (v,) = [v for v in run.json["violations"] if v["policy"] == "CII002"]
    (waiver,) = run.json["waivers"]
    assert waiver["kind"] == "approval" and waiver["expires"] == expires
    if counts:
        assert v["status"] == "approved-transfer" and waiver["status"] == "counts"
    else:
        assert why in v["approval_problem"] and why in waiver["status"]


def test_the_policy_config_must_lie_outside_the_scanned_tree(tmp_path: Path) -> None:
    repo = write_repo(tmp_path, OUTSIDE)
    (repo / ".git").mkdir()
    (repo / "sub").mkdir()
    (repo / "sub" / "policy.toml").write_text("")
    run = run_cli("scan", "repo/sub", "--policy-config", "repo/sub/policy.toml", cwd=tmp_path)
    assert run.code == 2
    assert "the policy config lies inside the scanned tree (repo)" in run.stderr
    missing = run_cli("scan", "repo", "--policy-config", "nowhere.toml", cwd=tmp_path)
    assert missing.code == 2 and "nowhere.toml: no such policy config file" in missing.stderr


def test_policies_and_explain_document_cii004(tmp_path: Path) -> None:
    listing = run_cli("policies", cwd=tmp_path)
    assert listing.code == 0 and "CII004" in listing.stdout
    explained = run_cli("explain", "CII004", cwd=tmp_path)
    assert explained.code == 0
    for words in ("gate-relaxed-by-change", "Legal basis:", "separation of duties", "How to fix"):
        assert words in explained.stdout


# -- the reports say which plugins ran and what the tree waives ----------------------------------
def test_every_report_lists_the_plugins_that_ran_and_the_waivers(tmp_path: Path) -> None:
    write_repo(tmp_path, OUTSIDE)
    out = {f: tmp_path / f"r.{f}" for f in ("json", "sarif", "markdown")}
    run = run_cli(
        "scan", "repo", "--no-cache", "--format", "text",
        *[a for f, p in out.items() for a in ("--format", f"{f}:{p}")],
        cwd=tmp_path,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    location = str(Path(__file__).resolve().parent.parent / "ciiguard")
    assert f"plugins: builtin 0.1.0 (builtin: {location})" in run.stdout
    assert "suppressions and approvals in the scanned tree (1):" in run.stdout
    assert "'vendor sandbox': applied to 1 finding" in run.stdout
    report = json.loads(out["json"].read_text())
    assert report["plugins"] == [
        {"name": "builtin", "version": "0.1.0", "source": "builtin", "location": location,
         "distribution": None}
    ]  # fmt: skip
    sarif = json.loads(out["sarif"].read_text())
    (ext,) = sarif["runs"][0]["tool"]["extensions"]
    assert ext["name"] == "builtin" and ext["properties"]["location"] == location
    assert ext["locations"][0]["uri"].startswith("file://")
    md = out["markdown"].read_text()
    assert "### Suppressions and approvals in the scanned tree (1)" in md
    assert "| suppression | `aws_s3_bucket.b` | `repo/main.tf:4` | CII001 | vendor sandbox |" in md
    assert "<summary>Plugins that ran (1)</summary>" in md


def test_a_plugin_from_an_entry_point_is_listed_with_its_distribution(tmp_path: Path) -> None:
    from tests.test_gate_config import PLUGIN_DIR

    write_repo(tmp_path, OUTSIDE)
    run = run_cli(
        "scan", "repo", "--no-cache", "--format", "json",
        env=clean_env(PYTHONPATH=str(PLUGIN_DIR)), cwd=tmp_path,
    )  # fmt: skip
    acme = next(p for p in run.json["plugins"] if p["name"] == "acme")
    assert acme["source"] == "entry point" and acme["distribution"]
    assert acme["location"].startswith(str(PLUGIN_DIR))


def test_module_source_mappings_from_the_tree_are_a_relaxation(tmp_path: Path) -> None:
    """A mapping decides which code is read for a remote module: from the tree under review it
    is refused (CII004) and the module stays unread (CII003); from the policy config it applies."""
    (tmp_path / "vendor").mkdir()
    tree = toml(tmp_path, '[module_sources]\n"git::https://example.com/net.git" = "vendor"\n')
    combined = combine(Config(trusted=True), [tree], DEFAULTS)
    (rel,) = combined.relaxations
    assert rel.key == "module_sources" and not rel.applied and rel.line == 1
    assert combined.config.module_sources == {}
    trusted = toml(
        tmp_path,
        '[module_sources]\n"git::https://example.com/net.git" = "vendor"\n',
        "p.toml",
        True,
    )
    combined = combine(trusted, [], DEFAULTS)
    assert combined.relaxations == ()
    assert combined.config.module_sources == {
        "git::https://example.com/net.git": tmp_path / "vendor"
    }


def test_endpoint_declarations_from_the_tree_are_a_relaxation(tmp_path: Path) -> None:
    """Declaring an external endpoint 'mainland' turns a CII003 into a pass: from the tree
    under review it is refused (CII004); from the policy config it applies."""
    text = (
        '[[endpoints]]\nmatch = "https://siem.example.cn/*"\nlocation = "mainland"\nreason = "r"\n'
    )
    combined = combine(Config(trusted=True), [toml(tmp_path, text)], DEFAULTS)
    (rel,) = combined.relaxations
    assert rel.key == "endpoints" and not rel.applied
    assert combined.config.endpoints == ()
    # shown as the file writes it, not as a Python object (eighth audit, wording)
    assert (
        rel.value == "[{match = 'https://siem.example.cn/*', location = 'mainland', reason = 'r'}]"
    )
    combined = combine(toml(tmp_path, text, "p.toml", True), [], DEFAULTS)
    assert combined.relaxations == () and len(combined.config.endpoints) == 1

"""Pulumi Node.js programs (TypeScript, JavaScript): run with --run-programs under the Node SDK's
own mocks, through the harness shipped in the package; each fixture has a Pulumi YAML twin."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, clean_env, run_cli

NODE = FIXTURES / "pulumi" / "node"
TWINS = NODE / "twins"

# fixture -> the verdicts (policy, resource name) it must give; its YAML twin must give the same
EXPECTED = {
    "aws-compliant": [],
    "aws-violating": [("CII001", "catalog"), ("CII001", "media")],
    "azure-compliant": [],
    "azure-violating": [("CII001", "hkstore")],
    "unknown-output": [("CII003", "records"), ("CII003", "sessions")],
}


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ciiguard-tests"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """The fixtures' npm packages, installed once per package-lock.json into a cache that later
    runs reuse (``npm ci`` of @pulumi/aws and @pulumi/azure-native takes about a minute)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are not installed: Node programs cannot be evaluated")
    lock = (NODE / "package-lock.json").read_bytes()
    target = _cache_root() / f"node-{hashlib.sha256(lock).hexdigest()[:16]}"
    done = target / "node_modules" / ".ciiguard-complete"
    if not done.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(NODE / "package.json", target / "package.json")
        shutil.copy(NODE / "package-lock.json", target / "package-lock.json")
        proc = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=target,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        if proc.returncode != 0:
            pytest.skip(f"npm ci of the fixtures' packages failed: {proc.stderr.strip()[-300:]}")
        done.write_text("ok")
    return target / "node_modules"


def _copy(name: str, tmp_path: Path, modules: Path | None) -> Path:
    project = tmp_path / name
    shutil.copytree(NODE / name, project)
    if modules is not None:
        (project / "node_modules").symlink_to(modules, target_is_directory=True)
    return project


def _scan(project: Path, *extra: str) -> tuple[int, dict]:
    run = run_cli("scan", str(project), "--format", "json", "--stack", "prod", *extra)
    assert run.json is not None, run.stderr
    return run.code, run.json


def _verdicts(report: dict) -> list[tuple[str, str]]:
    return sorted((v["policy"], v["resource"].rsplit("::", 1)[1]) for v in report["violations"])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_node_program_verdicts_match_its_yaml_twin(
    name: str, tmp_path: Path, node_modules: Path
) -> None:
    code, report = _scan(_copy(name, tmp_path, node_modules), "--run-programs")
    assert report["errors"] == []
    assert _verdicts(report) == EXPECTED[name]
    assert code == (1 if EXPECTED[name] else 0)
    twin = tmp_path / f"{name}-yaml"
    twin.mkdir()
    shutil.copy(TWINS / f"{name}.yaml", twin / "Pulumi.yaml")
    shutil.copy(NODE / name / "Pulumi.prod.yaml", twin / "Pulumi.prod.yaml")
    twin_code, twin_report = _scan(twin)
    assert (twin_code, _verdicts(twin_report)) == (code, _verdicts(report))


@pytest.mark.slow
def test_captured_resources_carry_parent_provider_file_and_line(
    tmp_path: Path, node_modules: Path
) -> None:
    _code, report = _scan(_copy("aws-violating", tmp_path, node_modules), "--run-programs")
    media = next(r for r in report["resources"] if r["address"].endswith("::media"))
    assert "acme:media:Library$aws:s3/bucketV2:BucketV2" in media["address"]
    assert media["file"].endswith("src/index.ts") and media["line"] == 7
    assert media["region"] == "ap-east-1"
    (violation,) = [v for v in report["violations"] if v["resource"].endswith("::media")]
    assert "hongkong" in violation["message"] + str(violation.get("evidence", ""))


@pytest.mark.slow
def test_a_relative_scan_path_keeps_every_file_and_line(tmp_path: Path, node_modules: Path) -> None:
    """``ciiguard scan infra`` (a relative path, as CI runs it): Node runs in the program's
    directory, and the harness placed frames relative to the project's relative path from there,
    so every resource and finding lost its file and line (sixteenth audit)."""
    project = _copy("aws-violating", tmp_path, node_modules)
    run = run_cli(
        "scan", project.name, "--format", "json", "--stack", "prod", "--run-programs",
        cwd=tmp_path,
    )  # fmt: skip
    assert run.json is not None, run.stderr
    media = next(r for r in run.json["resources"] if r["address"].endswith("::media"))
    assert (media["file"], media["line"]) == ("aws-violating/src/index.ts", 7)


@pytest.mark.slow
def test_an_es_module_program_runs_without_type_checking(tmp_path: Path, node_modules: Path) -> None:
    """A program with "type": "module" loads through ts-node's ESM loader, which type-checked it:
    a type error stopped the scan with exit 2, and checking took about 4 s (sixteenth audit:
    pulumi/examples aws-ts-s3-folder). Like every other TypeScript program, it is transpiled."""
    code, report = _scan(_copy("esm-untyped", tmp_path, node_modules), "--run-programs")
    assert report["errors"] == [], report["errors"]
    assert (code, _verdicts(report)) == (1, [("CII001", "records")])
    # where the bucket is made, in the TypeScript source: the SDK read no ES-module frame, and
    # without source maps the line was the transpiled JavaScript's (4)
    (records,) = report["resources"]
    assert (records["file"].rsplit("/", 1)[1], records["line"]) == ("index.ts", 6)


@pytest.mark.slow
def test_invokes_and_missing_config_follow_the_python_rules(
    tmp_path: Path, node_modules: Path
) -> None:
    _code, report = _scan(_copy("aws-compliant", tmp_path, node_modules), "--run-programs")
    sessions = next(r for r in report["resources"] if r["address"].endswith("::sessions"))
    assert sessions["region"] == "cn-north-1"
    _code, report = _scan(_copy("unknown-output", tmp_path, node_modules), "--run-programs")
    assert any("'unknown-output-ts:replicaRegion'" in w["message"] for w in report["warnings"])
    records = next(v for v in report["violations"] if v["resource"].endswith("::records"))
    assert records["policy"] == "CII003"


def _program(tmp_path: Path, source: str, modules: Path | None, name: str = "index.js") -> Path:
    project = tmp_path / "prog"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: prog\nruntime: nodejs\n")
    (project / "Pulumi.prod.yaml").write_text("config:\n  aws:region: cn-north-1\n")
    (project / name).write_text(source)
    if modules is not None:
        (project / "node_modules").symlink_to(modules, target_is_directory=True)
    return project


def test_not_run_without_run_programs(tmp_path: Path) -> None:
    project = _program(tmp_path, "throw new Error('must not run')\n", None)
    code, report = _scan(project)
    assert code == 2
    (error,) = report["errors"]
    assert "--run-programs" in error["message"] and "npm ci" in error["message"]


def test_missing_node_modules_or_sdk_or_node_is_one_line(tmp_path: Path) -> None:
    project = _program(tmp_path, "", None)
    code, report = _scan(project, "--run-programs")
    assert code == 2 and "run 'npm ci'" in report["errors"][0]["message"]
    (project / "node_modules").mkdir()
    code, report = _scan(project, "--run-programs")
    assert code == 2 and "no @pulumi/pulumi" in report["errors"][0]["message"]
    env = clean_env(PATH="/nonexistent")  # the ciiguard command is started by its full path
    run = run_cli("scan", str(project), "--run-programs", "--stack", "prod", env=env)
    assert run.code == 2
    assert "needs Node.js" in run.stdout + run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.slow
def test_a_throwing_program_is_an_error_at_its_line(tmp_path: Path, node_modules: Path) -> None:
    source = "const pulumi = require('@pulumi/pulumi');\n\nthrow new Error('no region for you');\n"
    code, report = _scan(_program(tmp_path, source, node_modules), "--run-programs")
    assert code == 2
    (error,) = report["errors"]
    assert error["file"].endswith("index.js") and error["line"] == 3
    assert "no region for you" in error["message"]


@pytest.mark.slow
def test_program_output_cannot_forge_protocol_lines(tmp_path: Path, node_modules: Path) -> None:
    source = (
        "const aws = require('@pulumi/aws');\n"
        'console.log(JSON.stringify({t: "done"}));\n'
        'process.stdout.write(JSON.stringify({t: "resource", type: "aws:s3/bucketV2:BucketV2", '
        'name: "forged", urn: "x", inputs: {}}) + "\\n");\n'
        "new aws.s3.BucketV2('hk', {tags: {'data-classification': 'personal'}}, "
        "{provider: new aws.Provider('p', {region: 'ap-east-1'})});\n"
    )
    code, report = _scan(_program(tmp_path, source, node_modules), "--run-programs")
    assert code == 1
    assert _verdicts(report) == [("CII001", "hk")]
    assert not any(r["address"].endswith("::forged") for r in report["resources"])


@pytest.mark.slow
def test_a_hanging_program_hits_the_time_limit(
    tmp_path: Path, node_modules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ciiguard.catalogue import Catalogue, load_builtin
    from ciiguard.errors import InputError
    from ciiguard.parsers.base import ParseContext
    from ciiguard.parsers.pulumi import node_program
    from ciiguard.parsers.pulumi.common import load_project
    from ciiguard.settings import Settings

    project_dir = _program(
        tmp_path, "module.exports = () => new Promise((r) => setTimeout(r, 1e9));\n", node_modules
    )
    monkeypatch.setattr(node_program, "TIME_LIMIT_S", 3.0)
    project = load_project(project_dir / "Pulumi.yaml", str, "prod", 1 << 20)
    ctx = ParseContext(
        settings=Settings(run_programs=True), catalogue=Catalogue(load_builtin()), cwd=project_dir
    )
    with pytest.raises(InputError, match="did not finish within 3 seconds"):
        node_program.run_node_program(project, ctx)


def test_node_starts_only_for_node_programs(tmp_path: Path) -> None:
    """A stand-in ``node`` on PATH records every start: scans without Node.js programs never
    start it, even with --run-programs; a Node.js program does (the control)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "node-started"
    fake = bin_dir / "node"
    fake.write_text(f"#!/bin/sh\necho started >> {marker}\nexit 0\n")
    fake.chmod(0o755)
    env = clean_env(PATH=f"{bin_dir}:{os.environ.get('PATH', '')}")
    tf = tmp_path / "tf"
    tf.mkdir()
    (tf / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n')
    yaml_project = tmp_path / "yaml"
    yaml_project.mkdir()
    shutil.copy(TWINS / "aws-compliant.yaml", yaml_project / "Pulumi.yaml")
    for path in (tf, yaml_project):
        run_cli("scan", str(path), "--run-programs", env=env)
    assert not marker.exists()
    project = _program(tmp_path, "", None)
    (project / "node_modules" / "@pulumi" / "pulumi").mkdir(parents=True)
    (project / "node_modules" / "@pulumi" / "pulumi" / "package.json").write_text("{}")
    run = run_cli("scan", str(project), "--run-programs", "--stack", "prod", env=env)
    assert marker.exists() and run.code == 2
    assert "Node exited before the program finished" in run.stdout + run.stderr


@pytest.mark.slow
def test_a_secret_deciding_a_region_is_cii003(tmp_path: Path, node_modules: Path) -> None:
    source = (
        "const pulumi = require('@pulumi/pulumi');\n"
        "const aws = require('@pulumi/aws');\n"
        "const region = new pulumi.Config().requireSecret('drRegion');\n"
        "const dr = new aws.Provider('dr', {region});\n"
        "new aws.s3.BucketV2('copy', {tags: {'data-classification': 'personal'}}, {provider: dr});\n"
    )
    project = _program(tmp_path, source, node_modules)
    (project / "Pulumi.prod.yaml").write_text(
        "config:\n  aws:region: cn-north-1\n  prog:drRegion:\n    secure: AAABAHx0ZXN0\n"
    )
    code, report = _scan(project, "--run-programs")
    assert code == 1 and _verdicts(report) == [("CII003", "copy")]
    assert "drRegion" in json.dumps(report["violations"])


@pytest.mark.slow
def test_runaway_output_is_stopped(
    tmp_path: Path, node_modules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ciiguard.catalogue import Catalogue, load_builtin
    from ciiguard.errors import InputError
    from ciiguard.parsers.base import ParseContext
    from ciiguard.parsers.pulumi import node_program
    from ciiguard.parsers.pulumi.common import load_project
    from ciiguard.settings import Settings

    source = "const aws = require('@pulumi/aws');\nfor (let i = 0; i < 50; i++) new aws.s3.BucketV2(`b${i}`);\n"
    project_dir = _program(tmp_path, source, node_modules)
    monkeypatch.setattr(node_program, "OUTPUT_LIMIT", 4096)
    project = load_project(project_dir / "Pulumi.yaml", str, "prod", 1 << 20)
    ctx = ParseContext(
        settings=Settings(run_programs=True), catalogue=Catalogue(load_builtin()), cwd=project_dir
    )
    with pytest.raises(InputError, match="registered more than"):
        node_program.run_node_program(project, ctx)


TRANSFORMS_JS = """\
const pulumi = require("@pulumi/pulumi");
const aws = require("@pulumi/aws");
pulumi.runtime.registerResourceTransform(async (args) => ({
    props: { ...args.props, region: "ap-east-1" }, opts: args.opts }));
new aws.s3.BucketV2("orders", { tags: { "data-classification": "personal" } });
new aws.s3.BucketV2("invoices", { tags: { "data-classification": "personal" } }, {
    transforms: [async (args) => ({ props: { ...args.props, region: "ap-east-1" }, opts: args.opts })],
});
"""


@pytest.mark.slow
def test_resource_transforms_are_not_applied_and_say_so(tmp_path: Path, node_modules: Path) -> None:
    """A transform that moves every bucket to Hong Kong passed: the mocks do not apply transforms
    (seventh audit). Each one is now an error naming it, and the scan is incomplete."""
    code, report = _scan(_program(tmp_path, TRANSFORMS_JS, node_modules), "--run-programs")
    messages = sorted(e["message"] for e in report["errors"])
    assert code == 2 and len(messages) == 2, messages
    assert (
        "registers a stack-wide resource transform, which ciiguard's mocks do not apply"
        in messages[1]
    )
    assert 'BucketV2 "invoices" has resource transforms' in messages[0]


LEFT_RUNNING_JS = """\
const aws = require("@pulumi/aws");
const fs = require("fs");
async function main() {  // not awaited, not exported: the module has loaded before it is done
    const region = (await fs.promises.readFile(`${__dirname}/region.txt`, "utf8")).trim();
    const dr = new aws.Provider("dr", { region });
    new aws.s3.BucketV2("backups", { tags: { "data-classification": "personal" } }, { provider: dr });
}
main();
let once = false;
process.on("beforeExit", () => {  // as pulumi-aws makes a bucket's notifications
    if (once) { return; }
    once = true;
    new aws.s3.BucketV2("audit", { tags: { "data-classification": "personal" } },
                        { provider: new aws.Provider("hk", { region: "ap-east-1" }) });
});
"""


@pytest.mark.slow
def test_work_left_running_after_the_module_loads_is_waited_for(
    tmp_path: Path, node_modules: Path
) -> None:
    """Pulumi's Node host runs until the event loop is empty; the harness stopped once the module
    had loaded, so a main() not awaited and a beforeExit handler registered nothing, and two Hong
    Kong buckets passed (seventh audit)."""
    project = _program(tmp_path, LEFT_RUNNING_JS, node_modules)
    (project / "region.txt").write_text("ap-east-1\n")
    code, report = _scan(project, "--run-programs")
    assert report["errors"] == []
    assert (code, _verdicts(report)) == (1, [("CII001", "audit"), ("CII001", "backups")])


APPLY_JS = """\
const pulumi = require("@pulumi/pulumi");
const aws = require("@pulumi/aws");
const PERSONAL = { "data-classification": "personal" };
const seed = new aws.s3.BucketV2("seed", { tags: PERSONAL });  // its ARN: known after deployment
const known = new aws.s3.BucketV2("known", { bucket: "orders-known", tags: PERSONAL });
seed.arn.apply((arn) => new aws.s3.BucketV2("in-apply", { tags: PERSONAL },
    { provider: new aws.Provider("hk", { region: "ap-east-1" }) }));
seed.bucket.apply((name) => new aws.s3.BucketV2("region-from-output", { tags: PERSONAL },
    { provider: new aws.Provider("derived", { region: name }) }));
seed.arn.apply((arn) => arn.toUpperCase()).apply((up) => new aws.s3.BucketV2("chained",
    { tags: PERSONAL }, { provider: new aws.Provider("fra", { region: "eu-central-1" }) }));
seed.arn.apply((arn) => { if (!arn.startsWith("arn:")) { throw new Error("not an ARN"); } });
seed.arn.apply(async (arn) => { throw new Error("later"); });
known.bucket.apply((name) => new aws.s3.BucketV2(name + "-mirror", { tags: PERSONAL },
    { provider: new aws.Provider("us", { region: "us-east-1" }) }));
pulumi.all([seed.arn, "x"]).apply(([a, b]) => b + a);
"""


@pytest.mark.slow
def test_apply_callbacks_on_unknown_outputs_are_run_on_a_stand_in(
    tmp_path: Path, node_modules: Path
) -> None:
    """As for Python programs: a preview skips an apply whose output is unknown, so a bucket made
    inside one was never seen (exit 0). The program's own callbacks now run on a stand-in; one
    that fails on it, at once or later, is named in a warning at its line."""
    code, report = _scan(_program(tmp_path, APPLY_JS, node_modules), "--run-programs")
    assert report["errors"] == [], report["errors"]
    assert _verdicts(report) == [
        ("CII001", "chained"),
        ("CII001", "in-apply"),
        ("CII001", "orders-known-mirror"),
        ("CII003", "region-from-output"),
    ]
    warned = sorted(
        (Path(w["file"]).name, w["line"], w["message"].split("(")[2].split(")")[0])
        for w in report["warnings"]
        if "stand-in value" in w["message"]
    )
    assert warned == [("index.js", 12, "Error: not an ARN"), ("index.js", 13, "Error: later")]
    assert "unknown-output" not in json.dumps(report)
    assert code == 1

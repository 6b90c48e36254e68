"""Every way classified data leaves the mainland, end to end through the installed command (#17).

The fixtures under ``tests/fixtures/egress/`` are written by ``make_fixtures.py`` from one
description per path: for each cloud an ``inside``, an ``outside`` and an ``unknown`` variant in
Terraform HCL and in Pulumi YAML, plus the three configurations the issue opened with (also as
plan JSON). ``expected.json`` holds the verdicts each description intends; these tests compare
them with what ``ciiguard scan`` reports.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ciiguard.model import FLOW_KINDS
from tests.conftest import FIXTURES, clean_env, run_cli

EGRESS = FIXTURES / "egress"
EXPECTED: dict[str, Any] = json.loads((EGRESS / "expected.json").read_text(encoding="utf-8"))
ISSUE = EGRESS / "issue"
SENTENCE = (
    "streams personal data from aws_kinesis_firehose_delivery_stream.f to "
    "arn:aws:s3:::analytics-us (global partition, outside mainland China) via "
    "aws_kinesis_firehose_delivery_stream.f.extended_s3_configuration[0].bucket_arn"
)
_RUNS: dict[tuple[str, ...], tuple[int, dict[str, Any]]] = {}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return clean_env(CIIGUARD_CACHE_DIR=str(tmp_path_factory.mktemp("cache")))


def scan(path: Path, env: dict[str, str], *extra: str) -> tuple[int, dict[str, Any]]:
    """``ciiguard scan PATH --format json`` with the fixture's own ciiguard.toml, once per path."""
    config = path / "ciiguard.toml" if path.is_dir() else None
    args = ["--config", str(config)] if config is not None and config.is_file() else ["--no-config"]
    key = (str(path), *args, *extra)
    if key not in _RUNS:
        run = run_cli("scan", str(path), "--format", "json", *args, *extra, env=env)
        assert run.code in (0, 1), run.stderr
        _RUNS[key] = (run.code, run.json)
    return _RUNS[key]


def name_of(address: str) -> str:
    """A resource's own name: ``aws_sqs_queue.orders`` and ``urn:...::orders`` are ``orders``."""
    return address.rsplit("::", 1)[-1].rsplit(".", 1)[-1]


def verdicts(report: dict[str, Any]) -> list[list[str]]:
    return sorted([v["policy"], name_of(v["resource"])] for v in report["violations"])


CASES = [(key, form) for key in EXPECTED for form in ("hcl", "pulumi")]


@pytest.mark.parametrize(("key", "form"), CASES, ids=[f"{k}-{f}" for k, f in CASES])
def test_each_path_gets_the_verdict_its_fixture_intends(
    key: str, form: str, env: dict[str, str]
) -> None:
    cloud, variant = key.split("/")
    path = EGRESS / cloud / (variant if form == "hcl" else f"pulumi-{variant}")
    code, report = scan(path, env)
    assert report["errors"] == []
    assert verdicts(report) == EXPECTED[key]["expected"]
    assert code == (1 if EXPECTED[key]["expected"] else 0)


def test_every_variant_of_every_cloud_is_there() -> None:
    clouds = {"aws", "azure", "google", "alicloud", "tencentcloud", "huaweicloud"}
    assert {k for k in EXPECTED if not k.startswith("issue/")} == {
        f"{c}/{v}" for c in clouds for v in ("inside", "outside", "unknown")
    }
    for key in EXPECTED:
        cloud, variant = key.split("/")
        assert (EGRESS / cloud / variant / "main.tf").is_file()
        assert (EGRESS / cloud / f"pulumi-{variant}" / "Pulumi.yaml").is_file()


def test_outside_and_unknown_fixtures_find_what_each_path_sends(env: dict[str, str]) -> None:
    """Every flow of an in-scope source to a foreign place is a CII002, every flow to an unknown
    place a CII003, and nothing else: no path hides behind another's finding."""
    for cloud in ("aws", "azure", "alicloud", "tencentcloud", "huaweicloud"):
        for variant, policy in (("outside", "CII002"), ("unknown", "CII003")):
            _, report = scan(EGRESS / cloud / variant, env)
            expected = {"outside": "outside", "unknown": "unknown"}[variant]
            flagged = [v for v in report["violations"] if v["policy"] == policy]
            for r in report["resources"]:
                for f in r["flows"]:
                    if f["location"] == expected and f["destination_resource"] != r["address"]:
                        lines = [v["line"] for v in flagged if v["resource"] == r["address"]]
                        src = f["source"]
                        scoped = src and any(
                            x["address"] == src and x["in_scope"] for x in report["resources"]
                        )
                        if scoped:
                            assert f["line"] in lines, (cloud, variant, r["address"], f)


# -- the three configurations of the issue ---------------------------------------------------------
ISSUE_CASES = [
    ("firehose", "aws_kinesis_firehose_delivery_stream.f", "stream"),
    ("log-subscription", "aws_cloudwatch_log_subscription_filter.ship", "log-shipping"),
    ("sns-subscription", "aws_sns_topic_subscription.us", "subscription"),
]


@pytest.mark.parametrize(("name", "address", "kind"), ISSUE_CASES, ids=[c[0] for c in ISSUE_CASES])
def test_the_issue_configurations_are_cii002_in_every_input_form(
    name: str, address: str, kind: str, env: dict[str, str]
) -> None:
    for path in (ISSUE / name, ISSUE / f"pulumi-{name}", ISSUE / "plan" / f"{name}.json"):
        code, report = scan(path, env)
        assert report["errors"] == [], path
        assert [(v["policy"], name_of(v["resource"])) for v in report["violations"]] == [
            ("CII002", name_of(address))
        ], path
        assert report["violations"][0]["flow_kind"] == kind
        assert code == 1


def test_the_firehose_finding_says_the_flow_in_words(env: dict[str, str]) -> None:
    for path in (ISSUE / "firehose", ISSUE / "plan" / "firehose.json"):
        _, report = scan(path, env)
        assert report["violations"][0]["message"] == SENTENCE


def test_json_flows_carry_their_kind_mechanism_and_where_they_go(env: dict[str, str]) -> None:
    kinds: set[str] = set()
    for cloud in ("aws", "azure", "google", "alicloud", "tencentcloud", "huaweicloud"):
        _, report = scan(EGRESS / cloud / "outside", env)
        for r in report["resources"]:
            for f in r["flows"]:
                assert f["kind"] in FLOW_KINDS, f
                assert f["mechanism"] and f["destination_summary"], f
                kinds.add(f["kind"])
    assert kinds == set(FLOW_KINDS)
    _, report = scan(ISSUE / "firehose", env)
    (flow,) = report["resources"][0]["flows"]
    assert (flow["kind"], flow["mechanism"], flow["destination"], flow["location"]) == (
        "stream",
        "firehose-s3",
        "arn:aws:s3:::analytics-us",
        "outside",
    )
    assert flow["destination_summary"] == "global partition, outside mainland China"


def test_a_reference_to_a_resource_of_the_configuration_resolves_to_it(env: dict[str, str]) -> None:
    _, report = scan(EGRESS / "aws" / "inside", env)
    res = {r["address"]: r for r in report["resources"]}
    (flow,) = res["aws_sns_topic_subscription.sub_queue"]["flows"]
    assert flow["destination_resource"] == "aws_sqs_queue.subscriber"
    assert (flow["source"], flow["location"]) == ("aws_sns_topic.topic", "mainland")
    # the receiver holds what its source holds
    assert res["aws_sqs_queue.subscriber"]["in_scope"]
    assert res["aws_sqs_queue.subscriber"]["classification"] == "personal"


@pytest.mark.parametrize(
    ("fmt", "needle"),
    [
        ("text", SENTENCE),
        # Markdown escapes what would be link syntax in scanned values (issue 20): [0] -> \[0\]
        ("markdown", SENTENCE.replace("[", "\\[").replace("]", "\\]")),
        ("junit", SENTENCE),
        ("sarif", SENTENCE),
        ("github", "streams personal data from aws_kinesis_firehose_delivery_stream.f to"),
    ],
)
def test_every_report_format_says_the_flow_in_words(
    fmt: str, needle: str, env: dict[str, str]
) -> None:
    run = run_cli("scan", str(ISSUE / "firehose"), "--no-config", "--format", fmt, env=env)
    assert run.code == 1, run.stderr
    assert needle in run.stdout
    if fmt == "sarif":
        (result,) = json.loads(run.stdout)["runs"][0]["results"]
        assert result["properties"]["flowKind"] == "stream"


def test_the_residency_map_labels_flows_with_their_kind(env: dict[str, str]) -> None:
    for name, _, kind in ISSUE_CASES:
        run = run_cli("map", str(ISSUE / name), "--no-config", "-f", "mermaid", env=env)
        assert run.code == 0, run.stderr
        assert f"{kind} · cross-border" in run.stdout


# -- approvals with expiry, for every kind ---------------------------------------------------------
def _approval_tags(expires: str | None) -> str:
    tags = '"data-classification" = "personal", "cross-border-approval" = "CAC-2026-0042"'
    if expires is not None:
        tags += f', "cross-border-approval-expires" = "{expires}"'
    return "{ " + tags + " }"


def _issue_with_approval(tmp_path: Path, name: str, expires: str | None) -> Path:
    """The issue's configuration with the approval recorded where the data comes from: on the
    stream itself, on the log group, on the topic."""
    text = (ISSUE / name / "main.tf").read_text(encoding="utf-8")
    personal = re.compile(r'tags = \{\n\s+"data-classification" = "personal"\n\s+\}')
    assert personal.search(text)
    out = tmp_path / name
    out.mkdir(parents=True)
    (out / "main.tf").write_text(personal.sub(f"tags = {_approval_tags(expires)}", text), "utf-8")
    return out


@pytest.mark.parametrize(("name", "address", "kind"), ISSUE_CASES, ids=[c[0] for c in ISSUE_CASES])
def test_an_approval_with_expiry_covers_every_kind_of_transfer(
    name: str, address: str, kind: str, tmp_path: Path, env: dict[str, str]
) -> None:
    valid = _issue_with_approval(tmp_path / "valid", name, "2099-12-31")
    code, report = scan(valid, env)
    (v,) = report["violations"]
    assert (v["policy"], v["status"], v["approval_reference"]) == (
        "CII002",
        "approved-transfer",
        "CAC-2026-0042",
    )
    assert code == 0
    expired = _issue_with_approval(tmp_path / "expired", name, "2020-01-01")
    code, report = scan(expired, env)
    (v,) = report["violations"]
    assert v["status"] == "violation" and "expired on 2020-01-01" in v["approval_problem"]
    assert code == 1
    no_expiry = _issue_with_approval(tmp_path / "no-expiry", name, None)
    code, report = scan(no_expiry, env)
    (v,) = report["violations"]
    assert "without an expiry date is not an approval" in v["approval_problem"]
    assert code == 1


def test_the_approval_of_a_subscription_covers_the_foreign_queue_it_fills(
    tmp_path: Path, env: dict[str, str]
) -> None:
    (tmp_path / "main.tf").write_text(
        f"""
provider "aws" {{
  region = "cn-north-1"
}}
provider "aws" {{
  alias  = "us"
  region = "us-east-1"
}}
resource "aws_sns_topic" "orders" {{
  name = "orders"
  tags = {_approval_tags("2099-12-31")}
}}
resource "aws_sqs_queue" "orders_us" {{
  provider = aws.us
  name     = "orders-us"
}}
resource "aws_sns_topic_subscription" "us" {{
  topic_arn = aws_sns_topic.orders.arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.orders_us.arn
}}
""",
        encoding="utf-8",
    )
    code, report = scan(tmp_path, env)
    got = sorted((v["policy"], v["resource"], v["status"]) for v in report["violations"])
    assert got == [
        ("CII001", "aws_sqs_queue.orders_us", "approved-transfer"),
        ("CII002", "aws_sns_topic_subscription.us", "approved-transfer"),
    ]
    assert code == 0


# -- external endpoints: declared in the config file, else unknown ---------------------------------
HOOK = """
provider "aws" {{
  region = "cn-north-1"
}}
resource "aws_sns_topic" "orders" {{
  name = "orders"
  tags = {{ "data-classification" = "personal" }}
}}
resource "aws_sns_topic_subscription" "hook" {{
  topic_arn = aws_sns_topic.orders.arn
  protocol  = "https"
  endpoint  = "{endpoint}"
}}
"""


def _hook(tmp_path: Path, endpoint: str, config: str | None, name: str = "ciiguard.toml") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "main.tf").write_text(HOOK.format(endpoint=endpoint), encoding="utf-8")
    if config is not None:
        (tmp_path / name).write_text(config, encoding="utf-8")
    return tmp_path


def _declare(match: str, location: str, reason: str = "where the contract says it is") -> str:
    return f'[[endpoints]]\nmatch = "{match}"\nlocation = "{location}"\nreason = "{reason}"\n'


def test_an_undeclared_external_endpoint_is_cii003(tmp_path: Path, env: dict[str, str]) -> None:
    code, report = scan(_hook(tmp_path, "https://siem.example.cn/ingest", None), env)
    (v,) = report["violations"]
    assert v["policy"] == "CII003" and v["flow_kind"] == "subscription"
    assert "external endpoint" in v["message"] and "[[endpoints]]" in v["message"]
    assert code == 1


def test_an_endpoint_declared_in_the_mainland_passes(tmp_path: Path, env: dict[str, str]) -> None:
    config = _declare("https://*.example.cn/*", "mainland", "our SIEM in Beijing")
    code, report = scan(_hook(tmp_path, "https://siem.example.cn/ingest", config), env)
    assert (code, report["violations"]) == (0, [])
    flow = next(r for r in report["resources"] if r["flows"])["flows"][0]
    assert flow["location"] == "mainland"
    assert "external endpoint, declared mainland China" in flow["destination_summary"]


def test_an_endpoint_declared_outside_is_cii002(tmp_path: Path, env: dict[str, str]) -> None:
    config = _declare("https://*.example.com/*", "outside", "vendor in Singapore")
    code, report = scan(_hook(tmp_path, "https://hooks.example.com:8443/orders", config), env)
    (v,) = report["violations"]
    assert v["policy"] == "CII002"
    assert "vendor in Singapore" in v["evidence"] and "endpoints[0]" in v["evidence"]
    assert v["message"].startswith(
        "delivers personal data from aws_sns_topic.orders to https://hooks.example.com:8443/orders"
    )
    assert code == 1


def test_endpoints_declared_in_pyproject_toml(tmp_path: Path, env: dict[str, str]) -> None:
    config = "[tool.ciiguard]\n\n" + _declare("*.example.cn", "mainland").replace(
        "[[endpoints]]", "[[tool.ciiguard.endpoints]]"
    )
    path = _hook(tmp_path, "https://siem.example.cn/ingest", config, name="pyproject.toml")
    run = run_cli("scan", str(path), "--config", str(path / "pyproject.toml"), env=env)
    assert run.code == 0, run.stdout + run.stderr


def test_a_declaration_never_overrides_what_a_cloud_host_says(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Declaring an AWS global-partition host mainland does not make it so."""
    config = _declare("https://*.amazonaws.com/*", "mainland")
    code, report = scan(
        _hook(tmp_path, "https://hooks.execute-api.us-east-1.amazonaws.com/prod", config), env
    )
    (v,) = report["violations"]
    assert v["policy"] == "CII002" and "us-east-1" in v["message"]
    assert code == 1


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://evil.test/x.example.cn/ingest",  # the host is evil.test
        "https://siem.example.cn.evil.test/ingest",  # the host only starts like one of ours
        "https://user@evil.test/@siem.example.cn/",  # user information is not the host
    ],
)
def test_a_declaration_cannot_be_tricked_into_matching_another_host(
    endpoint: str, tmp_path: Path, env: dict[str, str]
) -> None:
    config = _declare("https://*.example.cn/*", "mainland")
    code, report = scan(_hook(tmp_path, endpoint, config), env)
    assert [v["policy"] for v in report["violations"]] == ["CII003"]
    assert code == 1


def test_credentials_in_an_endpoint_never_reach_a_report(
    tmp_path: Path, env: dict[str, str]
) -> None:
    endpoint = "https://ops:hunter2@hooks.partner.example/orders?token=abc123secret"
    path = _hook(tmp_path, endpoint, None)
    for fmt in ("json", "text", "sarif", "markdown", "junit"):
        run = run_cli("scan", str(path), "--no-config", "--format", fmt, env=env)
        assert run.code == 1, run.stderr
        assert "hunter2" not in run.stdout and "abc123secret" not in run.stdout, fmt
        shown = run.stdout.replace(
            "\u200b", ""
        )  # Markdown breaks autolinks with a zero-width space
        assert "https://hooks.partner.example/orders" in shown, fmt


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ('endpoints = "https://x.example.cn"', "endpoints: expected an array of tables"),
        (
            '[[endpoints]]\nmatch = "*.example.cn"\nlocation = "mainland"',
            "endpoints[0].reason: missing",
        ),
        (
            '[[endpoints]]\nmatch = "*.example.cn"\nlocation = "abroad"\nreason = "x"',
            "endpoints[0].location: expected one of mainland, outside, got 'abroad'",
        ),
        (
            '[[endpoints]]\nmatch = "*.example.cn"\nlocation = "mainland"\nreason = "x"\nwhere = "y"',
            "endpoints[0].where: unknown key",
        ),
        (
            '[[endpoints]]\nmatch = "a b"\nlocation = "mainland"\nreason = "x"',
            "endpoints[0].match: must not contain spaces",
        ),
        (
            '[[endpoints]]\nmatch = ""\nlocation = "mainland"\nreason = "x"',
            "endpoints[0].match: expected a non-empty string",
        ),
        ('[[endpoints]]\nmatch = "*.example.cn"\nlocation = "mainland"\nreason = 3', "reason"),
    ],
)
def test_a_bad_endpoint_declaration_is_a_one_line_error(
    config: str, error: str, tmp_path: Path, env: dict[str, str]
) -> None:
    path = _hook(tmp_path, "https://siem.example.cn/ingest", config)
    run = run_cli("scan", str(path), "--config", str(path / "ciiguard.toml"), env=env)
    assert run.code == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert "ciiguard.toml: " in lines[0] and error in lines[0]


# -- baselines taken before flows had kinds still match ----------------------------------------------
def test_a_baseline_taken_with_the_first_wording_still_matches(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Baselines fingerprint a CII002 by its first-release wording (``identity``), so rewording
    the message to say the flow's kind does not turn baselined findings into new ones."""
    from ciiguard.gate.baseline import fingerprint
    from ciiguard.model import Enforcement, Severity, Violation

    example = FIXTURES.parent.parent / "examples" / "terraform" / "cross-border-replication"
    first_wording = (
        "replica of aws_dynamodb_table.sessions to ap-southeast-1 via "
        "aws_dynamodb_table.sessions.replica[1].region_name crosses the border of mainland China"
    )
    old = Violation(
        policy="CII002",
        resource="aws_dynamodb_table.sessions",
        message=first_wording,
        severity=Severity.CRITICAL,
        enforcement=Enforcement.MANDATORY,
        blocking=True,
        file=str(example / "main.tf"),
        line=None,
        region="ap-southeast-1",
    )
    baseline = tmp_path / "baseline.json"
    baseline.write_text(
        json.dumps(
            {
                "schema": "ciiguard/baseline@1",
                "findings": [
                    {
                        "fingerprint": fingerprint(old, tmp_path),  # anchored at the file
                        "policy": "CII002",
                        "resource": "aws_dynamodb_table.sessions",
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    run = run_cli("scan", str(example), "--format", "json", "--baseline", str(baseline), env=env)
    found = [
        v
        for v in run.json["violations"]
        if v["policy"] == "CII002" and v["resource"] == "aws_dynamodb_table.sessions"
    ]
    assert [v["status"] for v in found] == ["baselined"]
    assert found[0]["message"].startswith("replicates personal data from aws_dynamodb_table")


# -- the pieces, one by one ---------------------------------------------------------------------------
def test_json_encoded_arguments_are_read_in_snake_case() -> None:
    from ciiguard.model import Unknown
    from ciiguard.resolve.flows import walk_path

    attrs = {"redrive_policy": '{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq"}'}
    assert list(walk_path(attrs, "redrive_policy~json.dead_letter_target_arn")) == [
        ("redrive_policy.dead_letter_target_arn", "arn:aws:sqs:us-east-1:1:dlq")
    ]
    activities = {
        "activities_json": '[{"outputs": [{"referenceName": "a"}, {"referenceName": "b"}]}]'
    }
    got = list(walk_path(activities, "activities_json~json[].outputs[].reference_name"))
    assert [v for _, v in got] == ["a", "b"]
    ((_, value),) = walk_path({"redrive_policy": "{not json"}, "redrive_policy~json.x")
    assert isinstance(value, Unknown) and "not valid JSON" in value.reason


def test_endpoints_are_shown_without_credentials() -> None:
    from ciiguard.resolve.flows import endpoint_shown, hosts_in

    assert (
        endpoint_shown("https://u:p@h.example.cn:8443/x?sig=1#f") == "https://h.example.cn:8443/x"
    )
    shown = endpoint_shown("Server=tcp:db.example.cn,1433;User ID=u;Password=p;AccountKey=k")
    assert shown == "Server=tcp:db.example.cn,1433;User ID=u"
    assert hosts_in(shown) == ["db.example.cn"]
    assert hosts_in("kafka.example.cn:9092") == ["kafka.example.cn"]


@pytest.mark.parametrize(
    ("pattern", "endpoint", "matches"),
    [
        ("https://*.example.cn/*", "https://siem.example.cn/ingest", True),
        ("https://*.example.cn/*", "https://siem.example.cn", True),
        ("https://*.example.cn/*", "https://siem.example.cn:8088/x", True),
        ("https://*.example.cn/*", "HTTPS://SIEM.EXAMPLE.CN/x", True),
        ("https://*.example.cn/*", "https://evil.test/x.example.cn/", False),
        ("https://*.example.cn/*", "https://siem.example.cn.evil.test/", False),
        ("https://*.example.cn/*", "http://siem.example.cn/x", False),
        ("*@example.cn", "dpo@example.cn", True),
        ("*@example.cn", "dpo@evil.test@example.cn", False),
        ("*.example.cn", "nas.example.cn", True),
        ("*.example.cn", "nas.example.cn.evil.test", False),
    ],
)
def test_declared_endpoint_patterns(pattern: str, endpoint: str, matches: bool) -> None:
    from ciiguard.settings import DeclaredEndpoint

    assert DeclaredEndpoint(pattern, "mainland", "r", "s").matches(endpoint) is matches


def test_when_conditions_keep_a_flow_whose_condition_is_unknown() -> None:
    from ciiguard.catalogue import Catalogue
    from ciiguard.model import Location, RegionInfo, Resource, Unknown
    from ciiguard.resolve.flows import FlowBuilder, ResourceIndex

    cat = Catalogue(
        [
            {
                "provider": "aws",
                "replication": [
                    {
                        "type": "aws_x",
                        "path": "to",
                        "kind": "stream",
                        "destination": "region",
                        "when": {"mode": ["copy"]},
                    }
                ],
            }
        ]
    )

    def res(mode: object) -> Resource:
        attrs = {"to": "us-east-1"} | ({} if mode is None else {"mode": mode})
        return Resource(
            "aws_x.a",
            "aws_x",
            "a",
            "aws",
            None,
            RegionInfo("cn-north-1"),
            Location.MAINLAND,
            {},
            attrs,
            None,
            None,
            "terraform",
        )

    builder = FlowBuilder(cat, ResourceIndex.build([]))
    assert [f.kind for f in builder.flows_of(res("COPY"))] == ["stream"]
    assert builder.flows_of(res("move")) == ()
    assert builder.flows_of(res(None)) == ()
    assert len(builder.flows_of(res(Unknown("mode is known after apply")))) == 1


def test_a_hostile_endpoint_is_unknown_and_cheap(tmp_path: Path, env: dict[str, str]) -> None:
    """A value no endpoint can be (longer than any URL ciiguard places, one huge host) is never
    matched against the host facts or the declarations: it is unknown, and the scan stays quick."""
    endpoint = "https://" + "a." * 100_000 + "amazonaws.com.cn/x"
    config = _declare("https://*", "mainland")
    code, report = scan(_hook(tmp_path, endpoint, config), env)
    (v,) = report["violations"]
    assert v["policy"] == "CII003" and "characters long" in v["message"]
    assert code == 1

"""The gate stage on hand-built results: what any parser (Pulumi YAML included) gets from it."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

from ciiguard.gate.baseline import fingerprint
from ciiguard.gate.config import Exemption
from ciiguard.gate.stage import GateOptions, apply
from ciiguard.model import (
    Enforcement,
    Location,
    RegionInfo,
    Resource,
    ScanResult,
    Severity,
    Unknown,
    Violation,
)
from ciiguard.settings import Settings

TODAY = dt.date(2026, 3, 1)


def resource(address: str, line: int = 10, tags: Any = None, **meta: Any) -> Resource:
    return Resource(
        address=address,
        type="aws:s3/bucketV2:BucketV2",
        name=address,
        provider="aws",
        provider_config=None,
        region=RegionInfo("us-east-1"),
        location=Location.OUTSIDE,
        tags=tags if tags is not None else {"data-classification": "personal"},
        attributes={},
        file="Pulumi.yaml",
        line=line,
        input="pulumi-yaml",
        meta=meta,
    )


def violation(address: str, policy: str = "CII001", line: int = 10, **kw: Any) -> Violation:
    return Violation(
        policy=policy,
        resource=address,
        message=f"{address} holds personal data in us-east-1",
        severity=Severity.CRITICAL,
        enforcement=kw.pop("enforcement", Enforcement.MANDATORY),
        blocking=True,
        file="Pulumi.yaml",
        line=line,
        region="us-east-1",
        **kw,
    )


def gate(resources: list[Resource], violations: list[Violation], **options: Any) -> ScanResult:
    result = ScanResult(resources, violations, [], [], ["Pulumi.yaml"])
    opts = GateOptions(
        today=TODAY,
        anchor=Path.cwd(),
        policy_ids=frozenset({"CII001", "CII002", "CII003"}),
        **options,
    )
    return apply(result, Settings(), opts)


def test_yaml_comments_from_any_parser_suppress() -> None:
    """Pulumi YAML: a ``# ciiguard:ignore`` comment above the resource's key, as a parser that
    fills ``meta["comments"]`` provides it."""
    r = resource("bucket", line=7, comments=((6, "# ciiguard:ignore CII001 vendor sandbox"),))
    out = gate([r], [violation("bucket", line=7)])
    (v,) = out.violations
    assert (v.status.value, v.blocking, v.suppression_reason) == (
        "suppressed",
        False,
        "vendor sandbox",
    )
    assert v.suppression_source == "Pulumi.yaml:6"


def test_comment_forms_and_several_policies() -> None:
    r = resource(
        "b",
        line=20,
        end_line=30,
        comments=(
            (19, "// ciiguard:ignore CII001,CII003 - migrating, ticket OPS-3"),
            (25, "/* ciiguard:ignore CII002 copy approved by legal */"),
        ),
    )
    out = gate(
        [r],
        [
            violation("b", "CII001", 20),
            violation("b", "CII003", 20),
            violation("b", "CII002", 26),  # the line after the comment
            violation("b", "CII002", 28),  # another line in the block: not covered
        ],
    )
    assert [(v.policy, v.line, v.status.value) for v in out.violations] == [
        ("CII001", 20, "suppressed"),
        ("CII003", 20, "suppressed"),
        ("CII002", 26, "suppressed"),
        ("CII002", 28, "violation"),
    ]
    assert out.violations[0].suppression_reason == "migrating, ticket OPS-3"


def test_comments_outside_the_block_or_below_its_end_do_not_apply() -> None:
    r = resource(
        "b",
        line=20,
        end_line=24,
        comments=(
            (18, "# ciiguard:ignore CII001 two lines up, line 19 is code"),
            (26, "# ciiguard:ignore CII001 after"),
        ),
    )
    (v,) = gate([r], [violation("b", line=20)]).violations
    assert v.status.value == "violation" and v.blocking


def test_tag_forms_and_warnings() -> None:
    per_policy = resource("p", tags={"ciiguard:ignore:CII001": "short-lived test stack"})
    no_reason = resource("n", tags={"CIIGUARD:IGNORE": "CII001"})
    unknown = resource("u", tags=Unknown("tags from another stack"))
    out = gate(
        [per_policy, no_reason, unknown],
        [violation("p"), violation("n"), violation("u")],
    )
    status = {v.resource: v.status.value for v in out.violations}
    assert status == {"p": "suppressed", "n": "violation", "u": "violation"}
    assert [w.message for w in out.warnings] == [
        "tag 'CIIGUARD:IGNORE' on n: ciiguard:ignore CII001 gives no reason, so it is ignored "
        "(write: ciiguard:ignore CII001 <why this is acceptable>)"
    ]


def test_approvals_read_unknown_and_partial_tags() -> None:
    tags = {
        "ok": {"cross-border-approval": "CAC-1", "Cross-Border-Approval-Expires": "2026-03-01"},
        "expiry_only": {"cross-border-approval-expires": "2027-01-01"},
        "empty_ref": {"cross-border-approval": " ", "cross-border-approval-expires": "2027-01-01"},
        "unknown_expiry": {
            "cross-border-approval": "CAC-2",
            "cross-border-approval-expires": Unknown("computed"),
        },
        "bad_date": {
            "cross-border-approval": "CAC-3",
            "cross-border-approval-expires": "2027-02-30",
        },
    }
    rs = [resource(k, tags=t) for k, t in tags.items()] + [resource("opaque", tags=Unknown("x"))]
    out = gate(rs, [violation(r.address, "CII002") for r in rs])
    by = {v.resource: v for v in out.violations}
    assert by["ok"].status.value == "approved-transfer"  # valid through its expiry day
    assert "in 0 days" in by["ok"].approval_warning
    assert (
        "has cross-border-approval-expires but no cross-border-approval"
        in by["expiry_only"].approval_problem
    )
    assert "is empty" in by["empty_ref"].approval_problem
    assert "not known before apply" in by["unknown_expiry"].approval_problem
    assert "not an ISO date" in by["bad_date"].approval_problem
    assert "not known before apply" in by["opaque"].approval_problem
    assert all(by[k].blocking for k in by if k != "ok")


def test_approval_on_the_related_source_and_the_best_candidate_wins() -> None:
    declarer = resource(
        "repl", tags={"cross-border-approval": "OLD", "cross-border-approval-expires": "2020-01-01"}
    )
    source = resource(
        "src", tags={"cross-border-approval": "NEW", "cross-border-approval-expires": "2029-01-01"}
    )
    (v,) = gate([declarer, source], [violation("repl", "CII002", related=("src",))]).violations
    assert (v.status.value, v.approval_reference) == ("approved-transfer", "NEW")


def test_exemptions_fail_on_and_precedence() -> None:
    ex = Exemption("b*", "CII001", "legacy", TODAY + dt.timedelta(days=5), "c.toml exemptions[0]")
    lapsed = Exemption("old", "*", "x", TODAY - dt.timedelta(days=1), "c.toml exemptions[1]")
    rs = [resource("b1"), resource("old"), resource("adv")]
    vs = [violation("b1"), violation("old"), violation("adv", enforcement=Enforcement.ADVISORY)]
    out = gate(rs, vs, exemptions=(ex, lapsed))
    by = {v.resource: v for v in out.violations}
    assert by["b1"].status.value == "exempted" and not by["b1"].blocking
    assert by["old"].blocking and not by["adv"].blocking
    messages = " ".join(w.message for w in out.warnings)
    assert "exemptions[1]" in messages and "expired on 2026-02-28" in messages
    assert "exemptions[0]" in messages and "in 5 days" in messages
    strict = gate(rs, vs, fail_on="advisory")
    assert {v.resource for v in strict.violations if v.blocking} == {"b1", "old", "adv"}


def test_exemption_patterns_treat_brackets_literally() -> None:
    ex = Exemption('aws_s3_bucket.logs["eu"]', "CII001", "r", TODAY, "s")
    assert ex.matches("CII001", 'aws_s3_bucket.logs["eu"]')
    assert not ex.matches("CII001", 'aws_s3_bucket.logs["us"]')
    assert Exemption("aws_s3_bucket.logs", "*", "r", TODAY, "s").matches(
        "CII003", "aws_s3_bucket.logs[0]"
    )
    assert not Exemption("aws_s3_bucket.log?", "CII002", "r", TODAY, "s").matches(
        "CII001", "aws_s3_bucket.logs"
    )


def test_exemption_index_picks_what_the_loop_over_every_exemption_picked() -> None:
    """The gate finds exemptions by table (exact patterns) and in order (wildcards): the winner
    is still the first exemption in force, in config order, whose policy and pattern match;
    expired ones and ones beyond exemption_max_days never win, duplicates keep the first."""
    rng = random.Random(20260301)
    alphabet = ["a", "b", ".", "[", "]", "0", '"', "*", "?", "\n", "\u00e9", "\\"]

    def text(wild: bool) -> str:
        chars = alphabet if wild else alphabet[:6]
        return "".join(rng.choice(chars) for _ in range(rng.randint(0, 4)))

    def in_force_loop(
        exs: list[Exemption], policy: str, address: str, most: int | None
    ) -> Exemption | None:  # the gate's loop before the index
        for ex in exs:
            if most is not None and (ex.expires - TODAY).days > most:
                continue
            if ex.expires >= TODAY and ex.matches(policy, address):
                return ex
        return None

    for _ in range(150):
        exs: list[Exemption] = []
        for i in range(rng.randint(0, 12)):
            resource = text(rng.random() < 0.4)
            if exs and rng.random() < 0.3:  # the same pattern again, later
                resource = rng.choice(exs).resource
            exs.append(
                Exemption(
                    resource,
                    rng.choice(["*", "CII001", "CII002"]),
                    f"reason {i}",
                    TODAY + dt.timedelta(days=rng.choice([-3, -1, 0, 1, 30, 400])),
                    f"c.toml exemptions[{i}]",
                )
            )
        addresses = [text(False) for _ in range(10)]
        addresses += [f"{a}[0]" for a in addresses[:3]]
        addresses += [e.resource for e in exs] + [f'{e.resource}["k"]' for e in exs]
        vs = [violation(a, rng.choice(["CII001", "CII002"])) for a in addresses]
        most = rng.choice([None, 100])
        out = gate([], vs, exemptions=tuple(exs), exemption_max_days=most)
        for v, got in zip(vs, out.violations, strict=True):
            want = in_force_loop(exs, v.policy, v.resource, most)
            assert got.resource == v.resource
            if want is None:
                assert got.status.value == "violation", (exs, v.resource)
            else:
                assert got.status.value == "exempted", (exs, v.resource)
                assert got.suppression_source == (
                    f"{want.source} (until {want.expires.isoformat()})"
                ), (exs, v.policy, v.resource)


def test_exemption_without_wildcard_matches_only_its_own_text() -> None:
    """The index relies on it: a pattern without * or ? fullmatches exactly itself."""
    for pattern in ["", "a.b", 'x["k"]', "a+b", "(x)|y", "^$", "a\\b", "\u00e9\n", "[0]"]:
        ex = Exemption(pattern, "*", "r", TODAY, "s")
        assert ex.literal
        for address in ["", "a.b", "aXb", 'x["k"]', "a+b", "aab", "(x)|y", "y", "^$", "a\\b"]:
            assert ex.matches("CII001", address) == (
                address == pattern or (address.endswith("]") and address.split("[")[0] == pattern)
            ), (pattern, address)
    assert not Exemption("a*", "*", "r", TODAY, "s").literal
    assert not Exemption("a?", "*", "r", TODAY, "s").literal


def test_fingerprints_ignore_lines_but_not_substance(tmp_path: Path) -> None:
    base = violation("b", line=3)
    moved = violation("b", line=300)
    assert fingerprint(base, tmp_path) == fingerprint(moved, tmp_path)
    noted = Violation(**{**base.__dict__, "message": base.message + " (vars.tf:12)"})
    also = Violation(**{**base.__dict__, "message": base.message + " (vars.tf:40)"})
    assert fingerprint(noted, tmp_path) == fingerprint(also, tmp_path)
    for change in (
        {"region": "eu-west-1"},
        {"resource": "c"},
        {"policy": "CII003"},
        {"file": "sub/Pulumi.yaml"},
    ):
        assert fingerprint(Violation(**{**base.__dict__, **change}), tmp_path) != fingerprint(
            base, tmp_path
        )


def test_the_quick_pass_over_tags_misses_no_suppression_or_approval() -> None:
    """The gate looks closely only at resources whose tag keys (lower-cased, joined) contain the
    suppression mark or an approval key, and at every resource when the keys are not ASCII: each
    key form the full check accepts must still be found, and nothing else."""
    from ciiguard.gate.stage import _Gate

    forms: list[Any] = [
        {"ciiguard:ignore:CII001": "short-lived test stack"},
        {"  CIIGUARD:IGNORE  ": "CII001 padded and shouting"},
        {"CiiGuard:Ignore:CII001": ""},  # malformed: a warning, and listed as ignored
        {"name": "ciiguard:ignore CII001 in a value, not a key"},
        {"Σ-team": "x", "ciiguard:ignore:CII001": "non-ASCII keys take the full check"},
        {"İ": "x", "ciiguard:ignore": "CII001 dotted capital I lowers to two characters"},
        {"ΣΑΣ": "x"},
        {7: "ciiguard:ignore CII001", "owner": "a non-string key"},
        {" Cross-Border-Approval ": "CAC-9", "CROSS-BORDER-APPROVAL-EXPIRES": "2027-01-01"},
        {"crossborderapproval": "CAC-0"},
        {"é": "x", "cross-border-approval": "CAC-8", "cross-border-approval-expires": "2027-01-01"},
        Unknown("tags from another stack"),
        {},
    ]
    rs = [resource(f"r{i}", tags=t) for i, t in enumerate(forms)]
    result = ScanResult(rs, [], [], [], ["Pulumi.yaml"])
    opts = GateOptions(today=TODAY, policy_ids=frozenset({"CII001"}))
    g = _Gate(result, Settings(), opts)
    # the full checks, resource by resource, on a gate of its own
    full = _Gate(ScanResult([], [], [], [], []), Settings(), opts)
    expected = {r.address: full._tag_suppressions(r) for r in rs}
    assert {r.address: g._suppressions_of(r) for r in rs} == expected
    assert [w.message for w in g.warnings] == [w.message for w in full.warnings]
    assert [a for a, s in expected.items() if s] == ["r0", "r1", "r4", "r5"]
    approvals = [w.resource for w in g.waivers() if w.kind == "approval"]
    assert sorted(approvals) == ["r10", "r8"]
    malformed = [w.resource for w in g.waivers() if w.kind == "suppression"]
    assert "r2" in malformed

"""A big plan read by two processes (``plan._Helper``) gives exactly what one reader gives: the
same document, the same first error, and the parent's own reading wherever the child's starting
point was a wrong guess."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from ciiguard.cache import store
from ciiguard.errors import InputError
from ciiguard.parsers.terraform import plan
from tests.conftest import FIXTURES
from tests.test_differential import Terraform, terraform  # noqa: F401 - the fixture


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Forking allowed and every plan split; records how each split ended."""
    monkeypatch.setattr(store, "_BACKGROUND", True)
    monkeypatch.setattr(plan, "SPLIT_PLAN_CHARS", 0)
    ended: list[str] = []
    result = plan._Helper.result

    def recorded(self: plan._Helper) -> Any:
        try:
            got = result(self)
        except InputError:
            ended.append("error")
            raise
        ended.append("joined" if got is not None else "failed")
        return got

    monkeypatch.setattr(plan._Helper, "result", recorded)
    return ended


def _read(text: str, split: bool) -> Any:
    try:
        doc = plan._Reader(text, "plan.json").read(split)
    except InputError as exc:
        return ("error", exc.file, exc.line, exc.message)
    return (
        doc.format_version,
        doc.variables,
        doc.planned_values,
        doc.configuration,
        [(a, c.actions, c.after_unknown, c.line) for a, c in doc.changes.items()],
        doc.deleted,
        doc.errored,
        doc.complete,
    )


def _change(address: str, actions: list[str], rng: random.Random) -> dict[str, Any]:
    unknown = {"id": True, "arn": rng.choice([True, False]), "tags": {}}
    if rng.random() < 0.3:
        unknown["rule"] = [{"destination": [{"bucket": True}]}]
    return {
        "address": address,
        "module_address": address.rsplit(".", 2)[0] if address.startswith("module.") else None,
        "mode": rng.choice(["managed", "managed", "data"]),
        "type": "aws_s3_bucket",
        "name": "b",
        "change": {
            "actions": actions,
            "before": None,
            # values that look like a change's start inside a change
            "after": {"address": address, "mode": "x", "bucket": f"b-{address}"},
            "after_unknown": unknown,
        },
    }


def _plan(rng: random.Random, n: int, indent: int | None = None) -> str:
    changes = []
    for i in range(n):
        address = f'module.m["k{i % 3}"].aws_s3_bucket.b{i % max(2, n // 3)}'  # repeats
        actions = rng.choice([["create"], ["no-op"], ["delete"], ["update"], ["forget"]])
        changes.append(_change(address, actions, rng))
    doc = {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [{"address": "x", "values": {}}]}},
        "resource_changes": changes,
        "prior_state": {"values": {"root_module": {"resources": [{"a": [1, {"b": 2}]}] * 5}}},
        "configuration": {"root_module": {"resources": []}},
        "errored": False,
    }
    return json.dumps(doc, indent=indent)


def test_a_split_plan_reads_as_one_reader_reads_it(forking: list[str]) -> None:
    rng = random.Random(3)
    repeated = 0
    for n in (2, 3, 10, 41):
        for indent in (None, 2):
            text = _plan(rng, n, indent)
            assert _read(text, True) == _read(text, False)
            addresses = [c["address"] for c in json.loads(text)["resource_changes"]]
            repeated += len(addresses) - len(set(addresses))
    assert repeated  # an address given twice: the later change wins, across the split too
    assert forking and set(forking) == {"joined"}  # the child's half was used


def test_the_fixture_plans_read_the_same_split(forking: list[str]) -> None:
    plans = sorted((FIXTURES / "plan").rglob("*.json"))
    assert len(plans) > 10
    for path in plans:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        assert _read(text, True) == _read(text, False), path.name


def test_the_first_error_is_the_one_found_split(forking: list[str]) -> None:
    """An error in the parent's half, in the child's, in both, and after the array."""
    text = _plan(random.Random(5), 20)
    at = plan._split_point(text)
    assert at is not None
    before = text.rindex('"actions"', 0, at)
    after = text.index('"actions"', at + 10)
    broken = {
        "parent": text[:before] + "@" + text[before:],
        "child": text[:after] + "@" + text[after:],
        "both": text[:before] + "[" + text[before:after] + "]" + text[after:],
        "trailing": text + " {}",
        "unclosed": text[:-1],
        "bad key": text.replace('"configuration"', "7", 1),
    }
    for name, t in broken.items():
        alone = _read(t, False)
        assert alone[0] == "error", name
        assert _read(t, True) == alone, name


def test_a_guess_inside_other_values_is_never_taken(forking: list[str]) -> None:
    """Text that imitates a change's start where no change starts (a tag key named
    resource_changes in planned_values, an "address" value in a change): the parent reads
    every change itself and the answer is the same."""
    rng = random.Random(9)
    fake = [{"address": f"fake.{i}", "mode": "managed", "change": {"actions": ["create"]}}
            for i in range(50)]  # fmt: skip
    doc = json.loads(_plan(rng, 6))
    doc["planned_values"]["root_module"]["resources"][0]["values"] = {"resource_changes": fake}
    text = json.dumps(doc)
    at = plan._split_point(text)
    assert at is not None and at < text.index('"resource_changes": [{"address": "module')
    assert _read(text, True) == _read(text, False)
    assert "joined" not in forking


def test_a_child_that_fails_leaves_the_reading_to_the_parent(
    forking: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: plan._Reader, at: int) -> Any:
        raise RuntimeError("the child broke")

    monkeypatch.setattr(plan._Reader, "rest_from", broken)
    text = _plan(random.Random(2), 30)
    assert plan._split_point(text) is not None
    assert _read(text, True) == _read(text, False)
    assert forking == ["failed"]


# what hostile edits insert: structure, escapes, and text that imitates a change's start
_EDITS = [*'{}[],:"\\ 0a.', '"change"', '"address"', '{"address": "x", "change": {',
          '"resource_changes": [', "\\u", "\\ud800", "null", "1e999", "-", "\n"]  # fmt: skip


def _mutated(rng: random.Random) -> str:
    """A random plan with one to three edits, most of them near where the child would start."""
    text = _plan(rng, rng.choice([3, 8, 20]), rng.choice([None, 1, 2]))
    at = plan._split_point(text) or len(text) // 2
    for _ in range(rng.choice([1, 1, 2, 3])):
        near = rng.random() < 0.6
        p = (
            max(0, min(len(text), at + rng.randint(-300, 300)))
            if near
            else rng.randrange(len(text))
        )
        op = rng.random()
        if op < 0.4:
            text = text[:p] + rng.choice(_EDITS) + text[p:]
        elif op < 0.7:
            text = text[:p] + text[p + rng.randint(1, 12) :]
        else:
            text = text[:p] + rng.choice(_EDITS) + text[p + 1 :]
    return text


@pytest.mark.parametrize("seed, count", [(1, 1000), pytest.param(2, 10000, marks=pytest.mark.slow)])
def test_mutated_plans_read_as_one_reader_reads_them(
    forking: list[str], seed: int, count: int
) -> None:
    """Plans broken or bent near the split: the same document or the same first error."""
    rng = random.Random(seed)
    for n in range(count):
        text = _mutated(rng)
        assert _read(text, True) == _read(text, False), (n, text)
    # the child's part was taken in some, and stopped by an error in others
    assert {"joined", "error"} <= set(forking)


def test_no_split_without_forking_or_below_the_size(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    monkeypatch.setattr(plan._Helper, "__init__", lambda self, *a: started.append(1))
    text = _plan(random.Random(1), 12)
    monkeypatch.setattr(store, "_BACKGROUND", False)
    monkeypatch.setattr(plan, "SPLIT_PLAN_CHARS", 0)
    plan._Reader(text, "p").read(True)
    monkeypatch.setattr(store, "_BACKGROUND", True)
    monkeypatch.setattr(plan, "SPLIT_PLAN_CHARS", len(text) + 1)
    plan._Reader(text, "p").read(True)
    assert started == []


def test_the_command_line_splits_a_big_plan_and_reports_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ciiguard.cli import app as cli

    path = FIXTURES / "plan" / "modules.json"
    outputs = []
    for limit in (1 << 40, 0):  # never, always
        monkeypatch.setattr(plan, "SPLIT_PLAN_CHARS", limit)
        code = cli.main(["scan", str(path), "--format", "json", "--no-cache", "--no-config"])
        outputs.append((code, capsys.readouterr().out))
    assert outputs[0] == outputs[1]


@pytest.mark.slow
def test_a_plan_terraform_wrote_reads_the_same_split(
    forking: list[str], tmp_path: Path, terraform: Terraform  # noqa: F811 - the fixture
) -> None:
    """A real ``terraform show -json`` plan (terraform_data only, so it plans offline): module
    instances keyed by strings with dots and quotes, counted resources, values known only after
    apply. Split, it reads as one reader reads it."""
    work = tmp_path / "tf"
    (work / "m").mkdir(parents=True)
    (work / "main.tf").write_text(
        'module "m" {\n  source   = "./m"\n'
        '  for_each = { for i in range(40) : "k.${i}\\"q" => i }\n  i = each.value\n}\n',
        encoding="utf-8",
    )
    (work / "m" / "main.tf").write_text(
        'variable "i" {}\n'
        'resource "terraform_data" "a" {\n'
        '  input = { id = var.i, tags = { "data-classification" = "personal" } }\n}\n'
        'resource "terraform_data" "b" {\n  count = 3\n  input = terraform_data.a.output\n}\n',
        encoding="utf-8",
    )
    terraform.init(work)
    assert len(terraform.plan_json(work)["resource_changes"]) == 160
    raw = terraform.run(work, "show", "-json", "p.tfplan").stdout
    assert plan._split_point(raw) is not None
    assert _read(raw, True) == _read(raw, False)
    assert forking == ["joined"]

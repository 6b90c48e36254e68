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

"""Work split across processes gives exactly the serial answer."""

from __future__ import annotations

import pytest

from ciiguard.parsers import hcl_loader
from tests.conftest import EXAMPLES


def test_the_worker_pool_parses_like_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted((EXAMPLES / "terraform").rglob("*.tf"))

    def load(jobs: int) -> list[object]:
        loader = hcl_loader.HclLoader(lambda p, s: p.read_bytes(), str, use_cache=False, jobs=jobs)
        loader.preload(files)
        return [loader.done[f] for f in files]

    monkeypatch.setattr(hcl_loader, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(hcl_loader, "PARALLEL_MIN_JOBS", 2)
    assert load(4) == load(1)

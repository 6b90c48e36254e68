"""The HCL reader accepts exactly what ``terraform`` accepts.

``tests/fixtures/syntax/accepted`` holds small files terraform parses (newlines where HCL
ignores them: inside brackets, parentheses, interpolations and for-expressions) and
``rejected`` files it refuses; ciiguard must agree with both, and with terraform itself (``terraform
fmt -`` parses with the same HCL parser, syntax only). ``CIIGUARD_SYNTAX_CORPORA`` (directories
separated by the path separator) runs the same comparison over every ``.tf`` file of public
corpora you have checked out (e.g. aztfmod/terraform-azurerm-caf, terraform-aws-modules/*).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ciiguard.errors import InputError
from ciiguard.parsers.terraform.hcl.reader import parse_hcl
from tests.conftest import FIXTURES

SYNTAX = FIXTURES / "syntax"
ACCEPTED = sorted((SYNTAX / "accepted").glob("*.tf"))
REJECTED = sorted((SYNTAX / "rejected").glob("*.tf"))
# terraform accepts these; python-hcl2's contextual lexer cannot read a newline right after a
# unary operator inside brackets, so ciiguard refuses them (exit 2, never a silent pass)
KNOWN_REFUSED = {"unary_nl.tf"}


def ours(path: Path) -> str | None:
    """None when ciiguard parses the file, else its error."""
    try:
        parse_hcl(path.read_bytes().decode("utf-8-sig"), path.name)
    except InputError as exc:
        return str(exc)
    except UnicodeDecodeError:
        return "not UTF-8"
    return None


def terraform_accepts(terraform: str, path: Path) -> bool:
    proc = subprocess.run(
        [terraform, "fmt", "-no-color", "-"],
        input=path.read_bytes(),
        capture_output=True,
        env={"PATH": os.environ.get("PATH", ""), "CHECKPOINT_DISABLE": "1", "HOME": "/nonexistent"},
        timeout=60,
        check=False,
    )
    return proc.returncode == 0


@pytest.mark.parametrize("path", ACCEPTED, ids=[p.name for p in ACCEPTED])
def test_what_terraform_accepts_parses(path: Path) -> None:
    if path.name in KNOWN_REFUSED:
        assert ours(path) is not None
        pytest.xfail("known gap: a newline right after a unary operator inside brackets")
    assert ours(path) is None


@pytest.mark.parametrize("path", REJECTED, ids=[p.name for p in REJECTED])
def test_what_terraform_rejects_is_refused_with_file_and_line(path: Path) -> None:
    error = ours(path)
    assert error is not None and error.startswith(f"{path.name}:")


@pytest.fixture(scope="module")
def terraform() -> str:
    exe = shutil.which("terraform")
    if exe is None:
        pytest.skip("no terraform binary on PATH")
    return exe


@pytest.mark.slow
def test_the_fixtures_are_what_terraform_says(terraform: str) -> None:
    wrong = [p.name for p in ACCEPTED if not terraform_accepts(terraform, p)]
    wrong += [p.name for p in REJECTED if terraform_accepts(terraform, p)]
    assert wrong == []


def _corpora() -> list[Path]:
    value = os.environ.get("CIIGUARD_SYNTAX_CORPORA", "")
    return [Path(p) for p in value.split(os.pathsep) if p]


@pytest.mark.slow
@pytest.mark.skipif(not _corpora(), reason="set CIIGUARD_SYNTAX_CORPORA to checked-out corpora")
def test_public_corpora_parse_exactly_when_terraform_parses(terraform: str) -> None:
    disagree = []
    total = 0
    for corpus in _corpora():
        for path in sorted(corpus.rglob("*.tf")):
            if ".terraform" in path.parts or not path.is_file():
                continue
            total += 1
            theirs = terraform_accepts(terraform, path)
            error = ours(path)
            if theirs != (error is None):
                disagree.append(
                    f"{path}: terraform {'accepts' if theirs else 'rejects'}, "
                    f"ciiguard {'accepts' if error is None else error}"
                )
    print(f"\nsyntax differential: {total} files, {len(disagree)} disagree")
    assert total > 0 and disagree == []

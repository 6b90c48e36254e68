"""Output that cannot be turned against its reader: one hostile-names fixture through every format.

``tests/fixtures/hostile-names`` puts CR/LF, forged workflow commands (``::error ...::``,
``::stop-commands::``, legacy ``##[error]``, Azure's ``##vso[...]``), ANSI escapes (``ESC[2J``,
an OSC 8 link), C1 controls, a bidi override and Markdown/HTML/mentions into ``for_each`` keys, a
bucket name, tag values, a suppression reason and an approval reference; the test adds a file
whose name does the same. Every format must neutralise them its own way, and the formats that
carry data (JSON, SARIF, JUnit) must keep the raw value where they can.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, clean_env, run_cli

HOSTILE = FIXTURES / "hostile-names"
RAW_KEY = 'aws_s3_bucket.hostile["k\r\n::error file=main.tf,line=1::forged annotation"]'
# what a terminal, a CI log or a renderer must never receive raw
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
LOG_COMMAND = re.compile(r"##\[|##vso\[|##teamcity\[")
EVIL_FILE = "evil\x1b[2J\n::warning file=x::named.tf"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("hostile") / "repo"
    shutil.copytree(HOSTILE, work)
    (work / EVIL_FILE).write_text(
        'resource "aws_dynamodb_table" "named" {\n'
        '  name = "t"\n  tags = { "data-classification" = "personal" }\n}\n'
    )
    return work


@pytest.fixture(scope="module")
def outputs(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("reports")
    formats = ["json", "sarif", "junit", "github", "markdown"]
    run = run_cli(
        "scan", ".", "--no-cache", "--no-config", "--format", "text",
        *[a for f in formats for a in ("--format", f"{f}:{out / f}")],
        cwd=tree,
    )  # fmt: skip
    assert run.code == 1, run.stdout + run.stderr
    texts = {f: (out / f).read_text(encoding="utf-8") for f in formats}
    texts["text"] = run.stdout
    texts["stderr"] = run.stderr
    for fmt in ("html", "svg", "mermaid", "dot"):
        # every level of detail: the summary shows regions, the details the hostile names
        for detail in ("summary", "roots", "resources"):
            m = run_cli(
                "map", ".", "--no-cache", "--no-config", "--format", fmt, "--detail", detail,
                cwd=tree,
            )  # fmt: skip
            assert m.code == 0, m.stderr
            key = fmt if detail == "resources" else f"{fmt}-{detail}"
            texts[key] = m.stdout
    return texts


def log_safe(text: str) -> None:
    """Nothing a terminal or a CI runner acts on: no raw control, no log command anywhere."""
    assert not RAW_CONTROL.search(text), RAW_CONTROL.search(text)
    assert "\r" not in text
    assert not LOG_COMMAND.search(text), LOG_COMMAND.search(text)


def test_text_escapes_every_control_and_lets_no_value_start_a_command(outputs) -> None:
    text = outputs["text"]
    log_safe(text)
    for line in text.splitlines():
        assert not line.lstrip().startswith("::"), line
    assert '["\\x1b[2J\\x1b[31mcleared"]' in text  # shown, not run: ESC[2J would erase the screen
    assert '["k\\r\\n::error file=main.tf,line=1::forged annotation"]' in text
    assert '["invoice\\u202ecod.exe"]' in text
    assert '["c1\\x9b2Jnel\\x85end"]' in text  # C1: CSI and NEL
    assert "#\\#[error]legacy #\\#vso[task.complete" in text
    assert "evil\\x1b[2J\\n::warning file=x::named.tf" in text
    assert (
        "\\x1b[2J ok [x](https://evil.example) @octocat <b>x</b>\\r\\n::error::forged-reason"
        in (text)
    )


def test_stderr_of_a_failing_run_is_neutralised_too(tree: Path) -> None:
    (tree / "sub").mkdir(exist_ok=True)
    (tree / "sub" / "ciiguard.toml").write_text('"\\u001b[2J::error::x" = 1\n')
    try:
        run = run_cli("scan", "sub", "--no-cache", cwd=tree)
    finally:
        shutil.rmtree(tree / "sub")
    assert run.code == 2
    log_safe(run.stderr)
    assert "\\x1b[2J::error::x" in run.stderr


def test_github_commands_are_only_ours(outputs) -> None:
    """Text and workflow commands share stdout in the documented setup: every line the runner
    would read as a command is one ciiguard wrote, with the runner's escapes."""
    for name in ("github", "text"):
        log_safe(outputs[name])
    lines = outputs["github"].splitlines()
    commands = [line for line in lines if line.lstrip().startswith("::")]
    # the rest: the verdict line, and indented log lines (plugins, waivers, capped annotations)
    rest = [line for line in lines if line not in commands]
    assert rest[-1].startswith("ciiguard ") and all(x.startswith("  ") for x in rest[:-1])
    assert all(line.startswith("::") for line in commands)  # none indented, none disguised
    for line in commands:
        assert re.match(r"^::(error|warning|notice) [^:]*::", line), line
    blocking = [line for line in commands if line.startswith("::error file=main.tf,line=19,")]
    assert len(blocking) == 7
    assert any("k%0D%0A::error file=main.tf,line=1::forged annotation" in line for line in lines)
    assert any("::stop-commands::pwned" in line and line.startswith("::error ") for line in lines)


def test_markdown_renders_as_plain_text_on_github(outputs) -> None:
    cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm (GitHub's cmark-gfm) not installed")
    from cmarkgfm.cmark import Options

    md = outputs["markdown"]
    log_safe(md)
    html = cmarkgfm.github_flavored_markdown_to_html(
        md, options=Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG
    )
    assert "<a " not in html and "<img" not in html and "<b>" not in html
    assert "evil.example" in html  # shown as text
    outside_code = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    assert not re.search(r"(?<![\w`])@[A-Za-z0-9]", outside_code)  # no @mention
    assert not re.search(r"(?<![\w&])#\d", outside_code)  # no issue reference
    # every table row keeps its cell count: a value's pipe cannot add a column
    for table in re.findall(r"<table>.*?</table>", html, flags=re.S):
        widths = {row.count("<td") for row in re.findall(r"<tr>.*?</tr>", table, flags=re.S)}
        widths.discard(0)
        assert len(widths) <= 1, table


def test_json_and_sarif_are_valid_and_keep_the_raw_values(outputs) -> None:
    report = json.loads(outputs["json"])
    addresses = {v["resource"] for v in report["violations"]}
    assert RAW_KEY in addresses
    assert 'aws_s3_bucket.hostile["invoice\u202ecod.exe"]' in addresses
    assert any(v["file"] == EVIL_FILE for v in report["violations"])
    sarif = json.loads(outputs["sarif"])
    names = {r["properties"]["resource"] for r in sarif["runs"][0]["results"]}
    assert RAW_KEY in names


def test_sarif_is_schema_valid(outputs) -> None:
    from tests.test_reporters_sarif import SCHEMA_PATH

    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_PATH.read_text())
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(
        json.loads(outputs["sarif"])
    ))  # fmt: skip
    assert errors == []


def test_junit_is_valid_xml_and_keeps_what_xml_can_carry(outputs) -> None:
    root = ET.fromstring(outputs["junit"].encode())
    names = {c.get("name") for c in root.iter("testcase")}
    assert RAW_KEY in names  # CR and LF survive as character references
    assert 'aws_s3_bucket.hostile["invoice\u202ecod.exe"]' in names
    assert 'aws_s3_bucket.hostile["\\x1b[2J\\x1b[31mcleared"]' in names  # ESC cannot: escaped


def test_map_formats_escape_their_labels(outputs) -> None:
    for fmt in ("html", "svg", "mermaid", "dot"):
        for key in (fmt, f"{fmt}-summary", f"{fmt}-roots"):
            assert not RAW_CONTROL.search(outputs[key]), (key, RAW_CONTROL.search(outputs[key]))
    svg = ET.fromstring(outputs["svg"].encode())  # well-formed XML
    assert any("\\x1b[2J" in (t.text or "") for t in svg.iter("{http://www.w3.org/2000/svg}title"))
    html = outputs["html"]
    # the page's markup entity-escapes labels; its data block (rendered with textContent)
    # carries the same names with < > & as JSON escapes: never as markup
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html or "\\u003cimg src=x" in html
    for line in outputs["mermaid"].splitlines():  # one statement a line, no raw backtick label
        assert "\r" not in line
        assert "`" not in line, line
    dot = shutil.which("dot")
    if dot:
        proc = subprocess.run(
            [dot, "-Tsvg"], input=outputs["dot"], capture_output=True, text=True, env=clean_env()
        )
        assert proc.returncode == 0, proc.stderr

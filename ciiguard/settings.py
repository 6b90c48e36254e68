"""Run settings shared by parsers, classification and policies (from the CLI and, later, config)."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

IN_SCOPE_VALUES = ("personal", "sensitive-personal", "important", "core")
OUT_OF_SCOPE_VALUES = ("public", "internal")


# --max-total-size default: what a CI runner with 7 GB of memory survives at ciiguard's memory use
# per input byte (docs/performance.md: public Terraform modules about 17x, one file of nothing but
# resources 33x; plan JSON 3x)
MAX_TOTAL_BYTES = 256 << 20


@dataclass(frozen=True)
class DeclaredEndpoint:
    """An external endpoint (URL, host, e-mail address) whose location the config file declares
    (``[[endpoints]]``): nothing in a configuration can say where such an endpoint is.

    ``match`` is a pattern where ``*`` stands for any run of characters. In the host part (before
    the first ``/`` after ``scheme://``, or the whole pattern when it has no path) it never
    crosses ``/``, ``@``, ``:``, ``?`` or ``#``, so ``https://*.example.cn/*`` cannot match
    ``https://evil.test/x.example.cn/``. A pattern without a port also matches the endpoint on
    any port, and ``.../*`` also matches the bare ``scheme://host``. Matching ignores case.
    """

    match: str
    location: str  # "mainland" or "outside" (model.Location values)
    reason: str
    source: str  # where it is declared, e.g. "ciiguard.toml endpoints[0]"

    def matches(self, endpoint: str) -> bool:
        pattern = endpoint_pattern(self.match)
        return any(pattern.fullmatch(form) is not None for form in _endpoint_forms(endpoint))


_PORT = re.compile(r"^(?P<head>(?:[A-Za-z][A-Za-z0-9+.:-]*://)?[^/@:?#]+):\d+(?P<tail>(?:/.*)?)$")


def _endpoint_forms(endpoint: str) -> list[str]:
    """The endpoint as written, without its port, and with a trailing ``/`` for a bare host."""
    text = endpoint.strip()
    forms = [text]
    m = _PORT.match(text)
    if m is not None:
        forms.append(m.group("head") + m.group("tail"))
    forms.extend(f + "/" for f in list(forms) if "://" in f and "/" not in f.split("://", 1)[1])
    return forms


@functools.lru_cache(maxsize=256)
def endpoint_pattern(match: str) -> re.Pattern[str]:
    """The regex of a ``DeclaredEndpoint.match`` pattern (see there)."""
    scheme = re.match(r"^[A-Za-z][A-Za-z0-9+.:-]*://", match)
    start = scheme.end() if scheme else 0
    slash = match.find("/", start)
    split = slash if slash >= 0 else len(match)

    def part(text: str, star: str) -> str:
        return "".join(star if c == "*" else re.escape(c) for c in text)

    return re.compile(
        part(match[:split], r"[^/@:?#]*") + part(match[split:], ".*"), re.IGNORECASE | re.DOTALL
    )


@dataclass(frozen=True)
class Settings:
    classification_key: str = "data-classification"
    in_scope_values: tuple[str, ...] = IN_SCOPE_VALUES
    out_of_scope_values: tuple[str, ...] = OUT_OF_SCOPE_VALUES
    approval_key: str = "cross-border-approval"
    approval_expiry_key: str = "cross-border-approval-expires"
    cii_workload: bool = False
    # --var NAME=VALUE and --var-file FILE, interleaved in command-line order: ("var", "NAME=VALUE")
    # or ("file", "path"); later entries win, as in Terraform.
    var_inputs: tuple[tuple[str, str], ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    enforcement: Mapping[str, str] = field(default_factory=dict)  # policy id -> level
    allow_outside_root: bool = False
    use_cache: bool = True  # --no-cache turns the parse and result caches off
    jobs: int | None = None  # parallel parse workers (None: one per core)
    # --max-file-size: the largest input file read, in bytes (None: each reader's default cap)
    max_file_size: int | None = None
    # --max-total-size: the most input a scan reads, all files together, in bytes
    max_total_size: int = MAX_TOTAL_BYTES
    allow_empty: bool = False  # --allow-empty: no input found passes with a warning
    # --skip-path / config skip_paths: globs (relative to each scanned path) discovery passes over
    skip_paths: tuple[str, ...] = ()
    # Mainland regions data may use, narrower than the whole mainland (config ``allowed_regions``):
    # canonical provider name, or "*" for every provider -> region ids. Empty: the whole mainland.
    allowed_regions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    approval_warn_days: int = 60  # an approval expiring within this many days warns
    # Plan JSON: judge only resources being created, updated or replaced (--changed-only), and
    # map plan resources back to the .tf files of this directory (--source DIR).
    changed_only: bool = False
    source_dir: str | None = None
    # Pulumi: the stack whose Pulumi.<stack>.yaml applies (--stack; None: the only stack file), and
    # whether Python programs may be run under the Pulumi SDK's mocks (--run-programs).
    pulumi_stack: str | None = None
    run_programs: bool = False
    # Module sources ciiguard cannot fetch (registry, Git, HTTP) mapped to directories (config
    # ``[module_sources]``): normalised source -> absolute directory. See ``module_source_key``.
    module_sources: Mapping[str, str] = field(default_factory=dict)
    # External endpoints whose location the config file declares ([[endpoints]]), first match wins.
    endpoints: tuple[DeclaredEndpoint, ...] = ()

    def allowed_regions_for(self, provider: str) -> tuple[str, ...] | None:
        """The allowed regions for ``provider`` (None: every mainland region is allowed)."""
        if provider in self.allowed_regions:
            return self.allowed_regions[provider]
        return self.allowed_regions.get("*")

    def region_allowed(self, provider: str, region: str) -> bool:
        """Whether a mainland ``region`` is within the configured allowed regions."""
        allowed = self.allowed_regions_for(provider)
        if allowed is None:
            return True
        wanted = normalise_region(region)
        return any(normalise_region(a) == wanted for a in allowed)


def module_source_key(source: str) -> tuple[str, str]:
    """A remote module source as ``[module_sources]`` names it, and its subdirectory.

    ``registry.terraform.io/hashicorp/consul/aws//modules/x?ref=v1`` -> (``hashicorp/consul/aws``,
    ``modules/x``): the ``//`` subdirectory and the ``?ref=`` query are not part of the key
    (the mapped directory is one checkout, its subdirectory appended), nor is the public
    registry's host name.
    """
    text = source.strip()
    scheme_end = text.find("://")
    start = scheme_end + 3 if scheme_end >= 0 else 0
    split = text.find("//", start)
    subdir = ""
    if split >= 0:
        text, subdir = text[:split], text[split + 2 :]
    text = text.split("?", 1)[0]
    subdir = subdir.split("?", 1)[0].strip("/")
    for host in ("registry.terraform.io/", "tfr:///", "tfr://registry.terraform.io/"):
        if text.startswith(host):
            text = text[len(host) :]
    return text.rstrip("/"), subdir


def processes(jobs: int | None) -> int:
    """The processes ``--jobs`` allows: the number given, else one per core."""
    return jobs if jobs is not None else (os.cpu_count() or 1)


def format_size(n: int) -> str:
    """Bytes as users read them: ``256MiB``, ``1.5GiB``, ``300B``."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.0f}{unit}" if value == int(value) else f"{value:.1f}{unit}"
    return f"{n}B"


def normalise_region(region: str) -> str:
    """Compare regions as clouds do: case-insensitively, spaces removed ("China East 2")."""
    return region.strip().lower().replace(" ", "")


_SIZE = re.compile(r"^\s*(\d+)\s*(|B|K|KB|KIB|M|MB|MIB|G|GB|GIB)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text: str) -> int:
    """``--max-file-size`` values: bytes, or with a unit (``512KiB``, ``20MiB``, ``1G``; 1024-based)."""
    m = _SIZE.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not a size (examples: 20MiB, 512KiB, 1048576)")
    value = int(m.group(1)) * _UNITS[m.group(2).upper()[:1]]
    if value <= 0:
        raise ValueError("the size must be positive")
    return value

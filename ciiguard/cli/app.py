"""Command line: ``ciiguard scan``, ``ciiguard policies``, ``ciiguard plugins``.

Exit codes: 0 no blocking violation; 1 at least one blocking violation; 2 the scan could not be
completed (usage error, unreadable or unparsable input, plugin failure). 2 wins over 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from ciiguard import __version__
from ciiguard.cli.options import add_config_options, add_gate_options
from ciiguard.escaping import terminal
from ciiguard.plugins import PLUGIN_API

EXIT_OK, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(
            EXIT_ERROR, f"ciiguard: error: {message} (see 'ciiguard {self._sub_name()}--help')\n"
        )

    def _sub_name(self) -> str:
        parts = self.prog.split()
        return (" ".join(parts[1:]) + " ") if len(parts) > 1 else ""


class _Ordered(argparse.Action):
    """--var and --var-file share one list so their command-line order is kept."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        ns: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        items = list(getattr(ns, "var_inputs", None) or [])
        kind = "file" if option_string == "--var-file" else "var"
        if kind == "var" and "=" not in str(values):
            parser.error(f"--var expects NAME=VALUE, got {values!r}")
        items.append((kind, str(values)))
        ns.var_inputs = items


def build_parser() -> _Parser:
    p = _Parser(prog="ciiguard", description="Data-residency gate for China CII workloads.")
    p.add_argument(
        "--version",
        action="version",
        version=f"ciiguard {__version__} (Python {sys.version.split()[0]}, plugin API "
        f"{PLUGIN_API})",
    )
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    s = sub.add_parser("scan", help="scan Terraform inputs and gate on residency violations")
    _input_options(s)
    s.add_argument(
        "--format",
        "-f",
        action="append",
        metavar="FORMAT[:FILE]",
        help="report format: text (default), json, sarif, junit, github, markdown; repeatable; "
        "FORMAT:FILE writes that format to FILE (- for stdout)",
    )
    s.add_argument(
        "--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout"
    )
    s.add_argument("--explain", metavar="ADDRESS", help="print how ADDRESS's region was resolved")
    _plugin_options(s)
    add_gate_options(s)
    add_config_options(s)

    pol = sub.add_parser("policies", help="list every policy (built-in and plugins)")
    _plugin_options(pol)
    add_config_options(pol)
    pl = sub.add_parser("plugins", help="list loaded plugins")
    _plugin_options(pl)
    add_config_options(pl)
    ex = sub.add_parser(
        "explain", help="print a policy's rule, legal basis, and how to fix, approve or suppress"
    )
    ex.add_argument("policy", metavar="POLICY", help="a policy id, e.g. CII002")
    _plugin_options(ex)
    add_config_options(ex)
    sch = sub.add_parser(
        "schema", help="print the JSON Schema of the JSON report (ciiguard/report@1)"
    )
    sch.set_defaults(schema_of="report")
    comp = sub.add_parser(
        "completion", help="print a shell completion script (e.g. ciiguard completion bash)"
    )
    comp.add_argument("shell", choices=("bash", "zsh", "fish", "tcsh", "powershell"))
    _map_parser(sub)
    return p


def _size(text: str) -> int:
    from ciiguard.settings import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _plugin_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-p",
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="load a plugin module by import path (repeatable)",
    )
    p.add_argument(
        "--disable-plugin",
        action="append",
        default=[],
        metavar="NAME",
        help="do not load the named plugin (repeatable)",
    )


# Set by ``console``: what a scan built, kept alive until the process ends (see there).
_RETAIN: list[Any] | None = None


def console() -> NoReturn:
    """The ``ciiguard`` command (console script and ``python -m ciiguard``): ``main``, then exit
    without tearing the interpreter down. Freeing a large scan's objects one by one (a
    100,000-resource plan: millions of dicts, strings and resources) took longer than rendering
    its report; the operating system takes the whole process back at once instead. Output is
    flushed first (a flush that fails exits 120, as the interpreter would)."""
    global _RETAIN
    _RETAIN = []
    try:
        code: Any = main()
    except SystemExit as exc:  # argparse: --help, usage errors
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = 120 if stream is sys.stdout else code
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    # A scan allocates millions of small objects that never form cycles (syntax nodes, values,
    # resources); at CPython's default gen-0 threshold (700) the cycle collector walks them over
    # and over, a third of a cold scan's time. This is one short-lived process: collect rarely.
    # At 100,000 it still took 0.9 s of a 100k-resource plan's 8.5 s; at 2,000,000 most young
    # objects are freed by their reference counts before a collection ever walks them (0.2 s),
    # with the same peak memory (benchmarks/, docs/performance.md).
    thresholds = gc.get_threshold()
    gc.set_threshold(2_000_000, 50, 100)
    from ciiguard.cache.store import allow_background, release_background

    allow_background(True)  # cache writes in forked children (the next run waits for them)
    path = list(sys.path)  # restored below, for callers in this process
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        print("ciiguard: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if os.environ.get("CIIGUARD_DEBUG"):
            raise
        print(
            f"ciiguard: internal error: {type(exc).__name__}: {exc} (set CIIGUARD_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    finally:
        sys.path[:] = path
        results = sys.modules.get("ciiguard.cache.results")
        if results is not None:
            results.remember_listings(False)  # a caller in this process may change the tree
        release_background()
        allow_background(False)
        if _RETAIN is None:
            # Not for ``console``, which exits at once: with the default threshold back, the next
            # allocation collects every young object the scan made (up to 2,000,000), 65 ms of
            # a 0.6 s re-scan of 10k resources, for memory the operating system takes back anyway.
            gc.set_threshold(*thresholds)


def _main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    if args.command == "completion":
        import shtab

        sys.stdout.write(shtab.complete(parser, shell=args.shell))
        return 0
    if args.command == "schema":
        from ciiguard.reporters.json_report import schema_text

        sys.stdout.write(schema_text())
        return 0
    from ciiguard.plugins.entry_points import drop_working_directory

    drop_working_directory()  # nothing is imported from the checkout being judged
    _drop_scanned_roots(getattr(args, "paths", None) or [])
    if getattr(args, "jobs", None) == 1:
        from ciiguard.cache.store import allow_background

        allow_background(False)  # --jobs 1: one process, cache writes included
    plan = None
    if args.command == "scan":
        from ciiguard.cache import replay
        from ciiguard.cache.results import remember_listings

        remember_listings()  # the replay check and the result cache walk the tree once
        plan = replay.prepare(args, argv)
        if plan is not None:
            code = plan.replay(sys.stdout, sys.stderr)
            if code is not None:
                return code
    from ciiguard.cli.pipeline import load_config, print_error
    from ciiguard.errors import UsageError
    from ciiguard.plugins.manager import build

    try:
        configs = load_config(args)
    except UsageError as exc:
        print_error(str(exc))
        return EXIT_ERROR
    args.gate_config = configs
    scanned = [Path(p) for p in getattr(args, "paths", None) or []]
    host = build(
        args.plugin,
        [*args.disable_plugin, *configs.disabled],
        config_modules=configs.plugins,
        forbidden=[p if p.is_dir() else p.parent for p in scanned],
    )
    if args.command == "scan":
        return _scan(args, host) if plan is None else _recorded_scan(args, host, plan)
    if args.command == "map":
        return _map(args, host)
    from ciiguard.scan import gather

    plugins = gather(host)
    from ciiguard.cli.pipeline import effective_enforcement, explain_policy
    from ciiguard.settings import Settings

    try:
        config = configs.resolve(plugins.policies, plugins.catalogue).config
    except UsageError as exc:
        print_error(str(exc))
        return EXIT_ERROR
    settings = config.settings(Settings())
    levels = effective_enforcement(plugins.policies, settings)
    if args.command == "policies":
        for pol in plugins.policies:
            level = levels[pol.id].value
            print(
                terminal(f"{pol.id}  {pol.severity.value:<8} {level:<9} {pol.name}  [{pol.plugin}]")
            )
            print(terminal(f"       {pol.description}"))
    elif args.command == "explain":
        wanted = {p.id.lower(): p for p in plugins.policies}.get(args.policy.strip().lower())
        if wanted is None:
            known = ", ".join(p.id for p in plugins.policies)
            print_error(f"unknown policy {args.policy!r} (known: {known})")
            return EXIT_ERROR
        sys.stdout.write(
            "".join(
                terminal(x) + "\n"
                for x in explain_policy(wanted, levels[wanted.id], settings).splitlines()
            )
        )
    else:
        for info in host.plugins:
            ids = ", ".join(p.id for p in plugins.policies if p.plugin == info.name) or "-"
            print(
                terminal(
                    f"{info.name}  {info.version}  ({info.source})  policies: {ids}  "
                    f"from: {info.location or '-'}"
                )
            )
    for f in host.failures:
        print(terminal(f"error: {f.render()}"), file=sys.stderr)
    return EXIT_ERROR if host.failures else EXIT_OK


def _drop_scanned_roots(paths: list[str]) -> None:
    """Take every ``sys.path`` entry inside a scanned directory off the path (a PYTHONPATH that
    points into the checkout): nothing is imported from the tree being judged."""
    from ciiguard.plugins.entry_points import inside

    roots = [p.resolve() for p in map(Path, paths) if p.is_dir()]
    kept = []
    for entry in sys.path:
        root = inside(entry, roots) if entry and os.path.exists(entry) else None
        if root is None:
            kept.append(entry)
        else:
            print(
                terminal(f"ciiguard: warning: {entry} (on sys.path) lies inside the scanned "
                         f"tree {root}: nothing is imported from it"),
                file=sys.stderr,
            )  # fmt: skip
    sys.path[:] = kept


def _recorded_scan(args: argparse.Namespace, host: Any, plan: Any) -> int:
    """``_scan``, keeping its outputs for ``replay`` (stdout and stderr are written through)."""
    from ciiguard.cache.replay import Tee

    out, err = Tee(sys.stdout), Tee(sys.stderr)
    real = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    record: dict[str, Any] = {}
    try:
        code = _scan(args, host, record)
    finally:
        sys.stdout, sys.stderr = real
    plan.store(code, out.text(), err.text(), record.get("files", ()), record,
               record.get("reads", ()))  # fmt: skip
    return code


def _scan(args: argparse.Namespace, host: Any, record: dict[str, Any] | None = None) -> int:
    """Scan, gate and report. ``record`` (when given) receives what a replay needs: the files
    read and the listing (from ``scan``), the report files written and the gate's own reads."""
    import ciiguard.cli.pipeline as pipeline
    from ciiguard.cli.progress import for_terminal
    from ciiguard.errors import UsageError
    from ciiguard.reporters.base import Report
    from ciiguard.scan import gather, scan

    plugins = gather(host)
    reporters = host.reporters()  # plugin reporters guarded: a crash names plugin and format
    configs: pipeline.Configs = args.gate_config
    try:
        outputs = pipeline.parse_formats(args.format, args.output, list(reporters))
        combined = configs.resolve(plugins.policies, plugins.catalogue)
    except UsageError as exc:
        pipeline.print_error(str(exc))
        return EXIT_ERROR
    config = combined.config
    settings = config.settings(_settings(args))  # the config file fills what the command line left
    try:
        settings = _select_policies(settings, args, [p.id for p in plugins.policies])
    except UsageError as exc:
        pipeline.print_error(str(exc))
        return EXIT_ERROR
    progress = for_terminal(getattr(sys.stderr, "passthrough", sys.stderr))
    try:
        result = scan(
            [Path(p) for p in args.paths], settings, host, plugins, progress=progress,
            record=record,
        )  # fmt: skip
    finally:
        progress.done()
    if args.explain:
        return _explain(args.explain, result)
    try:
        gated = pipeline.gate_stage(
            result,
            settings,
            config,
            args,
            frozenset(p.id for p in plugins.policies),
            __version__,
            relaxations=combined.relaxations,
        )
        report = Report(
            result=gated.result,
            policies=plugins.policies,
            tool_name="ciiguard",
            tool_version=__version__,
            enforcement=pipeline.effective_enforcement(plugins.policies, settings),
            baseline=gated.baseline,
            fail_on=gated.fail_on,
            soft_fail=gated.soft_fail,
            config=(configs.trusted.display if configs.trusted else config.display) or None,
            settings=settings,
            waivers=gated.waivers,
            plugins=host.runs(),
            policy_config=configs.trusted.display if configs.trusted else None,
            repository_configs=combined.repository,
            quiet=args.quiet,
            compact=args.compact,
        )
        pipeline.write_reports(outputs, reporters, report, sys.stdout)
        if _RETAIN is not None:  # freed by the operating system at exit (``console``)
            _RETAIN.append((result, gated, report))
        if record is not None:
            record["files"] = [o.destination for o in outputs if o.destination != pipeline.STDOUT]
            baseline = Path(args.baseline) if args.baseline else config.baseline
            record["reads"] = [*configs.files, *([baseline] if baseline is not None else [])]
    except UsageError as exc:
        pipeline.print_error(str(exc))
        return EXIT_ERROR
    if gated.note:
        print(terminal(gated.note), file=sys.stderr)
    if not any(o.reporter == "text" and o.destination == pipeline.STDOUT for o in outputs):
        for e in gated.result.errors:
            print(terminal(f"error: {e.render()}"), file=sys.stderr)
    return pipeline.exit_code(gated)


def _explain(address: str, result: Any) -> int:
    matches = [
        r for r in result.resources if r.address == address or r.address.startswith(address + "[")
    ]

    def say(text: str) -> None:
        print(terminal(text))

    if not matches:  # a Pulumi resource by its logical name, not only its URN
        matches = [r for r in result.resources if r.meta.get("pulumi_name") == address]
    if not matches:
        print(
            terminal(f"ciiguard: error: no resource {address!r} in the scanned configuration"),
            file=sys.stderr,
        )
        return EXIT_ERROR
    for r in matches:
        say(f"{r.address}  ({r.type}, {r.file}:{r.line})")
        say(f"  provider: {r.provider_config or r.provider}")
        say(
            f"  region:   {r.region.region or '(unknown)'}  -> {r.location.value}: {r.location_note}"
        )
        for i, hop in enumerate(r.region.provenance):
            say(f"    {'<-' if i else '  '} {hop.render()}")
        if r.region.unknown_reason:
            say(f"    <- {r.region.unknown_reason}")
        scope = "in scope" if r.in_scope else "out of scope"
        say(f"  scope:    {scope}" + (f" ({r.scope_reason})" if r.scope_reason else ""))
        for f in r.flows:
            say(
                f"  flow:     {f.kind} {f.argument} -> {f.destination or '?'} ({f.destination_location.value}: "
                f"{f.destination_explain})"
            )
    return EXIT_OK


def _select_policies(settings: Any, args: argparse.Namespace, ids: list[str]) -> Any:
    """--policy / --skip-policy: the command line's choice of policies, over any config file."""
    from ciiguard.errors import UsageError

    only = list(getattr(args, "only_policies", None) or ())
    skip = list(getattr(args, "skip_policies", None) or ())
    if not only and not skip:
        return settings
    for pid in (*only, *skip):
        if pid not in ids:
            raise UsageError(f"no policy {pid!r} (policies: {', '.join(sorted(ids))})")
    levels = dict(settings.enforcement)
    for pid in ids:
        if (only and pid not in only) or pid in skip:
            levels[pid] = "disabled"
    return dataclasses.replace(settings, enforcement=levels)


def _settings(args: argparse.Namespace) -> Any:
    """Settings from the options ``_input_options`` declares (before the config file fills in)."""
    from ciiguard.settings import Settings

    return Settings(
        cii_workload=args.cii_workload,
        var_inputs=tuple(args.var_inputs or ()),
        environment=dict(os.environ),
        allow_outside_root=args.allow_outside_root,
        use_cache=not args.no_cache,
        jobs=args.jobs,
        max_file_size=args.max_file_size,
        **({"max_total_size": args.max_total_size} if args.max_total_size else {}),
        allow_empty=args.allow_empty,
        skip_paths=tuple(args.skip_paths or ()),
        changed_only=args.changed_only,
        source_dir=args.source_dir,
        pulumi_stack=args.pulumi_stack,
        run_programs=args.run_programs,
    )


def _input_options(s: argparse.ArgumentParser) -> None:
    """What to read and how: shared by every subcommand that scans (scan, map)."""
    s.add_argument(
        "paths",
        nargs="*",
        default=["."],
        metavar="PATH",
        help="directories or files to scan (default: .)",
    )
    s.add_argument(
        "--var",
        action=_Ordered,
        metavar="NAME=VALUE",
        dest="var_inputs",
        help="set a root module variable (like terraform -var)",
    )
    s.add_argument(
        "--var-file",
        action=_Ordered,
        metavar="FILE",
        dest="var_inputs",
        help="read variable values from FILE (like terraform -var-file)",
    )
    s.add_argument(
        "--cii-workload",
        action="store_true",
        help="treat every data-bearing resource as in scope unless tagged public/internal",
    )
    s.add_argument(
        "--allow-outside-root",
        action="store_true",
        help="follow local module sources that leave the scanned directory",
    )
    s.add_argument(
        "--no-cache",
        action="store_true",
        help="do not read or write the parse and result caches (in the user cache directory)",
    )
    s.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help="processes to use (default: one per core): with 2 or more, a big Terraform tree is "
        "split across two processes, and a plan JSON of 32 MiB or more is read by two; with 4 or "
        "more and 16 MB of uncached source, files are also parsed in a worker pool; 1 keeps "
        "everything in one process",
    )
    s.add_argument(
        "--max-file-size",
        type=_size,
        metavar="SIZE",
        help="refuse (exit 2) any input file larger than SIZE, e.g. 512KiB, 50MiB "
        "(default: 20MiB for source files, 4GiB for plan JSON)",
    )
    s.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="text output: only blocking findings, errors and the verdict",
    )
    s.add_argument(
        "--compact",
        action="store_true",
        help="text output: one line per finding (policy, resource, file:line, message)",
    )
    s.add_argument(
        "--skip-path",
        action="append",
        metavar="GLOB",
        dest="skip_paths",
        help="do not scan files or directories matching GLOB, relative to each scanned path "
        "(repeatable, e.g. --skip-path 'examples/*' --skip-path '*/test/*')",
    )
    s.add_argument(
        "--allow-empty",
        action="store_true",
        help="pass (with a warning) when the paths hold no Terraform, Terragrunt or Pulumi "
        "input; without it that is exit 2",
    )
    s.add_argument(
        "--max-total-size",
        type=_size,
        metavar="SIZE",
        help="refuse (exit 2) a scan whose input files total more than SIZE (default: 256MiB, "
        "what a CI runner's memory survives)",
    )
    s.add_argument(
        "--changed-only",
        action="store_true",
        help="plan JSON: judge only resources being created, updated or replaced",
    )
    s.add_argument(
        "--source",
        metavar="DIR",
        dest="source_dir",
        help="plan JSON: the Terraform directory it was planned from (report .tf file:line)",
    )
    s.add_argument(
        "--stack",
        metavar="NAME",
        dest="pulumi_stack",
        help="Pulumi: the stack whose Pulumi.NAME.yaml config applies (default: the only stack file)",
    )
    s.add_argument(
        "--run-programs",
        action="store_true",
        help=(
            "Pulumi: run Python and Node.js programs under the Pulumi SDK's mocks (executes the "
            "project's code)"
        ),
    )


def _map_parser(sub: Any) -> None:
    m = sub.add_parser(
        "map",
        help="draw where classified data lives and flows (html, svg, mermaid, dot)",
        description="Draw where classified data lives and flows, mainland China vs outside: one "
        "box per cloud and region with counts by classification and verdict, the flows between "
        "two regions (replication, copies, backups, streams, log shipping, subscriptions, events, "
        "migrations, external endpoints) folded into one arrow (cross-border ones in red); --detail opens regions "
        "into root modules or resources, and the html page opens them on demand. Exit 0 when the "
        "map is written; 2 when the scan had errors (the map is still written, marked "
        "INCOMPLETE) or the map cannot be written. Violations do not change the exit code.",
    )
    _input_options(m)
    m.add_argument(
        "--format",
        "-f",
        choices=("html", "svg", "mermaid", "dot"),
        help="map format (default: from the --output suffix, else html)",
    )
    m.add_argument("--output", "-o", metavar="FILE", help="write the map to FILE, not stdout")
    m.add_argument("--title", help="heading of the map (default: the scanned paths)")
    m.add_argument(
        "--detail",
        choices=("summary", "roots", "resources"),
        default="summary",
        help="svg, mermaid, dot: draw one box per region (summary, the default), per root module "
        "(roots) or per resource (resources); mermaid falls back to a coarser level, and says so, "
        "when the detail would not fit GitHub's and GitLab's limits. html always starts at the "
        "summary and opens regions on demand",
    )
    m.add_argument("--baseline", metavar="FILE", help="show findings recorded in FILE as such")
    _plugin_options(m)
    add_config_options(m)


def _map(args: argparse.Namespace, host: Any) -> int:
    """``ciiguard map``: a picture of the scan, not a gate, so violations leave the exit code 0."""
    import ciiguard.cli.pipeline as pipeline
    from ciiguard.errors import UsageError
    from ciiguard.residency_map import SUFFIX_FORMATS, Detail, build_map, render
    from ciiguard.scan import gather, scan

    fmt = args.format or SUFFIX_FORMATS.get(Path(args.output or "").suffix.lower(), "html")
    plugins = gather(host)
    try:
        combined = args.gate_config.resolve(plugins.policies, plugins.catalogue)
        config = combined.config
        settings = config.settings(_settings(args))
        result = scan([Path(p) for p in args.paths], settings, host, plugins)
        gate = argparse.Namespace(
            fail_on=None, soft_fail=False, create_baseline=None, baseline=args.baseline
        )
        ids = frozenset(p.id for p in plugins.policies)
        result = pipeline.gate_stage(
            result, settings, config, gate, ids, __version__, relaxations=combined.relaxations
        ).result
    except UsageError as exc:
        pipeline.print_error(str(exc))
        return EXIT_ERROR
    title = args.title or "Residency map: " + " ".join(args.paths)
    text = render(build_map(result, title), fmt, Detail(args.detail))
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            pipeline.print_error(f"cannot write {args.output}: {exc.strerror or exc}")
            return EXIT_ERROR
    else:
        sys.stdout.write(text)
    for e in result.errors:
        print(terminal(f"error: {e.render()}"), file=sys.stderr)
    if result.errors:
        print("ciiguard: the scan was incomplete; the map says so", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK

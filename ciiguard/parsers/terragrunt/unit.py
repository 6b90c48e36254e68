"""A Terragrunt unit as the root module Terragrunt runs, evaluated by the Terraform reader.

Terragrunt copies ``terraform.source`` (or, without one, uses the unit's own directory), copies
the unit's files over it, writes the ``generate`` blocks' files, and runs Terraform there with
``inputs`` as ``TF_VAR_`` values (a variable the environment already sets keeps its value;
``*.tfvars`` files, ``-var-file`` from ``extra_arguments`` and the command line win over both).
ciiguard assembles the same root module from the files where they are, without copying or running
anything, and maps every line of a generated file back to the ``generate`` block that wrote it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ciiguard.errors import InputError
from ciiguard.model import Gap, Hop, Location, ParseOutput, RegionInfo, Resource, ScanIssue, Unknown
from ciiguard.parsers.base import ParseContext, real
from ciiguard.parsers.terraform.files import (
    AutoVarFile,
    VarValue,
    WrapperValue,
    load_module,
    root_variable_values,
    var_file_values,
)
from ciiguard.parsers.terraform.hcl.json_syntax import parse_tf_json
from ciiguard.parsers.terraform.hcl.loader import HclLoader
from ciiguard.parsers.terraform.hcl.nodes import (
    Expr,
    HclFile,
    Hole,
    Literal,
    Name,
    Node,
    Template,
)
from ciiguard.parsers.terraform.hcl.reader import parse_hcl
from ciiguard.parsers.terraform.lang.evaluator import (
    Evaluator,
    ResourceValue,
    Traced,
    deep_unknown,
    render_value,
)
from ciiguard.parsers.terraform.lang.functions import TfSet
from ciiguard.parsers.terraform.module_def import ModuleDef
from ciiguard.parsers.terraform.parser import (
    ModuleInstance,
    ModuleReader,
    RootEvaluation,
    TerraformParser,
)
from ciiguard.parsers.terragrunt.config import (
    SIGNATURE,
    ConfigReader,
    DependencyBlock,
    Generated,
    Rendered,
    UndecidedConfig,
)
from ciiguard.parsers.terragrunt.files import UNIT_FILES, ConfigFiles
from ciiguard.settings import module_source_key

Value = Any
NULL_VARS_FILE = ".terragrunt-null-vars.auto.tfvars.json"  # where terragrunt writes null inputs
DEPLOY_COMMANDS = ("plan", "apply")  # the commands whose extra_arguments decide what is deployed


class Estate:
    """What the units of one scan share: the readers, the caches, the units by file."""

    def __init__(self, ctx: ParseContext, out: ParseOutput) -> None:
        self.ctx = ctx
        self.out = out
        self.loader = HclLoader(
            ctx.read_bytes, ctx.display, ctx.settings.use_cache, ctx.settings.jobs
        )
        self.files = ConfigFiles(ctx, self.loader)
        self.terraform = TerraformParser()
        self.terraform.load = self.loader.load
        self.modules = ModuleReader(ctx, self.loader, out)
        self.errors: list[InputError] = []
        self.reader = ConfigReader(
            self.files,
            dict(ctx.settings.environment),
            self.errors,
            ctx.uncacheable,
            self.dependency,
        )
        self.units: dict[Path, Unit] = {}
        self.busy: list[Path] = []  # units being prepared: a dependency on one is a cycle

    def unit(self, path: Path) -> Unit:
        path = Path(os.path.abspath(path))
        found = self.units.get(path)
        if found is None:
            found = self.units[path] = Unit(self, path)
        return found

    def dependency(self, dep: DependencyBlock, config: Path) -> Value:
        """``dependency.<name>``: its ``outputs`` (the other unit's output values, where its
        configuration decides them) and ``inputs``."""
        owner = dep.owner
        body = dep.block.body
        where = f"dependency.{dep.name} ({owner.shown}:{dep.block.line})"
        mock = body.attr("mock_outputs")

        def flag(name: str) -> bool:
            a = body.attr(name)
            return a is not None and Evaluator(owner).evaluate(a.expr) is True

        enabled = body.attr("enabled")
        disabled = enabled is not None and Evaluator(owner).evaluate(enabled.expr) is False
        if disabled or flag("skip_outputs"):
            why = "disabled" if disabled else "skip_outputs = true"
            if mock is None:
                return {"outputs": Unknown(f"{where} is {why} and has no mock_outputs")}
            trace: list[Hop] = []
            value = Evaluator(owner, trace).evaluate(mock.expr)
            hop = Hop(f"dependency.{dep.name}.mock_outputs ({why})", owner.shown, mock.line)
            return Traced({"outputs": value}, {"outputs": (hop, *trace)})
        cp = body.attr("config_path")
        if cp is None:
            return Unknown(f"{where} has no config_path", error=True)
        target = Evaluator(owner).evaluate(cp.expr)
        if not isinstance(target, str):
            return (
                target
                if isinstance(target, Unknown)
                else Unknown(f"{where}: config_path must be a string", error=True)
            )
        path = Path(target) if Path(target).is_absolute() else config.parent / target
        path = Path(os.path.normpath(path))
        if not path.name.endswith(UNIT_FILES):
            path = next(
                (path / n for n in UNIT_FILES if (path / n).is_file()), path / UNIT_FILES[0]
            )
        shown = self.ctx.display(path.parent)
        if self.files.outside(path):
            return {"outputs": Unknown(f"{where}: {shown} is outside the scanned directory")}
        if not path.is_file():
            return Unknown(f"{where}: {shown} has no terragrunt.hcl", error=True)
        if path in self.busy:
            chain = " -> ".join(self.ctx.display(p.parent) for p in (*self.busy, path))
            return Unknown(f"{where}: dependency cycle {chain}", error=True)
        unit = self.unit(path)
        outputs = unit.outputs(where)
        if isinstance(outputs, dict) and not outputs and mock is not None:
            # a module without outputs: terragrunt gives its mock_outputs (where allowed)
            allowed = body.attr("mock_outputs_allowed_terraform_commands")
            commands = Evaluator(owner).evaluate(allowed.expr) if allowed is not None else None
            if not commands or (isinstance(commands, list) and "apply" in commands):
                mock_trace: list[Hop] = []
                mocked = Evaluator(owner, mock_trace).evaluate(mock.expr)
                hop = Hop(
                    f"dependency.{dep.name}.mock_outputs ({shown} declares no outputs)",
                    owner.shown,
                    mock.line,
                )
                return Traced(
                    {"outputs": mocked, "inputs": unit.inputs_value()},
                    {"outputs": (hop, *mock_trace)},
                )
        inputs = unit.inputs_value()
        hops: dict[str, tuple[Hop, ...]] = {"outputs": (Hop(where), Hop(f"unit {shown}"))}
        return Traced({"outputs": outputs, "inputs": inputs}, hops)


class Unit:
    """One unit: its configuration, the root module it runs, and that module evaluated."""

    def __init__(self, estate: Estate, path: Path) -> None:
        self.estate = estate
        self.ctx = estate.ctx
        self.path = path
        self.dir = path.parent
        self.shown = self.ctx.display(path)
        self.out = ParseOutput()
        self.rendered: Rendered | None = None
        self.root: RootEvaluation | None = None
        self.instance: ModuleInstance | None = None
        self.generated: dict[str, Generated] = {}  # generated file (display path) -> its block
        self.unknown_generated: list[str] = []  # why the provider configuration may be unseen
        self.extra_env: dict[str, tuple[str, Hop]] = {}
        self._prepared = False
        self._outputs: Value = None
        self.module_dir: Path | None = None

    # -- configuration -------------------------------------------------------------------------
    def prepare(self) -> None:
        """Read the configuration and assemble the root module (once)."""
        if self._prepared:
            return
        self._prepared = True
        estate = self.estate
        estate.busy.append(self.path)
        try:
            self._prepare()
        except UndecidedConfig as exc:
            self._gap(str(exc), self.shown, None)
        except InputError as exc:
            self.out.errors.append(ScanIssue(exc.file, exc.line, exc.message))
        except RecursionError:
            self.out.errors.append(ScanIssue(self.shown, None, "nested too deeply to evaluate"))
        finally:
            estate.busy.pop()
            self.out.errors.extend(ScanIssue(e.file, e.line, e.message) for e in estate.errors)
            estate.errors.clear()

    def _prepare(self) -> None:
        self.ctx.wrapped_roots.setdefault(real(self.dir), self.shown)
        _, rendered = self.estate.reader.config(self.path)
        self.rendered = rendered
        for hook in rendered.hooks:
            self._hook_warning(
                hook.kind, hook.name, hook.commands, hook.execute, hook.file, hook.line
            )
        module_dir = self._source(rendered)
        if module_dir is None:
            return
        self.module_dir = module_dir
        self.ctx.wrapped_roots.setdefault(module_dir, self.shown)
        tf_files, var_files, generated = self._assemble(rendered, module_dir)
        if generated is None:
            return

        def load(p: Path) -> HclFile:
            if p in generated:
                return generated[p]
            return self.estate.loader.load(p)

        self.estate.loader.preload([p for p in tf_files if p not in generated])
        mod = load_module(module_dir, tf_files, load)
        for e in mod.errors:
            self.out.errors.append(ScanIssue(e.file, e.line, e.message))
        env, var_inputs = self._command_line(rendered)
        settings = dataclasses.replace(self.ctx.settings, environment=env)
        ctx = dataclasses.replace(self.ctx, settings=settings)
        wrapper, nulls = self._inputs(rendered, mod)
        if nulls:
            var_files.append((NULL_VARS_FILE, nulls))
            var_files.sort(key=_var_file_order)
        values, errors = root_variable_values(
            mod,
            env,
            var_inputs,
            self.ctx.display,
            self.ctx.cwd,
            self.ctx.reads,
            load,
            None if self.ctx.settings.allow_outside_root else self.estate.files.outside,
            self.ctx.settings.max_file_size,
            wrapper_vars=wrapper,
            var_files=var_files,
        )
        for e in errors:
            self.out.errors.append(ScanIssue(e.file, e.line, e.message))
        self.root = RootEvaluation(
            self.estate.terraform, ctx, self.dir, self.estate.modules, self.out
        )
        self.instance = self.root.instance(mod, values)

    def _hook_warning(
        self, kind: str, name: str, commands: Value, execute: Value, file: str, line: int
    ) -> None:
        runs = commands if isinstance(commands, list) else []
        if not any(c in ("init", *DEPLOY_COMMANDS) for c in runs if isinstance(c, str)):
            return
        what = " ".join(str(x) for x in execute) if isinstance(execute, list) else "?"
        self.out.warnings.append(
            ScanIssue(
                file,
                line,
                f'{kind} "{name}" runs `{what[:120]}` around plan/apply; ciiguard does not run '
                "hooks, so anything it writes into the module is not seen",
            )
        )

    def _stopped(self, value: Unknown, what: str, file: str, line: int) -> None:
        """A value the unit's shape depends on is unknown: an error where terragrunt would stop,
        else CII003 for the unit."""
        if value.error:
            self.out.errors.append(ScanIssue(file, line, f"{what}: {value.reason}"))
        else:
            self._gap(f"{what} is unknown: {value.reason}", file, line)

    def _gap(self, message: str, file: str | None, line: int | None, fix: str = "") -> None:
        self.out.gaps.append(
            Gap(
                address=self.ctx.display(self.dir),
                message=message,
                fix=fix
                or "make the value decidable from the files (a literal, a local, get_env with a "
                "default) instead of a command, or scan the plan JSON (terragrunt plan "
                "-out=tfplan, then terragrunt show -json tfplan)",
                file=file,
                line=line,
            )
        )

    # -- terraform.source ------------------------------------------------------------------------
    def _source(self, rendered: Rendered) -> Path | None:
        src = rendered.source
        if src is None:
            return real(self.dir)
        value = src.value
        if isinstance(value, Unknown):
            self._stopped(value, "terraform.source (the module the unit runs)", src.file, src.line)
            return None
        if not isinstance(value, str) or not value.strip():
            self.out.errors.append(
                ScanIssue(src.file, src.line, "terraform.source must be a non-empty string")
            )
            return None
        text = value.strip()
        if text.startswith("file::"):
            text = text[len("file::") :]
        if _local(text):
            base, subdir = _split_subdir(text)
            target = Path(base) if Path(base).is_absolute() else self.dir / base
            if subdir:
                target = target / subdir
            return self._directory(target, f"terraform.source {value!r}", src.file, src.line)
        key, subdir = module_source_key(_registry_form(text))
        mapped = self.ctx.settings.module_sources.get(key)
        if mapped is None:
            self._gap(
                f"the unit runs the module {value!r}, which ciiguard does not download; its "
                "resources were not checked",
                src.file,
                src.line,
                f"map {key!r} to a checkout of it in the config file's [module_sources], or scan "
                "the plan JSON (terragrunt plan -out=tfplan, then terragrunt show -json tfplan)",
            )
            return None
        target = Path(mapped) / subdir if subdir else Path(mapped)
        where = f"terraform.source {value!r} (mapped to {self.ctx.display(target)})"
        return self._directory(target, where, src.file, src.line)

    def _directory(self, target: Path, where: str, file: str, line: int) -> Path | None:
        try:
            resolved = real(Path(os.path.normpath(target)))
        except (OSError, RuntimeError):
            self.out.errors.append(ScanIssue(file, line, f"{where} is a symbolic link loop"))
            return None
        if self.estate.files.outside(resolved):
            self.out.errors.append(
                ScanIssue(
                    file,
                    line,
                    f"{where} is outside the scanned directory (use --allow-outside-root to "
                    "follow it)",
                )
            )
            return None
        if not resolved.is_dir():
            self.out.errors.append(ScanIssue(file, line, f"{where} does not exist"))
            return None
        return resolved

    # -- the working directory -----------------------------------------------------------------
    def _assemble(
        self, rendered: Rendered, module_dir: Path
    ) -> tuple[list[Path], list[AutoVarFile], dict[Path, HclFile] | None]:
        """The root module's files as Terragrunt lays them out: the module's, the unit's own
        copied over them (by name), then the generated ones; and its automatic tfvars files."""
        modules = self.estate.modules
        tf: dict[str, Path] = {p.name: p for p in modules.files(module_dir)}
        tfvars: dict[str, Path] = {p.name: p for p in _var_files(module_dir)}
        unit_dir = real(self.dir)
        if unit_dir != module_dir:
            excluded = _patterns(rendered.exclude_from_copy)
            for p in modules.files(unit_dir):
                if not p.name.startswith(".") and not _matches(p.name, excluded):
                    tf[p.name] = p
            for p in _var_files(unit_dir):
                if not p.name.startswith(".") and not _matches(p.name, excluded):
                    tfvars[p.name] = p
        generated: dict[Path, HclFile] = {}
        synthetic: dict[str, dict[str, VarValue]] = {}
        for gen in rendered.generate.values():
            if not self._generate(gen, tf, tfvars, generated, synthetic):
                return [], [], None
        var_files: list[AutoVarFile] = [
            *tfvars.values(),
            *((name, values) for name, values in synthetic.items()),
        ]
        var_files.sort(key=_var_file_order)
        return sorted(tf.values()), var_files, generated

    def _generate(
        self,
        gen: Generated,
        tf: dict[str, Path],
        tfvars: dict[str, Path],
        generated: dict[Path, HclFile],
        synthetic: dict[str, dict[str, VarValue]],
    ) -> bool:
        where = f'generate "{gen.name}"'
        for name in ("path", "if_exists", "disable"):
            value = getattr(gen, name)
            if isinstance(value, Unknown):
                self._stopped(value, f"{where} {name}", gen.file, gen.line)
                return False
        if not isinstance(gen.path, str) or not gen.path:
            self.out.errors.append(ScanIssue(gen.file, gen.line, f"{where}: path must be a string"))
            return False
        name = os.path.normpath(gen.path)
        if "/" in name or name.startswith(".."):
            return True  # outside the root module's own directory: Terraform does not read it
        is_tf = TerraformParser.claims_name(Path(name))
        is_vars = _is_var_file(name)
        existing = tf.get(name) or tfvars.get(name)
        if gen.disable is True:
            if existing is not None and gen.if_disabled == "remove":
                tf.pop(name, None)
                tfvars.pop(name, None)
            return True
        if existing is not None:
            if gen.if_exists == "skip":
                return True
            if gen.if_exists == "error" or (
                gen.if_exists == "overwrite_terragrunt" and not _was_generated(existing)
            ):
                self.out.errors.append(
                    ScanIssue(
                        gen.file,
                        gen.line,
                        f"{where} would write {name}, which {self.ctx.display(existing)} already "
                        f"is (if_exists = {gen.if_exists!r}): terragrunt stops with an error",
                    )
                )
                return False
            if gen.if_exists not in ("overwrite", "overwrite_terragrunt"):
                self.out.errors.append(
                    ScanIssue(gen.file, gen.line, f"{where}: unknown if_exists {gen.if_exists!r}")
                )
                return False
        if not (is_tf or is_vars):
            return True  # not a file Terraform reads (a README, a script)
        text = gen.text
        if isinstance(text, Unknown):
            if text.error:
                self.out.errors.append(ScanIssue(gen.file, gen.line, f"{where}: {text.reason}"))
                return False
            return self._undecided(gen, name, tf, tfvars, text)
        assert isinstance(text, str)
        path = self.dir / name
        shown = self.ctx.display(path)
        self.generated[shown] = gen
        try:
            if is_vars:
                values, errors = var_file_values(text, name.endswith(".json"), shown)
                for e in errors:
                    self._generated_error(gen, e)
                synthetic[name] = values
                tfvars.pop(name, None)
                return not errors
            hcl = parse_tf_json(text, shown) if name.endswith(".json") else parse_hcl(text, shown)
        except InputError as exc:
            if gen.holes:  # an unknown value in a place that decides the file's structure
                return self._undecided(gen, name, tf, tfvars, next(iter(gen.holes.values())))
            self._generated_error(gen, exc)
            return False
        if gen.holes:
            filled = _fill_holes(hcl, gen.holes)
            if filled is None:
                return self._undecided(gen, name, tf, tfvars, next(iter(gen.holes.values())))
            hcl = filled
        generated[path] = hcl
        tf[name] = path
        return True

    def _undecided(
        self,
        gen: Generated,
        name: str,
        tf: dict[str, Path],
        tfvars: dict[str, Path],
        why: Unknown,
    ) -> bool:
        """A generated Terraform file whose text ciiguard cannot tell: CII003 for the unit, and
        every region that could come from a provider configuration in it is unknown."""
        reason = (
            f'generate "{gen.name}" ({gen.file}:{gen.line}) writes {name} from a value ciiguard '
            f"cannot decide: {why.reason}"
        )
        self.unknown_generated.append(reason)
        self._gap(reason, gen.file, gen.line)
        tf.pop(name, None)
        tfvars.pop(name, None)
        return True

    def _generated_error(self, gen: Generated, exc: InputError) -> None:
        line = gen.lines.get(exc.line or 0, (gen.line, ()))[0]
        self.out.errors.append(
            ScanIssue(
                gen.file,
                line,
                f'generate "{gen.name}" writes {gen.path}, which Terraform cannot read: '
                f"{exc.message}",
            )
        )

    # -- what Terraform is given ---------------------------------------------------------------
    def _command_line(
        self, rendered: Rendered
    ) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
        """The environment and ``-var``/``-var-file`` options of plan and apply: the scanning
        environment with ``extra_arguments`` env_vars over it, their arguments and var files, then
        ciiguard's own ``--var``/``--var-file``."""
        env = dict(self.ctx.settings.environment)
        given: list[tuple[str, str]] = []
        for extra in rendered.extra_arguments:
            commands = extra.commands if isinstance(extra.commands, list) else []
            if not any(c in DEPLOY_COMMANDS for c in commands):
                continue
            if isinstance(extra.env_vars, dict):
                for k, v in extra.env_vars.items():
                    if isinstance(v, str):
                        env[k] = v
                        hop = Hop(
                            f'extra_arguments "{extra.name}" env_vars.{k}',
                            extra.file,
                            extra.line,
                            f'"{v}"',
                        )
                        self.extra_env[k] = (v, hop)
            if isinstance(extra.arguments, list):
                args = [a for a in extra.arguments if isinstance(a, str)]
                i = 0
                while i < len(args):
                    opt, eq, value = args[i].partition("=")
                    if opt in ("-var", "--var", "-var-file", "--var-file"):
                        if not eq and i + 1 < len(args):
                            i += 1
                            value = args[i]
                        if opt.endswith("file"):
                            given.append(("file", self._var_file_path(value)))
                        else:
                            given.append(("var", value))
                    i += 1
            for item in extra.required_var_files or []:
                if isinstance(item, str):
                    given.append(("file", self._var_file_path(item)))
            for item in extra.optional_var_files or []:
                if isinstance(item, str):
                    path = self._var_file_path(item)
                    if self.estate.files.exists(Path(path)):
                        given.append(("file", path))
        return env, (*given, *self.ctx.settings.var_inputs)

    def _var_file_path(self, text: str) -> str:
        """A var file named in extra_arguments: relative names are relative to the working
        directory, which holds the unit's files over the module's."""
        if Path(text).is_absolute():
            return text
        for base in (self.dir, self.module_dir):
            if base is not None and (base / text).is_file():
                return str(base / text)
        return str(self.dir / text)

    def _inputs(
        self, rendered: Rendered, mod: ModuleDef
    ) -> tuple[dict[str, WrapperValue], dict[str, VarValue]]:
        """``inputs`` as terragrunt passes them: ``TF_VAR_`` text (JSON for anything but a
        string, ``${`` escaped where Terraform parses the value), null ones in a tfvars file."""
        wrapper: dict[str, WrapperValue] = {}
        nulls: dict[str, VarValue] = {}
        if rendered.inputs_unknown is not None:
            u = rendered.inputs_unknown
            reason = u.value.reason if isinstance(u.value, Unknown) else "not a map"
            for name in mod.variables:
                why = Unknown(f"inputs ({u.file}:{u.line}) may set var.{name}: {reason}")
                wrapper[name] = WrapperValue(why, u.hops, u.file, u.line)
            return wrapper, nulls
        for name, attr in sorted(rendered.inputs.items()):
            hops = (Hop(f"var.{name}"), *attr.hops)
            if attr.value is None:
                nulls[name] = VarValue(None, hops)
                continue
            text = env_text(attr.value, _parsed_as_hcl(mod, name))
            wrapper[name] = WrapperValue(text, hops, attr.file, attr.line)
        return wrapper, nulls

    # -- results ---------------------------------------------------------------------------------
    def inputs_value(self) -> Value:
        self.prepare()
        r = self.rendered
        if r is None:
            return Unknown(f"the configuration of {self.shown} could not be read")
        if r.inputs_unknown is not None:
            return r.inputs_unknown.value
        return Traced(
            {k: a.value for k, a in r.inputs.items()}, {k: a.hops for k, a in r.inputs.items()}
        )

    def outputs(self, where: str) -> Value:
        """The unit's output values where its configuration decides them; the rest unknown (they
        are read from its state at apply). Unknowns never name resources across units."""
        self.prepare()
        if self.instance is None:
            return Unknown(f"{where}: the module of {self.shown} could not be read")
        if self._outputs is None:
            values: dict[str, Value] = {}
            hops: dict[str, tuple[Hop, ...]] = {}
            inst = self.instance
            for name, la in sorted(inst.mod.outputs.items()):
                value = _detached(inst.output(name))
                u = deep_unknown(value)
                if u is not None:
                    value = Unknown(
                        f"{where}.outputs.{name} comes from the state of "
                        f"{self.ctx.display(self.dir)} after apply ({u.reason}); mock_outputs are "
                        "placeholders, not what is deployed",
                        error=u.error,
                    )
                trace: list[Hop] = []
                Evaluator(inst, trace).evaluate(la.attr.expr)
                shown = None if trace else render_value(value)
                hops[name] = (Hop(f"output {name}", la.file, la.attr.line, shown), *trace)
                values[name] = value
            self._outputs = Traced(values, hops)
        return self._outputs

    def scan(self) -> ParseOutput:
        """The unit's resources, with provenance pointing at the files a reviewer changes."""
        self.prepare()
        if self.root is not None and self.instance is not None:
            try:
                self.root.walk(self.instance, module_key="")
            except RecursionError:
                self.out.errors.append(
                    ScanIssue(self.shown, None, "configuration nested too deeply to evaluate")
                )
            self.out.gaps.extend(self.root.gaps)
            self.out.resources = [self._relocated(r) for r in self.out.resources]
        return self.out

    def _relocated(self, r: Resource) -> Resource:
        unit = Hop(f"unit {self.ctx.display(self.dir)}", self.shown)
        hops = (unit, *self._hops(r.region.provenance))
        region = dataclasses.replace(r.region, provenance=hops)
        if self.unknown_generated and not (len(hops) > 1 and "argument of" in hops[1].what):
            region = RegionInfo(None, hops, "; ".join(self.unknown_generated))
        file, line = r.file, r.line
        if file in self.generated:
            gen = self.generated[file]
            file, line = gen.file, gen.lines.get(line or 0, (gen.line, ()))[0]
        return dataclasses.replace(
            r,
            region=region,
            location=Location.UNKNOWN,
            file=file,
            line=line,
            input="terragrunt",
        )

    def _hops(self, hops: tuple[Hop, ...]) -> tuple[Hop, ...]:
        """Hops in a generated file point at the ``generate`` block's line that wrote them, then
        at the values interpolated there; environment variables set by ``extra_arguments`` point
        at that block."""
        out: list[Hop] = []
        for hop in hops:
            if hop.file in self.generated:
                gen = self.generated[hop.file]
                src, traced = gen.lines.get(hop.line or 0, (gen.line, ()))
                what = f"{hop.what} (written by generate {gen.name!r} into {gen.path})"
                out.append(Hop(what, gen.file, src, hop.value))
                out.extend(traced)
                continue
            if hop.what.startswith("environment ") and hop.file is None:
                var = hop.what.split(" ", 1)[1]
                if var in self.extra_env:
                    out.append(self.extra_env[var][1])
                    continue
            out.append(hop)
        return tuple(out)


# -- helpers -----------------------------------------------------------------------------------
def env_text(value: Value, hcl_mode: bool) -> str | Unknown:
    """An input as terragrunt sets ``TF_VAR_<name>``: a string as it is (``${`` escaped when
    Terraform parses the value as HCL), anything else as JSON with every ``${`` escaped, numbers
    through a 64-bit float as Go's encoder writes them."""
    if isinstance(value, str):
        return _escaped(value) if hcl_mode else value
    u = deep_unknown(value)
    if u is not None:
        return Unknown(u.reason, error=u.error)
    try:
        return json.dumps(
            _go_json(value), ensure_ascii=False, separators=(",", ":"), sort_keys=True
        )
    except (TypeError, ValueError, OverflowError) as exc:
        return Unknown(f"this input cannot be passed to Terraform ({exc})", error=True)


_INTERPOLATION = re.compile(r"\$\$\{|\$\{")


def _escaped(text: str) -> str:
    """Terragrunt's EscapeInterpolationInString: ``${`` becomes ``$${``, ``$${`` stays."""
    return _INTERPOLATION.sub("$${", text)


def _go_json(value: Value) -> Value:
    if isinstance(value, str):
        return _escaped(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        f = float(value)
        return int(f) if f.is_integer() and abs(f) < 1e21 else f
    if isinstance(value, (list, TfSet)):
        return [_go_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _go_json(v) for k, v in value.items()}
    raise TypeError(f"cannot encode {type(value).__name__}")


def _parsed_as_hcl(mod: ModuleDef, name: str) -> bool:
    """Terragrunt's test of how Terraform reads a variable's ``TF_VAR_`` text: literally when the
    variable is declared ``string`` or without a type, as HCL otherwise."""
    var = mod.variables.get(name)
    if var is None:
        return False
    t = var.block.body.attr("type")
    return t is not None and not (isinstance(t.expr, Name) and t.expr.name == "string")


def _detached(value: Value) -> Value:
    """A value leaving its root module: resources it names belong to another unit."""
    if isinstance(value, ResourceValue):
        return Unknown(f"{value.address} is known only after apply")
    if isinstance(value, Unknown):
        return Unknown(value.reason, error=value.error)
    if isinstance(value, list):
        return [_detached(v) for v in value]
    if isinstance(value, dict):
        return {k: _detached(v) for k, v in value.items()}
    return value


def _local(source: str) -> bool:
    return source.startswith(("/", "./", "../")) or source in (".", "..")


def _split_subdir(source: str) -> tuple[str, str]:
    """``../modules//s3?ref=x`` -> (``../modules``, ``s3``): go-getter's subdirectory split."""
    text = source.split("?", 1)[0]
    at = text.find("//", text.find("://") + 3 if "://" in text else 0)
    if at < 0:
        return text, ""
    return text[:at] or "/", text[at + 2 :].strip("/")


def _registry_form(source: str) -> str:
    """``tfr://host/ns/name/provider`` as a Terraform module source names it (``host/ns/...``);
    ``tfr:///ns/name/provider`` is the public registry."""
    if source.startswith("tfr:///"):
        return source[len("tfr:///") :]
    if source.startswith("tfr://"):
        return source[len("tfr://") :]
    return source


def _var_files(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.iterdir() if p.is_file() and _is_var_file(p.name))
    except OSError:
        return []


def _is_var_file(name: str) -> bool:
    return name in ("terraform.tfvars", "terraform.tfvars.json") or name.endswith(
        (".auto.tfvars", ".auto.tfvars.json")
    )


def _var_file_order(f: AutoVarFile) -> tuple[int, str]:
    """Terraform's order: terraform.tfvars, terraform.tfvars.json, then *.auto.tfvars(.json) by
    name."""
    name = f.name if isinstance(f, Path) else f[0]
    order = {"terraform.tfvars": 0, "terraform.tfvars.json": 1}
    return (order.get(name, 2), name)


def _patterns(attrs: list[Any]) -> list[str]:
    out: list[str] = []
    for a in attrs:
        if isinstance(a.value, list):
            out.extend(str(p) for p in a.value if isinstance(p, str))
    return out


def _matches(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(name, p.lstrip("./")) for p in patterns)


def _was_generated(path: Path) -> bool:
    """Whether a file carries terragrunt's signature (``overwrite_terragrunt`` may replace it)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    return SIGNATURE in head.split("\n", 1)[0]


def _fill_holes(hcl: HclFile, holes: Mapping[str, Unknown]) -> HclFile | None:
    """The generated file with every marker, each inside a string, replaced by the unknown value
    it stands for; None when a marker sits anywhere else (it then decides the file's shape)."""
    found: set[str] = set()
    pattern = re.compile("(" + "|".join(re.escape(m) for m in holes) + ")")

    def text(value: str) -> Expr | None:
        pieces = [p for p in pattern.split(value) if p]
        if not any(p in holes for p in pieces):
            return None
        parts: list[str | Expr] = []
        for p in pieces:
            if p in holes:
                found.add(p)
                parts.append(Hole(holes[p].reason))
            else:
                parts.append(p)
        if len(parts) == 1 and isinstance(parts[0], Expr):
            return parts[0]
        return Template(tuple(parts))

    def walk(node: Any) -> Any:
        if isinstance(node, Literal) and isinstance(node.value, str):
            return text(node.value) or node
        if isinstance(node, Template):
            parts: list[str | Expr] = []
            for part in node.parts:
                if not isinstance(part, str):
                    parts.append(walk(part))
                    continue
                swapped = text(part)
                if isinstance(swapped, Template):
                    parts.extend(swapped.parts)
                else:
                    parts.append(part if swapped is None else swapped)
            return Template(tuple(parts))
        if isinstance(node, tuple):
            return tuple(walk(n) for n in node)
        if isinstance(node, Node):
            return type(node)(*(walk(getattr(node, n)) for n in type(node).__match_args__))
        return node

    body = walk(hcl.body)
    if found != set(holes) or _markers_left(body, pattern):
        return None
    return HclFile(hcl.path, body, hcl.comments)


def _markers_left(node: Any, pattern: re.Pattern[str]) -> bool:
    """Whether a marker survived outside a string (a block label, an argument name)."""
    if isinstance(node, str):
        return bool(pattern.search(node))
    if isinstance(node, Hole):
        return False
    if isinstance(node, tuple):
        return any(_markers_left(n, pattern) for n in node)
    if isinstance(node, Node):
        return any(_markers_left(getattr(node, n), pattern) for n in type(node).__match_args__)
    return False

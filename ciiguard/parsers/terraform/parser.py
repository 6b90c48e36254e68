"""Terraform HCL: root modules, local modules, providers and aliases, count/for_each, dynamic blocks.

Each root module is evaluated as Terraform would plan it, without providers: variables and locals
are evaluated, resources expanded into instances, and every instance's effective region resolved
with the chain of hops that produced it (resource argument > provider configuration > environment
> provider default).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ciiguard.cache.store import one_writer
from ciiguard.cache.store import receive as _receive
from ciiguard.cache.store import send as _send
from ciiguard.catalogue import Catalogue
from ciiguard.errors import InputError
from ciiguard.model import (
    DeferredRoot,
    Gap,
    Hop,
    Location,
    ParseOutput,
    RegionInfo,
    Resource,
    ScanIssue,
    Unknown,
)
from ciiguard.parsers.arm import AZAPI_TYPES, translate
from ciiguard.parsers.base import ParseContext, real, real_dir
from ciiguard.parsers.comments import CommentWindows
from ciiguard.parsers.provider_defaults import (
    environment_or_default,
    merge_tags,
    provider_region,
    region_info,
    unset_variables,
)
from ciiguard.parsers.terraform import numbers
from ciiguard.parsers.terraform.files import (
    LocalValues,
    VarValue,
    load_module,
    non_null,
    root_variable_values,
    selected_workspace,
)
from ciiguard.parsers.terraform.hcl.loader import HclLoader
from ciiguard.parsers.terraform.hcl.nodes import Block, Body, HclFile, Literal, Name
from ciiguard.parsers.terraform.lang.evaluator import (
    NULL,
    Budget,
    Evaluator,
    ResourceValue,
    Scope,
    chosen,
    convert_to_type,
    deep_unknown,
    is_unknown,
    render_value,
    settle,
)
from ciiguard.parsers.terraform.lang.functions import FunctionError, TfSet, to_number, to_string
from ciiguard.parsers.terraform.module_def import (
    Located,
    ModuleDef,
    block_comments,
    passed_providers,
    provider_ref,
)
from ciiguard.settings import module_source_key, processes

if TYPE_CHECKING:
    from ciiguard.cache.roots import RootCache

META_ARGS = frozenset(
    {
        "count",
        "for_each",
        "provider",
        "depends_on",
        "lifecycle",
        "provisioner",
        "connection",
        "providers",
        "source",
        "version",
    }
)
# A resource's own meta-arguments: source, version and providers belong to module calls only, and
# resources have arguments of those names (aws_pipes_pipe.source, aws_s3_object.source).
RESOURCE_META_ARGS = META_ARGS - {"source", "version", "providers"}
MAX_INSTANCES = 10_000
MAX_MODULE_DEPTH = 64
SKIP_DIRS = frozenset({".terraform", ".git", "node_modules", ".venv", "__pycache__"})


@dataclass
class ProviderConfig:
    """One provider configuration as seen from inside a module instance."""

    key: str  # how users name it: "aws", "aws.us", "module.store:aws"
    provider: str  # provider name: "aws"
    region: Any  # value, Unknown, or None when the block sets none
    hops: tuple[Hop, ...]
    default_tags: Any
    file: str | None
    line: int | None
    implicit: bool = False
    profile: Any = None  # a shared-config profile the provider reads (its region may come from it)
    # the region every resource without its own takes from it: one object for all of them
    inherited: RegionInfo | None = field(default=None, repr=False, compare=False)


def _instance_key(key: Any) -> str:
    return f'["{key}"]' if isinstance(key, str) else f"[{key}]"


class ModuleInstance(Scope):
    """One instance of a module (the root, ``module.a`` or ``module.a["k"]``): its names' meanings."""

    def __init__(
        self,
        parser: RootEvaluation,
        mod: ModuleDef,
        prefix: str,
        variables: dict[str, VarValue],
        providers: dict[str, ProviderConfig],
        ancestry: tuple[Path, ...],
    ) -> None:
        self.p = parser
        self.budget = parser.budget  # one evaluation budget for the whole root module
        self.mod = mod
        self.prefix = prefix  # "" or "module.a." style, ready to prepend
        self.vars = variables
        self.providers = providers
        self.ancestry = ancestry
        self._locals = LocalValues()
        self._children: dict[str, dict[Any, ModuleInstance] | Unknown] = {}
        self._outputs: dict[str, Any] = {}
        # each resource's (and data source's) instances, and each instance's configured
        # arguments: evaluated once, for the resource itself and for every reference to it
        self._instances: dict[str, list[tuple[Any, dict[str, Any]]]] = {}
        self._configured: dict[str, tuple[dict[str, Any], dict[str, int]] | None] = {}
        # the value of each resource with count/for_each as a whole (``resource_value``), once
        # all its instances' arguments are evaluated: one rebuild of every instance per
        # reference made N references to N instances (``aws_s3_bucket.b[each.key].id``) take
        # N x N steps
        self._values: dict[str, tuple[Located, Any]] = {}
        for located in mod.providers:
            cfg = self._provider_config(located)
            providers[cfg.key.split(":", 1)[-1]] = cfg

    @property
    def module_path(self) -> str:
        return self.prefix[:-1] if self.prefix else ""

    # -- Scope ------------------------------------------------------------
    def variable(self, name: str, ev: Evaluator) -> tuple[Any, tuple[Hop, ...]]:
        vv = self.vars.get(name)
        if vv is None:
            return Unknown(f"var.{name} is not declared in {self.mod.dir.name}", error=True), ()
        return vv.value, vv.hops

    def declares(self, kind: str, name: str) -> bool | None:
        if kind == "var":
            return name in self.mod.variables
        if kind == "local":
            return name in self.mod.locals
        return None

    def local(self, name: str, ev: Evaluator) -> tuple[Any, tuple[Hop, ...]]:
        la = self.mod.locals.get(name)
        if la is None:
            return Unknown(f"local.{name} is not declared", error=True), ()
        return self._locals.evaluate(self, name, la)

    def traverse(self, kind: str, parts: tuple[str, ...], ev: Evaluator) -> Any:
        if kind == "path":
            if parts[0] == "module":
                return self.p.ctx.display(self.mod.dir)
            if parts[0] == "root":
                return self.p.ctx.display(self.p.root_dir)
            if parts[0] == "cwd":
                return str(self.p.ctx.cwd)
            return Unknown(f"path.{parts[0]}", error=True)
        if kind == "terraform":
            if parts[0] == "workspace":
                value, hop = self.p.workspace()
                if ev.trace is not None:
                    ev.trace.append(hop)
                return value
            return Unknown(f"terraform.{parts[0]}")
        if kind == "data":
            if len(parts) < 2:
                return None
            return self._data_source(parts[0], parts[1])
        if kind == "module":
            return self._module_value(parts)
        if kind == "resource":
            if len(parts) < 2:
                return None
            rtype, name = parts[0], parts[1]
            located = self.mod.resource_block(rtype, name)
            if located is None:
                return Unknown(
                    f"{rtype}.{name} is not declared",
                    frozenset({f"{self.prefix}{rtype}.{name}"}),
                    error=True,
                )
            return self.resource_value(located, f"{self.prefix}{rtype}.{name}")
        return Unknown(f"{kind}.{'.'.join(parts)} is not known before apply")

    # -- resources as values ----------------------------------------------------
    def instances_of(self, located: Located, base: str) -> list[tuple[Any, dict[str, Any]]]:
        """The instance keys and ``count``/``each`` bindings of a resource or data block."""
        found = self._instances.get(base)
        if found is None:
            found = self._instances[base] = self.p.expansion(
                self, located.block, located.file, base
            )
        return found

    def configured(
        self, address: str, located: Located, bindings: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, int]]:
        """An instance's arguments as its configuration sets them (and their nested blocks'
        lines), evaluated once in this module instance."""
        if address in self._configured:
            done = self._configured[address]
            if done is None:  # it refers to itself: Terraform rejects the cycle
                return {}, {}
            return done
        self._configured[address] = None
        lines: dict[str, int] = {}
        ev = Evaluator(self).with_bindings(bindings)
        attrs = evaluate_body(ev, located.block.body, "", lines, top=True)
        self._configured[address] = (attrs, lines)
        return attrs, lines

    def resource_value(self, located: Located, base: str) -> Any:
        """``aws_s3_bucket.b`` as a value: one instance object, a list (``count``) or a map
        (``for_each``) of them; unknown, naming the resource, when its expansion is unknown.

        The list or map of a resource with ``count``/``for_each`` is made once and then shared
        by every reference (one rebuild of every instance per reference made N references to N
        instances take N x N steps), but only once no instance's arguments were still being
        evaluated when it was made (an instance that refers to its own resource sees itself
        without arguments, and later references see it whole, as when it was made afresh for
        each). Nothing changes it afterwards: a block of an argument's name appends to a copy of
        the argument's list (``evaluate_body``)."""
        cached = self._values.get(base)
        if cached is not None and cached[0] is located:
            return cached[1]
        instances = self.instances_of(located, base)
        if any(key == "*" for key, _ in instances):
            return Unknown(f"the instances of {base} are not known before apply", frozenset({base}))
        block = located.block
        values = {key: self._instance_value(located, base, key, b) for key, b in instances}
        value: Any
        if block.body.attr("count") is not None:
            value = [values[k] for k in sorted(values)]
        elif block.body.attr("for_each") is not None:
            value = {k: values[k] for k in sorted(values)}
        else:
            value = values.get(None, Unknown(f"{base} is not deployed", frozenset({base})))
        if (
            values
            and isinstance(value, (list, dict))
            and not isinstance(value, ResourceValue)
            and all(
                self._configured.get(base + (_instance_key(k) if k is not None else "")) is not None
                for k in values
            )
        ):
            self._values[base] = (located, value)
        return value

    def _instance_value(
        self,
        located: Located,
        base: str,
        key: Any,
        bindings: dict[str, Any],
    ) -> ResourceValue:
        address = base + (_instance_key(key) if key is not None else "")
        attrs, _ = self.configured(address, located, bindings)

        def provenance(name: str) -> tuple[Hop, ...]:
            attr = located.block.body.attr(name)
            if attr is None or name not in attrs:  # computed: the provider sets it at apply
                what = f"{address}.{name} (not set in its configuration: known only after apply)"
                return (Hop(what, located.file, located.block.line),)
            trace: list[Hop] = []
            Evaluator(self, trace).with_bindings(bindings).evaluate(attr.expr)
            shown = None if trace else render_value(attrs[name])
            return (Hop(f"{address}.{name}", located.file_of(name), attr.line, shown), *trace)

        where = f"{located.file}:{located.block.line}"
        return ResourceValue(address, _owned(attrs, address), provenance, where)

    # -- providers ----------------------------------------------------------
    def _provider_config(self, located: Located) -> ProviderConfig:
        block = located.block
        local_name = block.labels[0]
        name = self.mod.provider_types.get(local_name, local_name)  # required_providers type
        alias_attr = block.body.attr("alias")
        alias = None
        if alias_attr is not None:
            a = Evaluator(self).evaluate(alias_attr.expr)
            alias = a if isinstance(a, str) else None
        key = f"{local_name}.{alias}" if alias else local_name
        shown = f"{self.module_path}:{key}" if self.module_path else key
        facts = self.p.catalogue.facts(name)
        region_name = facts.provider_region_argument(name) if facts else "region"
        region_attr = block.body.attr(region_name)
        region: Any = None
        trace: list[Hop] = []
        if region_attr is not None:
            region = Evaluator(self, trace).evaluate(region_attr.expr)
        tags: Any = None
        if facts is not None and len(facts.default_tags_path) == 1:  # an argument: default_labels
            ta = block.body.attr(facts.default_tags_path[0])
            if ta is not None:
                tags = Evaluator(self).evaluate(ta.expr)
        elif facts is not None and facts.default_tags_path:  # a block's argument: default_tags.tags
            block_name, attr_name = facts.default_tags_path[0], facts.default_tags_path[-1]
            for dt in block.body.blocks_of(block_name):
                ta = dt.body.attr(attr_name)
                if ta is not None:
                    tags = Evaluator(self).evaluate(ta.expr)
        hop = Hop(
            f"provider {shown}",
            located.file_of(region_name),
            (region_attr.line if region_attr else block.line),
            render_value(region) if region_attr is not None and not trace else None,
        )
        profile_attr = block.body.attr("profile")
        profile = Evaluator(self).evaluate(profile_attr.expr) if profile_attr else None
        return ProviderConfig(
            shown, name, region, (hop, *trace), tags, located.file, block.line, profile=profile
        )

    def provider_for(self, key: str) -> ProviderConfig:
        cfg = self.providers.get(key)
        if cfg is not None:
            return cfg
        local_name = key.split(".", 1)[0]
        name = self.mod.provider_types.get(local_name, local_name)
        shown = f"{self.module_path}:{key}" if self.module_path else key
        cfg = ProviderConfig(
            shown,
            name,
            None,
            (Hop(f"provider {shown} (no configuration block)"),),
            None,
            None,
            None,
            implicit=True,
        )
        self.providers[key] = cfg
        return cfg

    # -- data sources ------------------------------------------------------
    def _data_source(self, dtype: str, name: str) -> Any:
        located = self.mod.data.get((dtype, name))
        if located is None:
            return Unknown(f"data.{dtype}.{name} is not declared", error=True)
        if dtype.endswith("_region") and dtype.split("_", 1)[0] in self.p.catalogue.providers:
            key = self._provider_key_of(located.block, dtype)
            info = self.p.resolve_region(self, key, None, dtype)
            if info.region is None:
                return Unknown(f"data.{dtype}.{name}: {info.unknown_reason}")
            return {"name": info.region, "id": info.region, "region": info.region}
        # its arguments are what the configuration sets; what the provider reads is unknown
        return self.resource_value(located, f"{self.prefix}data.{dtype}.{name}")

    def _provider_key_of(self, block: Block, rtype: str) -> str:
        pa = block.body.attr("provider")
        if pa is not None:
            key = provider_ref(pa.expr)
            if key:
                return key
        return rtype.split("_", 1)[0]

    # -- modules -----------------------------------------------------------
    def _module_value(self, parts: tuple[str, ...]) -> Any:
        found = self._instance(parts)
        if not isinstance(found, tuple):
            return found  # an error, or None: more parts are needed
        child, rest = found
        if not rest:
            return None
        value = child.output(rest[0])
        return NULL if value is None else value  # a null output, not a partial traversal

    def _instance(
        self, parts: tuple[str, ...]
    ) -> tuple[ModuleInstance, tuple[str, ...]] | Unknown | None:
        """The module instance ``module.name`` or ``module.name[key]`` names, with the parts
        after it; None when it needs a key still (count or for_each, no key yet)."""
        call = self.mod.module_call(parts[0])
        if call is None:
            return Unknown(f"module.{parts[0]} is not declared", error=True)
        children = self.children(call)
        if isinstance(children, Unknown):
            return children
        expanded = (
            call.block.body.attr("count") is not None
            or call.block.body.attr("for_each") is not None
        )
        rest = parts[1:]
        if expanded:
            if not rest:
                return None
            if not rest[0].startswith("["):
                return Unknown(f"module.{parts[0]} has count/for_each; index it first", error=True)
            raw = rest[0][1:-1]
            key: Any = (
                raw[1:-1]
                if raw.startswith('"')
                else (int(raw) if raw.lstrip("-").isdigit() else raw)
            )
            child = children.get(key)
            if child is None:
                return Unknown(f"module.{parts[0]}{rest[0]} does not exist", error=True)
            rest = rest[1:]
        else:
            child = children.get(None)
            if child is None:
                return Unknown(f"module.{parts[0]} is not deployed")
        return child, rest

    def module_object(self, parts: tuple[str, ...]) -> Any:
        found = self._instance(parts)
        if isinstance(found, tuple):
            child, rest = found
            return child.outputs_object() if not rest else None
        if found is not None:
            return found  # an error or an unknown
        call = self.mod.module_call(parts[0])
        children = self.children(call) if call is not None and len(parts) == 1 else None
        if call is None or not isinstance(children, dict):
            return None
        if call.block.body.attr("count") is not None:  # a list of the instances' objects
            return [children[k].outputs_object() for k in sorted(children, key=int)]
        return {str(k): children[k].outputs_object() for k in sorted(children, key=str)}

    def outputs_object(self) -> dict[str, Any]:
        """This instance as ``module.name`` gives it: every output, by name."""
        return {name: self.output(name) for name in sorted(self.mod.outputs)}

    def output(self, name: str) -> Any:
        if name in self._outputs:
            return self._outputs[name]
        la = self.mod.outputs.get(name)
        if la is None:
            return Unknown(f"output {name} is not declared in {self.mod.dir.name}", error=True)
        self._outputs[name] = Unknown(f"output {name} refers to itself")
        value = Evaluator(self).evaluate(la.attr.expr)
        self._outputs[name] = value
        return value

    def module_keys(self, name: str) -> list[Any] | Unknown | None:
        call = self.mod.module_call(name)
        if call is None or call.block.body.attr("count") is None:
            return None  # undeclared, or for_each (a map: a splat over it is not a list of them)
        children = self.children(call)
        if isinstance(children, Unknown):
            return children
        return sorted(children)

    def children(self, call: Located) -> dict[Any, ModuleInstance] | Unknown:
        """Instances of a module call (key None when it has neither count nor for_each)."""
        name = call.block.labels[0]
        if name in self._children:
            return self._children[name]
        self._children[name] = Unknown(f"module.{name} depends on itself")
        result = self.p.instantiate_call(self, call)
        self._children[name] = result
        return result


class RootEvaluation:
    """Evaluates one root module (and the local modules it calls) into resources."""

    def __init__(
        self,
        parser: TerraformParser,
        ctx: ParseContext,
        root_dir: Path,
        modules: Callable[[Path], ModuleDef],
        out: ParseOutput,
    ) -> None:
        self.parser = parser
        self.ctx = ctx
        self.catalogue: Catalogue = ctx.catalogue
        self.root_dir = root_dir
        self.modules = modules
        self.out = out
        self.gaps: list[Gap] = []
        self.budget = Budget()
        self.remote_dirs = self._remote_module_dirs()
        self._workspace: tuple[Any, Hop] | None = None
        self.comment_windows = CommentWindows()

    def workspace(self) -> tuple[Any, Hop]:
        """The selected workspace (``files.selected_workspace``), read once per root."""
        if self._workspace is None:
            self._workspace = selected_workspace(
                self.root_dir,
                dict(self.ctx.settings.environment),
                self.ctx.reads,
                self.ctx.display,
                None if self.ctx.settings.allow_outside_root else self._outside,
            )
        return self._workspace

    def _remote_module_dirs(self) -> dict[str, Path]:
        manifest = self.root_dir / ".terraform" / "modules" / "modules.json"
        self.ctx.reads.add(real(manifest))
        if not manifest.is_file():
            return {}
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            return {
                m["Key"]: (self.root_dir / m["Dir"])
                for m in data.get("Modules", [])
                if m.get("Key")
            }
        except (OSError, ValueError, TypeError, KeyError):
            self.out.errors.append(
                ScanIssue(self.ctx.display(manifest), None, "unreadable modules.json")
            )
            return {}

    def instance(self, mod: ModuleDef, values: dict[str, VarValue]) -> ModuleInstance:
        """The root module instance of ``mod`` with these variable values, not yet walked: a
        wrapper (a Terragrunt unit) that assembled the root module itself, or that only needs
        its outputs (another unit's ``dependency`` block), starts here."""
        return ModuleInstance(self, mod, "", values, {}, (real(mod.dir),))

    def run(self) -> None:
        mod = self.modules(self.root_dir)
        values, errors = root_variable_values(
            mod,
            dict(self.ctx.settings.environment),
            self.ctx.settings.var_inputs,
            self.ctx.display,
            self.ctx.cwd,
            self.ctx.reads,
            self.parser.load,
            None if self.ctx.settings.allow_outside_root else self._outside,
            self.ctx.settings.max_file_size,
        )
        for e in errors:
            self.out.errors.append(ScanIssue(e.file, e.line, e.message))
        root = ModuleInstance(self, mod, "", values, {}, (real(self.root_dir),))
        self.walk(root, module_key="")

    def _outside(self, path: Path) -> bool:
        """Whether a file resolves outside every scanned path (a symlink out of the tree)."""
        try:
            resolved = real(path)
        except (OSError, RuntimeError):
            return True
        return not self.ctx.inside(resolved)

    def walk(self, inst: ModuleInstance, module_key: str) -> None:
        for located in inst.mod.resources:
            self.expand_resource(inst, located)
        for call in inst.mod.module_calls:
            children = inst.children(call)
            if isinstance(children, Unknown):
                continue
            for child in children.values():
                key = f"{module_key}.{call.block.labels[0]}" if module_key else call.block.labels[0]
                self.walk(child, key)

    # -- module calls --------------------------------------------------------
    def instantiate_call(
        self, parent: ModuleInstance, call: Located
    ) -> dict[Any, ModuleInstance] | Unknown:
        block = call.block
        name = block.labels[0]
        address = f"{parent.prefix}module.{name}"
        src_attr = block.body.attr("source")
        source = Evaluator(parent).evaluate(src_attr.expr) if src_attr else None
        if not isinstance(source, str):
            self.out.errors.append(
                ScanIssue(call.file, block.line, f"module {name!r} has no literal source")
            )
            return Unknown("module source unknown")
        child_dir = self._module_dir(parent, name, source, call, address)
        if child_dir is None:
            return Unknown(f"module {name} was not loaded")
        if child_dir in parent.ancestry:
            chain = " -> ".join(self.ctx.display(p) for p in (*parent.ancestry, child_dir))
            self.out.errors.append(ScanIssue(call.file, block.line, f"module cycle: {chain}"))
            return Unknown("module cycle")
        if len(parent.ancestry) > MAX_MODULE_DEPTH:
            self.out.errors.append(ScanIssue(call.file, block.line, "modules nested too deeply"))
            return Unknown("module depth")
        mod = self.modules(child_dir)
        instances: dict[Any, ModuleInstance] = {}
        for key, bindings in self.expansion(parent, block, call.file, address):
            ev = Evaluator(parent).with_bindings(bindings)
            prefix = f"{address}{_instance_key(key) if key is not None else ''}."
            instances[key] = self._child(parent, mod, call, prefix, ev, child_dir)
        return instances

    def _child(
        self,
        parent: ModuleInstance,
        mod: ModuleDef,
        call: Located,
        prefix: str,
        ev: Evaluator,
        child_dir: Path,
    ) -> ModuleInstance:
        block = call.block
        values: dict[str, VarValue] = {}
        args = block.body.attrs_by_name()
        for vname, var in mod.variables.items():
            arg = args.get(vname)
            if arg is not None and vname not in META_ARGS:
                trace: list[Hop] = []
                v = (
                    Evaluator(parent, trace)
                    .with_bindings(ev.bindings[-1] if ev.bindings else {})
                    .evaluate(arg.expr)
                )
                # the same big value given to every instance (``all = local.map`` in a module
                # with for_each) is displayed once, not once per instance
                shown = self.budget.recall(
                    "render_value", v, None, functools.partial(render_value, v)
                )
                values[vname] = VarValue(
                    v, (Hop(f"{prefix}var.{vname}", call.file, arg.line, shown), *trace)
                )
                continue
            default = var.block.body.attr("default")
            if default is not None:
                v = Evaluator(Scope()).evaluate(default.expr)
                values[vname] = VarValue(
                    v, (Hop(f"{prefix}var.{vname}", var.file, default.line, render_value(v)),)
                )
            else:
                values[vname] = VarValue(
                    Unknown(f"{prefix}var.{vname} is not set by the module call"), ()
                )
        values = {
            n: _typed(
                self.budget, non_null(f"{prefix}var.{n}", vv, mod.variables[n]), mod.variables[n]
            )
            for n, vv in values.items()
        }
        providers: dict[str, ProviderConfig] = {}
        pmap = block.body.attr("providers")
        if pmap is not None:
            for inner, outer in (passed_providers(pmap.expr) or {}).items():
                providers[inner] = parent.provider_for(outer)
        else:
            for key, cfg in parent.providers.items():
                if "." not in key:
                    providers[key] = cfg
        return ModuleInstance(self, mod, prefix, values, providers, (*parent.ancestry, child_dir))

    def _module_dir(
        self, parent: ModuleInstance, name: str, source: str, call: Located, address: str
    ) -> Path | None:
        if source.startswith(("./", "../")) or source in (".", ".."):
            try:
                target = real(parent.mod.dir / source)
            except (OSError, RuntimeError):  # a symbolic link loop
                self.out.errors.append(
                    ScanIssue(
                        call.file,
                        call.block.line,
                        f"module {name!r} source {source!r} is a symbolic link loop",
                    )
                )
                return None
            if not self.ctx.settings.allow_outside_root and not self.ctx.inside(target):
                self.out.errors.append(
                    ScanIssue(
                        call.file,
                        call.block.line,
                        f"module {name!r} source {source!r} is outside the scanned directory "
                        "(use --allow-outside-root to follow it)",
                    )
                )
                return None
            if not target.is_dir():
                self.out.errors.append(
                    ScanIssue(
                        call.file,
                        call.block.line,
                        f"module {name!r} source {source!r} does not exist",
                    )
                )
                return None
            return target
        manifest_key = ".".join(p for p in address.replace("module.", "").split(".") if p)
        manifest_key = _strip_keys(manifest_key)
        if manifest_key in self.remote_dirs and self.remote_dirs[manifest_key].is_dir():
            target = real(self.remote_dirs[manifest_key])
            if self.ctx.settings.allow_outside_root or self.ctx.inside(target):
                return target
            self.out.errors.append(
                ScanIssue(
                    call.file,
                    call.block.line,
                    f"module {name!r}: modules.json places it outside the scanned directory "
                    "(use --allow-outside-root to follow it)",
                )
            )
            return None
        is_mapped, mapped = self._mapped_source(name, source, call)
        if is_mapped:
            return mapped
        self.gaps.append(
            Gap(
                address=address,
                message=f"module {name!r} comes from {source!r}, which ciiguard does not download; "
                "its resources were not checked",
                fix="run 'terraform init' so .terraform/modules/modules.json lists the module, map "
                "the source to a directory in the config file's [module_sources], or scan the "
                "plan JSON",
                file=call.file,
                line=call.block.line,
            )
        )
        return None

    def _mapped_source(self, name: str, source: str, call: Located) -> tuple[bool, Path | None]:
        """Whether ``[module_sources]`` maps a remote source, and the directory (its
        ``//subdirectory`` appended), read like a local module: within the scanned paths unless
        ``--allow-outside-root``. (True, None) when it is mapped but refused (reported)."""
        key, subdir = module_source_key(source)
        directory = self.ctx.settings.module_sources.get(key)
        if directory is None:
            return False, None
        base = Path(directory)
        target = base / subdir if subdir else base
        where = f"module {name!r} source {source!r} (mapped to {self.ctx.display(target)})"
        try:
            target = real(target)
        except (OSError, RuntimeError):
            self.out.errors.append(
                ScanIssue(call.file, call.block.line, f"{where} is a symbolic link loop")
            )
            return True, None
        if not self.ctx.settings.allow_outside_root and not self.ctx.inside(target):
            why = (
                f"{where} is outside the scanned directory (use --allow-outside-root to follow it)"
            )
            self.out.errors.append(ScanIssue(call.file, call.block.line, why))
            return True, None
        if not target.is_dir():
            self.out.errors.append(ScanIssue(call.file, call.block.line, f"{where} does not exist"))
            return True, None
        return True, target

    # -- expansion ---------------------------------------------------------
    def expansion(
        self, inst: ModuleInstance, block: Block, file: str, address: str
    ) -> list[tuple[Any, dict[str, Any]]]:
        """The instance keys and bindings of ``count``/``for_each``, converted as Terraform
        converts them (``count = "2"`` is 2). A value Terraform would reject is an error, and
        the block still has one instance of unknown key (``["*"]``): it is never dropped from
        the report, and where its unknown expansion decides a verdict the result is CII003."""
        count_attr = block.body.attr("count")
        each_attr = block.body.attr("for_each")
        ev = Evaluator(inst)
        if count_attr is not None:
            n = ev.evaluate(count_attr.expr)
            if is_unknown(n):
                return _unknown_count(f"count of {address} is unknown: {n.reason}", n)
            whole = _count_value(n)
            if whole is None:
                why = (
                    f"count of {address} is not a whole number of zero or more ({render_value(n)})"
                )
                self.out.errors.append(ScanIssue(file, count_attr.line, why))
                return _unknown_count(why)
            if whole > MAX_INSTANCES:
                self.gaps.append(
                    Gap(
                        address,
                        f"count = {whole} exceeds ciiguard's limit of {MAX_INSTANCES} instances",
                        "lower the count or scan the plan JSON",
                        file,
                        count_attr.line,
                    )
                )
                return []
            return [(i, {"count": {"index": i}}) for i in range(whole)]
        if each_attr is not None:
            coll = ev.evaluate(each_attr.expr)
            u = deep_unknown(coll)
            if u is not None and not isinstance(coll, dict):
                return _unknown_each(f"for_each of {address} is unknown: {u.reason}", u)
            if isinstance(coll, dict):
                items = [(k, coll[k]) for k in sorted(coll)]
            elif isinstance(coll, TfSet) and all(isinstance(x, str) for x in coll):
                items = [(x, x) for x in sorted(set(coll))]
            elif isinstance(coll, list) and not coll:
                # ``x != null ? toset(x) : []``: Terraform types the null ``toset(x)`` set(string),
                # so the ``[]`` it chooses is an empty set; ciiguard's nulls carry no type. Empty,
                # it makes no instance either way (a literal ``[]``, which Terraform rejects,
                # deploys nothing either).
                items = []
            else:
                kind = "a set of other values" if isinstance(coll, TfSet) else render_value(coll)
                why = (
                    f"for_each of {address} must be a map or a set of strings, not {kind} "
                    "(a list becomes a set with toset())"
                )
                self.out.errors.append(ScanIssue(file, each_attr.line, why))
                return _unknown_each(why)
            if len(items) > MAX_INSTANCES:
                self.gaps.append(
                    Gap(
                        address,
                        f"for_each has {len(items)} elements, over ciiguard's limit",
                        "split the resource or scan the plan JSON",
                        file,
                        each_attr.line,
                    )
                )
                return []
            return [(k, {"each": {"key": k, "value": v}}) for k, v in items]
        return [(None, {})]

    def expand_resource(self, inst: ModuleInstance, located: Located) -> None:
        block = located.block
        rtype, name = block.labels[0], block.labels[1]
        base = f"{inst.prefix}{rtype}.{name}"
        for key, bindings in inst.instances_of(located, base):
            address = base + (_instance_key(key) if key is not None else "")
            ev = Evaluator(inst).with_bindings(bindings)
            comments = self.comments_near(inst.mod, located)
            attrs, block_lines = inst.configured(address, located, bindings)
            kind, meta = rtype, {}
            if rtype in AZAPI_TYPES:  # an ARM resource by type and body: check it as its type
                arm = translate(attrs)
                if arm is not None:
                    kind, attrs = arm[0].type, arm[1]
                    meta = {"arm_type": arm[0].arm_type, "written_as": rtype}
            provider_key = inst._provider_key_of(block, rtype)
            region = self.resolve_region(inst, provider_key, (ev, block, located), rtype)
            cfg = inst.provider_for(provider_key)
            facts = self.catalogue.facts(cfg.provider)
            tags = merge_tags(
                cfg.default_tags, facts.tags_of(kind, attrs) if facts else attrs.get("tags")
            )
            self.out.resources.append(
                Resource(
                    address=address,
                    type=kind,
                    name=name,
                    provider=self.catalogue.canonical_provider(cfg.provider),
                    provider_config=cfg.key,
                    region=region,
                    location=Location.UNKNOWN,
                    tags=tags,
                    attributes=attrs,
                    file=located.file,
                    line=block.line,
                    input="terraform",
                    module=inst.module_path,
                    root=self.ctx.display(self.root_dir),
                    meta={
                        "block_lines": block_lines,
                        "end_line": block.end_line,
                        "comments": comments,
                        **meta,
                    },
                )
            )

    def comments_near(self, mod: ModuleDef, located: Located) -> tuple[tuple[int, str], ...]:
        """Comments on the lines just above a block and inside it (for inline suppressions)."""
        return block_comments(self.comment_windows, mod.files, located)

    # -- regions -------------------------------------------------------------
    def resolve_region(
        self,
        inst: ModuleInstance,
        provider_key: str,
        own: tuple[Evaluator, Block, Located] | None,
        rtype: str,
    ) -> RegionInfo:
        cfg = inst.provider_for(provider_key)
        facts = self.catalogue.facts(cfg.provider)
        if own is not None and facts is not None:
            ev, block, located = own
            for arg in facts.region_arguments:
                a = block.body.attr(arg)
                if a is None:
                    continue
                trace: list[Hop] = []
                value = (
                    Evaluator(inst, trace)
                    .with_bindings(ev.bindings[-1] if ev.bindings else {})
                    .evaluate(a.expr)
                )
                hop = Hop(
                    f"{arg} argument of {block.labels[0]}.{block.labels[1]}",
                    located.file_of(arg),
                    a.line,
                    render_value(value) if not trace else None,
                )
                if value is None:
                    continue
                return region_info(value, (hop, *trace), f"{arg} argument is unknown")
        if cfg.region is not None and cfg.region != "":
            return provider_region(cfg)
        if facts is not None:  # (a region of "" is unset to the provider, as in Pulumi's inputs)
            if (
                facts.default_region
                and cfg.profile is not None
                and not any(self.ctx.settings.environment.get(v) for v in facts.environment)
            ):
                return RegionInfo(  # the provider then takes the region from that profile
                    None,
                    cfg.hops,
                    f"provider {cfg.key} sets no region but reads profile "
                    f"{render_value(cfg.profile)}, whose region ciiguard does not read",
                )
            found = environment_or_default(facts, self.ctx.settings.environment, cfg.hops)
            if found is not None:
                return found
            return RegionInfo(
                None,
                cfg.hops,
                f"provider {cfg.key} sets no region{unset_variables(facts)}",
            )
        return RegionInfo(
            None, cfg.hops, f"ciiguard has no region catalogue for provider {cfg.provider!r}"
        )


def _count_value(n: Any) -> int | None:
    """``count`` converted to a number as Terraform converts it: a whole number of zero or
    more (``"2"`` converts, ``true`` does not), else None."""
    try:
        value = to_number(n)
    except FunctionError:
        return None
    whole = numbers.whole(value)
    return whole if whole is not None and whole >= 0 else None


def _unknown_count(why: str, origin: Unknown | None = None) -> list[tuple[Any, dict[str, Any]]]:
    refs = origin.refs if origin else frozenset()
    return [("*", {"count": {"index": Unknown(why, refs, bool(origin and origin.error))}})]


def _unknown_each(why: str, origin: Unknown | None = None) -> list[tuple[Any, dict[str, Any]]]:
    refs = origin.refs if origin else frozenset()
    unknown = Unknown(why, refs, bool(origin and origin.error))
    return [("*", {"each": {"key": unknown, "value": unknown}})]


def _owned(attrs: dict[str, Any], address: str) -> dict[str, Any]:
    """An instance's configured arguments as other expressions see them: an argument that is
    itself unknown still names the instance (``aws_s3_bucket.b.bucket`` is b's bucket)."""
    out = dict(attrs)
    for name, value in attrs.items():
        if isinstance(value, Unknown):
            out[name] = Unknown(value.reason, value.refs | {address}, value.error, (name,))
        elif isinstance(value, (list, dict)) and deep_unknown(value) is not None:
            out[name] = _owning(value, address)
    return out


def _owning(value: Any, address: str) -> Any:
    """``value`` with every Unknown in it naming ``address``; its lists and maps are new ones."""
    if isinstance(value, Unknown):
        return Unknown(value.reason, value.refs | {address}, value.error, value.path)
    if isinstance(value, list):
        return type(value)(_owning(v, address) for v in value)
    if isinstance(value, dict):
        return {k: _owning(v, address) for k, v in value.items()}
    return value


def _typed(budget: Budget, vv: VarValue, var: Located) -> VarValue:
    """``typed(vv, var)``. The conversion of a big value is made once and shared by the module
    instances given the same value (each of N instances converted a map of N); nothing changes it
    in place (see ``evaluate_body``)."""
    t = var.block.body.attr("type")
    if t is None or isinstance(vv.value, Unknown):
        return vv
    value, type_expr = vv.value, t.expr
    converted = budget.recall(
        "typed",
        value,
        type_expr,
        lambda: convert_to_type(value, type_expr),
    )
    if converted is value:
        return vv
    return VarValue(converted, vv.hops)


def _strip_keys(key: str) -> str:
    out = []
    depth = 0
    for ch in key:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def evaluate_body(
    ev: Evaluator, body: Body, path: str, lines: dict[str, int], top: bool = False
) -> dict[str, Any]:
    """Attributes and nested blocks (dynamic ones expanded) as a plain dict; blocks become lists."""
    out: dict[str, Any] = {}
    for a in body.attributes:
        if top and a.name in RESOURCE_META_ARGS:
            continue
        out[a.name] = settle(ev.evaluate(a.expr))
    if not body.blocks:
        return out
    # A block of an argument's name appends to the argument's list. That list may be a value
    # others hold (a local's, a variable's, another resource's argument): the blocks go into a
    # copy of it, this body's own, and no value is ever changed in place (values are shared:
    # remembered by the budget, a count/for_each resource's value made once).
    for name in {b.labels[0] if b.type == "dynamic" and b.labels else b.type for b in body.blocks}:
        given = out.get(name)
        if isinstance(given, list):
            out[name] = type(given)(given)
    for b in body.blocks:
        if top and b.type in ("lifecycle", "provisioner", "connection"):
            continue
        if b.type == "dynamic" and b.labels:
            _expand_dynamic(ev, b, path, lines, out)
            continue
        items = out.setdefault(b.type, [])
        if not isinstance(items, list):
            continue
        sub = f"{path}{b.type}[{len(items)}]"
        lines[sub] = b.line
        items.append(evaluate_body(ev, b.body, sub + ".", lines))
    return out


def _expand_dynamic(
    ev: Evaluator, b: Block, path: str, lines: dict[str, int], out: dict[str, Any]
) -> None:
    """The blocks of a ``dynamic`` block appended to ``out``'s list of its name."""
    name = b.labels[0]
    fe = b.body.attr("for_each")
    it_attr = b.body.attr("iterator")
    iterator = name
    if it_attr is not None and isinstance(it_attr.expr, Name):
        iterator = it_attr.expr.name
    content = next(iter(b.body.blocks_of("content")), None)
    items = out.setdefault(name, [])
    if fe is None or content is None or not isinstance(items, list):
        return
    coll = ev.evaluate(fe.expr)
    if isinstance(coll, Unknown):
        # How many blocks there are, and the iterator's key and value, are unknown: the content is
        # evaluated once with both unknown (CHOSEN: a destination taken from them is never the
        # resource the collection came from, ``evaluator.chosen``). What the content sets
        # without the iterator is known: a destination named there is where the data goes if
        # such a block exists (``x != null ? [true] : []`` guarding one destination).
        sub = f"{path}{name}[{len(items)}]"
        lines[sub] = b.line
        each = chosen(f'dynamic "{name}" for_each is unknown: {coll.reason}', coll)
        if coll.error:
            items.append(each)
            return
        inner = ev.with_bindings({iterator: {"key": each, "value": each}})
        items.append(evaluate_body(inner, content.body, sub + ".", lines))
        return
    if isinstance(coll, dict):
        pairs: list[tuple[Any, Any]] = [(k, coll[k]) for k in sorted(coll)]
    elif isinstance(coll, list):
        pairs = list(enumerate(coll))
    else:
        items.append(Unknown(f'dynamic "{name}" for_each is not a collection', error=True))
        return
    if len(pairs) > MAX_INSTANCES:  # never judge a silently truncated list of blocks
        lines[f"{path}{name}[{len(items)}]"] = b.line
        items.append(
            Unknown(
                f'dynamic "{name}" has {len(pairs)} elements, over ciiguard\'s limit of '
                f"{MAX_INSTANCES}"
            )
        )
        return
    for k, v in pairs:
        sub = f"{path}{name}[{len(items)}]"
        lines[sub] = content.line
        inner = ev.with_bindings({iterator: {"key": k, "value": v}})
        items.append(evaluate_body(inner, content.body, sub + ".", lines))


class TerraformParser:
    """Parser for Terraform configurations written in HCL (``*.tf``)."""

    name = "terraform"
    load: Callable[[Path], HclFile] | None = None  # set per scan: the cached, parallel loader

    def claims(self, path: Path) -> bool:
        return self.claims_name(path)

    @staticmethod
    def claims_name(path: Path) -> bool:
        return path.suffix == ".tf" or path.name.endswith(".tf.json")

    elsewhere: frozenset[Path] = frozenset()  # set per scan from ParseContext.wrapped_roots

    def _roots(self, dirs: list[Path], edges: Mapping[Path, list[Path]]) -> list[Path]:
        """Directories nobody calls are roots; so is every directory only reachable through a cycle.
        A directory another reader runs (a Terragrunt unit's, or its ``terraform.source``) is
        called by it: never a root here, and the modules it calls are not either.

        ``edges``: each directory's local module calls (``_local_calls``)."""
        called = {t for targets in edges.values() for t in targets} | self.elsewhere
        roots = [d for d in dirs if d not in called]
        seen: set[Path] = set()
        stack = [*roots, *(d for d in self.elsewhere if d in edges)]
        while stack:
            d = stack.pop()
            if d in seen:
                continue
            seen.add(d)
            stack.extend(t for t in edges.get(d, []) if t in edges)
        return roots + [d for d in dirs if d not in seen and d not in self.elsewhere]

    def parse(self, files: list[Path], ctx: ParseContext) -> ParseOutput:
        out = ParseOutput()
        by_name: dict[str, list[Path]] = {}  # (grouped by name first: no Path per file)
        for f in files:
            by_name.setdefault(os.path.dirname(f), []).append(f)
        by_dir: dict[Path, list[Path]] = {}
        for name, group in by_name.items():
            by_dir.setdefault(real_dir(name), []).extend(group)
        loader = HclLoader(ctx.read_bytes, ctx.display, ctx.settings.use_cache, ctx.settings.jobs)
        self.load = loader.load
        try:
            with one_writer():  # the parse cache's writes: one background child for the scan
                return self._parse(by_dir, ctx, loader, out)
        finally:
            self.load = None  # the syntax trees go with the loader: this parser outlives the scan

    def _parse(
        self,
        by_dir: dict[Path, list[Path]],
        ctx: ParseContext,
        loader: HclLoader,
        out: ParseOutput,
    ) -> ParseOutput:
        modules = ModuleReader(ctx, loader, out, by_dir)
        # directories another reader runs as (part of) a root module: Terragrunt units
        self.elsewhere = frozenset(ctx.wrapped_roots)

        def read(dirs: list[Path]) -> dict[Path, list[Path]]:
            """Parse these directories' files and tfvars; their local module calls."""
            loader.preload([*(f for d in dirs for f in by_dir[d]), *_tfvars(dirs)])
            return {d: _local_calls(modules(d), ctx.settings.module_sources) for d in dirs}

        dirs = sorted(by_dir)
        cache = _root_cache(ctx)
        done: Evaluated | None = None
        if cache is not None and not cache.empty:
            found = self._incremental(dirs, by_dir, read, ctx, modules, cache)
            if found is not None:
                roots, done, edges = found
        if done is None and _split_allowed(ctx, len(dirs)):
            roots, done, edges = _split(self, dirs, read, ctx, modules, out)
        elif done is None:
            edges = read(dirs)
            roots = self._roots(dirs, edges)
            done = self._evaluate(roots, ctx, modules)
        for d in roots:
            part, gaps, _ = done[d]
            out.resources.extend(part.resources)
            out.errors.extend(part.errors)
            out.warnings.extend(part.warnings)
            out.gaps.extend(gaps)
        if cache is not None:
            _keep(cache, ctx, by_dir, edges, roots, done, out.errors)
        return out

    def _incremental(
        self,
        dirs: list[Path],
        by_dir: Mapping[Path, list[Path]],
        read: Callable[[list[Path]], dict[Path, list[Path]]],
        ctx: ParseContext,
        modules: ModuleReader,
        cache: RootCache,
    ) -> tuple[list[Path], Evaluated, dict[Path, list[Path]]] | None:
        """Roots and their output, reading only directories whose files changed and evaluating
        only root modules that read something that changed (``cache.roots``). None when so much
        changed that the whole tree is better read afresh (in two processes)."""
        edges: dict[Path, list[Path]] = {}
        dirty: list[Path] = []
        paths = {str(d): d for d in dirs}  # the calls are mostly to these: no new Path objects
        for d in dirs:
            calls = cache.calls(str(d), [os.path.join(d, f.name) for f in by_dir[d]])
            if calls is None:
                dirty.append(d)
            else:
                edges[d] = [paths.get(t) or Path(t) for t in calls]
        if len(dirty) >= SPLIT_DIRS and _split_allowed(ctx, len(dirs)):
            return None
        edges.update(read(dirty))
        roots = self._roots(dirs, edges)
        done: Evaluated = {}
        todo = []
        for d in roots:
            shown = ctx.display(d)
            hit = cache.root(str(d), shown)
            if hit is None:
                todo.append(d)
                continue
            part = hit.part
            if hit.resolved is not None:  # the root's resources as the scan resolved them
                ctx.resolved_roots.add(shown)
                if hit.findings is not None and hit.summary is not None:
                    # and what the built-in policies found on them: read them when needed
                    ctx.known_findings[shown] = hit.findings
                    load = functools.partial(cache.load, hit)
                    ctx.deferred.append(DeferredRoot(shown, hit.summary, load))
                else:
                    part = dataclasses.replace(part, resources=cache.load(hit))
            done[d] = (part, hit.gaps, REUSED)
            ctx.read_names.update(hit.manifest)  # the whole-scan caches check them too
            ctx.digests.update(hit.manifest)
        done.update(self._evaluate(todo, ctx, modules))
        return roots, done, edges

    def _evaluate(
        self,
        roots: list[Path],
        ctx: ParseContext,
        modules: ModuleReader,
    ) -> Evaluated:
        """Each root module's output (resources, errors), gaps, and what it read: the paths a
        stored copy of the output depends on, or None when it must not be stored (it errored,
        or read a module that did, or a module through a symbolic link)."""
        done: Evaluated = {}
        for d in roots:
            part = ParseOutput()
            used: list[Path] = []

            def track(directory: Path, used: list[Path] = used) -> ModuleDef:
                used.append(directory)
                return modules(directory)

            errors_before = len(modules.out.errors)
            outer, ctx.reads = ctx.reads, set()  # what this root reads
            root = RootEvaluation(self, ctx, d, track, part)
            try:
                root.run()
            except RecursionError:
                part.errors.append(
                    ScanIssue(ctx.display(d), None, "configuration nested too deeply to evaluate")
                )
            except InputError as exc:
                part.errors.append(ScanIssue(exc.file, exc.line, exc.message))
            except FunctionError as exc:
                part.errors.append(ScanIssue(ctx.display(d), None, f"evaluation failed: {exc}"))
            finally:
                reads, ctx.reads = ctx.reads, outer
                outer.update(reads)
            clean = not part.errors and len(modules.out.errors) == errors_before
            done[d] = (part, root.gaps, modules.depends(d, used, reads) if clean else None)
        return done


class ModuleReader:
    """Module directories of one scan, each listed, parsed and indexed once (``ModuleDef``); read
    errors go to ``out``. ``claimed`` holds the files discovery gave the reader, by directory."""

    def __init__(
        self,
        ctx: ParseContext,
        loader: HclLoader,
        out: ParseOutput,
        claimed: Mapping[Path, list[Path]] | None = None,
    ) -> None:
        self.ctx = ctx
        self.loader = loader
        self.out = out
        self.claimed = claimed or {}
        self.cache: dict[Path, ModuleDef] = {}
        self.failed: set[Path] = set()  # directories whose reading reported an error
        self._paths: dict[Path, tuple[str, ...] | None] = {}  # see _module_paths

    def depends(self, root: Path, used: list[Path], reads: set[Path]) -> list[str] | None:
        """Everything a root module's output depends on: the listing and files of every module
        directory it used (its own included), and the other files it read (tfvars, var files,
        workspace, ``modules.json``). None when that cannot be told from paths alone: a module
        that failed to read, or one reached through a symbolic link (re-pointing the link
        changes the module without changing any file the entry would check)."""
        paths = {str(root)}
        for directory in set(used):
            found = self._module_paths(real(directory))
            if found is None:
                return None
            paths.update(found)
        paths.update(str(p) for p in reads)
        return sorted(paths)

    def _module_paths(self, target: Path) -> tuple[str, ...] | None:
        """A used module directory's part of ``depends`` (worked out once per directory: a
        shared module is used by every root of a monorepo)."""
        if target in self._paths:
            return self._paths[target]
        mod = self.cache.get(target)
        found: tuple[str, ...] | None = None
        if (
            mod is not None
            and target not in self.failed
            and not isinstance(_local_calls(mod, self.ctx.settings.module_sources), LinkedCalls)
        ):
            found = (str(target), *(os.path.abspath(f) for f in self.files(target)))
        self._paths[target] = found
        return found

    def files(self, directory: Path) -> list[Path]:
        """A directory's ``.tf``/``.tf.json`` files (an unreadable listing is an error)."""
        found = self.claimed.get(directory)
        if found is not None:
            return found
        self.ctx.reads.add(directory)  # a module directory outside the walk: its listing matters
        try:
            return sorted(
                p for p in directory.iterdir() if p.is_file() and TerraformParser.claims_name(p)
            )
        except OSError as exc:
            shown = self.ctx.display(directory)
            self.failed.add(directory)
            self.out.errors.append(
                ScanIssue(shown, None, f"cannot list module: {exc.strerror or exc}")
            )
            return []

    def __call__(self, directory: Path) -> ModuleDef:
        directory = real(directory)
        mod = self.cache.get(directory)
        if mod is None:
            tf = self.files(directory)
            self.loader.preload(tf)  # the directory as one group (one parse-cache entry)
            mod = load_module(directory, tf, self.loader.load)
            for e in mod.errors:
                self.out.errors.append(ScanIssue(e.file, e.line, e.message))
            if mod.errors:
                self.failed.add(directory)
            self.cache[directory] = mod
        return mod


def _tfvars(dirs: list[Path]) -> list[Path]:
    return [  # (sorted after the names are picked: comparing Paths is slow)
        p
        for d in dirs
        for p in sorted(
            q
            for q in d.iterdir()
            if q.name == "terraform.tfvars" or q.name.endswith(".auto.tfvars")
        )
    ]


# What ``_evaluate`` gives for each root: its output, its gaps, and the paths its output depends
# on (None: never stored; REUSED: it came from the per-root cache).
Evaluated = dict[Path, tuple[ParseOutput, list[Gap], "list[str] | None"]]
REUSED: list[str] = []


def _root_cache(ctx: ParseContext) -> RootCache | None:
    """The per-root cache of this scan, when the scan is cached at all (``ctx.cache_key``)."""
    if ctx.cache_key is None:
        return None
    from ciiguard.cache.roots import RootCache

    return RootCache(ctx.cache_key, ctx.digests)


def _keep(
    cache: RootCache,
    ctx: ParseContext,
    by_dir: Mapping[Path, list[Path]],
    edges: Mapping[Path, list[Path]],
    roots: list[Path],
    done: Evaluated,
    errors: list[ScanIssue],
) -> None:
    """Store what this scan read and evaluated without an error, for the next one."""
    failed = {e.file for e in errors}
    for d, files in by_dir.items():
        if str(d) in cache.dirs:
            continue  # unchanged: carried over as it was stored (``RootCache.calls``)
        calls = edges.get(d)
        if calls is None or isinstance(calls, LinkedCalls) or ctx.display(d) in failed:
            continue
        if failed and any(ctx.display(f) in failed for f in files):
            continue  # read again next time, so its errors are reported again
        cache.keep_dir(str(d), [os.path.join(d, f.name) for f in files], [str(t) for t in calls])
    for d in roots:
        part, gaps, paths = done[d]
        if paths is not None and paths is not REUSED:
            cache.keep_root(str(d), ctx.display(d), cache.manifest(paths), part, gaps)
    ctx.part_cache = cache  # saved by the scan, with the resolved resources


# -- splitting a big tree across two processes -------------------------------------------------
SPLIT_DIRS = 64  # module directories before a second process pays for itself


def _split_allowed(ctx: ParseContext, dirs: int) -> bool:
    from ciiguard.cache.store import can_fork

    return processes(ctx.settings.jobs) > 1 and dirs >= SPLIT_DIRS and can_fork()


def _split(
    parser: TerraformParser,
    dirs: list[Path],
    read: Callable[[list[Path]], dict[Path, list[Path]]],
    ctx: ParseContext,
    modules: ModuleReader,
    out: ParseOutput,
) -> tuple[list[Path], Evaluated, dict[Path, list[Path]]]:
    """Parse and evaluate with a forked child: each process reads every other directory and
    evaluates the roots among them; the child sends its module calls (so both know the roots)
    and then its roots' output. Forking before anything is parsed keeps copy-on-write cheap.
    Anything wrong with the child (it failed, died, or sent nothing readable): this process
    reads and evaluates the rest itself, so the answer never depends on the child."""
    from ciiguard.cache.store import adopt, child_exit, defer_background, fork, quiet, run_deferred

    theirs, mine = dirs[1::2], dirs[0::2]
    up_r, up_w = os.pipe()  # child -> parent: module calls, then the roots' output
    down_r, down_w = os.pipe()  # parent -> child: the roots
    pid = fork()
    if pid == 0:  # the child (if it fails, the parent does the work itself)

        def child() -> None:
            os.close(up_r)
            os.close(down_w)
            defer_background()  # its cache writes wait until its answer is sent
            with os.fdopen(up_w, "wb") as up, os.fdopen(down_r, "rb") as down:
                _send(up, read(theirs))
                wanted: list[Path] = _receive(down)
                own = set(theirs)
                ours = parser._evaluate([r for r in wanted if r in own], ctx, modules)
                _send(up, (ours, out.errors, ctx.reads, ctx.digests))
            quiet()  # from here on a cache writer, which may outlive the command
            run_deferred()

        child_exit(child)
    os.close(up_w)
    os.close(down_r)
    from_child = os.fdopen(up_r, "rb")
    to_child = os.fdopen(down_w, "wb")
    child_done: Evaluated | None = None
    done: Evaluated = {}
    edges: dict[Path, list[Path]] = {}
    roots: list[Path] = []
    try:
        edges = read(mine)
        try:
            edges.update(_receive(from_child))
            roots = parser._roots(dirs, edges)
            _send(to_child, roots)
            to_child.close()
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError):
            roots = []
        if roots:
            their_set = set(theirs)
            done.update(parser._evaluate([r for r in roots if r not in their_set], ctx, modules))
            try:
                child_done, errors, reads, digests = _receive(from_child)
            except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError):
                child_done = None
    finally:
        from_child.close()
        with contextlib.suppress(OSError):
            to_child.close()
        if child_done is None:
            import signal

            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError, InterruptedError):
                os.waitpid(pid, 0)
        else:
            adopt(pid)  # it writes its cache entries now, as a background writer
    if child_done is None:  # nothing usable from the child: the rest is read and done here
        edges.update(read(theirs))
        roots = parser._roots(dirs, edges)
        done = parser._evaluate(roots, ctx, modules)
    else:
        done.update(child_done)
        seen = set(out.errors)
        out.errors.extend(e for e in errors if e not in seen)
        ctx.reads.update(reads)
        ctx.digests.update(digests)
    return roots, done, edges


class LinkedCalls(list[Path]):
    """The local module calls of a directory where one goes through a symbolic link: re-pointing
    the link changes the call without changing a file, so they are never cached."""


def _local_calls(mod: ModuleDef, mapped: Mapping[str, str]) -> list[Path]:
    """Directories a module calls through literal local sources, or through remote sources
    ``[module_sources]`` maps to a directory (a module repository's examples calling it by its
    registry address: the module is then not a root of its own)."""
    out: list[Path] = []
    linked = False
    for call in mod.module_calls:
        src = call.block.body.attr("source")
        if src is not None and isinstance(src.expr, Literal) and isinstance(src.expr.value, str):
            s = src.expr.value
            target: Path | None = None
            if s.startswith(("./", "../")):
                target = mod.dir / s
            elif mapped:
                key, subdir = module_source_key(s)
                if key in mapped:
                    target = Path(mapped[key]) / subdir if subdir else Path(mapped[key])
            if target is not None:
                try:
                    resolved = real(target)
                except (OSError, RuntimeError):
                    linked = True
                    continue  # a symbolic link loop: reported when the call is evaluated
                linked = linked or str(resolved) != os.path.normpath(os.path.abspath(target))
                out.append(resolved)
    return LinkedCalls(out) if linked else out


def region_text(value: Any) -> str:
    try:
        return to_string(value)
    except FunctionError:
        return "?"

"""A small, total evaluator for the Terraform expression subset region and tag expressions use.

It never runs code: it walks ``hcl_ast`` nodes and returns a plain value or ``Unknown``. Whatever it
cannot decide (computed attributes, unsupported syntax, values only known after apply) is Unknown,
which policies treat as "cannot vouch for it" (fail-closed), never as "inside".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ciiguard.model import CHOSEN, Hop, Unknown
from ciiguard.parsers.terraform import numbers as num
from ciiguard.parsers.terraform.hcl.nodes import (
    BinaryOp,
    Call,
    Conditional,
    Expr,
    ForExpr,
    GetAttr,
    Hole,
    Index,
    Literal,
    Name,
    ObjectExpr,
    Splat,
    Template,
    TemplateFor,
    TemplateIf,
    TupleExpr,
    UnaryOp,
    Unsupported,
)
from ciiguard.parsers.terraform.lang.builtins import FUNCTIONS
from ciiguard.parsers.terraform.lang.functions import (
    ComputedBlock,
    FunctionError,
    NotDecided,
    TfSet,
    collection_in,
    computed,
    equal,
    is_number,
    make_set,
    nfc,
    to_bool,
    to_number,
    to_string,
    type_name,
    unify,
)

Value = Any
MAX_DEPTH = 200
MAX_COLLECTION = 100_000
# Work caps, so that input cannot demand unbounded work (nested for expressions over ranges
# multiply): evaluation steps of one expression, nested evaluations included, and of everything
# evaluated with one Budget (a whole root module). Past either, values are Unknown (fail-closed).
MAX_STEPS = 200_000
MAX_BUDGET = 10_000_000


# ``Budget`` remembers what it works out of collections of at least MEMO_MIN elements, for the
# last MEMO_SIZE of them
MEMO_MIN = 16
MEMO_SIZE = 64


class Budget:
    """Evaluation steps left for one configuration; shared through ``Scope.budget``.

    Also remembers, by identity, what was worked out of the last few big collections: a
    function call walked its whole argument each time (``deep_unknown``), so
    ``lookup(local.map, each.key, "")`` in each of N instances of a map of N took N x N steps;
    a module instance converted and displayed the value of each argument (``recall``). Values
    are never changed once made (a block of an argument's name appends to a copy of the
    argument's list: ``evaluate_body``), so what is remembered of one stays true.
    """

    __slots__ = ("_memo", "left")

    def __init__(self, steps: int = MAX_BUDGET) -> None:
        self.left = steps
        # (what, id(collection), id(other)) -> (the collection and other, kept alive so that
        # their ids are not reused; the result)
        self._memo: dict[tuple[str, int, int], tuple[Value, Value, Any]] = {}

    def recall(
        self,
        what: str,
        v: Value,
        other: Value,
        work: Callable[[], Any],
    ) -> Any:
        """``work()``, a function of ``what``, the value ``v`` and ``other`` alone: remembered
        when ``v`` is a big list or map."""
        if not isinstance(v, (list, dict)) or len(v) < MEMO_MIN:
            return work()
        memo = self._memo
        key = (what, id(v), id(other))
        hit = memo.get(key)
        if hit is not None and hit[0] is v and hit[1] is other:
            return hit[2]
        found = work()
        if len(memo) >= MEMO_SIZE:
            del memo[next(iter(memo))]  # the oldest
        memo[key] = (v, other, found)
        return found

    def deep_unknown(self, v: Value) -> Unknown | None:
        """``deep_unknown(v)``, remembered for a big list or map."""
        found: Unknown | None = self.recall("deep_unknown", v, None, lambda: deep_unknown(v))
        return found


class Namespace:
    """A partial traversal such as ``data.aws_region`` waiting for its next attribute."""

    __slots__ = ("kind", "parts")

    def __init__(self, kind: str, parts: tuple[str, ...]) -> None:
        self.kind = kind
        self.parts = parts


class _Null:
    """What ``Scope.traverse`` returns for a traversal whose value is null (a module output that
    is null): None there means "more parts are needed"."""

    __slots__ = ()


NULL = _Null()


class Scope:
    """What names mean in one module instance. Subclasses resolve var/local/resources/modules."""

    budget: Budget | None = None  # shared by every scope of one configuration, when set

    def variable(self, name: str, ev: Evaluator) -> tuple[Value, tuple[Hop, ...]]:
        return Unknown(f"var.{name} is not declared"), ()

    def local(self, name: str, ev: Evaluator) -> tuple[Value, tuple[Hop, ...]]:
        return Unknown(f"local.{name} is not declared"), ()

    def traverse(self, kind: str, parts: tuple[str, ...], ev: Evaluator) -> Value | None:
        """Resolve ``data.T.N``, ``module.M``, ``T.N`` (resources), ``path.*``, ``terraform.*``.

        Return None while more parts are needed, ``NULL`` for a value that is null.
        """
        return Unknown(f"{kind}.{'.'.join(parts)} is not known before apply")

    def declares(self, kind: str, name: str) -> bool | None:
        """Whether ``var.name`` / ``local.name`` is declared (None: this scope cannot tell).

        A reference to an undeclared name is a static error in Terraform: ``try`` and ``can``
        do not catch it.
        """
        return None

    def root_kind(self, name: str) -> str:
        if name in ("data", "module", "path", "terraform", "self"):
            return name
        return "resource"

    def function(self, name: str) -> Callable[[list[Value]], Value] | None:
        """A function this scope defines on top of Terraform's (Terragrunt's built-ins), or None."""
        return None

    def module_keys(self, name: str) -> list[Value] | Unknown | None:
        """The instance keys of ``module.name`` when it has ``count`` (0, 1, ...), for a splat
        over it (``module.name[*].output``); None when this scope cannot tell."""
        return None

    def module_object(self, parts: tuple[str, ...]) -> Value | None:
        """``module.name`` (or ``module.name[key]``) used as a value: an object of its outputs,
        or, with count or for_each and no key, a list or map of them; None when this scope
        cannot tell."""
        return None


class Traced(dict[str, Value]):
    """An object whose attributes each carry the hops that produced them (a Terragrunt config read
    with ``read_terragrunt_config``): reading one adds its hops to the trace, so provenance runs
    through it into the file where the value was written."""

    __slots__ = ("hops",)

    def __init__(self, values: dict[str, Value], hops: dict[str, tuple[Hop, ...]]) -> None:
        super().__init__(values)
        self.hops = hops

    def __reduce__(self) -> tuple[type, tuple[dict[str, Value], dict[str, tuple[Hop, ...]]]]:
        return (Traced, (dict(self), self.hops))


class ResourceValue(dict[str, Value]):
    """One resource (or data source) instance as an expression sees it before apply.

    Holds the arguments its configuration sets, evaluated in its own module instance: those are
    what Terraform's plan knows. Every other attribute (ids, ARNs, anything the provider fills
    in) is ``Unknown`` naming the instance, so flows still resolve to it. As a whole value the
    object is never wholly known (``deep_unknown``): functions and comparisons over it stay
    unknown, as in a plan.
    """

    __slots__ = ("address", "provenance", "where")

    def __init__(
        self,
        address: str,
        configured: dict[str, Value],
        provenance: Callable[[str], tuple[Hop, ...]] | None = None,
        where: str = "",
    ) -> None:
        super().__init__(configured)
        self.address = address
        self.provenance = provenance
        self.where = where  # "main.tf:12": the block, for messages about what it lacks

    def attribute(self, name: str, trace: list[Hop] | None) -> Value:
        if trace is not None and self.provenance is not None:
            trace.extend(self.provenance(name))  # where it is set, or the block that lacks it
        if name in self:
            return computed(self[name], self.address, name)
        at = f" ({self.where})" if self.where else ""
        return Unknown(
            f"{self.address}.{name}{at} is known only after apply",
            frozenset({self.address}),
            path=(name,),
        )

    def whole(self) -> Unknown:
        at = f" ({self.where})" if self.where else ""
        return Unknown(
            f"{self.address}{at} has attributes known only after apply",
            frozenset({self.address}),
            path=(),
        )


def is_unknown(v: Value) -> bool:
    return isinstance(v, Unknown)


def deep_unknown(v: Value) -> Unknown | None:
    """The Unknowns anywhere inside v as one (every origin's refs merged, an error if any is
    one, the first's reason), or None when v is wholly known. A resource object counts as
    unknown: its computed attributes are."""
    if isinstance(v, Unknown):
        return v
    if not isinstance(v, (list, dict)):
        return None
    found: list[Unknown] = []
    stack: list[Value] = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, Unknown):
            found.append(x)
        elif isinstance(x, ResourceValue):
            found.append(x.whole())
            stack.extend(reversed(list(x.values())))
        elif isinstance(x, list):
            stack.extend(reversed(x))
        elif isinstance(x, dict):
            stack.extend(reversed(list(x.values())))
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    errors = [u for u in found if u.error]
    return merge_unknown(errors or found, (errors or found)[0].reason, found)


def merge_unknown(
    values: list[Unknown], reason: str | None = None, origins: list[Unknown] | None = None
) -> Unknown:
    """One Unknown for a value derived from several: the refs of all of them (and of
    ``origins``, when the reason comes from some but the value depends on more)."""
    refs: frozenset[str] = frozenset().union(
        *(u.refs for u in (origins or values)), *(u.refs for u in values)
    )
    chosen_one = any(u.path == CHOSEN for u in values)  # what is made of a choice is one too
    return Unknown(
        reason or values[0].reason,
        refs,
        any(u.error for u in values),
        CHOSEN if chosen_one else None,
    )


def refs_of(*values: Value) -> frozenset[str]:
    """Every resource the values were derived from."""
    out: frozenset[str] = frozenset()
    for v in values:
        u = deep_unknown(v)
        if u is not None:
            out |= u.refs
    return out


def _unknown_in_lists(v: Value) -> bool:
    """Whether an unknown stands where ``flatten`` would look: as an element of ``v`` or of a
    list within it (it might be a list to splice in). Objects are not looked into."""
    stack: list[Value] = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, Unknown):
            return True
        if isinstance(x, list):
            stack.extend(x)
    return False


def chosen(reason: str, selector: Unknown, *candidates: Value) -> Unknown:
    """A value chosen among ``candidates`` (none: among what cannot be listed) by the unknown
    ``selector`` (a condition, a key, an index, a dynamic block's for_each). When every candidate is itself unknown it is one of them and names their resources
    (a flow's destination is one of those); otherwise it may be a known candidate, and is
    ``CHOSEN``: its refs name what it was derived from, the selector's too, but a flow never takes
    it for one of them (``x.arn == "" ? "ap-east-1" : "cn-north-1"`` is not in x's region)."""
    if candidates and all(isinstance(c, Unknown) and c.path != CHOSEN for c in candidates):
        refs = frozenset().union(*(c.refs for c in candidates if isinstance(c, Unknown)))
        return Unknown(reason, refs, selector.error)
    return Unknown(reason, refs_of(selector, *candidates), selector.error, CHOSEN)


_UNDECIDED: Any = object()


def _lookup_partly_known(args: list[Value]) -> Value:
    """``lookup`` in a map or object whose keys are known and some values are not, as Terraform
    answers it (checked against ``terraform``: tests/fixtures/differential/lookup-unknowns): a
    key that is there gives its value, a key that is not gives the default, where the map's
    element type (which the unknown values take part in) cannot change them: a string (the type
    primitive values unify to) or null. Anything else is undecided (``_UNDECIDED``)."""
    if len(args) not in (2, 3):
        return _UNDECIDED
    m, key = args[0], args[1]
    if not isinstance(m, dict) or isinstance(m, ResourceValue) or not isinstance(key, str):
        return _UNDECIDED
    if key in m:
        v = m[key]
        return v if v is None or isinstance(v, (str, Unknown)) else _UNDECIDED
    if len(args) == 2:
        return _err(f"lookup: no key {key!r}")
    default = args[2]
    if default is None:
        return None
    if isinstance(default, str) and any(isinstance(v, str) for v in m.values()):
        return default  # a map of them is a map of strings; an object gives it as it is
    return _UNDECIDED


def _plain_list(v: Value) -> bool:
    return isinstance(v, list) and not isinstance(v, (TfSet, ResourceValue))


def _element_partly_known(args: list[Value]) -> Value:
    """``element(list, i)`` with a known index into a list of known length: that element,
    whatever the others hold (tenth audit; differential corpus partly-unknown-lists)."""
    if len(args) != 2 or not _plain_list(args[0]) or deep_unknown(args[1]) is not None:
        return _UNDECIDED
    return _builtin("element", args)


def _zipmap_partly_known(args: list[Value]) -> Value:
    """``zipmap(known keys, values)``: a map of known keys whose values are what they are."""
    if len(args) != 2 or deep_unknown(args[0]) is not None or not _plain_list(args[1]):
        return _UNDECIDED
    if not _plain_list(args[0]):
        return _UNDECIDED
    return _builtin("zipmap", args)


def _builtin(name: str, args: list[Value]) -> Value:
    """A built-in function's answer, its error as an error value."""
    try:
        return FUNCTIONS[name](args)
    except FunctionError as exc:
        return _err(str(exc))


def _coalescelist_partly_known(args: list[Value]) -> Value:
    """``coalescelist(var.azs, data.x.names)``: the first non-empty list, when every list
    before it is known to be empty (an unknown list before it could be non-empty)."""
    for a in args:
        if not _plain_list(a):
            return _UNDECIDED
        if a:
            return a
    return _UNDECIDED


def _all_or_any_partly_known(want: bool) -> Callable[[list[Value]], Value]:
    def decide(args: list[Value]) -> Value:
        """``alltrue`` (``want`` False) / ``anytrue`` (True): a known element that settles it
        settles it whatever the unknown ones are."""
        if len(args) != 1 or not _plain_list(args[0]):
            return _UNDECIDED
        if any(x is want for x in args[0]):
            return want
        return _UNDECIDED

    return decide


def _contains_partly_known(args: list[Value]) -> Value:
    """``contains(list, "x")`` over strings with some unknown: true when a known one is "x"."""
    if len(args) != 2 or not _plain_list(args[0]) or not isinstance(args[1], str):
        return _UNDECIDED
    known = [x for x in args[0] if not is_unknown(x)]
    if not all(isinstance(x, str) for x in known):
        return _UNDECIDED  # a mixture converts to a common type first
    return True if args[1] in known else _UNDECIDED


def _index_partly_known(args: list[Value]) -> Value:
    """``index(list, "x")`` over strings: the first position of "x" when every element before
    it is known (an unknown one before it could be "x")."""
    if len(args) != 2 or not _plain_list(args[0]) or not isinstance(args[1], str):
        return _UNDECIDED
    if not all(isinstance(x, str) or is_unknown(x) for x in args[0]):
        return _UNDECIDED
    for i, x in enumerate(args[0]):
        if is_unknown(x):
            return _UNDECIDED
        if x == args[1]:
            return i
    return _UNDECIDED


# Functions Terraform answers over collections that hold some values known only after apply,
# where the answer does not depend on those values (tenth audit, each checked against terraform:
# tests/fixtures/differential/partly-unknown-lists). Each gives _UNDECIDED where it cannot tell.
_PARTLY_KNOWN: dict[str, Callable[[list[Value]], Value]] = {
    "lookup": _lookup_partly_known,
    "element": _element_partly_known,
    "zipmap": _zipmap_partly_known,
    "coalescelist": _coalescelist_partly_known,
    "alltrue": _all_or_any_partly_known(False),
    "anytrue": _all_or_any_partly_known(True),
    "contains": _contains_partly_known,
    "index": _index_partly_known,
}


def _err(msg: str) -> Unknown:
    return Unknown(msg, error=True)


def _primitive_sets(a: Value, b: Value) -> bool:
    """Two non-empty sets of one primitive type: their types agree, so equal elements decide."""
    if not (isinstance(a, TfSet) and isinstance(b, TfSet) and a and b):
        return False
    kinds = {type_name(x) for x in (*a, *b)}
    return len(kinds) == 1 and kinds <= {"string", "number", "bool"}


def _sizes_differ(a: Value, b: Value) -> bool:
    """Two known collections that cannot be equal whatever unknown values they hold, because
    their sizes differ: lists and tuples of different lengths, maps and objects with different
    numbers of keys (cty compares types, then lengths, before any element), an empty set and a
    non-empty one (one value, known or not, is one element: ``toset([x.id]) != toset([])``;
    Terraform knows this against ``toset([])`` and leaves it unknown against a typed empty
    set, where the answer is no less certain)."""
    if isinstance(a, ResourceValue) or isinstance(b, ResourceValue):
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        return len(a) != len(b)
    if not (isinstance(a, list) and isinstance(b, list)):
        return False
    if isinstance(a, TfSet) and isinstance(b, TfSet):
        return bool(a) != bool(b)
    if isinstance(a, TfSet) or isinstance(b, TfSet):
        return False
    return len(a) != len(b)


class Evaluator:
    """Evaluates expressions in a scope. ``trace`` (when a list) collects the var/local hops used."""

    def __init__(self, scope: Scope, trace: list[Hop] | None = None) -> None:
        self.scope = scope
        self.trace = trace
        self.bindings: list[dict[str, Value]] = []
        self.depth = 0
        self.steps = [0]  # shared with the evaluators derived by with_bindings

    def with_bindings(self, bindings: dict[str, Value]) -> Evaluator:
        ev = Evaluator(self.scope, self.trace)
        ev.bindings = [*self.bindings, bindings]
        ev.depth = self.depth
        ev.steps = self.steps
        return ev

    def evaluate(self, expr: Expr) -> Value:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                return _err("expression nested too deeply")
            over = self._spend(1)
            if over is not None:
                return over
            try:
                value = self._eval(expr)
            except NotDecided as exc:
                return Unknown(f"ciiguard cannot decide: {exc}")
            except FunctionError as exc:
                return _err(str(exc))
        finally:
            self.depth -= 1
        if isinstance(value, Namespace):
            whole = self.scope.module_object(value.parts) if value.kind == "module" else None
            if whole is not None:
                return whole  # module.name as a value, as Terraform has it
            return _err(f"incomplete reference {value.kind}.{'.'.join(value.parts)}")
        return value

    def _spend(self, steps: int) -> Unknown | None:
        """Count work against both caps; an Unknown saying which once one is exhausted."""
        self.steps[0] += steps
        if self.steps[0] > MAX_STEPS:
            return Unknown(f"expression needs more than {MAX_STEPS} evaluation steps")
        budget = self.scope.budget
        if budget is not None:
            budget.left -= steps
            if budget.left < 0:
                return Unknown(f"configuration needs more than {MAX_BUDGET} evaluation steps")
        return None

    def _eval(self, e: Expr) -> Value:
        if isinstance(e, Literal):
            return e.value
        if isinstance(e, Template):
            return self._template(e)
        if isinstance(e, (Name, GetAttr)) or (isinstance(e, Index) and _rooted(e)):
            return self._traversal(e)
        if isinstance(e, Index):
            return self._index(self.evaluate(e.obj), self.evaluate(e.key))
        if isinstance(e, Conditional):
            return self._conditional(e)
        if isinstance(e, BinaryOp):
            return self._binary(e)
        if isinstance(e, UnaryOp):
            return self._unary(e)
        if isinstance(e, TupleExpr):
            return [self.evaluate(i) for i in e.items]
        if isinstance(e, ObjectExpr):
            return self._object(e)
        if isinstance(e, Call):
            return self._call(e)
        if isinstance(e, ForExpr):
            return self._for(e)
        if isinstance(e, Splat):
            return self._splat(e)
        if isinstance(e, TemplateIf):
            return self._template_if(e)
        if isinstance(e, TemplateFor):
            return self._template_for(e)
        if isinstance(e, Unsupported):
            return Unknown(f"{e.what} is not evaluated by ciiguard")
        if isinstance(e, Hole):
            return Unknown(e.reason)
        return Unknown(f"unsupported expression {type(e).__name__}")

    # -- traversals -------------------------------------------------------
    def _traversal(self, e: Expr) -> Value:
        if isinstance(e, Name):
            for frame in reversed(self.bindings):
                if e.name in frame:
                    return frame[e.name]
            if e.name in ("var", "local", "each", "count"):
                if e.name in ("each", "count"):
                    return _err(
                        f"{e.name} is only valid in a resource or module with {e.name if e.name == 'count' else 'for_each'}"
                    )
                return Namespace(e.name, ())
            return Namespace(
                self.scope.root_kind(e.name),
                () if self.scope.root_kind(e.name) != "resource" else (e.name,),
            )
        if isinstance(e, GetAttr):
            base = self._traversal(e.obj) if _rooted(e.obj) else self.evaluate(e.obj)
            return self._step(base, e.name)
        assert isinstance(e, Index)
        base = self._traversal(e.obj) if _rooted(e.obj) else self.evaluate(e.obj)
        key = self.evaluate(e.key)
        if isinstance(base, Namespace):
            if is_unknown(key):  # an instance chosen by an unknown key (``chosen``)
                return chosen(f"the key is unknown ({key.reason})", key)
            if isinstance(key, (list, dict)) or key is None:
                return _err("invalid index key")
            return self._step(base, to_string(key), index=key)
        return self._index(base, key)

    def _step(self, base: Value, name: str, index: Value = None) -> Value:
        if isinstance(base, Namespace):
            if base.kind == "var":
                value, hops = self.scope.variable(name, self)
                if self.trace is not None:
                    self.trace.extend(hops)
                return value
            if base.kind == "local":
                value, hops = self.scope.local(name, self)
                if self.trace is not None:
                    self.trace.extend(hops)
                return value
            parts = (*base.parts, name) if index is None else (*base.parts, f"[{_key_repr(index)}]")
            resolved = self.scope.traverse(base.kind, parts, self)
            if resolved is NULL:
                return None
            return Namespace(base.kind, parts) if resolved is None else resolved
        if is_unknown(base):
            return _deeper(base, name)
        if isinstance(base, ResourceValue):
            return base.attribute(name, self.trace)
        if isinstance(base, ComputedBlock):
            return base.attribute(name)
        if isinstance(base, dict):
            if name in base:
                if isinstance(base, Traced) and self.trace is not None:
                    self.trace.extend(base.hops.get(name, ()))
                return base[name]
            return _err(f"object has no attribute {name!r}")
        if isinstance(base, list) and name.isdigit() and not isinstance(base, TfSet):
            return self._index(base, int(name))
        return _err(f"cannot read attribute {name!r} of {type_name(base)}")

    def _index(self, base: Value, key: Value) -> Value:
        if isinstance(base, Namespace):
            if is_unknown(key):
                return key
            return self._step(base, to_string(key), index=key)
        if is_unknown(base):
            return _deeper(base, "[]")
        if is_unknown(key):
            members = base.values() if isinstance(base, dict) else base
            return chosen(
                f"the key is unknown ({key.reason})",
                key,
                *(
                    members
                    if isinstance(base, (list, dict)) and not isinstance(base, TfSet)
                    else ()
                ),
            )
        if isinstance(key, (list, dict)) or key is None:
            return _err(f"a {type_name(key)} cannot be used as an index")
        if isinstance(base, TfSet):
            return _err("elements of a set are identified only by their value")
        if isinstance(base, list):
            try:
                i = num.whole(to_number(key))
            except FunctionError:
                return _err("list index must be a number")
            if i is None or i < 0 or i >= len(base):
                return _err(f"index {key!r} out of range")
            return base[i]
        if isinstance(base, ResourceValue):
            return base.attribute(to_string(key), self.trace)
        if isinstance(base, ComputedBlock):
            return base.attribute(to_string(key))
        if isinstance(base, dict):
            k = to_string(key)
            if k in base:
                if isinstance(base, Traced) and self.trace is not None:
                    self.trace.extend(base.hops.get(k, ()))
                return base[k]
            return _err(f"no key {k!r}")
        return _err(f"cannot index {type_name(base)}")

    def _splat(self, e: Splat) -> Value:
        if (
            isinstance(e.obj, GetAttr)
            and isinstance(e.obj.obj, Name)
            and e.obj.obj.name == "module"
            and not any(e.obj.obj.name in frame for frame in self.bindings)
            and e.ops
            and e.ops[0][0] == "attr"
        ):
            items = self._module_instances(e.obj.name)
            if items is not None:
                return self._splat_items(items, e) if isinstance(items, list) else items
        base = self.evaluate(e.obj)
        if isinstance(base, Namespace):
            named = ".".join(base.parts)
            return Unknown(
                f"splat over {base.kind}.{named} is not known before apply",
                frozenset({named}) if base.kind == "resource" and base.parts else frozenset(),
            )
        if is_unknown(base):
            return base
        if base is None:
            return []
        return self._splat_items(base if isinstance(base, list) else [base], e)

    def _module_instances(self, name: str) -> list[Value] | Unknown | None:
        """``module.name``'s instances as partial traversals (``module.name[0]``, ...), for a
        splat over a module with ``count``: each then reads its outputs as ``module.name[0].x``
        does. None when the scope cannot tell (the splat then stays unknown)."""
        keys = self.scope.module_keys(name)
        if keys is None or isinstance(keys, Unknown):
            return keys
        return [Namespace("module", (name, f"[{_key_repr(k)}]")) for k in keys]

    def _splat_items(self, items: list[Value], e: Splat) -> Value:
        ops = e.ops
        after: tuple[tuple[str, object], ...] = ()
        if not e.full:  # a legacy ``.*`` carries attribute steps only; the rest applies after
            k = next((i for i, (kind, _) in enumerate(ops) if kind == "index"), len(ops))
            ops, after = ops[:k], ops[k:]
        out: Value = []
        for item in items:
            v = item
            for kind, arg in ops:
                v = self._op(v, kind, arg)
            out.append(v)
        for kind, arg in after:
            out = self._op(out, kind, arg)
        return out

    def _op(self, v: Value, kind: str, arg: object) -> Value:
        if kind == "attr":
            return self._step(v, str(arg))
        assert isinstance(arg, Expr)
        return self._index(v, self.evaluate(arg))

    # -- operators ---------------------------------------------------------
    def _traced(self, expr: Expr) -> tuple[Value, list[Hop]]:
        """``evaluate``, with the hops it adds kept apart (for a value that may go unused)."""
        if self.trace is None:
            return self.evaluate(expr), []
        kept, self.trace = self.trace, []
        try:
            return self.evaluate(expr), self.trace
        finally:
            self.trace = kept

    def _conditional(self, e: Conditional) -> Value:
        cond = self.evaluate(e.cond)
        (a, hops_a), (b, hops_b) = self._traced(e.if_true), self._traced(e.if_false)
        if self.trace is not None:  # why: the branch taken (both while the condition is unknown)
            try:
                taken = None if is_unknown(cond) or cond is None else to_bool(cond)
            except FunctionError:
                taken = None
            self.trace.extend(
                hops_a if taken is True else hops_b if taken is False else hops_a + hops_b
            )
        if is_unknown(cond):
            if cond.error:
                return cond
            known = deep_unknown(a) is None and deep_unknown(b) is None
            if known and not collection_in(a) and type_name(a) == type_name(b) and equal(a, b):
                return a
            return chosen(f"condition is unknown ({cond.reason})", cond, a, b)
        if cond is None:
            return _err("the condition value is null")
        try:
            branch = to_bool(cond)
        except FunctionError as exc:
            return _err(str(exc))
        taken, other = (a, b) if branch else (b, a)
        if is_unknown(taken):
            return taken
        ut, uo = deep_unknown(taken), deep_unknown(other)
        if ut is not None:
            return taken if not ut.error else ut
        if uo is not None:
            if uo.error or isinstance(taken, str) or taken is None:
                return taken
            return Unknown(
                f"the result type depends on the other branch ({uo.reason})", refs_of(a, b)
            )
        converted = unify([a, b])
        return converted[0] if branch else converted[1]

    def _binary(self, e: BinaryOp) -> Value:
        op = e.op
        left = self.evaluate(e.left)
        right = self.evaluate(e.right)
        for v in (left, right):
            if is_unknown(v) and v.error:
                return v
        if op in ("==", "!="):
            if (left is None or right is None) and not is_unknown(left) and not is_unknown(right):
                # a known value against null: known, whatever it holds (cty compares nulls
                # first: ``var.list_of_objects == null`` is false with an unknown inside)
                return (left is None and right is None) == (op == "==")
            lu, ru = deep_unknown(left), deep_unknown(right)
            if lu or ru:
                if not is_unknown(left) and not is_unknown(right) and _sizes_differ(left, right):
                    return op == "!="
                return merge_unknown([u for u in (lu, ru) if u])
            same = equal(left, right)
            if same and collection_in(left) and not _primitive_sets(left, right):
                raise NotDecided("equal collections compare equal only when their types agree")
            return same == (op == "==")
        if op in ("&&", "||"):
            lb = None if is_unknown(left) else to_bool(_not_null(left))
            rb = None if is_unknown(right) else to_bool(_not_null(right))
            if lb is not None and ((op == "&&" and not lb) or (op == "||" and lb)):
                return lb
            if lb is None or rb is None:
                return merge_unknown([u for u in (left, right) if is_unknown(u)])
            return (lb and rb) if op == "&&" else (lb or rb)
        for v in (left, right):
            if is_unknown(v):
                return v
        a, b = to_number(_not_null(left)), to_number(_not_null(right))
        if op == "+":
            return num.add(a, b)
        if op == "-":
            return num.subtract(a, b)
        if op == "*":
            return num.multiply(a, b)
        if op == "/":
            return num.divide(a, b)
        if op == "%":
            return num.modulo(a, b)
        c = num.compare(a, b)
        if op == "<":
            return c < 0
        if op == ">":
            return c > 0
        if op == "<=":
            return c <= 0
        if op == ">=":
            return c >= 0
        return _err(f"unknown operator {op}")

    def _unary(self, e: UnaryOp) -> Value:
        v = self.evaluate(e.operand)
        if is_unknown(v):
            return v
        if e.op == "!":
            return not to_bool(_not_null(v))
        return num.negate(to_number(_not_null(v)))

    def _template(self, e: Template) -> Value:
        if len(e.parts) == 1 and not isinstance(e.parts[0], str):
            return self.evaluate(e.parts[0])  # "${x}" is x itself, unconverted
        return self._rendered(e)

    def _rendered(self, e: Expr) -> Value:
        """A template's text (a directive's body): always a string, or Unknown."""
        if isinstance(e, Literal):
            return e.value
        if not isinstance(e, Template):
            return self._rendered(Template((e,)))
        out: list[str] = []
        unknowns: list[Unknown] = []
        for part in e.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            v = self.evaluate(part)
            if is_unknown(v):
                unknowns.append(v)
                continue
            if isinstance(v, (list, dict)) or v is None:
                unknowns.append(_err(f"cannot interpolate {type_name(v)} into a string"))
                continue
            try:
                out.append(to_string(v))
            except NotDecided as exc:
                unknowns.append(Unknown(f"ciiguard cannot decide: {exc}"))
        if unknowns:
            errors = [u for u in unknowns if u.error]
            return merge_unknown(errors or unknowns)
        return nfc("".join(out))

    def _template_if(self, e: TemplateIf) -> Value:
        cond = self.evaluate(e.cond)
        if is_unknown(cond):
            return chosen(f"template condition is unknown ({cond.reason})", cond)
        if cond is None:
            return _err("the template condition is null")
        branch = e.then if to_bool(cond) else e.otherwise
        return "" if branch is None else self._rendered(branch)

    def _template_for(self, e: TemplateFor) -> Value:
        coll = self.evaluate(e.collection)
        if isinstance(coll, ResourceValue):
            coll = coll.whole()
        if is_unknown(coll):
            return Unknown(
                f"template for collection is unknown ({coll.reason})", coll.refs, coll.error
            )
        if isinstance(coll, dict):
            pairs: list[tuple[Value, Value]] = [(k, coll[k]) for k in sorted(coll)]
        elif isinstance(coll, TfSet):
            pairs = [(x, x) for x in coll]
        elif isinstance(coll, list):
            pairs = list(enumerate(coll))
        else:
            return _err(f"a template for directive cannot iterate over {type_name(coll)}")
        if len(pairs) > MAX_COLLECTION:
            return _err("collection too large")
        out: list[str] = []
        unknowns: list[Unknown] = []
        for k, v in pairs:
            frame = {e.value_var: v}
            if e.key_var:
                frame[e.key_var] = k
            text = self.with_bindings(frame)._rendered(e.body)
            if is_unknown(text):
                unknowns.append(text)
            else:
                out.append(str(text))
        if unknowns:
            errors = [u for u in unknowns if u.error]
            return merge_unknown(errors or unknowns)
        return "".join(out)

    def _object(self, e: ObjectExpr) -> Value:
        out: dict[str, Value] = {}
        for k_expr, v_expr in e.items:
            k = self.evaluate(k_expr)
            if is_unknown(k):
                return k
            if isinstance(k, (list, dict)) or k is None:
                return _err("object key must be a string")
            out[to_string(k)] = self.evaluate(v_expr)
        return out

    def _args_traced(self, name: str, exprs: tuple[Expr, ...]) -> list[Value]:
        """The arguments of ``lookup`` and ``coalesce``, with the hops of those that give the
        result only: a default the key makes unused, the values after the first non-empty one
        (``--explain`` named an unused default as where the region came from)."""
        assert self.trace is not None
        done = [self._traced(x) for x in exprs]
        values = [v for v, _ in done]
        used = len(done)
        if name == "lookup" and len(values) == 3:
            m, k = values[0], values[1]
            if isinstance(m, dict) and not isinstance(m, ResourceValue) and isinstance(k, str):
                used = 2 if k in m else 3
        elif name == "coalesce":
            for i, v in enumerate(values):
                if deep_unknown(v) is not None:
                    break
                if v is not None and v != "":
                    used = i + 1
                    break
        for _, hops in done[:used]:
            self.trace.extend(hops)
        return values

    def _call(self, e: Call) -> Value:
        name = e.name
        core = name.startswith("core::")  # Terraform 1.8+: the built-ins' own namespace
        if core:
            name = name[len("core::") :]
        if name in ("try", "can"):
            missing = self._undeclared(e.args)
            if missing is not None:
                return _err(f"reference to undeclared {missing}")
        if name == "try":
            for arg in e.args:
                v = self.evaluate(arg)
                u = deep_unknown(v)
                if u is None:
                    return v
                if not u.error:
                    return u
            return _err("try: no argument could be evaluated")
        if name == "can":
            if len(e.args) != 1:
                return _err("can: takes one argument")
            u = deep_unknown(self.evaluate(e.args[0]))
            if u is None:
                return True
            return False if u.error else u
        if self.trace is not None and name in ("lookup", "coalesce") and not e.expand_last:
            args = self._args_traced(name, e.args)
        else:
            args = [self.evaluate(a) for a in e.args]
        if e.expand_last and args:
            last = args.pop()
            if is_unknown(last):
                return last
            if not isinstance(last, list):
                return _err("... expects a list")
            args.extend(last)
        fn = FUNCTIONS.get(name) if core else self.scope.function(name) or FUNCTIONS.get(name)
        if fn is None:
            return Unknown(f"function {e.name}() is not evaluated by ciiguard")
        # a function's work grows with its arguments: charge their size
        over = self._spend(sum(len(a) for a in args if isinstance(a, (list, dict, str))) // 8)
        if over is not None:
            return over
        budget = self.scope.budget
        unknown_in = deep_unknown if budget is None else budget.deep_unknown
        unknowns = [u for u in (unknown_in(a) for a in args) if u is not None]
        errors = [u for u in unknowns if u.error]
        if errors:
            return merge_unknown(errors)
        if name == "coalesce" and unknowns:
            return self._coalesce_partly_known(args)
        if (
            name == "merge"
            and unknowns
            and all(
                a is None or (isinstance(a, dict) and not isinstance(a, ResourceValue))
                for a in args
            )
        ):
            # merge() of known-keyed objects: the keys are known, only some values are not, as in
            # Terraform (tags = merge(var.tags, {Name = local.unknown}) keeps its known keys)
            out: dict[str, Value] = {}
            for a in args:
                out.update(a or {})
            return out
        if (
            unknowns
            and len(args) == 1
            and isinstance(args[0], (list, dict))
            and not isinstance(args[0], ResourceValue)
            # a set's size needs its values, but for one value: ``length(toset([x.id]))`` is 1
            and (not isinstance(args[0], TfSet) or (name == "length" and len(args[0]) == 1))
            and (
                name in ("keys", "values", "length")
                or (name == "flatten" and not _unknown_in_lists(args[0]))
            )
        ):
            # the keys and the size of a known collection are known whatever it holds, as in
            # Terraform (``keys(var.databases)`` with an apply-time id in one database); flatten
            # reaches into lists only, so objects holding apply-time values are kept whole
            try:
                return fn(args)
            except FunctionError as exc:
                return _err(str(exc))
        if (
            unknowns
            and name == "toset"
            and len(args) == 1
            and type(args[0]) is list
            and len(args[0]) == 1
        ):  # one value is one element, known or not, and has no order to decide
            return TfSet(args[0])
        if (
            unknowns
            and name == "concat"
            and all(isinstance(a, list) and not isinstance(a, TfSet) for a in args)
            and sum(1 for a in args if a) <= 1
        ):  # one list with empty ones (``concat(var.list, [])``) is that list, whatever it holds
            return list(next((a for a in args if a), []))
        if unknowns and name in ("lookup", "element") and len(args) >= 2 and is_unknown(args[1]):
            return self._chosen_by_key(name, args)
        if unknowns and name in _PARTLY_KNOWN:
            found = _PARTLY_KNOWN[name](args)
            if found is not _UNDECIDED:
                return found
        if unknowns:
            return merge_unknown(unknowns)
        try:
            return _nfc_deep(fn(args))
        except FunctionError as exc:
            return _err(str(exc))
        except (IndexError, TypeError, ValueError, OverflowError, RecursionError) as exc:
            # not a Terraform error but ciiguard's own limit: unknown, so try() cannot skip it
            return Unknown(f"{name}() could not be evaluated by ciiguard ({type(exc).__name__})")

    def _undeclared(self, exprs: tuple[Expr, ...]) -> str | None:
        """The first ``var.x``/``local.x`` in exprs that the scope says is not declared."""
        stack: list[object] = list(exprs)
        while stack:
            node = stack.pop()
            if (
                isinstance(node, GetAttr)
                and isinstance(node.obj, Name)
                and node.obj.name in ("var", "local")
                and not any(node.obj.name in frame for frame in self.bindings)
                and self.scope.declares(node.obj.name, node.name) is False
            ):
                return f"{node.obj.name}.{node.name}"
            if isinstance(node, Expr):
                for f in getattr(node, "__dataclass_fields__", {}):
                    stack.append(getattr(node, f))
            elif isinstance(node, tuple):
                stack.extend(node)
        return None

    @staticmethod
    def _chosen_by_key(name: str, args: list[Value]) -> Unknown:
        """``lookup(m, k, default)`` or ``element(l, i)`` with an unknown key or index: one of
        the members (or the default), never the key's resource (``chosen``)."""
        key, coll = args[1], args[0]
        assert isinstance(key, Unknown)
        if isinstance(coll, Unknown):  # a member of it: its resources, not the key's
            return Unknown(coll.reason, coll.refs, coll.error or key.error)
        members: list[Value] = []
        if isinstance(coll, dict) and not isinstance(coll, ResourceValue):
            members = list(coll.values())
        elif isinstance(coll, list) and not isinstance(coll, TfSet):
            members = list(coll)
        else:
            return Unknown(f"{name}() over an unknown key ({key.reason})", error=key.error)
        return chosen(f"the key is unknown ({key.reason})", key, *members, *args[2:3])

    @staticmethod
    def _coalesce_partly_known(args: list[Value]) -> Value:
        """coalesce(var.region, aws_x.region): decided when a known string comes first; and
        ``coalesce(var.list, [])`` over collections: the first that is not null, apply-time
        values inside it and all (Terraform looks at an argument's null-ness alone)."""
        given = [a for a in args if a is not None]
        if given and all(
            isinstance(a, (list, dict)) and not isinstance(a, ResourceValue) for a in given
        ):
            return given[0]
        known = [a for a in args if deep_unknown(a) is None]
        unify(known)
        for a in args:
            u = deep_unknown(a)
            if u is not None:
                return u
            if a is not None and a != "":
                return (
                    a if isinstance(a, str) else merge_unknown([u for u in args if is_unknown(u)])
                )
        return Unknown("coalesce over unknown arguments")

    def _for(self, e: ForExpr) -> Value:
        coll = self.evaluate(e.collection)
        if isinstance(coll, ResourceValue):
            coll = coll.whole()  # its attributes are not all known: neither is the iteration
        if is_unknown(coll):
            return coll
        if isinstance(coll, dict):
            pairs = [(k, coll[k]) for k in sorted(coll)]
        elif isinstance(coll, TfSet):
            pairs = [(x, x) for x in coll]  # a set element is its own key
        elif isinstance(coll, list):
            pairs = list(enumerate(coll))
        else:
            return _err(f"cannot iterate over {type_name(coll)}")
        if len(pairs) > MAX_COLLECTION:
            return _err("collection too large")
        result_list: list[Value] = []
        result_obj: dict[str, Value] = {}
        for k, v in pairs:
            frame = {e.value_var: v}
            if e.key_var:
                frame[e.key_var] = k
            ev = self.with_bindings(frame)
            if e.cond is not None:
                c = ev.evaluate(e.cond)
                if is_unknown(c):  # which elements are kept is unknown (``chosen``)
                    return chosen(c.reason, c)
                if not to_bool(_not_null(c)):
                    continue
            if not e.is_object:
                result_list.append(ev.evaluate(e.value))
                continue
            assert e.key is not None
            key = ev.evaluate(e.key)
            if is_unknown(key):
                return key
            if isinstance(key, (list, dict)) or key is None:
                return _err("for expression key must be a string")
            ks = to_string(key)
            val = ev.evaluate(e.value)
            if e.grouping:
                result_obj.setdefault(ks, []).append(val)
            elif ks in result_obj:
                return _err(f"duplicate key {ks!r} in for expression")
            else:
                result_obj[ks] = val
        return result_obj if e.is_object else result_list


def convert_to_type(value: Value, type_expr: Expr) -> Value:
    """A variable's value converted to its declared ``type``, as Terraform does before use.

    ``"3"`` for ``number`` becomes 3, ``set(string)`` sorts and de-duplicates, ``list(string)``
    turns numbers into strings, ``object({...})`` drops undeclared attributes and fills
    ``optional(...)`` ones. Returns Unknown(error=True) when Terraform would reject the value and
    Unknown when ciiguard cannot tell.
    """
    try:
        return _convert(value, type_expr)
    except NotDecided as exc:
        return Unknown(f"ciiguard cannot decide the type conversion: {exc}")
    except FunctionError as exc:
        return _err(f"value does not match the declared type: {exc}")


_PRIMITIVE_TYPES = ("string", "number", "bool")


def set_order_key(item: Value, element_type: Expr) -> str:
    """The bytes cty orders a set's element by when the element type is a collection or
    structure (go-cty ``setRules.Less``: the elements' hash strings compared byte by byte;
    ``appendSetHashBytes`` writes them). Strings are Go-quoted (``%q``): only printable ASCII
    is written here, where quoting is just escaping ``"`` and ``\\``; numbers are written as
    ``big.Float.String`` does (10 significant digits): only integers below 10**10 here. Any
    other value, or ``any`` anywhere in the type, is NotDecided."""
    if item is None:
        return "~"
    if isinstance(element_type, Call) and element_type.name == "optional" and element_type.args:
        return set_order_key(item, element_type.args[0])
    if isinstance(element_type, Name):
        if element_type.name == "string" and isinstance(item, str):
            if not all(" " <= ch <= "~" for ch in item):
                raise NotDecided("set order: a string that is not printable ASCII")
            return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if element_type.name == "bool" and isinstance(item, bool):
            return "T" if item else "F"
        if element_type.name == "number" and is_number(item) and not isinstance(item, bool):
            whole = num.whole(item)
            if whole is None or abs(whole) >= 10**10:
                raise NotDecided("set order: a number that is not a small integer")
            return str(whole)
        raise NotDecided(f"set order of a {element_type.name} value")
    if not isinstance(element_type, Call) or not element_type.args:
        raise NotDecided("set order of this type")
    name, inner = element_type.name, element_type.args[0]
    if name in ("list", "set") and isinstance(item, list):
        return "[" + "".join(set_order_key(x, inner) + ";" for x in item) + "]"
    if name == "map" and isinstance(item, dict):
        return (
            "{"
            + "".join(
                set_order_key(k, Name("string")) + ":" + set_order_key(item[k], inner) + ";"
                for k in sorted(item)
            )
            + "}"
        )
    if name == "object" and isinstance(inner, ObjectExpr) and isinstance(item, dict):
        types: dict[str, Expr] = {}
        for k_expr, ty in inner.items:
            if not isinstance(k_expr, Literal) or not isinstance(k_expr.value, str):
                raise NotDecided("object type attribute names")
            types[k_expr.value] = ty
        if set(types) != set(item):
            raise NotDecided("set order: an object that does not match its type")
        return "<" + "".join(set_order_key(item[k], types[k]) + ";" for k in sorted(types)) + ">"
    if name == "tuple" and isinstance(inner, TupleExpr) and isinstance(item, list):
        if len(inner.items) != len(item):
            raise NotDecided("set order: a tuple that does not match its type")
        return (
            "<"
            + "".join(set_order_key(x, t) + ";" for x, t in zip(item, inner.items, strict=True))
            + ">"
        )
    raise NotDecided(f"set order of a {name} value")


def _convert(v: Value, t: Expr) -> Value:
    if isinstance(v, Unknown):
        return v
    if isinstance(t, Name) and t.name == "any":
        return v
    if v is None:
        return None
    if isinstance(t, Name) and t.name in _PRIMITIVE_TYPES:
        if isinstance(v, (list, dict)):
            raise FunctionError(f"a {t.name} is required")
        if t.name == "string":
            return to_string(v)
        if t.name == "number":
            return to_number(v)
        return to_bool(v)
    if isinstance(t, Call):
        args = t.args
        if t.name in ("list", "set") and len(args) == 1:
            if not isinstance(v, list):
                raise FunctionError(f"a {t.name} is required")
            items = [_convert(x, args[0]) for x in v]
            if isinstance(args[0], Name) and args[0].name == "any":
                items = unify(items)
            if t.name == "set":
                unknowns = [u for u in map(deep_unknown, items) if u is not None]
                if unknowns:  # its elements (and their number) are unknown: this set alone is
                    return merge_unknown(unknowns)
                return make_set(items, functools.partial(set_order_key, element_type=args[0]))
            return items
        if t.name == "map" and len(args) == 1:
            if not isinstance(v, dict):
                raise FunctionError("a map is required")
            converted = {k: _convert(x, args[0]) for k, x in v.items()}
            if isinstance(args[0], Name) and args[0].name == "any":
                converted = dict(zip(converted, unify(list(converted.values())), strict=True))
            return converted
        if t.name == "tuple" and len(args) == 1 and isinstance(args[0], TupleExpr):
            types = args[0].items
            if not isinstance(v, list) or len(v) != len(types):
                raise FunctionError(f"a tuple of {len(types)} elements is required")
            return [_convert(x, ty) for x, ty in zip(v, types, strict=True)]
        if t.name == "object" and len(args) == 1 and isinstance(args[0], ObjectExpr):
            if not isinstance(v, dict):
                raise FunctionError("an object is required")
            out: dict[str, Value] = {}
            for k_expr, ty in args[0].items:
                if not isinstance(k_expr, Literal) or not isinstance(k_expr.value, str):
                    raise NotDecided("object type attribute names")
                name = k_expr.value
                optional = isinstance(ty, Call) and ty.name == "optional"
                inner = ty.args[0] if isinstance(ty, Call) and optional and ty.args else ty
                if name in v and v[name] is not None:
                    out[name] = _convert(v[name], inner)
                elif optional:
                    default = ty.args[1] if isinstance(ty, Call) and len(ty.args) > 1 else None
                    if default is None:
                        out[name] = None
                    else:
                        d = Evaluator(Scope()).evaluate(default)
                        if is_unknown(d):
                            raise NotDecided("optional attribute default")
                        out[name] = _convert(d, inner)
                elif name in v:
                    out[name] = None
                else:
                    raise FunctionError(f"attribute {name!r} is required")
            return out
    raise NotDecided("type constraint form")


def _not_null(v: Value) -> Value:
    if v is None:
        raise FunctionError("a null value cannot be used here")
    return v


def _nfc_deep(v: Value) -> Value:
    if isinstance(v, str):
        return nfc(v)
    if isinstance(v, TfSet):
        return TfSet(_nfc_deep(x) for x in v)
    if isinstance(v, list):
        return [_nfc_deep(x) for x in v]
    if isinstance(v, Traced):
        return Traced({nfc(k): _nfc_deep(x) for k, x in v.items()}, v.hops)
    if isinstance(v, dict):
        return {nfc(k): _nfc_deep(x) for k, x in v.items()}
    return v


def settle(v: Value) -> Value:
    """A value as it is stored in a resource's attributes: a whole resource object inside it
    becomes the Unknown it is before apply (naming the resource), so nothing downstream (caches,
    reports, other processes) ever holds a live ``ResourceValue``."""
    if isinstance(v, ResourceValue):
        return v.whole()
    if isinstance(v, TfSet):
        return TfSet(settle(x) for x in v) if any(isinstance(x, (list, dict)) for x in v) else v
    if isinstance(v, list):
        return [settle(x) for x in v] if any(isinstance(x, (list, dict)) for x in v) else v
    if isinstance(v, dict) and any(isinstance(x, (list, dict)) for x in v.values()):
        return {k: settle(x) for k, x in v.items()}
    return v


def _deeper(u: Unknown, step: str) -> Unknown:
    """An attribute or element of an unknown resource attribute: the same unknown, one step down."""
    return u if u.path is None else Unknown(u.reason, u.refs, u.error, (*u.path, step))


def _rooted(e: Expr) -> bool:
    """True when e is a traversal starting at a bare name (var.x, local.y[0], aws_s3_bucket.b)."""
    while isinstance(e, (GetAttr, Index)):
        e = e.obj
    return isinstance(e, Name)


def _key_repr(k: Value) -> str:
    if isinstance(k, str):
        return f'"{k}"'
    try:
        return to_string(k) if not isinstance(k, (list, dict)) else "?"
    except (FunctionError, NotDecided):
        return "?"


def render_value(v: Value) -> str:
    """A short display of a value for provenance chains."""
    if isinstance(v, Unknown):
        return "(unknown)"
    if isinstance(v, ResourceValue):
        return f"({v.address})"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, Traced):  # a configuration read from another file: its parts, not all of it
        text = "{" + ", ".join(sorted(v)) + "}"
        return text if len(text) <= 80 else text[:77] + "..."
    if isinstance(v, (list, dict)):
        text = _json_like(v)
        return text if len(text) <= 80 else text[:77] + "..."
    if v is None:
        return "null"
    try:
        return to_string(v)
    except NotDecided:
        return repr(float(v))


def _json_like(v: Value) -> str:
    import json

    try:
        return json.dumps(v, default=lambda o: "(unknown)", ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return "?"

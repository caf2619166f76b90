"""The generator: one Program, drawn choice by choice from an integer source.

Every choice is one call of the `integer(lo, hi)` the generator is handed (a
Hypothesis draw: strategies.py), taken from the weights profile, with the
simplest alternative first so that shrinking moves towards simple programs.
Nothing here imports Hypothesis or `random`: a program is a function of its
draws and its profile alone. Undefined behaviour is excluded as the program is
built (the Csmith rule), not filtered afterwards:

- integer expressions carry an interval; an operation whose result could leave
  the safe range gets its operands clamped, divisors are kept away from zero,
  and every int local has a bound that its reassignments are clamped into and
  its `+=`/`-=` draw from (a budget that counts how often a loop repeats them);
- float arguments are guarded into their domain by the op table's ArgGuard;
- array reads use the thread index or `clamp(e, 0, len(a) - 1)`, writes the
  thread index, atomics 0, the thread index or a clamp;
- loops have literal or clamped bounds, while loops a counter.

The interval arithmetic and the guards are intervals.py's; the features a
program may use and what its category needs are swarm.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import ast as A
from .checker import atomic_class
from .intervals import (
    ATOMIC_INT_LIMIT,
    INT_BASE,
    INT_RESERVE,
    U32_MAX,
    Interval,
    apply_guard,
    clamp,
    exact_interval,
    invert_interval,
    guard_divisor,
    int_binop,
    int_cast,
    param_interval,
    type_interval,
    within,
)
from .ops import BITWISE_ATOMICS, BUILTINS, INT_BINOPS, LAUNCH_DECADES, MATMUL_ROWS, MAX_LAUNCH, QUAT_CALLS, QUAT_ROTATIONS, STATIC_OPS, TILE_MAPS, TILE_MATMUL_SIZES
from .swarm import CATEGORY_NEEDS, disabled_alternatives
from .lowering import call_binding, is_generic, takes_functions
from .queries import binds_reference, grad_helpers, has_effect
from .types import ANY, BOOL, F32, FUNCTION, I32, MAT33, QUAT, TYPES, VEC3, ArrayType, DType, Role, TileType, TupleType, struct_type

# the types a drawn call binds a generic helper's Any to: those its body's
# operations (+, -, negation) are defined on and cannot overflow in
GENERIC_CALL_TYPES = ("float32", "float64", "vec2", "vec3", "vec4")
from .weights import Weights

# Past this many choices a program only closes its open constructs: it keeps
# every draw well inside Hypothesis's buffer and under a second, whatever the
# profile's limits say.
DRAW_CAP = 1500
# draws of a parallel assignment's value that may not be a bare reference
UNPACK_DRAWS = 4


@dataclass
class _Local:
    ty: DType
    kind: str  # "local", "loop", "counter", "thread", "param", "constant"
    interval: Interval | None = None
    base: Interval | None = None  # int locals: where reassignments are clamped to
    loop_level: int = 0  # how many loops enclosed the declaration
    reserve_used: int = 0
    # a struct's leaf field: the struct variable's type (scope key "s.f.g")
    root: DType | None = None
    unrolled: bool = False  # a loop variable of a literal-bound loop: static() may read it


@dataclass
class _Context:
    """What is in scope while one definition is being generated."""

    in_kernel: bool
    arrays: dict[str, ArrayType]
    # the kernel's two-dimensional arrays, kept apart from `arrays` (whose
    # reads, stores and atomics name one index)
    arrays2d: dict[str, ArrayType] = field(default_factory=dict)
    scopes: list[dict[str, _Local]] = field(default_factory=lambda: [{}])
    loop_trips: list[int] = field(default_factory=list)  # trip bound of each enclosing loop
    # with "exit-beside-static" avoided, what the loop nest drawn has taken
    # first, which rules out the other: "exits" (a break or continue) or
    # "statics" (a static() reading a loop variable)
    nest_mode: str | None = None
    block_level: int = 0
    in_branch_of_loop: bool = False  # break/continue are allowed here
    budget: int = 40
    wrote: bool = False
    # the atomic class ("add", "min" or "max") each Acc array is committed to
    acc_class: dict[str, str] = field(default_factory=dict)
    # locals, loop variables and counters whose block has ended, with their
    # type: a later declaration of that type may take the name again
    dead: dict[str, DType] = field(default_factory=dict)

    def bury(self, scope: dict[str, _Local]) -> None:
        for name, local in scope.items():
            if local.kind in ("local", "loop", "counter") and local.root is None and not local.ty.is_struct:
                self.dead[name] = local.ty

    def all_symbols(self):
        seen = {}
        for scope in self.scopes:
            seen.update(scope)
        return seen


class Gen:
    """One program's generation: every choice goes through `self.integer`."""

    def __init__(self, integer, weights: Weights, features: frozenset[str], category: str | None, flat: bool = False):
        self._integer = integer
        # no compound statement inside another (a draw aimed at a category
        # alone, when nesting would give it another)
        self.flat = flat
        # above zero while drawing an operand whose non-finite value the
        # backends do not define alike (a builtin's argument, an atomic min
        # or max, a float cast to an integer): float divisors there stay
        # guarded (`finite`, float_divisor)
        self.finite_only = 0
        # above zero while drawing a helper that must not call grad() (passed_helper)
        self.no_grad = 0
        self.draws = 0
        self.w = weights
        self.features = features
        self.category = category
        self.names: dict[str, int] = {}
        self.funcs: list[A.Func] = []
        self.depth: dict[str, int] = {}  # helper -> its depth of helper calls (1: calls none)
        self.structs: list[DType] = []
        # structs that hold In arrays: kernel parameters only, kept apart from
        # `structs` (which helpers, locals and nested fields draw from)
        self.array_structs: list[DType] = []
        self.effectful: set[str] = set()
        self.helper_acc: dict[str, dict[str, str]] = {}  # helper -> Acc parameter -> class
        self.constant_scope: dict[str, _Local] = {}  # the program's constants, in every definition
        self.constant_values: dict[str, int | float] = {}
        self.off = disabled_alternatives(features)
        self.max_trip = weights.limit("max_trip")

    # -- choices

    def with_constants(self, scope: dict) -> dict:
        """A definition's outermost scope, holding the program's constants."""
        scope.update(self.constant_scope)
        return scope

    def integer(self, lo: int, hi: int) -> int:
        self.draws += 1
        return self._integer(lo, hi)

    @property
    def exhausted(self) -> bool:
        """Past the draw cap: finish with leaves and simple statements only."""
        return self.draws > DRAW_CAP

    def choose(self, rule: str, allowed=None) -> str:
        options = [
            (alt, weight)
            for alt, weight in self.w.rule(rule)
            if weight > 0 and (rule, alt) not in self.off and (allowed is None or alt in allowed)
        ]
        if not options:
            raise _NoChoice(rule)
        return weighted_choice(self.integer, options)

    def length(self, name: str, at_least: int = 0) -> int:
        options = [(n, w) for n, w in self.w.length(name) if w > 0 and n >= at_least]
        if not options:
            return at_least
        return weighted_choice(self.integer, options)

    def boolean(self) -> bool:
        return self.integer(0, 1) == 1

    def fresh(self, prefix: str) -> str:
        n = self.names.get(prefix, 0)
        self.names[prefix] = n + 1
        return f"{prefix}{n}"

    def value_type(self, allowed=None) -> DType:
        return TYPES[self.choose("value_type", allowed)]

    # -- literals

    def float_literal(self, ty: DType) -> A.Const:
        kind = self.choose("float_literal")
        if kind == "zero":
            value = 0.0
        elif kind == "one":
            value = 1.0
        elif kind == "small":
            value = self.integer(1, 16) / 4
        elif kind == "large":
            value = float(10 ** self.integer(1, 3))
        else:
            value = self.integer(1, 9) / 1000
        return self.spelled(A.Const(value, ty))

    def spelled(self, literal: A.Const) -> A.Const:
        """A float32 or int32 literal, plain (`1.5`) or typed (`float32(1.5)`)."""
        if literal.ty.name in ("float32", "int32") and self.choose("literal_spelling") == "typed":
            return A.Const(literal.value, literal.ty, typed=True)
        return literal

    def int_literal(self, ty: DType) -> A.Const:
        kind = self.choose("int_literal")
        if kind == "zero":
            value = 0
        elif kind == "one":
            value = 1
        elif kind == "small":
            value = self.integer(2, 16)
        else:
            value = self.integer(100, 1000)
        return self.spelled(A.Const(value, ty))

    # -- programs

    def program(self) -> A.Program:
        self.constant_defs = [self.constant() for _ in range(self.length("constants"))]
        if "structs" in self.features:
            for _ in range(self.length("structs")):
                self.structs.append(self.struct())
        helpers = self.length("helpers") if "helpers" in self.features else 0
        for _ in range(helpers):
            self.funcs.extend(self.helper_definitions())
        kernel = self.kernel()
        # drawn last, so that every earlier choice is what it was before
        # programs had launch sizes
        # arrays are as long as the launch: a tile loaded from one must fit
        tiles = [node.size for node in A.walk(kernel) if isinstance(node, A.TileLoad)]
        kernel = replace(kernel, launch=max([self.launch_size(), *tiles]))
        defs = tuple(A.StructDef(t.name, tuple(A.Param(n, ty) for n, ty in t.fields)) for t in self.structs + self.array_structs)
        return A.Program(tuple(self.funcs), (kernel,), defs, tuple(self.constant_defs))

    def launch_size(self) -> int:
        """The kernel's thread count: a decade (weights: launch_size), then a
        size inside it, odd three times in four (a size that is no multiple of
        a vector width leaves a remainder for vectorised code to get wrong)."""
        lo, hi = LAUNCH_DECADES[self.choose("launch_size")]
        size = self.integer(lo, hi)
        if size % 2 == 0 and size < hi and self.integer(0, 3) != 0:
            size += 1
        return size

    def constant(self) -> A.ConstDef:
        """`C = constant(lit)` or `C = constant(vec3(lit, lit, lit))`: read in
        every definition as a parameter is."""
        ty = TYPES[self.choose("constant_type")]
        name = self.fresh("C")
        if ty.is_vector or ty.is_matrix:  # a constructor of bare float32 literals, each maybe negated
            parts = [self.constant_literal(F32) for _ in range(ty.length)]
            self.constant_scope[name] = _Local(ty, "constant", None)
            self.constant_values[name] = tuple(signed for _, signed in parts)
            return A.ConstDef(name, A.Construct(ty, tuple(value for value, _ in parts), ty))
        value, signed = self.constant_literal(ty)
        self.constant_scope[name] = _Local(ty, "constant", (signed, signed) if ty.is_int else None)
        self.constant_values[name] = signed
        return A.ConstDef(name, value)

    def constant_literal(self, ty: DType) -> tuple[A.Expr, int | float]:
        """A literal of `ty` as a constant holds it (plain: its type is the
        constant's), negated at times where the type is signed; and its value."""
        literal = self.int_literal(ty) if ty.is_int else self.float_literal(ty)
        value: A.Expr = A.Const(literal.value, ty)
        if literal.value and ty.signed and self.boolean():
            return A.Neg(value, ty), -literal.value
        return value, literal.value

    def trip_constant(self) -> str:
        """A new int32 constant of 1 .. max_trip, for a loop to be bounded by;
        it is the program's (every definition may read it) from here on."""
        name, trip = self.fresh("C"), self.integer(1, self.max_trip)
        local = self.constant_scope[name] = _Local(I32, "constant", (trip, trip))
        self.constant_values[name] = trip
        self.constant_defs.append(A.ConstDef(name, A.Const(trip, I32)))
        self.ctx.scopes[0][name] = local
        return name

    def struct(self) -> DType:
        """A struct type of value fields, and sometimes an earlier struct."""
        fields = []
        for k in range(self.length("struct_fields", at_least=1)):
            if self.structs and self.choose("field_type") == "struct":
                ty = self.pick(self.structs)
            else:
                ty = self.value_type()
            fields.append((f"m{k}", ty))
        return struct_type(self.fresh("S"), fields)

    def array_struct(self) -> DType:
        """A struct of arrays (one, sometimes two; In or Out) and value fields,
        for a kernel parameter: `p.m0[i]` is read or stored wherever an
        array of its role is."""
        count = self.length("struct_fields", at_least=1)
        arrays = {0} | ({self.integer(0, count - 1)} if count > 1 and self.boolean() else set())
        # the array field's place among the fields is drawn too: Warp lays a struct out in field order
        shift = self.integer(0, count - 1)
        fields = []
        for k in range(count):
            if (k - shift) % count in arrays:
                role = Role.IN if self.choose("struct_array_role") == "in" else Role.OUT
                fields.append((f"m{k}", ArrayType(self.value_type(), role)))
            else:
                fields.append((f"m{k}", self.value_type()))
        ty = struct_type(self.fresh("S"), fields)
        self.array_structs.append(ty)
        return ty

    def bind(self, scope: dict, name: str, ty: DType, kind: str, leaf_kind: str, intervals=None) -> None:
        """Put struct variable `name` in `scope` (kind "struct") with each leaf
        field as a pseudo-local "name.f.g" of `leaf_kind` ("param" or "local")."""
        scope[name] = _Local(ty, kind)
        for k, (path, leaf_ty) in enumerate(ty.leaves()):
            if isinstance(leaf_ty, ArrayType):  # read through ctx.arrays, as "name.f"
                continue
            key = ".".join((name, *path))
            if leaf_kind == "param":
                local = _Local(leaf_ty, "param", param_interval(leaf_ty))
            else:
                local = self.local_like(leaf_ty, intervals[k] if intervals else None)
            local.root = ty
            scope[key] = local

    def local_like(self, ty: DType, iv) -> _Local:
        """A local of `ty` whose value lies in `iv` (unknown: the type's range)."""
        local = _Local(ty, "local", loop_level=len(self.ctx.loop_trips))
        if ty.is_int:
            iv = iv or type_interval(ty)
            if ty.signed:
                base = max(abs(iv[0]), abs(iv[1]), INT_BASE)
                local.base = (-base, base)
                local.interval = (-base - INT_RESERVE, base + INT_RESERVE)
            else:
                local.base = local.interval = (0, U32_MAX)
        return local

    def ref(self, name: str, local: _Local) -> A.Expr:
        """The expression naming a local: `v`, or `s.f.g` for a struct's leaf."""
        if local.root is None:
            return A.Name(name, local.ty)
        root, *path = name.split(".")
        node: A.Expr = A.Name(root, local.root)
        ty = local.root
        for part in path:
            ty = ty.field(part)
            node = A.Field(node, part, ty)
        return node

    def structs_of(self, kinds=("struct", "struct_param"), ty: DType | None = None) -> list[tuple[str, _Local]]:
        return self.locals_of(lambda s: s.kind in kinds and (ty is None or s.ty == ty))

    def struct_value(self, ty: DType) -> A.Expr:
        """A value of struct type `ty` that is not a call: a variable or `S()`."""
        names = self.structs_of(ty=ty)
        if names and self.boolean():
            return A.Name(self.pick(names)[0], ty)
        return A.StructNew(ty.name, ty)

    def helper_definitions(self) -> list[A.Func]:
        """One helper, or the several definitions of an overloaded one."""
        kinds = {"pure", "multi", "overloaded", "higher_order", "native"} | ({"generic"} if len(self.generic_types()) >= 2 else set()) | ({"effectful"} if "atomics" in self.features else set()) | ({"struct"} if self.structs else set())
        kind = self.choose("helper_kind", kinds)
        if kind == "generic":
            return [self.generic_helper()]
        if kind == "overloaded":
            return self.overloads()
        if kind == "native":
            return [self.native_helper()]
        if kind == "higher_order":
            # a helper to pass for its Function parameter first, where no earlier one will do
            passed = [] if self.function_helpers() else [self.passed_helper()]
            return passed + [self.higher_order_helper()]
        return [self.helper(kind)]

    def passed_helper(self) -> A.Func:
        """A pure float32 helper to pass for a Function parameter; one that
        calls grad() where "grad-helper-in-helper" is avoided could not be."""
        self.no_grad += "grad-helper-in-helper" in self.w.avoid
        try:
            return self.helper("pure", types=(F32,), ret=F32)
        finally:
            self.no_grad -= "grad-helper-in-helper" in self.w.avoid

    def native_helper(self) -> A.Func:
        """`@native def f(a: float32, ...) -> float32: return e`, `e` of the
        parameters, float literals, + - * and negation (what Warp compiles
        from the C++ the renderer writes)."""
        name = self.fresh("f")
        params = tuple(A.Param(self.fresh("a"), F32) for _ in range(self.length("helper_params", at_least=1)))
        value = self.native_expr([p.name for p in params], self.expr_depth() + 1)
        func = A.Func(name, params, F32, (A.Return(value),), native=True)
        self.helper_acc[name] = {}
        self.note_depth(func)
        return func

    def native_expr(self, names: list[str], depth: int) -> A.Expr:
        kind = self.choose("native_expr", {"param", "const"} | ({"binop", "neg"} if depth > 0 else set()))
        if kind == "binop":
            op = {"add": "+", "sub": "-", "mul": "*"}[self.choose("float_binop", ("add", "sub", "mul"))]
            return A.BinOp(op, self.native_expr(names, depth - 1), self.native_expr(names, depth - 1), F32)
        if kind == "neg":
            return A.Neg(self.native_expr(names, depth - 1), F32)
        if kind == "const":
            return self.float_literal(F32)
        return A.Name(self.pick(names), F32)

    def function_targets(self) -> list[str]:
        """What a call may pass for a Function parameter: the Function
        parameters in scope, and the earlier helpers of one definition taking
        one float32 and returning float32, without side effects."""
        return [n for n, s in self.ctx.all_symbols().items() if s.kind == "function"] + self.function_helpers()

    def function_helpers(self) -> list[str]:
        return [
            f.name for f in self.funcs
            if tuple(p.ty for p in f.params) == (F32,) and f.ret == F32 and f.name not in self.effectful and sum(g.name == f.name for g in self.funcs) == 1
            and f.name not in self.grad_helpers_banned(passed=True)
        ]

    def grad_helpers_banned(self, passed: bool = False) -> set[str]:
        """With "grad-helper-in-helper" avoided, the helpers that call grad(),
        which a helper may not call, nor anything be passed (a helper calls
        what it is passed)."""
        if "grad-helper-in-helper" not in self.w.avoid or not (passed or not self.ctx.in_kernel):
            return set()
        return grad_helpers(self.funcs)

    def higher_order_helper(self) -> A.Func:
        """`def h(fn: Function, a: ...) -> float32`: a body that calls `fn`
        (`v = fn(e)`, after a call of an earlier helper where the rule
        helper_nesting says so), may pass `fn` on to an earlier helper taking
        a Function, then statements, and a float32 returned."""
        name, fn = self.fresh("h"), self.fresh("fn")
        self.ctx = ctx = _Context(in_kernel=False, arrays={}, scopes=[self.with_constants({})], budget=8)
        ctx.scopes[0][fn] = _Local(FUNCTION, "function")
        params = [A.Param(fn, FUNCTION)]
        for _ in range(self.length("helper_params", at_least=1)):
            pname, ty = self.fresh("a"), self.value_type()
            ctx.scopes[0][pname] = _Local(ty, "param", param_interval(ty))
            params.append(A.Param(pname, ty))
        body = [*self.nested_call(), self.declare(F32, A.Call(fn, (self.expr(F32, self.expr_depth()),), F32))]
        takers = [f.name for f in self.funcs if takes_functions(f) and f.name not in self.grad_helpers_banned()]
        if takers and self.boolean():  # an earlier one, passed this helper's Function on
            call = self.helper_call(self.pick(takers))
            body.append(self.declare(F32, replace(call, args=tuple(A.Name(fn, FUNCTION) if a.ty == FUNCTION else a for a in call.args))))
        for _ in range(self.length("helper_statements")):
            body.extend(self.statement(simple_only=True))
        body.append(A.Return(self.expr(F32, self.expr_depth())))
        func = A.Func(name, tuple(params), F32, tuple(body))
        self.helper_acc[name] = dict(ctx.acc_class)
        self.note_depth(func)
        if any(isinstance(s, A.CallStmt) for s in body):
            self.effectful.add(name)
        return func

    def overloads(self) -> list[A.Func]:
        """Pure helpers of one name, each with other parameter types (Warp's
        overloads of a @wp.func); a draw that repeats a signature is dropped."""
        name = self.fresh("f")
        out: list[A.Func] = []
        seen: set[tuple] = set()
        for _ in range(self.length("overloads", at_least=2)):
            types = tuple(self.value_type() for _ in range(self.length("helper_params", at_least=1)))
            if types in seen:
                continue
            seen.add(types)
            out.append(self.helper("pure", name=name, types=types))
        return out

    def nested_call(self) -> list:
        """`v = f(...)` of one of the deepest earlier helpers this helper can
        call (no side effects, one value), when the rule helper_nesting says
        so: chains of helpers calling helpers, several levels deep."""
        callees = [n for n in self.callable_helpers() if n not in self.effectful]
        if not callees or self.choose("helper_nesting") != "call":
            return []
        deepest = max(self.depth.get(n, 1) for n in callees)
        call = self.helper_call(self.pick([n for n in callees if self.depth.get(n, 1) == deepest]))
        return [self.declare(call.ty, call)]

    def generic_helper(self) -> A.Func:
        """`def g(a: Any, ...) -> Any`: a body of locals and a return built
        from its Any parameters by +, - and negation, and calls of earlier
        generic helpers (grammar/SEMANTICS.md, Generic helpers). With the
        rule generic_return at `concrete`, `def g(a: Any, ..., s: float32) ->
        float32`: the same locals, and a float32 expression of `s` returned."""
        name = self.fresh("g")
        params = tuple(A.Param(self.fresh("a"), ANY) for _ in range(self.length("helper_params", at_least=1)))
        names = [p.name for p in params]
        body = []
        for _ in range(self.length("helper_statements")):
            local = self.fresh("t")
            body.append(A.Assign(A.Name(local, ANY), self.generic_expr(names, self.expr_depth())))
            names.append(local)
        if self.choose("generic_return") == "concrete":
            self.ctx = _Context(in_kernel=False, arrays={}, scopes=[self.with_constants({})], budget=8)
            scalar = self.fresh("a")
            self.ctx.scopes[0][scalar] = _Local(F32, "param", param_interval(F32))
            params += (A.Param(scalar, F32),)
            ret, value = F32, self.expr(F32, self.expr_depth())
        else:
            ret, value = ANY, self.generic_expr(names, self.expr_depth())
        body.append(A.Return(value))
        self.helper_acc[name] = {}
        func = A.Func(name, params, ret, tuple(body))
        self.note_depth(func)
        return func

    def note_depth(self, func: A.Func) -> None:
        """Record `func`'s depth: 1, or one more than the deepest helper it calls."""
        called = [self.depth[n.func] for n in A.walk(func) if isinstance(n, A.Call) and n.func in self.depth]
        self.depth[func.name] = max(self.depth.get(func.name, 0), 1 + max(called, default=0))

    def generic_expr(self, names: list[str], depth: int) -> A.Expr:
        callees = [f for f in self.funcs if f.ret == ANY]
        options = {"name"} | ({"sum", "neg"} | ({"generic_call"} if callees else set()) if depth > 0 and not self.exhausted else set())
        kind = self.choose("generic_expr", options)
        if kind == "sum":
            op = "+" if self.boolean() else "-"
            return A.BinOp(op, self.generic_expr(names, depth - 1), self.generic_expr(names, depth - 1), ANY)
        if kind == "neg":
            return A.Neg(self.generic_expr(names, depth - 1), ANY)
        if kind == "generic_call":
            callee = self.pick(callees)  # every parameter of a generic returning Any is Any
            return A.Call(callee.name, tuple(self.generic_expr(names, depth - 1) for _ in callee.params), ANY)
        return A.Name(self.pick(names), ANY)

    def helper(self, kind: str, name: str | None = None, types: tuple | None = None, ret: DType | None = None) -> A.Func:
        name = name or self.fresh("f")
        effectful = kind == "effectful"
        params = []
        ctx = _Context(in_kernel=False, arrays={}, scopes=[self.with_constants({})], budget=8)
        self.ctx = ctx
        for ty in types or [None] * self.length("helper_params", at_least=1):
            pname = self.fresh("a")
            if ty is not None:
                ctx.scopes[0][pname] = _Local(ty, "param", param_interval(ty))
            elif self.structs and self.choose("param_type") == "struct":
                ty = self.pick(self.structs)
                self.bind(ctx.scopes[0], pname, ty, "struct_param", "param")
            else:
                ty = self.value_type()
                ctx.scopes[0][pname] = _Local(ty, "param", param_interval(ty))
            params.append(A.Param(pname, ty))
        if effectful:
            elem = TYPES[self.choose("acc_elem", ("float32", "int32", "uint32", "vec3"))]
            pname = self.fresh("acc")
            params.append(A.Param(pname, ArrayType(elem, Role.ACC)))
            ctx.arrays[pname] = ArrayType(elem, Role.ACC)
        body = []
        if effectful:
            body.append(self.atomic())
        if kind == "struct":
            ret = self.pick(self.structs)
            built = self.fresh("r")
            body.append(A.Assign(A.Name(built, ret), A.StructNew(ret.name, ret)))
            self.bind(ctx.scopes[-1], built, ret, "struct", "local", [(0, 0)] * len(ret.leaves()))
        body.extend(self.nested_call())
        for _ in range(self.length("helper_statements")):
            body.extend(self.statement(simple_only=True))
        if kind == "struct":
            for _ in range(self.length("struct_fields", at_least=1)):
                body.append(self.field_write(built))
            value = A.Name(built, ret)
        elif kind == "multi":
            ret = TupleType(tuple(self.value_type() for _ in range(self.length("returned", at_least=2))))
            value = A.TupleExpr(tuple(self.expr(t, self.expr_depth()) for t in ret.elems), ret)
        else:
            ret = ret or self.value_type()
            value = self.expr(ret, self.expr_depth())
        body.append(A.Return(value))
        func = A.Func(name, tuple(params), ret, tuple(body))
        self.helper_acc[name] = dict(ctx.acc_class)
        self.note_depth(func)
        if effectful or any(isinstance(s, A.CallStmt) for s in body):
            self.effectful.add(name)
        return func

    def kernel(self) -> A.Kernel:
        need = CATEGORY_NEEDS.get(self.category, {})
        arrays: dict[str, ArrayType] = {}
        params: list[A.Param] = []
        scope: dict[str, _Local] = {}

        def add_array(prefix: str, role: Role, elem: DType | None = None) -> str:
            if elem is None:
                elem = self.value_type()
                if role in (Role.INOUT,) and elem.is_int:
                    elem = F32  # int InOut elements would escape interval tracking
            name = self.fresh(prefix)
            arrays[name] = ArrayType(elem, role)
            params.append(A.Param(name, arrays[name]))
            return name

        for _ in range(self.length("in_arrays", at_least=need.get("in_arrays", 0))):
            add_array("x", Role.IN)
        for _ in range(self.length("inout_arrays")):
            add_array("io", Role.INOUT)
        acc_count = self.length("acc_arrays", at_least=need.get("acc_arrays", 0)) if "atomics" in self.features else 0
        for _ in range(acc_count):
            add_array("acc", Role.ACC, TYPES[self.choose("acc_elem")])
        for func in self.funcs:  # let the kernel call effectful helpers
            for p in func.params:
                if isinstance(p.ty, ArrayType) and p.ty not in arrays.values():
                    add_array("acc", Role.ACC, p.ty.elem)
        for _ in range(self.length("out_arrays", at_least=need.get("out_arrays", 0))):
            add_array("out", Role.OUT)
        if not any(a.role is not Role.IN for a in arrays.values()):
            add_array("out", Role.OUT)
        arrays2d: dict[str, ArrayType] = {}
        for _ in range(self.length("arrays_2d")):
            role = {"in": Role.IN, "out": Role.OUT, "inout": Role.INOUT}[self.choose("array2d_role")]
            elem = self.value_type()
            if role is Role.INOUT and elem.is_int:
                elem = F32  # as for one-dimensional InOut arrays: int elements would escape interval tracking
            name = self.fresh("g")
            arrays2d[name] = ArrayType(elem, role, ndim=2)
            params.append(A.Param(name, arrays2d[name]))
        for _ in range(self.length("scalar_params", at_least=need.get("scalar_params", 0))):
            ty = self.value_type()
            name = self.fresh("s")
            params.append(A.Param(name, ty))
            scope[name] = _Local(ty, "param", param_interval(ty))
        if self.structs:
            for _ in range(self.length("struct_params")):
                ty = self.pick(self.structs)
                name = self.fresh("p")
                params.append(A.Param(name, ty))
                self.bind(scope, name, ty, "struct_param", "param")
        if "structs" in self.features and self.choose("struct_array") == "param":
            ty = self.array_struct()
            name = self.fresh("p")
            params.append(A.Param(name, ty))
            # its own kind: never copied, passed to a helper or nested (grammar/SEMANTICS.md)
            self.bind(scope, name, ty, "array_struct_param", "param")
            for field_name, array in ty.array_fields:
                arrays[f"{name}.{field_name}"] = array
        if need.get("elementwise"):
            # two readable arrays and an output of one element type
            ty = F32
            for _ in range(2):
                add_array("x", Role.IN, ty)
            add_array("out", Role.OUT, ty)
        if need.get("scalar_array"):
            add_array("x", Role.IN, F32)
            add_array("out", Role.OUT, F32)
            name = self.fresh("s")
            params.append(A.Param(name, F32))
            scope[name] = _Local(F32, "param", None)

        budget = self.w.limit("max_statements")
        self.ctx = ctx = _Context(in_kernel=True, arrays=arrays, scopes=[self.with_constants(scope)], budget=budget, arrays2d=arrays2d)
        ctx.scopes.append({"i": _Local(I32, "thread", (0, MAX_LAUNCH - 1))})
        body: list = [A.Assign(A.Name("i", I32), A.Tid(I32))]
        count = self.length("kernel_statements", at_least=need.get("statements", 1))
        forced = list(need.get("seeds", ()))
        positions = sorted(self.integer(0, count) for _ in forced)
        made = 0
        for index in range(count + 1):
            while forced and positions and positions[0] == index:
                positions.pop(0)
                body.extend(self.seed(forced.pop(0)))
            if index < count and not (made and self.exhausted):
                body.extend(self.statement())
                made += 1
        body.extend(self.uncalled_helper_calls(body))
        if not ctx.wrote:
            body.append(self.output_write())
        return A.Kernel(self.fresh("k"), tuple(params), tuple(body))

    def uncalled_helper_calls(self, body: list) -> list:
        """A call of each helper nothing calls yet, where one can be made.

        Warp generates code for a helper only when a kernel calls it: the
        expression rules reach a helper only through its return type, and
        29 of 40 programs with helpers called none of them (seed 0), so
        their bodies were never compiled at all."""
        called = {
            node.func if isinstance(node, A.Call) else node.call.func
            for tree in list(body) + list(self.funcs)
            for node in A.walk(tree)
            if isinstance(node, (A.Call, A.CallStmt))
        }
        calls = []
        for func in self.funcs:
            if func.name in called or func.name not in self.callable_helpers(statement=True):
                continue
            if is_generic(func) or sum(f.name == func.name for f in self.funcs) > 1:
                continue  # generic and overloaded helpers: instance_calls
            if _called_whole(func):
                calls.append(self.whole_call(func.name))
            elif func.name in self.effectful:
                calls.append(self.effect_statement(func.name))
            else:
                calls.append(self.declare(func.ret, self.helper_call(func.name)))
            called.add(func.name)
        calls.extend(self.instance_calls(list(body) + calls))
        return calls

    def instance_calls(self, body: list) -> list:
        """Calls that make each generic helper run at two types at least and
        each overload run at all, where the kernel's calls do not already."""
        made = [(n.func, tuple(a.ty for a in n.args)) for tree in list(body) + list(self.funcs) for n in A.walk(tree) if isinstance(n, A.Call)]
        calls = []
        for func in self.funcs:
            if is_generic(func):
                bound = {call_binding(func, n) for tree in body for n in A.walk(tree) if isinstance(n, A.Call) and n.func == func.name}
                while len(bound) < 2:
                    ty = self.generic_call_type(exclude=bound)
                    if ty is None:
                        break
                    bound.add(ty)
                    call = self.helper_call(func.name, bind=ty)
                    calls.append(self.declare(call.ty, call))
            elif sum(f.name == func.name for f in self.funcs) > 1 and (func.name, tuple(p.ty for p in func.params)) not in made:
                calls.append(self.declare(func.ret, self.helper_call(func.name, func=func)))
        return calls

    # -- category seeds: a statement shape that guarantees a feature

    def seed(self, kind: str) -> list:
        ctx = self.ctx
        if kind == "elementwise":
            ins = [n for n, a in ctx.arrays.items() if a.role is Role.IN and a.elem == F32]
            out = next(n for n, a in ctx.arrays.items() if a.role is Role.OUT and a.elem == F32)
            op = {"add": "+", "sub": "-", "mul": "*"}[self.choose("float_binop", ("add", "sub", "mul"))]
            left, right = ins[-2], ins[-1]
            ctx.wrote = True
            return [A.Assign(A.ArrayRead(out, self.thread(), F32), A.BinOp(op, self.read(left, F32), self.read(right, F32), F32))]
        if kind == "scalar_array":
            scalar = next(n for n, s in ctx.scopes[0].items() if s.ty == F32 and s.kind == "param" and s.root is None)
            array = [n for n, a in ctx.arrays.items() if a.role is Role.IN and a.elem == F32][-1]
            out = [n for n, a in ctx.arrays.items() if a.role is Role.OUT and a.elem == F32][-1]
            op = {"add": "+", "sub": "-", "mul": "*"}[self.choose("float_binop", ("add", "sub", "mul"))]
            ctx.wrote = True
            return [A.Assign(A.ArrayRead(out, self.thread(), F32), A.BinOp(op, A.Name(scalar, F32), self.read(array, F32), F32))]
        if kind == "unary":
            name = self.choose("float_call", [n for n, op in BUILTINS.items() if op.result((F32,)) == F32])
            call = self.builtin_call(name, F32, self.expr_depth() + 1)
            return [self.declare(F32, call)]
        if kind == "vector":
            ty = self.value_type(("vec2", "vec3", "vec4"))
            return [self.declare(ty, self.expr(ty, self.expr_depth()))]
        if kind == "branch":
            return [self.if_stmt(self.choose("if_form"))]
        if kind == "multi_conditional":
            return [self.if_stmt("if_elif")]
        if kind == "nested_branch":
            return [self.if_stmt(self.choose("if_form"), inner="if")]
        if kind == "loop":
            return [self.for_stmt() if self.choose("statement", ("for", "while")) == "for" else self.while_stmt()]
        if kind == "nested_loop":
            return [self.for_stmt(inner="loop")]
        if kind == "reduction":
            return [self.atomic()]
        if kind == "assign":
            ty = self.value_type()
            return [self.declare(ty, self.expr(ty, self.expr_depth()))]
        raise AssertionError(kind)

    # -- statements

    def expr_depth(self) -> int:
        return min(self.length("expr_depth"), self.w.limit("expr_depth"))

    def statement(self, simple_only: bool = False) -> list:
        ctx = self.ctx
        ctx.budget -= 1
        if self.exhausted:
            ctx.budget = min(ctx.budget, 0)
        allowed = {"assign", "reassign", "aug_assign", "component_assign", "parallel_assign"}
        if ctx.in_kernel:
            allowed |= {"store"}
        if any(a.role is Role.ACC for a in ctx.arrays.values()):
            allowed.add("atomic")
        if ctx.in_kernel and self.atomic_value_arrays():
            allowed.add("atomic_value")
        if self.callable_helpers(statement=True):
            allowed.add("call")
        if self.structs:
            allowed.add("struct_local")
        compound_ok = self.can_nest()
        if compound_ok and (ctx.in_kernel or not simple_only):
            allowed.add("if")
            if len(ctx.loop_trips) < self.w.limit("loop_depth"):
                allowed |= {"for", "while"}
        if (ctx.in_branch_of_loop or (ctx.loop_trips and "branches" in self.features and compound_ok)) and ctx.nest_mode != "statics":
            # in a branch as it is; directly in a loop body under an `if` of its own
            allowed |= {"break", "continue"}
        if not self.locals_of(lambda s: s.kind == "local"):
            allowed.discard("reassign")
            allowed.discard("parallel_assign")  # with no local to reassign, it would only declare
        if not self.locals_of(lambda s: s.kind == "local" and s.ty.is_vector) and not self.vector_elements() and "matrices" not in self.features:
            allowed.discard("component_assign")
        kind = self.choose("statement", allowed)
        if kind == "assign":
            ty = self.value_type()
            return [self.declare(ty, self.expr(ty, self.expr_depth()))]
        if kind == "reassign":
            return [self.reassign()]
        if kind == "parallel_assign":
            return [self.parallel_assign()]
        if kind == "struct_local":
            return [self.struct_local()]
        if kind == "aug_assign":
            return self.aug_assign()
        if kind == "store":
            return [self.output_write(store_only=True)]
        if kind == "component_assign":
            declared, target = self.component_target()
            return declared + [A.Assign(target, self.expr(target.ty, self.expr_depth()))]
        if kind == "atomic":
            return [self.atomic()]
        if kind == "atomic_value":
            return [self.atomic_value()]
        if kind == "call":
            return [self.call_stmt()]
        if kind == "if":
            return [self.if_stmt(self.choose("if_form"))]
        if kind == "for":
            return [self.for_stmt()]
        if kind == "while":
            return [self.while_stmt()]
        exit_stmt = A.Break() if kind == "break" else A.Continue()
        self.nest_takes("exits")
        if ctx.in_branch_of_loop:
            return [exit_stmt]
        return [A.If(self.bool_expr(self.expr_depth()), (exit_stmt,))]

    def can_nest(self) -> bool:
        """Room for one more compound statement: budget and block depth."""
        return self.ctx.budget > 0 and self.ctx.block_level < (1 if self.flat else self.w.limit("block_depth"))

    def block(self, count: int | None = None, *, loop_trip: int | None = None, branch: bool = False, inner: str | None = None, closing=None) -> tuple:
        """A block's statements in a scope of its own; `closing()`, when
        given, draws statements that end it (before a final break or
        continue), in its scope."""
        ctx = self.ctx
        saved = ctx.in_branch_of_loop
        ctx.scopes.append({})
        ctx.block_level += 1
        if loop_trip is not None:
            ctx.loop_trips.append(loop_trip)
            ctx.in_branch_of_loop = False
        elif branch and ctx.loop_trips:
            ctx.in_branch_of_loop = True
        try:
            out: list = []
            n = count if count is not None else self.length("block_statements")
            seed_at = self.integer(0, max(n - 1, 0)) if inner else -1
            for index in range(max(n, 1)):
                if index and self.exhausted and index != seed_at:
                    continue
                if index == seed_at:
                    out.extend(self.seed_inner(inner))
                    continue
                stmts = self.statement()
                out.extend(stmts)
                if isinstance(stmts[-1], (A.Break, A.Continue)):
                    break  # anything after it would be dead code
            if closing is not None:
                at = len(out) - 1 if out and isinstance(out[-1], (A.Break, A.Continue)) else len(out)
                out[at:at] = closing()
            return tuple(out)
        finally:
            ctx.block_level -= 1
            ctx.bury(ctx.scopes.pop())
            if loop_trip is not None:
                ctx.loop_trips.pop()
            ctx.in_branch_of_loop = saved

    def seed_inner(self, inner: str) -> list:
        if inner == "if":
            return [self.if_stmt(self.choose("if_form"))]
        return [self.for_stmt() if self.choose("statement", ("for", "while")) == "for" else self.while_stmt()]

    def name_for(self, ty: DType, prefix: str) -> str:
        """The name of a new local of `ty`: fresh, or again one whose block
        has ended. Warp scopes names per function, as Python does, so a name
        reused keeps its type."""
        visible = self.ctx.all_symbols()
        dead = [name for name, was in self.ctx.dead.items() if was == ty and name not in visible]
        if dead and self.choose("name_choice") == "reuse":
            return self.pick(dead)
        return self.fresh(prefix)

    def declare(self, ty: DType, value) -> A.Assign:
        expr, iv = value if isinstance(value, tuple) else (value, None)
        name = self.name_for(ty, "v")
        self.ctx.scopes[-1][name] = self.local_like(ty, iv)
        return A.Assign(A.Name(name, ty), expr)

    def reassign(self) -> A.Assign:
        name, local = self.pick_local(lambda s: s.kind == "local")
        value = self.expr(local.ty, self.expr_depth(), with_interval=True)
        expr, iv = value
        if local.ty.is_int and local.ty.signed and not within(iv, local.base):
            expr = clamp(expr, local.base, local.ty)
        return A.Assign(self.ref(name, local), expr)

    def parallel_assign(self) -> A.Unpack:
        """`a, b = x, y`: every value evaluated, then every name assigned.
        `swap` rotates locals of one type (`a, b = b, a`); `values` gives two
        or three names (existing locals or new ones) a value each."""
        plain = [(n, s) for n, s in self.locals_of(lambda s: s.kind == "local" and s.root is None and not s.ty.is_struct)]
        by_type: dict[DType, list] = {}
        for name, local in plain:
            by_type.setdefault(local.ty, []).append((name, local))
        swappable = [ty for ty, group in by_type.items() if len(group) >= 2]
        if self.choose("parallel_form", None if swappable else ("values",)) == "swap":
            group = list(by_type[self.pick(swappable)])
            targets = [group.pop(self.integer(0, len(group) - 1)) for _ in range(min(len(group), self.integer(2, 3)))]
            values = [(self.ref(*t), t[1].interval) for t in targets[1:] + targets[:1]]
            return A.Unpack(tuple(self.ref(*t) for t in targets), self.parallel_values(targets, values))
        targets, values, new = [], [], []
        for _ in range(self.integer(2, 3)):
            free = [t for t in plain if t[0] not in {name for name, _ in targets}]
            if free and self.boolean():
                name, local = self.pick(free)
            else:
                local = self.local_like(self.value_type(), None)
                name = self.fresh("v")
                new.append((name, local))
            targets.append((name, local))
            values.append(self.unpack_value(local.ty))
        for name, local in new:  # declared once every value is drawn: no value reads them
            fitted = self.local_like(local.ty, dict(zip((n for n, _ in targets), (iv for _, iv in values)))[name])
            self.ctx.scopes[-1][name] = fitted
            targets = [(n, fitted if n == name else l) for n, l in targets]
        return A.Unpack(tuple(A.Name(n, l.ty) for n, l in targets), self.parallel_values(targets, values))

    def unpack_value(self, ty: DType) -> tuple[A.Expr, Interval | None]:
        """A value of a parallel assignment; with "unpack-reference" avoided,
        never one Warp would bind without a copy (queries.binds_reference:
        no bare variable at all, whether assigned there or not), drawn
        again, deeper, then a literal."""
        value = self.expr(ty, self.expr_depth(), with_interval=True)
        if "unpack-reference" not in self.w.avoid:
            return value
        for _ in range(UNPACK_DRAWS):
            if not binds_reference(value[0], set()):
                return value
            value = self.expr(ty, max(self.expr_depth(), 1), with_interval=True)
        if not binds_reference(value[0], set()):
            return value
        if ty.is_int:
            literal = self.int_literal(ty)
            return literal, (literal.value, literal.value)
        if ty.is_float:
            return self.float_literal(ty), None
        return A.Construct(ty, tuple(self.float_literal(F32) for _ in range(ty.length)), ty), None

    def parallel_values(self, targets, values) -> A.TupleExpr:
        """The values of a parallel assignment, each clamped into its target's
        range where an int local's reassignments are kept."""
        items = []
        for (_, local), (expr, iv) in zip(targets, values):
            if local.ty.is_int and local.ty.signed and local.base is not None and not within(iv, local.base):
                expr = clamp(expr, local.base, local.ty)
            items.append(expr)
        return A.TupleExpr(tuple(items), TupleType(tuple(local.ty for _, local in targets)))

    def aug_assign(self) -> list[A.Stmt]:
        """`t op= e` (or `t = t op e`), with the statements to run before it."""
        ctx = self.ctx
        targets = {"local"} if self.locals_of(lambda s: s.kind == "local" and not s.ty.is_matrix) else set()
        if ctx.in_kernel and any(a.role is Role.INOUT for a in (ctx.arrays | ctx.arrays2d).values()):
            targets.add("array")
        if self.component_targets(update=True):
            targets.add("component")
        fields = self.locals_of(lambda s: s.root is not None and s.kind == "local" and (s.ty.is_float or s.ty.is_vector))
        if fields:
            targets.add("field")
        if not targets:
            ty = self.value_type()
            return [self.declare(ty, self.expr(ty, self.expr_depth()))]
        where = self.choose("aug_target", targets)
        declared: list[A.Stmt] = []
        if where == "local":
            name, local = self.pick_local(lambda s: s.kind == "local" and not s.ty.is_matrix)
            target, ty = self.ref(name, local), local.ty
        elif where == "array":
            array = self.pick([n for n, a in (ctx.arrays | ctx.arrays2d).items() if a.role is Role.INOUT])
            if array in ctx.arrays2d:  # `g[i, clamp(e, 0, g.shape[1] - 1)] op= e`: the thread's own row
                ty = ctx.arrays2d[array].elem
                target = A.ArrayRead(array, self.thread(), ty, column=self.clamped_column(array, 0))
            else:
                ty = ctx.arrays[array].elem
                target = A.ArrayRead(array, self.thread(), ty)
            local = None
        elif where == "field":  # `s.f op= e`, or `s.v.x op= e` for a vector field
            name, leaf = self.pick(fields)
            target = self.ref(name, leaf)
            if leaf.ty.is_vector and self.choose("field_update") == "component":
                target = self.component(target, leaf.ty, 0)
            ty, local = target.ty, None
        else:  # a vector local's component, the thread's own InOut element's, a local matrix's row or element
            declared, target = self.component_target(update=True)
            ty, local = target.ty, None
        ops = {"add", "sub"}
        if ty.is_float or ty.is_vector or ty.is_matrix:
            ops |= {"mul", "div"} if not ty.is_matrix else {"mul"}
        if ty.is_int and not ty.signed:
            ops.add("mul")
        op = self.choose("aug_op", ops)
        symbol = {"add": "+=", "sub": "-=", "mul": "*=", "div": "/="}[op]
        expanded = self.choose("aug_spelling") == "expanded"
        value_ty = F32 if (ty.is_vector or ty.is_matrix) and op in ("mul", "div") else ty
        value, iv = self.expr(value_ty, self.expr_depth(), with_interval=True)
        if op == "div":
            value = guard_divisor(value, value_ty)
        if ty.is_int and ty.signed and local is not None:
            repeats = 1
            for trip in ctx.loop_trips[local.loop_level:]:
                repeats *= max(trip, 1)
            room = (INT_RESERVE - local.reserve_used) // repeats
            if room < 1:
                return [self.reassign()]
            bound = max(abs(iv[0]), abs(iv[1]))
            if bound > room:
                value, bound = clamp(value, (-room, room), ty), room
            local.reserve_used += bound * repeats
        if expanded:  # `t = t op e`: the same update, spelled out
            return declared + [A.Assign(target, A.BinOp(symbol[0], target, value, ty))]
        return declared + [A.AugAssign(target, symbol, value)]

    def output_write(self, store_only: bool = False) -> A.Stmt:
        ctx = self.ctx
        outs = [n for n, a in (ctx.arrays | ctx.arrays2d).items() if a.role in (Role.OUT, Role.INOUT)]
        if not outs or (not store_only and not outs and any(a.role is Role.ACC for a in ctx.arrays.values())):
            return self.atomic()
        array = self.pick(outs)
        if array in ctx.arrays2d:
            return self.store_2d(array)
        elem = ctx.arrays[array].elem
        ctx.wrote = True
        return A.Assign(A.ArrayRead(array, self.thread(), elem), self.expr(elem, self.expr_depth()))

    def store_2d(self, array: str) -> A.Stmt:
        """`g[i, clamp(e, 0, g.shape[1] - 1)] = e` in the thread's own row
        (the column a call-free leaf: a stored place's indexes have no side
        effects). Proven columns are drawn in reads only: a store under a
        guard would be an `if` the statement weights did not choose."""
        elem = self.ctx.arrays2d[array].elem
        self.ctx.wrote = True
        return A.Assign(A.ArrayRead(array, self.thread(), elem, column=self.clamped_column(array, 0)), self.expr(elem, self.expr_depth()))

    def atomic(self) -> A.Atomic:
        ctx = self.ctx
        array = self.pick([n for n, a in ctx.arrays.items() if a.role is Role.ACC])
        elem = ctx.arrays[array].elem
        ops = {"add", "sub"} | ({"min", "max"} if elem.is_numeric else set()) | (set(BITWISE_ATOMICS) if elem.is_int else set())
        if elem.is_int and elem.signed and not ctx.in_kernel:
            ops -= {"add", "sub"}  # a helper cannot know how often it is called
        committed = ctx.acc_class.get(array)
        if committed is not None:
            ops = {op for op in ops if atomic_class(op) == committed}
        op = self.choose("atomic_op", ops)
        ctx.acc_class[array] = atomic_class(op)
        indexes = {"zero", "guarded"} | ({"thread"} if ctx.in_kernel else set())
        how = self.choose("atomic_index", indexes)
        if how == "zero":
            index = A.Const(0, I32)
        elif how == "thread":
            index = self.thread()
        else:
            index = self.guarded_index(array, self.expr_depth())
        # an atomic min or max of NaN is not the same everywhere
        value, iv = self.finite(lambda: self.expr(elem, self.expr_depth(), with_interval=True), op in ("min", "max"))
        if elem.is_int and elem.signed and op in ("add", "sub"):
            repeats = 1
            for trip in ctx.loop_trips:
                repeats *= max(trip, 1)
            limit = max(ATOMIC_INT_LIMIT // repeats, 1)
            if not within(iv, (-limit, limit)):
                value = clamp(value, (-limit, limit), elem)
        ctx.wrote = True
        return A.Atomic(op, array, index, value)

    def atomic_value_arrays(self) -> list[str]:
        """InOut arrays an atomic whose value is used may update (at the thread's own element)."""
        return [name for name, a in self.ctx.arrays.items() if a.role is Role.INOUT and a.elem in (F32, I32)]

    def atomic_value(self) -> A.Assign:
        """`v = atomic_op(io, i, e)`: the thread's own InOut element updated,
        v its value before. int32 takes min and max only: nothing bounds how
        far repeated adds would take the element."""
        array = self.pick(self.atomic_value_arrays())
        elem = self.ctx.arrays[array].elem
        op = self.choose("atomic_op", ("add", "sub", "min", "max") if elem.is_float else ("min", "max"))
        value = self.finite(lambda: self.expr(elem, self.expr_depth()), op in ("min", "max"))
        name = self.name_for(elem, "v")
        self.ctx.scopes[-1][name] = self.local_like(elem, None)
        return A.Assign(A.Name(name, elem), A.AtomicValue(op, array, self.thread(), value, elem))

    def call_stmt(self) -> A.Stmt:
        name = self.pick(self.callable_helpers(statement=True))
        func = next(f for f in self.funcs if f.name == name)
        if _called_whole(func):
            return self.whole_call(name)
        if name in self.effectful:
            return self.effect_statement(name)
        return A.CallStmt(self.helper_call(name))

    def whole_call(self, name: str) -> A.Stmt:
        """A call of a helper that returns a struct or several values, as the
        whole value of a statement: `s = f(...)` or `a, b = f(...)`."""
        call = self.helper_call(name)
        if isinstance(call.ty, TupleType):
            targets = []
            for ty in call.ty.elems:
                target = self.fresh("v")
                self.ctx.scopes[-1][target] = self.local_like(ty, None)
                targets.append(A.Name(target, ty))
            return A.Unpack(tuple(targets), call)
        target = self.fresh("s")
        self.bind(self.ctx.scopes[-1], target, call.ty, "struct", "local")
        return A.Assign(A.Name(target, call.ty), call)

    def struct_local(self) -> A.Stmt:
        """A struct local: `s = S()`, a copy `s = t`, a call `s = f(...)`, or
        a field of an existing one written."""
        ctx = self.ctx
        mine = self.structs_of(("struct",))
        callable_ = set(self.callable_helpers(statement=True))
        builders = [f.name for f in self.funcs if f.ret.is_struct and f.name in callable_]
        options = {"new"} | ({"copy"} if self.structs_of() else set()) | ({"field"} if mine else set()) | ({"call"} if builders else set())
        how = self.choose("struct_local", options)
        if how == "field":
            return self.field_write(self.pick(mine)[0])
        if how == "call":
            return self.whole_call(self.pick(builders))
        if how == "copy":
            source, local = self.pick(self.structs_of())
            ty = local.ty
            intervals = [ctx.all_symbols()[".".join((source, *path))].interval for path, _ in ty.leaves()]
            value: A.Expr = A.Name(source, ty)
        else:
            ty = self.pick(self.structs)
            intervals = [(0, 0)] * len(ty.leaves())
            value = A.StructNew(ty.name, ty)
        name = self.fresh("s")
        self.bind(ctx.scopes[-1], name, ty, "struct", "local", intervals)
        return A.Assign(A.Name(name, ty), value)

    def field_write(self, struct: str) -> A.Stmt:
        """`s.f = e` for a leaf of local struct `s`."""
        leaves = self.locals_of(lambda s: s.root is not None and s.kind == "local")
        leaves = [(n, s) for n, s in leaves if n.split(".")[0] == struct]
        name, local = self.pick(leaves)
        value, iv = self.expr(local.ty, self.expr_depth(), with_interval=True)
        if local.ty.is_int and local.ty.signed and not within(iv, local.base):
            value = clamp(value, local.base, local.ty)
        return A.Assign(self.ref(name, local), value)

    def effect_statement(self, name: str) -> A.Stmt:
        """A statement that calls the side-effecting helper `name`: as a
        statement, as an operand, in a condition, or where the language may
        skip it (after `and`, in an arm of `x if c else y`)."""
        call = self.helper_call(name)
        ty = call.ty
        where = self.choose("effect_position")
        depth = max(self.expr_depth() - 1, 0)
        branches, ternaries = "branches" in self.features and self.can_nest(), "ternaries" in self.features
        if where == "lazy" and not (branches or ternaries):
            where = "operand"
        if where == "condition" and not branches:
            where = "operand"
        if where == "statement" or (where in ("condition", "lazy") and ty.is_matrix):
            return A.CallStmt(call)
        if where == "operand":
            other = self.expr(ty, depth)
            value = A.Call("max", (call, other), ty) if ty.is_int else A.BinOp("+", call, other, ty)
            return self.declare(ty, value)
        if where == "lazy" and ternaries and (not branches or self.boolean()):
            return self.declare(ty, A.Ternary(self.bool_expr(depth), call, self.expr(ty, depth), ty))
        scalar = A.Component(call, 0, True, F32) if ty.is_vector or ty.is_matrix else call
        scalar_ty = F32 if scalar is not call else ty
        test = A.Compare("<", scalar, self.expr(scalar_ty, depth), BOOL)
        if where == "lazy":
            test = A.BoolOp("and", self.bool_expr(depth), test, BOOL)
        return A.If(test, self.block(branch=True))

    def if_stmt(self, form: str, inner: str | None = None) -> A.If:
        cond = self.bool_expr(self.expr_depth())
        has_else = form == "if_else" or (form == "if_elif" and self.boolean())
        closing = None
        if has_else and self.choose("if_merge") == "merged":
            # a new local that every arm assigns last, read after the statement
            ty, intervals = self.value_type(), []
            name = self.name_for(ty, "v")

            def assign_merged():
                expr, iv = self.expr(ty, self.expr_depth(), with_interval=True)
                intervals.append(iv)
                return [A.Assign(A.Name(name, ty), expr)]

            closing = assign_merged
        body = self.block(branch=True, inner=inner, closing=closing)
        elifs = ()
        if form == "if_elif":
            elifs = tuple(A.Elif(self.bool_expr(self.expr_depth()), self.block(branch=True, closing=closing)) for _ in range(self.length("elifs", at_least=1)))
        orelse = self.block(branch=True, closing=closing) if has_else else None
        if closing is not None:
            known = None if None in intervals else (min(iv[0] for iv in intervals), max(iv[1] for iv in intervals))
            self.ctx.scopes[-1][name] = self.local_like(ty, known)
        return A.If(cond, body, elifs, orelse)

    def for_stmt(self, inner: str | None = None) -> A.For:
        var = self.name_for(I32, "j")
        kind = self.choose("for_bound")
        if kind == "constant":
            trip = self.integer(1, self.max_trip)
            bound = A.Const(trip, I32)
        elif kind == "module_constant":  # range(C): an int32 constant that fits, or a new one
            bounding = [n for n, v in self.constant_values.items() if self.constant_scope[n].ty == I32 and 1 <= v <= self.max_trip]
            name = self.pick(bounding) if bounding else self.trip_constant()
            bound, trip = A.Name(name, I32), self.constant_values[name]
        else:
            trip = self.integer(1, self.max_trip)
            source = self.expr(I32, min(self.expr_depth(), 1))
            bound = A.Call("clamp", (source, A.Const(0, I32), A.Const(trip, I32)), I32)
        if not self.ctx.loop_trips:
            self.ctx.nest_mode = None  # a new nest
        self.ctx.scopes.append({var: _Local(I32, "loop", (0, max(trip - 1, 0)), unrolled=not isinstance(bound, A.Call))})
        try:
            body = self.block(loop_trip=trip, inner=inner)
        finally:
            self.ctx.bury(self.ctx.scopes.pop())
        return A.For(var, bound, body)

    def nest_takes(self, mode: str) -> None:
        """With "exit-beside-static" avoided, a loop nest that has a break or
        continue ("exits") draws no static() of its loop variables, and one
        that has such a static() ("statics") no break or continue: Warp
        unrolls a loop whose variable a static() reads and fails on an exit
        anywhere in or around it. Whichever comes first decides."""
        if "exit-beside-static" in self.w.avoid:
            self.ctx.nest_mode = mode

    def while_stmt(self) -> A.While:
        counter = self.fresh("w")
        limit = self.integer(1, self.max_trip)
        cond = self.bool_expr(self.expr_depth()) if self.choose("while_form") == "conditional" else None
        self.ctx.scopes[-1][counter] = _Local(I32, "counter", (0, limit))
        if not self.ctx.loop_trips:
            self.ctx.nest_mode = None
        body = self.block(loop_trip=limit)
        return A.While(counter, limit, cond, body)

    # -- lookups

    def pick(self, items):
        items = list(items)
        return items[self.integer(0, len(items) - 1)]

    def locals_of(self, predicate) -> list[tuple[str, _Local]]:
        return [(n, s) for n, s in self.ctx.all_symbols().items() if predicate(s)]

    def pick_local(self, predicate) -> tuple[str, _Local]:
        return self.pick(self.locals_of(predicate))

    def thread(self) -> A.Name:
        return A.Name("i", I32)

    def callable_helpers(self, ret: DType | None = None, statement: bool = False) -> list[str]:
        out = []
        banned = self.grad_helpers_banned()
        for func in self.funcs:
            if func.name in out or func.name in banned:  # taken already (an overload), or grad-helper-in-helper
                continue
            if func.ret == ANY:
                if ret is None or ret.name in self.generic_types():
                    out.append(func.name)
                continue
            if ret is not None and func.ret != ret:
                continue
            if not statement and _called_whole(func):
                continue
            if any(p.ty == FUNCTION for p in func.params) and not self.function_targets():
                continue
            if all(not isinstance(p.ty, ArrayType) or self.array_for(p.ty, self.helper_acc[func.name].get(p.name)) for p in func.params):
                out.append(func.name)
        return out

    def array_for(self, ty: ArrayType, atomic_class: str | None) -> str | None:
        """A kernel array to pass for a helper's Acc parameter: same type, and
        not committed to another class of atomics."""
        for name, array in self.ctx.arrays.items():
            committed = self.ctx.acc_class.get(name)
            if array == ty and (committed is None or atomic_class is None or committed == atomic_class):
                return name
        return None

    def generic_types(self) -> list[str]:
        """The types this program's calls may bind a generic helper's Any to
        (those of GENERIC_CALL_TYPES its swarm features leave on)."""
        return [t for t in GENERIC_CALL_TYPES if ("value_type", t) not in self.off]

    def generic_call_type(self, exclude=()) -> DType | None:
        """The type a drawn call binds a generic helper's Any to (None when
        every one is excluded)."""
        allowed = tuple(t for t in self.generic_types() if TYPES[t] not in exclude)
        return self.value_type(allowed) if allowed else None

    def helper_call(self, name: str, ret: DType | None = None, func: A.Func | None = None, bind: DType | None = None) -> A.Call:
        """A call of helper `name` (of the overload `func`, or of one
        returning `ret` where it is overloaded; a generic one with its Any
        bound to `bind`, else to `ret` where it returns Any, else drawn)."""
        if func is None:
            defined = [f for f in self.funcs if f.name == name]
            func = self.pick([f for f in defined if ret is None or f.ret in (ret, ANY)] or defined)
        if is_generic(func):
            bound = bind or (ret if func.ret == ANY else None) or self.generic_call_type() or F32
            depth = max(self.expr_depth() - 1, 0)
            args = tuple(self.expr(bound if p.ty == ANY else p.ty, depth) for p in func.params)
            return A.Call(name, args, bound if func.ret == ANY else func.ret)
        # arrays first: an argument may itself call a helper with atomics, and
        # must then see this call's commitment of each Acc array to its class
        arrays = {}
        for p in func.params:
            if isinstance(p.ty, ArrayType):
                atomic_class = self.helper_acc[name].get(p.name)
                array = self.array_for(p.ty, atomic_class)
                if atomic_class is not None:
                    self.ctx.acc_class[array] = atomic_class
                arrays[p.name] = A.Name(array)
        if 2 <= len(func.params) <= 4 and all(p.ty == F32 for p in func.params) and self.choose("call_arguments") == "starred":
            # `f(*v)` or `f(*v[a:b:c])`: a vector's components, in order (v
            # without side effects: the checker's rule)
            n = len(func.params)
            length = self.integer(n, 4)
            vector = self.expr(TYPES[f"vec{length}"], max(self.expr_depth() - 1, 0))
            if not has_effect(vector, self.effectful):
                bounds = None if length == n and self.boolean() else self.pick(_slices(length, n)[length == n:])
                indices = list(range(length))[slice(*bounds)] if bounds is not None else list(range(length))
                return A.Call(name, tuple(A.Component(vector, k, False, F32) for k in indices), func.ret, starred=True, star_slice=bounds)
        args = []
        for p in func.params:
            if p.name in arrays:
                args.append(arrays[p.name])
            elif p.ty == FUNCTION:
                args.append(A.Name(self.pick(self.function_targets()), FUNCTION))
            elif p.ty.is_struct:
                args.append(self.struct_value(p.ty))
            else:
                args.append(self.expr(p.ty, max(self.expr_depth() - 1, 0)))
        return A.Call(name, tuple(args), func.ret)

    # -- expressions

    def expr(self, ty: DType, depth: int, with_interval: bool = False):
        expr, iv = self.typed(ty, depth)
        return (expr, iv) if with_interval else expr

    def typed(self, ty: DType, depth: int):
        if self.exhausted:
            depth = 0
        if ty.is_int:
            return self.int_expr(ty, depth)
        if ty.is_float:
            return self.float_expr(ty, depth), None
        if ty.is_vector:
            return self.vector_expr(ty, depth), None
        if ty.is_matrix:
            return self.matrix_expr(depth), None
        return self.bool_expr(depth), None

    def leaf_options(self, ty: DType) -> set[str]:
        ctx = self.ctx
        options = set()
        symbols = ctx.all_symbols()
        if any(s.ty == ty and s.kind in ("param", "constant") for s in symbols.values()):
            options.add("param")  # a constant is read as a parameter is
        if any(s.ty == ty and s.kind in ("local", "thread") for s in symbols.values()):
            options.add("local")
        if any(a.elem == ty and a.role in (Role.IN, Role.INOUT) for a in (ctx.arrays | ctx.arrays2d).values()):
            options.add("array_read")
        return options

    def compound_options(self, ty: DType, casts: bool) -> set[str]:
        """The alternatives every typed expression rule shares above depth 0."""
        options = set()
        if "ternaries" in self.features:
            options.add("ternary")
        if casts and "casts" in self.features:
            options.add("cast")
        if self.callable_helpers(ty):
            options.add("helper_call")
        return options

    def array_read(self, ty: DType, depth: int) -> A.ArrayRead:
        arrays = self.ctx.arrays | self.ctx.arrays2d
        array = self.pick([n for n, a in arrays.items() if a.elem == ty and a.role in (Role.IN, Role.INOUT)])
        if array in self.ctx.arrays2d:
            return self.read_2d(array, ty, depth)
        return self.read(array, ty, depth)

    def read_2d(self, array: str, ty: DType, depth: int) -> A.Expr:
        """`g[r, c]`: r the thread's row (an InOut array's only one), clamped
        or proven as a one-dimensional read's index is; c clamped below
        g.shape[1] or proven there by a ternary's condition."""
        role = self.ctx.arrays2d[array].role
        guards = []
        row: A.Expr = self.thread()
        if role is Role.IN and depth > 0 and "guarded_reads" in self.features:
            how = self.choose("read_index", {"thread", "guarded"} | ({"proven"} if "ternaries" in self.features else set()))
            if how == "guarded":
                row = self.guarded_index(array, depth - 1)
            elif how == "proven":
                row, cond = self.bounds_guard(array)
                guards.append(cond)
        options = {"clamped"} | ({"proven"} if depth > 0 and "guarded_reads" in self.features and "ternaries" in self.features else set())
        if self.choose("array2d_column", options) == "proven":
            column, cond = self.bounds_guard(array, dim=1)
            guards.append(cond)
        else:
            column = self.clamped_column(array, depth - 1)
        read = A.ArrayRead(array, row, ty, column=column)
        if not guards:
            return read
        cond = guards[0] if len(guards) == 1 else A.BoolOp("and", guards[0], guards[1], BOOL)
        # an int read's interval is the inputs' (int_expr's "array_read"): the other arm must lie inside it
        orelse = A.Const(0, ty) if ty.is_int else self.expr(ty, 0)
        return A.Ternary(cond, read, orelse, ty)

    def clamped_column(self, array: str, depth: int) -> A.Call:
        """`clamp(e, 0, g.shape[1] - 1)`; below depth 0, e is the thread index
        or a literal (no read, so no recursion, and no call: a stored
        place's column has no side effects)."""
        if depth >= 0:
            source = self.expr(I32, depth)
        else:
            source = self.thread() if self.boolean() else self.int_literal(I32)
        top = A.BinOp("-", A.Len(array, I32, dim=1), A.Const(1, I32), I32)
        return A.Call("clamp", (source, A.Const(0, I32), top), I32)

    def read(self, array: str, ty: DType, depth: int = 0) -> A.Expr:
        role = self.ctx.arrays[array].role
        if role is Role.IN and depth > 0 and "guarded_reads" in self.features:
            how = self.choose("read_index", {"thread", "guarded"} | ({"proven"} if "ternaries" in self.features else set()))
            if how == "guarded":
                return A.ArrayRead(array, self.guarded_index(array, depth - 1), ty)
            if how == "proven":  # `x[j] if 0 <= j and j < len(x) else e`
                index, cond = self.bounds_guard(array)
                return A.Ternary(cond, A.ArrayRead(array, index, ty), self.expr(ty, 0), ty)
        return A.ArrayRead(array, self.thread(), ty)

    def bounds_guard(self, array: str, dim: int = 0) -> tuple[A.Expr, A.Expr]:
        """An unclamped index for `array` and the condition that proves it in
        bounds: a loop variable (never negative) below len (dim 1: below
        array.shape[1]), or a leaf int expression (no calls, so no side
        effects) between 0 and len."""
        loops = self.locals_of(lambda s: s.kind == "loop")
        below = lambda index: A.Compare("<", index, A.Len(array, I32, dim=dim), BOOL)  # noqa: E731
        if loops and self.boolean():
            name, _ = self.pick(loops)
            index = A.Name(name, I32)
            return index, below(index)
        index, _ = self.int_expr(I32, 0)
        return index, A.BoolOp("and", A.Compare(">=", index, A.Const(0, I32), BOOL), below(index), BOOL)

    def guarded_index(self, array: str, depth: int) -> A.Call:
        source = self.expr(I32, depth)
        top = A.BinOp("-", A.Len(array, I32), A.Const(1, I32), I32)
        return A.Call("clamp", (source, A.Const(0, I32), top), I32)

    def name_of(self, ty: DType, kinds: tuple[str, ...]) -> tuple[A.Name, _Local]:
        name, local = self.pick_local(lambda s: s.ty == ty and s.kind in kinds)
        return self.ref(name, local), local

    def float_expr(self, ty: DType, depth: int) -> A.Expr:
        options = {"const"} | self.leaf_options(ty)
        if depth > 0:
            options |= {"binop", "call", "neg"} | self.compound_options(ty, casts=True)
            if ty == F32 and "vectors" in self.features:
                options |= {"component", "dot", "length"}
                if "matrices" in self.features:
                    options.add("matrix_element")
            if ty == F32:
                options.add("static")
            if ty == F32 and self.tile_arrays():
                options.add("tile")
            if ty == F32 and not self.no_grad:
                options.add("grad")
        if ty == F32 and self.unrolled_in_scope():
            options.add("static_loop")  # float32(static(j ...)), a leaf
        kind = self.choose("float_expr", options)
        if kind == "const":
            return self.float_literal(ty)
        if kind == "param":
            return self.name_of(ty, ("param", "constant"))[0]
        if kind == "local":
            return self.name_of(ty, ("local",))[0]
        if kind == "array_read":
            return self.array_read(ty, depth)
        sub = depth - 1
        if kind == "binop":
            op = {"add": "+", "sub": "-", "mul": "*", "div": "/", "floordiv": "//", "mod": "%"}[self.choose("float_binop")]
            left = self.float_expr(ty, sub)
            if op in ("/", "//", "%"):
                return A.BinOp(op, left, self.float_divisor(ty, sub), ty)
            return A.BinOp(op, left, self.float_expr(ty, sub), ty)
        if kind == "call":
            names = [n for n, op in BUILTINS.items() if op.rule == "float_call" and op.result((ty,) * max(op.arities())) == ty]
            return self.builtin_call(self.choose("float_call", names), ty, depth)
        if kind == "neg":
            return A.Neg(self.float_expr(ty, sub), ty)
        if kind == "static":
            return self.static(ty)[0]
        if kind == "tile":
            return self.tile_reduce(depth)
        if kind == "grad":  # the builtin's argument, guarded as for a call of it
            fn = self.choose("grad_fn")
            return A.GradCall(fn, self.builtin_call(fn, ty, depth).args[0], ty)
        if kind == "static_loop":
            return A.Cast(ty, self.static(I32, loop_var=True)[0], ty)
        if kind == "ternary":
            return self.ternary(self.bool_expr(sub), self.float_expr(ty, sub), self.float_expr(ty, sub), ty)
        if kind == "cast":
            source = self.numeric_type(exclude=ty)
            operand, _ = self.typed(source, sub)
            if isinstance(operand, A.Const):
                return A.Const(float(operand.value), ty)
            return self.cast_spelling(A.Cast(ty, operand, ty))
        if kind == "matrix_element":  # m[r][c], or m[r, c]
            row = self.matrix_row(self.matrix_expr(sub), sub, literal=True)
            pair = self.choose("element_spelling") == "pair"
            return A.Component(row, self.integer(0, 2), False, F32, pair=pair)
        if kind == "component":
            vec = self.value_type(("vec2", "vec3", "vec4", "quat"))
            return self.component(self.vector_expr(vec, sub), vec, sub)
        if kind == "dot":
            vec = self.value_type(("vec2", "vec3", "vec4", "quat"))
            return self.finite(lambda: A.Call("dot", (self.vector_expr(vec, sub), self.vector_expr(vec, sub)), F32))
        if kind == "length":
            vec = self.value_type(("vec2", "vec3", "vec4", "quat"))
            return self.finite(lambda: A.Call("length", (self.vector_expr(vec, sub),), F32))
        return self.helper_call(self.pick(self.callable_helpers(ty)), ty)

    def tile_arrays(self) -> list[str]:
        """The arrays a tile may be loaded from: In arrays of float32."""
        # not a struct's array field (`p.m0`): tile_load takes an array parameter by name
        return [n for n, a in self.ctx.arrays.items() if a.role is Role.IN and a.elem == F32 and "." not in n]

    def tile_reduce(self, depth: int) -> A.TileReduce | A.TileGet:
        """A reduction of a tile of one drawn size (every tile under it has
        it, but for the operands of a tile_matmul, of 4 or 8), or one of its
        elements at any two int32 (clamped)."""
        op = "tile_" + self.choose("tile_reduce")
        tile = self.tile_expr(TileType(F32, self.length("tile_size")), depth)
        if op == "tile_get":
            row, col = (self.int_expr(I32, max(depth - 1, 0))[0] for _ in range(2))
            return A.TileGet(tile, row, col, F32)
        return A.TileReduce(op, tile, F32)

    def tile_expr(self, ty: TileType, depth: int) -> A.Expr:
        options = {"load"}
        if depth > 0:
            options |= {"map", "full"} | ({"matmul"} if ty.size == MATMUL_ROWS * MATMUL_ROWS else set())
        kind = self.choose("tile_expr", options)
        if kind == "full":
            return A.TileFull(self.float_expr(ty.elem, depth - 1), ty.size, ty)
        if kind == "matmul":
            operand = TileType(ty.elem, self.pick(TILE_MATMUL_SIZES))
            return A.TileMatmul(self.tile_expr(operand, depth - 1), self.tile_expr(operand, depth - 1), ty)
        if kind == "map":
            fn = self.choose("tile_map")
            return A.TileMap(fn, tuple(self.tile_expr(ty, depth - 1) for _ in range(TILE_MAPS[fn].arity)), ty)
        array = self.pick(self.tile_arrays())
        if self.choose("tile_start") == "thread":
            start = self.thread()
        else:  # a leaf: the start is clamped, any int32 will do
            start, _ = self.int_expr(I32, 0)
        return A.TileLoad(array, start, ty.size, ty)

    def static_loop_variables(self) -> list[str]:
        """The loop variables a static() may read here (`nest_takes`)."""
        if self.ctx.nest_mode == "exits":
            return []
        return [n for n, s in self.ctx.all_symbols().items() if s.unrolled]

    def unrolled_in_scope(self) -> bool:
        return bool(self.static_loop_variables())

    def static(self, ty: DType, loop_var: bool = False) -> tuple[A.Static, Interval | None]:
        """`static(e)`: one or two leaves (bare literals; for int32 also the
        variables of unrolled loops, the first one such with `loop_var`),
        joined by + - * and maybe negated; with the interval of its int value."""
        symbols = self.ctx.all_symbols()
        unrolled = self.static_loop_variables() if ty == I32 else []
        constants = [n for n, s in symbols.items() if s.kind == "constant" and s.ty == ty]
        first = [loop_var]

        def leaf() -> tuple[A.Expr, Interval]:
            forced, first[0] = first[0], False
            allowed = {"literal"} | ({"loop_var"} if unrolled else set()) | ({"constant"} if constants else set())
            kind = "loop_var" if forced and unrolled else self.choose("static_leaf", allowed)
            if kind == "loop_var":
                self.nest_takes("statics")
                name = self.pick(unrolled)
                return A.Name(name, I32), symbols[name].interval
            if kind == "constant":
                name = self.pick(constants)
                value = self.constant_values[name]
                return A.Name(name, ty), (value, value)
            literal = self.int_literal(ty) if ty.is_int else self.float_literal(ty)
            value = literal.value
            return A.Const(value, ty), (value, value)

        operand, (lo, hi) = leaf()
        if self.choose("static_shape") == "binop":
            op = self.pick(sorted(STATIC_OPS))
            right, right_interval = leaf()
            operand = A.BinOp(op, operand, right, ty)
            lo, hi = exact_interval(op, (lo, hi), right_interval)
        if ty.signed and self.boolean():
            operand, lo, hi = A.Neg(operand, ty), -hi, -lo
        return A.Static(operand, ty), ((int(lo), int(hi)) if ty.is_int else None)

    def builtin_call(self, name: str, ty: DType, depth: int) -> A.Call:
        op = BUILTINS[name]
        arity = max(op.arities())
        args = []
        # abs, floor and ceil take +-inf and NaN alike everywhere; other
        # builtins' arguments keep their divisors away from zero
        finite = name not in ("abs", "floor", "ceil")
        for position in range(arity):
            arg = self.finite(lambda: self.float_expr(ty, depth - 1), finite)
            guard = op.guards[position] if position < len(op.guards) else None
            args.append(apply_guard(guard, arg, ty))
        return A.Call(name, tuple(args), ty)

    def numeric_type(self, exclude: DType) -> DType:
        allowed = [t for t in ("float32", "float64", "int32", "int64", "uint32") if t != exclude.name]
        return self.value_type(allowed) if any(("value_type", t) not in self.off for t in allowed) else (I32 if exclude != I32 else F32)

    def int_expr(self, ty: DType, depth: int) -> tuple[A.Expr, Interval]:
        ctx = self.ctx
        options = {"const"} | self.leaf_options(ty)
        if ty == I32:
            if self.locals_of(lambda s: s.kind in ("loop", "counter")):
                options.add("loop_var")
            if ctx.in_kernel:
                options.add("tid")
                if ctx.arrays:
                    options.add("len")
        if depth > 0:
            options |= {"binop", "call", "invert"} | self.compound_options(ty, casts=True)
            if ty.signed:
                options.add("neg")
            if ty == I32:
                options.add("static")
        if ty == I32 and self.unrolled_in_scope():
            options.add("static_loop")  # a leaf, as the loop variable itself is
        kind = self.choose("int_expr", options)
        if kind == "const":
            c = self.int_literal(ty)
            return c, (c.value, c.value)
        if kind == "param":
            name, local = self.name_of(ty, ("param", "constant"))
            return name, local.interval
        if kind == "local":
            name, local = self.name_of(ty, ("local", "thread"))
            return name, local.interval
        if kind == "loop_var":
            name, local = self.name_of(I32, ("loop", "counter"))
            return name, local.interval
        if kind == "tid":
            return self.thread(), (0, MAX_LAUNCH - 1)
        if kind == "len":
            return A.Len(self.pick(ctx.arrays), I32), (1, MAX_LAUNCH)
        if kind == "array_read":
            return self.array_read(ty, depth), param_interval(ty)
        sub = depth - 1
        if kind == "binop":
            op = INT_BINOPS[self.choose("int_binop")]
            (left, li), (right, ri) = self.int_expr(ty, sub), self.int_expr(ty, sub)
            return int_binop(op, left, li, right, ri, ty)
        if kind == "call":
            names = ["min", "max", "clamp"] + (["abs", "sign"] if ty.signed else [])
            name = self.choose("int_call", names)
            arity = max(BUILTINS[name].arities())
            parts = [self.int_expr(ty, sub) for _ in range(arity)]
            args = tuple(p[0] for p in parts)
            ivs = [p[1] for p in parts]
            if name == "abs":
                lo, hi = ivs[0]
                iv = (0 if lo <= 0 <= hi else min(abs(lo), abs(hi)), max(abs(lo), abs(hi)))
            elif name == "sign":
                iv = (-1, 1)
            elif name == "min":
                iv = (min(ivs[0][0], ivs[1][0]), min(ivs[0][1], ivs[1][1]))
            elif name == "max":
                iv = (max(ivs[0][0], ivs[1][0]), max(ivs[0][1], ivs[1][1]))
            else:  # min(max(x, lo), hi): within the union of all three
                iv = (min(i[0] for i in ivs), max(i[1] for i in ivs))
            return A.Call(name, args, ty), iv
        if kind == "neg":
            operand, (lo, hi) = self.int_expr(ty, sub)
            return A.Neg(operand, ty), (-hi, -lo)
        if kind == "invert":
            operand, iv = self.int_expr(ty, sub)
            return A.Invert(operand, ty), invert_interval(iv, ty)
        if kind in ("static", "static_loop"):
            return self.static(ty, loop_var=kind == "static_loop")
        if kind == "ternary":
            cond = self.bool_expr(sub)
            (a, ai), (b, bi) = self.int_expr(ty, sub), self.int_expr(ty, sub)
            return self.ternary(cond, a, b, ty), (min(ai[0], bi[0]), max(ai[1], bi[1]))
        if kind == "cast":
            source = self.numeric_type(exclude=ty)
            operand, iv = self.finite(lambda: self.typed(source, sub))  # a NaN or infinity cast to an integer is undefined
            cast, iv = int_cast(operand, iv, source, ty)
            return (self.cast_spelling(cast) if isinstance(cast, A.Cast) else cast), iv
        name = self.pick(self.callable_helpers(ty))
        return self.helper_call(name, ty), type_interval(ty)

    def vector_expr(self, ty: DType, depth: int) -> A.Expr:
        options = {"construct"} | self.leaf_options(ty)
        if depth > 0:
            options |= {"binop", "scale", "normalize", "neg"}
            if ty == VEC3:
                options.add("cross")
                if "matrices" in self.features:
                    options |= {"matvec", "matrix_row"}
                if "quaternions" in self.features:
                    options.add("quat_rotate")
            if ty == QUAT:
                options |= {"quat_product", "quat_call"}
            options |= self.compound_options(ty, casts=False)
        kind = self.choose("vector_expr", options)
        sub = max(depth - 1, 0)
        if kind == "construct":
            return A.Construct(ty, tuple(self.float_expr(F32, sub) for _ in range(ty.length)), ty)
        if kind == "param":
            return self.name_of(ty, ("param", "constant"))[0]
        if kind == "local":
            return self.name_of(ty, ("local",))[0]
        if kind == "array_read":
            return self.array_read(ty, depth)
        if kind == "binop":
            op = "+" if self.choose("vector_binop") == "add" else "-"
            return A.BinOp(op, self.vector_expr(ty, sub), self.vector_expr(ty, sub), ty)
        if kind == "scale":
            return self.scale(ty, sub, self.vector_expr)
        if kind == "normalize":
            return self.finite(lambda: A.Call("normalize", (self.vector_expr(ty, sub),), ty))
        if kind == "neg":
            return A.Neg(self.vector_expr(ty, sub), ty)
        if kind == "cross":
            return self.finite(lambda: A.Call("cross", (self.vector_expr(VEC3, sub), self.vector_expr(VEC3, sub)), VEC3))
        if kind == "quat_rotate":  # q applied to v, or its inverse
            func = QUAT_ROTATIONS[self.choose("quat_rotation")]
            return self.finite(lambda: A.Call(func, (self.vector_expr(QUAT, sub), self.vector_expr(VEC3, sub)), VEC3))
        if kind == "quat_product":  # the Hamilton product
            return A.BinOp("*", self.vector_expr(QUAT, sub), self.vector_expr(QUAT, sub), QUAT)
        if kind == "quat_call":
            func = QUAT_CALLS[self.choose("quat_call")]
            if func == "quat_identity":
                return A.Call(func, (), QUAT)
            if func == "quat_inverse":
                return self.finite(lambda: A.Call(func, (self.vector_expr(QUAT, sub),), QUAT))
            return self.finite(lambda: A.Call(func, (self.vector_expr(VEC3, sub), self.float_expr(F32, sub)), QUAT))
        if kind == "matrix_row":
            return self.matrix_row(self.matrix_expr(sub), sub)
        if kind == "matvec":
            op = self.product_operator()
            matrix, vector = self.matrix_expr(sub), self.vector_expr(VEC3, sub)
            if self.choose("matvec_order") == "matrix_vector":
                return A.BinOp(op, matrix, vector, VEC3)
            return A.BinOp(op, vector, matrix, VEC3)  # a row vector
        if kind == "ternary":
            return self.ternary(self.bool_expr(sub), self.vector_expr(ty, sub), self.vector_expr(ty, sub), ty)
        return self.helper_call(self.pick(self.callable_helpers(ty)), ty)

    def component(self, value, vec: DType, depth: int):
        """`v.x`, `v[0]`, or `v[k]` with k proven in bounds: a short loop's
        variable or `clamp(e, 0, len - 1)` (e a leaf at depth 0, as in
        assigned places, whose indexes may have no side effects)."""
        style = self.choose("component_style")
        if style != "computed":
            return A.Component(value, self.integer(0, vec.length - 1), style == "attr", F32)
        return A.ComponentAt(value, self.proven_index(vec.length, depth), F32)

    def proven_index(self, count: int, depth: int) -> A.Expr:
        """An index the checker proves below `count`: the variable of a loop
        of at most `count` trips, or `clamp(e, 0, count - 1)`."""
        loops = self.locals_of(lambda s: s.kind == "loop" and s.interval is not None and s.interval[1] < count)
        if loops and self.boolean():
            return A.Name(self.pick(loops)[0], I32)
        index, _ = self.int_expr(I32, depth)
        return A.Call("clamp", (index, A.Const(0, I32), A.Const(count - 1, I32)), I32)

    def matrix_row(self, matrix: A.Expr, depth: int, literal: bool = False) -> A.Expr:
        """`m[r]`: a row of a matrix (a vec3), at a literal index or, unless
        `literal`, one proven below 3 (as a vector's computed component)."""
        if literal or self.choose("row_index") == "literal":
            return A.Component(matrix, self.integer(0, 2), False, VEC3)
        return A.ComponentAt(matrix, self.proven_index(3, depth), VEC3)

    def vector_elements(self, update: bool = False) -> list[str]:
        """Out and InOut arrays of vectors: their own element's components can
        be assigned (InOut ones only, to be updated: an update reads)."""
        if not self.ctx.in_kernel:
            return []
        roles = (Role.INOUT,) if update else (Role.OUT, Role.INOUT)
        return [n for n, a in (self.ctx.arrays | self.ctx.arrays2d).items() if a.role in roles and a.elem.is_vector]

    def component_targets(self, update: bool = False) -> set[str]:
        """The kinds of component a statement may assign (`update`: or update) here."""
        locals_ = self.locals_of(lambda s: s.kind == "local" and s.ty.is_vector)
        return ({"local"} if locals_ else set()) | ({"element"} if self.vector_elements(update) else set()) | ({"matrix"} if "matrices" in self.features else set())

    def component_target(self, update: bool = False) -> tuple[list[A.Stmt], A.Expr]:
        """A component to assign (`update`: to update, `t op= e`): of a local
        vector, or of the thread's own element; or a row (`m[r]`) or an
        element (`m[r][c]`, `m[r, c]`) of a local matrix, at literal indexes
        (the matrix declared first when the scope has none: few programs
        would hold one otherwise). With the statements to run before it."""
        locals_ = self.locals_of(lambda s: s.kind == "local" and s.ty.is_vector)
        elements = self.vector_elements(update)
        where = self.choose("component_target", self.component_targets(update))
        if where == "local":
            name, local = self.pick(locals_)
            return [], self.component(self.ref(name, local), local.ty, 0)
        if where == "matrix":
            def local_matrix(s) -> bool:
                return s.kind == "local" and s.root is None and s.ty == MAT33

            declared = []
            if not self.locals_of(local_matrix):
                declared.append(self.declare(MAT33, self.expr(MAT33, self.expr_depth(), with_interval=True)))
            name, local = self.pick(self.locals_of(local_matrix))
            row = A.Component(self.ref(name, local), self.integer(0, 2), False, VEC3)
            if self.choose("matrix_place") == "row":
                return declared, row
            return declared, A.Component(row, self.integer(0, 2), False, F32, pair=self.choose("element_spelling") == "pair")
        array = self.pick(elements)
        self.ctx.wrote = True
        if array in self.ctx.arrays2d:  # `g[i, clamp(e, 0, g.shape[1] - 1)].x = e`: in the thread's own row
            elem = self.ctx.arrays2d[array].elem
            return [], self.component(A.ArrayRead(array, self.thread(), elem, column=self.clamped_column(array, 0)), elem, 0)
        elem = self.ctx.arrays[array].elem
        return [], self.component(A.ArrayRead(array, self.thread(), elem), elem, 0)

    def ternary(self, cond, then, orelse, ty: DType) -> A.Ternary:
        """`then if cond else orelse`, or the same choice as `where`/`select`."""
        return A.Ternary(cond, then, orelse, ty, form=self.choose("ternary_form"))

    def finite(self, build, on: bool = True):
        """`build()` with float divisors kept guarded inside it (`on`): for
        the operands of the builtins and atomics that treat an infinity or
        NaN differently on different backends (float_divisor)."""
        self.finite_only += on
        try:
            return build()
        finally:
            self.finite_only -= on

    def float_divisor(self, ty: DType, depth: int) -> A.Expr:
        """The divisor of a float `/`, `//` or `%` (rule float_divisor): kept
        away from zero (`abs(d) + 1.0`, or a non-zero literal), the literal
        zero, or an integer cast to `ty` (zero on the threads where the
        integer is). A zero divisor gives IEEE's +-inf and NaN, which the
        backends define alike (SEMANTICS.md, "Division by zero"); both zero
        forms are +0.0 whatever the backend, so that the sign of an
        infinity never rests on how a compiler treats -0.0, and neither is
        ever a tiny divisor that would amplify a rounding. Inside a
        builtin's argument, an atomic min or max or a float cast to an
        integer (`finite`) the divisor is guarded: what flows there must stay
        finite; values that reach one through a local or a helper's
        parameter can still make a run undefined, which the reference then
        says."""
        kind = "guarded" if self.finite_only else self.choose("float_divisor")
        if kind == "zero":
            return self.spelled(A.Const(0.0, ty))
        if kind == "integer":
            operand, _ = self.typed(I32, depth)
            if isinstance(operand, A.Const):
                return A.Const(float(operand.value), ty)
            return self.cast_spelling(A.Cast(ty, operand, ty))
        return guard_divisor(self.float_expr(ty, depth), ty)

    def cast_spelling(self, cast: A.Cast) -> A.Cast:
        """`int32(e)`/`float32(e)`, or Python's `int(e)`/`float(e)`."""
        if cast.to.name in A.BUILTIN_CASTS.values() and self.choose("cast_spelling") == "builtin":
            return A.Cast(cast.to, cast.operand, cast.ty, builtin=True)
        return cast

    def product_operator(self) -> str:
        """`@` or `*`: both are the matrix product between a matrix and a vector or matrix."""
        return "@" if self.choose("product_operator") == "at" else "*"

    def scale(self, ty: DType, sub: int, make) -> A.BinOp:
        factor = self.float_expr(F32, sub)
        value = make(ty, sub) if ty != MAT33 else make(sub)
        # s / v for vectors (Warp has no abs of a quaternion to guard its divisor)
        form = self.integer(0, 3) if ty.is_vector and ty != QUAT else self.integer(0, 2)
        if form == 0:
            return A.BinOp("*", factor, value, ty)
        if form == 1:
            return A.BinOp("*", value, factor, ty)
        if form == 2:
            return A.BinOp("/", value, guard_divisor(factor, F32), ty)
        # s / v: every component of the divisor kept away from zero
        ones = A.Construct(ty, tuple(A.Const(1.0, F32) for _ in range(ty.length)), ty)
        return A.BinOp("/", factor, A.BinOp("+", A.Call("abs", (value,), ty), ones, ty), ty)

    def matrix_expr(self, depth: int) -> A.Expr:
        ty = MAT33
        options = {"construct"} | self.leaf_options(ty)
        if depth > 0:
            options |= {"binop", "scale", "matmul"}
            if "quaternions" in self.features:
                options.add("quat_to_matrix")
        kind = self.choose("matrix_expr", options)
        sub = max(depth - 1, 0)
        if kind == "quat_to_matrix":
            return self.finite(lambda: A.Call("quat_to_matrix", (self.vector_expr(QUAT, sub),), ty))
        if kind == "matmul":
            op = self.product_operator()
            return A.BinOp(op, self.matrix_expr(sub), self.matrix_expr(sub), ty)
        if kind == "construct":
            return A.Construct(ty, tuple(self.float_expr(F32, 0) for _ in range(9)), ty)
        if kind == "param":
            return self.name_of(ty, ("param", "constant"))[0]
        if kind == "local":
            return self.name_of(ty, ("local",))[0]
        if kind == "array_read":
            return self.array_read(ty, depth)
        if kind == "binop":
            op = "+" if self.choose("vector_binop") == "add" else "-"
            return A.BinOp(op, self.matrix_expr(sub), self.matrix_expr(sub), ty)
        return self.scale(ty, sub, lambda d: self.matrix_expr(d))

    def bool_expr(self, depth: int) -> A.Expr:
        options = {"compare"}
        if depth > 0:
            options |= {"and", "or", "not"}
        readable = [n for n, a in self.ctx.arrays.items() if a.role is Role.IN and a.elem.is_numeric]
        if depth > 0 and readable and "guarded_reads" in self.features:
            options.add("guarded")
        kind = self.choose("bool_expr", options)
        sub = max(depth - 1, 0)
        if kind == "guarded":  # `0 <= j and j < len(x) and x[j] < e`: the read only where the guard holds
            array = self.pick(readable)
            elem = self.ctx.arrays[array].elem
            index, cond = self.bounds_guard(array)
            op = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}[self.choose("compare_op")]
            test = A.Compare(op, A.ArrayRead(array, index, elem), self.typed(elem, sub)[0], BOOL)
            return A.BoolOp("and", cond, test, BOOL)
        if kind == "compare":
            op = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}[self.choose("compare_op")]
            ty = self.value_type(("float32", "float64", "int32", "int64", "uint32"))
            left, _ = self.typed(ty, sub)
            right, _ = self.typed(ty, sub)
            return A.Compare(op, left, right, BOOL)
        if kind == "not":
            return A.Not(self.bool_expr(sub), BOOL)
        return A.BoolOp(kind, self.bool_expr(sub), self.bool_expr(sub), BOOL)


def _called_whole(func: A.Func) -> bool:
    """A helper returning a struct or several values is called only as the
    whole value of an assignment: `s = f(...)`, `a, b = f(...)`."""
    return isinstance(func.ret, TupleType) or func.ret.is_struct


class _NoChoice(Exception):
    """Every alternative of a rule is switched off in this context."""


def weighted_choice(integer, options) -> object:
    total = sum(w for _, w in options)
    if len(options) == 1:
        return options[0][0]
    # Scale to integers so one integer draw picks an alternative; index 0 (the
    # simplest alternative) is what a shrunk draw lands on.
    scale = 1000 / total
    cumulative, acc = [], 0
    for alt, weight in options:
        acc += max(int(round(weight * scale)), 1)
        cumulative.append((acc, alt))
    r = integer(0, acc - 1)
    for bound, alt in cumulative:
        if r < bound:
            return alt
    return options[-1][0]  # pragma: no cover


def _slices(length: int, count: int) -> list:
    """The slices (lower, upper, step; None where omitted) of a vector of
    `length` components that select `count` of them, as Python writes them
    (negative bounds count from the end); None, the whole vector, first
    where `count` is all of them."""
    bounds = [None, *range(-length, length + 1)]
    found = [None] if count == length else []
    for step in (None, 2, -1, -2):
        for lower in bounds:
            for upper in bounds:
                if len(range(length)[slice(lower, upper, step)]) == count:
                    found.append((lower, upper, step))
    return found

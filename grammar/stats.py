"""Distribution statistics of a set of programs: what `synth stats` prints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from . import ast as A
from .categories import CATEGORIES, classify
from .checker import atomic_class
from .lowering import is_generic, lower, monomorphize, takes_functions
from .printer import print_expr
from .productions import productions
from .ops import BITWISE_ATOMICS, LAUNCH_DECADES, is_matrix_product, is_quat_product, launch_decade
from .queries import assigned_in_every_arm, constant_values, divisor_kind, effectful_helpers, expanded_update, has_effect, integer_carry, jax_loop, jax_operation, jax_reduction, jax_select, lax_spelled, loop_trips, read_needs_guard, thread_names
from .weights import Weights, default_weights


def ast_size(program: A.Program) -> int:
    """The number of AST nodes (definitions, parameters, statements,
    expressions; constants, struct declarations and their fields)."""
    return sum(1 for d in program.constants + program.structs + program.funcs + program.kernels for _ in A.walk(d))


def nesting_depth(program: A.Program) -> int:
    """The deepest nesting of blocks (an if's arms, a loop's body) in any
    definition: 0 for straight-line code."""

    def block(stmts) -> int:
        deepest = 0
        for stmt in stmts:
            if isinstance(stmt, A.If):
                deepest = max(deepest, 1 + max(block(body) for body in stmt.branches))
            elif isinstance(stmt, (A.For, A.While)):
                deepest = max(deepest, 1 + block(stmt.body))
        return deepest

    return max(block(d.body) for d in program.funcs + program.kernels)


# The constructs `constructs` tells apart, in the order `synth stats` prints them
CONSTRUCTS = (
    "helper", "helper-call", "effectful-helper", "builtin-call", "atomic-add", "atomic-sub", "atomic-min", "atomic-max",
    "if", "elif", "else", "ternary", "and-or", "not", "for-static", "for-dynamic", "while", "break", "continue",
    "nested-loop", "aug-assign", "component-read", "component-store", "vector", "matrix", "cast",
    "integer-division", "float-floordiv", "zero-divisor", "modulo", "matmul", "vector-matrix", "matrix-matrix", "float64", "int64", "uint32", "in-array", "out-array",
    "inout-array", "acc-array", "scalar-param", "len",
    # side effects inside expressions, and those the language may skip (the
    # right operand of and/or, an arm of `x if c else y`, an elif or while condition)
    "effect-in-expression", "effect-conditional",
    # spellings of one operation
    "where", "select", "builtin-cast", "typed-literal", "expanded-update",
    # operand orders, indexes and places
    "scalar-over-vector", "computed-component", "element-component-store",
    # `v[k] += e`, `m[r][c] *= e`, `y[i].x -= e`: a component updated in place
    # (or spelled out); `s.a += e`, `s.v.x -= e`: a local struct's field
    "component-update", "field-update",
    # `f(*v)`: a vector's components as a helper's arguments
    "starred-argument",
    # an array read whose index only a guard around it keeps in bounds
    "guarded-read",
    # Warp's own constructs: structs (as parameters, returned, nested, copied,
    # their fields written) and helpers that return several values
    "struct", "struct-param", "struct-return", "nested-struct", "struct-copy", "field-store", "multi-return",
    # a struct kernel parameter's array field read or stored (`p.a[i]`)
    "struct-array-field",
    # an element of a two-dimensional array read or stored (`g[i, c]`)
    "array-2d",
    # expressions evaluated when compiling, and those that read an unrolled loop's variable
    "static", "static-loop-variable",
    # module-level constants (Warp's wp.constant), of a vector or matrix type, and loops they bound
    "constant", "composite-constant", "for-constant",
    # bitwise operators on ints: & | ^ ~, and the shifts << >>
    "bitwise", "shift",
    # `a, b = x, y`: every value before any name (`a, b = b, a` swaps)
    "parallel-assign",
    # a new local every arm of an if/else assigns: it outlives the statement
    "merged-name",
    # a local or loop variable declared under a name whose block has ended
    "reused-name",
    # `v = atomic_add(io, i, e)`: an atomic's value (the thread's own InOut element before it)
    "atomic-value",
    # atomic_and, atomic_or, atomic_xor on an int array
    "atomic-bitwise",
    # `m[r]`, a matrix's row (and so `m[r][c]`), and an element spelled `m[r, c]`
    "matrix-row", "matrix-element-pair",
    # a local matrix's row or element assigned (m[r] = v, m[r][c] = e, m[r, c] = e)
    "matrix-store",
    # Warp's tiles: a reduction of a tile loaded from an array, a tile_map of
    # one tile, of two tiles pairwise, a matrix product of two tiles, a
    # scalar broadcast to a tile, an element of a tile read as two rows
    "tile", "tile-map", "tile-map-pair", "tile-matmul", "tile-full", "tile-get",
    # grad(f, x): a builtin's derivative (Warp's wp.grad)
    "grad-call",
    # Warp's quaternions: any quat value, the Hamilton product, a rotation of a vector
    "quaternion", "quat-product", "quat-rotate",
    # how the JAX rendering drives a loop (grammar.queries.jax_loop)
    "jax-fori-loop", "jax-scan", "jax-scan-by-two", "jax-unrolled", "jax-while-loop",
    # how it spells a conditional expression (jax_select), an operation lax
    # has too (jax_operation), and a reduction: the sum (max, min) over
    # threads of an Acc array's contributions, a tile's (jax_reduction)
    "jax-where", "jax-lax-select", "jax-lax-cond", "jax-jnp-op", "jax-lax-op", "jax-jnp-reduce", "jax-lax-reduce",
    # a generic helper (`a: Any`), one called at two types or more, an
    # overloaded helper (one name, several @func), and a helper whose body
    # calls a helper, and a chain of three (a helper calling one that calls
    # another: helper_depths)
    "generic-helper", "generic-instances", "overload", "helper-in-helper", "helper-chain-3",
    # a helper taking a Function (called with a helper for it), a native
    # helper (@native: Warp's func_native)
    "function-param", "native-helper",
)


def constructs(program: A.Program, produced: set | None = None) -> set[str]:
    """The constructs of CONSTRUCTS that `program` uses: what reach is measured in
    (`produced`: its productions, when the caller has them already)."""
    used: set[str] = set()
    if program.funcs:
        used.add("helper")
    if program.constants:
        used.add("constant")
    if any(isinstance(c.value, A.Construct) for c in program.constants):
        used.add("composite-constant")
    if program.structs:
        used.add("struct")
        if any(getattr(f.ty, "is_struct", False) for s in program.structs for f in s.fields):
            used.add("nested-struct")
    if any(getattr(f.ret, "is_struct", False) for f in program.funcs):
        used.add("struct-return")
    used.update(_helper_constructs(program))
    helpers = {f.name for f in program.funcs}
    constants = {c.name for c in program.constants}
    effectful = effectful_helpers(program)
    values = constant_values(program)
    for node in A.walk(program):
        if isinstance(node, (A.For, A.While)):
            trips = node.limit if isinstance(node, A.While) else loop_trips(node.bound, values)[0]
            used.add("jax-" + jax_loop(trips, integer_carry(node, effectful)).replace("_", "-"))
    used.update(_jax_spellings(program))
    for definition in program.funcs + program.kernels:
        for param in definition.params:
            role = getattr(param.ty, "role", None)
            if role is not None:
                used.add(f"{role.name.lower()}-array")
            else:
                used.add("struct-param" if param.ty.is_struct else "scalar-param")
        threads = thread_names(definition)
        assigned: set[str] = set()  # the names assigned so far, in source order
        for node in A.walk(definition):
            if isinstance(node, A.If) and set(assigned_in_every_arm(node)) - assigned:
                used.add("merged-name")
            if isinstance(node, A.Assign) and isinstance(node.target, A.Name):
                assigned.add(node.target.id)
            elif isinstance(node, A.Unpack):
                assigned.update(t.id for t in node.targets)
            used.update(_node_constructs(node, helpers, effectful))
            used.update(_effect_constructs(node, effectful))
            if isinstance(node, A.ArrayRead) and read_needs_guard(node, threads):
                used.add("guarded-read")
            if isinstance(node, A.Static) and any(isinstance(n, A.Name) and n.id not in constants for n in A.walk(node.operand)):
                used.add("static-loop-variable")
    if ("name_choice", "reuse") in (productions(program) if produced is None else produced):
        used.add("reused-name")
    return used & set(CONSTRUCTS)


def _jax_spellings(program: A.Program) -> set[str]:
    """The spellings the JAX rendering picks (grammar.queries), found in the
    program it renders: the lowered one, whose names they are computed from."""
    lowered = lower(program)
    used: set[str] = set()
    for node in A.walk(lowered):
        if isinstance(node, A.Ternary):
            used.add({"where": "jax-where", "select": "jax-lax-select", "cond": "jax-lax-cond"}[jax_select(node)])
        elif lax_spelled(node):
            used.add(f"jax-{jax_operation(node)}-op")
        elif isinstance(node, A.TileReduce):
            kind = {"tile_sum": "add", "tile_max": "max", "tile_min": "min"}[node.op]
            used.add(f"jax-{jax_reduction(print_expr(node), kind, node.ty)}-reduce")
    # an Acc array of a kernel that atomics reach (through helpers too): its
    # contributions are reduced over the threads
    reached: dict[str, dict[str, str]] = {}
    funcs = {f.name: f for f in lowered.funcs}
    for func in lowered.funcs:
        reached[func.name] = _atomic_classes(func.body, reached, funcs)
    for kernel in lowered.kernels:
        classes = _atomic_classes(kernel.body, reached, funcs)
        for param in kernel.params:
            if param.name in classes:
                used.add(f"jax-{jax_reduction(param.name, classes[param.name], param.ty.elem)}-reduce")
    return used


def _atomic_classes(body, reached: dict[str, dict[str, str]], funcs: dict[str, A.Func]) -> dict[str, str]:
    """Array -> atomic class, for the arrays the atomics of `body` reach
    (`reached`: the same for each helper defined before, by its parameters'
    names), as backends.jax_render finds them."""
    classes: dict[str, str] = {}
    for stmt in body:
        for node in A.walk(stmt):
            if isinstance(node, A.Atomic):
                classes.setdefault(node.array, atomic_class(node.op))
            elif isinstance(node, A.Call) and reached.get(node.func):
                for arg, param in zip(node.args, funcs[node.func].params):
                    if param.name in reached[node.func]:
                        classes.setdefault(arg.id, reached[node.func][param.name])
    return classes


def helper_depths(program: A.Program) -> dict[str, int]:
    """Each helper's depth: 1 for one that calls no helper, else one more than
    the deepest helper it calls (overloads of a name share the deepest)."""
    depth: dict[str, int] = {}
    for func in program.funcs:  # a helper calls only helpers defined before it
        callees = [depth.get(n.func, 0) for n in A.walk(func) if isinstance(n, A.Call) and n.func in depth and n.func != func.name]
        depth[func.name] = max(depth.get(func.name, 0), 1 + max(callees, default=0))
    return depth


def _helper_constructs(program: A.Program) -> set[str]:
    used: set[str] = set()
    generics = [f for f in program.funcs if is_generic(f)]
    if generics:
        used.add("generic-helper")
        instances = [f.name.rsplit("__", 1)[0] for f in monomorphize(program).funcs if "__" in f.name]
        if any(instances.count(g.name) >= 2 for g in generics):
            used.add("generic-instances")
    if len({f.name for f in program.funcs}) < len(program.funcs):
        used.add("overload")
    takers = [f for f in program.funcs if takes_functions(f)]
    if takers:
        used.add("function-param")
    if any(f.native for f in program.funcs):
        used.add("native-helper")
    depth = max(helper_depths(program).values(), default=0)
    if depth >= 2:
        used.add("helper-in-helper")
    if depth >= 3:
        used.add("helper-chain-3")
    return used


def _effect_constructs(node, effectful: set[str]) -> set[str]:
    """Where side effects sit in the expressions of one statement or expression node."""
    found: set[str] = set()
    if isinstance(node, (A.Assign, A.Return)):
        value = node.value
        inner = value.args if isinstance(value, A.Call) else (value,)  # the whole value is a statement-like call
        if any(has_effect(e, effectful) for e in inner) or (isinstance(node, A.Assign) and has_effect(node.target, effectful)):
            found.add("effect-in-expression")
    elif isinstance(node, A.CallStmt):
        if any(has_effect(e, effectful) for e in node.call.args):
            found.add("effect-in-expression")
    elif isinstance(node, (A.AugAssign, A.Atomic, A.For)):
        parts = (node.value,) if isinstance(node, A.AugAssign) else (node.index, node.value) if isinstance(node, A.Atomic) else (node.bound,)
        if any(has_effect(e, effectful) for e in parts):
            found.add("effect-in-expression")
    elif isinstance(node, A.If):
        if has_effect(node.cond, effectful):
            found.add("effect-in-expression")
        if any(has_effect(c.cond, effectful) for c in node.elifs):
            found |= {"effect-in-expression", "effect-conditional"}
    elif isinstance(node, A.While) and node.cond is not None and has_effect(node.cond, effectful):
        found |= {"effect-in-expression", "effect-conditional"}
    elif isinstance(node, A.BoolOp) and has_effect(node.right, effectful):
        found.add("effect-conditional")
    elif isinstance(node, A.Ternary) and not node.eager and (has_effect(node.then, effectful) or has_effect(node.orelse, effectful)):
        found.add("effect-conditional")
    return found


# node types that are a construct by themselves
_PLAIN = {
    A.BoolOp: "and-or", A.Not: "not", A.Break: "break", A.Continue: "continue",
    A.AugAssign: "aug-assign", A.Component: "component-read", A.Len: "len",
}


def _node_constructs(node, helpers: set[str], effectful: set[str]) -> set[str]:
    found: set[str] = set()
    ty = getattr(node, "ty", None)
    name = getattr(ty, "name", "")
    if name in ("float64", "int64", "uint32"):
        found.add(name)
    if getattr(ty, "is_vector", False):
        found.add("vector")
    if getattr(ty, "is_matrix", False):
        found.add("matrix")
    if name == "quat":
        found.add("quaternion")
    if isinstance(node, A.ArrayRead) and "." in node.array:  # `p.a[...]` (a read or a store): the AST names a field's array so
        found.add("struct-array-field")
    if isinstance(node, A.ArrayRead) and node.column is not None:  # `g[r, c]`, a read or a store
        found.add("array-2d")
    if isinstance(node, A.Call) and node.func in ("quat_rotate", "quat_rotate_inv"):
        found.add("quat-rotate")
    if isinstance(node, A.BinOp) and is_quat_product(node.op, node.left.ty, node.right.ty):
        found.add("quat-product")
    if isinstance(node, A.Call):
        found.add("helper-call" if node.func in helpers else "builtin-call")
        if node.func in effectful:
            found.add("effectful-helper")
    elif isinstance(node, A.CallStmt) and node.call.func in effectful:
        found.add("effectful-helper")
    elif isinstance(node, A.AtomicValue):
        found.add("atomic-value")
    elif isinstance(node, A.Atomic):
        found.add("atomic-bitwise" if node.op in BITWISE_ATOMICS else f"atomic-{node.op}")
    elif isinstance(node, A.If):
        found.add("if")
        if node.elifs:
            found.add("elif")
        if node.orelse is not None:
            found.add("else")
    elif isinstance(node, (A.For, A.While)):
        if isinstance(node, A.While):
            found.add("while")
        else:
            found.add("for-static" if isinstance(node.bound, A.Const) else "for-constant" if isinstance(node.bound, A.Name) else "for-dynamic")
        if any(isinstance(n, (A.For, A.While)) for stmt in node.body for n in A.walk(stmt)):
            found.add("nested-loop")
    elif type(node) in _PLAIN:
        found.add(_PLAIN[type(node)])
    elif isinstance(node, A.Assign) and isinstance(node.value, A.Name) and getattr(node.value.ty, "is_struct", False):
        found.add("struct-copy")
    if isinstance(node, (A.Assign, A.AugAssign)) and any(isinstance(n, A.Field) for n in A.walk(node.target)):
        found.add("field-store")
    elif isinstance(node, A.Cast):
        found.add("cast")
        if node.builtin:
            found.add("builtin-cast")
    elif isinstance(node, A.Const) and node.typed:
        found.add("typed-literal")
    elif isinstance(node, A.BinOp):
        found.update({"//": {"integer-division"}, "%": {"modulo"}, "<<": {"shift"}, ">>": {"shift"}}.get(node.op, set()))
        if is_matrix_product(node.op, node.left.ty, node.right.ty):
            found.add("matmul")
            if node.left.ty.is_vector:
                found.add("vector-matrix")
            elif node.right.ty.is_matrix:
                found.add("matrix-matrix")
        if node.op in ("&", "|", "^"):
            found.add("bitwise")
        if node.op == "/" and getattr(node.right.ty, "is_vector", False) and not getattr(node.left.ty, "is_vector", False):
            found.add("scalar-over-vector")
        if node.op == "//" and getattr(node.ty, "is_float", False):
            found.discard("integer-division")
            found.add("float-floordiv")
        if node.op in ("/", "//", "%") and getattr(node.ty, "is_float", False) and divisor_kind(node.right) != "guarded":
            found.add("zero-divisor")  # a float divisor that may be zero
    if isinstance(node, A.Ternary):
        found.add("ternary" if node.form == "ternary" else node.form)
    if isinstance(node, A.ComponentAt):
        found.add("computed-component")
    if isinstance(node, (A.Component, A.ComponentAt)) and getattr(node.value.ty, "is_matrix", False):
        found.add("matrix-row")
    if isinstance(node, A.Component) and node.pair:
        found.add("matrix-element-pair")
    if isinstance(node, A.Static):
        found.add("static")
    if isinstance(node, A.Invert):
        found.add("bitwise")
    if isinstance(node, A.TileReduce):
        found.add("tile")
    if isinstance(node, A.TileMap):
        found.add("tile-map" if len(node.tiles) == 1 else "tile-map-pair")
    if isinstance(node, A.TileMatmul):
        found.add("tile-matmul")
    if isinstance(node, A.TileFull):
        found.add("tile-full")
    if isinstance(node, A.TileGet):
        found.add("tile-get")
    if isinstance(node, A.GradCall):
        found.add("grad-call")
    if isinstance(node, A.Unpack):
        found.add("parallel-assign" if isinstance(node.value, A.TupleExpr) else "multi-return")
    if isinstance(node, (A.Assign, A.AugAssign)) and isinstance(node.target, (A.Component, A.ComponentAt)):
        found.add("component-store")
        if isinstance(node.target.value, A.ArrayRead):
            found.add("element-component-store")
        if getattr(node.target.value.ty, "is_matrix", False) or isinstance(node.target.value, (A.Component, A.ComponentAt)):
            found.add("matrix-store")
    if expanded_update(node):
        found.add("expanded-update")
    if isinstance(node, A.Call) and A.starred_vector(node) is not None:
        found.add("starred-argument")
    if isinstance(node, A.AugAssign) or expanded_update(node):
        place = node.target.value if isinstance(node.target, (A.Component, A.ComponentAt)) else node.target
        if isinstance(place, A.Field):
            found.add("field-update")
        elif place is not node.target:
            found.add("component-update")
    return found


class StatsCollector:
    """Accumulates programs one by one, so long runs can show progress."""

    def __init__(self, weights: Weights | None = None):
        self.weights = weights or default_weights()
        self.n = 0
        self.categories: Counter[str] = Counter()
        self.primary: Counter[str] = Counter()
        self.productions: Counter[tuple[str, str]] = Counter()
        self.constructs: Counter[str] = Counter()
        self.sizes: list[int] = []
        self.launches: list[int | None] = []  # the first kernel's own launch size

    def add(self, program: A.Program) -> None:
        self.n += 1
        label = classify(program)
        self.categories.update(label.categories)
        self.primary[label.primary] += 1
        produced = productions(program)
        self.productions.update(produced)
        self.constructs.update(constructs(program, produced))
        self.sizes.append(ast_size(program))
        self.launches.append(program.kernels[0].launch)

    def summary(self) -> dict:
        every = self.weights.alternatives()
        covered = [alt for alt in every if self.productions[alt] > 0]
        return {
            "n": self.n,
            "categories": {c: self.categories[c] for c in CATEGORIES},
            "primary": {c: self.primary[c] for c in CATEGORIES},
            "productions": {
                "covered": len(covered),
                "total": len(every),
                "missing": [f"{rule}.{alt}" for rule, alt in every if self.productions[(rule, alt)] == 0],
            },
            # programs that use each construct (`constructs`)
            "constructs": {c: self.constructs[c] for c in CONSTRUCTS},
            "launch_sizes": launch_distribution(self.launches),
            "ast_nodes": {
                "mean": round(sum(self.sizes) / len(self.sizes), 2) if self.sizes else 0.0,
                "max": max(self.sizes, default=0),
            },
        }


def launch_distribution(launches: list[int | None]) -> dict:
    """Launch sizes by decade (ops.LAUNCH_DECADES, each with its range and
    count), the programs that leave it to the runner (`default`), and the
    smallest and largest drawn."""
    sized = [n for n in launches if n is not None]
    decades = {name: {"range": [lo, hi], "programs": 0} for name, (lo, hi) in LAUNCH_DECADES.items()}
    for n in sized:
        decades[launch_decade(n)]["programs"] += 1
    return {"decades": decades, "default": len(launches) - len(sized), "min": min(sized, default=None), "max": max(sized, default=None)}


def summarize(programs: Iterable[A.Program], weights: Weights | None = None) -> dict:
    collector = StatsCollector(weights)
    for program in programs:
        collector.add(program)
    return collector.summary()

"""What Warp documents as differentiable: the rules that decide whether a
program's gradients are compared at all.

Gradients are only compared where a program stays inside what Warp documents
as differentiable (DESIGN.md, "Known semantic differences") and where finite
differences mean something. `differentiability` checks that on the AST,
conservatively, and names the first rule that excludes a program; the
campaign counts exclusions per rule. `gradient_inputs` and `gradient_outputs`
name the arrays a gradient is taken with respect to and the arrays the loss
sums.
"""

from __future__ import annotations

from kernel_synth.grammar import ast as A
from kernel_synth.grammar.types import ArrayType, DType, Role

DYNAMIC_LOOP = "dynamic-loop"  # a for whose bound is not a literal, or a while
LONG_LOOP = "long-loop"  # a literal trip count (or a nest's product) above Warp's max_unroll
BREAK_CONTINUE = "break-continue"
INPLACE_MUL_DIV = "inplace-mul-div"  # `a[i] *= e`, `a[i] /= e`
ARRAY_OVERWRITE = "array-overwrite"  # a float Out array stored twice (or in a loop), a float InOut written
COMPONENT_REASSIGN = "component-reassign"  # any assignment to a vector component
ATOMIC_MIN_MAX = "atomic-min-max"
HELPER_EFFECTS = "helper-effects"  # a helper (reachable from the kernel) with atomics
VECTOR_OPS = "vector-ops"  # length / normalize: singular at the zero vector
NON_SMOOTH = "non-smooth"  # float kinks and steps, comparisons of floats
INTEGER_ONLY = "integer-only"  # no float input array or no float output array
FLOAT64 = "float64"  # reserved: float64 programs are compared (see `differentiability`)

RULES = (
    INTEGER_ONLY,
    DYNAMIC_LOOP,
    LONG_LOOP,
    BREAK_CONTINUE,
    HELPER_EFFECTS,
    ATOMIC_MIN_MAX,
    INPLACE_MUL_DIV,
    ARRAY_OVERWRITE,
    COMPONENT_REASSIGN,
    VECTOR_OPS,
    NON_SMOOTH,
    FLOAT64,
)

MAX_UNROLL = 16  # warp.config.max_unroll's default
# Builtins with a kink or a step on float arguments. atan2 has a branch cut on
# the negative x axis (which quarter-step inputs hit) and is singular at 0.
NON_SMOOTH_CALLS = frozenset({"floor", "ceil", "sign", "min", "max", "clamp", "abs", "atan2"})
SINGULAR_VECTOR_CALLS = frozenset({"length", "normalize"})
EXCLUDE_FLOAT64 = False  # float64 programs agree with the others (tests/test_gradients.py)


def _floatish(ty: DType) -> bool:
    return ty.is_float or ty.is_vector or ty.is_matrix


def float_array(param: A.Param) -> bool:
    return isinstance(param.ty, ArrayType) and _floatish(param.ty.elem)


def _stored_arrays(kernel: A.Kernel) -> set[str]:
    return {n.target.array for n in A.walk(kernel) if isinstance(n, (A.Assign, A.AugAssign)) and isinstance(n.target, A.ArrayRead)}


def gradient_inputs(kernel: A.Kernel) -> list[str]:
    """The arrays gradients are taken with respect to: float In arrays and
    float InOut arrays the kernel never writes."""
    stored = _stored_arrays(kernel)
    return [
        p.name
        for p in kernel.params
        if float_array(p) and (p.ty.role is Role.IN or (p.ty.role is Role.INOUT and p.name not in stored))
    ]


def gradient_outputs(kernel: A.Kernel) -> list[str]:
    """The arrays the loss sums: float Out and Acc arrays."""
    return [p.name for p in kernel.params if float_array(p) and p.ty.role in (Role.OUT, Role.ACC)]


def _reachable_helpers(program: A.Program) -> list[A.Func]:
    funcs = {f.name: f for f in program.funcs}
    seen: dict[str, A.Func] = {}
    stack: list[object] = [program.kernels[0]]
    while stack:
        node = stack.pop()
        for sub in A.walk(node):
            if isinstance(sub, A.Call) and sub.func in funcs and sub.func not in seen:
                seen[sub.func] = funcs[sub.func]
                stack.append(funcs[sub.func])
    return [f for f in program.funcs if f.name in seen]  # definition order


def _typed(program: A.Program) -> A.Program:
    """`program` with every expression typed (the rules read types)."""
    for definition in program.funcs + program.kernels:
        for node in A.walk(definition):
            if isinstance(node, A.EXPR_TYPES) and node.ty is None:
                from kernel_synth.grammar import check

                return check(program)
    return program


def _loop_rules(body, outer: int, found: set[str]) -> None:
    """DYNAMIC_LOOP and LONG_LOOP over a statement list; `outer` is the product
    of the enclosing literal trip counts."""
    for stmt in body:
        if isinstance(stmt, A.While):
            found.add(DYNAMIC_LOOP)
            _loop_rules(stmt.body, outer * max(stmt.limit, 1), found)
        elif isinstance(stmt, A.For):
            if isinstance(stmt.bound, A.Const) and isinstance(stmt.bound.value, int):
                trips = stmt.bound.value
                if trips > MAX_UNROLL or outer * max(trips, 1) > MAX_UNROLL:
                    found.add(LONG_LOOP)
            else:  # `range(clamp(e, 0, K))`: at most K trips
                found.add(DYNAMIC_LOOP)
                top = stmt.bound.args[-1] if isinstance(stmt.bound, A.Call) and stmt.bound.args else None
                trips = top.value if isinstance(top, A.Const) and isinstance(top.value, int) else MAX_UNROLL + 1
            _loop_rules(stmt.body, outer * max(trips, 1), found)
        elif isinstance(stmt, A.If):
            for body in stmt.branches:
                _loop_rules(body, outer, found)


def _store_counts(body, in_loop: bool, counts: dict[str, int]) -> None:
    """How often each array is stored; a store inside a loop counts twice."""
    for stmt in body:
        if isinstance(stmt, (A.Assign, A.AugAssign)) and isinstance(stmt.target, A.ArrayRead):
            counts[stmt.target.array] = counts.get(stmt.target.array, 0) + (2 if in_loop else 1)
        elif isinstance(stmt, (A.For, A.While)):
            _store_counts(stmt.body, True, counts)
        elif isinstance(stmt, A.If):
            for body in stmt.branches:
                _store_counts(body, in_loop, counts)


def _non_smooth(node) -> bool:
    if isinstance(node, A.Call) and node.func in NON_SMOOTH_CALLS:
        return node.ty is None or _floatish(node.ty)
    if isinstance(node, A.BinOp) and node.op in ("%", "//"):
        return node.ty is None or _floatish(node.ty)
    if isinstance(node, A.Cast):  # float -> int is a step
        return node.operand.ty is None or (_floatish(node.operand.ty) and not _floatish(node.to))
    if isinstance(node, A.Compare):  # a float comparison feeds a branch, a ternary or a loop
        return node.left.ty is None or _floatish(node.left.ty) or _floatish(node.right.ty)
    return False


def exclusions(program: A.Program) -> list[str]:
    """Every rule that excludes the first kernel of `program`, in RULES order."""
    program = _typed(program)
    kernel = program.kernels[0]
    helpers = _reachable_helpers(program)
    definitions = [kernel, *helpers]
    nodes = [n for d in definitions for n in A.walk(d)]
    found: set[str] = set()

    if not gradient_inputs(kernel) or not gradient_outputs(kernel):
        found.add(INTEGER_ONLY)
    for definition in definitions:
        _loop_rules(definition.body, 1, found)
    if any(isinstance(n, (A.Break, A.Continue)) for n in nodes):
        found.add(BREAK_CONTINUE)
    if any(isinstance(n, A.Atomic) for h in helpers for n in A.walk(h)):
        found.add(HELPER_EFFECTS)
    if any(isinstance(n, A.Atomic) and n.op in ("min", "max") for n in nodes):
        found.add(ATOMIC_MIN_MAX)
    if any(isinstance(n, A.AugAssign) and n.op in ("*=", "/=") and isinstance(n.target, A.ArrayRead) for n in nodes):
        found.add(INPLACE_MUL_DIV)
    roles = {p.name: p for p in kernel.params if isinstance(p.ty, ArrayType)}
    counts: dict[str, int] = {}
    _store_counts(kernel.body, False, counts)
    for name, count in counts.items():
        param = roles.get(name)
        if param is None or not float_array(param):
            continue
        if param.ty.role is Role.INOUT or count > 1:
            found.add(ARRAY_OVERWRITE)
    if any(isinstance(n, (A.Assign, A.AugAssign)) and isinstance(n.target, A.Component) for n in nodes):
        found.add(COMPONENT_REASSIGN)
    if any(isinstance(n, A.Call) and n.func in SINGULAR_VECTOR_CALLS for n in nodes):
        found.add(VECTOR_OPS)
    if any(_non_smooth(n) for n in nodes):
        found.add(NON_SMOOTH)
    if EXCLUDE_FLOAT64 and any(getattr(n, "ty", None) is not None and n.ty.name == "float64" for n in nodes):
        found.add(FLOAT64)
    return [rule for rule in RULES if rule in found]


def differentiability(program: A.Program) -> str | None:
    """None when the first kernel's gradients are compared, else the first rule
    (in RULES order) that excludes it."""
    found = exclusions(program)
    return found[0] if found else None

"""What Warp documents as differentiable: the rules that decide whether a
program's gradients are compared at all.

Gradients are only compared where a program stays inside what Warp documents
as differentiable (DESIGN.md, "Known semantic differences") on the release
that compiles it. `differentiability` checks that on the AST, conservatively,
and names the first rule that excludes a program; the campaign counts
exclusions per rule. Branches, kinks (abs, min, max, clamp, floor, sign, float
`%` and `//`, casts to integer) and the singular point of length/normalize
exclude no program: the points next to them are skipped one by one
(backends.gradients.fd_gradients_checked), as is every point of a run in
which a float divisor was zero. `gradient_inputs` and
`gradient_outputs` name the arrays a gradient is taken with respect to and
the arrays the loss sums.
"""

from __future__ import annotations

from kernel_synth.grammar import ast as A
from kernel_synth.grammar.lowering import flat_params, leaf_name
from kernel_synth.grammar.queries import constant_values, effectful_helpers, has_effect, loop_trips
from kernel_synth.grammar.types import FUNCTION, ArrayType, DType, Role

from .warp_release import WarpRelease

# a loop Warp does not unroll (a while, or a for whose bound is not a
# literal: `range(clamp(e, 0, K))`) whose body assigns a local bound outside
# it. Warp's backward pass runs such a loop's iterations in
# reverse, each replaying its body on the values the locals hold then: a
# local bound outside the loop and reassigned in it holds its value after the
# last iteration, so the replays read the wrong one (`t = t * x[i]` in the
# loop: WARP_DIFFERS in tests/test_gradients.py). A body that assigns only
# locals it declares itself (a while's counter is its own, as a for's
# variable is) and stores to arrays or atomics replays exactly. Measured
# before lifting the rest (synth draws of seed 500 and 700, launch seed 0):
# 300 drawn programs with such a for and 200 with such a while, admitted by
# no other rule on 1.19.0, gave 294 and 197 comparisons and no disagreement
# on 1.19.0 (the rest: Warp codegen errors the forward build has too); of
# those admitted on 1.0.2 (116 and 80), 86 and 51 were compared and 4
# disagreed, every one with the loop removed as well: not the loop's (two of
# them Warp 1.0.2's known adjoints of a scalar over a vector and of `v1 = v0`).
DYNAMIC_LOOP = "dynamic-loop"
LONG_LOOP = "long-loop"  # a literal trip count (or a nest's product) above Warp's max_unroll
# a loop with `break` or `continue` (which Warp does not unroll) whose body
# assigns a local bound outside it, as DYNAMIC_LOOP: `t = t * x[i]` before a
# `break` gives Warp another gradient (WARP_DIFFERS in
# tests/test_gradients.py). One on locals of its own is compared: measured
# on 1.19.0, 30 drawn programs this rule alone excluded when it took every
# such loop: 24 compiled, all agree (the other 6: Warp's known break beside
# wp.static codegen error, the forward build's too)
BREAK_CONTINUE = "break-continue"
INPLACE_MUL_DIV = "inplace-mul-div"  # `a[i] *= e`, `a[i] /= e`
# a float Out array stored twice (or in a loop): from warp-lang 1.13 the
# backward pass zeroes an element's adjoint as it passes its store, so
# overwrites are differentiable (measured: 14 of 33 such programs disagreed on
# 1.12.1, none of 109 on 1.19.0)
ARRAY_OVERWRITE = "array-overwrite"
# a float InOut array written and read: the backward pass replays the
# kernel's reads on the values the forward pass wrote (a branch on `io[i]`
# before `io[i] += s` takes the other side there), on every release. One
# that is only written (a store, `+=`, `-=`) is neither a gradient input nor
# an output, so what it holds reaches the loss nowhere
INOUT_WRITE = "inout-write"
# an assignment to a component of a local vector, matrix or quaternion.
# Warp documents that a component may be assigned once (`v.x = v.x * x`
# twice gives a wrong gradient, measured on 1.19.0) unless
# wp.config.enable_vector_component_overwrites is set, from 1.7.0, which the
# gradient oracle sets (backends.warp_backend): lifted there
COMPONENT_REASSIGN = "component-reassign"
# an assignment to a component of an array element (`y[i].x = e`): Warp
# lowers it to a store through a reference and logs it as non-differentiable
ELEMENT_COMPONENT = "element-component"
# `v = atomic_add(io, i, e)`: Warp gives the value an atomic returns no
# adjoint (measured on 1.0.2 and 1.19.0: the gradient through it is zero; Warp
# documents as much for tile_atomic_add's returned tile, not for atomic_add)
ATOMIC_VALUE = "atomic-value"
# an atomic min or max in a program whose finite differences are unavailable
# (a grad call): the reference's record of which value won, and of ties,
# where Warp's adjoint and JAX's differ by convention (the whole adjoint to
# every tied value, once per call, against a share), is what skips those
# points. With finite differences, atomic min and max are compared: Warp
# documents them as differentiable (its changelog); measured on 1.19.0, 30
# drawn programs this rule alone excluded before: 23 agree, 3 disagree at
# ties (skipped since), 1 the known dead-value NaN adjoint, 1 a known Warp
# codegen error (the forward build's too)
ATOMIC_MIN_MAX = "atomic-min-max"
# a helper with atomics (directly or through its callees) called in the right
# operand of `and` or `or`. Warp's backward pass runs that operand's adjoint
# only when the operator's result is true (`and`; false for `or`), where the
# forward pass evaluated it when the left operand was: an operand evaluated
# to false under `and` (true under `or`) loses the adjoints of its atomics (a
# Warp bug, 1.19.0: `if 1.0 > 0.0 and f(x[i], acc) < 0.0: pass` with f
# running `atomic_add(acc, 0, a)` gives d/dx 0, JAX and finite differences 1;
# `1.0 < 0.0 or f(..) < 5.0` too; 1.0.2 does not short-circuit, and the
# program is unsupported there). Anywhere else a
# helper's atomics have the adjoints the kernel's have. Measured (draws of
# seed 800, launch seed 0) on 300 drawn programs the old rule (any reachable
# helper with atomics) alone excluded: with no rule, 1.19.0 compared 291 and
# 3 disagreed (2 this bug, 1 an unused `pow(0.0, x[i])`: Warp's NaN beside
# JAX's 0, no helper needed); with this rule, 218 are admitted, 212 compared
# and none disagreed (the rest: Warp codegen errors the forward build has
# too). On 1.0.2, 181 admitted, 65 compared (113 unsupported there), 4
# disagreed: each, shrunk, Warp 1.0.2's known adjoint of a scalar over a
# vector (one shrinks to a kernel with no helper at all).
HELPER_EFFECTS = "helper-effects"
# no float input array or no float output array. Of 2000 draws (seed 91,
# default weights) 462 are integer-only, 197 of them with a float input
# array: 147 write int Out or Acc arrays only (an int output's gradient is
# zero wherever it is defined), 50 a float InOut array as well, which
# INOUT_WRITE would exclude: nothing a narrower rule could compare.
INTEGER_ONLY = "integer-only"
# a tile operation Warp declares not differentiable (is_differentiable=False
# in its builtins, 1.19.0): tile_full (and the tile_ones a release before
# 1.10.0 broadcasts with), tile_max, tile_min. Its adjoint is zero: measured,
# `tile_sum(tile_full(x[i] + 3.75, 4))` has d/dx 0 in Warp, 4 in JAX. The
# other tile operations are compared on every release that has tiles
# (measured: 40 drawn programs with tile_load, tile_map, tile_matmul,
# tile_sum and tile_get that no other rule excludes agree with JAX and finite
# differences on 1.19.0 and 1.15.0, and the 35 that 1.8.1 supports with
# finite differences there), on a launch as long as their longest tile
# (backends.gradients.gradient_launch)
TILE_NOT_DIFFERENTIABLE = "tile-not-differentiable"
FLOAT64 = "float64"  # reserved: float64 programs are compared (see `differentiability`)

RULES = (
    INTEGER_ONLY,
    DYNAMIC_LOOP,
    LONG_LOOP,
    BREAK_CONTINUE,
    HELPER_EFFECTS,
    ATOMIC_MIN_MAX,
    INPLACE_MUL_DIV,
    INOUT_WRITE,
    ARRAY_OVERWRITE,
    COMPONENT_REASSIGN,
    ELEMENT_COMPONENT,
    ATOMIC_VALUE,
    TILE_NOT_DIFFERENTIABLE,
    FLOAT64,
)
# The release from which Warp documents (and delivers) the adjoint a rule
# stands in for: the rule no longer excludes programs there
LIFTED_BY = {ARRAY_OVERWRITE: "gradient_overwrites", COMPONENT_REASSIGN: "component_overwrites"}

MAX_UNROLL = 16  # warp.config.max_unroll's default
EXCLUDE_FLOAT64 = False  # float64 programs agree with the others (tests/test_gradients.py)


def _floatish(ty: DType) -> bool:
    return ty.is_float or ty.is_vector or ty.is_matrix


def float_array(param: A.Param) -> bool:
    return isinstance(param.ty, ArrayType) and _floatish(param.ty.elem)


def _stored_element(target) -> A.ArrayRead | None:
    """The array element an assignment target writes (whole, or one component)."""
    if isinstance(target, (A.Component, A.ComponentAt)):
        target = target.value
    return target if isinstance(target, A.ArrayRead) else None


def _stored_arrays(kernel: A.Kernel) -> set[str]:
    return {_stored_element(n.target).array for n in A.walk(kernel) if isinstance(n, (A.Assign, A.AugAssign)) and _stored_element(n.target) is not None}


def gradient_inputs(kernel: A.Kernel) -> list[str]:
    """The arrays gradients are taken with respect to: float In arrays and
    float InOut arrays the kernel never writes. A struct parameter's float
    array field is one too, by its flattened name (`p__a`): Warp's adjoint
    flows through an array inside a struct parameter (measured on 1.0.2 and
    1.19.0, CPU: `o[i] = s.a[i] * s.a[i] * s.c + x[i] * s.a[clamp(i + 1, ..)]`
    gives s.a.grad = 2 c a + the x terms exactly, as x.grad is right)."""
    stored = _stored_arrays(kernel)
    return [
        p.name
        for p in flat_params(kernel.params)
        if float_array(p) and (p.ty.role is Role.IN or (p.ty.role is Role.INOUT and p.name not in stored))
    ]


def gradient_outputs(kernel: A.Kernel) -> list[str]:
    """The arrays the loss sums: float Out and Acc arrays."""
    return [p.name for p in flat_params(kernel.params) if float_array(p) and p.ty.role in (Role.OUT, Role.ACC)]


def _reachable_helpers(program: A.Program) -> list[A.Func]:
    funcs = {f.name: f for f in program.funcs}
    seen: dict[str, A.Func] = {}
    stack: list[object] = [program.kernels[0]]
    while stack:
        node = stack.pop()
        for sub in A.walk(node):
            # a helper passed for a Function parameter is called through it
            callee = sub.func if isinstance(sub, A.Call) else sub.id if isinstance(sub, A.Name) and sub.ty == FUNCTION else None
            if callee in funcs and callee not in seen:
                seen[callee] = funcs[callee]
                stack.append(funcs[callee])
    return [f for f in program.funcs if f.name in seen]  # definition order


def _typed(program: A.Program) -> A.Program:
    """`program` with every expression typed (the rules read types)."""
    for definition in program.funcs + program.kernels:
        for node in A.walk(definition):
            if isinstance(node, A.EXPR_TYPES) and node.ty is None:
                from kernel_synth.grammar import check

                return check(program)
    return program


def _assigned_local(target) -> str | None:
    """The local an assignment target rebinds or changes in part (`v` of
    `v.x = e`, `s` of `s.f = e`); None for an array element."""
    while isinstance(target, (A.Component, A.ComponentAt, A.Field)):
        target = target.value
    return target.id if isinstance(target, A.Name) else None


def _binding_sites(node) -> list[str]:
    """Every local `node` and what it holds bind, one entry per binding:
    assignment and unpacking targets, loop variables and while counters."""
    sites: list[str] = []
    for sub in A.walk(node):
        if isinstance(sub, (A.Assign, A.AugAssign)):
            name = _assigned_local(sub.target)
            if name is not None:
                sites.append(name)
        elif isinstance(sub, A.Unpack):
            sites.extend(t.id for t in sub.targets)
        elif isinstance(sub, A.For):
            sites.append(sub.var)
        elif isinstance(sub, A.While):
            sites.append(sub.counter)
    return sites


def carries_outer_local(loop: A.For | A.While, definition) -> bool:
    """Whether `loop`'s body (nested blocks included) assigns a local bound
    outside it: a name some statement of `definition` outside the body binds
    too (before or after the loop: conservative, as Warp scopes names per
    function). Parameters are read-only and `return` only ends a helper's
    body (SEMANTICS.md), so neither is assigned or left from a loop. A
    helper called in the body cannot assign the caller's locals; its own
    loops are checked on its own definition."""
    inside: dict[str, int] = {}
    for stmt in loop.body:
        for name in _binding_sites(stmt):
            inside[name] = inside.get(name, 0) + 1
    everywhere: dict[str, int] = {}
    for name in _binding_sites(definition):
        everywhere[name] = everywhere.get(name, 0) + 1
    return any(everywhere[name] > count for name, count in inside.items())


def counter_escapes(loop: A.While, definition) -> bool:
    """Whether `definition` reads `loop`'s counter outside the loop and
    outside the loops that bind that name again (a for's variable is not
    visible after its loop). Warp does not replay a while loop in the
    backward pass, so there the counter keeps its value from before the loop
    (found by a campaign on 1.19.0: `v[clamp(w, 0, 2)]` after `while w < 2`
    takes the adjoint of v[0], not of v[2])."""
    name = loop.counter
    rebinding = [n for n in A.walk(definition) if isinstance(n, (A.For, A.While)) and (n.var if isinstance(n, A.For) else n.counter) == name]
    inside = {id(n) for other in rebinding for n in A.walk(other)}
    return any(isinstance(n, A.Name) and n.id == name and id(n) not in inside for n in A.walk(definition))


def _loop_rules(body, outer: int, found: set[str], constants: dict, definition) -> None:
    """DYNAMIC_LOOP and LONG_LOOP over a statement list of `definition`;
    `outer` is the product of the enclosing literal trip counts."""
    for stmt in body:
        if isinstance(stmt, A.While):
            if carries_outer_local(stmt, definition) or counter_escapes(stmt, definition):
                found.add(DYNAMIC_LOOP)
            _loop_rules(stmt.body, outer * max(stmt.limit, 1), found, constants, definition)
        elif isinstance(stmt, A.For):
            trips, known = loop_trips(stmt.bound, constants)
            if not known:  # `range(clamp(e, 0, K))`: at most K trips
                if carries_outer_local(stmt, definition):
                    found.add(DYNAMIC_LOOP)
            elif trips > MAX_UNROLL or outer * max(trips, 1) > MAX_UNROLL:
                found.add(LONG_LOOP)
            _loop_rules(stmt.body, outer * max(trips, 1), found, constants, definition)
        elif isinstance(stmt, A.If):
            for body in stmt.branches:
                _loop_rules(body, outer, found, constants, definition)


def _store_counts(body, in_loop: bool, counts: dict[str, int]) -> None:
    """How often each array is stored; a store inside a loop counts twice."""
    for stmt in body:
        element = _stored_element(stmt.target) if isinstance(stmt, (A.Assign, A.AugAssign)) else None
        if element is not None:
            counts[element.array] = counts.get(element.array, 0) + (2 if in_loop else 1)
        elif isinstance(stmt, (A.For, A.While)):
            _store_counts(stmt.body, True, counts)
        elif isinstance(stmt, A.If):
            for body in stmt.branches:
                _store_counts(body, in_loop, counts)


def _read(array: str, nodes: list) -> bool:
    """Whether any of `nodes` reads `array` (`s.a` for a struct's field):
    an element read that is not a store's target (whole, by `=`, `+=` or
    `-=`), a tile load, an atomic that returns the old value, or the array
    (or its struct) passed to a helper, which may read it."""
    targets = {id(n.target) for n in nodes if isinstance(n, (A.Assign, A.AugAssign)) and isinstance(n.target, A.ArrayRead) and getattr(n, "op", "+=") in ("+=", "-=")}
    for n in nodes:
        if isinstance(n, A.Name) and n.id in (array, array.split(".")[0]):
            return True
        if getattr(n, "array", None) == array and not isinstance(n, (A.Atomic, A.Len)) and id(n) not in targets:
            return True
    return False


def exclusions(program: A.Program, release: WarpRelease | None = None) -> list[str]:
    """Every rule that excludes the first kernel of `program` on `release`
    (None: every rule, as on the oldest release), in RULES order."""
    program = _typed(program)
    kernel = program.kernels[0]
    helpers = _reachable_helpers(program)
    definitions = [kernel, *helpers]
    nodes = [n for d in definitions for n in A.walk(d)]
    found: set[str] = set()

    if not gradient_inputs(kernel) or not gradient_outputs(kernel):
        found.add(INTEGER_ONLY)
    for definition in definitions:
        _loop_rules(definition.body, 1, found, constant_values(program), definition)
    for definition in definitions:
        for loop in A.walk(definition):
            if isinstance(loop, (A.For, A.While)) and any(isinstance(n, (A.Break, A.Continue)) for n in A.walk(loop)) and carries_outer_local(loop, definition):
                found.add(BREAK_CONTINUE)
    effectful = effectful_helpers(program)
    if effectful and any(isinstance(n, A.BoolOp) and has_effect(n.right, effectful) for n in nodes):
        found.add(HELPER_EFFECTS)
    if any(isinstance(n, A.Atomic) and n.op in ("min", "max") for n in nodes) and any(isinstance(n, A.GradCall) for n in A.walk(program)):
        found.add(ATOMIC_MIN_MAX)
    if any(isinstance(n, A.AugAssign) and n.op in ("*=", "/=") and isinstance(n.target, A.ArrayRead) for n in nodes):
        found.add(INPLACE_MUL_DIV)
    roles = {p.name: p for p in kernel.params if isinstance(p.ty, ArrayType)}
    # a struct parameter's array field is stored as `p.a` in the AST
    roles.update((f"{p.name}.{f}", A.Param(leaf_name(p.name, (f,)), a)) for p in kernel.params if isinstance(p.ty, DType) and p.ty.is_struct for f, a in p.ty.array_fields)
    counts: dict[str, int] = {}
    _store_counts(kernel.body, False, counts)
    for name, count in counts.items():
        param = roles.get(name)
        if param is None or not float_array(param):
            continue
        if param.ty.role is Role.INOUT:
            if _read(name, nodes):
                found.add(INOUT_WRITE)
        elif count > 1:
            found.add(ARRAY_OVERWRITE)
    if any(isinstance(n, A.AtomicValue) and n.ty is not None and n.ty.is_float for n in nodes):
        found.add(ATOMIC_VALUE)
    for n in nodes:
        if isinstance(n, (A.Assign, A.AugAssign)) and isinstance(n.target, (A.Component, A.ComponentAt)):
            found.add(COMPONENT_REASSIGN if _assigned_local(n.target) is not None else ELEMENT_COMPONENT)
    if any(isinstance(n, A.TileFull) or (isinstance(n, A.TileReduce) and n.op in ("tile_max", "tile_min")) for n in nodes):
        found.add(TILE_NOT_DIFFERENTIABLE)
    if EXCLUDE_FLOAT64 and any(getattr(n, "ty", None) is not None and n.ty.name == "float64" for n in nodes):
        found.add(FLOAT64)
    if release is not None:
        found -= {rule for rule, feature in LIFTED_BY.items() if release.has(feature)}
    return [rule for rule in RULES if rule in found]


def differentiability(program: A.Program, release: WarpRelease | None = None) -> str | None:
    """None when the first kernel's gradients are compared on `release`, else
    the first rule (in RULES order) that excludes it."""
    found = exclusions(program, release)
    return found[0] if found else None

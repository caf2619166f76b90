"""Program -> JAX source, built as a libcst module (backends.jax_run loads and runs it).

The rendered module is plain JAX a person could have written:

- `import jax`, `import jax.numpy as jnp`, `from jax import lax`; x64 switched on
  at import when the program uses float64 or int64 (everything else names its
  dtype, so 32-bit values stay 32-bit either way);
- a prelude with only the helpers the program needs, for what JAX spells
  differently from the DSL (`sign(0) == 1`, `clamp`, `length`, `normalize` of
  the zero vector);
- one pure function per DSL helper. A helper whose atomics reach an Acc
  parameter takes that array's per-thread contributions and returns
  `(value, contributions...)` updated;
- one function per kernel, with the kernel's name and parameters, taking full
  arrays and scalars and returning `{array name: new array}` for every Out,
  InOut and Acc array. Inside, `thread(tid)` runs one thread under `jax.vmap`:
  it returns its own element of each Out/InOut array and, per Acc array that
  gets atomics, a full-length array of its contributions (zeros updated with
  `.at[k].add` for add/sub, the min/max identity updated with `.at[k].min/max`),
  which the kernel sums (or mins/maxes) over threads into the original. An
  Acc array so costs n * n elements per launch: right for differential
  launches of tens or hundreds of threads, not for ops.MAX_LAUNCH. The
  second form, `render_jax(program, threads="loop")`, runs the same
  `thread` once per thread id in a `lax.fori_loop` that carries the full
  arrays: a thread's own Out/InOut elements are set at its index, and an Acc
  array is passed to it as the running total its atomics update in place, so
  it costs n elements (and n sequential iterations). Both forms must agree
  (the vmap-loop oracle); backends.jax_backend uses the loop form where the
  vmap form's n * n would be too large.

Control flow is data flow. Statements run under a mask (None at the top of a
definition: always on): `if/elif/else` compute one mask per clause and every
assignment inside is `x = jnp.where(mask, new, x)`; loops run a body function
over their static trip count with the locals they assign carried, driven by
`lax.fori_loop`, `lax.scan` over the indices, `lax.scan` two iterations a
step, a Python loop unrolled at trace time, or, for a loop that carries no
float, `lax.while_loop` (`grammar.queries.jax_loop`: the trip count and the
carried types pick the spelling, so the program text fixes it; reverse mode
cannot pass a while_loop that carries a float); dynamic
bounds `range(clamp(e, 0, K))` and while conditions masking iterations off;
`break` sets a carried flag and `continue` a per-iteration one, and the mask is
re-derived after any statement that may have run them. A local declared inside
a masked block is assigned plainly: it is only visible there, and every effect
it has is masked. Both sides of a condition, `and`/`or` and `x if c else y`
are always evaluated (`jnp.logical_and`, `jnp.where`): the language's guards
make every operand safe to evaluate, so short-circuiting never changes a
defined result.

Spellings: a conditional expression is `jnp.where`, `lax.select` or
`lax.cond`; an operation lax has too is jnp's or lax's (every operand's
dtype spelled out: lax does not promote); a reduction over threads or of a
tile is `jnp.sum/max/min` or `lax.reduce` with a Python identity (which JAX
lowers to the same primitive). grammar.queries picks each from the node's
text (SEMANTICS.md, "Spellings in JAX").

Literals stay Python literals (weakly typed: they take the other operand's
dtype) wherever an operand beside them has a dtype; anywhere else they are
spelled `jnp.float32(0.5)` etc. The same holds for a `fori_loop` index, which
the loop's body makes int32 first (eager, fori_loop hands it a Python int).

Each AST node type maps to one builder through a table; an unknown node is a
RenderError. Every builder returns or emits libcst nodes; parentheses come from
the precedence of the Python expression built.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from kernel_synth.grammar import ast as A
from kernel_synth.grammar.checker import atomic_class
from kernel_synth.grammar.lowering import lower
from kernel_synth.grammar.ops import BITWISE_ATOMICS, BUILTINS, MATMUL_ROWS, OPERATORS, TILE_GET_ROWS, TILE_MAPS, TILE_REDUCTIONS, builtin, is_matrix_product, is_quat_product
from kernel_synth.grammar.printer import print_expr
from kernel_synth.grammar.queries import LAX_CALLS, LAX_OPERATORS, assigned_in_every_arm, block_exits, constant_values, effectful_helpers, identifiers, integer_carry, jax_loop, jax_operation, jax_reduction, jax_select, loop_exits, loop_trips, static_value, statements, uses_64_bits
from kernel_synth.grammar.types import ArrayType, DType, Role

from .cst_nodes import (
    AUG_NODES,
    COMPARE_NODES,
    POSTFIX,
    UNARY_NODES,
    assign,
    binary,
    call,
    compare,
    conjunction,
    dotted,
    line,
    method,
    names_tuple,
    number,
    operation,
    spread,
    subscript,
    unary,
    wrap,
)
from .errors import RenderError

__all__ = ["render_jax", "render_jax_module"]

# The fixed prelude: helpers for what the DSL defines and JAX spells otherwise.
# Emitted only when used, in this order.
_PRELUDE = {
    "sign": '''
def sign(x):
    """-1 where x < 0, else 1: sign(0) == 1, as in Warp."""
    return jnp.where(x < 0, -1, 1).astype(x.dtype)
''',
    "divisor": '''
def divisor(a, b):
    """b, as a divisor of a that XLA cannot fold. XLA turns a division by a
    constant into a product with its reciprocal, an ulp off, which a floor,
    a cast to int or a comparison can turn into another value (float32
    floor(x / 0.007) would be 0 at x = 0.007); a divisor that depends on the
    dividend is no constant, and is b itself (a NaN dividend gives NaN
    either way)."""
    return jnp.where(a != a, b + 1, b)
''',
    "divide": '''
def divide(a, b):
    """a / b, as IEEE divides (Warp's float /)."""
    return a / divisor(a, b)
''',
    "lax_divide": '''
def lax_divide(a, b):
    """a / b, as IEEE divides, through lax.div (a and b of one dtype)."""
    return lax.div(a, divisor(a, b))
''',
    "floor_div": '''
def floor_div(a, b):
    """floor(a / b), the quotient rounded as IEEE divides (Warp's float //)."""
    return jnp.floor(a / divisor(a, b))
''',
    "clamp": '''
def clamp(x, lo, hi):
    return jnp.minimum(jnp.maximum(x, lo), hi)
''',
    "length": '''
def length(v):
    """|v|; its gradient at the zero vector is zero, as Warp's adjoint gives."""
    s = jnp.sum(v * v, axis=-1)
    return jnp.where(s > 0, jnp.sqrt(jnp.where(s > 0, s, 1)), 0)
''',
    "normalize": '''
def normalize(v):
    """v / length(v); the zero vector normalizes to zero, as in Warp."""
    n = length(v)
    return jnp.where(n > 0, v / jnp.where(n > 0, n, 1), 0)
''',
    # quaternions are (x, y, z, w) arrays; Warp's formulas, operation for operation
    # loop drivers: each runs `body(index, carry)` for index 0 .. trips - 1
    "scan_loop": '''
def scan_loop(trips, body, carry):
    """lax.scan over the indices."""
    return lax.scan(lambda c, k: (body(k, c), None), carry, jnp.arange(trips, dtype=jnp.int32))[0]
''',
    "scan_by_two": '''
def scan_by_two(trips, body, carry):
    """lax.scan unrolled two iterations a step (with a remainder for an odd count)."""
    return lax.scan(lambda c, k: (body(k, c), None), carry, jnp.arange(trips, dtype=jnp.int32), unroll=2)[0]
''',
    "while_loop": '''
def while_loop(trips, body, carry):
    """lax.while_loop over the indices (the carry holds no float: reverse mode passes)."""
    return lax.while_loop(lambda s: s[0] < trips, lambda s: (s[0] + 1, body(s[0], s[1])), (jnp.int32(0), carry))[1]
''',
    "unrolled_loop": '''
def unrolled_loop(trips, body, carry):
    """A Python loop: unrolled when traced."""
    for k in range(trips):
        carry = body(jnp.int32(k), carry)
    return carry
''',
    "quat_identity": '''
def quat_identity():
    return jnp.array([0.0, 0.0, 0.0, 1.0], dtype=jnp.float32)
''',
    "normalize_quat": '''
def normalize_quat(q):
    """q / length(q); the zero quaternion normalizes to the identity, as in Warp."""
    n = length(q)
    return jnp.where(n > 0, q / jnp.where(n > 0, n, 1), jnp.array([0.0, 0.0, 0.0, 1.0], dtype=q.dtype))
''',
    "quat_mul": '''
def quat_mul(a, b):
    """The Hamilton product."""
    ax, ay, az, aw = a[0], a[1], a[2], a[3]
    bx, by, bz, bw = b[0], b[1], b[2], b[3]
    return jnp.stack([
        aw * bx + bw * ax + ay * bz - by * az,
        aw * by + bw * ay + az * bx - bz * ax,
        aw * bz + bw * az + ax * by - bx * ay,
        aw * bw - ax * bx - ay * by - az * bz,
    ])
''',
    "quat_from_axis_angle": '''
def quat_from_axis_angle(axis, angle):
    half = angle * 0.5
    s = jnp.sin(half)
    return jnp.stack([axis[0] * s, axis[1] * s, axis[2] * s, jnp.cos(half)])
''',
    "quat_inverse": '''
def quat_inverse(q):
    return jnp.stack([-q[0], -q[1], -q[2], q[3]])
''',
    "quat_rotate": '''
def quat_rotate(q, v, direction=1):
    c = 2 * q[3] * q[3] - 1
    d = 2 * (q[0] * v[0] + q[1] * v[1] + q[2] * v[2])
    turn = jnp.stack([q[1] * v[2] - q[2] * v[1], q[2] * v[0] - q[0] * v[2], q[0] * v[1] - q[1] * v[0]]) * q[3] * 2
    return v * c + q[:3] * d + direction * turn
''',
    "quat_rotate_inv": '''
def quat_rotate_inv(q, v):
    return quat_rotate(q, v, -1)
''',
    "quat_to_matrix": '''
def quat_to_matrix(q):
    """The matrix whose columns are the rotated axes."""
    basis = jnp.eye(3, dtype=q.dtype)
    return jnp.stack([quat_rotate(q, basis[k]) for k in range(3)], axis=1)
''',
}
_PRELUDE_NEEDS = {"divide": ("divisor",), "lax_divide": ("divisor",), "floor_div": ("divisor",), "normalize": ("length",), "normalize_quat": ("length",), "quat_rotate_inv": ("quat_rotate",), "quat_to_matrix": ("quat_rotate",)}
_IMPORTS = ("import jax", "import jax.numpy as jnp", "from jax import lax")
_X64 = 'jax.config.update("jax_enable_x64", True)'

# Names the rendered module defines or imports: fresh names avoid them.
_MODULE_NAMES = frozenset({"jax", "jnp", "lax", *_PRELUDE})
_WEAK_INT_MAX = 2**31 - 1


# ------------------------------------------------------------- JAX constructs


def at(value: cst.BaseExpression, index: cst.BaseExpression, op: str, arg: cst.BaseExpression) -> cst.Call:
    """`value.at[index].op(arg)`."""
    return method(subscript(cst.Attribute(wrap(value, POSTFIX), cst.Name("at")), index), op, arg)


def jnp_dtype(ty: DType) -> cst.BaseExpression:
    return dotted(f"jnp.{'float32' if ty.is_vector or ty.is_matrix else ty.name}")


def _false() -> cst.Call:
    return call("jnp.array", cst.Name("False"))


def _true() -> cst.Call:
    return call("jnp.array", cst.Name("True"))


# ------------------------------------------------------------------ rendering


@dataclass
class _Value:
    """A rendered expression; `weak` when it has no dtype of its own (a Python
    literal or a fori_loop index) and takes the other operand's."""

    node: cst.BaseExpression
    weak: bool = False
    literal: bool = False  # a Python number, not a JAX value at all


@dataclass
class _Loop:
    broken: str | None  # carried: the loop is over for this thread (break, or the while condition failed)
    continued: str | None  # per iteration: `continue` ran


# How a kernel's threads run: "vmap" (the per-thread body under jax.vmap, an
# Acc array's contributions n * n elements) or "loop" (lax.fori_loop over the
# thread ids carrying the full arrays: an atomic updates the running array
# itself, n elements whatever the launch)
THREAD_FORMS = ("vmap", "loop")
# Above this many threads a kernel with an Acc array runs in the loop form
VMAP_ACC_LIMIT = 1024


def thread_form(kernel: A.Kernel, n: int) -> str:
    """The form (THREAD_FORMS) the JAX backends run `kernel` in on `n` threads."""
    has_acc = any(isinstance(p.ty, ArrayType) and p.ty.role is Role.ACC for p in kernel.params)
    return "loop" if has_acc and n > VMAP_ACC_LIMIT else "vmap"


@dataclass
class _Renderer:
    program: A.Program
    prelude: set[str] = field(default_factory=set)
    threads: str = "vmap"

    def __post_init__(self) -> None:
        # the checker refuses Python keywords and the modules' names
        # (grammar.ops.host_name_reason): a DSL name is its own Python name
        self.taken: set[str] = set(identifiers(self.program)) | _MODULE_NAMES
        self.funcs = {f.name: f for f in self.program.funcs}
        self.constants = constant_values(self.program)
        self.stepped = stepped_quotients(self.program)
        self.effectful_helpers = effectful_helpers(self.program)  # what integer_carry asks
        # helper -> {Acc parameter: atomic class} for the parameters its atomics reach
        self.updates: dict[str, dict[str, str]] = {}
        for func in self.program.funcs:
            self.updates[func.name] = self.atomic_classes(func.body)

    def atomic_classes(self, body) -> dict[str, str]:
        """Array -> atomic class, for the arrays `body`'s atomics reach (helpers included)."""
        classes: dict[str, str] = {}
        for stmt in statements(body):
            if isinstance(stmt, A.Atomic):
                classes.setdefault(stmt.array, atomic_class(stmt.op))
            for call_node in self.effect_calls(stmt):
                func = self.funcs[call_node.func]
                for arg, param in zip(call_node.args, func.params):
                    if param.name in self.updates[call_node.func]:
                        classes.setdefault(arg.id, self.updates[call_node.func][param.name])
        return classes

    def effectful(self, node) -> bool:
        return isinstance(node, A.Call) and bool(self.updates.get(node.func))

    def effect_calls(self, node) -> list[A.Call]:
        """The calls of helpers with atomics anywhere under `node`."""
        return [n for n in A.walk(node) if self.effectful(n)]

    def has_effect(self, node) -> bool:
        return bool(self.effect_calls(node))

    def masked(self, *parts: cst.BaseExpression) -> str:
        """A fresh mask: the current one and `parts`, for evaluating an
        expression the language evaluates only under a condition."""
        mask = self.fresh("mask", numbered=True)
        self.emit(assign(mask, conjunction(([cst.Name(self.mask)] if self.mask else []) + list(parts))))
        return mask

    def temporary(self, value: cst.BaseExpression) -> cst.Name:
        name = self.fresh("cond", numbered=True)
        self.emit(assign(name, value))
        return cst.Name(name)

    def under(self, mask: str, node) -> _Value:
        """`node` evaluated with its side effects committed under `mask`."""
        saved, self.mask = self.mask, mask
        try:
            return _Value(self.strong(node))
        finally:
            self.mask = saved

    # -- per-definition state

    def begin(self) -> None:
        self.local: set[str] = set()
        self.counters: dict[str, int] = {}
        self.scopes: list[dict[str, bool]] = [{}]  # DSL name -> weak (a loop index)
        self.mask: str | None = None
        self.loop: _Loop | None = None
        self.out: list[cst.BaseStatement] = []
        self.comment_next: list[str] = []
        # DSL array -> (role, Python name of the full array, Python name of this thread's element or contributions)
        self.arrays: dict[str, tuple[Role, str, str | None]] = {}
        self.classes: dict[str, str] = {}
        self.returns: list[str] = []

    def fresh(self, base: str, numbered: bool = False) -> str:
        """A Python name no DSL identifier and no earlier fresh name uses."""
        if not numbered and base not in self.taken and base not in self.local:
            self.local.add(base)
            return base
        k = self.counters.get(base, 0)
        sep = "" if numbered else "_"
        while True:
            k += 1
            name = f"{base}{sep}{k}"
            if name not in self.taken and name not in self.local:
                self.counters[base] = k
                self.local.add(name)
                return name

    def fixed(self, base: str) -> str:
        """A name reused by every nested function (`carry`, `_`), unless the DSL took it."""
        name = base
        while name in self.taken:
            name += "_"
        return name

    def emit(self, stmt: cst.BaseStatement) -> None:
        if self.comment_next:
            comments = [cst.EmptyLine(comment=cst.Comment("# " + text)) for text in self.comment_next]
            stmt = stmt.with_changes(leading_lines=[*stmt.leading_lines, *comments])
            self.comment_next = []
        self.out.append(stmt)

    def comment(self, text: str) -> None:
        self.comment_next.append(text)

    def declared(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    def weak_name(self, name: str) -> bool:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return False

    def element(self, array: str) -> str:
        role, _, var = self.arrays[array]
        if var is None:
            raise RenderError(f"JAX renderer: array {array!r} ({role.value}) has no per-thread value")
        return var

    def acc_value(self, array: str) -> cst.Name:
        """What stands for an Acc array inside a thread: its contributions, or
        the array itself when nothing writes it."""
        _, full, var = self.arrays[array]
        return cst.Name(var or full)

    # -- definitions

    def module(self) -> cst.Module:
        definitions = [self.helper(f) for f in self.program.funcs]
        definitions += [self.kernel(k) for k in self.program.kernels]
        body: list[cst.BaseStatement] = [cst.parse_statement(s) for s in _IMPORTS]
        if uses_64_bits(self.program):
            body.append(cst.parse_statement(_X64).with_changes(leading_lines=[cst.EmptyLine()]))
        used = set(self.prelude)
        for name in list(used):
            used.update(_PRELUDE_NEEDS.get(name, ()))
        for name in _PRELUDE:
            if name in used:
                (fn,) = cst.parse_module(_PRELUDE[name].lstrip("\n")).body
                body.append(fn.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()]))
        for fn in definitions:
            body.append(fn.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()]))
        return cst.Module(body=body)

    def helper(self, func: A.Func) -> cst.FunctionDef:
        self.begin()
        params = []
        for p in func.params:
            params.append(p.name)
            if isinstance(p.ty, ArrayType):
                # an Acc parameter holds the caller's contributions to that array
                self.arrays[p.name] = (Role.ACC, p.name, p.name)
            else:
                self.scopes[0][p.name] = False
        self.classes = dict(self.updates[func.name])
        self.returns = [p.name for p in func.params if p.name in self.updates[func.name]]
        self.block(func.body)
        return self.function(func.name, params, self.out)

    def kernel(self, kernel: A.Kernel) -> cst.FunctionDef:
        self.begin()
        self.classes = self.atomic_classes(kernel.body)
        for p in kernel.params:
            if not isinstance(p.ty, ArrayType):
                self.scopes[0][p.name] = False
        outer: list[cst.BaseStatement] = []
        thread, tid = self.fresh("thread"), "tid"  # tid is reserved by the DSL
        returned: list[tuple[A.Param, str]] = []  # (array, what the thread returns for it)
        loop = self.threads == "loop"
        totals: list[str] = []  # loop form: the thread's parameters holding the running Acc arrays
        for p in kernel.params:
            if not isinstance(p.ty, ArrayType):
                continue
            full = p.name
            role = p.ty.role
            if role is Role.IN or (role is Role.ACC and p.name not in self.classes):
                self.arrays[p.name] = (role, full, None)
                continue
            if role is Role.ACC:
                var = self.fresh(f"{full}_contrib")
                kind = self.classes[p.name]
                if loop:  # the running array, every earlier thread's atomics applied
                    totals.append(var)
                else:
                    self.emit(assign(var, self.identity(kind, p.ty.elem, cst.Name(full))))
            else:
                var = self.fresh(f"{full}_i")
                if role is Role.OUT:  # Out arrays start at zero
                    init = call("jnp.zeros", subscript(cst.Attribute(cst.Name(full), cst.Name("shape")), cst.Slice(cst.Integer("1"), None)), cst.Attribute(cst.Name(full), cst.Name("dtype")))
                else:
                    init = subscript(cst.Name(full), cst.Name(tid))
                self.emit(assign(var, init))
            self.arrays[p.name] = (role, full, var)
            returned.append((p, var))
        self.block(kernel.body)
        if returned:
            self.emit(line(cst.Return(self.targets([var for _, var in returned]))))
        thread_def = self.function(thread, [tid, *totals], self.out)
        outer.append(thread_def)
        if not returned:
            outer.append(line(cst.Return(cst.Dict([]))).with_changes(leading_lines=[cst.EmptyLine(comment=cst.Comment("# the kernel writes no array"))]))
            return self.function(kernel.name, [p.name for p in kernel.params], outer)
        results = []
        for p, _ in returned:
            suffix = "_contribs" if p.ty.role is Role.ACC else "_new"
            results.append(self.fresh(p.name + suffix))
        first_array = next(p.name for p in kernel.params if isinstance(p.ty, ArrayType))
        count = subscript(cst.Attribute(cst.Name(first_array), cst.Name("shape")), cst.Integer("0"))
        if loop:
            outer.extend(self.thread_loop(thread, returned, results, count))
        else:
            threads = call("jnp.arange", count, dtype=dotted("jnp.int32"))
            run = call(call("jax.vmap", cst.Name(thread)), threads)
            outer.append(assign(self.targets(results), run))
        entries = []
        for p in kernel.params:
            if not isinstance(p.ty, ArrayType) or p.ty.role is Role.IN:
                continue
            full = cst.Name(p.name)
            found = [r for (q, _), r in zip(returned, results) if q is p]
            if not found:  # an Acc array no atomic reaches
                value: cst.BaseExpression = full
            elif p.ty.role is not Role.ACC or loop:
                value = cst.Name(found[0])
            else:
                value = self.combine(self.classes[p.name], full, cst.Name(found[0]), p)
            entries.append(cst.DictElement(cst.SimpleString(f'"{p.name}"'), value))
        outer.append(line(cst.Return(spread(cst.Dict(entries)))))
        return self.function(kernel.name, [p.name for p in kernel.params], outer)

    def thread_loop(self, thread: str, returned: list[tuple[A.Param, str]], results: list[str], count: cst.BaseExpression) -> list[cst.BaseStatement]:
        """The loop form's threads: `def step(t, carry)` runs thread t on the
        carried arrays (its own element of each Out/InOut array set at t,
        each Acc array updated in place by its atomics), and a fori_loop over
        every thread id runs it, from the arrays as passed in."""
        step, t, carry = self.fresh("step"), self.fresh("t"), self.fresh("carry")
        mine = [self.fresh(f"{p.name}_t") for p, _ in returned]
        totals = [cst.Name(r) for (p, _), r in zip(returned, results) if p.ty.role is Role.ACC]
        body = [
            assign(self.targets(results), cst.Name(carry)),
            assign(self.targets(mine), call(cst.Name(thread), call("jnp.int32", cst.Name(t)), *totals)),
        ]
        updated = [cst.Name(m) if p.ty.role is Role.ACC else at(cst.Name(r), cst.Name(t), "set", cst.Name(m)) for (p, _), r, m in zip(returned, results, mine)]
        body.append(line(cst.Return(updated[0] if len(updated) == 1 else cst.Tuple([cst.Element(u) for u in updated]))))
        start = [cst.Name(p.name) for p, _ in returned]
        initial = start[0] if len(start) == 1 else cst.Tuple([cst.Element(a) for a in start])
        run = call("lax.fori_loop", cst.Integer("0"), count, cst.Name(step), initial)
        return [self.function(step, [t, carry], body), assign(self.targets(results), run)]

    @staticmethod
    def targets(names: list[str]) -> cst.BaseExpression:
        """`a, b` (or `a` alone) as an assignment target or returned value."""
        return cst.Name(names[0]) if len(names) == 1 else names_tuple(names, parens=False)

    @staticmethod
    def function(name: str, params: list[str], body: list[cst.BaseStatement]) -> cst.FunctionDef:
        return cst.FunctionDef(
            name=cst.Name(name),
            params=cst.Parameters(params=[cst.Param(cst.Name(p)) for p in params]),
            body=cst.IndentedBlock(body=body or [line(cst.Pass())]),
        )

    @staticmethod
    def identity(kind: str, elem: DType, like: cst.BaseExpression) -> cst.Call:
        """An array like `like` holding the identity of the atomic class."""
        if kind in ("add", "or", "xor"):
            return call("jnp.zeros_like", like)
        if kind == "and":  # every bit set
            return call("jnp.full_like", like, _all_bits(elem))
        if elem.is_float:
            bound: cst.BaseExpression = dotted("jnp.inf")
        else:
            bound = cst.Attribute(call("jnp.iinfo", jnp_dtype(elem)), cst.Name("max" if kind == "min" else "min"))
        if kind == "max" and elem.is_float:
            bound = unary(cst.Minus(), bound)
        return call("jnp.full_like", like, bound)

    @staticmethod
    def combine(kind: str, base: cst.BaseExpression, contribs: cst.BaseExpression, param: A.Param) -> cst.BaseExpression:
        """`base` with the contributions of every thread (axis 0) applied,
        reduced as grammar.queries.jax_reduction spells it for the array."""
        elem = param.ty.elem
        if kind in BITWISE_ATOMICS or jax_reduction(param.name, kind, elem) == "lax":
            total = lax_reduce(kind, elem, contribs, axis=0)
        elif kind == "add":
            total = call("jnp.sum", contribs, axis=cst.Integer("0"), dtype=cst.Attribute(base, cst.Name("dtype")))
        else:
            total = call(f"jnp.{kind}", contribs, axis=cst.Integer("0"))
        return _Renderer.merge(kind, base, total)

    @staticmethod
    def merge(kind: str, left: cst.BaseExpression, right: cst.BaseExpression) -> cst.BaseExpression:
        """Two values of an element combined as atomics of class `kind` combine them."""
        if kind == "add":
            return binary(left, cst.Add(), right)
        if kind in BITWISE_ATOMICS:
            return operation(BITWISE_ATOMICS[kind], left, right)
        return call(f"jnp.{kind}imum", left, right)

    # -- statements

    def block(self, stmts) -> None:
        """Render `stmts` in a new DSL scope, under the current mask."""
        mask = self.mask
        self.scopes.append({})
        try:
            for index, stmt in enumerate(stmts):
                self.stmt(stmt)
                if isinstance(stmt, (A.Break, A.Continue)):
                    break  # the rest of the block never runs
                exits = loop_exits(stmt)
                if exits and index + 1 < len(stmts):
                    self.after_exit(exits)
        finally:
            self.scopes.pop()
            self.mask = mask

    def after_exit(self, exits: set[str]) -> None:
        """Mask off the threads that left the iteration in the statement just rendered."""
        parts = [cst.Name(self.mask)] if self.mask else []
        if "break" in exits:
            parts.append(unary(cst.BitInvert(), cst.Name(self.loop.broken)))
        if "continue" in exits:
            parts.append(unary(cst.BitInvert(), cst.Name(self.loop.continued)))
        self.mask = self.fresh("mask", numbered=True)
        self.emit(assign(self.mask, conjunction(parts)))

    def stmt(self, node) -> None:
        builder = _STATEMENTS.get(type(node))
        if builder is None:
            raise RenderError(f"JAX renderer: no rule for statement {type(node).__name__}")
        builder(self, node)

    def update(self, name: str, value: _Value, ty: DType) -> None:
        """`name = value` under the current mask."""
        if self.mask is None:
            self.emit(assign(name, self.harden(value, ty)))
        else:
            self.emit(assign(name, call("jnp.where", cst.Name(self.mask), value.node, cst.Name(name))))

    def store(self, target, value: _Value, ty: DType) -> None:
        if isinstance(target, A.Name):
            name = target.id
            if not self.declared(target.id):
                self.scopes[-1][target.id] = False
                self.emit(assign(name, self.harden(value, ty)))
            else:
                self.update(name, value, ty)
        elif isinstance(target, A.ArrayRead) and target.column is not None:
            # the thread's own row of a two-dimensional array: row.at[c]
            row = cst.Name(self.element(target.array))
            column = self.expr(target.column).node
            new = self.harden(value, ty) if self.mask is None else call("jnp.where", cst.Name(self.mask), value.node, subscript(row, column))
            self.emit(assign(row.value, at(row, column, "set", new)))
        elif isinstance(target, A.ArrayRead):
            self.update(self.element(target.array), value, ty)
        elif isinstance(target, A.Component) and isinstance(target.value, A.Component):
            # an element of a local matrix (the checker's literal indexes): m.at[r, c]
            matrix = cst.Name(target.value.value.id)
            index = cst.Tuple([cst.Element(cst.Integer(str(target.value.index))), cst.Element(cst.Integer(str(target.index)))], lpar=[], rpar=[])
            new = value.node if self.mask is None else call("jnp.where", cst.Name(self.mask), value.node, subscript(matrix, index))
            self.emit(assign(matrix.value, at(matrix, index, "set", new)))
        elif isinstance(target, (A.Component, A.ComponentAt)) and isinstance(target.value, A.ArrayRead) and target.value.column is not None:
            # a component of an element of the thread's own row: row.at[c, k]
            row = cst.Name(self.element(target.value.array))
            component = cst.Integer(str(target.index)) if isinstance(target, A.Component) else self.expr(target.index).node
            index = cst.Tuple([cst.Element(self.expr(target.value.column).node), cst.Element(component)], lpar=[], rpar=[])
            new = value.node if self.mask is None else call("jnp.where", cst.Name(self.mask), value.node, subscript(row, index))
            self.emit(assign(row.value, at(row, index, "set", new)))
        elif isinstance(target, (A.Component, A.ComponentAt)):
            # a local vector or a local matrix's row, or this thread's element of an Out/InOut array
            holder = self.element(target.value.array) if isinstance(target.value, A.ArrayRead) else target.value.id
            vector = cst.Name(holder)
            index = cst.Integer(str(target.index)) if isinstance(target, A.Component) else self.expr(target.index).node
            new = value.node
            if self.mask is not None:
                new = call("jnp.where", cst.Name(self.mask), new, subscript(vector, index))
            self.emit(assign(vector.value, at(vector, index, "set", new)))
        else:
            raise RenderError(f"JAX renderer: cannot assign to {type(target).__name__}")

    def s_assign(self, node: A.Assign) -> None:
        if self.effectful(node.value):
            direct = None
            target = node.target
            if isinstance(target, A.Name) and (self.mask is None or not self.declared(target.id)):
                # `x, acc_contrib = helper(acc_contrib, ...)`
                direct = target.id
                if not self.declared(target.id):
                    self.scopes[-1][target.id] = False
            result = self.helper_call(node.value, direct)
            if result == direct:
                return
            value = _Value(cst.Name(result))
        else:
            value = self.expr(node.value)
        self.store(node.target, value, node.value.ty)

    def s_aug_assign(self, node: A.AugAssign) -> None:
        op = node.op[:-1]  # `+=` updates with `+`
        target = node.target
        if isinstance(target, (A.Component, A.ComponentAt)) or (isinstance(target, A.ArrayRead) and target.column is not None):
            # the target read as a value (its indexes have no side effects: the checker's rule)
            self.store(target, self.expr(A.BinOp(op, target, node.value, ty=target.ty)), target.ty)
            return
        name = target.id if isinstance(target, A.Name) else self.element(target.array)
        if is_quat_product(op, target.ty, node.value.ty) or is_matrix_product(op, target.ty, node.value.ty):
            # a product that is not element-wise: `t = t * v`, through the binary operator's rendering
            self.update(name, self.expr(A.BinOp(op, target, node.value, ty=target.ty)), target.ty)
            return
        value = self.expr(node.value)
        if self.mask is None:
            self.emit(line(cst.AugAssign(cst.Name(name), AUG_NODES[OPERATORS[node.op].jax](), value.node)))
        else:
            self.update(name, _Value(operation(OPERATORS[op].jax, cst.Name(name), value.node)), target.ty)

    def s_atomic(self, node: A.Atomic) -> None:
        var = self.acc_value(node.array).value
        index = self.expr(node.index).node
        kind = atomic_class(node.op)
        if node.op == "sub":  # `-v` wraps for uint32 only when v has its dtype
            value = unary(cst.Minus(), self.strong(node.value))
        else:  # `.at[k].add(v)` casts v to the array's dtype
            value = self.expr(node.value).node
        if kind == "add":
            if self.mask is not None:
                value = call("jnp.where", cst.Name(self.mask), value, cst.Integer("0"))
            self.emit(assign(var, at(cst.Name(var), index, "add", value)))
            return
        if node.op in BITWISE_ATOMICS:  # no `.at[k].and_`: the element read, combined and set
            if not isinstance(node.index, (A.Const, A.Name)):  # the index computed once
                slot = self.fresh("slot", numbered=True)
                self.emit(assign(slot, index))
                index = cst.Name(slot)
            updated = at(cst.Name(var), index, "set", operation(BITWISE_ATOMICS[node.op], subscript(cst.Name(var), index), value))
        else:
            updated = at(cst.Name(var), index, node.op, value)
        if self.mask is not None:
            updated = call("jnp.where", cst.Name(self.mask), updated, cst.Name(var))
        self.emit(assign(var, updated))

    def e_atomic_value(self, node: A.AtomicValue) -> _Value:
        """The thread's own element before the update (its index is the
        thread's): the value first, then the element kept, then updated."""
        var = self.element(node.array)
        value = self.strong(node.value)
        old = self.fresh("old", numbered=True)
        self.emit(assign(old, cst.Name(var)))
        if node.op in ("add", "sub"):
            new = operation(OPERATORS["+" if node.op == "add" else "-"].jax, cst.Name(var), value)
        elif node.op in BITWISE_ATOMICS:
            new = operation(BITWISE_ATOMICS[node.op], cst.Name(var), value)
        else:
            new = call(f"jnp.{'minimum' if node.op == 'min' else 'maximum'}", cst.Name(var), value)
        self.update(var, _Value(new), node.ty)
        return _Value(cst.Name(old))

    def s_call(self, node: A.CallStmt) -> None:
        if self.effectful(node.call):
            self.helper_call(node.call, None, value_needed=False)
        else:  # no effect: kept for fidelity, XLA drops it
            self.emit(line(cst.Expr(self.expr(node.call).node)))

    def helper_call(self, node: A.Call, result: str | None, value_needed: bool = True) -> str:
        """Call a helper whose atomics reach Acc arrays; commit its contributions
        under the current mask. Returns the name holding the call's value:
        `result` when given (a name the caller may assign unmasked)."""
        func = self.funcs[node.func]
        updates = self.updates[node.func]
        args: list[cst.BaseExpression] = []
        updated: list[str] = []  # DSL array per returned contribution
        for arg, param in zip(node.args, func.params):
            if not isinstance(param.ty, ArrayType):
                args.append(self.strong(arg))
                continue
            current = self.acc_value(arg.id)
            if param.name in updates and arg.id in updated:
                # the same array twice: this parameter starts from the identity,
                # and the two results are combined below
                args.append(self.identity(updates[param.name], param.ty.elem, current))
            else:
                args.append(current)
            if param.name in updates:
                updated.append(arg.id)
        if result is not None:
            value = result
        else:
            value = self.fresh("ret", numbered=True) if value_needed else self.fixed("_")
        if self.mask is None and len(set(updated)) == len(updated):
            targets = [value] + [self.acc_value(a).value for a in updated]
            self.emit(assign(names_tuple(targets, parens=False), call(node.func, *args)))
            return value
        temps = [self.fresh(self.acc_value(a).value, numbered=True) for a in updated]
        self.emit(assign(names_tuple([value] + temps, parens=False), call(node.func, *args)))
        for array in dict.fromkeys(updated):
            parts = [cst.Name(t) for t, a in zip(temps, updated) if a == array]
            kind = self.classes[array]
            combined = parts[0]
            for part in parts[1:]:
                combined = self.merge(kind, combined, part)
            var = self.acc_value(array).value
            if self.mask is not None:
                combined = call("jnp.where", cst.Name(self.mask), combined, cst.Name(var))
            self.emit(assign(var, combined))
        return value

    def s_unpack(self, node: A.Unpack) -> None:
        if self.effectful(node.value):
            values = cst.Name(self.helper_call(node.value, None))
        else:
            values = cst.Name(self.fresh("ret", numbered=True))
            self.emit(assign(values.value, self.expr(node.value).node))
        for k, (target, ty) in enumerate(zip(node.targets, node.value.ty.elems)):
            self.store(target, _Value(subscript(values, cst.Integer(str(k)))), ty)

    def s_return(self, node: A.Return) -> None:
        if self.effectful(node.value):
            value: cst.BaseExpression = cst.Name(self.helper_call(node.value, None))
        else:
            value = self.strong(node.value)
        if self.returns:
            value = cst.Tuple([cst.Element(value)] + [cst.Element(cst.Name(r)) for r in self.returns], lpar=[], rpar=[])
        self.emit(line(cst.Return(value)))

    def s_if(self, node: A.If) -> None:
        # a name every arm declares lives on after the statement: declared
        # here, each arm's assignment is an update under that arm's mask
        for name, ty in assigned_in_every_arm(node).items():
            if not self.declared(name):
                self.scopes[-1][name] = False
                self.emit(assign(name, zero(ty)))
        outer = self.mask
        taken: list[str] = []
        clauses = [("if", node.cond, node.body)] + [("elif", c.cond, c.body) for c in node.elifs]
        if node.orelse is not None:
            clauses.append(("else", None, node.orelse))
        for word, cond, body in clauses:
            self.comment(f"{word} {print_expr(cond)}:" if cond is not None else "else:")
            parts: list[cst.BaseExpression] = [cst.Name(outer)] if outer else []
            parts += [unary(cst.BitInvert(), cst.Name(t)) for t in taken]
            if cond is not None and taken and self.has_effect(cond):
                # an elif's condition runs only when every earlier one failed
                reached = self.masked(*parts[1 if outer else 0 :])
                parts = [cst.Name(reached), self.under(reached, cond).node]
            elif cond is not None:
                parts.append(self.strong(cond))
            mask = self.fresh("mask", numbered=True)
            self.emit(assign(mask, conjunction(parts)))
            taken.append(mask)
            self.mask = mask
            self.block(body)
            self.mask = outer

    def carried(self, body) -> list[str]:
        """The Python names a loop body assigns that live outside it."""
        found: dict[str, None] = {}
        for stmt in statements(body):
            if isinstance(stmt, (A.Assign, A.AugAssign)):
                target = stmt.target
                while isinstance(target, (A.Component, A.ComponentAt)):  # m[r][c]: m
                    target = target.value
                if isinstance(target, A.Name) and self.declared(target.id):
                    found[target.id] = None
                elif isinstance(target, A.ArrayRead):
                    found[self.element(target.array)] = None
            if isinstance(stmt, A.Unpack):
                found.update(dict.fromkeys(t.id for t in stmt.targets if self.declared(t.id)))
            if isinstance(stmt, A.Atomic):
                found[self.acc_value(stmt.array).value] = None
            if isinstance(stmt, A.Assign) and isinstance(stmt.value, A.AtomicValue):
                found[self.element(stmt.value.array)] = None
            found.update(dict.fromkeys(self.contributions(stmt)))
        return list(found)

    def contributions(self, node) -> list[str]:
        """The Python names of the contributions the side effects under `node` update."""
        found: dict[str, None] = {}
        for call_node in self.effect_calls(node):
            func = self.funcs[call_node.func]
            for arg, param in zip(call_node.args, func.params):
                if param.name in self.updates[call_node.func]:
                    found[self.acc_value(arg.id).value] = None
        return list(found)

    def s_for(self, node: A.For) -> None:
        self.comment(f"for {node.var} in range({print_expr(node.bound)}):")
        bound = None
        trips, known = loop_trips(node.bound, self.constants)
        if not known:  # clamp(e, 0, K)
            bound = self.fresh("bound", numbered=True)
            self.emit(assign(bound, self.strong(node.bound)))
        var = node.var
        exits = block_exits(node.body)
        broken = self.fresh("broken", numbered=True) if "break" in exits else None
        if broken:
            self.emit(assign(broken, _false()))
        mask_parts = [unary(cst.BitInvert(), cst.Name(broken))] if broken else []
        if bound:
            mask_parts.append(compare(cst.Name(var), cst.LessThan(), cst.Name(bound)))
        carried = self.carried(node.body) + ([broken] if broken else [])
        self.loop_function(self.fresh(f"for_{var}"), var, node.var, self.driver(node, trips), trips, carried, exits, broken, mask_parts, node.body)

    def s_while(self, node: A.While) -> None:
        counter = node.counter
        self.scopes[-1][node.counter] = False
        self.emit(assign(counter, call("jnp.int32", cst.Integer("0"))))
        cond = f" and {print_expr(node.cond)}" if node.cond is not None else ""
        self.comment(f"while {node.counter} < {node.limit}{cond}:")
        exits = block_exits(node.body)
        stopped = self.fresh("stopped", numbered=True) if (node.cond is not None or "break" in exits) else None
        if stopped:
            self.emit(assign(stopped, _false()))
        # the condition runs inside the loop: the contributions its effects update are carried too
        inside = self.carried(node.body) + (self.contributions(node.cond) if node.cond is not None else [])
        carried = [counter] + [c for c in dict.fromkeys(inside) if c != counter] + ([stopped] if stopped else [])

        def prologue() -> None:
            if node.cond is not None and self.has_effect(node.cond):
                # the condition runs (with its side effects) until it first fails
                running = self.masked(unary(cst.BitInvert(), cst.Name(stopped)))
                fails = unary(cst.BitInvert(), self.under(running, node.cond).node)
                self.emit(assign(stopped, binary(cst.Name(stopped), cst.BitOr(), fails)))
            elif node.cond is not None:
                # the loop ends the first time its condition fails
                if isinstance(node.cond, A.Not):
                    fails = self.strong(node.cond.operand)
                else:
                    fails = unary(cst.BitInvert(), self.strong(node.cond))
                self.emit(assign(stopped, binary(cst.Name(stopped), cst.BitOr(), fails)))

        def first() -> None:
            if self.mask is None:
                self.emit(line(cst.AugAssign(cst.Name(counter), cst.AddAssign(), cst.Integer("1"))))
            else:
                self.update(counter, _Value(binary(cst.Name(counter), cst.Add(), cst.Integer("1"))), None)

        mask_parts = [unary(cst.BitInvert(), cst.Name(stopped))] if stopped else []
        self.loop_function(self.fresh(f"while_{counter}"), self.fixed("_"), None, self.driver(node, node.limit), node.limit, carried, exits, stopped, mask_parts, node.body, prologue, first)

    def driver(self, loop: A.For | A.While, trips: int) -> str:
        """How `loop` is driven (grammar.queries.jax_loop)."""
        return jax_loop(trips, integer_carry(loop, self.effectful_helpers))

    def loop_function(self, name, index, dsl_index, spelling, trips, carried, exits, broken, mask_parts, body, prologue=None, first=None) -> None:
        """`def name(index, carry): ...` and the loop `spelling` that runs it."""
        saved = (self.out, self.mask, self.loop, self.comment_next)
        outer_mask = self.mask
        self.out, self.comment_next = [], []
        carry = carried[0] if len(carried) == 1 else self.fixed("carry")
        if len(carried) > 1:
            self.emit(assign(names_tuple(carried, parens=False), cst.Name(carry)))
        continued = self.fresh("continued", numbered=True) if "continue" in exits else None
        if continued:
            self.emit(assign(continued, _false()))
        self.loop = _Loop(broken, continued)
        self.scopes.append({dsl_index: True} if dsl_index else {})
        if dsl_index:
            # under jax.disable_jit (the jit-eager oracle's eager run)
            # fori_loop is a Python loop handing the body Python ints, which
            # have no .astype and are weakly typed: the index is int32 as jit
            # gives it (a no-op when traced)
            self.emit(assign(index, call("jnp.int32", cst.Name(index))))
        try:
            if prologue:
                prologue()
            parts = ([cst.Name(outer_mask)] if outer_mask else []) + mask_parts
            if parts:
                self.mask = self.fresh("mask", numbered=True)
                self.emit(assign(self.mask, conjunction(parts)))
            if first:
                first()
            self.block(body)
        finally:
            self.scopes.pop()
        self.emit(line(cst.Return(self.targets(carried) if carried else cst.Tuple([]))))
        params = [index, carry if carried else self.fixed("carry")]
        function = self.function(name, params, self.out)
        self.out, self.mask, self.loop, self.comment_next = saved
        self.emit(function)
        init = cst.Name(carried[0]) if len(carried) == 1 else names_tuple(carried, parens=True)
        if spelling == "fori_loop":
            loop = call("lax.fori_loop", cst.Integer("0"), cst.Integer(str(trips)), cst.Name(name), init)
        else:
            driver = {"scan": "scan_loop", "scan_by_two": "scan_by_two", "unrolled": "unrolled_loop", "while_loop": "while_loop"}[spelling]
            self.prelude.add(driver)
            loop = call(driver, cst.Integer(str(trips)), cst.Name(name), init)
        if carried:
            self.out.append(assign(self.targets(carried), loop))
        else:
            self.out.append(line(cst.Expr(loop)))

    def s_break(self, node: A.Break) -> None:
        self.exit_flag(self.loop.broken)

    def s_continue(self, node: A.Continue) -> None:
        self.exit_flag(self.loop.continued)

    def exit_flag(self, flag: str | None) -> None:
        if self.loop is None or flag is None:
            raise RenderError("JAX renderer: break/continue outside a loop")
        value = _true() if self.mask is None else binary(cst.Name(flag), cst.BitOr(), cst.Name(self.mask))
        self.emit(assign(flag, value))

    # -- expressions

    def expr(self, node) -> _Value:
        builder = _EXPRESSIONS.get(type(node))
        if builder is None:
            raise RenderError(f"JAX renderer: no rule for expression {type(node).__name__}")
        return builder(self, node)

    @staticmethod
    def harden(value: _Value, ty: DType | None) -> cst.BaseExpression:
        """`value` with a dtype of its own: `jnp.float32(0.5)` for a literal."""
        if not value.weak:
            return value.node
        if ty is None:
            raise RenderError("JAX renderer: a weakly typed value of unknown type")
        return call(jnp_dtype(ty), value.node)

    def strong(self, node) -> cst.BaseExpression:
        return self.harden(self.expr(node), node.ty)

    def operands(self, *nodes) -> list[cst.BaseExpression]:
        """Rendered operands of one operation: when all are weak the first gets
        its dtype spelled out, and the rest follow it."""
        values = [self.expr(n) for n in nodes]
        if values and all(v.weak for v in values):
            values[0] = _Value(self.harden(values[0], nodes[0].ty))
        return [v.node for v in values]

    def e_const(self, node: A.Const) -> _Value:
        if isinstance(node.value, int) and node.value > _WEAK_INT_MAX:
            # JAX refuses a Python int beyond int32 beside a 32-bit operand
            return _Value(call(jnp_dtype(node.ty), number(node.value)))
        return _Value(number(node.value), weak=True, literal=True)

    def e_name(self, node: A.Name) -> _Value:
        if node.id in self.constants:
            # a constant is its typed value where it is read: traced after
            # the module has switched 64-bit types on
            return _Value(typed_number(self.constants[node.id], node.ty))
        return _Value(cst.Name(node.id), weak=self.weak_name(node.id))

    def e_len(self, node: A.Len) -> _Value:
        _, full, var = self.arrays[node.array]
        shape = subscript(cst.Attribute(cst.Name(full), cst.Name("shape")), cst.Integer(str(node.dim)))
        return _Value(call("jnp.int32", shape))

    def e_array_read(self, node: A.ArrayRead) -> _Value:
        role, full, _ = self.arrays[node.array]
        if role is Role.IN and node.column is not None:  # x[r, c]
            index = cst.Tuple([cst.Element(self.expr(node.index).node), cst.Element(self.expr(node.column).node)], lpar=[], rpar=[])
            return _Value(subscript(cst.Name(full), index))
        if role is Role.IN:
            return _Value(subscript(cst.Name(full), self.expr(node.index).node))
        if role is Role.INOUT and node.column is not None:  # the thread's own row, at the column
            return _Value(subscript(cst.Name(self.element(node.array)), self.expr(node.column).node))
        if role is Role.INOUT:  # read only at the thread's own index: its current element
            return _Value(cst.Name(self.element(node.array)))
        raise RenderError(f"JAX renderer: {node.array!r} is {role.value} and cannot be read")

    def e_component(self, node: A.Component) -> _Value:
        return _Value(subscript(self.strong(node.value), cst.Integer(str(node.index))))

    def e_component_at(self, node: A.ComponentAt) -> _Value:
        return _Value(subscript(self.strong(node.value), self.expr(node.index).node))

    def e_binop(self, node: A.BinOp) -> _Value:
        # a float quotient a step reads is IEEE's a / b, as Warp computes it:
        # through a prelude function (its divisor through `divisor`), which
        # evaluates the dividend once
        exact = id(node) in self.stepped
        if jax_operation(node) == "lax":  # both operands with their dtype: lax does not promote
            if exact:
                self.prelude.add("lax_divide")
                return _Value(call("lax_divide", self.strong(node.left), self.strong(node.right)))
            return _Value(call(LAX_OPERATORS[node.op], self.strong(node.left), self.strong(node.right)))
        left, right = self.operands(node.left, node.right)
        if exact:
            self.prelude.add("divide")
            return _Value(call("divide", left, right))
        # Warp's `*` between a matrix and a vector or matrix is the matrix product; jnp's is element-wise
        if is_quat_product(node.op, node.left.ty, node.right.ty):
            self.prelude.add("quat_mul")
            return _Value(call("quat_mul", left, right))
        if node.op == "//" and node.ty.is_float:
            # Warp's float floordiv, floor(a / b): jnp.floor_divide follows
            # Python's divmod on floats (float32 1.0 // 0.1 is 9 there, 10 here)
            self.prelude.add("floor_div")
            return _Value(call("floor_div", left, right))
        op = "@" if is_matrix_product(node.op, node.left.ty, node.right.ty) else node.op
        return _Value(operation(OPERATORS[op].jax, left, right))

    def e_compare(self, node: A.Compare) -> _Value:
        # the result is bool whatever the operands' dtypes: only two Python
        # numbers need one spelled out, so that the result is a JAX value
        left, right = self.expr(node.left), self.expr(node.right)
        if left.literal and right.literal:
            left = _Value(self.harden(left, node.left.ty))
        return _Value(compare(left.node, COMPARE_NODES[OPERATORS[node.op].jax](), right.node))

    def e_bool_op(self, node: A.BoolOp) -> _Value:
        # both operands are evaluated: guards make each safe, so not
        # short-circuiting changes no value; a side effect in the right operand
        # is committed only where the left one lets it run
        left = self.strong(node.left)
        if not self.has_effect(node.right):
            return _Value(call(OPERATORS[node.op].jax, left, self.strong(node.right)))
        left = self.temporary(left)
        runs = left if node.op == "and" else unary(cst.BitInvert(), left)
        right = self.under(self.masked(runs), node.right)
        return _Value(call(OPERATORS[node.op].jax, left, right.node))

    def e_not(self, node: A.Not) -> _Value:
        return _Value(call(OPERATORS["not"].jax, self.strong(node.operand)))

    def e_neg(self, node: A.Neg) -> _Value:
        value = self.expr(node.operand)
        return _Value(unary(UNARY_NODES[OPERATORS["neg"].jax](), value.node), weak=value.weak, literal=value.literal)

    def e_invert(self, node: A.Invert) -> _Value:
        # typed: `~` of a Python int is a negative Python int, not a uint32
        return _Value(unary(UNARY_NODES[OPERATORS["invert"].jax](), self.strong(node.operand)))

    def e_ternary(self, node: A.Ternary) -> _Value:
        cond = self.strong(node.cond)
        spelling = jax_select(node)
        if node.eager or not (self.has_effect(node.then) or self.has_effect(node.orelse)):
            # where/select evaluate both arms, in their argument order; lax
            # neither promotes nor takes a Python number's weak type: both
            # arms get their dtype spelled out
            pair = (node.orelse, node.then) if node.form == "select" else (node.then, node.orelse)
            if spelling == "where":
                first, second = self.operands(*pair)
            else:
                first, second = (self.strong(n) for n in pair)
            then, orelse = (second, first) if node.form == "select" else (first, second)
            return _Value(self.choose(spelling, cond, then, orelse))
        # only the arm taken runs its side effects: each is committed under
        # its own mask, and the spelling chooses between the values
        cond = self.temporary(cond)
        then = self.under(self.masked(cond), node.then)
        orelse = self.under(self.masked(unary(cst.BitInvert(), cond)), node.orelse)
        return _Value(self.choose(spelling, cond, then.node, orelse.node))

    @staticmethod
    def choose(spelling: str, cond: cst.BaseExpression, then: cst.BaseExpression, orelse: cst.BaseExpression) -> cst.Call:
        """`cond ? then : orelse` in one of grammar.queries.JAX_SELECTS: a
        scalar `cond` (a thread's), arms of one dtype and shape. lax.cond
        takes the arms as functions; under vmap, whose threads disagree on
        `cond`, it runs both and selects."""
        if spelling == "where":
            return call("jnp.where", cond, then, orelse)
        if spelling == "select":
            return call("lax.select", cond, then, orelse)
        return call("lax.cond", cond, *(cst.Lambda(params=cst.Parameters(), body=arm) for arm in (then, orelse)))

    def e_call(self, node: A.Call) -> _Value:
        if node.func in BUILTINS:
            spelling = builtin(node.func, node.ty).jax
            if jax_operation(node) == "lax":  # every operand with its dtype: lax does not promote
                return _Value(call(LAX_CALLS[spelling], *(self.strong(a) for a in node.args)))
            if "." not in spelling:
                self.prelude.add(spelling)
            return _Value(call(spelling, *self.operands(*node.args)))
        func = self.funcs.get(node.func)
        if func is None:
            raise RenderError(f"JAX renderer: unknown function {node.func!r}")
        if self.effectful(node):
            return _Value(cst.Name(self.helper_call(node, None)))
        args = []
        for arg, param in zip(node.args, func.params):
            args.append(self.acc_value(arg.id) if isinstance(param.ty, ArrayType) else self.strong(arg))
        return _Value(call(node.func, *args))

    def e_cast(self, node: A.Cast) -> _Value:
        value = self.expr(node.operand)
        operand = self.harden(value, node.operand.ty) if value.literal else value.node
        if node.operand.ty.is_float and node.to.is_int:  # truncate toward zero
            operand = call("jnp.trunc", operand)
        return _Value(method(operand, "astype", jnp_dtype(node.to)))

    def e_static(self, node: A.Static) -> _Value:
        """A static over literals alone is its value, computed here as the
        compiler computes it (SEMANTICS.md); one that reads a loop variable
        is int32 arithmetic, exact in range as the checker proves."""
        if any(isinstance(n, A.Name) and n.id not in self.constants for n in A.walk(node.operand)):
            return _Value(self.strong(node.operand))
        return _Value(typed_number(static_value(node.operand, self.constants.__getitem__), node.ty))

    def e_tile_load(self, node: A.TileLoad) -> _Value:
        """A tile is a slice of the whole In array, from the start clamped
        into the array (lax.dynamic_slice would clamp too; spelled out)."""
        _, full, _ = self.arrays[node.array]
        last_start = binary(subscript(cst.Attribute(cst.Name(full), cst.Name("shape")), cst.Integer("0")), cst.Subtract(), cst.Integer(str(node.size)))
        start = call("jnp.clip", self.strong(node.start), cst.Integer("0"), last_start)
        return _Value(call("lax.dynamic_slice_in_dim", cst.Name(full), start, cst.Integer(str(node.size))))

    def e_tile_full(self, node: A.TileFull) -> _Value:
        return _Value(call("jnp.full", cst.Integer(str(node.size)), self.expr(node.value).node, dtype=jnp_dtype(node.ty.elem)))

    def e_tile_map(self, node: A.TileMap) -> _Value:
        spelling = TILE_MAPS[node.fn].jax
        if "." not in spelling:
            self.prelude.add(spelling)
        return _Value(call(spelling, *(self.expr(t).node for t in node.tiles)))

    def e_tile_matmul(self, node: A.TileMatmul) -> _Value:
        inner = node.left.ty.size // MATMUL_ROWS
        left = call("jnp.reshape", self.expr(node.left).node, _shape(MATMUL_ROWS, inner))
        right = call("jnp.reshape", self.expr(node.right).node, _shape(inner, MATMUL_ROWS))
        return _Value(call("jnp.reshape", call("jnp.matmul", left, right), _shape(node.ty.size)))

    def e_tile_reduce(self, node: A.TileReduce) -> _Value:
        tile = self.expr(node.tile).node
        kind = {"tile_sum": "add", "tile_max": "max", "tile_min": "min"}[node.op]
        if jax_reduction(print_expr(node), kind, node.ty) == "lax":
            return _Value(lax_reduce(kind, node.ty, tile))
        return _Value(call(TILE_REDUCTIONS[node.op].jax, tile))

    def e_grad_call(self, node: A.GradCall) -> _Value:
        """`jax.grad` of the builtin, held constant to differentiation as
        Warp's adjoint holds `wp.grad` (SEMANTICS.md)."""
        spelling = BUILTINS[node.fn].jax
        if "." not in spelling:
            self.prelude.add(spelling)
        derivative = cst.Call(call("jax.grad", dotted(spelling)), [cst.Arg(self.strong(node.arg))])
        return _Value(call("lax.stop_gradient", derivative))

    def e_tile_get(self, node: A.TileGet) -> _Value:
        """The tile reshaped to its rows, indexed at the clamped row and column
        (evaluated in order: the tile, the row, the column)."""
        columns = node.tile.ty.size // TILE_GET_ROWS
        tile = call("jnp.reshape", self.expr(node.tile).node, _shape(TILE_GET_ROWS, columns))
        row = call("jnp.clip", self.expr(node.row).node, cst.Integer("0"), cst.Integer(str(TILE_GET_ROWS - 1)))
        col = call("jnp.clip", self.expr(node.col).node, cst.Integer("0"), cst.Integer(str(columns - 1)))
        return _Value(cst.Subscript(tile, [cst.SubscriptElement(cst.Index(row)), cst.SubscriptElement(cst.Index(col))]))

    def e_tuple(self, node: A.TupleExpr) -> _Value:
        return _Value(cst.Tuple([cst.Element(self.strong(item)) for item in node.items]))

    def e_construct(self, node: A.Construct) -> _Value:
        values = [self.expr(a).node for a in node.args]
        if node.of.is_matrix:  # row-major
            rows = [cst.List([cst.Element(v) for v in values[r * 3 : r * 3 + 3]]) for r in range(3)]
            data = cst.List([cst.Element(r) for r in rows])
        else:
            data = cst.List([cst.Element(v) for v in values])
        return _Value(call("jnp.array", data, dtype=dotted("jnp.float32")))


_STATEMENTS = {
    A.Assign: _Renderer.s_assign,
    A.AugAssign: _Renderer.s_aug_assign,
    A.Unpack: _Renderer.s_unpack,
    A.Atomic: _Renderer.s_atomic,
    A.CallStmt: _Renderer.s_call,
    A.If: _Renderer.s_if,
    A.For: _Renderer.s_for,
    A.While: _Renderer.s_while,
    A.Break: _Renderer.s_break,
    A.Continue: _Renderer.s_continue,
    A.Return: _Renderer.s_return,
}

_EXPRESSIONS = {
    A.Const: _Renderer.e_const,
    A.Name: _Renderer.e_name,
    A.Tid: lambda self, node: _Value(cst.Name("tid")),
    A.Len: _Renderer.e_len,
    A.ArrayRead: _Renderer.e_array_read,
    A.Component: _Renderer.e_component,
    A.ComponentAt: _Renderer.e_component_at,
    A.BinOp: _Renderer.e_binop,
    A.Compare: _Renderer.e_compare,
    A.BoolOp: _Renderer.e_bool_op,
    A.Not: _Renderer.e_not,
    A.Neg: _Renderer.e_neg,
    A.Invert: _Renderer.e_invert,
    A.Ternary: _Renderer.e_ternary,
    A.Call: _Renderer.e_call,
    A.Cast: _Renderer.e_cast,
    A.Construct: _Renderer.e_construct,
    A.TupleExpr: _Renderer.e_tuple,
    A.AtomicValue: _Renderer.e_atomic_value,
    A.Static: _Renderer.e_static,
    A.TileLoad: _Renderer.e_tile_load,
    A.TileFull: _Renderer.e_tile_full,
    A.TileMap: _Renderer.e_tile_map,
    A.TileMatmul: _Renderer.e_tile_matmul,
    A.TileReduce: _Renderer.e_tile_reduce,
    A.TileGet: _Renderer.e_tile_get,
    A.GradCall: _Renderer.e_grad_call,
}


def zero(ty: DType) -> cst.BaseExpression:
    """The zero of a number, vector or matrix type, with its dtype."""
    if ty.is_vector or ty.is_matrix:
        return typed_number((0.0,) * (9 if ty.is_matrix else ty.length), ty)
    return typed_number(0.0 if ty.is_float else 0, ty)
def lax_reduce(kind: str, elem: DType, operand: cst.BaseExpression, axis: int = 0) -> cst.Call:
    """`lax.reduce(operand, identity, lax.add, (axis,))` (lax.max, lax.min)
    with an identity JAX recognises as the monoid's, and so lowers to
    reduce_sum / reduce_max / reduce_min, the primitives jnp's reductions
    bind and reverse mode differentiates (a traced identity, such as
    `jnp.float32(0)` under jit, makes a generic reduce, which it cannot).
    The identity is known when tracing: a Python number, whose value is the
    identity in any dtype (0, -inf, inf), or, for an integer min or max,
    the bound as a NumPy scalar of the operand's dtype (`jnp.int32.dtype.
    type(...)`): a Python int is int64 once x64 is on, whose bound is not
    int32's, and uint32's max is no int32."""
    if kind in ("add", "or", "xor"):
        identity: cst.BaseExpression = number(0 if elem.is_int else 0.0)
    elif kind == "and":
        identity = _all_bits(elem)
    elif not elem.is_int:  # float32 and float64, and the float32 components of a vector
        identity = unary(cst.Minus(), dotted("jnp.inf")) if kind == "max" else dotted("jnp.inf")
    else:
        identity = _numpy_scalar(elem, cst.Attribute(call("jnp.iinfo", jnp_dtype(elem)), cst.Name("min" if kind == "max" else "max")))
    axes = cst.Tuple([cst.Element(cst.Integer(str(axis)))])
    return call("lax.reduce", operand, identity, dotted(f"lax.bitwise_{kind}" if kind in BITWISE_ATOMICS else f"lax.{kind}"), axes)


def _all_bits(elem: DType) -> cst.Call:
    """An integer of `elem`'s dtype with every bit set (the identity of `&`),
    as a NumPy scalar, known when tracing: -1, or an unsigned type's max."""
    return _numpy_scalar(elem, unary(cst.Minus(), cst.Integer("1")) if elem.signed else cst.Attribute(call("jnp.iinfo", jnp_dtype(elem)), cst.Name("max")))


def _numpy_scalar(elem: DType, value: cst.BaseExpression) -> cst.Call:
    """`jnp.int32.dtype.type(value)`: `value` as a NumPy scalar of `elem`'s
    dtype, a constant when tracing (a jnp scalar would be traced under jit)."""
    return call(cst.Attribute(cst.Attribute(jnp_dtype(elem), cst.Name("dtype")), cst.Name("type")), value)


def _shape(*extents: int) -> cst.Tuple:
    return cst.Tuple([cst.Element(cst.Integer(str(e))) for e in extents])


def typed_number(value: int | float | tuple, ty: DType) -> cst.BaseExpression:
    """`jnp.float32(2.5)`, `jnp.int32(-3)`: a value of its own dtype; a
    vector's or a matrix's components (flat, row-major) as a float32 array
    of its shape."""
    if isinstance(value, tuple):
        numbers = [unary(cst.Minus(), number(abs(v))) if v < 0 else number(v) for v in value]
        rows = [numbers] if ty.is_vector else [numbers[k : k + 3] for k in range(0, 9, 3)]
        items = [cst.List([cst.Element(n) for n in row]) for row in rows]
        return call("jnp.array", items[0] if ty.is_vector else cst.List([cst.Element(r) for r in items]), dtype=cst.Attribute(cst.Name("jnp"), cst.Name("float32")))
    magnitude = number(abs(value))
    return call(jnp_dtype(ty), unary(cst.Minus(), magnitude) if value < 0 else magnitude)


# Builtins whose value steps: an ulp in the argument can move the result by one
_STEPS = frozenset({"floor", "ceil", "sign"})


def stepped_quotients(program: A.Program) -> set[int]:
    """The float quotients (`/` nodes, by id) that a step reads within their
    expression: an operand of floor, ceil, sign, a cast to an integer, a
    comparison, a float `//` or `%`. XLA divides by a constant as a product
    with its reciprocal, an ulp off the quotient, which is inside the
    tolerance of every oracle except where a step turns it into a whole
    unit (jax 0.10.2, jitted: floor(x / 0.007) is 0 at x = 0.007, and
    int32(x / 0.002) is 624 at x = 1.25); those quotients are rendered
    through `divide`. A quotient that reaches a step through a local is
    not (a rare false finding, classified by hand: SEMANTICS.md), and
    every other keeps XLA's rewrite, which finds XLA's own bugs in it (the
    reciprocal of 1e38, flushed: corpora/jax-cpu)."""
    stepped: set[int] = set()

    def under(node) -> None:
        for sub in A.walk(node):
            if isinstance(sub, A.BinOp) and sub.op == "/" and sub.ty is not None and (sub.ty.is_float or sub.ty.is_vector or sub.ty.is_matrix):
                stepped.add(id(sub))

    for definition in program.funcs + program.kernels:
        for node in A.walk(definition):
            if isinstance(node, A.Call) and node.func in _STEPS:
                for arg in node.args:
                    under(arg)
            elif isinstance(node, A.Cast) and (node.to.is_int or node.to.name == "bool"):
                under(node.operand)
            elif isinstance(node, A.Compare):
                under(node.left)
                under(node.right)
            elif isinstance(node, A.BinOp) and node.op in ("//", "%") and node.ty is not None and node.ty.is_float:
                under(node.left)
                under(node.right)
    return stepped


def render_jax_module(program: A.Program, threads: str = "vmap") -> cst.Module:
    """JAX has no structs or generics of ours: the lowered program is rendered (grammar.lowering).
    `threads` is the form the kernel's threads run in (THREAD_FORMS)."""
    if threads not in THREAD_FORMS:
        raise ValueError(f"unknown thread form {threads!r}: one of {', '.join(THREAD_FORMS)}")
    return _Renderer(lower(program), threads=threads).module()


def render_jax(program: A.Program, threads: str = "vmap") -> str:
    """JAX source for `program`: an importable Python module (`threads`: the
    form its kernel's threads run in, THREAD_FORMS)."""
    return render_jax_module(program, threads).code



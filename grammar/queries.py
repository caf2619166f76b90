"""Questions about a program's AST that any consumer may ask.

Owns read-only queries over the typed AST: which statements a block holds,
which loop exits a statement may take, which helpers have side effects,
the identifiers a program names, whether it needs 64-bit types, what a
static() computes. Nothing here
knows how a backend spells or runs a program.
"""

from __future__ import annotations

import hashlib
import zlib

from . import ast as A
from .ops import BUILTINS
from .printer import print_expr, print_program
from .types import ArrayType, DType, Kind


def loop_exits(stmt) -> set[str]:
    """Which of break/continue `stmt` may run for the innermost enclosing loop."""
    if isinstance(stmt, A.Break):
        return {"break"}
    if isinstance(stmt, A.Continue):
        return {"continue"}
    if isinstance(stmt, A.If):
        found: set[str] = set()
        for body in stmt.branches:
            for inner in body:
                found |= loop_exits(inner)
        return found
    return set()  # a nested loop's break/continue are its own


def block_exits(stmts) -> set[str]:
    found: set[str] = set()
    for stmt in stmts:
        found |= loop_exits(stmt)
    return found


def statements(stmts):
    """Every statement in `stmts`, nested ones included (pre-order)."""
    for stmt in stmts:
        yield stmt
        if isinstance(stmt, A.If):
            for body in stmt.branches:
                yield from statements(body)
        elif isinstance(stmt, (A.For, A.While)):
            yield from statements(stmt.body)


def effectful_helpers(program: A.Program) -> set[str]:
    """The helpers whose bodies run atomics, directly or through the helpers
    they call (a helper calls only helpers defined before it)."""
    found: set[str] = set()
    for func in program.funcs:
        for node in A.walk(func):
            if isinstance(node, A.Atomic) or (isinstance(node, A.Call) and node.func in found):
                found.add(func.name)
                break
    return found


def has_effect(node, effectful: set[str]) -> bool:
    """Whether evaluating the expression `node` may run a side effect."""
    return any(isinstance(n, A.Call) and n.func in effectful for n in A.walk(node))


def assigned_in_every_arm(stmt: A.If) -> dict[str, object]:
    """The names (with their type) that every arm of an if/elif/else assigns
    at its own top level, directly, by unpacking or through an if of its own
    that does: after the statement each holds the value its arm gave it, as
    in Python (and Warp). Empty without an else; structs are left out, and
    so is a name the arms give different types."""
    if stmt.orelse is None:
        return {}
    first, *others = (_assigned_at_top(body) for body in stmt.branches)
    return {name: ty for name, ty in first.items() if all(arm.get(name) == ty for arm in others)}


def _assigned_at_top(body) -> dict[str, object]:
    found: dict[str, object] = {}
    for stmt in body:
        if isinstance(stmt, A.Assign) and isinstance(stmt.target, A.Name):
            names = {stmt.target.id: stmt.target.ty}
        elif isinstance(stmt, A.Unpack):
            names = {t.id: t.ty for t in stmt.targets}
        elif isinstance(stmt, A.If):
            names = assigned_in_every_arm(stmt)
        else:
            continue
        for name, ty in names.items():
            if ty is not None and not getattr(ty, "is_struct", False):
                found.setdefault(name, ty)
    return found


def thread_names(definition) -> set[str]:
    """The locals of a definition that hold the thread index (`i = tid()`)."""
    return {n.target.id for n in A.walk(definition) if isinstance(n, A.Assign) and isinstance(n.value, A.Tid) and isinstance(n.target, A.Name)}


def needs_guard(index, threads: set[str]) -> bool:
    """Whether an array index is neither the thread's nor clamped: only a
    guard around the read keeps it in bounds."""
    if isinstance(index, A.Tid) or (isinstance(index, A.Name) and index.id in threads):
        return False
    return not (isinstance(index, A.Call) and index.func == "clamp")


def read_needs_guard(read: A.ArrayRead, threads: set[str]) -> bool:
    """Whether an array read is kept in bounds only by a guard around it: its
    row (or only index) is neither the thread's nor clamped, or its column is
    not clamped (a column is never in bounds by being the thread index)."""
    column = read.column
    return needs_guard(read.index, threads) or (column is not None and not (isinstance(column, A.Call) and column.func == "clamp"))


def expanded_update(stmt) -> bool:
    """`t = t op e`: an augmented assignment spelled out."""
    value = getattr(stmt, "value", None)
    return isinstance(stmt, A.Assign) and isinstance(value, A.BinOp) and value.op in ("+", "-", "*", "/") and value.left == stmt.target


def identifiers(program: A.Program) -> set[str]:
    """The program's own names: definitions, parameters, locals, loop variables
    and counters (builtins it calls are not among them)."""
    found: set[str] = set()
    for node in A.walk(program):
        for attr in ("name", "id", "var", "counter", "array"):
            value = getattr(node, attr, None)
            if isinstance(value, str):
                found.add(value)
    return found


def uses_64_bits(program: A.Program) -> bool:
    for node in A.walk(program):
        for attr in ("ty", "to", "of"):
            ty = getattr(node, attr, None)
            if isinstance(ty, ArrayType):
                ty = ty.elem
            if isinstance(ty, DType) and ty.bits == 64:
                return True
    return False


def loop_trips(bound: A.Expr, constants: dict[str, int | float]) -> tuple[int, bool]:
    """A checked `range(bound)`'s most trips, and whether the bound is known
    when compiling (a literal or a module constant: Warp unrolls such loops)
    rather than `clamp(e, 0, K)`."""
    if isinstance(bound, A.Const):
        return bound.value, True
    if isinstance(bound, A.Name):
        return int(constants[bound.id]), True
    return bound.args[2].value, False


# How the JAX rendering spells a loop of `trips` iterations (a for loop's
# most trips, a while loop's limit): the count modulo 4 picks the driver, so
# the spelling is a function of the program text (a replay spells it again)
# and every bound kind meets every driver. A Python loop unrolled at trace
# time only up to UNROLL_TRIPS; past that, lax.fori_loop. A loop that carries
# no float (`integer_carry`) is a lax.while_loop for half the trip counts
# (0-3, 8-11, ...): reverse mode cannot pass a while_loop that carries a
# float, and the gradient oracle and a dataset's backward IR differentiate
# the same rendering, so a float-carrying loop never is one.
JAX_LOOPS = ("fori_loop", "scan", "scan_by_two", "unrolled")
UNROLL_TRIPS = 16


def jax_loop(trips: int, integers: bool = False) -> str:
    """The driver of a loop of `trips` iterations; `integers`: it carries no float."""
    if integers and (trips // len(JAX_LOOPS)) % 2 == 0:
        return "while_loop"
    spelling = JAX_LOOPS[trips % len(JAX_LOOPS)]
    return "fori_loop" if spelling == "unrolled" and trips > UNROLL_TRIPS else spelling


def integer_carry(loop: A.For | A.While, effectful: set[str]) -> bool:
    """Whether every value `loop` may change is an integer or a bool: what it
    assigns, the array elements it stores and the atomics it runs. A call of
    a helper with side effects counts as a float (its Acc arrays' sums)."""
    if has_effect(loop, effectful):
        return False
    for stmt in statements(loop.body):
        if isinstance(stmt, (A.Assign, A.AugAssign)):
            changed = [_root(stmt.target).ty]
        elif isinstance(stmt, A.Unpack):
            changed = [t.ty for t in stmt.targets]
        elif isinstance(stmt, (A.Atomic, A.Return)):  # a return inside a loop carries its value
            changed = [stmt.value.ty]
        else:
            changed = []
        if not all(isinstance(ty, DType) and ty.kind in (Kind.INT, Kind.BOOL) for ty in changed):
            return False
    return True


def _root(target):
    """The local or array element an assignment to `target` changes."""
    while isinstance(target, (A.Component, A.ComponentAt, A.Field)):
        target = target.value
    return target


# How the JAX rendering spells a conditional expression, an operation and a
# reduction, where JAX has equivalent spellings that go through different
# code (jnp's promotion and broadcasting, lax's strict forms, lax.cond's
# branches and their batching rule, lax.reduce's recognition of a monoid).
# Each is a function of the node's own text (a CRC of the printed
# expression, or of the array's name for the sum over threads), so a
# replay, and a shrunk program that keeps the node, spell it again.
JAX_SELECTS = ("where", "select", "cond")
JAX_OPERATIONS = ("jnp", "lax")
JAX_REDUCTIONS = ("jnp", "lax")
# jnp's function -> lax's, for the builtins both spell (jnp.log2 and
# jnp.log10 have no lax primitive of their own: always jnp)
LAX_CALLS = {
    "jnp.sin": "lax.sin", "jnp.cos": "lax.cos", "jnp.tan": "lax.tan", "jnp.tanh": "lax.tanh",
    "jnp.sinh": "lax.sinh", "jnp.cosh": "lax.cosh", "jnp.exp": "lax.exp", "jnp.log": "lax.log",
    "jnp.sqrt": "lax.sqrt", "jnp.arcsin": "lax.asin", "jnp.arccos": "lax.acos", "jnp.arctan": "lax.atan",
    "jnp.floor": "lax.floor", "jnp.ceil": "lax.ceil", "jnp.abs": "lax.abs", "jnp.minimum": "lax.min",
    "jnp.maximum": "lax.max", "jnp.power": "lax.pow", "jnp.arctan2": "lax.atan2",
}
# DSL operator -> lax's, where lax computes the language's semantics: `%`
# truncates (lax.rem, as jnp.fmod); `//` floors and lax.div truncates, so
# `//` keeps jnp.floor_divide (jnp.floor(a / b) on floats)
LAX_OPERATORS = {"+": "lax.add", "-": "lax.sub", "*": "lax.mul", "/": "lax.div", "%": "lax.rem"}


def _crc(text: str) -> int:
    return zlib.crc32(text.encode())


def divisor_kind(divisor: A.Expr) -> str:
    """What a float `/`, `//` or `%`'s divisor is (the weights' rule
    float_divisor): "zero", the literal; "integer", an integer cast to the
    float type (zero on the threads where the integer is); or "guarded",
    anything else (generated programs keep it away from zero)."""
    if isinstance(divisor, A.Const) and divisor.value == 0:
        return "zero"
    if isinstance(divisor, A.Cast) and divisor.operand.ty is not None and divisor.operand.ty.is_int:
        return "integer"
    return "guarded"


def jax_select(node: A.Ternary) -> str:
    """`jnp.where(c, a, b)`, `lax.select(c, a, b)` or `lax.cond(c, lambda: a,
    lambda: b)` (JAX_SELECTS) for a conditional expression of any form."""
    return JAX_SELECTS[_crc(print_expr(node)) % len(JAX_SELECTS)]


def jax_operation(node: A.BinOp | A.Call) -> str:
    """"jnp" or "lax" (JAX_OPERATIONS) for an operator or builtin call lax
    spells too (`lax_spelled`); "jnp" for every other."""
    if not lax_spelled(node):
        return "jnp"
    return JAX_OPERATIONS[_crc(print_expr(node)) % len(JAX_OPERATIONS)]


def lax_spelled(node) -> bool:
    """Whether lax has the operation: a builtin of LAX_CALLS, or an operator
    of LAX_OPERATORS on two operands of one number type (lax neither
    broadcasts nor promotes), or + and - on two vectors or matrices."""
    if isinstance(node, A.Call):
        op = BUILTINS.get(node.func)
        return op is not None and op.jax in LAX_CALLS and node.ty is not None and node.ty.name != "quat"
    if isinstance(node, A.BinOp) and node.op in LAX_OPERATORS:
        left, right = node.left.ty, node.right.ty
        if left != right or not isinstance(left, DType):
            return False
        return left.is_numeric or (node.op in ("+", "-") and (left.is_vector or left.is_matrix))
    return False


def jax_reduction(key: str, kind: str, elem: DType) -> str:
    """"jnp" (jnp.sum, jnp.max, jnp.min) or "lax" (lax.reduce with lax.add,
    lax.max or lax.min) for a reduction of class `kind` ("add", "max", "min")
    over values of type `elem` (every class and type has both); `key` names
    it (an Acc array, or a tile reduction's printed text)."""
    return JAX_REDUCTIONS[_crc(key) % len(JAX_REDUCTIONS)]


def constant_values(program: A.Program) -> dict[str, int | float | tuple]:
    """Each module-level constant's value, by name: a number, or a vector's
    or a matrix's components (row-major), flat."""
    return {
        c.name: tuple(static_value(a) for a in c.value.args) if isinstance(c.value, A.Construct) else static_value(c.value)
        for c in program.constants
    }


def static_value(e: A.Expr, variable=None) -> int | float:
    """What `static(e)` computes: Python's arithmetic on the literals and,
    through `variable(name)`, the unrolled loop variables' values."""
    if isinstance(e, A.Const):
        return e.value
    if isinstance(e, A.Name):
        if variable is None:
            raise ValueError(f"static value of {e.id!r} needs the value of the name")
        value = variable(e.id)
        # a constant's Python value as written; a loop variable's as an int
        return value if isinstance(value, (int, float)) else int(value)
    if isinstance(e, A.Neg):
        return -static_value(e.operand, variable)
    if isinstance(e, A.BinOp) and e.op in _STATIC_ARITHMETIC:
        return _STATIC_ARITHMETIC[e.op](static_value(e.left, variable), static_value(e.right, variable))
    raise ValueError(f"static() does not compute {type(e).__name__}")


_STATIC_ARITHMETIC = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


def binds_reference(value: A.Expr, targets: set[str]) -> bool:
    """A parallel assignment's value that Warp gives its name without a copy,
    so that two names hold one variable: an array element, a struct field, or
    a variable that is not itself assigned again there (`b, c = a, 0.0`: a
    later `b = 0.0` in a dynamic loop changes `a`)."""
    return isinstance(value, (A.ArrayRead, A.Field)) or (isinstance(value, A.Name) and value.id not in targets)


def grad_helpers(funcs) -> set[str]:
    """The helpers among `funcs` whose body calls grad()."""
    return {f.name for f in funcs if any(isinstance(node, A.GradCall) for node in A.walk(f))}


def avoidable_shapes(program: A.Program) -> set[str]:
    """Which of the shapes a draw can leave out (weights.AVOIDABLE) `program` has."""
    found: set[str] = set()
    calling_grad = grad_helpers(program.funcs)
    in_helpers = [node for f in program.funcs for node in A.walk(f)]
    if any(isinstance(node, A.Call) and node.func in calling_grad for node in in_helpers):
        found.add("grad-helper-in-helper")
    for node in A.walk(program):
        if isinstance(node, A.Name) and node.ty is not None and node.ty.kind is Kind.FUNCTION and node.id in calling_grad:
            found.add("grad-helper-in-helper")  # passed to a helper, which calls it
        elif isinstance(node, A.Unpack) and isinstance(node.value, A.TupleExpr):
            targets = {target.id for target in node.targets}
            if any(binds_reference(value, targets) for value in node.value.items):
                found.add("unpack-reference")
        elif isinstance(node, (A.For, A.While)) and _exit_beside_static(node):
            found.add("exit-beside-static")
    return found


def _exit_beside_static(loop) -> bool:
    """A break or continue in `loop`'s nest beside a static() that reads one
    of the nest's loop variables (Warp then unrolls that loop)."""
    inside = list(A.walk(loop))
    if not any(isinstance(node, (A.Break, A.Continue)) for node in inside):
        return False
    variables = {node.var for node in inside if isinstance(node, A.For)}
    return any(isinstance(leaf, A.Name) and leaf.id in variables for node in inside if isinstance(node, A.Static) for leaf in A.walk(node))


def in_share(program: A.Program | str, share: float, salt: str = "") -> bool:
    """Whether `program` (or its printed text) is among a `share` of programs
    chosen by a hash of its text, so a replay chooses as the campaign did;
    `salt` draws another sample the same way (one per sampled oracle)."""
    if share >= 1.0:
        return True
    if share <= 0.0:
        return False
    text = program if isinstance(program, str) else print_program(program)
    digest = hashlib.sha256((salt + text).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share

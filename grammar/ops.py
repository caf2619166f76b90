"""The table of the DSL's operations: one entry per builtin and operator.

Each entry says what the operation is called in the DSL, which argument types it
takes and what it returns, how a generator keeps its arguments inside the
domain, how Warp and JAX spell it, and what it computes (a NumPy function, the
reference semantics). Strategies draw from this table, the checker types calls
with it, and renderers and the reference interpreter look names up in it.
The operators (`+`, `<`, `and`, `+=`, ...) have a companion table, OPERATORS,
with their Warp and JAX spellings and reference functions: the renderers keep
no spellings of their own.

The input ranges at the bottom are the contract between generated programs and
whoever runs them: the guards in generated programs assume inputs inside them.
"""

from __future__ import annotations

import keyword

import operator
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .types import BOOL, F32, F64, I32, I64, MAT33, QUAT, U32, VEC2, VEC3, VEC4, DType

FLOATS = (F32, F64)
INTS = (I32, I64, U32)
SIGNED = (F32, F64, I32, I64)
NUMERIC = FLOATS + INTS
VECTORS = (VEC2, VEC3, VEC4)


@dataclass(frozen=True, slots=True)
class ArgGuard:
    """How a generator wraps one argument to keep an operation defined.

    kind: "abs" -> abs(a); "abs_plus_one" -> abs(a) + 1; "clamp" -> clamp(a, lo, hi).
    """

    kind: str
    lo: float = 0.0
    hi: float = 0.0


@dataclass(frozen=True, slots=True)
class Op:
    name: str
    rule: str  # the weights rule whose alternative this is
    signatures: tuple[tuple[tuple[DType, ...], DType], ...]
    warp: str
    jax: str
    reference: Callable[..., np.ndarray]
    guards: tuple[ArgGuard | None, ...] = ()

    def result(self, args: tuple[DType, ...]) -> DType | None:
        for params, result in self.signatures:
            if params == args:
                return result
        return None

    def arities(self) -> set[int]:
        return {len(p) for p, _ in self.signatures}


def _same(types: tuple[DType, ...], arity: int) -> tuple[tuple[tuple[DType, ...], DType], ...]:
    return tuple(((t,) * arity, t) for t in types)


def _sign(x):
    return np.where(x < 0, -1, 1).astype(x.dtype)


def quat_product(a, b):
    """The Hamilton product of quaternions stored (x, y, z, w), in Warp's
    order of operations (float32 throughout)."""
    ax, ay, az, aw = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bx, by, bz, bw = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack([
        aw * bx + bw * ax + ay * bz - by * az,
        aw * by + bw * ay + az * bx - bz * ax,
        aw * bz + bw * az + ax * by - bx * ay,
        aw * bw - ax * bx - ay * by - az * bz,
    ], axis=-1).astype(a.dtype)


def _quat_rotate(q, v, sign=1):
    x, y, z, w = q[0], q[1], q[2], q[3]
    two = q.dtype.type(2)
    c = two * w * w - q.dtype.type(1)
    d = two * (x * v[0] + y * v[1] + z * v[2])
    cross = np.array([y * v[2] - z * v[1], z * v[0] - x * v[2], x * v[1] - y * v[0]], dtype=q.dtype)
    turn = cross * w * two
    return (v * c + q[:3] * d + (turn if sign > 0 else -turn)).astype(q.dtype)


def _quat_from_axis_angle(axis, angle):
    half = angle * angle.dtype.type(0.5)
    # sin and cos of float32 computed in float64 and rounded once (as the
    # reference's other transcendentals are)
    s, c = (np.float32(f(np.float64(half))) for f in (np.sin, np.cos))
    return np.array([axis[0] * s, axis[1] * s, axis[2] * s, c], dtype=axis.dtype)


def _quat_to_matrix(q):
    basis = np.eye(3, dtype=q.dtype)
    return np.stack([_quat_rotate(q, basis[k]) for k in range(3)], axis=1)


def _normalize_quat(q):
    """q / |q|; the zero quaternion normalizes to the identity, as in Warp."""
    n = np.sqrt(np.sum(q * q))
    return (q / n).astype(q.dtype) if n > 0 else np.array([0, 0, 0, 1], dtype=q.dtype)


def _normalize(v):
    n = np.sqrt(np.sum(v * v, axis=-1, keepdims=True))
    safe = np.where(n > 0, n, 1)
    return np.where(n > 0, v / safe, 0).astype(v.dtype)


_ABS = ArgGuard("abs")
_ABS1 = ArgGuard("abs_plus_one")
_EXP_RANGE = ArgGuard("clamp", -10.0, 10.0)
_UNIT = ArgGuard("clamp", -1.0, 1.0)


def _unary_float(name: str, ref, guard: ArgGuard | None = None, jax: str | None = None) -> Op:
    return Op(name, "float_call", _same(FLOATS, 1), f"wp.{name}", jax or f"jnp.{name}", ref, (guard,))


BUILTINS: dict[str, Op] = {
    op.name: op
    for op in (
        _unary_float("sin", np.sin),
        _unary_float("cos", np.cos),
        # tan is kept off its poles (and away from the huge arguments where one
        # ulp of input changes the result entirely): a domain guard.
        _unary_float("tan", np.tan, ArgGuard("clamp", -1.5, 1.5)),
        _unary_float("tanh", np.tanh),
        _unary_float("sinh", np.sinh, _EXP_RANGE),
        _unary_float("cosh", np.cosh, _EXP_RANGE),
        _unary_float("exp", np.exp, _EXP_RANGE),
        _unary_float("log", np.log, _ABS1),
        _unary_float("log2", np.log2, _ABS1),
        _unary_float("log10", np.log10, _ABS1),
        _unary_float("sqrt", np.sqrt, _ABS),
        _unary_float("asin", np.arcsin, _UNIT, "jnp.arcsin"),
        _unary_float("acos", np.arccos, _UNIT, "jnp.arccos"),
        _unary_float("atan", np.arctan, jax="jnp.arctan"),
        _unary_float("floor", np.floor),
        _unary_float("ceil", np.ceil),
        Op("abs", "float_call", _same(SIGNED, 1) + _same(VECTORS, 1), "wp.abs", "jnp.abs", np.abs, (None,)),
        # DSL semantics follow Warp: sign(0) is 1.
        Op("sign", "float_call", _same(SIGNED, 1), "wp.sign", "sign", _sign, (None,)),
        Op("min", "float_call", _same(NUMERIC, 2), "wp.min", "jnp.minimum", np.minimum, (None, None)),
        Op("max", "float_call", _same(NUMERIC, 2), "wp.max", "jnp.maximum", np.maximum, (None, None)),
        Op(
            "clamp",
            "float_call",
            _same(NUMERIC, 3),
            "wp.clamp",
            "clamp",
            lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
            (None, None, None),
        ),
        Op(
            "pow",
            "float_call",
            _same(FLOATS, 2),
            "wp.pow",
            "jnp.power",
            np.power,
            (_ABS, ArgGuard("clamp", 0.0, 4.0)),
        ),
        Op("atan2", "float_call", _same(FLOATS, 2), "wp.atan2", "jnp.arctan2", np.arctan2, (None, None)),
        Op(
            "dot",
            "vector_call",
            tuple(((v, v), F32) for v in VECTORS + (QUAT,)),
            "wp.dot",
            "jnp.dot",
            lambda a, b: np.sum(a * b, axis=-1),
        ),
        Op(
            "cross",
            "vector_call",
            (((VEC3, VEC3), VEC3),),
            "wp.cross",
            "jnp.cross",
            lambda a, b: np.cross(a, b),
        ),
        Op(
            "length",
            "vector_call",
            tuple(((v,), F32) for v in VECTORS + (QUAT,)),
            "wp.length",
            "length",
            lambda v: np.sqrt(np.sum(v * v, axis=-1)),
        ),
        # DSL semantics follow Warp: the zero vector normalizes to zero.
        Op(
            "normalize",
            "vector_call",
            tuple(((v,), v) for v in VECTORS + (QUAT,)),
            "wp.normalize",
            "normalize",
            _normalize,
        ),
        # quaternions (x, y, z, w): Warp's formulas, operation for operation
        Op("quat_identity", "quat_call", (((), QUAT),), "wp.quat_identity", "quat_identity", lambda: np.array([0, 0, 0, 1], dtype=np.float32)),
        Op("quat_from_axis_angle", "quat_call", (((VEC3, F32), QUAT),), "wp.quat_from_axis_angle", "quat_from_axis_angle", _quat_from_axis_angle),
        Op("quat_inverse", "quat_call", (((QUAT,), QUAT),), "wp.quat_inverse", "quat_inverse", lambda q: (q * np.array([-1, -1, -1, 1], dtype=q.dtype)).astype(q.dtype)),
        Op("quat_rotate", "quat_call", (((QUAT, VEC3), VEC3),), "wp.quat_rotate", "quat_rotate", _quat_rotate),
        Op("quat_rotate_inv", "quat_call", (((QUAT, VEC3), VEC3),), "wp.quat_rotate_inv", "quat_rotate_inv", lambda q, v: _quat_rotate(q, v, -1)),
        Op("quat_to_matrix", "quat_call", (((QUAT,), MAT33),), "wp.quat_to_matrix", "quat_to_matrix", _quat_to_matrix),
    )
}
# The builtin each alternative of the quat_call and quat_rotation rules draws
QUAT_CALLS = {"identity": "quat_identity", "inverse": "quat_inverse", "from_axis_angle": "quat_from_axis_angle"}
QUAT_ROTATIONS = {"forward": "quat_rotate", "inverse": "quat_rotate_inv"}
# A builtin whose quaternion form means something else than its vector form:
# the zero quaternion normalizes to the identity, the zero vector to zero
QUAT_FORMS: dict[str, Op] = {
    "normalize": Op("normalize", "vector_call", (((QUAT,), QUAT),), "wp.normalize", "normalize_quat", _normalize_quat),
}


def builtin(name: str, ty: DType) -> Op:
    """The builtin `name` whose result has type `ty` (its quaternion form where it has one)."""
    return QUAT_FORMS[name] if ty == QUAT and name in QUAT_FORMS else BUILTINS[name]

@dataclass(frozen=True, slots=True)
class TileOp:
    """One operation on tiles: a function `tile_map` applies to every element
    (of one tile, or of two tiles pairwise), or a reduction of a tile to one
    value. `reference` works on NumPy arrays of the tile's values."""

    name: str  # the DSL's spelling: tile_map(sin, t), tile_sum(t)
    rule: str  # the weights rule whose alternative this is
    arity: int
    warp: str
    jax: str
    reference: Callable[..., np.ndarray]


def _tile_map(name: str, arity: int, warp: str | None = None, jax: str | None = None, reference=None) -> TileOp:
    builtin = BUILTINS.get(name)
    return TileOp(name, "tile_map", arity, warp or builtin.warp, jax or builtin.jax, reference or builtin.reference)


# Functions a tile_map applies: defined on every float32 (no domain guard is
# needed inside a tile) and kept bounded on bounded inputs (no exp), so that a
# tile's values stay finite; `add`, `sub`, `mul` are Warp's builtins for `+ - *`.
TILE_MAPS: dict[str, TileOp] = {
    op.name: op
    for op in (
        _tile_map("sin", 1),
        _tile_map("cos", 1),
        _tile_map("tanh", 1),
        _tile_map("abs", 1),
        _tile_map("floor", 1),
        _tile_map("add", 2, "wp.add", "jnp.add", np.add),
        _tile_map("sub", 2, "wp.sub", "jnp.subtract", np.subtract),
        _tile_map("mul", 2, "wp.mul", "jnp.multiply", np.multiply),
        _tile_map("min", 2),
        _tile_map("max", 2),
    )
}

# Reductions of a tile to one value of its element type (`tile_sum(t)`: Warp
# gives a tile of one element, read back with `[0]`). A sum adds in an order
# the language leaves open: compared with a tolerance, as float atomics are.
TILE_REDUCTIONS: dict[str, TileOp] = {
    op.name: op
    for op in (
        TileOp("tile_sum", "tile_reduce", 1, "wp.tile_sum", "jnp.sum", np.sum),
        TileOp("tile_max", "tile_reduce", 1, "wp.tile_max", "jnp.max", np.max),
        TileOp("tile_min", "tile_reduce", 1, "wp.tile_min", "jnp.min", np.min),
    )
}

# The lengths a tile may have: compile-time constants, no longer than the
# shortest launch the language runs (a tile is loaded whole from an array of
# the launch's length)
TILE_SIZES = (2, 4, 8)

# `tile_matmul(t, u)`: t and u of one size S (4 or 8) are read row-major as a
# (2, S/2) and an (S/2, 2) matrix; their product, 2 by 2, is a tile of 4
MATMUL_ROWS = 2
TILE_MATMUL_SIZES = (4, 8)

# `tile_get(t, r, c)` reads a tile as this many rows (row-major), as Warp's
# tile_reshape to (2, size / 2) does, then one element of them: a chained
# subscript of a two-dimensional tile
TILE_GET_ROWS = 2

# `grad(f, x)`: the derivative of a unary builtin at x (Warp's
# `wp.grad(wp.f)(x)`, from 1.11.0; JAX's `jax.grad(jnp.f)(x)`), with the
# reference's derivative, computed in float64. A constant to differentiation:
# Warp's adjoint does not reach through it (SEMANTICS.md)
GRAD_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": np.cos,
    "cos": lambda x: -np.sin(x),
    "tanh": lambda x: 1.0 - np.tanh(x) ** 2,
    "exp": np.exp,
}


# Functions of the language that are not math builtins: they have their own
# AST nodes, so helpers may not take these names either.
RESERVED = frozenset({"tid", "len", "range", "atomic_add", "atomic_sub", "atomic_min", "atomic_max", "where", "select", "int", "float", "static", "constant", "tile_load", "tile_full", "tile_map", "tile_matmul", "tile_get", "grad", *TILE_REDUCTIONS})

# what `static(e)` may compute with: Python's arithmetic, exact on integers
STATIC_OPS = frozenset({"+", "-", "*"})

# Names the rendered Python needs for itself: the modules the renderers bind
# (Warp's `wp`, JAX's `jax`, `jnp`, `lax`, NumPy's `np`), Python's keywords
# and its double-underscore names. A program that took one would break the
# rendered code (a parameter named `wp` hides the Warp module from the
# kernel: Warp then fails on `wp.tid()`, a false finding), so the checker
# refuses them. Other Python builtins may be taken: the rendered code calls
# none that the language does not reserve already (`range`, `len`).
HOST_MODULES = frozenset({"wp", "warp", "jax", "jnp", "lax", "np", "numpy", "math"})
# Functions the JAX rendering defines beside the builtins' own names
PRELUDE_NAMES = frozenset({"quat_mul", "normalize_quat", "scan_loop", "scan_by_two", "unrolled_loop"})


def host_name_reason(name: str) -> str | None:
    """Why `name` may not be defined by a program, or None."""
    if name in HOST_MODULES:
        return "the rendered code names a module so"
    if name in PRELUDE_NAMES:
        return "the JAX rendering defines a function so"
    if keyword.iskeyword(name):
        return "it is a Python keyword"
    if name.startswith("__"):
        return "names with two leading underscores are Python's"
    if "__" in name:
        return "two underscores in a row join a struct's name to its fields' where structs are flattened"
    return None

ATOMICS = {
    "add": "atomic_add", "sub": "atomic_sub", "min": "atomic_min", "max": "atomic_max",
    # on int arrays; each commutes with itself, so threads sharing an element
    # leave it the same in any order
    "and": "atomic_and", "or": "atomic_or", "xor": "atomic_xor",
}
# The atomics that take int arrays only, and the operator each applies
BITWISE_ATOMICS = {"and": "&", "or": "|", "xor": "^"}

ARITH_OPS = ("+", "-", "*", "/", "//", "%", "@", "&", "|", "^", "<<", ">>")
BIT_OPS = ("&", "|", "^", "<<", ">>")  # ints only
# The int_binop alternatives of a weights profile, and the operator each draws
INT_BINOPS = {
    "add": "+", "sub": "-", "mul": "*", "floordiv": "//", "mod": "%",
    "bitand": "&", "bitor": "|", "bitxor": "^", "shl": "<<", "shr": ">>",
}
COMPARE_OPS = ("<", "<=", ">", ">=", "==", "!=")
BOOL_OPS = ("and", "or")
AUG_OPS = ("+=", "-=", "*=", "/=")
UNARY_OPS = ("not", "neg", "invert")  # keyed by word: "-" is the binary operator's key


def floor_divide(a, b):
    """The language's `//` on NumPy scalars of one type: Python's floor
    division on ints, `floor(a / b)` on floats (Warp's float floordiv, from
    1.0 on: the quotient rounded to the type, then floored). The two differ
    where the rounded quotient lands on an integer the exact one falls short
    of: float32 `1.0 // 0.1` is 10 here, 9 in Python and NumPy. A zero
    divisor gives IEEE's floor(+-inf) = +-inf and floor(nan) = nan."""
    if isinstance(a, np.floating):
        return np.floor(np.true_divide(a, b))
    return np.floor_divide(a, b)


@dataclass(frozen=True, slots=True)
class Operator:
    """How Warp and JAX spell one DSL operator: a Python operator symbol, or a
    function called with the operands. `reference` is what an arithmetic
    operator or comparison computes; the reference interpreter evaluates the
    others itself (`and`/`or` short-circuit, `neg` and `+=` check overflow)."""

    symbol: str
    warp: str
    jax: str
    reference: Callable | None = None


OPERATORS: dict[str, Operator] = {
    op.symbol: op
    for op in (
        Operator("+", "+", "+", np.add),
        Operator("-", "-", "-", np.subtract),
        Operator("*", "*", "*", np.multiply),
        Operator("/", "/", "/", np.true_divide),
        # `//` floors: Python's floor division on ints; on floats Warp's
        # floor(a / b) (jnp.floor of the quotient in JAX: not jnp.floor_divide,
        # which follows Python's divmod on floats)
        Operator("//", "//", "jnp.floor_divide", floor_divide),
        # `%` truncates, as C's fmod and Warp's `%` do; Python's and jnp's `%` floor.
        Operator("%", "%", "jnp.fmod", np.fmod),
        Operator("@", "@", "@", np.matmul),
        # bitwise, on int32 and uint32: two's complement; `>>` is arithmetic on
        # int32 and logical on uint32; shift amounts are in 0 .. 31 (SEMANTICS.md)
        Operator("&", "&", "&", np.bitwise_and),
        Operator("|", "|", "|", np.bitwise_or),
        Operator("^", "^", "^", np.bitwise_xor),
        Operator("<<", "<<", "<<", np.left_shift),
        Operator(">>", ">>", ">>", np.right_shift),
        Operator("<", "<", "<", operator.lt),
        Operator("<=", "<=", "<=", operator.le),
        Operator(">", ">", ">", operator.gt),
        Operator(">=", ">=", ">=", operator.ge),
        Operator("==", "==", "==", operator.eq),
        Operator("!=", "!=", "!=", operator.ne),
        # Traced JAX values cannot short-circuit: elementwise functions instead.
        Operator("and", "and", "jnp.logical_and"),
        Operator("or", "or", "jnp.logical_or"),
        Operator("not", "not", "jnp.logical_not"),
        Operator("neg", "-", "-"),
        Operator("invert", "~", "~"),
        Operator("+=", "+=", "+="),
        Operator("-=", "-=", "-="),
        Operator("*=", "*=", "*="),
        Operator("/=", "/=", "/="),
    )
}


def binop_result(op: str, left: DType, right: DType) -> DType | None:
    """The type of `left op right`, or None when the operands do not fit."""
    if op in ("+", "-"):
        if left == right and (left.is_numeric or left.is_vector or left.is_matrix):
            return left
        return None
    if op == "*":
        if left == right and (left.is_numeric or left == QUAT):  # q * q: the Hamilton product
            return left
        if left == F32 and (right.is_vector or right.is_matrix):
            return right
        if right == F32 and (left.is_vector or left.is_matrix):
            return left
        return matrix_product(left, right)
    if op == "/":
        if left == right and left.is_float:
            return left
        if right == F32 and (left.is_vector or left.is_matrix):
            return left
        if left == F32 and right.is_vector:  # s / v: s divided by each component
            return right
        return None
    if op == "//":
        return left if left == right and (left.is_int or left.is_float) else None
    if op == "%":
        return left if left == right and left.is_numeric else None
    if op == "@":
        return matrix_product(left, right)
    if op in BIT_OPS:
        return left if left == right and left.is_int else None
    raise ValueError(f"unknown operator {op!r}")


def matrix_product(left: DType, right: DType) -> DType | None:
    """The type of the matrix product of `left` and `right` (`@`, or `*`
    between a matrix and a vector or matrix, as in Warp), or None: a vector
    on the left is a row vector."""
    return {(MAT33, VEC3): VEC3, (VEC3, MAT33): VEC3, (MAT33, MAT33): MAT33}.get((left, right))


def is_quat_product(op: str, left: DType, right: DType) -> bool:
    """Whether `left op right` is the product of two quaternions."""
    return op == "*" and left == right == QUAT


def is_matrix_product(op: str, left: DType, right: DType) -> bool:
    """Whether `left op right` is a matrix product rather than an element-wise or scaling one."""
    return op in ("*", "@") and matrix_product(left, right) is not None


def compare_result(left: DType, right: DType) -> DType | None:
    return BOOL if left == right and left.is_numeric else None


# The contract between a generated program and its inputs: guards in generated
# programs are chosen so that no operation leaves its domain for inputs drawn
# from these ranges, on launches of at most MAX_LAUNCH threads.
INPUT_FLOAT_RANGE = (-4.0, 4.0)
INPUT_INT_RANGE = (-64, 64)
INPUT_UINT_RANGE = (0, 64)
MAX_LAUNCH = 1 << 16
# the most columns a two-dimensional array has: each launch's input set
# draws its column count in 1 .. MAX_COLUMNS (backends/inputs.py)
MAX_COLUMNS = 4
# A kernel's own launch size (`@kernel(launch=N)`) by decade: the
# alternatives of the weights' [rules.launch_size], smallest first (what a
# shrunk draw lands on), together spanning 1 .. MAX_LAUNCH.
LAUNCH_DECADES: dict[str, tuple[int, int]] = {
    "units": (1, 10),
    "tens": (11, 100),
    "hundreds": (101, 1000),
    "thousands": (1001, 10_000),
    "ten_thousands": (10_001, MAX_LAUNCH),
}


def launch_decade(n: int) -> str:
    """The LAUNCH_DECADES alternative a launch size lies in."""
    for name, (lo, hi) in LAUNCH_DECADES.items():
        if lo <= n <= hi:
            return name
    raise ValueError(f"launch {n} is outside 1 .. {MAX_LAUNCH}")
# Loops never run more often than this per loop, by construction and by check.
MAX_TRIP = 64

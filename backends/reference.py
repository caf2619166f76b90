"""The reference backend: a NumPy interpreter of the typed AST.

This is the executable form of grammar/SEMANTICS.md and the ground truth for
forward values. It runs the threads of a launch one after the other on copies
of the inputs, evaluating every expression in its own type with NumPy scalars
(np.float32 for float32, literals included; uint32 wraps modulo 2**32) and
every builtin, arithmetic operator and comparison through the op table's
`reference` functions (`grammar.ops.BUILTINS`, `grammar.ops.OPERATORS`).

Values: scalars are NumPy scalars of their dtype, conditions are Python bools,
vectors are float32 arrays of shape (k,), mat33 a float32 (3, 3) array. Vector
values are never mutated in place: a component assignment replaces the local's
array with a modified copy, and reading a vector element of an array copies
it, so `u = v` and helper arguments behave as values.

Anything the semantics leave undefined or the interpreter does not know (an
out-of-bounds index, integer division by zero, signed overflow, an
out-of-range or NaN float-to-int cast, an infinity or NaN from a float
division by zero reaching a builtin the backends define differently on it,
an unknown node, a value of the wrong dtype) raises `ReferenceFailure`: the
reference is never silently wrong.

Imports only from `grammar`.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from kernel_synth.grammar import ast as A
from kernel_synth.grammar.ops import ARITH_OPS, BITWISE_ATOMICS, BUILTINS, COMPARE_OPS, GRAD_FUNCTIONS, MATMUL_ROWS, OPERATORS, TILE_GET_ROWS, TILE_MAPS, TILE_REDUCTIONS, builtin, quat_product
from kernel_synth.grammar.lowering import lower
from kernel_synth.grammar.queries import constant_values, static_value
from kernel_synth.grammar.types import ArrayType, DType, TileType, TupleType

from .inputs import MAX_COLUMNS, NUMPY_DTYPES, element_shape

__all__ = ["ReferenceFailure", "run_reference"]


# Builtins whose float32 result the reference computes in float64, then rounds.
_CORRECTLY_ROUNDED = frozenset(
    {"sin", "cos", "tan", "tanh", "sinh", "cosh", "exp", "log", "log2", "log10", "asin", "acos", "atan", "atan2", "pow"}
)


class ReferenceFailure(Exception):
    """The reference cannot give a defined result.

    `rule` says why: "undefined" (the program leaves the language's defined
    behaviour on these inputs: out-of-bounds index, integer division by zero,
    signed overflow, invalid float-to-int cast, a non-finite value from a
    float division by zero where the backends differ on it), "input" (the
    launch inputs do not fit the kernel), or "internal" (an unknown node or a
    value of the wrong type: a bug of the interpreter or of the AST).
    """

    def __init__(self, message: str, rule: str = "internal"):
        super().__init__(message)
        self.rule = rule

    def __str__(self) -> str:
        return f"{self.rule}: {self.args[0]}"


# ------------------------------------------------------------------ type tables
# Keyed by the type's name: DType is a frozen dataclass whose hash is recomputed
# on every lookup, a string's is cached.

SCALAR_TYPES: dict[str, type] = {
    "float32": np.float32,
    "float64": np.float64,
    "int32": np.int32,
    "int64": np.int64,
    "uint32": np.uint32,
}
_INT_LIMITS: dict[str, tuple[int, int]] = {
    name: (int(np.iinfo(t).min), int(np.iinfo(t).max)) for name, t in SCALAR_TYPES.items() if np.issubdtype(t, np.integer)
}
_SIGNED_INTS = frozenset({"int32", "int64"})
_FLOATS = frozenset({"float32", "float64"})
_F32 = np.dtype(np.float32)
_SHAPES: dict[str, tuple[int, ...]] = {"vec2": (2,), "vec3": (3,), "vec4": (4,), "mat33": (3, 3), "quat": (4,)}

# Exact (Python int) versions of the operators that can overflow a signed type.
_EXACT = {"+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv, "<<": operator.lshift}
# Flat lookups of the op table's functions: the interpreter's innermost loop.
_NUMPY_OPS = {symbol: OPERATORS[symbol].reference for symbol in ARITH_OPS}
_COMPARE = {symbol: OPERATORS[symbol].reference for symbol in COMPARE_OPS}

# Operators whose divisor may be zero: undefined for ints; for floats IEEE's
# +-inf and nan, after which `nonfinite_argument` watches the builtins
_DIVISIONS = frozenset({"/", "//", "%"})
# What the builtins do with a non-finite argument (SEMANTICS.md, "Division by
# zero"): IEEE's result, the same in Warp (C's libm, CUDA's), XLA and NumPy,
# for abs, floor and ceil; the same for +-inf but not for NaN in min, max and
# clamp (Warp's fminf-style min returns the other operand, jnp.minimum NaN)
# and sign; every other builtin is left undefined on +-inf and NaN (XLA's
# own approximations of the transcendentals promise nothing there).
_NONFINITE_DEFINED = frozenset({"abs", "floor", "ceil"})
_NAN_UNDEFINED = frozenset({"min", "max", "clamp", "sign"})
# Appended to a run's decisions when a float divisor was zero: the gradient
# oracle compares no point of such a run (backends.gradients)
ZERO_DIVISOR = "zero-divisor"
# ... and when a float operation overflowed to an infinity (or made a NaN)
# from finite operands: non-finite values flow from there too
OVERFLOW = "overflow"
# Appended when an atomic min or max met its element's value exactly: the
# adjoints differ by convention there (Warp passes the whole adjoint to every
# tied value, once per call; JAX splits it), so no point of such a run is
# compared either
ATOMIC_TIE = "atomic-tie"

_BREAK = "break"
_CONTINUE = "continue"
_RETURN = "return"


def _constant(value, ty: DType):
    """A constant's value as the interpreter holds values of its type."""
    if ty.name in _SHAPES:
        return np.array(value, dtype=np.float32).reshape(_SHAPES[ty.name])
    return SCALAR_TYPES[ty.name](value)


def _has_type(value, ty: DType | TupleType | TileType) -> bool:
    if type(ty) is TileType:
        return type(value) is np.ndarray and value.dtype == NUMPY_DTYPES[ty.elem.name] and value.shape == (ty.size,)
    if type(ty) is TupleType:
        return type(value) is tuple and len(value) == len(ty.elems) and all(map(_has_type, value, ty.elems))
    name = ty.name
    scalar = SCALAR_TYPES.get(name)
    if scalar is not None:
        return type(value) is scalar
    if name == "bool":
        return type(value) is bool
    return type(value) is np.ndarray and value.dtype == _F32 and value.shape == _SHAPES.get(name)


def _nonfinite(value) -> bool:
    """Whether a float value (scalar, vector, matrix, tile) holds an infinity
    or NaN. On every arithmetic result: a scalar is tested by `math`, ten
    times cheaper than a NumPy ufunc on it."""
    if type(value) is np.ndarray:
        return value.dtype.kind == "f" and not np.isfinite(value).all()
    return isinstance(value, np.floating) and not math.isfinite(value)


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"ndarray {value.dtype}{list(value.shape)}"
    return type(value).__name__


# ------------------------------------------------------------------ interpreter


def _decision(side) -> tuple:
    """A piecewise decision as a value `==` compares whole: the bytes of each
    array (a repr, formatted by NumPy, cost a fifth of a finite-difference run)."""
    if isinstance(side, tuple):
        return tuple(_decision(s) for s in side)
    side = np.asarray(side)
    return (side.dtype.str, side.shape, side.tobytes())


class _Interpreter:
    """One launch of one kernel. Thread state lives on the instance."""

    def __init__(self, program: A.Program, n: int, decisions: list | None = None):
        # with a list: every decision that makes the computation piecewise
        # (comparisons, the side of a kink, an integer a float was cut to) is
        # appended, so that two runs on nearby inputs show whether a step
        # between them crossed one (backends.gradients skips such points)
        self.decisions = decisions
        self.nonfinite = False  # whether a non-finite value may flow (zero_divisor, overflowed)
        self.n = n
        self.n_value = np.int32(n)
        self.funcs = {f.name: f for f in program.funcs}
        # a constant as written (what static() computes with), and as a value of its type
        self.constant_literals = constant_values(program)
        self.constants = {c.name: _constant(self.constant_literals[c.name], c.value.ty) for c in program.constants}
        self.tid = np.int32(0)
        self.frame: dict[str, object] = {}
        self.arrays: dict[str, np.ndarray] = {}
        self.result: object = None
        self.expr_table = {
            A.Const: self.e_const,
            A.Name: self.e_name,
            A.Tid: self.e_tid,
            A.Len: self.e_len,
            A.ArrayRead: self.e_array_read,
            A.Component: self.e_component,
            A.ComponentAt: self.e_component_at,
            A.BinOp: self.e_binop,
            A.Compare: self.e_compare,
            A.BoolOp: self.e_boolop,
            A.Not: self.e_not,
            A.Neg: self.e_neg,
            A.Invert: lambda e: ~self.eval(e.operand),
            A.Ternary: self.e_ternary,
            A.Call: self.e_call,
            A.Cast: self.e_cast,
            A.Construct: self.e_construct,
            A.TupleExpr: self.e_tuple,
            A.Static: self.e_static,
            A.AtomicValue: self.e_atomic_value,
            A.TileLoad: self.e_tile_load,
            A.TileFull: self.e_tile_full,
            A.TileMap: self.e_tile_map,
            A.TileMatmul: self.e_tile_matmul,
            A.TileReduce: self.e_tile_reduce,
            A.TileGet: self.e_tile_get,
            A.GradCall: self.e_grad_call,
        }
        self.stmt_table = {
            A.Assign: self.s_assign,
            A.AugAssign: self.s_aug_assign,
            A.Unpack: self.s_unpack,
            A.Atomic: self.s_atomic,
            A.CallStmt: self.s_call,
            A.If: self.s_if,
            A.For: self.s_for,
            A.While: self.s_while,
            A.Break: self.s_break,
            A.Continue: self.s_continue,
            A.Return: self.s_return,
        }

    # -- driving

    def run_kernel(self, kernel: A.Kernel, scalars: dict[str, object], arrays: dict[str, np.ndarray], threads=None) -> None:
        self.arrays = arrays
        for i in range(self.n) if threads is None else threads:
            self.tid = np.int32(i)
            self.frame = dict(scalars)
            signal = self.block(kernel.body)
            if signal is not None:
                raise ReferenceFailure(f"{signal} escaped kernel {kernel.name!r}")

    def block(self, stmts) -> str | None:
        table = self.stmt_table
        for stmt in stmts:
            try:
                method = table[type(stmt)]
            except KeyError:
                raise ReferenceFailure(f"unknown statement {type(stmt).__name__}") from None
            signal = method(stmt)
            if signal is not None:
                return signal
        return None

    def eval(self, e):
        try:
            method = self.expr_table[type(e)]
        except KeyError:
            raise ReferenceFailure(f"unknown expression {type(e).__name__}") from None
        value = method(e)
        if not _has_type(value, e.ty):
            raise ReferenceFailure(f"{type(e).__name__} of type {e.ty} evaluated to {_describe(value)}")
        return value

    # -- expressions

    def e_const(self, e: A.Const):
        scalar = SCALAR_TYPES.get(e.ty.name) if e.ty is not None else None
        if scalar is None:
            raise ReferenceFailure(f"literal {e.value!r} of type {e.ty}")
        limits = _INT_LIMITS.get(e.ty.name)
        if limits is not None and not limits[0] <= e.value <= limits[1]:
            raise ReferenceFailure(f"literal {e.value!r} does not fit {e.ty}", "undefined")
        return scalar(e.value)

    def e_name(self, e: A.Name):
        try:
            return self.frame[e.id]
        except KeyError:
            if e.id in self.constants:
                return self.constants[e.id]
            raise ReferenceFailure(f"{e.id!r} read before it is assigned") from None

    def e_static(self, e: A.Static):
        """Python's arithmetic (exact integers, floats in double), converted
        to the static's type once: what the compiler computes."""
        value = static_value(e.operand, lambda name: self.frame[name] if name in self.frame else self.constant_literals[name])
        limits = _INT_LIMITS.get(e.ty.name)
        if limits is not None and not limits[0] <= value <= limits[1]:
            raise ReferenceFailure(f"static value {value} does not fit {e.ty}", "undefined")
        return SCALAR_TYPES[e.ty.name](value)

    def e_tile_load(self, e: A.TileLoad):
        """The elements from the start clamped into [0, len - size] on: a copy."""
        try:
            data = self.arrays[e.array]
        except KeyError:
            raise ReferenceFailure(f"unknown array {e.array!r}") from None
        if data.shape[0] < e.size:
            raise ReferenceFailure(f"a tile of {e.size} does not fit {e.array!r} (length {data.shape[0]})", "input")
        start = min(max(int(self.eval(e.start)), 0), data.shape[0] - e.size)
        return data[start : start + e.size].copy()

    def e_tile_full(self, e: A.TileFull):
        return np.full(e.size, self.eval(e.value), dtype=NUMPY_DTYPES[e.ty.elem.name])

    def e_tile_map(self, e: A.TileMap):
        op = TILE_MAPS[e.fn]
        tiles = [self.eval(t) for t in e.tiles]
        if e.fn in _CORRECTLY_ROUNDED:  # as for the scalar builtin (e_call)
            result = op.reference(*(t.astype(np.float64) for t in tiles)).astype(tiles[0].dtype)
        else:
            result = op.reference(*tiles).astype(tiles[0].dtype)
        if self.decisions is not None:  # the kinks of abs, floor, min, max, element by element
            self.decide(e.fn, tiles, result)
        return result

    def e_tile_matmul(self, e: A.TileMatmul):
        """Each element's dot product exact, rounded once (the order of its
        additions is left open, as a sum's)."""
        left, right = self.eval(e.left), self.eval(e.right)
        inner = left.shape[0] // MATMUL_ROWS
        product = left.astype(np.float64).reshape(MATMUL_ROWS, inner) @ right.astype(np.float64).reshape(inner, MATMUL_ROWS)
        return product.reshape(e.ty.size).astype(left.dtype)

    def e_tile_reduce(self, e: A.TileReduce):
        """The exact sum rounded once (the language leaves the order of a
        tile's additions open: compared with a tolerance); max and min exact."""
        tile = self.eval(e.tile)
        if e.op == "tile_sum":
            return SCALAR_TYPES[e.ty.name](np.sum(tile.astype(np.float64)))
        return SCALAR_TYPES[e.ty.name](TILE_REDUCTIONS[e.op].reference(tile))

    def e_grad_call(self, e: A.GradCall):
        """The derivative in float64, rounded once."""
        value = self.eval(e.arg)
        return type(value)(GRAD_FUNCTIONS[e.fn](np.float64(value)))

    def e_tile_get(self, e: A.TileGet):
        """The tile read as TILE_GET_ROWS rows, its indexes clamped."""
        tile = self.eval(e.tile)
        row, col = int(self.eval(e.row)), int(self.eval(e.col))
        columns = tile.shape[0] // TILE_GET_ROWS
        return tile.reshape(TILE_GET_ROWS, columns)[min(max(row, 0), TILE_GET_ROWS - 1), min(max(col, 0), columns - 1)]

    def e_tid(self, e: A.Tid):
        return self.tid

    def e_len(self, e: A.Len):
        if e.array not in self.arrays:
            raise ReferenceFailure(f"len of unknown array {e.array!r}")
        if e.dim == 1:  # a two-dimensional array's column count: its input's
            data = self.arrays[e.array]
            if data.ndim < 2:
                raise ReferenceFailure(f"{e.array!r} has no column count ({_describe(data)})")
            return np.int32(data.shape[1])
        return self.n_value

    def index(self, array: str, index_expr) -> tuple[np.ndarray, int]:
        try:
            data = self.arrays[array]
        except KeyError:
            raise ReferenceFailure(f"unknown array {array!r}") from None
        index = self.eval(index_expr)
        if not 0 <= index < data.shape[0]:
            raise ReferenceFailure(f"index {int(index)} out of bounds of {array!r} (length {data.shape[0]})", "undefined")
        return data, int(index)

    def element(self, read: A.ArrayRead) -> tuple[np.ndarray, int | tuple[int, int]]:
        """The array `read` names and the key of its element: the index, or
        (row, column) of a two-dimensional array, row evaluated first."""
        data, row = self.index(read.array, read.index)
        if read.column is None:
            return data, row
        column = self.eval(read.column)
        if data.ndim < 2 or not 0 <= column < data.shape[1]:
            raise ReferenceFailure(f"column {int(column)} out of bounds of {read.array!r} ({_describe(data)})", "undefined")
        return data, (row, int(column))

    def e_array_read(self, e: A.ArrayRead):
        data, index = self.element(e)
        value = data[index]
        # a vector or matrix element is a view into the array: copy it (values!)
        return value.copy() if type(value) is np.ndarray else value

    def e_component(self, e: A.Component):
        value = self.eval(e.value)[e.index]
        return value.copy() if e.ty is not None and e.ty.is_vector else value  # a matrix's row is a value of its own

    def e_component_at(self, e: A.ComponentAt):
        vector = self.eval(e.value)
        index = int(self.eval(e.index))
        if not 0 <= index < len(vector):
            raise ReferenceFailure(f"component {index} of a vector of {len(vector)}", "undefined")
        return vector[index].copy() if e.ty is not None and e.ty.is_vector else vector[index]

    def e_binop(self, e: A.BinOp):
        left, right = self.eval(e.left), self.eval(e.right)
        if self.decisions is not None and e.op in ("%", "//") and e.ty.is_float:
            # the quotient's integer part: where % and // step (// floors, % truncates)
            cut = np.floor if e.op == "//" else np.trunc
            with np.errstate(all="ignore"):
                self.decisions.append(_decision(cut(np.asarray(left) / np.asarray(right))))
        return self.arith(e.op, left, right, e.ty)

    def arith(self, op: str, left, right, ty: DType):
        """`left op right` in the operand type (ty is the result type)."""
        name = ty.name
        limits = _INT_LIMITS.get(name)
        if op in _DIVISIONS:
            if limits is not None:
                if right == 0:
                    raise ReferenceFailure(f"integer {op} by zero ({ty})", "undefined")
            elif not np.all(right != 0):
                self.zero_divisor()
                if name in _FLOATS and left != 0 and abs(left) < np.finfo(left.dtype).tiny:
                    # XLA on the CPU flushes the subnormal to zero: NaN, where IEEE gives +-inf
                    raise ReferenceFailure(f"subnormal {left!r} {op} 0 ({ty}): a division by zero XLA flushes", "undefined")
        if op in ("<<", ">>"):
            # C++ (Warp) leaves these undefined; XLA defines them otherwise
            if not 0 <= int(right) < 8 * np.dtype(SCALAR_TYPES[name]).itemsize:
                raise ReferenceFailure(f"shift of {ty} by {int(right)}", "undefined")
            if op == "<<" and name in _SIGNED_INTS and left < 0:
                raise ReferenceFailure(f"left shift of a negative {ty}: {int(left)} << {int(right)}", "undefined")
        if op == "*" and ty.name == "quat" and type(left) is np.ndarray and type(right) is np.ndarray:
            return quat_product(left, right)
        if op == "*" and type(left) is np.ndarray and type(right) is np.ndarray:
            op = "@"  # between a matrix and a vector or matrix, `*` is the matrix product (scalars are not arrays here)
        result = _NUMPY_OPS[op](left, right)
        if not self.nonfinite and _nonfinite(result):
            self.overflowed()
        if name in _SIGNED_INTS and op in _EXACT:
            exact = _EXACT[op](int(left), int(right))
            if not limits[0] <= exact <= limits[1]:
                raise ReferenceFailure(f"{ty} overflow: {int(left)} {op} {int(right)} = {exact}", "undefined")
        return result

    def zero_divisor(self) -> None:
        """A float divisor was zero: from here on, non-finite values may flow,
        and the builtins and atomics that treat them differently on different
        backends are watched (`nonfinite_argument`)."""
        self.nonfinite = True
        if self.decisions is not None and ZERO_DIVISOR not in self.decisions:
            self.decisions.append(ZERO_DIVISOR)

    def overflowed(self) -> None:
        """A float operation of finite operands gave an infinity or NaN (a
        product past float32's range, `inf - inf` after it): watched from
        here on as after a zero divisor. A campaign on 1.19.0 (seed 405)
        stored a NaN that reached an atomic_max through an overflow, where
        the watch began only at a zero divisor."""
        self.nonfinite = True
        if self.decisions is not None and OVERFLOW not in self.decisions:
            self.decisions.append(OVERFLOW)

    @staticmethod
    def nonfinite_argument(what: str, args) -> None:
        """ReferenceFailure ("undefined") when `what` (a builtin, or an atomic
        "atomic_min"/"atomic_max") gets an argument whose result the backends
        do not define alike (see _NONFINITE_DEFINED)."""
        if what in _NONFINITE_DEFINED:
            return
        nan_only = what in _NAN_UNDEFINED
        for arg in args:
            values = np.asarray(arg)
            if values.dtype.kind != "f":
                continue
            bad = np.isnan(values) if nan_only else ~np.isfinite(values)
            if bad.any():
                raise ReferenceFailure(f"{what} of a non-finite value ({arg!r}) after a division by zero", "undefined")

    def e_compare(self, e: A.Compare):
        result = bool(_COMPARE[e.op](self.eval(e.left), self.eval(e.right)))
        if self.decisions is not None:
            self.decisions.append(result)
        return result

    def decide(self, func: str, args: list, value) -> None:
        """Record the piece of a piecewise builtin this call evaluated."""
        if func in ("abs", "sign"):
            side = np.asarray(args[0]) >= 0
        elif func in ("min", "max"):
            side = np.asarray(args[0]) <= np.asarray(args[1])
        elif func == "clamp":
            side = (np.asarray(args[0]) < args[1], np.asarray(args[0]) > args[2])
        elif func in ("floor", "ceil"):
            side = np.asarray(value)
        elif func == "atan2":
            side = (np.asarray(args[0]) >= 0, np.asarray(args[1]) >= 0)
        elif func in ("length", "normalize"):
            # both have a kink at the zero vector, which a step may pass beside
            # as well as through: the signs of the components stand for it
            side = np.sign(np.asarray(args[0]))
        else:
            return
        self.decisions.append(_decision(side))

    def e_boolop(self, e: A.BoolOp):
        left = self.eval(e.left)
        if e.op == "and":
            return self.eval(e.right) if left else False
        return True if left else self.eval(e.right)

    def e_not(self, e: A.Not):
        return not self.eval(e.operand)

    def e_neg(self, e: A.Neg):
        value = self.eval(e.operand)
        limits = _INT_LIMITS.get(e.ty.name)
        if limits is not None:
            if e.ty.name not in _SIGNED_INTS:
                raise ReferenceFailure(f"negation of {e.ty}")
            if -int(value) > limits[1]:
                raise ReferenceFailure(f"{e.ty} overflow: -({int(value)})", "undefined")
        return -value

    def e_ternary(self, e: A.Ternary):
        if e.form == "ternary":
            return self.eval(e.then) if self.eval(e.cond) else self.eval(e.orelse)
        # where(c, a, b) and select(c, b, a) are calls: every argument, left to right
        cond = self.eval(e.cond)
        if e.form == "where":
            then, orelse = self.eval(e.then), self.eval(e.orelse)
        else:
            orelse, then = self.eval(e.orelse), self.eval(e.then)
        return then if cond else orelse

    def e_call(self, e: A.Call):
        op = builtin(e.func, e.ty) if e.func in BUILTINS else None
        if op is not None:
            args = [self.eval(a) for a in e.args]
            if self.nonfinite:
                self.nonfinite_argument(e.func, args)
            if e.func in _CORRECTLY_ROUNDED and e.ty.name == "float32":
                # NumPy's float32 transcendentals can be an ulp off; computed in
                # float64 and rounded once, the reference is (almost always)
                # correctly rounded, as C's and CUDA's libraries aim to be.
                value = np.float32(op.reference(*(np.float64(a) for a in args)))
            else:
                value = op.reference(*args)
            if type(value) is np.ndarray and value.ndim == 0:
                value = value[()]  # a 0-d result (np.where, ...) is a scalar
            if _nonfinite(value) and not any(_nonfinite(a) for a in args):
                # it overflowed inside, where the result rests on the
                # implementation's own formula (quat_rotate by a quaternion of
                # 1e33: NaN here, finite on Warp); XLA's promise nothing there
                raise ReferenceFailure(f"{e.func} of finite arguments gave {_describe(value)} {value!r}", "undefined")
            if self.decisions is not None:
                self.decide(e.func, args, value)
            return value
        return self.call_helper(e)

    def call_helper(self, e: A.Call):
        func = self.funcs.get(e.func)
        if func is None:
            raise ReferenceFailure(f"unknown function {e.func!r}")
        if len(e.args) != len(func.params):
            raise ReferenceFailure(f"{e.func} takes {len(func.params)} arguments, got {len(e.args)}")
        frame: dict[str, object] = {}
        arrays: dict[str, np.ndarray] = {}
        for param, arg in zip(func.params, e.args):
            if isinstance(param.ty, ArrayType):
                # by reference: the caller's own array object
                if not isinstance(arg, A.Name) or arg.id not in self.arrays:
                    raise ReferenceFailure(f"{e.func}: array argument {param.name!r} is not an array of the caller")
                arrays[param.name] = self.arrays[arg.id]
            else:
                # by value: values are never mutated in place, no copy needed
                frame[param.name] = self.eval(arg)
        saved = self.frame, self.arrays
        self.frame, self.arrays, self.result = frame, arrays, None
        try:
            signal = self.block(func.body)
            result = self.result
        finally:
            self.frame, self.arrays = saved
            self.result = None
        if signal != _RETURN:
            raise ReferenceFailure(f"helper {e.func!r} ended without return")
        return result

    def e_cast(self, e: A.Cast):
        value = self.eval(e.operand)
        to = e.to.name
        target = SCALAR_TYPES.get(to)
        if target is None or e.operand.ty.name not in SCALAR_TYPES:
            raise ReferenceFailure(f"cast from {e.operand.ty} to {e.to}")
        limits = _INT_LIMITS.get(to)
        if limits is not None and e.operand.ty.name in _FLOATS:
            truncated = np.trunc(value)
            # compare as Python numbers: exact, whatever the float type
            if not (np.isfinite(truncated) and limits[0] <= float(truncated) <= limits[1]):
                after = " after a division by zero" if self.nonfinite and not np.isfinite(truncated) else ""
                raise ReferenceFailure(f"cast of {value!r} to {e.to} is out of range{after}", "undefined")
            if self.decisions is not None:
                self.decisions.append(float(truncated))
            return truncated.astype(target)
        # int -> int wraps (two's complement), int -> float rounds to nearest,
        # float -> float rounds (past float32's range, to an infinity)
        result = value.astype(target)
        if not self.nonfinite and _nonfinite(result):
            self.overflowed()
        return result

    def e_construct(self, e: A.Construct):
        values = [self.eval(a) for a in e.args]
        return np.array(values, dtype=np.float32).reshape(element_shape(e.of))

    # -- statements

    def store(self, target, value) -> None:
        """Assign `value` (already of the target's type) to a Name, element or component."""
        kind = type(target)
        if kind is A.Name:
            self.frame[target.id] = value
        elif kind is A.ArrayRead:
            data, index = self.element(target)
            self.check_element(data, value, target.array, 1 if target.column is None else 2)
            data[index] = value
        elif kind is A.Component and type(target.value) is A.Component:  # an element of a local matrix
            name, row = target.value.value.id, target.value.index
            matrix = self.frame.get(name)
            if type(matrix) is not np.ndarray or matrix.shape != (3, 3):
                raise ReferenceFailure(f"element [{row}, {target.index}] of {name!r}, which holds {_describe(matrix)}")
            matrix = matrix.copy()  # copy on write, as for a vector
            matrix[row, target.index] = value
            self.frame[name] = matrix
        elif kind is A.Component or kind is A.ComponentAt:
            component = target.index if kind is A.Component else int(self.eval(target.index))
            if isinstance(target.value, A.ArrayRead):  # a component of the thread's own element
                data, index = self.element(target.value)
                vector, name = data[index], target.value.array
            else:
                name = target.value.id
                vector = self.frame.get(name)
            if type(vector) is not np.ndarray or vector.ndim not in (1, 2) or not 0 <= component < vector.shape[0]:  # 2: a matrix's row
                raise ReferenceFailure(f"component {component} of {name!r}, which holds {_describe(vector)}")
            vector = vector.copy()  # copy on write: u = v; u.x = ... leaves v alone
            vector[component] = value
            if isinstance(target.value, A.ArrayRead):
                data[index] = vector
            else:
                self.frame[name] = vector
        else:
            raise ReferenceFailure(f"cannot assign to {kind.__name__}")

    @staticmethod
    def check_element(data: np.ndarray, value, array: str, ndim: int = 1) -> None:
        """`value` fits an element of `data`, an array of `ndim` indexes."""
        if type(value) is np.ndarray:
            ok = value.dtype == data.dtype and value.shape == data.shape[ndim:]
        else:
            ok = data.ndim == ndim and value.dtype == data.dtype
        if not ok:
            raise ReferenceFailure(f"storing {_describe(value)} into {array!r} ({data.dtype}{list(data.shape)})")

    def s_assign(self, stmt: A.Assign):
        value = self.eval(stmt.value)
        if not _has_type(value, stmt.target.ty):
            raise ReferenceFailure(f"assigning {_describe(value)} to a target of type {stmt.target.ty}")
        self.store(stmt.target, value)

    def s_unpack(self, stmt: A.Unpack):
        values = self.eval(stmt.value)
        for target, value in zip(stmt.targets, values):
            self.store(target, value)

    def e_tuple(self, e: A.TupleExpr):
        return tuple(self.eval(item) for item in e.items)

    def s_aug_assign(self, stmt: A.AugAssign):
        # `t op= e` is `t = t op e`, with the target's place evaluated as a read
        # first (an element index is tid or a thread-index name: no side effects)
        current = self.eval(stmt.target)
        value = self.eval(stmt.value)
        result = self.arith(stmt.op[0], current, value, stmt.target.ty)
        if not _has_type(result, stmt.target.ty):
            raise ReferenceFailure(f"{stmt.op} on {stmt.target.ty} gave {_describe(result)}")
        self.store(stmt.target, result)

    def s_atomic(self, stmt: A.Atomic):
        self.atomic(stmt)

    def e_atomic_value(self, e: A.AtomicValue):
        return self.atomic(e)

    def atomic(self, stmt: A.Atomic | A.AtomicValue):
        """The update of an atomic; its value is the element's before it."""
        data, index = self.index(stmt.array, stmt.index)
        value = self.eval(stmt.value)
        self.check_element(data, value, stmt.array)
        old = data[index].copy()
        if self.nonfinite and stmt.op in ("min", "max"):
            # Warp's atomic min/max of NaN is not jnp's, on either side
            self.nonfinite_argument(f"atomic_{stmt.op}", (value, old))
        if stmt.op in ("add", "sub"):
            elem = stmt.value.ty
            new = self.arith("+" if stmt.op == "add" else "-", old, value, elem)
        elif stmt.op in ("min", "max"):
            new = np.minimum(old, value) if stmt.op == "min" else np.maximum(old, value)
            if self.decisions is not None:  # which side won, element by element: a kink
                self.decide(stmt.op, [value, old], new)
                if np.any(np.asarray(value) == old) and ATOMIC_TIE not in self.decisions:
                    self.decisions.append(ATOMIC_TIE)
        elif stmt.op in BITWISE_ATOMICS:
            new = self.arith(BITWISE_ATOMICS[stmt.op], old, value, stmt.value.ty)
        else:
            raise ReferenceFailure(f"unknown atomic {stmt.op!r}")
        data[index] = new
        return old

    def s_call(self, stmt: A.CallStmt):
        if stmt.call.func not in self.funcs:
            raise ReferenceFailure(f"{stmt.call.func!r} called as a statement is not a helper")
        self.call_helper(stmt.call)

    def s_if(self, stmt: A.If):
        if self.eval(stmt.cond):
            return self.block(stmt.body)
        for clause in stmt.elifs:
            if self.eval(clause.cond):
                return self.block(clause.body)
        if stmt.orelse is not None:
            return self.block(stmt.orelse)
        return None

    def s_for(self, stmt: A.For):
        bound = int(self.eval(stmt.bound))  # evaluated once
        frame = self.frame
        for j in range(bound):
            frame[stmt.var] = np.int32(j)
            signal = self.block(stmt.body)
            if signal is _BREAK:
                break
            if signal is _RETURN:
                return signal
        return None

    def s_while(self, stmt: A.While):
        frame = self.frame
        counter = 0
        frame[stmt.counter] = np.int32(0)
        while counter < stmt.limit and (stmt.cond is None or self.eval(stmt.cond)):
            counter += 1
            frame[stmt.counter] = np.int32(counter)
            signal = self.block(stmt.body)
            if signal is _BREAK:
                break
            if signal is _RETURN:
                return signal
        return None

    def s_break(self, stmt):
        return _BREAK

    def s_continue(self, stmt):
        return _CONTINUE

    def s_return(self, stmt: A.Return):
        self.result = self.eval(stmt.value)
        return _RETURN


# ------------------------------------------------------------------ entry point


def _launch_value(param: A.Param, value, n: int):
    """A copy of one input, checked against the parameter's type."""
    ty = param.ty
    if isinstance(ty, ArrayType):
        expected = np.dtype(NUMPY_DTYPES[ty.elem.name])
        shape = (n,) + element_shape(ty.elem)
        if ty.ndim == 2:  # a row per thread, of the input set's column count
            columns = value.shape[1] if isinstance(value, np.ndarray) and value.ndim >= 2 else 0
            if not 1 <= columns <= MAX_COLUMNS:
                raise ReferenceFailure(f"array {param.name!r} has {columns} columns; a two-dimensional array has 1 to {MAX_COLUMNS}", "input")
            shape = (n, columns) + element_shape(ty.elem)
        if not isinstance(value, np.ndarray) or value.dtype != expected or value.shape != shape:
            raise ReferenceFailure(f"array {param.name!r} must be {expected}{list(shape)}, got {_describe(value)}", "input")
        return np.array(value, copy=True)
    if ty.is_vector or ty.is_matrix:
        array = np.asarray(value)
        if array.dtype != _F32 or array.shape != element_shape(ty):
            raise ReferenceFailure(f"{param.name!r} must be a float32 {ty}, got {_describe(value)}", "input")
        return array.copy()
    scalar = SCALAR_TYPES.get(ty.name)
    if scalar is None:
        raise ReferenceFailure(f"parameter {param.name!r} of type {ty}", "input")
    if type(value) is scalar:
        return value
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype == np.dtype(scalar):
        return value[()]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if ty.is_float:
            return scalar(value)  # rounds, as a literal does
        limits = _INT_LIMITS[ty.name]
        if isinstance(value, int) and limits[0] <= value <= limits[1]:
            return scalar(value)
    raise ReferenceFailure(f"{param.name!r} must be {ty}, got {value!r} ({_describe(value)})", "input")


def run_reference(
    program: A.Program, kernel_name: str | None, inputs: dict, n: int, decisions: list | None = None, threads=None,
) -> dict[str, np.ndarray]:
    """Run kernel `kernel_name` (default: the first) for threads 0..n-1, one after
    the other, on copies of `inputs`; return every array parameter's final value.
    With `threads` (increasing thread ids below n), run only those: the
    elements they own (Out and InOut at their own index) are then right, and
    an Acc array holds only their atomics.
    With `decisions`, append to it every piecewise decision the run took.
    Structs are flattened first (grammar.lowering): a struct parameter's
    inputs are its leaves', keyed `param__field`."""
    program = lower(program)
    if kernel_name is None:
        kernel = program.kernels[0]
    else:
        matches = [k for k in program.kernels if k.name == kernel_name]
        if not matches:
            raise ReferenceFailure(f"no kernel named {kernel_name!r}", "input")
        kernel = matches[0]
    if n < 0:
        raise ReferenceFailure(f"launch of {n} threads", "input")
    if threads is not None and any(not 0 <= t < n for t in threads):
        raise ReferenceFailure(f"a sampled thread is outside the launch of {n}", "input")
    scalars: dict[str, object] = {}
    arrays: dict[str, np.ndarray] = {}
    for param in kernel.params:
        if param.name not in inputs:
            raise ReferenceFailure(f"no input for parameter {param.name!r}", "input")
        value = _launch_value(param, inputs[param.name], n)
        if isinstance(param.ty, ArrayType):
            arrays[param.name] = value
        else:
            scalars[param.name] = value
    interpreter = _Interpreter(program, n, decisions)
    with np.errstate(all="ignore"):  # inf and nan are values; overflow and /0 of ints are checked
        try:
            interpreter.run_kernel(kernel, scalars, arrays, threads)
        except ReferenceFailure:
            raise
        except RecursionError as exc:
            raise ReferenceFailure(f"recursion: {exc}") from exc
        except Exception as exc:  # a NumPy or Python error we did not foresee: loud, typed
            raise ReferenceFailure(f"{type(exc).__name__}: {exc}") from exc
    return dict(arrays)

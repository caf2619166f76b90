"""The typed AST of the kernel language.

Every node is a frozen dataclass that checks its own shape on construction, so an
ill-formed node cannot be built; edit with `dataclasses.replace`. Expressions
carry their type in `ty` (None only between parsing and checking). Source
positions ride along in `pos` and take no part in equality, so a parsed program
equals the same program built by a strategy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Union

from .ops import ARITH_OPS, ATOMICS, AUG_OPS, BOOL_OPS, COMPARE_OPS, GRAD_FUNCTIONS, TILE_MAPS, TILE_REDUCTIONS, TILE_SIZES
from .types import COMPONENT_NAMES, ArrayType, DType, TileType, TupleType


class ASTError(ValueError):
    """A node was built with an impossible shape (a bug of the caller)."""


@dataclass(frozen=True, slots=True)
class Pos:
    line: int
    column: int


def _pos() -> Pos | None:
    return field(default=None, compare=False, repr=False)  # type: ignore[return-value]


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ASTError(message)


# ----------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Const:
    """A literal. Negative numbers are `Neg(Const)`, so literals are >= 0.

    `typed` spells a float32 or int32 literal with its type's constructor
    (`float32(1.5)` against `1.5`): one value, two spellings a front end
    handles apart. Literals of the other types are always spelled so."""

    value: int | float
    ty: DType | None = None
    pos: Pos | None = _pos()
    typed: bool = False

    def __post_init__(self) -> None:
        _require(not isinstance(self.value, bool), "bool literals are not part of the language")
        _require(self.value >= 0, f"literal {self.value!r} is negative; use Neg")
        _require(math.isfinite(self.value), f"literal {self.value!r} is not finite")
        if self.ty is not None:
            _require(self.ty.is_numeric, f"literal of non-numeric type {self.ty}")
            _require(
                isinstance(self.value, float) == self.ty.is_float,
                f"literal {self.value!r} does not match its type {self.ty}",
            )


@dataclass(frozen=True, slots=True)
class Name:
    """A parameter, local, loop variable or while counter."""

    id: str
    ty: DType | None = None
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class Tid:
    """`tid()`: the index of the running thread (int32)."""

    ty: DType | None = None
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class Len:
    """`len(a)`: the length of an array parameter (int32); `len(s.a)` of a
    struct parameter's array field has `array` "s.a", as ArrayRead. `dim` 1
    is a two-dimensional array's column count, `a.shape[1]` (`len(a)` and
    `a.shape[0]` are its row count, dim 0)."""

    array: str
    ty: DType | None = None
    pos: Pos | None = _pos()
    dim: int = 0

    def __post_init__(self) -> None:
        _require(self.dim in (0, 1), f"an array has no dimension {self.dim}")


@dataclass(frozen=True, slots=True)
class ArrayRead:
    """`a[index]`: an element of an array parameter; `array` is `s.a` for
    the array field a of struct parameter s (the array's one name). `a[index,
    column]` of a two-dimensional array has `column` too: `index` is the row."""

    array: str
    index: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()
    column: Expr | None = None


@dataclass(frozen=True, slots=True)
class Component:
    """`v.x` (attr=True) or `v[0]` (attr=False): a component of a vector, or
    `m[1]`: a row of a matrix (a vector). `m[1, 2]` (pair=True) is the
    component 2 of the row `m[1]`, spelled with one subscript."""

    value: Expr
    index: int
    attr: bool = True
    ty: DType | None = None
    pos: Pos | None = _pos()
    pair: bool = False

    def __post_init__(self) -> None:
        _require(0 <= self.index < len(COMPONENT_NAMES), f"component index {self.index} out of range")


@dataclass(frozen=True, slots=True)
class ComponentAt:
    """`v[k]`: a component of a vector at a computed index, which the checker
    proves in bounds (`clamp(e, 0, K)`, or a loop variable of a short loop)."""

    value: Expr
    index: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class Field:
    """`s.name`: a field of a struct value."""

    value: Expr
    name: str
    ty: DType | None = None
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class StructNew:
    """`S()`: a value of struct type `S` with every field zero."""

    of: str
    ty: DType | None = None
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class TupleExpr:
    """`a, b`: the several values a helper returns (only as a return value)."""

    items: tuple[Expr, ...]
    ty: TupleType | None = None
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(len(self.items) >= 2, "a tuple has at least two values")


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str
    left: Expr
    right: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(self.op in ARITH_OPS, f"unknown arithmetic operator {self.op!r}")


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Expr
    right: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(self.op in COMPARE_OPS, f"unknown comparison {self.op!r}")


@dataclass(frozen=True, slots=True)
class BoolOp:
    """`a and b`, `a or b`; both short-circuit, as in Python."""

    op: str
    left: Expr
    right: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(self.op in BOOL_OPS, f"unknown boolean operator {self.op!r}")


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class Invert:
    """`~e`: the bitwise complement of an int."""

    operand: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()


TERNARY_FORMS = ("ternary", "where", "select")


@dataclass(frozen=True, slots=True)
class Ternary:
    """A choice between two values, in one of three spellings (`form`):

    - "ternary": `then if cond else orelse`, evaluating only the arm taken;
    - "where": `where(cond, then, orelse)`, a call: every argument is evaluated;
    - "select": `select(cond, orelse, then)`, the same call with the arms in
      the order of Warp's older builtin.
    """

    cond: Expr
    then: Expr
    orelse: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()
    form: str = "ternary"

    def __post_init__(self) -> None:
        _require(self.form in TERNARY_FORMS, f"unknown conditional form {self.form!r}")

    @property
    def eager(self) -> bool:
        """Both arms are evaluated (a call), not only the one taken."""
        return self.form != "ternary"


@dataclass(frozen=True, slots=True)
class Call:
    """A math builtin (see ops.BUILTINS) or a helper function.

    `starred` spells a helper's arguments that are a vector's components in
    order (`v[0], v[1], v[2]`, as the checker expands them) as `f(*v)`, or
    as `f(*v[a:b:c])` (`star_slice`) where they are a slice of them."""

    func: str
    args: tuple[Expr, ...]
    ty: DType | None = None
    pos: Pos | None = _pos()
    starred: bool = False
    star_slice: tuple[int | None, int | None, int | None] | None = None  # `f(*v[a:b:c])` as written


@dataclass(frozen=True, slots=True)
class Starred:
    """`*v` (or `*v[a:b:c]`, `slice` its bounds) as a call's argument,
    before the checker expands it into `v`'s components."""

    value: Expr
    pos: Pos | None = _pos()
    slice: tuple[int | None, int | None, int | None] | None = None


def starred_vector(call: Call) -> tuple[Expr, tuple[int | None, int | None, int | None] | None] | None:
    """The vector `v` whose components a starred call's arguments are, and
    the slice that selects them as written (None: all, in order): `f(*v)`,
    `f(*v[1:3])`, `f(*v[3::-2])`; None where they no longer are (a shrink
    replaced one)."""
    if not call.starred or not call.args:
        return None
    first = call.args[0]
    if not isinstance(first, Component) or not getattr(first.value.ty, "is_vector", False):
        return None
    vector, whole = first.value, list(range(first.value.ty.length))
    if not all(isinstance(a, Component) and a.value == vector and not a.pair for a in call.args):
        return None
    selected = whole if call.star_slice is None else whole[slice(*call.star_slice)]
    return (vector, call.star_slice) if [a.index for a in call.args] == selected else None


@dataclass(frozen=True, slots=True)
class Cast:
    """`int32(e)`, `float32(e)`, ...: conversion between numeric types (truncating).

    `builtin` spells a cast to int32 or float32 with Python's `int(e)` or
    `float(e)`, which Warp accepts as the same conversion."""

    to: DType
    operand: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()
    builtin: bool = False

    def __post_init__(self) -> None:
        _require(self.to.is_numeric, f"cannot cast to {self.to}")
        _require(not isinstance(self.operand, Const), "a cast of a literal is a typed literal: use Const")
        _require(not self.builtin or self.to.name in BUILTIN_CASTS.values(), f"{self.to} has no Python builtin spelling")


# The Python builtins that spell a cast: `int(e)` is int32(e), `float(e)` float32(e)
BUILTIN_CASTS = {"int": "int32", "float": "float32"}


@dataclass(frozen=True, slots=True)
class Construct:
    """`vec3(a, b, c)`, `mat33(...)`: a vector or matrix from float32 components."""

    of: DType
    args: tuple[Expr, ...]
    ty: DType | None = None
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(self.of.is_vector or self.of.is_matrix, f"cannot construct {self.of}")
        _require(len(self.args) == self.of.length, f"{self.of} takes {self.of.length} components")


@dataclass(frozen=True, slots=True)
class Static:
    """`static(e)`: `e` evaluated when the kernel is compiled, in Python's
    arithmetic, and converted to its type once (SEMANTICS.md). `e` is made of
    literals, `+ - *`, negation and the variables of loops with a literal
    bound (one value per iteration of the unrolled loop)."""

    operand: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class TileLoad:
    """`tile_load(x, start, size)`: the `size` elements of array `x` from
    `start` on, with `start` clamped into [0, len(x) - size] (SEMANTICS.md),
    as a tile."""

    array: str
    start: Expr
    size: int
    ty: TileType | None = None
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(self.size in TILE_SIZES, f"a tile has {', '.join(map(str, TILE_SIZES))} elements, not {self.size}")


@dataclass(frozen=True, slots=True)
class TileMap:
    """`tile_map(f, t)` or `tile_map(f, t, u)`: `f` (ops.TILE_MAPS) applied to
    every element of a tile, or to the elements of two tiles pairwise."""

    fn: str
    tiles: tuple[Expr, ...]
    ty: TileType | None = None
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        op = TILE_MAPS.get(self.fn)
        _require(op is not None, f"tile_map cannot apply {self.fn!r}")
        _require(len(self.tiles) == op.arity, f"tile_map({self.fn}, ...) takes {op.arity} tiles")


@dataclass(frozen=True, slots=True)
class TileReduce:
    """`tile_sum(t)`, `tile_max(t)`, `tile_min(t)`: one value of a tile's element type."""

    op: str
    tile: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(self.op in TILE_REDUCTIONS, f"unknown tile reduction {self.op!r}")


@dataclass(frozen=True, slots=True)
class TileFull:
    """`tile_full(e, size)`: a tile of `size` copies of the float32 `e` (a
    scalar broadcast to a tile)."""

    value: Expr
    size: int
    ty: TileType | None = None
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(self.size in TILE_SIZES, f"a tile has {', '.join(map(str, TILE_SIZES))} elements, not {self.size}")


@dataclass(frozen=True, slots=True)
class TileMatmul:
    """`tile_matmul(t, u)`: the matrix product of t read as 2 rows and u as 2
    columns (ops.TILE_MATMUL_SIZES), a tile of 4 (the 2 by 2 product, row-major)."""

    left: Expr
    right: Expr
    ty: TileType | None = None
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class TileGet:
    """`tile_get(t, r, c)`: one element of a tile read row-major as 2 rows
    (ops.TILE_GET_ROWS) of size / 2: the one in row `clamp(r, 0, 1)`,
    column `clamp(c, 0, size / 2 - 1)`; `r` and `c` are int32."""

    tile: Expr
    row: Expr
    col: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class GradCall:
    """`grad(f, x)`: the derivative of the unary builtin `f`
    (ops.GRAD_FUNCTIONS) at the float32 `x`."""

    fn: str
    arg: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(self.fn in GRAD_FUNCTIONS, f"grad takes one of {', '.join(GRAD_FUNCTIONS)}, not {self.fn!r}")


TILE_NODES = (TileLoad, TileFull, TileMap, TileMatmul, TileReduce, TileGet)


@dataclass(frozen=True, slots=True)
class AtomicValue:
    """`v = atomic_add(a, i, value)` and sub/min/max: the atomic update of the
    thread's own element of an InOut array, whose value is the element's
    before the update. It is only ever the whole value of an assignment."""

    op: str
    array: str
    index: Expr
    value: Expr
    ty: DType | None = None
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(self.op in ATOMICS, f"unknown atomic {self.op!r}")


Expr = Union[Const, Name, Tid, Len, ArrayRead, Component, ComponentAt, Field, StructNew, TupleExpr, BinOp, Compare, BoolOp, Not, Neg, Invert, Ternary, Call, Cast, Construct, Static, TileLoad, TileFull, TileMap, TileMatmul, TileReduce, TileGet, GradCall, AtomicValue]
Target = Union[Name, ArrayRead, Component, ComponentAt, Field]

# ------------------------------------------------------------------ statements


@dataclass(frozen=True, slots=True)
class Assign:
    """`x = e` (declares x on first assignment), `a[i] = e`, `v.x = e`, `a[i].x = e`, `v[k] = e`, `s.f = e`."""

    target: Target
    value: Expr
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _check_target(self.target)


@dataclass(frozen=True, slots=True)
class AugAssign:
    target: Target
    op: str
    value: Expr
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _check_target(self.target)
        _require(self.op in AUG_OPS, f"unknown augmented operator {self.op!r}")


def _check_target(target: object) -> None:
    _require(isinstance(target, (Name, ArrayRead, Component, ComponentAt, Field)), f"cannot assign to {type(target).__name__}")
    if isinstance(target, (Component, ComponentAt)):
        row = isinstance(target.value, (Component, ComponentAt)) and isinstance(target.value.value, (Name, ArrayRead))  # m[r][c]
        _require(row or isinstance(target.value, (Name, ArrayRead, Field)), "only components of a local vector or matrix, a field or an array element can be assigned")
        if isinstance(target.value, Field):
            _check_target(target.value)
    if isinstance(target, Field):
        root = target.value
        while isinstance(root, Field):
            root = root.value
        _require(isinstance(root, Name), "only fields of a local struct can be assigned")


@dataclass(frozen=True, slots=True)
class Unpack:
    """`a, b = f(...)`: the values of a helper that returns several, each to a
    local (declared on first assignment); or `a, b = x, y` (a TupleExpr): a
    parallel assignment, every value evaluated before any name is assigned
    (so `a, b = b, a` swaps)."""

    targets: tuple[Name, ...]
    value: Call | TupleExpr
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(len(self.targets) >= 2 and all(isinstance(t, Name) for t in self.targets), "an unpacking assigns two or more names")
        _require(isinstance(self.value, (Call, TupleExpr)), "a helper call is unpacked, or several values assigned in parallel")


@dataclass(frozen=True, slots=True)
class Atomic:
    """`atomic_add(a, index, value)` and sub/min/max, as a statement."""

    op: str
    array: str
    index: Expr
    value: Expr
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(self.op in ATOMICS, f"unknown atomic {self.op!r}")


@dataclass(frozen=True, slots=True)
class CallStmt:
    """A helper called for its side effects."""

    call: Call
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class Elif:
    cond: Expr
    body: tuple[Stmt, ...]
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    body: tuple[Stmt, ...]
    elifs: tuple[Elif, ...] = ()
    orelse: tuple[Stmt, ...] | None = None
    pos: Pos | None = _pos()

    @property
    def branches(self) -> tuple[tuple[Stmt, ...], ...]:
        """Every body, in order: the `if`'s, each `elif`'s, the `else`'s if any."""
        return (self.body, *(c.body for c in self.elifs), *((self.orelse,) if self.orelse is not None else ()))


@dataclass(frozen=True, slots=True)
class For:
    """`for var in range(bound)`: bound is an int literal or `clamp(e, 0, K)`."""

    var: str
    bound: Expr
    body: tuple[Stmt, ...]
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class While:
    """A while loop with a bounded counter, printed as

        counter = 0
        while counter < limit [and cond]:
            counter += 1
            body
    """

    counter: str
    limit: int
    cond: Expr | None
    body: tuple[Stmt, ...]
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(self.limit >= 0, "a while limit is a non-negative literal")


@dataclass(frozen=True, slots=True)
class Break:
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class Continue:
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class Return:
    value: Expr
    pos: Pos | None = _pos()


Stmt = Union[Assign, AugAssign, Unpack, Atomic, CallStmt, If, For, While, Break, Continue, Return]

# ----------------------------------------------------------------- definitions


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    ty: DType | ArrayType
    pos: Pos | None = _pos()


@dataclass(frozen=True, slots=True)
class Func:
    """A helper (`@func`), callable from kernels and later helpers; `native`
    (`@native`): one Warp compiles from C++ the renderer writes for its body."""

    name: str
    params: tuple[Param, ...]
    ret: DType | TupleType
    body: tuple[Stmt, ...]
    pos: Pos | None = _pos()
    native: bool = False


@dataclass(frozen=True, slots=True)
class StructDef:
    """`@struct class S: f: T ...`: a struct type, declared before its uses."""

    name: str
    fields: tuple[Param, ...]
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(len(self.fields) >= 1, "a struct has at least one field")


@dataclass(frozen=True, slots=True)
class ConstDef:
    """`C = constant(lit)`: a named module-level constant (Warp's
    `wp.constant`), read in every helper and kernel, never assigned.
    `value` is a literal or its negation (typed but for int32 and float32),
    or a vector or matrix constructor of such literals."""

    name: str
    value: Expr
    pos: Pos | None = _pos()

    def __post_init__(self) -> None:
        _require(all(map(is_signed_literal, self.value.args if isinstance(self.value, Construct) else (self.value,))), "a constant's value is a literal or its negation, or a constructor of them")


def is_signed_literal(node) -> bool:
    return isinstance(node.operand if isinstance(node, Neg) else node, Const)


@dataclass(frozen=True, slots=True)
class Kernel:
    """`@kernel` (or `@kernel(launch=N)`: the kernel is launched on N threads;
    None leaves the thread count to whoever runs it, a backend's or a
    campaign's default)."""

    name: str
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]
    pos: Pos | None = _pos()
    launch: int | None = None

    def __post_init__(self) -> None:
        # the checker bounds the value (a located error); here only its kind
        _require(self.launch is None or (isinstance(self.launch, int) and not isinstance(self.launch, bool)), f"launch {self.launch!r} is not an int")


def launch_of(program: "Program", default: int) -> int:
    """The threads `program`'s kernel (its first, the one backends run) is
    launched on: its own launch size, else `default`."""
    launch = program.kernels[0].launch
    return default if launch is None else launch


@dataclass(frozen=True, slots=True)
class Program:
    """Constants, structs, helpers (each in definition order) and kernels; printed in that order."""

    funcs: tuple[Func, ...]
    kernels: tuple[Kernel, ...]
    structs: tuple[StructDef, ...] = ()
    constants: tuple[ConstDef, ...] = ()

    def __post_init__(self) -> None:
        _require(len(self.kernels) >= 1, "a program has at least one kernel")


# ------------------------------------------------------------------- traversal

EXPR_TYPES = (Const, Name, Tid, Len, ArrayRead, Component, ComponentAt, Field, StructNew, TupleExpr, BinOp, Compare, BoolOp, Not, Neg, Invert, Ternary, Call, Cast, Construct, Static, TileLoad, TileFull, TileMap, TileMatmul, TileReduce, TileGet, GradCall, AtomicValue)
STMT_TYPES = (Assign, AugAssign, Unpack, Atomic, CallStmt, If, For, While, Break, Continue, Return)


def children(node: object) -> tuple[object, ...]:
    """The direct sub-expressions, statements and clauses of a node, in order."""
    out: list[object] = []
    for name in node.__dataclass_fields__:  # type: ignore[attr-defined]
        if name in ("pos", "ty", "star_slice", "slice"):  # a slice's bounds are int literals, no nodes
            continue
        value = getattr(node, name)
        if isinstance(value, tuple):
            out.extend(v for v in value if not isinstance(v, (str, int, float)))
        elif isinstance(value, EXPR_TYPES + STMT_TYPES + (Elif, Param, Func, Kernel, StructDef, ConstDef)):
            out.append(value)
    return tuple(out)


def walk(node: object):
    """Every node under `node`, itself first (pre-order)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))

"""The DSL's value types and array roles.

A type is a frozen value; the module-level constants are the only instances the
rest of the code needs, and `TYPES` maps each surface spelling to its type.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.Enum):
    FLOAT = "float"
    INT = "int"
    BOOL = "bool"
    VECTOR = "vector"
    MATRIX = "matrix"
    STRUCT = "struct"
    GENERIC = "generic"
    FUNCTION = "function"


@dataclass(frozen=True, slots=True)
class DType:
    """A scalar, vector, matrix or struct value type.

    A struct type (kind STRUCT) is declared by a program; `fields` holds its
    (name, type) pairs in declaration order, and two struct types are equal
    when their names and fields are. A field's type may be an In ArrayType
    (an array held by a struct that only a kernel parameter may have)."""

    name: str
    kind: Kind
    length: int = 1  # components of a vector, rows*cols of a matrix
    bits: int = 32
    signed: bool = True
    fields: tuple[tuple[str, "DType | ArrayType"], ...] = ()

    def __str__(self) -> str:
        return self.name

    @property
    def is_float(self) -> bool:
        return self.kind is Kind.FLOAT

    @property
    def is_int(self) -> bool:
        return self.kind is Kind.INT

    @property
    def is_numeric(self) -> bool:
        return self.kind in (Kind.FLOAT, Kind.INT)

    @property
    def is_vector(self) -> bool:
        return self.kind is Kind.VECTOR

    @property
    def is_matrix(self) -> bool:
        return self.kind is Kind.MATRIX

    @property
    def is_struct(self) -> bool:
        return self.kind is Kind.STRUCT

    @property
    def array_fields(self) -> tuple[tuple[str, "ArrayType"], ...]:
        """The (name, array type) fields of a struct type."""
        return tuple((n, t) for n, t in self.fields if isinstance(t, ArrayType))

    def field(self, name: str) -> "DType | ArrayType | None":
        """The type of field `name` of a struct type (None when it has none)."""
        return dict(self.fields).get(name)

    def leaves(self, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], "DType"]]:
        """(path, type) of every non-struct field, nested structs flattened, in
        declaration order; a non-struct type is its own single leaf, and an
        array field is a leaf (its ArrayType)."""
        if not self.is_struct:
            return [(prefix, self)]
        out = []
        for name, ty in self.fields:
            out.extend([(prefix + (name,), ty)] if isinstance(ty, ArrayType) else ty.leaves(prefix + (name,)))
        return out


def struct_type(name: str, fields) -> DType:
    return DType(name, Kind.STRUCT, length=0, fields=tuple(fields))


@dataclass(frozen=True, slots=True)
class TupleType:
    """The result of a helper that returns several values (none of them a struct)."""

    elems: tuple[DType, ...]

    def __str__(self) -> str:
        return f"tuple[{', '.join(t.name for t in self.elems)}]"

    @property
    def name(self) -> str:
        return str(self)

    # a tuple is none of the value kinds: code asking a type's kind gets False
    is_float = is_int = is_numeric = is_vector = is_matrix = is_struct = property(lambda self: False)


@dataclass(frozen=True, slots=True)
class TileType:
    """A tile: `size` values of `elem` that one thread holds as a whole
    (Warp's tile of shape (size,)). A tile only ever stands inside a tile
    operation or a reduction, which makes a scalar of it again; no local,
    parameter or array holds one."""

    elem: "DType"
    size: int

    def __str__(self) -> str:
        return f"tile[{self.elem.name}, {self.size}]"

    @property
    def name(self) -> str:
        return str(self)

    # a tile is none of the value kinds: code asking a type's kind gets False
    is_float = is_int = is_numeric = is_vector = is_matrix = is_struct = property(lambda self: False)


F32 = DType("float32", Kind.FLOAT)
F64 = DType("float64", Kind.FLOAT, bits=64)
I32 = DType("int32", Kind.INT)
I64 = DType("int64", Kind.INT, bits=64)
U32 = DType("uint32", Kind.INT, signed=False)
BOOL = DType("bool", Kind.BOOL)
VEC2 = DType("vec2", Kind.VECTOR, length=2)
VEC3 = DType("vec3", Kind.VECTOR, length=3)
VEC4 = DType("vec4", Kind.VECTOR, length=4)
MAT33 = DType("mat33", Kind.MATRIX, length=9)
# Warp's quaternion (x, y, z, w), w the real part: a vector of four float32
# for every element-wise rule, with its own product and builtins (grammar.ops)
QUAT = DType("quat", Kind.VECTOR, length=4)

# `Any`: the type variable of a generic helper (Warp's typing.Any). It stands
# only in a generic helper's parameters, return type and body; every call
# binds it to one concrete type (grammar/SEMANTICS.md, Generic helpers).
ANY = DType("Any", Kind.GENERIC, length=0)

# `Function`: a helper's parameter standing for a helper of one float32
# parameter that returns float32, named at each call (Warp's wp.Function
# parameter). It is only called, or passed on to another helper's Function
# parameter (grammar/SEMANTICS.md, Helpers taking helpers).
FUNCTION = DType("Function", Kind.FUNCTION, length=0)

SCALARS = (F32, F64, I32, I64, U32)
VECTORS = (VEC2, VEC3, VEC4)
# Types a parameter, local or array element may have (bool is for conditions only).
VALUE_TYPES = SCALARS + VECTORS + (MAT33, QUAT)
TYPES = {t.name: t for t in VALUE_TYPES + (BOOL,)}
# the types a call may bind a generic helper's `Any` to
GENERIC_TYPES = VALUE_TYPES

COMPONENT_NAMES = "xyzw"


class Role(enum.Enum):
    """How a kernel may touch an array; this is what makes programs race-free."""

    IN = "In"  # read anywhere (in bounds), never written
    OUT = "Out"  # written only at the thread's own index, never read
    INOUT = "InOut"  # read and written only at the thread's own index
    ACC = "Acc"  # written only through atomics, never read


ROLES = {r.value: r for r in Role}


@dataclass(frozen=True, slots=True)
class ArrayType:
    """An array of `elem` with a role: one-dimensional (`ndim` 1), of the
    launch's length, or two-dimensional (`ndim` 2, `array2d`): a row per
    thread of the launch and the launch's column count (grammar/SEMANTICS.md)."""

    elem: DType
    role: Role
    ndim: int = 1

    def __post_init__(self) -> None:
        if self.elem.kind in (Kind.BOOL, Kind.STRUCT):
            raise ValueError(f"arrays of {self.elem.kind.value} are not part of the language")
        if self.ndim not in (1, 2):
            raise ValueError(f"arrays of {self.ndim} dimensions are not part of the language")

    @property
    def keyword(self) -> str:
        """The array's spelling in the language: `array` or `array2d`."""
        return "array" if self.ndim == 1 else "array2d"

    def __str__(self) -> str:
        return f"{self.role.value}[{self.keyword}[{self.elem.name}]]"

    # an array is none of the value kinds (a struct's array field is asked as
    # its value fields are): code asking a type's kind gets False
    is_float = is_int = is_numeric = is_vector = is_matrix = is_struct = property(lambda self: False)


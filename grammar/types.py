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


@dataclass(frozen=True, slots=True)
class DType:
    """A scalar, vector or matrix value type."""

    name: str
    kind: Kind
    length: int = 1  # components of a vector, rows*cols of a matrix
    bits: int = 32
    signed: bool = True

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

SCALARS = (F32, F64, I32, I64, U32)
VECTORS = (VEC2, VEC3, VEC4)
# Types a parameter, local or array element may have (bool is for conditions only).
VALUE_TYPES = SCALARS + VECTORS + (MAT33,)
TYPES = {t.name: t for t in VALUE_TYPES + (BOOL,)}

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
    """A one-dimensional array of `elem`, of the launch's length, with a role."""

    elem: DType
    role: Role

    def __post_init__(self) -> None:
        if self.elem.kind is Kind.BOOL:
            raise ValueError("arrays of bool are not part of the language")

    def __str__(self) -> str:
        return f"{self.role.value}[array[{self.elem.name}]]"


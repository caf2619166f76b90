"""Deterministic launch inputs for a kernel, inside the ranges its guards assume.

Arrays have the launch's length `n`: In and InOut arrays are filled from a
seeded generator within grammar.ops.INPUT_*_RANGE, Out and Acc arrays start at
zero. Scalar parameters are drawn from the same ranges. Shapes: (n,) for scalar
elements, (n, k) for vecK, (n, 3, 3) for mat33; a vector scalar parameter is a
(k,) array; a struct parameter is one value per leaf field (an array field
filled as an In array is, keyed `p__a`). A two-dimensional array has a row
per thread and the input set's column count: (n, c) + the element's shape,
one c in 1 .. MAX_COLUMNS for every two-dimensional array of the launch,
drawn from the seed by a generator of its own (so a kernel without one gets
the values it got before they existed).
"""

from __future__ import annotations

import zlib

import numpy as np

from kernel_synth.grammar import ast as A
from kernel_synth.grammar.lowering import flat_params
from kernel_synth.grammar.ops import INPUT_FLOAT_RANGE, INPUT_INT_RANGE, INPUT_UINT_RANGE, MAX_COLUMNS
from kernel_synth.grammar.types import ArrayType, DType, Role

DEFAULT_LAUNCH = 32

NUMPY_DTYPES = {
    "float32": np.float32,
    "float64": np.float64,
    "int32": np.int32,
    "int64": np.int64,
    "uint32": np.uint32,
    "vec2": np.float32,
    "vec3": np.float32,
    "vec4": np.float32,
    "mat33": np.float32,
    "quat": np.float32,
}


def element_shape(ty: DType) -> tuple[int, ...]:
    if ty.is_vector:
        return (ty.length,)
    if ty.is_matrix:
        return (3, 3)
    return ()


def _values(rng: np.random.Generator, ty: DType, shape: tuple[int, ...]) -> np.ndarray:
    dtype = NUMPY_DTYPES[ty.name]
    if ty.is_int:
        lo, hi = INPUT_UINT_RANGE if not ty.signed else INPUT_INT_RANGE
        return rng.integers(lo, hi, size=shape, endpoint=True).astype(dtype)
    lo, hi = INPUT_FLOAT_RANGE
    # quarter steps: exact in every float type, and they hit 0 and the integers
    steps = rng.integers(int(lo * 4), int(hi * 4), size=shape, endpoint=True)
    return (steps / 4).astype(dtype)


def column_count(kernel: A.Kernel, seed: int = 0) -> int:
    """The column count of the two-dimensional arrays of `kernel`'s launch
    with inputs `seed`: 1 .. MAX_COLUMNS, the same on every call."""
    rng = np.random.default_rng([seed, zlib.crc32(kernel.name.encode()), 2])
    return int(rng.integers(1, MAX_COLUMNS, endpoint=True))


def make_inputs(kernel: A.Kernel, n: int = DEFAULT_LAUNCH, seed: int = 0) -> dict[str, np.ndarray]:
    """Every parameter's launch value, keyed by parameter name; a struct
    parameter's by its leaves' flattened names (`p__f`, grammar.lowering)."""
    rng = np.random.default_rng([seed, zlib.crc32(kernel.name.encode())])
    values: dict[str, np.ndarray] = {}
    for param in flat_params(kernel.params):
        ty = param.ty
        if isinstance(ty, ArrayType):
            rows = (n,) if ty.ndim == 1 else (n, column_count(kernel, seed))
            shape = rows + element_shape(ty.elem)
            if ty.role in (Role.IN, Role.INOUT):
                values[param.name] = _values(rng, ty.elem, shape)
            else:
                values[param.name] = np.zeros(shape, dtype=NUMPY_DTYPES[ty.elem.name])
        else:
            value = _values(rng, ty, element_shape(ty))
            values[param.name] = value if value.shape else value[()]
    return values


def written_arrays(kernel: A.Kernel) -> list[str]:
    """The arrays a launch can change: its outputs, compared across backends
    (a struct parameter's Out array field by its flattened name `p__a`)."""
    return [p.name for p in flat_params(kernel.params) if isinstance(p.ty, ArrayType) and p.ty.role is not Role.IN]

"""Comparing the outputs of two backends: what counts as agreement.

Integers compare exactly. Floats compare with a tolerance relative to the
magnitude of the values (float32 transcendental functions differ between
libraries by a few ulps, and a computation multiplies that); NaN equals NaN,
and infinities must match in sign.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .outcome import Outcome, Stage, Status

FLOAT32_TOLERANCE = (1e-3, 1e-4)  # (rtol, atol)
FLOAT64_TOLERANCE = (1e-9, 1e-12)
# Float atomics of n threads add in any order: the rounding of such a sum
# grows, on average, with the square root of the number of terms, so an Acc
# array's float tolerance is scaled by sqrt(n / ACC_TOLERANCE_BASE) above
# that many threads (the tolerances above were set on launches of 16).
ACC_TOLERANCE_BASE = 16


@dataclass(frozen=True)
class Mismatch:
    array: str
    index: tuple[int, ...]
    expected: object
    got: object

    def __str__(self) -> str:
        return f"{self.array}{list(self.index)}: expected {self.expected!r}, got {self.got!r}"


def tolerance(dtype: np.dtype) -> tuple[float, float]:
    return FLOAT64_TOLERANCE if dtype == np.float64 else FLOAT32_TOLERANCE


def acc_scales(kernel, n: int) -> dict[str, float]:
    """The float tolerance's scale for each float Acc array of `kernel` on a
    launch of `n` threads (see ACC_TOLERANCE_BASE); other arrays keep 1."""
    from kernel_synth.grammar.types import ArrayType, Role

    if n <= ACC_TOLERANCE_BASE:
        return {}
    scale = float(np.sqrt(n / ACC_TOLERANCE_BASE))
    return {
        p.name: scale for p in kernel.params
        if isinstance(p.ty, ArrayType) and p.ty.role is Role.ACC and (p.ty.elem.is_float or p.ty.elem.is_vector)
    }


def compare_outputs(
    expected: dict[str, np.ndarray], got: dict[str, np.ndarray], limit: int = 5, threads=None, scales: dict[str, float] | None = None,
) -> list[Mismatch]:
    """Up to `limit` mismatching elements per array; an empty list is agreement.

    With `threads` (indices), only those threads' elements (rows) are
    compared; a mismatch still names its element's index in the whole array.
    `scales` multiplies the float tolerance of the arrays it names."""
    mismatches: list[Mismatch] = []
    rows = None if threads is None else np.asarray(threads, dtype=np.int64)
    for name, want in expected.items():
        have = got.get(name)
        if have is None:
            mismatches.append(Mismatch(name, (), "an array", "nothing"))
            continue
        want, have = np.asarray(want), np.asarray(have)
        if want.shape != have.shape:
            mismatches.append(Mismatch(name, (), f"shape {want.shape}", f"shape {have.shape}"))
            continue
        if rows is not None:
            want, have = want[rows], have[rows]
        if np.issubdtype(want.dtype, np.floating):
            rtol, atol = tolerance(want.dtype)
            scale = (scales or {}).get(name, 1.0)
            rtol, atol = rtol * scale, atol * scale
            w, h = want.astype(np.float64), have.astype(np.float64)
            with np.errstate(all="ignore"):
                close = np.isclose(w, h, rtol=rtol, atol=atol, equal_nan=True)
            bad = ~close
        else:
            bad = want != have
        for index in list(zip(*np.nonzero(bad)))[:limit]:
            index = tuple(int(i) for i in index)
            whole = index if rows is None or not index else (int(rows[index[0]]),) + index[1:]
            mismatches.append(Mismatch(name, whole, want[index].item(), have[index].item()))
    return mismatches


def compare_outcomes(expected: Outcome, got: Outcome, limit: int = 5) -> list[Mismatch]:
    """compare_outputs of two outcomes' outputs, within what `expected` (the
    reference's, say) says may be compared: its sampled threads, and the
    tolerance scales of either side."""
    scales = {**got.scales, **expected.scales}
    return compare_outputs(expected.outputs, got.outputs, limit, threads=expected.threads, scales=scales)


def nondeterminism(first: dict, second: dict, scales: dict[str, float] | None = None) -> Outcome | None:
    """A `nondeterministic` Outcome when two launches on the same inputs differ
    beyond the float tolerance (atomics may add floats in any order: `scales`,
    from acc_scales, widens it for Acc arrays on large launches)."""
    differences = compare_outputs(first, second, scales=scales)
    if not differences:
        return None
    kind = "int" if np.issubdtype(first[differences[0].array].dtype, np.integer) else "float"
    detail = "; ".join(str(d) for d in differences[:3])
    # the first line is the signature's: the values (garbage, often) go below it
    return Outcome(Status.NONDETERMINISTIC, Stage.RUN, f"two launches on the same inputs differ ({kind} values)\n{detail}", outputs=first)

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


def compare_outputs(expected: dict[str, np.ndarray], got: dict[str, np.ndarray], limit: int = 5) -> list[Mismatch]:
    """Up to `limit` mismatching elements per array; an empty list is agreement."""
    mismatches: list[Mismatch] = []
    for name, want in expected.items():
        have = got.get(name)
        if have is None:
            mismatches.append(Mismatch(name, (), "an array", "nothing"))
            continue
        want, have = np.asarray(want), np.asarray(have)
        if want.shape != have.shape:
            mismatches.append(Mismatch(name, (), f"shape {want.shape}", f"shape {have.shape}"))
            continue
        if np.issubdtype(want.dtype, np.floating):
            rtol, atol = tolerance(want.dtype)
            w, h = want.astype(np.float64), have.astype(np.float64)
            with np.errstate(all="ignore"):
                close = np.isclose(w, h, rtol=rtol, atol=atol, equal_nan=True)
            bad = ~close
        else:
            bad = want != have
        for index in list(zip(*np.nonzero(bad)))[:limit]:
            index = tuple(int(i) for i in index)
            mismatches.append(Mismatch(name, index, want[index].item(), have[index].item()))
    return mismatches


def nondeterminism(first: dict, second: dict) -> Outcome | None:
    """A `nondeterministic` Outcome when two launches on the same inputs differ
    beyond the float tolerance (atomics may add floats in any order)."""
    differences = compare_outputs(first, second)
    if not differences:
        return None
    kind = "int" if np.issubdtype(first[differences[0].array].dtype, np.integer) else "float"
    detail = "; ".join(str(d) for d in differences[:3])
    # the first line is the signature's: the values (garbage, often) go below it
    return Outcome(Status.NONDETERMINISTIC, Stage.RUN, f"two launches on the same inputs differ ({kind} values)\n{detail}", outputs=first)

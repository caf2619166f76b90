"""Integer intervals and the guards that keep a generated operation defined.

The generator builds programs free of undefined behaviour as it goes (the
Csmith rule) and asks this module how: every integer expression carries the
interval its value lies in, and an operation whose result could leave the safe
range gets its operands clamped; integer divisors are kept away from zero,
float-to-int casts are clamped into range, float divisors are kept finite and
float builtins get their arguments guarded into the op table's domain
(ops.ArgGuard). The input ranges these guards assume are ops.INPUT_*.

Everything here is a pure function of its arguments: no draws.
"""

from __future__ import annotations

from . import ast as A
from .ops import BIT_OPS, INPUT_INT_RANGE, INPUT_UINT_RANGE, MAX_LAUNCH
from .types import DType

# Magnitudes int values are kept within: products and sums of two such values
# cannot overflow int32.
INT_SAFE = 1 << 30
INT_BASE = 1 << 10  # every int local may hold at least this much
INT_RESERVE = 1 << 16  # what `+=`/`-=` on one int local may add up to, in total
U32_MAX = (1 << 32) - 1
FLOAT_TO_INT_LIMIT = 1.0e6
# Int atomics from every thread of the largest launch must not overflow int32.
ATOMIC_INT_LIMIT = INT_SAFE // MAX_LAUNCH

Interval = tuple[int, int]


def type_interval(ty: DType) -> Interval:
    if not ty.signed:
        return (0, U32_MAX)
    return (-INT_SAFE, INT_SAFE)


def param_interval(ty: DType) -> Interval | None:
    if not ty.is_int:
        return None
    return INPUT_UINT_RANGE if not ty.signed else INPUT_INT_RANGE


def within(iv: Interval | None, bounds: Interval) -> bool:
    return iv is not None and bounds[0] <= iv[0] and iv[1] <= bounds[1]


def _signed_const(value: int, ty: DType) -> A.Expr:
    return A.Const(value, ty) if value >= 0 else A.Neg(A.Const(-value, ty), ty)


def clamp(expr: A.Expr, bounds: Interval, ty: DType) -> A.Call:
    return A.Call("clamp", (expr, _signed_const(bounds[0], ty), _signed_const(bounds[1], ty)), ty)


def exact_interval(op: str, left: Interval, right: Interval) -> Interval:
    """The values of `a op b` for `+ - *` in exact (Python) arithmetic, no wrapping."""
    (a, b), (c, d) = left, right
    if op == "+":
        return a + c, b + d
    if op == "-":
        return a - d, b - c
    products = (a * c, a * d, b * c, b * d)
    return min(products), max(products)


# Shift amounts generated programs use: within the 0 .. 31 C++ defines, and
# small enough that a left shift of a guarded operand still fits
MAX_SHIFT = 12


def int_binop(op: str, left, li: Interval, right, ri: Interval, ty: DType):
    if op in BIT_OPS:
        return _bit_binop(op, left, li, right, ri, ty)
    if not ty.signed:
        if op in ("//", "%") and ri[0] <= 0:
            right = A.Call("max", (right, A.Const(1, ty)), ty)
            ri = (1, max(ri[1], 1))
        iv = _unsigned_result(op, li, ri)
        return A.BinOp(op, left, right, ty), iv
    if op in ("+", "-"):
        limit = INT_SAFE // 2
        if not (within(li, (-limit, limit)) and within(ri, (-limit, limit))):
            left, li = (clamp(left, (-limit, limit), ty), (-limit, limit)) if not within(li, (-limit, limit)) else (left, li)
            right, ri = (clamp(right, (-limit, limit), ty), (-limit, limit)) if not within(ri, (-limit, limit)) else (right, ri)
        iv = (li[0] + ri[0], li[1] + ri[1]) if op == "+" else (li[0] - ri[1], li[1] - ri[0])
        return A.BinOp(op, left, right, ty), iv
    if op == "*":
        limit = 1 << 15
        products = [a * b for a in li for b in ri]
        if max(abs(p) for p in products) > INT_SAFE:
            if not within(li, (-limit, limit)):
                left, li = clamp(left, (-limit, limit), ty), (-limit, limit)
            if not within(ri, (-limit, limit)):
                right, ri = clamp(right, (-limit, limit), ty), (-limit, limit)
            products = [a * b for a in li for b in ri]
        return A.BinOp(op, left, right, ty), (min(products), max(products))
    # `//` and `%`: divisor kept away from zero: max(abs(b), 1) >= 1
    if ri[0] <= 0 <= ri[1]:
        right = A.Call("max", (A.Call("abs", (right,), ty), A.Const(1, ty)), ty)
        top = max(abs(ri[0]), abs(ri[1]), 1)
        ri = (1, top)
    magnitude = max(abs(li[0]), abs(li[1]))
    if op == "//":
        return A.BinOp(op, left, right, ty), (-magnitude - 1, magnitude + 1)
    top = max(abs(ri[0]), abs(ri[1]))
    return A.BinOp(op, left, right, ty), (-min(top, magnitude), min(top, magnitude))


def _bit_binop(op: str, left, li: Interval, right, ri: Interval, ty: DType):
    """`left op right` for the bitwise operators, kept defined: shift amounts
    in 0 .. MAX_SHIFT, a signed left shift of a non-negative value that cannot
    overflow, and int32 operands within +-2**29 so that the result stays
    within the magnitudes the other guards assume."""
    top = U32_MAX if not ty.signed else INT_SAFE // 2 - 1
    bounds = (0, top) if not ty.signed else (-INT_SAFE // 2, top)
    if op in ("<<", ">>"):
        if not within(ri, (0, MAX_SHIFT)):
            clip = lambda v: min(max(v, 0), MAX_SHIFT)  # noqa: E731
            right, ri = clamp(right, (0, MAX_SHIFT), ty), (clip(ri[0]), clip(ri[1]))
        if op == ">>":  # moves values toward 0 (or -1): monotone in the amount
            return A.BinOp(op, left, right, ty), (min(li[0] >> ri[0], li[0] >> ri[1]), max(li[1] >> ri[0], li[1] >> ri[1]))
        if not ty.signed:  # wraps, which is defined
            hi = li[1] << ri[1]
            return A.BinOp(op, left, right, ty), (li[0] << ri[0], hi) if hi <= U32_MAX else (0, U32_MAX)
        limit = top >> ri[1]
        if not within(li, (0, limit)):
            left, li = clamp(left, (0, limit), ty), (0, limit)
        return A.BinOp(op, left, right, ty), (li[0] << ri[0], li[1] << ri[1])
    if not within(li, bounds):
        left, li = clamp(left, bounds, ty), bounds
    if not within(ri, bounds):
        right, ri = clamp(right, bounds, ty), bounds
    nonneg = [iv for iv in (li, ri) if iv[0] >= 0]
    if op == "&" and nonneg:
        return A.BinOp(op, left, right, ty), (0, min(iv[1] for iv in nonneg))
    # both within [-2**k, 2**k - 1]: so is the result of & | ^
    k = max(max(iv[1], -iv[0] - 1, 0).bit_length() for iv in (li, ri))
    if len(nonneg) == 2:
        return A.BinOp(op, left, right, ty), (0, (1 << k) - 1)
    return A.BinOp(op, left, right, ty), (-(1 << k), (1 << k) - 1)


def invert_interval(iv: Interval, ty: DType) -> Interval:
    """The values of `~x` for x in `iv`: -x - 1, or U32_MAX - x unsigned."""
    if not ty.signed:
        return (U32_MAX - iv[1], U32_MAX - iv[0])
    return (-iv[1] - 1, -iv[0] - 1)


def _unsigned_result(op: str, li: Interval, ri: Interval) -> Interval:
    if op == "+":
        lo, hi = li[0] + ri[0], li[1] + ri[1]
    elif op == "-":
        lo, hi = li[0] - ri[1], li[1] - ri[0]
    elif op == "*":
        lo, hi = li[0] * ri[0], li[1] * ri[1]
    elif op == "//":
        lo, hi = 0, li[1]
    else:
        lo, hi = 0, min(li[1], ri[1])
    if lo < 0 or hi > U32_MAX:
        return (0, U32_MAX)  # unsigned arithmetic wraps: defined, but anything goes
    return (lo, hi)


def int_cast(operand, iv: Interval | None, source: DType, ty: DType):
    if source.is_float:
        lo = 0.0 if not ty.signed else -FLOAT_TO_INT_LIMIT
        guarded = A.Call("clamp", (operand, _float_const(lo, source), A.Const(FLOAT_TO_INT_LIMIT, source)), source)
        return A.Cast(ty, guarded, ty), (int(lo), int(FLOAT_TO_INT_LIMIT))
    if isinstance(operand, A.Const):
        value = operand.value
        return A.Const(value, ty), (value, value)
    if ty.signed:
        if source.signed:
            bounds = (-INT_SAFE, INT_SAFE)
            if not within(iv, bounds):
                operand, iv = clamp(operand, bounds, source), bounds
            return A.Cast(ty, operand, ty), iv
        if not within(iv, (0, INT_SAFE)):
            operand, iv = clamp(operand, (0, INT_SAFE), source), (0, INT_SAFE)
        return A.Cast(ty, operand, ty), iv
    # to unsigned: negative values wrap, which is defined
    return A.Cast(ty, operand, ty), (iv if iv and iv[0] >= 0 else (0, U32_MAX))


def _float_const(value: float, ty: DType) -> A.Expr:
    return A.Const(value, ty) if value >= 0 else A.Neg(A.Const(-value, ty), ty)


def guard_divisor(divisor: A.Expr, ty: DType) -> A.Expr:
    """`abs(d) + 1.0` unless d is a non-zero literal: float division stays finite."""
    if isinstance(divisor, A.Const) and divisor.value != 0:
        return divisor
    return A.BinOp("+", A.Call("abs", (divisor,), ty), A.Const(1.0, ty), ty)


def apply_guard(guard, arg: A.Expr, ty: DType) -> A.Expr:
    if guard is None:
        return arg
    if guard.kind == "abs":
        return A.Call("abs", (arg,), ty)
    if guard.kind == "abs_plus_one":
        return A.BinOp("+", A.Call("abs", (arg,), ty), A.Const(1.0, ty), ty)
    return A.Call("clamp", (arg, _float_const(guard.lo, ty), _float_const(guard.hi, ty)), ty)

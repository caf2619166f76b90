"""The jvp-vjp oracle's evidence: JAX's forward-mode derivative of a program
against its reverse-mode gradient, along one direction.

The loss is the gradient oracle's (backends.gradients): for the first
kernel, the sum of every element of every float Out and Acc array, as a
function of every float input array (`differentiability.gradient_inputs`),
at the launch inputs the forward run used. A direction v over those arrays
is drawn from the launch seed (`direction`). Forward mode (`jax.jvp` of the
outputs along v, each output's tangent summed on the host in float64) and
reverse mode (`jax.grad` of the loss: g, and <g, v> in float64) compute the
same number by two routes through JAX's differentiation rules: reverse mode
is forward mode linearised and transposed, so a wrong transpose rule, a
wrong batching of one under vmap, or XLA compiling one of the two programs
wrongly shows as a difference. Both run in one jitted function (one trace,
one compile); where it raises, each side runs alone to say which raised.

The two must agree within `tolerance`: a few hundred roundings of the
program's float type on the magnitudes both sums are made of (sum |g_i v_i|
and sum |tangent_j|; the two routes add the same terms in other orders) and
on the direction's size (sum |v_i|: a derivative that cancels keeps the
rounding of terms the sums no longer hold).
Where they do not, central finite differences of the loss along v (the
program's compiled forward function run twice more: no new compile; the
loss summed in float64) say which side is off (`verdict`); finite
differences never make a finding by themselves (they are only computed
beside a comparison, and consulted only where the two modes disagree).

`JVP_VJP_SKIPS` names why a sampled program is not compared; the campaign
counts them.
"""

from __future__ import annotations

import math

import numpy as np

from kernel_synth.grammar import ast as A
from kernel_synth.grammar.lowering import flat_params

from .differentiability import INTEGER_ONLY, gradient_inputs, gradient_outputs
from .outcome import JvpVjp

# Skip reasons. INTEGER_ONLY (differentiability's): no float input array or
# no float output array, nothing to differentiate. NOT_FINITE: a side gave
# inf or NaN, where the two modes may rightly differ: JAX documents that a
# `jnp.where` whose unselected branch has an infinite derivative gives NaN in
# reverse mode (its zero cotangent times inf) and not in forward mode (the
# select drops the branch's tangent) (JAX FAQ, "Gradients contain NaN where
# using where"); the rendering's guards are such wheres. BOTH_FAIL: neither
# mode ran (a finding only where one ran and the other raised).
NOT_FINITE = "not-finite"
BOTH_FAIL = "both-fail"
JVP_VJP_SKIPS = (INTEGER_ONLY, NOT_FINITE, BOTH_FAIL)

# Roundings of the program's float type allowed per unit of magnitude
# (measured: see grammar/SEMANTICS.md, "Forward and reverse mode")
JVP_VJP_ROUNDINGS = 256
# Finite differences: the step along v, and how close a side must be to them
# to be the one they side with (rtol on |fd|, atol on the magnitude), besides
# their rounding bound; the gradient oracle's finite-difference tolerance
FD_STEP = 2.0**-7
FD_TOLERANCE = (5e-2, 1e-2)
FD_ROUNDINGS = 8


def direction(shapes: list[tuple[tuple[int, ...], np.dtype]], seed: int) -> list[np.ndarray]:
    """A direction over arrays of these shapes and dtypes, drawn from `seed`:
    nonzero multiples of 1/4 in [-1, 1], so that h * v is exact for a
    power-of-two step h and inputs on a coarse grid stay on a grid."""
    rng = np.random.default_rng([seed, 0x6A7670])
    steps = np.array([-4, -3, -2, -1, 1, 2, 3, 4], dtype=np.float64) / 4
    return [rng.choice(steps, size=shape).astype(dtype) for shape, dtype in shapes]


def unit_roundoff(program: A.Program) -> float:
    """The machine epsilon of the program's float arithmetic: float64's when
    every float value of the kernel and its helpers is float64 (vectors,
    matrices and quaternions are float32), else float32's."""
    wide = narrow = False
    for definition in program.funcs + program.kernels:
        for node in A.walk(definition):
            ty = getattr(node, "ty", None)
            ty = getattr(ty, "elem", ty)
            if ty is None or not hasattr(ty, "is_float"):
                continue
            if ty.is_float and ty.name == "float64":
                wide = True
            elif ty.is_float or ty.is_vector or ty.is_matrix:
                narrow = True
    return float(np.finfo(np.float64 if wide and not narrow else np.float32).eps)


def tolerance(evidence: JvpVjp) -> float:
    """How far the two modes may be apart: JVP_VJP_ROUNDINGS roundings on
    the magnitudes their sums are made of, and on the direction's size: a
    derivative that cancels (cross(x, c) . c, normalize's) is a difference
    of terms the sums no longer hold, about one rounding of a unit-size term
    per element of v (jax 0.4.30, seed 61: forward mode 0, reverse mode
    6.0e-8 on a magnitude of 6.0e-8, finite differences 0)."""
    return JVP_VJP_ROUNDINGS * evidence.eps * (evidence.scale + evidence.reach)


def verdict(evidence: JvpVjp) -> str | None:
    """None where the two modes agree (or nothing is compared), else the
    finding's kind: `jvp-differs` where finite differences side with
    reverse mode, `vjp-differs` where they side with forward mode,
    `unresolved` where they side with neither or both (None where the two
    modes are closer than finite differences' rounding bound)."""
    if evidence.skipped or evidence.failed:
        return None
    if not (math.isfinite(evidence.jvp) and math.isfinite(evidence.vjp)):
        return None
    if abs(evidence.jvp - evidence.vjp) <= tolerance(evidence):
        return None
    if abs(evidence.jvp - evidence.vjp) <= evidence.fd_error:
        # a difference below finite differences' own rounding: rounding
        # inside the program (a Jacobian that maps v to nearly nothing, as
        # normalize's maps its own vector, is a difference of terms the
        # magnitude does not hold) is as likely as a wrong rule, and nothing
        # here can tell them apart, wherever finite differences land (across
        # normalize's jump at zero they side with neither)
        return None
    rtol, atol = FD_TOLERANCE

    def near(value: float) -> bool:
        return math.isfinite(evidence.fd) and abs(value - evidence.fd) <= rtol * abs(evidence.fd) + atol * evidence.scale + evidence.fd_error

    jvp_near, vjp_near = near(evidence.jvp), near(evidence.vjp)
    if jvp_near and not vjp_near:
        return "vjp-differs"
    if vjp_near and not jvp_near:
        return "jvp-differs"
    return "unresolved"


def jvp_vjp(jax, function, kernel: A.Kernel, args: list, forward, seed: int, eps: float, place=None) -> JvpVjp:
    """The evidence for one program: `function` is its rendering (taking
    `args`, the launch's arguments in flat_params order), `forward` the
    compiled forward function the backend ran, `place` puts a host array
    where `forward` takes its arguments (None: as it is)."""
    import jax.numpy as jnp

    params = flat_params(kernel.params)
    inputs, outputs = set(gradient_inputs(kernel)), gradient_outputs(kernel)
    positions = [k for k, p in enumerate(params) if p.name in inputs]
    if not positions or not outputs:
        return JvpVjp(skipped=INTEGER_ONLY)
    hosts = [np.asarray(args[k]) for k in positions]
    v = direction([(h.shape, h.dtype) for h in hosts], seed)

    def outs(diff, rest):
        full = list(rest)
        for k, value in zip(positions, diff):
            full[k] = value
        result = function(*full)
        return tuple(result[name] for name in outputs)

    def loss(diff, rest):
        return sum(jnp.sum(o) for o in outs(diff, rest))

    def forward_mode(diff, rest, tangent):
        return jax.jvp(lambda d: outs(d, rest), (diff,), (tangent,))[1]

    def reverse_mode(diff, rest):
        return jax.grad(loss)(diff, rest)

    def both(diff, rest, tangent):
        return forward_mode(diff, rest, tangent), reverse_mode(diff, rest)

    diff, rest, tangent = tuple(args[k] for k in positions), tuple(args), tuple(v)
    try:
        tangents, gradient = jax.jit(both)(diff, rest, tangent)
    except Exception as exc:
        return _which_failed(jax, forward_mode, reverse_mode, diff, rest, tangent, exc)
    tangents = [np.asarray(t, dtype=np.float64) for t in tangents]
    terms = [np.asarray(g, dtype=np.float64) * np.asarray(d, dtype=np.float64) for g, d in zip(gradient, v)]
    with np.errstate(all="ignore"):
        jvp = float(sum(np.sum(t) for t in tangents))
        vjp = float(sum(np.sum(t) for t in terms))
        scale = float(sum(np.sum(np.abs(t)) for t in tangents) + sum(np.sum(np.abs(t)) for t in terms))
    reach = float(sum(np.sum(np.abs(d), dtype=np.float64) for d in v))
    if not (math.isfinite(jvp) and math.isfinite(vjp) and math.isfinite(scale)):
        return JvpVjp(jvp=jvp, vjp=vjp, scale=scale, reach=reach, eps=eps, skipped=NOT_FINITE)
    fd, fd_error = _finite_difference(forward, kernel, args, positions, hosts, v, outputs, place)
    return JvpVjp(jvp=jvp, vjp=vjp, scale=scale, reach=reach, eps=eps, fd=fd, fd_error=fd_error)


def _which_failed(jax, forward_mode, reverse_mode, diff, rest, tangent, exc: Exception) -> JvpVjp:
    """Each mode alone, where the two together raised: the side that raises
    while the other runs, or BOTH_FAIL."""
    errors = {}
    for side, run in (("jvp", lambda: jax.jit(forward_mode)(diff, rest, tangent)), ("vjp", lambda: jax.jit(reverse_mode)(diff, rest))):
        try:
            jax.block_until_ready(run())
        except Exception as error:
            errors[side] = f"{type(error).__name__}: {error}".strip()
    if len(errors) == 1:
        side, message = next(iter(errors.items()))
        return JvpVjp(failed=side, message=message)
    return JvpVjp(skipped=BOTH_FAIL, message=errors.get("jvp") or f"{type(exc).__name__}: {exc}")


def _finite_difference(forward, kernel, args, positions, hosts, v, outputs, place) -> tuple[float, float]:
    """(L(x + h v) - L(x - h v)) / 2h on the compiled forward function, the
    loss summed in float64, and a bound on its rounding error (each output
    element rounded once in its own type, FD_ROUNDINGS times over for the
    operations just before it); NaN where a run raises."""
    losses, error = [], 0.0
    try:
        for sign in (1.0, -1.0):
            moved = list(args)
            for k, host, d in zip(positions, hosts, v):
                value = (host.astype(np.float64) + sign * FD_STEP * d.astype(np.float64)).astype(host.dtype)
                moved[k] = place(value) if place is not None else value
            result = forward(*moved)
            total = 0.0
            for name in outputs:
                out = np.asarray(result[name])
                with np.errstate(all="ignore"):
                    total += float(np.sum(out, dtype=np.float64))
                    error += float(np.finfo(out.dtype).eps) * float(np.sum(np.abs(out), dtype=np.float64))
            losses.append(total)
    except Exception:
        return math.nan, math.nan
    width = 2 * FD_STEP
    with np.errstate(all="ignore"):
        return (losses[0] - losses[1]) / width, FD_ROUNDINGS * error / width

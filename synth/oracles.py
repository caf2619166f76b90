"""Oracles: from an Outcome (and the reference's) to a Finding with a signature.

A finding is one of: renderer error (ours), codegen or native compile error,
crash, timeout, forward mismatch with the reference, gradient mismatch (Warp's
adjoint against JAX's grad and finite differences on the reference, see
backends.gradients), a JAX program's jitted outputs against its eager ones,
its threads under vmap against its threads in a loop, its forward-mode
derivative against its reverse-mode gradient (backends.jvp_vjp).
Its signature (backend, oracle, normalised message or
mismatch class) decides its bucket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from kernel_synth.backends.compare import compare_outputs
from kernel_synth.backends.gradients import PAIRS, disagreements, odd_one_out
from kernel_synth.backends.jvp_vjp import tolerance, verdict
from kernel_synth.backends.outcome import GradientResult, JvpVjp, Outcome, Stage, Status
from kernel_synth.backends.signature import normalise, signature
from kernel_synth.grammar import ast as A


class Oracle(StrEnum):
    RENDER = "render"  # always on: a renderer error is our bug
    COMPILE = "compile"
    CRASH = "crash"
    TIMEOUT = "timeout"
    FORWARD = "forward"
    NONDETERMINISM = "nondeterminism"
    GRADIENT = "gradient"
    # a warm worker and a fresh one (which first saw a compile fail, and runs
    # the programs in reverse order) must give the same outputs
    PROCESS_STATE = "process-state"
    # a JAX backend's jitted outputs and those of the same rendering run op by
    # op (jax.disable_jit) must agree (grammar/SEMANTICS.md, "jit and eager")
    JIT_EAGER = "jit-eager"
    # a JAX backend's program with its threads under vmap and the same
    # program with its threads in a fori_loop, one by one, must agree
    # (backends.jax_render's two thread forms; grammar/SEMANTICS.md)
    VMAP_LOOP = "vmap-loop"
    # a JAX backend's program compiled by XLA as configured by default and
    # under another configuration (backends.jax_backend.XLA_CONFIGS) must agree
    XLA_CONFIG = "xla-config"
    # a JAX backend's forward-mode derivative of a program's loss along a
    # direction (jax.jvp) and its reverse-mode gradient (jax.grad) dotted
    # with it must agree (backends.jvp_vjp; grammar/SEMANTICS.md)
    JVP_VJP = "jvp-vjp"


# The oracles that judge a share of a JAX backend's programs, in the order
# `judge` asks them, each with the backend option that sets its share (the
# same word prefixes its counts in a campaign's status: `eager_compared`)
SAMPLED_OPTIONS = {Oracle.JIT_EAGER: "eager", Oracle.VMAP_LOOP: "loop", Oracle.XLA_CONFIG: "xla", Oracle.JVP_VJP: "jvp"}

# The oracles a user can choose (`--oracles`)
ORACLES = tuple(o.value for o in Oracle if o is not Oracle.RENDER)
# Every oracle but the gradient one, which needs a backend with adjoints and
# JAX (synth.campaign.default_oracles adds it where both are there)
FORWARD_ORACLES = tuple(o for o in ORACLES if o != Oracle.GRADIENT)
# Which oracle judges each non-ok status.
STATUS_ORACLE = {
    Status.RENDER_ERROR: Oracle.RENDER,
    Status.CODEGEN_ERROR: Oracle.COMPILE,
    Status.COMPILE_ERROR: Oracle.COMPILE,
    Status.CRASH: Oracle.CRASH,
    Status.RUN_ERROR: Oracle.CRASH,
    Status.TIMEOUT: Oracle.TIMEOUT,
    Status.NONDETERMINISTIC: Oracle.NONDETERMINISM,
}


# Signatures already understood, with what they are (YARPGen's table of known
# messages): a campaign shows live how many findings fall outside them, which is
# where new bugs (or new mistakes of ours) are. The faulty test backend is
# warp-cpu underneath, so Warp's own bugs are known under its name too.
KNOWN_SIGNATURES: tuple[tuple[re.Pattern, str], ...] = (
    (
        re.compile(r":codegen:Error mutating a constant <id> inside a dynamic loop"),
        "documented Warp restriction on literal-initialised locals in dynamic loops; the renderer bridges it since it was found",
    ),
    (
        re.compile(
            r"^(faulty-)?warp-(cpu|cuda):(compile:RuntimeError: (CPU|CUDA) kernel build failed with error code <n>: "
            r"(no instance of overloaded function <q> matches the argument list|no matching function for call to <q>)"
            r"|codegen:array_store\(\) value argument type|codegen:Input types must be the same, got \[<q>, <q>\])"
        ),
        "Warp bug: no native overload for the types at hand (casting an unrolled loop variable retypes it: int64(j) makes later uses of j int64; atomic_max on uint32 before 1.8.0)",
    ),
    (
        re.compile(r"^(faulty-)?warp-(cpu|cuda):codegen:list index out of range$"),
        "Warp bug (1.19.0, still failing): `break` in a loop whose variable a wp.static() reads; the loop is unrolled and "
        "Warp's codegen finds no loop for the break to leave (corpora; NVIDIA/warp#692 reports the continue case)",
    ),
    (
        re.compile(r"^(faulty-)?warp-(cpu|cuda):codegen:Error, (assigning to existing symbol|augmented assignment to) .*(wp\.ref\[|<Reference object>)"),
        "Warp bug: a parallel assignment (`a, b = x[i], 0.0`) binds a name to an array element's or a struct field's "
        "reference instead of a copy, and a later assignment to the name is refused as a type change (corpora; the "
        "same binding without a copy gives wrong values when the name is then changed in a dynamic loop)",
    ),
    (
        re.compile(r"^(faulty-)?warp-(cpu|cuda):codegen:where\(\) true value type .* must be of the same type as the false type"),
        "Warp bug: a module constant read in an if and in its else is merged as if it were a variable assigned in both "
        "branches (corpora; where the merge compiles, it is set only inside an enclosing if and read uninitialised after it)",
    ),
    (
        re.compile(
            r"^(faulty-)?warp-(cpu|cuda):codegen:(Couldn<q>(\w+|<name>)' that matched inputs with types: \[vec\d"
            r"|The provided value is expected to be a scalar of type <id>"
            r"|atomic_(min|max|add|sub)\(\) value argument type \(vec\d)"
        ),
        "Warp bug of 1.9 to 1.18 (fixed in 1.19.0): a component of a vector module constant (`C.z`, C = wp.constant(wp.vec3(...))) "
        "is typed as the whole vector (corpora)",
    ),
    (
        re.compile(
            r"^(faulty-)?warp-(cpu|cuda):(codegen:(all values used to initialize this (matrix|vector) are expected to be of the type"
            r"|all values given when constructing a matrix must have the same type"
            r"|The function `<name>` has its return type annotated as `<id>` but the code returns a value of type `<id>`"
            r"|Input types must be the same, got \[<q>, <q>, <q>\])"
            r"|compile:RuntimeError: (CPU|CUDA) kernel build failed with error code <n>: call to <q> is ambiguous)"
        ),
        "Warp bug from 1.12.1 (still failing on 1.19.0): once a module constant has been cast (`float64(C)`, `int64(C)`), "
        "reads of C in the kernel, even earlier ones, take the cast's type: a mat33 or vec3 built from C, a helper "
        "returning C, or `clamp(C, -10.0, 10.0)` is refused, and `C // 0.5` or `0 * C` finds two native overloads (corpora)",
    ),
    (
        re.compile(r"^(faulty-)?warp-(cpu|cuda):codegen:must be real number, not vec\d"),
        "Warp bug of 1.7.0 to 1.12.0 (fixed in 1.12.1): negating a vector module constant in a kernel (`-C`, "
        "C = wp.constant(wp.vec3(...))) is evaluated as if C were a number (corpora)",
    ),
    (
        re.compile(r":codegen:Error evaluating static expression: name <q> is not defined"),
        "Warp bug: a wp.static() cannot read the variable of a loop that is not unrolled. On older releases a loop with "
        "break or continue (or more trips than max_unroll, before 1.10.1); from 1.17.0 (1.14.0 unrolls it) `range(C)` "
        "after an if/else that reads the module constant C in both branches, C being merged as a variable (corpora)",
    ),
    (
        re.compile(r"^(faulty-)?warp-cpu:compile:RuntimeError: CPU kernel build failed with error code <n>: use of undeclared identifier <q>(; did you mean <q>\?)?$"),
        "Warp bug (1.19.0): a @wp.func that calls wp.grad() is built in a later pass, and where another @wp.func "
        "calls it (by name, or passed for a wp.Function parameter) its native code is never declared (corpora; "
        "the same helper also gets no adjoint: gradients through it are silently zero)",
    ),
    (
        re.compile(r"^(faulty-)?warp-cpu:gradient-compile:RuntimeError: CPU kernel build failed with error code <n>: no matching function for call to <q>$"),
        "Warp bug before 1.19.0 (1.14.0 to 1.18.0 bisected, 1.8.1 too): tile_map(tanh, t) has no adjoint in the native code "
        "(`adj_tanh` of a tile), so the backward build of a program mapping tanh over a tile fails (corpora)",
    ),
    (
        re.compile(r"^(faulty-)?warp-cpu:compile:RuntimeError: CPU kernel build failed with error code <n>: use of undeclared label <q>"),
        "Warp bug before 1.1.0: `break` in a while loop jumps to a for-loop label that is never emitted (corpora, whilebreak)",
    ),
)


def recognised(signature: str) -> str | None:
    """What a known signature is, or None for one nobody has looked at yet."""
    for pattern, note in KNOWN_SIGNATURES:
        if pattern.search(signature):
            return note
    return None


@dataclass(frozen=True)
class Finding:
    backend: str
    oracle: Oracle
    stage: Stage
    signature: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "oracle", Oracle(self.oracle))
        object.__setattr__(self, "stage", Stage(self.stage))


def judge(backend: str, outcome: Outcome, reference: Outcome | None, oracles: frozenset[str]) -> Finding | None:
    """The finding this outcome is, if any, under the enabled oracles."""
    if outcome.status is Status.UNSUPPORTED:
        return None  # counted by the campaign, judged by no oracle
    if not outcome.ok:
        oracle = STATUS_ORACLE[outcome.status]
        if oracle is not Oracle.RENDER and oracle not in oracles:
            return None
        return Finding(backend, oracle, outcome.stage, signature(backend, outcome.stage, outcome.message), outcome.message)
    if Oracle.FORWARD in oracles and reference is not None and reference.ok and outcome.outputs is not None:
        # on a large launch the reference ran a sample of the threads: only
        # their elements are compared, and its Acc arrays not at all
        within = {"threads": reference.threads, "scales": reference.scales}
        differs = _differs(reference.outputs, outcome.outputs, **within)
        if differs is not None:
            kind, detail = differs
            message = f"forward mismatch with the reference: {detail}"
            if outcome.eager is not None and outcome.eager.ok:
                # which of the two runs the reference sides with says where
                # the bug is; the signature stays the forward one, so that it
                # does not depend on whether the program was run eagerly
                agrees = not compare_outputs(reference.outputs, outcome.eager.outputs, **within)
                message += " (the eager run agrees with the reference: jit only)" if agrees else " (the eager run differs from the reference too)"
            return Finding(backend, Oracle.FORWARD, Stage.RUN, f"{backend}:forward:{kind}", message)
    if Oracle.JIT_EAGER in oracles and outcome.eager is not None:
        found = judge_jit_eager(backend, outcome, outcome.eager)
        if found is not None:
            return found
    if Oracle.VMAP_LOOP in oracles and outcome.looped is not None:
        found = judge_vmap_loop(backend, outcome, outcome.looped)
        if found is not None:
            return found
    if Oracle.XLA_CONFIG in oracles:
        for config, configured in outcome.configured:
            found = judge_xla_config(backend, outcome, config, configured)
            if found is not None:
                return found
    if Oracle.JVP_VJP in oracles and outcome.jvp is not None:
        return judge_jvp_vjp(backend, outcome, outcome.jvp)
    return None


def judge_xla_config(backend: str, default: Outcome, config: str, configured: Outcome) -> Finding | None:
    """The xla-config finding, if a program compiled by XLA as configured by
    default and under `config` (same lowering, same inputs) disagrees, by the
    forward oracle's rule. The configuration is named in the message, not in
    the signature: a campaign compiles a program under one configuration and
    a shrink under all of them, and the finding must keep its signature.
    A configuration that fails where the default ran is `fails-config`."""
    # the default run is the one the forward oracle passed (judged first)
    return _judge_pair(
        backend, Oracle.XLA_CONFIG, default, configured, expected=default, failed=f"the default XLA configuration ran, {config} failed",
        fails="fails-config", differ=f"outputs under XLA configuration {config} differ from the default configuration's (expected: default)",
    )


def judge_jvp_vjp(backend: str, outcome: Outcome, evidence: JvpVjp) -> Finding | None:
    """The jvp-vjp finding, if a program's forward-mode derivative along v
    and its reverse-mode gradient dotted with v disagree beyond
    backends.jvp_vjp's tolerance: `<backend>:jvp-vjp:<kind>`, kind naming
    the side finite differences single out (`jvp-differs`, `vjp-differs`)
    or `unresolved`. A mode that raises where the other ran is
    `fails-jvp`/`fails-vjp:<normalised error>`. A skipped program (no float
    input or output, a side not finite, both modes raising) is none."""
    if not outcome.ok or evidence.skipped:
        return None
    if evidence.failed:
        other = "vjp" if evidence.failed == "jvp" else "jvp"
        return Finding(
            backend, Oracle.JVP_VJP, Stage.GRADIENT, f"{backend}:jvp-vjp:fails-{evidence.failed}:{normalise(evidence.message)}",
            f"{other} ran, {evidence.failed} failed: {evidence.message[:500]}",
        )
    kind = verdict(evidence)
    if kind is None:
        return None
    return Finding(
        backend, Oracle.JVP_VJP, Stage.GRADIENT, f"{backend}:jvp-vjp:{kind}",
        f"forward mode gives {evidence.jvp!r} along the direction, reverse mode {evidence.vjp!r} "
        f"(tolerance {tolerance(evidence):.3g} on magnitude {evidence.scale:.3g} and direction {evidence.reach:.3g}); finite differences {evidence.fd!r} (+- {evidence.fd_error:.3g})",
    )


def judge_vmap_loop(backend: str, vmapped: Outcome, looped: Outcome) -> Finding | None:
    """The vmap-loop finding, if a program's threads run under vmap and the
    same program's threads run one by one in a fori_loop (same inputs, both
    jitted) disagree: by the forward oracle's rule, the Acc arrays' float
    tolerance widened for the launch (their atomics add in another order).
    A loop run that raises where the vmapped one ran is `fails-loop`."""
    return _judge_pair(
        backend, Oracle.VMAP_LOOP, vmapped, looped, expected=looped, failed="the vmapped run ran, the loop run failed",
        fails="fails-loop", differ="vmapped outputs differ from the thread loop's (expected: loop)",
    )


def judge_jit_eager(backend: str, jitted: Outcome, eager: Outcome) -> Finding | None:
    """The jit-eager finding, if a program's jitted run and its eager run
    (the same rendering, same inputs) disagree.

    Judged only where the forward oracle found nothing (see `judge`): a
    program the reference already faults keeps its forward signature whether
    or not it was sampled for an eager run, which keeps the signature of a
    program the same in a campaign that samples and in a shrink that runs
    every candidate eagerly. The rule is backends.compare's, the forward
    oracle's own (grammar/SEMANTICS.md, "jit and eager"): integers exact,
    floats within the float tolerance, NaN only against NaN. An eager run
    that raises where the jitted one ran is a finding too (`fails-eager`).
    """
    return _judge_pair(
        backend, Oracle.JIT_EAGER, jitted, eager, expected=eager, failed="the jitted run ran, the eager run failed",
        fails="fails-eager", differ="jitted outputs differ from eager ones (expected: eager)",
    )


def _judge_pair(backend: str, oracle: Oracle, ran: Outcome, other: Outcome, *, expected: Outcome, failed: str, fails: str, differ: str) -> Finding | None:
    """The finding of an oracle that runs a program two ways (`ran`, the
    run the forward oracle judged, and `other`), if they disagree by the
    forward oracle's rule (`ran`'s scales; `expected` names the side taken
    as right in the message): `<backend>:<oracle>:<kind>`, or
    `<backend>:<oracle>:<fails>:<error>` when only `other` failed."""
    if not ran.ok or ran.outputs is None:
        return None
    if not other.ok:
        stage = other.stage if other.stage is not None else Stage.RUN
        return Finding(backend, oracle, stage, f"{backend}:{oracle}:{fails}:{normalise(other.message)}", f"{failed}: {other.message[:500]}")
    got = ran if expected is other else other
    differs = _differs(expected.outputs, got.outputs, scales=ran.scales)
    if differs is None:
        return None
    kind, detail = differs
    return Finding(backend, oracle, Stage.RUN, f"{backend}:{oracle}:{kind}", f"{differ}: {detail}")


def _differs(expected: dict, got: dict, threads=None, scales: dict[str, float] | None = None) -> tuple[str, str] | None:
    """How `got` differs from `expected` beyond the tolerances (only the
    elements of `threads` where given; `scales` as compare_outputs takes
    them): (mismatch class of the first difference, the first three
    differences), or None."""
    mismatches = compare_outputs(expected, got, threads=threads, scales=scales)
    if not mismatches:
        return None
    first = mismatches[0]
    return mismatch_class(first.expected, first.got, expected[first.array].dtype), "; ".join(str(m) for m in mismatches[:3])


def mismatch_class(expected, got, dtype) -> str:
    """A coarse name for how two values differ, stable across programs."""
    if np.issubdtype(dtype, np.integer):
        return "int-value"
    e, g = float(expected), float(got)
    if np.isnan(e) != np.isnan(g):
        return "nan"
    if np.isinf(e) != np.isinf(g) or (np.isinf(e) and e != g):
        return "inf"
    return "float-value"


def judge_state(backend: str, warm: Outcome, fresh: Outcome) -> Finding | None:
    """The process-state finding, if a program's outputs in a warm worker
    differ from those of a fresh worker (or it fails only in one of them)."""
    if warm.ok != fresh.ok:
        failed, where = (fresh, "fresh") if warm.ok else (warm, "warm")
        return Finding(
            backend, Oracle.PROCESS_STATE, Stage.RUN, f"{backend}:process-state:fails-{where}",
            f"fails only in the {where} worker: {failed.status}: {failed.message[:500]}",
        )
    if not warm.ok or warm.outputs is None or fresh.outputs is None:
        return None
    differs = _differs(fresh.outputs, warm.outputs, scales=fresh.scales)
    if differs is None:
        return None
    kind, detail = differs
    return Finding(
        backend, Oracle.PROCESS_STATE, Stage.RUN, f"{backend}:process-state:{kind}",
        f"a warm worker's outputs differ from a fresh worker's (expected: fresh): {detail}",
    )


def judge_gradient(backend: str, program: A.Program, result: GradientResult | Outcome) -> Finding | None:
    """The gradient finding a gradient checker's result is, if any.

    An excluded program is no finding. Warp failing to compile or run the
    backward pass (the forward pass compiled), or the checker's worker
    crashing, is one, signed like a compile error at stage `gradient-<stage>`.
    Otherwise every pair of available sources is compared; the signature is
    `<backend>:gradient:<kind>:<odd>`, where kind is the element type of the
    first disagreeing input array (with `-nan` or `-inf` when one side is not
    finite) and odd is the source the disagreements single out (warp, jax)
    or `mixed`; where only finite differences disagree, there is no finding. The message names every disagreeing pair.
    """
    if result.status in (Status.EXCLUDED, Status.UNSUPPORTED):
        return None  # unsupported: a construct the release lacks (static() before 1.4.0), as in `judge`
    if not result.ok:
        stage = (result.stage or Stage.COMPILE).in_gradient()
        return Finding(backend, Oracle.GRADIENT, stage, signature(backend, stage, result.message), result.message)
    gradients = result.sources
    skipped = dict(result.skipped)
    for name, values in gradients.get("jax", {}).items():
        # where JAX's gradient is not finite the point is singular for autodiff
        # itself (0 * inf in the chain rule, as pow at base 0 gives): no pair
        # is compared there (a campaign on 1.19.0 stored one such bucket)
        singular = ~np.isfinite(np.asarray(values, dtype=np.float64))
        skipped[name] = singular | np.asarray(skipped[name], dtype=bool) if name in skipped else singular
    found = disagreements(gradients, result.fd_error, skipped)
    if not found:
        return None
    odd = odd_one_out(set(found), set(gradients))
    if odd == "fd":
        # Warp and JAX agree and only finite differences differ: the step
        # crossed something the decisions do not record, or the reference
        # rounded; no finding of Warp's (a campaign on 1.10.0 stored one such
        # bucket: `length` of a vector passing near zero)
        return None
    first = next(iter(found.values()))[0]
    kernel = program.kernels[0]
    elem = next((p.ty.elem.name for p in kernel.params if p.name == first.array and hasattr(p.ty, "elem")), "array")
    kind = elem
    finite = np.isfinite([first.expected, first.got])
    if not finite.all():
        kind += "-nan" if np.isnan([first.expected, first.got]).any() else "-inf"
    parts = [
        f"{a} vs {b}: " + "; ".join(f"d/d{m.array}{list(m.index)}: {a} {m.got!r}, {b} {m.expected!r}" for m in mismatches[:3])
        for (a, b), mismatches in found.items()
    ]
    agreeing = [f"{a} and {b} agree" for a, b in PAIRS if a in gradients and b in gradients and (a, b) not in found]
    message = "gradient mismatch: " + " | ".join(parts)
    if agreeing:
        message += " (" + ", ".join(agreeing) + ")"
    for source, reason in result.unavailable.items():
        message += f"\n{source} unavailable: {reason}"
    return Finding(backend, Oracle.GRADIENT, Stage.GRADIENT, f"{backend}:gradient:{kind}:{odd}", message)

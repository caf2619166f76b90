"""The gradient oracle (backends/differentiability.py, backends/gradients.py,
synth.oracles.judge_gradient):
the differentiability rules on programs made for each, Warp's adjoint against
JAX's grad and finite differences on hand-written and generated programs, the
rules' exclusions being real Warp differences, and the campaign's use of it."""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pytest

from kernel_synth.backends import differentiability as D
from kernel_synth.backends import gradients as G
from kernel_synth.backends.inputs import make_inputs
from kernel_synth.backends.outcome import GradientResult
from kernel_synth.grammar import ast as A
from kernel_synth.backends.warp_release import WarpRelease
from kernel_synth.grammar import parse
from kernel_synth.grammar.sampling import draw_program
from kernel_synth.synth.oracles import Finding, judge_gradient


def _kernel(params: str, body: str, helpers: str = "") -> str:
    lines = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return f"{helpers}\n@kernel\ndef k({params}):\n    i = tid()\n{lines}\n"


SMOOTH = _kernel(
    "x: In[array[float32]], y: In[array[float32]], out: Out[array[float32]]",
    "out[i] = sin(x[i]) * x[i] + 2.0 * y[i]",
)
XO = "x: In[array[float32]], out: Out[array[float32]]"

# One program per rule, made to break that rule only.
RULE_PROGRAMS = {
    D.INTEGER_ONLY: [
        _kernel("x: In[array[int32]], out: Out[array[int32]]", "out[i] = x[i] * 2"),
        _kernel("x: In[array[float32]], out: Out[array[int32]]", "out[i] = i"),
    ],
    D.DYNAMIC_LOOP: [
        _kernel(XO + ", n: int32", "t = 0.0\nfor j in range(clamp(n, 0, 4)):\n    t = t + x[i]\nout[i] = t"),
        _kernel(XO, "t = 0.0\nc = 0\nwhile c < 3:\n    c += 1\n    t = t + x[i]\nout[i] = t"),
    ],
    D.LONG_LOOP: [
        _kernel(XO, "t = 0.0\nfor j in range(17):\n    t = t + x[i]\nout[i] = t"),
        _kernel(XO, "t = 0.0\nfor j in range(5):\n    for k in range(4):\n        t = t + x[i]\nout[i] = t"),
    ],
    D.BREAK_CONTINUE: [
        _kernel(XO, "t = 0.0\nfor j in range(4):\n    if j == 2:\n        break\n    t = t + x[i]\nout[i] = t"),
        _kernel(XO, "t = 0.0\nfor j in range(4):\n    if j == 2:\n        continue\n    t = t + x[i]\nout[i] = t"),
    ],
    D.HELPER_EFFECTS: [
        _kernel(
            XO + ", hits: Acc[array[int32]]",
            "t = x[i]\nif x[i] < 1.0 and bump(hits, x[i]) < 0.0:\n    t = t * 2.0\nout[i] = t",
            helpers="@func\ndef bump(h: Acc[array[int32]], v: float32) -> float32:\n    atomic_add(h, 0, 1)\n    return v * 2.0\n",
        ),
        # through a callee, under `or`, in a while condition
        _kernel(
            "x: In[array[float32]], acc: Acc[array[float32]]",
            "c = 0\nwhile c < 2 and (x[i] > 3.0 or g(x[i], acc) < 1.0):\n    c += 1",
            helpers="@func\ndef f(a: float32, h: Acc[array[float32]]) -> float32:\n    atomic_add(h, 0, a)\n    return a\n"
            "@func\ndef g(a: float32, h: Acc[array[float32]]) -> float32:\n    return f(a * a, h)\n",
        ),
    ],
    D.ATOMIC_MIN_MAX: [
        # finite differences are unavailable beside a grad call, and with them
        # the record of which value won
        _kernel("x: In[array[float32]], acc: Acc[array[float32]]", "atomic_max(acc, 0, x[i] * grad(sin, x[i]))"),
    ],
    D.INPLACE_MUL_DIV: [
        _kernel("x: In[array[float32]], y: InOut[array[float32]], out: Out[array[float32]]", "y[i] *= 2.0\nout[i] = x[i]"),
    ],
    D.ARRAY_OVERWRITE: [
        _kernel(XO, "out[i] = x[i]\nout[i] = sin(x[i])"),
        _kernel(XO, "for j in range(2):\n    out[i] = x[i] * float32(j)"),
        _kernel(XO, "if i == 0:\n    out[i] = x[i]\nelse:\n    out[i] = cos(x[i])"),
    ],
    D.INOUT_WRITE: [
        _kernel("x: In[array[float32]], y: InOut[array[float32]], out: Out[array[float32]]", "y[i] = x[i]\nout[i] = x[i] * y[i]"),
        # found by a campaign on 1.19.0: the backward pass branches on the written value
        _kernel(
            "x: In[array[vec2]], y: InOut[array[float32]], out: Out[array[float32]], s: float32",
            "if y[i] > 0.0:\n    out[i] = dot(x[i], x[i])\ny[i] += s",
        ),
    ],
    D.COMPONENT_REASSIGN: [
        _kernel("x: In[array[float32]], out: Out[array[vec3]]", "v = vec3(x[i], 1.0, 2.0)\nv.x = x[i] * x[i]\nout[i] = v"),
        _kernel("x: In[array[float32]], out: Out[array[vec3]]", "v = vec3(x[i], 1.0, 2.0)\nv[1] += x[i]\nout[i] = v"),
    ],
    D.ELEMENT_COMPONENT: [
        _kernel("x: In[array[float32]], out: Out[array[vec3]]", "out[i].y = x[i] * x[i]"),
        _kernel("x: In[array[float32]], out: Out[array[vec3]]", "out[i][2] = sin(x[i])"),
    ],
}

# Branches, kinks and singular points exclude no program: the points beside
# them are skipped one by one (backends.gradients.fd_gradients_checked).
PER_POINT_PROGRAMS = [
    _kernel("a: In[array[vec3]], out: Out[array[vec3]]", "out[i] = normalize(a[i])"),
    _kernel("a: In[array[vec3]], out: Out[array[float32]]", "out[i] = length(a[i])"),
    *(
        _kernel(XO, f"out[i] = {call}")
        for call in ("abs(x[i])", "floor(x[i])", "ceil(x[i])", "sign(x[i])", "min(x[i], 1.0)", "max(x[i], 1.0)",
                     "clamp(x[i], -1.0, 1.0)", "x[i] % 1.5", "x[i] // 1.5", "atan2(x[i], 1.0)", "float32(int32(clamp(x[i], -8.0, 8.0)))")
    ),
    _kernel(XO, "t = x[i]\nif x[i] > 0.5:\n    t = t * t\nout[i] = t"),
    _kernel(XO, "out[i] = x[i] * 2.0 if x[i] < 1.0 else x[i]"),
    _kernel(XO + ", s: float32", "t = x[i]\nif i > 1 and s > 0.0:\n    t = t * t\nout[i] = t"),
]


# Smooth programs: every rule passes, and Warp, JAX and finite differences agree.
SMOOTH_PROGRAMS = {
    "elementwise": SMOOTH,
    "constant loop carrying a local": _kernel(XO, "t = 0.0\nfor j in range(4):\n    t = t * 0.5 + sin(x[i] * float32(j + 1))\nout[i] = t"),
    "nested loops accumulating guarded reads": _kernel(
        XO, "t = 0.0\nfor j in range(3):\n    for k in range(2):\n        t += x[clamp(i + j - k, 0, len(x) - 1)] * cos(x[i])\nout[i] = t"
    ),
    "vec3 dot and cross": _kernel(
        "a: In[array[vec3]], b: In[array[vec3]], out: Out[array[float32]]", "out[i] = dot(a[i], b[i]) + dot(cross(a[i], b[i]), a[i] * 2.0)"
    ),
    "branches and ternary on the thread index": _kernel(
        XO, "t = x[i]\nif i % 2 == 0:\n    t = t * t\nelse:\n    t = cos(t) * t\nout[i] = t * 2.0 if i > 1 else tanh(t)"
    ),
    "helper with an integer branch": _kernel(
        XO + ", n: int32",
        "out[i] = f(sin(x[i]), 2.0, n)",
        helpers="@func\ndef f(a: float32, b: float32, m: int32) -> float32:\n    c = a * b\n    if m > 3:\n        c = c + a\n    return c\n",
    ),
    "atomics into Acc arrays": _kernel(
        "x: In[array[float32]], acc: Acc[array[float32]], accv: Acc[array[vec3]]",
        "atomic_add(acc, 0, x[i] * x[i])\natomic_sub(acc, i, sin(x[i]))\natomic_add(accv, 0, vec3(x[i], 1.0, x[i] * 3.0))",
    ),
    "mat33 times vec3": _kernel(
        "x: In[array[float32]], v: In[array[vec3]], m: In[array[mat33]], out: Out[array[vec3]]",
        "w = m[i] @ v[i]\nout[i] = w * x[i] + mat33(x[i], 1.0, 0.0, 0.0, x[i], 0.0, 0.0, 0.0, 1.0) @ v[i]",
    ),
    "float64 beside float32": _kernel(
        "x: In[array[float64]], y: In[array[float32]], out: Out[array[float64]], o2: Out[array[float32]]",
        "out[i] = sin(x[i]) * x[i] + float64(y[i]) * float64(0.5)\no2[i] = float32(x[i]) * y[i]",
    ),
    # Warp's adjoint of float // is zero, as JAX's of floor(a / b); the
    # quotients keep 1/16 away from their steps on quarter-step inputs
    "float floor division beside a smooth term": _kernel(
        XO, "out[i] = (x[i] + 0.125) // 1.7 * 0.5 + x[i] * x[i] + float32((float64(x[i]) + float64(0.125)) // float64(2.3))"
    ),
    # dynamic loops whose bodies assign only locals they declare: Warp's
    # reverse replay of each iteration sees the values the forward one did
    "dynamic loop with locals of its own and atomics": _kernel(
        "x: In[array[float32]], acc: Acc[array[float32]]",
        "for j in range(clamp(i + 2, 0, 4)):\n    u = x[i] * float32(j + 1)\n    u = sin(u) * x[i]\n"
        "    for k in range(2):\n        u = u * cos(x[clamp(i + k, 0, len(x) - 1)])\n    atomic_add(acc, 0, u * u)",
    ),
    "while with locals of its own and atomics": _kernel(
        "x: In[array[float32]], acc: Acc[array[float32]]",
        "c = 0\nwhile c < 3 and x[i] > -10.0:\n    c += 1\n    u = sin(x[i]) * x[i]\n    atomic_add(acc, i, u * u)",
    ),
    # a helper's atomics, wherever it is called but in a short-circuit operand
    "helper with atomics called plainly and in a condition": _kernel(
        "x: In[array[float32]], acc: Acc[array[float32]], out: Out[array[float32]]",
        "t = f(x[i], acc)\nif f(x[i] * 0.5, acc) < 100.0:\n    t = t + 1.0\nout[i] = t",
        helpers="@func\ndef f(a: float32, h: Acc[array[float32]]) -> float32:\n    atomic_add(h, 0, a * a)\n"
        "    atomic_sub(h, clamp(1, 0, len(h) - 1), sin(a))\n    return a * 2.0\n",
    ),
    "read-only InOut and vector components": _kernel(
        "x: InOut[array[float32]], a: In[array[vec3]], out: Out[array[float32]]", "v = a[i]\nout[i] = exp(x[i] * 0.25) + v.x * v[1] + sin(v.z)"
    ),
    # Warp's adjoint goes to the value that won; the points where a step
    # changes the winner are skipped
    "atomic min and max": _kernel(
        "x: In[array[float32]], lo: Acc[array[float32]], hi: Acc[array[float32]]", "atomic_min(lo, 0, x[i] * x[i] - 9.0)\natomic_max(hi, i, sin(x[i]) + 2.0)"
    ),
    # an InOut array only written reaches the loss nowhere, whatever it holds
    "write-only InOut": _kernel(
        "x: In[array[float32]], y: InOut[array[float32]], out: Out[array[float32]]", "y[i] = x[i] * x[i]\ny[i] += sin(x[i])\nout[i] = cos(x[i])"
    ),
}


# ---------------------------------------------------------------------- rules


@pytest.mark.parametrize("rule, text", [(rule, text) for rule, texts in RULE_PROGRAMS.items() for text in texts])
def test_each_rule_excludes_the_program_made_for_it(rule, text):
    program = parse(text)
    assert D.differentiability(program) == rule, (D.exclusions(program), text)
    if rule == D.INPLACE_MUL_DIV:  # only InOut arrays take `*=`, so the array is written too
        assert D.exclusions(program) == [rule, D.INOUT_WRITE]
    else:
        assert D.exclusions(program) == [rule], text


@pytest.mark.parametrize("name", sorted(SMOOTH_PROGRAMS))
def test_smooth_programs_pass_every_rule(name):
    assert D.exclusions(parse(SMOOTH_PROGRAMS[name])) == []


# Loops Warp does not unroll whose bodies assign a local bound outside them:
# the narrowed dynamic-loop rule must keep excluding
# every one. A local the body declares itself, a nested literal loop's
# variable and an array store or atomic are not such an assignment.
DYN = "range(clamp(n, 0, 4))"
XON = XO + ", n: int32"
CARRYING_LOOPS = {
    "reassigned": _kernel(XON, f"t = x[i]\nfor j in {DYN}:\n    t = t * 0.5\nout[i] = t"),
    "augmented": _kernel(XON, f"t = 0.0\nfor j in {DYN}:\n    t += x[i]\nout[i] = t"),
    "in a branch of the body": _kernel(XON, f"t = x[i]\nfor j in {DYN}:\n    if j > 1:\n        t = sin(t)\nout[i] = t"),
    "in a nested literal loop": _kernel(XON, f"t = x[i]\nfor j in {DYN}:\n    for k in range(2):\n        t = t * x[i]\nout[i] = t"),
    "an int index": _kernel(XON, f"m = 0\nfor j in {DYN}:\n    m = m + 1\nout[i] = x[clamp(m, 0, len(x) - 1)]"),
    "unpacked": _kernel(XON, f"a = x[i]\nb = 1.0\nfor j in {DYN}:\n    a, b = b, a\nout[i] = a * b"),
    "declared in the outer loop, reassigned in the inner": _kernel(
        XON + ", acc: Acc[array[float32]]",
        f"for j in {DYN}:\n    u = x[i]\n    for k in {DYN}:\n        u = u * x[i]\n    atomic_add(acc, 0, u)\nout[i] = x[i]",
    ),
    "declared after the loop too (Warp scopes names per function)": _kernel(
        XON + ", acc: Acc[array[float32]]", f"for j in {DYN}:\n    u = x[i] * 2.0\n    atomic_add(acc, 0, u)\nu = x[i]\nout[i] = u"
    ),
    "a while's body": _kernel(XO, "t = 0.0\nc = 0\nwhile c < 3:\n    c += 1\n    t = t * x[i]\nout[i] = t"),
    # Warp does not replay the loop backward: the counter is 0 there (a campaign on 1.19.0)
    "a while's counter read after it": _kernel(
        "x: In[array[vec3]], out: Out[array[float32]]", "v = x[i] * 2.0\nw = 0\nwhile w < 2:\n    w += 1\nout[i] = 1.0 / (v[clamp(w, 0, 2)] + 9.0)"
    ),
    "a helper's local": _kernel(
        XON,
        "out[i] = f(x[i], n)",
        helpers="@func\ndef f(a: float32, m: int32) -> float32:\n    b = a\n    for j in range(clamp(m, 0, 4)):\n        b = b * a\n    return b\n",
    ),
}
OWN_LOCAL_LOOPS = {
    "declared in the body": _kernel(
        XON + ", acc: Acc[array[float32]]", f"for j in {DYN}:\n    u = x[i] * float32(j)\n    u = u * u\n    atomic_add(acc, 0, u)\nout[i] = x[i]"
    ),
    "a nested literal loop on a body local": _kernel(
        XON + ", acc: Acc[array[float32]]",
        f"for j in {DYN}:\n    u = x[i]\n    for k in range(2):\n        u = u * x[i]\n    atomic_sub(acc, i, u)\nout[i] = x[i]",
    ),
    "a while counting alone": _kernel(XO, "c = 0\nwhile c < 3:\n    c += 1\n    u = x[i] * x[i]\nout[i] = x[i]"),
    "a helper's loop on its own locals": _kernel(
        XON,
        "out[i] = f(x[i], n)",
        helpers="@func\ndef f(a: float32, m: int32) -> float32:\n    for j in range(clamp(m, 0, 4)):\n        b = a * float32(j)\n    return a\n",
    ),
}


@pytest.mark.parametrize("name", sorted(CARRYING_LOOPS))
def test_a_dynamic_loop_that_assigns_an_outer_local_stays_excluded(name):
    assert D.differentiability(parse(CARRYING_LOOPS[name])) == D.DYNAMIC_LOOP, CARRYING_LOOPS[name]


@pytest.mark.parametrize("name", sorted(OWN_LOCAL_LOOPS))
def test_a_dynamic_loop_on_locals_of_its_own_is_compared(name):
    assert D.exclusions(parse(OWN_LOCAL_LOOPS[name])) == [], OWN_LOCAL_LOOPS[name]


def test_integer_index_arithmetic_is_not_non_smooth():
    # int clamps, %, // and casts int -> float carry no gradient: not excluded
    text = _kernel(XO, "j = (i + 1) % 3 // 1\nout[i] = x[clamp(j, 0, len(x) - 1)] * float32(max(abs(j), 1))")
    assert D.exclusions(parse(text)) == []


def test_rules_are_the_named_constants_and_helpers_are_checked_too():
    assert len(set(D.RULES)) == len(D.RULES)
    helper = "@func\ndef g(v: float32) -> float32:\n    w = vec3(v, 1.0, 2.0)\n    w.x = v * v\n    return w.x\n"
    assert D.exclusions(parse(_kernel(XO, "out[i] = g(x[i])", helpers=helper))) == [D.COMPONENT_REASSIGN]
    assert D.exclusions(parse(_kernel(XO, "out[i] = x[i]", helpers=helper))) == []  # not reachable from the kernel


@pytest.mark.parametrize("text", PER_POINT_PROGRAMS)
def test_kinks_and_branches_exclude_no_program(text):
    assert D.exclusions(parse(text)) == []


def test_rules_lift_on_the_release_that_documents_the_adjoint():
    overwrite = parse(RULE_PROGRAMS[D.ARRAY_OVERWRITE][0])
    component = parse(RULE_PROGRAMS[D.COMPONENT_REASSIGN][0])
    assert D.differentiability(overwrite) == D.ARRAY_OVERWRITE  # no release: every rule
    assert D.differentiability(overwrite, WarpRelease("1.12.1")) == D.ARRAY_OVERWRITE
    assert D.differentiability(overwrite, WarpRelease("1.13.0")) is None
    # the gradient oracle builds with wp.config.enable_vector_component_overwrites
    assert D.differentiability(component, WarpRelease("1.6.2")) == D.COMPONENT_REASSIGN
    assert D.differentiability(component, WarpRelease("1.7.0")) is None
    element = parse(RULE_PROGRAMS[D.ELEMENT_COMPONENT][0])
    assert D.differentiability(element, WarpRelease("1.19.0")) == D.ELEMENT_COMPONENT  # never lifted


def test_a_tile_operation_warp_does_not_differentiate_excludes_on_every_release():
    for call in ("tile_sum(tile_full(x[i], 4))", "tile_max(tile_load(x, i, 2))", "tile_min(tile_load(x, i, 2))"):
        program = parse(_kernel(XO, f"out[i] = {call}"))
        assert D.exclusions(program) == [D.TILE_NOT_DIFFERENTIABLE], call
        assert D.exclusions(program, WarpRelease("1.8.1")) == [D.TILE_NOT_DIFFERENTIABLE], call
    assert D.exclusions(parse(TILE_PROGRAMS["matmul and get"])) == []


def test_tile_programs_are_checked_on_a_launch_their_tiles_fit():
    tiles = parse(TILE_PROGRAMS["map and sum"])
    assert G.gradient_launch(tiles) == 8 and G.gradient_launch(tiles, 16) == 16
    assert G.gradient_launch(parse(SMOOTH)) == G.GRADIENT_LAUNCH


def test_no_point_is_compared_where_an_atomic_min_or_max_meets_an_equal_value():
    # the same value twice into one element: Warp passes the whole adjoint to
    # each call, JAX a share; no convention of the language decides
    from kernel_synth.backends.gradients import fd_gradients_checked

    tied = parse(_kernel("x: In[array[float32]], acc: Acc[array[float32]]", "atomic_min(acc, i, x[i] - 9.0)\natomic_min(acc, i, x[i] - 9.0)"))
    assert fd_gradients_checked(tied, 4, 0)[2]["x"].all()
    once = parse(_kernel("x: In[array[float32]], acc: Acc[array[float32]]", "atomic_min(acc, i, x[i] - 9.0)"))
    assert not fd_gradients_checked(once, 4, 0)[2]["x"].any()


def test_a_grad_call_beside_a_zero_divisor_is_compared_at_no_point():
    # finite differences are unavailable beside grad(f, x); the run's zero
    # divisor still makes the program undefined for every source
    from kernel_synth.backends.gradients import GradientUnavailable, GradientUndefined, fd_gradients_checked

    zero = parse(_kernel(XO, "v = x[i] / 0.0\nout[i] = x[i] * grad(cos, 0.5)"))
    with pytest.raises(GradientUndefined):
        fd_gradients_checked(zero, 4, 0)
    with pytest.raises(GradientUnavailable) as info:
        fd_gradients_checked(parse(_kernel(XO, "out[i] = x[i] * grad(cos, 0.5)")), 4, 0)
    assert not isinstance(info.value, GradientUndefined)


def test_points_beside_a_kink_are_skipped_and_the_rest_compared():
    # x from make_inputs; abs has its kink at 0 and the branch flips at 0.5:
    # a point is skipped exactly when x - h < kink < x + h for one of them
    from kernel_synth.backends.gradients import FD_STEP, _step, fd_gradients_checked
    from kernel_synth.backends.inputs import make_inputs

    program = parse(_kernel(XO, "t = abs(x[i])\nif x[i] > 0.5:\n    t = t * t\nout[i] = t"))
    x = make_inputs(program.kernels[0], 64, 3)["x"].astype(np.float64)
    _, _, skipped = fd_gradients_checked(program, 64, 3)
    near = np.array([any(v - _step(v, FD_STEP) < k < v + _step(v, FD_STEP) or v == k for k in (0.0, 0.5)) for v in x])
    assert near.any() and (~near).any()
    np.testing.assert_array_equal(skipped["x"], near)


def test_floor_division_steps_and_zero_divisors_are_skipped():
    """A point whose step crosses an integer of x / 0.75 is skipped (float
    `//`, a decision like floor's); every point of a run with a zero float
    divisor is, however smooth the rest."""
    from kernel_synth.backends.gradients import FD_STEP, _step, fd_gradients_checked
    from kernel_synth.backends.inputs import make_inputs

    program = parse(_kernel(XO, "out[i] = x[i] // 0.75 + x[i] * x[i]"))
    x = make_inputs(program.kernels[0], 64, 3)["x"]
    _, _, skipped = fd_gradients_checked(program, 64, 3)
    steps = [(np.floor(np.float32(v - _step(v, FD_STEP)) / np.float32(0.75)), np.floor(np.float32(v + _step(v, FD_STEP)) / np.float32(0.75))) for v in x]
    crossing = np.array([low != high for low, high in steps])
    assert crossing.any() and (~crossing).any()
    np.testing.assert_array_equal(skipped["x"], crossing)
    # thread 0 divides by float32(0): nothing is compared, not even x * x
    zero = parse(_kernel(XO, "out[i] = x[i] * x[i] + x[i] / float32(i)"))
    gradients, _, skipped = fd_gradients_checked(zero, 4, 3)
    assert skipped["x"].all()
    # nor where an operation overflowed (inf, then inf - inf = NaN, flows as after a zero divisor)
    overflow = parse(_kernel(XO, "v = x[i] * 1.0e30\nv = v * 1.0e30\nout[i] = x[i] * x[i] + (0.0 if v - v != v - v else 1.0)"))
    _, _, skipped = fd_gradients_checked(overflow, 4, 3)
    assert skipped["x"].all()
    _, _, skipped = fd_gradients_checked(parse(_kernel(XO, "v = x[i] * 1.0e30\nout[i] = x[i] * x[i] + (0.0 if v - v != v - v else 1.0)")), 4, 3)
    assert not skipped["x"].any()  # 1e30 alone is finite: compared


def test_inputs_and_outputs_of_the_loss():
    program = parse(
        _kernel(
            "a: In[array[float32]], b: InOut[array[float32]], c: InOut[array[float32]], d: In[array[int32]], "
            "o: Out[array[vec3]], acc: Acc[array[float32]], oi: Out[array[int32]], s: float32",
            "c[i] = 1.0\no[i] = vec3(a[i], b[i], s)\natomic_add(acc, 0, a[i])\noi[i] = d[i]",
        )
    )
    kernel = program.kernels[0]
    assert D.gradient_inputs(kernel) == ["a", "b"]  # c is written, d is int, s is a scalar
    assert D.gradient_outputs(kernel) == ["o", "acc"]


def test_generated_programs_pass_the_filter_often_enough():
    passed = sum(D.differentiability(draw_program(0, i)) is None for i in range(200))
    assert passed >= 20  # about a fifth with the default weights


# ------------------------------------------------------------------ comparing


def test_compare_gradients_scales_and_treats_nan():
    a = {"x": np.array([1.0, 100.0, np.nan])}
    assert G.compare_gradients(a, {"x": np.array([1.0 + 1e-5, 100.0, np.nan])}, 1e-3, 1e-4) == []
    assert G.compare_gradients(a, {"x": np.array([1.05, 100.0, np.nan])}, 1e-3, 1e-4)[0].index == (0,)
    assert G.compare_gradients(a, {"x": np.array([1.0, 100.0, 0.0])}, 1e-3, 1e-4)[0].index == (2,)
    assert G.compare_gradients(a, {}, 1e-3, 1e-4)[0].array == "x"


def _outcome(warp, jax, fd):
    sources, unavailable = {}, {}
    for source, values in (("warp", warp), ("jax", jax), ("fd", fd)):
        if values is None:
            unavailable[source] = "not computed in this test"
        else:
            sources[source] = {"x": np.asarray(values, dtype=np.float32)}
    return GradientResult("ok", "gradient", sources=sources, unavailable=unavailable)


def test_judge_gradient_names_the_odd_source_and_the_pairs():
    program = parse(SMOOTH)
    assert judge_gradient("warp-cpu", program, _outcome([1, 2], [1, 2], [1, 2])) is None
    assert judge_gradient("warp-cpu", program, GradientResult("excluded", "gradient", D.DYNAMIC_LOOP)) is None
    # a construct the release lacks is unsupported there, never a finding (static() on 1.0.2)
    unsupported = GradientResult("unsupported", "render", "static() needs warp-lang >= 1.4.0 (wp.static(expr))")
    assert judge_gradient("warp-cpu", program, unsupported) is None
    finding = judge_gradient("warp-cpu", program, _outcome([1, 3], [1, 2], [1, 2.01]))
    assert isinstance(finding, Finding) and finding.oracle == "gradient"
    assert finding.signature == "warp-cpu:gradient:float32:warp"
    assert "warp vs jax" in finding.message and "warp vs fd" in finding.message and "jax and fd agree" in finding.message
    assert judge_gradient("warp-cpu", program, _outcome([1, 2], [1, 3], [1, 2])).signature.endswith(":jax")
    assert judge_gradient("warp-cpu", program, _outcome([1, 2], [1, 2], [1, 5])) is None  # only finite differences differ
    # JAX not finite: a singular point for autodiff itself, compared nowhere
    assert judge_gradient("warp-cpu", program, _outcome([1, np.nan], [1, np.nan], [1, 0.0])) is None
    assert judge_gradient("warp-cpu", program, _outcome([5, np.nan], [1, np.nan], [1, 0.0])).signature.endswith(":warp")
    assert judge_gradient("warp-cpu", program, _outcome([1, 2], None, [1, 5])).signature.endswith(":mixed")
    assert judge_gradient("warp-cpu", program, _outcome([1, np.nan], [1, 2], [1, 2])).signature == "warp-cpu:gradient:float32-nan:warp"
    failed = judge_gradient("warp-cpu", program, GradientResult("codegen_error", "codegen", "Error while parsing function 'k_p0': x"))
    assert failed.signature.startswith("warp-cpu:gradient-codegen:")


# --------------------------------------------------------- the three sources


@pytest.fixture(scope="module")
def checker(tmp_path_factory):
    return G.GradientChecker(tmp_path_factory.mktemp("gradients"))


def _sources(result: GradientResult) -> dict:
    assert result.ok, (result.status, result.message)
    assert not result.unavailable, result.unavailable  # every source gave gradients
    assert set(result.sources) == {"warp", "jax", "fd"}
    return result.sources


@pytest.mark.compiler
def test_hand_written_smooth_programs_agree(checker):
    names = sorted(SMOOTH_PROGRAMS)
    outcomes = checker.check([parse(SMOOTH_PROGRAMS[n]) for n in names], launch=4, seed=0, every_source=True)
    for name, outcome in zip(names, outcomes):
        found = _sources(outcome)
        assert G.disagreements(found) == {}, name
        assert any(np.any(g != 0) for g in found["warp"].values()), name
    # the first against its closed form: d/dx = x cos x + sin x, d/dy = 2
    found = _sources(outcomes[names.index("elementwise")])
    x = make_inputs(parse(SMOOTH).kernels[0], 4, 0)["x"].astype(np.float64)
    np.testing.assert_allclose(found["warp"]["x"], x * np.cos(x) + np.sin(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(found["warp"]["y"], 2.0)


# Programs each rule excludes, on which Warp's adjoint really differs from
# both JAX and finite differences (which agree): the documented limitations.
WARP_DIFFERS = {
    D.DYNAMIC_LOOP: _kernel(XO + ", n: int32", "t = 1.0\nfor j in range(clamp(n, 0, 4)):\n    t = t * x[i]\nout[i] = t"),
    D.LONG_LOOP: _kernel(XO, "t = 1.0\nfor j in range(20):\n    t = t * 0.9 + sin(x[i]) * t\nout[i] = t"),
    D.BREAK_CONTINUE: _kernel(XO, "t = 1.0\nfor j in range(4):\n    if j == 2:\n        break\n    t = t * x[i]\nout[i] = t"),
    D.INPLACE_MUL_DIV: _kernel(
        "x: In[array[float32]], y: InOut[array[float32]], out: Out[array[float32]]", "y[i] *= x[i]\ny[i] *= x[i]\nout[i] = y[i]"
    ),
    D.INOUT_WRITE: RULE_PROGRAMS[D.INOUT_WRITE][1],
    # a Warp bug, not a documented limitation (backends/differentiability.py):
    # the adjoint of a helper's atomic in an `and` that came out false is lost
    D.HELPER_EFFECTS: _kernel(
        "x: In[array[float32]], acc: Acc[array[float32]]",
        "if 1.0 > 0.0 and f(x[i], acc) < 0.0:\n    pass",
        helpers="@func\ndef f(a: float32, h: Acc[array[float32]]) -> float32:\n    atomic_add(h, 0, a)\n    return 0.0\n",
    ),
}
# a release that evaluates both operands of `and` cannot render a side effect
# in the right one: the program is unsupported there, not compared
NEEDS_SHORT_CIRCUIT = {D.HELPER_EFFECTS}


@pytest.mark.compiler
def test_the_rules_exclude_real_warp_differences(checker):
    rules = sorted(WARP_DIFFERS)
    programs = [parse(WARP_DIFFERS[r]) for r in rules]
    assert [D.differentiability(p) for p in programs] == rules
    assert all(o.status == "excluded" for o in checker.compile(programs, launch=4, seed=0))
    for rule, program, outcome in zip(rules, programs, checker.check(programs, launch=4, seed=0, rules=False, every_source=True)):
        if outcome.status == "unsupported" and rule in NEEDS_SHORT_CIRCUIT:
            continue
        found = _sources(outcome)
        pairs = set(G.disagreements(found))
        assert G.odd_one_out(pairs, set(found)) == "warp", (rule, pairs)


COMPONENT_TWICE = _kernel(
    "x: In[array[float32]], out: Out[array[vec3]]", "v = vec3(x[i], 1.0, 2.0)\nv.x = v.x * x[i]\nv.x = v.x * x[i]\nout[i] = v"
)


@pytest.mark.compiler
def test_component_reassignments_agree_under_warps_overwrite_switch(checker):
    """Warp documents one assignment per component unless
    wp.config.enable_vector_component_overwrites is on, which the checker
    sets: with it, Warp agrees; without it, Warp alone differs."""
    program = parse(COMPONENT_TWICE)
    config = checker.compiler.wp.config
    assert config.enable_vector_component_overwrites
    (outcome,) = checker.check([program], launch=4, seed=0, every_source=True)
    assert G.disagreements(_sources(outcome)) == {}
    try:
        config.enable_vector_component_overwrites = False
        # another kernel name: a module of its own, built with the switch off
        (outcome,) = checker.check([parse(COMPONENT_TWICE.replace("def k(", "def k_off("))], launch=4, seed=0, rules=False, every_source=True)
    finally:
        config.enable_vector_component_overwrites = True
    found = _sources(outcome)
    assert G.odd_one_out(set(G.disagreements(found)), set(found)) == "warp"


TILE_PROGRAMS = {
    "map and sum": _kernel(XO + ", y: In[array[float32]]", "out[i] = tile_sum(tile_map(mul, tile_load(x, i - 1, 8), tile_load(y, i, 8))) * x[i]"),
    "matmul and get": _kernel(
        XO + ", y: In[array[float32]]", "out[i] = tile_get(tile_matmul(tile_map(sin, tile_load(x, i, 4)), tile_load(y, 2 * i, 4)), i, i + 1)"
    ),
    # the kinks of abs inside a tile are skipped point by point, as a scalar abs's
    "abs in a tile": _kernel(XO, "out[i] = tile_sum(tile_map(abs, tile_load(x, i, 2))) + tile_get(tile_map(max, tile_load(x, 0, 4), tile_load(x, i, 4)), 1, 1)"),
}


@pytest.mark.compiler
def test_tile_gradients_agree(checker):
    names = sorted(TILE_PROGRAMS)
    programs = [parse(TILE_PROGRAMS[n]) for n in names]
    assert [D.exclusions(p, checker.compiler.release) for p in programs] == [[]] * len(names)
    for name, outcome in zip(names, checker.check(programs, seed=0, every_source=True)):
        found = _sources(outcome)
        assert G.disagreements(found, outcome.fd_error, outcome.skipped) == {}, name
        assert all(g.shape == (8,) for g in found["warp"].values()), name  # the launch the tiles fit
        assert any(np.any(g != 0) for g in found["warp"].values()), name


@pytest.mark.compiler
def test_a_tile_operation_warp_does_not_differentiate_has_a_zero_adjoint(checker):
    program = parse(_kernel(XO, "out[i] = tile_sum(tile_full(x[i] + 3.75, 4)) + x[i]"))
    assert D.differentiability(program, checker.compiler.release) == D.TILE_NOT_DIFFERENTIABLE
    (outcome,) = checker.check([program], seed=0, rules=False, every_source=True)
    found = _sources(outcome)
    np.testing.assert_allclose(found["warp"]["x"], 1.0)  # the tile's 4 lost
    np.testing.assert_allclose(found["jax"]["x"], 5.0)
    assert G.odd_one_out(set(G.disagreements(found)), set(found)) == "warp"


GENERATED = 30


def _float_modulo(program) -> bool:
    """Whether `program` has a float `%`: Warp's adjoint for its divisor is
    zero (a known Warp bug: corpora/warp-cpu/warp-cpu-gradient-float32-warp-bacc7670)."""
    return any(isinstance(n, A.BinOp) and n.op == "%" and n.ty.is_float for n in A.walk(program))


def _renders_on(program, release) -> bool:
    """Whether the installed Warp release can run `program` as the language defines it."""
    from kernel_synth.backends.errors import Unsupported
    from kernel_synth.backends.warp_render import render_warp

    try:
        render_warp(program, release=release)
    except Unsupported:
        return False
    return True


@pytest.mark.compiler
def test_generated_programs_that_pass_the_filter_agree(checker):
    from kernel_synth.backends.warp_release import NEWEST, installed

    release = installed() or NEWEST
    programs, drawn = [], 0
    while len(programs) < GENERATED:
        program = draw_program(0, drawn)
        drawn += 1
        # a program the release cannot run (a static() before 1.4.0) is unsupported there, not compared
        if D.differentiability(program, release) is None and not _float_modulo(program) and _renders_on(program, release):
            programs.append(program)
    assert drawn <= 6 * GENERATED  # the filter passes about a fifth of the default distribution
    outcomes = checker.check(programs, launch=4, seed=0, every_source=True)
    disagreeing = []
    for program, outcome in zip(programs, outcomes):
        found = _sources(outcome)
        if G.disagreements(found, outcome.fd_error, outcome.skipped):
            disagreeing.append(program)
    assert disagreeing == []


# ------------------------------------------------------------- the campaign


def test_state_without_gradient_fields_loads():
    from kernel_synth.synth.campaign import State

    old = State(seed=3).to_json()
    for key in ("gradient_checked", "gradient_eligible", "gradient_excluded", "gradient_unavailable"):
        del old[key]
    state = State.from_json(json.loads(json.dumps(old)))
    assert state.gradient_checked == 0 and state.gradient_excluded == {}
    state.gradient_excluded[D.DYNAMIC_LOOP] = 2
    assert State.from_json(json.loads(json.dumps(state.to_json()))).gradient_excluded == {D.DYNAMIC_LOOP: 2}


@pytest.mark.compiler  # the backend must be installed before its options are judged
def test_gradient_oracle_needs_a_warp_cpu_backend(tmp_path):
    from kernel_synth.synth.campaign import Campaign, CampaignConfig, CampaignError

    with pytest.raises(CampaignError, match="gradient"):
        Campaign(CampaignConfig(budget=1, backends=("jax-cpu",), corpus=tmp_path, oracles=frozenset({"gradient"})))


@pytest.mark.compiler
def test_a_gradient_oracle_without_jax_is_refused_at_start(tmp_path, monkeypatch):
    """A JAX that does not import (missing, or broken by the numpy beside it)
    is said once, up front, and never becomes a finding."""
    from kernel_synth.synth.campaign import Campaign, CampaignConfig, CampaignError

    monkeypatch.setitem(sys.modules, "jax", None)  # `import jax` now fails
    with pytest.raises(CampaignError, match="JAX does not import here"):
        Campaign(CampaignConfig(budget=1, backends=("warp-cpu",), corpus=tmp_path, oracles=frozenset({"gradient"})))
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.compiler
def test_campaign_counts_exclusions_and_stores_an_injected_gradient_fault(tmp_path, monkeypatch):
    from kernel_synth.synth.campaign import Campaign, CampaignConfig
    from kernel_synth.synth.corpus import find_cases, read_case
    from kernel_synth.synth.replay import ReplayStatus, replay

    monkeypatch.setenv("KERNEL_SYNTH_FAULTS", "wronggrad:sin")
    config = CampaignConfig(
        budget=60, backends=("faulty-warp-cpu",), corpus=tmp_path / "corpus", oracles=frozenset({"gradient"}), shrink_tests=6, workers=1
    )
    campaign = Campaign(config)
    candidates = [(0, parse(SMOOTH)), (1, parse(RULE_PROGRAMS[D.ATOMIC_MIN_MAX][0])), (2, parse(RULE_PROGRAMS[D.DYNAMIC_LOOP][0]))]
    candidates.append((3, parse(SMOOTH_PROGRAMS["vec3 dot and cross"])))  # no sin: no fault
    try:
        campaign.gradients("faulty-warp-cpu", candidates, time.monotonic() + 120)
        assert campaign.state.gradient_checked == 0  # checked beside the fuzzing
        campaign.collect_side_checks(block=True)
    finally:
        campaign.close()
    state = campaign.state
    assert state.gradient_excluded == {D.ATOMIC_MIN_MAX: 1, D.DYNAMIC_LOOP: 1}
    assert state.gradient_eligible == 2 and state.gradient_checked == 2
    assert list(state.buckets) == ["faulty-warp-cpu:gradient:float32:warp"]
    summary = campaign.summary(1.0)["gradient"]
    assert summary["checked"] == 2 and summary["findings"] == 1 and summary["excluded"][D.DYNAMIC_LOOP] == 1
    cases = find_cases([config.corpus])
    assert len(cases) == 1
    header = read_case(cases[0]).header
    assert header.oracle == "gradient" and header.launch == 4
    [result] = replay([config.corpus])
    assert result.status is ReplayStatus.STILL_FAILING, result


@pytest.mark.compiler
def test_beside_a_grad_call_a_point_at_a_kink_is_skipped(checker):
    """Ours, from a campaign on 1.19.0 (seed 404): with grad(f, x) in the
    program, finite differences give no gradient, and Warp (0) was compared
    with JAX (0.5) at a clamp's bound (the input 1.5, exactly). The steps
    still tell where a decision changes; those points are skipped."""
    program = parse(_kernel(XO, "v0 = grad(sin, 0.0)\nout[i] = clamp(x[i], 0.0, 1.5)"))
    values = make_inputs(program.kernels[0], G.GRADIENT_LAUNCH, 404)["x"].tolist()
    assert 1.5 in values  # the launch's inputs meet the bound
    [result] = checker.check([program], seed=404)
    assert "fd" in result.unavailable and "jax" in result.sources
    assert result.skipped["x"].tolist() == [v in (0.0, 1.5) for v in values]
    assert judge_gradient("warp-cpu", program, result) is None


def test_the_gradient_backlog_goes_out_when_a_check_ends_while_a_batch_compiles():
    """The next check must not wait for the batch to settle: the gradient
    worker would sit idle until then."""
    import threading
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    from kernel_synth.synth.campaign import Campaign
    from kernel_synth.synth.oracles import Oracle

    sent = threading.Event()

    class Triage:
        def gradients(self, backend, programs):
            sent.set()
            return []

    campaign = Campaign.__new__(Campaign)  # the scheduling alone: no workers
    in_flight, outcomes = Future(), Future()
    campaign.side_checks = [(Oracle.GRADIENT, [], in_flight)]
    campaign.gradient_backlog = {"warp-cpu": deque([(7, parse(SMOOTH))])}
    campaign.side_thread, campaign.triage, campaign.deadline = ThreadPoolExecutor(1), Triage(), float("inf")
    order = []

    def meanwhile():
        in_flight.set_result([])
        order.append(("sent before the batch", sent.wait(5)))
        outcomes.set_result(["the batch's outcomes"])

    helper = threading.Thread(target=meanwhile)
    helper.start()
    try:
        assert campaign.outcomes_of(outcomes) == ["the batch's outcomes"]
    finally:
        helper.join()
        campaign.side_thread.shutdown()
    assert order == [("sent before the batch", True)]
    assert not campaign.gradient_backlog["warp-cpu"] and len(campaign.side_checks) == 2



def test_gradient_share_sends_the_programs_its_hash_chooses_and_counts_the_rest():
    """A share below one leaves eligible programs unchecked, the same ones
    whatever the order (chosen by each program's text), and says how many."""
    from collections import deque

    from kernel_synth.grammar.queries import in_share
    from kernel_synth.synth.campaign import Campaign, CampaignConfig, State

    programs = [(k, parse(SMOOTH.replace("2.0 * y[i]", f"{k}.0 * y[i]"))) for k in range(40)]
    chosen = {k for k, program in programs if in_share(program, 0.5, "gradient:")}
    assert 10 < len(chosen) < 30  # about half: the test can fail either way

    def sent(share: float, order) -> tuple[set[int], State]:
        campaign = Campaign.__new__(Campaign)  # the counting alone: no workers
        campaign.config = CampaignConfig(budget=1, backends=("warp-cpu",), gradient_share=share)
        campaign.state, campaign.gradient_release = State(seed=0), WarpRelease("1.19.0")
        campaign.gradient_backlog = {"warp-cpu": deque(maxlen=64)}
        campaign.gradients("warp-cpu", order, deadline=0.0)  # spent: nothing leaves the backlog
        return {k for k, _ in campaign.gradient_backlog["warp-cpu"]}, campaign.state

    half, state = sent(0.5, programs)
    assert half == chosen and sent(0.5, programs[::-1])[0] == chosen
    assert (state.gradient_eligible, state.gradient_unsampled) == (40, 40 - len(chosen))
    every, state = sent(1.0, programs)
    assert every == set(range(40)) and state.gradient_unsampled == 0



def test_the_summary_says_the_share_compared_and_what_the_gradient_share_left_out():
    import io

    from kernel_synth.synth.progress import CampaignDisplay

    class Config:
        backends = ("warp-cpu",)

    def line(**gradient) -> str:
        out = io.StringIO()
        CampaignDisplay(Config(), out).print_summary({
            "programs": 64, "wall_seconds": 20, "throughput": 3.2, "compiled": {"warp-cpu": 64}, "findings": {}, "buckets": [],
            "shrink": {"count": 0},
            "gradient": {"checked": 20, "candidates": 50, "compared_share": 0.4, "eligible": 40, "excluded": {"integer-only": 3}, "findings": 0, **gradient},
        })
        return next(text for text in out.getvalue().splitlines() if text.startswith("gradients: "))

    assert line(share=0.5, unsampled=19) == (
        "gradients: 20 checked of 40 eligible, 19 outside --gradient-share 0.5 (40% of the 50 programs with a float input array), "
        "0 findings; excluded: integer-only 3"
    )
    assert "outside" not in line(share=1.0, unsampled=0) and "(40% of the 50 programs" in line(share=1.0, unsampled=0)


CANCELLING = """
@kernel
def k0(x0: In[array[float32]], out1: Out[array[float32]]):
    i = tid()
    out1[i] = dot(vec3(125.0, 0.0, 1.75), vec3(1000.0, 0.0, x0[i]))
"""


def test_a_disagreement_within_the_finite_differences_rounding_is_none():
    """The false alarm of a campaign on the newest release (seed 11): in
    float32, 125000 + 1.75 x loses the 1.75 x to rounding, and central
    differences read 2.0 where Warp and JAX both give 1.75. Their rounding
    bound covers it; on a well-conditioned program it stays far below the
    tolerance, so finite differences still judge there."""
    fd, bound = G.fd_gradients_bounded(parse(CANCELLING), 4, 0)
    exact = {"x0": np.full(4, 1.75)}
    assert np.any(fd["x0"] != 1.75)  # finite differences are off here
    assert (np.abs(fd["x0"] - 1.75) <= bound["x0"]).all()
    sources = {"warp": exact, "jax": exact, "fd": fd}
    assert set(G.disagreements(sources)) == {("warp", "fd"), ("jax", "fd")}  # without the bound: an alarm
    assert G.disagreements(sources, bound) == {}
    program = parse(CANCELLING.replace("dot(vec3(125.0, 0.0, 1.75), vec3(1000.0, 0.0, x0[i]))", "x0[i] * 3.0 + sin(x0[i])"))
    fd, bound = G.fd_gradients_bounded(program, 4, 0)
    assert bound["x0"].max() < 0.01 * np.abs(fd["x0"]).max()


@pytest.mark.compiler
def test_jax_is_asked_only_where_warp_and_finite_differences_disagree(checker):
    (agreeing,) = checker.check([parse(SMOOTH)], launch=4, seed=0)
    assert set(agreeing.sources) == {"warp", "fd"} and not agreeing.unavailable
    wrong = G.GradientChecker.__new__(G.GradientChecker)
    wrong.compiler = checker.compiler
    wrong.adjust_warp = lambda program, gradients: {k: v + 1.0 for k, v in gradients.items()}
    (disagreeing,) = wrong.check([parse(SMOOTH)], launch=4, seed=0)
    assert set(disagreeing.sources) == {"warp", "fd", "jax"}
    assert judge_gradient("warp-cpu", parse(SMOOTH), disagreeing).signature.endswith(":warp")


@pytest.mark.compiler
def test_the_gradient_oracle_is_on_by_default_where_a_backend_has_adjoints():
    from kernel_synth.synth.campaign import default_oracles
    from kernel_synth.synth.oracles import FORWARD_ORACLES

    assert "gradient" in default_oracles(("warp-cpu",))
    assert default_oracles(("jax-cpu",)) == frozenset(FORWARD_ORACLES)  # no adjoints of Warp's to check


def test_warp_cuda_adjoints_are_checked_only_where_a_gpu_is(monkeypatch):
    from kernel_synth.backends import registry

    monkeypatch.setattr(registry, "cuda_device_present", lambda: False)
    assert not registry.BACKENDS["warp-cuda"].has_adjoints
    assert registry.BACKENDS["warp-cpu"].has_adjoints
    monkeypatch.setattr(registry, "cuda_device_present", lambda: True)
    assert registry.BACKENDS["warp-cuda"].has_adjoints


STRUCT_ARRAYS = (
    "@struct\nclass S:\n    c: float32\n    a: In[array[float32]]\n    v: In[array[vec3]]\n    n: In[array[int32]]\n    r: Out[array[float32]]\n\n"
    "@kernel\ndef k(s: S, x: In[array[float32]], o: Out[array[float32]]):\n    i = tid()\n"
    "    o[i] = s.a[i] * s.a[i] * s.c + x[i] * s.a[clamp(i + 1, 0, len(s.a) - 1)] + dot(s.v[i], s.v[i]) + float32(s.n[i])\n"
    "    s.r[i] = s.a[i] * x[i]\n"
)


def test_a_struct_parameters_float_array_fields_are_gradient_inputs_and_outputs():
    """By their flattened names, as the launch inputs are; the int field is not one."""
    kernel = parse(STRUCT_ARRAYS).kernels[0]
    assert D.gradient_inputs(kernel) == ["s__a", "s__v", "x"]
    assert D.gradient_outputs(kernel) == ["s__r", "o"]
    assert D.differentiability(parse(STRUCT_ARRAYS)) is None


@pytest.mark.compiler
def test_gradients_through_a_struct_array_field_agree_with_their_closed_form(checker):
    (outcome,) = checker.check([parse(STRUCT_ARRAYS)], launch=4, seed=0, every_source=True)
    found = _sources(outcome)
    assert G.disagreements(found) == {}
    values = make_inputs(parse(STRUCT_ARRAYS).kernels[0], 4, 0)
    a, x, c = (values[k].astype(np.float64) for k in ("s__a", "x", "s__c"))
    # d/da_j = 2 c a_j + the x_i whose clamp(i + 1) is j: x_{j-1} for j >= 1, and x_3 for j = 3 too;
    # + x_j through the Out field s.r
    expected = 2 * c * a + np.array([0.0, x[0], x[1], x[2] + x[3]]) + x
    np.testing.assert_allclose(found["warp"]["s__a"], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(found["warp"]["s__v"], 2 * values["s__v"].astype(np.float64), rtol=1e-5, atol=1e-6)


def test_the_store_rules_see_a_struct_parameters_out_field():
    """It is stored as `s.r[i]` in the AST: two stores are an overwrite, as for an Out parameter."""
    twice = parse(STRUCT_ARRAYS.replace("    s.r[i] = s.a[i] * x[i]\n", "    s.r[i] = s.a[i] * x[i]\n    s.r[i] = x[i]\n"))
    assert D.exclusions(twice) == [D.ARRAY_OVERWRITE]

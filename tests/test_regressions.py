"""Bugs of ours that campaigns found, pinned so they stay fixed.

Each program is the shrunk corpus case the campaign stored; it must now compile
(and run where it runs) on the backend that rejected it."""

from __future__ import annotations

import importlib.util

import pytest

from kernel_synth.grammar import parse

pytestmark = [
    pytest.mark.compiler,
    pytest.mark.skipif(importlib.util.find_spec("warp") is None, reason="warp-lang is not installed"),
]

FIXED = {
    # warp-cuda campaign, seed 2, index 1581: Warp refuses to reassign a local
    # that was assigned a negated literal inside a dynamic loop ("Error mutating
    # a constant v0 inside a dynamic loop"); documented Warp behaviour, so the
    # renderer now declares such locals with a typed constructor.
    "negated-literal-in-dynamic-loop": (
        "@kernel\n"
        "def k0():\n"
        "    for j0 in range(2):\n"
        "        for j1 in range(clamp(0, 0, 0)):\n"
        "            v0 = -0.0\n"
    ),
    # warp-cpu campaign, seed 201: the same refusal for a local assigned the
    # variable of a loop Warp unrolls (a constant in each unrolled
    # iteration), here in a parallel assignment; the renderer now copies
    # such a variable with a typed constructor too.
    "unrolled-loop-variable-in-dynamic-loop": (
        "@kernel(launch=1)\n"
        "def k0():\n"
        "    for j2 in range(2):\n"
        "        for j3 in range(clamp(0, 0, 0)):\n"
        "            v5, v6 = j2, 0.0\n"
    ),
}


@pytest.mark.parametrize("name", sorted(FIXED))
@pytest.mark.parametrize("target", ["cpu", "cuda"])
def test_fixed_programs_compile(name, target, tmp_path):
    from kernel_synth.backends.warp_backend import WarpCompiler

    (outcome,) = WarpCompiler(target, tmp_path).compile([parse(FIXED[name])])
    assert outcome.ok, outcome.message

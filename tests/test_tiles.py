"""Tiles: tile_load, tile_map, the reductions tile_sum, tile_max and
tile_min, and tile_get (an element of a tile read as two rows). Hand-computed reference values, the checker's rules at their place,
the releases that can render them, the generator's draws, shrinking, and (with
a compiler) Warp on the CPU and JAX agreeing with the reference. The
hand-written program is tests/programs/valid/tiles.kernel; its renderings are
goldens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kernel_synth.backends.compare import compare_outcomes
from kernel_synth.backends.differentiability import TILE_NOT_DIFFERENTIABLE, differentiability
from kernel_synth.backends.errors import Unsupported
from kernel_synth.backends.reference import ReferenceFailure, run_reference
from kernel_synth.backends.reference_backend import ReferenceBackend
from kernel_synth.backends.warp_release import WarpRelease
from kernel_synth.backends.warp_render import render_warp
from kernel_synth.grammar import check, parse, print_program
from kernel_synth.grammar import ast as A
from kernel_synth.grammar.ops import TILE_MAPS, TILE_REDUCTIONS
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.stats import constructs
from kernel_synth.grammar.weights import WeightsError, parse_weights, DEFAULT_PATH
from kernel_synth.shrink.edits import names_used
from kernel_synth.shrink.passes import shrink_tiles

from drawn import assert_agrees_with_reference, located_error

VALID = parse((Path(__file__).parent / "programs" / "valid" / "tiles.kernel").read_text())

HAND = parse(
    "@kernel\ndef k(x: In[array[float32]], y: In[array[float32]], o: Out[array[float32]], p: Out[array[float32]]):\n"
    "    i = tid()\n"
    "    o[i] = tile_sum(tile_map(mul, tile_load(x, i - 1, 2), tile_load(y, i, 2)))\n"
    "    p[i] = tile_max(tile_map(abs, tile_load(x, 3 * i, 4))) - tile_min(tile_load(y, 0, 4))\n"
)
X = [1.0, -2.0, 3.0, 0.5, -4.0]
Y = [2.0, 1.0, 0.0, -1.0, 3.0]
# o: x from clamp(i - 1, 0, 3), y from clamp(i, 0, 3), two each, multiplied and summed:
#   i=0 [1, -2].[2, 1] = 0; i=1 [1, -2].[1, 0] = 1; i=2 [-2, 3].[0, -1] = -3;
#   i=3 [3, 0.5].[-1, 3] = -1.5; i=4 (y's start clamped to 3) [0.5, -4].[-1, 3] = -12.5
# p: the largest |x| of four from clamp(3i, 0, 1) (3 at i=0, then 4), less min(y[0:4]) = -1
HAND_O = [0.0, 1.0, -3.0, -1.5, -12.5]
HAND_P = [4.0, 5.0, 5.0, 5.0, 5.0]

ELEMENTS = parse((Path(__file__).parent / "programs" / "valid" / "tile_get.kernel").read_text())
HAND_GET = parse(
    "@kernel\ndef k(x: In[array[float32]], y: In[array[float32]], o: Out[array[float32]], p: Out[array[float32]]):\n"
    "    i = tid()\n"
    "    o[i] = tile_get(tile_load(x, i, 4), i - 2, i)\n"
    "    p[i] = tile_get(tile_map(abs, tile_load(y, i, 2)), 1, -7)\n"
)
# o: four of x from clamp(i, 0, 1) as rows [[a, b], [c, d]], at row clamp(i - 2, 0, 1)
#   and column clamp(i, 0, 1): i=0 [[1, -2], [3, 0.5]] (0, 0) = 1; from i=1 on the
#   tile is [[-2, 3], [0.5, -4]]: i=1 (0, 1) = 3, i=2 (0, 1) = 3, i=3 and i=4 (1, 1) = -4
# p: |y| from clamp(i, 0, 3), two as rows of one, row 1, column clamp(-7, 0, 0) = 0:
#   |y[clamp(i, 0, 3) + 1]|
HAND_GET_O = [1.0, 3.0, 3.0, -4.0, -4.0]
HAND_GET_P = [1.0, 0.0, 1.0, 3.0, 3.0]


def _hand_inputs() -> dict:
    return {"x": np.array(X, np.float32), "y": np.array(Y, np.float32), "o": np.zeros(5, np.float32), "p": np.zeros(5, np.float32)}


def test_reference_values_by_hand():
    out = run_reference(HAND, None, _hand_inputs(), 5)
    assert out["o"].tolist() == HAND_O
    assert out["p"].tolist() == HAND_P


def test_tile_elements_by_hand():
    out = run_reference(HAND_GET, None, _hand_inputs(), 5)
    assert out["o"].tolist() == HAND_GET_O
    assert out["p"].tolist() == HAND_GET_P


def test_tile_elements_print_and_render_as_a_chained_subscript():
    assert parse(print_program(ELEMENTS)) == ELEMENTS
    source = render_warp(HAND_GET, release=WarpRelease("1.19.0"))
    # the tile reshaped to two rows, then one subscript for each index,
    # clamped unless a literal in range
    assert "wp.tile_reshape(wp.tile_load(x, shape=4, offset=wp.clamp(i, 0, x.shape[0] - 4)), shape=(2, 2))[wp.clamp(i - 2, 0, 1)][wp.clamp(i, 0, 1)]" in source
    assert "shape=(2, 1))[1][wp.clamp(-7, 0, 0)]" in source
    assert {"tile-get", "tile-map"} <= constructs(HAND_GET) and "tile" not in constructs(HAND_GET)
    with pytest.raises(Unsupported, match=r"warp-lang >= 1\.8\.1"):
        render_warp(HAND_GET, release=WarpRelease("1.8.0"))


def test_shrinking_makes_the_tile_of_an_element_smaller():
    candidates = [print_program(c) for c in shrink_tiles(HAND_GET)]
    assert candidates == [print_program(HAND_GET).replace("tile_load(x, i, 4)", "tile_load(x, i, 2)")]


def test_matrix_products_by_hand():
    program = parse(
        "@kernel\ndef k(x: In[array[float32]], y: In[array[float32]], o: Out[array[float32]]):\n"
        "    i = tid()\n"
        "    o[i] = tile_sum(tile_matmul(tile_load(x, 0, 4), tile_load(y, i, 4)))\n"
    )
    out = run_reference(program, None, {"x": np.array(X, np.float32), "y": np.array(Y, np.float32), "o": np.zeros(5, np.float32)}, 5)
    # [[1, -2], [3, 0.5]] @ [[2, 1], [0, -1]] = [[2, 3], [6, 2.5]]: 13.5 at i = 0;
    # from i = 1 on y starts at 1: @ [[1, 0], [-1, 3]] = [[3, -6], [2.5, 1.5]]: 1
    assert out["o"].tolist() == [13.5, 1.0, 1.0, 1.0, 1.0]
    matmul = program.kernels[0].body[1].value.tile
    assert isinstance(matmul, A.TileMatmul) and str(matmul.ty) == "tile[float32, 4]"


def test_a_scalar_broadcast_by_hand():
    program = parse(
        "@kernel\ndef k(x: In[array[float32]], y: In[array[float32]], o: Out[array[float32]]):\n"
        "    i = tid()\n"
        "    o[i] = tile_sum(tile_map(sub, tile_load(x, i, 2), tile_full(y[i] * 2.0, 2))) + tile_max(tile_full(x[i], 8))\n"
    )
    out = run_reference(program, None, {"x": np.array(X, np.float32), "y": np.array(Y, np.float32), "o": np.zeros(5, np.float32)}, 5)
    # (x[c] + x[c + 1]) - 4 y[i] + x[i], c = clamp(i, 0, 3): -1 - 8 + 1; 1 - 4 - 2; 3.5 - 0 + 3; -3.5 + 4 + 0.5;
    # -3.5 - 12 - 4 (a tile of 8 from a scalar needs no array of 8)
    assert out["o"].tolist() == [-8.0, -5.0, 6.5, 1.0, -19.5]


def test_a_launch_shorter_than_a_tile_does_not_fit():
    inputs = {name: value[:1] for name, value in _hand_inputs().items()}
    with pytest.raises(ReferenceFailure) as failure:
        run_reference(HAND, None, inputs, 1)
    assert failure.value.rule == "input" and "does not fit" in str(failure.value)


def test_printing_round_trips():
    text = print_program(VALID)
    assert "tile_sum(tile_map(mul, tile_load(x, i, 4), tile_map(sin, tile_load(y, i - 2, 4))))" in text
    assert parse(text) == VALID
    reduce_ = VALID.kernels[0].body[1].value
    assert isinstance(reduce_, A.TileReduce) and reduce_.ty.name == "float32"
    assert str(reduce_.tile.ty) == "tile[float32, 4]"


HEAD = (
    "@kernel\ndef k(x: In[array[float32]], z: In[array[int32]], io: InOut[array[float32]], o: Out[array[float32]]):\n"
    "    i = tid()\n"
)


@pytest.mark.parametrize(
    "body, rule, line, column",
    [
        ("    t = tile_load(x, i, 4)\n", "tile", 4, 9),  # a tile is no local's value
        ("    o[i] = tile_sum(x[i])\n", "tile", 4, 21),
        ("    o[i] = tile_sum(tile_load(x, 1.0, 4))\n", "type-mismatch", 4, 34),
        ("    o[i] = tile_sum(tile_load(z, i, 4))\n", "tile", 4, 21),
        ("    o[i] = tile_sum(tile_load(io, i, 4))\n", "role", 4, 21),
        ("    o[i] = tile_sum(tile_map(add, tile_load(x, i, 4), tile_load(x, i, 2)))\n", "tile", 4, 21),
        ("    o[i] = tile_sum(tile_load(x, i, 3))\n", "tile", 4, 37),  # sizes are 2, 4, 8
        ("    o[i] = tile_sum(tile_map(exp, tile_load(x, i, 4)))\n", "tile", 4, 30),  # exp could overflow
        ("    o[i] = tile_sum(tile_map(add, tile_load(x, i, 4)))\n", "call-arity", 4, 21),
        ("    o[i] = tile_sum(tile_matmul(tile_load(x, i, 2), tile_load(x, i, 2)))\n", "tile", 4, 21),  # 4 or 8
        ("    o[i] = tile_sum(tile_matmul(tile_load(x, i, 8), tile_load(x, i, 4)))\n", "tile", 4, 21),
        ("    o[i] = tile_sum(tile_matmul(tile_load(x, i, 8), x[i]))\n", "tile", 4, 53),
        ("    o[i] = tile_sum(tile_full(i, 4))\n", "type-mismatch", 4, 31),
        ("    o[i] = tile_sum(tile_full(1.0, 5))\n", "tile", 4, 36),
        ("    o[i] = tile_max(tile_map(add, tile_load(x, i, 4), tile_full(1.0, 2)))\n", "tile", 4, 21),
        ("    o[i] = tile_get(tile_load(x, i, 4), 1.0, 0)\n", "type-mismatch", 4, 41),
        ("    o[i] = tile_get(tile_load(x, i, 4), 0, x[i])\n", "type-mismatch", 4, 44),
        ("    o[i] = tile_get(x[i], 0, 1)\n", "tile", 4, 21),
        ("    o[i] = tile_get(tile_load(x, i, 4), 0)\n", "call-arity", 4, 12),
        ("    tile_get = 1.0\n", "duplicate-name", 4, 5),  # a name of the language
    ],
)
def test_tile_rules_at_their_place(body, rule, line, column):
    assert located_error(HEAD + body) == (rule, line, column)


def test_releases_before_tiles_cannot_render_them():
    with pytest.raises(Unsupported, match=r"warp-lang >= 1\.8\.1"):
        render_warp(HAND, release=WarpRelease("1.8.0"))
    source = render_warp(HAND, release=WarpRelease("1.8.1"))
    assert "wp.tile_sum(wp.tile_map(wp.mul, wp.tile_load(x, shape=2, offset=wp.clamp(i - 1, 0, x.shape[0] - 2))" in source
    assert "wp.tile_min(wp.tile_load(y, shape=4, offset=wp.clamp(0, 0, y.shape[0] - 4)))[0]" in source
    # a product of one-dimensional tiles: reshaped to matrices and back
    products = render_warp(VALID, release=WarpRelease("1.8.1"))
    assert "wp.tile_reshape(wp.tile_matmul(wp.tile_reshape(wp.tile_load(y, shape=8, offset=wp.clamp(i + 1, 0, y.shape[0] - 8)), shape=(2, 4))," in products
    assert "shape=(4, 2))), shape=(4,))" in products


def test_releases_before_tile_full_broadcast_with_ones():
    program = parse(HEAD + "    o[i] = tile_sum(tile_full(x[i], 4))\n")
    assert "wp.tile_sum(wp.tile_full(shape=4, value=x[i], dtype=wp.float32))[0]" in render_warp(program, release=WarpRelease("1.10.0"))
    assert "wp.tile_sum(wp.mul(wp.tile_ones(shape=4, dtype=wp.float32), x[i]))[0]" in render_warp(program, release=WarpRelease("1.9.1"))


def test_gradients_of_tiles_are_compared_where_warp_differentiates_them():
    assert differentiability(HAND) == TILE_NOT_DIFFERENTIABLE  # tile_max and tile_min
    sums = parse(HEAD + "    o[i] = tile_sum(tile_map(mul, tile_load(x, i - 1, 2), tile_load(x, i, 2)))\n")
    assert differentiability(sums) is None


def test_generated_tiles_check_and_are_counted():
    with_tiles = maps = products = 0
    for program in draw_programs(400, seed=11):
        reductions = [n for n in A.walk(program) if isinstance(n, A.TileReduce)]
        if not reductions:
            assert "tile" not in constructs(program)
            continue
        assert parse(print_program(program)) == check(program)
        assert "tile" in constructs(program)
        with_tiles += 1
        for reduction in reductions:
            # one size under one reduction, but for a product's operands
            assert len(_sizes_outside_products(reduction.tile)) == 1
            maps += any(isinstance(n, A.TileMap) for n in A.walk(reduction))
            products += any(isinstance(n, A.TileMatmul) for n in A.walk(reduction))
    # the share: at least 2% of programs at the default weights
    assert with_tiles >= 8 and maps >= 3 and products >= 1, (with_tiles, maps, products)


def _sizes_outside_products(tile) -> set[int]:
    if isinstance(tile, A.TileMatmul):
        return {tile.ty.size}
    if isinstance(tile, A.TileMap):
        return set().union(*(_sizes_outside_products(t) for t in tile.tiles))
    return {tile.size}


def test_shrinking_makes_tiles_smaller_and_keeps_their_arrays():
    candidates = [print_program(c) for c in shrink_tiles(VALID)]
    # the 4-element reduction to 2 elements, all its tiles at once
    assert any("tile_sum(tile_map(mul, tile_load(x, i, 2), tile_map(sin, tile_load(y, i - 2, 2))))" in c for c in candidates)
    # an 8-element reduction to 4 and to 2; a 2-element one has nothing smaller
    assert sum("tile_load(x, 0, 4), tile_map(abs, tile_load(y, len(y), 4))" in c for c in candidates) == 1
    assert len(candidates) == 1 + 2 + 2
    assert {"x", "y"} <= names_used(VALID.kernels[0].body[1])


def test_a_tile_size_in_a_profile_is_one_a_tile_may_have():
    text = DEFAULT_PATH.read_text()
    assert "tile_size = { 2 = 1, 4 = 3, 8 = 2 }" in text
    text = text.replace("tile_size = { 2 = 1, 4 = 3, 8 = 2 }", "tile_size = { 3 = 1 }")
    with pytest.raises(WeightsError, match="a tile has 2, 4, 8 elements"):
        parse_weights(text, "profile.toml")


@pytest.mark.compiler
@pytest.mark.parametrize("program", [HAND, VALID, HAND_GET, ELEMENTS], ids=["by-hand", "valid", "elements-by-hand", "elements"])
def test_warp_and_jax_agree_with_the_reference(tmp_path, program):
    assert_agrees_with_reference(tmp_path, program)


@pytest.mark.compiler
@pytest.mark.parametrize("program, o, p", [(HAND, HAND_O, HAND_P), (HAND_GET, HAND_GET_O, HAND_GET_P)], ids=["reductions", "elements"])
def test_warp_values_by_hand(tmp_path, program, o, p):
    import warp as wp

    from kernel_synth.backends.warp_backend import launch_kernel, warp_cpu

    compiler = warp_cpu(workdir=tmp_path)
    outcomes, modules = compiler.build([program])
    assert outcomes == [None]
    module, names = modules[0]
    args, arrays = compiler.launch_args(program.kernels[0], _hand_inputs(), "cpu")
    launch_kernel(wp, getattr(module, names["k"]), program.kernels[0], 5, args, "cpu")
    assert arrays["o"].numpy().tolist() == o
    assert arrays["p"].numpy().tolist() == p


@pytest.mark.compiler
def test_every_tile_operation_agrees_on_warp_and_jax(tmp_path):
    """Each function of ops.TILE_MAPS under each reduction, one program each:
    the table's Warp and JAX spellings against its reference functions."""
    from kernel_synth.backends.jax_backend import jax_cpu
    from kernel_synth.backends.warp_backend import warp_cpu

    programs = []
    for name, op in TILE_MAPS.items():
        tiles = ", ".join(f"tile_load(x, i + {k}, 4)" for k in range(op.arity))
        for reduction in TILE_REDUCTIONS:
            body = f"    o[i] = {reduction}(tile_map({name}, {tiles}))\n"
            programs.append(parse("@kernel\ndef k(x: In[array[float32]], o: Out[array[float32]]):\n    i = tid()\n" + body))
    expected = ReferenceBackend().compile(programs, launch=16)
    for backend in (warp_cpu(workdir=tmp_path / "warp"), jax_cpu(tmp_path / "jax")):
        for program, want, outcome in zip(programs, expected, backend.compile(programs, launch=16)):
            assert outcome.ok, (print_program(program), outcome.message)
            assert compare_outcomes(want, outcome) == [], print_program(program)

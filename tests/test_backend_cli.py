"""`synth render` and `synth compile`, the comparison rule and error signatures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kernel_synth.backends.compare import compare_outputs
from kernel_synth.backends.signature import normalise, signature
from kernel_synth.synth.cli import main

HERE = Path(__file__).parent
SKETCH = HERE / "programs" / "valid" / "design_sketch.kernel"
CONTROL = HERE / "programs" / "valid" / "control.kernel"


def test_render_warp_prints_the_golden(capsys):
    assert main(["render", str(SKETCH), "--target", "warp"]) == 0
    assert capsys.readouterr().out == (HERE / "golden" / "warp" / "design_sketch.py").read_text()


def test_render_a_bad_file_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.kernel"
    bad.write_text("@kernel\ndef k(o: Out[array[float32]]):\n    o[0] = 1.0\n")
    assert main(["render", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"synth: error: {bad}:3:7: race: 'o' is written only at the thread's own index (tid())"]


def test_compile_unknown_backend_is_exit_2(capsys):
    assert main(["compile", str(SKETCH), "--backend", "warp-gpu"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown backend 'warp-gpu'" in err


@pytest.mark.compiler
def test_compile_reports_per_file_status_and_writes_ir(tmp_path, capsys):
    bad = tmp_path / "bad.kernel"
    bad.write_text("@kernel\ndef k(o: Out[array[float32]]):\n    o[0] = 1.0\n")
    code = main(["compile", str(SKETCH), str(CONTROL), str(bad), "--backend", "warp-cpu", "--ir", str(tmp_path / "ir"), "--json", "--backward", "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 2  # one input did not parse; the others still ran
    rows = {Path(r["file"]).name: r for r in json.loads(captured.out)["results"]}
    assert rows["design_sketch.kernel"]["status"] == "ok"
    assert rows["control.kernel"]["status"] == "ok"
    assert rows["bad.kernel"]["status"] == "parse_error"
    assert f"{bad}:3:7: race:" in captured.err
    written = sorted(p.name for p in (tmp_path / "ir").iterdir())
    assert written == [
        "control.warp-cpu.backward.cpp",
        "control.warp-cpu.forward.cpp",
        "design_sketch.warp-cpu.backward.cpp",
        "design_sketch.warp-cpu.forward.cpp",
    ]
    forward = (tmp_path / "ir" / "design_sketch.warp-cpu.forward.cpp").read_text()
    assert "k0_" in forward and "cpu_kernel_forward" in forward and "soft_" in forward
    assert "_p0" not in forward  # batch renaming is undone
    assert "cpu_kernel_backward" in (tmp_path / "ir" / "design_sketch.warp-cpu.backward.cpp").read_text()


@pytest.mark.compiler
def test_warp_ir_is_extracted_only_when_asked(tmp_path):
    from kernel_synth.backends.warp_backend import WarpCompiler
    from kernel_synth.grammar import parse

    program = parse(SKETCH.read_text())
    (plain,) = WarpCompiler("cpu", tmp_path / "plain", run=False).compile([program])
    (with_ir,) = WarpCompiler("cpu", tmp_path / "ir", run=False, ir=True).compile([program])
    assert plain.ok and with_ir.ok
    assert plain.artifacts == {}
    assert list(with_ir.artifacts) == ["forward.cpp", "source.py"] and "cpu_kernel_forward" in with_ir.artifacts["forward.cpp"]


def test_compare_outputs_tolerates_rounding_not_errors():
    want = {"o": np.array([1.0, np.nan, np.inf, 100.0], dtype=np.float32), "n": np.array([1, 2], dtype=np.int32)}
    assert compare_outputs(want, {"o": want["o"] * np.float32(1 + 1e-6), "n": want["n"].copy()}) == []
    got = {"o": np.array([1.0, np.nan, -np.inf, 101.0], dtype=np.float32), "n": np.array([1, 3], dtype=np.int32)}
    found = {(m.array, m.index) for m in compare_outputs(want, got)}
    assert found == {("o", (2,)), ("o", (3,)), ("n", (1,))}
    assert compare_outputs(want, {"o": want["o"]})[0].array == "n"


def test_signatures_strip_names_numbers_and_paths():
    a = 'WarpCodegenError: Error while parsing function "k0_p3" at /tmp/x/ks_batch_1_2.py:7:\n    o[i] = v12\n;Type mismatch for v12: int32 vs float32 at column 14'
    b = 'WarpCodegenError: Error while parsing function "k4_p0" at /tmp/y/ks_batch_9_9.py:12:\n    o[i] = v3\n;Type mismatch for v3: int32 vs float32 at column 2'
    assert normalise(a) == normalise(b)
    assert "v12" not in normalise(a) and "/tmp" not in normalise(a)
    assert signature("warp-cpu", "codegen", a).startswith("warp-cpu:codegen:")
    assert normalise("worker exited with code -6") == normalise("worker exited with code -11")
    # an object's address is the run's, its class the bug's (Warp 1.4 to 1.10 print such reprs)
    first = "Error, assigning to existing symbol v0 (<warp._src.codegen.Reference object at 0x7f8d2c4a3310>) with different type (<class 'float'>)"
    second = "Error, assigning to existing symbol v3 (<warp.codegen.Reference object at 0x7f041f47aed0>) with different type (<class 'float'>)"
    assert normalise(first) == normalise(second) and "<Reference object>" in normalise(first)
    assert normalise("pointer 0x7ffd12 freed twice") == normalise("pointer 0x55aa freed twice")


def test_render_jax_prints_an_importable_module(capsys):
    import ast as python_ast

    assert main(["render", str(SKETCH), "--target", "jax"]) == 0
    source = capsys.readouterr().out
    tree = python_ast.parse(source)
    assert any(isinstance(n, python_ast.FunctionDef) and n.name == "k0" for n in tree.body)
    assert "jax.vmap" in source


@pytest.mark.compiler
def test_compile_jax_cpu_writes_stablehlo(tmp_path, capsys):
    code = main(["compile", str(SKETCH), "--backend", "jax-cpu", "--backward", "--ir", str(tmp_path), "--workers", "1"])
    assert code == 0
    assert capsys.readouterr().out.strip() == f"{SKETCH}: ok"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["design_sketch.jax-cpu.backward.mlir", "design_sketch.jax-cpu.forward.mlir"]
    assert "stablehlo." in (tmp_path / "design_sketch.jax-cpu.forward.mlir").read_text()


@pytest.mark.compiler
def test_native_compile_errors_carry_the_compilers_first_error(tmp_path, capsys):
    """Warp bug found by the warp-cuda campaign (seed 2, index 768): casting an
    unrolled loop variable retypes the variable itself, so the store of `j1`
    into an int32 array gets an int64 value and the native compile fails. The
    signature keeps the compiler's own first error, so that unrelated native
    failures land in other buckets."""
    from kernel_synth.synth.oracles import recognised

    case = tmp_path / "loopvar.kernel"
    case.write_text(
        "@kernel\n"
        "def k0(out0: Out[array[int32]], out1: Out[array[int64]]):\n"
        "    i = tid()\n"
        "    for j1 in range(1):\n"
        "        out0[i] = j1\n"
        "        out1[i] = int64(j1)\n"
    )
    assert main(["compile", str(case), "--backend", "warp-cpu", "--json", "--workers", "1"]) == 1
    (row,) = json.loads(capsys.readouterr().out)["results"]
    assert row["status"] == "compile_error"
    assert row["signature"] == "warp-cpu:compile:RuntimeError: CPU kernel build failed with error code <n>: no matching function for call to <q>"
    assert recognised(row["signature"])


def test_a_precompiled_header_mismatch_is_not_the_first_error():
    """warp-lang 1.14.0: an -O0 backward build that meets a PCH made at -O3
    says so first; Warp builds again without it, and the program's own error
    is the one its signature must keep (a tile_map(tanh) adjoint, from a
    campaign on 1.14.0, had two signatures from run to run)."""
    from kernel_synth.backends.warp_backend import _first_error

    diagnostics = (
        "error: __OPTIMIZE__ predefined macro was enabled in PCH file but is currently disabled\n"
        "/tmp/cache/wp_m.cpp:41:5: error: no matching function for call to 'adj_tanh'\n"
    )
    assert _first_error(diagnostics) == "no matching function for call to 'adj_tanh'"

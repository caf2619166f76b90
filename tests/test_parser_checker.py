"""Tests of the kernel language front end: parser, checker, printer and AST.

- every hand-written valid program under tests/programs/valid parses, round-trips
  through the printer, and prints stably;
- ill-typed, racy and unbounded programs are rejected with the right rule, at
  the right line and column;
- the grammar's rules and the AST's node classes correspond (parser.RULE_NODES);
- AST nodes are frozen and refuse impossible shapes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kernel_synth.grammar import CheckError, DSLError, ParseError, parse, parse_untyped, print_program
from kernel_synth.grammar import ast as A
from kernel_synth.grammar.ops import ATOMICS, AUG_OPS, BUILTINS, COMPARE_OPS, ARITH_OPS, BOOL_OPS
from kernel_synth.grammar.parser import RULE_NODES, grammar_rules
from kernel_synth.grammar.queries import divisor_kind
from kernel_synth.grammar.types import F32, F64, I32, MAT33, U32, VEC2, VEC3, VEC4, ArrayType, Role

VALID_DIR = Path(__file__).parent / "programs" / "valid"
VALID_FILES = sorted(VALID_DIR.glob("*.kernel"))


# ------------------------------------------------------------------ positives


def test_valid_corpus_is_present():
    assert len(VALID_FILES) >= 4, VALID_FILES


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda p: p.name)
def test_valid_program_parses_and_round_trips(path: Path):
    text = path.read_text()
    program = parse(text, str(path))
    assert isinstance(program, A.Program)
    # Every expression of a checked program carries its type (an array passed
    # to a helper is a Name without a value type).
    for definition in program.funcs + program.kernels:
        arrays = {p.name for p in definition.params if isinstance(p.ty, ArrayType)}
        for node in A.walk(definition):
            if isinstance(node, A.EXPR_TYPES) and not (isinstance(node, A.Name) and node.id in arrays):
                assert node.ty is not None, node
    printed = print_program(program)
    reparsed = parse(printed)
    assert reparsed == program
    assert print_program(reparsed) == printed
    # The untyped parse of the printed text is the same program before checking.
    assert parse_untyped(printed) == parse_untyped(text)


def _corpus():
    programs = [parse(p.read_text(), str(p)) for p in VALID_FILES]
    nodes = [n for prog in programs for d in prog.funcs + prog.kernels for n in A.walk(d)]
    return programs, nodes


def test_valid_corpus_covers_every_construct():
    """The hand-written corpus exercises every node, operator, builtin and type."""
    programs, nodes = _corpus()
    classes = {type(n) for n in nodes}
    assert set(A.EXPR_TYPES + A.STMT_TYPES + (A.Elif, A.Param, A.Func, A.Kernel)) <= classes

    def ops(cls):
        return {n.op for n in nodes if isinstance(n, cls)}

    assert ops(A.BinOp) == set(ARITH_OPS)
    assert ops(A.Compare) == set(COMPARE_OPS)
    assert ops(A.BoolOp) == set(BOOL_OPS)
    assert ops(A.AugAssign) == set(AUG_OPS)
    assert ops(A.Atomic) == set(ATOMICS)
    assert set(BUILTINS) <= {n.func for n in nodes if isinstance(n, A.Call)}

    # Array roles x element types, as declared by kernel parameters.
    arrays = {
        (p.ty.role, p.ty.elem)
        for prog in programs
        for k in prog.kernels
        for p in k.params
        if isinstance(p.ty, ArrayType)
    }
    for role in Role:
        for elem in (F32, F64, I32, U32):
            assert (role, elem) in arrays, (role, elem)
    assert {VEC2, VEC3, VEC4, MAT33} <= {elem for _, elem in arrays}
    assert {r for r, e in arrays if e.is_vector or e.is_matrix} == set(Role)
    # A helper with an Acc array parameter that performs an atomic.
    assert any(
        any(isinstance(p.ty, ArrayType) and p.ty.role is Role.ACC for p in f.params)
        and any(isinstance(n, A.Atomic) for n in A.walk(f))
        for prog in programs
        for f in prog.funcs
    )
    # Both loop-bound forms, the bounded while with and without a condition,
    # typed literals, component assignment in both spellings, mat33 @ vec3,
    # helper calls both as statements and as expressions, guarded reads.
    bounds = [n.bound for n in nodes if isinstance(n, A.For)]
    assert any(isinstance(b, A.Const) for b in bounds)
    assert any(isinstance(b, A.Call) and b.func == "clamp" for b in bounds)
    whiles = [n for n in nodes if isinstance(n, A.While)]
    assert any(w.cond is None for w in whiles) and any(w.cond is not None for w in whiles)
    assert {F64, U32} <= {n.ty for n in nodes if isinstance(n, A.Const)}
    targets = [n.target for n in nodes if isinstance(n, (A.Assign, A.AugAssign))]
    assert {t.attr for t in targets if isinstance(t, A.Component)} == {True, False}
    assert any(isinstance(t, A.ArrayRead) for t in targets)
    assert any(isinstance(n, A.BinOp) and n.op == "@" and n.ty == VEC3 for n in nodes)
    # float `//` on both float types, and float divisors that are zero
    assert {F32, F64} <= {n.ty for n in nodes if isinstance(n, A.BinOp) and n.op == "//"}
    assert {"zero", "integer"} <= {divisor_kind(n.right) for n in nodes if isinstance(n, A.BinOp) and n.op in ("/", "//", "%") and n.ty.is_float}
    assert any(isinstance(n, A.CallStmt) for n in nodes)
    assert any(isinstance(n, A.ArrayRead) and isinstance(n.index, A.Call) for n in nodes)


def test_parse_types_the_program():
    text = (VALID_DIR / "vectors.kernel").read_text()
    untyped = parse_untyped(text)
    typed = parse(text)
    assert untyped != typed  # the checker fills in `ty`
    kernel = typed.kernels[0]
    assign = kernel.body[0]
    assert isinstance(assign, A.Assign) and isinstance(assign.value, A.Tid) and assign.value.ty == I32
    mv = next(n for n in A.walk(kernel) if isinstance(n, A.BinOp) and n.op == "@")
    assert mv.ty == VEC3 and mv.left.ty == MAT33 and mv.right.ty == VEC3


def test_while_is_folded_into_one_node():
    text = (
        "@kernel\n"
        "def k(o: Out[array[float32]]):\n"
        "    i = tid()\n"
        "    t = 0.0\n"
        "    w = 0\n"
        "    while w < 4 and t < 2.0 and i > 0:\n"
        "        w += 1\n"
        "        t += 1.0\n"
        "    o[i] = t\n"
    )
    kernel = parse(text).kernels[0]
    loop = kernel.body[2]
    assert isinstance(loop, A.While)
    assert (loop.counter, loop.limit) == ("w", 4)
    assert isinstance(loop.cond, A.BoolOp) and loop.cond.op == "and"
    assert len(loop.body) == 1 and isinstance(loop.body[0], A.AugAssign)
    assert loop.pos == A.Pos(5, 5)  # the loop starts at its `w = 0`
    assert len(kernel.body) == 4
    assert parse(print_program(parse(text))) == parse(text)


def test_positions_do_not_take_part_in_equality():
    a = parse("@kernel\ndef k(o: Out[array[float32]]):\n    i = tid()\n    o[i] = 1.0\n")
    b = parse("# a comment\n\n@kernel\ndef k(o: Out[array[float32]]):\n    i = tid()\n\n    o[i] = (1.0)\n")
    assert a == b
    assert a.kernels[0].body[1].pos != b.kernels[0].body[1].pos


# ------------------------------------------------------------------ negatives

# A kernel header shared by most negative cases; the body starts on line 4.
HEAD = (
    "@kernel\n"
    "def k(x: In[array[float32]], o: Out[array[float32]], y: InOut[array[float32]], a: Acc[array[float32]], n: int32, f: float32, v: vec3):\n"
    "    i = tid()\n"
)


def K(*body: str) -> str:
    return HEAD + "".join(line + "\n" for line in body)


BUMP = "@func\ndef bump(acc: Acc[array[float32]], t: float32) -> float32:\n    atomic_add(acc, 0, t)\n    return t\n\n"

NEGATIVE = [
    # --- roles and races
    ("write-in", K("    x[i] = 1.0"), "role", 4, 5),
    ("store-acc", K("    a[i] = 1.0"), "role", 4, 5),
    ("aug-store-out", K("    o[i] += 1.0"), "role", 4, 5),
    ("store-out-not-tid", K("    o[0] = 1.0"), "race", 4, 7),
    ("store-inout-not-tid", K("    y[i + 0] = f"), "race", 4, 7),
    ("read-out", K("    t = o[i]"), "role", 4, 9),
    ("read-acc", K("    t = f + a[i]"), "role", 4, 13),
    ("read-inout-other", K("    t = y[0]"), "race", 4, 11),
    ("read-in-unguarded", K("    t = x[i + 1]"), "index", 4, 11),
    ("read-in-bad-guard", K("    t = x[clamp(i + 1, 0, len(x))]"), "index", 4, 11),
    ("atomic-not-acc", K("    atomic_add(o, i, 1.0)"), "role", 4, 5),
    ("atomic-unguarded", K("    atomic_add(a, i + 1, f)"), "index", 4, 19),
    ("atomic-value-type", K("    atomic_add(a, 0, n)"), "type-mismatch", 4, 22),
    ("helper-array-role", "@func\ndef h(q: In[array[float32]]) -> float32:\n    return 1.0\n\n" + K("    pass"), "helper-array", 2, 7),
    # --- bounds
    ("range-param", K("    for k in range(n):", "        pass"), "loop-bound", 4, 20),
    ("range-too-big", K("    for k in range(65):", "        pass"), "loop-bound", 4, 20),
    ("range-clamp-too-big", K("    for k in range(clamp(n, 0, 100)):", "        pass"), "loop-bound", 4, 20),
    ("range-float", K("    for k in range(4.0):", "        pass"), "loop-bound", 4, 20),
    ("while-no-init", K("    while w < 4:", "        w += 1"), "while-bound", 4, 5),
    ("while-init-not-zero", K("    w = 1", "    while w < 4:", "        w += 1"), "while-bound", 5, 5),
    ("while-step-not-first", K("    w = 0", "    while w < 4:", "        t = 1.0", "        w += 1"), "while-bound", 5, 5),
    ("while-not-counter", K("    w = 0", "    while f < 4.0:", "        w += 1"), "while-bound", 5, 5),
    ("while-limit-too-big", K("    w = 0", "    while w < 65:", "        w += 1"), "while-bound", 4, 5),
    ("while-counter-assigned", K("    w = 0", "    while w < 4:", "        w += 1", "        w = 3"), "read-only", 7, 9),
    # --- types
    ("f32-plus-f64", K("    t = f + float64(1.5)"), "operand-types", 4, 9),
    ("int-true-division", K("    t = n / 2"), "operand-types", 4, 9),
    # `//` floors ints and floats of one type; vectors and mixed types have none
    ("vector-floor-division", K("    t = v // 2.0"), "operand-types", 4, 9),
    ("float-floor-division-mixed", K("    t = f // float64(2.0)"), "operand-types", 4, 9),
    ("int-plus-float", K("    t = 1.0 + (n + 1)"), "operand-types", 4, 9),
    ("builtin-arg-type", K("    t = sqrt(n)"), "operand-types", 4, 9),
    ("cast-same-type", K("    t = float32(f)"), "operand-types", 4, 9),
    ("neg-uint", K("    t = -uint32(3)"), "operand-types", 4, 9),
    ("matmul-wrong", K("    t = v @ v"), "operand-types", 4, 9),
    ("aug-int-by-float", K("    j = 1", "    j += 1.5"), "operand-types", 5, 5),
    ("assign-float-to-int", K("    j = 1", "    j = 2.0"), "type-mismatch", 5, 5),
    ("store-wrong-type", K("    o[i] = n"), "type-mismatch", 4, 5),
    ("bool-local", K("    b = f > 1.0"), "type-mismatch", 4, 5),
    ("ternary-branches", K("    t = f if f > 0.0 else n"), "type-mismatch", 4, 9),
    ("construct-int", K("    w = vec3(f, 1.0, n)"), "type-mismatch", 4, 22),
    ("return-type", "@func\ndef h(q: float32) -> int32:\n    return q\n\n" + K("    pass"), "type-mismatch", 3, 5),
    ("helper-arg-type", "@func\ndef h(q: float32) -> float32:\n    return q\n\n" + K("    t = h(n)"), "type-mismatch", 8, 11),
    ("helper-arity", "@func\ndef h(q: float32) -> float32:\n    return q\n\n" + K("    t = h(f, f)"), "call-arity", 8, 9),
    ("condition-not-bool", K("    if n:", "        pass"), "condition-type", 4, 8),
    ("and-not-bool", K("    if f > 0.0 and n:", "        pass"), "condition-type", 4, 20),
    ("not-not-bool", K("    t = 1.0 if not f else 2.0"), "condition-type", 4, 20),
    ("compare-mixed", K("    if f < n:", "        pass"), "operand-types", 4, 8),
    ("component-of-scalar", K("    t = f.x"), "component", 4, 9),
    ("component-out-of-range", K("    w = vec2(f, f)", "    t = w.z"), "component", 5, 9),
    ("component-bad-letter", K("    t = v.q"), "component", 4, 9),
    # --- names, scopes, read-only
    ("unknown-name", K("    t = foo + 1.0"), "unknown-name", 4, 9),
    ("out-of-scope", K("    if f > 0.0:", "        t = 1.0", "    o[i] = t"), "unknown-name", 6, 12),
    ("aug-undefined", K("    t += 1.0"), "unknown-name", 4, 5),
    ("array-as-value", K("    t = x"), "operand-types", 4, 9),
    ("undefined-helper", K("    t = g(f)"), "unknown-function", 4, 9),
    (
        "later-helper",
        "@func\ndef h1(q: float32) -> float32:\n    return h2(q)\n\n"
        "@func\ndef h2(q: float32) -> float32:\n    return q\n\n" + K("    pass"),
        "unknown-function",
        3,
        12,
    ),
    ("recursion", "@func\ndef h(q: float32) -> float32:\n    return h(q) + 1.0\n\n" + K("    pass"), "recursion", 3, 12),
    ("assign-loop-var", K("    for k in range(4):", "        k = 1"), "read-only", 5, 9),
    ("aug-loop-var", K("    for k in range(4):", "        k += 1"), "read-only", 5, 9),
    ("assign-param", K("    n = 1"), "read-only", 4, 5),
    ("aug-param", K("    f += 1.0"), "read-only", 4, 5),
    ("assign-param-component", K("    v.x = 1.0"), "read-only", 4, 5),
    ("reassign-tid", K("    i = 2"), "read-only", 4, 5),
    ("assign-array", K("    x = 1.0"), "read-only", 4, 5),
    ("loop-var-shadows", K("    for i in range(4):", "        pass"), "duplicate-name", 4, 5),
    ("local-named-builtin", K("    sin = 1.0"), "duplicate-name", 4, 5),
    # names the rendered code needs: Warp's and JAX's modules, a keyword, a dunder
    ("param-named-wp", "@kernel\ndef k(wp: In[array[float32]]):\n    pass\n", "reserved-name", 2, 7),
    ("local-named-keyword", K("    nonlocal = 2.0"), "reserved-name", 4, 5),
    ("loop-var-named-jnp", K("    for jnp in range(2):", "        pass"), "reserved-name", 4, 5),
    ("kernel-named-dunder", "@kernel\ndef __import__(n: int32):\n    pass\n", "reserved-name", 1, 1),
    # an Acc array's element is every thread's: the value before one atomic is not deterministic
    ("atomic-result-of-acc", "@kernel\ndef k(a: Acc[array[int32]]):\n    x = atomic_min(a, 0, 1)\n", "role", 3, 9),
    ("atomic-in-an-argument", "@kernel\ndef k(a: Acc[array[int32]], o: Out[array[int32]]):\n    o[0] = abs(atomic_add(a, 0, 1))\n", "atomic-position", 3, 16),
    ("duplicate-kernel", K("    pass") + "\n" + K("    pass"), "duplicate-name", 6, 1),
    ("duplicate-param", "@kernel\ndef k(n: int32, n: float32):\n    pass\n", "duplicate-name", 2, 17),
    ("helper-named-builtin", "@func\ndef sqrt(q: float32) -> float32:\n    return q\n\n" + K("    pass"), "duplicate-name", 1, 1),
    ("param-shadows-helper", "@func\ndef h(q: float32) -> float32:\n    return q\n\n@kernel\ndef k(h: int32):\n    pass\n", "duplicate-name", 6, 7),
    # --- statements
    ("break-outside-loop", K("    break"), "loop-control", 4, 5),
    ("continue-in-if", K("    if f > 0.0:", "        continue"), "loop-control", 5, 9),
    ("return-in-kernel", K("    return f"), "return", 4, 5),
    ("helper-missing-return", "@func\ndef h(q: float32) -> float32:\n    t = q\n\n" + K("    pass"), "return", 1, 1),
    (
        "helper-early-return",
        "@func\ndef h(q: float32) -> float32:\n    if q > 0.0:\n        return q\n    return 0.0\n\n" + K("    pass"),
        "return",
        4,
        9,
    ),
    ("tid-in-helper", "@func\ndef h(q: float32) -> float32:\n    t = float32(tid())\n    return t\n\n" + K("    pass"), "tid-outside-kernel", 3, 17),
    ("builtin-as-statement", K("    sin(f)"), "expression-statement", 4, 5),
    # atomics of different classes on one array do not commute between threads
    ("atomic-add-then-max", K("    atomic_add(a, 0, f)", "    atomic_max(a, 0, f)"), "atomic-mix", 5, 5),
    ("atomic-min-then-max", K("    atomic_min(a, i, f)", "    atomic_max(a, i, f)"), "atomic-mix", 5, 5),
    ("atomic-max-then-helper-add", BUMP + K("    atomic_max(a, 0, f)", "    bump(a, f)"), "atomic-mix", 10, 10),
    # --- guards instead of clamps
    ("read-unguarded", K("    j = n + 1", "    t = x[j]"), "index", 5, 11),
    ("guard-without-lower-bound", K("    j = n + 1", "    t = x[j] if j < len(x) else 0.0"), "index", 5, 11),
    ("guard-in-else-arm", K("    j = n + 1", "    t = 0.0 if 0 <= j and j < len(x) else x[j]"), "index", 5, 45),
    ("guard-in-where", K("    j = n + 1", "    t = where(0 <= j and j < len(x), x[j], 0.0)"), "index", 5, 40),
    ("guard-through-or", K("    j = n + 1", "    if 0 <= j or j < len(x):", "        t = x[j]"), "index", 6, 15),
    ("guard-of-other-array", K("    j = n + 1", "    if 0 <= j and j < len(o):", "        t = x[j]"), "index", 6, 15),
    ("guard-then-reassigned", K("    j = n + 1", "    if 0 <= j and j < len(x):", "        j = j + 1", "        t = x[j]"), "index", 7, 15),
    ("guard-in-elif-body", K("    j = n + 1", "    if 0 <= j and j < len(x):", "        t = 0.0", "    else:", "        t = x[j]"), "index", 8, 15),
    # --- spellings
    ("where-arity", K("    t = where(f > 0.0, f)"), "call-arity", 4, 9),
    ("select-arity", K("    t = select(f > 0.0, f, f, f)"), "call-arity", 4, 9),
    ("where-arm-types", K("    t = where(f > 0.0, f, n)"), "type-mismatch", 4, 9),
    ("where-condition-type", K("    t = where(f, f, f)"), "condition-type", 4, 15),
    ("int-of-vector", K("    j = int(v)"), "operand-types", 4, 9),
    ("float-of-float", K("    t = float(f)"), "operand-types", 4, 9),
    ("local-named-where", K("    where = 1.0"), "duplicate-name", 4, 5),
    ("local-named-int", K("    int = 1"), "duplicate-name", 4, 5),
    ("atomic-min-vector", "@kernel\ndef k(a: Acc[array[vec3]]):\n    atomic_min(a, 0, vec3(1.0, 2.0, 3.0))\n", "operand-types", 3, 5),
    # --- builder (parse-level) errors
    ("unknown-type", "@kernel\ndef k(x: In[array[float16]]):\n    pass\n", "unknown-type", 2, 19),
    ("bool-param", "@kernel\ndef k(b: bool):\n    pass\n", "unknown-type", 2, 10),
    ("unknown-atomic", K("    atomic_mul(a, 0, f)"), "unknown-function", 4, 5),
    ("atomic-arity", K("    atomic_add(a, 0)"), "call-arity", 4, 5),
    ("construct-arity", K("    w = vec3(f, f)"), "call-arity", 4, 9),
    ("tid-args", K("    j = tid(1)"), "call-arity", 4, 9),
    ("len-of-scalar", K("    j = len(n)"), "call-arity", 4, 9),
    ("vector-index-unproven", K("    t = v[i]"), "component", 4, 11),
    ("vector-index-clamp-too-wide", K("    t = v[clamp(i, 0, 3)]"), "component", 4, 11),
    ("vector-index-long-loop", K("    for j in range(4):", "        t = v[j]"), "component", 5, 15),
    ("vector-index-float", K("    t = v[clamp(f, 0.0, 2.0)]"), "component", 4, 11),
    ("effect-in-component-target", BUMP + K("    w = v", "    w[clamp(int(bump(a, f)), 0, 2)] = 1.0"), "effect-in-target", 10, 7),
    ("component-of-in-element", "@kernel\ndef k(x: In[array[vec3]]):\n    i = tid()\n    x[i].x = 1.0\n", "role", 4, 5),
    ("component-of-out-read", "@kernel\ndef k(x: Out[array[vec3]]):\n    i = tid()\n    x[i].x += 1.0\n", "role", 4, 5),
    ("component-of-other-element", "@kernel\ndef k(x: Out[array[vec3]]):\n    i = tid()\n    x[0].x = 1.0\n", "race", 4, 7),
    ("assign-to-call", K("    (v * 2.0).x = 1.0"), "assign-target", 4, 5),
    ("no-kernel", "@func\ndef h(q: float32) -> float32:\n    return q\n", "no-kernel", 1, 1),
    # --- syntax
    ("syntax-missing-colon", K("    if f > 0.0", "        pass"), "syntax", 4, 15),
    ("syntax-bad-character", K("    t = f $ 1.0"), "syntax", 4, 11),
    ("syntax-unexpected-token", K("    t = f + * 2.0"), "syntax", 4, 13),
    ("syntax-unexpected-indent", K("    t = f", "        t = 1.0"), "syntax", 5, 9),
    ("syntax-bad-dedent", K("    if f > 0.0:", "        t = f", "  t = 1.0"), "syntax", 6, 3),
    ("syntax-missing-block", K("    if f > 0.0:", "    t = f"), "syntax", 5, 5),
    ("syntax-unclosed-paren-eof", "@kernel\ndef k(x: In[array[float32]]", "syntax", 2, 28),
    ("syntax-keyword-as-name", K("    for = 1"), "syntax", 4, 9),
    ("syntax-chained-compare", K("    if 0.0 < f < 1.0:", "        pass"), "syntax", 4, 16),
    # --- launch sizes: 1 .. ops.MAX_LAUNCH threads, spelled launch=N
    ("launch-zero", "@kernel(launch=0)" + K("")[len("@kernel"):-1], "launch", 1, 1),
    ("launch-too-large", "@kernel(launch=65537)" + K("")[len("@kernel"):-1], "launch", 1, 1),
    ("launch-other-name", "@kernel(threads=8)" + K("")[len("@kernel"):-1], "launch", 1, 9),
    ("launch-not-int", "@kernel(launch=8.0)" + K("")[len("@kernel"):-1], "syntax", 1, 17),
    ("launch-empty", "@kernel()" + K("")[len("@kernel"):-1], "syntax", 1, 9),
    ("launch-below-tile", "@kernel(launch=3)" + K("    t = tile_sum(tile_load(x, 0, 4))")[len("@kernel"):], "launch", 4, 18),
]


# A helper with side effects may stand wherever a value of its type may
# (grammar/SEMANTICS.md, "Evaluation order and side effects").
EFFECTS_IN_EXPRESSIONS = [
    BUMP + K("    t = bump(a, f) + 1.0"),
    BUMP + K("    t = sin(bump(a, f))"),
    BUMP + K("    o[i] = bump(a, f)"),
    BUMP + K("    if bump(a, f) > 0.0:", "        pass"),
    BUMP + K("    if f > 0.0 and bump(a, f) > 0.0:", "        pass"),
    BUMP + K("    t = bump(a, f) if f > 0.0 else where(f < 1.0, bump(a, 1.0), 0.0)"),
    BUMP + K("    o[i] = x[clamp(int(bump(a, f)), 0, len(x) - 1)]"),
    BUMP + K("    w = 0", "    while w < 3 and bump(a, f) < 2.0:", "        w += 1"),
    BUMP + K("    for j in range(clamp(int(bump(a, f)), 0, 4)):", "        pass"),
    BUMP + K("    y[i] += bump(a, f)"),
]


@pytest.mark.parametrize("text", EFFECTS_IN_EXPRESSIONS)
def test_side_effects_are_accepted_in_expressions(text):
    program = parse(text)
    calls = [n for n in A.walk(program.kernels[0]) if isinstance(n, A.Call) and n.func == "bump"]
    assert calls and all(c.ty == F32 for c in calls)


def test_guards_prove_reads_in_bounds_where_they_dominate():
    program = parse((VALID_DIR / "guards.kernel").read_text())
    reads = [n for n in A.walk(program.kernels[0]) if isinstance(n, A.ArrayRead)]
    assert {r.index.id for r in reads} >= {"j", "q"}  # unclamped, proven by their guards


def test_spellings_parse_to_their_own_forms_and_print_back():
    text = K(
        "    t = where(f > 0.0, f, 1.0)",
        "    u = select(f > 0.0, f, 1.0)",
        "    j = int(f)",
        "    g = float(n)",
        "    h = float32(1.5) + 1.5",
    )
    kernel = parse(text).kernels[0]
    where, select = kernel.body[1].value, kernel.body[2].value
    assert (where.form, where.then.id, where.orelse.value) == ("where", "f", 1.0)
    # select(c, value_if_false, value_if_true): the arms are swapped
    assert (select.form, select.then.value, select.orelse.id) == ("select", 1.0, "f")
    assert kernel.body[3].value.builtin and kernel.body[3].value.ty == I32
    assert kernel.body[4].value.builtin and kernel.body[4].value.ty == F32
    literal, plain = kernel.body[5].value.left, kernel.body[5].value.right
    assert literal.typed and not plain.typed and literal.value == plain.value
    assert literal != plain  # two spellings, two programs
    assert print_program(parse(text)) == text


@pytest.mark.parametrize("name, text, rule, line, column", NEGATIVE, ids=[c[0] for c in NEGATIVE])
def test_rejected_with_rule_and_position(name, text, rule, line, column):
    with pytest.raises(DSLError) as info:
        parse(text)
    err = info.value
    assert (err.rule, err.line, err.column) == (rule, line, column), str(err)
    assert err.file == "<string>"
    assert str(err).startswith(f"<string>:{line}:{column}: {rule}: ")
    assert "\n" not in str(err)  # one line, however the source is laid out
    if rule == "syntax":
        assert isinstance(err, ParseError)


def test_negative_table_is_large_and_ids_unique():
    names = [c[0] for c in NEGATIVE]
    assert len(names) == len(set(names))
    assert len(NEGATIVE) >= 25


def test_checker_errors_are_check_errors():
    with pytest.raises(CheckError):
        parse(K("    x[i] = 1.0"))
    # ...and parse_untyped accepts what only the checker rejects.
    assert isinstance(parse_untyped(K("    x[i] = 1.0")), A.Program)
    with pytest.raises(ParseError):
        parse_untyped(K("    t = f $ 1.0"))


def test_error_names_the_file():
    text = K("    t = 1.0", "    o[0] = t")
    with pytest.raises(CheckError) as info:
        parse(text, "corpus/k0.kernel")
    err = info.value
    assert err.file == "corpus/k0.kernel"
    assert str(err).startswith("corpus/k0.kernel:5:7: race:")
    with pytest.raises(ParseError) as info:
        parse("@kernel\ndef k(x: In[array[float32]]):\n    t = $\n", "bad.kernel")
    assert str(info.value).startswith("bad.kernel:3:9: syntax:")


SYNTAX_MESSAGES = [
    (K("    if f > 0.0", "        pass"), "unexpected end of line"),
    (K("    t = f $ 1.0"), "unexpected character '$'"),
    (K("    t = f + * 2.0"), "unexpected '*'"),
    (K("    t = f", "        t = 1.0"), "unexpected indentation"),
    (K("    if f > 0.0:", "        t = f", "  t = 1.0"), "unindent does not match any outer indentation level"),
    ("@kernel\ndef k(x: In[array[float32]]", "unexpected end of file"),
    (K("    t = (f + 1.0"), "unexpected end of file"),
]


@pytest.mark.parametrize("text, message", SYNTAX_MESSAGES)
def test_syntax_error_messages(text, message):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.message.startswith(message), info.value.message


# ------------------------------------------------------- grammar <-> AST nodes


def test_every_grammar_rule_maps_to_nodes():
    rules = grammar_rules()
    assert rules, "no rules found"
    assert rules <= set(RULE_NODES), rules - set(RULE_NODES)
    # and RULE_NODES names no rule that the grammar lacks
    assert set(RULE_NODES) <= rules, set(RULE_NODES) - rules


def test_every_node_class_is_built_by_some_rule():
    built = {cls for classes in RULE_NODES.values() for cls in classes}
    expected = set(A.EXPR_TYPES + A.STMT_TYPES) | {A.Elif, A.Param, A.Func, A.Kernel, A.Program, A.StructDef, A.ConstDef, A.Starred}
    assert expected <= built, expected - built
    # Every AST dataclass of the module is one of these.
    module_nodes = {
        obj
        for obj in vars(A).values()
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == A.__name__ and obj is not A.Pos
    }
    assert module_nodes == expected


# ------------------------------------------------------------------ AST shape


def test_nodes_are_frozen():
    program = parse((VALID_DIR / "roles.kernel").read_text())
    const = A.Const(1.0, F32)
    with pytest.raises(dataclasses.FrozenInstanceError):
        const.value = 2.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        program.kernels[0].body[0].target = A.Name("j")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        program.kernels = ()  # type: ignore[misc]
    for node in list(A.walk(program.kernels[0]))[:50]:
        field = next(iter(dataclasses.fields(node))).name
        with pytest.raises((dataclasses.FrozenInstanceError, AttributeError)):
            setattr(node, field, None)
    # Nodes are hashable values: equal programs hash equal.
    assert hash(program) == hash(parse(print_program(program)))


ONE = A.Const(1.0, F32)

ILL_FORMED = [
    ("negative-literal", lambda: A.Const(-1.0, F32)),
    ("bool-literal", lambda: A.Const(True, I32)),
    ("infinite-literal", lambda: A.Const(float("inf"), F32)),
    ("nan-literal", lambda: A.Const(float("nan"))),
    ("float-value-int-type", lambda: A.Const(1.5, I32)),
    ("int-value-float-type", lambda: A.Const(1, F32)),
    ("vector-literal", lambda: A.Const(1.0, VEC3)),
    ("cast-of-literal", lambda: A.Cast(I32, A.Const(1.5, F32))),
    ("cast-to-vector", lambda: A.Cast(VEC3, A.Name("x"))),
    ("construct-arity", lambda: A.Construct(VEC3, (ONE,))),
    ("construct-scalar", lambda: A.Construct(F32, (ONE,))),
    ("binop-pow", lambda: A.BinOp("**", ONE, ONE)),
    ("compare-unknown", lambda: A.Compare("<>", ONE, ONE)),
    ("boolop-unknown", lambda: A.BoolOp("xor", A.Name("a"), A.Name("b"))),
    ("component-index", lambda: A.Component(A.Name("v"), 4)),
    ("aug-op-unknown", lambda: A.AugAssign(A.Name("x"), "%=", ONE)),
    ("assign-to-const", lambda: A.Assign(ONE, ONE)),
    ("assign-to-expr-component", lambda: A.Assign(A.Component(A.Call("f", ()), 0), ONE)),
    ("atomic-unknown", lambda: A.Atomic("mul", "a", A.Tid(), ONE)),
    ("while-negative-limit", lambda: A.While("w", -1, None, ())),
    ("program-without-kernel", lambda: A.Program((), ())),
]


@pytest.mark.parametrize("build", [b for _, b in ILL_FORMED], ids=[n for n, _ in ILL_FORMED])
def test_ill_formed_nodes_cannot_be_built(build):
    with pytest.raises(A.ASTError):
        build()


def test_well_formed_counterparts_can_be_built():
    # The same constructors accept the legal shapes, so the failures above are
    # about the shapes, not the constructors.
    A.Const(0.0, F32)
    A.Const(3, U32)
    A.Cast(I32, A.Name("x"))
    A.Construct(VEC3, (ONE, ONE, ONE))
    A.BinOp("@", A.Name("m"), A.Name("v"))
    A.Component(A.Name("v"), 3)
    A.Assign(A.Component(A.Name("v"), 0), ONE)
    A.Atomic("max", "a", A.Tid(), ONE)
    A.While("w", 0, None, ())

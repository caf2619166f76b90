"""The construct table of `synth stats`: what each program uses, named."""

from __future__ import annotations

from kernel_synth.grammar import parse
from kernel_synth.grammar.stats import CONSTRUCTS, StatsCollector, constructs

PROGRAM = """
@func
def bump(a: Acc[array[float32]], v: float32) -> float32:
    atomic_max(a, 0, v)
    return v

@kernel
def k(x: In[array[float32]], m: InOut[array[vec3]], a: Acc[array[float32]], o: Out[array[int64]], n: int32):
    i = tid()
    v = m[i]
    v.y = x[i] if x[i] > 0.0 else -x[i]
    t = bump(a, sin(v.x))
    t += 1.0
    for j in range(clamp(n, 0, 4)):
        w = 0
        while w < 3:
            w += 1
            if w == 2 and not j > 1:
                continue
        break
    o[i] = int64(n // 2)
    m[i] = v
"""


def test_constructs_names_what_a_program_uses():
    used = constructs(parse(PROGRAM))
    assert used == {
        "helper", "helper-call", "effectful-helper", "builtin-call", "atomic-max", "ternary", "and-or", "not",
        "for-dynamic", "while", "nested-loop", "continue", "break", "if", "aug-assign", "component-read",
        "component-store", "vector", "cast", "integer-division", "int64", "in-array", "inout-array",
        "acc-array", "out-array", "scalar-param",
    }
    assert used <= set(CONSTRUCTS)


def test_the_summary_counts_programs_per_construct():
    collector = StatsCollector()
    collector.add(parse(PROGRAM))
    collector.add(parse("@kernel\ndef k(o: Out[array[float32]]):\n    i = tid()\n    o[i] = 1.0\n"))
    counts = collector.summary()["constructs"]
    assert list(counts) == list(CONSTRUCTS)
    assert counts["out-array"] == 2 and counts["while"] == 1 and counts["matrix"] == 0

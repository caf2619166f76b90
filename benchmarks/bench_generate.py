"""Generation throughput: programs/s drawn through the Hypothesis strategies.

    python benchmarks/bench_generate.py [--n 2000] [--seed 0] [--warmup 100]

One process, default profile. Each program is drawn as `synth sample` draws it:
`grammar.sampling.draw_program` feeds seeded byte buffers to a
`@given(programs())` test through `fuzz_one_input`. Two phases, same N, same
seeds:

1. fast draw path: the strategies as shipped (`_choice_source` takes
   ConjectureData.draw_integer when the running Hypothesis offers it);
2. public draw path (the in-run baseline): `_choice_source` patched to the
   fallback, `draw(st.integers(lo, hi))` for every choice.

The strategy and runner caches are cleared before each phase, and each phase
warms up before it is timed. This is a benchmark, not a test: the exit code is
0 whatever the figures.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from contextlib import contextmanager
from importlib import metadata

import kernel_synth.grammar.sampling as sampling
import kernel_synth.grammar.strategies as strategies
from kernel_synth.grammar.stats import ast_size
from kernel_synth.grammar.weights import default_weights

TARGET = 250.0  # programs/s at the default profile


@contextmanager
def public_draw_path():
    """Every choice through the public `draw(st.integers(lo, hi))`."""
    original = strategies._choice_source

    def fallback(draw):
        return lambda lo, hi: draw(strategies._integers(lo, hi))

    strategies._choice_source = fallback
    try:
        yield
    finally:
        strategies._choice_source = original


def clear_caches() -> None:
    strategies._program_strategy.cache_clear()
    sampling._runner.cache_clear()


def phase(n: int, seed: int, warmup: int) -> tuple[float, list[int]]:
    """(programs/s over n timed draws, AST sizes of the timed programs)."""
    clear_caches()
    weights = default_weights()
    for index in range(warmup):  # builds the strategy and runner, warms Hypothesis
        sampling.draw_program(seed + 1, index, weights)
    drawn = []
    start = time.perf_counter()
    for index in range(n):
        drawn.append(sampling.draw_program(seed, index, weights))
    elapsed = time.perf_counter() - start
    return n / elapsed, [ast_size(p) for p in drawn]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="timed draws per phase (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the timed draws (default 0)")
    parser.add_argument("--warmup", type=int, default=100, help="untimed draws before each phase (default 100)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")

    print(f"python {platform.python_version()}, hypothesis {metadata.version('hypothesis')}, {args.n} programs, seed {args.seed}, warm-up {args.warmup}")
    fast, sizes = phase(args.n, args.seed, args.warmup)
    print(f"programs/s (fast draw path): {fast:.1f}")
    with public_draw_path():
        public, public_sizes = phase(args.n, args.seed, args.warmup)
    clear_caches()  # nothing built on the patched path outlives it
    print(f"programs/s (public draw path, baseline): {public:.1f}")
    print(f"ratio: {fast / public:.2f}")
    print(f"mean AST nodes: {sum(sizes) / len(sizes):.1f} (baseline phase: {sum(public_sizes) / len(public_sizes):.1f})")
    print(f"target >= {TARGET:g} programs/s: {'PASS' if fast >= TARGET else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

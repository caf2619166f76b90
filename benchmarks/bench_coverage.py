"""Reach: line coverage of Warp's code generator by generated programs.

    python benchmarks/bench_coverage.py [--n 1000] [--seed 0] [--sources default,plain,templates]

For each source of programs, in this one run, a fresh process (coverage
started before Warp is imported, a fresh kernel cache) compiles N programs
with Warp's CPU backend, forward and backward, then launches each twice on
its inputs as a campaign does, and reports the share of the statements of
Warp's code generator (`warp/_src/codegen.py`, or `warp/codegen.py` on older
releases) that ran, and of `builtins.py` beside it; the share that compiling
alone reached is printed beside it (the launches add the host side: a
struct argument's field setters, array and value conversions):

- `default`: programs drawn at the default weights;
- `plain`: the same draws with the reach issue's forms switched off (side
  effects inside expressions, where/select, int()/float(), typed literals,
  expanded updates) and Warp's own constructs (structs, helpers returning a
  struct or several values, tiles, generic and overloaded helpers, helpers
  taking a helper, native helpers, helpers whose bodies begin by calling a
  helper, grad()):
  the language as it was before them;
- `templates`: programs in the manner of the template generators described in
  ../shared/seeds/ (a handful of fixed kernels per category, with the operator,
  the math function and the constants drawn).

Targets: >= 60% of codegen.py at the default weights with 1000 programs,
and more than `plain` in the same run (the reach issue); >= 65% (Warp's own
constructs).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCES = ("default", "plain", "templates")

# The alternatives the reach issue added, switched off for `plain`
PLAIN_OFF = {
    "ternary_form": ("where", "select"),
    "cast_spelling": ("builtin",),
    "literal_spelling": ("typed",),
    "aug_spelling": ("expanded",),
    "effect_position": ("operand", "condition", "lazy"),
    "helper_kind": ("struct", "multi", "generic", "overloaded", "higher_order", "native"),
    "float_expr": ("grad",),
    "helper_nesting": ("call",),
    "swarm": ("structs", "tiles"),  # probabilities: no program declares a struct or loads a tile
}

# Template kernels per seed category: {op} an operator, {fn} a math function,
# {c} a constant. One kernel each, as the seed generators wrote them.
TEMPLATES = {
    "elementwise": ["@kernel\ndef k(a: In[array[float32]], b: In[array[float32]], c: Out[array[float32]]):\n    i = tid()\n    c[i] = a[i] {op} b[i]\n"],
    "scalar_array": ["@kernel\ndef k(x: In[array[float32]], y: Out[array[float32]], alpha: float32):\n    i = tid()\n    y[i] = alpha * x[i] {op} {c}\n"],
    "unary": ["@kernel\ndef k(a: In[array[float32]], b: Out[array[float32]]):\n    i = tid()\n    b[i] = {fn}(a[i])\n"],
    "branch": [
        "@kernel\ndef k(a: In[array[float32]], b: Out[array[float32]]):\n    i = tid()\n    v = a[i]\n    if v > {c}:\n        b[i] = v {op} 2.0\n    else:\n        b[i] = -v\n"
    ],
    "loop": [
        "@kernel\ndef k(a: In[array[float32]], b: Out[array[float32]], n: int32):\n    i = tid()\n    s = 0.0\n    for j in range(clamp(n, 0, 8)):\n        s = s {op} a[i]\n    b[i] = s\n"
    ],
    "reduction": ["@kernel\ndef k(a: In[array[float32]], total: Acc[array[float32]]):\n    i = tid()\n    atomic_add(total, 0, a[i] {op} {c})\n"],
    "vector": [
        "@kernel\ndef k(a: In[array[vec3]], b: In[array[vec3]], c: Out[array[float32]]):\n    i = tid()\n    c[i] = dot(a[i], b[i])\n",
        "@kernel\ndef k(a: In[array[vec3]], b: In[array[vec3]], c: Out[array[vec3]]):\n    i = tid()\n    c[i] = cross(a[i], b[i]) * {c}\n",
        "@kernel\ndef k(a: In[array[vec3]], c: Out[array[float32]]):\n    i = tid()\n    c[i] = length(a[i])\n",
    ],
    "multi_statement": [
        "@kernel\ndef k(a: In[array[float32]], b: In[array[float32]], c: Out[array[float32]]):\n    i = tid()\n    t = a[i] {op} b[i]\n    c[i] = {fn}(t)\n"
    ],
    "nested_branch": [
        "@kernel\ndef k(a: In[array[float32]], b: Out[array[float32]]):\n    i = tid()\n    v = a[i]\n    if v > 0.0:\n        if v > {c}:\n            b[i] = v\n        else:\n            b[i] = v {op} 2.0\n    else:\n        b[i] = 0.0\n"
    ],
    "compound": [
        "@kernel\ndef k(a: In[array[float32]], b: In[array[float32]], c: Out[array[float32]], s: float32):\n    i = tid()\n    t = {fn}(a[i]) {op} b[i] * s\n    if t > {c}:\n        t = t * 0.5\n    c[i] = t\n"
    ],
}
TEMPLATE_OPS = ("+", "-", "*")
TEMPLATE_FUNCS = ("sin", "cos", "exp", "tanh", "sqrt", "abs")


def template_programs(n: int, seed: int) -> list[str]:
    """Round-robin over categories, as the seed generators balanced them."""
    rng = random.Random(seed)
    categories = sorted(TEMPLATES)
    out = []
    for index in range(n):
        text = rng.choice(TEMPLATES[categories[index % len(categories)]])
        fn = rng.choice(TEMPLATE_FUNCS)
        arg = "abs(a[i])" if fn == "sqrt" else "clamp(a[i], -8.0, 8.0)" if fn == "exp" else None
        text = text.format(op=rng.choice(TEMPLATE_OPS), fn=fn, c=rng.choice(("0.5", "1.0", "2.0", "10.0")))
        if arg is not None:  # the templates' domain guards
            text = text.replace(f"{fn}(a[i])", f"{fn}({arg})")
        out.append(text)
    return out


def plain_weights():
    from kernel_synth.grammar.weights import DEFAULT_PATH, parse_weights

    text = DEFAULT_PATH.read_text()
    lines, rule = [], None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[rules."):
            rule = stripped[len("[rules.") : -1]
        elif stripped == "[swarm]":
            rule = "swarm"
        elif stripped.startswith("["):
            rule = None
        key = stripped.split("=")[0].strip() if "=" in stripped else None
        if rule in PLAIN_OFF and key in PLAIN_OFF[rule]:
            line = f"{key} = 0"
        lines.append(line)
    return parse_weights("\n".join(lines) + "\n", "plain.toml")


def programs_of(source: str, n: int, seed: int):
    from kernel_synth.grammar import parse
    from kernel_synth.grammar.sampling import draw_programs

    if source == "templates":
        return [parse(text) for text in template_programs(n, seed)]
    weights = plain_weights() if source == "plain" else None
    return list(draw_programs(n, seed=seed, weights=weights))


def codegen_files() -> dict[str, str]:
    """Warp's code generator and builtins, located without importing Warp."""
    root = Path(importlib.util.find_spec("warp").submodule_search_locations[0])
    inner = root / "_src" if (root / "_src" / "codegen.py").exists() else root
    return {"codegen.py": str(inner / "codegen.py"), "builtins.py": str(inner / "builtins.py")}


def worker(source: str, n: int, seed: int) -> dict:
    """In a fresh process: coverage of Warp's codegen while compiling
    `source`'s programs, then while launching them as a campaign does."""
    import coverage

    files = codegen_files()
    cov = coverage.Coverage(include=list(files.values()), data_file=None)
    cov.start()
    from kernel_synth.backends.warp_backend import WarpCompiler
    from kernel_synth.backends.warp_release import installed

    programs = programs_of(source, n, seed)
    level = 0 if installed().has("optimization_level") else None  # native code speed does not change Python coverage
    compiler = WarpCompiler("cpu", tempfile.mkdtemp(prefix="bench-coverage-"), backward=True, optimization_level=level)
    failed, built = 0, []
    for start in range(0, len(programs), 32):
        batch = programs[start : start + 32]
        outcomes, modules = compiler.build(batch)
        failed += sum(o is not None for o in outcomes)
        built += [(batch[index], module, names) for index, (module, names) in modules.items()]
    cov.stop()
    result = {"programs": len(programs), "failed": failed}
    for name, path in files.items():
        _, statements, _, missing, _ = cov.analysis2(path)
        result[name] = {"statements": len(statements), "covered": len(statements) - len(missing)}
    # the launches: arguments built on the host (a struct's field setters,
    # array and vector conversions) are Warp's code generator's code too
    cov.start()
    failed_runs = sum(compiler.run_built(module, names, program).status.name != "OK" for program, module, names in built)
    cov.stop()
    result["launch_failed"] = failed_runs
    for name, path in files.items():
        _, statements, _, missing, _ = cov.analysis2(path)
        result[name]["launched"] = len(statements) - len(missing)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument("--json", help="write the figures as JSON")
    parser.add_argument("--worker", choices=SOURCES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.n, args.seed)))
        return

    results = {}
    for source in args.sources.split(","):
        run = subprocess.run(
            [sys.executable, __file__, "--worker", source, "--n", str(args.n), "--seed", str(args.seed)],
            capture_output=True, text=True, env={**os.environ, "WARP_CACHE_PATH": tempfile.mkdtemp()},
        )
        if run.returncode != 0:
            # a program that crashes Warp when launched takes its worker with
            # it: the other sources' figures still stand
            errors = [line for line in run.stderr.splitlines() if "warning" not in line and line.strip() and not line.lstrip()[:1] in "|0123456789"]
            print(f"{source}: the worker failed (exit {run.returncode}): {' / '.join(errors[-3:])[:500]}", file=sys.stderr)
            continue
        results[source] = json.loads(run.stdout.strip().splitlines()[-1])
    from importlib.metadata import version

    print(f"warp-lang {version('warp-lang')}, {args.n} programs per source, seed {args.seed}, forward and backward")
    for source, result in results.items():
        shares = {name: result[name]["launched"] / result[name]["statements"] for name in ("codegen.py", "builtins.py")}
        compiled = result["codegen.py"]["covered"] / result["codegen.py"]["statements"]
        print(
            f"{source:>10}: codegen.py {shares['codegen.py']:.1%} ({result['codegen.py']['launched']} of {result['codegen.py']['statements']} statements; "
            f"{compiled:.1%} by compiling alone), builtins.py {shares['builtins.py']:.1%}; "
            f"{result['failed']} of {result['programs']} failed to build, {result['launch_failed']} failed to run"
        )
        result["shares"] = shares
    if "default" in results:
        share = results["default"]["shares"]["codegen.py"]
        print(f"default weights: codegen.py {share:.1%}, compiled and launched (targets: >= 60%, the reach issue; >= 65%, Warp's own constructs)")
        for other in ("plain", "templates"):
            if other in results:
                theirs = results[other]["shares"]["codegen.py"]
                print(f"  against {other}: {share - theirs:+.1%} ({'more' if share > theirs else 'NOT more'})")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Every GPU check in one run, for a machine with an NVIDIA GPU (a few minutes):
#   1. a warp-cuda campaign that compiles through NVRTC and launches on the
#      device, each program compared with the NumPy reference, and Warp's
#      CUDA adjoints checked against JAX and finite differences;
#   2. a jax-cuda campaign, lowered for CUDA and run on the device;
#   3. the CUDA compile benchmark (batched modules against one per kernel).
#
#   PYTHON=/path/to/venv/bin/python OUT=/tmp/out benchmarks/gpu_check.sh [BUDGET]
#
# PYTHON must have kernel-synth with warp-lang (and JAX with its CUDA plugin
# for step 2) installed; a step whose library is missing says so and the
# others still run. Summaries and logs land in $OUT, the corpora found as
# $OUT/corpora.tgz; the exit code is the number of steps that failed.
set -u
PYTHON=${PYTHON:-python}
OUT=${OUT:-$(mktemp -d)}
BUDGET=${1:-60s}
mkdir -p "$OUT"
failed=0

step() {  # name, command...
    local name=$1; shift
    echo "== $name"
    if "$@" >"$OUT/$name.log" 2>&1; then
        tail -n 3 "$OUT/$name.log"
    else
        echo "$name failed (exit $?):"; tail -n 5 "$OUT/$name.log"
        failed=$((failed + 1))
    fi
}

"$PYTHON" - <<'PY' || exit 1
import importlib.util, sys
for lib in ("kernel_synth", "warp", "jax"):
    print(f"{lib}: {'present' if importlib.util.find_spec(lib) else 'MISSING'}")
if importlib.util.find_spec("kernel_synth") is None:
    sys.exit("kernel-synth is not installed in this Python")
if importlib.util.find_spec("warp"):
    import warp as wp
    wp.init()
    print("warp CUDA devices:", wp.get_cuda_device_count())
PY

corpus=$(mktemp -d)
# the corpora are packed after each campaign: a later step cut off by a
# time limit loses nothing already found
step warp-cuda "$PYTHON" -m kernel_synth.synth.cli fuzz --backend warp-cuda --budget "$BUDGET" \
    --corpus "$corpus/warp" --json "$OUT/warp-cuda.json"
tar -C "$corpus" -czf "$OUT/corpora.tgz" . 2>/dev/null
step jax-cuda "$PYTHON" -m kernel_synth.synth.cli fuzz --backend jax-cuda --budget "$BUDGET" \
    --corpus "$corpus/jax" --json "$OUT/jax-cuda.json"
tar -C "$corpus" -czf "$OUT/corpora.tgz" . 2>/dev/null
step bench-compile-cuda "$PYTHON" benchmarks/bench_compile.py --targets cuda --n 40
exit $failed

"""A short campaign on each of several Warp releases, against the newest.

    python benchmarks/bench_releases.py [--releases 1.0.2,1.4.1,1.8.0,1.12.1,latest] [--budget 60s] [--oracles ...]

Each release runs in its own environment (built and cached as `synth bisect`
builds them), one after the other on the same machine, the same seed and
the same budget. Prints per release: programs/s, the share of drawn programs
that compiled, the buckets found, and programs/s as a ratio of the newest
release's in this run (the target: every release within 2x, a ratio of at
least 0.5).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from kernel_synth.synth.bisect import BisectError, available_releases, environment, parse_releases

DEFAULT_RELEASES = "1.0.2,1.4.1,1.8.0,1.12.1,latest"


def campaign(python: Path, budget: str, oracles: str, seed: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-releases-") as scratch:
        out = Path(scratch) / "summary.json"
        command = [str(python), "-m", "kernel_synth.synth.cli", "fuzz", "--budget", budget, "--seed", str(seed),
                   "--corpus", str(Path(scratch) / "corpus"), "--json", str(out), "--oracles", oracles]
        run = subprocess.run(command, capture_output=True, text=True, cwd=scratch)
        if not out.exists():
            raise BisectError(f"the campaign failed (exit {run.returncode}): {(run.stderr.strip().splitlines() or ['no message'])[-1]}")
        return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--releases", default=DEFAULT_RELEASES)
    parser.add_argument("--budget", default="60s")
    parser.add_argument("--oracles", default="compile,crash,timeout,forward,nondeterminism,gradient")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    releases = parse_releases(args.releases, available_releases())
    rows = {}
    for release in releases:
        try:
            summary = campaign(environment(release, print), args.budget, args.oracles, args.seed)
        except BisectError as exc:
            print(f"warp-lang {release}: {exc}")
            continue
        programs = summary["programs"]
        compiled = summary["compiled"].get("warp-cpu", 0) / max(programs, 1)
        rows[release] = (summary["throughput"], compiled, [b["signature"] for b in summary["buckets"]])
        print(f"warp-lang {release}: {programs} programs, {summary['throughput']:.2f} programs/s, {compiled:.1%} compiled, {len(rows[release][2])} buckets", flush=True)
    if not rows:
        sys.exit("no release ran")
    newest = rows[releases[-1]][0] if releases[-1] in rows else max(r[0] for r in rows.values())
    print(f"\n{'release':>9} {'prog/s':>7} {'ratio':>6} {'compiled':>9}  buckets")
    for release, (rate, compiled, buckets) in rows.items():
        verdict = "PASS" if rate / newest >= 0.5 else "FAIL"
        print(f"{release:>9} {rate:7.2f} {rate / newest:6.2f} {compiled:9.1%}  {len(buckets)} {verdict}")
        for signature in buckets:
            print(f"{'':>36}{signature}")


if __name__ == "__main__":
    main()

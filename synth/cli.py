"""The `synth` command line.

User errors (bad options, unparsable DSL, broken weights) print one line naming
the problem and its place, and exit with code 2; a bug of ours keeps its
traceback. Long work shows a progress bar on a terminal and nothing otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from kernel_synth.grammar import DSLError, parse, print_program
from kernel_synth.grammar import ast as A
from kernel_synth.grammar.categories import CATEGORIES, classify
from kernel_synth.grammar.weights import AVOIDABLE, DEFAULT_PATH, Weights, load_weights, with_avoid

from . import __version__
from .files import write_atomic

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A user error that is not a DSLError: printed as one line, exit code 2."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (DSLError, UsageError) as exc:
        print(f"synth: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("synth: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `synth sample | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synth", description="Grammar-based fuzzer and synthesizer for GPU-kernel compilers.")
    parser.add_argument("--version", action="version", version=f"kernel-synth {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sample = commands.add_parser("sample", help="draw programs and print them (or write one .kernel file each)")
    _draw_options(sample, default_n=5)
    sample.add_argument("--out", type=Path, metavar="DIR", help="write one file per program into DIR")
    sample.add_argument("--format", choices=("dsl", "warp", "jax"), default="dsl", help="print the DSL (default) or the rendered Warp or JAX source")
    sample.set_defaults(run=cmd_sample)

    stats = commands.add_parser("stats", help="the distribution a weights profile produces; or, given datasets, what their rows hold")
    stats.add_argument("paths", nargs="*", type=Path, metavar="FILE_OR_DIR", help="datasets (.jsonl, .parquet, or directories of shards) to summarise instead of drawing programs")
    _draw_options(stats, default_n=1000)
    stats.add_argument("--validate", action="store_true", help="with datasets: re-parse every row's dsl, re-render its sources, check its id and its IR's dialects; exit 1 naming each bad row")
    stats.add_argument("--json", action="store_true", help="print the summary as JSON")
    stats.add_argument("--plot", type=Path, metavar="FILE", help="also draw the category shares, the program sizes and the constructs into FILE (.png or .svg; needs matplotlib)")
    stats.add_argument("--target", metavar="SPEC", help="with --plot: the primary shares to draw beside the drawn ones (`uniform` or a target file, as for `synth tune`)")
    stats.set_defaults(run=cmd_stats)

    check = commands.add_parser("check", help="parse and type-check DSL files")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.set_defaults(run=cmd_check)

    render = commands.add_parser("render", help="render a DSL file as Warp or JAX source")
    render.add_argument("file", type=Path, metavar="FILE")
    render.add_argument("--target", choices=("warp", "jax"), default="warp", help="which source to write (default warp)")
    render.set_defaults(run=cmd_render)

    from kernel_synth.backends.registry import BACKENDS

    backends_help = "backends:\n" + "\n".join(f"  {b.name:16s} {b.description}" for b in BACKENDS.values())
    compile_ = commands.add_parser(
        "compile",
        help="compile DSL files with a backend; report per-file status",
        epilog=backends_help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    compile_.add_argument("files", nargs="+", type=Path, metavar="FILE")
    compile_.add_argument("--backend", default="warp-cpu", metavar="B", help="warp-cpu (default), warp-cuda, jax-cpu, jax-cuda")
    compile_.add_argument("--ir", type=Path, metavar="DIR", help="write <name>.<backend>.{forward,backward}.<ext> files into DIR")
    compile_.add_argument("--backward", action="store_true", help="compile the backward (adjoint) pass too")
    compile_.add_argument("--json", action="store_true", help='print {"results": [{"file", "status", "signature"}]}')
    compile_.add_argument("--workers", type=_positive, default=min(2, os.cpu_count() or 1), help="worker processes (default: up to 2)")
    compile_.add_argument("--timeout", type=float, default=120.0, help="seconds a batch may take before its worker is killed")
    compile_.set_defaults(run=cmd_compile)

    fuzz = commands.add_parser("fuzz", help="a fuzz campaign: draw, compile, judge, shrink, store findings in a corpus")
    fuzz.add_argument("--budget", type=_duration, required=True, help="how long: 90s, 10m, 1h, 1h30m")
    fuzz.add_argument("--backend", type=_backend_list, default=("warp-cpu",), metavar="B[,B2...]", help="backends to fuzz (default warp-cpu)")
    fuzz.add_argument("--seed", type=int, default=0, help="the seed (default 0): the same seed draws the same programs")
    fuzz.add_argument("--workers", type=_positive, default=None, help="worker processes per backend (default: the number of cores; with --executor ray, the cluster's CPUs)")
    fuzz.add_argument("--corpus", type=Path, default=Path("corpora"), metavar="DIR", help="where findings go (default corpora/)")
    fuzz.add_argument("--weights", type=Path, metavar="P", help="a weights profile (TOML)")
    fuzz.add_argument("--known-bugs", choices=("avoid", "draw"), default="avoid", help="avoid (the default): leave out the triggers of the known Warp bugs the installed release has, which would fail programs again and hide what else they hold; draw: keep them")
    fuzz.add_argument("--oracles", type=_oracle_list, default=None, metavar="O[,O2...]", help="some of compile,crash,timeout,forward,nondeterminism,gradient,process-state,jit-eager,vmap-loop,xla-config,jvp-vjp (default: all; gradient where a backend has adjoints and JAX imports; jit-eager, vmap-loop, xla-config and jvp-vjp judge the JAX backends)")
    fuzz.add_argument("--gradient-share", type=_share, default=None, metavar="F", help="gradient oracle: the share of the programs it may compare that are sent to be checked, chosen by each program's hash (default 1: every one the checker keeps up with; a check costs about what fuzzing the program did, so a smaller share leaves the fuzzing more of the CPU)")
    fuzz.add_argument("--loop-share", type=_share, default=None, metavar="F", help="vmap-loop oracle: the share of programs a JAX backend also runs with its threads in a fori_loop, chosen by each program's hash (default 0.25; shrinks and replays run all)")
    fuzz.add_argument("--xla-share", type=_share, default=None, metavar="F", help="xla-config oracle: the share of programs a JAX backend also compiles under another XLA configuration, chosen by each program's hash (default 0.25; shrinks and replays run every configuration)")
    fuzz.add_argument("--jvp-share", type=_share, default=None, metavar="F", help="jvp-vjp oracle: the share of programs a JAX backend also differentiates in forward and in reverse mode, chosen by each program's hash (default 0.25: both modes cost about half the rest of a program's path; shrinks and replays run all)")
    fuzz.add_argument("--eager-share", type=_share, default=None, metavar="F", help="jit-eager oracle: the share of programs a JAX backend also runs op by op, chosen by each program's hash (default 0.25: the eager run costs about as much as the jitted one; shrinks and replays run all)")
    fuzz.add_argument("--json", type=Path, metavar="FILE", help="write the final summary as JSON")
    fuzz.add_argument("--resume", action="store_true", help="continue the campaign whose state is in the corpus")
    fuzz.add_argument("--batch-size", type=_positive, default=None, help="programs per batch, split over the workers (default: 32 per worker; 128 per worker on warp-lang before 1.13, whose CPU compiler reparses its headers for every module)")
    fuzz.add_argument("--pipeline-depth", type=_positive, default=2, metavar="N", help="batches in flight at once (default 2: drawing, the reference, judging and gradient checks overlap the compiles; 1: each step in turn)")
    fuzz.add_argument("--shrink-time", type=_duration, default=120.0, metavar="T", help="the most one shrink may take (default 2m); shrinks run beside the fuzzing")
    fuzz.add_argument("--shrink-nice", type=_count, default=None, metavar="N", help="niceness added to the shrinker's worker (default 0, an equal share of the cores; 10: mostly the cores the fuzzing leaves idle)")
    fuzz.add_argument("--hypothesis-shrink", action="store_true", help="run Hypothesis's shrinker before the AST reducer (slower; see README)")
    _executor_options(fuzz)
    fuzz.set_defaults(run=cmd_fuzz)

    replay = commands.add_parser("replay", help="re-run corpus cases: still failing, fixed, or changed signature")
    replay.add_argument("paths", nargs="+", type=Path, metavar="DIR", help="corpus directories or .kernel files")
    replay.add_argument("--backend", metavar="B", help="replay on B instead of each case's own backend")
    replay.add_argument("--json", type=Path, metavar="FILE", help="write every case's result as JSON")
    replay.add_argument("--workers", type=_positive, default=1, help="worker processes (default 1)")
    replay.add_argument("--releases", metavar="SPEC", help="replay on each of these releases (as `synth bisect`: Warp's, or JAX's with a jax: prefix) and print a table")
    replay.set_defaults(run=cmd_replay)

    bisect = commands.add_parser("bisect", help="replay cases on many Warp (or JAX) releases: where each fails, since when, where it was fixed")
    bisect.add_argument("paths", nargs="+", type=Path, metavar="CASE", help="corpus cases or directories")
    bisect.add_argument("--releases", required=True, metavar="SPEC", help="[PACKAGE:]A..B (B may be latest, A defaults to the oldest supported): bisected by halving; or a comma list, every release replayed, e.g. 1.0.2,1.8.0,latest. PACKAGE: warp-lang (the default) or jax, e.g. jax:0.4.30..latest")
    bisect.add_argument("--backend", metavar="B", help="replay on B instead of each case's own backend")
    bisect.add_argument("--json", type=Path, metavar="FILE", help="write every case's status per release as JSON")
    bisect.set_defaults(run=cmd_bisect)

    shrink_ = commands.add_parser("shrink", help="shrink a failing program from a file, keeping its signature")
    shrink_.add_argument("file", type=Path, metavar="FILE")
    shrink_.add_argument("--backend", default=None, metavar="B", help="the backend it fails on (default: a corpus case's, else warp-cpu)")
    shrink_.add_argument("--budget", type=_duration, default=600.0, help="time limit for shrinking (default 10m)")
    shrink_.add_argument("--out", type=Path, metavar="FILE", help="write the shrunk program here instead of stdout")
    shrink_.add_argument("--corpus", type=Path, metavar="DIR", help="also store the result as a corpus case under DIR, after a confirming replay in a fresh process")
    shrink_.add_argument("--launch", type=_positive, default=None, help="threads per launch for the forward oracles (default: a corpus case's, else 16)")
    shrink_.add_argument("--seed", type=int, default=None, help="the seed of the launch inputs (default: a corpus case's, else 0)")
    shrink_.set_defaults(run=cmd_shrink)

    from .dataset import FORMATS
    from .rows import DATASET_BACKENDS

    generate = commands.add_parser(
        "generate",
        help="write a Python→IR dataset: DSL, Warp and JAX sources, forward and backward IR per backend",
        description="Rows are seeded (the same command writes the same rows), deduplicated, and resumable after any interruption.",
    )
    generate.add_argument("--count", type=_positive, required=True, help="rows to write")
    generate.add_argument("--backend", type=_dataset_backends, default=("warp-cpu",), metavar="B[,B2...]", help=f"some of {', '.join(DATASET_BACKENDS)} (default warp-cpu); one row carries every backend's IR")
    generate.add_argument("--out", type=Path, required=True, metavar="PATH", help="a .jsonl or .parquet file, or with --shard-size a directory of shards and a manifest")
    generate.add_argument("--format", choices=FORMATS, default=None, help="jsonl or parquet (default: from --out's suffix, else jsonl)")
    generate.add_argument("--seed", type=int, default=0, help="the seed (default 0)")
    generate.add_argument("--weights", type=Path, metavar="P", help="a weights profile (TOML)")
    generate.add_argument("--known-bugs", choices=("avoid", "draw"), default="avoid", help="avoid (the default): with a Warp backend, leave out the triggers of the known Warp bugs the installed release has (such programs fail to compile and make no row); draw: keep them")
    generate.add_argument("--balanced", action="store_true", help="the same number of rows (within one) for every category asked for")
    generate.add_argument("--category", nargs="+", action="extend", choices=CATEGORIES, metavar="C", help=f"keep rows of these primary categories only: {', '.join(CATEGORIES)}")
    generate.add_argument("--workers", type=_positive, default=None, help="worker processes per backend (default: the number of cores; with --executor ray, the cluster's CPUs)")
    generate.add_argument("--shard-size", type=_positive, default=None, metavar="K", help="rows per shard; --out is then a directory")
    generate.add_argument("--resume", action="store_true", help="continue an interrupted run of the same command")
    generate.add_argument("--forward-only", action="store_true", help="no backward IR (then programs without a gradient make rows too)")
    generate.add_argument("--corpus", type=Path, default=Path("corpora"), metavar="DIR", help="where programs that fail to compile are stored as findings (default corpora/)")
    generate.add_argument("--json", type=Path, metavar="FILE", help="write the final summary as JSON")
    swarm = generate.add_mutually_exclusive_group()
    swarm.add_argument("--swarm", dest="swarm", action="store_true", default=None, help="switch optional features off per program")
    swarm.add_argument("--no-swarm", dest="swarm", action="store_false", help="every feature on for every program")
    _executor_options(generate)
    generate.set_defaults(run=cmd_generate)

    report_ = commands.add_parser("report", help="what a campaign did, from its saved state: numbers, and with --plot a picture")
    report_.add_argument("path", type=Path, metavar="CORPUS_OR_STATE", help="a campaign's corpus directory (its .campaign/state.json) or the state file")
    report_.add_argument("--plot", type=Path, metavar="FILE", help="findings and buckets over time, programs/s over time, buckets per oracle and backend, shrink ratios (.png or .svg; needs matplotlib)")
    report_.add_argument("--json", action="store_true", help="print the report as JSON")
    report_.set_defaults(run=cmd_report)

    tune_ = commands.add_parser(
        "tune",
        help="fit a profile's aim mix to a target distribution of categories and features",
        description="Measures what draws aimed at each category (or at none) produce, solves for the mix nearest the target "
        "(features it does not name kept near their shares), checks the mix on fresh draws and corrects, a few rounds. Seeded: the same command writes the same profile.",
    )
    tune_.add_argument("--target", metavar="SPEC", help="`uniform` (the twelve primary labels alike) or a TOML/JSON file of [primary], [categories], [constructs] shares and [mean] ast_size/depth")
    tune_.add_argument("--objective", choices=("target", "buckets"), default="target", help="target (default): meet --target; buckets: short campaigns of candidate profiles, the one with the most buckets per hour")
    tune_.add_argument("--backend", type=_backend_list, default=("warp-cpu",), metavar="B", help="with --objective buckets: the backend its campaigns fuzz (default warp-cpu)")
    tune_.add_argument("--trial", type=_duration, default=60.0, metavar="T", help="with --objective buckets: each candidate's campaign (default 60s; four candidates)")
    tune_.add_argument("--oracles", type=_oracle_list, default=None, metavar="O[,O2...]", help="with --objective buckets: the campaigns' oracles (default: as synth fuzz)")
    tune_.add_argument("--workers", type=_positive, default=os.cpu_count() or 1, help="with --objective buckets: worker processes (default: the number of cores)")
    tune_.add_argument("--out", type=Path, required=True, metavar="P.toml", help="the tuned profile (the starting one with an [aim] table)")
    tune_.add_argument("--from", dest="base", type=Path, metavar="P0.toml", help="the profile to start from (default: the shipped default)")
    tune_.add_argument("--n", type=_positive, default=300, help="draws measured per aim (default 300)")
    tune_.add_argument("--check", type=_positive, default=2000, metavar="N", help="draws that check each round's mix (default 2000)")
    tune_.add_argument("--seed", type=int, default=0, help="the seed of every draw (default 0)")
    tune_.add_argument("--json", action="store_true", help="print the report as JSON")
    tune_.set_defaults(run=cmd_tune)

    weights = commands.add_parser("weights", help="print the default weights profile (or validate and print --weights P)")
    weights.add_argument("--weights", type=Path, metavar="P", help="a profile to validate")
    weights.set_defaults(run=cmd_weights)
    return parser


def _draw_options(parser: argparse.ArgumentParser, default_n: int) -> None:
    parser.add_argument("--n", type=_count, default=default_n, help=f"how many programs (default {default_n})")
    parser.add_argument("--seed", type=int, default=0, help="the seed: same seed, same programs (default 0)")
    parser.add_argument("--category", choices=CATEGORIES, metavar="C", help=f"every program has category C: {', '.join(CATEGORIES)}")
    parser.add_argument("--weights", type=Path, metavar="P", help="a weights profile (TOML); default: the shipped default.toml")
    parser.add_argument(
        "--avoid", type=_avoid_shapes, default=frozenset(), metavar="SHAPE[,SHAPE...]",
        help=f"leave out these shapes, as a campaign does on a release with their known bugs (a case's weights name them after 'avoiding'): {', '.join(AVOIDABLE)}",
    )
    swarm = parser.add_mutually_exclusive_group()
    swarm.add_argument("--swarm", dest="swarm", action="store_true", default=None, help="switch optional features off per program")
    swarm.add_argument("--no-swarm", dest="swarm", action="store_false", help="every feature on for every program")


def _executor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--executor", choices=("local", "ray"), default="local", help="where the workers run: local processes (default), or a Ray cluster (pip install 'kernel-synth[ray]')")
    parser.add_argument("--ray-address", metavar="ADDR", help="with --executor ray: the cluster to join (auto: the one `ray start` runs here; default: start Ray on this machine for the run)")


def _check_executor(args) -> None:
    """The executor options, checked before any other work: Ray must be
    installed for --executor ray, and an address means nothing without it."""
    if args.executor == "local":
        if args.ray_address is not None:
            raise UsageError("--ray-address: only with --executor ray")
        return
    from kernel_synth.backends.ray_executor import RayUnavailable, require_ray

    try:
        require_ray()
    except RayUnavailable as exc:
        raise UsageError(f"--executor ray: {exc}") from None


@contextmanager
def _placement(args):
    """Where the run's workers go, and how many per backend: local processes,
    or actors on the Ray cluster the driver joins here (and leaves after)."""
    from kernel_synth.backends.executor import LOCAL

    _check_executor(args)
    if args.executor == "local":
        yield LOCAL, args.workers or os.cpu_count() or 1
        return
    from kernel_synth.backends import ray_executor

    ray = ray_executor.require_ray()
    try:
        connected = ray_executor.connect(args.ray_address)
    except ray_executor.RayUnavailable as exc:
        raise UsageError(f"--ray-address: {exc}" if args.ray_address is not None else f"--executor ray: {exc}") from None
    try:
        cluster = ray_executor.cluster_resources()
        cpus = int(cluster.get("CPU", 0))
        workers = args.workers or max(cpus, 1)
        if workers > cpus:
            # more fuzzing actors than CPUs would wait for ever to be placed
            raise UsageError(f"--workers {workers}: the Ray cluster has {cpus} CPUs (one per worker)")
        yield ray_executor.RayPlacement(workers=workers, cluster=cluster), workers
    finally:
        if connected:
            ray.shutdown()


def _whole_number(minimum: int):
    """An argparse type: a whole number of at least `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected at least {minimum}, got {value}")
        return value

    return parse


_count = _whole_number(0)
_positive = _whole_number(1)


def _duration(text: str) -> float:
    from .budget import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _backend_list(text: str) -> tuple[str, ...]:
    from kernel_synth.backends.registry import FUZZ_TARGETS

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    for name in names:
        if name not in FUZZ_TARGETS:
            known = ", ".join(FUZZ_TARGETS)
            raise argparse.ArgumentTypeError(f"unknown backend {name!r} (expected one of {known})")
    if not names:
        raise argparse.ArgumentTypeError("no backend named")
    return names


def _dataset_backends(text: str) -> tuple[str, ...]:
    from .rows import DATASET_BACKENDS

    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    for name in names:
        if name not in DATASET_BACKENDS:
            raise argparse.ArgumentTypeError(f"unknown backend {name!r} (expected some of {', '.join(DATASET_BACKENDS)})")
    if not names:
        raise argparse.ArgumentTypeError("no backend named")
    return names


def _share(text: str) -> float:
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share between 0 and 1")
    return share


def _oracle_list(text: str) -> frozenset[str]:
    from .oracles import ORACLES

    names = frozenset(n.strip() for n in text.split(",") if n.strip())
    unknown = sorted(names - set(ORACLES))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown oracle {unknown[0]!r} (expected some of {', '.join(ORACLES)})")
    return names


def _read_program(path: Path):
    """Parse a DSL file; UsageError for an unreadable file, DSLError for bad text."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a UTF-8 text file") from None
    return parse(text, str(path))


def _weights(args) -> Weights:
    weights = load_weights(args.weights)
    avoid = getattr(args, "avoid", None)
    return with_avoid(weights, avoid) if avoid else weights


def _avoid_shapes(text: str) -> frozenset[str]:
    shapes = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(shapes - AVOIDABLE.keys())
    if unknown:
        raise argparse.ArgumentTypeError(f"no such shape: {', '.join(unknown)} (known: {', '.join(AVOIDABLE)})")
    return shapes


@contextmanager
def _progress(total: int, label: str):
    """A progress bar on stderr when it is a terminal; a no-op advance otherwise."""
    if not sys.stderr.isatty() or total < 50:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)


def _header(args, weights: Weights, index: int) -> str:
    versions = ", ".join(f"{lib} {_version(lib)}" for lib in ("hypothesis", "lark"))
    lines = [
        f"# kernel-synth {__version__}",
        f"# seed {args.seed}, index {index}, weights {weights.name}, swarm {_swarm_label(args, weights)}",
        f"# category {args.category or 'any'}",
        f"# {versions}",
    ]
    return "\n".join(lines) + "\n"


def _swarm_label(args, weights: Weights) -> str:
    return "on" if (weights.swarm_enabled if args.swarm is None else args.swarm) else "off"


def _version(lib: str) -> str:
    try:
        return metadata.version(lib)
    except metadata.PackageNotFoundError:
        return "unknown"


def cmd_sample(args) -> int:
    from kernel_synth.grammar.sampling import draw_program

    weights = _weights(args)
    if args.out is not None:
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out {args.out}: cannot create directory: {exc.strerror}") from None
    written = 0
    try:
        with _progress(args.n, "sampling") as advance:
            for index in range(args.n):
                program = draw_program(args.seed, index, weights, args.category, args.swarm)
                label = classify(program)
                text = _header(args, weights, index) + f"# categories {', '.join(sorted(label.categories)) or '-'}; primary {label.primary}\n"
                text += _render(program, args.format)
                if args.out is None:
                    sys.stdout.write(("\n" if index else "") + text)
                else:
                    suffix = "kernel" if args.format == "dsl" else "py"
                    write_atomic(args.out / f"s{args.seed}_{index:06d}.{suffix}", text)
                written += 1
                advance()
    except KeyboardInterrupt:
        where = f" into {args.out}" if args.out is not None else ""
        print(f"synth: interrupted after {written} programs{where}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.out is not None:
        print(f"wrote {written} programs to {args.out}", file=sys.stderr)
    return 0


def cmd_stats(args) -> int:
    if args.paths:
        return _dataset_stats(args)
    if args.validate:
        raise UsageError("--validate: checks datasets; name their files or directories")
    from kernel_synth.grammar.sampling import draw_program
    from kernel_synth.grammar.stats import StatsCollector

    weights = _weights(args)
    target = None
    if args.target is not None:
        from kernel_synth.grammar.tune import TargetError, load_target

        try:
            named = load_target(args.target).values
        except TargetError as exc:
            raise UsageError(f"--target {exc}") from None
        target = {name.removeprefix("primary."): value for name, value in named.items() if name.startswith("primary.")}
    if args.plot is not None and args.plot.suffix.lower() not in (".png", ".svg"):
        raise UsageError(f"--plot {args.plot}: the file must end in .png or .svg")
    collector = StatsCollector(weights)
    with _progress(args.n, "drawing") as advance:
        for index in range(args.n):
            collector.add(draw_program(args.seed, index, weights, args.category, args.swarm))
            advance()
    summary = collector.summary()
    if args.plot is not None:
        from .plots import PlotError, plot_stats

        try:
            plot_stats(summary, collector.sizes, args.plot, target, title=f"{summary['n']} programs, weights {weights.name}, seed {args.seed}")
        except PlotError as exc:
            raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    _print_stats(summary, weights)
    if args.plot is not None:
        print(f"plot: {args.plot}")
    return 0


def _print_stats(summary: dict, weights: Weights) -> None:
    from rich.console import Console
    from rich.table import Table

    n = max(summary["n"], 1)
    table = Table(title=f"{summary['n']} programs, weights {weights.name}")
    table.add_column("category")
    table.add_column("has it", justify="right")
    table.add_column("primary", justify="right")
    for name in CATEGORIES:
        has, primary = summary["categories"][name], summary["primary"][name]
        table.add_row(name, f"{has} ({100 * has / n:.1f}%)", f"{primary} ({100 * primary / n:.1f}%)")
    console = Console()
    console.print(table)
    used = Table(title="constructs: programs that use each")
    for column in ("construct", "programs", "construct ", "programs "):
        used.add_column(column, justify="right" if column.startswith("programs") else "left")
    rows = [(name, f"{count} ({100 * count / n:.1f}%)") for name, count in summary["constructs"].items()]
    half = -(-len(rows) // 2)
    for left, right in zip(rows[:half], rows[half:] + [("", "")]):
        used.add_row(*left, *right)
    console.print(used)
    launches = summary["launch_sizes"]
    sizes = Table(title=f"launch sizes: programs per decade (smallest {launches['min']}, largest {launches['max']})")
    for column in ("decade", "threads", "programs"):
        sizes.add_column(column, justify="left" if column == "decade" else "right")
    for name, decade in launches["decades"].items():
        lo, hi = decade["range"]
        sizes.add_row(name, f"{lo}..{hi}", f"{decade['programs']} ({100 * decade['programs'] / n:.1f}%)")
    if launches["default"]:
        sizes.add_row("default", "the runner's", f"{launches['default']} ({100 * launches['default'] / n:.1f}%)")
    console.print(sizes)
    cov = summary["productions"]
    console.print(f"productions covered: {cov['covered']} of {cov['total']}")
    if cov["missing"]:
        console.print("never drawn: " + ", ".join(cov["missing"]))
    console.print(f"AST nodes: mean {summary['ast_nodes']['mean']}, max {summary['ast_nodes']['max']}")


def _dataset_stats(args) -> int:
    from .dataset_stats import DatasetReadError, dataset_stats

    try:
        summary = dataset_stats(args.paths, validate=args.validate)
    except DatasetReadError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_dataset_stats(summary)
    if args.validate and summary["invalid"]:
        for bad in summary["invalid_rows"]:
            print(f"{bad['where']}: {'; '.join(bad['problems'])}", file=sys.stderr)
        print(f"synth: {summary['invalid']} invalid row(s) of {summary['rows']}", file=sys.stderr)
        return 1
    return 0


def _print_dataset_stats(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    n = max(summary["rows"], 1)
    console = Console()
    table = Table(title=f"{summary['rows']} rows in {len(summary['files'])} file(s)")
    for column in ("category", "primary", "has it"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for name in CATEGORIES:
        primary, has = summary["primary"].get(name, 0), summary["categories"].get(name, 0)
        table.add_row(name, f"{primary} ({100 * primary / n:.1f}%)", f"{has} ({100 * has / n:.1f}%)")
    console.print(table)
    fields = Table(title="fields: rows that have each, and its size in characters")
    for column in ("field", "rows", "min", "mean", "max"):
        fields.add_column(column, justify="left" if column == "field" else "right")
    for name, count in summary["fields"].items():
        size = summary["sizes"].get(name)
        fields.add_row(name, str(count), *((str(size["min"]), str(size["mean"]), str(size["max"])) if size else ("", "", "")))
    console.print(fields)
    dup = summary["duplicates"]
    console.print(f"duplicates: {dup['ids']} ids, {dup['programs']} programs")
    if "invalid" in summary:
        console.print(f"valid: {summary['rows'] - summary['invalid']} of {summary['rows']} rows")


def cmd_check(args) -> int:
    failures = 0
    for path in args.files:
        try:
            text = path.read_text()
        except OSError as exc:
            print(f"{path}: error: cannot read: {exc.strerror}", file=sys.stderr)
            failures += 1
            continue
        except UnicodeDecodeError:
            print(f"{path}: error: not a UTF-8 text file", file=sys.stderr)
            failures += 1
            continue
        try:
            program = parse(text, str(path))
        except DSLError as exc:
            print(str(exc), file=sys.stderr)
            failures += 1
            continue
        kernels = ", ".join(k.name for k in program.kernels)
        print(f"{path}: ok ({len(program.funcs)} helpers; kernels {kernels})")
    return EXIT_USAGE if failures else 0


def _render(program, target: str) -> str:
    """DSL text, or Warp/JAX source; a RenderError becomes a UsageError."""
    from kernel_synth.backends.errors import RenderError

    if target == "dsl":
        return print_program(program)
    try:
        if target == "warp":
            from kernel_synth.backends.warp_render import render_warp

            return render_warp(program)
        try:
            from kernel_synth.backends.inputs import DEFAULT_LAUNCH
            from kernel_synth.backends.jax_render import render_jax, thread_form
        except ImportError:
            raise UsageError("the JAX renderer is not available (backends.jax_render is missing)") from None
        # the form the JAX backends run it in (a large launch with an Acc array: its threads in a loop)
        return render_jax(program, thread_form(program.kernels[0], A.launch_of(program, DEFAULT_LAUNCH)))
    except RenderError as exc:
        raise UsageError(f"cannot render for {target}: {exc}") from None


def cmd_render(args) -> int:
    program = _read_program(args.file)
    try:
        source = _render(program, args.target)
    except UsageError as exc:
        raise UsageError(f"{args.file}: {exc}") from None
    sys.stdout.write(source)
    return 0


def cmd_compile(args) -> int:
    from kernel_synth.backends.outcome import SOURCE_ARTIFACT
    from kernel_synth.backends.pool import BatchPool
    from kernel_synth.backends.registry import BackendUnavailable, get_backend
    from kernel_synth.backends.signature import signature

    try:
        backend = get_backend(args.backend)
    except BackendUnavailable as exc:
        raise UsageError(f"--backend: {exc}") from None
    if args.ir is not None:
        try:
            args.ir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--ir {args.ir}: cannot create directory: {exc.strerror}") from None
    results: list[dict] = []
    programs, paths = [], []
    for path in args.files:
        try:
            programs.append(_read_program(path))
            paths.append(path)
        except (DSLError, UsageError) as exc:
            print(f"synth: error: {exc}", file=sys.stderr)
            results.append({"file": str(path), "status": "parse_error", "signature": None, "message": str(exc)})
    bad_input = bool(results)
    outcomes = []
    if programs:
        options = {"backward": args.backward, "ir": args.ir is not None}
        with _progress(len(programs), f"compiling ({args.backend})") as advance:
            with BatchPool(backend.factory, options, workers=args.workers, timeout=args.timeout) as pool:
                outcomes = pool.run(programs, batch_size=16, on_result=lambda index, outcome: advance())
    for path, outcome in zip(paths, outcomes):
        sig = None if outcome.ok else signature(args.backend, outcome.stage, outcome.message)
        results.append({"file": str(path), "status": outcome.status, "signature": sig, "message": outcome.message.splitlines()[0] if outcome.message else ""})
        if args.ir is not None:
            for kind, text in outcome.artifacts.items():
                if kind == SOURCE_ARTIFACT:  # `synth render` writes that
                    continue
                write_atomic(args.ir / f"{path.stem}.{args.backend}.{kind}", text)
    if args.json:
        print(json.dumps({"results": results}, indent=2))
    else:
        for row in results:
            if row["status"] == "ok":
                print(f"{row['file']}: ok")
            elif row["status"] != "parse_error":
                print(f"{row['file']}: {row['status']}: {row['signature']}")
    if bad_input:
        return EXIT_USAGE
    return 0 if all(r["status"] == "ok" for r in results) else 1


def cmd_fuzz(args) -> int:
    from kernel_synth.backends.registry import BackendUnavailable

    from .campaign import Campaign, CampaignConfig, CampaignError, default_oracles
    from .progress import CampaignDisplay

    _check_executor(args)
    try:
        oracles = args.oracles if args.oracles is not None else default_oracles(tuple(args.backend))
    except BackendUnavailable as exc:
        raise UsageError(str(exc)) from None
    weights = _weights(args)
    with _placement(args) as (placement, workers):
        config = CampaignConfig(
            budget=args.budget,
            backends=args.backend,
            seed=args.seed,
            workers=workers,
            corpus=args.corpus,
            weights=weights,
            known_bugs=args.known_bugs,
            oracles=oracles,
            resume=args.resume,
            batch_size=args.batch_size,
            pipeline_depth=args.pipeline_depth,
            hypothesis_shrink=args.hypothesis_shrink,
            shrink_seconds=args.shrink_time,
            placement=placement,
            **({"shrink_nice": args.shrink_nice} if args.shrink_nice is not None else {}),
            **({"eager_share": args.eager_share} if args.eager_share is not None else {}),
            **({"gradient_share": args.gradient_share} if args.gradient_share is not None else {}),
            **({"loop_share": args.loop_share} if args.loop_share is not None else {}),
            **({"xla_share": args.xla_share} if args.xla_share is not None else {}),
            **({"jvp_share": args.jvp_share} if args.jvp_share is not None else {}),
        )
        try:
            with CampaignDisplay(config) as display:
                campaign = Campaign(config, on_event=display.event)
                summary = campaign.run()
        except (BackendUnavailable, CampaignError) as exc:
            raise UsageError(str(exc)) from None
    display.print_summary(summary)
    if args.json is not None:
        write_atomic(args.json, json.dumps(summary, indent=2) + "\n")
    return 0


def cmd_generate(args) -> int:
    import importlib.util

    from kernel_synth.backends.registry import BackendUnavailable, get_backend

    from .dataset import DatasetConfig, DatasetError, DatasetRun, file_format
    from .progress import GenerateDisplay

    _check_executor(args)
    for backend in args.backend:
        try:
            get_backend(backend)
        except BackendUnavailable as exc:
            raise UsageError(f"--backend: {exc}") from None
    fmt = args.format or (file_format(args.out) if args.shard_size is None else None) or "jsonl"
    if fmt == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise UsageError("--format parquet needs pyarrow: pip install 'kernel-synth[dataset]'")
    weights = _weights(args)
    if args.known_bugs == "avoid":
        from .campaign import avoiding_known_bugs

        weights = avoiding_known_bugs(weights, args.backend)
    with _placement(args) as (placement, workers):
        try:
            config = DatasetConfig(
                count=args.count, backends=args.backend, out=args.out, format=fmt, seed=args.seed, weights=weights,
                balanced=args.balanced, categories=tuple(dict.fromkeys(args.category or ())), workers=workers,
                shard_size=args.shard_size, resume=args.resume, backward=not args.forward_only, swarm=args.swarm, corpus=args.corpus,
                placement=placement,
            )
            with GenerateDisplay(config) as display:
                summary = DatasetRun(config, on_event=display.event).run()
        except (DatasetError, BackendUnavailable) as exc:
            raise UsageError(str(exc)) from None
    display.print_summary(summary)
    if args.json is not None:
        write_atomic(args.json, json.dumps(summary, indent=2) + "\n")
    return 0


def cmd_report(args) -> int:
    from .plots import PlotError
    from .report import ReportError, campaign_report, load_state, plot_report

    try:
        report = campaign_report(load_state(args.path))
        if args.plot is not None:
            plot_report(report, args.plot, title=f"{args.path}: {report['programs']} programs, {report['buckets']} buckets")
    except (ReportError, PlotError) as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['programs']} programs in {report['elapsed_seconds']:.0f} s ({report['throughput']}/s); {report['buckets']} buckets; findings {report['findings'] or 'none'}")
    print("buckets per oracle: " + (", ".join(f"{o} {n}" for o, n in report["buckets_per_oracle"].items()) or "none"))
    print("buckets per backend: " + (", ".join(f"{b} {n}" for b, n in report["buckets_per_backend"].items()) or "none"))
    ratios = sorted(report["shrink_ratios"])
    if ratios:
        print(f"shrinks: {len(ratios)}, median size ratio {ratios[len(ratios) // 2]:.2f}")
    if args.plot is not None:
        print(f"plot: {args.plot}")
    return 0


def cmd_tune(args) -> int:
    from kernel_synth.grammar.tune import TargetError, load_target, profile_text, report, tune

    if args.objective == "buckets":
        return _tune_buckets(args)
    if args.target is None:
        raise UsageError("--target: required (uniform or a target file), unless --objective buckets")
    try:
        target = load_target(args.target)
    except TargetError as exc:
        raise UsageError(f"--target {exc}") from None
    base = load_weights(args.base)
    base_text = (args.base or DEFAULT_PATH).read_text()
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {args.out}: cannot create its directory: {exc.strerror}") from None
    result = tune(target, base, n=args.n, n_check=args.check, seed=args.seed, progress=lambda message: print(f"synth tune: {message}", file=sys.stderr, flush=True))
    command = f"synth tune --target {args.target} --n {args.n} --check {args.check} --seed {args.seed}" + (f" --from {args.base}" if args.base else "")
    write_atomic(args.out, profile_text(result, base_text, command))
    load_weights(args.out)  # what was written is a profile `--weights` accepts
    rows = report(result)
    if args.json:
        print(json.dumps({"out": str(args.out), "rounds": result.rounds, "draws": result.draws, "aim": dict(result.weights.aim),
                          "features": [{"feature": f, "before": b, "target": t, "achieved": a} for f, b, t, a in rows]}, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{args.out}: target {target.name!r}, {result.rounds} round(s), {result.draws} draws")
    for column in ("feature", "before", "target", "achieved"):
        table.add_column(column, justify="left" if column == "feature" else "right")
    for feature, before, wanted, achieved in rows:
        table.add_row(feature, f"{before:.3f}", "(kept)" if wanted is None else f"{wanted:.3f}", f"{achieved:.3f}")
    Console().print(table)
    return 0


def _tune_buckets(args) -> int:
    from kernel_synth.backends.registry import BackendUnavailable
    from kernel_synth.grammar.weights import render_profile

    from .campaign import CampaignError, default_oracles
    from .tune_buckets import best, tune_buckets

    if args.target is not None:
        raise UsageError("--target: not with --objective buckets (its target is buckets per hour)")
    (backend,) = args.backend[:1]
    base = load_weights(args.base)
    try:
        oracles = args.oracles if args.oracles is not None else default_oracles((backend,))
        trials = tune_buckets(base, backend, args.trial, args.seed, oracles, args.workers, progress=lambda m: print(f"synth tune: {m}", file=sys.stderr, flush=True))
    except (BackendUnavailable, CampaignError) as exc:
        raise UsageError(str(exc)) from None
    chosen = best(trials)
    start = trials[0]
    command = f"synth tune --objective buckets --backend {backend} --trial {args.trial:g}s --seed {args.seed}" + (f" --from {args.base}" if args.base else "")
    base_text = (args.base or DEFAULT_PATH).read_text()
    title = f"tuned for buckets per hour on {backend} ({chosen.name}: {chosen.per_hour:.0f}/h against {start.per_hour:.0f}/h at the start)"
    comment = [f"Written by `{command}`: the candidate with the most buckets per hour;", "lines marked `tuned from` are what it changed (see `synth tune --help`)."]
    write_atomic(args.out, render_profile(base_text, chosen.weights, title, comment))
    load_weights(args.out)
    rows = [{"candidate": t.name, "programs": t.programs, "seconds": round(t.seconds, 1), "buckets": len(t.buckets), "per_hour": round(t.per_hour, 1), "signatures": list(t.buckets)} for t in trials]
    if args.json:
        print(json.dumps({"out": str(args.out), "chosen": chosen.name, "trials": rows}, indent=2))
        return 0
    for row in rows:
        print(f"{row['candidate']:7s} {row['programs']:6d} programs in {row['seconds']:6.1f} s: {row['buckets']:3d} buckets, {row['per_hour']:7.1f} per hour")
    swarm, fixed = trials[0], next(t for t in trials if t.name == "fixed")
    if base.swarm_enabled:
        print(f"swarm mode against fixed weights: {swarm.per_hour:.1f} against {fixed.per_hour:.1f} buckets per hour")
    print(f"chosen: {chosen.name} -> {args.out}")
    return 0


def cmd_replay(args) -> int:
    from kernel_synth.backends.registry import BackendUnavailable, get_backend

    if args.releases is not None:
        return cmd_bisect(args, table=True)

    from .corpus import find_cases
    from .replay import ReplayStatus, replay

    for path in args.paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory")
    if args.backend is not None:
        try:
            get_backend(args.backend)
        except BackendUnavailable as exc:
            raise UsageError(f"--backend: {exc}") from None
    cases = find_cases(args.paths)
    try:
        with _progress(len(cases), "replaying") as advance:
            results = replay(args.paths, args.backend, args.workers, on_result=lambda r: advance())
    except BackendUnavailable as exc:
        raise UsageError(str(exc)) from None
    for result in results:
        if result.status is ReplayStatus.UNREADABLE:
            print(f"synth: error: {result.message}", file=sys.stderr)
        elif result.status is ReplayStatus.NOT_RUN:
            print(f"{result.path}: not run ({result.message})")
        else:
            extra = f" (now {result.got})" if result.status is ReplayStatus.CHANGED else ""
            print(f"{result.path}: {result.status}{extra}")
    counts = {s.value: sum(r.status is s for r in results) for s in ReplayStatus}
    print(", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items()), file=sys.stderr)
    if args.json is not None:
        rows = [vars(r) for r in results]
        write_atomic(args.json, json.dumps({"results": rows, "counts": counts}, indent=2) + "\n")
    if counts[ReplayStatus.UNREADABLE]:
        return EXIT_USAGE
    return 1 if counts[ReplayStatus.STILL_FAILING] else 0


def cmd_bisect(args, table: bool = False) -> int:
    from .bisect import WARP, BisectError, available_releases, bisect, cache_dir, parse_releases, split_package
    from .corpus import find_cases, record_first_fixed

    for path in args.paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory")
    cases = find_cases(args.paths)
    if not cases:
        raise UsageError("no .kernel case under the paths given")
    try:
        package, spec = split_package(args.releases)
        ranged = ".." in spec or "latest" in spec
        releases = parse_releases(spec, available_releases(package) if ranged else [], package)
    except BisectError as exc:
        raise UsageError(str(exc)) from None
    how = "halving the range" if ranged and not table else "each release"
    print(f"bisecting {len(cases)} cases over {package.name} {releases[0]} .. {releases[-1]}, {how} (environments in {cache_dir()})", file=sys.stderr)
    histories, broken = bisect(
        cases, releases, args.backend, log=lambda line: print(line, file=sys.stderr, flush=True), search=ranged and not table, package=package,
    )
    marks = {"still_failing": "FAIL", "fixed": "ok", "changed": "other"}
    if table:
        width = max(len(r) for r in releases)
        print(" ".join(r.rjust(width) for r in releases) + "  case")
    for history in sorted(histories, key=lambda h: h.path):
        if history.problem:
            print(f"synth: error: {history.problem}", file=sys.stderr)
        elif table:
            cells = [marks.get(history.statuses.get(r, ""), "-").rjust(width) for r in releases]
            print(" ".join(cells) + f"  {history.path}")
        else:
            print(f"{history.path}: {history.verdict()}")

    def fixed_in(history) -> str:
        # a Warp release is recorded bare (as before JAX's were bisected), any other with its package
        return history.first_fixed() if package is WARP else f"{package.name} {history.first_fixed()}"

    recorded = [h.path for h in histories if not h.problem and h.first_fixed() and record_first_fixed(Path(h.path), fixed_in(h))]
    if recorded:
        print(f"recorded the first fixed release in the header of {len(recorded)} cases", file=sys.stderr)
    if args.json is not None:
        rows = [{"path": h.path, "signature": h.expected, "statuses": h.statuses, "first_fixed": h.first_fixed(), "problem": h.problem} for h in histories]
        write_atomic(args.json, json.dumps({"package": package.name, "releases": releases, "broken_releases": broken, "cases": rows}, indent=2) + "\n")
    return EXIT_USAGE if broken or any(h.problem for h in histories) else 0


def cmd_shrink(args) -> int:
    import time

    from kernel_synth.backends.registry import BackendUnavailable, get_backend
    from .corpus import library_versions, store_finding
    from .oracles import ORACLES
    from .triage import SHRINK_TESTS, OutOfTime, Triage, shrink_finding

    program = _read_program(args.file)
    backend, launch = _shrink_launch(args)
    try:
        get_backend(backend)
    except BackendUnavailable as exc:
        raise UsageError(f"--backend: {exc}") from None

    def progress(result) -> None:
        print(f"shrinking: {result.size_after} AST nodes after {result.tests} tests", file=sys.stderr, flush=True)

    deadline = time.monotonic() + args.budget
    with Triage(frozenset(ORACLES), launch) as triage:
        finding = triage.first_finding(backend, program)
        if finding is None:
            raise UsageError(f"{args.file}: does not fail on {backend} (seed {launch.seed}, launch {launch.threads}); nothing to shrink")
        print(f"signature: {finding.signature}", file=sys.stderr)
        try:
            shrunk = shrink_finding(triage, finding, program, deadline, SHRINK_TESTS, progress)
        except OutOfTime:
            raise UsageError(f"--budget {args.budget:.0f}s: ended before any smaller program was found; nothing shrunk") from None
        if shrunk is None:
            raise UsageError(f"{args.file}: the failure did not reproduce while shrinking (flaky?)")
        result, finished = shrunk
        cut = "" if finished else f" (cut short by --budget {args.budget:.0f}s)"
        print(f"shrunk {result.size_before} -> {result.size_after} AST nodes in {result.tests} tests{cut}", file=sys.stderr)
        if args.corpus is not None:
            confirmed = triage.confirm(finding, result.program)
            if confirmed is None:
                raise UsageError(f"{args.file}: the shrunk program did not fail again in a fresh process; not stored")
            path = store_finding(
                args.corpus, confirmed, result.program, versions=library_versions(), seed=launch.seed,
                launch=triage.launch.threads_for(finding.oracle), origin=args.file.name,
                size_before=result.size_before, size_after=result.size_after,
            )
            print(f"stored {path}", file=sys.stderr)
    text = f"# signature: {finding.signature}\n" + print_program(result.program)
    if args.out is None:
        sys.stdout.write(text)
    else:
        write_atomic(args.out, text)
    return 0


def _shrink_launch(args):
    """The backend and launch `synth shrink` runs FILE on: what the options
    say, else what FILE's header says when it is a corpus case (a gradient
    case's launch is the gradient check's: replay's choice), else the
    defaults. A finding shows on the inputs it was found on, not on others:
    the `%` by its divisor gives a wrong adjoint only where |x| >= |divisor|."""
    from .corpus import CorpusError, read_case
    from .triage import Launch

    try:
        header = read_case(args.file).header
    except CorpusError:
        header = None
    backend = args.backend or (header.backend if header is not None else "warp-cpu")
    seed = args.seed if args.seed is not None else (header.seed if header is not None else 0)
    if args.launch is None and header is not None:
        return backend, Launch(threads=header.launch, seed=seed, gradient_threads=header.launch)
    return backend, Launch(seed=seed) if args.launch is None else Launch(threads=args.launch, seed=seed)


def cmd_weights(args) -> int:
    if args.weights is None:
        sys.stdout.write(DEFAULT_PATH.read_text())
        return 0
    load_weights(args.weights)
    sys.stdout.write(args.weights.read_text())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

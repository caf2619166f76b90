"""Warp backends: compile batches of programs as one Warp module, run on the CPU.

`warp-cpu` compiles with Warp's own CPU compiler and runs; `warp-cuda` compiles
through NVRTC (`wp.compile_aot_module(..., arch=...)`), which needs no GPU or
driver, and runs only where a CUDA device exists. A failing batch is split: a
codegen error that names its kernel removes that program at once, anything
else is bisected, so one bad program costs O(log batch) extra compiles.

This module does its work in the calling process; `backends.pool` runs it in
worker processes, each with its own kernel cache, so that a crash or a hang
costs only the worker.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import itertools
import os
import re
import sys
import traceback
from dataclasses import replace
from pathlib import Path

import numpy as np

from kernel_synth.grammar import ast as A
from kernel_synth.grammar.lowering import leaf_name
from kernel_synth.grammar.types import ArrayType

from .compare import acc_scales, nondeterminism
from .errors import RenderError, Unsupported
from .inputs import DEFAULT_LAUNCH, make_inputs, written_arrays
from .outcome import ERROR_AT, SOURCE_ARTIFACT, Outcome, Stage, Status
from .warp_release import installed as installed_release
from .warp_render import HEADER, join_parts, render_warp, render_warp_part

_module_counter = itertools.count()
_CULPRIT = re.compile(r'function "[A-Za-z_0-9]*?_p(\d+)"')
# A native compiler's diagnostic: clang's "file.cpp:12:5: error: ..." or
# NVRTC's "file.cu(12): error: ..."
_DIAGNOSTIC = re.compile(r"^(?P<path>\S+?\.(?:cpp|cu))(?::(?P<line>\d+):\d+:|\((?P<nvline>\d+)\):)\s*(?:fatal )?error\b[^:]*:\s*(?P<text>.+)$")
# The first line of a generated function whose name carries a program's suffix
_SUFFIXED_START = re.compile(r"^[A-Za-z].*?\b[A-Za-z]\w*?_p(\d+)(?:_\w+)?\($")



_initialized: dict[str, object] = {}


def init_warp(cache_dir: str | os.PathLike | None = None):
    """Import and initialise Warp once per process, with its own kernel cache."""
    if "wp" in _initialized:
        return _initialized["wp"]
    import warp as wp

    wp.config.quiet = True  # no per-module timing lines on stdout
    if installed_release().has("log_level"):
        wp.config.log_level = wp.LOG_WARNING
    if cache_dir is not None:
        wp.config.kernel_cache_dir = str(cache_dir)
    wp.init()
    _initialized["wp"] = wp
    return wp


def _import_source(source: str, workdir: Path):
    name = f"ks_batch_{os.getpid()}_{next(_module_counter)}"
    path = workdir / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_FUNCTION_START = re.compile(r'^(?:static|extern "C" __global__)[^;{]*?\b(\w+)\($')
# A PTX basic-block label, "$L__BB<function ordinal>_<block>"
_PTX_LABEL = re.compile(r"\$L__BB(\d+)_")
# A PTX kernel entry or device function: ".visible .entry name(" or ".func (.param ...) name("
_PTX_START = re.compile(r"^(?:\.visible |\.weak )?\.(?:entry|func)\b.*?\b(\w+)\($")


@functools.lru_cache(maxsize=4)
def _lines(source: str) -> tuple[str, ...]:
    return tuple(source.splitlines())


# A module's source is searched once for each of its programs: cached, it is
# split into functions once (a string keeps its hash, so a hit is cheap)
@functools.lru_cache(maxsize=4)
def _functions(source: str, start_pattern: re.Pattern = _FUNCTION_START) -> dict[str, str]:
    """Top-level functions of Warp's generated C++/CUDA (or PTX), by name."""
    functions: dict[str, str] = {}
    lines = _lines(source)
    start = None
    for number, line in enumerate(lines):
        if start is None:
            found = start_pattern.match(line)
            if found:
                start, name = number, found[1]
        elif line == "}":
            functions[name] = "\n".join(lines[start : number + 1]) + "\n"
            start = None
    return functions


# Warp's comment quoting a source line: "// <source padded>       <L n>" forward,
# "// adj: <source padded>  <L n>" in the adjoint
_SOURCE_COMMENT = re.compile(r"^(?P<indent>\s*)// (?P<adj>adj: )?(?P<source>.*?)\s*<L (?P<line>\d+)>$")
# where a program's definitions start in its standalone rendering (render_warp)
STANDALONE_FIRST_LINE = len((HEADER + "\n\n").splitlines()) + 1


def _unbatched(text: str, position: int, program: A.Program, line_shift: int = 0) -> str:
    """Generated code as if the program had been compiled alone in a fresh
    process: `k0_p3` is `k0` again; kernels and structs lose Warp's hash (as
    with Warp's `strip_hash`), which covers the suffixed source and so would
    change with the batch position; a helper is numbered 0, as the first
    function of its name in a process, and its specializations for the
    helpers passed to it in order; quoted source lines are numbered and
    padded as in the program's own rendering (`line_shift` lines earlier)."""
    for hashed in program.kernels + program.structs:
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(hashed.name)}_p{position}_[0-9a-f]+(?![0-9A-Za-z])", hashed.name, text)
    for func in program.funcs:  # numbered per process by Warp: the first, as in a fresh one
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(func.name)}_p{position}_\d+(?![0-9A-Za-z])", f"{func.name}_0", text)
    for definition in program.constants + program.structs + program.funcs + program.kernels:
        text = text.replace(f"{definition.name}_p{position}", definition.name)
    # a helper specialized for what its wp.Function parameters are passed:
    # Warp names it by a hash of those helpers (whose keys hold the batch
    # suffix); numbered in order of appearance instead
    hashes: dict[str, int] = {}
    text = re.sub(r"(?<=_callable_)([0-9a-f]{8,})(?![0-9A-Za-z])", lambda m: str(hashes.setdefault(m[1], len(hashes))), text)
    lines = text.splitlines()
    for number, line in enumerate(lines):
        found = _SOURCE_COMMENT.match(line)
        if found:  # Warp pads the quoted line to column 80 less its indentation
            indent = found["indent"]
            source = found["source"].ljust(80 - len(indent))
            gap = "  " if found["adj"] else "       "
            quoted = int(found["line"])
            # Warp numbers the lines of a generic helper's instance from 0 at
            # its def (measured on 1.19.0), not as lines of the file: only
            # lines of the file are moved by the batch
            if quoted >= line_shift + STANDALONE_FIRST_LINE:
                quoted -= line_shift
            lines[number] = f"{indent}// {found['adj'] or ''}{source}{gap}<L {quoted}>"
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def _struct_sections(source: str, position: int, program: A.Program) -> list[str]:
    """The program's struct declarations in generated code, each with the
    functions Warp emits beside it (its adjoint constructor, `add`,
    `adj_atomic_add`): from `struct S0_p<k>_<hash>` through the body of the
    last top-level item that names the struct before one that does not, or
    that is one of the program's helpers (a comment goes with the item after
    it)."""
    sections = []
    lines = _lines(source)
    # a helper returning or taking the struct names it too, but is the
    # program's function, not the struct's (Warp may emit it right after)
    helpers = [f"{f.name}_p{position}_" for f in program.funcs]
    for struct in program.structs:
        name = f"{struct.name}_p{position}_"
        start = next((n for n, line in enumerate(lines) if line.startswith(f"struct {name}")), None)
        if start is None:
            continue
        end = scan = start + 1
        while scan < len(lines):
            line = lines[scan]
            scan += 1
            if not line or line[0].isspace() or line[0] in "{}" or line.startswith("//"):
                continue  # a comment belongs to what follows it
            if name not in line or any(h in line for h in helpers):
                break
            end = scan
        # the last top-level line that names the struct opens a function: through its body
        while end < len(lines) and lines[end - 1] != "}" and not lines[end - 1].startswith("};"):
            end += 1
        sections.append("\n".join(lines[start:end]).rstrip() + "\n")
    return sections


def extract_ir(source: str, position: int, target: str, program: A.Program, line_shift: int = 0) -> dict[str, str]:
    """Forward and backward code of the program rendered with suffix `_p<position>`:
    its structs (forward), its helpers' functions (and their adjoints), then
    its kernels'; as if compiled alone (see `_unbatched`)."""
    if not source:
        return {}
    functions = _functions(source)
    tag = f"_p{position}_"
    helpers = [f"{f.name}{tag}" for f in program.funcs]
    kernels = [f"{k.name}{tag}" for k in program.kernels]
    extension = "cpp" if target == "cpu" else "cu"
    out = {}
    for direction in ("forward", "backward"):
        parts = _struct_sections(source, position, program) if direction == "forward" else []
        for name, text in functions.items():
            is_adjoint = name.startswith("adj_")
            base = name[4:] if is_adjoint else name
            if any(base.startswith(h) for h in helpers) and is_adjoint == (direction == "backward"):
                parts.append(text)
            elif any(name.startswith(k) for k in kernels) and name.endswith(f"_kernel_{direction}"):
                parts.append(text)
        if parts and (direction == "forward" or any(n.endswith("_kernel_backward") for n in functions)):
            out[f"{direction}.{extension}"] = _unbatched("\n".join(parts), position, program, line_shift)
    return out


def extract_ptx(ptx: str, position: int, program: A.Program, line_shift: int = 0) -> dict[str, str]:
    """The PTX entries (and device functions NVRTC kept) of the program with
    suffix `_p<position>`, forward and backward, names restored."""
    if not ptx:
        return {}
    tag = f"_p{position}_"
    names = [f"{d.name}{tag}" for d in program.funcs + program.kernels]
    parts: dict[str, list[str]] = {"forward": [], "backward": []}
    for name, text in _functions(ptx, _PTX_START).items():
        if not any(n in name for n in names):
            continue
        if name.endswith(("_kernel_forward", "_kernel_backward")):
            direction = name.rsplit("_", 1)[1]
        else:  # a device function NVRTC did not inline
            direction = "backward" if "adj_" in name else "forward"
        parts[direction].append(text)
    out = {}
    labels: dict[str, str] = {}
    for direction, texts in parts.items():
        if texts:
            text = _unbatched("\n".join(texts), position, program, line_shift)
            # basic-block labels carry the function's ordinal in the module:
            # number them from the program's first function instead
            out[f"{direction}.ptx"] = _PTX_LABEL.sub(lambda m: f"$L__BB{labels.setdefault(m[1], str(len(labels)))}_", text)
    return out


@contextlib.contextmanager
def _captured_stderr(path: Path):
    """Redirect file descriptor 2 (native compilers write there) into `path`;
    yields a function returning what was written so far. The text is also
    passed on to the real stderr afterwards."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lambda: (sys.stderr.flush(), sink.seek(0), sink.read().decode(errors="replace"))[-1]
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            os.write(2, sink.read())


_ERROR_LINE = re.compile(r"\berror\b[^:]*:\s*(.+)", re.IGNORECASE)


def _first_error(text: str) -> str:
    """The first native error of a build's diagnostics, but for a precompiled
    header that does not match the build's options: Warp then builds again
    without it, and what fails there is the program's error (1.14.0's -O0
    backward builds meet a PCH made at -O3 and say so first, so the same
    failure had two signatures from run to run)."""
    for line in text.splitlines():
        found = _ERROR_LINE.search(line)
        if found and "NVRTC_ERROR" not in line and "PCH file" not in line:
            return found[1].strip()
    return ""


class NativeBuildError(RuntimeError):
    """A native compile failed; `culprits` maps the programs its errors lie
    in (by their `_p<index>` suffix) to the first error in each."""

    def __init__(self, message: str, culprits: dict[int, str]):
        super().__init__(message)
        self.culprits = culprits


def _culprits(diagnostics: str, workdir: Path) -> dict[int, str]:
    """The programs a native compiler's errors lie in, each with its first error.

    An error's file and line lead to the generated function around it; that
    function's `_p<index>` suffix names the program. An error outside every
    program's functions (Warp's own headers) names none. Programs are
    independent of one another in a module, so an error inside one program's
    code is that program's alone: removing them all at once costs one
    compile, where bisecting would cost one per halving (about half a second
    each on releases without precompiled headers).
    """
    found: dict[int, str] = {}
    lines_of: dict[str, list[str]] = {}
    for line in diagnostics.splitlines():
        match = _DIAGNOSTIC.match(line.strip())
        if not match:
            continue
        path = match["path"]
        if path not in lines_of:
            candidates = [Path(path)] + ([] if Path(path).is_absolute() else sorted(workdir.rglob(Path(path).name)))
            existing = next((c for c in candidates if c.is_file()), None)
            lines_of[path] = existing.read_text(errors="replace").splitlines() if existing else []
        source = lines_of[path]
        number = int(match["line"] or match["nvline"]) - 1
        for text in reversed(source[: number + 1]):
            start = _SUFFIXED_START.match(text)
            if start:
                found.setdefault(int(start[1]), match["text"].strip())
                break
    return found


def _first_lines(source: str, texts: list[str], indexes: list[int]) -> dict[int, int]:
    """The line of `source` on which each program's part starts."""
    first, at = {}, 0
    for index, text in zip(indexes, texts):
        at = source.index(text, at)
        first[index] = source.count("\n", 0, at) + 1
        at += len(text)
    return first


def _message(exc: BaseException) -> str:
    # a native build failure reads as the RuntimeError it was before it
    # carried its culprits: stored cases' signatures name it so
    name = "RuntimeError" if isinstance(exc, NativeBuildError) else type(exc).__name__
    return f"{name}: {exc}".strip()


class WarpCompiler:
    """Compiles (and on the CPU runs) batches of programs in this process."""

    def __init__(
        self,
        target: str,
        workdir: str | os.PathLike,
        *,
        backward: bool = False,
        arch: int = 90,
        run: bool = True,
        ir: bool = False,
        ptx: bool = False,
        optimization_level: int | None = None,
        poison: bool = False,
    ):
        if target not in ("cpu", "cuda"):
            raise ValueError(f"unknown Warp target {target!r}")
        self.target = target
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.backward = backward
        self.arch = arch
        # IR is extracted only when asked for (`synth compile --ir`): a campaign
        # never reads it, and reading Warp's generated source back costs time.
        self.ir = ir
        # One compile configuration per process: a debug or -O0 NVRTC build can
        # corrupt later modules in the same process (Warp's tracker).
        self.options = {"enable_backward": backward}
        self.release = installed_release()
        if optimization_level is not None:
            self.release.require("optimization_level", "an optimization level")
            self.options["optimization_level"] = optimization_level
        self.wp = init_warp(self.workdir / "kernel-cache")
        if backward and self.release.has("component_overwrites"):
            # the differentiable lowering of component assignments, which
            # Warp documents for components assigned more than once: the
            # gradient oracle compares those programs too. A global switch
            # (1.19.0 folds it into every module's options at build time), so
            # it holds for every build of this process: backward compilers
            # live in the gradient checker's worker, and its forward values
            # are the same under either lowering.
            self.wp.config.enable_vector_component_overwrites = True
        # CUDA builds to PTX instead of a cubin when PTX is wanted (a dataset's
        # rows); compile_aot_module has chosen since it exists (1.9)
        self.ptx = ptx and target == "cuda"
        # Where a build is loaded: the CPU, the GPU where one exists, or
        # nowhere (CUDA compiled ahead of time through NVRTC, with no driver).
        # IR is read from the ahead-of-time build's files, so it keeps that path.
        self.device = "cpu" if target == "cpu" else None
        if target == "cuda" and not (ir or self.ptx) and self.wp.is_cuda_available():
            self.device = "cuda:0"
        if target == "cuda" and self.device is None:
            self.release.require("driverless_nvrtc", "compiling CUDA without a GPU (warp-cuda)")
        # kernels run only where they are loaded
        self.run_device = self.device if run else None
        if poison:
            self._fail_once()

    def _fail_once(self) -> None:
        """Build a module Warp rejects, and go on: the process-state oracle's
        fresh worker starts from a failed build, as a campaign's worker does
        after a rejected program."""
        source = HEADER + "\n\n@wp.kernel\ndef rejected(a: wp.array(dtype=wp.float32)):\n    a[0] = not_defined_anywhere\n"
        try:
            self._build(_import_source(source, self.workdir))
        except Exception:
            pass

    # -- compile

    def compile(self, programs: list[A.Program], launch: int = DEFAULT_LAUNCH, seed: int = 0) -> list[Outcome]:
        outcomes, modules = self.build(programs)
        sources: dict[str, str] = {}
        for index, (module, names) in modules.items():
            if self.run_device is not None:
                outcome = self.run_built(module, names, programs[index], launch, seed)
            else:
                outcome = Outcome(Status.OK, Stage.COMPILE)
            if self.ir:
                if module.__name__ not in sources:
                    sources[module.__name__] = self._generated_source(module)
                shift = module.ks_first_lines[index] - STANDALONE_FIRST_LINE
                artifacts = extract_ir(sources[module.__name__], index, self.target, programs[index], shift)
                artifacts[SOURCE_ARTIFACT] = render_warp(programs[index], release=self.release)
                if self.ptx:
                    ptx_key = module.__name__ + ".ptx"
                    if ptx_key not in sources:
                        sources[ptx_key] = self._generated_source(module, "ptx")
                    artifacts.update(extract_ptx(sources[ptx_key], index, programs[index], shift))
                outcome = replace(outcome, artifacts=artifacts)
            outcomes[index] = outcome
        return outcomes  # type: ignore[return-value]

    def build(self, programs: list[A.Program]) -> tuple[list[Outcome | None], dict[int, tuple[object, dict]]]:
        """Render and compile `programs` as one module (split on failure).

        Each program is rendered once, its definitions suffixed `_p<index>`
        with its index in `programs`, so that every module a split builds
        reuses the same pieces and a codegen error's function name is the
        culprit's index. Returns one slot per program, an Outcome where
        rendering or compiling failed and None where it compiled, and for each
        compiled program its (module, {DSL name: module name}).
        """
        outcomes: list[Outcome | None] = [None] * len(programs)
        parts: dict[int, tuple[str, dict[str, str]]] = {}
        for index, program in enumerate(programs):
            try:
                parts[index] = render_warp_part(program, index, self.release)
            except Unsupported as exc:
                outcomes[index] = Outcome(Status.UNSUPPORTED, Stage.RENDER, str(exc))
                continue
            except RenderError as exc:
                outcomes[index] = Outcome(Status.RENDER_ERROR, Stage.RENDER, str(exc))
                continue
            except Exception as exc:  # a renderer crash is our bug too: keep its trace
                outcomes[index] = Outcome(Status.RENDER_ERROR, Stage.RENDER, _message(exc) + "\n" + traceback.format_exc(limit=4))
                continue
        return outcomes, self._compile_split(parts, list(parts), outcomes)

    def _generated_source(self, module, extension: str = "") -> str:
        """The C++ (CPU) or CUDA source Warp generated for a compiled module,
        or the named output of its CUDA build (`extension` "ptx")."""
        if self.target == "cpu":
            pattern = f"**/wp_{module.__name__}_*/*.cpp"
            root = Path(self.wp.config.kernel_cache_dir)
        else:
            pattern = f"wp_{module.__name__}_*.{extension or 'cu'}"
            root = self.workdir / "aot"
        found = sorted(root.glob(pattern))
        return found[-1].read_text() if found else ""

    def _compile_split(self, parts, indexes: list[int], outcomes) -> dict[int, tuple[object, dict]]:
        """Compile `indexes` together; on failure remove the named culprit or bisect."""
        if not indexes:
            return {}
        source = join_parts([parts[i][0] for i in indexes])
        options = f"wp.set_module_options({self.options!r})\n"
        source = source.replace(HEADER, HEADER + options, 1)
        try:
            module = _import_source(source, self.workdir)
            module.ks_first_lines = _first_lines(source, [parts[i][0] for i in indexes], indexes)
            self._build(module)
        except Exception as exc:
            message = _message(exc)
            stage = Stage.CODEGEN if "Codegen" in type(exc).__name__ or "Error while parsing" in message else Stage.COMPILE
            if len(indexes) == 1:
                outcomes[indexes[0]] = Outcome(ERROR_AT[stage], stage, message)
                return {}
            found = _CULPRIT.search(message)
            culprits = {int(found[1]): message} if found else {}
            if isinstance(exc, NativeBuildError):
                culprits = {i: _message(NativeBuildError(f"{exc.__cause__}: {error}", {})) for i, error in exc.culprits.items()}
            culprits = {i: text for i, text in culprits.items() if i in indexes}
            if culprits:
                for culprit, text in culprits.items():
                    outcomes[culprit] = Outcome(ERROR_AT[stage], stage, text)
                return self._compile_split(parts, [i for i in indexes if i not in culprits], outcomes)
            half = len(indexes) // 2
            done = self._compile_split(parts, indexes[:half], outcomes)
            done.update(self._compile_split(parts, indexes[half:], outcomes))
            return done
        return {index: (module, parts[index][1]) for index in indexes}

    def _build(self, module) -> None:
        """Compile `module`; a native compiler's first error joins the exception.

        Warp raises "kernel build failed" and leaves the compiler's diagnostics
        on stderr, so stderr is captured around the build: the first `error:`
        line is what tells two native failures apart.
        """
        wp = self.wp
        with _captured_stderr(self.workdir / "build-stderr.txt") as captured:
            try:
                if self.target == "cpu":
                    options = wp.get_module(module.__name__).options
                    if options.get("block_dim", 1) != 1:
                        # A CPU launch runs with a block of one thread; releases
                        # whose modules default to 256 (1.8 to 1.17, at least)
                        # would build every module a second time at launch.
                        options["block_dim"] = 1
                    wp.load_module(module, device="cpu")
                elif self.device is not None:
                    # the device's own architecture; an ahead-of-time build
                    # first would compile every module twice
                    wp.load_module(module, device=self.device)
                else:
                    ptx = {"use_ptx": True} if self.ptx else {}
                    wp.compile_aot_module(module, arch=self.arch, module_dir=self.workdir / "aot", **ptx)
            except Exception as exc:
                diagnostics = captured()
                error = _first_error(diagnostics)
                if error and "build failed" in str(exc):
                    raise NativeBuildError(f"{exc}: {error}", _culprits(diagnostics, self.workdir)) from exc
                raise

    # -- run

    def launch_args(self, kernel: A.Kernel, values: dict, device, requires_grad: frozenset[str] = frozenset(), module=None, names=None) -> tuple[list, dict]:
        """Warp launch arguments for `values` (from make_inputs), in parameter
        order, and the Warp arrays by name; arrays named in `requires_grad`
        get gradient buffers. A struct parameter is an instance of the
        module's struct class (`module` and its `names` map), its fields set
        from the flattened inputs."""
        wp = self.wp
        arrays = {}
        args = []
        for param in kernel.params:
            if not hasattr(param.ty, "role") and param.ty.is_struct:
                if module is None:
                    raise ValueError("launching a kernel with a struct parameter needs its module")
                args.append(self.struct_value(param.ty, values, param.name, lambda name: getattr(module, names[name]), device, requires_grad, arrays))
                continue
            value = values[param.name]
            if isinstance(value, np.ndarray) and value.ndim >= 1 and hasattr(param.ty, "role"):
                dtype = getattr(wp, param.ty.elem.name)
                arrays[param.name] = wp.array(value, dtype=dtype, device=device, requires_grad=param.name in requires_grad)
                args.append(arrays[param.name])
            elif hasattr(param.ty, "name") and (param.ty.is_vector or param.ty.is_matrix):
                args.append(getattr(wp, param.ty.name)(*np.asarray(value).reshape(-1).tolist()))
            else:
                args.append(value.item() if hasattr(value, "item") else value)
        return args, arrays

    def struct_value(self, ty, values: dict, base: str, class_of, device=None, requires_grad=frozenset(), arrays=None):
        """An instance of struct `ty` whose leaves are `values[base__field...]`;
        its array fields go into `arrays` too, by their flattened names (where
        the gradient oracle reads their adjoints)."""
        instance = class_of(ty.name)()
        for name, field_ty in ty.fields:
            key = leaf_name(base, (name,))
            if isinstance(field_ty, ArrayType):
                value = self.wp.array(values[key], dtype=getattr(self.wp, field_ty.elem.name), device=device, requires_grad=key in requires_grad)
                if arrays is not None:
                    arrays[key] = value
            elif field_ty.is_struct:
                value = self.struct_value(field_ty, values, key, class_of, device, requires_grad, arrays)
            elif field_ty.is_vector or field_ty.is_matrix:
                value = getattr(self.wp, field_ty.name)(*np.asarray(values[key]).reshape(-1).tolist())
            else:
                value = values[key].item()
            setattr(instance, name, value)
        return instance

    def run_built(self, module, names: dict[str, str], program: A.Program, launch: int = DEFAULT_LAUNCH, seed: int = 0) -> Outcome:
        """Launch a program `build` compiled, twice on fresh inputs (the
        nondeterminism oracle's evidence), and read its outputs."""
        wp = self.wp
        kernel = program.kernels[0]
        launch = A.launch_of(program, launch)  # the kernel's own launch size, if it has one
        scales = acc_scales(kernel, launch)
        runs = []
        try:
            for _ in range(2):  # twice, on fresh inputs: the nondeterminism oracle's evidence
                args, arrays = self.launch_args(kernel, make_inputs(kernel, launch, seed), self.run_device, module=module, names=names)
                launch_kernel(wp, getattr(module, names[kernel.name]), kernel, launch, args, self.run_device)
                wp.synchronize()
                runs.append({name: arrays[name].numpy().copy() for name in written_arrays(kernel)})
        except Exception as exc:
            return Outcome(Status.RUN_ERROR, Stage.RUN, _message(exc))
        return nondeterminism(runs[0], runs[1], scales) or Outcome(Status.OK, Stage.RUN, outputs=runs[0], scales=scales)


# The block a tiled launch asks for. One lane: on the CPU every request
# resolves to one (unless wp.config.enable_cpu_blocks), and on a GPU each of a
# block's lanes runs the kernel's scalar statements, so an atomic would add
# once per lane where the language adds once per thread.
TILE_BLOCK_DIM = 1


def launch_kernel(wp, compiled, kernel: A.Kernel, n: int, args: list, device) -> None:
    """Launch `kernel` over `n` threads: a kernel with tiles through
    wp.launch_tiled, one block per thread of the language."""
    if any(isinstance(node, A.TILE_NODES) for node in A.walk(kernel)):
        wp.launch_tiled(compiled, dim=[n], inputs=args, block_dim=TILE_BLOCK_DIM, device=device)
    else:
        wp.launch(compiled, dim=n, inputs=args, device=device)


def warp_cpu(workdir, **options) -> WarpCompiler:
    return WarpCompiler("cpu", workdir, **options)


def warp_cuda(workdir, **options) -> WarpCompiler:
    return WarpCompiler("cuda", workdir, **options)

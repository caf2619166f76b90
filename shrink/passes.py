"""The reduction passes: pure functions from a checked program to smaller candidates.

Each pass takes a type-checked `Program` (every expression's `ty` filled in)
and yields candidate programs, most aggressive first. A candidate is smaller
(fewer AST nodes, or as many with fewer names or simpler literals) but need not
type-check: the reducer checks each one and drops those the checker rejects,
so a pass never has to reason about scopes or roles. Every pass yields a number
of candidates about linear in the size of the program.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace

from kernel_synth.grammar import ast as A
from kernel_synth.grammar.ops import TILE_SIZES
from kernel_synth.grammar.lowering import call_binding, instantiate, is_generic
from kernel_synth.grammar.types import ANY, BOOL, F32, I32, DType, TileType, TupleType, struct_type

from .edits import (
    Path,
    blocks,
    definitions,
    expressions,
    get_at,
    local_target,
    map_stmts,
    names_read,
    names_used,
    replace_at,
    size,
    substitute,
)

Pass = Callable[[A.Program], Iterator[A.Program]]

ZERO = A.Const(0, I32)


# ----------------------------------------------------------- 1. delete statements


def delete_statements(program: A.Program) -> Iterator[A.Program]:
    """Delete one statement, or a run of statements of one block, at any depth.

    Runs are the halves, quarters, ... of each long block (as in delta debugging)
    and every single statement is tried, so a program this pass cannot reduce is
    1-minimal with respect to statement deletion. Helpers are deleted here too,
    and kernels while more than one is left. Candidates come biggest first (by AST
    nodes removed); among equal sizes the later one in a block first, since
    later statements use earlier ones and not the other way round.
    """
    edits: list[tuple[int, int, Callable[[], A.Program]]] = []
    order = 0
    for block_path, stmts in blocks(program):
        sizes = [size(s) for s in stmts]
        for start, stop in _runs(len(stmts)):
            removed = sum(sizes[start:stop])
            order += 1
            edits.append((removed, order, _deleter(program, block_path, stmts, start, stop)))
    for index, func in enumerate(program.funcs):
        order += 1
        funcs = program.funcs[:index] + program.funcs[index + 1 :]
        edits.append((size(func), order, _const(replace(program, funcs=funcs))))
    if len(program.kernels) > 1:
        for index, kernel in enumerate(program.kernels):
            order += 1
            kernels = program.kernels[:index] + program.kernels[index + 1 :]
            edits.append((size(kernel), order, _const(replace(program, kernels=kernels))))
    edits.sort(key=lambda e: (-e[0], -e[1]))
    for _, _, build in edits:
        yield build()


# Blocks shorter than this are reduced one statement at a time: in generated
# programs, runs of statements that go together are rare and cost a test each.
RUN_MIN = 8


def _runs(n: int) -> list[tuple[int, int]]:
    """Halves, quarters, ... down to single statements (fewer than 2n runs); only
    single statements for blocks shorter than RUN_MIN."""
    runs: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    chunk = n if n >= RUN_MIN else 1
    while chunk >= 1:
        for start in range(0, n, chunk):
            run = (start, min(start + chunk, n))
            if run not in seen:
                seen.add(run)
                runs.append(run)
        if chunk == 1:
            break
        chunk = (chunk + 1) // 2
    return runs


def _deleter(program, block_path: Path, stmts: tuple, start: int, stop: int):
    return lambda: replace_at(program, block_path, stmts[:start] + stmts[stop:])


def _const(value):
    return lambda: value


# ---------------------------------------------------------- 2. unwrap compounds


def unwrap_compounds(program: A.Program) -> Iterator[A.Program]:
    """Replace an `if` by one of its branches or by all of them in sequence, a
    loop by its body; drop clauses.

    A loop variable or while counter no longer exists once its loop is gone, so
    its reads become the literal 0 (in the loop body, and for a counter, which
    stays in scope, in the rest of the block). Also: drop an elif clause, the
    else clause, or the if clause (the first elif takes its place), and drop a
    while loop's extra condition.
    """
    for block_path, stmts in blocks(program):
        for index, stmt in enumerate(stmts):
            before, after = stmts[:index], stmts[index + 1 :]

            def splice(body: tuple, rest: tuple = after) -> A.Program:
                return replace_at(program, block_path, before + tuple(body) + tuple(rest))

            def with_stmt(new) -> A.Program:
                return replace_at(program, block_path, before + (new,) + after)

            if isinstance(stmt, A.If):
                yield splice(stmt.body)
                for clause in stmt.elifs:
                    yield splice(clause.body)
                if stmt.orelse is not None:
                    yield splice(stmt.orelse)
                branches = (stmt.body, *(c.body for c in stmt.elifs), *((stmt.orelse,) if stmt.orelse is not None else ()))
                if len(branches) > 1:  # what two branches hold may matter together
                    yield splice(tuple(s for body in branches for s in body))
                if stmt.elifs:
                    first = stmt.elifs[0]
                    yield with_stmt(replace(stmt, cond=first.cond, body=first.body, elifs=stmt.elifs[1:]))
                for k in range(len(stmt.elifs)):
                    yield with_stmt(replace(stmt, elifs=stmt.elifs[:k] + stmt.elifs[k + 1 :]))
                if stmt.orelse is not None:
                    yield with_stmt(replace(stmt, orelse=None))
            elif isinstance(stmt, A.For):
                yield splice(tuple(substitute(s, stmt.var, ZERO) for s in stmt.body))
            elif isinstance(stmt, A.While):
                body = tuple(substitute(s, stmt.counter, ZERO) for s in stmt.body)
                rest = tuple(substitute(s, stmt.counter, ZERO) for s in after)
                yield splice(body, rest)
                if stmt.cond is not None:
                    yield with_stmt(replace(stmt, cond=None))


# ---------------------------------------------------------- 3. smaller expressions


def simplify_expressions(program: A.Program) -> Iterator[A.Program]:
    """Replace an expression by a literal of its type or a same-typed sub-expression.

    Expressions are visited biggest first. For each: the literal 0 of its type
    (`0`, `0.0`, `float64(0.0)`, `vec3(0.0, 0.0, 0.0)`, ...), then each nearest
    sub-expression of the same type, smallest first (`a + b` -> `a`, `b`;
    `sin(x)` -> `x`; a ternary -> a branch; a bool condition -> one of its bool
    operands), then the literal 1 for numbers. Literals themselves are left to
    `simplify_literals`. Candidates that would not be smaller are not yielded.
    """
    places = [(path, node) for path, node in expressions(program) if not isinstance(node, A.Const)]
    sized = sorted(((size(node), order, path, node) for order, (path, node) in enumerate(places)), key=lambda t: (-t[0], t[1]))
    for node_size, _, path, node in sized:
        ty = node.ty
        if ty is None:
            continue
        options: list = []
        zero = literal(ty, 0)
        if zero is not None:
            options.append(zero)
        options.extend(sorted(nearest_of_type(node, ty), key=size))
        if path[-1] == ("value", None) and _declares(get_at(program, path[:-1])):
            options.extend(sorted(nearest_of_other_type(node, ty), key=size))
        one = literal(ty, 1) if ty.is_numeric else None
        if one is not None:
            options.append(one)
        for option in options:
            if size(option) < node_size or (size(option) == node_size and isinstance(option, A.Const)):
                candidate = _try_replace(program, path, option)
                if candidate is not None:
                    yield candidate


def _try_replace(program: A.Program, path: Path, new) -> A.Program | None:
    """`replace_at`, or None where the AST refuses the result (a cast of a literal)."""
    try:
        return replace_at(program, path, new)
    except A.ASTError:
        return None


def literal(ty: DType, value: int) -> A.Const | A.Construct | None:
    """The literal `value` of type `ty` (a constructor of such literals for vectors
    and matrices); None for bool, which has no literals."""
    if ty.is_float:
        return A.Const(float(value), ty)
    if ty.is_int:
        return A.Const(int(value), ty)
    if ty.is_vector or ty.is_matrix:
        return A.Construct(ty, (A.Const(float(value), F32),) * ty.length, ty)
    return None


def _declares(stmt) -> bool:
    return isinstance(stmt, A.Assign) and isinstance(stmt.target, A.Name)


def nearest_of_other_type(node, ty: DType) -> list:
    """The sub-expressions of `node` with a value type other than `ty` (bool is no
    value type) and none between them and `node`: what the value of a local's
    declaration may become if the local changes type (`v = length(w)` -> `v = w`)."""
    found: list = []
    stack = list(reversed(A.children(node)))
    while stack:
        current = stack.pop()
        if not isinstance(current, A.EXPR_TYPES):
            continue
        if current.ty not in (ty, BOOL) and not isinstance(current.ty, TileType):  # a tile is no local's value
            found.append(current)
        else:
            stack.extend(reversed(A.children(current)))
    return found


def nearest_of_type(node, ty: DType) -> list:
    """The sub-expressions of `node` of type `ty` with no such expression between
    them and `node` (so `exp(clamp(x, lo, hi))` gives the clamp, not x)."""
    found: list = []
    stack = list(reversed(A.children(node)))
    while stack:
        current = stack.pop()
        if not isinstance(current, A.EXPR_TYPES):
            continue
        if current.ty == ty:
            found.append(current)
        else:
            stack.extend(reversed(A.children(current)))
    return found


# ---------------------------------------------------------- 4. unused definitions


def drop_unused(program: A.Program) -> Iterator[A.Program]:
    """Drop what nothing reads: parameters, helpers, and locals' assignments.

    An unused helper parameter goes together with the argument at each call. Each
    kind is tried all at once first, then one by one.
    """
    # Parameters.
    unused: list[tuple[Path, int]] = []
    for path, definition in definitions(program):
        used = names_used(definition)
        unused.extend((path, k) for k, param in enumerate(definition.params) if param.name not in used)
    if len(unused) > 1:
        yield _drop_params(program, unused)
    for place in unused:
        yield _drop_params(program, [place])

    # Helpers.
    called = {node.func for node in A.walk(program) if isinstance(node, A.Call)}
    uncalled = {f.name for f in program.funcs if f.name not in called}
    if len(uncalled) > 1:
        yield replace(program, funcs=tuple(f for f in program.funcs if f.name not in uncalled))
    for name in sorted(uncalled):
        yield replace(program, funcs=tuple(f for f in program.funcs if f.name != name))

    # Locals written and never read.
    dead: list[tuple[int, str]] = []
    for index, (_, definition) in enumerate(definitions(program)):
        read = names_read(definition)
        written = {local_target(s) for s in A.walk(definition) if local_target(s) is not None}
        dead.extend((index, name) for name in sorted(written - read))
    if len(dead) > 1:
        yield _drop_stores(program, set(dead))
    for item in dead:
        yield _drop_stores(program, {item})


def _drop_params(program: A.Program, places: list[tuple[Path, int]]) -> A.Program:
    drops: dict[Path, set[int]] = {}
    for path, k in places:
        drops.setdefault(path, set()).add(k)
    helper_drops: dict[str, set[int]] = {}
    for path, ks in drops.items():
        definition = get_at(program, path)
        params = tuple(p for k, p in enumerate(definition.params) if k not in ks)
        program = replace_at(program, path, replace(definition, params=params))
        if isinstance(definition, A.Func):
            helper_drops[definition.name] = ks
    return _drop_call_args(program, helper_drops) if helper_drops else program


def _drop_call_args(node, drops: dict[str, set[int]]):
    """Every call of a helper in `drops` without the arguments at those indices."""
    if isinstance(node, tuple):
        return tuple(_drop_call_args(item, drops) for item in node)
    if not isinstance(node, A.EXPR_TYPES + A.STMT_TYPES + (A.Elif, A.Func, A.Kernel, A.Program)):
        return node
    changes = {}
    for field in node.__dataclass_fields__:
        if field in ("pos", "ty"):
            continue
        old = getattr(node, field)
        new = _drop_call_args(old, drops)
        if new != old:
            changes[field] = new
    if isinstance(node, A.Call) and node.func in drops:
        args = changes.get("args", node.args)
        changes["args"] = tuple(a for k, a in enumerate(args) if k not in drops[node.func])
    return replace(node, **changes) if changes else node


def _drop_stores(program: A.Program, dead: set[tuple[int, str]]) -> A.Program:
    definitions_ = list(program.funcs + program.kernels)
    for index, definition in enumerate(definitions_):
        names = {name for k, name in dead if k == index}
        if names:
            definitions_[index] = map_stmts(definition, lambda s, names=names: () if local_target(s) in names else None)
    n = len(program.funcs)
    return replace(program, funcs=tuple(definitions_[:n]), kernels=tuple(definitions_[n:]))


# ------------------------------------------------------- 4b. unused struct fields


def drop_unused_fields(program: A.Program) -> Iterator[A.Program]:
    """Drop a struct that nothing names, or a field that no field access
    reaches, each struct type everywhere rewritten to its smaller self."""
    # expressions, parameters and fields (nested structs) by their types
    named = {n.ty.name for n in A.walk(program) if getattr(getattr(n, "ty", None), "is_struct", False)}
    named |= {f.ret.name for f in program.funcs if getattr(f.ret, "is_struct", False)}
    named |= {n.of for n in A.walk(program) if isinstance(n, A.StructNew)}
    for struct in program.structs:
        if struct.name not in named:
            yield _with_structs(program, tuple(s for s in program.structs if s is not struct))
    read = {(n.value.ty.name, n.name) for n in A.walk(program) if isinstance(n, A.Field) and n.value.ty is not None}
    # an array field is read through its AST name `p.a` (ArrayRead, Len), never a Field node
    for kernel in program.kernels:
        params = {p.name: p.ty for p in kernel.params}
        for n in A.walk(kernel):
            if isinstance(n, (A.ArrayRead, A.Len)) and "." in n.array:
                base, field = n.array.split(".")
                read.add((params[base].name, field))
    for index, struct in enumerate(program.structs):
        for field in struct.fields:
            if (struct.name, field.name) not in read and len(struct.fields) > 1:
                smaller = replace(struct, fields=tuple(f for f in struct.fields if f is not field))
                yield _with_structs(program, program.structs[:index] + (smaller,) + program.structs[index + 1 :])


def drop_unused_overloads(program: A.Program) -> Iterator[A.Program]:
    """Drop an overload no call resolves to (the checker resolves a call to
    the overload whose parameter types are its arguments' types)."""
    names = [f.name for f in program.funcs]
    called = {(n.func, tuple(a.ty for a in n.args)) for n in A.walk(program) if isinstance(n, A.Call)}
    for func in program.funcs:
        if names.count(func.name) > 1 and (func.name, tuple(p.ty for p in func.params)) not in called:
            yield replace(program, funcs=tuple(f for f in program.funcs if f is not func))


def concretize_generics(program: A.Program) -> Iterator[A.Program]:
    """A generic helper that every call binds to one type becomes a concrete
    helper of that type (same name, `Any` replaced everywhere in it); one
    that nothing calls, a float32 helper."""
    for index, func in enumerate(program.funcs):
        if not is_generic(func):
            continue
        bound = {call_binding(func, n) for n in A.walk(program) if isinstance(n, A.Call) and n.func == func.name} or {F32}
        if len(bound) == 1 and ANY not in bound:
            concrete = instantiate(func, bound.pop())
            yield replace(program, funcs=program.funcs[:index] + (concrete,) + program.funcs[index + 1 :])


def inline_constants(program: A.Program) -> Iterator[A.Program]:
    """Drop a constant, its value written where it was read (the same value:
    a static that read it computes the same, a local assigned it is typed
    as before)."""
    for constant in program.constants:
        rest = tuple(c for c in program.constants if c is not constant)
        funcs = tuple(substitute(f, constant.name, constant.value) for f in program.funcs)
        kernels = tuple(substitute(k, constant.name, constant.value) for k in program.kernels)
        yield replace(program, funcs=funcs, kernels=kernels, constants=rest)


def drop_tuple_elements(program: A.Program) -> Iterator[A.Program]:
    """Drop one of the values a helper returns, at its return and at every
    unpacking of its calls (the checker refuses the candidate where a dropped
    target is still read); two values become one, returned and assigned plainly.
    Likewise one name and its value of a parallel assignment (`a, b = x, y`)."""
    for func in program.funcs:
        if not isinstance(func.ret, TupleType):
            continue
        for k in range(len(func.ret.elems)):
            yield _without_element(program, func.name, k)
    parallel = [n for n in A.walk(program) if isinstance(n, A.Unpack) and isinstance(n.value, A.TupleExpr)]
    for stmt in parallel:
        for k in range(len(stmt.targets)):
            yield _without_parallel_element(program, stmt, k)


def _without_parallel_element(program: A.Program, stmt: A.Unpack, k: int) -> A.Program:
    targets = stmt.targets[:k] + stmt.targets[k + 1 :]
    items = stmt.value.items[:k] + stmt.value.items[k + 1 :]
    smaller = (A.Assign(targets[0], items[0], pos=stmt.pos),) if len(targets) == 1 else (replace(stmt, targets=targets, value=replace(stmt.value, items=items, ty=None)),)

    def rewrite(node):
        return smaller if node is stmt else None

    return map_stmts(program, rewrite)


def _without_element(program: A.Program, name: str, k: int) -> A.Program:
    def keep(items: tuple) -> tuple:
        return items[:k] + items[k + 1 :]

    def rewrite(stmt):
        if isinstance(stmt, A.Unpack) and isinstance(stmt.value, A.Call) and stmt.value.func == name:
            targets = keep(stmt.targets)
            if len(targets) == 1:
                return (A.Assign(targets[0], stmt.value, pos=stmt.pos),)
            return (replace(stmt, targets=targets),)
        return None

    funcs = []
    for func in program.funcs:
        if func.name == name:
            elems = keep(func.ret.elems)
            body = list(func.body)
            last = body[-1]
            items = keep(last.value.items) if isinstance(last, A.Return) and isinstance(last.value, A.TupleExpr) else None
            if items is not None:
                value = items[0] if len(items) == 1 else replace(last.value, items=items, ty=None)
                body[-1] = replace(last, value=value)
            func = replace(func, ret=elems[0] if len(elems) == 1 else TupleType(elems), body=tuple(body))
        funcs.append(map_stmts(func, rewrite))
    return replace(program, funcs=tuple(funcs), kernels=tuple(map_stmts(kernel, rewrite) for kernel in program.kernels))


def _with_structs(program: A.Program, structs: tuple) -> A.Program:
    """`program` with these struct declarations, every struct type in it (of a
    parameter, a result, an expression, a field) rebuilt from them by name."""
    types: dict[str, DType] = {}
    for struct in structs:
        types[struct.name] = struct_type(struct.name, [(f.name, _retyped(f.ty, types)) for f in struct.fields])
    structs = tuple(replace(s, fields=tuple(replace(f, ty=_retyped(f.ty, types)) for f in s.fields)) for s in structs)
    return replace(_retype_tree(program, types), structs=structs)


def _retyped(ty, types: dict[str, DType]):
    if isinstance(ty, DType) and ty.is_struct:
        return types.get(ty.name, ty)
    if isinstance(ty, TupleType):
        return TupleType(tuple(_retyped(t, types) for t in ty.elems))
    return ty


def _retype_tree(node, types: dict[str, DType]):
    if isinstance(node, tuple):
        return tuple(_retype_tree(item, types) for item in node)
    if not hasattr(node, "__dataclass_fields__") or isinstance(node, (DType, TupleType, A.Pos)):
        return node
    changes = {}
    for name in node.__dataclass_fields__:
        if name == "pos":
            continue
        old = getattr(node, name)
        new = _retyped(old, types) if isinstance(old, (DType, TupleType)) else _retype_tree(old, types)
        if new is not old:
            changes[name] = new
    return replace(node, **changes) if changes else node


# ------------------------------------------------------ 5. stores become locals


def stores_to_locals(program: A.Program) -> Iterator[A.Program]:
    """Turn an array store (`out[i] = e`, `io[i] += e`, `out[i].x = e`), a
    field store (`s.f = e`) or a local's component store (`v.z = e`) into the
    assignment of its value to a fresh local (`v7 = e`), so that the array
    parameter, and often the thread index, can go; an atomic likewise
    (`atomic_add(a, k, e)` -> `v7 = e`); and a helper called as a
    statement into the assignment of one of its arguments (`f(a, e)` ->
    `v7 = e`), which the other passes can then shrink. Stores in program order."""
    taken = _all_names(program)
    fresh = next(f"v{n}" for n in range(len(taken) + 1) if f"v{n}" not in taken)
    for block_path, stmts in blocks(program):
        for index, stmt in enumerate(stmts):
            values = []
            if isinstance(stmt, (A.Assign, A.AugAssign)):
                target, component = stmt.target, False
                while isinstance(target, (A.Component, A.ComponentAt)):  # `v.x`, `m[r][c]`, `y[i].x`
                    target, component = target.value, True
                # an element, a struct's field, or a component of a local (`v.z = e` -> `v7 = e`)
                if isinstance(target, (A.ArrayRead, A.Field)) or (component and isinstance(target, A.Name)):
                    values.append(stmt.value)
            elif isinstance(stmt, A.CallStmt):
                values.extend(arg for arg in stmt.call.args if arg.ty is not None)
            elif isinstance(stmt, A.Atomic):
                values.append(stmt.value)
            for value in values:
                new = A.Assign(A.Name(fresh), value)
                candidate = replace_at(program, block_path, stmts[:index] + (new,) + stmts[index + 1 :])
                if isinstance(stmt, A.CallStmt):
                    candidate = _without_uncalled(candidate, stmt.call.func)
                if isinstance(stmt, A.Atomic):  # the array goes with it when nothing else names it
                    definition = get_at(candidate, block_path[:1])
                    names = [p.name for p in definition.params]
                    if stmt.array in names and stmt.array not in names_used(definition):
                        candidate = _drop_params(candidate, [(block_path[:1], names.index(stmt.array))])
                yield candidate


def _without_uncalled(program: A.Program, func: str) -> A.Program:
    """`program` without helper `func` when nothing calls it any more."""
    if any(isinstance(n, A.Call) and n.func == func for n in A.walk(program)):
        return program
    return replace(program, funcs=tuple(f for f in program.funcs if f.name != func))


def _all_names(program: A.Program) -> set[str]:
    names: set[str] = set()
    for node in A.walk(program):
        if isinstance(node, (A.Func, A.Kernel, A.Param)):
            names.add(node.name)
        elif isinstance(node, A.Name):
            names.add(node.id)
        elif isinstance(node, A.For):
            names.add(node.var)
        elif isinstance(node, A.While):
            names.add(node.counter)
    return names


# ----------------------------------------------------------- 6. simpler literals


def simplify_literals(program: A.Program) -> Iterator[A.Program]:
    """Move each literal towards 0, 1 and small integers with few digits; the
    same for while-loop limits. Literals in program order, simplest value first."""
    for path, node in expressions(program):
        if isinstance(node, A.Const):
            for value in simpler_values(node.value):
                yield replace_at(program, path, A.Const(value, node.ty))
    for path, node in _while_loops(program):
        for value in simpler_values(node.limit):
            yield replace_at(program, path, replace(node, limit=value))


def _while_loops(program: A.Program):
    for block_path, stmts in blocks(program):
        for index, stmt in enumerate(stmts):
            if isinstance(stmt, A.While):
                yield block_path[:-1] + ((block_path[-1][0], index),), stmt


def literal_cost(value: int | float) -> tuple[int, float]:
    """How complicated a literal looks: its printed length, then its magnitude."""
    if isinstance(value, int):
        return (len(str(value)), value)
    return (len(repr(value)), value)


def simpler_values(value: int | float) -> list:
    """Values simpler than `value` (by `literal_cost`), simplest first."""
    if isinstance(value, int):
        options = [0, 1, 2, value // 2, value - 1]
    else:
        options = [0.0, 1.0, 2.0, float(math.trunc(value)), float(math.trunc(value / 2))]
        text = repr(value)
        if "e" not in text and "." in text:
            digits = len(text.split(".")[1])
            options.extend(round(value, d) for d in range(1, digits))
    cost = literal_cost(value)
    found = sorted({v for v in options if v >= 0 and literal_cost(v) < cost}, key=literal_cost)
    return found


def shrink_tiles(program: A.Program) -> Iterator[A.Program]:
    """Make the tiles of a reduction (or of a tile_get, whose indexes are
    clamped into any size) smaller, all together (the tiles under one
    reduction have one size): each smaller size, smallest first. A
    tile_map or a tile_matmul (whose operands may have another size) is
    replaced by one of its tiles of its size by `simplify_expressions`."""
    for path, node in expressions(program):
        if not isinstance(node, (A.TileReduce, A.TileGet)) or any(isinstance(n, A.TileMatmul) for n in A.walk(node.tile)):
            continue
        current = _size(node.tile)
        for size in (s for s in TILE_SIZES if s < current):
            candidate = _try_replace(program, path, replace(node, tile=_resized(node.tile, size)))
            if candidate is not None:
                yield candidate


def _size(tile) -> int:
    """The size of a tile outside products: its first leaf's."""
    return _size(tile.tiles[0]) if isinstance(tile, A.TileMap) else tile.size


def _resized(tile, size: int):
    ty = TileType(tile.ty.elem, size) if tile.ty is not None else None
    if isinstance(tile, (A.TileLoad, A.TileFull)):
        return replace(tile, size=size, ty=ty)
    return replace(tile, tiles=tuple(_resized(t, size) for t in tile.tiles), ty=ty)


def shrink_launch(program: A.Program) -> Iterator[A.Program]:
    """A smaller launch size for each kernel that has one: the small sizes 1
    to 8 first, then the halvings n/2^k and the sizes n - n/2^k in increasing
    order. A failure that shows only above some size so keeps a size above it
    (no smaller candidate fails), and a run of rounds closes in on the
    smallest such size about as a bisection would."""
    for index, kernel in enumerate(program.kernels):
        n = kernel.launch
        if n is None or n <= 1:
            continue
        sizes = set(range(1, min(n, 9)))
        k = 1
        while n >> k:
            sizes.update((n >> k, n - (n >> k)))
            k += 1
        for size in sorted(s for s in sizes if 1 <= s < n):
            kernels = program.kernels[:index] + (replace(kernel, launch=size),) + program.kernels[index + 1 :]
            yield replace(program, kernels=kernels)


DEFAULT_PASSES: tuple[Pass, ...] = (
    delete_statements,
    shrink_launch,
    unwrap_compounds,
    simplify_expressions,
    drop_unused,
    drop_unused_fields,
    drop_unused_overloads,
    concretize_generics,
    inline_constants,
    drop_tuple_elements,
    stores_to_locals,
    shrink_tiles,
    simplify_literals,
)

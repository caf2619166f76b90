"""Structs flattened away: a checked program -> the same program without structs.

Every struct value becomes its leaves (the non-struct fields, nested structs
flattened) held apart: a struct local or parameter `s` becomes one local or
parameter per leaf, named `s__f` (`s__f__g` for nested fields; the checker keeps
`__` out of every name a program defines); `S()` becomes each leaf's zero; a
helper returning a struct returns its leaves as several values, unpacked at the
call. Reads and writes of fields become reads and writes of those names; an
array field `s.a` of a struct parameter becomes the array parameter `s__a`.

Structs are values in the language (grammar/SEMANTICS.md: `t = s` copies), so
this changes no result: the reference and the JAX renderer run the flattened
program, and only the Warp renderer sees structs, which Warp compiles itself.
Launch inputs of a struct parameter are keyed by the flattened names too
(backends.inputs), so the two programs take the same inputs.
"""

from __future__ import annotations

from dataclasses import fields, replace

from . import ast as A
from .types import ANY, F32, FUNCTION, DType, TupleType


def leaf_name(base: str, path: tuple[str, ...]) -> str:
    return "__".join((base, *path))


def flat_params(params) -> tuple[A.Param, ...]:
    """`params` with each struct parameter replaced by its leaves."""
    out = []
    for p in params:
        if isinstance(p.ty, DType) and p.ty.is_struct:
            out.extend(A.Param(leaf_name(p.name, path), ty, pos=p.pos) for path, ty in p.ty.leaves())
        else:
            out.append(p)
    return tuple(out)


def zero(ty: DType):
    if ty.is_vector or ty.is_matrix:
        return A.Construct(ty, tuple(A.Const(0.0, F32) for _ in range(ty.length)), ty)
    return A.Const(0.0 if ty.is_float else 0, ty)


def flatten_structs(program: A.Program) -> A.Program:
    """`program` without structs (itself when it declares none)."""
    if not program.structs:
        return program
    rets = {f.name: f.ret for f in program.funcs}
    lower = _Lowering(rets)
    funcs = tuple(lower.func(f) for f in program.funcs)
    kernels = tuple(replace(k, params=flat_params(k.params), body=lower.block(k.body)) for k in program.kernels)
    return A.Program(funcs, kernels, (), program.constants)


def _flat_ret(ty):
    if isinstance(ty, DType) and ty.is_struct:
        types = tuple(t for _, t in ty.leaves())
        return types[0] if len(types) == 1 else TupleType(types)
    return ty


class _Lowering:
    def __init__(self, rets: dict):
        self.rets = rets

    def func(self, func: A.Func) -> A.Func:
        return replace(func, params=flat_params(func.params), ret=_flat_ret(func.ret), body=self.block(func.body))

    # -- struct values as their leaves

    def leaves(self, node) -> list:
        """The leaf values of a struct-typed expression (a name, a field of
        struct type or `S()`), in `ty.leaves()` order."""
        if isinstance(node, A.StructNew):
            return [zero(ty) for _, ty in node.ty.leaves()]
        base, path = self.place(node)
        if isinstance(base, A.StructNew):
            return [zero(ty) for _, ty in node.ty.leaves()]
        return [A.Name(leaf_name(base.id, path + sub), ty, pos=node.pos) for sub, ty in node.ty.leaves()]

    @staticmethod
    def place(node) -> tuple[object, tuple[str, ...]]:
        """(root, field path) of a name or field chain."""
        path: list[str] = []
        while isinstance(node, A.Field):
            path.append(node.name)
            node = node.value
        return node, tuple(reversed(path))

    # -- expressions

    def expr(self, node):
        if isinstance(node, (A.ArrayRead, A.Len)) and "." in node.array:  # `s.a`: the array field is a leaf parameter
            base, field = node.array.split(".")
            return replace(self.rebuild(node), array=leaf_name(base, (field,)))
        if isinstance(node, A.Field):  # a leaf: structs only reach here whole through `leaves`
            base, path = self.place(node)
            if isinstance(base, A.StructNew):
                return zero(node.ty)
            return A.Name(leaf_name(base.id, path), node.ty, pos=node.pos)
        if isinstance(node, A.Call) and node.func in self.rets:
            args = []
            for arg in node.args:
                if isinstance(arg.ty, DType) and arg.ty.is_struct:
                    args.extend(self.leaves(arg))
                else:
                    args.append(self.expr(arg))
            return replace(node, args=tuple(args), ty=_flat_ret(node.ty))
        return self.rebuild(node)

    def rebuild(self, node):
        changes = {}
        for f in fields(node):
            if f.name in ("pos", "ty"):
                continue
            value = getattr(node, f.name)
            if isinstance(value, A.EXPR_TYPES):
                changes[f.name] = self.expr(value)
            elif isinstance(value, tuple) and value and isinstance(value[0], A.EXPR_TYPES):
                changes[f.name] = tuple(self.expr(v) for v in value)
        return replace(node, **changes) if changes else node

    def target(self, node):
        if isinstance(node, A.Field):
            base, path = self.place(node)
            return A.Name(leaf_name(base.id, path), node.ty, pos=node.pos)
        if isinstance(node, (A.Component, A.ComponentAt)) and isinstance(node.value, A.Field):
            inner = self.target(node.value)
            index = node.index if isinstance(node, A.Component) else self.expr(node.index)
            return replace(node, value=inner, index=index)
        return self.expr(node)

    # -- statements

    def block(self, stmts) -> tuple:
        out: list = []
        for stmt in stmts:
            out.extend(self.stmt(stmt))
        return tuple(out)

    def stmt(self, stmt) -> list:
        if isinstance(stmt, A.Assign):
            ty = stmt.value.ty
            if isinstance(ty, DType) and ty.is_struct:
                targets = self.leaves(stmt.target)
                if isinstance(stmt.value, A.Call):
                    call = self.expr(stmt.value)
                    if len(targets) == 1:
                        return [A.Assign(targets[0], call, pos=stmt.pos)]
                    return [A.Unpack(tuple(targets), call, pos=stmt.pos)]
                return [A.Assign(t, v, pos=stmt.pos) for t, v in zip(targets, self.leaves(stmt.value))]
            return [replace(stmt, target=self.target(stmt.target), value=self.expr(stmt.value))]
        if isinstance(stmt, A.AugAssign):
            return [replace(stmt, target=self.target(stmt.target), value=self.expr(stmt.value))]
        if isinstance(stmt, A.Return):
            ty = stmt.value.ty
            if isinstance(ty, DType) and ty.is_struct:
                values = self.leaves(stmt.value)
                value = values[0] if len(values) == 1 else A.TupleExpr(tuple(values), _flat_ret(ty))
                return [replace(stmt, value=value)]
            return [replace(stmt, value=self.expr(stmt.value))]
        if isinstance(stmt, A.If):
            elifs = tuple(replace(c, cond=self.expr(c.cond), body=self.block(c.body)) for c in stmt.elifs)
            orelse = None if stmt.orelse is None else self.block(stmt.orelse)
            return [replace(stmt, cond=self.expr(stmt.cond), body=self.block(stmt.body), elifs=elifs, orelse=orelse)]
        if isinstance(stmt, A.For):
            return [replace(stmt, bound=self.expr(stmt.bound), body=self.block(stmt.body))]
        if isinstance(stmt, A.While):
            cond = None if stmt.cond is None else self.expr(stmt.cond)
            return [replace(stmt, cond=cond, body=self.block(stmt.body))]
        if isinstance(stmt, A.Unpack):
            return [replace(stmt, value=self.expr(stmt.value))]
        if isinstance(stmt, (A.Atomic, A.CallStmt)):
            return [self.rebuild(stmt)]
        return [stmt]  # break, continue



# ------------------------------------------------ generic and overloaded helpers


def is_generic(func: A.Func) -> bool:
    """Whether `func` is a generic helper: a parameter of type `Any`."""
    return any(p.ty == ANY for p in func.params)


def _map(node, fn):
    """`node` rebuilt bottom-up, `fn` applied to every node (expressions,
    statements, clauses, parameters) after its children."""
    if isinstance(node, tuple):
        return tuple(_map(item, fn) for item in node)
    if not hasattr(node, "__dataclass_fields__") or isinstance(node, (DType, TupleType, A.Pos)):
        return node
    changes = {}
    for f in fields(node):
        if f.name in ("pos", "ty"):
            continue
        value = getattr(node, f.name)
        mapped = _map(value, fn)
        if mapped is not value:
            changes[f.name] = mapped
    return fn(replace(node, **changes) if changes else node)


def _bind(ty, bound: DType):
    if ty == ANY:
        return bound
    if isinstance(ty, TupleType) and ANY in ty.elems:
        return TupleType(tuple(bound if t == ANY else t for t in ty.elems))
    return ty


def instantiate(func: A.Func, bound: DType, name: str | None = None) -> A.Func:
    """The generic helper `func` with `Any` bound to `bound`: every parameter,
    the return type and every expression typed `Any` take that type (named
    `name` when given). The checker types a generic body so that this is all
    an instantiation changes (grammar/SEMANTICS.md, Generic helpers)."""

    def bind(node):
        changes = {}
        if getattr(node, "ty", None) is not None and _bind(node.ty, bound) is not node.ty:
            changes["ty"] = _bind(node.ty, bound)
        return replace(node, **changes) if changes else node

    params = tuple(replace(p, ty=bound) if p.ty == ANY else p for p in func.params)
    return replace(func, name=name or func.name, params=params, ret=_bind(func.ret, bound), body=_map(func.body, bind))


def instance_name(func: str, bound: DType) -> str:
    return f"{func}__{bound.name}"


def overload_name(func: str, index: int) -> str:
    return f"{func}__o{index}"


def call_binding(func: A.Func, call: A.Call) -> DType:
    """The type a call of the generic helper `func` binds `Any` to: its first
    `Any` argument's (the checker makes every other `Any` argument agree)."""
    return next(arg.ty for arg, p in zip(call.args, func.params) if p.ty == ANY)


def monomorphize(program: A.Program) -> A.Program:
    """A checked `program` without generic or overloaded helpers (itself when
    it has none): each generic helper becomes one concrete helper per type a
    call binds it to (`g__float64`), in the generic's place; each overload
    gets a name of its own (`f__o0`, `f__o1`, in definition order); every
    call names the helper it resolves to. The reference and the JAX renderer
    run this program; Warp instantiates and resolves the originals itself."""
    by_name: dict[str, list[A.Func]] = {}
    for func in program.funcs:
        by_name.setdefault(func.name, []).append(func)
    if not any(len(fs) > 1 or is_generic(fs[0]) for fs in by_name.values()):
        return program
    instances: dict[str, dict[DType, A.Func]] = {f.name: {} for f in program.funcs if is_generic(f)}

    def resolve(node):
        if not isinstance(node, A.Call) or node.func not in by_name:
            return node
        candidates = by_name[node.func]
        if len(candidates) > 1:
            types = tuple(arg.ty for arg in node.args)
            index = next(k for k, f in enumerate(candidates) if tuple(p.ty for p in f.params) == types)
            return replace(node, func=overload_name(node.func, index))
        func = candidates[0]
        if not is_generic(func):
            return node
        bound = call_binding(func, node)
        if bound not in instances[func.name]:
            instances[func.name][bound] = None  # being built: a generic never calls itself
            concrete = instantiate(func, bound, instance_name(func.name, bound))
            instances[func.name][bound] = replace(concrete, body=_map(concrete.body, resolve))
        return replace(node, func=instance_name(func.name, bound))

    kernels = tuple(_map(k, resolve) for k in program.kernels)
    concrete_funcs = {}
    for func in reversed(program.funcs):  # callers before callees: a caller's instances are known first
        if not is_generic(func):
            concrete_funcs[id(func)] = _map(func, resolve)
    funcs = []
    counters: dict[str, int] = {}
    for func in program.funcs:
        if is_generic(func):
            funcs.extend(instances[func.name][t] for t in sorted(instances[func.name], key=lambda t: t.name))
        elif len(by_name[func.name]) > 1:
            index = counters.get(func.name, 0)
            counters[func.name] = index + 1
            funcs.append(replace(concrete_funcs[id(func)], name=overload_name(func.name, index)))
        else:
            funcs.append(concrete_funcs[id(func)])
    return A.Program(tuple(funcs), kernels, program.structs, program.constants)


def takes_functions(func: A.Func) -> bool:
    """Whether `func` has a Function parameter."""
    return any(p.ty == FUNCTION for p in func.params)


def specialize_functions(program: A.Program) -> A.Program:
    """A checked `program` without Function parameters (itself when it has
    none): each helper that takes some becomes one helper per choice of
    helpers its calls pass (`apply__sq` for `apply(sq, x)`), those
    parameters gone and their calls naming the helper passed; every call
    names its specialization. A Function parameter passed on (`g(f, x)`
    inside `apply`) is the helper passed by then. The reference and the JAX
    renderer run this program; Warp specializes the originals itself."""
    takers = {f.name: f for f in program.funcs if takes_functions(f)}
    if not takers:
        return program
    made: dict[str, A.Func] = {}

    def resolve(node):
        if not isinstance(node, A.Call) or node.func not in takers:
            return node
        func = takers[node.func]
        positions = [k for k, p in enumerate(func.params) if p.ty == FUNCTION]
        passed = [node.args[k].id for k in positions]
        name = "__".join((func.name, *passed))
        if name not in made:
            binding = {func.params[k].name: helper for k, helper in zip(positions, passed)}

            def bind(n):
                if isinstance(n, A.Call) and n.func in binding:
                    return replace(n, func=binding[n.func])
                if isinstance(n, A.Name) and n.id in binding:  # passed on to another helper
                    return replace(n, id=binding[n.id])
                return n

            body = _map(_map(func.body, bind), resolve)
            params = tuple(p for p in func.params if p.ty != FUNCTION)
            made[name] = replace(func, name=name, params=params, body=body)
        return replace(node, func=name, args=tuple(a for k, a in enumerate(node.args) if k not in positions))

    funcs = tuple(_map(f, resolve) for f in program.funcs if f.name not in takers)
    kernels = tuple(_map(k, resolve) for k in program.kernels)
    # after every helper they may call: a specialization calls the helpers passed to it
    return A.Program(funcs + tuple(made.values()), kernels, program.structs, program.constants)


def lower(program: A.Program) -> A.Program:
    """What the reference and the JAX renderer run: `program` without
    Function parameters, monomorphized, then its structs flattened."""
    return flatten_structs(monomorphize(specialize_functions(program)))

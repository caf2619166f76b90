"""Structs flattened away: a checked program -> the same program without structs.

Every struct value becomes its leaves (the non-struct fields, nested structs
flattened) held apart: a struct local or parameter `s` becomes one local or
parameter per leaf, named `s__f` (`s__f__g` for nested fields; the checker keeps
`__` out of every name a program defines); `S()` becomes each leaf's zero; a
helper returning a struct returns its leaves as several values, unpacked at the
call. Reads and writes of fields become reads and writes of those names.

Structs are values in the language (grammar/SEMANTICS.md: `t = s` copies), so
this changes no result: the reference and the JAX renderer run the flattened
program, and only the Warp renderer sees structs, which Warp compiles itself.
Launch inputs of a struct parameter are keyed by the flattened names too
(backends.inputs), so the two programs take the same inputs.
"""

from __future__ import annotations

from dataclasses import fields, replace

from . import ast as A
from .types import F32, DType, TupleType


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


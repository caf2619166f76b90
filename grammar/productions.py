"""Which (rule, alternative) choice points of the weights a program exercises.

Read off the AST itself, independently of the generator, so that coverage
figures measure what programs contain, not what the generator believes it did.
The names are those of the profile's [rules.*] tables.
"""

from __future__ import annotations

from . import ast as A
from .lowering import is_generic
from .ops import BUILTINS, INT_BINOPS, QUAT_CALLS, QUAT_ROTATIONS, is_matrix_product, is_quat_product, launch_decade
from .queries import assigned_in_every_arm, divisor_kind, effectful_helpers, expanded_update, has_effect
from .types import ANY, F32, FUNCTION, ArrayType, Role, TupleType

_BINOP_NAMES = {"/": "div", **{symbol: name for name, symbol in INT_BINOPS.items()}}
_COMPARE_NAMES = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}
_AUG_NAMES = {"+=": "add", "-=": "sub", "*=": "mul", "/=": "div"}


def productions(program: A.Program) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    helpers = {f.name for f in program.funcs}
    effectful = effectful_helpers(program)
    for struct in program.structs:
        # an array field is drawn by struct_array, not field_type
        found.update(("field_type", "struct" if f.ty.is_struct else "value") for f in struct.fields if not isinstance(f.ty, ArrayType))
    if program.structs:
        holds = any(f.ty.is_struct and f.ty.array_fields for k in program.kernels for f in k.params)
        found.add(("struct_array", "param" if holds else "none"))
        found.update(("struct_array_role", a.role.value.lower()) for k in program.kernels for f in k.params if f.ty.is_struct for _, a in f.ty.array_fields)
    constants = {c.name for c in program.constants}
    for constant in program.constants:
        found.add(("constant_type", constant.value.ty.name))
    for kernel in program.kernels:
        if kernel.launch is not None:
            found.add(("launch_size", launch_decade(kernel.launch)))
        found.update(("array2d_role", p.ty.role.value.lower()) for p in kernel.params if isinstance(p.ty, ArrayType) and p.ty.ndim == 2)
    overloaded = {f.name for f in program.funcs if sum(g.name == f.name for g in program.funcs) > 1}
    for definition in program.funcs + program.kernels:
        if isinstance(definition, A.Func) and definition.native:
            found.add(("helper_kind", "native"))
            found.update(_native_exprs(definition))
            continue
        if isinstance(definition, A.Func) and is_generic(definition):
            found.add(("helper_kind", "generic"))
            found.add(("generic_return", "any" if definition.ret == ANY else "concrete"))
            found.update(_generic_exprs(definition))
            continue
        _Walker(found, definition, helpers, constants).run()
        if isinstance(definition, A.Func):
            first = definition.body[0]
            nested = isinstance(first, A.Assign) and isinstance(first.value, A.Call) and first.value.func in helpers
            found.add(("helper_nesting", "call" if nested else "none"))
        if definition.name in overloaded:  # each overload is also a pure helper
            found.add(("helper_kind", "overloaded"))
        for node in A.walk(definition):
            found.update(("effect_position", where) for where in _effect_positions(node, effectful))
    return found


def _native_exprs(func: A.Func) -> set[tuple[str, str]]:
    """The native_expr alternatives (and operators) of a native helper's body."""
    found = set()
    for node in A.walk(func.body[0].value):
        if isinstance(node, A.BinOp):
            found.update({("native_expr", "binop"), ("float_binop", _BINOP_NAMES[node.op])})
        elif isinstance(node, A.Neg):
            found.add(("native_expr", "neg"))
        elif isinstance(node, A.Const):
            found.add(("native_expr", "const"))
        else:
            found.add(("native_expr", "param"))
    return found


def _generic_exprs(func: A.Func) -> set[tuple[str, str]]:
    """The generic_expr alternatives of a generic helper's body."""
    found = set()
    for node in A.walk(func):
        if getattr(node, "ty", None) != ANY:
            continue
        if isinstance(node, A.BinOp):
            found.add(("generic_expr", "sum"))
        elif isinstance(node, A.Neg):
            found.add(("generic_expr", "neg"))
        elif isinstance(node, A.Call):
            found.add(("generic_expr", "generic_call"))
        elif isinstance(node, A.Name):
            found.add(("generic_expr", "name"))
    return found


def _effect_positions(node, effectful: set[str]) -> set[str]:
    """The effect_position alternatives one node shows (the call of a helper
    with side effects as a statement, an operand, a condition, or lazily)."""
    def effect(e) -> bool:
        return has_effect(e, effectful)

    if isinstance(node, A.CallStmt) and node.call.func in effectful:
        return {"statement"}
    if isinstance(node, A.BoolOp) and effect(node.right):
        return {"lazy"}
    if isinstance(node, A.Ternary) and not node.eager and (effect(node.then) or effect(node.orelse)):
        return {"lazy"}
    if isinstance(node, A.If) and isinstance(node.cond, A.Compare) and effect(node.cond):
        return {"condition"}
    if isinstance(node, (A.BinOp, A.Call)) and any(effect(e) for e in ((node.left, node.right) if isinstance(node, A.BinOp) else node.args)):
        return {"operand"}
    return set()


class _Walker:
    def __init__(self, found: set, definition, helpers: set[str], constants: set[str] = frozenset()):
        self.found = found
        self.definition = definition
        self.helpers = helpers
        self.constants = constants
        # a constant is drawn as a parameter is (Gen.leaf_options)
        self.params = {p.name for p in definition.params if not isinstance(p.ty, ArrayType)} | constants
        self.arrays = {p.name: p.ty for p in definition.params if isinstance(p.ty, ArrayType)}
        # what each visible name is ("local", "thread", "loop", "counter"),
        # block by block as the checker scopes them
        self.scopes: list[dict[str, str]] = [{}]
        self.ever: set[str] = set()  # every name declared so far in the definition

    def visible(self, *kinds: str) -> set[str]:
        return {name for scope in self.scopes for name, kind in scope.items() if kind in kinds}

    @property
    def declared(self) -> set[str]:
        return self.visible("local")

    @property
    def threads(self) -> set[str]:
        return self.visible("thread")

    @property
    def loop_vars(self) -> set[str]:
        return self.visible("loop", "counter")

    def bind(self, name: str, kind: str) -> None:
        if not any(name in scope for scope in self.scopes):
            self.scopes[-1][name] = kind
            self.ever.add(name)

    def add(self, rule: str, alt: str) -> None:
        self.found.add((rule, alt))

    def run(self) -> None:
        d = self.definition
        for p in d.params:
            if p.ty == FUNCTION:  # no rule draws it: higher_order_helper
                continue
            if isinstance(p.ty, ArrayType) and p.ty.role is Role.ACC:
                self.add("acc_elem", p.ty.elem.name)
            else:
                self.add("value_type", (p.ty.elem if isinstance(p.ty, ArrayType) else p.ty).name)
            if isinstance(d, A.Func) and not isinstance(p.ty, ArrayType):
                self.add("param_type", "struct" if p.ty.is_struct else "value")
        if isinstance(d, A.Func):
            if any(p.ty == FUNCTION for p in d.params):
                kind = "higher_order"
            elif any(isinstance(p.ty, ArrayType) for p in d.params):
                kind = "effectful"
            elif isinstance(d.ret, TupleType):
                kind = "multi"
            else:
                kind = "struct" if d.ret.is_struct else "pure"
            self.add("helper_kind", kind)
        self.block(d.body)

    def block(self, stmts, scope: dict[str, str] | None = None) -> None:
        self.scopes.append(scope or {})
        try:
            for stmt in stmts:
                self.stmt(stmt)
        finally:
            self.scopes.pop()

    def stmt(self, s) -> None:
        add = self.add
        if expanded_update(s) and (not isinstance(s.target, A.Name) or s.target.id in self.declared):
            # `t = t op e`: an augmented assignment spelled out
            add("statement", "aug_assign")
            add("aug_spelling", "expanded")
            self.aug_target(s.target)
            add("aug_op", _BINOP_NAMES[s.value.op])
            self.expr(s.value.right)
        elif isinstance(s, A.Assign) and (s.value.ty.is_struct or any(isinstance(n, A.Field) for n in A.walk(s.target))):
            add("statement", "struct_local")
            if isinstance(s.target, A.Name):
                self.bind(s.target.id, "local")
            how = "field" if not s.value.ty.is_struct else "new" if isinstance(s.value, A.StructNew) else "call" if isinstance(s.value, A.Call) else "copy"
            add("struct_local", how)
            self.expr(s.value)
        elif isinstance(s, A.Assign) and isinstance(s.value, A.AtomicValue):
            add("statement", "atomic_value")
            add("atomic_op", s.value.op)
            if isinstance(s.target, A.Name) and s.target.id not in self.declared:
                add("name_choice", "reuse" if s.target.id in self.ever else "fresh")
                self.bind(s.target.id, "local")
            self.expr(s.value.value)
        elif isinstance(s, A.Unpack) and isinstance(s.value, A.TupleExpr):
            add("statement", "parallel_assign")
            rotated = s.value.items == s.targets[1:] + s.targets[:1]
            add("parallel_form", "swap" if rotated and all(t.id in self.declared for t in s.targets) else "values")
            for item in s.value.items:
                self.expr(item)
            for target in s.targets:
                self.bind(target.id, "local")
        elif isinstance(s, A.Unpack):
            add("statement", "call")
            for target in s.targets:
                self.bind(target.id, "local")
            self.expr(s.value)
        elif isinstance(s, A.Assign):
            t = s.target
            if isinstance(t, A.Name):
                if isinstance(s.value, A.Tid):
                    self.bind(t.id, "thread")
                elif t.id in self.declared:
                    add("statement", "reassign")
                else:
                    add("name_choice", "reuse" if t.id in self.ever else "fresh")
                    self.bind(t.id, "local")
                    add("statement", "assign")
                    add("value_type", s.value.ty.name)
            elif isinstance(t, A.ArrayRead):
                add("statement", "store")
            else:
                add("statement", "component_assign")
                self.component_place(t)
            self.expr(s.value)
        elif isinstance(s, A.AugAssign):
            add("statement", "aug_assign")
            add("aug_spelling", "augmented")
            self.aug_target(s.target)
            add("aug_op", _AUG_NAMES[s.op])
            self.expr(s.value)
        elif isinstance(s, A.Atomic):
            add("statement", "atomic")
            add("atomic_op", s.op)
            add("atomic_index", self.index_kind(s.index, zero_ok=True))
            self.expr(s.index)
            self.expr(s.value)
        elif isinstance(s, A.CallStmt):
            add("statement", "call")
            self.expr(s.call)
        elif isinstance(s, A.If):
            add("statement", "if")
            add("if_form", "if_elif" if s.elifs else "if_else" if s.orelse is not None else "if")
            merged = set(assigned_in_every_arm(s)) - self.visible("local", "thread", "loop", "counter")
            if s.orelse is not None:
                add("if_merge", "merged" if merged else "plain")
            self.expr(s.cond)
            self.block(s.body)
            for clause in s.elifs:
                self.expr(clause.cond)
                self.block(clause.body)
            self.block(s.orelse or ())
            for name in sorted(merged):  # it outlives the statement
                self.bind(name, "local")
        elif isinstance(s, A.For):
            add("statement", "for")
            add("for_bound", "constant" if isinstance(s.bound, A.Const) else "module_constant" if isinstance(s.bound, A.Name) else "dynamic")
            self.expr(s.bound)
            add("name_choice", "reuse" if s.var in self.ever else "fresh")
            self.ever.add(s.var)
            self.block(s.body, {s.var: "loop"})
        elif isinstance(s, A.While):
            add("statement", "while")
            add("while_form", "plain" if s.cond is None else "conditional")
            self.bind(s.counter, "counter")
            if s.cond is not None:
                self.expr(s.cond)
            self.block(s.body)
        elif isinstance(s, A.Break):
            add("statement", "break")
        elif isinstance(s, A.Continue):
            add("statement", "continue")
        elif isinstance(s, A.Return):
            self.expr(s.value)

    def aug_target(self, t) -> None:
        if isinstance(t, A.Field) or (isinstance(t, (A.Component, A.ComponentAt)) and isinstance(t.value, A.Field)):
            self.add("aug_target", "field")
            if getattr(t.ty, "is_vector", False) or isinstance(t, (A.Component, A.ComponentAt)):
                self.add("field_update", "whole" if isinstance(t, A.Field) else "component")
            if isinstance(t, (A.Component, A.ComponentAt)):
                self.component_style(t)
            return
        self.add("aug_target", "local" if isinstance(t, A.Name) else "array" if isinstance(t, A.ArrayRead) else "component")
        if isinstance(t, (A.Component, A.ComponentAt)):
            self.component_place(t)

    def component_place(self, t) -> None:
        """The choices that drew an assigned or updated component."""
        add = self.add
        if _matrix_row(t) or _matrix_element(t):
            add("component_target", "matrix")
            add("matrix_place", "row" if _matrix_row(t) else "element")
            if _matrix_element(t):
                add("element_spelling", "pair" if t.pair else "nested")
            return
        self.component_style(t)
        add("component_target", "element" if isinstance(t.value, A.ArrayRead) else "local")

    def component_style(self, t) -> None:
        """How a component is named (`v.x`, `v[0]`, `v[k]`), and a computed index's choices."""
        self.add("component_style", _component_style(t))
        if isinstance(t, A.ComponentAt):
            self.expr(t.index)

    def index_kind(self, index, zero_ok: bool = False) -> str:
        if isinstance(index, A.Tid) or (isinstance(index, A.Name) and index.id in self.threads):
            return "thread"
        if zero_ok and isinstance(index, A.Const):
            return "zero"
        if zero_ok or (isinstance(index, A.Call) and index.func == "clamp"):
            return "guarded"
        return "proven"  # in bounds by a guard around the read

    def expr(self, e) -> None:
        inside_static: set[int] = set()
        for node in A.walk(e):
            if id(node) in inside_static:
                continue
            if isinstance(node, A.Static):
                self.static(node.operand)
                inside_static.update(id(n) for n in A.walk(node.operand))
            if hasattr(node, "ty") and node.ty is not None:
                self.node(node)

    def static(self, operand) -> None:
        """The choices a static() was drawn with (Gen.static): its shape, and a
        literal (of its literal rule) or a loop variable for each leaf."""
        body = operand.operand if isinstance(operand, A.Neg) else operand
        self.add("static_shape", "binop" if isinstance(body, A.BinOp) else "leaf")
        for leaf in A.walk(body):
            if isinstance(leaf, A.Name):
                self.add("static_leaf", "constant" if leaf.id in self.constants else "loop_var")
            elif isinstance(leaf, A.Const):
                self.add("static_leaf", "literal")
                self.literal(leaf.value)

    def literal(self, v: int | float) -> None:
        if isinstance(v, float):
            self.add("float_literal", "zero" if v == 0 else "one" if v == 1 else "tiny" if v < 0.01 else "large" if v >= 10 else "small")
        else:
            self.add("int_literal", "zero" if v == 0 else "one" if v == 1 else "small" if v <= 16 else "large")

    def node(self, n) -> None:
        ty = n.ty
        if isinstance(n, (A.TileReduce, A.TileGet)):
            self.add("float_expr", "tile")
            self.add("tile_reduce", "get" if isinstance(n, A.TileGet) else n.op[len("tile_"):])
            return
        if isinstance(n, A.TileMap):
            self.add("tile_expr", "map")
            self.add("tile_map", n.fn)
            return
        if isinstance(n, A.TileFull):
            self.add("tile_expr", "full")
            return
        if isinstance(n, A.TileMatmul):
            self.add("tile_expr", "matmul")
            return
        if isinstance(n, A.TileLoad):
            self.add("tile_expr", "load")
            self.add("tile_start", "thread" if self.index_kind(n.start) == "thread" else "expr")
            return
        if isinstance(n, A.ArrayRead):
            self.add("read_index", self.index_kind(n.index))
            if n.column is not None:  # a column is clamped or proven by a guard, never the thread's
                self.add("array2d_column", "clamped" if self.index_kind(n.column) == "guarded" else "proven")
        if _matrix_row(n):
            self.add("row_index", "computed" if isinstance(n, A.ComponentAt) else "literal")
        elif _matrix_element(n):
            self.add("element_spelling", "pair" if n.pair else "nested")
        elif isinstance(n, (A.Component, A.ComponentAt)):
            self.add("component_style", _component_style(n))
        if isinstance(n, A.Compare):
            self.add("bool_expr", "compare")
            self.add("compare_op", _COMPARE_NAMES[n.op])
            return
        if isinstance(n, A.BoolOp):
            self.add("bool_expr", n.op)
            right = n.right
            if n.op == "and" and isinstance(right, A.Compare) and isinstance(right.left, A.ArrayRead) and self.index_kind(right.left.index) == "proven":
                self.add("bool_expr", "guarded")
            return
        if isinstance(n, A.Not):
            self.add("bool_expr", "not")
            return
        if isinstance(n, A.Ternary):
            self.add("ternary_form", n.form)
        if isinstance(n, A.Cast) and n.to.name in A.BUILTIN_CASTS.values():
            self.add("cast_spelling", "builtin" if n.builtin else "typed")
        if isinstance(n, A.Const) and ty.name in ("float32", "int32"):
            self.add("literal_spelling", "typed" if n.typed else "plain")
        if isinstance(n, A.Const):
            self.literal(n.value)
        rule = "float_expr" if ty.is_float else "int_expr" if ty.is_int else "vector_expr" if ty.is_vector else "matrix_expr"
        self.add(rule, self.expr_kind(n, rule))
        if isinstance(n, A.BinOp) and is_matrix_product(n.op, n.left.ty, n.right.ty):
            self.add("product_operator", "at" if n.op == "@" else "times")
            if ty.is_vector:
                self.add("matvec_order", "matrix_vector" if n.left.ty.is_matrix else "vector_matrix")
        elif isinstance(n, A.BinOp):
            if ty.is_float:
                self.add("float_binop", _BINOP_NAMES[n.op])
                if n.op in ("/", "//", "%"):
                    self.add("float_divisor", divisor_kind(n.right))
            elif ty.is_int:
                self.add("int_binop", _BINOP_NAMES[n.op])
            elif n.left.ty == n.right.ty and not is_quat_product(n.op, n.left.ty, n.right.ty):
                self.add("vector_binop", _BINOP_NAMES[n.op])
        if isinstance(n, A.GradCall):
            self.add("grad_fn", n.fn)
        if isinstance(n, A.Call) and n.func in _QUAT_CALLS:
            self.add("quat_call", _QUAT_CALLS[n.func])
        if isinstance(n, A.Call) and n.func in _QUAT_ROTATIONS:
            self.add("quat_rotation", _QUAT_ROTATIONS[n.func])
        if isinstance(n, A.Call) and n.func in BUILTINS and BUILTINS[n.func].rule == "float_call":
            self.add("int_call" if ty.is_int else "float_call", n.func)
        if isinstance(n, A.Call) and n.func not in BUILTINS and 2 <= len(n.args) <= 4 and all(a.ty == F32 for a in n.args):
            self.add("call_arguments", "starred" if A.starred_vector(n) is not None else "listed")

    def expr_kind(self, n, rule: str) -> str:
        if isinstance(n, A.Const):
            return "const"
        if isinstance(n, A.Name):
            if n.id in self.params:
                return "param"
            if n.id in self.threads:
                return "tid"
            if n.id in self.loop_vars:
                return "loop_var"
            return "local"
        if isinstance(n, A.Tid):
            return "tid"
        if isinstance(n, A.Len):
            return "len"
        if isinstance(n, A.ArrayRead):
            return "array_read"
        if isinstance(n, A.BinOp):
            if is_quat_product(n.op, n.left.ty, n.right.ty):
                return "quat_product"
            if is_matrix_product(n.op, n.left.ty, n.right.ty):
                return "matvec" if rule == "vector_expr" else "matmul"
            if rule in ("vector_expr", "matrix_expr") and n.left.ty != n.right.ty:
                return "scale"
            return "binop"
        if isinstance(n, A.Call):
            if n.func in self.helpers:
                return "helper_call"
            if n.func in ("dot", "length", "cross", "normalize"):
                return n.func
            if n.func in _QUAT_CALLS:
                return "quat_call"
            if n.func in ("quat_rotate", "quat_rotate_inv", "quat_to_matrix"):
                return n.func.removesuffix("_inv")
            return "call"
        if isinstance(n, A.Ternary):
            return "ternary"
        if isinstance(n, A.GradCall):
            return "grad"
        if isinstance(n, A.Neg):
            return "neg"
        if isinstance(n, A.Invert):
            return "invert"
        if isinstance(n, A.Cast):
            return "static_loop" if isinstance(n.operand, A.Static) and self.expr_kind(n.operand, "int_expr") == "static_loop" else "cast"
        if isinstance(n, A.Static):
            first = n.operand.operand if isinstance(n.operand, A.Neg) else n.operand
            first = first.left if isinstance(first, A.BinOp) else first
            return "static_loop" if isinstance(first, A.Name) and first.id not in self.constants else "static"
        if _matrix_row(n):
            return "matrix_row"
        if _matrix_element(n):
            return "matrix_element"
        if isinstance(n, (A.Component, A.ComponentAt)):
            return "component"
        return "construct"


# the quat_call and quat_rotation rules' alternatives, by the builtin each draws
_QUAT_CALLS = {func: alternative for alternative, func in QUAT_CALLS.items()}
_QUAT_ROTATIONS = {func: alternative for alternative, func in QUAT_ROTATIONS.items()}


def _matrix_row(node) -> bool:
    return isinstance(node, (A.Component, A.ComponentAt)) and getattr(node.value.ty, "is_matrix", False)


def _matrix_element(node) -> bool:
    """`m[r][c]` or `m[r, c]` (literal row and column, as the generator draws them)."""
    return isinstance(node, A.Component) and isinstance(node.value, A.Component) and _matrix_row(node.value)


def _component_style(node) -> str:
    return "computed" if isinstance(node, A.ComponentAt) else "attr" if node.attr else "index"

"""Program -> NVIDIA Warp source, built as a libcst module.

Each AST node type maps to one builder through a table; an unknown node is a
RenderError. Expressions add their own parentheses from the DSL's precedence
table (the Python operators Warp accepts bind as the DSL's do). `suffix`
renames every definition, so that many programs can share one Warp module.
`release` (backends.warp_release) says which Warp release the source is for:
on releases without conditional expressions a ternary becomes `wp.select`,
`where` and `select` become whichever of the two the release has, on
releases whose integer `//` truncates a signed `//` calls a helper that
floors, and before Warp's abs took vectors `abs(v)` calls a component-wise
helper (each itself a DSL function, rendered by the same rules). A program whose
side effects the release would evaluate differently (grammar/SEMANTICS.md)
raises Unsupported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import libcst as cst

from kernel_synth.grammar import ast as A
from kernel_synth.grammar import parse
from kernel_synth.grammar.ops import BITWISE_ATOMICS, BUILTINS, MATMUL_ROWS, OPERATORS, TILE_GET_ROWS, TILE_MAPS, TILE_REDUCTIONS
from kernel_synth.grammar.printer import BIT_OR, COMPARE, NOT, OR, POSTFIX, TERNARY, UNARY, precedence
from kernel_synth.grammar.queries import effectful_helpers, has_effect, read_needs_guard, thread_names
from kernel_synth.grammar.lowering import is_generic
from kernel_synth.grammar.types import ANY, COMPONENT_NAMES, F32, FUNCTION, I32, QUAT, ArrayType, DType

from .cst_nodes import AUG_NODES, BINARY_NODES, BOOLEAN_NODES, COMPARE_NODES, UNARY_NODES, assign, call, dotted, line, number, parenthesize
from .errors import RenderError, Unsupported
from .warp_release import FEATURES, NEWEST, WarpRelease

HEADER = "import warp as wp\n"


def type_expr(ty: DType | ArrayType, names: dict[str, str] | None = None) -> cst.BaseExpression:
    """The annotation for `ty`; a struct type by its module name in `names`."""
    if isinstance(ty, ArrayType):
        # wp.array2d is in every supported release (1.0.2 and 1.19.0 measured)
        return call("wp.array" if ty.ndim == 1 else "wp.array2d", dtype=dotted(f"wp.{ty.elem.name}"))
    if ty.is_struct:
        return cst.Name((names or {}).get(ty.name, ty.name))
    if ty == ANY:
        return cst.Name("Any")  # typing.Any, imported by a module with a generic helper
    if ty == FUNCTION:
        return dotted("wp.Function")
    return dotted(f"wp.{ty.name}")


def _shape(*extents: int) -> cst.Tuple:
    """A tile's shape as Warp takes it: a tuple, `(4,)` for one dimension."""
    return cst.Tuple([cst.Element(cst.Integer(str(e))) for e in extents])


def cpp_expr(node) -> str:
    """A native helper's float32 expression as C++ (float literals with the
    `f` suffix: the arithmetic stays in float, as Warp's own code keeps it)."""
    if isinstance(node, A.Name):
        return node.id
    if isinstance(node, A.Const):
        text = repr(float(node.value))
        return f"{text}f" if node.value >= 0 else f"({text}f)"
    if isinstance(node, A.Neg):
        return f"(-{cpp_expr(node.operand)})"
    return f"({cpp_expr(node.left)} {node.op} {cpp_expr(node.right)})"


def cpp_derivative(node, name: str) -> str | None:
    """The derivative of `node` by parameter `name` as C++ (None: zero)."""
    if isinstance(node, A.Name):
        return "1.0f" if node.id == name else None
    if isinstance(node, A.Const):
        return None
    if isinstance(node, A.Neg):
        inner = cpp_derivative(node.operand, name)
        return None if inner is None else f"(-{inner})"
    left, right = cpp_derivative(node.left, name), cpp_derivative(node.right, name)
    if node.op == "*":  # the product rule
        terms = [f"({left} * {cpp_expr(node.right)})" if left is not None else None, f"({cpp_expr(node.left)} * {right})" if right is not None else None]
        terms = [t for t in terms if t is not None]
        return None if not terms else terms[0] if len(terms) == 1 else f"({terms[0]} + {terms[1]})"
    if left is None and right is None:
        return None
    if right is None:
        return left
    if left is None:
        return right if node.op == "+" else f"(-{right})"
    return f"({left} {node.op} {right})"


def literal(node: A.Const) -> cst.BaseExpression:
    if node.ty in (F32, I32) and not node.typed:
        return number(node.value)
    return call(f"wp.{node.ty.name}", number(node.value))


# Signed integer division that floors, from the truncating `//` and `%` of
# releases before Warp's `//` floored: (a - r) is a multiple of b, so its
# truncated quotient is exact, and one is taken off when the remainder's
# sign differs from the divisor's.
_FLOOR_DIVISION = """
@func
def floordiv_{ty}(a: {ty}, b: {ty}) -> {ty}:
    r = a % b
    q = (a - r) // b
    if r < {zero} and b > {zero}:
        q = q - {one}
    if r > {zero} and b < {zero}:
        q = q - {one}
    return q

@kernel
def unused():
    pass
"""


# Component-wise |v| for releases before Warp's abs took vectors
_VECTOR_ABS = """
@func
def abs_{ty}(a: {ty}) -> {ty}:
    return {ty}({components})

@kernel
def unused():
    pass
"""


@lru_cache(maxsize=None)
def _bridge_helper(kind: str, ty: str) -> A.Func:
    """A DSL helper standing in for what the release lacks: `floordiv_<ty>` or `abs_<ty>`."""
    if kind == "abs":
        length = {"vec2": 2, "vec3": 3, "vec4": 4}[ty]
        text = _VECTOR_ABS.format(ty=ty, components=", ".join(f"abs(a[{k}])" for k in range(length)))
        return parse(text).funcs[0]
    small = ty == "int32"
    text = _FLOOR_DIVISION.format(ty=ty, zero="0" if small else f"{ty}(0)", one="1" if small else f"{ty}(1)")
    return parse(text).funcs[0]


@dataclass
class _Renderer:
    suffix: str = ""
    release: WarpRelease = NEWEST
    names: dict[str, str] = field(default_factory=dict)
    # (kind, type) of each helper this module needs: ("floordiv", "int32"), ("abs", "vec3")
    bridged: set[tuple[str, str]] = field(default_factory=set)
    truncating_division: bool = False  # rendering the helper itself
    effectful: set[str] = field(default_factory=set)  # helpers with side effects
    thread_names: set[str] = field(default_factory=set)  # locals holding tid()
    constants: set[str] = field(default_factory=set)  # module constants' DSL names
    function_params: set[str] = field(default_factory=set)  # the Function parameters of the definition at hand
    loop_vars: set[str] = field(default_factory=set)  # the names the definition at hand's `for` loops bind

    # -- definitions

    def module(self, program: A.Program) -> cst.Module:
        for definition in program.constants + program.structs + program.funcs + program.kernels:
            self.names[definition.name] = definition.name + self.suffix
        self.constants = {c.name for c in program.constants}
        self.effectful = effectful_helpers(program)
        self.thread_names = set().union(*(thread_names(k) for k in program.kernels))
        body: list = [assign(cst.Name(self.names[c.name]), call("wp.constant", self.constant(c.value))) for c in program.constants]
        body += [self.struct(s) for s in program.structs]
        body += [self.native(d) if d.native else self.definition(d, "wp.func") for d in program.funcs]
        body += [self.definition(k, "wp.kernel") for k in program.kernels]
        if any(map(is_generic, program.funcs)):
            self.supported("generic_helpers", "a generic helper")
            body.insert(0, cst.SimpleStatementLine([cst.ImportFrom(module=cst.Name("typing"), names=[cst.ImportAlias(cst.Name("Any"))])]))
        if len({f.name for f in program.funcs}) < len(program.funcs):
            self.supported("overloaded_helpers", "an overloaded helper")
        if any(isinstance(f.ty, ArrayType) for s in program.structs for f in s.fields):
            self.supported("struct_array_fields", "a struct field of array type")
        if any(isinstance(p.ty, ArrayType) and p.ty.ndim == 2 for k in program.kernels for p in k.params):
            self.supported("arrays_2d", "a two-dimensional array")
        helpers = []
        for kind, ty in sorted(self.bridged):
            helper = _bridge_helper(kind, ty)
            self.names[helper.name] = helper.name + self.suffix
            self.truncating_division = True
            helpers.append(self.definition(helper, "wp.func"))
            self.truncating_division = False
        return cst.Module(body=helpers + body)

    def struct(self, node: A.StructDef) -> cst.ClassDef:
        fields = [line(cst.AnnAssign(cst.Name(f.name), cst.Annotation(type_expr(f.ty, self.names)), None)) for f in node.fields]
        return cst.ClassDef(
            name=cst.Name(self.names[node.name]),
            body=cst.IndentedBlock(body=fields),
            decorators=[cst.Decorator(dotted("wp.struct"))],
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()],
        )

    def native(self, node: A.Func) -> cst.FunctionDef:
        """`@wp.func_native(snippet, adj_snippet=...)` over a body of `...`:
        the C++ of the returned expression, and its derivative by each
        parameter for the adjoint (the checker keeps the body to + - * and
        negation of float32 parameters and literals)."""
        self.supported("native_helpers", "a native helper")
        value = node.body[0].value
        # each statement on a line of its own, the last too: Warp closes the
        # function's brace right after the snippet, and a brace on a line of
        # its own is where a function of the generated C++ ends (the IR a
        # dataset row holds is cut there: backends.warp_backend)
        snippet = f"return {cpp_expr(value)};\n"
        adjoints = [f"adj_{p.name} += {derivative} * adj_ret;\n" for p in node.params if (derivative := cpp_derivative(value, p.name)) is not None]
        decorator = call("wp.func_native", cst.SimpleString(repr(snippet)), adj_snippet=cst.SimpleString(repr("".join(adjoints))))
        params = [cst.Param(cst.Name(p.name), annotation=cst.Annotation(type_expr(p.ty))) for p in node.params]
        return cst.FunctionDef(
            name=cst.Name(self.names[node.name]),
            params=cst.Parameters(params=params),
            body=cst.IndentedBlock([cst.SimpleStatementLine([cst.Expr(cst.Ellipsis())])]),
            decorators=[cst.Decorator(decorator)],
            returns=cst.Annotation(type_expr(node.ret)),
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()],
        )

    def definition(self, node: A.Func | A.Kernel, decorator: str) -> cst.FunctionDef:
        self.function_params = {p.name for p in node.params if p.ty == FUNCTION}
        self.loop_vars = {n.var for n in A.walk(node) if isinstance(n, A.For)}
        if self.function_params:
            self.supported("function_params", "a Function parameter")
        params = [cst.Param(cst.Name(p.name), annotation=cst.Annotation(type_expr(p.ty, self.names))) for p in node.params]
        # several values: no annotation, Warp infers the tuple
        returns = cst.Annotation(type_expr(node.ret, self.names)) if isinstance(node, A.Func) and isinstance(node.ret, DType) else None
        return cst.FunctionDef(
            name=cst.Name(self.names[node.name]),
            params=cst.Parameters(params=params),
            body=self.block(node.body),
            decorators=[cst.Decorator(dotted(decorator))],
            returns=returns,
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()],
        )

    def block(self, stmts) -> cst.IndentedBlock:
        out: list[cst.BaseStatement] = []
        for stmt in stmts:
            out.extend(self.stmt(stmt))
        return cst.IndentedBlock(body=out or [cst.SimpleStatementLine([cst.Pass()])])

    # -- statements

    def stmt(self, node) -> list[cst.BaseStatement]:
        builder = _STATEMENTS.get(type(node))
        if builder is None:
            raise RenderError(f"Warp renderer: no rule for statement {type(node).__name__}")
        return builder(self, node)

    def assign(self, node: A.Assign):
        value = self.local_value(node.value) if isinstance(node.target, A.Name) else self.expr(node.value)
        self.quat_store(node.target)
        return [assign(self.expr(node.target), value)]

    def quat_store(self, target) -> None:
        """Unsupported where the release cannot store into a quaternion's component."""
        if isinstance(target, (A.Component, A.ComponentAt)) and target.value.ty == QUAT and not self.release.has("quat_component_store"):
            info = FEATURES["quat_component_store"]
            raise Unsupported(f"a quaternion component store needs warp-lang >= {info.since} ({info.what}); the source is for warp-lang {self.release}")

    def component(self, node: A.Component) -> cst.BaseExpression:
        """`v.x`, `v[0]` or `m[r, c]`; a quaternion's `q.x` is `q[0]` on
        releases that do not read quaternion components by name."""
        if node.pair:
            return cst.Subscript(self.expr(node.value.value, POSTFIX), [cst.SubscriptElement(cst.Index(cst.Integer(str(node.value.index)))), cst.SubscriptElement(cst.Index(cst.Integer(str(node.index))))])
        if node.attr and not (node.value.ty == QUAT and not self.release.has("quat_attributes")):
            return cst.Attribute(self.expr(node.value, POSTFIX), cst.Name(COMPONENT_NAMES[node.index]))
        return cst.Subscript(self.expr(node.value, POSTFIX), [cst.SubscriptElement(cst.Index(cst.Integer(str(node.index))))])

    def negation(self, node: A.Neg) -> cst.BaseExpression:
        """`-e`; a quaternion's is `e * -1.0` (the same value, to the sign of
        a zero) on releases whose C++ has no unary minus for quaternions."""
        if node.ty == QUAT and not self.release.has("quat_negation"):
            return self.binop(A.BinOp("*", node.operand, A.Neg(A.Const(1.0, F32), F32), QUAT))
        return cst.UnaryOperation(UNARY_NODES[OPERATORS["neg"].warp](), self.expr(node.operand, UNARY))

    def local_value(self, node) -> cst.BaseExpression:
        """The value a local is assigned. Warp treats a local assigned a
        literal, a static or a constant (or its negation) as a constant and
        refuses to reassign it in a dynamic loop; a typed constructor declares
        a variable instead (what Warp documents)."""
        value = self.expr(node)
        return call(f"wp.{node.ty.name}", value) if self.constant_value(node) else value

    def aug_assign(self, node: A.AugAssign):
        self.quat_store(node.target)
        target = node.target
        if (
            node.op in ("*=", "/=")
            and isinstance(target, (A.Component, A.ComponentAt))
            and isinstance(target.value, A.ArrayRead)
            and self.release.has("component_update_products_removed")
        ):  # the same update spelled out (the place's indexes have no side effects: the checker's rule)
            return [assign(self.expr(target), self.expr(A.BinOp(node.op[0], target, node.value, target.ty)))]
        return [line(cst.AugAssign(self.expr(target), AUG_NODES[OPERATORS[node.op].warp](), self.expr(node.value)))]

    def atomic(self, node: A.Atomic):
        return [line(cst.Expr(self.atomic_call(node)))]

    def atomic_call(self, node: A.Atomic | A.AtomicValue) -> cst.Call:
        if node.op in BITWISE_ATOMICS:
            self.supported("atomic_bitwise", f"atomic_{node.op}")
        return call(f"wp.atomic_{node.op}", cst.Name(node.array), self.expr(node.index), self.expr(node.value))

    def call_stmt(self, node: A.CallStmt):
        return [line(cst.Expr(self.expr(node.call)))]

    def if_stmt(self, node: A.If):
        orelse = None
        if node.orelse is not None:
            orelse = cst.Else(self.block(node.orelse))
        for clause in reversed(node.elifs):
            orelse = cst.If(self.expr(clause.cond), self.block(clause.body), orelse=orelse)
        return [cst.If(self.expr(node.cond), self.block(node.body), orelse=orelse)]

    def for_stmt(self, node: A.For):
        return [cst.For(cst.Name(node.var), call("range", self.expr(node.bound)), self.block(node.body))]

    def while_stmt(self, node: A.While):
        counter = cst.Name(node.counter)
        test: cst.BaseExpression = cst.Comparison(counter, [cst.ComparisonTarget(cst.LessThan(), cst.Integer(str(node.limit)))])
        if node.cond is not None:
            self.lazy(node.cond, "short_circuit", "a side effect or a guarded read in a while condition (evaluated after the counter check)")
            test = cst.BooleanOperation(test, cst.And(), self.expr(node.cond, NOT))
        step = line(cst.AugAssign(counter, cst.AddAssign(), cst.Integer("1")))
        body = self.block(node.body)
        real = [s for s in body.body if not (isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[0], cst.Pass))]
        return [
            assign(counter, call("wp.int32", cst.Integer("0"))),
            cst.While(test, cst.IndentedBlock(body=[step, *real])),
        ]

    def unpack(self, node: A.Unpack):
        targets = cst.Tuple([cst.Element(cst.Name(t.id)) for t in node.targets], lpar=[], rpar=[])
        if isinstance(node.value, A.TupleExpr):  # a, b = x, y: each value as a local's
            return [assign(targets, cst.Tuple([cst.Element(self.local_value(item)) for item in node.value.items], lpar=[], rpar=[]))]
        return [assign(targets, self.expr(node.value))]

    def return_stmt(self, node: A.Return):
        return [line(cst.Return(self.expr(node.value)))]

    # -- expressions

    def expr(self, node, min_prec: int = 0) -> cst.BaseExpression:
        builder = _EXPRESSIONS.get(type(node))
        if builder is None:
            raise RenderError(f"Warp renderer: no rule for expression {type(node).__name__}")
        built = builder(self, node)
        return parenthesize(built) if precedence(node) < min_prec else built

    def binop(self, node: A.BinOp):
        if node.op == "//" and node.ty.is_int and node.ty.signed and not self.truncating_division and not self.release.has("floor_division"):
            self.bridged.add(("floordiv", node.ty.name))
            return call(f"floordiv_{node.ty.name}{self.suffix}", self.expr(node.left), self.expr(node.right))
        prec = precedence(node)
        return cst.BinaryOperation(self.expr(node.left, prec), BINARY_NODES[OPERATORS[node.op].warp](), self.expr(node.right, prec + 1))

    def compare(self, node: A.Compare):
        return cst.Comparison(self.expr(node.left, BIT_OR), [cst.ComparisonTarget(COMPARE_NODES[OPERATORS[node.op].warp](), self.expr(node.right, BIT_OR))])

    def lazy(self, node, feature: str, what: str) -> None:
        """Unsupported, when `node` has a side effect that this release would
        evaluate although the language skips it."""
        if not self.release.has(feature) and (has_effect(node, self.effectful) or self.guarded_read(node)):
            info = FEATURES[feature]
            raise Unsupported(f"{what} needs warp-lang >= {info.since} ({info.what}); the source is for warp-lang {self.release}")

    def guarded_read(self, node) -> bool:
        """Whether `node` reads an array at an index only a guard around it
        keeps in bounds (neither the thread index nor a clamp)."""
        return any(isinstance(n, A.ArrayRead) and read_needs_guard(n, self.thread_names) for n in A.walk(node))

    def ternary(self, node: A.Ternary):
        if node.form == "ternary":
            if self.release.has("conditional_expressions"):
                return cst.IfExp(self.expr(node.cond, OR), self.expr(node.then, OR), self.expr(node.orelse, TERNARY))
            self.lazy(node.then, "conditional_expressions", "a side effect or a guarded read in an arm of a conditional expression")
            self.lazy(node.orelse, "conditional_expressions", "a side effect or a guarded read in an arm of a conditional expression")
            return call("wp.select", self.expr(node.cond), self.expr(node.orelse), self.expr(node.then))
        # where/select evaluate every argument on every release; the arms'
        # effects commute (SEMANTICS.md), so their order may follow the builtin's
        where = self.release.has("where") and (node.form == "where" or self.release.has("select_removed"))
        if where:
            return call("wp.where", self.expr(node.cond), self.expr(node.then), self.expr(node.orelse))
        return call("wp.select", self.expr(node.cond), self.expr(node.orelse), self.expr(node.then))

    def cast(self, node: A.Cast):
        name = {v: k for k, v in A.BUILTIN_CASTS.items()}[node.to.name] if node.builtin else f"wp.{node.to.name}"
        return call(name, self.expr(node.operand))

    def constant(self, value: A.Expr) -> cst.BaseExpression:
        """A constant's value, which Python evaluates at import: a negated
        typed literal is the type of the negated number (`wp.float64(-3.25)`);
        Warp 1.0.2's scalar types have no unary minus in Python (TypeError,
        found by CI's campaign on that release)."""
        if isinstance(value, A.Neg) and isinstance(value.operand, A.Const) and (value.ty not in (F32, I32) or value.operand.typed):
            return call(f"wp.{value.ty.name}", cst.UnaryOperation(cst.Minus(), number(value.operand.value)))
        return self.expr(value)

    def constant_value(self, node) -> bool:
        """Whether Warp takes `node` for a constant: a bare literal, a static, a
        module constant or the variable of a loop Warp unrolls (a name any
        `for` of the definition binds: a typed copy of a variable is the same
        variable), or the negation of one (a typed literal is a variable)."""
        while isinstance(node, A.Neg):
            node = node.operand
        if isinstance(node, A.Const):
            return node.ty in (F32, I32) and not node.typed
        return isinstance(node, A.Static) or (isinstance(node, A.Name) and (node.id in self.constants or node.id in self.loop_vars))

    def static(self, node: A.Static):
        if not self.release.has("static"):
            info = FEATURES["static"]
            raise Unsupported(f"static() needs warp-lang >= {info.since} ({info.what}); the source is for warp-lang {self.release}")
        return call("wp.static", self.expr(node.operand))

    def supported(self, feature: str, what: str) -> None:
        """Unsupported (never a finding) where the release lacks `feature`."""
        if not self.release.has(feature):
            info = FEATURES[feature]
            raise Unsupported(f"{what} needs warp-lang >= {info.since} ({info.what}); the source is for warp-lang {self.release}")

    def tiles_supported(self) -> None:
        if not self.release.has("tiles"):
            info = FEATURES["tiles"]
            raise Unsupported(f"tiles need warp-lang >= {info.since} ({info.what}); the source is for warp-lang {self.release}")

    def tile_load(self, node: A.TileLoad):
        """The start clamped into the array, as the language defines it: the
        whole tile lies inside, so nothing depends on what Warp does with
        elements past an array's end."""
        self.tiles_supported()
        array = cst.Name(node.array)
        last_start = cst.BinaryOperation(_EXPRESSIONS[A.Len](self, A.Len(node.array)), cst.Subtract(), cst.Integer(str(node.size)))
        start = call("wp.clamp", self.expr(node.start), cst.Integer("0"), last_start)
        return call("wp.tile_load", array, shape=cst.Integer(str(node.size)), offset=start)

    def tile_full(self, node: A.TileFull):
        self.tiles_supported()
        dtype = dotted(f"wp.{node.ty.elem.name}")
        if self.release.has("tile_full"):
            return call("wp.tile_full", shape=cst.Integer(str(node.size)), value=self.expr(node.value), dtype=dtype)
        return call("wp.mul", call("wp.tile_ones", shape=cst.Integer(str(node.size)), dtype=dtype), self.expr(node.value))

    def tile_map(self, node: A.TileMap):
        self.tiles_supported()
        return call("wp.tile_map", dotted(TILE_MAPS[node.fn].warp), *(self.expr(t) for t in node.tiles))

    def tile_matmul(self, node: A.TileMatmul):
        """The language's tiles are one-dimensional: reshaped into the two
        matrices, and their product back into a tile of 4."""
        self.tiles_supported()
        inner = node.left.ty.size // MATMUL_ROWS
        left = call("wp.tile_reshape", self.expr(node.left), shape=_shape(MATMUL_ROWS, inner))
        right = call("wp.tile_reshape", self.expr(node.right), shape=_shape(inner, MATMUL_ROWS))
        return call("wp.tile_reshape", call("wp.tile_matmul", left, right), shape=_shape(node.ty.size))

    def tile_reduce(self, node: A.TileReduce):
        """Warp reduces to a tile of one element: its element 0 is the value."""
        self.tiles_supported()
        reduced = call(TILE_REDUCTIONS[node.op].warp, self.expr(node.tile))
        return cst.Subscript(reduced, [cst.SubscriptElement(cst.Index(cst.Integer("0")))])

    def grad_call(self, node: A.GradCall):
        self.supported("grad_calls", "grad(f, x)")
        return cst.Call(call("wp.grad", dotted(BUILTINS[node.fn].warp)), [cst.Arg(self.expr(node.arg))])

    def tile_get(self, node: A.TileGet):
        """The tile reshaped to two dimensions and subscripted twice,
        `t2[r][c]`: each index clamped unless it is a literal already in
        range (a chained subscript of a tile is a path of Warp's own)."""
        self.tiles_supported()
        columns = node.tile.ty.size // TILE_GET_ROWS
        tile = call("wp.tile_reshape", self.expr(node.tile), shape=_shape(TILE_GET_ROWS, columns))
        for index, extent in ((node.row, TILE_GET_ROWS), (node.col, columns)):
            if isinstance(index, A.Const) and 0 <= index.value < extent:
                rendered = self.expr(index)
            else:
                rendered = call("wp.clamp", self.expr(index), cst.Integer("0"), cst.Integer(str(extent - 1)))
            tile = cst.Subscript(tile, [cst.SubscriptElement(cst.Index(rendered))])
        return tile

    def bool_op(self, node: A.BoolOp):
        self.lazy(node.right, "short_circuit", "a side effect or a guarded read in the right operand of and/or")
        prec = precedence(node)
        op = BOOLEAN_NODES[OPERATORS[node.op].warp]()
        return cst.BooleanOperation(self.expr(node.left, prec), op, self.expr(node.right, prec + 1))

    def builtin_or_helper(self, node: A.Call):
        starred = A.starred_vector(node)
        if starred is not None and starred[1] is not None and not self.release.has("starred_slices"):
            starred = None
        if starred is not None and self.release.has("starred_arguments"):  # else its components, listed
            vector, bounds = starred
            value = self.expr(vector, POSTFIX)
            if bounds is not None:
                lower, upper, step = (None if b is None else number(b) if b >= 0 else cst.UnaryOperation(cst.Minus(), number(-b)) for b in bounds)
                value = cst.Subscript(value, [cst.SubscriptElement(cst.Slice(lower=lower, upper=upper, step=step))])
            args = [cst.Arg(value, star="*")]
        else:
            args = [cst.Arg(self.expr(a)) for a in node.args]
        if node.func == "abs" and node.ty.is_vector and not self.release.has("vector_abs"):
            self.bridged.add(("abs", node.ty.name))
            return cst.Call(dotted(f"abs_{node.ty.name}{self.suffix}"), args)
        if node.func in BUILTINS:
            return cst.Call(dotted(BUILTINS[node.func].warp), args)
        if node.func in self.names:
            return cst.Call(dotted(self.names[node.func]), args)
        if node.func in self.function_params:
            return cst.Call(cst.Name(node.func), args)
        raise RenderError(f"Warp renderer: unknown function {node.func!r}")




_STATEMENTS = {
    A.Assign: _Renderer.assign,
    A.AugAssign: _Renderer.aug_assign,
    A.Unpack: _Renderer.unpack,
    A.Atomic: _Renderer.atomic,
    A.CallStmt: _Renderer.call_stmt,
    A.If: _Renderer.if_stmt,
    A.For: _Renderer.for_stmt,
    A.While: _Renderer.while_stmt,
    A.Break: lambda self, node: [line(cst.Break())],
    A.Continue: lambda self, node: [line(cst.Continue())],
    A.Return: _Renderer.return_stmt,
}

_EXPRESSIONS = {
    A.Const: lambda self, n: literal(n),
    # a helper passed for a Function parameter by its module name
    A.Name: lambda self, n: cst.Name(self.names[n.id] if n.id in self.constants or (n.ty == FUNCTION and n.id in self.names) else n.id),
    A.Tid: lambda self, n: call("wp.tid"),
    # dotted: `p.a` names the array field a of struct parameter p
    A.Len: lambda self, n: cst.Subscript(cst.Attribute(dotted(n.array), cst.Name("shape")), [cst.SubscriptElement(cst.Index(cst.Integer(str(n.dim))))]),
    # `a[r, c]`: Warp indexes a two-dimensional array with one subscript of two indexes
    A.ArrayRead: lambda self, n: cst.Subscript(dotted(n.array), [cst.SubscriptElement(cst.Index(self.expr(i))) for i in (n.index, n.column) if i is not None]),
    A.Component: _Renderer.component,
    A.Field: lambda self, n: cst.Attribute(self.expr(n.value, POSTFIX), cst.Name(n.name)),
    A.StructNew: lambda self, n: call(self.names[n.of]),
    A.TupleExpr: lambda self, n: cst.Tuple([cst.Element(self.expr(item)) for item in n.items], lpar=[], rpar=[]),
    A.ComponentAt: lambda self, n: cst.Subscript(self.expr(n.value, POSTFIX), [cst.SubscriptElement(cst.Index(self.expr(n.index)))]),
    A.BinOp: _Renderer.binop,
    A.Compare: _Renderer.compare,
    A.BoolOp: _Renderer.bool_op,
    A.Not: lambda self, n: cst.UnaryOperation(UNARY_NODES[OPERATORS["not"].warp](), self.expr(n.operand, NOT)),
    A.Neg: _Renderer.negation,
    A.Invert: lambda self, n: cst.UnaryOperation(UNARY_NODES[OPERATORS["invert"].warp](), self.expr(n.operand, UNARY)),
    A.Ternary: _Renderer.ternary,
    A.Call: _Renderer.builtin_or_helper,
    A.Cast: _Renderer.cast,
    A.Static: _Renderer.static,
    A.Construct: lambda self, n: call(f"wp.{n.of.name}", *(self.expr(a) for a in n.args)),
    A.AtomicValue: _Renderer.atomic_call,
    A.TileLoad: _Renderer.tile_load,
    A.TileFull: _Renderer.tile_full,
    A.TileMap: _Renderer.tile_map,
    A.TileMatmul: _Renderer.tile_matmul,
    A.TileReduce: _Renderer.tile_reduce,
    A.TileGet: _Renderer.tile_get,
    A.GradCall: _Renderer.grad_call,
}

assert COMPARE < BIT_OR  # the comparison builder relies on operands binding tighter


def render_warp_module(program: A.Program, suffix: str = "", release: WarpRelease = NEWEST) -> cst.Module:
    return _Renderer(suffix, release).module(program)


def render_warp(program: A.Program, suffix: str = "", release: WarpRelease = NEWEST) -> str:
    """Warp source for `program`: an importable Python module."""
    body = render_warp_module(program, suffix, release).code.lstrip("\n")
    return HEADER + "\n\n" + body


def render_warp_part(program: A.Program, index: int, release: WarpRelease = NEWEST) -> tuple[str, dict[str, str]]:
    """Program `index` of a batch, its definitions renamed `<name>_p<index>`:
    the source (no header) and the map from DSL names to module names."""
    renderer = _Renderer(f"_p{index}", release)
    return renderer.module(program).code.lstrip("\n"), dict(renderer.names)


def join_parts(parts: list[str]) -> str:
    """One Warp module from rendered parts."""
    return HEADER + "\n\n" + "\n\n".join(parts)


def render_warp_batch(programs: list[A.Program]) -> tuple[str, list[dict[str, str]]]:
    """One Warp module holding many programs, definitions renamed `_p<k>`.

    Returns the source and, per program, the map from DSL names to module names.
    """
    rendered = [render_warp_part(program, index) for index, program in enumerate(programs)]
    return join_parts([code for code, _ in rendered]), [names for _, names in rendered]

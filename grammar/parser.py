"""Text -> AST: the Lark parser for grammar/kernel.lark and the tree builder.

`parse(text)` returns a checked, typed Program; `parse_untyped` stops before the
checker. The builder resolves what the grammar leaves open: whether `a[e]` is an
array element or a vector component (arrays are parameters, so the enclosing
definition's parameters decide), which calls are casts, constructors or typed
literals, and the folding of `c = 0; while c < L: c += 1; ...` into one While.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.indenter import DedentError, Indenter

from . import ast as A
from .errors import ParseError
from .ops import ATOMICS, GRAD_FUNCTIONS, TILE_MAPS, TILE_REDUCTIONS, TILE_SIZES
from .types import ANY, COMPONENT_NAMES, F32, FUNCTION, I32, ROLES, TYPES, ArrayType, DType, TupleType, struct_type


def _is_slice(tree) -> bool:
    return isinstance(tree, Tree) and tree.data == "slice"


# The language's own functions, which take no `*v`
_NOT_STARRED = frozenset({"tid", "len", "static", "where", "select", "tile_load", "tile_map", "tile_full", "tile_matmul", "tile_get", "grad", *TILE_REDUCTIONS})

GRAMMAR_PATH = Path(__file__).with_name("kernel.lark")

# Which AST class each grammar rule builds (aliases included). A rule may build
# more than one class when only the enclosing definition can tell which.
RULE_NODES: dict[str, tuple[type, ...]] = {
    "start": (A.Program,),
    "func_def": (A.Func,),
    # `@func` or `@native` (A.Func.native)
    "plain_func": (A.Func,),
    "native_func": (A.Func,),
    "kernel_def": (A.Kernel,),
    "launch_spec": (),
    "struct_def": (A.StructDef,),
    "const_def": (A.ConstDef,),
    "field_decl": (A.Param,),
    "tuple_type": (),
    "unpack": (A.Unpack,),
    "unpack_targets": (),
    "params": (),
    "param": (A.Param,),
    "array_type": (),
    "type_name": (),
    "suite": (),
    "assign": (A.Assign, A.AtomicValue),
    "aug_assign": (A.AugAssign,),
    "call_stmt": (A.CallStmt, A.Atomic),
    "break_stmt": (A.Break,),
    "continue_stmt": (A.Continue,),
    "return_stmt": (A.Return, A.TupleExpr),
    "pass_stmt": (),
    "if_stmt": (A.If,),
    "elif_clause": (A.Elif,),
    "else_clause": (),
    "for_stmt": (A.For,),
    "while_stmt": (A.While,),
    "ternary": (A.Ternary,),
    "or_op": (A.BoolOp,),
    "and_op": (A.BoolOp,),
    "not_op": (A.Not,),
    "compare": (A.Compare,),
    "bin_op": (A.BinOp,),
    "neg": (A.Neg,),
    "invert": (A.Invert,),
    "subscript": (A.ArrayRead, A.Component, A.ComponentAt),
    "attribute": (A.Component, A.Field),
    "call": (A.Call, A.Cast, A.Construct, A.Len, A.Tid, A.Const, A.StructNew, A.Static, A.TileLoad, A.TileFull, A.TileMap, A.TileMatmul, A.TileReduce, A.TileGet, A.GradCall),
    "args": (),
    "starred": (A.Starred,),  # `*v`, which the checker expands into v's components
    "slice": (),  # `v[a:b:c]` of a starred argument: its bounds, in A.Starred
    "int_lit": (A.Const,),
    "float_lit": (A.Const,),
    "name": (A.Name,),
    # Inlined (`?`) rules: where they match one child they pass it through and
    # build nothing of their own (their other alternatives are aliased above,
    # except `ternary`'s, which builds a `ternary` tree).
    "definition": (),
    "stmt": (),
    "simple_stmt": (),
    "target": (),
    "expr": (),
    "or_expr": (),
    "and_expr": (),
    "not_expr": (),
    "comparison": (),
    "bit_or": (),
    "bit_xor": (),
    "bit_and": (),
    "shift": (),
    "sum": (),
    "product": (),
    "unary": (),
    "postfix": (),
    "atom": (),
    "arg": (),
}


class _KernelIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB"]
    CLOSE_PAREN_types = ["RPAR", "RSQB"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def handle_NL(self, token: Token):
        try:
            yield from super().handle_NL(token)
        except DedentError:
            raise _BadDedent(token) from None


class _BadDedent(Exception):
    """A line dedents to a column no enclosing block starts at; `token` is its newline."""

    def __init__(self, token: Token):
        super().__init__("unindent does not match any outer indentation level")
        self.token = token


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(
        GRAMMAR_PATH.read_text(),
        parser="lalr",
        postlex=_KernelIndenter(),
        maybe_placeholders=True,
        propagate_positions=True,
    )


def grammar_rules() -> set[str]:
    """The rule names (aliases included) of kernel.lark, for the rule<->node test."""
    names = set()
    for rule in _lark().rules:
        names.add(rule.alias or rule.origin.name)
    return {str(n) for n in names if not str(n).startswith("_")}


def parse_untyped(text: str, file: str = "<string>") -> A.Program:
    """Parse without type checking; expression types stay None."""
    try:
        tree = _lark().parse(text if text.endswith("\n") else text + "\n")
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text, file) from None
    except _BadDedent as exc:
        # The newline token ends where the badly indented line's first token starts.
        line, column = exc.token.end_line, exc.token.end_column
        raise ParseError(str(exc), rule="syntax", line=line, column=column, file=file) from None
    return _Builder(file).program(tree)


def parse(text: str, file: str = "<string>") -> A.Program:
    """Parse and check: the typed Program, or a DSLError naming file:line:col."""
    from .checker import check

    return check(parse_untyped(text, file), file)


def _syntax_error(exc: UnexpectedInput, text: str, file: str) -> ParseError:
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    if isinstance(exc, UnexpectedCharacters):
        got = repr(text[exc.pos_in_stream]) if exc.pos_in_stream < len(text) else "end of file"
        message = f"unexpected character {got}"
    elif isinstance(exc, UnexpectedToken):
        token = exc.token
        if token.type in ("$END", "_INDENT", "_DEDENT"):
            # These tokens borrow the position of the token before them (the
            # last token, or the newline before an indented line): report
            # where that token ends, i.e. where the end of file or the
            # indented line's first token is.
            if token.end_line is not None:
                line, column = token.end_line, token.end_column
        if token.type == "$END" or (token.type == "_DEDENT" and not text[token.end_pos or 0:].strip()):
            message = "unexpected end of file"
        elif token.type in ("_INDENT", "_DEDENT"):
            message = "unexpected indentation"
        elif token.type == "_NL":
            message = "unexpected end of line"
        else:
            message = f"unexpected {str(token)!r}"
        expected = sorted(e for e in exc.expected if not e.startswith("_"))
        if expected and len(expected) <= 8:
            message += f" (expected one of {', '.join(expected)})"
    elif isinstance(exc, UnexpectedEOF):
        message = "unexpected end of file"
    else:  # pragma: no cover - lark has no other kinds
        message = str(exc).splitlines()[0]
    if line is None or line < 0:
        line, column = text.count("\n") + 1, 1
    return ParseError(message, rule="syntax", line=line, column=column, file=file)


class _Builder:
    """Builds untyped AST nodes from a Lark tree, one definition at a time."""

    def __init__(self, file: str):
        self.file = file
        self.arrays: set[str] = set()
        self.structs: dict[str, object] = {}  # struct types declared so far

    def error(self, message: str, node: Tree | Token | None, rule: str = "syntax") -> ParseError:
        pos = self.pos(node)
        return ParseError(message, rule=rule, line=pos.line if pos else None, column=pos.column if pos else None, file=self.file)

    @staticmethod
    def pos(node: Tree | Token | None) -> A.Pos | None:
        if isinstance(node, Token):
            return A.Pos(node.line, node.column)
        if isinstance(node, Tree) and not node.meta.empty:
            return A.Pos(node.meta.line, node.meta.column)
        return None

    # -- definitions

    def program(self, tree: Tree) -> A.Program:
        funcs, kernels, structs, constants = [], [], [], []
        for child in tree.children:
            if child is None:
                continue
            if child.data == "struct_def":
                structs.append(self.struct(child))
                continue
            if child.data == "const_def":
                constants.append(self.constant(child))
                continue
            (funcs if child.data == "func_def" else kernels).append(self.definition(child))
        if not kernels:
            raise ParseError("a program needs at least one @kernel", rule="no-kernel", line=1, column=1, file=self.file)
        return A.Program(tuple(funcs), tuple(kernels), tuple(structs), tuple(constants))

    def constant(self, tree: Tree) -> A.ConstDef:
        name, value_tree = tree.children
        value = self.expr(value_tree)
        literal = value.args[0] if isinstance(value, A.Call) and value.func == "constant" and len(value.args) == 1 else None
        parts = literal.args if isinstance(literal, A.Construct) else (literal,)
        if literal is None or not all(map(A.is_signed_literal, parts)):
            raise self.error("a module-level name is `C = constant(literal)` (a literal or its negation, or vec3(...) of them)", tree, "constant")
        return A.ConstDef(str(name), literal, pos=self.pos(tree))

    def struct(self, tree: Tree) -> A.StructDef:
        name, *fields = tree.children
        built = []
        for decl in fields:
            field_name, ty = decl.children
            if str(field_name) in COMPONENT_NAMES:
                raise self.error(f"a field cannot be named {str(field_name)!r}: x, y, z and w name a vector's components", field_name, "field-name")
            field_ty = self.array_type(ty) if ty.data == "array_type" else self.type_name(ty)
            if isinstance(field_ty, ArrayType) and field_ty.ndim != 1:
                raise self.error("a struct field holds a one-dimensional array only", ty, "struct-array")
            built.append(A.Param(str(field_name), field_ty, pos=self.pos(decl)))
        node = A.StructDef(str(name), tuple(built), pos=self.pos(tree))
        # the checker judges duplicate names; the first declaration wins here
        self.structs.setdefault(node.name, struct_type(node.name, [(f.name, f.ty) for f in built]))
        return node

    def definition(self, tree: Tree) -> A.Func | A.Kernel:
        if tree.data == "func_def":
            kind, name, params, ret, suite = tree.children
        else:
            children = list(tree.children)
            launch = self.launch_spec(children.pop(0)) if isinstance(children[0], Tree) and children[0].data == "launch_spec" else None
            name, params, suite = children
            ret = None
        built = tuple(self.param(p) for p in params.children if p is not None) if params else ()
        self.arrays = {p.name for p in built if isinstance(p.ty, ArrayType)}
        # `s.a`: the array field a of struct parameter s is read as an array parameter is
        self.arrays |= {f"{p.name}.{f}" for p in built if isinstance(p.ty, DType) and p.ty.is_struct for f, _ in p.ty.array_fields}
        body = self.suite(suite)
        if ret is None:
            return A.Kernel(str(name), built, body, pos=self.pos(tree), launch=launch)
        if ret.data == "tuple_type":
            ret_ty = TupleType(tuple(self.type_name(t) for t in ret.children))
        else:
            ret_ty = self.type_name(ret, generic=True)
        return A.Func(str(name), built, ret_ty, body, pos=self.pos(tree), native=kind.data == "native_func")

    def launch_spec(self, tree: Tree) -> int:
        key, value = tree.children
        if str(key) != "launch":
            raise self.error(f"@kernel takes one argument, launch=N, not {str(key)}=", key, "launch")
        return int(value)

    def param(self, tree: Tree) -> A.Param:
        name, ty = tree.children
        if ty.data == "array_type":
            return A.Param(str(name), self.array_type(ty), pos=self.pos(tree))
        return A.Param(str(name), self.type_name(ty, generic=True), pos=self.pos(tree))

    def array_type(self, tree: Tree) -> ArrayType:
        role, keyword, elem = tree.children
        ndims = {"array": 1, "array2d": 2}
        if str(keyword) not in ndims:
            raise self.error(f"an array type is array[...] or array2d[...], not {str(keyword)}[...]", keyword, "unknown-type")
        elem_ty = self.type_name(elem)
        if not (elem_ty.is_numeric or elem_ty.is_vector or elem_ty.is_matrix):
            raise self.error(f"arrays of {elem_ty} are not part of the language", elem, "unknown-type")
        return ArrayType(elem_ty, ROLES[str(role)], ndims[str(keyword)])

    def type_name(self, tree: Tree, generic: bool = False):
        """The type `tree` names; `Any` (a generic helper's type variable)
        only where `generic` says one may stand: a parameter or a return (as
        `Function`, a helper's parameter that names a helper)."""
        token = tree.children[0]
        if generic and str(token) == ANY.name:
            return ANY
        if generic and str(token) == FUNCTION.name:
            return FUNCTION
        ty = TYPES.get(str(token)) or self.structs.get(str(token))
        if ty is None or ty.name == "bool":
            raise self.error(f"unknown type {str(token)!r} (expected one of {', '.join(sorted(t for t in TYPES if t != 'bool'))})", token, "unknown-type")
        return ty

    # -- statements

    def suite(self, tree: Tree) -> tuple:
        out: list = []
        for child in tree.children:
            stmt = self.stmt(child)
            if stmt is None:
                continue
            if isinstance(stmt, _RawWhile):
                stmt = self.fold_while(stmt, out)
            out.append(stmt)
        return tuple(out)

    def stmt(self, tree: Tree):
        kind = tree.data
        pos = self.pos(tree)
        if kind == "pass_stmt":
            return None
        if kind == "assign":
            target, value = tree.children
            value = self.expr(value, statement=True)
            if isinstance(value, _RawAtomic):  # `v = atomic_add(...)`: its value is the element's before
                atomic = value.node
                value = A.AtomicValue(atomic.op, atomic.array, atomic.index, atomic.value, pos=atomic.pos)
            return A.Assign(self.target(target), value, pos=pos)
        if kind == "aug_assign":
            target, op, value = tree.children
            return A.AugAssign(self.target(target), str(op), self.expr(value), pos=pos)
        if kind == "call_stmt":
            call = self.expr(tree.children[0], statement=True)
            if isinstance(call, _RawAtomic):
                return call.node
            if not isinstance(call, A.Call):
                raise self.error("only helper calls and atomics can stand as statements", tree, "expression-statement")
            return A.CallStmt(call, pos=pos)
        if kind == "break_stmt":
            return A.Break(pos=pos)
        if kind == "continue_stmt":
            return A.Continue(pos=pos)
        if kind == "return_stmt":
            values = [self.expr(c) for c in tree.children]
            if len(values) == 1:
                return A.Return(values[0], pos=pos)
            return A.Return(A.TupleExpr(tuple(values), pos=pos), pos=pos)
        if kind == "unpack":
            names, *value_trees = tree.children
            values = [self.expr(c) for c in value_trees]
            targets = tuple(self.expr(n) for n in names.children)
            if len(values) > 1:
                return A.Unpack(targets, A.TupleExpr(tuple(values), pos=values[0].pos), pos=pos)
            if not isinstance(values[0], A.Call):
                raise self.error("only a helper call's values can be unpacked; several values are written `a, b = x, y`", tree.children[-1], "unpack")
            return A.Unpack(targets, values[0], pos=pos)
        if kind == "if_stmt":
            cond, suite, *rest = tree.children
            elifs, orelse = [], None
            for clause in rest:
                if clause is None:
                    continue
                if clause.data == "elif_clause":
                    elifs.append(A.Elif(self.expr(clause.children[0]), self.suite(clause.children[1]), pos=self.pos(clause)))
                else:
                    orelse = self.suite(clause.children[0])
            return A.If(self.expr(cond), self.suite(suite), tuple(elifs), orelse, pos=pos)
        if kind == "for_stmt":
            var, bound, suite = tree.children
            return A.For(str(var), self.expr(bound), self.suite(suite), pos=pos)
        if kind == "while_stmt":
            cond, suite = tree.children
            return _RawWhile(self.expr(cond), self.suite(suite), tree)
        raise self.error(f"unexpected statement {kind}", tree)  # pragma: no cover

    def fold_while(self, raw: "_RawWhile", before: list) -> A.While:
        where = raw.tree
        # The bound is the leftmost operand of an `and` chain: `c < L and rest`.
        chain, rest = raw.cond, None
        rights = []
        while isinstance(chain, A.BoolOp) and chain.op == "and":
            rights.append(chain.right)
            chain = chain.left
        for right in reversed(rights):
            rest = right if rest is None else A.BoolOp("and", rest, right)
        shape = "a while loop is `c = 0` then `while c < LIMIT [and cond]:` with `c += 1` first in its body"
        if not (
            isinstance(chain, A.Compare)
            and chain.op == "<"
            and isinstance(chain.left, A.Name)
            and isinstance(chain.right, A.Const)
            and isinstance(chain.right.value, int)
        ):
            raise self.error(shape, where, "while-bound")
        counter = chain.left.id
        init = before[-1] if before else None
        if not (
            isinstance(init, A.Assign)
            and init.target == A.Name(counter)
            and isinstance(init.value, A.Const)
            and init.value.value == 0
            and isinstance(init.value.value, int)
        ):
            raise self.error(f"{shape}; `{counter} = 0` must come right before the loop", where, "while-bound")
        body = raw.body
        step = body[0] if body else None
        if not (
            isinstance(step, A.AugAssign)
            and step.target == A.Name(counter)
            and step.op == "+="
            and isinstance(step.value, A.Const)
            and step.value.value == 1
            and not isinstance(step.value.value, float)
        ):
            raise self.error(f"{shape}; `{counter} += 1` must be the loop's first statement", where, "while-bound")
        before.pop()
        return A.While(counter, chain.right.value, rest, body[1:], pos=init.pos)

    def target(self, tree: Tree):
        node = self.expr(tree)
        if not isinstance(node, (A.Name, A.ArrayRead, A.Component, A.ComponentAt, A.Field)):
            raise self.error("cannot assign to this expression", tree, "assign-target")
        place = node.value if isinstance(node, (A.Component, A.ComponentAt)) else node
        if isinstance(place, (A.Component, A.ComponentAt)):  # m[r][c] = e: the checker asks for a local matrix
            place = place.value if isinstance(place.value, (A.Name, A.ArrayRead)) else place
        if place is not node and not isinstance(place, (A.Name, A.ArrayRead, A.Field)):
            raise self.error("only components of a local vector or matrix, a field or an array element can be assigned", tree, "assign-target")
        while isinstance(place, A.Field):  # `s.f.g`: a field chain down to a local
            place = place.value
        if isinstance(node, A.Field) and not isinstance(place, A.Name):
            raise self.error("only fields of a local struct can be assigned", tree, "assign-target")
        return node

    # -- expressions

    def expr(self, tree, statement: bool = False):
        """The expression `tree`; an atomic only where it is the whole statement."""
        node = self._expr(tree)
        if isinstance(node, _RawAtomic) and not statement:
            raise self.error("an atomic stands alone as a statement; its result cannot be used in an expression", tree, "atomic-position")
        return node

    def _expr(self, tree):
        kind = tree.data
        pos = self.pos(tree)
        ch = tree.children
        if kind == "name":
            return A.Name(str(ch[0]), pos=pos)
        if kind == "int_lit":
            return A.Const(int(ch[0]), I32, pos=pos)
        if kind == "float_lit":
            return A.Const(float(ch[0]), F32, pos=pos)
        if kind == "bin_op":
            return A.BinOp(str(ch[1]), self.expr(ch[0]), self.expr(ch[2]), pos=pos)
        if kind == "compare":
            return A.Compare(str(ch[1]), self.expr(ch[0]), self.expr(ch[2]), pos=pos)
        if kind in ("or_op", "and_op"):
            return A.BoolOp(kind[:-3], self.expr(ch[0]), self.expr(ch[1]), pos=pos)
        if kind == "not_op":
            return A.Not(self.expr(ch[0]), pos=pos)
        if kind == "neg":
            return A.Neg(self.expr(ch[0]), pos=pos)
        if kind == "invert":
            return A.Invert(self.expr(ch[0]), pos=pos)
        if kind == "ternary":
            then, cond, orelse = ch
            return A.Ternary(self.expr(cond), self.expr(then), self.expr(orelse), pos=pos)
        if kind == "subscript" and _is_slice(ch[1]):
            raise self.error("a slice (v[a:b]) is only a starred argument's: f(*v[a:b])", tree, "starred")
        if kind == "subscript" and len(ch) == 3 and ch[0].data == "name" and str(ch[0].children[0]) in self.arrays:
            # a[r, c]: an element of a two-dimensional array (the checker counts the indexes)
            base, row, col = ch
            return A.ArrayRead(str(base.children[0]), self.expr(row), pos=pos, column=self.expr(col))
        if kind == "subscript" and len(ch) == 3:  # m[r, c]: an element of a matrix, by literal row and column
            base, row, col = ch
            if row.data != "int_lit" or col.data != "int_lit":
                raise self.error("a subscript of two indexes takes int literals (a matrix's row and column)", tree, "component")
            inner = self.component(self.expr(base), int(row.children[0]), False, row, pos)
            return replace(self.component(inner, int(col.children[0]), False, col, pos), pair=True)
        if kind == "subscript" and self.shape_of(ch[0]) is not None:
            # a.shape[k]: an extent of an array parameter, k a literal 0 or 1
            base, index = ch
            if index.data != "int_lit" or int(index.children[0]) > 1:
                raise self.error("an array's extent is a.shape[0] or a.shape[1]", tree, "call-arity")
            return A.Len(self.shape_of(base), pos=pos, dim=int(index.children[0]))
        if kind == "subscript":
            base, index = ch
            if base.data == "name" and str(base.children[0]) in self.arrays:
                return A.ArrayRead(str(base.children[0]), self.expr(index), pos=pos)
            if self.field_array(base) is not None:
                return A.ArrayRead(self.field_array(base), self.expr(index), pos=pos)
            if index.data != "int_lit":
                return A.ComponentAt(self.expr(base), self.expr(index), pos=pos)
            return self.component(self.expr(base), int(index.children[0]), False, index, pos)
        if kind == "attribute":
            base, attr = ch
            letter = str(attr)
            if len(letter) != 1 or letter not in COMPONENT_NAMES:
                # a struct field; the checker knows whether the value has one
                return A.Field(self.expr(base), letter, pos=pos)
            return self.component(self.expr(base), COMPONENT_NAMES.index(letter), True, attr, pos)
        if kind == "call":
            return self.call(tree)
        raise self.error(f"unexpected expression {kind}", tree)  # pragma: no cover

    def shape_of(self, tree) -> str | None:
        """The array parameter `a` of `a.shape` (None when `tree` is no such attribute)."""
        if isinstance(tree, Tree) and tree.data == "attribute" and str(tree.children[1]) == "shape" and tree.children[0].data == "name":
            name = str(tree.children[0].children[0])
            return name if name in self.arrays else None
        return None

    def field_array(self, tree) -> str | None:
        """`s.a` spelled as the array name the AST holds for the array field
        a of struct parameter s (None when `tree` is no such field)."""
        if isinstance(tree, Tree) and tree.data == "attribute" and tree.children[0].data == "name":
            dotted = f"{tree.children[0].children[0]}.{tree.children[1]}"
            return dotted if dotted in self.arrays else None
        return None

    def component(self, value, index: int, attr: bool, where, pos):
        if index >= len(COMPONENT_NAMES):
            raise self.error(f"component index {index} out of range", where, "component")
        return A.Component(value, index, attr, pos=pos)

    def argument(self, tree):
        if isinstance(tree, Tree) and tree.data == "starred":
            (value,) = tree.children
            if isinstance(value, Tree) and value.data == "subscript" and len(value.children) == 2 and _is_slice(value.children[1]):
                base, sliced = value.children
                return A.Starred(self.expr(base), pos=self.pos(tree), slice=tuple(self.slice_bound(b) for b in sliced.children))
            return A.Starred(self.expr(value), pos=self.pos(tree))
        return self.expr(tree)

    def slice_bound(self, tree) -> int | None:
        """A slice's bound: an int literal, or `-` one."""
        if tree is None:
            return None
        if isinstance(tree, Tree) and tree.data == "int_lit":
            return int(tree.children[0])
        if isinstance(tree, Tree) and tree.data == "neg" and isinstance(tree.children[0], Tree) and tree.children[0].data == "int_lit":
            return -int(tree.children[0].children[0])
        raise self.error("a slice's bounds and step are int literals", tree, "starred")

    def call(self, tree: Tree):
        name_token, args_tree = tree.children
        name = str(name_token)
        pos = self.pos(tree)
        args = [self.argument(a) for a in args_tree.children if a is not None] if args_tree else []
        if any(isinstance(a, A.Starred) for a in args) and (len(args) != 1 or name in self.structs or name in _NOT_STARRED or name.startswith("atomic_") or name in TYPES or name in A.BUILTIN_CASTS):
            raise self.error("`*v` is the only argument of a helper's or a math builtin's call", tree, "starred")
        if name in self.structs:
            if args:
                raise self.error(f"{name}() takes no arguments (a struct starts with every field zero)", tree, "call-arity")
            return A.StructNew(name, pos=pos)
        if name == "tid":
            if args:
                raise self.error("tid() takes no arguments", tree, "call-arity")
            return A.Tid(pos=pos)
        if name == "len":
            field = f"{args[0].value.id}.{args[0].name}" if len(args) == 1 and isinstance(args[0], A.Field) and isinstance(args[0].value, A.Name) else None
            if field in self.arrays:
                return A.Len(field, pos=pos)
            if len(args) != 1 or not isinstance(args[0], A.Name) or args[0].id not in self.arrays:
                raise self.error("len() takes one array parameter", tree, "call-arity")
            return A.Len(args[0].id, pos=pos)
        if name.startswith("atomic_"):
            op = name[len("atomic_"):]
            if op not in ATOMICS:
                raise self.error(f"unknown atomic {name!r}", tree, "unknown-function")
            if len(args) != 3 or not isinstance(args[0], A.Name) or args[0].id not in self.arrays:
                raise self.error(f"{name}(array, index, value) takes an array parameter and two values", tree, "call-arity")
            return _RawAtomic(A.Atomic(op, args[0].id, args[1], args[2], pos=pos))
        if name == "static":
            if len(args) != 1:
                raise self.error(f"static(e) takes one expression, got {len(args)}", tree, "call-arity")
            return A.Static(args[0], pos=pos)
        if name == "tile_load":
            if len(args) != 3 or not isinstance(args[0], A.Name) or args[0].id not in self.arrays:
                raise self.error("tile_load(array, start, size) takes an array parameter, a start and a literal size", tree, "call-arity")
            size = args[2]
            if not (isinstance(size, A.Const) and isinstance(size.value, int) and size.value in TILE_SIZES):
                raise self.error(f"a tile's size is one of {', '.join(map(str, TILE_SIZES))}, written as a literal", args_tree.children[2], "tile")
            return A.TileLoad(args[0].id, args[1], size.value, pos=pos)
        if name == "tile_map":
            if len(args) < 2 or not isinstance(args[0], A.Name):
                raise self.error("tile_map(f, tile[, tile]) takes a function's name and its tiles", tree, "call-arity")
            op = TILE_MAPS.get(args[0].id)
            if op is None:
                raise self.error(f"tile_map applies one of {', '.join(TILE_MAPS)}, not {args[0].id!r}", args_tree.children[0], "tile")
            if len(args) - 1 != op.arity:
                raise self.error(f"tile_map({op.name}, ...) takes {op.arity} tiles, got {len(args) - 1}", tree, "call-arity")
            return A.TileMap(op.name, tuple(args[1:]), pos=pos)
        if name == "tile_full":
            if len(args) != 2:
                raise self.error("tile_full(value, size) takes a value and a literal size", tree, "call-arity")
            size = args[1]
            if not (isinstance(size, A.Const) and isinstance(size.value, int) and size.value in TILE_SIZES):
                raise self.error(f"a tile's size is one of {', '.join(map(str, TILE_SIZES))}, written as a literal", args_tree.children[1], "tile")
            return A.TileFull(args[0], size.value, pos=pos)
        if name == "tile_matmul":
            if len(args) != 2:
                raise self.error(f"tile_matmul(t, u) takes two tiles, got {len(args)} arguments", tree, "call-arity")
            return A.TileMatmul(args[0], args[1], pos=pos)
        if name == "grad":
            if len(args) != 2 or not isinstance(args[0], A.Name):
                raise self.error("grad(f, x) takes a builtin's name and one value", tree, "call-arity")
            if args[0].id not in GRAD_FUNCTIONS:
                raise self.error(f"grad takes the derivative of one of {', '.join(GRAD_FUNCTIONS)}, not {args[0].id!r}", args_tree.children[0], "grad")
            return A.GradCall(args[0].id, args[1], pos=pos)
        if name == "tile_get":
            if len(args) != 3:
                raise self.error(f"tile_get(tile, row, column) takes a tile and two indexes, got {len(args)} arguments", tree, "call-arity")
            return A.TileGet(*args, pos=pos)
        if name in TILE_REDUCTIONS:
            if len(args) != 1:
                raise self.error(f"{name}(tile) takes one tile, got {len(args)} arguments", tree, "call-arity")
            return A.TileReduce(name, args[0], pos=pos)
        if name in ("where", "select"):
            if len(args) != 3:
                raise self.error(f"{name}(cond, a, b) takes three arguments, got {len(args)}", tree, "call-arity")
            cond, first, second = args
            if name == "where":  # where(cond, value_if_true, value_if_false)
                return A.Ternary(cond, first, second, pos=pos, form="where")
            return A.Ternary(cond, second, first, pos=pos, form="select")  # select(cond, value_if_false, value_if_true)
        if name in A.BUILTIN_CASTS:
            if len(args) != 1:
                raise self.error(f"{name}() takes one argument", tree, "call-arity")
            ty = TYPES[A.BUILTIN_CASTS[name]]
            (arg,) = args
            if isinstance(arg, A.Const):
                return A.Const(float(arg.value) if ty.is_float else int(arg.value), ty, pos=pos)
            return A.Cast(ty, arg, pos=pos, builtin=True)
        ty = TYPES.get(name)
        if ty is not None and name != "bool":
            if ty.is_vector or ty.is_matrix:
                if len(args) != ty.length:
                    raise self.error(f"{name}() takes {ty.length} components, got {len(args)}", tree, "call-arity")
                return A.Construct(ty, tuple(args), pos=pos)
            if len(args) != 1:
                raise self.error(f"{name}() takes one argument", tree, "call-arity")
            (arg,) = args
            if isinstance(arg, A.Const):
                value = float(arg.value) if ty.is_float else int(arg.value)
                return A.Const(value, ty, pos=pos, typed=ty.name in ("float32", "int32"))
            return A.Cast(ty, arg, pos=pos)
        return A.Call(name, tuple(args), pos=pos)


class _RawWhile:
    __slots__ = ("cond", "body", "tree")

    def __init__(self, cond, body, tree):
        self.cond, self.body, self.tree = cond, body, tree


class _RawAtomic:
    __slots__ = ("node",)

    def __init__(self, node):
        self.node = node

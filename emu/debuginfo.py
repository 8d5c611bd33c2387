"""DWARF for what lives in emulated memory, made from the struct views
themselves (emu/structs.py), so gdb's ``ptype struct pt_regs`` can never
disagree with the offsets the model reads and writes.

``TypeDies`` turns C types (emu/ctype.py) into DIEs of one unit: each
view becomes a ``struct TAG`` with its members at the views' offsets (and
its typedef, if it has one); a struct no view describes, named only behind
a pointer (``struct mm_struct *``), is a declaration, as in C.
"""

from emu import ctype as c
from emu.dwarf import ATE, Die, addr_expr
from emu.structs import C_NAMES


class TypeDies:
    """The DIEs of one unit's types; a struct or typedef name is looked up among
    every view defined (emu/structs.py's C_NAMES)."""

    def __init__(self, unit: Die):
        self.unit = unit
        self._dies: dict = {}

    def view_die(self, view) -> Die:
        return self.die(view.C_TYPE)

    def die(self, ctype) -> Die:
        """The DIE of ``ctype`` (made once; its dependencies too)."""
        found = self._dies.get(ctype)
        if found is None:
            found = self._make(ctype)
        return found

    def _new(self, ctype, tag: str, attrs) -> Die:
        die = self._dies[ctype] = self.unit.add(Die(tag, attrs))
        return die

    def _make(self, ctype) -> Die:
        if isinstance(ctype, c.Base):
            size, _, encoding = c.ARITHMETIC[ctype.name]
            return self._new(ctype, "base_type", [
                ("name", "strp", ctype.name), ("byte_size", "data1", size),
                ("encoding", "data1", ATE[encoding])])  # fmt: skip
        if isinstance(ctype, c.Pointer):
            die = self._new(ctype, "pointer_type", [("byte_size", "data1", c.POINTER_SIZE)])
            if ctype.to != c.VOID:
                die.attrs.append(("type", "ref4", self.die(ctype.to)))
            return die
        if isinstance(ctype, c.Array):
            die = self._new(ctype, "array_type", [("type", "ref4", self.die(ctype.of))])
            index = self.die(c.Base("unsigned int"))
            die.add(Die("subrange_type", [("type", "ref4", index),
                                          ("upper_bound", "udata", ctype.count - 1)]))  # fmt: skip
            return die
        if isinstance(ctype, c.Function):
            die = self._new(ctype, "subroutine_type", [("prototyped", "flag_present", None)])
            if ctype.returns != c.VOID:
                die.attrs.append(("type", "ref4", self.die(ctype.returns)))
            for param in ctype.params:
                die.add(Die("formal_parameter", [("type", "ref4", self.die(param))]))
            return die
        if isinstance(ctype, c.Typedef):
            return self._typedef(ctype)
        return self._struct(ctype)

    def _typedef(self, ctype: c.Typedef) -> Die:
        die = self._new(ctype, "typedef", [("name", "strp", ctype.name)])
        if ctype.name in c.INTEGER_TYPEDEFS:
            target = self.die(c.parse(c.INTEGER_TYPEDEFS[ctype.name]))
        elif ctype in C_NAMES:
            target = self._struct_of(C_NAMES[ctype])
        else:
            raise c.CTypeError(f"unknown type name {ctype.name!r}")
        die.attrs.append(("type", "ref4", target))
        return die

    def _struct(self, ctype: c.Tagged) -> Die:
        view = C_NAMES.get(ctype) if ctype.kind == "struct" else None
        if view is not None:
            return self._struct_of(view)
        kind = "structure_type" if ctype.kind == "struct" else "union_type"
        return self._new(ctype, kind, [("name", "strp", ctype.tag),
                                       ("declaration", "flag_present", None)])  # fmt: skip

    def _struct_of(self, view) -> Die:
        """``struct TAG { ... }`` of a view (no name for ``typedef struct { ... } T``)."""
        found = self._dies.get(view)
        if found is not None:
            return found
        name = [("name", "strp", view.TAG)] if view.TAG else []
        die = self._new(view, "structure_type", [*name, ("byte_size", "udata", view.SIZE)])
        for f in view.FIELDS:
            die.add(Die("member", [
                ("name", "strp", f.name), ("type", "ref4", self.die(f.c_type)),
                ("data_member_location", "udata", f.offset)]))  # fmt: skip
        return die


def variable_die(types: TypeDies, name: str, ctype, addr: int) -> Die:
    """A global variable at ``addr``: ``p name`` reads it with its type."""
    return types.unit.add(Die("variable", [
        ("name", "strp", name), ("type", "ref4", types.die(ctype)),
        ("external", "flag_present", None), ("location", "exprloc", addr_expr(addr))]))  # fmt: skip

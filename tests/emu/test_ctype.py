"""C types of struct fields: the declarations read, their i386 sizes, and the
views refusing a declaration that does not match how the field is stored."""

import re

import pytest

from emu import ctype as c
from emu.structs import define_struct

inner = define_struct("inner", [("sp0", "u32", "unsigned long")], tag="inner_tag")
counter_t = define_struct("counter_t", [("counter", "s32", "int")], tag="")


@pytest.mark.parametrize(
    ("text", "spelled", "size"),
    [
        ("unsigned long", "unsigned long", 4),
        ("long  int", "long", 4),
        ("char [16]", "char [16]", 16),
        ("struct task_struct *", "struct task_struct *", 4),
        ("struct list_head **", "struct list_head **", 4),
        ("int (*)(void *)", "int (*)(void *)", 4),
        ("void (*)(void)", "void (*)(void)", 4),
        ("unsigned long [2][3]", "unsigned long [2][3]", 24),
        ("pid_t", "pid_t", 4),
        ("u64", "u64", 8),
        ("const char *", "char *", 4),
    ],
)
def test_declarations_read_as_c_spells_them(text, spelled, size):
    parsed = c.parse(text)
    assert c.spell(parsed) == spelled
    assert c.size_of(parsed, {}) == size


def test_a_struct_has_the_size_its_view_gives():
    assert c.size_of(c.parse("struct inner_tag [3]"), {c.Tagged("struct", "inner_tag"): 4}) == 12
    with pytest.raises(KeyError):
        c.size_of(c.parse("struct unknown"), {})


@pytest.mark.parametrize("text", ["", "struct", "int int int", "char [x]", "3"])
def test_what_the_grammar_does_not_read_is_refused(text):
    with pytest.raises(c.CTypeError):
        c.parse(text)


def test_fields_default_their_c_type_from_their_kind():
    view = define_struct(
        "defaults",
        [("a", "u8"), ("b", "s32"), ("p", "ptr"), ("name", "char", 8), ("blob", "bytes", 3),
         ("nested", inner), ("flags", "u32", "unsigned long"),
         ("parent", "ptr", "struct defaults *"), ("mask", "bits", 4, "unsigned long [1]")],
    )  # fmt: skip
    spelled = {f.name: c.spell(f.c_type) for f in view.FIELDS}
    assert spelled == {
        "a": "unsigned char", "b": "int", "p": "void *", "name": "char [8]",
        "blob": "unsigned char [3]", "nested": "inner", "flags": "unsigned long",
        "parent": "struct defaults *", "mask": "unsigned long [1]",
    }  # fmt: skip
    assert (inner.TAG, inner.C_TYPE, view.C_TYPE) == (
        "inner_tag",
        c.Typedef("inner"),
        c.Tagged("struct", "defaults"),
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (("flags", "u32", "unsigned char"), "a u32 field cannot be 'unsigned char'"),
        (("pid", "u32", "int"), "a u32 field cannot be 'int'"),
        (("pid", "s32", "unsigned int"), "a s32 field cannot be 'unsigned int'"),
        (("comm", "char", 16, "char [15]"), "a char field cannot be 'char [15]'"),
        (("t", "u32", "struct thread"), "struct thread is no struct view's type"),
        (("t", "u8", "counter_t"), "a u8 field cannot be 'counter_t'"),
        (("x", "u32", "unsigned lung"), "not a C type this tool reads"),
    ],
)
def test_a_declared_type_that_does_not_match_the_storage_is_refused(spec, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        define_struct("bad", [spec])


def test_a_nested_views_type_is_its_own():
    with pytest.raises(ValueError, match="a nested struct's C type is its view's"):
        define_struct("bad", [("n", inner, "struct other")])


def test_a_scalar_may_be_declared_as_a_view_of_its_size():
    """atomic_t usage: stored and read as an int, described to C as the struct."""
    view = define_struct("wrapped", [("usage", "s32", "counter_t"), ("n", "u32", "inner")])
    assert [c.spell(f.c_type) for f in view.FIELDS] == ["counter_t", "inner"]
    assert (counter_t.TAG, counter_t.C_TYPE) == ("", c.Typedef("counter_t"))

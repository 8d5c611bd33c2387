"""The ELF's DWARF, read back with pyelftools (a well-kept DWARF reader):
every struct the kernel model keeps in memory, at the views' offsets and
asm_offsets', with the declared C types; every kernel variable typed and at
its address; data symbols with their variables' sizes."""

import io

import pytest
from elftools.elf.elffile import ELFFile

from emu import ctype as c
from emu.debuginfo import TypeDies
from emu.dwarf import OP_ADDR, DebugInfo, Die
from emu.structs import define_struct
from gdbstub.elf import debug_section, write_elf
from kernel_model.asm_offsets import asm_defines
from kthreadd_emu.for_gdb.kernel_elf import kernel_elf, kernel_variables, kernel_views
from kthreadd_emu.scenario import booted_kernel


def type_name(die) -> str:
    """The C spelling of a type DIE, as emu/ctype.py spells it."""
    tag = die.tag
    if tag == "DW_TAG_pointer_type":
        if "DW_AT_type" not in die.attributes:
            return "void *"
        target = die.get_DIE_from_attribute("DW_AT_type")
        if target.tag == "DW_TAG_subroutine_type":
            params = [
                type_name(p.get_DIE_from_attribute("DW_AT_type")) for p in target.iter_children()
            ]
            ret = (
                target.get_DIE_from_attribute("DW_AT_type")
                if "DW_AT_type" in target.attributes
                else None
            )
            return f"{type_name(ret) if ret else 'void'} (*)({', '.join(params) or 'void'})"
        inner = type_name(target)
        return inner + ("*" if inner.endswith("*") else " *")
    if tag == "DW_TAG_array_type":
        dims = "".join(
            f"[{s.attributes['DW_AT_upper_bound'].value + 1}]" for s in die.iter_children()
        )
        return f"{type_name(die.get_DIE_from_attribute('DW_AT_type'))} {dims}"
    if "DW_AT_name" not in die.attributes:
        return "struct {...}"  # typedef struct { ... } name
    name = die.attributes["DW_AT_name"].value.decode()
    return f"struct {name}" if tag == "DW_TAG_structure_type" else name


@pytest.fixture(scope="module")
def kern():
    return booted_kernel(2)


@pytest.fixture(scope="module")
def elf(kern):
    return ELFFile(io.BytesIO(kernel_elf(kern)))


@pytest.fixture(scope="module")
def dwarf(elf):
    """struct tag (or an anonymous struct's typedef) -> (size, [(member, offset, C
    type)]); variable name -> (address, die); typedef name -> what it names."""
    structs, variables, typedefs = {}, {}, {}
    for cu in elf.get_dwarf_info().iter_CUs():
        for die in cu.iter_DIEs():
            if die.tag == "DW_TAG_typedef":
                target = die.get_DIE_from_attribute("DW_AT_type")
                typedefs[die.attributes["DW_AT_name"].value.decode()] = type_name(target)
                if target.tag == "DW_TAG_structure_type" and "DW_AT_name" not in target.attributes:
                    structs[die.attributes["DW_AT_name"].value.decode()] = layout(target)
            elif die.tag == "DW_TAG_structure_type" and "DW_AT_name" in die.attributes:
                if "DW_AT_byte_size" in die.attributes:
                    structs[die.attributes["DW_AT_name"].value.decode()] = layout(die)
            elif die.tag == "DW_TAG_variable":
                expr = die.attributes["DW_AT_location"].value
                assert expr[0] == OP_ADDR and len(expr) == 5
                addr = int.from_bytes(bytes(expr[1:]), "little")
                variables[die.attributes["DW_AT_name"].value.decode()] = (addr, die)
    return structs, variables, typedefs


def layout(die) -> tuple[int, list]:
    members = [
        (m.attributes["DW_AT_name"].value.decode(),
         m.attributes["DW_AT_data_member_location"].value,
         type_name(m.get_DIE_from_attribute("DW_AT_type")))
        for m in die.iter_children()
    ]  # fmt: skip
    return die.attributes["DW_AT_byte_size"].value, members


def test_every_view_is_a_struct_at_the_views_offsets_with_its_c_types(dwarf):
    structs, _, typedefs = dwarf
    views = kernel_views()
    tags = {v.TAG for v in views}
    assert {"pt_regs", "thread_info", "task_struct", "list_head", "completion",
            "kthread_create_info", "kthread", "thread_struct", "migration_req"} <= tags  # fmt: skip
    assert typedefs["wait_queue_t"] == "struct __wait_queue"
    assert typedefs["atomic_t"] == typedefs["spinlock_t"] == "struct {...}"
    for view in views:
        size, members = structs[view.TAG or view.__name__]
        assert size == view.SIZE, view
        assert members == [(f.name, f.offset, c.spell(f.c_type)) for f in view.FIELDS], view


def test_struct_sizes_and_asm_offsets_agree_with_the_dwarf(dwarf):
    structs, _, _ = dwarf
    assert structs["pt_regs"][0] == 68 and structs["thread_info"][0] == 0x48
    offsets = {s: {m: off for m, off, _ in members} for s, (_, members) in structs.items()}
    defines = asm_defines()
    pt = {name: off for name, off in defines.items() if name.startswith("PT_")}
    assert sorted(pt.values()) == sorted(offsets["pt_regs"].values())
    assert defines["PT_EBX"] == offsets["pt_regs"]["bx"] == 0
    assert defines["PT_OLDSS"] == offsets["pt_regs"]["ss"] == 0x40
    for name, off in offsets["thread_info"].items():
        assert defines[f"TI_{name}"] == off
    task = offsets["task_struct"]
    for name in ("state", "stack", "pid", "comm", "tasks", "real_parent"):
        assert defines[f"TASK_{name}"] == task[name]
    assert defines["TASK_thread_sp"] == task["thread"] + offsets["thread_struct"]["sp"]


def test_every_kernel_variable_is_typed_at_its_address(kern, dwarf, elf):
    _, variables, _ = dwarf
    symbols = {s.name: s for s in elf.get_section_by_name(".symtab").iter_symbols()}
    expected = kernel_variables(kern)
    assert {"init_task", "kthreadd_task", "kthread_create_list", "jiffies",
            "per_cpu__current_task"} <= {name for name, *_ in expected}  # fmt: skip
    for name, ctype, addr, size in expected:
        found, die = variables[name]
        assert found == addr == kern.symbols[name], name
        assert type_name(die.get_DIE_from_attribute("DW_AT_type")) == c.spell(ctype), name
        assert symbols[name]["st_size"] == size, name
        assert symbols[name]["st_info"]["type"] == "STT_OBJECT", name


def test_the_elfs_helpers_are_in_debug_gdb_scripts(elf):
    data = elf.get_section_by_name(".debug_gdb_scripts").data()
    assert data[0] == 4 and data.endswith(b"\0")  # SECTION_SCRIPT_ID_PYTHON_TEXT
    name, _, script = data[1:-1].partition(b"\n")
    assert name == b"lx_helpers.py" and b'super().__init__("lx-ps"' in script
    assert not elf.get_section_by_name(".debug_info")["sh_flags"]  # not loaded


# The writer on its own, with a struct the kernel does not have: recursion
# through a pointer, a typedef, a function pointer, a declaration-only struct.
node = define_struct("node_t", [("next", "ptr", "struct node *"), ("v", "s32", "long")], "node")
count_t = define_struct("count_t", [("counter", "s32", "int")], tag="")
holder = define_struct(
    "holder",
    [("n", node), ("fn", "ptr", "int (*)(struct holder *, void *)"),
     ("mm", "ptr", "struct mm_struct *"), ("ids", "u16", "u16"), ("name", "char", 6),
     ("usage", "s32", "count_t")],
)  # fmt: skip


def test_the_writer_alone_round_trips_through_pyelftools():
    unit = Die("compile_unit", [("name", "strp", "t"), ("language", "data2", 1)])
    types = TypeDies(unit)
    types.view_die(holder)
    sections = DebugInfo()
    sections.add_unit(unit)
    debug = [debug_section(name, data) for name, data in sections.sections().items()]
    info = ELFFile(io.BytesIO(write_elf(debug, []))).get_dwarf_info()
    found = {}
    for die in next(info.iter_CUs()).iter_DIEs():
        if die.tag == "DW_TAG_structure_type":
            named = "DW_AT_name" in die.attributes
            name = die.attributes["DW_AT_name"].value.decode() if named else ""
            found[name] = [
                (m.attributes["DW_AT_name"].value.decode(),
                 type_name(m.get_DIE_from_attribute("DW_AT_type")))
                for m in die.iter_children()
            ] if "DW_AT_declaration" not in die.attributes else "declared"  # fmt: skip
        if die.tag == "DW_TAG_typedef":
            target = die.get_DIE_from_attribute("DW_AT_type")
            found[die.attributes["DW_AT_name"].value.decode()] = type_name(target)
    assert found == {
        "holder": [("n", "node_t"), ("fn", "int (*)(struct holder *, void *)"),
                   ("mm", "struct mm_struct *"), ("ids", "u16"), ("name", "char [6]"),
                   ("usage", "count_t")],
        "count_t": "struct {...}", "": [("counter", "int")],
        "node_t": "struct node", "node": [("next", "struct node *"), ("v", "long")],
        "mm_struct": "declared", "u16": "unsigned short",
    }  # fmt: skip


def test_each_assembled_file_has_its_line_table(kern, elf):
    info = elf.get_dwarf_info()
    units = {cu.get_top_DIE().attributes["DW_AT_name"].value.decode(): cu for cu in info.iter_CUs()}
    images = kern.machine.images()
    assert any(image.filename.endswith("asm/entry_32.S") for image in images)
    for image in images:
        program = info.line_program_for_CU(units[image.filename])
        rows = [(e.state.address, e.state.line) for e in program.get_entries()
                if e.state is not None and not e.state.end_sequence]  # fmt: skip
        expected = [(r.addr, r.line) for r in image.line_rows if not r.end_sequence]
        assert rows == expected and rows, image.filename
        line = kern.machine.source_line(kern.symbols["ret_from_fork"])
        if image.filename == line[0]:
            assert (kern.symbols["ret_from_fork"], line[1]) in rows


def cfi_rows(elf) -> dict[int, list]:
    """FDE start -> its decoded rows (pc, CFA (register, offset), {register: rule})."""
    out = {}
    for entry in elf.get_dwarf_info().CFI_entries():
        if type(entry).__name__ != "FDE":
            continue
        decoded = entry.get_decoded().table
        out[entry["initial_location"]] = [
            (row["pc"], (row["cfa"].reg, row["cfa"].offset),
             {reg: (rule.type, rule.arg) for reg, rule in row.items() if isinstance(reg, int)})
            for row in decoded
        ]  # fmt: skip
    return out


EBP, EIP, ESP = 5, 8, 4
RECORD_RULES = {3: ("OFFSET", -20), 6: ("OFFSET", -16), 7: ("OFFSET", -12), EBP: ("OFFSET", -8),
                EIP: ("OFFSET", -4)}  # fmt: skip


def test_the_thunks_frames_follow_the_runtimes_records(kern, elf):
    rows = cfi_rows(elf)
    for addr in kern.machine.python_functions:
        entry, record = rows[addr]
        assert entry == (addr, (ESP, 4), {EIP: ("OFFSET", -4)})  # a function entered
        assert record == (addr + 1, (EBP, 8), RECORD_RULES)  # a record returns to addr + 2
    py_ret = kern.machine.map.py_ret
    follow, outermost = rows[py_ret - 1]
    assert follow == (py_ret - 1, (EBP, 8), RECORD_RULES)
    assert outermost[0] == py_ret + 1 and outermost[2][EIP] == ("UNDEFINED", None)


def test_the_entry_codes_frames_are_the_assemblers(kern, elf):
    rows = cfi_rows(elf)
    entry = next(i for i in kern.machine.images() if i.filename.endswith("entry_32.S"))
    assert len(entry.frames) >= 8
    for frame in entry.frames:
        assert [pc for pc, _, _ in rows[frame.start]] == [r.addr for r in frame.rows]
    # switch_to where a sleeping task resumes (1:): flags, ebp and the return address.
    resume = kern.symbols["switch_to"] + 42
    at = [r for r in rows[kern.symbols["switch_to"]] if r[0] <= resume][-1]
    assert at[1] == (ESP, 12) and at[2][EBP] == ("OFFSET", -12)
    helper = rows[kern.symbols["kernel_thread_helper"]]
    assert all(r[2][EIP] == ("UNDEFINED", None) for r in helper)  # the walk ends there

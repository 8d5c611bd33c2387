"""The machine's line table (what `list` and line stepping read): every loaded
image's file and the source line of each address, the kernel's own
entry_32.S included; an image loaded again replaces its lines, and a
snapshot restore takes back the lines of images loaded after it."""

import re
from pathlib import Path

from asm.assembler import assemble, assemble_file
from kernel_model.asm_offsets import asm_defines
from kernel_model.kernel import Kernel

ENTRY = Path(__file__).resolve().parents[2] / "asm" / "entry_32.S"


def test_each_label_of_entry_32_maps_to_its_first_statement():
    kern = Kernel(1)
    text = ENTRY.read_text().splitlines()
    labels = {
        m.group(1): i + 1
        for i, line in enumerate(text)
        if (m := re.match(r"([A-Za-z_]\w*):", line))
    }
    assert {"ret_from_fork", "kernel_thread_helper", "switch_to"} <= set(labels)
    for name, label_line in labels.items():
        file, lineno, stmt = kern.machine.source_line(kern.symbols[name])
        assert file == str(ENTRY)
        # The label's own line, or the first line after it that has code.
        assert lineno >= label_line and text[lineno - 1].strip().endswith(stmt.strip())
        between = [t.strip() for t in text[label_line : lineno - 1]]
        # blank, comment, directive, bare label, a CFI macro (call frames, no code)
        no_code = re.compile(r"$|/?\*|\.|#|\w+:$|CFI_|RING0_PTREGS_FRAME")
        assert all(no_code.match(t) for t in between), name


def test_every_byte_of_an_instruction_has_its_line():
    kern = Kernel(1)
    image = assemble_file(ENTRY, kern.machine.map.text, asm_defines(kern.machine.map))
    for line in (line for line in image.lines if line.size):
        for addr in (line.addr, line.addr + line.size - 1):
            assert kern.machine.source_line(addr) == (str(ENTRY), line.lineno, line.text)
    assert kern.machine.source_line(kern.text_end + 64) is None
    assert kern.machine.source_line(0) is None


def test_reload_and_restore():
    kern = Kernel(1)
    snap = kern.snapshot()
    origin = kern.text_end
    first = assemble("\tnop\n\tnop\n", origin, "first.S")
    kern.load_image(first)
    assert kern.machine.source_line(origin + 1) == ("first.S", 2, "nop")
    kern.restore(snap)
    assert kern.machine.source_line(origin) is None
    kern.load_image(first)
    second = assemble("\n\n\tmovl $1, %eax\n", origin, "second.S")
    kern.text_end = origin  # loaded again over the first
    kern.load_image(second)
    assert kern.machine.source_line(origin + 1) == ("second.S", 3, "movl $1, %eax")
    assert kern.machine.source_line(origin + 5) is None  # past the second image's code

"""A picture of a task's 8 KiB kernel stack, as text or SVG.

From the top (high addresses) down, as copy_thread lays it out:

    T+0x2000  the 8 reserved bytes
    T+0x1ff8  thread.sp0 (end of pt_regs)
    T+0x1fb4  pt_regs (each field, its value and what it means)
              the frames: saved registers, locals, return addresses (named)
              <- esp
              free
    T+0x40    STACK_END_MAGIC (just past thread_info)
    T+0x0000  thread_info

The memory is read through ``read(addr) -> int | None`` (None: not known),
so the same layout serves the live stack, the stack as copy_thread left it
(the pt_regs kept at fork) and a walk's snapshots of the top of the stack.
"""

from dataclasses import dataclass, field

from emu.segment import __KERNEL_CS, __KERNEL_DS, __KERNEL_PERCPU, __KERNEL_STACK_CANARY, __USER_DS
from kernel_model.consts import STACK_END_MAGIC, THREAD_SIZE
from kernel_model.headers import thread_info
from kernel_model.ptrace import PT_REGS_FIELDS, pt_regs
from kernel_model.runtime import CALLEE_SAVED, OUTERMOST, RECORD, RECORD_FP, RETURN_MARK
from kernel_model.sched import task_cpu
from kthreadd_emu.errors import UsageError
from kthreadd_emu.output_file import write_output
from kthreadd_emu.scenario import fork_frame

RESERVED = 8
SELECTORS = {
    __KERNEL_CS: "__KERNEL_CS",
    __KERNEL_DS: "__KERNEL_DS",
    __USER_DS: "__USER_DS",
    __KERNEL_PERCPU: "__KERNEL_PERCPU: %fs reaches this CPU's per-CPU area",
    __KERNEL_STACK_CANARY: "__KERNEL_STACK_CANARY: %gs:20 is the canary",
}
EFLAGS = ((0x1, "CF"), (0x4, "PF"), (0x40, "ZF"), (0x80, "SF"), (0x200, "IF"))
TI_SHOWN = ("task", "flags", "cpu", "preempt_count", "addr_limit")


@dataclass
class Row:
    """One word (or area) of the stack."""

    addr: int
    size: int
    kind: str  # reserved, pt_regs, frame, free, magic, thread_info
    name: str
    value: int | None = None
    meaning: str = ""
    live: bool = True  # False: below esp (popped or never pushed)
    frame: int = 0  # frames counted from esp upwards


@dataclass
class StackPicture:
    title: str
    base: int
    rows: list = field(default_factory=list)  # high addresses first
    marks: dict = field(default_factory=dict)  # thread.sp0, thread.sp, esp -> address

    def offset(self, addr: int) -> str:
        return f"T+{addr - self.base:#06x}"


def word_meaning(symbols, value: int | None) -> str:
    """What a stack word points at, when it points into the kernel's text."""
    if value is None:
        return ""
    sym = symbols.lookup(value)
    if sym is not None and sym.kind in ("asm", "python") and value != sym.addr + sym.size:
        return f"return address: {symbols.describe(value)}"
    return ""


def pt_regs_meaning(name: str, value: int | None, symbols) -> str:
    if value is None:
        return "not known"
    if name in ("ds", "es", "fs", "gs", "cs", "ss") and value in SELECTORS:
        text = SELECTORS[value]
        return text + (": never popped (iret to ring 0)" if name == "ss" else "")
    text = {
        "bx": f"fn: kernel_thread_helper calls {symbols.label(value)}",
        "dx": f"arg: kernel_thread_helper passes {value:#x} to fn",
        "ax": "0: the child's return value from fork",
        "orig_ax": "-1: not in a system call",
        "ip": f"{symbols.label(value)}: where iret goes",
        "sp": "never popped: iret to ring 0 pops no esp",
        "ss": "never popped: iret to ring 0 pops no ss",
    }.get(name)
    if name == "bx" and symbols.lookup(value) is None:
        text = None
    if name == "orig_ax" and value != 0xFFFFFFFF:
        text = "the system call number"
    if name == "flags":
        bits = [n for bit, n in EFLAGS if value & bit]
        text = "eflags: " + "|".join(bits + ["bit 1"] * bool(value & 2))
    return text or f"saved e{name}"


def layout(title, base, read, symbols, marks, fork_regs=None, notes=None, ti=None):
    """The rows of the stack at ``base``: ``read(addr)`` gives a word or None;
    ``fork_regs`` (the pt_regs at fork) tells which pt_regs words were overwritten
    since; ``notes`` labels words by address; ``ti`` lists thread_info fields."""
    pic = StackPicture(title, base, marks=dict(marks))
    top = base + THREAD_SIZE
    esp = marks.get("esp", top)
    regs_at = top - RESERVED - pt_regs.SIZE
    notes = notes or {}
    frame = 0
    rows = []
    live_words = range(min(esp, regs_at) & ~3, top - RESERVED, 4)
    for addr in live_words:
        value = read(addr)
        if addr >= regs_at:
            name = PT_REGS_FIELDS[(addr - regs_at) // 4]
            row = Row(addr, 4, "pt_regs", f"pt_regs.{name}", value, live=addr >= esp)
            forked = None if fork_regs is None else fork_regs[name]
            if not row.live:
                row.meaning = "stale: below esp"
            elif addr in notes or (forked is not None and value is not None and value != forked):
                row.meaning = "pushed since fork: " + (
                    notes.get(addr) or word_meaning(symbols, value) or f"{value:#x}"
                )
            else:
                row.meaning = pt_regs_meaning(name, value, symbols)
        else:
            row = Row(addr, 4, "frame", "", value)
            row.meaning = notes.get(addr) or word_meaning(symbols, value)
        row.frame = frame
        if row.live and row.meaning.startswith(("return address", "pushed since fork: return")):
            frame += 1
        rows.append(row)
    magic_at = base + thread_info.SIZE
    free_end = min(esp, regs_at) & ~3
    rows.append(Row(magic_at + 4, free_end - magic_at - 4, "free", "free", live=False))
    magic = read(magic_at)
    intact = "intact" if magic == STACK_END_MAGIC else "OVERWRITTEN: the stack overran"
    rows.append(Row(magic_at, 4, "magic", "STACK_END_MAGIC", magic, intact if magic else ""))
    for name, value in ti or []:
        off = thread_info.OFFSETS[name]
        rows.append(Row(base + off, 4, "thread_info", f"thread_info.{name}", value))
    rows.append(Row(top - RESERVED, RESERVED, "reserved", "8 reserved bytes"))
    rows[-1].meaning = "keeps pt_regs' sp and ss addressable"
    pic.rows = sorted(rows, key=lambda r: r.addr, reverse=True)
    return pic


# -- from a kernel --------------------------------------------------------------


def task_stack_picture(kern, task, at_fork: bool = False) -> StackPicture:
    """``task``'s stack now, or as copy_thread left it (the pt_regs kept at fork)."""
    base = task.stack
    comm = task.comm.decode(errors="replace")
    regs_at = base + THREAD_SIZE - RESERVED - pt_regs.SIZE
    ti_view = thread_info(kern.mem, base)
    if at_fork:
        frame = fork_frame(kern, task.pid) or {}
        by_addr = {regs_at + pt_regs.OFFSETS[n]: v for n, v in frame.items()}
        marks = {"thread.sp0": regs_at + pt_regs.SIZE, "thread.sp": regs_at, "esp": regs_at}
        title = f"pid {task.pid} {comm}: the stack as copy_thread left it"

        def read(addr):
            if addr == base + thread_info.SIZE:
                return kern.mem.u32(addr)
            return by_addr.get(addr)

        return layout(
            title, base, read, kern.symbols, marks, ti=[("task", ti_view.task)]
        )  # the rest of thread_info has changed since
    esp, where = _current_esp(kern, task)
    marks = {"thread.sp0": task.thread.sp0, "thread.sp": task.thread.sp, "esp": esp}
    title = f"pid {task.pid} {comm}: the stack now ({where})"
    return layout(
        title,
        base,
        kern.mem.u32,
        kern.symbols,
        marks,
        fork_regs=fork_frame(kern, task.pid),
        notes=python_frame_notes(kern, task),
        ti=[(name, getattr(ti_view, name)) for name in TI_SHOWN],
    )


def _current_esp(kern, task) -> tuple[int, str]:
    cpu = task_cpu(kern, task)
    if kern.current(cpu).addr == task.addr and kern.runtime.mode[cpu].kind == "guest":
        return kern.machine.cpus[cpu].read("esp"), f"running on CPU {cpu}"
    return task.thread.sp, "switched out: esp is thread.sp"


def python_frame_notes(kern, task) -> dict[int, str]:
    """What switch_to and each Python kernel frame keep on the stack."""
    notes = {}
    if task.thread.ip != kern.symbols["ret_from_fork"]:
        # switch_to pushed eflags then ebp before saving esp in thread.sp.
        notes[task.thread.sp] = "saved ebp (switch_to)"
        notes[task.thread.sp + 4] = "saved eflags (switch_to)"
        notes.update(frame_record_notes(kern, task, kern.mem.u32(task.thread.sp)))
    for frame in kern.runtime.frames.get(task.addr, []):
        name = kern.machine.python_functions.get(frame.thunk, "the task's root code")
        if frame.sp is None or frame.noreturn or frame.entry_sp is None:
            continue
        for i, reg in enumerate(CALLEE_SAVED):
            notes[frame.sp + 4 * i] = f"saved {reg} (Python frame of {name})"
    return notes


def frame_record_notes(kern, task, fp: int) -> dict[int, str]:
    """The frame records the runtime laid for unwinders (kernel_model/runtime.py),
    from the innermost (``fp``, what ebp held) outwards, while they are marks."""
    notes, functions = {}, kern.machine.python_functions
    outermost = kern.machine.map.py_ret + OUTERMOST
    for _ in range(THREAD_SIZE // (4 * len(RECORD))):
        if not task.stack + 4 * RECORD_FP <= fp < task.stack + THREAD_SIZE - 4:
            break
        mark = kern.mem.u32(fp + 4)
        name = functions.get(mark - RETURN_MARK)
        if name is None and mark != outermost:
            break
        into = f"returns into {name}" if name else "outermost: the task's Python root"
        notes[fp + 4] = f"frame record: {into} (for unwinders)"
        notes[fp] = "frame record: the caller's record"
        for i, reg in enumerate(RECORD[:RECORD_FP]):
            notes[fp - 4 * (RECORD_FP - i)] = f"frame record: {reg} as saved"
        fp = kern.mem.u32(fp)
    return notes


# -- text -----------------------------------------------------------------------


def as_text(pic: StackPicture) -> list[str]:
    lines = [pic.title, f"kernel stack {pic.base:08x}-{pic.base + THREAD_SIZE:08x} (8 KiB)"]
    at = {}
    for name, addr in pic.marks.items():
        at.setdefault(addr, []).append(name)
    for row in pic.rows:
        for name in at.pop(row.addr + row.size, []):
            lines.append(f"{'':31}<- {name} = {row.addr + row.size:08x}")
        value = "" if row.value is None else f"{row.value:08x}"
        if row.kind == "free":
            lines.append(f"  {row.addr:08x} {pic.offset(row.addr)}  ... {row.size} bytes free ...")
            continue
        if row.kind == "reserved":
            value = "(8 bytes)"
        state = "" if row.live else " (below esp)"
        name = row.name or f"frame {row.frame}"
        meaning = f"  {row.meaning}" if row.meaning else ""
        lines.append(f"  {row.addr:08x} {pic.offset(row.addr)} {value:>9}  {name}{state}{meaning}")
    return lines


# -- SVG ------------------------------------------------------------------------

ROW_H, FREE_H, COL_W, MARGIN = 18, 54, 900, 12
BOX_X, BOX_W = MARGIN + 290, 110  # addresses and marks to the left, meanings to the right
FILL = {
    "reserved": "#e0e0e0",
    "pt_regs": "#cfe3ff",
    "free": "#ffffff",
    "magic": "#ffd6a5",
    "thread_info": "#d8f0c8",
}
FRAME_FILLS = ("#fff4c2", "#fde7ef")


def _row_height(row: Row) -> int:
    return FREE_H if row.kind == "free" else ROW_H


def draw_picture(pic: StackPicture, x: float = 0, y: float = 0):
    """One stack as an SVG group: a column of words, high addresses on top."""
    import drawsvg  # only when drawing: walk and stack --text need none of it

    g = drawsvg.Group(transform=f"translate({x},{y})", class_="stack", data_base=f"{pic.base:08x}")
    g.append(drawsvg.Text(pic.title, 13, MARGIN, 16, font_weight="bold"))
    top = 30
    edges = {}
    for row in pic.rows:
        h = _row_height(row)
        fill = FRAME_FILLS[row.frame % 2] if row.kind == "frame" else FILL[row.kind]
        item = drawsvg.Group(
            class_=f"row {row.kind}",
            data_addr=f"{row.addr:08x}",
            data_field=row.name,
            data_value="" if row.value is None else f"{row.value:08x}",
        )
        box = drawsvg.Rectangle(BOX_X, top, BOX_W, h, fill=fill, stroke="#555")
        item.append(box)
        if not row.live and row.kind != "free":
            item.append(drawsvg.Rectangle(BOX_X, top, BOX_W, h, fill="#888", opacity=0.35))
        item.append(drawsvg.Text(f"{row.addr:08x} {pic.offset(row.addr)}", 11, MARGIN, top + 13))
        label = _box_label(row)
        item.append(
            drawsvg.Text(label, 11, BOX_X + BOX_W / 2, top + h / 2 + 4, text_anchor="middle")
        )
        item.append(drawsvg.Text(_side_text(row), 10, BOX_X + BOX_W + 8, top + h / 2 + 4))
        g.append(item)
        edges[row.addr + row.size] = top
        edges.setdefault(row.addr, top + h)
        top += h
    for i, (name, addr) in enumerate(sorted(pic.marks.items())):
        if addr in edges:
            _mark(g, name, addr, edges[addr], i)
    return g


def _box_label(row: Row) -> str:
    if row.kind == "free":
        return f"free: {row.size} bytes"
    if row.kind == "reserved":
        return "reserved"
    return "?" if row.value is None else f"{row.value:08x}"


def _side_text(row: Row) -> str:
    name = row.name or f"frame {row.frame}"
    if row.kind == "free":
        return ""
    below = " (below esp)" if not row.live else ""
    return f"{name}{below}  {row.meaning}".strip()


def _mark(g, name: str, addr: int, y: float, i: int) -> None:
    """An arrow from the left margin to the boundary ``addr`` sits on."""
    import drawsvg  # only when drawing: walk and stack --text need none of it

    x0 = BOX_X
    g.append(
        drawsvg.Line(
            x0 - 40, y, x0, y, stroke="#c00", stroke_width=2, class_="mark", data_mark=name
        )
    )
    g.append(
        drawsvg.Text(
            f"{name} = {addr:08x}",
            10,
            x0 - 44,
            y - 3 + 11 * (i % 2),
            fill="#c00",
            text_anchor="end",
            class_="mark-label",
        )
    )


def picture_height(pic: StackPicture) -> int:
    return 40 + sum(_row_height(r) for r in pic.rows)


def to_svg(pictures: list[StackPicture], captions: list[str] | None = None) -> str:
    """One or more stacks side by side."""
    import drawsvg  # only when drawing: walk and stack --text need none of it

    height = max(picture_height(p) for p in pictures) + (24 if captions else 0)
    d = drawsvg.Drawing(COL_W * len(pictures) + 2 * MARGIN, height, font_family="monospace")
    d.append(drawsvg.Rectangle(0, 0, "100%", "100%", fill="white"))
    for i, pic in enumerate(pictures):
        if captions:
            d.append(drawsvg.Text(captions[i], 14, MARGIN + COL_W * i, 18, font_weight="bold"))
        d.append(draw_picture(pic, COL_W * i, 24 if captions else 0))
    return d.as_svg()


# -- a walk's landmarks ----------------------------------------------------------

LANDMARKS = ("after copy_thread", "after RESTORE_REGS", "after iret", "in the thread function")


def walk_pictures(w) -> tuple[list[StackPicture], list[str]]:
    """The new thread's stack at each landmark of its entry path, from a walk's
    steps and the snapshots of the top of its stack taken with them."""
    t = w.task
    base, top = t["stack"], t["stack"] + THREAD_SIZE
    steps = w.steps
    iret = next((i for i, s in enumerate(steps) if s.insn.startswith("iret")), None)
    fn = next((i for i, s in enumerate(steps) if s.addr == w.fn), None)
    chosen = [0, iret, None if iret is None else iret + 1, fn]
    pictures, captions = [], []
    for landmark, i in zip(LANDMARKS, chosen, strict=True):
        if i is None or i >= len(steps):
            continue
        snap = w.stack_tops[i]
        start = top - len(snap)

        def read(addr, snap=snap, start=start):
            off = addr - start
            return int.from_bytes(snap[off : off + 4], "little") if 0 <= off < len(snap) else None

        esp = steps[i].regs["esp"]
        marks = {"thread.sp0": top - RESERVED, "thread.sp": t["thread_sp"], "esp": esp}
        title = f"pid {t['pid']} {t['comm']}: {landmark}"
        pictures.append(layout(title, base, read, w.symbols, marks, fork_regs=w.child_regs))
        captions.append(f"{landmark}: eip {steps[i].symbol}")
    return pictures, captions


def write_walk_svg(w, path) -> None:
    pictures, captions = walk_pictures(w)
    if not pictures:
        raise UsageError("--svg: the new thread never ran, there is no stack to draw")
    write_output(path, to_svg(pictures, captions))

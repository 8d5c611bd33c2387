"""What ``print`` and conditions see (the environment of debugger/expr.py's
CExpr) and how ``print`` writes a value, as gdb does: ``$1 = 42``,
``(struct task_struct *) 0xc0700000``, ``{state = 1, ...}``, ``"kthreadd"``."""

from dataclasses import dataclass

from debugger import expr as ex
from debugger.gdbfmt import c_string, char_text, scalar, symbolic
from debugger.tasks import find_task
from emu.memory import BadAddress
from emu.structs import StructView
from kernel_model import headers
from kernel_model.headers import task_struct, thread_info
from kernel_model.ptrace import pt_regs

STRUCTS = ex.STRUCTS
STRUCTS.update({
    cls.__name__: cls
    for cls in vars(headers).values()
    if isinstance(cls, type) and issubclass(cls, StructView) and cls is not StructView
})  # fmt: skip
STRUCTS["pt_regs"] = pt_regs
ex.POINTER_FIELDS.update({
    ("task_struct", "real_parent"): task_struct,
    ("task_struct", "parent"): task_struct,
    ("task_struct", "stack"): thread_info,
    ("thread_info", "task"): task_struct,
})  # fmt: skip
VOID = ex.CType("void", 1)
CODE = ex.CType("void (*)()", 1)
POINTER_REGISTERS = {"esp": VOID, "ebp": VOID, "eip": CODE}
MAX_STRING = 200


class Env:
    """The machine as an expression sees it: registers of the selected task,
    memory, symbols, the current Python frame's locals, ``$N`` history."""

    def __init__(self, kern, regs: dict, current, python_locals=None, history=()):
        self.kern, self.regs, self.current = kern, regs, current
        self.locals = python_locals or {}
        self.past = list(history)

    def register(self, name: str):
        if name not in self.regs:
            raise ex.EvalError(f"Invalid register `{name}'" if name else "History is empty.")
        value = self.regs[name]
        target = POINTER_REGISTERS.get(name)
        if target is not None:
            return ex.Pointer(target, value)
        # gdb's int registers (int32_t); eflags and the selectors are small anyway.
        return ex.CInt(value, ex.INT)

    def history(self, n: int):
        if not 1 <= n <= len(self.past):
            raise ex.EvalError(f"History has not yet reached ${n}.")
        value = self.past[n - 1]
        return self.view(STRUCTS[value.name], value.addr) if isinstance(value, StructAt) else value

    def history_back(self, back: int):
        """``$`` (back 0: the last value), ``$$`` (1), ``$$N``."""
        if not self.past:
            raise ex.EvalError("History is empty.")
        return self.history(len(self.past) - back)

    def name(self, name: str):
        if name in self.locals:
            return _local(name, self.locals[name])
        if name == "current":
            if self.current is None:
                raise ex.EvalError("current: no task is selected")
            return _task_pointer(self.current.addr)
        sym = self.kern.symbols.get(name)
        if sym is not None:
            return sym
        defines = self.kern.asm_symbols()
        if name in defines:
            return defines[name]
        raise ex.EvalError(f'No symbol "{name}" in current context.')

    def call(self, func: str, args: list[int]):
        if func == "task":
            if len(args) != 1:
                raise ex.EvalError("task(PID) takes one pid")
            return _task_pointer(find_task(self.kern, args[0]).addr)
        if len(args) != 2:
            raise ex.EvalError("per_cpu(VAR, CPU) takes two arguments")
        m = self.kern.machine
        addr, cpu = args
        if not 0 <= cpu < len(m.cpus):
            raise ex.EvalError(f"per_cpu: there is no CPU {cpu}")
        return addr - m.map.percpu + m.map.percpu_copy(cpu)

    def load(self, addr: int, ctype) -> "ex.CInt":
        try:
            data = self.kern.mem.read(addr & ex.MASK, ctype.size)
        except BadAddress:
            raise ex.EvalError(f"Cannot access memory at address {addr & ex.MASK:#x}") from None
        return ex.CInt(int.from_bytes(data, "little"), ctype)

    def string(self, addr: int) -> bytes:
        mem = self.kern.mem
        if not mem.contains(addr & ex.MASK):
            raise ex.EvalError(f"Cannot access memory at address {addr & ex.MASK:#x}")
        return mem.read(addr, min(MAX_STRING, mem.map.end - addr)).split(b"\0", 1)[0]

    def view(self, cls, addr: int):
        try:
            return cls(self.kern.mem, addr & ex.MASK)
        except BadAddress:
            raise ex.EvalError(f"Cannot access memory at address {addr & ex.MASK:#x}") from None

    def cast(self, type_text: str, value):
        try:
            target = ex.c_type(type_text.rstrip(" *"), STRUCTS)
        except ex.ExprError as err:
            raise ex.EvalError(str(err)) from None
        if type_text.endswith("*"):
            return ex.Pointer(target, ex.as_int(value) & ex.MASK)
        if target.struct is not None:
            raise ex.EvalError(f"Invalid cast to ({type_text}): cast a pointer instead")
        return ex.CInt(ex.as_int(value), target)


@dataclass(frozen=True)
class StructAt:
    """A struct in value history: its type and address (a view is a window on
    RAM, which a checkpoint taking over the session cannot be handed)."""

    name: str
    addr: int


def historic(value):
    """``value`` as value history keeps it."""
    return StructAt(type(value).__name__, value.addr) if isinstance(value, StructView) else value


def _task_pointer(addr: int):
    return ex.Pointer(ex.CType("struct task_struct", task_struct.SIZE, struct=task_struct), addr)


def _local(name: str, value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | bytes | StructView):
        return value
    if isinstance(value, str):
        return value.encode()
    raise ex.EvalError(f"{name} is a Python {type(value).__name__}, not a value the debugger shows")


def format_value(value, fmt: str | None, symbols) -> str:
    """gdb's text of a value (``fmt``: a print/FMT letter, or None)."""
    if isinstance(value, bytes):
        return c_string(value)
    if isinstance(value, ex.Pointer):
        if fmt:
            return scalar(value.addr, fmt, 4, symbols)
        if value.target is CODE:
            return f"({CODE.name}) {value.addr:#x}{symbolic(symbols, value.addr)}"
        return f"({value.target.name} *) {value.addr:#x}"
    if isinstance(value, StructView):
        return _struct_text(value, fmt, symbols)
    value = ex.typed(value)
    if fmt:
        return scalar(value, fmt, value.ctype.size, symbols)
    if value.ctype.name.endswith("char"):
        return char_text(value)
    return str(int(value))


def _struct_text(view, fmt, symbols) -> str:
    parts = []
    for f in view.FIELDS:
        value = getattr(view, f.name)
        if f.ctype == "ptr" and not fmt:
            text = f"{value:#x}"
        elif f.ctype == "bytes":
            text = c_string(value) if len(value) <= 32 else f"<{len(value)} bytes>"
        else:
            text = format_value(value, fmt, symbols)
        parts.append(f"{f.name} = {text}")
    return "{" + ", ".join(parts) + "}"

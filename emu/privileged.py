"""Privileged instructions this machine does not model, found before they run.

The machine has no paging, no interrupt controller, no MSRs and one GDT per
CPU that the kernel model owns, so an instruction that would change those
(a write to CR0/CR3/CR4, ``lgdt``, ``lidt``, ``ltr``, ``lldt``, ``lmsw``,
``clts``, ``wrmsr``/``rdmsr``, ``sysenter``/``sysexit``, a write to a debug
register) cannot be executed faithfully; some of them (setting CR0.PG with no
page tables) would even crash the emulator.  Each loaded image is scanned
with the disassembler and a code hook is put on every such instruction: it
stops the CPU *before* the instruction runs with a general protection fault
(what the CPU raises for an unknown MSR, and this machine's documented
deviation for the rest), so the kernel oopses and the machine goes on.

``hlt`` is hooked the same way: the CPU stops and the kernel model decides
(with interrupts enabled an interrupt would wake it, so the CPU just lets the
others run; with interrupts disabled it never wakes: the NMI watchdog's
lockup).  Guest stores into code are watched, so code that writes one of
these instructions is scanned again.
"""

from unicorn import UC_HOOK_CODE, UC_HOOK_MEM_WRITE

from emu.disasm import disassemble
from emu.events import Fault, Halt

# Mnemonic (AT&T, without size suffix where Capstone adds one) -> why it is refused.
REFUSED = {
    "lgdt": "loads a GDT (the kernel model owns each CPU's GDT)",
    "lidt": "loads an IDT (there are no interrupt handlers)",
    "ltr": "loads a task register (there is no TSS descriptor)",
    "lldt": "loads an LDT",
    "lmsw": "writes CR0",
    "clts": "writes CR0",
    "wrmsr": "writes an MSR (no MSRs are modelled)",
    "rdmsr": "reads an MSR (no MSRs are modelled)",
    "sysenter": "enters through the SYSENTER MSRs (not modelled)",
    "sysexit": "leaves through the SYSENTER MSRs (not modelled)",
}
_CONTROL_WRITE = ("%cr", "%dr")
# Stores whose next instruction is not simply the following one (a call's push,
# a repeated string store): restarting after them would change what they do.
_NOT_SEQUENTIAL = ("call", "rep", "int", "enter")
# Where a translation block ends: what follows a control transfer is translated apart.
_ENDS_BLOCK = ("j", "call", "ret", "iret", "int", "hlt", "loop", "sysenter", "lcall", "ljmp")


def refusal(mnemonic: str, operands: str) -> str | None:
    """Why this machine will not run the instruction, or None if it may."""
    base = mnemonic.rstrip("lwq") if mnemonic not in REFUSED else mnemonic
    if base in REFUSED:
        return REFUSED[base]
    if mnemonic.startswith("mov") and operands.rpartition(",")[2].strip().startswith(
        _CONTROL_WRITE
    ):
        register = operands.rpartition(",")[2].strip()
        return f"writes {register} (no paging, no control or debug registers are modelled)"
    return None


class PrivilegedCode:
    """The hooked instructions of the loaded code, kept in step with it."""

    def __init__(self, machine):
        self.machine = machine
        self.sites: dict[int, tuple[str, int]] = {}  # address -> (outcome, hook handle)
        self.code_ranges: list[tuple[int, int]] = []
        self._write_hook = None

    def scan(self, start: int, end: int) -> None:
        """Hook every privileged instruction of [start, end) (a linear sweep)."""
        m = self.machine
        for addr in [a for a in self.sites if start <= a < end]:
            m.uc.hook_del(self.sites.pop(addr)[1])
        if end <= start:
            return
        for insn in disassemble(m.mem.read(start, end - start), start):
            self._consider(insn)
        self.code_ranges.append((start, end))
        if self._write_hook is None:
            # The kernel text, the loaded images and the Python functions' thunks.
            text = m.map.text, m.map.thunks + m.map.thunks_size - 1
            self._write_hook = m.uc.hook_add(UC_HOOK_MEM_WRITE, self._on_code_write, None, *text)

    def _consider(self, insn) -> None:
        mnemonic, _, operands = insn.text.partition(" ")
        if mnemonic == "hlt":
            outcome = "hlt"
        else:
            outcome = refusal(mnemonic, operands)
            if outcome is None:
                return
            outcome = f"{insn.text}: {outcome}"
        if insn.addr not in self.sites:
            handle = self.machine.uc.hook_add(
                UC_HOOK_CODE, self._on_site, None, insn.addr, insn.addr
            )
            self.sites[insn.addr] = (outcome, handle)

    def _on_site(self, uc, addr, size, _):
        site = self.sites.get(addr)
        if site is None:
            return
        cpu = self.machine.loaded
        outcome = site[0]
        if outcome == "hlt":
            cpu.stop = Halt(addr)
        else:
            cpu.stop = Fault(addr, "trap", vector=13, detail=outcome)
        self.machine.clock.refused()
        uc.emu_stop()

    def _on_code_write(self, uc, access, address, size, value, _):
        """A guest store into code: keep code and data coherent, as x86 does, and
        scan what the code around it will be."""
        self._coherent(uc, address, size)
        m = self.machine
        lo = max(m.map.text, address - 15)
        hi = min(m.map.thunks + m.map.thunks_size, address + size + 15)
        window = bytearray(m.mem.read(lo, hi - lo))
        off = address - lo
        window[off : off + size] = (value & ((1 << 8 * size) - 1)).to_bytes(size, "little")
        for addr in [a for a in self.sites if lo <= a < hi]:
            uc.hook_del(self.sites.pop(addr)[1])
        for insn in disassemble(bytes(window), lo):
            self._consider(insn)

    def _coherent(self, uc, address: int, size: int) -> None:
        """Drop the translations of the bytes being written; if they are part of
        the straight-line code still ahead in the current translation block
        (which Unicorn would run stale), restart after the store.  A store into
        data that merely sits in the text region (a counter after a ``ret``)
        needs no restart, and gets none: restarting after a flag-setting store
        (``lock decl``) would lose the flags it just set.  EIP is exact in a
        memory hook; writing it completes the store first."""
        m = self.machine
        uc.ctl_remove_cache(address, address + size)
        eip = m.loaded.read("eip")
        ahead = disassemble(m.mem.read(eip, 64), eip, 16)
        if not ahead or ahead[0].text.startswith(_NOT_SEQUENTIAL):
            return
        end = eip
        for insn in ahead:
            end = insn.addr + insn.size
            if insn.addr > eip and insn.text.startswith(_ENDS_BLOCK):
                break
        if address < end and address + size > eip + ahead[0].size:
            m.loaded.write("eip", eip + ahead[0].size)

    def save(self) -> dict:
        return {addr: outcome for addr, (outcome, _) in self.sites.items()}

    def restore(self, saved: dict) -> None:
        m = self.machine
        for addr in [a for a in self.sites if a not in saved]:
            m.uc.hook_del(self.sites.pop(addr)[1])
        for addr, outcome in saved.items():
            if addr not in self.sites:
                handle = m.uc.hook_add(UC_HOOK_CODE, self._on_site, None, addr, addr)
                self.sites[addr] = (outcome, handle)

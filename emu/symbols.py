"""One symbol table for the whole machine: guest labels and Python functions.

Every output that names an address (traces, oopses, backtraces, ps)
goes through ``SymbolTable.describe`` so they all agree.
"""

import bisect
from dataclasses import dataclass


@dataclass(frozen=True)
class Symbol:
    name: str
    addr: int
    size: int
    kind: str  # "asm", "python" or "data"


class SymbolTable:
    def __init__(self):
        self.by_name: dict[str, Symbol] = {}
        self._addrs: list[int] = []
        self._syms: list[Symbol] = []

    def add(
        self, name: str, addr: int, size: int = 0, kind: str = "asm", shadow: bool = False
    ) -> Symbol:
        """``shadow``: a loaded file's own definition of a kernel name (its memcpy);
        the name is the new symbol's from now on, the old one still names its
        address."""
        if name in self.by_name and not shadow:
            raise ValueError(f"symbol {name!r} defined twice")
        sym = Symbol(name, addr, size, kind)
        self.by_name[name] = sym
        i = bisect.bisect_right(self._addrs, addr)
        self._addrs.insert(i, addr)
        self._syms.insert(i, sym)
        return sym

    def copy(self) -> "SymbolTable":
        other = SymbolTable()
        other.replace_with(self)
        return other

    def replace_with(self, other: "SymbolTable") -> None:
        """Become a copy of ``other`` (users keep their reference to this table)."""
        self.by_name, self._addrs, self._syms = (
            dict(other.by_name),
            list(other._addrs),
            list(other._syms),
        )

    def __getitem__(self, name: str) -> int:
        return self.by_name[name].addr

    def __contains__(self, name: str) -> bool:
        return name in self.by_name

    def get(self, name: str, default=None):
        sym = self.by_name.get(name)
        return default if sym is None else sym.addr

    def lookup(self, addr: int) -> Symbol | None:
        """The symbol whose extent holds ``addr`` (the nearest one below, if sizeless)."""
        i = bisect.bisect_right(self._addrs, addr) - 1
        if i < 0:
            return None
        while i > 0 and self._addrs[i - 1] == self._addrs[i]:
            i -= 1  # the first-defined of several aliases names the address
        sym = self._syms[i]
        return sym if addr < sym.addr + max(sym.size, 1) else None

    def describe(self, addr: int) -> str:
        """``name+0xoff``, or the bare hex address when nothing covers it."""
        sym = self.lookup(addr)
        if sym is None:
            return f"{addr:#010x}"
        return f"{sym.name}+{addr - sym.addr:#x}"

    def label(self, addr: int) -> str:
        """The bare name at a symbol's own address, else ``describe``."""
        sym = self.lookup(addr)
        return sym.name if sym is not None and sym.addr == addr else self.describe(addr)

    def describe_sized(self, addr: int) -> str:
        """print_symbol's ``name+0xoff/0xsize`` form."""
        sym = self.lookup(addr)
        if sym is None:
            return f"{addr:#x}"
        return f"{sym.name}+{addr - sym.addr:#x}/{sym.size:#x}"

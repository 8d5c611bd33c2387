"""Building a C file for this kernel, as kbuild builds an object of a 2.6.32 i386
kernel: the system's C compiler (``gcc -m32``, or ``clang
--target=i386-linux-gnu``) with the flags that shape the kernel's code and our
headers (kernel_model/include, with the struct definitions and constants
generated from the model itself: cheaders.py), then gcc's assembly through our
assembler, placed after the kernel text against the kernel's symbols.

The compiler's output is cached (ccache's "direct mode"): the key is the
compiler (its path, size and time), the flags, the file's name, the working
folder (gcc writes it in the DWARF), the source's bytes and our headers; the
entry also names every other header the compile read, with its hash, so an
edited ``#include "mine.h"`` is a miss.  The cache lives in
``$KTHREADD_EMU_CACHE`` (default ``$XDG_CACHE_HOME/kthreadd-emu`` or
``~/.cache/kthreadd-emu``); where it cannot be written, nothing is cached.

What the machine cannot hold is refused in one line naming the symbol or the
section and the C line: a call to a kernel function the model does not provide,
a thread-local (``__thread``) variable, a section outside the flat image
(``DEFINE_PER_CPU``'s ``.data.percpu`` among them).
"""

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from asm.assembler import AsmError, assemble, read_source
from kernel_model.cheaders import generated_headers

INCLUDE = Path(__file__).resolve().parent / "include"
# What a 2.6.32 i386 build passes that shapes the code (Makefile, arch/x86/Makefile:
# KBUILD_CFLAGS for CONFIG_X86_32, CONFIG_CC_STACKPROTECTOR, CONFIG_FRAME_POINTER,
# CONFIG_M686), and -fno-pic/-fno-pie, which the kernel's old gcc did not need.
KBUILD_CFLAGS = (
    "-D__KERNEL__", "-nostdinc", "-ffreestanding", "-fno-pic", "-fno-pie",
    "-fno-strict-aliasing", "-fno-common", "-fno-delete-null-pointer-checks",
    "-fno-strict-overflow", "-mregparm=3", "-freg-struct-return", "-msoft-float",
    "-mno-sse", "-mno-mmx", "-mno-sse2", "-mno-3dnow", "-march=i686",
    "-fstack-protector", "-fno-asynchronous-unwind-tables", "-fno-omit-frame-pointer",
    "-fno-optimize-sibling-calls", "-fcf-protection=none", "-g",
    "-Wall", "-Wundef", "-Wstrict-prototypes", "-Wno-trigraphs",
    "-Werror=implicit-function-declaration", "-Wno-format-security",
    "-Wdeclaration-after-statement", "-Wno-pointer-sign", "-Wno-sign-compare",
)  # fmt: skip
TARGET = {
    "gcc": ("-m32", "-mpreferred-stack-boundary=2"),
    "clang": ("--target=i386-linux-gnu", "-mstack-alignment=4"),
}
DEFAULT_OPT = "-O2"
# Flags that would change what the compiler writes (not assembly for us): refused.
_OUTPUT_FLAGS = re.compile(r"-(o|c|E|S|M\w*|x|save-temps.*|pipe|v|###|-help.*|-version)$")
INSTALL = "install a C compiler that targets i386 (Debian: gcc-multilib, or clang)"
CACHE_ENTRIES = 1000  # a cache holding more is trimmed, oldest first
COMPILE_TIMEOUT = 120  # seconds: a compiler that hangs is an error, not a hang


class NoCompiler(Exception):
    """No C compiler able to target i386: one line naming what to install."""


class CompileError(Exception):
    """The compiler refused the file: its own messages (file:line: error: ...);
    ``line`` and ``message`` are its first error's."""

    def __init__(self, text: str):
        super().__init__(text)
        first = _FIRST_ERROR.search(text)
        self.line = int(first.group(1)) if first else 0
        self.message = first.group(2) if first else text.split("\n")[0]


_FIRST_ERROR = re.compile(r":(\d+):(?:\d+:)? (?:fatal )?error: (.*)")


@dataclass(frozen=True)
class Compiler:
    kind: str  # "gcc" or "clang"
    path: str

    def command(self) -> list[str]:
        return [self.path, *TARGET[self.kind], *KBUILD_CFLAGS]


@dataclass(frozen=True)
class Compiled:
    """gcc's assembly for one C file, and what it printed on the way (warnings)."""

    path: str
    asm: str
    warnings: str
    cached: bool = False


def is_c_file(path) -> bool:
    """A C source (compiled), not an assembly one: by its name, as make tells them."""
    return os.fspath(path).endswith(".c")


def parse_cflags(text: str | None) -> tuple[str, ...]:
    """``--cflags`` as a shell would split it; an -O level replaces the default."""
    try:
        flags = tuple(shlex.split(text or ""))
    except ValueError as err:
        raise CompileError(f"--cflags: {err}") from None
    for flag in flags:
        if _OUTPUT_FLAGS.match(flag):
            raise CompileError(f"--cflags: {flag} changes what the compiler writes: refused")
    return flags


def optimisation(cflags: tuple[str, ...]) -> tuple[str, ...]:
    """The default -O2 unless the flags choose a level themselves."""
    return () if any(f.startswith("-O") for f in cflags) else (DEFAULT_OPT,)


# -- the compiler ------------------------------------------------------------------


def find_compiler() -> Compiler:
    """$KTHREADD_EMU_CC if set, else gcc, else clang: the first that compiles for i386."""
    chosen = os.environ.get("KTHREADD_EMU_CC")
    names = [chosen] if chosen else ["gcc", "clang"]
    for name in names:
        path = shutil.which(name)
        if path is None:
            continue
        kind = "clang" if "clang" in Path(name).name else "gcc"
        compiler = Compiler(kind, path)
        if _targets_i386(compiler):
            return compiler
    tried = chosen if chosen else "gcc -m32 nor clang --target=i386-linux-gnu"
    raise NoCompiler(f"no C compiler for i386 ({'neither ' * (not chosen)}{tried} works): "
                     f"{INSTALL}")  # fmt: skip


def _targets_i386(compiler: Compiler) -> bool:
    probe = [compiler.path, *TARGET[compiler.kind], "-S", "-o", "-", "-x", "c", "-"]
    try:
        done = subprocess.run(probe, input="int x;\n", capture_output=True, text=True,
                              timeout=COMPILE_TIMEOUT)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and "x:" in done.stdout


def _identity(path: str) -> str:
    info = os.stat(path)
    return f"{os.path.realpath(path)}\0{info.st_size}\0{info.st_mtime_ns}"


def _which_compiler() -> tuple[str, str] | None:
    """(kind, identity) of the compiler find_compiler would pick, without running it
    (a cache hit needs no compiler run at all), or None if there is none on PATH."""
    chosen = os.environ.get("KTHREADD_EMU_CC")
    for name in [chosen] if chosen else ["gcc", "clang"]:
        path = shutil.which(name)
        if path is not None:
            return name, _identity(path)
    return None


# -- the cache -----------------------------------------------------------------------


def cache_dir() -> Path:
    root = os.environ.get("KTHREADD_EMU_CACHE")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kthreadd-emu"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _headers_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(INCLUDE.rglob("*.h")):
        digest.update(str(path.relative_to(INCLUDE)).encode() + b"\0" + path.read_bytes())
    for name, text in sorted(generated_headers().items()):
        digest.update(name.encode() + b"\0" + text.encode())
    return digest.hexdigest()


_HEADERS: dict[str, object] = {}


def headers_hash() -> str:
    """Our headers' hash (made once a process)."""
    if "hash" not in _HEADERS:
        _HEADERS["hash"] = _headers_hash()
    return _HEADERS["hash"]


def generated_dir() -> Path:
    """A folder holding the generated headers, written once per content."""
    if "dir" not in _HEADERS:
        try:
            where = cache_dir() / "include" / headers_hash()[:16]
            _write_generated(where)
        except OSError:
            where = Path(tempfile.mkdtemp(prefix="kthreadd-emu-include-"))
            _write_generated(where)
        _HEADERS["dir"] = where
    return _HEADERS["dir"]


def _write_generated(where: Path) -> None:
    for name, text in generated_headers().items():
        target = where / name
        if target.is_file() and target.read_text() == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(target, text)


def _write_atomic(target: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, target)


def _key(kind_identity: tuple[str, str], flags: tuple, path: str, source: bytes) -> str:
    parts = [*kind_identity, "\0".join(flags), path, os.getcwd(), _sha(source), headers_hash()]
    return _sha("\n".join(parts).encode("utf-8", "surrogateescape"))


def _lookup(key: str) -> dict | None:
    try:
        entry = json.loads((cache_dir() / "cc" / f"{key}.json").read_text())
        for dep, digest in entry["deps"]:
            if _sha(Path(dep).read_bytes()) != digest:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return entry


def _store(key: str, entry: dict) -> None:
    folder = cache_dir() / "cc"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(folder / f"{key}.json", json.dumps(entry))
        entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-CACHE_ENTRIES]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # an unwritable cache only costs the next run a compile


# -- compiling -------------------------------------------------------------------------


def compile_c(path, cflags: tuple[str, ...] = ()) -> Compiled:
    """gcc's assembly for the C file ``path`` (from the cache when nothing changed).
    Raises AsmError for a file that cannot be read, NoCompiler, CompileError."""
    name = os.fspath(path)
    source = read_source(name).encode()
    flags = (*optimisation(cflags), *cflags)
    which = _which_compiler()
    if which is None:
        find_compiler()  # raises NoCompiler with the reason
    key = _key(which, flags, name, source)
    entry = _lookup(key)
    if entry is not None:
        return Compiled(name, entry["asm"], entry["warnings"], cached=True)
    compiler = find_compiler()
    asm, warnings, deps = _run_compiler(compiler, flags, name)
    _store(key, {"asm": asm, "warnings": warnings, "deps": deps})
    return Compiled(name, asm, warnings)


def _run_compiler(compiler: Compiler, flags: tuple, name: str) -> tuple[str, str, list]:
    with tempfile.TemporaryDirectory(prefix="kthreadd-emu-cc-") as tmp:
        deps_file = os.path.join(tmp, "deps")
        command = [*compiler.command(), "-I", str(INCLUDE), "-I", str(generated_dir()),
                   *flags, "-S", "-o", "-", "-MD", "-MF", deps_file, name]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=COMPILE_TIMEOUT)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise CompileError(
                f"{name}: the compiler ran for {COMPILE_TIMEOUT} s: stopped"
            ) from None
        except OSError as err:
            raise NoCompiler(f"{compiler.path}: {err.strerror}: {INSTALL}") from None
        if done.returncode:
            raise CompileError(
                done.stderr.rstrip() or f"{compiler.path} failed ({done.returncode})"
            )
        return done.stdout, done.stderr, _dependencies(deps_file, name)


def _dependencies(deps_file: str, source: str) -> list[list[str]]:
    """The headers the compile read, other than ours, with their hashes."""
    try:
        text = Path(deps_file).read_text()
    except OSError:
        return []
    words = text.replace("\\\n", " ").partition(":")[2].split()
    ours = (str(INCLUDE), str(generated_dir()))
    deps = []
    for dep in words:
        if dep == source or dep.startswith(ours):
            continue
        try:
            deps.append([dep, _sha(Path(dep).read_bytes())])
        except OSError:
            continue
    return deps


# -- assembling ------------------------------------------------------------------------


def assemble_c(compiled: Compiled, origin: int, defines) -> object:
    """The compiled file assembled at ``origin`` against ``defines`` (the kernel's
    symbols); what the machine cannot hold is an AsmError at the C line."""
    _refuse_percpu(compiled)
    try:
        return assemble(compiled.asm, origin, compiled.path, defines)
    except AsmError as err:
        raise c_error(compiled, err) from None


_SECTION = re.compile(r"^\s*\.(section|pushsection)\s+([^\s,]+)|^\s*\.(text|data|bss)\b")
_LOC = re.compile(r"^\s*\.loc\s+(\d+)\s+(\d+)")
_FILE = re.compile(r'^\s*\.file\s+(\d+)\s+"((?:\\.|[^"\\])*)"(?:\s+"((?:\\.|[^"\\])*)")?')
_LABEL = re.compile(r"^([A-Za-z_.$][\w.$]*):")
_UNDEFINED = re.compile(r"undefined symbol '([^']+)'")
_TLS = re.compile(r"TLS relocation '([^'@]+)@\w+'")
_NOT_IMAGE = re.compile(r"section '([^']+)' is not part of the image")


def _refuse_percpu(compiled: Compiled) -> None:
    lines = compiled.asm.split("\n")
    for number, text in enumerate(lines, start=1):
        match = _SECTION.match(text)
        if match and match.group(2) and match.group(2).startswith(".data.percpu"):
            symbol = _first_label(lines, number)
            raise _at_data(compiled, lines, number, symbol,
                           f"'{symbol}' is a per-CPU variable (DEFINE_PER_CPU): the per-CPU "
                           "area is the kernel's, a loaded file cannot add to it")  # fmt: skip


def c_error(compiled: Compiled, err: AsmError) -> AsmError:
    """An assembler error in gcc's output, said in C terms at the C line."""
    lines = compiled.asm.split("\n")
    text = lines[err.line - 1] if 0 < err.line <= len(lines) else ""
    undefined, tls, section = (p.search(err.message) for p in (_UNDEFINED, _TLS, _NOT_IMAGE))
    if undefined:
        name = undefined.group(1)
        called = re.match(rf"\s*(call|jmp)\w*\s+{re.escape(name)}\s*$", text)
        what = (
            f"{name}() is not a kernel function" if called else f"'{name}' is not a kernel symbol"
        )
        return _at_code(compiled, lines, err.line, f"{what} this machine provides")
    if tls:
        name = tls.group(1)
        message = (f"'{name}' is a thread-local (__thread) variable: the kernel has no "
                   "thread-local storage")  # fmt: skip
        if _in_code(lines, err.line):
            return _at_code(compiled, lines, err.line, message)
        return _at_data(compiled, lines, err.line, name, message)
    if section:
        symbol = _first_label(lines, err.line)
        message = (f"'{symbol}' is in section {section.group(1)}, which the machine's flat "
                   "image does not hold (.text, .rodata, .data, .bss)")  # fmt: skip
        return _at_data(compiled, lines, err.line, symbol, message)
    return _at_code(compiled, lines, err.line, f"{err.message} (gcc's assembly: {text.strip()})")


def _files(lines: list[str]) -> dict[int, str]:
    files = {}
    for text in lines:
        match = _FILE.match(text)
        if match:
            number, name = int(match.group(1)), match.group(3)
            if name is None:
                name = match.group(2)
            elif number and not os.path.isabs(name):
                name = os.path.join(match.group(2), name)  # .file N "dir" "name"
            files[number] = name
    return files


def _in_code(lines: list[str], number: int) -> bool:
    """Whether gcc's line ``number`` is inside a function (a .loc before any section change)."""
    for text in reversed(lines[: number - 1]):
        if _LOC.match(text):
            return True
        if _SECTION.match(text) or text.strip().startswith(".cfi_endproc"):
            return False
    return False


def _at_code(compiled: Compiled, lines: list[str], number: int, message: str) -> AsmError:
    """At the C statement gcc's line ``number`` belongs to: the last ``.loc`` before
    it that starts a statement (is_stmt; gcc marks the rest of a statement's code
    with the lines it came from, often the function's closing brace)."""
    files, where, is_stmt = _files(lines), None, True
    for text in lines[: max(number - 1, 0)]:
        match = _LOC.match(text)
        if match:
            flag = re.search(r"\bis_stmt\s+(\d)", text)
            is_stmt = is_stmt if flag is None else flag.group(1) == "1"
            if is_stmt or where is None:
                where = (files.get(int(match.group(1)), compiled.path), int(match.group(2)))
    if where is None:
        return AsmError(compiled.path, 0, "", message)
    return _located(*where, message)


def _first_label(lines: list[str], number: int) -> str:
    """The first label at or after gcc's line ``number``: the symbol a section holds."""
    for text in lines[number - 1 :]:
        match = _LABEL.match(text)
        if match and not match.group(1).startswith(".L"):
            return match.group(1)
    return "?"


def _at_data(compiled: Compiled, lines: list[str], number: int, symbol: str, message: str):
    """At the line declaring ``symbol``: gcc's assembly with the refused section made
    plain data (and no TLS), assembled only to read where its DWARF says it is."""
    from emu.cdebug import declaration_line

    probe = []
    for text in lines:
        match = _SECTION.match(text)
        if match and match.group(2) and not match.group(2).startswith((".debug", ".text")):
            text = "\t.bss" if "@nobits" in text else "\t.data"
        probe.append(re.sub(r"@(ntpoff|dtpoff|tpoff|indntpoff|gotntpoff)\b", "", text))
    try:
        image = assemble("\n".join(probe), 0, compiled.path, {})
    except AsmError:
        return AsmError(compiled.path, 0, "", message)
    where = declaration_line(image, symbol)
    if where is None:
        return AsmError(compiled.path, 0, "", message)
    return _located(*where, message)


def _located(file: str, line: int, message: str) -> AsmError:
    return AsmError(file, line, source_text(file, line), message)


def source_text(file: str, line: int) -> str:
    """Line ``line`` of a source file, stripped ("" if it cannot be read)."""
    try:
        lines = read_source(file).split("\n")
    except AsmError:
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


# -- loading -----------------------------------------------------------------------------


def build_c(kern, path, cflags: tuple[str, ...] = ()):
    """(compiled, image): ``path`` compiled and assembled for after the kernel text."""
    compiled = compile_c(path, cflags)
    return compiled, assemble_c(compiled, kern.text_end, kern.asm_symbols())


def load_c(kern, path, cflags: tuple[str, ...] = ()):
    """Compile, assemble and load a C file after the kernel text; returns (compiled, image)."""
    compiled, image = build_c(kern, path, cflags)
    kern.load_image(image)
    return compiled, image

"""Fuzz the debugger's shell as a hostile user scripts it: random and mutated
command files for `kthreadd-emu debug --batch -x FILE` (expressions, formats,
run control, going back, user commands, sourced files, thread apply, register
and memory writes, recording), on the plain machine or on a loaded routine
that spins, faults or recurses.  Every case must end by itself, in bounded CPU
time, with status 0 or 1, its last line reached, and no internal error or
traceback.

    python tools/fuzz_debug.py --cases 1000 --seed 7 [--keep DIR]

Each case runs in a forked copy of this process (the imports are paid once),
in its own folder, with its own CPU-time limit; a failing case's command file
is kept (``--keep``) to be run again by hand.
"""

import argparse
import os
import random
import re
import resource
import select
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kthreadd_emu.cli import main as kemu  # noqa: E402

END = "FUZZ-END"
CPU_SECONDS = 20  # per case: a case past it hangs
WALL_SECONDS = 60
ROUTINES = """\
\t.globl fz_spin, fz_null_call, fz_recurse, fz_bad_read
fz_spin:\tincl %eax
\tjmp fz_spin
fz_null_call:
\txorl %eax, %eax
\tcall *%eax
\tret
fz_recurse:
\tcall fz_recurse
\tret
fz_bad_read:
\tmovl (%eax), %eax
\tret
"""
SETUPS = (
    ["--cpus", "1"], ["--cpus", "2"], ["--cpus", "3"], ["--cpus", "2", "--seed", "5"],
    ["--load", "routines.S"], ["--load", "routines.S", "--run", "kthread fz_spin budget=20000"],
    ["--load", "routines.S", "--run", "kthread fz_bad_read arg=0"],
    ["--load", "routines.S", "--run", "kernel_thread fz_null_call budget=20000"],
    ["--load", "routines.S", "--run", "kthread fz_recurse budget=20000"],
)  # fmt: skip
# (Budgets keep a lockup short: going back over a million-instruction one replays
# it at the debugger's per-instruction pace, past the CPU bound.)
REGISTERS = ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags", "cs",
             "ds", "ss", "fs", "gs", "pc", "sp", "fp", "ps", "orig_eax", "nosuch", "")  # fmt: skip
SYMBOLS = ("kernel_thread_helper", "ret_from_fork", "kernel_thread", "switch_to", "py_ret",
           "copy_thread", "do_fork", "kthreadd", "kthread", "schedule", "cpu_idle", "fz_spin",
           "fz_recurse", "fz_null_call", "fz_bad_read", "per_cpu__current_task", "init_task",
           "nosuch", "__import__", "_dbg_reg_eax", "TASK_comm", "PT_EAX")  # fmt: skip
FIELDS = ("comm", "pid", "state", "flags", "stack", "thread", "thread.sp", "thread.ip",
          "real_parent", "real_parent->comm", "parent->pid", "nosuch", "__class__")  # fmt: skip
TYPES = ("int", "char", "unsigned", "long long", "unsigned long long", "short", "u8", "void",
         "char *", "int *", "void *", "long long *", "struct task_struct *",
         "struct pt_regs *", "struct thread_info *", "struct nosuch *", "struct task_struct",
         "float")  # fmt: skip
BINARY = ("+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^", "&&", "||", "==", "!=", "<", ">",
          "<=", ">=", "->", ".", ",", "**", "//", "=")  # fmt: skip
HOSTILE = ("lambda: 1", "__import__('os')", "[x for x in y]", "1 if 2 else 3", "f'{1}'",
           "b'x'", "{1: 2}", "(1, 2)", "...", "await x", "not 1", "1 is 1", "1 in 2",
           "'ab'", '"\\N{BULLET}"', "\x00", "é", "$$$", "$1$2", "((((", "))))", "1.5", "1e9",
           "08.5", "0b101", "0o7", "1_000")  # fmt: skip
FORMATS = "xduotacfsiXz"
# How often each kind of command comes (the c_ methods of Gen).
COMMAND_KINDS = (
    "resume", "resume", "step", "step", "break", "points", "watch", "view", "view", "registers",
    "print", "print", "print", "print", "select", "write", "setting", "echo", "source", "define",
    "call", "call", "apply", "record", "blank", "mutated", "mutated", "noise", "huge",
)  # fmt: skip
SIZES = "bhwgq"
ECHO_PIECES = ("a", "é", "\\n", "\\t", "\\", "\\101", "\\303\\251", " ", "%s", "\\e", "\\777",
               "\x7f", "\\9")  # fmt: skip


class Gen:
    """One case's random command file (and the files it sources)."""

    def __init__(self, rng: random.Random, folder: Path):
        self.rng, self.folder = rng, folder
        self.defined: list[str] = []
        self.files = 0

    def pick(self, items):
        return self.rng.choice(items)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # -- pieces --------------------------------------------------------------------

    def number(self) -> str:
        r = self.rng
        kind = r.randrange(10)
        if kind == 0:
            return str(r.choice([0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 255, 4096]))
        if kind == 1:
            return hex(r.getrandbits(r.choice([8, 16, 31, 32, 33, 63, 64, 65])))
        if kind == 2:
            return "9" * r.choice([10, 20, 21, 40, 41, 300, 5000])
        if kind == 3:
            return r.choice(["09", "0x", "00", "07", "0777", "1abc", "0x1g", "2147483648",
                             "4294967295", "4294967296", "18446744073709551615",
                             "18446744073709551616", "-1", "-2147483648"])  # fmt: skip
        if kind == 4:
            return str(r.randrange(1 << 32)) + r.choice(
                ["", "u", "U", "l", "ll", "ul", "LLU", "lul"]
            )
        if kind == 5:
            return (
                f"${r.choice(['', '$', '$1', '$99'])}"
                if r.random() < 0.5
                else f"${r.randrange(12)}"
            )
        if kind == 6:
            return repr(chr(r.choice([0, 10, 39, 65, 92, 233])))
        return str(r.randrange(-300, 300))

    def atom(self) -> str:
        r = self.rng
        kind = r.randrange(9)
        if kind < 3:
            return self.number()
        if kind == 3:
            return "$" + self.pick(REGISTERS)
        if kind == 4:
            return self.pick(SYMBOLS)
        if kind == 5:
            return self.pick(["current", f"task({self.number()})", "childregs", "locals"])
        if kind == 6:
            return f"per_cpu({self.pick(SYMBOLS)}, {self.number()})"
        if kind == 7:
            return '"' + self.pick(["kthreadd", "", "é", "a\\nb", "\\x00", "init"]) + '"'
        return self.pick(HOSTILE)

    def expr(self, depth: int = 0) -> str:
        r = self.rng
        if depth > 4 or r.random() < 0.3:
            return self.atom()
        kind = r.randrange(10)
        sub = self.expr(depth + 1)
        if kind < 3:
            return f"{sub} {self.pick(BINARY)} {self.expr(depth + 1)}"
        if kind == 3:
            return f"{self.pick(['-', '~', '!', '*', '&', '+'])}{sub}"
        if kind == 4:
            return f"({self.pick(TYPES)}) {sub}"
        if kind == 5:
            return f"{sub}->{self.pick(FIELDS)}"
        if kind == 6:
            return f"{sub}[{self.expr(depth + 1)}]"
        if kind == 7:
            return f"[{sub}]" if r.random() < 0.5 else f"u{self.pick(['8', '16', '32'])}[{sub}]"
        if kind == 8:
            return "(" * r.choice([1, 2, 40, 200]) + sub + ")" * r.choice([0, 1, 2, 40, 200])
        return f"({sub})"

    def fmt(self) -> str:
        r = self.rng
        count = r.choice(["", "", "1", "2", "4", "16", "0", "4096", "4097", "9" * 30])
        letters = "".join(r.choice(FORMATS + SIZES) for _ in range(r.randrange(3)))
        return f"/{count}{letters}"

    def location(self) -> str:
        return self.pick([self.pick(SYMBOLS), f"*{self.number()}", f"{self.pick(SYMBOLS)}+3",
                          self.number(), "", "0xc01000a7", "schedule_tail"])  # fmt: skip

    def text(self) -> str:
        return "".join(self.pick(ECHO_PIECES) for _ in range(self.rng.randrange(12)))

    def path(self, nested: bool) -> str:
        r = self.rng
        kind = r.randrange(2 if nested and self.files > 20 else 6)
        if kind == 0:
            return self.pick(
                ["/no/such/file", "/dev/null", "/dev/zero", "/etc", ".", "", "rec0.out"]
            )
        if kind == 1:
            return "routines.S"
        name = f"s{self.files}.gdb"
        self.files += 1
        lines = [self.command(nested=True) for _ in range(r.randrange(1, 8))]
        if kind == 2:
            lines.append(f"source {name}")  # sources itself
        (self.folder / name).write_text("\n".join(lines) + "\n", errors="surrogateescape")
        return name

    # -- commands ---------------------------------------------------------------

    def command(self, nested: bool = False) -> str:
        """One line (a define: several), never one that quits (the end marker must come)."""
        line = getattr(self, "c_" + self.pick(COMMAND_KINDS))(nested)
        return "help" if resolves_to_quit(line) else line

    def c_resume(self, _nested) -> str:
        return self.pick(["continue", "c", "run", "step", "next", "finish", "fin", "until",
                          "reverse-continue", "reverse-finish", "reverse-nexti", "rc"])  # fmt: skip

    def c_step(self, _nested) -> str:
        count = self.pick(["", "", "1", "3", "100", "0", "-1", "99999", self.expr()])
        return f"{self.pick(['stepi', 'si', 'nexti', 'ni', 'reverse-stepi', 'rsi'])} {count}"

    def c_break(self, _nested) -> str:
        cond = f" if {self.expr()}" if self.chance(0.3) else ""
        return f"{self.pick(['break', 'b', 'tbreak', 'advance', 'until'])} {self.location()}{cond}"

    def c_points(self, _nested) -> str:
        numbers = self.pick(["", "1", "2", "1 2 3", "99", "x", "-1"])
        return f"{self.pick(['delete', 'enable', 'disable', 'd'])} {numbers}"

    def c_watch(self, _nested) -> str:
        return f"{self.pick(['watch', 'rwatch', 'awatch'])} {self.expr()}"

    def c_view(self, _nested) -> str:
        return self.pick(["bt", "backtrace", "where", "tasks", "info threads", "context", "list",
                          "l", "info breakpoints", "info watchpoints", "help", "info segments",
                          "info gdt", "info all-registers", "info", "info frob", "i r", "thread",
                          "cpu", "ptregs", "ptregs json"])  # fmt: skip

    def c_registers(self, _nested) -> str:
        return "info registers " + " ".join(
            self.pick(REGISTERS) for _ in range(self.rng.randrange(3))
        )

    def c_print(self, _nested) -> str:
        word = self.pick(["print", "p", "output", "inspect", "x", "info symbol", "disassemble"])
        return f"{word}{self.fmt() if self.chance(0.5) else ''} {self.expr()}"

    def c_select(self, _nested) -> str:
        word = self.pick(["task", "thread", "cpu", "ptregs"])
        return f"{word} {self.pick(['0', '1', '2', '3', '99999', '-1', self.expr()])}"

    def c_write(self, _nested) -> str:
        target = self.expr() if self.chance(0.5) else "$" + self.pick(REGISTERS)
        return f"set {self.pick(['var ', ''])}{target} = {self.expr()}"

    def c_setting(self, _nested) -> str:
        return self.pick(["set context on", "set context off", "set disassembly-flavor intel",
                          "set disassembly-flavor att", "set frob", "set", "set var"])  # fmt: skip

    def c_echo(self, _nested) -> str:
        return f"echo {self.text()}"

    def c_source(self, nested) -> str:
        return f"source {self.path(nested)}"

    def c_define(self, nested) -> str:
        return self.define(nested)

    def c_call(self, _nested) -> str:
        return f"{self.pick(self.defined)} {self.expr()}" if self.defined else "help"

    def c_apply(self, _nested) -> str:
        ids = self.pick(["all", "all -ascending", "1", "1 2", "2-4", "4-2", "99", ""])
        flags = self.pick(["", "-q", "-c", "-s", "-c -q"])
        return f"thread apply {ids} {flags} {self.command(nested=True)}"

    def c_record(self, _nested) -> str:
        if self.chance(0.7):
            return f"record {self.pick(['start', 'stop', 'save', 'frob', ''])}"
        fmt = self.pick(["", "ftrace", "perfetto", "perfetto-proto", "x"])
        path = self.pick(["rec0.out", "rec1.out", "routines.S"])  # over the loaded source too
        return f"record save {path} {fmt}"

    def c_blank(self, _nested) -> str:
        return self.pick(["", "", "#" + self.text(), "end", "define", "  ", "\t"])

    def c_mutated(self, _nested) -> str:
        return self.mutate(self.command(nested=True))

    def c_noise(self, _nested) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyz/$*&()-> 0123456789"
        return "".join(self.pick(alphabet) for _ in range(self.rng.randrange(1, 30)))

    def c_huge(self, _nested) -> str:
        return self.pick(["x/" + "9" * 5000 + "xw $esp", "p/" + "9" * 5000 + "x 1",
                          "print " + "1+" * 300 + "1", "echo " + "é" * 3000,
                          "print " + "$*" * 20 + "$", "print 1" + "0" * 450])  # fmt: skip

    def define(self, nested: bool) -> str:
        r = self.rng
        name = self.pick(["f", "g", "hello", "s3", "back", "x", "p", "end", "9", "f-g", "bt"])
        body = [self.command(nested=True) for _ in range(r.randrange(0, 6))]
        if r.random() < 0.4:
            body.insert(r.randrange(len(body) + 1), name)  # calls itself
        if r.random() < 0.2:
            body.append(f"define {name}2")  # nested: ends at the inner end
            body.append("end")
        if name not in self.defined:
            self.defined.append(name)
        return "\n".join([f"define {name}", *body, *(["end"] if r.random() < 0.9 else [])])

    def mutate(self, line: str) -> str:
        r = self.rng
        chars = list(line)
        for _ in range(r.randrange(1, 4)):
            op = r.randrange(4)
            pos = r.randrange(len(chars) + 1)
            if op == 0:
                chars.insert(pos, r.choice("()[]*&$-><=!~/\\\"'#;, \t0x9éq\x00"))
            elif op == 1 and chars:
                del chars[min(pos, len(chars) - 1)]
            elif op == 2:
                chars[pos:pos] = list(self.number())
            else:
                chars[pos:pos] = list(self.expr())
        return "".join(chars)

    def script(self) -> str:
        lines = [self.command() for _ in range(self.rng.randrange(5, 40))]
        # `end`s close the defines left open (nested ones too): the marker is a command.
        return "\n".join([*lines, *["end"] * 8, f"echo {END}\\n"]) + "\n"


def resolves_to_quit(line: str) -> bool:
    """Would the shell quit on this line (so the end marker never comes)?"""
    from kthreadd_emu.shell.errors import CommandError
    from kthreadd_emu.shell.registry import COMMANDS, split_command

    for part in line.splitlines():
        try:
            if COMMANDS.resolve(split_command(part)[0]).name == "quit":
                return True
        except CommandError:
            pass
    return False


def run_case(argv: list[str], folder: Path) -> tuple[str | None, str, str]:
    """(why it failed or None, stdout, stderr) of `kthreadd-emu debug ARGV` in ``folder``."""
    out_path, err_path = folder / "out.txt", folder / "err.txt"
    pid = os.fork()
    if pid == 0:
        _child(argv, folder, out_path, err_path)
    deadline, status = time.monotonic() + WALL_SECONDS, None
    while status is None and time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if not done:
            status = None
            select.select([], [], [], 0.02)
    if status is None:
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    _reap(pid)
    out = out_path.read_text(errors="replace")
    err = err_path.read_text(errors="replace")
    return verdict(status, out, err), out, err


def _child(argv, folder, out_path, err_path) -> None:
    code = 3
    try:
        os.setpgid(0, 0)
        os.chdir(folder)
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 5))
        out = open(out_path, "w")  # noqa: SIM115 - the child's own, closed by _exit
        err = open(err_path, "w")  # noqa: SIM115
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        sys.stdout, sys.stderr = out, err
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        code = kemu(argv)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 3
    except BaseException:  # noqa: BLE001 - reported through the status and the traceback
        import traceback

        traceback.print_exc()
        code = 4
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _reap(pgid: int) -> None:
    """The case's checkpoints (forked copies) end with it: none may linger."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def verdict(status, out: str, err: str) -> str | None:
    if status is None:
        return f"hang: still running after {WALL_SECONDS} s"
    if os.WIFSIGNALED(status):
        sig = signal.Signals(os.WTERMSIG(status)).name
        return f"killed by {sig}" + (f" (over {CPU_SECONDS} s of CPU)" if sig == "SIGXCPU" else "")
    code = os.WEXITSTATUS(status)
    for line in (out + err).splitlines():
        if "internal error" in line or line.startswith("Traceback"):
            return line.strip()
    if code not in (0, 1):
        return f"exit status {code}"
    if END not in out and not PANIC.search(err):
        return "ended before its last line"
    return None


# The guest's own end: the idle task oopsed (the script wrote its registers or
# memory), and Linux panics; the session ends with the machine's one line.
PANIC = re.compile(r"^kthreadd-emu: debug: Kernel panic - not syncing: .*$", re.M)


def signature(why: str) -> str:
    """A failure's kind: the message without its numbers and paths."""
    return re.sub(r"0x[0-9a-f]+|\d+|'[^']*'|\"[^\"]*\"", "N", why)[:160]


def run(cases: int, seed: int, keep: Path | None = None, verbose: bool = False) -> tuple:
    """(the failures, how many cases ended in a guest kernel panic)."""
    failures, panics = [], 0
    with tempfile.TemporaryDirectory(prefix="fuzz-debug-") as tmp:
        for case in range(cases):
            rng = random.Random(f"{seed}:{case}")
            folder = Path(tmp) / f"case{case}"
            folder.mkdir()
            (folder / "routines.S").write_text(ROUTINES)
            script = Gen(rng, folder).script()
            (folder / "cmds.gdb").write_text(script, errors="surrogateescape")
            argv = ["debug", *rng.choice(SETUPS), "-x", "cmds.gdb", "--batch"]
            why, _, err = run_case(argv, folder)
            if verbose:
                print(f"case {case}: {why or 'ok'}", flush=True)
            panics += bool(PANIC.search(err))
            if why is None:
                continue
            failures.append((case, why, argv))
            if keep is not None:
                saved = keep / f"seed{seed}-case{case}"
                saved.mkdir(parents=True, exist_ok=True)
                for f in folder.iterdir():
                    if f.is_file():
                        (saved / f.name).write_bytes(f.read_bytes())
    return failures, panics


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep each failing case's files here")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    failures, panics = run(args.cases, args.seed, args.keep, args.verbose)
    kinds = Counter(signature(why) for _, why, _ in failures)
    for case, why, argv in failures:
        print(f"case {case} ({' '.join(argv)}): {why}")
    print(f"{args.cases} scripts, {len(failures)} failed"
          + (f" in {len(kinds)} ways" if failures else ": every one ended by itself, "
             "with no internal error")
          + f"; {panics} ended in a guest kernel panic (the idle task oopsed)")  # fmt: skip
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

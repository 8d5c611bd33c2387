"""Bad input to every command, as a person types it: each case is refused with
one line on stderr (``kthreadd-emu: COMMAND: message``; an assembler error
``file:line: message``), exit status 1, quickly, never a traceback or a hang."""

import os
import re
import subprocess
import sys
import time

import pytest

from kthreadd_emu.cli import main

LONG_NUMBER = "9" * 5000  # past int()'s digit limit: a refusal, not a ValueError traceback
MAX_SECONDS = 10

# (argv, text the one line must contain); files are made by the `workdir` fixture.
REFUSED = [
    # walk
    (["walk", "--budget", "0"], "walk: --budget must be between 1 and 100000000, not 0"),
    (["walk", "--budget", "-1"], "walk: --budget must be between 1 and 100000000, not -1"),
    (["walk", "--budget", "100000001"], "--budget must be between 1 and 100000000"),
    (["walk", "--budget", "1e6"], "walk: --budget: not a decimal or 0x-hex number: '1e6'"),
    (["walk", "--budget", ""], "walk: --budget: not a decimal or 0x-hex number: ''"),
    (["walk", "--arg", "0x100000000"], "walk: --arg must be between -2147483648 and 4294967295"),
    (["walk", "--arg", "-0x80000001"], "--arg must be between -2147483648 and 4294967295"),
    (["walk", "--arg=-2147483649"], "--arg must be between -2147483648 and 4294967295"),
    (["walk", "--arg", "abc"], "walk: --arg: not a decimal or 0x-hex number: 'abc'"),
    (["walk", "--arg", LONG_NUMBER], "walk: --arg: not a decimal or 0x-hex number: '9999"),
    (["walk", "--fn", "0x1c0100000"], "walk: --fn must be between 0 and 4294967295"),
    (["walk", "--fn", "12abc"], "walk: --fn: not a decimal or 0x-hex number: '12abc'"),
    (["walk", "--fn", ""], "walk: unknown thread function ''"),
    (["walk", "--fn", "no_such_fn"], "walk: unknown thread function 'no_such_fn'"),
    (["walk", "--via", "fork"], "walk: argument --via: invalid choice: 'fork'"),
    (["walk", "--syntax", "masm"], "walk: argument --syntax: invalid choice: 'masm'"),
    (["walk", "--arg"], "walk: argument --arg: expected one argument"),
    (["walk", "--bogus", "1"], "walk: unrecognized arguments: --bogus 1"),
    (["walk", "--json=yes"], "walk: argument --json: ignored explicit argument 'yes'"),
    # ps (and the machine options the others share)
    (["ps", "--cpus", "0"], "ps: --cpus must be between 1 and 256, not 0"),
    (["ps", "--cpus", "257"], "ps: --cpus must be between 1 and 256, not 257"),
    (["ps", "--cpus", "-1"], "ps: --cpus must be between 1 and 256, not -1"),
    (["ps", "--cpus", "three"], "ps: --cpus: not a decimal or 0x-hex number: 'three'"),
    (["ps", "--seed", "-1"], "ps: --seed must be between 0 and 4294967295, not -1"),
    (["ps", "--seed", "0x100000000"], "ps: --seed must be between 0 and 4294967295"),
    (["ps", "--seed", "x"], "ps: --seed: not a decimal or 0x-hex number: 'x'"),
    (["ps", "--profile", "suse"], "ps: unknown profile 'suse'"),
    (["ps", "--profile", ""], "ps: unknown profile ''"),
    (["ps", "extra"], "ps: unrecognized arguments: extra"),
    # ptregs
    (["ptregs", "--pid", "0"], "ptregs: --pid must be between 1 and 32767, not 0"),
    (["ptregs", "--pid", "32768"], "ptregs: --pid must be between 1 and 32767, not 32768"),
    (["ptregs", "--pid", "-5"], "ptregs: --pid must be between 1 and 32767, not -5"),
    (["ptregs", "--pid", "kthreadd"], "ptregs: --pid: not a decimal or 0x-hex number"),
    (["ptregs", "--pid", "999"], "ptregs: --pid: no task with pid 999 (tasks: 1, 2, 3"),
    (["ptregs", "--format", "xml"], "ptregs: argument --format: invalid choice: 'xml'"),
    (["ptregs", "--cpus", "0"], "ptregs: --cpus must be between 1 and 256, not 0"),
    # stress
    (["stress", "--threads", "0"], "stress: --threads must be between 1 and 10000000, not 0"),
    (["stress", "--threads", "-1"], "stress: --threads must be between 1 and 10000000, not -1"),
    (["stress", "--threads", "10000001"], "stress: --threads must be between 1 and 10000000"),
    (["stress", "--threads", "many"], "stress: --threads: not a decimal or 0x-hex number"),
    (["stress", "--alive", "0"], "stress: --alive must be between 1 and 4096, not 0"),
    (["stress", "--alive", "-1"], "stress: --alive must be between 1 and 4096, not -1"),
    (["stress", "--alive", "4097"], "stress: --alive must be between 1 and 4096, not 4097"),
    (["stress", "--cpus", "300"], "stress: --cpus must be between 1 and 256, not 300"),
    (["stress", "--seed", "-3"], "stress: --seed must be between 0 and 4294967295, not -3"),
    # asm
    (["asm", "a.S", "-o", "a.S"], "asm: -o: a.S is the input file a.S: refusing to overwrite"),
    (["asm", "a.S", "-o", "link.S"], "asm: -o: link.S is the input file a.S"),
    (["asm", "a.S", "-o", ""], "asm: -o: an empty file name"),
    (["asm", "a.S", "-o", "folder"], "asm: -o: folder is a directory"),
    (
        ["asm", "a.S", "-o", "nodir/x.bin"],
        "asm: cannot write nodir/x.bin: folder nodir does not exist",
    ),
    (["asm", "a.S", "-D", "X=0x1ffffffff"], "asm: -D X must be between -2147483648 and"),
    (["asm", "a.S", "-D", "X=-0x80000001"], "asm: -D X must be between -2147483648 and"),
    (["asm", "a.S", "-D", "X=ten"], "asm: -D X: not a decimal or 0x-hex number: 'ten'"),
    (["asm", "a.S", "-D", "X"], "asm: -D expects NAME=VALUE with NAME a symbol name, got 'X'"),
    (["asm", "a.S", "-D", "=1"], "asm: -D expects NAME=VALUE with NAME a symbol name"),
    (["asm", "a.S", "-D", "1x=2"], "asm: -D expects NAME=VALUE with NAME a symbol name"),
    (["asm", "a.S", "--org", "0x100000000"], "asm: --org must be between 0 and 4294967295"),
    (["asm", "a.S", "--org", "-1"], "asm: --org must be between 0 and 4294967295, not -1"),
    (["asm", "a.S", "--org", "here"], "asm: --org: not a decimal or 0x-hex number: 'here'"),
    (["asm", "nosuch.S"], "asm: nosuch.S: No such file or directory"),
    (["asm", "/dev/zero"], "asm: /dev/zero: not a regular file"),
    (["asm", "fifo.S"], "asm: fifo.S: not a regular file"),
    (["asm", "folder"], "asm: folder: not a regular file"),
    (["asm", "huge.S"], "asm: huge.S: larger than 16 MiB: refused"),
    (["asm", "binary.S"], "binary.S:1: not UTF-8 text (byte 0)"),
    (["asm", "latin1.S"], "latin1.S:2: not UTF-8 text (byte 7)"),
    (["asm"], "asm: the following arguments are required: FILE.S"),
    # asmtest
    (["asmtest", "--budget", "0", "t.S"], "asmtest: --budget must be between 1 and 100000000"),
    (["asmtest", "--budget", "1e9", "t.S"], "asmtest: --budget: not a decimal or 0x-hex"),
    (["asmtest", "--junit", "", "t.S"], "asmtest: --junit: '' is not a file name"),
    (["asmtest", "--junit", "folder", "t.S"], "asmtest: --junit: 'folder' is not a file name"),
    (["asmtest", "nosuch.S"], "asmtest: nosuch.S: no such file or folder"),
    (["asmtest", ""], "asmtest: an empty path"),
    (["asmtest", "folder"], "asmtest: no assembly tests in folder"),
    (["asmtest", "/dev/null"], "asmtest: /dev/null: not a regular file"),
    (["asmtest", "fifo.S"], "asmtest: fifo.S: not a regular file"),
    (["asmtest", "huge.S"], "asmtest: huge.S: larger than 16 MiB: refused"),
    (["asmtest", "binary.S"], "binary.S:1: not UTF-8 text (byte 0)"),
    (["asmtest"], "asmtest: the following arguments are required: PATH"),
    # bench, and no command at all
    (["bench", "--quick=3"], "bench: argument --quick: ignored explicit argument '3'"),
    (["bench", "--runs", "3"], "bench: unrecognized arguments: --runs 3"),
    (["nosuch"], "kthreadd-emu: argument COMMAND: invalid choice: 'nosuch'"),
    (
        [],
        "kthreadd-emu: a command is required: "
        "walk, ps, ptregs, stack, record, debug, gdbserver, elf, asm, asmtest, stress, bench",
    ),
]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder with the files the cases name."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.S").write_text("start:\tnop\n\tret\n")
    (tmp_path / "link.S").symlink_to(tmp_path / "a.S")
    (tmp_path / "folder").mkdir()
    (tmp_path / "t.S").write_text("#@ test t\n#@ run kthread fn\n#@ expect exit == 0\nfn: ret\n")
    os.mkfifo(tmp_path / "fifo.S")
    with open(tmp_path / "huge.S", "wb") as huge:
        huge.truncate((16 << 20) + 1)  # sparse: costs no disk
    (tmp_path / "binary.S").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (tmp_path / "latin1.S").write_bytes(b"nop\ncaf\xe9: ret\n")
    return tmp_path


def one_line(capsys, argv) -> tuple[int, str, str]:
    # CPU time: a bound on work (no hang, no runaway), whatever else the machine runs.
    start = time.process_time()
    status = main(argv)
    seconds = time.process_time() - start
    out, err = capsys.readouterr()
    assert seconds < MAX_SECONDS, f"{argv} took {seconds:.1f} s"
    assert "Traceback" not in err
    return status, out, err


@pytest.mark.parametrize("argv, message", REFUSED, ids=[" ".join(a)[:60] for a, _ in REFUSED])
def test_refused_in_one_line(workdir, capsys, argv, message):
    status, out, err = one_line(capsys, argv)
    assert status == 1
    lines = err.splitlines()
    # One line; an assembler's file:line error may add the source line under it.
    assert len(lines) == 1 or (re.match(r"\S+:\d+: ", lines[0]) and len(lines) == 2), err
    assert message in lines[0]
    assert len(lines[0]) < 300
    if not re.match(r"\S+\.S:\d+: ", lines[0]):
        command = argv[0] if argv and argv[0] != "nosuch" else None
        assert lines[0].startswith(f"kthreadd-emu: {command}: " if command else "kthreadd-emu: ")


# Hostile assembly test files: (the file's text, the line that reports it).
ROUTINE = "fn:\tincl %eax\n\tret\n"
HEAD = "#@ test t\n#@ run kthread fn\n"
HOSTILE_TESTS = [
    (
        "#@ test t\n#@ run kthread fn name=éééééééé\n#@ expect exit == 1\n",
        "t.S:2: name='éééééééé': a task name is 1 to 15 bytes of UTF-8 (task_struct.comm is "
        "char[16]), not 16",
    ),
    (
        "#@ test t\n#@ run kthread fn name=0123456789abcdef\n#@ expect exit == 1\n",
        "a task name is 1 to 15 bytes",
    ),
    ("#@ test t\n#@ run kthread fn name=\n#@ expect exit == 1\n", "a task name is 1 to 15 bytes"),
    (
        "#@ test t\n#@ run kthread fn cpu=-1\n#@ expect exit == 1\n",
        "t.S:2: cpu='-1': must be between 0 and 255",
    ),
    ("#@ test t\n#@ run kthread fn cpu=9\n#@ expect exit == 1\n", "the machine has 3 CPUs"),
    (
        "#@ test t\n#@ run kthread fn budget=0\n#@ expect exit == 1\n",
        "t.S:2: budget='0': must be between 1 and 100000000",
    ),
    (
        "#@ test t\n#@ run kthread fn budget=100000001\n#@ expect exit == 1\n",
        "budget='100000001': must be between 1 and 100000000",
    ),
    (
        "#@ test t\n#@ run kthread fn budget=lots\n#@ expect exit == 1\n",
        "budget='lots': not a number",
    ),
    ("#@ test t\n#@ run kthread fn stop=later\n#@ expect exit == 1\n", "expected stop=before or"),
    (
        "#@ test t\n#@ run kthread fn colour=red\n#@ expect exit == 1\n",
        "'colour=red': run kthread takes key=value options",
    ),
    ("#@ test t\n#@ run fork fn\n#@ expect exit == 1\n", "expected 'run MODE ROUTINE"),
    ("#@ test t\n#@ run kthread\n#@ expect exit == 1\n", "expected 'run MODE ROUTINE"),
    (
        HEAD + "#@ expect exit == " + "+".join(["1"] * 100_000) + "\n",
        "t.S:3: an expression of 200007 characters (at most 500)",
    ),
    (
        HEAD + "#@ expect exit == " + "-" * 100_000 + "1\n",
        "t.S:3: an expression of 100009 characters (at most 500)",
    ),
    (HEAD + "#@ expect exit == " + "-" * 40 + "1\n", "nested more than 32 levels deep"),
    (HEAD + "#@ expect exit == " + "(" * 300 + "1" + ")" * 300 + "\n", "at most 500"),
    (HEAD + "#@ expect exit == " + "~" * 33 + "1\n", "nested more than 32 levels deep"),
    (HEAD + "#@ expect (exit == 1) == 1\n", "'exit == 1' is not allowed in an expectation"),
    (HEAD + '#@ expect __import__("os") == 0\n', "is not allowed in an expectation"),
    (HEAD + "#@ expect exit.__class__ == 0\n", "is not allowed in an expectation"),
    (HEAD + "#@ expect exit == 1.5\n", "'1.5' is not allowed in an expectation"),
    (HEAD + "#@ expect exit ** 2 == 1\n", "is not allowed in an expectation"),
    (HEAD + '#@ expect "a" == "a"\n', "a string can only be compared with memory"),
    (HEAD + "#@ expect exit == 1 if 1 else 0\n", "expected one comparison"),
    (HEAD + "#@ expect exit == 1 == 1\n", "expected one comparison"),
    (HEAD + "#@ expect exit ==\n", "cannot parse 'exit =='"),
    (HEAD + "#@ expect\n", "expected 'expect EXPR' or 'expect oops|lockup|overrun"),
    (HEAD + "#@ at : eax == 1\n", "expected 'at LABEL: EXPR'"),
    (HEAD + "#@ at fn eax == 1\n", "expected 'at LABEL: EXPR'"),
    (HEAD + "#@ at nowhere: eax == 1\n", "unknown label 'nowhere'"),
    (HEAD + "#@ expect nosuch == 1\n", "nosuch"),
    (HEAD + "#@ expect ptregs.nosuch == 0\n", "'ptregs.nosuch' is not allowed"),
    (HEAD + "#@ expect per_cpu(1) == 0\n", "is not allowed in an expectation"),
    (HEAD + "#@ expect eax == 1\n", "registers are known only"),
    ("#@ test t\n#@ run kthread fn arg=eax\n#@ expect exit == 1\n", "registers are known only"),
    (HEAD + "#@ frobnicate\n", "unknown test line 'frobnicate'"),
    ("#@ test a b\n#@ run kthread fn\n#@ expect exit == 1\n", "a test needs a name of letters"),
    (HEAD + "#@ expect exit == 1\n" + HEAD + "#@ expect exit == 1\n", "test 't' is defined twice"),
    (HEAD + "#@ run kthread fn\n#@ expect exit == 1\n", "test 't' already has a run line"),
    ("#@ test t\n#@ expect exit == 1\n", "test 't' has no '#@ run' line"),
    (HEAD, "test 't' checks nothing"),
    (HEAD + "#@ expect oops\n#@ expect lockup\n", "expects both lockup and oops"),
]
HOSTILE_FILES = [
    (
        "#@ test t\n#@ run kthread fn\n#@ expect exit == 0\n\t.skip 0x300000\n",
        "asmtest: t.S: 3145730 bytes of code: only",
    ),
    ("", "t.S:1: no tests: add '#@ test NAME' lines"),
    ("#@ run kthread fn\n", "t.S:1: a test line before any '#@ test NAME'"),
    ("#@ test t\n#@ run kthread fn\n#@ expect exit == 0\n\tmovl %eax\n", "t.S:4: "),
    (b"#@ test t\n#@ run kthread fn\n#@ expect exit == 0\n# caf\xe9\n", "t.S:4: not UTF-8 text"),
]


def run_test_file(workdir, capsys, text: str | bytes):
    path = workdir / "t.S"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text + ROUTINE)
    return one_line(capsys, ["asmtest", "t.S"])


@pytest.mark.parametrize("text, message", HOSTILE_TESTS, ids=range(len(HOSTILE_TESTS)))
def test_hostile_test_lines_are_that_tests_error(workdir, capsys, text, message):
    status, out, err = run_test_file(workdir, capsys, text)
    assert status == 1 and err == ""
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("ERROR t.S::"))
    assert re.match(r"  t\.S:\d+: ", lines[at + 1]) and message in lines[at + 1], out
    assert len(lines[at + 1]) < 300 and len(lines[at + 2]) < 300  # the message, the line
    assert re.match(r"\d passed, 0 failed, 1 error in ", lines[-1])


@pytest.mark.parametrize("text, message", HOSTILE_FILES, ids=range(len(HOSTILE_FILES)))
def test_hostile_files_are_one_error_on_stderr(workdir, capsys, text, message):
    status, out, err = run_test_file(workdir, capsys, text)
    assert status == 1 and message in err.splitlines()[0] and len(err.splitlines()) <= 2
    assert out.splitlines() == [out.splitlines()[-1]]  # only the summary
    assert "0 passed, 0 failed, 1 error in" in out


def test_an_address_beyond_32_bits_says_how_it_wrapped(workdir, capsys):
    status, out, _ = run_test_file(workdir, capsys, HEAD + "#@ expect [1 << 63] == 0\n")
    assert status == 1
    assert "address 0x8000000000000000, as a 32-bit word 0x00000000 is outside RAM" in out


def test_an_unexpected_exception_is_one_line_and_exit_2(monkeypatch, capsys):
    from kthreadd_emu.commands import ps

    def broken(args):
        raise KeyError("surprise\nsecond line")

    monkeypatch.setattr(ps, "run", broken)
    status, _, err = one_line(capsys, ["ps"])
    assert status == 2 and len(err.splitlines()) == 1
    assert err.startswith("kthreadd-emu: ps: internal error: KeyError: ")


# -- exit codes: the kernel's int, signed and in hex ---------------------------


def exit_line(out: str) -> str:
    return out.rstrip().splitlines()[-1]


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--fn", "answer", "--arg", "-4"], "exit code: -8 (0xfffffff8)"),
        (["--fn", "answer", "--arg", "0x7fffffff"], "exit code: -2 (0xfffffffe)"),
        (["--fn", "answer", "--arg", "0x80000000"], "exit code: 0 (0x0)"),
        (["--fn", "answer", "--arg", "-0x10"], "exit code: -32 (0xffffffe0)"),
        (["--fn", "answer", "--arg", "4294967295"], "exit code: -2 (0xfffffffe)"),
        (["--fn", "bad_pointer", "--arg", "0"], "exit code: 9 (0x9)"),
    ],
)
def test_exit_code_is_a_signed_int_and_hex(capsys, argv, expected):
    status, out, _ = one_line(capsys, ["walk", *argv])
    assert status == 0 and exit_line(out) == expected


@pytest.mark.parametrize("via", ["kernel_thread", "kthread_create"])
def test_a_pointer_exit_code_reads_the_same_on_both_paths(capsys, via):
    """whoami returns current: a kernel address, negative as an int."""
    status, out, _ = one_line(capsys, ["walk", "--fn", "whoami", "--via", via])
    value, word = re.fullmatch(r"exit code: (-\d+) \(0x([0-9a-f]{8})\)", exit_line(out)).groups()
    assert status == 0 and int(value) == int(word, 16) - (1 << 32) and word.startswith("c0")


def test_a_thread_that_never_exits_says_so(capsys):
    status, out, _ = one_line(capsys, ["walk", "--fn", "kthreadd", "--via", "kthread_create"])
    assert status == 0 and "None" not in out
    assert exit_line(out) == "exit code: none: the thread never exited (every CPU went idle " \
        "with it alive)"  # fmt: skip


def test_json_exit_code_is_the_signed_int(capsys):
    import json

    status, out, _ = one_line(capsys, ["walk", "--fn", "answer", "--arg", "-4", "--json"])
    doc = json.loads(out)
    assert status == 0 and doc["exit_code"] == -8 and doc["stopped"] is None


# -- a runaway thread ------------------------------------------------------------


def test_a_runaway_thread_answers_with_head_and_tail_then_the_lockup(capsys):
    """walk --fn spin at the default budget: a million traced instructions in under
    3 s of CPU, the trace's head and tail printed, then the soft-lockup line."""
    start = time.process_time()
    status, out, err = one_line(capsys, ["walk", "--fn", "spin"])
    assert time.process_time() - start < 3
    assert status == 1
    assert err.splitlines() == [
        "kthreadd-emu: walk: BUG: soft lockup - CPU#0 stuck for 1000000 instructions! "
        "[swapper:1] at c010010a (spin+0x0)"
    ]
    steps = [line for line in out.splitlines() if re.match(r"  [0-9a-f]{8} ", line)]
    assert re.match(r"  [0-9a-f]{8} ret_from_fork\+0x0 ", steps[0])
    head, tail = steps[:100], steps[100:]
    assert len(head) == 100 and len(tail) == 20
    assert all(line.split()[1:] == ["spin+0x0", "jmp", "0xc010010a", "<spin>"] for line in tail)
    skipped = int(re.search(r"\n  \.\.\. (\d+) more instructions \.\.\.\n", out).group(1))
    # The head counts up to the first jmp; every instruction is in head, gap or tail.
    # The budget counts whole time slices without a call into the kernel: the slice
    # in which the thread started (it called schedule_tail) does not count.
    slice_ = 20_000
    assert 999_000 < skipped + len(tail) <= 1_000_000 + slice_
    assert exit_line(out) == "exit code: none: the thread never exited (stopped, see below)"


def test_json_of_a_runaway_thread_keeps_the_tail(capsys):
    import json

    status, out, _ = one_line(capsys, ["walk", "--fn", "spin", "--budget", "5000", "--json"])
    doc = json.loads(out)
    assert status == 1 and doc["exit_code"] is None and "soft lockup" in doc["stopped"]
    assert len(doc["steps"]) == 100 and len(doc["tail"]) == 20 and doc["skipped"] > 4000
    assert {step["insn"] for step in doc["tail"]} == {"jmp 0xc010010a <spin>"}


# -- a real process --------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, line",
    [
        (["walk", "--budget", "0"],
         "kthreadd-emu: walk: --budget must be between 1 and 100000000, not 0"),
        (["asm", "/dev/zero"], "kthreadd-emu: asm: /dev/zero: not a regular file"),
        (["stress", "--alive", "0"],
         "kthreadd-emu: stress: --alive must be between 1 and 4096, not 0"),
    ],
)  # fmt: skip
def test_refusals_in_a_real_process(argv, line):
    proc = subprocess.run(
        [sys.executable, "-m", "kthreadd_emu.cli", *argv],
        capture_output=True,
        text=True,
        timeout=MAX_SECONDS * 3,
    )
    assert proc.returncode == 1 and proc.stdout == "" and proc.stderr == line + "\n"

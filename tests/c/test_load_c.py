"""--load FILE.c wherever --load FILE.S works: compiled with the system's C
compiler and the kernel's flags, assembled by our assembler, loaded after the
kernel text.  Each command is driven as a user drives it."""

import re

from cc import c_file, needs_cc

pytestmark = needs_cc

HELLO = """
    #include <linux/kthread.h>
    #include <linux/sched.h>

    int hello(void *data)
    {
    \tprintk(KERN_INFO "hello from %s, pid %d, data %d\\n", current->comm, current->pid,
    \t       (int)data);
    \treturn (int)data * 2;
    }
"""

TWICE_S = """
\t.globl twice_asm
twice_asm:
\tleal (%eax,%eax), %eax
\tret
"""

CALLS_ASM = """
    int twice_asm(int x);

    int calls_asm(void *data)
    {
    \treturn twice_asm((int)data) + 1;
    }
"""


def test_walk_runs_a_c_thread_function(cli, tmp_path):
    path = c_file(tmp_path, "hello.c", HELLO)
    status, out, err = cli("walk", "--load", path, "--fn", "hello", "--arg", "21")
    assert status == 0, err
    assert "hello from swapper, pid 1, data 21" in out
    assert out.rstrip().endswith("exit code: 42 (0x2a)")
    # The child's own instructions, named by the C function's symbol.
    assert re.search(r"c01[0-9a-f]{5} hello\+0x0 ", out)


def test_record_runs_a_c_run_line(cli, tmp_path):
    path = c_file(tmp_path, "hello.c", HELLO)
    trace = tmp_path / "run.txt"
    status, out, err = cli("record", "--load", path, "--run", "kthread hello arg=5", "-o", trace)
    assert status == 0, err
    assert "(exit code 10)" in out


def test_two_files_at_once_a_c_file_calling_an_assembly_one(cli, tmp_path):
    asm = c_file(tmp_path, "twice.S", TWICE_S)
    c = c_file(tmp_path, "calls.c", CALLS_ASM)
    status, out, err = cli("walk", "--load", asm, "--load", c, "--fn", "calls_asm", "--arg", "20")
    assert status == 0, err
    assert out.rstrip().endswith("exit code: 41 (0x29)")
    status, out, err = cli("record", "--load", asm, "--load", c, "--run", "kthread calls_asm arg=4",
                           "-o", tmp_path / "t.txt")  # fmt: skip
    assert status == 0 and "(exit code 9)" in out, err


def test_cflags_choose_the_optimisation_and_defines(cli, tmp_path):
    path = c_file(
        tmp_path,
        "level.c",
        """
        int level(void *data)
        {
        #ifdef __OPTIMIZE__
        \treturn LEVEL_BASE + 2;
        #else
        \treturn LEVEL_BASE;
        #endif
        }
    """,
    )
    for flags, code in (("-DLEVEL_BASE=40", 42), ("-O0 -DLEVEL_BASE=40", 40)):
        status, out, err = cli("walk", "--load", path, f"--cflags={flags}", "--fn", "level")
        assert status == 0, err
        assert out.rstrip().endswith(f"exit code: {code} ({code:#x})")


def test_debug_stops_in_a_c_function(cli, tmp_path):
    path = c_file(tmp_path, "hello.c", HELLO)
    script = c_file(
        tmp_path, "cmds", "set context off\nbreak hello\ncontinue\ninfo registers eax\n"
    )
    status, out, err = cli("debug", "--load", path, "--run", "kthread hello arg=5", "-x", script,
                           "--batch")  # fmt: skip
    assert status == 0, err
    assert "Breakpoint 1, 0x" in out and " in hello ()" in out
    assert re.search(r"eax\s+0x5\s+5", out)


def test_elf_names_the_c_functions(cli, tmp_path):
    from elftools.elf.elffile import ELFFile

    path = c_file(tmp_path, "hello.c", HELLO)
    elf = tmp_path / "k.elf"
    status, _, err = cli("elf", "--load", path, "-o", elf)
    assert status == 0, err
    with open(elf, "rb") as handle:
        symbols = {s.name: s for s in ELFFile(handle).get_section_by_name(".symtab").iter_symbols()}
    assert symbols["hello"]["st_info"]["type"] == "STT_FUNC"
    # gcc's local labels are the assembler's own: no symbol for them, as with GNU as.
    assert not [name for name in symbols if name.startswith(".L")]


def test_stack_draws_a_c_threads_stack_while_it_sleeps(cli, tmp_path):
    path = c_file(
        tmp_path,
        "sleeper.c",
        """
        #include <linux/sched.h>

        int sleeper(void *data)
        {
        \tset_current_state(TASK_INTERRUPTIBLE);
        \tschedule();
        \treturn 0;
        }
    """,
    )
    status, out, err = cli("stack", "--load", path, "--run", "kthread sleeper", "--text")
    assert status == 0, err
    assert "sleeper+0x" in out  # sleeper's return address, named, on its stack


def test_stack_says_so_when_the_runs_thread_is_gone(cli, tmp_path):
    path = c_file(tmp_path, "hello.c", HELLO)
    status, _, err = cli("stack", "--load", path, "--run", "kthread hello")
    assert status == 1 and "exited before the machine went idle" in err

"""Bad input to --load FILE.c: one clear line (or the compiler's own messages),
exit status 1, never a traceback; and without a C compiler for i386, one line
naming what to install while the rest of the tool works."""

import os
import subprocess
import sys

import pytest
from cc import c_file, needs_cc

INSTALL = "install a C compiler that targets i386 (Debian: gcc-multilib, or clang)"


def kemu(*argv, env=None, cwd=None):
    argv = [sys.executable, "-m", "kthreadd_emu.cli", *map(str, argv)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    return done.returncode, done.stdout, done.stderr


def no_compiler_env(tmp_path) -> dict:
    """PATH with no gcc and no clang on it."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    return {**os.environ, "PATH": str(empty)}


def test_without_a_compiler_one_line_names_what_to_install(tmp_path):
    path = c_file(tmp_path, "t.c", "int t(void *d) { return 1; }\n")
    status, out, err = kemu("walk", "--load", path, "--fn", "t", env=no_compiler_env(tmp_path))
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("kthreadd-emu: walk: no C compiler for i386")
    assert err.rstrip().endswith(INSTALL)


def test_without_a_compiler_the_rest_works_and_c_tests_skip(tmp_path):
    env = no_compiler_env(tmp_path)
    status, out, _ = kemu("walk", "--fn", "answer", env=env)
    assert status == 0 and "exit code: 42" in out
    c_file(tmp_path, "t.c", "//@ test one\n//@ run kthread t\n//@ expect exit == 1\n"
           "int t(void *d) { return 1; }\n")  # fmt: skip
    status, out, _ = kemu("asmtest", tmp_path / "t.c", env=env)
    assert status == 0
    assert f"SKIP {tmp_path / 't.c'}: no C compiler for i386" in out
    assert "0 passed, 0 failed, 0 errors, 1 skipped" in out


def test_a_chosen_compiler_that_is_missing_is_named(tmp_path):
    path = c_file(tmp_path, "t.c", "int t(void *d) { return 1; }\n")
    env = {**os.environ, "KTHREADD_EMU_CC": "no-such-cc"}
    status, _, err = kemu("walk", "--load", path, "--fn", "t", env=env)
    assert status == 1 and "no C compiler for i386 (no-such-cc works)" in err


@needs_cc
def test_a_compile_error_is_the_compilers_own_message(tmp_path):
    c_file(tmp_path, "broken.c", "int broken(void *d)\n{\n\treturn d +;\n}\n")
    status, out, err = kemu("walk", "--load", "broken.c", "--fn", "broken", cwd=tmp_path)
    assert status == 1 and out == ""
    assert "broken.c:3:" in err and "error:" in err
    assert not err.startswith("kthreadd-emu:")  # the compiler's words, not ours


@needs_cc
def test_an_undeclared_function_is_an_error_as_in_a_kernel_build(tmp_path):
    c_file(tmp_path, "undeclared.c", "int f(void *d)\n{\n\treturn do_fork(0);\n}\n")
    status, _, err = kemu("walk", "--load", "undeclared.c", "--fn", "f", cwd=tmp_path)
    assert status == 1 and "undeclared.c:3:" in err and "implicit declaration" in err


@needs_cc
@pytest.mark.parametrize(
    "source, line, message",
    [
        ("extern int do_fork(int);\nint f(void *d)\n{\n\treturn do_fork(1);\n}\n", 4,
         "do_fork() is not a kernel function this machine provides"),
        ("extern int some_table[4];\nint f(void *d)\n{\n\treturn some_table[1];\n}\n", 4,
         "'some_table' is not a kernel symbol this machine provides"),
        ("__thread int tv;\nint f(void *d)\n{\n\treturn ++tv;\n}\n", 4,
         "'tv' is a thread-local (__thread) variable: the kernel has no thread-local storage"),
        ("int a;\nint x __attribute__((section(\".foo\"))) = 3;\nint f(void *d)\n"
         "{\n\treturn x;\n}\n", 2,
         "'x' is in section .foo, which the machine's flat image does not hold"),
        ("#include <linux/percpu.h>\n\nDEFINE_PER_CPU(int, hits);\nint f(void *d)\n"
         "{\n\treturn 0;\n}\n", 3,
         "'per_cpu__hits' is a per-CPU variable (DEFINE_PER_CPU): the per-CPU area is the "
         "kernel's, a loaded file cannot add to it"),
    ],
    ids=["kernel-function", "kernel-variable", "tls", "section", "per-cpu"],
)  # fmt: skip
def test_code_the_machine_cannot_hold_names_the_symbol_and_the_c_line(
    tmp_path, source, line, message
):
    c_file(tmp_path, "held.c", source)
    status, out, err = kemu("walk", "--load", "held.c", "--fn", "f", cwd=tmp_path)
    assert status == 1 and out == ""
    first, shown = err.rstrip("\n").split("\n")
    assert first.startswith(f"held.c:{line}: {message}")
    assert shown.strip() == source.split("\n")[line - 1].strip()


@needs_cc
def test_a_c_loop_that_never_sleeps_is_a_soft_lockup(tmp_path):
    c_file(tmp_path, "spin.c", "int spin(void *d)\n{\n\tfor (;;)\n\t\t;\n}\n")
    status, _, err = kemu("walk", "--load", "spin.c", "--fn", "spin", "--budget", "20000",
                          cwd=tmp_path)  # fmt: skip
    assert status == 1 and "BUG: soft lockup - CPU#0 stuck for 20000 instructions!" in err
    assert "(spin+0x" in err


@pytest.mark.parametrize("flags", ["-o x.s", "-E", "-c", "'unclosed"])
def test_cflags_that_change_the_output_or_cannot_be_read_are_refused(tmp_path, flags):
    path = c_file(tmp_path, "t.c", "int t(void *d) { return 1; }\n")
    status, _, err = kemu("walk", "--load", path, f"--cflags={flags}", "--fn", "t")
    assert status == 1 and err.count("\n") == 1 and "--cflags: " in err

"""`print` computes as gdb does on i386: values have C types of 32 or 64 bits,
arithmetic wraps as C's does, and a bad number or an impossible operation is
one line that quotes what the user typed (never the debugger's translation)."""

import ctypes
import os
import re
import shutil
import subprocess

import pytest

# (expression, what gdb 13 prints for it with `set architecture i386`)
AS_GDB_PRINTS = [
    ("09", 'Invalid number "09".'),
    ("0x", 'Invalid number "0x".'),
    ("1abc", 'Invalid number "1abc".'),
    ("010", "8"),
    ("2147483647 + 1", "-2147483648"),
    ("123456789 * 123456789", "-1757895751"),
    ("4294967296 * 4294967296", "0"),
    ("18446744073709551615", "18446744073709551615"),
    ("18446744073709551616", "Numeric constant too large."),
    ("0xffffffff + 1", "0"),
    ("-1U", "4294967295"),
    ("~0U", "4294967295"),
    ("-1 < 0", "1"),
    ("-1U < 0", "0"),
    ("-1 > 0U", "1"),
    ("3 > 2 > 1", "0"),
    ("7 / -2", "-3"),
    ("-7 % 3", "-1"),
    ("5 % -2", "1"),
    ("(unsigned)-1 / 2", "2147483647"),
    ("-8 >> 1", "-4"),
    ("0xffffffffU >> 1", "2147483647"),
    ("1LL << 40", "1099511627776"),
    ("(int)-2147483648 / -1", "-2147483648"),
    ("-2147483648 / -1", "2147483648"),
    ("(char)300", "44 ','"),
    ("(short)-1", "-1"),
    ("(unsigned long long)-1", "18446744073709551615"),
    ("(long)0xffffffff", "-1"),
    ("'a'", "97 'a'"),
    ("/x -1", "0xffffffff"),
    ("/x -1LL", "0xffffffffffffffff"),
    ("/d 0xffffffff", "-1"),
    ("/x 4294967296", "0x100000000"),
    ("/x (char)-1", "0xff"),
    ("/u -1", "4294967295"),
    ("1/0", "Division by zero"),
    ("10 % 0", "Division by zero"),
    ("1 2", "A syntax error in expression, near `2'."),
]


def printed(out: str) -> list[str]:
    return [re.sub(r"^\$\d+ = ", "", line) for line in out.splitlines()]


def test_print_computes_as_gdb_does(batch):
    commands = [f"print{e}" if e.startswith("/") else f"print {e}" for e, _ in AS_GDB_PRINTS]
    _, out, err = batch(*commands)
    # Results on stdout, errors on stderr, each in the order typed.
    results = iter(printed(out)[1:])  # after "The machine is stopped before boot"
    errors = iter(err.splitlines())
    for expr, want in AS_GDB_PRINTS:
        is_error = not re.match(r"^-?\d|^0x", want)
        assert next(errors if is_error else results) == want, expr


@pytest.mark.skipif(shutil.which("gdb") is None, reason="GNU gdb is not installed")
def test_the_table_is_what_real_gdb_prints():
    """The expectations above are gdb's own answers (where gdb is installed)."""
    argv = ["gdb", "-nx", "-batch", "-ex", "set architecture i386"]
    for expr, _ in AS_GDB_PRINTS:
        argv += ["-ex", f"print{expr}" if expr.startswith("/") else f"print {expr}"]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=60)  # fmt: skip
    lines = [line for line in printed(proc.stdout) if "architecture" not in line]
    assert lines == [want for _, want in AS_GDB_PRINTS]


def c_int(value: int) -> int:
    return ctypes.c_int32(value).value


def test_value_history_stays_a_machine_word(batch):
    """$ times itself ten times, five times over: C's int wraps every product
    (the history grew ten-fold per line and ended past Python's digit limit)."""
    _, out, err = batch("print 123456789", *["print " + "*".join(["$"] * 10)] * 5)
    assert err == ""
    want = [123456789]
    for _ in range(5):
        product = 1
        for _ in range(10):
            product = c_int(product * want[-1])
        want.append(product)
    assert [int(v) for v in printed(out)[1:]] == want


def test_a_count_of_thousands_of_digits_is_one_line(batch):
    huge = "9" * 5000
    status, out, err = batch(f"x/{huge}xw $esp", f"p/{huge}x 1", f"print {huge}",
                             "echo still here\\n")  # fmt: skip
    assert status == 1 and "still here" in out
    assert err.splitlines() == [
        "x: the count must be between 1 and 4096",
        'Item count other than 1 is meaningless in "print" command.',
        "an expression of 5000 characters (at most 500)",
    ]


def test_an_octal_looking_address_is_an_invalid_number(batch):
    status, out, err = batch("x/4xw 09", "print 0x", "echo still here\\n")
    assert status == 1 and "still here" in out
    assert err.splitlines() == ['Invalid number "09".', 'Invalid number "0x".']


@pytest.mark.parametrize(
    "expression, message",
    [
        ("$eax / 0", "Division by zero"),
        ("&$eax", "Attempt to take address of value not located in memory."),
        ("current->comm[0]", "cannot subscript 'current->comm': not a pointer"),
        ("current->$eax", "A syntax error in expression, near `current->$eax'."),
        ("current->comm(1)", "'current->comm(1)' is not allowed in an expression"),
        ("5 . 3", "A syntax error in expression, near `5 . 3'."),
        ("1 is 1", "'1 is 1' is not allowed in an expression"),
        ("(" * 40 + "$eax" + ")" * 30, "an expression nested more than 32 levels deep"),
    ],
)
def test_errors_quote_what_the_user_typed(batch, expression, message):
    _, _, err = batch("continue", f"print {expression}")
    assert err.strip() == message
    assert "_dbg_" not in err and "//" not in err


@pytest.mark.skipif(not hasattr(os, "fork"), reason="going back needs fork()")
def test_value_history_survives_going_back(debug_process):
    """The checkpoint that takes over the session gets the history: typed numbers,
    struct pointers and structs (a view of RAM could not be handed over)."""
    status, out, err = debug_process(
        "break kernel_thread_helper", "continue", "print current", "print *current",
        "print 2147483647", "stepi", "reverse-stepi", "print $1->pid == $2.pid",
        "print $3 + 1", "print $2.comm",
    )  # fmt: skip
    assert status == 0, err
    assert re.search(r"^\$4 = 1$", out, re.M) and re.search(r"^\$5 = -2147483648$", out, re.M)
    assert re.search(r'^\$6 = "\S+"$', out, re.M)

"""What the C tests share: whether a C compiler for i386 is here (tests that
need one skip, saying what to install), and writing a C file."""

import functools
import textwrap

import pytest

from kernel_model.cbuild import NoCompiler, find_compiler


@functools.cache
def missing_compiler() -> str | None:
    """Why there is no C compiler for i386 here, or None if there is one."""
    try:
        find_compiler()
    except NoCompiler as err:
        return str(err)
    return None


needs_cc = pytest.mark.skipif(missing_compiler() is not None, reason=missing_compiler() or "")


def c_file(folder, name: str, text: str):
    """``name`` in ``folder`` holding ``text`` (dedented); returns its path."""
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path

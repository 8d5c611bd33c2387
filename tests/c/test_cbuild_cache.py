"""The compile cache: a second build of an unchanged file does not run the compiler;
a change to the file, to a header it includes or to the flags does."""

import os

from cc import c_file, needs_cc

from kernel_model import cbuild

pytestmark = needs_cc


def counting_compiler(tmp_path, monkeypatch) -> list:
    """Count the compiler runs (each is a subprocess started by cbuild)."""
    runs = []
    real = cbuild._run_compiler

    def counted(compiler, flags, name):
        runs.append(name)
        return real(compiler, flags, name)

    monkeypatch.setattr(cbuild, "_run_compiler", counted)
    monkeypatch.setenv("KTHREADD_EMU_CACHE", str(tmp_path / "cache"))
    return runs


def test_a_second_build_comes_from_the_cache(tmp_path, monkeypatch):
    runs = counting_compiler(tmp_path, monkeypatch)
    path = c_file(tmp_path, "t.c", "int t(void *d) { return 7; }\n")
    first = cbuild.compile_c(path)
    second = cbuild.compile_c(path)
    assert len(runs) == 1 and not first.cached and second.cached
    assert second.asm == first.asm


def test_the_source_the_flags_and_an_included_header_are_part_of_the_key(tmp_path, monkeypatch):
    runs = counting_compiler(tmp_path, monkeypatch)
    c_file(tmp_path, "mine.h", "#define VALUE 1\n")
    path = c_file(tmp_path, "t.c", '#include "mine.h"\nint t(void *d) { return VALUE; }\n')
    cbuild.compile_c(path)
    cbuild.compile_c(path, ("-O0",))
    assert len(runs) == 2
    c_file(tmp_path, "mine.h", "#define VALUE 2\n")
    assert "$2" in cbuild.compile_c(path).asm and len(runs) == 3
    path.write_text('#include "mine.h"\nint t(void *d) { return VALUE + 1; }\n')
    assert "$3" in cbuild.compile_c(path).asm and len(runs) == 4
    assert cbuild.compile_c(path).cached and len(runs) == 4


def test_warnings_come_back_with_a_cached_build(tmp_path, monkeypatch):
    counting_compiler(tmp_path, monkeypatch)
    path = c_file(tmp_path, "w.c", "int w(void *d) { int unused; return 1; }\n")
    first, second = cbuild.compile_c(path), cbuild.compile_c(path)
    assert "unused variable" in first.warnings and second.warnings == first.warnings


def test_an_unwritable_cache_only_costs_a_compile(tmp_path, monkeypatch):
    runs = counting_compiler(tmp_path, monkeypatch)
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    monkeypatch.setenv("KTHREADD_EMU_CACHE", str(blocked / "cache"))
    path = c_file(tmp_path, "t.c", "int t(void *d) { return 7; }\n")
    assert not cbuild.compile_c(path).cached and not cbuild.compile_c(path).cached
    assert len(runs) == 2
    assert os.path.isfile(blocked)

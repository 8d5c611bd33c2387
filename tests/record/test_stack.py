"""kthreadd-emu stack and walk --svg: pictures of a kernel stack, checked against
ptregs and walk --json, and against a stored reference rendering."""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kthreadd_emu.cli import main
from kthreadd_emu.options import pick_task
from kthreadd_emu.scenario import booted_kernel
from kthreadd_emu.stack_picture import task_stack_picture, to_svg

SVG = "{http://www.w3.org/2000/svg}"
REFERENCE = Path(__file__).with_name("stack_pid2_at_fork.svg")


def rows(svg_text) -> dict:
    """field name -> (address, value) of every labelled word in the picture."""
    root = ET.fromstring(svg_text)
    out = {}
    for g in root.iter(SVG + "g"):
        if "row" in g.get("class", "").split():
            out[g.get("data-field")] = (int(g.get("data-addr"), 16), g.get("data-value"))
    return out


def marks(svg_text) -> dict:
    root = ET.fromstring(svg_text)
    found = {}
    for text in root.iter(SVG + "text"):
        if text.get("class") == "mark-label":
            name, addr = text.text.split(" = ")
            found.setdefault(name, []).append(int(addr, 16))
    return found


def test_at_fork_picture_matches_ptregs(tmp_path, cli):
    path = tmp_path / "kthreadd.svg"
    code, _, err = cli("stack", "--pid", "2", "--at-fork", "--svg", str(path))
    assert code == 0, err
    svg = path.read_text()
    code, out, _ = cli("ptregs", "--pid", "2", "--format", "json")
    frame = json.loads(out)
    labelled = rows(svg)
    for offset, name in enumerate(frame["pt_regs"]):
        addr, value = labelled[f"pt_regs.{name}"]
        assert addr == frame["addr"] + 4 * offset
        assert int(value, 16) == frame["pt_regs"][name], name
    m = marks(svg)
    assert m["thread.sp"] == [frame["addr"]] and m["esp"] == [frame["addr"]]
    assert m["thread.sp0"] == [frame["addr"] + 68]
    assert labelled["STACK_END_MAGIC"][1] == "57ac6e9d"


def test_walk_svg_matches_walk_json(tmp_path, cli):
    path = tmp_path / "walk.svg"
    code, out, err = cli("walk", "--json", "--svg", str(path))
    assert code == 0, err
    w = json.loads(out)
    root = ET.fromstring(path.read_text())
    stacks = [g for g in root.iter(SVG + "g") if g.get("class") == "stack"]
    assert len(stacks) == 4  # copy_thread, RESTORE_REGS, iret, the thread function
    assert {int(g.get("data-base"), 16) for g in stacks} == {w["task"]["stack"]}
    first = rows(ET.tostring(stacks[0], encoding="unicode"))
    for name, value in w["pt_regs"].items():
        assert int(first[f"pt_regs.{name}"][1], 16) == value, name
    m = marks(path.read_text())
    assert set(m["thread.sp"]) == {w["task"]["thread_sp"]}
    # esp at each landmark is the register value the walk recorded there
    esps = [s["regs"]["esp"] for s in w["steps"]]
    assert m["esp"][0] == esps[0] == w["task"]["thread_sp"]
    iret = next(i for i, s in enumerate(w["steps"]) if s["insn"].startswith("iret"))
    assert m["esp"][1:3] == [esps[iret], esps[iret + 1]]
    assert m["esp"][3] == next(s["regs"]["esp"] for s in w["steps"] if s["addr"] == w["fn"])


def _normalised(svg: str) -> str:
    return re.sub(r'\s(id|href|xlink:href)="[^"]*"', "", svg)


def test_known_task_matches_the_reference_rendering(tmp_path, capsys):
    path = tmp_path / "kthreadd.svg"
    assert main(["stack", "--pid", "2", "--at-fork", "--svg", str(path)]) == 0
    assert _normalised(path.read_text()) == _normalised(REFERENCE.read_text())


def test_text_picture_marks_the_pointers(cli):
    code, out, _ = cli("stack", "--pid", "2", "--text")
    assert code == 0
    assert re.search(r"<- thread\.sp0 = [0-9a-f]{8}", out)
    assert re.search(r"<- esp = [0-9a-f]{8}", out)
    assert "return address: kernel_thread_helper+0x" in out
    assert "STACK_END_MAGIC  intact" in out


def test_unknown_pid_is_one_line_and_writes_nothing(tmp_path, cli):
    path = tmp_path / "x.svg"
    code, out, err = cli("stack", "--pid", "30000", "--svg", str(path))
    assert code == 1 and out == ""
    assert err.startswith("kthreadd-emu: stack: --pid: no task with pid 30000")
    assert len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_svg_into_a_missing_folder_is_one_line(tmp_path, cli):
    path = tmp_path / "no" / "x.svg"
    code, _, err = cli("stack", "--pid", "2", "--svg", str(path))
    assert code == 1 and err.startswith("kthreadd-emu: stack: cannot write")
    assert len(err.splitlines()) == 1


def test_stack_svg_from_the_cli_is_well_formed(tmp_path):
    """The whole command in-process, boot included (its speed is in `bench`:
    stack_svg_cold_s; the suite never times)."""
    assert main(["stack", "--pid", "2", "--svg", str(tmp_path / "k.svg")]) == 0
    ET.parse(tmp_path / "k.svg")
    kern = booted_kernel(3)
    ET.fromstring(to_svg([task_stack_picture(kern, pick_task(kern, 2))]))


@pytest.mark.parametrize("pid", ["1", "3"])
def test_other_tasks_draw_too(pid, cli):
    code, out, _ = cli("stack", "--pid", pid)
    assert code == 0 and f"pid {pid} " in out


def test_walk_svg_into_a_missing_folder_is_one_line_before_the_walk(tmp_path, cli):
    path = tmp_path / "no" / "walk.svg"
    code, out, err = cli("walk", "--svg", str(path))
    assert code == 1 and out == ""
    assert err.startswith("kthreadd-emu: walk: cannot write") and len(err.splitlines()) == 1

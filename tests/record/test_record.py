"""kthreadd-emu record: the ftrace text and the Perfetto timeline of a boot, driven
through the CLI as a person runs it."""

import json
import re
from collections import defaultdict
from pathlib import Path

import jsonschema
import pytest
from ftrace_text import HEADER, PRINTK, TRACEPOINTS, parse

from kernel_model.percpu import per_cpu
from kernel_model.task import find_task_by_pid
from kthreadd_emu.cli import main
from kthreadd_emu.output_file import write_output
from kthreadd_emu.scenario import booted_kernel
from kthreadd_emu.tracing import formats, perfetto_json
from kthreadd_emu.tracing.formats import save_trace
from kthreadd_emu.tracing.ftrace import ftrace_line
from kthreadd_emu.tracing.recorder import Event, Recorder, RecordError

SCHEMA = Path(__file__).with_name("trace_event.schema.json")
OWN_FUNCTIONS = {"kthread_create", "kthreadd", "complete", "wait_for_completion", "oops_end"}


@pytest.fixture(scope="module")
def ftrace(tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "boot.txt"
    assert main(["record", "--cpus", "3", "-o", str(path)]) == 0
    return path.read_text()


@pytest.fixture(scope="module")
def events(ftrace):
    """Every event line, read as 2.6.32 prints it (tests/ftrace_text.py)."""
    return parse(ftrace)


def test_the_header_is_ftraces_and_the_clock_note_a_trailing_comment(ftrace):
    lines = ftrace.splitlines(keepends=True)
    assert "".join(lines[:4]) == HEADER and not lines[4].startswith("#")
    assert lines[-1].startswith("# clock: emulated instructions, 1 instruction = 1 ns")
    assert [line for line in lines[4:-1] if line.startswith("#")] == []


def test_every_line_reads_as_2_6_32_prints_it(events):
    """The parse itself checks each line against its TP_printk or trace_printk form."""
    seen = {line.event for line in events}
    assert {"sched_process_fork", "sched_wakeup", "sched_wakeup_new", "sched_switch",
            "sched_migrate_task", "sched_wait_task"} <= seen  # fmt: skip
    assert set(PRINTK.values()) - {"oops"} <= seen


def test_sched_events_print_their_tp_printk(ftrace):
    text = ftrace.splitlines()
    switch = next(line for line in text if ": sched_switch: " in line)
    assert re.search(r": sched_switch: task swapper:0 \[\d+\] \(R\) ==> \S+:1 \[\d+\]$", switch)
    assert any(re.search(r": sched_wakeup_new: task .+:\d+ \[\d+\] success=1 \[00\d\]$", x)
               for x in text)  # fmt: skip
    assert any(re.search(r": sched_process_fork: parent kthreadd:2  child kthreadd:\d+$", x)
               for x in text)  # fmt: skip
    assert not re.search(r"\w=", "".join(x for x in text if ": sched_switch: " in x))


def test_the_tools_own_events_are_trace_printk_lines(events, ftrace):
    """Printed from the kernel function that would call trace_printk(), never under
    a name that looks like a tracepoint of 2.6.32."""
    own = [line for line in events if line.printk]
    assert own and {line.event for line in own} >= {"kthread_create", "kthreadd_dequeue"}
    assert {re.search(r": (\w+): ", x)[1] for x in ftrace.splitlines() if x[0] != "#"} <= (
        set(TRACEPOINTS) | OWN_FUNCTIONS
    )
    assert ": kthreadd: dequeue create=" in ftrace and ": wait_for_completion: sleep x=" in ftrace


@pytest.mark.parametrize(
    "ns, shown",
    [(16_516, "0.000017"), (16_499, "0.000016"), (999_999_500, "1.000000"), (1_499, "0.000001")],
)
def test_timestamps_round_to_the_nearest_microsecond_as_ns2usecs(ns, shown):
    line = ftrace_line(Event(ns, 0, 0, "sched_kthread_stop_ret", (0,)), {0: "<idle>"})
    assert line == f"          <idle>-0     [000] {shown:>12}: sched_kthread_stop_ret: ret 0"


def test_kthread_data_is_what_2_6_32_passes(events):
    """migration, ksoftirqd, watchdog: the CPU (hcpu); worker_thread: the CPU's cwq of
    keventd_wq; RHEL 6's cpu_stopper_thread: &per_cpu(cpu_stopper, cpu)."""
    data = defaultdict(list)
    for line in events:
        if line.event == "kthread_create":
            data[line.fields["threadfn"]].append(int(line.fields["data"], 16))
    kern = booted_kernel(3)
    assert data["migration_thread"] == data["ksoftirqd"] == data["watchdog"] == [0, 1, 2]
    assert data["worker_thread"] == [per_cpu(kern, c).keventd_cwq.addr for c in range(3)]
    assert data["cpu_stopper_thread"] == [per_cpu(kern, c).cpu_stopper.addr for c in range(3)]


def test_each_switch_continues_from_the_last_one_on_its_cpu(events):
    last_next = {}
    switches = 0
    for line in events:
        if line.event != "sched_switch":
            continue
        f = line.fields
        if line.cpu in last_next:
            assert f["prev_pid"] == last_next[line.cpu], line
        assert line.pid == int(f["prev_pid"])  # the line's task is the one leaving
        last_next[line.cpu] = f["next_pid"]
        switches += 1
    assert len(last_next) == 3 and switches > 50


def test_time_never_goes_back_on_a_cpu(events):
    last = defaultdict(int)
    for line in events:
        assert line.usecs >= last[line.cpu]
        last[line.cpu] = line.usecs
    assert max(last.values()) > 0


def test_every_fork_precedes_the_childs_first_switch_in(events):
    forked, first_in = {}, {}
    for n, line in enumerate(events):
        f = line.fields
        if line.event == "sched_process_fork":
            forked.setdefault(f["child_pid"], (n, line.usecs))
        elif line.event == "sched_switch" and f["next_pid"] != "0":
            first_in.setdefault(f["next_pid"], (n, line.usecs))
    assert first_in and set(first_in) <= set(forked)
    for pid, (n, t) in first_in.items():
        assert forked[pid][0] < n and forked[pid][1] <= t, pid


def test_one_fork_event_per_task_ps_lists_plus_the_exited(events, cli):
    code, out, _ = cli("ps", "--cpus", "3", "--json")
    assert code == 0
    listed = {p["pid"] for p in json.loads(out)}
    forks = [line.fields["child_pid"] for line in events if line.event == "sched_process_fork"]
    exited = [line.fields["pid"] for line in events if line.event == "sched_process_exit"]
    assert len(forks) == len(set(forks)) == len(listed) + len(exited)
    assert {int(p) for p in forks} == listed | {int(p) for p in exited}


def test_kthread_requests_are_served_in_order(events):
    queued = [line.fields["threadfn"] for line in events if line.event == "kthread_create"]
    served = [line.fields["threadfn"] for line in events if line.event == "kthreadd_dequeue"]
    assert queued == served and "migration_thread" in queued


@pytest.fixture(scope="module")
def perfetto(tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "boot.json"
    assert main(["record", "--cpus", "3", "--format", "perfetto", "-o", str(path)]) == 0
    return json.loads(path.read_text())


def test_perfetto_json_validates_against_the_trace_event_schema(perfetto):
    jsonschema.validate(perfetto, json.loads(SCHEMA.read_text()))


def test_schema_rejects_a_slice_without_duration(perfetto):
    bad = {"traceEvents": [{"ph": "X", "name": "x", "pid": 1, "tid": 1, "ts": 0}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, json.loads(SCHEMA.read_text()))


def test_each_cpu_track_has_no_overlapping_slices(perfetto):
    tracks = defaultdict(list)
    for ev in perfetto["traceEvents"]:
        if ev["ph"] == "X" and ev["pid"] == perfetto_json.CPUS_PID:
            tracks[ev["tid"]].append((ev["ts"], ev["ts"] + ev["dur"]))
    assert len(tracks) == 3
    for slices in tracks.values():
        slices.sort()
        for (_, end), (start, _) in zip(slices, slices[1:], strict=False):
            assert end <= start + 1e-9


def test_flows_join_a_start_to_an_end(perfetto):
    starts = {e["id"]: e for e in perfetto["traceEvents"] if e["ph"] == "s"}
    ends = {e["id"]: e for e in perfetto["traceEvents"] if e["ph"] == "f"}
    assert ends and set(ends) <= set(starts)
    for flow, end in ends.items():
        assert end["ts"] >= starts[flow]["ts"] and end["name"] == starts[flow]["name"]
    names = {e["name"] for e in ends.values()}
    assert names == {"wakeup", "kthread_create"}
    # A viewer binds each flow point to the slice around it on its track.
    slices = [e for e in perfetto["traceEvents"] if e["ph"] == "X"]
    for point in list(starts.values()) + list(ends.values()):
        assert any(
            e["tid"] == point["tid"] and e["ts"] <= point["ts"] <= e["ts"] + e["dur"]
            for e in slices
        ), point


def test_task_tracks_show_running_and_sleeping(perfetto):
    states = {e["name"] for e in perfetto["traceEvents"] if e["pid"] == perfetto_json.TASKS_PID}
    assert {"Running", "Sleeping", "Runnable"} <= states


def test_output_into_a_missing_folder_is_one_line(tmp_path, cli):
    target = tmp_path / "nowhere" / "boot.txt"
    code, out, err = cli("record", "--cpus", "2", "-o", str(target))
    assert code == 1 and out == ""
    assert (
        err
        == f"kthreadd-emu: record: cannot write {target}: folder {target.parent} does not exist\n"
    )
    assert not target.parent.exists()


def test_output_where_nothing_can_be_created_is_one_line(cli):
    code, _, err = cli("record", "-o", "/proc/kthreadd-emu-boot.txt")
    assert code == 1 and err.startswith("kthreadd-emu: record: cannot write /proc/")
    assert len(err.splitlines()) == 1


def test_unknown_format_is_refused_before_anything_is_written(tmp_path, capsys):
    target = tmp_path / "boot.txt"
    assert main(["record", "--format", "svg", "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert "invalid choice: 'svg'" in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RecordError, match="unknown format 'svg'"):
        save_trace(Recorder(), target, "svg")


def test_a_failed_save_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken(rec):
        raise RuntimeError("renderer broke")

    monkeypatch.setitem(formats.RENDERERS, "ftrace", broken)
    with pytest.raises(RuntimeError):
        save_trace(Recorder(), tmp_path / "boot.txt", "ftrace")
    with pytest.raises(UnicodeEncodeError):  # text that cannot be written
        write_output(tmp_path / "boot.txt", "ok\ud800")
    assert list(tmp_path.iterdir()) == []


def test_perfetto_protobuf_holds_the_same_events(ftrace, events, tmp_path):
    from perfetto.protos.perfetto.trace.perfetto_trace_pb2 import Trace

    path = tmp_path / "boot.pftrace"
    assert main(["record", "--cpus", "3", "--format", "perfetto-proto", "-o", str(path)]) == 0
    trace = Trace()
    trace.ParseFromString(path.read_bytes())
    got = [(b.ftrace_events.cpu, e) for b in trace.packet for e in b.ftrace_events.event]
    assert sorted({cpu for cpu, _ in got}) == [0, 1, 2]
    switches = [e.sched_switch for _, e in got if e.HasField("sched_switch")]
    text_switches = [line.fields for line in events if line.event == "sched_switch"]
    assert len(got) == len(events) and len(switches) == len(text_switches)
    states = {"R": 0, "S": 1, "D": 2, "x": 64}
    by_pids = sorted((s.prev_pid, s.next_pid, s.prev_state) for s in switches)
    expected = sorted(
        (int(f["prev_pid"]), int(f["next_pid"]), states[f["prev_state"]]) for f in text_switches
    )
    assert by_pids == expected
    prints = [e.print for _, e in got if e.HasField("print")]
    assert any(p.buf.startswith("kthread_create: create=") for p in prints)
    assert any(p.buf.startswith("kthreadd: dequeue create=") for p in prints)
    waits = [e.generic for _, e in got if e.HasField("generic")]
    assert waits and {w.event_name for w in waits} == {"sched_wait_task"}
    assert [f.name for f in waits[0].field] == ["comm", "pid", "prio"]


def test_perfetto_protobuf_without_the_package_is_one_line(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "perfetto.trace_builder.proto_builder", None)
    with pytest.raises(RecordError, match="needs the perfetto package"):
        save_trace(Recorder(), tmp_path / "x.pftrace", "perfetto-proto")
    assert list(tmp_path.iterdir()) == []


def test_recorder_records_only_between_start_and_stop(tmp_path):
    """The API a debugger drives: start(kern), stop(), save(path, format)."""
    from kernel_model.kthread import kthread_run
    from kthreadd_emu.scenario import booted_kernel, run_in_thread

    kern = booted_kernel(2)
    answer = kern.demo.symbols["answer"]

    def spawn(name):
        def main(k, out):
            yield from kthread_run(k, answer, 1, name)

        run_in_thread(kern, main, "caller")
        kern.run()

    rec = Recorder()
    spawn("before")
    rec.start(kern)
    spawn("during")
    rec.stop()
    spawn("after")
    save_trace(rec, tmp_path / "t.txt", "ftrace")
    text = (tmp_path / "t.txt").read_text()
    assert " during:" in text
    assert "before" not in text and "after" not in text
    assert not rec.clock.running


def test_the_four_tracepoints_record_2_6_32s_fields(tmp_path):
    """sched_wait_task, sched_kthread_stop(_ret) and sched_process_wait, fired as the
    kernel model fires them (TP_PROTO less rq), in each format."""
    from perfetto.protos.perfetto.trace.perfetto_trace_pb2 import Trace

    kern = booted_kernel(1)
    kthreadd, idle = find_task_by_pid(kern, 2), kern.current(0)
    rec = Recorder()
    rec.start(kern)
    kern.tracepoint("sched_wait_task", p=kthreadd)
    kern.tracepoint("sched_kthread_stop", t=kthreadd)
    kern.tracepoint("sched_kthread_stop_ret", ret=-4)
    kern.tracepoint("sched_process_wait", pid=7)  # comm and prio are current's
    rec.stop()
    for fmt in formats.FORMATS:
        save_trace(rec, tmp_path / fmt, fmt)
    text = [x.split(": ", 1)[1] for x in (tmp_path / "ftrace").read_text().splitlines()[4:-1]]
    assert text == [
        f"sched_wait_task: task kthreadd:2 [{kthreadd.prio}]",
        "sched_kthread_stop: task kthreadd:2",
        "sched_kthread_stop_ret: ret -4",
        f"sched_process_wait: task swapper:7 [{idle.prio}]",
    ]
    instants = json.loads((tmp_path / "perfetto").read_text())["traceEvents"]
    args = {e["name"]: e["args"] for e in instants if e["ph"] == "i"}
    assert args["sched_kthread_stop"] == {"comm": "kthreadd", "pid": 2}
    assert args["sched_process_wait"] == {"comm": "swapper", "pid": 7, "prio": idle.prio}
    trace = Trace()
    trace.ParseFromString((tmp_path / "perfetto-proto").read_bytes())
    got = [e for b in trace.packet for e in b.ftrace_events.event]
    generic = [(e.generic.event_name, [(f.name, f.str_value or f.int_value) for f in
                e.generic.field]) for e in got if e.HasField("generic")]  # fmt: skip
    assert generic == [
        ("sched_wait_task", [("comm", "kthreadd"), ("pid", 2), ("prio", kthreadd.prio)]),
        ("sched_kthread_stop", [("comm", "kthreadd"), ("pid", 2)]),
        ("sched_kthread_stop_ret", [("ret", -4)]),
    ]
    wait = next(e.sched_process_wait for e in got if e.HasField("sched_process_wait"))
    assert (wait.comm, wait.pid, wait.prio) == ("swapper", 7, idle.prio)


def test_kthread_bind_waits_for_each_bound_thread(events):
    """sched_wait_task fires in wait_task_inactive(), which kthread_bind() calls for
    each per-CPU thread it binds."""
    waited = {line.fields["comm"] for line in events if line.event == "sched_wait_task"}
    ran = {line.fields["next_comm"] for line in events if line.event == "sched_switch"}
    assert waited == {comm for comm in ran if "/" in comm} and len(waited) > 10

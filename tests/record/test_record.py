"""kthreadd-emu record: the ftrace text and the Perfetto timeline of a boot, driven
through the CLI as a person runs it."""

import json
import re
from collections import defaultdict
from pathlib import Path

import jsonschema
import pytest

from kthreadd_emu.cli import main
from kthreadd_emu.output_file import write_output
from kthreadd_emu.tracing import formats, perfetto_json
from kthreadd_emu.tracing.formats import save_trace
from kthreadd_emu.tracing.recorder import Recorder, RecordError

SCHEMA = Path(__file__).with_name("trace_event.schema.json")

# trace_print_context() of 2.6.32, then "event: fields".
LINE = re.compile(
    r"^\s*(?P<comm>\S.{0,15})-(?P<pid>\d+)\s+\[(?P<cpu>\d{3})\]\s+"
    r"(?P<secs>\d+)\.(?P<usecs>\d{6}): (?P<event>\w+): (?P<fields>.*)$"
)
FIELD = re.compile(r"(\w+)=(\S+)")
# Field names in the order of include/trace/events/sched.h's TP_STRUCT__entry (2.6.32),
# and of this project's kthread events.
FIELDS = {
    "sched_switch": "prev_comm prev_pid prev_prio prev_state next_comm next_pid next_prio",
    "sched_wakeup": "comm pid prio success cpu",
    "sched_wakeup_new": "comm pid prio success cpu",
    "sched_migrate_task": "comm pid prio orig_cpu dest_cpu",
    "sched_process_fork": "parent_comm parent_pid child_comm child_pid",
    "sched_process_exit": "comm pid prio",
    "sched_process_free": "comm pid prio",
    "kthread_create": "create threadfn data",
    "kthreadd_dequeue": "create threadfn",
    "complete": "x done",
    "wait_for_completion_sleep": "x",
    "wait_for_completion_wake": "x",
}


@pytest.fixture(scope="module")
def ftrace(tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "boot.txt"
    assert main(["record", "--cpus", "3", "-o", str(path)]) == 0
    return path.read_text()


@pytest.fixture(scope="module")
def events(ftrace):
    """(line number, parsed line, fields dict) of every event line."""
    out = []
    for n, line in enumerate(ftrace.splitlines()):
        if line.startswith("#"):
            continue
        m = LINE.match(line)
        assert m, f"line {n} does not parse: {line!r}"
        pairs = FIELD.findall(m["fields"])
        out.append((n, m, dict(pairs), [k for k, _ in pairs]))
    return out


def test_every_line_parses_with_the_kernels_field_names(events):
    seen = set()
    for _, m, _, names in events:
        seen.add(m["event"])
        assert names == FIELDS[m["event"]].split(), m.string
    assert set(FIELDS) - {"sched_process_exit", "sched_process_free"} <= seen


def test_switch_lines_read_as_ftrace_prints_them(ftrace):
    line = next(x for x in ftrace.splitlines() if ": sched_switch: " in x)
    assert re.search(r"prev_state=[RSDx|]+ ==> next_comm=", line)


def test_each_switch_continues_from_the_last_one_on_its_cpu(events):
    last_next = {}
    switches = 0
    for _, m, f, _ in events:
        if m["event"] != "sched_switch":
            continue
        cpu = m["cpu"]
        if cpu in last_next:
            assert f["prev_pid"] == last_next[cpu], m.string
        assert int(m["pid"]) == int(f["prev_pid"])  # the line's task is the one leaving
        last_next[cpu] = f["next_pid"]
        switches += 1
    assert len(last_next) == 3 and switches > 50


def test_time_never_goes_back_on_a_cpu(events):
    last = defaultdict(int)
    for _, m, _, _ in events:
        t = int(m["secs"]) * 1_000_000 + int(m["usecs"])
        assert t >= last[m["cpu"]]
        last[m["cpu"]] = t
    assert max(last.values()) > 0


def test_every_fork_precedes_the_childs_first_switch_in(events):
    forked, first_in = {}, {}
    for n, m, f, _ in events:
        t = int(m["secs"]) * 1_000_000 + int(m["usecs"])
        if m["event"] == "sched_process_fork":
            forked.setdefault(f["child_pid"], (n, t))
        elif m["event"] == "sched_switch" and f["next_pid"] != "0":
            first_in.setdefault(f["next_pid"], (n, t))
    assert first_in and set(first_in) <= set(forked)
    for pid, (n, t) in first_in.items():
        assert forked[pid][0] < n and forked[pid][1] <= t, pid


def test_one_fork_event_per_task_ps_lists_plus_the_exited(events, cli):
    code, out, _ = cli("ps", "--cpus", "3", "--json")
    assert code == 0
    listed = {p["pid"] for p in json.loads(out)}
    forks = [f["child_pid"] for _, m, f, _ in events if m["event"] == "sched_process_fork"]
    exited = [f["pid"] for _, m, f, _ in events if m["event"] == "sched_process_exit"]
    assert len(forks) == len(set(forks)) == len(listed) + len(exited)
    assert {int(p) for p in forks} == listed | {int(p) for p in exited}


def test_kthread_requests_are_served_in_order(events):
    queued = [f["threadfn"] for _, m, f, _ in events if m["event"] == "kthread_create"]
    served = [f["threadfn"] for _, m, f, _ in events if m["event"] == "kthreadd_dequeue"]
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
    text_switches = [f for _, m, f, _ in events if m["event"] == "sched_switch"]
    assert len(got) == len(events) and len(switches) == len(text_switches)
    states = {"R": 0, "S": 1, "D": 2, "x": 64}
    by_pids = sorted((s.prev_pid, s.next_pid, s.prev_state) for s in switches)
    expected = sorted(
        (int(f["prev_pid"]), int(f["next_pid"]), states[f["prev_state"]]) for f in text_switches
    )
    assert by_pids == expected
    prints = [e.print.buf for _, e in got if e.HasField("print")]
    assert any(b.startswith("kthread_create: create=") for b in prints)


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
    assert "comm=during" in text
    assert "before" not in text and "after" not in text
    assert not rec.clock.running

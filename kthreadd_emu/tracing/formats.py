"""The formats a recording is saved as, and saving it."""

from kthreadd_emu.output_file import write_output
from kthreadd_emu.tracing.ftrace import render_ftrace
from kthreadd_emu.tracing.perfetto_json import render_perfetto
from kthreadd_emu.tracing.perfetto_proto import render_perfetto_proto
from kthreadd_emu.tracing.recorder import Recorder, RecordError

RENDERERS = {
    "ftrace": render_ftrace,
    "perfetto": render_perfetto,
    "perfetto-proto": render_perfetto_proto,
}
FORMATS = tuple(RENDERERS)


def save_trace(rec: Recorder, path, fmt: str = "ftrace") -> None:
    """Write ``rec``'s events to ``path`` as ``fmt`` (kthreadd_emu/output_file.py)."""
    if fmt not in RENDERERS:
        raise RecordError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")
    write_output(path, RENDERERS[fmt](rec))

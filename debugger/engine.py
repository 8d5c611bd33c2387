"""Run control for the emulated kernel, in the style of pdb: the machine runs,
and when something the user asked for happens (a breakpoint, a finished step,
a watchpoint, a fault, Ctrl-C) the engine calls ``on_stop(stop)`` *right
there*, inside the emulator's hook or the Python kernel's trace function, with
the whole machine consistent and inspectable.  ``on_stop`` is the user
interface's loop (the shell's prompt, the gdb stub's packet loop); it reads
state through the engine and returns after calling one of the resuming
methods (``cont``, ``stepi``, ``step``, ...), and the machine goes on from
exactly where it stopped.

Interface (implemented by the lead; the shell and the gdb stub use only this):

    Debugger(kern, on_stop)                 on_stop(stop: Stop) -> None
    .start()                                run the machine until it finishes or
                                            the user quits (QuitDebugger)
    Breakpoints
    .break_at(spec, condition=None, temporary=False) -> Breakpoint
        spec: a symbol ("kernel_thread_helper"), "symbol+off", an address
        (int or "0x..."), or a Python kernel function by name ("copy_process")
    .delete(number=None), .enable(number), .disable(number)
    .breakpoints -> list[Breakpoint]        (number, location, address or python
                                            function, condition, enabled, hits,
                                            temporary)
    .watch(addr, length=4, kind="write"|"read"|"access") -> Watchpoint
    Resuming (call from on_stop, then return)
    .cont(), .stepi(n=1), .nexti(n=1), .step(), .next(), .finish(),
    .until(spec=None), .advance(spec)
    .reverse_stepi(n=1), .reverse_nexti(n=1), .reverse_continue(),
    .reverse_finish()
    .interrupt()                            from a signal handler / other thread
    State (while stopped)
    .selected_cpu, .select_cpu(n), .selected_task (pid), .select_task(pid)
    .registers(pid=None) -> dict            gdb's names (eax..gs, eip, eflags):
                                            live for a running task, as Linux
                                            saved them for a sleeping one
    .read_memory(addr, n) -> bytes, .write_memory(addr, data)
    .frames(pid=None) -> list[Frame]        guest and Python frames, innermost
                                            first (the backtrace)
    .icount -> int                          instructions executed so far
                                            (all CPUs; a call into a Python
                                            function counts as one)
"""

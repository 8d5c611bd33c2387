"""The debugger's engine: no I/O, one layer above kernel_model.

    engine.Debugger   run control over a Kernel: breakpoints, watchpoints,
                      stepping (guest instructions and Python kernel lines),
                      stop reasons, tasks, reverse execution
    (views, expressions: what the shell and the gdb stub show)

The shell (kthreadd_emu/commands/debug.py) and the gdb stub drive it; neither
reads the machine any other way.
"""

"""The debugger's shell: gdb's commands over the engine (debugger/engine.py) and
the views of debugger/.

    shell.py      Shell: the session's state, the loop, one line's dispatch
    script.py     where lines come from: -x files, sourced files, user commands
    terminal.py   the prompt (prompt_toolkit, Tab completion) and plain stdin
    registry.py   the commands by name, alias and class; help and completion read it
    commands/     one file per command (or per family gdb groups: info, break/tbreak)
"""

"""The debugger's commands, one file each (or one per family gdb documents
together: ``info`` and its subcommands, ``break``/``tbreak``, the ``reverse-*``
commands).

Adding a command is one new file here: a function taking ``(shell, rest)``,
decorated with ``@command(NAME, category=CLASS, aliases=(...), resumes=METHOD)``
from kthreadd_emu/shell/registry.py, its docstring its help (the first line
the summary ``help CLASS`` lists).  The registry imports every module of this
package the first time it is read: there is no list of them to keep."""

"""The part of the C headers that is made from the model itself, so that C code
sees the layouts and values the model reads and writes (as asm_offsets.py
hands them to assembly): ``kthreadd-emu/generated.h``, included by the
hand-written headers of kernel_model/include.

It holds the integer typedefs (include/linux/types.h), every struct the kernel's
headers declare and the model keeps in emulated memory (the typed views, each
field with its declared C type: ``current->comm`` compiles to the view's offset),
the constants of consts.py (TASK_*, PF_*, errnos ...), and the kernel's global
and per-CPU variables as its headers declare them (``extern struct task_struct
init_task;``, ``DECLARE_PER_CPU(struct task_struct *, current_task)``).
Structs private to a kernel .c file (kthread.c's struct kthread ...) stay out,
as in the kernel.
"""

from emu import ctype as c
from emu.ctype import INTEGER_TYPEDEFS
from emu.structs import C_NAMES, StructView
from kernel_model import consts, headers, ptrace
from kernel_model.data import kernel_data
from kernel_model.headers import percpu_area

GENERATED = "kthreadd-emu/generated.h"
# Structs of one kernel .c file (kthread.c, sched.c, stop_machine.c, workqueue.c),
# and the two areas whose fields are variables, not members.
PRIVATE = {
    "kthread_create_info", "kthread", "migration_req", "cpu_stopper",
    "cpu_workqueue_struct", "percpu_area", "kernel_data", "kmem_cache",
}  # fmt: skip
# Variables static to their kernel file; and those the kernel declares volatile.
STATIC = {"kthread_create_list", "kthread_create_lock", "kthreadd_done", "pidmap",
          "pidmap_nr_free", "last_pid", "cpu_stopper", "keventd_cwq", "__log_buf",
          "log_buf", "log_buf_len", "log_start", "con_start", "log_end", "logged_chars",
          "new_text_line", "printk_time", "malloc_sizes", "slab_block_cache"}  # fmt: skip
VOLATILE = {"jiffies"}  # include/linux/jiffies.h: extern unsigned long volatile jiffies


def kernel_views() -> list[type]:
    """Every struct the kernel model keeps in emulated memory, in definition order
    (kernel_data and percpu_area are sections, not structs: their fields are the
    variables)."""
    found = [v for m in (headers, ptrace) for v in vars(m).values() if _is_view(v)]
    return [v for v in found if v not in (kernel_data, percpu_area)]


def _is_view(value) -> bool:
    return isinstance(value, type) and issubclass(value, StructView) and value is not StructView


def declaration(ctype, name: str) -> str:
    """A C declarator: ``struct task_struct *real_parent``, ``char comm[16]``,
    ``int (*threadfn)(void *)``."""
    if isinstance(ctype, c.Array):
        return declaration(ctype.of, f"{name}[{ctype.count}]")
    if isinstance(ctype, c.Pointer) and isinstance(ctype.to, c.Function):
        params = ", ".join(c.spell(p) for p in ctype.to.params) or "void"
        return f"{c.spell(ctype.to.returns)} (*{name})({params})"
    if isinstance(ctype, c.Pointer):
        return declaration(ctype.to, f"*{name}")
    return f"{c.spell(ctype)} {name}"


def _public_views() -> list[type]:
    return [v for v in kernel_views() if v.__name__ not in PRIVATE]


def _needs(ctype) -> set:
    """The views a field of ``ctype`` needs defined before it (by value, or a
    typedef without a tag, which cannot be declared ahead)."""
    while isinstance(ctype, c.Array):
        ctype = ctype.of
    if isinstance(ctype, c.Pointer):
        inner = ctype.to
        if isinstance(inner, c.Function):
            return set().union(*(_needs(p) for p in (inner.returns, *inner.params)))
        view = C_NAMES.get(inner)
        return {view} if view is not None and not view.TAG else set()
    view = C_NAMES.get(ctype)
    return {view} if view is not None else set()


def _ordered(views: list[type]) -> list[type]:
    """Views with every struct they hold by value defined before them."""
    done: list[type] = []

    def visit(view):
        if view in done:
            return
        for f in view.FIELDS:
            for need in _needs(f.c_type) - {view}:
                visit(need)
        done.append(view)

    for view in views:
        visit(view)
    return done


def _struct_text(view) -> list[str]:
    members = [f"\t{declaration(f.c_type, f.name)};" for f in view.FIELDS]
    if view.TAG and view.C_TYPE == c.Typedef(view.__name__):
        return [f"struct {view.TAG} {{", *members, "};"]
    if not view.TAG:
        return ["typedef struct {", *members, f"}} {view.__name__};"]
    return [f"struct {view.TAG} {{", *members, "};"]


def _forward(views: list[type]) -> list[str]:
    """Tags named behind pointers, and the typedefs of tagged structs, up front."""
    lines = []
    for view in views:
        if view.TAG:
            lines.append(f"struct {view.TAG};")
            if view.C_TYPE == c.Typedef(view.__name__):
                lines.append(f"typedef struct {view.TAG} {view.__name__};")
    return lines


def _undefined_tags(views: list[type]) -> list[str]:
    """``struct mm_struct;`` for each struct named only behind a pointer."""
    tags = set()

    def walk(ctype):
        while isinstance(ctype, c.Array | c.Pointer):
            ctype = ctype.of if isinstance(ctype, c.Array) else ctype.to
        if isinstance(ctype, c.Function):
            for part in (ctype.returns, *ctype.params):
                walk(part)
        elif isinstance(ctype, c.Tagged) and ctype not in C_NAMES:
            tags.add(ctype)

    for view in views:
        for f in view.FIELDS:
            walk(f.c_type)
    return [f"{t.kind} {t.tag};" for t in sorted(tags, key=lambda t: t.tag)]


def _constants() -> list[str]:
    out = []
    for name, value in vars(consts).items():
        if name.lstrip("_").isupper() and type(value) is int:
            text = f"{value:#x}U" if value > 0x7FFFFFFF else str(value)
            out.append(f"#define {name} {text}")
    return out


def _variables() -> list[str]:
    public = set(_public_views())
    out = []
    for area, prefix in ((kernel_data, ""), (percpu_area, "per_cpu__")):
        for f in area.FIELDS:
            if f.name in STATIC or not _is_public(f.c_type, public):
                continue
            qualifier = " volatile" if f.name in VOLATILE else ""
            if prefix:  # DECLARE_PER_CPU(type, name)
                out.append(f"extern __typeof__({c.spell(f.c_type)}) per_cpu__{f.name};")
            else:
                out.append(f"extern {declaration(f.c_type, qualifier.strip() + ' ' + f.name)};"
                           .replace("  ", " "))  # fmt: skip
    return out


def _is_public(ctype, public: set) -> bool:
    while isinstance(ctype, c.Array):
        ctype = ctype.of
    view = C_NAMES.get(ctype)
    return view is None or view in public


def generated_header() -> str:
    views = _ordered(_public_views())
    typedefs = [f"typedef {base} {name};" for name, base in INTEGER_TYPEDEFS.items()]
    body = [
        "/* Made by kthreadd-emu from its kernel model (kernel_model/cheaders.py): the",
        " * structs as the model lays them out in emulated memory, its constants and",
        " * the kernel's variables.  Do not edit. */",
        "#ifndef _KTHREADD_EMU_GENERATED_H",
        "#define _KTHREADD_EMU_GENERATED_H",
        "",
        *typedefs,
        "",
        *_constants(),
        "",
        *_undefined_tags(views),
        *_forward(views),
        "",
    ]
    for view in views:
        body += [*_struct_text(view), ""]
    body += [*_variables(), "", "#endif", ""]
    return "\n".join(body)


def generated_headers() -> dict[str, str]:
    """Header files by their name under the include folder."""
    return {GENERATED: generated_header()}

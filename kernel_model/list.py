"""Doubly linked lists in emulated memory (include/linux/list.h), with the
checks of CONFIG_DEBUG_LIST (lib/list_debug.c).

Lists are addressed by the address of their list_head; entries by the
address of the list_head embedded in them (container_of is a subtraction).

Guest code can write anything into a list.  As with CONFIG_DEBUG_LIST,
__list_add and list_del check their neighbours' links first and report
"list_add corruption" / "list_del corruption" in lib/list_debug.c's words;
a walk checks each step the same way and gives up after MAX_ENTRIES.
Deviation: 2.6.32 only WARNs and carries on (and would then loop forever or
crash); here the report is a BUG that kills the task that found it, as
later kernels do with CONFIG_BUG_ON_DATA_CORRUPTION.
"""

from kernel_model.bug import KernelBug
from kernel_model.headers import list_head

# More entries than any list here can hold (every task_struct of the slab).
MAX_ENTRIES = 1 << 16


def _warn(where: str, line: int, message: str):
    """One WARN of lib/list_debug.c, as a BUG (see above)."""
    return KernelBug(f"WARNING: at lib/list_debug.c:{line} {where}()", message)


def INIT_LIST_HEAD(mem, head: int) -> None:
    node = list_head(mem, head)
    node.next = node.prev = head


def __list_add(mem, new: int, prev: int, nxt: int) -> None:
    next_node, prev_node = list_head(mem, nxt), list_head(mem, prev)
    if next_node.prev != prev:
        raise _warn("__list_add", 23, (
            f"list_add corruption. next->prev should be prev ({prev:08x}), "
            f"but was {next_node.prev:08x}. (next={nxt:08x})."))  # fmt: skip
    if prev_node.next != nxt:
        raise _warn("__list_add", 27, (
            f"list_add corruption. prev->next should be next ({nxt:08x}), "
            f"but was {prev_node.next:08x}. (prev={prev:08x})."))  # fmt: skip
    next_node.prev = new
    node = list_head(mem, new)
    node.next, node.prev = nxt, prev
    prev_node.next = new


def list_add_tail(mem, new: int, head: int) -> None:
    __list_add(mem, new, list_head(mem, head).prev, head)


def list_del_init(mem, entry: int) -> None:
    node = list_head(mem, entry)
    prev_node, next_node = list_head(mem, node.prev), list_head(mem, node.next)
    if prev_node.next != entry:
        raise _warn("list_del", 46, (
            f"list_del corruption. prev->next should be {entry:08x}, "
            f"but was {prev_node.next:08x}"))  # fmt: skip
    if next_node.prev != entry:
        raise _warn("list_del", 49, (
            f"list_del corruption. next->prev should be {entry:08x}, "
            f"but was {next_node.prev:08x}"))  # fmt: skip
    next_node.prev = node.prev
    prev_node.next = node.next
    node.next = node.prev = entry  # INIT_LIST_HEAD(entry)


def list_empty(mem, head: int) -> bool:
    return list_head(mem, head).next == head


def list_entries(mem, head: int, member_offset: int) -> list[int]:
    """list_for_each_entry: the addresses of the containing structs (each link
    checked; a list that does not come back to its head is a corruption)."""
    out, prev, node = [], head, list_head(mem, head).next
    while node != head:
        link = list_head(mem, node)
        if link.prev != prev or len(out) >= MAX_ENTRIES:
            raise KernelBug(
                f"list corruption. walking {head:08x}: {node:08x}->prev should be "
                f"{prev:08x}, but was {link.prev:08x}"
            )
        out.append(node - member_offset)
        prev, node = node, link.next
    return out

"""Doubly linked lists in emulated memory (include/linux/list.h).

Lists are addressed by the address of their list_head; entries by the
address of the list_head embedded in them (container_of is a subtraction).
"""

from kernel_model.headers import list_head


def INIT_LIST_HEAD(mem, head: int) -> None:
    node = list_head(mem, head)
    node.next = node.prev = head


def _add(mem, new: int, prev: int, nxt: int) -> None:
    list_head(mem, nxt).prev = new
    node = list_head(mem, new)
    node.next, node.prev = nxt, prev
    list_head(mem, prev).next = new


def list_add_tail(mem, new: int, head: int) -> None:
    _add(mem, new, list_head(mem, head).prev, head)


def list_del_init(mem, entry: int) -> None:
    node = list_head(mem, entry)
    list_head(mem, node.next).prev = node.prev
    list_head(mem, node.prev).next = node.next
    INIT_LIST_HEAD(mem, entry)


def list_empty(mem, head: int) -> bool:
    return list_head(mem, head).next == head


def list_entries(mem, head: int, member_offset: int) -> list[int]:
    """list_for_each_entry: the addresses of the containing structs."""
    out, node = [], list_head(mem, head).next
    while node != head:
        out.append(node - member_offset)
        node = list_head(mem, node).next
    return out

"""Lists in emulated memory check their links as CONFIG_DEBUG_LIST does
(lib/list_debug.c's messages), and a walk never loops."""

import pytest

from emu.memory import Memory, MemoryMap
from kernel_model.bug import KernelBug
from kernel_model.list import INIT_LIST_HEAD, list_add_tail, list_del_init, list_entries


@pytest.fixture
def mem():
    return Memory(MemoryMap(ram_size=1 << 22))


def three(mem):
    head, a, b = (mem.map.data + 8 * i for i in range(3))
    INIT_LIST_HEAD(mem, head)
    list_add_tail(mem, a, head)
    list_add_tail(mem, b, head)
    return head, a, b


def test_a_sound_list_walks_in_order(mem):
    head, a, b = three(mem)
    assert list_entries(mem, head, 0) == [a, b]
    list_del_init(mem, a)
    assert list_entries(mem, head, 0) == [b]


def test_a_node_pointing_at_itself_is_list_corruption_not_a_loop(mem):
    head, a, b = three(mem)
    mem.set_u32(a, a)  # a->next = a
    mem.set_u32(a + 4, a)  # a->prev = a
    with pytest.raises(KernelBug, match="list corruption"):
        list_entries(mem, head, 0)


def test_list_del_checks_both_neighbours(mem):
    head, a, b = three(mem)
    mem.set_u32(b + 4, head)  # b->prev should be a
    with pytest.raises(KernelBug) as bug:
        list_del_init(mem, a)
    assert bug.value.lines == [
        "WARNING: at lib/list_debug.c:49 list_del()",
        f"list_del corruption. next->prev should be {a:08x}, but was {head:08x}",
    ]


def test_list_add_checks_its_neighbours(mem):
    head, a, b = three(mem)
    mem.set_u32(head + 4, a)  # head->prev should be b, the tail
    with pytest.raises(KernelBug, match="list_add corruption. prev->next should be next"):
        list_add_tail(mem, mem.map.data + 64, head)

"""Memory for tasks: the page allocator for kernel stacks (mm/page_alloc.c's
__get_free_pages for order 1) and the task_struct cache (kernel/fork.c's
task_struct_cachep).

Free lists are Python lists of addresses; what they hand out lives in
emulated RAM.  Counters let tests check that nothing leaks.  A block's
struct view (Memory.view_cache of task_struct, and of the thread_info at
the bottom of each stack) outlives the block: a view is only a window on
its address, so the next object given that block is read through the same
view, already made (at most one view per block: the cache is bounded).
"""

from kernel_model.consts import THREAD_SIZE
from kernel_model.headers import task_struct


class OutOfMemory(Exception):
    pass


class Pool:
    """Fixed-size blocks carved from [base, end), lowest address first."""

    def __init__(self, base: int, end: int, size: int, align: int):
        first = -(-base // align) * align
        self.first, self.size = first, size
        self.free = list(range(first, end - size + 1, -(-size // align) * align))[::-1]
        self.total = len(self.free)
        self.allocated: set[int] = set()
        self.fail_next = 0  # fault injection: fail this many allocations

    def alloc(self) -> int:
        if self.fail_next:
            self.fail_next -= 1
            raise OutOfMemory
        if not self.free:
            raise OutOfMemory
        addr = self.free.pop()
        self.allocated.add(addr)
        return addr

    def release(self, addr: int) -> None:
        self.allocated.remove(addr)
        self.free.append(addr)

    def save(self) -> tuple:
        return list(self.free), set(self.allocated)

    def restore(self, saved) -> None:
        self.free, self.allocated = list(saved[0]), set(saved[1])
        self.fail_next = 0

    @property
    def high_water(self) -> int:
        """End of the highest block in use: nothing above it holds live data."""
        return max(self.allocated) + self.size if self.allocated else self.first

    @property
    def in_use(self) -> int:
        return self.total - len(self.free)


class MM:
    def __init__(self, mem):
        m = mem.map
        self.stacks = Pool(m.pages, m.end, THREAD_SIZE, THREAD_SIZE)
        self.tasks = Pool(m.slab, m.slab + m.slab_size, task_struct.SIZE, 64)

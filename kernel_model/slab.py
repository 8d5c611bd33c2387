"""kmalloc and kfree (mm/slab.c's general caches, reduced).

One cache per size of include/linux/kmalloc_sizes.h up to 8 KiB; a cache's slab
is an 8 KiB block of the page allocator (the pool the kernel stacks come from,
kernel_model/mm.py) cut into objects of its size, and its free objects are
chained through their first word.  Which cache a block serves is kept in
``slab_block_cache`` (2.6.32 keeps it in the block's struct page), so kfree
finds it from the pointer alone.  Everything lives in emulated memory, so a
snapshot restores it with the rest of the kernel.

Deviations: no per-CPU array caches, no slab coloring, blocks are never given
back to the page allocator, and nothing above 8 KiB (2.6.32 goes to 128 KiB
with multi-page slabs): such a kmalloc returns NULL.
"""

from kernel_model.bug import KernelBug
from kernel_model.consts import THREAD_SIZE
from kernel_model.data import KMALLOC_SIZES, SLAB_BLOCKS
from kernel_model.headers import kmem_cache
from kernel_model.mm import OutOfMemory
from kernel_model.runtime import guest_callable

ZERO_SIZE_PTR = 16  # kmalloc(0): a pointer that faults when used
__GFP_ZERO = 0x8000


def kmalloc_cache(kern, index: int):
    return kmem_cache(kern.mem, kern.data.addr + kern.data.OFFSETS["malloc_sizes"]
                      + index * kmem_cache.SIZE)  # fmt: skip


def _block_index(kern, addr: int) -> int | None:
    index = (addr - kern.machine.map.pages) // THREAD_SIZE
    return index if 0 <= index < SLAB_BLOCKS else None


def _block_slot(kern, index: int) -> int:
    return kern.data.addr + kern.data.OFFSETS["slab_block_cache"] + index


def cache_grow(kern, index: int) -> bool:
    """A new slab for cache ``index``: a block, cut into free objects."""
    try:
        block = kern.mm.stacks.alloc()
    except OutOfMemory:
        return False
    cache = kmalloc_cache(kern, index)
    kern.mem.write(_block_slot(kern, _block_index(kern, block)), bytes([index + 1]))
    size = cache.buffer_size
    for obj in range(block + (cache.num - 1) * size, block - 1, -size):
        kern.mem.set_u32(obj, cache.free)
        cache.free = obj
    cache.slabs += 1
    return True


def kmalloc(kern, size: int, flags: int) -> int:
    """An object of at least ``size`` bytes, or 0 (NULL)."""
    if size == 0:
        return ZERO_SIZE_PTR
    index = next((i for i, s in enumerate(KMALLOC_SIZES) if size <= s), None)
    if index is None:
        return 0
    cache = kmalloc_cache(kern, index)
    if not cache.buffer_size:  # kmem_cache_init()'s work, on first use
        cache.buffer_size, cache.num = KMALLOC_SIZES[index], THREAD_SIZE // KMALLOC_SIZES[index]
    if not cache.free and not cache_grow(kern, index):
        return 0
    obj = cache.free
    cache.free = kern.mem.u32(obj)
    cache.active += 1
    if flags & __GFP_ZERO:
        kern.mem.fill(obj, cache.buffer_size)
    return obj


@guest_callable(nargs=1)
def kfree(kern, objp: int) -> None:
    """void kfree(const void *objp): the object back to its cache; NULL and
    ZERO_SIZE_PTR are no-ops.  A pointer into no slab is page_get_cache()'s
    BUG_ON(!PageSlab(page)); one inside a slab but not at an object's start is
    a BUG here too (2.6.32 would corrupt the cache)."""
    if objp <= ZERO_SIZE_PTR:
        return
    block = _block_index(kern, objp)
    owner = 0 if block is None else kern.mem.read(_block_slot(kern, block), 1)[0]
    cache = kmalloc_cache(kern, owner - 1) if owner else None
    start = kern.machine.map.pages + (block or 0) * THREAD_SIZE
    if cache is None or (objp - start) % cache.buffer_size:
        raise KernelBug("kernel BUG at mm/slab.c:521!",
                        f"kfree: {objp:08x} is not an object kmalloc returned")  # fmt: skip
    kern.mem.set_u32(objp, cache.free)
    cache.free = objp
    cache.active -= 1


@guest_callable(nargs=2)
def __kmalloc(kern, size: int, flags: int) -> int:
    """void *__kmalloc(size_t size, gfp_t flags) (kmalloc() is its inline wrapper)."""
    return kmalloc(kern, size, flags)

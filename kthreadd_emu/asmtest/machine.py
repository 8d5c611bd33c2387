"""The machine assembly tests run on: booted once, snapshotted, restored per test.

A restore takes a fraction of a millisecond; when it is refused (a test
stopped a long-lived kernel thread, or aborted while one was busy), the
machine boots again and takes a new snapshot.
"""

from asm.assembler import AsmError, assemble
from kernel_model.cbuild import assemble_c, compile_c, is_c_file
from kernel_model.kernel import Kernel
from kernel_model.runtime import SnapshotError
from kthreadd_emu.errors import read_file
from kthreadd_emu.scenario import SETTLE_EVENTS, record_fork_frames

NCPUS = 3


class TestMachine:
    """A booted ``ncpus`` machine and the snapshot every test starts from."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, ncpus: int = NCPUS):
        self.ncpus = ncpus
        self.boots = 0
        self._images: dict[tuple, object] = {}
        self._boot()

    def _boot(self) -> None:
        # booted_kernel() without the demo thread functions: a test file's labels
        # may only collide with the kernel's own symbols.
        kern = Kernel(self.ncpus)
        record_fork_frames(kern)
        kern.boot()
        kern.run(max_events=SETTLE_EVENTS)
        self.kern = kern
        # What test sources assemble against: constants, asm-offsets, every kernel symbol.
        self.defines = kern.asm_symbols()
        self.snap = kern.snapshot()
        self.origin = kern.text_end  # where each test's file is loaded
        self.boots += 1

    def fresh(self):
        """The kernel, back at the snapshot (booted again if it cannot go back)."""
        try:
            self.kern.restore(self.snap)
        except SnapshotError:
            self._boot()
        return self.kern

    def assemble(
        self,
        source: str,
        filename: str,
        origin: int | None = None,
        cflags: tuple[str, ...] = (),
        before: tuple = (),
    ):
        """The image of a test file, to be loaded at ``origin`` (by default after the
        kernel text, or after the ``before`` images): a ``.S`` source assembled, a
        ``.c`` file compiled (cbuild's cache) and assembled, against the kernel's
        symbols and those of ``before`` (raises AsmError, CompileError, NoCompiler)."""
        if origin is None:
            origin = self.origin
            for image in before:
                origin = (image.origin + len(image.code) + 15) & ~15
        key = (source, filename, origin, cflags, tuple(id(b) for b in before))
        image = self._images.get(key)
        if image is None:
            defines = self.defines
            if before:
                defines = {**defines, **{n: a for b in before for n, a in b.symbols.items()}}
            if is_c_file(filename):
                image = assemble_c(compile_c(filename, cflags), origin, defines)
            else:
                image = assemble(source, origin, filename, defines)
            self._check_fits(image, filename)
            self._images[key] = image
        return image

    def assemble_files(self, paths, cflags: tuple[str, ...] = ()) -> tuple:
        """Several files, each loaded after the one before (``--load a.c --load b.S``)."""
        images: tuple = ()
        for path in paths:
            images += (self.assemble(read_file(path), str(path), cflags=cflags, before=images),)
        return images

    def _check_fits(self, image, filename: str) -> None:
        """Refuse an image that would run past the text area into the kernel's thunks."""
        m = self.kern.machine.map
        room = m.text + m.text_size - image.origin
        if len(image.code) > room:
            raise AsmError(filename, 0, "", f"{len(image.code)} bytes of code: only {room} "
                           f"fit after the kernel text (at {image.origin:#x})")  # fmt: skip

    def load(self, image) -> None:
        """Put ``image`` after the kernel text (or after the image before it)."""
        self.kern.load_image(image)

    def names(self, images) -> dict[str, int]:
        """The symbols expectations may use: the kernel's and the images'."""
        return {**self.defines, **{n: a for image in images for n, a in image.symbols.items()}}

    def code_address(self, images, name: str) -> int | None:
        """A label of one of the images or a kernel code symbol; None if it is neither."""
        for image in images:
            if name in image.symbols:
                return image.symbols[name]
        sym = self.kern.symbols.by_name.get(name)
        return sym.addr if sym is not None and sym.kind == "asm" else None

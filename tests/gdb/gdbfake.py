"""A Target with two threads and 256 bytes of memory, for wire transcripts."""

from gdbstub.target import EFAULT, ENOENT, SIGINT, Stop, Target, TargetError

BASE = 0xC0000000


class FakeTarget(Target):
    def __init__(self):
        self.memory = bytearray(range(256))
        self.regs = {
            1: {"eax": 1, "eip": 0xC0100000, "eflags": 0x286, "cs": 0x60, "orig_eax": 0xFFFFFFFF},
            3: {"eax": 0x2A, "ebx": 0xC0100F00, "esp": 0xC0901FE4, "eip": 0xC0100010},
        }
        self.names = {1: "swapper pid 0 R cpu0", 3: "kthreadd pid 2 S cpu0"}
        self.stop = Stop(1, core=0)
        self.breakpoints: set[tuple] = set()
        self.log: list = []
        self.on_resume = None  # callable(actions, stopped): what a resume does

    def threads(self):
        return sorted(self.regs)

    def thread_alive(self, tid):
        return tid in self.regs

    def thread_extra_info(self, tid):
        if tid not in self.names:
            raise TargetError("no such thread", ENOENT)
        return self.names[tid]

    def current_stop(self):
        return self.stop

    def registers(self, tid):
        if tid not in self.regs:
            raise TargetError("no such thread", ENOENT)
        return self.regs[tid]

    def write_registers(self, tid, values):
        self.registers(tid).update(values)

    def _offset(self, addr, n):
        if not BASE <= addr <= addr + n <= BASE + len(self.memory):
            raise TargetError("outside memory", EFAULT)
        return addr - BASE

    def read_memory(self, addr, length):
        off = self._offset(addr, length)
        return bytes(self.memory[off : off + length])

    def write_memory(self, addr, data):
        off = self._offset(addr, len(data))
        self.memory[off : off + len(data)] = data

    def insert_breakpoint(self, kind, addr, length):
        self.breakpoints.add((kind, addr, length))

    def remove_breakpoint(self, kind, addr, length):
        self.breakpoints.discard((kind, addr, length))

    def resume(self, actions, stopped):
        self.log.append(("resume", actions))
        if self.on_resume is not None:
            self.on_resume(actions, stopped)

    def interrupt(self):
        self.log.append(("interrupt",))
        self.stop = Stop(self.stop.tid, SIGINT, core=0)

    def detach(self):
        self.log.append(("detach",))

    def kill(self):
        self.log.append(("kill",))

    def exec_file(self):
        return "/tmp/kernel.elf"

    def monitor(self, command):
        if command == "ps":
            return "PID COMM\n2 kthreadd\n"
        raise TargetError(f"unknown command {command!r}")


class WaitingFakeTarget(FakeTarget):
    """A FakeTarget that runs (waits) after a resume until interrupted, as the
    server's driver expects: ``wait()`` returns with the SIGINT stop reported."""

    def __init__(self):
        super().__init__()
        import threading

        self.event = threading.Event()
        self.stopped_cb = None

    def resume(self, actions, stopped):
        super().resume(actions, stopped)
        self.stopped_cb = stopped

    def interrupt(self):
        super().interrupt()
        self.event.set()

    def wait(self):
        self.event.wait()
        self.event.clear()
        callback, self.stopped_cb = self.stopped_cb, None
        if callback is not None:
            callback(self.stop)

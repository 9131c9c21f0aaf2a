"""A QEMU guest for the image tests: runs qemu-system-x86_64 with the serial console on stdout,
collects its lines (and writes them, timestamped, to a log file), and waits for patterns.

    g = SerialGuest(argv, "tests/out/x/serial.log", name="x", monitor=path).start()
    i = g.wait_for(r"^sealed-login: serving", 120)     # index of the matching line
    g.monitor("system_powerdown"); g.proc.wait(30); g.stop()

ovmf_vtpm_argv(): the QEMU command line of a guest under Debian's OVMF with swtpm (vTPM suites).
"""
import os
import re
import shutil
import socket
import subprocess
import threading
import time


class SerialGuest:
    def __init__(self, argv, log_path, name="guest", monitor=None):
        """argv must include "-serial stdio"; monitor: the path of a "-monitor unix:PATH,server=on,wait=off"."""
        self.argv = argv
        self.log_path = log_path
        self.name = name
        self.mon = monitor
        self.lines = []
        self.cond = threading.Condition()
        self.proc = None

    def start(self):
        self.t0 = time.monotonic()
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.log.write(f"{time.monotonic() - self.t0:8.3f} {line}\n")
            self.log.flush()
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()

    def wait_for(self, pattern, timeout, start=0):
        """Index of the first serial line at or after `start` matching the regex; raises on timeout
        or when QEMU ends first."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    if rx.search(self.lines[i]):
                        return i
                    i += 1
                left = end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"{self.name}: no serial line matching {pattern!r} "
                                         f"(qemu exit {self.proc.poll()}); last: {self.lines[-8:]}")
                self.cond.wait(min(left, 0.5))

    def text(self):
        with self.cond:
            return "\n".join(self.lines)

    def monitor(self, command):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(self.mon)
        s.recv(4096)   # banner and prompt
        s.sendall(command.encode() + b"\n")
        time.sleep(0.3)
        s.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait(10)
            self.log.close()
        if self.mon:
            try:

                os.unlink(self.mon)
            except OSError:
                pass


OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


def ovmf_vtpm_argv(workdir, tpm_sock, boot, host_port, guest_port=8443, forwards=(), monitor=None):
    """argv for QEMU (TCG, q35, 768 MiB, one vCPU) under Debian's OVMF with a fresh copy of its
    variable store in workdir, swtpm behind tpm-crb on the socket tpm_sock, user networking that
    forwards 127.0.0.1:host_port to the guest's guest_port (and each (host, guest) port pair in
    forwards), and the serial console on stdout; monitor: a unix socket path for SerialGuest's
    monitor(), else none. boot: the argv items that give the firmware something to boot (-kernel
    ... or a disk)."""
    vars_fd = os.path.join(workdir, "vars.fd")
    shutil.copy(OVMF_VARS, vars_fd)
    fwd = "".join(f",hostfwd=tcp:127.0.0.1:{h}-:{g}" for h, g in [(host_port, guest_port)] + list(forwards))
    mon = f"unix:{monitor},server=on,wait=off" if monitor else "none"
    return ["qemu-system-x86_64", "-accel", "tcg", "-machine", "q35", "-m", "768", "-smp", "1",
            "-display", "none", "-no-reboot", "-serial", "stdio", "-monitor", mon,
            "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
            "-drive", f"if=pflash,format=raw,unit=1,file={vars_fd}"] + list(boot) + [
            "-netdev", "user,id=n" + fwd, "-device", "virtio-net-pci,netdev=n",
            "-chardev", f"socket,id=chrtpm,path={tpm_sock}", "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
            "-device", "tpm-crb,tpmdev=tpm0"]

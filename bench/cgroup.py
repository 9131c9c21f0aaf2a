"""A CPU- and memory-capped cgroup for one benchmarked server, like an OCI E2.1.Micro (1/8 OCPU,
1 GB). Owns: creating the group, moving a starting process into it (as a preexec_fn, so every
thread and child starts capped), reading its throttling counters, removing it. Never touches:
other cgroups' limits or members (the group is a child of this process's own cgroup, or of the
v2 root where a v2 child must live). No systemd needed; needs root.

    cg = Cgroup("sealed", cpu=0.125, mem_bytes=1 << 30)   # raises CgroupError if it cannot
    subprocess.Popen(..., preexec_fn=cg.enter)
    cg.check_member(pid); cg.throttled(); cg.remove()

cgroup v2 (cpu.max, memory.max) and v1 (cpu.cfs_quota_us, memory.limit_in_bytes) alike."""
import os
import time

ROOT = "/sys/fs/cgroup"
PERIOD_US = 100000   # systemd's CPUQuota= uses the same 100 ms period


class CgroupError(RuntimeError):
    pass


def _write(path, value):
    try:
        with open(path, "w") as f:
            f.write(str(value))
    except OSError as e:
        raise CgroupError(f"cannot write {value!r} to {path}: {e}") from e


def _read(path):
    with open(path) as f:
        return f.read()


def _own(controller):
    """This process's cgroup path in a v1 controller's hierarchy ('' for v2's '0::')."""
    for line in _read("/proc/self/cgroup").splitlines():
        _, ctrls, path = line.split(":", 2)
        if controller in ctrls.split(","):
            return path
    raise CgroupError(f"no {controller} controller in /proc/self/cgroup")


def _v1_mount(controller):
    """The directory where v1 `controller` is mounted (cpu may share it with cpuacct)."""
    for line in _read("/proc/self/mounts").splitlines():
        dev, mnt, fstype, opts = line.split()[:4]
        if fstype == "cgroup" and controller in opts.split(","):
            return mnt
    raise CgroupError(f"cgroup v1 controller {controller} is not mounted")


def version():
    return 2 if _fstype(ROOT) == "cgroup2" else 1


def _fstype(path):
    best, kind = "", ""
    for line in _read("/proc/self/mounts").splitlines():
        dev, mnt, fstype = line.split()[:3]
        if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
            best, kind = mnt, fstype
    return kind


class Cgroup:
    def __init__(self, name, cpu=0.125, mem_bytes=1 << 30):
        if os.geteuid() != 0:
            raise CgroupError("the capped benchmark creates cgroups: run it as root")
        self.name = f"sealed-bench-{name}-{os.getpid()}"
        self.cpu, self.mem_bytes = cpu, mem_bytes
        quota = int(cpu * PERIOD_US)
        self.v = version()
        if self.v == 2:
            # a v2 group with controllers cannot hold processes and have children; the root can
            ctl = _read(f"{ROOT}/cgroup.subtree_control").split()
            for c in ("cpu", "memory"):
                if c not in ctl:
                    _write(f"{ROOT}/cgroup.subtree_control", f"+{c}")
            d = f"{ROOT}/{self.name}"
            os.makedirs(d)
            self.dirs = {"cpu": d, "memory": d}
            _write(f"{d}/cpu.max", f"{quota} {PERIOD_US}")
            _write(f"{d}/memory.max", mem_bytes)
            if os.path.exists(f"{d}/memory.swap.max"):
                _write(f"{d}/memory.swap.max", 0)
        else:
            self.dirs = {}
            for c in ("cpu", "memory"):
                d = os.path.join(_v1_mount(c), _own(c).lstrip("/"), self.name)
                os.makedirs(d)
                self.dirs[c] = d
            _write(f"{self.dirs['cpu']}/cpu.cfs_period_us", PERIOD_US)
            _write(f"{self.dirs['cpu']}/cpu.cfs_quota_us", quota)
            _write(f"{self.dirs['memory']}/memory.limit_in_bytes", mem_bytes)
        self._check_limits(quota)

    def _check_limits(self, quota):
        if self.v == 2:
            got = _read(f"{self.dirs['cpu']}/cpu.max").split()
            mem = _read(f"{self.dirs['memory']}/memory.max").strip()
            ok = got == [str(quota), str(PERIOD_US)] and mem == str(self.mem_bytes)
        else:
            q = int(_read(f"{self.dirs['cpu']}/cpu.cfs_quota_us"))
            mem = int(_read(f"{self.dirs['memory']}/memory.limit_in_bytes"))
            ok = q == quota and mem == self.mem_bytes
        if not ok:
            raise CgroupError(f"cgroup {self.name}: limits did not stick")

    def enter(self):
        """preexec_fn: moves the calling (forked, not yet exec'd) process into the group."""
        for d in sorted(set(self.dirs.values())):
            with open(f"{d}/cgroup.procs", "w") as f:
                f.write(str(os.getpid()))

    def check_member(self, pid):
        """Raises CgroupError unless pid is in this group for both controllers."""
        text = _read(f"/proc/{pid}/cgroup")
        for c, d in self.dirs.items():
            if not any(line.rstrip().endswith("/" + self.name) for line in text.splitlines()
                       if self.v == 2 or c in line.split(":")[1].split(",")):
                raise CgroupError(f"process {pid} is not in {d} ({c}):\n{text}")

    def throttled(self):
        """(periods, throttled periods) so far: the quota at work shows as throttled > 0."""
        st = dict(line.split() for line in _read(f"{self.dirs['cpu']}/cpu.stat").splitlines())
        return int(st.get("nr_periods", 0)), int(st.get("nr_throttled", 0))

    def memory_peak_bytes(self):
        for f in ("memory.peak", "memory.max_usage_in_bytes"):
            p = f"{self.dirs['memory']}/{f}"
            if os.path.exists(p):
                return int(_read(p))
        return None

    def describe(self):
        return {"cgroup": self.v, "cpu_quota_us": int(self.cpu * PERIOD_US), "cpu_period_us": PERIOD_US,
                "memory_bytes": self.mem_bytes, "dirs": sorted(set(self.dirs.values()))}

    def remove(self):
        """Removes the group once its processes are gone (waits up to 5 s for them)."""
        for d in sorted(set(self.dirs.values())):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)

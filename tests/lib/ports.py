"""free_port(): a TCP port on 127.0.0.1 that is free now, for a test server to bind a moment later.
Chosen at random below the kernel's ephemeral range: a port from bind(0) is an ephemeral one, and
any outgoing connection on the machine (other tests, builds) can take it between this check and
the server's bind, which made tests fail with "cannot bind" under load."""
import random
import socket


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    low = _ephemeral_low()
    if low > 16000:
        for _ in range(200):
            port = random.randrange(15000, low)
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket() as s:            # no room below the ephemeral range: the kernel's choice
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_pair():
    """PORT with PORT+1 also free (swtpm: commands on PORT, control on PORT+1)."""
    for _ in range(100):
        port = free_port()
        if port >= 65535:
            continue
        with socket.socket() as t:
            try:
                t.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port pair")

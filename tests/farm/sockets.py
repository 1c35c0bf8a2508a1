"""What a process listens on, read from /proc (psutil is not installed): the TCP sockets
in state LISTEN among its open files, and whether one answers an HTTP request."""

from __future__ import annotations

import ipaddress
import os
import urllib.error
import urllib.request
from pathlib import Path

LISTEN = "0A"  # the st column of /proc/net/tcp*


def _address(hex_address: str) -> str:
    """``0100007F`` (IPv4) or 32 hex digits (IPv6), as /proc/net/tcp* prints them:
    32-bit words in the host's (little-endian) byte order."""
    raw = bytes.fromhex(hex_address)
    swapped = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(swapped))


def _listening_inodes() -> dict[int, tuple[str, int]]:
    """Every listening TCP socket of this network namespace: inode -> (address, port)."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == LISTEN:
                address, port = fields[1].split(":")
                found[int(fields[9])] = (_address(address), int(port, 16))
    return found


def listening(pids: list[int]) -> set[tuple[str, int]]:
    """The (address, port) pairs that the processes ``pids`` listen on."""
    inodes = _listening_inodes()
    found = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:  # closed meanwhile
                continue
            if target.startswith("socket:["):
                inode = int(target[len("socket:[") : -1])
                if inode in inodes:
                    found.add(inodes[inode])
    return found


def http_status(address: str, port: int, path: str = "/health") -> int | None:
    """The HTTP status a plain request gets (None: no HTTP answer, e.g. a TLS port)."""
    host = "127.0.0.1" if address in ("0.0.0.0", "::") else address
    url = f"http://[{host}]:{port}{path}" if ":" in host else f"http://{host}:{port}{path}"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
    try:
        with direct.open(url, timeout=5) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None

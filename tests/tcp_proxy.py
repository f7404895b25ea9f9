"""A small TCP proxy on real sockets that a test can cut and restore, to stage a database outage.

``TcpProxy(("127.0.0.1", 5432))`` listens on a free loopback port and relays every connection to
the target. :meth:`TcpProxy.cut` resets every open connection (RST on both sides, as when the
server process dies) and, until :meth:`TcpProxy.restore`, resets each new connection as soon as
it is accepted, so clients fail at once, as they do against a stopped server. Used by
tests/test_outages.py and bench/fault_db_outage.py; run it alone with
``python tests/tcp_proxy.py --target 127.0.0.1:5432 --port 15432``.
"""

from __future__ import annotations

import argparse
import socket
import struct
import threading
import time
from types import TracebackType

BUFFER = 64 * 1024


def _reset(sock: socket.socket) -> None:
    """End ``sock`` at once, with a TCP reset when its last user lets go.

    ``close()`` alone does not end a socket another thread is blocked in ``recv`` on: the kernel
    keeps it open until that call returns, so an idle peer never learns of the cut. A database
    backend idle in a transaction then held its row locks for good, and every request after the
    "outage" waited on them. ``shutdown`` wakes the blocked reader and tells the peer now.
    """
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class TcpProxy:
    """Relay TCP connections from a local port to ``target`` until cut."""

    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1", port: int = 0) -> None:
        self.target = target
        self._listener = socket.create_server((host, port), reuse_port=False)
        self._listener.settimeout(0.2)
        self.host, self.port = self._listener.getsockname()[:2]
        self._pairs: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._up = threading.Event()
        self._up.set()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)
        self._thread.start()

    @property
    def is_up(self) -> bool:
        """Return whether connections are relayed (not cut)."""
        return self._up.is_set()

    def cut(self) -> None:
        """Reset every relayed connection and refuse new ones until :meth:`restore`."""
        self._up.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for sock in pairs:
            _reset(sock)

    def restore(self) -> None:
        """Relay connections again."""
        self._up.set()

    def close(self) -> None:
        """Stop listening and reset every connection."""
        self._closed.set()
        self.cut()
        self._thread.join(timeout=2)
        self._listener.close()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._up.is_set():
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self._lock:  # a cut between the check above and here must not miss this pair
                relayed = self._up.is_set()
                if relayed:
                    self._pairs.update((client, upstream))
            if not relayed:
                _reset(client)
                _reset(upstream)
                continue
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(BUFFER)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                owned = source in self._pairs
                self._pairs.discard(source)
                self._pairs.discard(sink)
            if owned:  # an orderly close from one side: pass it on
                for sock in (source, sink):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    sock.close()


def main() -> None:
    """Run a proxy until interrupted; type Enter to cut or restore it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="127.0.0.1:5432", help="HOST:PORT to relay to")
    parser.add_argument("--port", type=int, default=0, help="local port (0: a free one)")
    args = parser.parse_args()
    host, _, port = args.target.rpartition(":")
    with TcpProxy((host or "127.0.0.1", int(port)), port=args.port) as proxy:
        print(f"relaying 127.0.0.1:{proxy.port} -> {args.target}; Enter toggles cut/restore, Ctrl-C stops")
        try:
            while True:
                input()
                if proxy.is_up:
                    proxy.cut()
                else:
                    proxy.restore()
                print("up" if proxy.is_up else "cut", time.strftime("%H:%M:%S"))
        except (KeyboardInterrupt, EOFError):
            pass


if __name__ == "__main__":
    main()

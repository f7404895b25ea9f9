"""Which addresses a webhook may reach: public ones, and the networks a self-hoster allows.

A URL's host is checked by the addresses it stands for, never by its spelling: every way of
writing an IPv4 address that resolvers accept (``0x7f000001``, ``2130706433``, ``017700000001``,
``127.1``), IPv6 (``[::1]``, ``[::ffff:127.0.0.1]``) and names that resolve to such addresses
(``localhost``). Refused by default: loopback, private, link-local, shared (CGNAT), multicast,
unspecified, reserved and documentation addresses, and public-looking IPv6 that embeds one of
them (IPv4-mapped, 6to4). ``WEBHOOK_ALLOWED_NETWORKS`` names networks allowed all the same.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Iterable[str]]
"""Return the addresses ``host`` stands for (``port`` as getaddrinfo takes it); raise OSError if none."""


class AddressNotAllowed(Exception):
    """The host is, or resolves to, an address webhooks may not reach."""


class HostNotFound(Exception):
    """The host name resolves to no address."""


def parse_networks(value: Any) -> tuple[Network, ...]:
    """Return the networks of a ``WEBHOOK_ALLOWED_NETWORKS`` value: a list of CIDRs, or one string
    of them separated by commas or spaces. Raise ValueError naming the first bad entry."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list | tuple):
        raise ValueError(f"expected a list of networks such as ['10.0.0.0/8'], got {value!r}")
    networks = []
    for entry in value:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=True))
        except ValueError as exc:
            raise ValueError(f"{entry!r} is not a network in CIDR form such as 10.0.0.0/8 ({exc})") from None
    return tuple(networks)


def literal_address(host: str) -> Address | None:
    """Return the address ``host`` spells out (any IPv4 spelling resolvers accept, or IPv6), else None."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.strip("[]"))
        except ValueError:
            return None
    return _ipv4_literal(host)


def _ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """Read ``a.b.c.d``, ``a.b.c``, ``a.b`` and ``a``, each part decimal, ``0x`` hex or ``0`` octal."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # "127.0.0.1." is the same address to a URL parser
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_ipv4_part(part) for part in parts]
    if any(n is None for n in numbers):
        return None
    *leading, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(parts)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _ipv4_part(part: str) -> int | None:
    if part[:2].lower() == "0x":
        digits, base = part[2:] or "0", 16
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not digits.isascii() or not digits.isalnum():
        return None
    try:
        return int(digits, base)
    except ValueError:
        return None


def is_allowed(address: Address, allowed: Iterable[Network] = ()) -> bool:
    """Return whether webhooks may reach ``address``: public, or inside one of the ``allowed`` networks."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address.version == net.version and address in net for net in allowed):
        return True
    return _is_public(address) and all(_is_public(inner) for inner in _embedded_ipv4(address))


def _is_public(address: Address) -> bool:
    refused = (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
    )
    return address.is_global and not refused


def _embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """Return the IPv4 addresses a 6to4 or Teredo address routes to (they look public themselves)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [address.sixtofour] if address.sixtofour is not None else []
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the operating system's resolver (getaddrinfo)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def resolve(host: str, port: int, resolver: Resolver | None = None) -> list[Address]:
    """Return the addresses ``host`` stands for, without duplicates; raise HostNotFound if none."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        found = list((resolver or system_resolver)(host, port))
    except (OSError, UnicodeError) as exc:
        raise HostNotFound(host) from exc
    addresses: list[Address] = []
    for text in found:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise HostNotFound(host)
    return addresses


def checked_addresses(
    host: str, port: int, allowed: Iterable[Network] = (), resolver: Resolver | None = None
) -> list[Address]:
    """Resolve ``host`` once and return its addresses if every one may be reached.

    Raise AddressNotAllowed if any may not (a name with one public and one private address is
    refused: which one a client would use is not ours to choose), HostNotFound if there are none.
    """
    networks = tuple(allowed)
    addresses = resolve(host, port, resolver)
    if not all(is_allowed(address, networks) for address in addresses):
        raise AddressNotAllowed(host)
    return addresses

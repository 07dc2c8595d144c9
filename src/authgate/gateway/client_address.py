"""The caller's address: the peer, or what trusted proxies say in X-Forwarded-For.

X-Forwarded-For is believed only when the peer is a configured proxy, and only as far back
as the chain stays within configured proxies: the first untrusted hop from the right is the
client. Anything unparsable ends the walk, so a forged header can never pick the address.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from authgate.http1.message import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientAddress:
    def __init__(self, trusted_proxies: tuple[str, ...]) -> None:
        self._networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(cidr, strict=False) for cidr in trusted_proxies
        )
        self._trusted = lru_cache(maxsize=4096)(self._is_trusted)

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)

    def __call__(self, request: Request) -> str:
        peer = request.client[0]
        if not self._networks or not self._trusted(peer):
            return peer
        forwarded = request.header("x-forwarded-for")
        if not forwarded:
            return peer
        client = peer
        for hop in reversed(forwarded.split(",")):
            hop = hop.strip()
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                return client
            client = hop
            if not self._trusted(hop):
                return hop
        return client

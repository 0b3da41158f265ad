"""The client's address and scheme behind trusted reverse proxies (X-Forwarded-For/-Proto).

Behind a proxy every connection comes from the proxy, so the per-IP limit on form posts
would count all users as one address (30 posts a minute by default: a busy site's logins
would all answer 429) and audit events would record the proxy. WSGI servers do not fix
this: gunicorn's `forwarded_allow_ips` governs only the scheme headers, granian reads no
forwarding header at all. This middleware runs outermost (Flask sees its
result) and rewrites REMOTE_ADDR and wsgi.url_scheme only when the connection comes
from a trusted proxy.

The client is found as nginx's `real_ip_recursive` finds it: X-Forwarded-For is read from
the right (each proxy appends the address it saw), skipping trusted proxies; the first
address that is not one is the client. Anything left of it was written by the client and is
ignored, so a client cannot choose its own address. A value that is not an IP address stops
the walk at the last trusted hop.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
SCHEMES = ("http", "https")


def parse_networks(values: list[str]) -> tuple[Network, ...]:
    """`127.0.0.1`, `10.0.0.0/8`, `::1`… as networks; ValueError names a bad entry."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network") from None
    return tuple(networks)


class TrustedProxies:
    """WSGI middleware: the forwarded client address and scheme, from trusted peers only."""

    def __init__(self, wsgi_app: Callable, networks: tuple[Network, ...]) -> None:
        self.wsgi_app = wsgi_app
        self.networks = networks
        self._verdicts: dict[str, bool] = {}  # peer address -> trusted (proxies are few)

    def trusted(self, address: str) -> bool:
        verdict = self._verdicts.get(address)
        if verdict is None:
            verdict = _in_networks(address, self.networks)
            if len(self._verdicts) < 1024:  # peers are many only without a proxy
                self._verdicts[address] = verdict
        return verdict

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        peer = environ.get("REMOTE_ADDR") or ""
        if self.trusted(peer):
            forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
            if forwarded_for:
                environ["REMOTE_ADDR"] = self.client_address(peer, forwarded_for)
            scheme = _last_value(environ.get("HTTP_X_FORWARDED_PROTO"))
            if scheme in SCHEMES:
                environ["wsgi.url_scheme"] = scheme
        return self.wsgi_app(environ, start_response)

    def client_address(self, peer: str, forwarded_for: str) -> str:
        client = peer
        for hop in reversed(forwarded_for.split(",")):
            if not self.trusted(client):
                break
            hop = hop.strip()
            if not _is_address(hop):
                break
            client = hop
        return client


def _in_networks(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _last_value(header: str | None) -> str | None:
    """The value the nearest proxy set (proxies that append add theirs at the end)."""
    if not header:
        return None
    return header.rsplit(",", 1)[-1].strip().lower()


def install_trusted_proxies(app, networks: tuple[Network, ...]) -> None:
    """Wrap app.wsgi_app outermost; nothing when no proxy is trusted."""
    if networks:
        app.wsgi_app = TrustedProxies(app.wsgi_app, networks)

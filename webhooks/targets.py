"""Where webhooks may be sent: no SSRF.

A target URL must
- be http(s) without credentials in it;
- name a host matching WEBHOOK_ALLOWED_HOSTS (exact names, or "*.example.org"
  for that domain's subdomains; empty: no target is allowed);
- resolve only to public addresses: private, loopback, link-local, shared,
  reserved, multicast and unspecified addresses are refused unless they fall
  in WEBHOOK_ALLOWED_NETWORKS (CIDRs, empty by default; the tests allow
  127.0.0.1/32 for their loopback receiver).

It is checked when an endpoint is registered or changed, and again before
every delivery (DNS may have changed). The delivery then connects to the
address that passed the check, not to a second lookup's answer, so a DNS
answer that changes between check and connect (rebinding) cannot redirect it.
"""

import fnmatch
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class TargetRefused(Exception):
    """The URL may not be a webhook target; the message says why, for the officer."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name as written (lower case), for the Host header and TLS
    port: int
    address: str  # the checked IP address the delivery connects to
    path: str  # path and query


def allowed_host_patterns() -> list[str]:
    return [p.strip().lower() for p in getattr(settings, "WEBHOOK_ALLOWED_HOSTS", []) if p.strip()]


def host_allowed(host: str) -> bool:
    host = host.lower().rstrip(".")
    for pattern in allowed_host_patterns():
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and fnmatch.fnmatchcase(host, pattern):
                return True
        elif host == pattern:
            return True
    return False


def _allowed_networks():
    return [ipaddress.ip_network(n.strip(), strict=False) for n in getattr(settings, "WEBHOOK_ALLOWED_NETWORKS", []) if n.strip()]


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _allowed_networks()):
        return True
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"The host name {host} does not resolve ({exc}).") from None
    seen = []
    for info in infos:
        address = info[4][0]
        if address not in seen:
            seen.append(address)
    return seen


def check_target(url: str) -> Target:
    """The checked target of `url`, or TargetRefused saying why not. Resolves the host (DNS)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"Not a valid URL: {exc}.") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("Only http:// and https:// URLs can receive webhooks.")
    if parts.username or parts.password:
        raise TargetRefused("Put no user name or password in the URL; receivers check the signature instead.")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise TargetRefused("The URL names no host.")
    if not host_allowed(host):
        raise TargetRefused(
            f"{host} is not in the hosts webhooks may be sent to (WEBHOOK_ALLOWED_HOSTS); ask the administrator."
        )
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port)
    refused = [a for a in addresses if not address_allowed(a)]
    if refused or not addresses:
        raise TargetRefused(
            f"{host} resolves to an internal address ({', '.join(refused)}); webhooks are only sent to public addresses."
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=parts.scheme, host=host, port=port, address=addresses[0], path=path)

"""Who is asking: the client's address as the proxies we trust report it, the one place every
rate limit and every stored client address starts from.

Each proxy appends the address it was reached from to X-Forwarded-For, so with n trusted proxies
in front of us the n-th address from the right is the one the outermost of them saw: the client.
Everything left of it was written by the client and proves nothing. With no trusted proxy
(DATARANK_TRUSTED_PROXY_HOPS=0) the header is ignored and REMOTE_ADDR is the client."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

# A person on IPv6 is usually handed a whole /64: counting its addresses one by one would let
# one machine pass for 2^64 clients.
IPV6_PREFIX = 64


def client_address(request: HttpRequest) -> str:
    """The client's address, normalised ("" when there is none to be had)."""
    hops = settings.DATARANK_TRUSTED_PROXY_HOPS
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    if hops == 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    # A shorter chain did not come through all our proxies, so nothing in it can be trusted.
    if len(forwarded) < hops:
        return remote
    return _address(forwarded[-hops]) or remote


def rate_limit_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit's `key=`: the client's address, an IPv6 one as its /64."""
    address = client_address(request)
    if ":" in address:
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False).network_address)
    return address


def client_fingerprint(request: HttpRequest) -> str:
    """A keyed hash of the client's address: enough to see that submissions came from one place,
    without keeping an address (personal data) nobody needs to read."""
    return salted_hmac("datarank.pages.clients", rate_limit_key("", request), algorithm="sha256").hexdigest()


def _address(raw: str) -> str:
    """`raw` as an IP address in its canonical spelling, or "" when it is not one."""
    text = raw.strip()
    if text.startswith("[") and "]" in text:
        # [2001:db8::1]:443, as some proxies write it.
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        # 192.0.2.1:51234
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return ""

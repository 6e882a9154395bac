"""Security headers on every response: pure ASGI, outermost but for the request context.

Every answer says `nosniff`, may not be framed, and sends no referrer. An API answer gets the
strictest policy (`default-src 'none'`): it is data, never a page. An SVG image (the board's
charts) may apply its own inline styles and nothing else. An HTML page (the Swagger UI
and ReDoc pages, whose code the process serves itself: services/docs.py) gets a policy built
from the page itself: the exact origins its `<script>`, stylesheet and icon tags name (`'self'`
for the page's own paths), and the hash of each inline script, so a page can run what it ships
and nothing injected into it. Headers of the same name
from inside (a proxied service's) are replaced, so each appears once.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_API_POLICY_VALUE = API_POLICY.encode()
# A chart drawn as SVG styles itself with its own <style>; it runs and loads nothing.
SVG_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_SVG_POLICY_VALUE = SVG_POLICY.encode()
_FIXED = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_REPLACED = frozenset({name for name, _ in _FIXED} | {b"content-security-policy", b"strict-transport-security"})

_SCRIPT = re.compile(r"<script(?P<attributes>[^>]*)>(?P<body>.*?)</script>", re.DOTALL | re.IGNORECASE)
_LINK = re.compile(r"<link(?P<attributes>[^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""(?P<name>[a-z-]+)\s*=\s*["'](?P<value>[^"']*)["']""", re.IGNORECASE)
# Google's font stylesheet (ReDoc's page links it) loads the fonts themselves from here.
_FONT_FILES_ORIGIN = {"https://fonts.googleapis.com": "https://fonts.gstatic.com"}


def _attributes(text: str) -> dict[str, str]:
    return {match["name"].lower(): match["value"] for match in _ATTRIBUTE.finditer(text)}


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc and url.startswith("/"):
        return "'self'"  # the page's own assets, served beside it (services/docs.py)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme == "https" and parts.netloc else None


def _script_sources(html: str) -> tuple[set[str], list[str]]:
    """The origins of the page's script tags and the hashes of its inline scripts; and the URLs."""
    sources: set[str] = set()
    urls: list[str] = []
    for match in _SCRIPT.finditer(html):
        url = _attributes(match["attributes"]).get("src")
        if url is None:
            digest = hashlib.sha256(match["body"].encode()).digest()
            sources.add(f"'sha256-{base64.b64encode(digest).decode()}'")
        elif origin := _origin(url):
            sources.add(origin)
            urls.append(url)
    return sources, urls


def _link_sources(html: str) -> tuple[set[str], set[str], set[str]]:
    """The origins of the page's stylesheets, icons, and the fonts its stylesheets load."""
    styles: set[str] = set()
    images: set[str] = set()
    fonts: set[str] = set()
    for match in _LINK.finditer(html):
        attributes = _attributes(match["attributes"])
        origin = _origin(attributes.get("href", ""))
        relation = attributes.get("rel", "").lower()
        if origin is None:
            continue
        if relation == "stylesheet":
            styles.add(origin)
            if origin in _FONT_FILES_ORIGIN:
                fonts.add(_FONT_FILES_ORIGIN[origin])
        elif "icon" in relation:
            images.add(origin)
    return styles, images, fonts


def _directive(name: str, sources: set[str]) -> str:
    return f"{name} {' '.join(sorted(sources))}" if sources else f"{name} 'none'"


def page_policy(html: str) -> str:
    """The content security policy of one HTML page: what it names, and no more."""
    scripts, script_urls = _script_sources(html)
    styles, images, fonts = _link_sources(html)
    if styles:
        images.add("data:")  # Swagger UI's icons are data: URIs in its stylesheet
    if styles or "<style" in html:
        # Both UIs set styles at run time (ReDoc's styled-components add <style> elements),
        # which only 'unsafe-inline' allows; styles cannot run code, and script-src stays exact.
        styles.add("'unsafe-inline'")
    directives = [
        "default-src 'none'",
        _directive("script-src", scripts),
        _directive("style-src", styles),
        _directive("img-src", images),
    ]
    if fonts:
        directives.append(_directive("font-src", fonts))
    if any("redoc" in url.rsplit("/", 1)[-1] or "/redoc@" in url for url in script_urls):
        # ReDoc runs its search index in a worker it creates from a blob.
        directives.append("worker-src blob:")
    directives += ["connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"]
    return "; ".join(directives)


def _content_type(headers: list[tuple[bytes, bytes]]) -> bytes:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value
    return b""


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts_max_age_seconds: int = 0) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age_seconds}; includeSubDomains".encode() if hsts_max_age_seconds else None

    def _headers(self, scope: Scope, headers: list[tuple[bytes, bytes]], policy: bytes) -> list[tuple[bytes, bytes]]:
        kept = [(name, value) for name, value in headers if name.lower() not in _REPLACED]
        kept += _FIXED
        kept.append((b"content-security-policy", policy))
        # Browsers ignore HSTS over plain HTTP (RFC 6797 §8.1); behind a TLS proxy the scheme
        # is https once the gateway trusts its X-Forwarded-Proto (gateway.client_address).
        if self.hsts is not None and scope.get("scheme") == "https":
            kept.append((b"strict-transport-security", self.hsts))
        return kept

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page_start: Message | None = None
        page_body: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            nonlocal page_start
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                content_type = _content_type(headers)
                if content_type.startswith(b"text/html"):
                    # The policy depends on the page: hold the start until the whole page is here.
                    page_start = message
                    return
                policy = _SVG_POLICY_VALUE if content_type.startswith(b"image/svg+xml") else _API_POLICY_VALUE
                message["headers"] = self._headers(scope, headers, policy)
            elif message["type"] == "http.response.body" and page_start is not None:
                page_body.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                html = b"".join(page_body)
                policy = page_policy(html.decode("utf-8", "replace")).encode()
                page_start["headers"] = self._headers(scope, list(page_start.get("headers", [])), policy)
                await send(page_start)
                message = {"type": "http.response.body", "body": html}
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""A family's photo or voice note fetched from Twilio's media URL.

The URL comes in the signed webhook. The account's credentials go only to
Twilio's own API host (`https://api.twilio.com`, or `api_base_url` in its place);
Twilio answers with a redirect to where the file is kept, which is followed
without them, and only to an https address. The file is read in chunks and
abandoned past the limit, so a large file never sits in memory whole.
"""

from __future__ import annotations

import asyncio
import base64
from urllib.parse import SplitResult, urljoin, urlsplit

import aiohttp

from bot.channels.media import TOO_LARGE, Fetched, FetchLater, FetchRefused
from bot.channels.whatsapp.http import TwilioHttp
from storage.media.records import MediaRef

__all__ = ["DOWNLOAD_TIMEOUT", "fetch"]

DOWNLOAD_TIMEOUT = 60.0
MAX_REDIRECTS = 3
CHUNK = 64 * 1024
TWILIO_API_HOST = "api.twilio.com"


def _secure(url: str, api: SplitResult) -> bool:
    """A redirect goes only to https (a family's file never crosses the network in the
    clear), or back to the API's own origin (a stand-in on http in development)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return (parts.scheme, parts.netloc) == (api.scheme, api.netloc)


async def fetch(http: TwilioHttp, auth: tuple[str, str], ref: MediaRef, limit: int) -> Fetched:
    """The file at a Twilio media URL; FetchRefused(TOO_LARGE) past `limit` bytes."""
    parts = urlsplit(ref.locator)
    if parts.scheme != "https" or parts.hostname != TWILIO_API_HOST:
        raise FetchRefused("not_twilio")  # never send the credentials anywhere else
    pair = f"{auth[0]}:{auth[1]}".encode()
    headers: dict[str, str] | None = {
        "Authorization": "Basic " + base64.b64encode(pair).decode("ascii")
    }
    url = http.address(ref.locator)
    api = urlsplit(url)
    session = http.session
    if session is None:
        raise FetchLater("not_open")
    try:
        async with asyncio.timeout(DOWNLOAD_TIMEOUT):
            for _ in range(MAX_REDIRECTS + 1):
                async with session.get(url, headers=headers, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308):
                        location = response.headers.get("Location", "")
                        onward = urljoin(url, location)
                        if not location or not _secure(onward, api):
                            raise FetchRefused("bad_redirect")
                        url, headers = onward, None  # no credentials onward
                        continue
                    if response.status in (404, 403, 401, 410):
                        raise FetchRefused(f"http_{response.status}")
                    if response.status != 200:
                        raise FetchLater(f"http_{response.status}")
                    if (response.content_length or 0) > limit:
                        raise FetchRefused(TOO_LARGE)
                    data = bytearray()
                    async for chunk in response.content.iter_chunked(CHUNK):
                        data.extend(chunk)
                        if len(data) > limit:
                            raise FetchRefused(TOO_LARGE)
                    return Fetched(bytes(data), response.headers.get("Content-Type", ref.mime))
    except TimeoutError:
        raise FetchLater("timed_out") from None
    except aiohttp.ClientError as exc:
        # The class name only: aiohttp's message can carry the address.
        raise FetchLater(f"aiohttp_{type(exc).__name__}") from None
    raise FetchRefused("too_many_redirects")

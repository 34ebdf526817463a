"""Decoding of compressed request bodies, bounded so a decompression bomb cannot exhaust memory.

Rasa compresses large action calls with zlib (`Content-Encoding: deflate`); other clients use
gzip. Decompression is streamed with `max_length`, so at most `limit + 1` bytes are ever
produced no matter how far the input would expand.
"""

from __future__ import annotations

import zlib

__all__ = [
    "BodyTooLarge",
    "CompressionError",
    "UnsupportedEncoding",
    "decode_body",
]

# zlib's wbits: zlib container (RFC 1950), gzip container (RFC 1952), raw deflate (RFC 1951).
_ZLIB = 15
_GZIP = 16 + 15
_RAW_DEFLATE = -15
_CHUNK = 256 * 1024


class CompressionError(Exception):
    """The body does not decode with the encoding its header announces."""


class UnsupportedEncoding(Exception):
    """The Content-Encoding is not one we can decode."""

    def __init__(self, encoding: str) -> None:
        super().__init__(
            f"Unsupported Content-Encoding '{encoding}': use gzip, deflate or identity"
        )
        self.encoding = encoding


class BodyTooLarge(Exception):
    """The decoded body would exceed the configured limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body exceeds the limit of {limit} bytes after decompression")
        self.limit = limit


def _parse_encodings(header: str) -> list[str]:
    """Content-Encoding lists codings in the order applied; we undo them in reverse."""
    codings = [part.strip().lower() for part in header.split(",")]
    return [c for c in codings if c and c != "identity"]


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    decoder = zlib.decompressobj(wbits)
    out = bytearray()
    pending = data
    while pending:
        # Ask for at most one byte over the limit: enough to know it was exceeded.
        budget = limit + 1 - len(out)
        out += decoder.decompress(pending, min(budget, _CHUNK))
        if len(out) > limit:
            raise BodyTooLarge(limit)
        pending = decoder.unconsumed_tail
        if decoder.eof:
            break
    if not decoder.eof:
        out += decoder.flush(limit + 1 - len(out))
        if len(out) > limit:
            raise BodyTooLarge(limit)
        if not decoder.eof:
            raise CompressionError("compressed body is truncated")
    return bytes(out)


def _decode_one(data: bytes, coding: str, limit: int) -> bytes:
    try:
        if coding in ("gzip", "x-gzip"):
            return _inflate(data, _GZIP, limit)
        if coding == "deflate":
            # RFC 9110 says zlib container; some clients send raw deflate, so accept both.
            try:
                return _inflate(data, _ZLIB, limit)
            except zlib.error:
                return _inflate(data, _RAW_DEFLATE, limit)
    except zlib.error as exc:
        raise CompressionError(f"body is not valid {coding} data ({exc})") from None
    raise UnsupportedEncoding(coding)


def decode_body(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Undo every coding in `content_encoding`; raise if the result would exceed `limit` bytes."""
    if not content_encoding:
        return body
    codings = _parse_encodings(content_encoding)
    for coding in codings:
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise UnsupportedEncoding(coding)
    for coding in reversed(codings):
        body = _decode_one(body, coding, limit)
    return body

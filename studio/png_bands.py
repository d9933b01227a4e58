"""Lossless PNG for big RGB frames, written in independent bands: fast to write, to read, and to rewrite in part.

A 4K frame is 50 MB of pixels; zlib at its fastest needs about half a second to pack it, and as long again
to unpack it. Here the frame is cut into bands of ``BAND_ROWS`` rows. A band's first row is stored as it is and
the others take the Up filter (the row minus the row above: one NumPy subtraction, undone by one addition per
row), and every band is deflated on its own, ending on a full flush, into an IDAT chunk of its own. So:

- bands are packed and unpacked on all cores at once, with ISA-L's deflate (``isal``: zlib's format at about
  three times its speed);
- a private ``baND`` chunk after the image data lists each band's length and checksum, so a reader finds
  the bands without scanning, and checks each one it unpacks;
- a region edit unpacks only the bands its change touches (``decode(data, rows=...)``) and rewrites only
  those: the others are copied from the original's file as they are (``encode(..., reuse=frame,
  changed=rows)``);
- other private chunks (the thumbnail's preview, ``images.PREVIEW``) come back with the frame.

The file is an ordinary 8-bit RGB PNG: every reader concatenates the IDAT chunks into one zlib stream. A file
from anywhere else (another writer, an edited index) is not ours: ``decode`` returns None and the caller uses
Pillow.
"""

from __future__ import annotations

import io
import struct
import threading
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from isal import isal_zlib as deflate_lib  # ISA-L's deflate: zlib's format, about three times zlib's speed
from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
INDEX = b"baND"  # ancillary (b), private (a), reserved (N), unsafe to copy (D): it describes the IDAT layout
INDEX_VERSION = 2  # 2: each band's first row unfiltered, so any band unpacks alone
BAND_ROWS = 16  # a 4K band's 196 KB stay under the runner's 256 KiB mmap bar (studio/memory.py): its buffers
# come from the heap instead of fresh mappings, and an edit rewrites little more than the rows it changed
NONE, UP = 0, 2  # PNG filter types: 0 the bytes as they are, 2 each byte minus the byte above it
LEVEL = 1
MAX_PIXELS = 64_000_000  # the most any picture may have (images.MAX_PIXELS): a header claiming more is refused
WORKERS = 2  # threads per call: the deflate libraries and NumPy release the GIL on a band's work
ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KB window, fastest: the header a level-1 stream carries
Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Band:
    """One band as stored: its raw deflate bytes (a full flush ends it; the last one ends the stream), the
    Adler-32 of its filtered bytes, how many filtered bytes it holds, and its IDAT chunk's CRC."""

    data: bytes | memoryview = field(repr=False)
    adler: int
    size: int
    crc: int


@dataclass(frozen=True)
class Frame:
    """A decoded file: its pixels (rows × columns × RGB, a view with a row stride), of which the rows
    ``decoded`` [top, bottom) hold the picture (all of them unless ``decode`` was asked for fewer), its bands,
    which ``encode`` copies where rows did not change, and its other private chunks by type."""

    pixels: np.ndarray = field(repr=False)
    bands: tuple[Band, ...] = field(repr=False)
    band_rows: int
    decoded: tuple[int, int]
    extras: dict[bytes, bytes] = field(default_factory=dict, repr=False)


def encode(pixels: np.ndarray, chunks: Iterable[tuple[bytes, bytes]] = (), reuse: Frame | None = None,
           changed: tuple[int, int] | None = None,
           after: Callable[[], Iterable[tuple[bytes, bytes]]] | None = None) -> bytes:
    """``pixels`` (height × width × 3, uint8) as PNG bytes, with ``chunks`` (type, payload) after the header
    and the chunks ``after()`` returns after the image data (asked for once the bands are written, so they
    can be made meanwhile: the thumbnail's preview).

    With ``reuse`` (the decoded original, same size) and ``changed`` (the rows [top, bottom) that may
    differ from it), every band whose rows lie outside ``changed`` is copied from the original's file
    instead of being filtered and deflated again (a band starts afresh: its first row is not filtered).
    """
    height, width, channels = pixels.shape
    if channels != 3 or pixels.dtype != np.uint8:
        raise ValueError("encode takes height × width × 3 uint8 pixels")
    return _encoded(lambda top, bottom: pixels[top:bottom].reshape(bottom - top, -1), width, height, chunks,
                    _reusable(reuse, pixels.shape, changed), after)


def encode_image(image: Image.Image, chunks: Iterable[tuple[bytes, bytes]] = (),
                 after: Callable[[], Iterable[tuple[bytes, bytes]]] | None = None) -> bytes:
    """A Pillow RGB image as PNG bytes, its rows read a band at a time (no second copy of the frame)."""
    if image.mode != "RGB":
        raise ValueError(f"encode_image takes an RGB image, not {image.mode}")
    width, height = image.size
    image.load()
    return _encoded(lambda top, bottom: np.asarray(image.crop((0, top, width, bottom))).reshape(bottom - top, -1),
                    width, height, chunks, {}, after)


def is_banded(data: bytes) -> bool:
    """Whether ``data`` claims this module's layout (its bands are checked only when decoded)."""
    return _layout(data) is not None


def header(data: bytes) -> tuple[int, int, dict[bytes, bytes]] | None:
    """(width, height, private chunks) of a file in this module's layout, read without unpacking a band."""
    layout = _layout(data)
    return (layout[0], layout[1], layout[6]) if layout is not None else None


def _encoded(rows_of: Callable[[int, int], np.ndarray], width: int, height: int,
             chunks: Iterable[tuple[bytes, bytes]], reusable: dict[int, Band],
             after: Callable[[], Iterable[tuple[bytes, bytes]]] | None = None) -> bytes:
    """The file: header, ``chunks``, the bands (``reusable`` ones copied, the rest filtered and deflated on
    ``WORKERS`` threads), their joint Adler-32, the band index, the chunks ``after()`` gives, the end."""
    starts = range(0, height, BAND_ROWS)
    last = starts[-1]

    scratch = threading.local()  # each worker filters into one buffer of its own, reused band after band

    def band(top: int) -> Band:
        kept = reusable.get(top)
        if kept is not None:
            return kept
        if not hasattr(scratch, "rows"):
            scratch.rows = np.empty((BAND_ROWS, width * 3 + 1), np.uint8)
        return _deflated_band(rows_of(top, min(height, top + BAND_ROWS)), top == last, scratch.rows)

    out = io.BytesIO()  # its getvalue() hands over the buffer: the file is never held twice
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, truecolour, no interlace
    out.write(SIGNATURE + chunk(b"IHDR", ihdr))
    for kind, payload in chunks:
        out.write(chunk(kind, payload))
    out.write(chunk(b"IDAT", ZLIB_HEADER))
    adler, entries = 1, []
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="png-bands") as pool:
        for item in pool.map(band, starts):  # in order, each written (and let go) as soon as it is ready
            out.write(struct.pack(">I", len(item.data)) + b"IDAT")
            out.write(item.data)
            out.write(struct.pack(">I", item.crc))
            adler = adler32_combine(adler, item.adler, item.size)
            entries.append((len(item.data), item.adler))
    out.write(chunk(b"IDAT", struct.pack(">I", adler)) + chunk(INDEX, _index(entries)))
    for kind, payload in after() if after is not None else ():
        out.write(chunk(kind, payload))
    out.write(chunk(b"IEND", b""))
    return out.getvalue()


def decode(data: bytes, rows: tuple[int, int] | None = None) -> Frame | None:
    """The pixels and bands of a file this module wrote; None for any other PNG (or one whose bands do not
    check out), which the caller then reads with Pillow.

    ``rows`` [top, bottom): only the bands holding them are unpacked (the frame's other rows are left
    unset, and cost no memory until written). Every band's CRC is checked: a rewrite copies it.
    """
    layout = _layout(data)
    if layout is None:
        return None
    width, height, band_rows, entries, idats, crcs, extras = layout
    top_wanted, bottom_wanted = rows if rows is not None else (0, height)
    first = max(0, min(top_wanted, height)) // band_rows
    last = -(-max(0, min(bottom_wanted, height)) // band_rows)
    stride = width * 3 + 1
    filtered = np.empty((height, stride), np.uint8)

    def unpack(index: int) -> Band | None:
        (length, adler), payload = entries[index], idats[index + 1]
        top = index * band_rows
        size = (min(height, top + band_rows) - top) * stride
        if len(payload) != length or deflate_lib.crc32(payload, _IDAT_CRC) != crcs[index]:
            return None  # (checked as the bytes a rewrite copies, with their CRC)
        if not first <= index < last:  # not needed
            return Band(payload, adler, size, crcs[index])
        raw = deflate_lib.decompressobj(-15).decompress(payload, size)
        if len(raw) != size or deflate_lib.adler32(raw) != adler:
            return None
        band = filtered[top:top + size // stride]
        band.reshape(-1)[:] = np.frombuffer(raw, np.uint8)
        if band[0, 0] != NONE or not np.all(band[1:, 0] == UP):
            return None
        pixels = band[:, 1:]
        for row in range(1, pixels.shape[0]):  # undo Up: each row plus the (already restored) row above
            np.add(pixels[row], pixels[row - 1], out=pixels[row])
        return Band(payload, adler, size, crcs[index])

    bands = _in_threads(unpack, range(len(entries)))
    whole = 1
    for item in bands:
        if item is None:
            return None
        whole = adler32_combine(whole, item.adler, item.size)
    if idats[-1] != struct.pack(">I", whole):
        return None
    decoded = (first * band_rows, min(height, last * band_rows))
    kept = tuple(item for item in bands if item is not None)
    return Frame(filtered[:, 1:].reshape(height, width, 3), kept, band_rows, decoded, extras)


def adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of two byte strings joined, from theirs (zlib's ``adler32_combine``, which Python lacks)."""
    base = 65521
    remainder = second_length % base
    sum1 = first & 0xFFFF
    sum2 = (remainder * sum1) % base
    sum1 = (sum1 + (second & 0xFFFF) + base - 1) % base
    sum2 = (sum2 + ((first >> 16) & 0xFFFF) + ((second >> 16) & 0xFFFF) + base - remainder) % base
    return sum1 | (sum2 << 16)


def _deflated_band(rows: np.ndarray, last: bool, scratch: np.ndarray) -> Band:
    """A band's rows filtered (the first not at all, so the band stands alone; the rest with Up) into
    ``scratch``, then deflated."""
    out = scratch[:rows.shape[0]]
    out[0, 0], out[1:, 0] = NONE, UP
    out[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=out[1:, 1:])  # modulo 256, as PNG filters are
    raw = out.data
    packer = deflate_lib.compressobj(LEVEL, deflate_lib.DEFLATED, -15)
    data = packer.compress(raw)
    data += packer.flush(deflate_lib.Z_FINISH if last else deflate_lib.Z_FULL_FLUSH)
    return Band(data, deflate_lib.adler32(raw), out.size, deflate_lib.crc32(data, _IDAT_CRC))


def _reusable(reuse: Frame | None, shape: tuple[int, ...], changed: tuple[int, int] | None) -> dict[int, Band]:
    """The original's bands that the new file may copy: same frame and band height, none of their rows in
    ``changed``."""
    if reuse is None or changed is None or reuse.pixels.shape != shape or reuse.band_rows != BAND_ROWS:
        return {}
    top_changed, bottom_changed = changed
    kept = {}
    for index, item in enumerate(reuse.bands):
        top = index * BAND_ROWS
        if top + BAND_ROWS <= top_changed or top >= bottom_changed:
            kept[top] = item
    return kept


def _in_threads(work: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
    """``work`` over ``items`` on ``WORKERS`` threads, results in order (a short-lived pool: no global state)."""
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="png-bands") as pool:
        return list(pool.map(work, items))


def _index(entries: Sequence[tuple[int, int]]) -> bytes:
    """The ``baND`` payload: version, rows per band, band count, then each band's length and Adler-32."""
    head = struct.pack(">BHI", INDEX_VERSION, BAND_ROWS, len(entries))
    return head + b"".join(struct.pack(">II", length, adler) for length, adler in entries)


def _layout(data: bytes) -> tuple[int, int, int, list[tuple[int, int]], list[memoryview], list[int],
                                  dict[bytes, bytes]] | None:
    """(width, height, band rows, (length, adler) per band, IDAT payloads, their CRCs) of a file laid out by
    ``encode``, and its other private chunks (the CRCs are the file's own, compared when a band is copied)."""
    if not data.startswith(SIGNATURE):
        return None
    view = memoryview(data)
    position, index, width, height = len(SIGNATURE), b"", 0, 0
    idats: list[memoryview] = []
    crcs: list[int] = []
    extras: dict[bytes, bytes] = {}
    while position + 12 <= len(data):
        length = struct.unpack_from(">I", data, position)[0]
        kind = data[position + 4:position + 8]
        payload = view[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", payload)
            if (depth, colour, interlace) != (8, 2, 0):
                return None
        elif kind == INDEX:
            index = bytes(payload)
        elif kind[0] & kind[1] & 0x20:  # ancillary and private: a studio chunk a caller may want back
            extras[bytes(kind)] = bytes(payload)
        elif kind == b"IDAT":
            idats.append(payload)
            crcs.append(struct.unpack_from(">I", data, position + 8 + length)[0])
        elif kind == b"IEND":
            break
        position += 12 + length
    if len(index) < 7 or not width or not height or width * height > MAX_PIXELS:
        return None
    version, band_rows, count = struct.unpack_from(">BHI", index)
    expected = -(-height // max(1, band_rows))
    if version != INDEX_VERSION or not band_rows or count != expected or len(index) != 7 + 8 * count:
        return None
    if len(idats) != count + 2 or bytes(idats[0]) != ZLIB_HEADER or len(idats[-1]) != 4:
        return None
    entries = [struct.unpack_from(">II", index, 7 + 8 * i) for i in range(count)]
    return width, height, band_rows, entries, idats, crcs[1:-1], extras


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC (of type and data)."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


_IDAT_CRC = zlib.crc32(b"IDAT")

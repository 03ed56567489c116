"""Shared by the report tests: evaluations built once, a hostile one, parsers."""

from __future__ import annotations

import functools
import json
import re
import struct
import zlib
from typing import Any

import numpy as np
from numpy.typing import NDArray

import servicekpi as sk

SCRIPT = "<script>alert(1)</script>"
# Ids are checked to be non-empty and unpadded only, so these are valid ids.
HOSTILE = {"A0001": f"{SCRIPT}|*_`A0001", "T0001": f"{SCRIPT}|T0001",
           "S0001": f"{SCRIPT}|S0001", "Li Min": f"Li {SCRIPT}|Min"}
"""Ids of the synthetic month and what the hostile month calls them instead."""


@functools.cache
def month() -> sk.MonthlyEvaluation:
    """The synthetic month of the brief: 5 000 tickets, 24 agents, 3 stations."""
    data = sk.synth.month(seed=1, tickets=5_000, agents=24, stations=3)
    return sk.evaluate(data, period=sk.Period.parse("2026-10", tz="Asia/Shanghai"))


@functools.cache
def history() -> tuple[sk.MonthlyEvaluation, ...]:
    """Two earlier months of the same network (smaller, to stay fast)."""
    out = []
    for seed, label in ((2, "2026-08"), (3, "2026-09")):
        period = sk.Period.parse(label, tz="Asia/Shanghai")
        data = sk.synth.month(seed=seed, tickets=2_000, agents=24, stations=3, start=period)
        out.append(sk.evaluate(data, period=period))
    return tuple(out)


@functools.cache
def hostile() -> sk.MonthlyEvaluation:
    """A month whose agent, team and station ids (and the reasons naming them) carry
    ``<script>`` and Markdown table syntax: the JSON of a synthetic month, rewritten."""
    data = sk.synth.month(seed=1, tickets=2_000, agents=12, stations=2)
    period = sk.Period.parse("2026-10", tz="Asia/Shanghai")
    document = json.loads(sk.evaluate(data, period=period).to_json())
    return sk.MonthlyEvaluation.from_json(json.dumps(_rewrite(document)))


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        return {_swap(key): _rewrite(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    return _swap(node) if isinstance(node, str) else node


def _swap(text: str) -> str:
    if text in HOSTILE:
        return HOSTILE[text]
    if " " in text:  # a sentence (base64 columns have no spaces)
        for old, new in HOSTILE.items():
            text = text.replace(old, new)
    return text


# --------------------------------------------------------------------------- Markdown


def split_row(line: str) -> list[str]:
    """The cells of a Markdown table row; a backslash escapes the next character."""
    cells, cell, escaped = [], "", False
    for char in line.strip():
        if escaped:
            cell, escaped = cell + char, False
        elif char == "\\":
            cell, escaped = cell + char, True
        elif char == "|":
            cells.append(cell)
            cell = ""
        else:
            cell += char
    cells.append(cell)
    return [c.strip() for c in cells[1:-1]]


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Every table of *text* as rows of cells."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append(split_row(line))
        elif current:
            tables.append(current)
            current = []
    return tables


ALIGNMENT = re.compile(r"^:?-{3,}:?$")


# --------------------------------------------------------------------------- PNG


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def png_rows(data: bytes) -> list[NDArray[np.uint8]]:
    """The rows of an 8-bit RGB(A), non-interlaced PNG that decode without the Average
    and Paeth filters (those need a per-pixel loop, too slow in Python for a page):
    rows filtered None or Sub, and Up rows below a decoded row. Each row is
    ``(width, channels)``."""
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, "
                         f"interlace {interlace})")
    channels = 3 if colour == 2 else 4
    stride = width * channels
    raw = np.frombuffer(zlib.decompress(b"".join(chunks)), dtype=np.uint8)
    rows = raw.reshape(height, stride + 1)
    out: list[NDArray[np.uint8]] = []
    previous: NDArray[np.uint8] | None = None
    for r in range(height):
        kind, line = int(rows[r, 0]), rows[r, 1:]
        current: NDArray[np.uint8] | None
        if kind == 0:
            current = line.copy()
        elif kind == 1:  # Sub: a running sum per channel, modulo 256
            current = np.cumsum(line.reshape(width, channels), axis=0,
                                dtype=np.uint8).reshape(stride)
        elif kind == 2 and previous is not None:  # Up
            current = (line + previous).astype(np.uint8)
        else:
            current = None
        if current is not None:
            out.append(current.reshape(width, channels))
        previous = current
    return out


def make_png(pixels: NDArray[np.uint8]) -> bytes:
    """An RGB PNG of ``(height, width, 3)`` pixels, every row filtered Sub (for tests
    of :func:`png_rows`)."""
    height, width, _ = pixels.shape
    filtered = pixels.astype(np.int16)
    filtered[:, 1:] -= pixels[:, :-1]
    lines = b"".join(b"\x01" + (filtered[r] % 256).astype(np.uint8).tobytes()
                     for r in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(lines)) + chunk(b"IEND", b""))

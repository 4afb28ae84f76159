"""Generates the hostile inputs (nothing binary is committed): each file with what must happen to it.

``make(folder)`` writes the files and returns {file name: expectation}, where the expectation is
"loads", "skipped" (a notice: empty, duplicate) or a phrase the one-line error must contain.
"""

from __future__ import annotations

import json
from pathlib import Path

TEXTS = {
    "crlf.txt": "Windows line ends\r\nMinsk is in Belarus.\r\n",
    "lone-cr.txt": "Old Mac line ends\rMinsk is in Belarus.\r",
    "tabs.txt": "Tabs\n\tMinsk\tand\tBrest.",
    "escapes.txt": "Escapes\nRed \x1b[31mMinsk\x1b[0m, cursor \x1b[2J\x1b[H, clipboard \x1b]52;c;aGk=\x07, link \x1b]8;;http://x\x1b\\here\x1b]8;;\x1b\\, bell \x07.",
    "c0-c1.txt": "Controls\nnull-ish \x01\x02\x7f and C1 \x85\x9b end.",
    "markup.txt": "Rich markup\n[bold red]Minsk[/] and [link=https://example.com]a link[/link] and [/].",
    "rtl.txt": "Right to left\nמינסק היא בירת בלארוס. مينسك هي عاصمة بيلاروسيا.",
    "combining.txt": "Combining marks\nZoe\u0308 met Ame\u0301lie in Re\u0301union.",
    "emoji.txt": "Emoji\nThe 👩🏽‍🔬 and 👨‍👩‍👧 flew from 🇧🇾 to 🇵🇱.",
    "cjk.txt": "East Asian wide\n習近平在北京會見了盧卡申科。東京とソウル。",
    "long-url.txt": "A very long word\nSee https://example.com/" + "a" * 2000 + " for Minsk.",
}


def make(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    expect: dict[str, str] = {}
    for name, text in TEXTS.items():
        (folder / name).write_bytes(text.encode("utf-8"))
        expect[name] = "loads"
    (folder / "empty.txt").write_bytes(b"")
    expect["empty.txt"] = "skipped"
    (folder / "whitespace.md").write_text(" \n\t \n", encoding="utf-8")
    expect["whitespace.md"] = "skipped"
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")
    expect["image.txt"] = "binary"
    (folder / "nul.txt").write_bytes(b"Title\nhas a \x00 inside")
    expect["nul.txt"] = "binary"
    (folder / "invalid.txt").write_bytes(b"Title\nbad \xff\xfe bytes")
    expect["invalid.txt"] = "not UTF-8"
    (folder / "latin1.txt").write_bytes("Café\nà Genève".encode("latin-1"))
    expect["latin1.txt"] = "not UTF-8"
    (folder / "utf16.txt").write_bytes("Title\nMinsk".encode("utf-16"))
    expect["utf16.txt"] = "UTF-16"
    (folder / "bom.txt").write_bytes(b"\xef\xbb\xbfBOM\nMinsk.")
    expect["bom.txt"] = "loads"
    (folder / "one-line.txt").write_text("x" * 5 + " word" * 200_000, encoding="utf-8")  # ~1 MB, no newline
    expect["one-line.txt"] = "loads"
    lines = [
        json.dumps({"text": "Good one\nMinsk."}),
        "{broken",
        json.dumps({"meta": {"title": "no text"}}),
        json.dumps({"text": 42}),
        json.dumps({"text": "Extra keys\nBrest.", "meta": {"source": "x"}, "_input_hash": 1, "score": 0.5}),
    ]
    (folder / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    expect["feed.jsonl"] = "jsonl"  # 2 records load; lines 2, 3 and 4 are named
    return expect


def twenty_megabytes() -> str:
    """A 20 MB article of ordinary paragraphs, with a name and a CJK word only near its end."""
    paragraph = "President Alexander Lukashenko met Vladimir Putin in Sochi on Tuesday, officials said. " * 6
    body = "\n\n".join([paragraph] * (20_000_000 // (len(paragraph) + 2)))
    return f"Twenty megabytes\n\n{body}\n\nAt the very end, Zanzibar and 北京 appear once.\n"

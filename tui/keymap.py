"""The annotator's actions, their default keys, and the user's keymap file.

The keymap file is TOML with one table, each action id naming its keys (a comma-separated string
or a list), in Textual's key names (``j``, ``down``, ``shift+tab``, ``ctrl+r``; a single
punctuation character such as ``[`` is accepted too):

    [keys]
    next_entity = "j,down,tab"
    remove = ["x", "delete"]

Every problem in the file is collected and reported at once, with the file and the key, before
the app starts.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from goldspan.annotations.errors import InputError


@dataclass(frozen=True)
class Action:
    id: str
    keys: tuple[str, ...]
    description: str
    footer: str = ""  # short name in the footer; empty: help screen only
    group: str = ""  # actions side by side in the footer under one name share its keys ("[ ] start")


def _label_actions() -> tuple[Action, ...]:
    return tuple(
        Action(f"label_{n}", (str(n % 10),), f"give the focused entity (or the new span) label {n}") for n in range(1, 11)
    )


# In the order the footer shows them, most used first: a narrow terminal cuts the end off. At 100
# columns it shows every key through "q quit"; the help (?) lists them all.
ACTIONS: tuple[Action, ...] = (
    Action("help", ("question_mark",), "this help: every key as bound now", "keys"),
    Action("next_entity", ("j", "down", "tab"), "next entity", group="entity"),
    Action("previous_entity", ("k", "up", "shift+tab"), "previous entity", group="entity"),
    Action("confirm", ("enter",), "confirm the focused entity, go to the next unconfirmed one", "ok"),
    *_label_actions(),
    Action("pick_label", ("t",), "label picker: type to filter, enter applies", "label"),
    Action("remove", ("x", "delete"), "remove the focused entity", "del"),
    Action("start_left", ("left_square_bracket",), "move the entity's start one token left", group="ends"),
    Action("start_right", ("right_square_bracket",), "move the entity's start one token right", group="ends"),
    Action("end_left", ("left_curly_bracket",), "move the entity's end one token left", group="ends"),
    Action("end_right", ("right_curly_bracket",), "move the entity's end one token right", group="ends"),
    Action("begin_span", ("v",), "start a new span at the token cursor (move, then a label key creates it)", "span"),
    Action("undo", ("u", "backspace"), "undo (says what it undid)", "undo"),
    Action("accept", ("a",), "accept the article: suggestions become gold; next article", group="answer"),
    Action("reject", ("X",), "reject the article; next article", group="answer"),
    Action("skip", ("space",), "skip the article (answer ignore); next article", group="answer"),
    Action("next_article", ("n",), "next article without answering", group="article"),
    Action("previous_article", ("p",), "previous article without answering", group="article"),
    Action("goto", ("g",), "go to an article by number or title", "go"),
    Action("search", ("slash",), "search the text; enter jumps to the next hit", "find"),
    Action("quit", ("q",), "quit (everything is already saved); ctrl+c quits too, from anywhere", "quit"),
    Action("every_mention", ("asterisk",), "then a label key: that label for every mention of the focused entity's text not answered yet", "all"),
    Action("comment", ("c",), "write a note on this article (saved with it; review shows it)", "note"),
    Action("flag", ("f",), "flag this article for a lead's review (again: unflag)", "flag"),
    Action("guidelines", ("G",), "the annotation guidelines, when the database holds them (escape closes)"),
    Action("cursor_left", ("h", "left"), "token cursor one token left"),
    Action("cursor_right", ("l", "right"), "token cursor one token right"),
    Action("word_right", ("w",), "token cursor to the next word"),
    Action("word_left", ("b",), "token cursor to the previous word"),
    Action("cancel", ("escape",), "cancel the new span, or a pending every-mention label"),
    Action("redo", ("ctrl+r",), "redo"),
    Action("save_again", ("ctrl+s",), "save again what failed to save (after freeing disk space)"),
)
# Only in `goldspan review`, on top of the annotator's keys.
REVIEW_ACTIONS: tuple[Action, ...] = (
    Action("next_difference", ("d",), "next difference between the versions", group="diff"),
    Action("previous_difference", ("D",), "previous difference", group="diff"),
    *(Action(f"take_{n}", (letter,), f"take the {ordinal} version listed for this difference", "")
      for n, (letter, ordinal) in enumerate(zip("ABCEF", ("first", "second", "third", "fourth", "fifth")), start=1)),
)
ACTION_IDS = {a.id: a for a in (*ACTIONS, *REVIEW_ACTIONS)}

_MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
_NAMED_KEYS = frozenset(
    "up down left right home end pageup pagedown insert delete backspace tab enter escape space".split()
    + [f"f{n}" for n in range(1, 25)]
)


# Textual's key names as a person types them: what the help, the footer and messages show.
_SHOWN = {"left_square_bracket": "[", "right_square_bracket": "]", "left_curly_bracket": "{", "right_curly_bracket": "}",
          "slash": "/", "question_mark": "?", "asterisk": "*", "space": "␣", "escape": "esc", "enter": "⏎"}  # fmt: skip


def shown_key(key: str) -> str:
    """One key as a person types it: left_square_bracket → [, ctrl+r → ctrl+r."""
    return _SHOWN.get(key, key)


def key_namer(keymap: Mapping[str, tuple[str, ...]]) -> Callable[[str], str]:
    """The key bound now to an action, as a message names it (its first key; the help lists them all)."""

    def key_name(action: str) -> str:
        keys = keymap.get(action) or ACTION_IDS[action].keys
        return shown_key(keys[0]) if keys else f"<{action}>"

    return key_name


def default_keymap() -> dict[str, tuple[str, ...]]:
    return {a.id: a.keys for a in (*ACTIONS, *REVIEW_ACTIONS)}


# Textual's friendlier names for a few characters (textual.keys.KEY_NAME_REPLACEMENTS).
_REPLACEMENTS = {"solidus": "slash", "reverse_solidus": "backslash", "commercial_at": "at",
                 "hyphen_minus": "minus", "plus_sign": "plus", "low_line": "underscore"}  # fmt: skip


def normalise_key(key: str) -> str | None:
    """A key in Textual's naming, or None when it cannot be one: ``[`` becomes ``left_square_bracket``."""
    key = key.strip()
    if len(key) == 1:
        if key.isalnum():
            return key
        if not key.isprintable() or key.isspace():
            return None
        name = unicodedata.name(key, "").lower().replace("-", "_").replace(" ", "_")
        return _REPLACEMENTS.get(name, name) or None
    *mods, base = key.split("+")
    if any(m not in _MODIFIERS for m in mods):
        return None
    base = normalise_key(base) if len(base) == 1 else base
    if base is None or not _is_key_name(base):
        return None
    return "+".join([*mods, base])


def _is_key_name(name: str) -> bool:
    if len(name) == 1 or name in _NAMED_KEYS or name in _REPLACEMENTS.values():
        return True
    try:
        unicodedata.lookup(name.replace("_", " ").upper())
    except KeyError:
        return False
    return True


def default_keymap_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "goldspan" / "keys.toml"


def load_keymap(path: Path | None) -> dict[str, tuple[str, ...]]:
    """The defaults with the file's changes applied; every error in the file reported at once."""
    keymap = default_keymap()
    if path is None:
        return keymap
    import tomllib  # here, not at the top: most starts have no keymap file, and importing it costs every start

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such keymap file.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read this keymap file ({error}).") from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: not valid TOML ({error}).") from None
    keymap.update(parse_keymap(path, data))
    check_clashes(path, keymap)
    return keymap


def parse_keymap(path: Path, data: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    problems: list[str] = []
    unknown_tables = [k for k in data if k != "keys"]
    if unknown_tables:
        problems.append(f"unknown section {', '.join(unknown_tables)} (only [keys] is read)")
    table = data.get("keys", {})
    if not isinstance(table, dict):
        problems.append("[keys] must be a table")
        table = {}
    parsed: dict[str, tuple[str, ...]] = {}
    for action, value in table.items():
        if action not in ACTION_IDS:
            problems.append(f"keys.{action}: no such action")
            continue
        raw = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else None
        if raw is None or not raw or not all(isinstance(k, str) for k in raw):
            problems.append(f"keys.{action}: give a key name or a list of them, e.g. \"j,down\"")
            continue
        keys = []
        for key in raw:
            name = normalise_key(key)
            if name is None:
                problems.append(f"keys.{action}: {key.strip()!r} is not a key name")
            else:
                keys.append(name)
        parsed[action] = tuple(dict.fromkeys(keys))
    if problems:
        raise InputError(f"{path}: " + "; ".join(problems) + ".")
    return parsed


def check_clashes(path: Path, keymap: Mapping[str, tuple[str, ...]]) -> None:
    owners: dict[str, list[str]] = {}
    for action, keys in keymap.items():
        for key in keys:
            owners.setdefault(key, []).append(action)
    clashes = [f"{key!r} is bound to both {' and '.join(actions)}" for key, actions in owners.items() if len(actions) > 1]
    if clashes:
        raise InputError(f"{path}: " + "; ".join(clashes) + ".")

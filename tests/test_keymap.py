from __future__ import annotations

from pathlib import Path

import pytest

from goldspan.annotations.errors import InputError
from goldspan.tui.keymap import ACTIONS, default_keymap, load_keymap, normalise_key

from .conftest import SEED, assert_one_line_error, run_goldspan


def test_the_defaults_have_no_clashes_and_every_action_has_a_key() -> None:
    keys = [key for action in ACTIONS for key in action.keys]
    assert len(keys) == len(set(keys))
    assert all(action.keys for action in ACTIONS)


@pytest.mark.parametrize("typed,name", [("[", "left_square_bracket"), ("}", "right_curly_bracket"), ("/", "slash"),
                                        ("ctrl+r", "ctrl+r"), ("X", "X"), ("shift+tab", "shift+tab"), ("f5", "f5")])  # fmt: skip
def test_keys_are_read_in_textual_naming(typed: str, name: str) -> None:
    assert normalise_key(typed) == name


def test_a_keymap_file_moves_actions(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text('[keys]\nremove = ["r", "delete"]\nundo = "z, backspace"\nstart_left = "("\n', encoding="utf-8")
    keymap = load_keymap(path)
    assert keymap["remove"] == ("r", "delete")
    assert keymap["undo"] == ("z", "backspace")
    assert keymap["start_left"] == ("left_parenthesis",)
    assert keymap["next_entity"] == default_keymap()["next_entity"]


@pytest.mark.parametrize(
    "content,fragments",
    [
        ('[keys]\nremove = "j"\n', ["'j' is bound to both next_entity and remove"]),
        ('[keys]\nfly = "f"\nremove = "ctrl+"\n', ["keys.fly: no such action", "keys.remove: 'ctrl+' is not a key name"]),
        ('[keys]\nremove = "x"\nremove = "d"\n', ["not valid TOML"]),
        ("[keys]\nremove = 3\n", ["keys.remove: give a key name"]),
    ],
)
def test_keymap_mistakes_are_all_reported_at_once(tmp_path: Path, content: str, fragments: list[str]) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_keymap(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message


def test_annotate_with_a_clashing_keymap_stops_before_the_screen(tmp_path: Path, patterns_file: Path) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text('[keys]\naccept = "q"\n', encoding="utf-8")
    result = run_goldspan("annotate", SEED, "--db", tmp_path / "g.json", "--model", "blank:en", "--patterns", patterns_file, "--keys", keys)
    assert_one_line_error(result, str(keys), "'q' is bound to both accept and quit")
    assert not (tmp_path / "g.json").exists()

"""How records become journal lines: JSON as compact and quick as what is loaded allows, and a
change to a long list written as a patch of the stretch that changed."""

from __future__ import annotations

import functools
import json
import sys
from typing import Any, Callable, Mapping

from ..stretch import changed_stretch

REV = "_rev"  # a patchable document's revision: how a replayed patch knows whether it is already in


def patch(
    stored: Mapping[str, Any], doc: Mapping[str, Any], field: str, spliced: tuple[list[Any], tuple[int, int, int]] | None = None
) -> dict[str, Any] | None:
    """``doc`` as a change to ``stored``: the changed stretch of its list field and the other fields that
    changed; None when the whole document is as cheap to write (a new shape, or most items changed)."""
    old, new = stored.get(field), doc.get(field)
    if not isinstance(old, list) or not isinstance(new, list) or stored.keys() - {REV} != doc.keys() - {REV}:
        return None
    # Trusted only when made from the very list stored here (identity): then it is that list but the stretch.
    head, old_stop, new_stop = spliced[1] if spliced is not None and spliced[0] is old else changed_stretch(old, new)
    if (new_stop - head) + (old_stop - head) > max(8, len(new) // 4):
        return None
    changed = {k: v for k, v in doc.items() if k not in (field, REV) and stored[k] != v}
    return {"splice": [field, head, old_stop, new[head:new_stop]], "set": changed}


def json_dumps() -> Callable[[Any], str]:
    """srsly's ujson once something has imported it (spaCy does, in the model worker): about twice as fast
    as json on a 5,000-span record. Until then the standard json, because importing srsly brings numpy
    along (~0.1 s) and the first saves happen before the first paint. Both write one line, no raw newline.
    """
    # getattr: the background thread may be importing spaCy at this very moment, and sys.modules then
    # holds a srsly that is only partly initialised (a quit during the model's load met one).
    dumps = getattr(sys.modules.get("srsly"), "json_dumps", None)
    if dumps is not None:
        return dumps  # type: ignore[no-any-return]
    return functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))

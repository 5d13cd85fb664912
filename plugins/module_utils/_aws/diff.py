# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Normalise, compare and diff plain documents.

``changed`` and ``--diff`` are computed from normalised before/after documents, never asserted
branch by branch.  The helpers here are generic; each area supplies what it knows of AWS's
defaults (see the area normalisers) and then compares with :func:`differences`.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

Path = Tuple[Any, ...]


def prune(doc: Any) -> Any:
    """Drop keys whose value is None, an empty list or an empty dict, recursively.

    AWS omits, returns empty or returns null for "not set" depending on the API; after pruning
    the three read the same.
    """
    if isinstance(doc, dict):
        out = {}
        for key, value in doc.items():
            value = prune(value)
            if value is None or value == [] or value == {}:
                continue
            out[key] = value
        return out
    if isinstance(doc, (list, tuple)):
        return [prune(v) for v in doc]
    return doc


def canonical(value: Any) -> Any:
    """A hashable, order-stable form of a document, for sorting lists of dicts."""
    if isinstance(value, dict):
        return tuple(sorted((k, canonical(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(canonical(v) for v in value)
    return (type(value).__name__, value)


def sort_list(values: Iterable[Any]) -> List[Any]:
    """Sort a list whose order AWS does not preserve (or that means nothing)."""
    return sorted(values, key=canonical)


def to_str_dict(pairs: Optional[Sequence[Dict[str, Any]]], key: str = "name", value: str = "value") -> Dict[str, Any]:
    """``[{name: a, value: b}]`` -> ``{a: b}`` (environment, tags, attributes)."""
    return {p[key]: p.get(value) for p in pairs or []}


def tags_to_dict(tags: Optional[Sequence[Dict[str, Any]]]) -> Dict[str, str]:
    """AWS tag lists in either casing (``Key``/``Value`` or ``key``/``value``) as a dict."""
    out: Dict[str, str] = {}
    for tag in tags or []:
        k = tag.get("Key", tag.get("key"))
        v = tag.get("Value", tag.get("value"))
        out[k] = v
    return out


def tag_delta(current: Dict[str, str], wanted: Dict[str, str], purge: bool = True) -> Tuple[Dict[str, str], List[str]]:
    """Tags to set (new or with another value) and, with ``purge``, keys to remove so that ``current`` becomes
    ``wanted``; AWS's own ``aws:`` tags are never removed (AWS refuses to)."""
    add = {k: v for k, v in sorted(wanted.items()) if current.get(k) != v}
    remove = sorted(k for k in current if k not in wanted and not k.startswith("aws:")) if purge else []
    return add, remove


def differences(before: Any, after: Any, path: Path = ()) -> List[Dict[str, Any]]:
    """Leaf-level differences between two normalised documents.

    Returns ``[{'path': 'a.b[0].c', 'before': x, 'after': y}, ...]``; empty when equal.
    """
    out: List[Dict[str, Any]] = []
    _walk(before, after, path, out)
    return out


def _fmt(path: Path) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += "[%d]" % part
        else:
            text += ("." if text else "") + str(part)
    return text


def _walk(before: Any, after: Any, path: Path, out: List[Dict[str, Any]]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            _walk(before.get(key), after.get(key), path + (key,), out)
        return
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after)):
            _walk(b, a, path + (i,), out)
        return
    if before != after:
        out.append({"path": _fmt(path), "before": before, "after": after})


def is_subset(wanted: Any, actual: Any) -> bool:
    """True when every key of ``wanted`` has the same value in ``actual`` (recursively).

    For documents where AWS adds fields of its own that the user never set.
    """
    if isinstance(wanted, dict):
        if not isinstance(actual, dict):
            return False
        return all(is_subset(v, actual.get(k)) for k, v in wanted.items())
    if isinstance(wanted, list):
        if not isinstance(actual, list) or len(wanted) != len(actual):
            return False
        return all(is_subset(w, a) for w, a in zip(wanted, actual))
    return wanted == actual

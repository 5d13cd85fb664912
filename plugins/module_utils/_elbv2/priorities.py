# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Rule priorities: derived from specificity, stable across runs.

ALB evaluates rules lowest priority first, so a more specific rule must come before a more
general one that would also match.  Routes without an explicit priority are ordered by
specificity; rules that already exist keep their priority whenever that order allows it (the
longest run of existing rules already in the right order stays put) and new rules go into the
gaps between them.  Only when a gap is too small is the whole listener renumbered.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, Dict, Hashable, List, Optional, Set, Tuple

MIN_PRIORITY = 1
MAX_PRIORITY = 50000
STEP = 10


def _pattern_rank(values: List[str]) -> Tuple[int, int]:
    # Exact before wildcard, longer (more literal characters) before shorter; no value of this
    # kind at all is the least specific.
    if not values:
        return (2, 0)
    wild = any("*" in v or "?" in v for v in values)
    literal = min(len(v.replace("*", "").replace("?", "")) for v in values)
    return (1 if wild else 0, -literal)


def specificity(conditions: Dict[str, Any]) -> Tuple:
    """Sort key: the most specific route first (host+path before path, exact before wildcard)."""
    kinds = sum(1 for k in ("host_headers", "path_patterns", "methods", "query_strings", "source_ips")
                if conditions.get(k)) + len(conditions.get("http_headers", []))
    return (-kinds, _pattern_rank(conditions.get("host_headers", [])),
            _pattern_rank(conditions.get("path_patterns", [])))


def _longest_increasing(values: List[Optional[int]]) -> Set[int]:
    """Indices of a longest strictly increasing subsequence of the non-None values."""
    tails: List[int] = []
    tail_idx: List[int] = []
    parent: Dict[int, Optional[int]] = {}
    for i, v in enumerate(values):
        if v is None:
            continue
        pos = bisect_left(tails, v)
        parent[i] = tail_idx[pos - 1] if pos else None
        if pos == len(tails):
            tails.append(v)
            tail_idx.append(i)
        else:
            tails[pos] = v
            tail_idx[pos] = i
    out: Set[int] = set()
    cur = tail_idx[-1] if tail_idx else None
    while cur is not None:
        out.add(cur)
        cur = parent[cur]
    return out


def _spread(lo: int, hi: Optional[int], count: int, blocked: Set[int]) -> Optional[List[int]]:
    """``count`` increasing free priorities strictly between ``lo`` and ``hi`` (None: open end)."""
    if count == 0:
        return []
    if hi is None:
        out = []
        p = lo
        while len(out) < count:
            p = (p // STEP + 1) * STEP
            if p > MAX_PRIORITY:
                return None
            if p not in blocked:
                out.append(p)
        return out
    free = [p for p in range(lo + 1, hi) if p not in blocked]
    if len(free) < count:
        return None
    return [free[len(free) * j // (count + 1)] for j in range(1, count + 1)]


def assign(
    routes: List[Tuple[Hashable, Optional[int], Tuple]],
    current: Dict[Hashable, int],
    taken: Set[int],
) -> Dict[Hashable, int]:
    """Final priority of every route on one listener.

    ``routes``: ``(key, explicit priority or None, specificity)``; ``current``: priority of the
    existing rule with that key; ``taken``: priorities held by rules this run leaves alone.
    """
    result: Dict[Hashable, int] = {r[0]: r[1] for r in routes if r[1] is not None}
    blocked = set(taken) | set(result.values())
    # Ties in specificity are broken by the conditions themselves, so that the order of the
    # routes in the playbook never moves a rule.
    auto = [r[0] for r in sorted((r for r in routes if r[1] is None), key=lambda r: (r[2], r[0]))]
    if not auto:
        return result
    existing = [current.get(k) if current.get(k) not in blocked else None for k in auto]
    kept = _longest_increasing(existing)
    placed = _place(auto, existing, kept, blocked)
    if placed is None:
        placed = _place(auto, [None] * len(auto), set(), blocked)
    if placed is None:
        raise ValueError("no free priorities left on the listener")
    result.update(placed)
    return result


def _place(auto: List[Hashable], existing: List[Optional[int]], kept: Set[int],
           blocked: Set[int]) -> Optional[Dict[Hashable, int]]:
    out: Dict[Hashable, int] = {}
    pending: List[Hashable] = []
    lo = 0
    for i, key in enumerate(auto):
        if i in kept:
            spread = _spread(lo, existing[i], len(pending), blocked)
            if spread is None:
                return None
            out.update(zip(pending, spread))
            out[key] = existing[i]  # type: ignore[assignment]
            lo = existing[i]  # type: ignore[assignment]
            pending = []
        else:
            pending.append(key)
    spread = _spread(lo, None, len(pending), blocked)
    if spread is None:
        return None
    out.update(zip(pending, spread))
    return out

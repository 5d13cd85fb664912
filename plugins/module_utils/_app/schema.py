# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""A small typed schema for the application file and the environment's variables.

Each node checks a value, converts it (a string of digits given with ``-e`` is an integer
where an integer is expected), fills in defaults and records every problem with its path, so
that one run reports all of them.  The same nodes render the reference page
(``docs/application.md``): what is validated is what is documented.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Problem:
    """One thing wrong with the input: where (option path), what was given, why."""

    def __init__(self, path: str, value: Any, reason: str) -> None:
        self.path = path
        self.value = value
        self.reason = reason

    def __str__(self) -> str:
        if self.value is MISSING:
            return "%s: %s" % (self.path, self.reason)
        return "%s=%r: %s" % (self.path, _plain(self.value), self.reason)


class DefinitionError(ValidationError):
    """The application definition or an environment variable is wrong; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        first = problems[0]
        super().__init__(first.path, None if first.value is MISSING else _plain(first.value), first.reason)
        self.problems = list(problems)
        lines = [str(p) for p in self.problems]
        self.msg = lines[0] if len(lines) == 1 else "%d problems in the application definition:\n%s" % (
            len(lines), "\n".join("- " + line for line in lines))
        self.args = (self.msg,)
        self.details["problems"] = lines


class Problems:
    """Collects problems while a whole definition is checked."""

    def __init__(self) -> None:
        self.items: List[Problem] = []

    def add(self, path: str, value: Any, reason: str) -> None:
        self.items.append(Problem(path, value, reason))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise DefinitionError(self.items)


def _plain(value: Any) -> Any:
    """Values as the user wrote them (Ansible's tagged strings and lazy containers as plain types)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def join(path: str, key: Any) -> str:
    """``services`` + ``users`` -> ``services.users``; ``listeners`` + 0 -> ``listeners[0]``."""
    if isinstance(key, int):
        return "%s[%d]" % (path, key)
    return "%s.%s" % (path, key) if path else str(key)


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


class Node:
    """A schema node: checks and converts one value."""

    kind = "any"

    def __init__(self, doc: str = "", default: Any = MISSING, required: bool = False,
                 check: Optional[Callable[[Any], Optional[str]]] = None, example: Any = MISSING,
                 default_doc: str = "") -> None:
        self.doc = doc
        self.default = default
        # The default as the reference page states it, where the model fills it in (it depends on other keys).
        self.default_doc = default_doc
        self.required = required
        self.extra_check = check
        self.example = example

    def validate(self, value: Any, path: str, problems: Problems) -> Any:
        """The converted value, or MISSING after recording a problem."""
        converted = self._convert(value, path, problems)
        if converted is not MISSING and self.extra_check is not None:
            reason = self.extra_check(converted)
            if reason:
                problems.add(path, value, reason)
                return MISSING
        return converted

    def _convert(self, value: Any, path: str, problems: Problems) -> Any:
        return value

    def type_doc(self) -> str:
        return self.kind

    def constraint_doc(self) -> str:
        return ""


class Str(Node):
    kind = "string"

    def __init__(self, doc: str = "", pattern: Optional[str] = None, choices: Optional[Sequence[str]] = None,
                 min_len: int = 0, max_len: Optional[int] = None, pattern_doc: str = "", **kwargs: Any) -> None:
        super().__init__(doc, **kwargs)
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_doc = pattern_doc or (pattern or "")
        self.choices = list(choices) if choices else None
        self.min_len = min_len
        self.max_len = max_len

    def _convert(self, value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            problems.add(path, value, "expected a string, got a %s" % type_name(value))
            return MISSING
        text = str(value)
        if self.choices is not None and text not in self.choices:
            near = difflib.get_close_matches(text, self.choices, n=1)
            problems.add(path, value, "must be one of %s%s" % (", ".join(self.choices),
                                                               "; did you mean %s?" % near[0] if near else ""))
            return MISSING
        if len(text) < self.min_len:
            problems.add(path, value, "must not be empty" if self.min_len == 1 else "must be at least %d characters" % self.min_len)
            return MISSING
        if self.max_len is not None and len(text) > self.max_len:
            problems.add(path, value, "is %d characters long; at most %d are allowed" % (len(text), self.max_len))
            return MISSING
        if self.pattern is not None and text and not self.pattern.match(text):
            problems.add(path, value, "must match %s" % self.pattern_doc)
            return MISSING
        return text

    def constraint_doc(self) -> str:
        parts = []
        if self.choices:
            parts.append("one of " + ", ".join("`%s`" % c for c in self.choices))
        if self.pattern is not None:
            parts.append(self.pattern_doc if self.pattern_doc != self.pattern.pattern else "matches `%s`" % self.pattern.pattern)
        if self.max_len:
            parts.append("at most %d characters" % self.max_len)
        return "; ".join(parts)


_INT_TEXT = re.compile(r"^[+-]?\d+$")
_NUMBER_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class Int(Node):
    kind = "integer"

    def __init__(self, doc: str = "", minimum: Optional[int] = None, maximum: Optional[int] = None,
                 choices: Optional[Sequence[int]] = None, **kwargs: Any) -> None:
        super().__init__(doc, **kwargs)
        self.minimum = minimum
        self.maximum = maximum
        self.choices = list(choices) if choices else None

    def _convert(self, value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, bool):
            problems.add(path, value, "expected an integer, got a boolean")
            return MISSING
        if isinstance(value, int):
            number = int(value)
        elif isinstance(value, str) and _INT_TEXT.match(value.strip()):
            number = int(value.strip())
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        else:
            problems.add(path, value, "expected an integer, got a %s" % type_name(value))
            return MISSING
        if self.choices is not None and number not in self.choices:
            problems.add(path, value, "must be one of %s" % ", ".join(str(c) for c in self.choices))
            return MISSING
        if self.minimum is not None and number < self.minimum or self.maximum is not None and number > self.maximum:
            problems.add(path, value, "out of range: %s" % self._range())
            return MISSING
        return number

    def _range(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return "%d..%d" % (self.minimum, self.maximum)
        if self.minimum is not None:
            return ">= %d" % self.minimum
        return "<= %d" % self.maximum

    def constraint_doc(self) -> str:
        if self.choices:
            return "one of " + ", ".join(str(c) for c in self.choices)
        if self.minimum is None and self.maximum is None:
            return ""
        return self._range()


class Number(Int):
    kind = "number"

    def _convert(self, value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, bool):
            problems.add(path, value, "expected a number, got a boolean")
            return MISSING
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str) and _NUMBER_TEXT.match(value.strip()):
            number = float(value.strip())
        else:
            problems.add(path, value, "expected a number, got a %s" % type_name(value))
            return MISSING
        if self.minimum is not None and number < self.minimum or self.maximum is not None and number > self.maximum:
            problems.add(path, value, "out of range: %s" % self._range())
            return MISSING
        return number

    def _range(self) -> str:
        # %g: a fractional bound (a canary's 0.1 %) is shown as it is, not truncated to an integer.
        if self.minimum is not None and self.maximum is not None:
            return "%g..%g" % (self.minimum, self.maximum)
        if self.minimum is not None:
            return ">= %g" % self.minimum
        return "<= %g" % self.maximum


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


class Bool(Node):
    kind = "boolean"

    def _convert(self, value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        problems.add(path, value, "expected true or false, got a %s" % type_name(value))
        return MISSING


class Scalar(Node):
    """A string, number or boolean, kept as the string ECS stores (environment values)."""

    kind = "string"

    def _convert(self, value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float)):
            return str(value)
        problems.add(path, value, "expected a string, number or boolean, got a %s" % type_name(value))
        return MISSING


class ListOf(Node):
    kind = "list"

    def __init__(self, item: Node, doc: str = "", min_items: int = 0, max_items: Optional[int] = None,
                 unique: bool = False, **kwargs: Any) -> None:
        super().__init__(doc, **kwargs)
        self.item = item
        self.min_items = min_items
        self.max_items = max_items
        self.unique = unique

    def _convert(self, value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, (str, dict)) or not isinstance(value, (list, tuple)):
            problems.add(path, value, "expected a list, got a %s" % type_name(value))
            return MISSING
        if len(value) < self.min_items:
            problems.add(path, value, "needs at least %d item%s" % (self.min_items, "" if self.min_items == 1 else "s"))
            return MISSING
        if self.max_items is not None and len(value) > self.max_items:
            problems.add(path, value, "has %d items; at most %d are allowed" % (len(value), self.max_items))
            return MISSING
        out = []
        for index, item in enumerate(value):
            converted = self.item.validate(item, join(path, index), problems)
            if converted is not MISSING:
                if self.unique and converted in out:
                    problems.add(join(path, index), item, "duplicate: already listed")
                    continue
                out.append(converted)
        return out

    def type_doc(self) -> str:
        return "list of %s" % self.item.type_doc()

    def constraint_doc(self) -> str:
        parts = []
        if self.min_items:
            parts.append("at least %d" % self.min_items)
        if self.max_items is not None:
            parts.append("at most %d" % self.max_items)
        item = self.item.constraint_doc()
        if item:
            parts.append("each " + item)
        return "; ".join(parts)


class MapOf(Node):
    """A mapping of user-chosen keys (service names, variable names) to values of one kind."""

    kind = "mapping"

    def __init__(self, value: Node, doc: str = "", key: Optional[Str] = None, min_items: int = 0,
                 max_items: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(doc, **kwargs)
        self.value = value
        self.key = key or Str(min_len=1)
        self.min_items = min_items
        self.max_items = max_items

    def _convert(self, value: Any, path: str, problems: Problems) -> Any:
        if value is None and self.min_items == 0:
            return {}
        if not isinstance(value, dict):
            problems.add(path, value, "expected a mapping, got a %s" % type_name(value))
            return MISSING
        if len(value) < self.min_items:
            problems.add(path, value, "needs at least %d entr%s" % (self.min_items, "y" if self.min_items == 1 else "ies"))
            return MISSING
        if self.max_items is not None and len(value) > self.max_items:
            problems.add(path, value, "has %d entries; at most %d are allowed" % (len(value), self.max_items))
            return MISSING
        out: Dict[str, Any] = {}
        for key, item in value.items():
            where = join(path, key)
            name = self.key.validate(key, where, problems)
            converted = self.value.validate(item, where, problems)
            if name is not MISSING and converted is not MISSING:
                out[name] = converted
        return out

    def type_doc(self) -> str:
        return "mapping of %s" % self.value.type_doc()


class Struct(Node):
    """A mapping with known keys: unknown keys are refused with the nearest known one."""

    kind = "mapping"

    def __init__(self, fields: Dict[str, Node], doc: str = "", allow_null: bool = True,
                 check_all: Optional[Callable[[Dict[str, Any], str, Problems], None]] = None,
                 apply_defaults: bool = True, empty_means_off: bool = False, **kwargs: Any) -> None:
        super().__init__(doc, **kwargs)
        self.fields = fields
        self.allow_null = allow_null
        self.check_all = check_all
        self.apply_defaults = apply_defaults
        # {} (or null) turns the feature off: required keys apply only once something is set.
        self.empty_means_off = empty_means_off

    def _convert(self, value: Any, path: str, problems: Problems) -> Any:
        if self.empty_means_off and (value is None or value == {}):
            return {}
        if value is None and self.allow_null:
            value = {}
        if not isinstance(value, dict):
            problems.add(path, value, "expected a mapping, got a %s" % type_name(value))
            return MISSING
        out: Dict[str, Any] = {}
        before = len(problems.items)
        for key, item in value.items():
            where = join(path, key)
            node = self.fields.get(key) if isinstance(key, str) else None
            if node is None:
                near = difflib.get_close_matches(str(key), list(self.fields), n=1, cutoff=0.6)
                problems.add(where, item, "unknown key; did you mean %s?" % near[0] if near
                             else "unknown key (known: %s)" % ", ".join(self.fields))
                continue
            converted = node.validate(item, where, problems)
            if converted is not MISSING:
                out[key] = converted
        for key, node in self.fields.items():
            if key in value:
                continue
            if node.required:
                problems.add(join(path, key), MISSING, "required")
            elif self.apply_defaults and node.default is not MISSING:
                # A nested mapping's default goes through it, so that its own keys get their defaults.
                out[key] = node.validate(_copy(node.default), join(path, key), problems) \
                    if isinstance(node, Struct) else _copy(node.default)
        if self.check_all is not None and len(problems.items) == before:
            self.check_all(out, path, problems)
        return out

    def without_defaults(self) -> "Struct":
        """The same keys and types with nothing required and no defaults: an override of this struct."""
        return Struct({key: _override_of(node) for key, node in self.fields.items()}, doc=self.doc,
                      allow_null=self.allow_null, apply_defaults=False, empty_means_off=self.empty_means_off)


def _override_of(node: Node) -> Node:
    if isinstance(node, Struct):
        return node.without_defaults()
    copy = _clone(node)
    copy.required = False
    copy.default = MISSING
    return copy


def _clone(node: Node) -> Node:
    clone = object.__new__(type(node))
    clone.__dict__.update(node.__dict__)
    return clone


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def merge(base: Any, override: Any) -> Any:
    """An environment's override over the application's value: mappings merge key by key, the rest is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = merge(base.get(key), value) if key in base else value
        return out
    return override


# ---------------------------------------------------------------------------------------------
# The reference page


def _default_doc(node: Node) -> str:
    if node.required:
        return "required"
    if node.default_doc:
        return node.default_doc
    if node.default is MISSING:
        return ""
    if isinstance(node.default, bool):
        return "`%s`" % str(node.default).lower()
    if node.default in ("", [], {}):
        return "`%r`" % (node.default,) if node.default == "" else "`%s`" % node.default
    return "`%s`" % node.default


def document(node: Node, path: str = "") -> Iterable[Tuple[str, str, str, str, str]]:
    """``(path, type, default, constraints, description)`` of every key under ``node``, depth first."""
    if isinstance(node, Struct):
        for key, child in node.fields.items():
            where = join(path, key)
            yield where, child.type_doc(), _default_doc(child), child.constraint_doc(), child.doc
            yield from document(child, where)
    elif isinstance(node, MapOf):
        yield from document(node.value, join(path, "<%s>" % (node.key.doc or "name")))
    elif isinstance(node, ListOf):
        yield from document(node.item, path + "[]")


def keys_of(node: Node, path: str = "") -> List[str]:
    """Every documented key path (the reference page's rows)."""
    return [row[0] for row in document(node, path)]

"""Field-path error collection shared by the facts and rule parsers (pure).

Parsers report every problem they find, each with the path of the offending field
(``rules[2].conditions.match_duration_s.gte``), then raise one typed error whose
``detail.field`` is the first path and ``detail.errors`` lists them all.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection, Mapping
from typing import Any

from common.errors import ValidationError
from registry.territories import TerritoryError, normalize_territories

# Kinds of problem; each parser maps them to its own stable codes.
UNKNOWN = "unknown"  # a key the schema does not define
REQUIRED = "required"  # a key the schema needs is absent
VALUE = "value"  # wrong type, out of range, not one of the allowed values
TOO_LARGE = "too_large"  # more items than the schema allows


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class FieldErrors:
    """Collects (path, code, message) triples; ``raise_if_any`` turns them into one error."""

    def __init__(self, error_class: type[ValidationError], codes: Mapping[str, str]) -> None:
        self.error_class = error_class
        self.codes = codes
        self.items: list[dict[str, str]] = []

    def add(self, path: str, kind: str, message: str) -> None:
        self.items.append({"field": path, "code": self.codes[kind], "message": message})

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = self.items[0]
        where = f"{first['field']}: " if first["field"] else ""
        raise self.error_class(
            f"{where}{first['message']}",
            code=first["code"],
            detail={"field": first["field"], "errors": self.items},
        )

    # ------------------------------------------------------------ typed readers
    # Each returns the value when it is valid, else records why and returns None.

    def object(
        self,
        value: Any,
        path: str,
        *,
        allowed: Collection[str],
        required: Collection[str] = (),
    ) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.add(path, VALUE, f"must be an object, not {_type_name(value)}")
            return None
        for key in value:
            if key not in allowed:
                self.add(
                    join(path, str(key)),
                    UNKNOWN,
                    f"unknown field; expected one of {', '.join(sorted(allowed))}",
                )
        for key in required:
            if key not in value:
                self.add(join(path, key), REQUIRED, "this field is required")
        return value

    def list(self, value: Any, path: str, *, max_items: int) -> list[Any] | None:
        if not isinstance(value, list):
            self.add(path, VALUE, f"must be a list, not {_type_name(value)}")
            return None
        if len(value) > max_items:
            self.add(path, TOO_LARGE, f"at most {max_items} items (got {len(value)})")
            return None
        return value

    def territories(
        self, value: Any, path: str, *, max_items: int, empty: str | None
    ) -> tuple[str, ...] | None:
        """A list of territory codes, normalised; ``empty`` is the message for an empty
        list (None: an empty list is allowed)."""
        items = self.list(value, path, max_items=max_items)
        if items is None:
            return None
        try:
            codes = normalize_territories(items)
        except TerritoryError as error:
            self.add(path, VALUE, error.message)
            return None
        if not codes and empty is not None:
            self.add(path, VALUE, empty)
            return None
        return tuple(codes)

    def number(
        self,
        value: Any,
        path: str,
        *,
        low: float | None = None,
        high: float | None = None,
        integer: bool = False,
    ) -> float | int | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path, VALUE, f"must be a number, not {_type_name(value)}")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.add(path, VALUE, "must be a finite number")
            return None
        if integer and not (isinstance(value, int) or value.is_integer()):
            self.add(path, VALUE, "must be a whole number")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.add(path, VALUE, f"must be between {_num(low)} and {_num(high)} (got {value})")
            return None
        if integer:
            return int(value)
        # -0.0 would not survive a round trip through PostgreSQL's numeric: store 0.0.
        return value + 0.0 if isinstance(value, float) else value

    def string(
        self,
        value: Any,
        path: str,
        *,
        max_length: int,
        pattern: re.Pattern[str] | None = None,
        allow_empty: bool = True,
    ) -> str | None:
        if not isinstance(value, str):
            self.add(path, VALUE, f"must be a string, not {_type_name(value)}")
            return None
        if len(value) > max_length:
            self.add(path, VALUE, f"at most {max_length} characters")
            return None
        if not allow_empty and not value.strip():
            self.add(path, VALUE, "must not be empty")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.add(path, VALUE, f"{value!r} does not match {pattern.pattern}")
            return None
        return value

    def boolean(self, value: Any, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.add(path, VALUE, f"must be true or false, not {_type_name(value)}")
            return None
        return value

    def choice(self, value: Any, path: str, choices: Collection[str]) -> str | None:
        if not isinstance(value, str) or value not in choices:
            self.add(path, VALUE, f"must be one of {', '.join(choices)} (got {value!r})")
            return None
        return value

    def strings(
        self,
        value: Any,
        path: str,
        *,
        max_items: int,
        choices: Collection[str] | None = None,
        pattern: re.Pattern[str] | None = None,
        max_length: int = 200,
        non_empty: bool = False,
    ) -> tuple[str, ...] | None:
        """A list of strings, de-duplicated and sorted (their order never carries meaning)."""
        items = self.list(value, path, max_items=max_items)
        if items is None:
            return None
        if non_empty and not items:
            self.add(path, VALUE, "must not be empty")
            return None
        result: set[str] = set()
        ok = True
        for index, item in enumerate(items):
            where = join(path, index)
            checked = (
                self.choice(item, where, choices)
                if choices is not None
                else self.string(
                    item, where, max_length=max_length, pattern=pattern, allow_empty=False
                )
            )
            if checked is None:
                ok = False
            else:
                result.add(checked)
        return tuple(sorted(result)) if ok else None

    def date(self, value: Any, path: str) -> dt.date | None:
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.add(path, VALUE, f"must be a date YYYY-MM-DD (got {value!r})")
        return None


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _num(value: float | None) -> str:
    if value is None:
        return "any"
    return f"{value:g}"

"""Small typed readers for YAML values: each names the YAML path of a bad value and what was allowed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ganbench.errors import GanbenchError, did_you_mean


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def check_keys(mapping: dict, allowed: Iterable[str], where: str) -> None:
    allowed = list(allowed)
    for key in mapping:
        if key not in allowed:
            at = f" at {where}" if where else ""
            raise GanbenchError(f"unknown key {key!r}{at}{did_you_mean(str(key), allowed)}")


def mapping(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise GanbenchError(f"{where} must be a mapping, got {_type_name(value)}")
    return value


def sequence(value: Any, where: str) -> list:
    if not isinstance(value, list) or not value:
        raise GanbenchError(f"{where} must be a non-empty list, got {_type_name(value)}")
    return value


def integer(value: Any, where: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise GanbenchError(f"{where} must be an integer, got {_type_name(value)} {value!r}")
    if minimum is not None and value < minimum:
        raise GanbenchError(f"{where} must be >= {minimum}, got {value}")
    return value


def number(value: Any, where: str, positive: bool = False, minimum: float | None = None,
           maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GanbenchError(f"{where} must be a number, got {_type_name(value)} {value!r}")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise GanbenchError(f"{where} must be a finite number, got {value}")
    if positive and value <= 0:
        raise GanbenchError(f"{where} must be > 0, got {value}")
    if minimum is not None and value < minimum:
        raise GanbenchError(f"{where} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise GanbenchError(f"{where} must be <= {maximum}, got {value}")
    return value


def boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise GanbenchError(f"{where} must be true or false, got {_type_name(value)} {value!r}")
    return value


def string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise GanbenchError(f"{where} must be a non-empty string, got {_type_name(value)} {value!r}")
    return value


def choice(value: Any, where: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    if not isinstance(value, str) or value not in choices:
        raise GanbenchError(f"{where} must be one of {', '.join(choices)}; got {value!r}")
    return value

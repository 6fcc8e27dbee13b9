"""Threshold lists as users write them, parsed as exact decimals.

``0.3`` written on the command line or in a file must be the very number the reference
evaluators compare with (the double nearest to 3/10), not ``0.1 + 0.1 + 0.1``. Ranges
``start:stop:step`` are therefore expanded in decimal arithmetic and each value rounded to the
nearest double once.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from attnviz.errors import InputError

__all__ = ["parse_thresholds"]


def _dec(text: str, spec: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InputError(f"threshold list {spec!r}: {text.strip()!r} is not a number") from None
    if not value.is_finite():
        raise InputError(f"threshold list {spec!r}: {text.strip()!r} is not a finite number")
    return value


def parse_thresholds(spec: str | float | list[float] | tuple[float, ...]) -> tuple[float, ...]:
    """Parse ``"0.1:0.7:0.1"`` (inclusive range), ``"0.1,0.3,0.5"`` or a sequence of numbers.

    Returns:
        tuple of floats, each the double nearest to the decimal written, in the order given.

    Raises:
        InputError: an empty list, a value that is not a number, a non-positive step, or a
            threshold outside [0, 1].
    """
    if isinstance(spec, int | float):
        values = [Decimal(repr(float(spec)))]
    elif isinstance(spec, list | tuple):
        values = [_dec(repr(float(v)) if not isinstance(v, str) else v, str(spec)) for v in spec]
    else:
        text = str(spec).strip()
        if not text:
            raise InputError("threshold list is empty")
        values = []
        for part in text.split(","):
            if ":" in part:
                pieces = part.split(":")
                if len(pieces) != 3:
                    raise InputError(
                        f"threshold range {part!r}: expected start:stop:step, e.g. 0.1:0.7:0.1"
                    )
                start, stop, step = (_dec(p, text) for p in pieces)
                if step <= 0:
                    raise InputError(f"threshold range {part!r}: step must be positive")
                v = start
                while v <= stop:
                    values.append(v)
                    v += step
            else:
                values.append(_dec(part, text))
    if not values:
        raise InputError(f"threshold list {spec!r} is empty")
    out = tuple(float(v) for v in values)
    for v in out:
        if not 0.0 <= v <= 1.0:
            raise InputError(f"threshold {v} is outside [0, 1]")
    return out

"""Turn an :class:`~attnviz.types.EvalResult` into the paper's tables, JSON, CSV or Markdown.

This is the only layer besides the CLI that produces text for people; evaluators return data.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence

import numpy as np

from attnviz.errors import InputError
from attnviz.types import EvalResult

__all__ = [
    "FORMATS",
    "format_comparison",
    "format_result",
    "markdown_table",
    "result_from_dict",
    "results_from_json",
]

FORMATS = ("table", "json", "csv", "markdown")


def markdown_table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table: the first column left-aligned (row names), the others
    right-aligned (numbers); cells as given (an empty cell is written ``| |``). Every Markdown
    table attnviz writes comes from here. Returns the lines joined by newlines, without a final
    newline."""

    def line(cells: Sequence[str]) -> str:
        return "|" + "|".join(f" {c} " if c else " " for c in cells) + "|"

    out = [line(head), "|---" + "|---:" * (len(head) - 1) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def _sym(result: EvalResult) -> str:
    return "tIoU" if result.metric == "temporal" else "IoU"


def _pct(v: float) -> str:
    return "   n/a" if not np.isfinite(v) else f"{100.0 * v:6.2f}"


def _title(result: EvalResult) -> str:
    if result.metric == "temporal":
        return f"Temporal localization mAP (%), protocol {result.protocol}"
    return f"Spatial localization {result.metric}-mAP (%), protocol {result.protocol}"


def _not_scored_note(result: EvalResult) -> list[str]:
    skipped = result.not_scored
    if not skipped:
        return []
    n = len(result.class_names)
    return [
        f"not scored: {len(skipped)} of {n} classes have no ground truth in the evaluated "
        f"videos; the mAP averages the other {n - len(skipped)}"
    ]


def _table(result: EvalResult, per_class: bool) -> str:
    sym = _sym(result)
    heads = [f"{sym}={t:g}" for t in result.thresholds]
    namew = max([len("mAP")] + ([len(n) for n in result.class_names] if per_class else []))
    colw = max(7, *(len(h) for h in heads))
    lines = [_title(result)]
    lines.append(" " * namew + " | " + " | ".join(h.rjust(colw) for h in heads))
    lines.append("-" * namew + "-+-" + "-+-".join("-" * colw for _ in heads))
    if per_class:
        skipped = set(result.not_scored)
        for k, name in enumerate(result.class_names):
            if name in skipped:
                cells = " | ".join("not scored".rjust(colw) for _ in result.ap[k])
            else:
                cells = " | ".join(_pct(v).rjust(colw) for v in result.ap[k])
            lines.append(f"{name.ljust(namew)} | {cells}")
        lines.append("-" * namew + "-+-" + "-+-".join("-" * colw for _ in heads))
    cells = " | ".join(_pct(v).rjust(colw) for v in result.mAP)
    lines.append(f"{'mAP'.ljust(namew)} | {cells}")
    if per_class:
        lines += _not_scored_note(result)
    return "\n".join(lines) + "\n"


def _markdown(result: EvalResult, per_class: bool) -> str:
    heads = [f"{_sym(result)}={t:g}" for t in result.thresholds]
    rows = []
    if per_class:
        skipped = set(result.not_scored)
        rows += [
            [name, *("not scored" if name in skipped else _pct(v).strip() for v in result.ap[k])]
            for k, name in enumerate(result.class_names)
        ]
    rows.append(["**mAP**", *(f"**{_pct(v).strip()}**" for v in result.mAP)])
    text = markdown_table(["", *heads], rows) + "\n"
    if per_class and result.not_scored:
        text += "\n" + "\n".join(_not_scored_note(result)) + "\n"
    return text


def _csv(result: EvalResult) -> str:
    buf = io.StringIO()
    key = "tiou" if result.metric == "temporal" else "iou"
    buf.write(f"class,{key},ap\n")
    for k, name in enumerate(result.class_names):
        for j, t in enumerate(result.thresholds):
            buf.write(f"{name},{float(t)!r},{float(result.ap[k, j])!r}\n")
    for j, t in enumerate(result.thresholds):
        buf.write(f"mAP,{float(t)!r},{float(result.mAP[j])!r}\n")
    return buf.getvalue()


def format_result(result: EvalResult, fmt: str = "table", per_class: bool = False) -> str:
    """Render ``result`` as ``table`` (the paper's Table 5 / 6 layout), ``json`` (the documented
    layout, full precision), ``csv`` (one row per class and threshold) or ``markdown``."""
    if fmt == "table":
        return _table(result, per_class)
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2) + "\n"
    if fmt == "csv":
        return _csv(result)
    if fmt == "markdown":
        return _markdown(result, per_class)
    raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")


def format_comparison(results: Sequence[EvalResult], fmt: str = "table") -> str:
    """mAP of several protocols on one input, one row per protocol (thresholds must agree), as
    ``table`` (aligned text, percent with 2 decimals), ``markdown`` or ``csv``
    (``protocol,<iou|tiou>,mAP``, full precision)."""
    if not results:
        return ""
    first = results[0]
    sym = _sym(first)
    heads = [f"{sym}={t:g}" for t in first.thresholds]
    if fmt == "markdown":
        rows = [[r.protocol, *(f"{100 * m:.2f}" for m in r.mAP)] for r in results]
        return markdown_table(["protocol", *heads], rows) + "\n"
    if fmt == "csv":
        key = "tiou" if first.metric == "temporal" else "iou"
        lines = [f"protocol,{key},mAP"]
        for r in results:
            lines += [
                f"{r.protocol},{float(t)!r},{float(m)!r}"
                for t, m in zip(r.thresholds, r.mAP, strict=True)
            ]
        return "\n".join(lines) + "\n"
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}: expected table, markdown or csv")
    namew = max(len(r.protocol) for r in results)
    colw = max(7, *(len(h) for h in heads))
    lines = [" " * namew + " | " + " | ".join(h.rjust(colw) for h in heads)]
    lines.append("-" * namew + "-+-" + "-+-".join("-" * colw for _ in heads))
    for r in results:
        cells = " | ".join(_pct(v).rjust(colw) for v in r.mAP)
        lines.append(f"{r.protocol.ljust(namew)} | {cells}")
    return "\n".join(lines) + "\n"


def result_from_dict(data: object) -> EvalResult:
    """The inverse of :meth:`EvalResult.to_dict` (the ``--format json`` layout): ``protocol``,
    ``tiou`` (temporal) or ``iou`` with ``metric`` (spatial), ``mAP`` and ``AP`` per class.
    Raises :class:`~attnviz.errors.InputError` naming the field that is wrong."""
    if not isinstance(data, dict):
        raise InputError("expected a JSON object with protocol, tiou/iou, mAP and AP")
    if "tiou" in data:
        metric, key = "temporal", "tiou"
    elif "iou" in data:
        metric, key = str(data.get("metric", "frame")), "iou"
    else:
        raise InputError('missing field "tiou" (temporal) or "iou" (spatial)')
    try:
        thresholds = tuple(float(t) for t in data[key])
        m_ap = np.asarray([float(v) for v in data["mAP"]], dtype=np.float64)
        per_class = data["AP"]
        names = tuple(str(n) for n in per_class)
        ap = np.asarray(
            [[float(v) for v in per_class[n]] for n in per_class], dtype=np.float64
        ).reshape(len(names), len(thresholds))
    except KeyError as exc:
        raise InputError(f"missing field {exc.args[0]!r}") from None
    except (TypeError, ValueError):
        raise InputError(
            f'fields "{key}", "mAP" and "AP" must hold numbers, one per threshold'
        ) from None
    if len(m_ap) != len(thresholds):
        raise InputError(f'field "mAP" has {len(m_ap)} values for {len(thresholds)} thresholds')
    return EvalResult(
        metric=metric,
        protocol=str(data.get("protocol", "")),
        thresholds=thresholds,
        class_names=names,
        ap=ap,
        mAP=m_ap,
    )


def results_from_json(data: object) -> list[EvalResult]:
    """Every result in a ``--format json`` file: one (``eval-thumos`` / ``eval-ucf24``), or one
    per protocol (``--compare``: ``{"protocols": [...]}`` of eval-thumos, ``{"results": [...]}``
    of eval-ucf24)."""
    if isinstance(data, dict):
        for key in ("protocols", "results"):
            if isinstance(data.get(key), list):
                out = []
                for i, item in enumerate(data[key]):
                    try:
                        out.append(result_from_dict(item))
                    except InputError as exc:
                        raise InputError(f"{key}[{i}]: {exc}") from None
                return out
    return [result_from_dict(data)]

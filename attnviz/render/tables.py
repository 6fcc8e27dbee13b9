"""The paper's Tables 5 and 6 as DataFrames, styled for notebooks, Markdown and LaTeX.

A table has one row per method (an :class:`~attnviz.types.EvalResult` each, e.g. the learned
attention and the baselines of the synthetic report) and one column per threshold
(``alpha = 0.05`` ...), holding mAP in percent. :data:`PAPER_TABLE5` and :data:`PAPER_TABLE6` are
the numbers published in the paper, for rows drawn next to one's own.

The per-class layouts of one result (text, JSON, CSV, Markdown) are :mod:`attnviz.report`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from attnviz.types import EvalResult

__all__ = [
    "PAPER_TABLE5",
    "PAPER_TABLE6",
    "TABLE5_IOU",
    "TABLE6_TIOU",
    "localization_table",
    "style_table",
    "table5",
    "table6",
    "table_latex",
    "table_markdown",
]

TABLE5_IOU = (0.05, 0.1, 0.2, 0.3)
TABLE6_TIOU = (0.1, 0.2, 0.3, 0.4, 0.5)

# The published numbers (mAP %, the paper's Tables 5 and 6); nan where the paper has a dash.
# Table 5: UCF101-24 spatial localization; the first two methods are strongly supervised.
PAPER_TABLE5: dict[str, dict[float, float]] = {
    "Fast action proposal* (paper)": {0.05: 42.8, 0.1: np.nan, 0.2: np.nan, 0.3: np.nan},
    "Learning to track* (paper)": {0.05: 54.3, 0.1: 51.7, 0.2: 47.7, 0.3: 37.8},
    "Ours (paper)": {0.05: 67.0, 0.1: 58.2, 0.2: 40.2, 0.3: 30.7},
}
# Table 6: THUMOS14 temporal localization.
PAPER_TABLE6: dict[str, dict[float, float]] = {
    "REINFORCE (paper)": {0.1: 48.9, 0.2: 44.0, 0.3: 36.0, 0.4: 26.4, 0.5: 17.1},
    "UntrimmedNet (paper)": {0.1: 44.4, 0.2: 37.7, 0.3: 28.2, 0.4: 21.1, 0.5: 13.7},
    "Ours (paper)": {0.1: 70.0, 0.2: 61.4, 0.3: 48.6, 0.4: 32.6, 0.5: 17.9},
}


def _column(t: float) -> str:
    return f"α = {t:g}"


def _value_at(result: EvalResult, t: float) -> float:
    for j, th in enumerate(result.thresholds):
        if abs(float(th) - t) < 1e-9:
            return 100.0 * float(result.mAP[j])
    return float("nan")


def localization_table(
    results: Mapping[str, EvalResult] | Sequence[EvalResult] | EvalResult,
    *,
    thresholds: Sequence[float] | None = None,
    reference: Mapping[str, Mapping[float, float]] | None = None,
) -> pd.DataFrame:
    """mAP (%) of each method at each threshold, in the layout of the paper's Tables 5 and 6.

    Args:
        results: method name -> result, or results (named by their protocol), or one result.
        thresholds: the columns (default: every threshold of the first result); a threshold a
            result was not evaluated at gives ``NaN``.
        reference: extra rows of published numbers, ``{name: {threshold: mAP %}}``, put first.

    Returns:
        DataFrame indexed by ``Method`` with one float column per threshold named
        ``alpha = t`` (the Greek letter); ``df.attrs`` holds ``metric``, ``protocols`` and
        ``thresholds``.
    """
    if isinstance(results, EvalResult):
        results = [results]
    if not isinstance(results, Mapping):
        named: dict[str, EvalResult] = {}
        for r in results:
            name, i = r.protocol, 2
            while name in named:
                name, i = f"{r.protocol} ({i})", i + 1
            named[name] = r
        results = named
    if thresholds is None:
        if not results:
            raise ValueError("no result and no thresholds: nothing to tabulate")
        thresholds = next(iter(results.values())).thresholds
    thr = [float(t) for t in thresholds]
    rows: dict[str, list[float]] = {}
    for name, pts in (reference or {}).items():
        lookup = {round(float(k), 9): float(v) for k, v in pts.items()}
        rows[name] = [lookup.get(round(t, 9), float("nan")) for t in thr]
    for name, r in results.items():
        rows[name] = [_value_at(r, t) for t in thr]
    df = pd.DataFrame.from_dict(rows, orient="index", columns=[_column(t) for t in thr])
    df.index.name = "Method"
    metrics = sorted({r.metric for r in results.values()})
    df.attrs["metric"] = metrics[0] if len(metrics) == 1 else ",".join(metrics)
    df.attrs["protocols"] = sorted({r.protocol for r in results.values()})
    df.attrs["thresholds"] = tuple(thr)
    return df


def table5(
    results: Mapping[str, EvalResult] | Sequence[EvalResult] | EvalResult,
    *,
    thresholds: Sequence[float] = TABLE5_IOU,
    paper: bool = False,
) -> pd.DataFrame:
    """Table 5 (spatial localization mAP on UCF101-24-style ground truth at IoU 0.05-0.3) of
    frame-mAP or video-mAP results; ``paper=True`` adds the published rows first."""
    _check_metric(results, spatial=True)
    return localization_table(
        results, thresholds=thresholds, reference=PAPER_TABLE5 if paper else None
    )


def table6(
    results: Mapping[str, EvalResult] | Sequence[EvalResult] | EvalResult,
    *,
    thresholds: Sequence[float] = TABLE6_TIOU,
    paper: bool = False,
) -> pd.DataFrame:
    """Table 6 (temporal localization mAP on THUMOS14-style ground truth at tIoU 0.1-0.5);
    ``paper=True`` adds the published rows first."""
    _check_metric(results, spatial=False)
    return localization_table(
        results, thresholds=thresholds, reference=PAPER_TABLE6 if paper else None
    )


def _check_metric(results, *, spatial: bool) -> None:
    rs = (
        [results]
        if isinstance(results, EvalResult)
        else list(results.values() if isinstance(results, Mapping) else results)
    )
    for r in rs:
        if (r.metric == "temporal") == spatial:
            want = "a spatial (frame or video)" if spatial else "a temporal"
            table = 5 if spatial else 6
            raise ValueError(f"Table {table} takes {want} evaluation, got metric {r.metric!r}")


def _best(df: pd.DataFrame) -> pd.DataFrame:
    """Boolean frame: the largest finite value of each column (all ties)."""
    best = df.max(axis=0, skipna=True)
    return df.eq(best, axis=1) & df.notna()


def _cell(v: float, decimals: int) -> str:
    # no % in the cells: the caption / header says "(%)"
    return "–" if not np.isfinite(v) else f"{v:.{decimals}f}"


def style_table(df: pd.DataFrame, *, decimals: int = 1, bold_best: bool = True):
    """A pandas ``Styler`` of a table for notebooks: values as ``67.0``, missing as a dash, the
    best value of each column in bold. For papers use :func:`table_latex`."""
    styler = df.style.format(lambda v: _cell(v, decimals))
    if bold_best:
        mask = _best(df)
        styler = styler.apply(lambda _: np.where(mask, "font-weight: bold", ""), axis=None)
    return styler


def table_markdown(
    df: pd.DataFrame, *, decimals: int = 1, bold_best: bool = True, caption: str | None = None
) -> str:
    """A GitHub-flavoured Markdown table (best value of each column in bold)."""
    from attnviz.report import markdown_table

    mask = _best(df) if bold_best else df.isna() & False
    head = [df.index.name or ""] + [str(c) for c in df.columns]
    rows = []
    for name, row in df.iterrows():
        cells = [str(name)]
        for col, v in row.items():
            text = _cell(float(v), decimals)
            cells.append(f"**{text}**" if bool(mask.loc[name, col]) else text)
        rows.append(cells)
    lines = [caption, ""] if caption else []
    return "\n".join([*lines, markdown_table(head, rows)]) + "\n"


def _latex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                 ("#", r"\#"), ("$", r"\$"), ("{", r"\{"), ("}", r"\}")):  # fmt: skip
        text = text.replace(a, b)
    return text


def _latex_text(text: str) -> str:
    """Escape LaTeX specials outside ``$...$`` math."""
    parts = text.split("$")
    return "$".join(p if i % 2 else _latex_escape(p) for i, p in enumerate(parts))


def table_latex(
    df: pd.DataFrame,
    *,
    decimals: int = 1,
    bold_best: bool = True,
    caption: str | None = None,
    label: str | None = None,
) -> str:
    """A LaTeX ``table`` with booktabs rules (``\\usepackage{booktabs}``), the thresholds as
    ``$\\alpha = t$`` and the best value of each column in ``\\textbf``. The caption is plain
    text (LaTeX specials are escaped) with ``$...$`` math kept as is."""
    mask = _best(df) if bold_best else df.isna() & False
    out = df.copy()
    out.index = [_latex_escape(str(i)) for i in df.index]
    out.index.name = _latex_escape(df.index.name or "")
    thr = df.attrs.get("thresholds")
    if thr and len(thr) == len(df.columns):
        out.columns = [f"$\\alpha = {t:g}$" for t in thr]
    cells = np.empty(df.shape, dtype=object)
    for i in range(df.shape[0]):
        for j in range(df.shape[1]):
            text = _cell(float(df.iat[i, j]), decimals).replace("%", r"\%").replace("–", "--")
            cells[i, j] = f"\\textbf{{{text}}}" if bool(mask.iat[i, j]) else text
    shown = pd.DataFrame(cells, columns=out.columns)
    shown.insert(0, out.index.name or " ", list(out.index))
    return shown.style.hide(axis="index").to_latex(
        hrules=True,
        column_format="l" + "r" * df.shape[1],
        caption=_latex_text(caption) if caption else None,
        label=label,
        position="t",
        position_float="centering",
    )

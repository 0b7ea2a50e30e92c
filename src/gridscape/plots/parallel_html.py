"""An interactive parallel-coordinates page of a search's trials for Snakemake's HTML report:
one self-contained HTML file (inline SVG and script, no network), where dragging along an axis
keeps the trials inside the dragged range and pointing at a line names its trial. The data are
the same as the static figure's (``search_parallel``). Torch-free."""

from __future__ import annotations

import html
import json
import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from gridscape.search.analysis import columns_for, higher_is_better

SCRIPT = """
const data = JSON.parse(document.getElementById('data').textContent);
const W = Math.max(720, 110 * data.axes.length), H = 420, top = 40, bottom = 60, left = 50;
const svg = document.getElementById('plot');
svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
const step = (W - 2 * left) / Math.max(1, data.axes.length - 1);
const x = i => left + i * step, y = v => top + (1 - v) * (H - top - bottom);
const ns = 'http://www.w3.org/2000/svg';
const make = (tag, attrs, parent) => { const e = document.createElementNS(ns, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]); (parent || svg).appendChild(e); return e; };
const ranges = data.axes.map(() => null);
const lines = data.trials.map(t => {
  const d = t.position.map((v, i) => (v === null ? null : `${x(i)},${y(v)}`)).filter(p => p).join(' ');
  const line = make('polyline', {points: d, fill: 'none', stroke: t.colour, 'stroke-width': t.best ? 4 : 1.4,
    'stroke-dasharray': t.diverged ? '5,4' : '', opacity: 0.85});
  make('title', {}, line).textContent = t.label;
  return line; });
function update() {
  let shown = 0;
  data.trials.forEach((t, n) => {
    const keep = ranges.every((r, i) => r === null || (t.position[i] !== null && t.position[i] >= r[0] && t.position[i] <= r[1]));
    lines[n].style.display = keep ? '' : 'none'; shown += keep; });
  document.getElementById('count').textContent = `${shown} of ${data.trials.length} trials shown`; }
data.axes.forEach((a, i) => {
  make('line', {x1: x(i), x2: x(i), y1: top, y2: H - bottom, stroke: '#333'});
  const label = make('text', {x: x(i), y: H - bottom + 30, 'text-anchor': 'middle', 'font-size': 11});
  label.textContent = a.name;
  a.ticks.forEach(([v, text]) => { const t = make('text', {x: x(i) + 5, y: y(v) + 4, 'font-size': 10, fill: '#555'});
    t.textContent = text; });
  const brush = make('rect', {x: x(i) - 8, y: top, width: 16, height: 0, fill: '#0072B2', opacity: 0.25});
  const hit = make('rect', {x: x(i) - 10, y: top, width: 20, height: H - top - bottom, fill: 'transparent',
    style: 'cursor: ns-resize'});
  let start = null;
  const at = e => { const p = svg.createSVGPoint(); p.x = e.clientX; p.y = e.clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse()).y; };
  hit.addEventListener('mousedown', e => { start = at(e); e.preventDefault(); });
  window.addEventListener('mousemove', e => { if (start === null || hit !== window.active && window.active) return;
    window.active = hit; const a0 = Math.min(start, at(e)), a1 = Math.max(start, at(e));
    brush.setAttribute('y', a0); brush.setAttribute('height', a1 - a0);
    const v = p => 1 - (p - top) / (H - top - bottom); ranges[i] = [v(a1), v(a0)]; update(); });
  window.addEventListener('mouseup', e => { if (start !== null && Math.abs(at(e) - start) < 3) {
    ranges[i] = null; brush.setAttribute('height', 0); update(); } start = null; window.active = null; });
});
update();
"""


def _unit(values: np.ndarray) -> tuple[np.ndarray, float, float]:
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    span = high - low or 1.0
    return (values - low) / span, low, high


def _colour(value: float, low: float, high: float, higher: bool) -> str:
    """Blue (worst) to orange (best) through grey; grey for a missing metric."""
    if not math.isfinite(value):
        return "#999999"
    t = (value - low) / ((high - low) or 1.0)
    t = t if higher else 1 - t
    blue, orange = np.array([0, 114, 178]), np.array([230, 159, 0])
    r, g, b = (blue + (orange - blue) * t).round().astype(int)
    return f"#{r:02x}{g:02x}{b:02x}"


def parallel_page(trials: pd.DataFrame, params: Sequence[Mapping[str, Any]], metric: str, best: Any = None,
                  title: str = "Trials of the search") -> str:
    """The page's HTML: one axis per searched column, then the metric; one line per trial."""
    axes, positions = [], []
    for column in columns_for(trials, params):
        if column.categorical and column.kind != "numeric" or column.kind == "boolean":
            values = list(column.values) if column.values else [False, True]
            index = np.array([next((k for k, v in enumerate(values) if str(v).lower() == str(x).lower()), np.nan)
                              for x in trials[column.name]], dtype=float)
            scaled = index / max(1, len(values) - 1)
            ticks = [[k / max(1, len(values) - 1), str(v)] for k, v in enumerate(values)]
        else:
            numbers = column.numbers(trials[column.name])
            scaled, low, high = _unit(numbers)
            shown = (lambda v: f"{10 ** v:.3g}") if column.log else (lambda v: f"{v:.3g}")
            ticks = [[0.0, shown(low)], [1.0, shown(high)]]
        axes.append({"name": column.name + (" (log)" if column.log else ""), "ticks": ticks})
        positions.append(scaled)
    metric_values = pd.to_numeric(trials[metric], errors="coerce").to_numpy(dtype=float)
    scaled, low, high = _unit(metric_values)
    axes.append({"name": metric, "ticks": [[0.0, f"{low:.3g}"], [1.0, f"{high:.3g}"]]})
    positions.append(scaled)
    higher = higher_is_better(metric)
    rows = []
    for n, (_, trial) in enumerate(trials.iterrows()):
        position = [None if not math.isfinite(float(p[n])) else round(float(p[n]), 6) for p in positions]
        diverged = str(trial.get("status", "ok")) != "ok"
        rows.append({"position": position, "best": best is not None and str(trial["trial"]) == str(best),
                     "diverged": diverged, "colour": "#999999" if diverged else _colour(metric_values[n], low, high, higher),
                     "label": f"{trial['trial']} (stage {trial.get('stage', 1)}): {metric} {metric_values[n]:.4g}"})
    payload = json.dumps({"axes": axes, "trials": rows}).replace("</", "<\\/")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title></head>"
        "<body style='font-family: sans-serif'>"
        f"<h3>{html.escape(title)}</h3><p>Drag along an axis to keep the trials inside that range (click it to "
        "clear); point at a line for its trial. Best trial thick, diverged trials dashed and grey. "
        "<span id='count'></span></p>"
        "<svg id='plot' width='100%'></svg>"
        f"<script type='application/json' id='data'>{payload}</script><script>{SCRIPT}</script></body></html>\n"
    )

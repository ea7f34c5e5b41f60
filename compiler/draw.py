"""The network as the tutorial draws it, as SVG.

In: a checked spec and, optionally, its parameters by state_dict name (nested
lists, e.g. a report's final parameters). Out: SVG text. A small vector
network (`draws_neurons`) is drawn neuron by neuron: the inputs, a column
of neurons per linear layer, a bias unit feeding each biased layer, every
connection, the activations named under the neurons they apply to. With
weights, a connection's colour shows its sign (blue positive, red negative) and
its thickness its size. Columns wider than 16 are drawn in part, with a gap.
Any other network (shapes, convolutions, recurrent layers) is drawn as a
block diagram, one box per layer (`compiler.draw_blocks`).
Pure Python (ElementTree), no torch, no Graphviz.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from .draw_blocks import draw_blocks
from .layers.linear import Linear
from .model import CheckedSpec

GAP_X, GAP_Y, MARGIN, RADIUS = 150, 52, 50, 17
GLYPHS = {"ReLU": "ReLU", "LeakyReLU": "LReLU", "Sigmoid": "σ", "Tanh": "tanh", "GELU": "GELU",
          "Softmax": "soft", "Dropout": "drop"}
MAX_SHOWN = 16
POSITIVE, NEGATIVE, NEUTRAL = "#1f5fa8", "#c0392b", "#8a8f98"
# attributes whose names are not identifiers are passed as `**{"stroke-width": ...}`, which
# mypy also matches against ElementTree's `attrib` parameter: those calls carry an ignore


@dataclass
class Column:
    label: str
    width: int
    notes: list[str]
    layer: int | None = None  # the linear layer that made this column
    bias: bool = False


def _columns(spec: CheckedSpec) -> list[Column]:
    columns = [Column("input", spec.input_width, [])]
    for index, (layer, t) in enumerate(zip(spec.layers, spec.types(), strict=False)):
        if isinstance(layer, Linear):
            columns.append(Column(layer.describe(t), layer.out_features, [], index, layer.bias))
        else:
            columns[-1].notes.append(layer.torch_name)
    return columns


def _shown(width: int) -> list[int | None]:
    """The node indices drawn for a column; None marks the gap."""
    if width <= MAX_SHOWN:
        return list(range(width))
    half = MAX_SHOWN // 2
    return list(range(half)) + [None] + list(range(width - half + 1, width))


def draws_neurons(spec: CheckedSpec) -> bool:
    """Whether the network is drawn neuron by neuron: every type along it a float vector, and every layer
    a linear one (a column of neurons) or one that keeps the shape and has no weights (a note under them)."""
    types = spec.types()
    if any(t.rank != 1 or t.dtype != "float32" for t in types):
        return False
    return all(isinstance(layer, Linear) or (layer.keeps_shape and layer.parameter_count(t) == 0)
               for layer, t in zip(spec.layers, types, strict=False))


def draw_network(spec: CheckedSpec, weights: dict[str, Any] | None = None) -> str:
    """The neuron drawing (with `weights`, coloured by them), or the block diagram, which draws no weights."""
    if not draws_neurons(spec):
        return draw_blocks(spec)
    columns = _columns(spec)
    tallest = max(len(_shown(c.width)) + (1 if c.bias else 0) for c in columns)
    height = 2 * MARGIN + 60 + tallest * GAP_Y
    width = 2 * MARGIN + (len(columns) - 1) * GAP_X + 110
    svg = ET.Element("svg", xmlns="http://www.w3.org/2000/svg", width=str(width), height=str(height),
                     viewBox=f"0 0 {width} {height}", role="img", **{"font-family": "sans-serif"})  # type: ignore[arg-type]
    ET.SubElement(svg, "title").text = "network: " + " → ".join(c.label for c in columns[1:])
    edges, nodes = ET.SubElement(svg, "g", id="connections"), ET.SubElement(svg, "g", id="units")
    scale = _largest(weights)
    places = [_place(i, c, height) for i, c in enumerate(columns)]
    for i, column in enumerate(columns[1:], start=1):
        before = places[i - 1]
        sources: list[tuple[float, int | str]] = [(y, j) for j, y in before.items()]
        if column.bias:
            sources.append((_bias_y(before, height), "bias"))
        for k, y in places[i].items():
            for y0, j in sources:
                value = _weight(weights, column.layer, k, j)
                _edge(edges, _x(i - 1), y0, _x(i), y, value, scale)
    for k, y in places[-1].items():
        _output(edges, nodes, _x(len(columns) - 1), y, k)
    for i, column in enumerate(columns):
        feeds_bias = i + 1 < len(columns) and columns[i + 1].bias
        _draw_column(nodes, i, column, places[i], i == 0, GAP_Y if feeds_bias else 0)
        if i > 0 and column.bias:
            _bias(nodes, _x(i - 1), _bias_y(places[i - 1], height))
    ET.indent(svg)
    return ET.tostring(svg, encoding="unicode") + "\n"


def _x(i: int) -> float:
    return MARGIN + 30 + i * GAP_X


def _place(i: int, column: Column, height: int) -> dict[int, float]:
    shown = _shown(column.width)
    top = (height - len(shown) * GAP_Y) / 2 + GAP_Y / 2
    return {k: top + row * GAP_Y for row, k in enumerate(shown) if k is not None}


def _bias_y(place: dict[int, float], height: int) -> float:
    return min(max(place.values()) + GAP_Y, height - MARGIN)


def _largest(weights: dict[str, Any] | None) -> float:
    if not weights:
        return 0.0
    flat = [abs(v) for name, t in weights.items() for v in _flatten(t)]
    return max(flat, default=0.0)


def _flatten(value: Any) -> list[float]:
    return [x for v in value for x in _flatten(v)] if isinstance(value, list) else [value]


def _weight(weights: dict[str, Any] | None, layer: int | None, k: int, j: int | str) -> float | None:
    if not weights or layer is None:
        return None
    value: float | None  # the weights are the nested lists of a report
    if j == "bias":
        value = weights.get(f"{layer}.bias", [None] * (k + 1))[k]
        return value
    value = weights[f"{layer}.weight"][k][j]
    return value


def _edge(group: ET.Element, x0: float, y0: float, x1: float, y1: float, value: float | None, scale: float) -> None:
    colour = NEUTRAL if value is None else POSITIVE if value >= 0 else NEGATIVE
    thickness = 1.2 if value is None or scale == 0 else 0.4 + 4.6 * abs(value) / scale
    line = ET.SubElement(group, "line", x1=f"{x0:.1f}", y1=f"{y0:.1f}", x2=f"{x1:.1f}", y2=f"{y1:.1f}",
                         stroke=colour, **{"stroke-width": f"{thickness:.2f}", "stroke-opacity": "0.85"})  # type: ignore[arg-type]
    if value is not None:
        ET.SubElement(line, "title").text = f"w = {value:.4g}"


def _draw_column(group: ET.Element, i: int, column: Column, place: dict[int, float], inputs: bool,
                 below: float) -> None:
    x = _x(i)
    glyph = next((GLYPHS[n] for n in column.notes if n != "Dropout" and n in GLYPHS), "")
    for k, y in place.items():
        ET.SubElement(group, "circle", cx=f"{x:.1f}", cy=f"{y:.1f}", r=str(RADIUS),
                      fill="#eef2f7" if inputs else "#ffffff", stroke="#333", **{"stroke-width": "1.5"})  # type: ignore[arg-type]
        if inputs:
            _text(group, x, y + 4, f"x{k + 1}", 11)
        elif glyph:
            _text(group, x, y + 3, glyph, 8, colour="#6a3d9a")
    ys = sorted(place.values())
    if len(place) < column.width:
        _text(group, x, (ys[MAX_SHOWN // 2 - 1] + ys[MAX_SHOWN // 2]) / 2 + 4, "⋮", 16)
    _text(group, x, ys[0] - RADIUS - 12, column.label, 11, weight="bold")
    for n, note in enumerate(column.notes):
        _text(group, x, ys[-1] + below + RADIUS + 16 + 14 * n, note, 11, colour="#6a3d9a")


def _output(edges: ET.Element, nodes: ET.Element, x: float, y: float, k: int) -> None:
    ET.SubElement(edges, "line", x1=f"{x + RADIUS:.1f}", y1=f"{y:.1f}", x2=f"{x + RADIUS + 28:.1f}",
                  y2=f"{y:.1f}", stroke="#333", **{"stroke-width": "1.2"})  # type: ignore[arg-type]
    ET.SubElement(nodes, "text", x=f"{x + RADIUS + 32:.1f}", y=f"{y + 4:.1f}", fill="#222",
                  **{"font-size": "11"}).text = f"y{k + 1}"  # type: ignore[arg-type]


def _bias(group: ET.Element, x: float, y: float) -> None:
    ET.SubElement(group, "rect", x=f"{x - 11:.1f}", y=f"{y - 11:.1f}", width="22", height="22", rx="4",
                  fill="#fff7e0", stroke="#333", **{"stroke-width": "1.2"})  # type: ignore[arg-type]
    _text(group, x, y + 4, "1", 11)


def _text(group: ET.Element, x: float, y: float, text: str, size: int, weight: str = "normal",
          colour: str = "#222") -> None:
    ET.SubElement(group, "text", x=f"{x:.1f}", y=f"{y:.1f}", fill=colour,
                  **{"text-anchor": "middle", "font-size": str(size), "font-weight": weight}).text = text  # type: ignore[arg-type]

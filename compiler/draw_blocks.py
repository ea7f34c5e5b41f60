"""A network that is not a small vector network, drawn as a block diagram, as SVG.

In: a checked spec. Out: SVG text, top to bottom: the input as a box with its
per-example shape, then one box per layer with its summary name (as the model
table prints it), the shape it gives and its parameter count, an arrow from
each box to the next, and the output's shape below the last. A block
(`repeat`, `residual`, a named block) is a box of its own with the boxes of
the layers inside it below it, indented, as the model table indents them; a
residual's box says that it adds its input back. Trained weights
are not drawn here: a box stands for all of its layer's. Pure Python
(ElementTree), no torch.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from .layers.blocks import Container, Residual
from .messages import plural
from .model import CheckedSpec

MARGIN, GAP, LINE, PAD, CHAR, INDENT = 30, 34, 17, 12, 7.2, 16  # CHAR: a generous width of one character at 12px
INPUT_FILL, LAYER_FILL, WEIGHTS_FILL, BLOCK_FILL, NOTE = "#eef2f7", "#ffffff", "#fff7e0", "#eef7ee", "#555"


@dataclass(frozen=True)
class Box:
    title: str
    lines: tuple[str, ...]
    fill: str
    depth: int = 0  # how deep inside blocks: drawn indented by INDENT a level
    name: str = ""  # the box's id in the SVG

    @property
    def height(self) -> float:
        return PAD + LINE * (1 + len(self.lines)) + PAD / 2


def boxes(spec: CheckedSpec) -> list[Box]:
    """The input's box, then each layer's: what the drawing says of each."""
    found = [Box("input", (str(spec.input_type),), INPUT_FILL, name="input")]
    for step in spec.steps():
        params = step.layer.parameter_count(step.arriving)
        lines = (str(step.given),) + ((plural(params, "parameter"),) if params else ())
        if isinstance(step.layer, Residual):
            lines += ("adds its input back",)
        block = isinstance(step.layer, Container)
        found.append(Box(step.layer.describe(step.arriving), lines,
                         BLOCK_FILL if block else WEIGHTS_FILL if params else LAYER_FILL,
                         step.path.count("."), f"{'block' if block else 'layer'}-{step.path.replace('.', '-')}"))
    return found


def draw_blocks(spec: CheckedSpec) -> str:
    found = boxes(spec)
    box_width = max(160.0, max(len(text) * CHAR + 2 * PAD + 2 * INDENT * box.depth
                               for box in found for text in (box.title, *box.lines)))
    width = box_width + 2 * MARGIN
    height = 2 * MARGIN + sum(box.height for box in found) + GAP * len(found) + LINE
    svg = ET.Element("svg", xmlns="http://www.w3.org/2000/svg", width=f"{width:.0f}", height=f"{height:.0f}",
                     viewBox=f"0 0 {width:.0f} {height:.0f}", role="img", **{"font-family": "sans-serif"})  # type: ignore[arg-type]
    ET.SubElement(svg, "title").text = "network: " + " → ".join(box.title for box in found)
    _arrowhead(svg)
    arrows, blocks = ET.SubElement(svg, "g", id="arrows"), ET.SubElement(svg, "g", id="blocks")
    middle, y = width / 2, float(MARGIN)
    for box in found:
        _box(blocks, box, MARGIN + INDENT * box.depth, y, box_width - 2 * INDENT * box.depth, box.name)
        y += box.height
        ET.SubElement(arrows, "line", x1=f"{middle:.1f}", y1=f"{y:.1f}", x2=f"{middle:.1f}", y2=f"{y + GAP - 2:.1f}",
                      stroke="#333", **{"stroke-width": "1.4", "marker-end": "url(#head)"})  # type: ignore[arg-type]
        y += GAP
    _text(blocks, middle, y + LINE - 4, f"output {spec.output_type}", 12, "bold")
    ET.indent(svg)
    return ET.tostring(svg, encoding="unicode") + "\n"


def _arrowhead(svg: ET.Element) -> None:
    marker = ET.SubElement(ET.SubElement(svg, "defs"), "marker", id="head", markerWidth="8", markerHeight="8",
                           refX="7", refY="4", orient="auto")
    ET.SubElement(marker, "path", d="M0,0 L8,4 L0,8 z", fill="#333")


def _box(group: ET.Element, box: Box, x: float, y: float, width: float, name: str) -> None:
    g = ET.SubElement(group, "g", id=name)
    ET.SubElement(g, "rect", x=f"{x:.1f}", y=f"{y:.1f}", width=f"{width:.1f}", height=f"{box.height:.1f}", rx="6",
                  fill=box.fill, stroke="#333", **{"stroke-width": "1.4"})  # type: ignore[arg-type]
    middle = x + width / 2
    _text(g, middle, y + PAD + LINE - 4, box.title, 12, "bold")
    for n, line in enumerate(box.lines, start=1):
        _text(g, middle, y + PAD + LINE * (n + 1) - 4, line, 12, colour=NOTE)


def _text(group: ET.Element, x: float, y: float, text: str, size: int, weight: str = "normal",
          colour: str = "#222") -> None:
    ET.SubElement(group, "text", x=f"{x:.1f}", y=f"{y:.1f}", fill=colour,
                  **{"text-anchor": "middle", "font-size": str(size), "font-weight": weight}).text = text  # type: ignore[arg-type]

"""The paper page's charts as plain data: the citation graph's layout and payload, and the bins
of the DataRank distribution. No Django here, so all of it is tested with plain values.

The layout is a sunflower (Vogel's phyllotaxis): the paper in the centre, its citers in cap
order (most cited first, then by id) on a spiral whose radius grows with the square root of
the position. The most-cited citers sit nearest the paper, the points spread evenly at any
count, and it costs O(n) with no randomness: the same citers always get the same places.
"""

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# 180°·(3 - √5): successive points never line up, so the spiral fills its disc evenly.
GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))


class Role:
    PAPER = "paper"
    CORPUS = "corpus"  # a kept citer that is itself a corpus paper
    CITER = "citer"  # a kept citer outside the corpus
    SELF = "self"  # a self-citation the score leaves out


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    title: str
    year: int | None
    citations: int
    role: str


def spiral_layout(count: int) -> list[tuple[float, float]]:
    """Places for the centre (index 0) and `count - 1` points around it, rounded to 4 decimals
    so the payload stays small and the same on every platform."""
    places = [(0.0, 0.0)] if count else []
    for index in range(1, count):
        radius = math.sqrt(index + 0.5)
        angle = index * GOLDEN_ANGLE
        places.append((round(radius * math.cos(angle), 4), round(radius * math.sin(angle), 4)))
    return places


def node_size(citations: int) -> float:
    """Marker diameter in pixels: grows with ln(1 + citations), as the score does."""
    return round(min(6 + 2.2 * math.log1p(citations), 34), 2)


def hover_text(node: Node) -> str:
    # plotly renders a few tags in hover labels; a title's own markup is shown as text.
    year = str(node.year) if node.year else "year unknown"
    label = "self-citation, not counted · " if node.role == Role.SELF else ""
    citations = f"{node.citations:,} citation{'' if node.citations == 1 else 's'}"
    return f"{html.escape(node.title or f'W{node.id}')}<br>{label}{year} · {citations}"


def citation_graph(paper: Node, citers: Sequence[Node], links: Iterable[tuple[int, int]]) -> dict:
    """The graph as the page's script draws it: node columns (index 0 is the paper), the edges
    as one polyline with null separators (one trace draws them all), and each edge's two node
    indices so the script can find a node's neighbours.

    `citers` must come in cap order; `links` are (citing id, cited id) pairs among the nodes —
    links to ids outside the graph and duplicates in either direction are dropped."""
    nodes = [paper, *citers]
    index = {node.id: position for position, node in enumerate(nodes)}
    places = spiral_layout(len(nodes))
    pairs = sorted({tuple(sorted((index[a], index[b]))) for a, b in links if a in index and b in index and a != b})
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for a, b in pairs:
        edge_x += [places[a][0], places[b][0], None]
        edge_y += [places[a][1], places[b][1], None]
    return {
        "nodes": {
            "id": [f"W{node.id}" for node in nodes],
            "x": [x for x, _ in places],
            "y": [y for _, y in places],
            # The paper stands out however few citations it has.
            "size": [max(node_size(paper.citations), 20), *(node_size(node.citations) for node in citers)],
            "role": [node.role for node in nodes],
            "text": [hover_text(node) for node in nodes],
        },
        "edges": {"x": edge_x, "y": edge_y},
        "links": [list(pair) for pair in pairs],
        "links_among_citers": sum(1 for a, _ in pairs if a != 0),
    }


@dataclass(frozen=True, slots=True)
class Bins:
    """Equal-width bins over [low, high]; the last bin is closed so `high` falls in it."""

    low: float
    high: float
    count: int

    @property
    def width(self) -> float:
        # A corpus whose scores are all equal still gets one bin of non-zero width.
        return (self.high - self.low) / self.count if self.high > self.low else 1.0

    def centres(self) -> list[float]:
        return [self.low + (i + 0.5) * self.width for i in range(self.count)]

    def counts(self, by_index: Iterable[tuple[int, int]]) -> list[int]:
        """Per-bin counts from (bin index, count) pairs, the shape a GROUP BY returns; indices
        past the last bin (the maximum itself, computed as `count`) go into the last one."""
        totals = [0] * self.count
        for position, number in by_index:
            totals[min(max(position, 0), self.count - 1)] += number
        return totals

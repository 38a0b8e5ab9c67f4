"""The way each sequence flow is drawn: orthogonal waypoints and where its name goes.

A flow leaves the right side of its source and enters the left side of its target; a boundary event's
flow leaves downwards. Between two rows a flow turns in the gap beside a column, where no shape sits (the
turn moves out when a boundary event juts into the gap): just after its source when it opens a branch,
just before its target when it closes one, and a little aside when another node's flow already turns there. When a straight
run would cross a shape, the flow takes the corridor under a row instead (corridors are kept clear of
shapes and labels), and loops (back edges) always do: out to the right, down, back along the corridor,
and up into the bottom of their target (or its left side, when boundary events sit on the bottom).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

from engine.workflow.layout_graph import Flow, FlowGraph, Ranking
from engine.workflow.layout_grid import BOUNDARY, ROW_GAP, Box, Placement, best_spot, text_size

Point = tuple[int, int]
MARGIN = 4  # how close a flow may pass a shape that is not its own
SHIFT = 8  # how far a flow is moved aside from another that runs along the same line


@dataclass(frozen=True)
class Route:
    """Waypoints of one flow, and the bounds of its name (None when it has none)."""

    points: list[Point]
    label: Box | None


def route_flows(graph: FlowGraph, ranking: Ranking, placement: Placement) -> dict[str, Route]:
    """Route every sequence flow of ``graph``, in document order."""
    router = _Router(graph, ranking, placement)
    return {flow.id: router.route(flow) for flow in graph.flows}


def note_links(graph: FlowGraph, placement: Placement, routes: dict[str, Route]) -> dict[str, list[Point]]:
    """Waypoints of each association: from a note's bottom edge straight to what it is about."""
    links = {}
    for association in graph.associations:
        note_id, other = (
            (association.source, association.target)
            if association.source in placement.notes
            else (association.target, association.source)
        )
        note = placement.notes[note_id]
        if other in routes:
            (x1, y1), (x2, y2) = routes[other].points[:2]
            end = ((x1 + x2) // 2, (y1 + y2) // 2)
        else:
            shape = placement.shapes[other]
            end = (shape.cx, shape.y)
        points = [(note.cx, note.bottom), end]
        links[association.id] = points if association.source == note_id else points[::-1]
    return links


class _Router:
    """Routes flows one at a time, remembering the corridors and turns the earlier ones took."""

    def __init__(self, graph: FlowGraph, ranking: Ranking, placement: Placement) -> None:
        self.graph = graph
        self.ranking = ranking
        self.place = placement
        self.fixed: list[Box] = [*placement.labels.values(), *placement.notes.values()]
        self.labels: list[Box] = list(self.fixed)
        self.corridors: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.channels: dict[int, list[tuple[int, int, str]]] = defaultdict(list)

    def route(self, flow: Flow) -> Route:
        blocked = [
            box.grow(MARGIN)
            for node_id, box in self.place.shapes.items()
            if node_id not in (flow.source, flow.target)
        ] + self.fixed
        candidates = [_tidy(points) for points in self._candidates(flow)]
        points = self._separate(flow, next((p for p in candidates if _clear(p, blocked)), candidates[-1]))
        self._claim(points)
        label = self._label(flow.name, points) if flow.name else None
        if label is not None:
            self.labels.append(label)
        return Route(points, label)

    def _candidates(self, flow: Flow) -> list[list[Point]]:
        source = self.place.shapes[flow.source]
        target = self.place.shapes[flow.target]
        s_col, t_col = self.place.column[flow.source], self.place.column[flow.target]
        end = (target.x, target.cy)
        in_x = self._entry_x(flow.target)
        if flow.source in self.graph.hosts:
            start = (source.cx, source.bottom)
            below = self._corridor(flow.source, start[0], in_x)
            around = [start, (start[0], below), (in_x, below), (in_x, end[1]), end]
            if t_col > s_col and end[1] > start[1]:
                return [[start, (start[0], end[1]), end], around]
            return [*self._loop_ends(flow, start, below), around]
        start = (source.right, source.cy)
        out_x = self._exit_x(flow.source)
        if t_col <= s_col:
            below = self._corridor(flow.source, out_x, in_x)
            return self._loop_ends(flow, start, below, [(out_x, start[1]), (out_x, below)])
        early = [start, (out_x, start[1]), (out_x, end[1]), end]
        late = [start, (in_x, start[1]), (in_x, end[1]), end]
        turns = [early, late] if self.ranking.parent.get(flow.target) == flow else [late, early]
        detours = [
            [start, (out_x, start[1]), (out_x, y), (in_x, y), (in_x, end[1]), end]
            for y in self._detour_corridors(flow, out_x, in_x)
        ]
        return [[start, end], *turns, *detours] if start[1] == end[1] else [*turns, *detours]

    def _exit_x(self, node_id: str) -> int:
        """Where flows leaving a node turn: in the gap after its column, clear of boundary events."""
        column = self.place.column[node_id]
        edges = [self.place.shapes[b].right for b in self.graph.hosts if self.place.column[b] == column]
        return max([self.place.turn_after(column), *(right + MARGIN + 1 for right in edges)])

    def _entry_x(self, node_id: str) -> int:
        """Where flows entering a node turn: in the gap before its column, clear of boundary events."""
        column = self.place.column[node_id]
        edges = [self.place.shapes[b].x for b in self.graph.hosts if self.place.column[b] == column]
        return min([self.place.turn_before(column), *(left - MARGIN - 1 for left in edges)])

    def _loop_ends(
        self, flow: Flow, start: Point, below: int, out: list[Point] | None = None
    ) -> list[list[Point]]:
        """A loop back along corridor ``below``: into the target's bottom if free, else its left side."""
        target = self.place.shapes[flow.target]
        in_x = self._entry_x(flow.target)
        lead = [start, *(out or [(start[0], below)])]
        side = [*lead, (in_x, below), (in_x, target.cy), (target.x, target.cy)]
        node = self.graph.nodes[flow.target]
        entry = self._bottom_entry(flow.target)
        if node.kind in ("task", "activity") and entry is not None:
            t_row, s_row = self.place.row_of[flow.target], self.place.row_of[flow.source]
            under = below if t_row <= s_row else self.place.rows[t_row].corridor
            bottom = [*lead[:-1], (lead[-1][0], under), (entry, under), (entry, target.bottom)]
            return [bottom, side]
        return [side]

    def _bottom_entry(self, node_id: str) -> int | None:
        """Where a loop can come up into a node's bottom edge without meeting its boundary events."""
        box = self.place.shapes[node_id]
        attached = [self.place.shapes[b].cx for b, host in self.graph.hosts.items() if host == node_id]
        for offset in (box.w // 2, 20, box.w - 20, 25, box.w - 25):
            if all(abs(box.x + offset - cx) >= BOUNDARY // 2 + MARGIN for cx in attached):
                return box.x + offset
        return None

    def _corridor(self, node_id: str, x1: int, x2: int) -> int:
        """The corridor under ``node_id``'s row, moved down a little if another flow already runs there."""
        base = self.place.rows[self.place.row_of[node_id]].corridor
        low, high = min(x1, x2), max(x1, x2)
        for step in range(2):
            y = base + step * SHIFT
            if all(high <= a or b <= low for a, b in self.corridors[y]):
                return y
        return base

    def _detour_corridors(self, flow: Flow, out_x: int, in_x: int) -> list[int]:
        rows = self.place.rows
        s_row, t_row = self.place.row_of[flow.source], self.place.row_of[flow.target]
        found = [self._corridor(flow.source, out_x, in_x)]
        if t_row > 0:
            found.append(rows[t_row - 1].corridor)
        return [*found, rows[t_row].corridor] if t_row != s_row else found

    def _separate(self, flow: Flow, points: list[Point]) -> list[Point]:
        """Move a turn aside when another node's flow already runs up or down the same line.

        Flows out of one node (a gateway's branches) may share their turn, and so may flows into one
        node; flows of different nodes never do, or they would read as one line.
        """
        source_x, target_x = self._exit_x(flow.source), self._entry_x(flow.target)
        points = list(points)
        for index in range(len(points) - 1):
            (x1, y1), (x2, y2) = points[index], points[index + 1]
            if x1 != x2 or x1 not in (source_x, target_x):
                continue
            owner, step = (f"out:{flow.source}", SHIFT) if x1 == source_x else (f"in:{flow.target}", -SHIFT)
            x = next((x1 + k * step for k in range(3) if self._free(x1 + k * step, y1, y2, owner)), x1)
            points[index], points[index + 1] = (x, y1), (x, y2)
            self.channels[x].append((min(y1, y2), max(y1, y2), owner))
        return points

    def _free(self, x: int, y1: int, y2: int, owner: str) -> bool:
        low, high = min(y1, y2), max(y1, y2)
        return all(owner == other or b < low or high < a for a, b, other in self.channels[x])

    def _claim(self, points: list[Point]) -> None:
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            if y1 == y2:
                self.corridors[y1].append((min(x1, x2), max(x1, x2)))

    def _label(self, name: str, points: list[Point]) -> Box:
        """Beside the flow near where it starts, away from shapes and other labels.

        The first run of a flow that turns is skipped: it is the stub that the other flows out of the
        same node share.
        """
        width, height = text_size(name)
        segments = list(itertools.pairwise(points))
        spots: list[Box] = []
        for index, ((x1, y1), (x2, y2)) in enumerate(segments):
            if y1 == y2 and (index > 0 or len(segments) == 1):
                fits = abs(x2 - x1) >= width + 8
                x = (x1 + 4 if x2 > x1 else x1 - 4 - width) if fits else (x1 + x2 - width) // 2
                spots.append(Box(x, y1 - height - 3, width, height))
            elif x1 == x2:
                gaps = [
                    row.bottom + ROW_GAP // 2
                    for row in self.place.rows
                    if min(y1, y2) < row.bottom < max(y1, y2)
                ]
                for y in [(y1 + y2) // 2, *sorted(gaps, key=lambda gap: abs(gap - y1))]:
                    top = y - height // 2
                    spots += [Box(x1 + 5, top, width, height), Box(x1 - 5 - width, top, width, height)]
        (x1, y1), (x2, _y2) = segments[-1]
        spots.append(Box(min(x1, x2) + 4, y1 + 3, width, height))
        return best_spot(spots, [box.grow(2) for box in self.place.shapes.values()] + self.labels)


def _clear(points: list[Point], blocked: list[Box]) -> bool:
    """Whether no segment of the path runs through any of the boxes."""
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        segment = Box(min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1))
        if any(segment.overlaps(box) for box in blocked):
            return False
    return True


def _tidy(points: list[Point]) -> list[Point]:
    """Drop repeated points and points in the middle of a straight run."""
    kept: list[Point] = []
    for point in points:
        if kept and kept[-1] == point:
            continue
        if len(kept) >= 2 and (
            kept[-2][0] == kept[-1][0] == point[0] or kept[-2][1] == kept[-1][1] == point[1]
        ):
            kept[-1] = point
        else:
            kept.append(point)
    return kept

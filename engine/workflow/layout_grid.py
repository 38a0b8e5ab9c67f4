"""Where each shape goes: rows within lanes, then pixels.

Every node sits at the centre line of one column (its rank) and one row of its lane; columns are 150 px
apart, a little more where a flow's name would not fit between them. Nodes claim rows in
the ranking's order: a node takes the row of the node it was reached from when that row is free from
just after that node up to its own column, so the path between them can run straight; otherwise it takes
the next free row below. What a node was reached from a boundary event wants the row under its host.
Rows are as tall as what they hold (a task with boundary events and their labels needs more than an
event), lanes are as tall as their rows, and the pool wraps the lanes.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field

from engine.workflow.layout_graph import Annotation, FlowGraph, FlowNode, Ranking

PITCH = 150  # from one column's centre line to the next
BAND = 100  # the widest shape; labels below a node stay within this band
HEADER = 30  # the title strip of a pool or lane
LEFT_PAD = 30
RIGHT_PAD = 30
LANE_PAD = 30  # above the first and below the last row of a lane
ROW_GAP = 40  # between the lowest thing in a row and the highest in the next
CORRIDOR = 15  # below the lowest thing in a row: where loops and detours run
TURN = 15  # beside a column's band: where flows turn up or down
HALF_ROW = 40  # every row reaches at least this far above and below its centre line

LINE_HEIGHT = 14
CHAR_WIDTH = 5.5
LABEL_WIDTH = 90  # bpmn-js wraps external labels at this width, whatever their bounds say
LABEL_GAP = 7
NOTE_WIDTH = 100
NOTE_GAP = 20  # between a node and the annotation above it
BOUNDARY = 36


@dataclass(frozen=True)
class Box:
    """A rectangle in diagram coordinates (y grows downwards)."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2

    def grow(self, by: int) -> Box:
        """The same box with ``by`` pixels added on every side."""
        return Box(self.x - by, self.y - by, self.w + 2 * by, self.h + 2 * by)

    def overlaps(self, other: Box) -> bool:
        """Whether the two boxes share any area (touching edges do not count)."""
        return (
            self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom
        )

    def shared_area(self, other: Box) -> int:
        """How much area the two boxes share."""
        width = min(self.right, other.right) - max(self.x, other.x)
        height = min(self.bottom, other.bottom) - max(self.y, other.y)
        return max(width, 0) * max(height, 0)


def best_spot(spots: list[Box], taken: list[Box]) -> Box:
    """The first spot that overlaps nothing taken, else the one that overlaps least."""
    return min(spots, key=lambda spot: sum(spot.shared_area(box) for box in taken))


def wrap(text: str, width: int) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` pixels where words allow."""
    lines: list[str] = []
    for word in text.split():
        if lines and (len(lines[-1]) + 1 + len(word)) * CHAR_WIDTH <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def text_size(text: str, width: int = LABEL_WIDTH) -> tuple[int, int]:
    """The size a modeller gives a label of ``text`` (11 px Arial, roughly)."""
    lines = wrap(text, width) or [""]
    return math.ceil(max(len(line) for line in lines) * CHAR_WIDTH) + 2, LINE_HEIGHT * len(lines)


def note_height(text: str) -> int:
    """The height of a text annotation box."""
    return max(30, LINE_HEIGHT * len(wrap(text, NOTE_WIDTH - 10)) + 16)


@dataclass(frozen=True)
class Row:
    """One row of one lane: its centre line, the reach of what it holds, and the corridor under it."""

    centre: int
    top: int
    bottom: int

    @property
    def corridor(self) -> int:
        return self.bottom + CORRIDOR


@dataclass
class Placement:
    """Pixel positions for one process or sub-process."""

    first_centre: int
    rows: list[Row]
    row_of: dict[str, int]
    column: dict[str, int]
    shapes: dict[str, Box] = field(default_factory=dict)
    labels: dict[str, Box] = field(default_factory=dict)
    notes: dict[str, Box] = field(default_factory=dict)
    lane_spans: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # x, top, bottom
    pool: Box | None = None
    widened: list[int] = field(default_factory=list)  # extra room before each column, added up

    def centre_x(self, column: int) -> int:
        extra = self.widened[min(column, len(self.widened) - 1)] if self.widened else 0
        return self.first_centre + column * PITCH + extra

    def turn_after(self, column: int) -> int:
        """Where a flow leaving ``column`` turns up or down."""
        return self.centre_x(column) + BAND // 2 + TURN

    def turn_before(self, column: int) -> int:
        """Where a flow entering ``column`` turns towards it."""
        return self.centre_x(column) - BAND // 2 - TURN

    def right(self) -> int:
        """The right edge of everything drawn, plus padding."""
        boxes = [*self.shapes.values(), *self.labels.values(), *self.notes.values()]
        last = max(self.column.values(), default=0)
        return max([self.centre_x(last) + BAND // 2, *(b.right for b in boxes)]) + RIGHT_PAD

    def lanes(self) -> dict[str, Box]:
        """Lane bounds, each reaching to the pool's right edge."""
        right = self.pool.right if self.pool is not None else self.right()
        return {
            lane: Box(x, top, right - x, bottom - top) for lane, (x, top, bottom) in self.lane_spans.items()
        }

    def stretch(self, right: int) -> None:
        """Widen the pool (and so its lanes) to reach ``right``."""
        if self.pool is not None and right > self.pool.right:
            self.pool = Box(self.pool.x, self.pool.y, right - self.pool.x, self.pool.h)


def assign_slots(graph: FlowGraph, ranking: Ranking) -> dict[str, tuple[str, int]]:
    """Lane and row (within the lane) of every node, claimed in the ranking's order."""
    taken: dict[tuple[str, int], set[int]] = defaultdict(set)
    slots: dict[str, tuple[str, int]] = {}
    for node_id in ranking.order:
        lane = graph.nodes[node_id].lane
        columns, row = _wish(graph, ranking, slots, node_id)
        while taken[(lane, row)] & columns:
            row += 1
        taken[(lane, row)] |= columns
        slots[node_id] = (lane, row)
    return slots


def _wish(
    graph: FlowGraph, ranking: Ranking, slots: dict[str, tuple[str, int]], node_id: str
) -> tuple[set[int], int]:
    """The columns a node needs free in its row (its own and its way in), and the row it would like."""
    column = ranking.column[node_id]
    flow = ranking.parent.get(node_id)
    if flow is None:
        return {column}, 0
    parent = graph.ranked_source(flow)
    parent_lane, parent_row = slots[parent]
    same_lane = parent_lane == graph.nodes[node_id].lane
    if flow.source in graph.hosts:
        return set(range(ranking.column[parent], column + 1)), parent_row + 1 if same_lane else 0
    return set(range(ranking.column[parent] + 1, column + 1)), parent_row if same_lane else 0


def place(graph: FlowGraph, ranking: Ranking, *, x: int, y: int, pool: bool) -> Placement:
    """Lay out ``graph`` with its pool (or, for a sub-process plane, its content) starting at x, y."""
    slots = assign_slots(graph, ranking)
    lanes = _rows_by_lane(graph, slots)
    row_of = {node_id: lanes[lane][0] + row for node_id, (lane, row) in slots.items()}
    column = dict(ranking.column)
    for boundary_id, host_id in graph.hosts.items():
        row_of[boundary_id], column[boundary_id] = row_of[host_id], column[host_id]
    placement = Placement(x + _header_width(graph, pool) + LEFT_PAD + BAND // 2, [], row_of, column)
    placement.widened = _widened(graph, ranking)
    reach = _reach(graph, row_of, sum(count for _first, count in lanes.values()))
    top = y
    for lane, (first, count) in lanes.items():
        rows, bottom = _stack(top, reach[first : first + count])
        placement.rows += rows
        placement.lane_spans[lane] = (x + HEADER * (1 + _depth(graph, lane)), top, bottom)
        top = bottom
    _place_shapes(graph, placement)
    _place_notes(graph, placement)
    _close_lanes(graph, placement)
    if pool:
        placement.pool = Box(x, y, placement.right() - x, top - y)
    return placement


def _rows_by_lane(graph: FlowGraph, slots: dict[str, tuple[str, int]]) -> dict[str, tuple[int, int]]:
    """Innermost lane -> (its first row counted from the top of the pool, how many rows it has)."""
    lanes: dict[str, tuple[int, int]] = {}
    first = 0
    for lane in graph.leaf_lanes():
        count = 1 + max((row for name, row in slots.values() if name == lane), default=0)
        lanes[lane] = (first, count)
        first += count
    return lanes


def _widened(graph: FlowGraph, ranking: Ranking) -> list[int]:
    """Extra room before each column, so that a flow's name fits above it between adjacent columns."""
    columns = max(ranking.column.values(), default=0) + 2
    extra = [0] * columns
    for flow in graph.flows:
        if not flow.name or flow.source in graph.hosts:
            continue
        s_col, t_col = ranking.column[flow.source], ranking.column[flow.target]
        if t_col == s_col + 1:
            ends = (graph.nodes[flow.source].size[0] + graph.nodes[flow.target].size[0]) // 2
            extra[t_col] = max(extra[t_col], text_size(flow.name)[0] + 8 + ends - PITCH)
    return list(itertools.accumulate(extra))


def _header_width(graph: FlowGraph, pool: bool) -> int:
    """The title strips left of the content: the pool's, and one per level of lanes."""
    if not pool:
        return 0
    return HEADER * (2 + max(lane.depth for lane in graph.lanes)) if graph.lanes else HEADER


def _depth(graph: FlowGraph, lane_id: str) -> int:
    return next((lane.depth for lane in graph.lanes if lane.id == lane_id), 0)


def _reach(graph: FlowGraph, row_of: dict[str, int], rows: int) -> list[tuple[int, int]]:
    """How far above and below its centre line each row must reach for what it holds."""
    above = [HALF_ROW] * rows
    below = [HALF_ROW] * rows
    notes = _notes_by_node(graph)
    for node in graph.nodes.values():
        row = row_of[node.id]
        half = node.size[1] // 2
        stack = sum(note_height(n.text) + 10 for n in notes.get(node.id, []))
        above[row] = max(above[row], half + (stack + NOTE_GAP - 10 if stack else 0))
        below[row] = max(below[row], half + _below_node(graph, node))
    loose = sum(note_height(n.text) + 10 for n in notes.get("", []))
    if loose and rows:
        below[0] = max(below[0], loose - HALF_ROW)
    return list(zip(above, below, strict=True))


def _below_node(graph: FlowGraph, node: FlowNode) -> int:
    """What hangs below a node's shape: its label, or its boundary events and theirs."""
    attached = [graph.boundaries[b] for b, host in graph.hosts.items() if host == node.id]
    if attached:
        labels = [text_size(b.name)[1] for b in attached if b.name]
        return BOUNDARY // 2 + (LABEL_GAP + max(labels) if labels else 0)
    if node.kind in ("event", "gateway") and node.name:
        return LABEL_GAP + text_size(node.name)[1]
    return 0


def _stack(top: int, reach: list[tuple[int, int]]) -> tuple[list[Row], int]:
    """Rows of one lane, top to bottom, and the bottom of the lane."""
    rows = []
    y = top + LANE_PAD
    for above, below in reach:
        centre = y + above
        rows.append(Row(centre, centre - above, centre + below))
        y = centre + below + ROW_GAP
    return rows, y - ROW_GAP + LANE_PAD


def _place_shapes(graph: FlowGraph, placement: Placement) -> None:
    for node in graph.nodes.values():
        width, height = node.size
        cx = placement.centre_x(placement.column[node.id])
        cy = placement.rows[placement.row_of[node.id]].centre
        box = Box(cx - width // 2, cy - height // 2, width, height)
        placement.shapes[node.id] = box
        if node.kind in ("event", "gateway") and node.name:
            w, h = text_size(node.name)
            placement.labels[node.id] = Box(cx - w // 2, box.bottom + LABEL_GAP, w, h)
    by_host: dict[str, list[str]] = defaultdict(list)
    for boundary_id, host_id in graph.hosts.items():
        by_host[host_id].append(boundary_id)
    for host_id, attached in by_host.items():
        boxes = boundary_boxes(placement.shapes[host_id], len(attached))
        placement.shapes.update(zip(attached, boxes, strict=True))
    for boundary_id in graph.hosts:
        if graph.boundaries[boundary_id].name:
            _place_boundary_label(graph, placement, boundary_id)


def _place_boundary_label(graph: FlowGraph, placement: Placement, boundary_id: str) -> None:
    """Beside the line a boundary event's flow runs down: to its right, else to its left."""
    box = placement.shapes[boundary_id]
    w, h = text_size(graph.boundaries[boundary_id].name)
    y = box.bottom + LABEL_GAP
    spots = [Box(box.cx + 8, y, w, h), Box(box.cx - 8 - w, y, w, h)]
    lines = [Box(placement.shapes[b].cx - 1, y, 2, h) for b in graph.hosts if b != boundary_id]
    taken = [shape.grow(2) for shape in placement.shapes.values()] + [*placement.labels.values(), *lines]
    placement.labels[boundary_id] = best_spot(spots, taken)


def boundary_boxes(host: Box, count: int) -> list[Box]:
    """Boundary events along the bottom edge of their host, spread out (up to three stay apart)."""
    if count <= 2:
        centres = [host.x + host.w * (2 * i + 1) // (2 * count) for i in range(count)]
    else:
        centres = [host.x + host.w * i // (count - 1) for i in range(count)]
    half = BOUNDARY // 2
    return [Box(c - half, host.bottom - half, BOUNDARY, BOUNDARY) for c in centres]


def _notes_by_node(graph: FlowGraph) -> dict[str, list[Annotation]]:
    """Annotations grouped by the node they sit above ("" for those attached to nothing drawn)."""
    flows = {flow.id: flow for flow in graph.flows}
    grouped: dict[str, list[Annotation]] = defaultdict(list)
    for note in graph.annotations:
        anchor = note.anchor or ""
        if anchor in flows:
            anchor = graph.ranked_source(flows[anchor])
        grouped[graph.hosts.get(anchor, anchor)].append(note)
    return grouped


def _place_notes(graph: FlowGraph, placement: Placement) -> None:
    for node_id, notes in _notes_by_node(graph).items():
        if node_id:
            shape = placement.shapes[node_id]
            cx, bottom = shape.cx, shape.y - NOTE_GAP
            for note in notes:
                height = note_height(note.text)
                placement.notes[note.id] = Box(cx - NOTE_WIDTH // 2, bottom - height, NOTE_WIDTH, height)
                bottom -= height + 10
        else:
            cx = placement.centre_x(max(placement.column.values(), default=-1) + 1)
            top = placement.rows[0].centre - HALF_ROW
            for note in notes:
                height = note_height(note.text)
                placement.notes[note.id] = Box(cx - NOTE_WIDTH // 2, top, NOTE_WIDTH, height)
                top += height + 10


def _close_lanes(graph: FlowGraph, placement: Placement) -> None:
    """Give every outer lane the span of the innermost lanes it is made of."""
    for lane in graph.lanes:
        if lane.leaves != (lane.id,):
            spans = [placement.lane_spans[leaf] for leaf in lane.leaves]
            x = spans[0][0] - HEADER * (_depth(graph, lane.leaves[0]) - lane.depth)
            placement.lane_spans[lane.id] = (x, spans[0][1], spans[-1][2])
    order = [lane.id for lane in graph.lanes]
    placement.lane_spans = {
        lane: placement.lane_spans[lane] for lane in order if lane in placement.lane_spans
    }

"""A process (or an embedded sub-process) read as a graph for drawing, and its nodes ranked into columns.

Only what the layout needs is read: the flow nodes directly inside the container, the sequence flows
between them, the boundary events and their hosts, the lanes, and text annotations with their
associations. Columns come from the longest path from the start events once the loops are cut: a
depth-first search from the starts marks every flow that leads back to a node still being visited as a
back edge, and back edges are drawn as loops instead of being ranked. The same search, taking the branch
with the longest way still to go first, gives the order in which nodes claim rows, so that the main path
runs straight and side branches hang below it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from lxml import etree

from engine.workflow.process_outline import NS

TASK_TAGS = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
    }
)
# Drawn collapsed, as a 100 x 80 box; the contents of an embedded sub-process get a plane of their own.
ACTIVITY_TAGS = frozenset({"subProcess", "transaction", "adHocSubProcess", "callActivity"})
SUBPROCESS_TAGS = ACTIVITY_TAGS - {"callActivity"}
SIZES = {"event": (36, 36), "gateway": (50, 50), "task": (100, 80), "activity": (100, 80)}


def node_kind(tag: str) -> str | None:
    """Which kind of shape a BPMN element is drawn as, or None when it is not a flow node."""
    if tag.endswith("Event"):
        return "event"
    if tag.endswith("Gateway"):
        return "gateway"
    if tag in TASK_TAGS:
        return "task"
    if tag in ACTIVITY_TAGS:
        return "activity"
    return None


@dataclass(frozen=True)
class FlowNode:
    """One flow node to draw; ``lane`` is its innermost lane ("" when the container has no lanes)."""

    id: str
    tag: str
    kind: str
    name: str
    lane: str

    @property
    def size(self) -> tuple[int, int]:
        """Width and height of the shape."""
        return SIZES[self.kind]


@dataclass(frozen=True)
class Flow:
    """A sequence flow between two drawn nodes."""

    id: str
    source: str
    target: str
    name: str


@dataclass(frozen=True)
class Lane:
    """A lane, with its nesting depth and the innermost lanes it is made of (itself when it has none)."""

    id: str
    depth: int
    leaves: tuple[str, ...]


@dataclass(frozen=True)
class Annotation:
    """A text annotation, with the node or flow it is attached to (None when it stands alone)."""

    id: str
    text: str
    anchor: str | None


@dataclass(frozen=True)
class Association:
    """An association between an annotation and a node or flow."""

    id: str
    source: str
    target: str


@dataclass
class FlowGraph:
    """What is inside one process or sub-process, in document order."""

    container_id: str
    nodes: dict[str, FlowNode]
    boundaries: dict[str, FlowNode]
    hosts: dict[str, str]
    flows: list[Flow]
    lanes: list[Lane] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    associations: list[Association] = field(default_factory=list)

    def leaf_lanes(self) -> list[str]:
        """The innermost lanes, top to bottom; one unnamed lane when the container has none."""
        return [lane.id for lane in self.lanes if lane.leaves == (lane.id,)] or [""]

    def shape(self, element_id: str) -> FlowNode | None:
        """The node or boundary event with this id."""
        return self.nodes.get(element_id) or self.boundaries.get(element_id)

    def ranked_source(self, flow: Flow) -> str:
        """The node a flow counts as leaving when ranking: a boundary event's flows leave its host."""
        return self.hosts.get(flow.source, flow.source)


def read_flow_graph(container: etree._Element, *, with_lanes: bool = True) -> FlowGraph:
    """Read the drawable contents of a ``bpmn:process`` or ``bpmn:subProcess``."""
    lanes: list[Lane] = []
    lane_set = container.find("bpmn:laneSet", NS)
    if with_lanes and lane_set is not None:
        lanes, _leaves = _read_lanes(lane_set, 0)
    lane_of = _lane_of_nodes(container, lanes)
    default_lane = next((lane.id for lane in lanes if lane.leaves == (lane.id,)), "")
    nodes, boundaries, hosts = _read_nodes(container, lane_of, default_lane)
    graph = FlowGraph(container.get("id", ""), nodes, boundaries, hosts, [], lanes)
    graph.flows = _read_flows(container, graph)
    graph.associations, graph.annotations = _read_annotations(container, graph)
    return graph


def _read_nodes(
    container: etree._Element, lane_of: dict[str, str], default_lane: str
) -> tuple[dict[str, FlowNode], dict[str, FlowNode], dict[str, str]]:
    """Flow nodes, boundary events (in their host's lane) and boundary event -> host."""
    nodes: dict[str, FlowNode] = {}
    boundaries: dict[str, FlowNode] = {}
    hosts: dict[str, str] = {}
    for element in _children(container):
        tag, node_id = etree.QName(element).localname, element.get("id", "")
        kind = node_kind(tag)
        if kind is None or not node_id:
            continue
        name = (element.get("name") or "").strip()
        node = FlowNode(node_id, tag, kind, name, lane_of.get(node_id, default_lane))
        if tag == "boundaryEvent":
            boundaries[node_id], hosts[node_id] = node, element.get("attachedToRef", "")
        else:
            nodes[node_id] = node
    for boundary_id, host_id in list(hosts.items()):
        if host_id in nodes:
            boundaries[boundary_id] = replace(boundaries[boundary_id], lane=nodes[host_id].lane)
        else:
            del hosts[boundary_id], boundaries[boundary_id]
    return nodes, boundaries, hosts


def _children(container: etree._Element) -> Iterator[etree._Element]:
    return (child for child in container if isinstance(child.tag, str))


def _read_lanes(lane_set: etree._Element, depth: int) -> tuple[list[Lane], tuple[str, ...]]:
    """Lanes depth first, in document order, and the innermost lanes of this lane set."""
    lanes: list[Lane] = []
    leaves: tuple[str, ...] = ()
    for element in lane_set.iterfind("bpmn:lane", NS):
        lane_id = element.get("id", "")
        child_set = element.find("bpmn:childLaneSet", NS)
        nested, nested_leaves = _read_lanes(child_set, depth + 1) if child_set is not None else ([], ())
        own_leaves = nested_leaves or (lane_id,)
        lanes += [Lane(lane_id, depth, own_leaves), *nested]
        leaves += own_leaves
    return lanes, leaves


def _lane_of_nodes(container: etree._Element, lanes: list[Lane]) -> dict[str, str]:
    """Node id -> innermost lane; a node listed only by an outer lane goes to that lane's first leaf."""
    found: dict[str, tuple[int, str]] = {}
    by_id = {lane.id: lane for lane in lanes}
    for element in container.iter("{*}lane"):
        lane = by_id.get(element.get("id", ""))
        if lane is None:
            continue
        for ref in element.iterfind("bpmn:flowNodeRef", NS):
            node_id = (ref.text or "").strip()
            if node_id and lane.depth >= found.get(node_id, (-1, ""))[0]:
                found[node_id] = (lane.depth, lane.leaves[0])
    return {node_id: leaf for node_id, (_depth, leaf) in found.items()}


def _read_flows(container: etree._Element, graph: FlowGraph) -> list[Flow]:
    flows = []
    for element in container.iterfind("bpmn:sequenceFlow", NS):
        source, target = element.get("sourceRef", ""), element.get("targetRef", "")
        if graph.shape(source) and graph.shape(target) and element.get("id"):
            flows.append(Flow(element.get("id", ""), source, target, (element.get("name") or "").strip()))
    return flows


def _read_annotations(
    container: etree._Element, graph: FlowGraph
) -> tuple[list[Association], list[Annotation]]:
    texts = {
        element.get("id", ""): (element.findtext("bpmn:text", "", NS) or "").strip()
        for element in container.iterfind("bpmn:textAnnotation", NS)
    }
    anchorable = {*graph.nodes, *graph.boundaries, *(flow.id for flow in graph.flows)}
    associations: list[Association] = []
    anchors: dict[str, str] = {}
    for element in container.iterfind("bpmn:association", NS):
        ends = (element.get("sourceRef", ""), element.get("targetRef", ""))
        note = next((end for end in ends if end in texts), None)
        other = next((end for end in ends if end in anchorable), None)
        if note and other and element.get("id"):
            associations.append(Association(element.get("id", ""), *ends))
            anchors.setdefault(note, other)
    return associations, [Annotation(key, text, anchors.get(key)) for key, text in texts.items() if key]


# --- ranking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranking:
    """Columns, the flows drawn as loops, and the order (with the flow that led there) nodes claim rows."""

    column: dict[str, int]
    back_edges: frozenset[str]
    order: list[str]
    parent: dict[str, Flow]


def rank(graph: FlowGraph) -> Ranking:
    """Rank nodes by longest path from the starts, ignoring the back edges a depth-first search finds."""
    outgoing = _outgoing(graph)
    back_edges = _back_edges(graph, outgoing)
    forward = {node: [f for f in flows if f.id not in back_edges] for node, flows in outgoing.items()}
    order = _topological(graph, forward)
    column = dict.fromkeys(graph.nodes, 0)
    for node_id in order:
        for flow in forward[node_id]:
            column[flow.target] = max(column[flow.target], column[node_id] + 1)
    to_go = dict.fromkeys(graph.nodes, 0)
    for node_id in reversed(order):
        for flow in forward[node_id]:
            to_go[node_id] = max(to_go[node_id], to_go[flow.target] + 1)
    placing, parent = _placing_order(graph, forward, to_go)
    return Ranking(column, frozenset(back_edges), placing, parent)


def _outgoing(graph: FlowGraph) -> dict[str, list[Flow]]:
    """Flows leaving each node: its own first, then those of its boundary events."""
    own: dict[str, list[Flow]] = defaultdict(list)
    attached: dict[str, list[Flow]] = defaultdict(list)
    for flow in graph.flows:
        if flow.target not in graph.nodes:
            continue
        (attached if flow.source in graph.hosts else own)[graph.ranked_source(flow)].append(flow)
    return {node: own[node] + attached[node] for node in graph.nodes}


def _roots(graph: FlowGraph) -> list[str]:
    """Start events first, then nodes nothing flows into, then everything else, in document order."""
    has_incoming = {flow.target for flow in graph.flows}
    starts = [n.id for n in graph.nodes.values() if n.tag == "startEvent"]
    sources = [n for n in graph.nodes if n not in has_incoming]
    return list(dict.fromkeys([*starts, *sources, *graph.nodes]))


def _back_edges(graph: FlowGraph, outgoing: dict[str, list[Flow]]) -> set[str]:
    visiting, done, back = set(), set(), set()
    for root in _roots(graph):
        if root in done:
            continue
        visiting.add(root)
        stack = [(root, iter(outgoing[root]))]
        while stack:
            node, flows = stack[-1]
            flow = next(flows, None)
            if flow is None:
                visiting.discard(node)
                done.add(node)
                stack.pop()
            elif flow.target in visiting:
                back.add(flow.id)
            elif flow.target not in done:
                visiting.add(flow.target)
                stack.append((flow.target, iter(outgoing[flow.target])))
    return back


def _topological(graph: FlowGraph, forward: dict[str, list[Flow]]) -> list[str]:
    waiting = dict.fromkeys(graph.nodes, 0)
    for flows in forward.values():
        for flow in flows:
            waiting[flow.target] += 1
    ready = [node for node, count in waiting.items() if count == 0]
    order: list[str] = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for flow in forward[node]:
            waiting[flow.target] -= 1
            if waiting[flow.target] == 0:
                ready.append(flow.target)
    return order


def _placing_order(
    graph: FlowGraph, forward: dict[str, list[Flow]], to_go: dict[str, int]
) -> tuple[list[str], dict[str, Flow]]:
    """Depth-first pre-order, and the flow each node was first reached by."""
    order: list[str] = []
    parent: dict[str, Flow] = {}
    for root in _roots(graph):
        if root in order:
            continue
        order.append(root)
        seen = set(order)
        stack = [iter(_children_first_to_last(graph, forward, to_go, root))]
        while stack:
            flow = next(stack[-1], None)
            if flow is None:
                stack.pop()
            elif flow.target not in seen:
                seen.add(flow.target)
                order.append(flow.target)
                parent[flow.target] = flow
                stack.append(iter(_children_first_to_last(graph, forward, to_go, flow.target)))
    return order, parent


def _children_first_to_last(
    graph: FlowGraph, forward: dict[str, list[Flow]], to_go: dict[str, int], node: str
) -> list[Flow]:
    """A node's own flows, the one with the longest way to go first, then its boundary events' flows,
    right to left: the last boundary event sits furthest right, so its flows take the first row below
    and the flows down from the others do not cross them."""
    own = [f for f in forward[node] if f.source not in graph.hosts]
    attached = [f for f in forward[node] if f.source in graph.hosts]
    position = {boundary_id: index for index, boundary_id in enumerate(graph.hosts)}
    return sorted(own, key=lambda f: -to_go[f.target]) + sorted(attached, key=lambda f: -position[f.source])

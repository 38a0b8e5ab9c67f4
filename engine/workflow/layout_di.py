"""Writing the diagram: BPMNDI shapes and edges, and the pools (participants) they sit in.

Modellers draw a process with lanes inside a pool, and a pool is a participant of a collaboration; a
file hand-written without either gets them here, named after the process. Everything else in the file is
left as it was: only ``bpmndi:BPMNDiagram`` elements that draw the file's collaborations, processes or
sub-processes are replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from engine.workflow.layout_graph import SUBPROCESS_TAGS, FlowGraph, FlowNode
from engine.workflow.layout_grid import Box, Placement
from engine.workflow.layout_routes import Point, Route
from engine.workflow.process_outline import NS, bpmn

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
DI_PREFIXES = {"bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}


def bpmndi(tag: str) -> str:
    """The Clark name of a BPMNDI element."""
    return f"{{{BPMNDI_NS}}}{tag}"


@dataclass
class Drawing:
    """One process or sub-process laid out and routed, ready to write."""

    graph: FlowGraph
    placement: Placement
    routes: dict[str, Route]
    links: dict[str, list[Point]]


class Ids:
    """Hands out ids that no other element of the document has."""

    def __init__(self, root: etree._Element) -> None:
        self.taken = {element.get("id") for element in root.iter() if element.get("id")}

    def unique(self, wanted: str) -> str:
        found, suffix = wanted, 1
        while found in self.taken:
            suffix += 1
            found = f"{wanted}_{suffix}"
        self.taken.add(found)
        return found


# --- the document around the diagram ------------------------------------------------------------


def with_di_namespaces(tree: etree._ElementTree) -> etree._ElementTree:
    """The document with the bpmndi, dc and di prefixes declared on its root (added if missing)."""
    root = tree.getroot()
    nsmap = _with_di_prefixes(root.nsmap)
    if len(nsmap) == len(root.nsmap):
        return tree
    # lxml cannot declare a namespace on an existing element: the root is rebuilt around its children.
    new_root = etree.Element(root.tag, nsmap=nsmap)
    for key, value in root.attrib.items():
        new_root.set(key, value)
    new_root.text = root.text
    before = list(root.itersiblings(preceding=True))[::-1]
    after = list(root.itersiblings())[::-1]
    for child in list(root):
        new_root.append(child)
    for sibling in before:
        new_root.addprevious(sibling)
    for sibling in after:
        new_root.addnext(sibling)
    return new_root.getroottree()


def _with_di_prefixes(nsmap: dict[str | None, str]) -> dict[str | None, str]:
    """``nsmap`` plus the DI namespaces it lacks, under their usual prefixes (numbered if taken)."""
    extended = dict(nsmap)
    for prefix, uri in DI_PREFIXES.items():
        if uri not in nsmap.values():
            name, number = prefix, 1
            while name in extended:
                number += 1
                name = f"{prefix}{number}"
            extended[name] = uri
    return extended


def ensure_participants(root: etree._Element, ids: Ids) -> list[etree._Element]:
    """Give every process a participant (pool), creating a collaboration if there is none."""
    collaborations = root.findall("bpmn:collaboration", NS)
    referenced = {p.get("processRef") for c in collaborations for p in c.iterfind("bpmn:participant", NS)}
    missing = [p for p in root.findall("bpmn:process", NS) if p.get("id") and p.get("id") not in referenced]
    if not missing:
        return collaborations
    if not collaborations:
        collaboration = etree.Element(bpmn("collaboration"))
        collaboration.set("id", ids.unique(f"Collaboration_{missing[0].get('id')}"))
        missing[0].addprevious(collaboration)
        collaborations = [collaboration]
    for process in missing:
        participant = etree.Element(bpmn("participant"))
        participant.set("id", ids.unique(f"Participant_{process.get('id')}"))
        participant.set("name", process.get("name") or process.get("id", ""))
        participant.set("processRef", process.get("id", ""))
        _insert_participant(collaborations[0], participant)
    return collaborations


def _insert_participant(collaboration: etree._Element, participant: etree._Element) -> None:
    """After the last participant, or after the documentation and extension elements."""
    leading = ("participant", "documentation", "extensionElements")
    children = [c for c in collaboration if isinstance(c.tag, str)]
    before = [c for c in children if etree.QName(c).localname in leading]
    participants = [c for c in before if etree.QName(c).localname == "participant"]
    anchor = (participants or before or [None])[-1]
    if anchor is None:
        collaboration.insert(0, participant)
    else:
        anchor.addnext(participant)


def drawn_containers(root: etree._Element) -> set[str]:
    """Ids of everything a diagram plane of this file may draw: collaborations, processes, sub-processes."""
    tags = ["collaboration", "process", *SUBPROCESS_TAGS]
    return {e.get("id", "") for tag in tags for e in root.iter(bpmn(tag)) if e.get("id")}


def remove_diagrams(root: etree._Element, containers: set[str]) -> None:
    """Remove every diagram whose plane draws one of ``containers``."""
    for diagram in root.findall(bpmndi("BPMNDiagram")):
        plane = diagram.find(bpmndi("BPMNPlane"))
        if plane is not None and plane.get("bpmnElement") in containers:
            root.remove(diagram)


def diagrams_go_before(root: etree._Element) -> etree._Element | None:
    """Where new diagrams go: before the diagrams and relationships that remain, else at the end."""
    tags = (bpmndi("BPMNDiagram"), bpmn("relationship"))
    return next((child for child in root if child.tag in tags), None)


def new_plane(
    root: etree._Element, element_id: str, ids: Ids, before: etree._Element | None
) -> etree._Element:
    """A new diagram drawing ``element_id``, placed before ``before``; returns its plane."""
    diagram = etree.SubElement(root, bpmndi("BPMNDiagram"), id=ids.unique(f"BPMNDiagram_{element_id}"))
    if before is not None:
        before.addprevious(diagram)
    plane_id = ids.unique(f"BPMNPlane_{element_id}")
    return etree.SubElement(diagram, bpmndi("BPMNPlane"), id=plane_id, bpmnElement=element_id)


# --- shapes and edges ----------------------------------------------------------------------------


def write_pool(plane: etree._Element, participant_id: str, drawing: Drawing, ids: Ids) -> None:
    """The pool of one participant, its lanes, and the process inside it."""
    pool = drawing.placement.pool
    assert pool is not None
    write_shape(plane, participant_id, pool, ids, isHorizontal="true")
    for lane_id, box in drawing.placement.lanes().items():
        write_shape(plane, lane_id, box, ids, isHorizontal="true")
    write_content(plane, drawing, ids)


def write_content(plane: etree._Element, drawing: Drawing, ids: Ids) -> None:
    """Shapes for nodes, then boundary events (drawn over their hosts), notes, flows and associations."""
    placement = drawing.placement
    for node in [*drawing.graph.nodes.values(), *drawing.graph.boundaries.values()]:
        box, label = placement.shapes[node.id], placement.labels.get(node.id)
        write_shape(plane, node.id, box, ids, label=label, **_flags(node))
    for note in drawing.graph.annotations:
        write_shape(plane, note.id, placement.notes[note.id], ids)
    for flow in drawing.graph.flows:
        route = drawing.routes[flow.id]
        write_edge(plane, flow.id, route.points, ids, label=route.label)
    for association in drawing.graph.associations:
        write_edge(plane, association.id, drawing.links[association.id], ids)


def _flags(node: FlowNode) -> dict[str, str]:
    if node.tag == "exclusiveGateway":
        return {"isMarkerVisible": "true"}
    if node.tag in SUBPROCESS_TAGS:
        return {"isExpanded": "false"}
    return {}


def write_shape(
    plane: etree._Element, element_id: str, box: Box, ids: Ids, *, label: Box | None = None, **flags: str
) -> None:
    """A ``BPMNShape`` with its bounds, and its label's bounds when it has one."""
    shape = etree.SubElement(
        plane, bpmndi("BPMNShape"), id=ids.unique(f"{element_id}_di"), bpmnElement=element_id
    )
    for key, value in flags.items():
        shape.set(key, value)
    _bounds(shape, box)
    if label is not None:
        _bounds(etree.SubElement(shape, bpmndi("BPMNLabel")), label)


def write_edge(
    plane: etree._Element, element_id: str, points: list[Point], ids: Ids, *, label: Box | None = None
) -> None:
    """A ``BPMNEdge`` with its waypoints, and its label's bounds when it has one."""
    edge = etree.SubElement(
        plane, bpmndi("BPMNEdge"), id=ids.unique(f"{element_id}_di"), bpmnElement=element_id
    )
    for x, y in points:
        etree.SubElement(edge, f"{{{DI_NS}}}waypoint", x=str(x), y=str(y))
    if label is not None:
        _bounds(etree.SubElement(edge, bpmndi("BPMNLabel")), label)


def _bounds(parent: etree._Element, box: Box) -> None:
    etree.SubElement(
        parent, f"{{{DC_NS}}}Bounds", x=str(box.x), y=str(box.y), width=str(box.w), height=str(box.h)
    )


def message_route(source: Box, target: Box, *, source_is_pool: bool, target_is_pool: bool) -> list[Point]:
    """A message flow from one pool (or node in it) to another: vertical, with one jog if need be."""
    downwards = source.cy <= target.cy
    sx = _clamp(target.cx, source) if source_is_pool else source.cx
    tx = _clamp(sx, target) if target_is_pool else target.cx
    sy = source.bottom if downwards else source.y
    ty = target.y if downwards else target.bottom
    if sx == tx:
        return [(sx, sy), (tx, ty)]
    middle = (sy + ty) // 2
    return [(sx, sy), (sx, middle), (tx, middle), (tx, ty)]


def _clamp(x: int, box: Box) -> int:
    return min(max(x, box.x + 10), box.right - 10)

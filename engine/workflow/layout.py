"""Automatic diagrams for hand-written BPMN: ``layout_bpmn(data)`` gives back the file with a clean diagram.

The semantic XML is what a person writes and reviews; the diagram (BPMNDI) is what a modeller needs to show
it, and nobody should have to work out its coordinates by hand. Every process is drawn in a pool, with its
lanes as horizontal swimlanes stacked top to bottom, its nodes in columns by how far they are from the
start (:mod:`layout_graph`), in rows so that branches never overlap (:mod:`layout_grid`), and its flows
routed at right angles (:mod:`layout_routes`). Embedded sub-processes are drawn collapsed, with their
contents on a plane of their own, as bpmn-js does. Running it again gives the same bytes.

Limits: data objects, data stores and groups are not drawn, nor are the lanes of an embedded sub-process;
more than three boundary events on one activity overlap; message flows run straight between pools, across
whatever lies between; flows may cross each other but never a shape (when no clean route exists the last
resort is kept); names are kept clear of shapes and of each other where there is room, but may sit on
another flow's line.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from engine.errors import Problem, ProcessValidationError
from engine.workflow.layout_di import (
    Drawing,
    Ids,
    diagrams_go_before,
    drawn_containers,
    ensure_participants,
    message_route,
    new_plane,
    remove_diagrams,
    with_di_namespaces,
    write_content,
    write_edge,
    write_pool,
    write_shape,
)
from engine.workflow.layout_graph import SUBPROCESS_TAGS, rank, read_flow_graph
from engine.workflow.layout_grid import RIGHT_PAD, Box, place
from engine.workflow.layout_routes import note_links, route_flows
from engine.workflow.process_outline import NS, bpmn, is_bpmn, top_level_processes
from engine.workflow.xml_safety import parse_untrusted_xml

__all__ = ["layout_bpmn", "layout_file", "layout_tree"]

ORIGIN_X, ORIGIN_Y = 160, 80
POOL_GAP = 50
BLACK_BOX_HEIGHT = 60
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# Comments, CDATA and processing instructions are matched whole so that only real tags are touched.
_EMPTY_TAG = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|(<[^<>]*?)/>", re.DOTALL)


def layout_bpmn(data: bytes, *, filename: str = "process.bpmn") -> bytes:
    """Return ``data`` with a fresh diagram for every process, pretty-printed with two-space indents.

    Raises :class:`ProcessValidationError` when the file cannot be read safely, is not BPMN 2.0, or has
    no process to draw.
    """
    tree, problems = parse_untrusted_xml(filename, data)
    if tree is None:
        raise ProcessValidationError(problems)
    root = tree.getroot()
    if not is_bpmn(tree):
        reason = "this is not a BPMN 2.0 file: it does not start with <bpmn:definitions>"
        raise ProcessValidationError([Problem(filename, reason, line=root.sourceline)])
    if not top_level_processes(tree):
        reason = "there is no bpmn:process to draw: write the process first, then lay it out"
        raise ProcessValidationError([Problem(filename, reason, line=root.sourceline)])
    return serialise(layout_tree(tree))


def layout_file(path: Path, *, in_place: bool = True) -> bytes:
    """Lay out the BPMN file at ``path``; with ``in_place`` the file is rewritten (only if it changed)."""
    original = path.read_bytes()
    result = layout_bpmn(original, filename=path.name)
    if in_place and result != original:
        path.write_bytes(result)
    return result


def layout_tree(tree: etree._ElementTree) -> etree._ElementTree:
    """Replace the diagrams of a parsed BPMN document, in place.

    Returns the tree to use from then on: a new one when the root had to gain namespace declarations.
    """
    tree = with_di_namespaces(tree)
    root = tree.getroot()
    remove_diagrams(root, drawn_containers(root))
    ids = Ids(root)
    collaborations = ensure_participants(root, ids)
    before = diagrams_go_before(root)
    for collaboration in collaborations:
        _draw_collaboration(root, collaboration, ids, before)
    for process in top_level_processes(tree):
        for subprocess in process.iter(*(bpmn(tag) for tag in sorted(SUBPROCESS_TAGS))):
            if subprocess.get("id"):
                plane = new_plane(root, subprocess.get("id", ""), ids, before)
                write_content(plane, draw(subprocess, x=ORIGIN_X, y=ORIGIN_Y, pool=False), ids)
    return tree


def serialise(tree: etree._ElementTree) -> bytes:
    """The document as UTF-8, indented by two spaces, with the XML declaration modellers write."""
    etree.indent(tree, space="  ")
    body = _EMPTY_TAG.sub(_spaced, etree.tostring(tree, encoding="UTF-8", pretty_print=True))
    return XML_DECLARATION + body


def _spaced(match: re.Match[bytes]) -> bytes:
    """``<x a="1" />`` as bpmn-js and Camunda Modeler write it, so files diff cleanly against theirs."""
    return match.group(0) if match.group(1) is None else match.group(1) + b" />"


def draw(container: etree._Element, *, x: int, y: int, pool: bool) -> Drawing:
    """Lay out and route one process (in a pool, with its lanes) or one sub-process (bare)."""
    graph = read_flow_graph(container, with_lanes=pool)
    ranking = rank(graph)
    placement = place(graph, ranking, x=x, y=y, pool=pool)
    routes = route_flows(graph, ranking, placement)
    placement.stretch(max((r.label.right + RIGHT_PAD for r in routes.values() if r.label), default=0))
    return Drawing(graph, placement, routes, note_links(graph, placement, routes))


def _draw_collaboration(
    root: etree._Element, collaboration: etree._Element, ids: Ids, before: etree._Element | None
) -> None:
    """One plane with a pool per participant, stacked top to bottom, all as wide as the widest."""
    pools = _stack_pools(root, collaboration)
    right = max([_pool(p).right for _, p in pools if isinstance(p, Drawing)], default=ORIGIN_X + 600)
    plane = new_plane(root, collaboration.get("id", ""), ids, before)
    boxes: dict[str, Box] = {}
    for participant_id, drawing in pools:
        if isinstance(drawing, Drawing):
            drawing.placement.stretch(right)
            write_pool(plane, participant_id, drawing, ids)
            boxes.update(drawing.placement.shapes)
            boxes[participant_id] = _pool(drawing)
        else:
            boxes[participant_id] = Box(ORIGIN_X, drawing, right - ORIGIN_X, BLACK_BOX_HEIGHT)
            write_shape(plane, participant_id, boxes[participant_id], ids, isHorizontal="true")
    _draw_message_flows(plane, collaboration, boxes, {p for p, _ in pools}, ids)


def _stack_pools(root: etree._Element, collaboration: etree._Element) -> list[tuple[str, Drawing | int]]:
    """Each participant with its process laid out, or, when it has none here, the top of its empty pool."""
    processes = {p.get("id"): p for p in root.findall("bpmn:process", NS)}
    pools: list[tuple[str, Drawing | int]] = []
    y = ORIGIN_Y
    for participant in collaboration.iterfind("bpmn:participant", NS):
        participant_id = participant.get("id", "")
        process = processes.pop(participant.get("processRef"), None)
        if not participant_id:
            continue
        if process is None:
            pools.append((participant_id, y))
            y += BLACK_BOX_HEIGHT + POOL_GAP
        else:
            drawing = draw(process, x=ORIGIN_X, y=y, pool=True)
            pools.append((participant_id, drawing))
            y = _pool(drawing).bottom + POOL_GAP
    return pools


def _pool(drawing: Drawing) -> Box:
    assert drawing.placement.pool is not None, "processes are always drawn in a pool"
    return drawing.placement.pool


def _draw_message_flows(
    plane: etree._Element, collaboration: etree._Element, boxes: dict[str, Box], pools: set[str], ids: Ids
) -> None:
    for flow in collaboration.iterfind("bpmn:messageFlow", NS):
        source, target = flow.get("sourceRef", ""), flow.get("targetRef", "")
        if flow.get("id") and source in boxes and target in boxes:
            points = message_route(
                boxes[source], boxes[target], source_is_pool=source in pools, target_is_pool=target in pools
            )
            write_edge(plane, flow.get("id", ""), points, ids)

"""Automatic BPMN diagrams: every element drawn once, nothing overlapping, valid, runnable, repeatable."""

from __future__ import annotations

import itertools
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.errors import ProcessValidationError
from engine.workflow.layout import layout_bpmn, layout_file
from engine.workflow.xml_safety import DOCTYPE_REFUSED

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LAYOUT = FIXTURES / "layout"
NOTICE = LAYOUT / "home_education_notice.bpmn"
CHILD = LAYOUT / "record_pupil_status.bpmn"

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {
    "bpmn": BPMN,
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
FLOW_NODE_SUFFIXES = ("Event", "Gateway", "Task")
FLOW_NODE_TAGS = {"task", "subProcess", "callActivity", "transaction", "adHocSubProcess"}

NAMESPACES = f'xmlns:bpmn="{BPMN}"'


def inline(body: str) -> bytes:
    """A one-process document around ``body``."""
    return (
        f'<bpmn:definitions {NAMESPACES} id="Definitions_inline" targetNamespace="http://bpmn.io/schema/bpmn">\n'
        f'  <bpmn:process id="inline" name="Inline process" isExecutable="true">\n{body}\n'
        "  </bpmn:process>\n</bpmn:definitions>\n"
    ).encode()


def random_process(seed: int) -> bytes:
    """A random, well-formed process: up to 40 nodes in up to three lanes, with gateways, loops, flows
    that jump columns and up to three boundary events on a task. Nothing like a real process, which is
    the point: whatever is thrown at it, the layout's rules must hold."""
    rng = random.Random(seed)
    kinds = ["userTask", "manualTask", "exclusiveGateway", "parallelGateway", "intermediateCatchEvent"]
    count = rng.randint(5, 40)
    nodes = {"N0": "startEvent"} | {
        f"N{i}": rng.choice([*kinds, "callActivity", "endEvent"]) for i in range(1, count)
    }
    sources = [n for n, kind in nodes.items() if kind != "endEvent"]
    flows = [(rng.choice([s for s in sources if int(s[1:]) < i]), f"N{i}") for i in range(1, count)]
    flows += [(rng.choice(sources), f"N{rng.randrange(1, count)}") for _ in range(rng.randint(0, 4))]
    hosts = [n for n, kind in nodes.items() if kind in ("userTask", "manualTask", "callActivity")]
    boundaries: dict[str, str] = {}
    for number in range(rng.randint(0, 4) if hosts else 0):
        host = rng.choice(hosts)
        if list(boundaries.values()).count(host) < 3:
            boundaries[f"B{number}"] = host
            flows.append((f"B{number}", f"N{rng.randrange(1, count)}"))
    return inline("\n".join(_random_xml(rng, nodes, boundaries, flows)))


def _random_xml(
    rng: random.Random, nodes: dict[str, str], boundaries: dict[str, str], flows: list[tuple[str, str]]
) -> list[str]:
    lanes = rng.randint(0, 3)
    xml = []
    for lane in range(lanes):
        refs = "".join(
            f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for i, n in enumerate(nodes) if i % lanes == lane
        )
        xml.append(f'<bpmn:lane id="Lane_{lane}" name="Lane {lane}">{refs}</bpmn:lane>')
    xml = ['<bpmn:laneSet id="LaneSet_1">', *xml, "</bpmn:laneSet>"] if lanes else []
    names = ["", "Short", "A rather longer name for this one"]
    xml += [f'<bpmn:{kind} id="{n}" name="{rng.choice(names)}" />' for n, kind in nodes.items()]
    for boundary, host in boundaries.items():
        timer = "<bpmn:timerEventDefinition />"
        xml.append(
            f'<bpmn:boundaryEvent id="{boundary}" name="Timer" attachedToRef="{host}">{timer}</bpmn:boundaryEvent>'
        )
    for number, (source, target) in enumerate(flows):
        name = rng.choice(["", "Yes", "Needs more work"]) if "Gateway" in nodes.get(source, "") else ""
        xml.append(
            f'<bpmn:sequenceFlow id="F{number}" name="{name}" sourceRef="{source}" targetRef="{target}" />'
        )
    return xml


RANDOM_SEEDS = range(12)
LAID_OUT_SOURCES = {
    "notice": NOTICE.read_bytes(),
    "penalty": (LAYOUT / "penalty_notice.bpmn").read_bytes(),
    "branches": (LAYOUT / "parallel_branches.bpmn").read_bytes(),
    "nested_lanes": (LAYOUT / "nested_lanes.bpmn").read_bytes(),
    "notes_and_subprocess": (LAYOUT / "notes_and_subprocess.bpmn").read_bytes(),
    "camunda": (FIXTURES / "bpmn" / "camunda_modeler_referral.bpmn").read_bytes(),
    "spiff_arena": (FIXTURES / "bpmn" / "spiff_arena_style.bpmn").read_bytes(),
    "call_parent": (FIXTURES / "bpmn" / "call_parent.bpmn").read_bytes(),
}
RANDOM_SOURCES = {f"random_{seed}": random_process(seed) for seed in RANDOM_SEEDS}


# --- reading the diagram back --------------------------------------------------------------------


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def overlaps(self, other: Rect) -> bool:
        return (
            self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom
        )

    def contains(self, other: Rect) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.right <= self.right
            and other.bottom <= self.bottom
        )

    def on_border(self, x: float, y: float) -> bool:
        on_side = x in (self.x, self.right) and self.y <= y <= self.bottom
        return on_side or (y in (self.y, self.bottom) and self.x <= x <= self.right)


def rect(bounds: etree._Element) -> Rect:
    return Rect(*(float(bounds.get(k, "0")) for k in ("x", "y", "width", "height")))


@dataclass
class Diagram:
    """What a laid-out file says, read back: semantic elements by id, and each plane's shapes and edges."""

    tree: etree._ElementTree
    elements: dict[str, etree._Element]
    planes: dict[str, etree._Element]

    def shapes(self, element_id: str) -> list[etree._Element]:
        return self.tree.xpath("//bpmndi:BPMNShape[@bpmnElement=$id]", namespaces=NS, id=element_id)

    def shape(self, element_id: str) -> Rect:
        (found,) = self.shapes(element_id)
        return rect(found.find("dc:Bounds", NS))

    def waypoints(self, element_id: str) -> list[tuple[float, float]]:
        (edge,) = self.tree.xpath("//bpmndi:BPMNEdge[@bpmnElement=$id]", namespaces=NS, id=element_id)
        return [(float(p.get("x", "0")), float(p.get("y", "0"))) for p in edge.iterfind("di:waypoint", NS)]

    def local(self, element_id: str) -> str:
        return etree.QName(self.elements[element_id]).localname

    def ids_of(self, *tags: str) -> list[str]:
        return [i for i, e in self.elements.items() if etree.QName(e).localname in tags]

    def flow_nodes(self) -> list[str]:
        return [
            i
            for i, e in self.elements.items()
            if etree.QName(e).localname.endswith(FLOW_NODE_SUFFIXES)
            or etree.QName(e).localname in FLOW_NODE_TAGS
        ]


def read_diagram(data: bytes) -> Diagram:
    tree = etree.fromstring(data).getroottree()
    elements = {
        e.get("id", ""): e
        for e in tree.getroot().iter()
        if isinstance(e.tag, str) and etree.QName(e).namespace == BPMN and e.get("id")
    }
    planes = {p.get("bpmnElement", ""): p for p in tree.iterfind(".//bpmndi:BPMNPlane", NS)}
    return Diagram(tree, elements, planes)


def semantic_dump(data: bytes, *, drop: tuple[str, ...] = ()) -> list[tuple[object, ...]]:
    """Every element, attribute, text and comment outside the diagram (whitespace between them ignored)."""
    root = etree.fromstring(data)
    for element in root.xpath("//bpmndi:BPMNDiagram", namespaces=NS) + [
        root.xpath("//*[@id=$id]", id=i)[0] for i in drop
    ]:
        element.getparent().remove(element)
    return [
        (e.tag, dict(e.attrib), e.text if (e.text or "").strip() else "", (e.tail or "").strip())
        for e in root.iter()
    ]


@pytest.fixture(scope="module")
def laid_out() -> dict[str, bytes]:
    return {name: layout_bpmn(data) for name, data in {**LAID_OUT_SOURCES, **RANDOM_SOURCES}.items()}


@pytest.fixture(params=[*LAID_OUT_SOURCES, *RANDOM_SOURCES])
def diagram(request: pytest.FixtureRequest, laid_out: dict[str, bytes]) -> Diagram:
    """Each laid-out file in turn: the fixtures, then the random processes."""
    return read_diagram(laid_out[request.param])


# --- every element drawn once, where it belongs ----------------------------------------------------


def test_every_flow_node_lane_pool_and_flow_is_drawn_exactly_once(diagram: Diagram) -> None:
    for element_id in [*diagram.flow_nodes(), *diagram.ids_of("lane", "participant", "textAnnotation")]:
        assert len(diagram.shapes(element_id)) == 1, element_id
    for flow_id in diagram.ids_of("sequenceFlow", "association"):
        assert len(diagram.waypoints(flow_id)) >= 2, flow_id


def test_every_process_has_a_pool_and_the_first_diagram_draws_the_collaboration(diagram: Diagram) -> None:
    participants = {e.get("processRef") for i in diagram.ids_of("participant") for e in [diagram.elements[i]]}
    assert set(diagram.ids_of("process")) <= participants
    first_plane = diagram.tree.find(".//bpmndi:BPMNPlane", NS)
    assert diagram.local(first_plane.get("bpmnElement")) == "collaboration"


def test_no_two_node_shapes_overlap(diagram: Diagram) -> None:
    for plane in diagram.planes.values():
        shapes = {
            s.get("bpmnElement"): rect(s.find("dc:Bounds", NS))
            for s in plane.iterfind("bpmndi:BPMNShape", NS)
            if diagram.local(s.get("bpmnElement")) not in ("lane", "participant")
        }
        for (a, box_a), (b, box_b) in itertools.combinations(shapes.items(), 2):
            attached = {diagram.elements[a].get("attachedToRef"), diagram.elements[b].get("attachedToRef")}
            if not {a, b} & attached:
                assert not box_a.overlaps(box_b), (a, b)


def test_labels_overlap_no_shape_and_no_other_label(diagram: Diagram) -> None:
    labels = {
        s.getparent().getparent().get("bpmnElement"): rect(s)
        for s in diagram.tree.iterfind(".//bpmndi:BPMNLabel/dc:Bounds", NS)
    }
    shapes = {
        s.get("bpmnElement"): rect(s.find("dc:Bounds", NS))
        for s in diagram.tree.iterfind(".//bpmndi:BPMNShape", NS)
        if diagram.local(s.get("bpmnElement")) not in ("lane", "participant")
    }
    for (a, box_a), (b, box_b) in itertools.combinations(labels.items(), 2):
        assert not box_a.overlaps(box_b), (a, b)
    for (a, label), (b, shape) in itertools.product(labels.items(), shapes.items()):
        assert not label.overlaps(shape), (a, b)


def test_nodes_lie_inside_their_lane_and_lanes_inside_their_pool(diagram: Diagram) -> None:
    for participant_id in diagram.ids_of("participant"):
        pool = diagram.shape(participant_id)
        process = diagram.elements.get(diagram.elements[participant_id].get("processRef", ""))
        if process is None:
            continue
        for lane in process.iter(f"{{{BPMN}}}lane"):
            lane_box = diagram.shape(lane.get("id"))
            assert pool.contains(lane_box), lane.get("id")
            for ref in lane.iterfind("bpmn:flowNodeRef", NS):
                assert lane_box.contains(diagram.shape(ref.text.strip())), (lane.get("id"), ref.text)
        for node in process:
            if node.get("id") in diagram.flow_nodes():
                assert pool.contains(diagram.shape(node.get("id"))), node.get("id")


def test_boundary_events_sit_on_the_bottom_edge_of_their_host(diagram: Diagram) -> None:
    for boundary_id in diagram.ids_of("boundaryEvent"):
        event = diagram.shape(boundary_id)
        host = diagram.shape(diagram.elements[boundary_id].get("attachedToRef"))
        centre_x, centre_y = event.x + event.w / 2, event.y + event.h / 2
        assert centre_y == host.bottom and host.x <= centre_x <= host.right, boundary_id


def test_flows_are_orthogonal_and_start_and_end_on_their_shapes_borders(diagram: Diagram) -> None:
    for flow_id in diagram.ids_of("sequenceFlow"):
        points = diagram.waypoints(flow_id)
        flow = diagram.elements[flow_id]
        source, target = diagram.shape(flow.get("sourceRef")), diagram.shape(flow.get("targetRef"))
        assert source.on_border(*points[0]) and target.on_border(*points[-1]), flow_id
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            assert x1 == x2 or y1 == y2, flow_id
        if diagram.local(flow.get("sourceRef")) == "boundaryEvent":
            assert points[0][1] == source.bottom, f"{flow_id} should leave its boundary event downwards"
        else:
            assert points[0][0] == source.right, f"{flow_id} should leave from the right"


def test_flows_cross_no_shape_but_their_own(diagram: Diagram) -> None:
    for flow_id in diagram.ids_of("sequenceFlow"):
        flow = diagram.elements[flow_id]
        ends = {flow.get("sourceRef"), flow.get("targetRef")}
        plane = next(p for p in diagram.planes.values() if p.xpath(".//*[@bpmnElement=$id]", id=flow_id))
        for shape in plane.iterfind("bpmndi:BPMNShape", NS):
            element_id = shape.get("bpmnElement")
            if element_id in ends or diagram.local(element_id) in ("lane", "participant"):
                continue
            box = rect(shape.find("dc:Bounds", NS))
            for (x1, y1), (x2, y2) in itertools.pairwise(diagram.waypoints(flow_id)):
                segment = Rect(min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1))
                assert not segment.overlaps(box), (flow_id, element_id)


# --- the layout of the notice process ------------------------------------------------------------


def test_the_main_path_runs_straight_and_branches_hang_below(laid_out: dict[str, bytes]) -> None:
    diagram = read_diagram(laid_out["notice"])
    centre = {i: diagram.shape(i).y + diagram.shape(i).h / 2 for i in diagram.flow_nodes()}
    assert centre["StartEvent_Notice"] == centre["Activity_Check"] == centre["Gateway_Known"]
    assert centre["Activity_Consult"] == centre["Gateway_Merge"] == centre["Activity_Record"]
    assert centre["Activity_Visit"] == centre["Gateway_Suitable"] == centre["EndEvent_Accepted"]
    assert centre["Activity_AskMore"] > centre["Activity_Visit"]
    assert centre["Event_Escalated"] > diagram.shape("Activity_Visit").bottom
    columns = [diagram.shape(i).x + diagram.shape(i).w / 2 for i in ("StartEvent_Notice", "Activity_Check")]
    assert columns[1] - columns[0] == 150


def test_the_loop_back_runs_below_and_comes_up_beside_the_boundary_event(laid_out: dict[str, bytes]) -> None:
    diagram = read_diagram(laid_out["notice"])
    points = diagram.waypoints("Flow_MoreReceived")
    lowest = max(y for _x, y in points)
    assert lowest > diagram.shape("Activity_AskMore").bottom
    visit, timer = diagram.shape("Activity_Visit"), diagram.shape("Event_VisitOverdue")
    assert points[-1] == (visit.x + 20, visit.bottom) and points[-1][0] < timer.x


def test_a_loop_into_a_task_without_boundary_events_enters_from_below() -> None:
    data = inline(
        """
        <bpmn:startEvent id="Start" /><bpmn:userTask id="Draft" name="Draft the letter" />
        <bpmn:exclusiveGateway id="Approved" name="Approved?" default="Flow_Approved_End" />
        <bpmn:endEvent id="End" />
        <bpmn:sequenceFlow id="Flow_Start_Draft" sourceRef="Start" targetRef="Draft" />
        <bpmn:sequenceFlow id="Flow_Draft_Approved" sourceRef="Draft" targetRef="Approved" />
        <bpmn:sequenceFlow id="Flow_Approved_End" sourceRef="Approved" targetRef="End" />
        <bpmn:sequenceFlow id="Flow_Approved_Draft" name="No" sourceRef="Approved" targetRef="Draft" />
        """
    )
    diagram = read_diagram(layout_bpmn(data))
    draft = diagram.shape("Draft")
    points = diagram.waypoints("Flow_Approved_Draft")
    assert points[-1] == (draft.x + draft.w / 2, draft.bottom)
    assert all(y >= draft.y + draft.h / 2 for _x, y in points)


def test_diagram_details_follow_the_modellers(laid_out: dict[str, bytes]) -> None:
    diagram = read_diagram(laid_out["notice"])
    (gateway,) = diagram.shapes("Gateway_Known")
    assert gateway.get("isMarkerVisible") == "true"
    for element_id in [*diagram.ids_of("participant", "lane")]:
        assert diagram.shapes(element_id)[0].get("isHorizontal") == "true"
    sizes = {"StartEvent_Notice": (36, 36), "Activity_Check": (100, 80), "Gateway_Known": (50, 50)}
    sizes["Activity_Record"] = (100, 80)
    for element_id, (width, height) in sizes.items():
        assert (diagram.shape(element_id).w, diagram.shape(element_id).h) == (width, height)
    label = rect(gateway.find("bpmndi:BPMNLabel/dc:Bounds", NS))
    assert label.y >= diagram.shape("Gateway_Known").bottom, "gateway labels go below the gateway"
    (yes,) = diagram.tree.xpath("//bpmndi:BPMNEdge[@bpmnElement='Flow_Known']", namespaces=NS)
    assert yes.find("bpmndi:BPMNLabel/dc:Bounds", NS) is not None
    participant = diagram.elements[diagram.ids_of("participant")[0]]
    assert participant.get("name") == "Elective home education notice"


def test_parallel_branches_get_rows_of_their_own_in_a_process_without_lanes(
    laid_out: dict[str, bytes],
) -> None:
    diagram = read_diagram(laid_out["branches"])
    rows = {i: diagram.shape(i).y + diagram.shape(i).h / 2 for i in ("A1", "B1", "C1")}
    assert len(set(rows.values())) == 3
    assert rows["C1"] == diagram.shape("Split").y + 25, "the longest branch runs straight on"


def test_nested_lanes_wrap_their_inner_lanes(laid_out: dict[str, bytes]) -> None:
    diagram = read_diagram(laid_out["nested_lanes"])
    outer = diagram.shape("Lane_Admissions")
    for inner in ("Lane_Officers", "Lane_Clerks"):
        assert outer.contains(diagram.shape(inner)) and diagram.shape(inner).x == outer.x + 30
    assert diagram.shape("Lane_Panel").y == outer.bottom


def test_annotations_boundary_events_and_subprocess_contents_are_drawn(laid_out: dict[str, bytes]) -> None:
    diagram = read_diagram(laid_out["notes_and_subprocess"])
    note, review = diagram.shape("Note_Review"), diagram.shape("Review")
    assert note.bottom < review.y
    assert diagram.waypoints("Association_Review")[0] == (review.x + review.w / 2, review.y)
    assert diagram.shapes("Gather")[0].get("isExpanded") == "false"
    inside = diagram.planes["Gather"]
    drawn = {s.get("bpmnElement") for s in inside.iterfind("bpmndi:BPMNShape", NS)}
    assert drawn == {"GatherStart", "Upload", "GatherEnd"}
    boundaries = sorted(diagram.shape(b).x for b in ("Remind1", "Remind2", "GiveUp"))
    assert boundaries[1] - boundaries[0] >= 36 and boundaries[2] - boundaries[1] >= 36


def test_a_participant_without_a_process_is_an_empty_pool_with_its_message_flows(
    laid_out: dict[str, bytes],
) -> None:
    diagram = read_diagram(laid_out["notes_and_subprocess"])
    family, review = diagram.shape("Participant_Family"), diagram.shape("Participant_EvidenceReview")
    assert (family.x, family.w) == (review.x, review.w) and family.bottom < review.y
    start = diagram.shape("Start")
    points = diagram.waypoints("MessageFlow_Letters")
    assert points[0][1] == family.bottom and points[-1] == (start.x + start.w / 2, start.y)


# --- the rest of the file is left alone ----------------------------------------------------------


def test_laying_out_twice_gives_the_same_bytes(laid_out: dict[str, bytes]) -> None:
    for name, data in laid_out.items():
        assert layout_bpmn(data) == data, name


def test_output_is_pretty_printed_with_a_declaration(laid_out: dict[str, bytes]) -> None:
    data = laid_out["notice"]
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- Hand-written semantic XML')
    assert b'\n  <bpmn:process id="home_education_notice"' in data
    assert b'\n      <bpmndi:BPMNShape id="Activity_Check_di" bpmnElement="Activity_Check">\n' in data


def test_semantic_xml_is_unchanged_apart_from_the_new_pool(laid_out: dict[str, bytes]) -> None:
    after = read_diagram(laid_out["notice"])
    (collaboration,) = after.ids_of("collaboration")
    (participant,) = after.ids_of("participant")
    assert after.elements[participant].get("processRef") == "home_education_notice"
    assert semantic_dump(laid_out["notice"], drop=(collaboration,)) == semantic_dump(NOTICE.read_bytes())
    root = after.tree.getroot()
    assert {root.nsmap[p] for p in ("bpmndi", "dc", "di")} == {NS["bpmndi"], NS["dc"], NS["di"]}


def test_missing_di_prefixes_are_declared_without_taking_a_prefix_in_use() -> None:
    data = inline('<bpmn:startEvent id="Start" />').replace(
        b"xmlns:bpmn=", b'xmlns:di="urn:other" xmlns:bpmn='
    )
    root = etree.fromstring(layout_bpmn(data))
    assert root.nsmap["di"] == "urn:other"
    assert (root.nsmap["di2"], root.nsmap["bpmndi"], root.nsmap["dc"]) == (NS["di"], NS["bpmndi"], NS["dc"])
    VALIDATOR.validate(root.getroottree())


@pytest.mark.parametrize("name", ["camunda", "spiff_arena", "call_parent"])
def test_an_existing_diagram_is_replaced_and_nothing_else_changes(
    name: str, laid_out: dict[str, bytes]
) -> None:
    before, after = LAID_OUT_SOURCES[name], laid_out[name]
    old, new = read_diagram(before), read_diagram(after)
    added = tuple(i for i in new.ids_of("collaboration", "participant") if i not in old.elements)
    assert semantic_dump(after, drop=added) == semantic_dump(before)
    assert len(new.planes) == 1
    old_ids = {s.get("id") for s in old.tree.iterfind(".//bpmndi:BPMNShape", NS)}
    new_ids = {s.get("id") for s in new.tree.iterfind(".//bpmndi:BPMNShape", NS)}
    assert "_BPMNShape_StartEvent_2" not in new_ids and old_ids - new_ids


def test_layout_file_rewrites_the_file_in_place_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / NOTICE.name
    shutil.copy(NOTICE, path)
    drawn = layout_file(path, in_place=False)
    assert path.read_bytes() == NOTICE.read_bytes()
    assert layout_file(path) == drawn == path.read_bytes()


def test_a_doctype_is_refused() -> None:
    with pytest.raises(ProcessValidationError) as caught:
        layout_bpmn((FIXTURES / "bpmn" / "billion_laughs.bpmn").read_bytes())
    assert [p.reason for p in caught.value.problems] == [DOCTYPE_REFUSED]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<bpmn:definitions", "not well-formed"),
        (b'<definitions xmlns="urn:other"/>', "not a BPMN 2.0 file"),
        (f"<bpmn:definitions {NAMESPACES}/>".encode(), "no bpmn:process"),
    ],
)
def test_what_cannot_be_laid_out_says_why(data: bytes, reason: str) -> None:
    with pytest.raises(ProcessValidationError) as caught:
        layout_bpmn(data, filename="broken.bpmn")
    assert reason in str(caught.value) and "broken.bpmn" in str(caught.value)


# --- still valid, still runs ---------------------------------------------------------------------


def test_the_result_is_valid_bpmn(diagram: Diagram) -> None:
    VALIDATOR.validate(diagram.tree)


@pytest.mark.parametrize("name", LAID_OUT_SOURCES)
def test_spiffworkflow_reads_every_process_of_the_result(name: str, laid_out: dict[str, bytes]) -> None:
    diagram = read_diagram(laid_out[name])
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_xml(diagram.tree, filename=f"{name}.bpmn")
    for process_id in diagram.ids_of("process"):
        assert parser.get_spec(process_id).name == process_id


def test_the_result_still_parses_and_runs_in_spiffworkflow(laid_out: dict[str, bytes]) -> None:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_xml(etree.fromstring(laid_out["notice"]).getroottree(), filename=NOTICE.name)
    parser.add_bpmn_xml(etree.fromstring(layout_bpmn(CHILD.read_bytes())).getroottree(), filename=CHILD.name)
    workflow = BpmnWorkflow(
        parser.get_spec("home_education_notice"), parser.get_subprocess_specs("home_education_notice")
    )
    answers = {
        "Activity_Check": {"known_to_social_care": False},
        "Activity_Visit": {"education_suitable": True},
    }
    workflow.do_engine_steps()
    while not workflow.is_completed():
        (task,) = workflow.get_tasks(state=TaskState.READY)
        task.data.update(answers[task.task_spec.name])
        task.run()
        workflow.do_engine_steps()
    assert workflow.data["pupil_status"] == "home educated"


# --- a picture for a person to look at -----------------------------------------------------------


def test_render_a_picture_to_look_at(laid_out: dict[str, bytes], tmp_path: Path) -> None:
    """Writes SVG (and PNG, where rsvg-convert is installed) to tmp_path; open them to judge the layout."""
    for name in LAID_OUT_SOURCES:
        for plane_id, svg in render_svg(read_diagram(laid_out[name])).items():
            path = tmp_path / f"{name}-{plane_id}.svg"
            path.write_text(svg, encoding="utf-8")
            etree.parse(str(path))
            if shutil.which("rsvg-convert"):
                png = path.with_suffix(".png")
                subprocess.run(["rsvg-convert", "-o", str(png), str(path)], check=True)
                assert png.stat().st_size > 0


def render_svg(diagram: Diagram) -> dict[str, str]:
    """A rough picture of each plane: pools and lanes, nodes, flows with arrowheads, and labels."""
    pictures = {}
    for plane_id, plane in diagram.planes.items():
        parts: list[str] = []
        for shape in plane.iterfind("bpmndi:BPMNShape", NS):
            parts += _svg_shape(diagram, shape)
        for edge in plane.iterfind("bpmndi:BPMNEdge", NS):
            parts += _svg_edge(diagram, edge)
        boxes = [rect(b) for b in plane.iterfind(".//dc:Bounds", NS)]
        width = max([b.right for b in boxes], default=0) + 40
        height = max([b.bottom for b in boxes], default=0) + 40
        pictures[plane_id] = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            'font-family="Arial, sans-serif" font-size="11">\n'
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
            'orient="auto"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>\n'
            f'<rect width="{width}" height="{height}" fill="white"/>\n' + "\n".join(parts) + "\n</svg>\n"
        )
    return pictures


def _svg_shape(diagram: Diagram, shape: etree._Element) -> list[str]:
    element_id = shape.get("bpmnElement")
    kind, name = diagram.local(element_id), diagram.elements[element_id].get("name") or ""
    box = rect(shape.find("dc:Bounds", NS))
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    if kind in ("participant", "lane"):
        return [
            f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" fill="none" stroke="#444"/>',
            f'<line x1="{box.x + 30}" y1="{box.y}" x2="{box.x + 30}" y2="{box.bottom}" stroke="#444"/>',
            f'<text transform="translate({box.x + 19},{cy}) rotate(-90)" text-anchor="middle">{_esc(name)}</text>',
        ]
    if kind == "textAnnotation":
        path = f"M{box.x + 10},{box.y} L{box.x},{box.y} L{box.x},{box.bottom} L{box.x + 10},{box.bottom}"
        text = diagram.elements[element_id].findtext("bpmn:text", "", NS)
        return [
            f'<path d="{path}" fill="none" stroke="black"/>',
            *_svg_text(text, box.x + 5, box.y + 14, "start"),
        ]
    if kind.endswith("Event"):
        width = 3 if kind == "endEvent" else 1
        return [
            f'<circle cx="{cx}" cy="{cy}" r="18" fill="white" stroke="black" stroke-width="{width}"/>',
            *_svg_label(shape, name),
        ]
    if kind.endswith("Gateway"):
        points = f"{cx},{box.y} {box.right},{cy} {cx},{box.bottom} {box.x},{cy}"
        marker = {"exclusiveGateway": "X", "parallelGateway": "+", "inclusiveGateway": "O"}.get(kind, "")
        return [
            f'<polygon points="{points}" fill="white" stroke="black"/>',
            f'<text x="{cx}" y="{cy + 6}" text-anchor="middle" font-size="18">{marker}</text>',
            *_svg_label(shape, name),
        ]
    collapsed = (
        [f'<text x="{cx}" y="{box.bottom - 4}" text-anchor="middle">[+]</text>']
        if "sub" in kind.lower()
        else []
    )
    return [
        f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" rx="10" fill="white" '
        f'stroke="black" stroke-width="{3 if kind == "callActivity" else 1}"/>',
        *_svg_text(name, cx, cy - 7 * (len(_lines(name)) - 1) + 4, "middle"),
        *collapsed,
    ]


def _svg_edge(diagram: Diagram, edge: etree._Element) -> list[str]:
    element_id = edge.get("bpmnElement")
    points = " ".join(f"{p.get('x')},{p.get('y')}" for p in edge.iterfind("di:waypoint", NS))
    style = {
        "association": 'stroke-dasharray="2,3"',
        "messageFlow": 'stroke-dasharray="6,4" marker-end="url(#arrow)"',
    }.get(diagram.local(element_id), 'marker-end="url(#arrow)"')
    name = diagram.elements[element_id].get("name") or ""
    return [f'<polyline points="{points}" fill="none" stroke="black" {style}/>', *_svg_label(edge, name)]


def _svg_label(element: etree._Element, name: str) -> list[str]:
    bounds = element.find("bpmndi:BPMNLabel/dc:Bounds", NS)
    if bounds is None or not name:
        return []
    box = rect(bounds)
    return [
        f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" fill="#fff8d0" stroke="none"/>',
        *_svg_text(name, box.x + box.w / 2, box.y + 11, "middle", width=box.w + 6),
    ]


def _lines(text: str, width: float = 90) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and (len(lines[-1]) + 1 + len(word)) * 5.5 <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _svg_text(text: str, x: float, y: float, anchor: str, width: float = 90) -> list[str]:
    return [
        f'<text x="{x}" y="{y + 14 * i}" text-anchor="{anchor}">{_esc(line)}</text>'
        for i, line in enumerate(_lines(text, width))
    ]


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

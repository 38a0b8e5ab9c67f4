"""Use cases on the process library: validate, deploy as immutable versions, list.

A version is keyed by the SHA-256 of its BPMN file and of every file it calls: deploying identical
content again changes nothing; a changed file makes a new version; running instances keep theirs.
Call activities resolve across the files given together and, failing that, across deployed processes.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import EduCaseError, NotFound, Problem, ProcessValidationError
from ..forms import register_form_version
from ..models.workflow import BpmnFile, InstanceState, ProcessInstance, ProcessVersion
from ..workflow.library import LoadedBundle, ProcessInfo, load_bpmn
from ..workflow.process_outline import top_level_processes
from ..workflow.sandbox import check_script
from ..workflow.timers import use_engine_clock
from ..workflow.xml_safety import parse_untrusted_xml

if TYPE_CHECKING:
    from ..context import Context

Source = tuple[str, bytes]
SERVICE_OPERATORS = frozenset({"generate_document"})  # the connectors the engine installs


@dataclass
class DeployedProcess:
    process_id: str
    name: str | None
    version: int
    status: str  # "new" or "unchanged"
    file: str


@dataclass
class LibraryReport:
    """What validation or deployment found: every process, runnable or not, and any notes."""

    processes: list[dict[str, Any]] = field(default_factory=list)
    deployed: list[DeployedProcess] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "processes": self.processes,
            "deployed": [asdict(d) for d in self.deployed],
            "warnings": self.warnings,
        }


def read_sources(paths: list[Path]) -> list[Source]:
    """Read BPMN files; a directory contributes every ``*.bpmn`` file in it."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.bpmn")))
        elif path.exists():
            files.append(path)
        else:
            raise ProcessValidationError([Problem(str(path), "file not found")])
    if not files:
        raise ProcessValidationError([Problem(", ".join(map(str, paths)), "no .bpmn files found")])
    return [(str(f), f.read_bytes()) for f in files]


def validate_sources(ctx: Context, sources: list[Source]) -> LibraryReport:
    """Check files as deployment would, without writing anything."""
    with ctx.db.transaction() as session:
        bundle, given, _raw = _load(ctx, session, sources)
        return _report(bundle, given)


def deploy_sources(ctx: Context, sources: list[Source], *, actor: str | None = None) -> LibraryReport:
    """Validate and deploy; all or nothing."""
    with ctx.db.transaction() as session:
        bundle, given, raw = _load(ctx, session, sources)
        report = _report(bundle, given)
        for process_id in bundle.executable_ids():
            if _defining_file(bundle, process_id) in given:
                report.deployed.append(_deploy_one(ctx, session, bundle, process_id, raw, actor))
        session.info.setdefault("after_commit", []).append(ctx.versions.forget_latest)
        return report


def list_processes(ctx: Context) -> list[dict[str, Any]]:
    """Each deployed process with its latest version and how many of its instances are open."""
    with ctx.db.transaction() as session:
        latest = {
            v.process_id: v
            for v in session.scalars(
                select(ProcessVersion).order_by(ProcessVersion.process_id, ProcessVersion.version)
            )
        }
        open_counts = dict(
            session.execute(
                select(ProcessInstance.process_id, func.count())
                .where(ProcessInstance.state.not_in(InstanceState.FINISHED))
                .group_by(ProcessInstance.process_id)
            ).all()
        )
        return [
            {
                "process_id": pid,
                "name": v.name,
                "latest_version": v.version,
                "deployed_at": v.deployed_at.isoformat(),
                "deployed_by": v.deployed_by,
                "open_instances": open_counts.get(pid, 0),
                "start_messages": v.start_messages,
            }
            for pid, v in sorted(latest.items())
        ]


def get_version(session: Session, process_id: str, version: int) -> ProcessVersion:
    found = session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.process_id == process_id, ProcessVersion.version == version
        )
    )
    if found is None:
        raise NotFound(f"Process '{process_id}' has no version {version}.")
    return found


# --- internals ---------------------------------------------------------------------------------------


def _load(
    ctx: Context, session: Session, sources: list[Source]
) -> tuple[LoadedBundle, set[str], dict[str, bytes]]:
    """Parse and check the given files (with deployed ones for call activities); raw bytes by name."""
    given = {name for name, _ in sources}
    extra = _deployed_sources_for_calls(session, sources)
    bundle = load_bpmn([*sources, *extra], script_checker=check_script, service_operators=SERVICE_OPERATORS)
    problems = _form_problems(ctx, bundle, given)
    if problems:
        raise ProcessValidationError(problems)
    return bundle, given, dict(sources) | dict(extra)


def _deployed_sources_for_calls(session: Session, sources: list[Source]) -> list[Source]:
    """Deployed files that define processes the given files do not, so call activities can reach them."""
    defined: set[str] = set()
    for name, data in sources:
        tree, _problems = parse_untrusted_xml(name, data)
        if tree is not None:
            defined.update(p.get("id") for p in top_level_processes(tree))
    extra: dict[str, bytes] = {}
    for version in _latest_versions(session):
        if version.process_id in defined:
            continue
        file = session.get(BpmnFile, version.bpmn_file_id)
        if file is not None:
            extra[f"deployed:{file.filename}"] = file.content.encode("utf-8")
    # Drop deployed files that redefine any process given now (the given file wins).
    kept = []
    for name, data in extra.items():
        tree, _ = parse_untrusted_xml(name, data)
        ids = {p.get("id") for p in top_level_processes(tree)} if tree is not None else set()
        if not ids & defined:
            kept.append((name, data))
    return kept


def _latest_versions(session: Session) -> list[ProcessVersion]:
    newest = (
        select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("v"))
        .group_by(ProcessVersion.process_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(ProcessVersion).join(
                newest,
                (newest.c.process_id == ProcessVersion.process_id) & (newest.c.v == ProcessVersion.version),
            )
        )
    )


def _form_problems(ctx: Context, bundle: LoadedBundle, given: set[str]) -> list[Problem]:
    problems = []
    for info in bundle.processes:
        if info.file not in given:
            continue
        if info.start_form_ref:
            try:
                ctx.forms.get(info.start_form_ref)
            except EduCaseError as error:
                problems.append(
                    Problem(
                        info.file,
                        f"the start event uses form '{info.start_form_ref}': {error.message}",
                        element_id=info.process_id,
                    )
                )
        for meta in info.tasks.values():
            if meta.form_ref or meta.ui_form_ref:
                try:
                    ctx.forms.get(meta.form_ref or "", meta.ui_form_ref)
                except EduCaseError as error:  # NotFound or FormSchemaError; both say why
                    problems.append(
                        Problem(
                            info.file,
                            f"task '{meta.name}' uses form '{meta.form_ref}': {error.message}",
                            element_id=meta.task_id,
                        )
                    )
    return problems


def _defining_file(bundle: LoadedBundle, process_id: str) -> str:
    return _info(bundle, process_id).file


def _info(bundle: LoadedBundle, process_id: str) -> ProcessInfo:
    return next(p for p in bundle.processes if p.process_id == process_id)


def _deploy_one(
    ctx: Context,
    session: Session,
    bundle: LoadedBundle,
    process_id: str,
    raw: dict[str, bytes],
    actor: str | None,
) -> DeployedProcess:
    info = _info(bundle, process_id)
    files = bundle.source_files_for(process_id)
    digest = hashlib.sha256()
    for name in sorted(files, key=lambda n: n.removeprefix("deployed:")):
        digest.update(hashlib.sha256(raw[name]).digest())
    content_hash = digest.hexdigest()
    existing = session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.process_id == process_id, ProcessVersion.content_hash == content_hash
        )
    )
    if existing is not None:
        return DeployedProcess(process_id, info.name, existing.version, "unchanged", info.file)
    spec, subprocess_specs = bundle.specs(process_id)
    use_engine_clock(spec, *subprocess_specs.values())
    called = _transitive_calls(bundle, process_id)
    version = ProcessVersion(
        process_id=process_id,
        name=info.name,
        content_hash=content_hash,
        version=_next_version(session, process_id),
        bpmn_file_id=_store_file(session, info.file, raw[info.file], actor).id,
        spec=ctx.serializer.spec_to_dict(spec, subprocess_specs),
        task_meta={
            pid: {tid: asdict(m) for tid, m in _info(bundle, pid).tasks.items()}
            for pid in [process_id, *called]
        },
        start_messages=list(info.start_messages),
        start_form_ref=info.start_form_ref,
        called_processes=called,
        deployed_at=clock.now(),
        deployed_by=actor,
    )
    session.add(version)
    _register_forms(ctx, session, bundle, [process_id, *called])
    session.flush()
    return DeployedProcess(process_id, info.name, version.version, "new", info.file)


def _transitive_calls(bundle: LoadedBundle, process_id: str) -> list[str]:
    seen: list[str] = []
    pending = list(_info(bundle, process_id).called_processes)
    while pending:
        pid = pending.pop(0)
        if pid not in seen and pid != process_id:
            seen.append(pid)
            pending.extend(_info(bundle, pid).called_processes)
    return seen


def _next_version(session: Session, process_id: str) -> int:
    current = session.scalar(
        select(func.max(ProcessVersion.version)).where(ProcessVersion.process_id == process_id)
    )
    return (current or 0) + 1


def _store_file(session: Session, filename: str, data: bytes, actor: str | None) -> BpmnFile:
    content_hash = hashlib.sha256(data).hexdigest()
    found = session.scalar(select(BpmnFile).where(BpmnFile.content_hash == content_hash))
    if found is None:
        found = BpmnFile(
            filename=Path(filename.removeprefix("deployed:")).name,
            content_hash=content_hash,
            content=data.decode("utf-8"),
            deployed_at=clock.now(),
            deployed_by=actor,
        )
        session.add(found)
        session.flush()
    return found


def _register_forms(ctx: Context, session: Session, bundle: LoadedBundle, process_ids: list[str]) -> None:
    refs = {m.form_ref for pid in process_ids for m in _info(bundle, pid).tasks.values() if m.form_ref}
    refs |= {ref for pid in process_ids if (ref := _info(bundle, pid).start_form_ref)}
    for ref in sorted(refs):
        register_form_version(session, ctx.forms.get(ref), now=clock.now())


def _report(bundle: LoadedBundle, given: set[str]) -> LibraryReport:
    report = LibraryReport(warnings=[str(w) for w in bundle.warnings if w.file in given])
    for info in bundle.processes:
        if info.file in given:
            report.processes.append(
                {
                    "process_id": info.process_id,
                    "name": info.name,
                    "file": info.file,
                    "executable": info.executable,
                    "called_processes": list(info.called_processes),
                    "start_messages": list(info.start_messages),
                    "user_tasks": len(info.tasks),
                }
            )
    return report

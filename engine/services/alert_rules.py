"""Alert rules as the LA runs them: the shipped defaults, changes (each a new version), enabling and
disabling. Each function owns its transaction; ``*_in`` helpers work inside the caller's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..alerts.rules import Rule, RuleError, default_rules, parse_rule
from ..context import Context
from ..errors import InvalidInput, NotFound
from ..models.alerts import AlertRuleRecord, AlertRuleVersion


def rule_of(record: AlertRuleRecord) -> Rule:
    """The stored rule, as the evaluation runs it."""
    return parse_rule({**record.definition, "enabled": record.enabled}, version=record.version)


def ensure_default_rules(session: Session, actor: str | None = None) -> list[str]:
    """Add the shipped rules that are missing (never overwrites an LA's version); returns their ids."""
    present = set(session.scalars(select(AlertRuleRecord.id)))
    added = []
    for rule in default_rules():
        if rule.id not in present:
            _store(session, rule, 1, actor, shipped=True)
            added.append(rule.id)
    return added


def load_defaults(ctx: Context, actor: str | None = None) -> list[str]:
    """`educase alerts rules load-defaults`: add the missing shipped rules."""
    with ctx.db.transaction() as session:
        return ensure_default_rules(session, actor)


def enabled_rules(session: Session) -> list[Rule]:
    """The rules an evaluation runs."""
    records = session.scalars(
        select(AlertRuleRecord).where(AlertRuleRecord.enabled.is_(True)).order_by(AlertRuleRecord.id)
    )
    return [rule_of(r) for r in records]


def list_rules(ctx: Context) -> list[dict[str, Any]]:
    """Every rule, enabled or not, with its version and whether it is a shipped default."""
    with ctx.db.transaction() as session:
        ensure_default_rules(session)
        records = session.scalars(select(AlertRuleRecord).order_by(AlertRuleRecord.id)).all()
        return [{**rule_of(r).as_dict(), "shipped": r.shipped, "updated_at": r.updated_at.isoformat(),
                 "updated_by": r.updated_by} for r in records]  # fmt: skip


def get_rule(ctx: Context, rule_id: str, version: int | None = None) -> dict[str, Any]:
    """One rule (its latest version, or the given one) in the JSON format."""
    with ctx.db.transaction() as session:
        record = _record(session, rule_id)
        if version is None or version == record.version:
            return rule_of(record).as_dict()
        old = session.get(AlertRuleVersion, (rule_id, version))
        if old is None:
            raise NotFound(f"rule {rule_id!r} has no version {version} (latest: {record.version})")
        return parse_rule(old.definition, version=version).as_dict()


def set_enabled(ctx: Context, rule_id: str, enabled: bool, actor: str | None = None) -> dict[str, Any]:
    """Enable or disable a rule (not a new version: the definition is unchanged)."""
    with ctx.db.transaction() as session:
        record = _record(session, rule_id)
        record.enabled, record.updated_at, record.updated_by = enabled, clock.now(), actor
        return rule_of(record).as_dict()


def save_rule(ctx: Context, data: Any, actor: str | None = None) -> dict[str, Any]:
    """Create a rule, or change one: a changed definition becomes the next version (old versions are
    kept, so older alerts still say which rule raised them). Returns the rule and what happened."""
    rule = parse_rule(data)
    with ctx.db.transaction() as session:
        ensure_default_rules(session)
        record = session.get(AlertRuleRecord, rule.id)
        if record is None:
            _store(session, rule, 1, actor, shipped=False)
            return {"rule": parse_rule(rule.as_dict(), version=1).as_dict(), "result": "created"}
        current = rule_of(record)
        if current.kind != rule.kind:
            raise RuleError([f"kind: a rule keeps its kind ({current.kind}); give a new id for a {rule.kind} rule"],
                            rule.id)  # fmt: skip
        if current.definition() == rule.definition() and current.enabled == rule.enabled:
            return {"rule": current.as_dict(), "result": "unchanged"}
        version = record.version + (current.definition() != rule.definition())
        _store(session, rule, version, actor, shipped=record.shipped, record=record)
        return {"rule": parse_rule(rule.as_dict(), version=version).as_dict(), "result": "updated"}


def read_rule_file(path: Path) -> Any:
    """A rule from a JSON file, with the file named in any error."""
    import json

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidInput(f"cannot read {path}: {error.strerror}", file=str(path))
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{path}:{error.lineno}: not valid JSON: {error.msg}", file=str(path))


def _record(session: Session, rule_id: str) -> AlertRuleRecord:
    ensure_default_rules(session)
    record = session.get(AlertRuleRecord, rule_id)
    if record is None:
        raise NotFound(f"no alert rule {rule_id!r} (see `educase alerts rules`)", rule=rule_id)
    return record


def _store(session: Session, rule: Rule, version: int, actor: str | None, *, shipped: bool,
           record: AlertRuleRecord | None = None) -> None:  # fmt: skip
    now, definition = clock.now(), rule.definition()
    if record is None:
        record = AlertRuleRecord(id=rule.id, shipped=shipped)
        session.add(record)
    is_new_version = record.version != version if record.version is not None else True
    record.version, record.kind, record.enabled, record.definition = (
        version,
        rule.kind,
        rule.enabled,
        definition,
    )
    record.updated_at, record.updated_by = now, actor
    session.flush()
    if is_new_version:
        session.add(AlertRuleVersion(rule_id=rule.id, version=version, definition=definition, created_at=now,
                                     created_by=actor))  # fmt: skip

"""Keeping the desk's template registry in step with Meta.

Three ways, all through Meta's WhatsApp Business Management API
(https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/template-management
and the `message_template_status_update` webhook reference):

- **Submit** (`submit`): registering a template in the desk (CLI `template add`,
  the console's Templates page) sends it to Meta first, `POST /{waba-id}/message_templates`
  with the WABA's token, and stores Meta's id and status (usually PENDING). If Meta
  refuses (a duplicate name and language, a bad name ...) its reason is raised as a
  TemplateError and nothing is stored.
- **Sync** (`sync_waba`): `GET /{waba-id}/message_templates`, every page (following
  `paging.next` with `paging.cursors.after`), upserts name, language, category,
  components, status and rejection reason. A template the desk has and Meta no
  longer lists is kept, marked `DELETED` with the date in its reason, and logged:
  messages already sent name it, and a status is something an admin can see.
  Nothing is changed when any page fails. The desk worker runs it every
  `TEMPLATE_SYNC_MINUTES` (15; 0 turns it off); admins run it on demand.
- **Status webhooks** (`apply_status_event`): Meta's review results arrive as
  `message_template_status_update` webhooks, recorded durably by the channel's
  inbox like messages and applied here, found by Meta's template id (then by name
  and language). Webhooks of one WABA are applied in arrival order; Meta does not
  promise order across retries, and the periodic sync corrects any drift.
  Meta's recategorisations (`template_category_update`) and quality ratings
  (`message_template_quality_update`: GREEN, YELLOW, RED, UNKNOWN) arrive the same way.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cloudapi.graph import META_GRAPH_API_URL, GraphClient, GraphError
from desk.billing.templates import (CATEGORIES, TemplateError, _waba, find, validate_definition)
from desk.models import MessageTemplate, WhatsAppBusinessAccount, utcnow
from desk.services import numbers

log = logging.getLogger(__name__)

FIELDS = "id,name,language,status,category,components,rejected_reason"
MAX_PAGES = 1000
DELETED = "DELETED"
# Webhook events that are a template status, and the one that names another status.
STATUS_EVENTS = {"APPROVED", "REJECTED", "PENDING", "PAUSED", "DISABLED", "IN_APPEAL", "PENDING_DELETION",
                 "DELETED", "ARCHIVED", "LIMIT_EXCEEDED"}
RENAMED_EVENTS = {"REINSTATED": "APPROVED"}
# FLAGGED (at risk of being paused), LOCKED/UNLOCKED (editing), UNARCHIVED ... leave
# the status as it is: logged; the next sync brings any change.


# --- reaching Meta -------------------------------------------------------------------

@contextlib.asynccontextmanager
async def meta_from_env(env: Mapping[str, str] | None = None):
    """(GraphClient, default token) from the environment the channel uses:
    `WHATSAPP_GRAPH_API_URL` (with its version) and `WHATSAPP_ACCESS_TOKEN`."""
    env = os.environ if env is None else env
    graph = GraphClient(env.get("WHATSAPP_GRAPH_API_URL") or META_GRAPH_API_URL)
    try:
        yield graph, env.get("WHATSAPP_ACCESS_TOKEN", "")
    finally:
        await graph.close()


def _refusal(what: str, exc: GraphError) -> TemplateError:
    return TemplateError(f"{what}: {exc.explanation} (Meta error {exc.code}"
                         + (f"/{exc.subcode}" if exc.subcode else "") + ")")


# --- submit ------------------------------------------------------------------------------

async def submit(session: AsyncSession, graph: GraphClient, *, waba_id: str, name: str, language: str,
                 category: str, components: list[dict], default_token: str) -> MessageTemplate:
    """Submit a new template to Meta for review, then record it with Meta's id and status.

    The desk's own checks run first (no call for what Meta would refuse anyway); a
    refusal by Meta raises TemplateError with Meta's reason and stores nothing."""
    await _waba(session, waba_id)
    components = validate_definition(name, language, category, components)
    if await find(session, waba_id, name, language) is not None:
        raise TemplateError(f"template {name} ({language}) is already registered for WABA {waba_id}")
    token = await numbers.waba_token(session, waba_id, default_token)
    request = {"name": name, "language": language, "category": category.upper(), "components": components}
    try:
        answer = await graph.create_template(waba_id, token, request)
    except GraphError as exc:
        if exc.http_status == 599:
            raise TemplateError(f"Meta did not answer ({exc.message}); the template may or may not have been "
                                f"created: run `template sync --waba {waba_id}` before trying again") from None
        raise _refusal(f"Meta refused template {name} ({language})", exc) from None
    meta_id = str(answer.get("id") or "")
    if not meta_id:
        raise TemplateError(f"Meta's answer has no template id: {str(answer)[:200]}")
    status = str(answer.get("status") or "PENDING").upper()
    answered_category = str(answer.get("category") or category).upper()
    template = MessageTemplate(waba_id=waba_id, name=name, language=language,
                               category=answered_category if answered_category in CATEGORIES else category.upper(),
                               status=status, components=components, meta_template_id=meta_id)
    try:
        async with session.begin_nested():
            session.add(template)
    except IntegrityError:
        # Registered concurrently by someone else: Meta has it, the desk has the other row.
        log.error("templates: %s (%s) was created at Meta as %s but another registration won here; "
                  "`template sync --waba %s` reconciles", name, language, meta_id, waba_id)
        raise TemplateError(f"template {name} ({language}) was registered concurrently; run template sync") from None
    log.info("templates: submitted %s (%s) of WABA %s to Meta: id %s, %s", name, language, waba_id, meta_id, status)
    return template


# --- sync --------------------------------------------------------------------------------

@dataclass
class SyncReport:
    waba_id: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    deleted: list[str] = field(default_factory=list)
    skipped: int = 0
    pages: int = 0

    def summary(self) -> str:
        return (f"WABA {self.waba_id}: {len(self.created)} new, {len(self.updated)} updated, {self.unchanged} "
                f"unchanged, {len(self.deleted)} marked deleted (not at Meta any more)"
                + (f", {self.skipped} unreadable skipped" if self.skipped else "") + f"; {self.pages} page(s)")

    def as_dict(self) -> dict:
        return {"waba_id": self.waba_id, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "deleted": self.deleted, "skipped": self.skipped, "pages": self.pages}


async def fetch_all(graph: GraphClient, waba_id: str, token: str, *,
                    page_size: int | None = None) -> tuple[list[dict], int]:
    """Every template Meta lists for the WABA, following the pages; (templates, pages)."""
    out: list[dict] = []
    after: str | None = None
    seen: set[str] = set()
    for pages in range(1, MAX_PAGES + 1):
        page = await graph.list_templates(waba_id, token, after=after, limit=page_size, fields=FIELDS)
        data = page.get("data")
        if not isinstance(data, list):
            raise TemplateError(f"Meta's template list for WABA {waba_id} has no data: {str(page)[:200]}")
        out.extend(data)
        paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
        if not paging.get("next"):
            return out, pages
        cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
        after = cursors.get("after")
        if not isinstance(after, str) or not after or after in seen:
            raise TemplateError(f"Meta's template list for WABA {waba_id} announces a next page without a new "
                                "'after' cursor; nothing was changed")
        seen.add(after)
    raise TemplateError(f"Meta's template list for WABA {waba_id} has more than {MAX_PAGES} pages")


def _reason_of(item: dict) -> str | None:
    reason = item.get("rejected_reason")
    if isinstance(reason, str) and reason and reason.upper() != "NONE":
        return reason
    return None


async def apply_sync(session: AsyncSession, waba_id: str, remote: list[Any], *, pages: int = 0,
                     now: dt.datetime | None = None) -> SyncReport:
    """Make the WABA's registry what Meta listed (see the module's docstring)."""
    now = now or utcnow()
    report = SyncReport(waba_id, pages=pages)
    local = list((await session.execute(select(MessageTemplate).where(
        MessageTemplate.waba_id == waba_id).order_by(MessageTemplate.id))).scalars())
    by_meta_id = {t.meta_template_id: t for t in local if t.meta_template_id}
    by_key = {(t.name, t.language): t for t in local}
    seen: set[int] = set()
    for item in remote:
        meta_id = item.get("id") if isinstance(item, dict) else None
        name = item.get("name") if isinstance(item, dict) else None
        language = item.get("language") if isinstance(item, dict) else None
        if not (isinstance(meta_id, (str, int)) and isinstance(name, str) and name and isinstance(language, str)
                and language):
            log.warning("templates: sync of WABA %s skipped an unreadable template: %.300r", waba_id, item)
            report.skipped += 1
            if isinstance(meta_id, (str, int)) and str(meta_id) in by_meta_id:
                seen.add(by_meta_id[str(meta_id)].id)  # not proof it is gone
            continue
        meta_id = str(meta_id)
        status = str(item.get("status") or "PENDING").upper()[:20]
        category = str(item.get("category") or "").upper()[:20]
        components = item.get("components") if isinstance(item.get("components"), list) else None
        reason = _reason_of(item)
        label = f"{name} ({language})"
        t = by_meta_id.get(meta_id) or by_key.get((name, language))
        if t is None:
            t = MessageTemplate(waba_id=waba_id, name=name, language=language, category=category or "UTILITY",
                                status=status, status_reason=reason, components=components or [],
                                meta_template_id=meta_id, updated_at=now)
            session.add(t)
            await session.flush()
            by_key[(name, language)] = by_meta_id[meta_id] = t
            report.created.append(label)
            seen.add(t.id)
            continue
        seen.add(t.id)
        new = {"name": name, "language": language, "meta_template_id": meta_id, "status": status,
               "status_reason": reason}
        if category:
            new["category"] = category
        if components is not None:
            new["components"] = components
        changed = {k: v for k, v in new.items() if getattr(t, k) != v}
        if not changed:
            report.unchanged += 1
            continue
        for k, v in changed.items():
            setattr(t, k, v)
        t.updated_at = now
        report.updated.append(label)
        if "status" in changed:
            log.info("templates: %s of WABA %s is %s at Meta (sync)", label, waba_id, status)
    for t in local:
        if t.id in seen or t.status == DELETED:
            continue
        log.warning("templates: %s (%s) of WABA %s (Meta id %s) is not at Meta any more: marked %s",
                    t.name, t.language, waba_id, t.meta_template_id or "-", DELETED)
        t.status_reason = f"not listed by Meta at the sync of {now:%Y-%m-%d %H:%M} UTC (was {t.status})"
        t.status, t.updated_at = DELETED, now
        report.deleted.append(f"{t.name} ({t.language})")
    await session.flush()
    return report


async def sync_waba(session: AsyncSession, graph: GraphClient, waba_id: str, default_token: str, *,
                    page_size: int | None = None) -> SyncReport:
    """Fetch every page of the WABA's templates from Meta, then apply them."""
    await _waba(session, waba_id)
    token = await numbers.waba_token(session, waba_id, default_token)
    try:
        remote, pages = await fetch_all(graph, waba_id, token, page_size=page_size)
    except GraphError as exc:
        raise _refusal(f"Meta did not list the templates of WABA {waba_id}; nothing was changed", exc) from None
    report = await apply_sync(session, waba_id, remote, pages=pages)
    log.info("templates: sync %s", report.summary())
    return report


class PeriodicSync:
    """The desk worker's job: every `every` seconds, sync each WABA, in the background
    (a slow Meta never holds up the outbox). Each WABA: fetch outside any
    transaction, then apply in its own; a failure is logged and retried next time."""

    def __init__(self, sessions, graph: GraphClient, default_token: str, every: float):
        self.sessions, self.graph, self.default_token, self.every = sessions, graph, default_token, every
        self._next = 0.0
        self._task: asyncio.Task | None = None

    @classmethod
    def jobs_from_env(cls, sessions, graph: GraphClient, default_token: str,
                      env: Mapping[str, str] | None = None) -> list["PeriodicSync"]:
        env = os.environ if env is None else env
        try:
            minutes = float(env.get("TEMPLATE_SYNC_MINUTES") or 15)
        except ValueError:
            log.error("templates: TEMPLATE_SYNC_MINUTES is not a number; periodic sync is off")
            return []
        return [cls(sessions, graph, default_token, minutes * 60)] if minutes > 0 else []

    async def __call__(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() < self._next or (self._task is not None and not self._task.done()):
            return
        self._next = loop.time() + self.every
        self._task = asyncio.create_task(self.run_once())

    async def run_once(self) -> list[SyncReport]:
        async with self.sessions() as session:
            wabas = [w for (w,) in await session.execute(select(WhatsAppBusinessAccount.id).order_by(
                WhatsAppBusinessAccount.id))]
        reports = []
        for waba_id in wabas:
            try:
                async with self.sessions() as session:
                    token = await numbers.waba_token(session, waba_id, self.default_token)
                remote, pages = await fetch_all(self.graph, waba_id, token)
                async with self.sessions() as session, session.begin():
                    reports.append(await apply_sync(session, waba_id, remote, pages=pages))
                log.info("templates: periodic sync %s", reports[-1].summary())
            except (GraphError, TemplateError) as exc:
                log.warning("templates: periodic sync of WABA %s failed: %s", waba_id, exc)
            except Exception:  # noqa: BLE001 - e.g. the database briefly away: next time
                log.exception("templates: periodic sync of WABA %s failed", waba_id)
        return reports


# --- status webhooks -----------------------------------------------------------------

def _event_reason(item) -> str | None:
    raw = item.raw if isinstance(item.raw, dict) else {}
    parts = []
    if isinstance(item.reason, str) and item.reason and item.reason.upper() != "NONE":
        parts.append(item.reason)
    for key, sub in (("rejection_info", "reason"), ("rejection_info", "recommendation"),
                     ("other_info", "description")):
        value = (raw.get(key) or {}).get(sub) if isinstance(raw.get(key), dict) else None
        if isinstance(value, str) and value and value not in parts:
            parts.append(value)
    return "; ".join(parts) or None


def _apply_category(t: MessageTemplate, item, label: str) -> bool:
    """Meta recategorised a template: its next send is checked and priced as the new
    category. An impending change is only noted (the template keeps its category until
    Meta makes it)."""
    category = str(item.category or "").upper()
    if category not in CATEGORIES:
        log.warning("templates: %s: unknown category %r from Meta, kept %s", label, item.category, t.category)
        return False
    if item.event == "CATEGORY_IMPENDING":
        log.warning("templates: %s: %s", label, item.reason)
        return False
    previous, t.category, t.updated_at = t.category, category, utcnow()
    t.status_reason = item.reason
    log.warning("templates: %s is now %s (was %s): %s", label, category, previous, item.reason)
    return True


QUALITY_SCORES = ("GREEN", "YELLOW", "RED", "UNKNOWN")


def _apply_quality(t: MessageTemplate, item, label: str) -> bool:
    """Meta rated a template (`message_template_quality_update`): the registry keeps the
    score; RED warns the admins (desk.billing.templates.needs_attention), as a pause does."""
    score = str(item.quality or "").upper()
    if score not in QUALITY_SCORES:
        log.warning("templates: %s: unknown quality %r from Meta, kept %s", label, item.quality, t.quality_score)
        return False
    if t.quality_at is not None and item.timestamp is not None and item.timestamp < t.quality_at:
        log.info("templates: %s: quality %s is older than the one kept (%s)", label, score, t.quality_score)
        return False
    previous, t.quality_score, t.quality_at = t.quality_score, score, item.timestamp or utcnow()
    t.meta_template_id = t.meta_template_id or item.template_id
    log.log(logging.WARNING if score == "RED" else logging.INFO, "templates: %s quality is now %s (was %s)",
            label, score, previous or "not rated")
    return True


async def apply_status_event(session: AsyncSession, item) -> bool:
    """Apply a `message_template_status_update` (cloudapi.payloads.TemplateStatusUpdate);
    True when the registry changed, False when it was only noted (logged)."""
    label = f"{item.name} ({item.language}, Meta id {item.template_id}) of WABA {item.waba_id}"
    if await session.get(WhatsAppBusinessAccount, item.waba_id) is None:
        log.warning("templates: status %s for %s ignored: the WABA is not registered in the desk", item.event, label)
        return False
    t = (await session.execute(select(MessageTemplate).where(
        MessageTemplate.waba_id == item.waba_id,
        MessageTemplate.meta_template_id == item.template_id))).scalars().first()
    t = t or await find(session, item.waba_id, item.name, item.language)
    if t is None:
        log.warning("templates: status %s for %s ignored: not in the desk's registry "
                    "(`template sync --waba %s` brings it)", item.event, label, item.waba_id)
        return False
    if item.event in ("CATEGORY_CHANGED", "CATEGORY_IMPENDING"):  # template_category_update
        return _apply_category(t, item, label)
    if item.event == "QUALITY_CHANGED":  # message_template_quality_update
        return _apply_quality(t, item, label)
    status = RENAMED_EVENTS.get(item.event, item.event if item.event in STATUS_EVENTS else None)
    if status is None:
        log.info("templates: %s is %s at Meta (reason %s); its status stays %s", label, item.event,
                 item.reason, t.status)
        return False
    t.status, t.status_reason, t.updated_at = status, _event_reason(item), utcnow()
    t.meta_template_id = t.meta_template_id or item.template_id
    if item.category and str(item.category).upper() in CATEGORIES:
        t.category = str(item.category).upper()
    log.info("templates: %s is now %s%s", label, status, f" ({t.status_reason})" if t.status_reason else "")
    return True

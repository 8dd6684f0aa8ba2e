"""The worker's daily ``retention`` action, as the app role on real PostgreSQL: expired
conversations go with their messages, webhook event ids past their retention go, everything
else stays; a second run deletes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from devtools.llm_doubles.script import ScriptedModel, Turn
from service.bootstrap import Services
from service.http.context import SERVICES_KEY
from service.workflows.worker_handler import handle
from tests.service.chat.rig import ChatRig, ask, start
from tests.service.conftest import AuthHeader


def _no_s3() -> object:
    raise AssertionError("the retention action needs no S3")


def _count(rig: ChatRig, sql: str, params: dict[str, object] | None = None) -> int:
    row = rig.db.fetch_one(f"SELECT count(*) AS n FROM ({sql}) AS q", params)
    assert row is not None
    return int(row["n"])


def test_the_retention_action_purges_expired_chats_and_old_webhook_ids(
    openai_rig: ChatRig, auth_header: AuthHeader,
) -> None:
    rig = openai_rig
    rig.play(ScriptedModel([Turn(text="ok")], repeat_last=True))
    expired, kept = start(rig, auth_header), start(rig, auth_header)
    for cid in (expired, kept):
        assert ask(rig, auth_header, cid, "hello").status_code == 200
    rig.db.execute("UPDATE conversations SET expires_at = now() - interval '1 second' "
                   "WHERE id = :c", {"c": UUID(expired)})
    now = datetime.now(UTC)
    for event_id, age in (("old", timedelta(days=8)), ("recent", timedelta(hours=1))):
        rig.db.execute(
            "INSERT INTO webhook_events (provider, event_id, event_type, sent_at, received_at) "
            "VALUES ('truelayer', :e, 'test_event', :t, :t)", {"e": event_id, "t": now - age})
    services: Services = rig.app.extensions[SERVICES_KEY]

    first = handle({"action": "retention"}, services=services, s3_client=_no_s3,
                   clock=lambda: now)
    again = handle({"action": "retention"}, services=services, s3_client=_no_s3,
                   clock=lambda: now)

    assert first == {"conversations_purged": 1, "webhook_events_pruned": 1}
    assert again == {"conversations_purged": 0, "webhook_events_pruned": 0}
    assert [str(r["id"]) for r in rig.db.fetch_all("SELECT id FROM conversations")] == [kept]
    messages = "SELECT 1 FROM chat_messages WHERE conversation_id = :c"
    assert _count(rig, messages, {"c": UUID(expired)}) == 0
    assert _count(rig, messages, {"c": UUID(kept)}) >= 1
    assert [r["event_id"] for r in rig.db.fetch_all("SELECT event_id FROM webhook_events")] == [
        "recent"]


def test_an_unknown_action_is_still_refused(openai_rig: ChatRig) -> None:
    services: Services = openai_rig.app.extensions[SERVICES_KEY]
    with pytest.raises(ValueError, match="unknown worker action"):
        handle({"action": "retain"}, services=services, s3_client=_no_s3)

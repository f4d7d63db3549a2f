"""The production path for surveys: a real Celery beat + worker on Redis (our DBs 6 and 7) and
PostgreSQL; beat fires the engagement job, which surveys the logged call; the dispatcher sends the
SMS to the local Twilio-speaking server with the real ``twilio`` library."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from sqlalchemy import select

from crm_core.database import session_scope, utcnow
from cti.calllog.models import Call
from notifier.surveys.models import Survey
from tests.factories import client_row
from tests.notifier.notifier_engine_support import (
    CeleryProcess,
    celery_env,
    sim_fixture,  # noqa: F401 - the `sim` fixture
    wait_until,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
PHONE = "+40712345678"


@pytest.fixture
def engagement_redis(redis_url):
    base = redis_url.rsplit("/", 1)[0]
    urls = {"broker": f"{base}/6", "limiter": f"{base}/7"}
    for url in urls.values():
        redis.Redis.from_url(url).flushdb()
    yield urls
    for url in urls.values():
        redis.Redis.from_url(url).flushdb()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_beat_surveys_a_logged_call_and_the_worker_sends_the_sms(
    database, users, sim, engagement_redis, tmp_path
):
    operator = users.add("ion", role="operator", team="Sales", extension="101")
    ended = utcnow() - timedelta(minutes=2)
    with session_scope() as s:
        client = client_row(s)
        s.add(
            Call(linkedid="1700000000.1", direction="inbound", number=PHONE, e164=PHONE,
                 started_at=ended - timedelta(minutes=3), answered_at=ended - timedelta(minutes=2),
                 ended_at=ended, talk_s=120.0, disposition="answered", client_id=client.id,
                 answered_extension="101", answered_user_id=operator.id, created_at=ended)
        )  # fmt: skip
    env = celery_env(
        sim,
        broker_url=engagement_redis["broker"],
        redis_url=engagement_redis["limiter"],
        engagement_interval_seconds=1,
        survey_delay_minutes=0,
    )
    worker = CeleryProcess("worker", env, tmp_path, "w1")
    beat = CeleryProcess("beat", env, tmp_path, "beat")
    try:
        wait_until(lambda: len(sim.messages) >= 1, timeout=90, step=0.3)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{worker.log()}\n{beat.log()}") from None
    finally:
        worker.stop()
        beat.stop()
    [sent] = list(sim.messages.values())
    assert sent.to == PHONE and "1 (bad) to 5 (excellent)" in sent.body
    with session_scope() as s:
        survey = s.scalar(select(Survey))
        assert survey.operator_user_id == operator.id and survey.status == "open"

"""Customer profile rules: complaint rate, preferred channel, mood trend, tags with their rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oms_aftersales.domain.profile import (
    MessageFact,
    OrderFact,
    TagRules,
    TicketFact,
    build_profile,
    mood_trend,
)
from oms_aftersales.domain.ticket import Channel, Mood

NOW = datetime(2026, 9, 15, tzinfo=UTC)


def _days_ago(n: int) -> datetime:
    return NOW - timedelta(days=n)


def test_tags_carry_the_rule_that_set_them() -> None:
    orders = [OrderFact(f"O{i}", 200_000, "CNY", _days_ago(i)) for i in range(4)]
    tickets = [TicketFact(f"T{i}", "RET-001", True, _days_ago(i * 10)) for i in range(3)]

    profile = build_profile("buyer:taobao:b1", orders, tickets, [], NOW, TagRules())

    tags = {t.tag: t for t in profile.tags}
    assert set(tags) == {"frequent_returner", "vip", "repeat_complainer"}
    assert tags["frequent_returner"].rule == "3 return tickets in 90 days (>= 3)"
    assert "spend 800000" in tags["vip"].rule
    assert profile.complaint_rate_per_mille == 750  # 3 complaints / 4 orders


def test_old_returns_do_not_tag() -> None:
    tickets = [TicketFact(f"T{i}", "RET-001", True, _days_ago(100 + i)) for i in range(5)]
    assert not build_profile("k", [], tickets, [], NOW).tags


def test_preferred_channel_and_mood_trend() -> None:
    moods = [Mood.CALM, Mood.CALM, Mood.CALM, Mood.ANGRY, Mood.ANGRY]
    messages = [
        MessageFact(Channel.WECHAT if i < 3 else Channel.PHONE, mood, _days_ago(10 - i))
        for i, mood in enumerate(moods)
    ]

    profile = build_profile("k", [], [], messages, NOW)

    assert profile.preferred_channel is Channel.WECHAT
    assert profile.last_mood is Mood.ANGRY
    assert profile.mood_trend == "WORSENING"
    assert mood_trend([Mood.ANGRY, Mood.ANGRY, Mood.UNHAPPY, Mood.CALM, Mood.CALM]) == "IMPROVING"
    assert mood_trend([Mood.CALM, Mood.CALM]) == ""

"""Numbers people trust, and the scope rule, on results built in memory (no bot, no sandbox):
shares, plural forms, totals over chats, deltas, the quiz's answer, what each audience sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.digests.compose import CampaignDigest, Digest, DigestRequest, render
from bot.polls.results import CampaignResult, combine, render_result
from bot.polls.scope import Audience, for_chat, scoped, views
from bot.texts import shares
from storage.chats import ChatRecord
from storage.digests import DigestItem
from storage.polls import Campaign, OptionCount, PollCounts, PollRecord

CHANNEL, OTHER, SECRET_GROUP = -100, -200, -300


def campaign(closed: bool = False, **spec: object) -> Campaign:
    return Campaign(
        7, "Best car?", ("Lada", "Volga"), dict(spec), None, None, 0, 5 if closed else None
    )


def chat(chat_id: int, username: str | None, language: str | None = None) -> ChatRecord:
    kind = "channel" if username else "supergroup"
    return ChatRecord(chat_id, kind, f"Chat {-chat_id}", username, language, "administrator",
                      True, True, False)  # fmt: skip


def poll(chat_id: int, counts: tuple[int, ...], texts: tuple[str, ...] = ("Lada", "Volga"),
         question: str = "Best car?", closed: bool = False) -> PollCounts:  # fmt: skip
    record = PollRecord(f"p{chat_id}", 7, chat_id, 1, question, "regular", True, False, closed,
                        None, sum(counts))  # fmt: skip
    options = tuple(
        OptionCount(f"o{i}", i, t, c) for i, (t, c) in enumerate(zip(texts, counts, strict=True))
    )
    return PollCounts(record, options)


CHATS = {
    CHANNEL: chat(CHANNEL, "plantnews", "ru"),
    OTHER: chat(OTHER, "autonews"),
    SECRET_GROUP: chat(SECRET_GROUP, None),
}


def result(closed: bool = False, **spec: object) -> CampaignResult:
    polls = [
        poll(CHANNEL, (1, 2), ("Лада", "Волга"), "Лучшая машина?", closed),
        poll(OTHER, (3, 0), closed=closed),
        poll(SECRET_GROUP, (0, 5), closed=closed),
    ]
    return combine(campaign(closed, **spec), polls, dict(CHATS))


# -- shares ----------------------------------------------------------------------------


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12))
def test_single_answer_shares_add_up_to_exactly_100(counts: list[int]) -> None:
    shown = [int(share.rstrip("%")) for share in shares(counts, sum(counts))]
    assert sum(shown) == (100 if sum(counts) else 0)
    for count, share in zip(counts, shown, strict=True):  # each within a point of exact
        assert abs(share - 100 * count / max(sum(counts), 1)) < 1


def test_three_equal_thirds_are_not_101_percent() -> None:
    assert shares([1, 1, 1], 3) == ["34%", "33%", "33%"]


def test_multiple_answer_shares_are_of_voters_and_say_so() -> None:
    assert shares([2, 2], 2, multiple=True) == ["100%", "100%"]
    (view,) = views(result(allows_multiple_answers=True), admin())
    text = render_result(view, "en")
    assert "Shares are of voters, and each voter may choose several options." in text


# -- scope -----------------------------------------------------------------------------


def admin(language: str = "en") -> Audience:
    return Audience(language, None, admin=True)


def test_a_chat_sees_its_own_poll_in_its_own_words_and_counts() -> None:
    (view,) = views(result(), for_chat(CHANNEL, "ru"))
    assert view.question == "Лучшая машина?"
    assert [(o.label, o.count) for o in view.options] == [("Лада", 1), ("Волга", 2)]
    assert view.total_voters == 3 and [c.chat_id for c in view.chats] == [CHANNEL]
    text = render_result(view, "ru", admin=False)
    assert "@autonews" not in text and "Best car?" not in text and "3 голоса" in text


def test_the_admin_view_combines_in_the_admins_language_with_the_split() -> None:
    english = scoped(result(), admin("en"))
    russian = scoped(result(), admin("ru"))
    assert english is not None and russian is not None
    assert english.question == "Best car?" and russian.question == "Лучшая машина?"
    assert [o.count for o in english.options] == [4, 7] and english.total_voters == 11
    text = render_result(english, "en")
    assert "11 votes in 3 chats" in text and "By chat" in text and "@plantnews: 3 voters" in text


def test_a_chat_admin_sees_the_chats_they_administer_only() -> None:
    mine = scoped(result(), Audience("en", frozenset({OTHER, SECRET_GROUP}), admin=True))
    assert mine is not None and mine.total_voters == 8
    assert "@plantnews" not in render_result(mine, "en")


def test_an_audience_without_the_chats_sees_nothing() -> None:
    assert scoped(result(), for_chat(-999, "en")) is None
    assert views(result(), for_chat(-999, "en")) == []


def test_hidden_results_show_no_counts_before_the_close() -> None:
    hidden = scoped(result(hide_results_until_closes=True), admin())
    assert hidden is not None and hidden.hidden
    text = render_result(hidden, "en")
    assert "Results hidden until the poll closes: 11 voters so far." in text
    assert "%" not in text and "By chat" not in text
    (own,) = views(result(hide_results_until_closes=True), for_chat(OTHER, "en"))
    assert render_result(own, "en", admin=False).endswith("Results hidden until the poll closes.")
    closed = scoped(result(closed=True, hide_results_until_closes=True), admin())
    assert closed is not None and "%" in render_result(closed, "en")


def test_the_quiz_answer_is_marked_once_the_quiz_is_closed() -> None:
    spec = {"quiz": True, "correct_option_ids": [1]}
    (open_view,) = views(result(**spec), for_chat(OTHER, "en"))
    (closed_view,) = views(result(closed=True, **spec), for_chat(OTHER, "en"))
    assert "✅" not in render_result(open_view, "en")
    assert "Volga ✅" in render_result(closed_view, "en")
    assert "Lada ✅" not in render_result(closed_view, "en")


# -- plural forms and deltas -----------------------------------------------------------


def test_one_voter_and_the_russian_forms() -> None:
    polls = [poll(OTHER, (1, 0))]
    one = combine(campaign(), polls, dict(CHATS))
    assert "1 voter\n" in render_result(one, "en") + "\n"
    for n, form in ((1, "голос"), (2, "голоса"), (5, "голосов")):
        counted = combine(campaign(), [poll(OTHER, (n, 0))], dict(CHATS))
        assert f"\n{n} {form}\n" in render_result(counted, "ru") + "\n"


def digest_text(view: CampaignResult, previous: DigestItem) -> str:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    request = DigestRequest(1, OTHER, "en", ZoneInfo("UTC"), now, now + timedelta(seconds=1))
    _, (block,) = render(Digest(request, (CampaignDigest(view, previous, None),), True))
    return block


def test_no_new_votes_only_when_no_count_changed() -> None:
    (view,) = views(result(), for_chat(OTHER, "en"))  # Lada 3, Volga 0
    same = DigestItem(7, 3, (("#0", 3), ("#1", 0)), "#0")
    moved = DigestItem(7, 3, (("#0", 2), ("#1", 1)), "#0")
    assert "3 voters (no new votes)" in digest_text(view, same)
    text = digest_text(view, moved)
    assert "no new votes" not in text and "(votes moved)" in text and "(3, +1)" in text
    assert "(0, -1)" in text


def test_the_readers_share_is_of_the_articles_voters_and_never_over_100() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    request = DigestRequest(None, 1, "en", ZoneInfo("UTC"), now, now)
    view = scoped(result(), admin())
    assert view is not None and view.total_voters
    many = CampaignDigest(view, None, view.total_voters * 3, article_voters=view.total_voters)
    _, (block,) = render(Digest(request, (many,), False, admin=True))
    assert "(of the voters: 100%)" in block
    half = CampaignDigest(view, None, 1, article_voters=2)
    _, (block,) = render(Digest(request, (half,), False, admin=True))
    assert "(of the voters: 50%)" in block

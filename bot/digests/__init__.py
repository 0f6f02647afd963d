"""Digests: result summaries with charts, sent now or on a schedule, across restarts.

``schedules`` turns crontab expressions into due times and JobQueue jobs; ``compose``
builds one digest from stored counts and sends it; ``charts`` draws its PNG; ``commands``
holds ``/digest``, ``/schedule``, ``/schedules``, ``/unschedule`` and the catch-up at start.
"""

from __future__ import annotations

from bot.digests import commands
from bot.feature import CommandInfo, Feature, command
from bot.texts import N_

FEATURE = Feature(
    handlers=(
        command("digest", commands.digest_now),
        command("schedule", commands.add_schedule),
        command("schedules", commands.list_schedules),
        command("unschedule", commands.remove_schedule),
    ),
    commands=(
        CommandInfo(
            "digest", N_("Send a digest of the poll results now"), "/digest @plantnews", True
        ),
        CommandInfo(
            "schedule",
            N_("Schedule digests: cron, channel, time zone"),
            '/schedule "0 20 * * *" @plantnews Europe/Moscow',
            True,
        ),
        CommandInfo(
            "schedules", N_("List the digest schedules and their next run"), "/schedules", True
        ),
        CommandInfo("unschedule", N_("Remove a digest schedule"), "/unschedule 3", True),
    ),
    on_startup=commands.on_startup,
    on_caught_up=commands.on_caught_up,
)

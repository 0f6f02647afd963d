"""pollbot: posts articles with summaries to Telegram channels, runs polls, sends digests."""

import os

__version__ = "0.1.0"

# Opt in to PTB's future durations (datetime.timedelta for retry_after, open_period...):
# without it PTB 22.8 warns on every access, and a 429 would log a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")

"""pollbot: posts articles with summaries to Telegram channels, runs polls, sends digests."""

__version__ = "0.1.0"

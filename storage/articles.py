"""SQL of posted articles and of who asked for their summaries."""

from __future__ import annotations

from storage.base import StoreBase


class ArticlesMixin(StoreBase):
    """Posts of articles to chats and summary requests (each user counted once)."""

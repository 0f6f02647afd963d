"""SQL of digest schedules and of every digest sent (the baseline of the next one's deltas)."""

from __future__ import annotations

from storage.base import StoreBase


class DigestsMixin(StoreBase):
    """Schedules, digests and what each digest showed."""

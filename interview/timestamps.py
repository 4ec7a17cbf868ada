"""Timestamps in the interview domain are timezone-aware UTC, always."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


def _utc(value: datetime) -> datetime:
    if value.utcoffset() != timedelta(0):
        raise ValueError("timestamps must be in UTC")
    return value


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]

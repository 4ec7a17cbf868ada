"""Office files that are the same bytes every time they are made from the same statement.

Word and Excel files are ZIPs that carry the time they were written. A pull that rewrites
nothing when nothing changed (and a bundle whose hashes can be checked again later) needs the
same bytes for the same content, so entries are re-stamped with a fixed time, in a fixed order.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a ZIP entry can carry


def stable_zip(data: bytes, when: datetime | None = None) -> bytes:
    """The same archive with every entry dated ``when`` (or 1980-01-01), order kept."""
    stamp = (
        (when.year, when.month, when.day, when.hour, when.minute, when.second)
        if when is not None and when.year >= 1980
        else EPOCH
    )
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()

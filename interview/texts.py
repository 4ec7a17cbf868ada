"""Short fixed words used when a statement is shown or written out (no logic here)."""

from __future__ import annotations

from typing import Final

STATEMENT_FORMAT: Final = "casevoice.statement/1"

SKIPPED: Final = "Skipped"
NOT_ANSWERED: Final = "Not answered"
VOICE_TRANSCRIBED: Final = "(voice note, transcribed)"
VOICE_CORRECTED: Final = "(voice note, transcribed; corrected by the participant)"
CHOSE: Final = "Chosen"
YES: Final = "yes"
NO: Final = "no"

# Markdown document for the reviewer.
MD_SCRIPT: Final = "Interview script"
MD_CASE: Final = "Case"
MD_PARTICIPANT: Final = "Participant"
MD_ROLE: Final = "Role"
MD_LABEL: Final = "Known to the reviewer as"
MD_JOB_TITLE: Final = "Job title"
MD_AGENCY: Final = "Organisation"
MD_NOT_FOR_QUOTING: Final = "The participant asked that this answer is not quoted."
MD_ASSEMBLED: Final = "Assembled"
MD_CONSENT: Final = "Consent"
MD_CONSENT_TAKE_PART: Final = "Take part"
MD_CONSENT_QUOTE: Final = "Be quoted (by role)"
MD_CONSENT_PUBLISH: Final = "Anonymised quotes in the published report"

# Read-back for the participant (plain text, Telegram messages).
READBACK_HEADER: Final = "Your answers (part {part} of {parts})"
READBACK_EDIT_HINT: Final = "To change an answer, send its number."
READBACK_EMPTY: Final = "You have not answered any questions yet."

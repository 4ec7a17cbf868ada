"""CaseVoice: storage."""

"""CaseVoice: handlers."""

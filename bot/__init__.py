"""CaseVoice: bot."""

"""CaseVoice: interview."""

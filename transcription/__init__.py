"""CaseVoice: transcription.

Voice notes are decoded in memory (``audio``), turned into text by Whisper behind the
``Transcriber`` protocol (``engine``), and returned as immutable ``Transcript`` values
(``transcript``). Models ship as PyPI packages and are verified before use (``models``).
Importing this package builds nothing: models load only when a ``WhisperTranscriber`` is made.
"""

"""The voice chain: STT -> NLU -> actions -> LLM -> TTS, each stage a base class plus backends."""

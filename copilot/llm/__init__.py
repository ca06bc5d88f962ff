"""LLM access on the openai SDK (any OpenAI-compatible endpoint), plus test doubles."""

"""Settings from the environment: LLM endpoint and model, caches, embedder. Keys stay in memory only."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CURATE_", extra="ignore", populate_by_name=True)

    api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("CURATE_API_KEY", "OPENAI_API_KEY"))
    base_url: str | None = Field(None, validation_alias=AliasChoices("CURATE_BASE_URL", "OPENAI_BASE_URL"))
    model: str = Field("gpt-4o-mini", description="chat model for planners, workers and judges")
    embedding_model: str = Field("text-embedding-3-small", description="model for --embedder openai")
    usd_per_1k_prompt: float = Field(
        0.0, description="price of 1,000 prompt tokens, for cost accounting and --max-cost"
    )
    usd_per_1k_completion: float = Field(0.0, description="price of 1,000 completion tokens")
    timeout_s: float = 60.0
    max_retries: int = 4
    max_reply_tokens: int = Field(4096, ge=16, description="cap on one completion (max_tokens)")
    cache_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "curation-copilot")
    embedder: str = Field("minilm", description="'minilm' (offline) or 'openai[:MODEL]'")

    @property
    def llm_configured(self) -> bool:
        return self.api_key is not None or self.base_url is not None

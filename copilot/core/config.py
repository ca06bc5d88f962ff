"""Settings from the environment: LLM endpoint and model, caches, embedder. Keys stay in memory only."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

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
    timeout_s: float | None = Field(
        None,
        gt=0,
        description="each request's deadline from its start to its last byte, however slowly the server sends; "
        "default 60 s for a remote endpoint, 900 s for a local one",
    )
    max_retries: int | None = Field(
        None, ge=0, description="the SDK's retries on 429/5xx/timeouts; default 4 remote, 1 local"
    )
    max_reply_tokens: int = Field(4096, ge=16, description="cap on one completion (max_tokens)")
    plan_params: Literal["auto", "on", "off"] = Field(
        "auto",
        description="the LLM planner sets tool parameters; off: it picks tools and reasons, the data's rules set the "
        "parameters; auto: off for a local endpoint (a small CPU model), on otherwise",
    )
    json_schema: Literal["auto", "on", "off"] = Field(
        "auto",
        description="send each answer's JSON schema with response_format (llama.cpp's server then constrains the "
        "model to it); auto: for a local endpoint, and dropped for the run if the server refuses it",
    )
    cache_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "curation-copilot")
    embedder: str = Field("minilm", description="'minilm' (offline) or 'openai[:MODEL]'")
    engine: Literal["local", "dask"] = Field(
        "local", description="where heavy stages run: local (this machine), or dask (a Dask distributed cluster)"
    )
    dask_address: str | None = Field(
        None,
        description="the scheduler of a running Dask cluster (tcp://HOST:8786); without it, --engine dask "
        "starts a cluster of local worker processes on 127.0.0.1",
    )

    @property
    def local_endpoint(self) -> bool:
        """The endpoint is on this machine (a llama.cpp, Ollama or vLLM server on localhost): a CPU model reads
        a long prompt for minutes, and a retry after a timeout makes it start again while it still computes."""
        host = urlparse(self.base_url or "").hostname or ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @property
    def request_timeout_s(self) -> float:
        return self.timeout_s if self.timeout_s is not None else (900.0 if self.local_endpoint else 60.0)

    @property
    def request_retries(self) -> int:
        return self.max_retries if self.max_retries is not None else (1 if self.local_endpoint else 4)

    @property
    def sends_json_schema(self) -> bool:
        return self.json_schema == "on" or (self.json_schema == "auto" and self.local_endpoint)

    @property
    def planner_sets_params(self) -> bool:
        return self.plan_params == "on" or (self.plan_params == "auto" and not self.local_endpoint)

    @property
    def engine_spec(self) -> str:
        """The tools' engine spec (curation_tools.engine): local, dask or dask@ADDRESS."""
        return f"dask@{self.dask_address}" if self.engine == "dask" and self.dask_address else self.engine

    @property
    def llm_configured(self) -> bool:
        return self.api_key is not None or self.base_url is not None

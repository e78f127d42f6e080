"""Simulator configuration, read from the environment or built in code (tests).

Every value has a default so ``python -m simulator`` works with no setup.  The
names shared with the rest of tsunagi (``WHATSAPP_*``) describe the *default*
business number and the app secret that signs webhooks, exactly as a Meta app
would have them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Mapping


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _versions(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


@dataclass(frozen=True)
class SimConfig:
    # Where the simulator serves (python -m simulator).
    host: str = "127.0.0.1"
    port: int = 8090

    # Where webhooks go and how they are signed (one webhook URL per Meta app).
    webhook_url: str = "http://127.0.0.1:5005/webhooks/whatsapp/webhook"
    app_secret: str = ""

    # The default business number (more can be registered at run time).
    phone_number_id: str = "100000000000001"
    access_token: str = "sim-access-token"
    display_phone_number: str = "15550000001"
    waba_id: str = "200000000000001"
    verified_name: str = "Tsunagi Demo"

    # Accepted Graph API versions in the path ("v21.0"...); empty = any vNN.N.
    api_versions: tuple[str, ...] = ()

    # Throughput: messages per second per business number (error 130429).
    throughput_per_second: int = 80
    # Pair rate (error 131056): a token bucket per (business number, user):
    # one message regained every ``pair_rate_interval_s`` seconds, at most
    # ``pair_rate_burst`` in the bucket.  Meta documents 1 message / 6 s with
    # bursts allowed; the default burst is lenient so normal chats never hit it.
    pair_rate_interval_s: float = 6.0
    pair_rate_burst: int = 600

    # Status webhooks: delay before each of sent / delivered / read.
    status_delay_ms: int = 50
    auto_read: bool = True
    # Meta's webhooks name every user by business-scoped user id too since 2026-03-31
    # ("Business-scoped user IDs"): on, a phone user gets a BSUID of this WABA (from_user_id,
    # contacts[].user_id, recipient_user_id) and may be sent to by `recipient`.
    user_ids: bool = False
    # Outside the 24-hour window: "async" (accepted, then a failed status with
    # 131047, Meta's usual behaviour) or "sync" (a 400 with 131047 at once).
    window_error: str = "async"
    # "CBP" (conversation-based pricing, the model tsunagi implements first) or
    # "PMP" (per-message pricing, Meta since 2025-07).
    pricing_model: str = "CBP"
    # Include the ``conversation`` object on statuses (Graph API v24+ mostly
    # omits it; ``pricing`` stays).
    status_conversation: bool = True

    # Webhook delivery: timeout per attempt, bounded retries with backoff.
    webhook_timeout_s: float = 10.0
    webhook_max_attempts: int = 5
    webhook_retry_base_ms: int = 500
    webhook_retry_max_ms: int = 30_000

    # Templates created through Meta's own endpoint start PENDING unless this
    # is set, in which case they are APPROVED at once.
    template_auto_approve: bool = True

    # Optional JSON files to preload numbers / templates (lists of objects in
    # the same shape as the control API bodies).
    numbers_file: str = ""
    templates_file: str = ""

    # Largest request body accepted (a 100 MB document plus multipart overhead).
    max_request_bytes: int = 110 * 1024 * 1024

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "SimConfig":
        """Build the configuration from environment variables."""
        env = os.environ if env is None else env
        spec = {
            "host": ("SIM_HOST", str),
            "port": ("SIM_PORT", int),
            "webhook_url": ("SIM_WEBHOOK_URL", str),
            "app_secret": ("WHATSAPP_APP_SECRET", str),
            "phone_number_id": ("WHATSAPP_PHONE_NUMBER_ID", str),
            "access_token": ("WHATSAPP_ACCESS_TOKEN", str),
            "display_phone_number": ("SIM_DISPLAY_PHONE_NUMBER", str),
            "waba_id": ("SIM_WABA_ID", str),
            "verified_name": ("SIM_VERIFIED_NAME", str),
            "api_versions": ("SIM_API_VERSION", _versions),
            "throughput_per_second": ("SIM_THROUGHPUT_PER_SECOND", int),
            "pair_rate_interval_s": ("SIM_PAIR_RATE_INTERVAL_S", float),
            "pair_rate_burst": ("SIM_PAIR_RATE_BURST", int),
            "status_delay_ms": ("SIM_STATUS_DELAY_MS", int),
            "auto_read": ("SIM_AUTO_READ", _bool),
            "user_ids": ("SIM_USER_IDS", _bool),
            "window_error": ("SIM_WINDOW_ERROR", str),
            "pricing_model": ("SIM_PRICING_MODEL", str),
            "status_conversation": ("SIM_STATUS_CONVERSATION", _bool),
            "webhook_timeout_s": ("SIM_WEBHOOK_TIMEOUT_S", float),
            "webhook_max_attempts": ("SIM_WEBHOOK_MAX_ATTEMPTS", int),
            "webhook_retry_base_ms": ("SIM_WEBHOOK_RETRY_BASE_MS", int),
            "webhook_retry_max_ms": ("SIM_WEBHOOK_RETRY_MAX_MS", int),
            "template_auto_approve": ("SIM_TEMPLATE_AUTO_APPROVE", _bool),
            "numbers_file": ("SIM_NUMBERS_FILE", str),
            "templates_file": ("SIM_TEMPLATES_FILE", str),
        }
        values = {}
        for name, (var, conv) in spec.items():
            raw = env.get(var)
            if raw is not None and raw != "":
                values[name] = conv(raw)
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes) -> "SimConfig":
        return replace(self, **changes)


ENV_VARS = [f.name for f in fields(SimConfig)]

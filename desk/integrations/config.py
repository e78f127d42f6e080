"""Integration settings, from the environment only (read once per process).

| variable | meaning |
|---|---|
| `CRM_ADAPTER` | `zoho`, `webhook` or `none` (default): where leads and tickets go |
| `ZOHO_CRM_BASE_URL` | Zoho CRM API domain of your data centre (default `https://www.zohoapis.com`) |
| `ZOHO_DESK_BASE_URL` | Zoho Desk domain (default `https://desk.zoho.com`) |
| `ZOHO_ACCESS_TOKEN` | OAuth access token (scopes ZohoCRM.modules.leads.CREATE, Desk.tickets.CREATE) |
| `ZOHO_DESK_ORG_ID` | Zoho Desk organisation id (the `orgId` header) |
| `ZOHO_DESK_DEPARTMENT_ID` | Zoho Desk department the tickets go to |
| `INTEGRATION_WEBHOOK_URL` | the generic webhook's URL |
| `INTEGRATION_WEBHOOK_SECRET` | the HMAC key of `X-Tsunagi-Signature` |
| `INTEGRATION_TIMEOUT_SECONDS` | total time of one HTTP call (default 20) |
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import AsyncIterator, Mapping

import aiohttp

from desk.integrations.base import Adapter

ADAPTERS = ("zoho", "webhook", "none")


class IntegrationConfigError(ValueError):
    """The environment names an adapter without what it needs; the message lists it."""


def adapter_from_env(env: Mapping[str, str] | None = None) -> str:
    """Just the adapter's name (for queueing a push: the worker checks the rest on start)."""
    env = os.environ if env is None else env
    adapter = (env.get("CRM_ADAPTER") or "none").strip().lower()
    if adapter not in ADAPTERS:
        raise IntegrationConfigError(f"CRM_ADAPTER is one of {', '.join(ADAPTERS)}, not {adapter!r}")
    return adapter


@dataclass(frozen=True)
class IntegrationSettings:
    adapter: str = "none"
    zoho_crm_base_url: str = "https://www.zohoapis.com"
    zoho_desk_base_url: str = "https://desk.zoho.com"
    zoho_access_token: str = field(default="", repr=False)
    zoho_desk_org_id: str = ""
    zoho_desk_department_id: str = ""
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    timeout_seconds: float = 20.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "IntegrationSettings":
        env = os.environ if env is None else env
        adapter = adapter_from_env(env)
        try:
            timeout = float(env.get("INTEGRATION_TIMEOUT_SECONDS") or 20)
        except ValueError:
            raise IntegrationConfigError("INTEGRATION_TIMEOUT_SECONDS must be a number of seconds") from None
        settings = cls(
            adapter=adapter,
            zoho_crm_base_url=env.get("ZOHO_CRM_BASE_URL") or cls.zoho_crm_base_url,
            zoho_desk_base_url=env.get("ZOHO_DESK_BASE_URL") or cls.zoho_desk_base_url,
            zoho_access_token=env.get("ZOHO_ACCESS_TOKEN", ""),
            zoho_desk_org_id=env.get("ZOHO_DESK_ORG_ID", ""),
            zoho_desk_department_id=env.get("ZOHO_DESK_DEPARTMENT_ID", ""),
            webhook_url=env.get("INTEGRATION_WEBHOOK_URL", ""),
            webhook_secret=env.get("INTEGRATION_WEBHOOK_SECRET", ""),
            timeout_seconds=timeout,
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        required = {
            "zoho": {"ZOHO_ACCESS_TOKEN": self.zoho_access_token, "ZOHO_DESK_ORG_ID": self.zoho_desk_org_id,
                     "ZOHO_DESK_DEPARTMENT_ID": self.zoho_desk_department_id},
            "webhook": {"INTEGRATION_WEBHOOK_URL": self.webhook_url,
                        "INTEGRATION_WEBHOOK_SECRET": self.webhook_secret},
        }.get(self.adapter, {})
        missing = [name for name, value in required.items() if not value]
        if missing:
            raise IntegrationConfigError(f"CRM_ADAPTER={self.adapter} needs {', '.join(missing)}")
        if self.timeout_seconds <= 0:
            raise IntegrationConfigError("INTEGRATION_TIMEOUT_SECONDS must be positive")

    @property
    def enabled(self) -> bool:
        return self.adapter != "none"

    def client_timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.timeout_seconds, connect=min(10.0, self.timeout_seconds))


def build_adapters(settings: IntegrationSettings, http: aiohttp.ClientSession) -> dict[str, Adapter]:
    """The configured adapter, keyed by the name stored in `integration_jobs.adapter`."""
    timeout = settings.client_timeout()
    if settings.adapter == "zoho":
        from desk.integrations.zoho import ZohoAdapter

        return {"zoho": ZohoAdapter(http, crm_base_url=settings.zoho_crm_base_url,
                                    desk_base_url=settings.zoho_desk_base_url,
                                    access_token=settings.zoho_access_token,
                                    desk_org_id=settings.zoho_desk_org_id,
                                    desk_department_id=settings.zoho_desk_department_id,
                                    timeout=timeout)}
    if settings.adapter == "webhook":
        from desk.integrations.webhook import WebhookAdapter

        return {"webhook": WebhookAdapter(http, url=settings.webhook_url, secret=settings.webhook_secret,
                                          timeout=timeout)}
    return {}


@contextlib.asynccontextmanager
async def open_adapters(settings: IntegrationSettings | None = None) -> AsyncIterator[dict[str, Adapter]]:
    """For a worker: one HTTP client session for the adapters' lifetime, closed on exit."""
    settings = settings or IntegrationSettings.from_env()
    async with aiohttp.ClientSession() as http:
        yield build_adapters(settings, http)

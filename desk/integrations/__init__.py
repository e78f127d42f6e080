"""CRM and helpdesk adapters, and the outbox that pushes leads and tickets to them.

- `base`: the `Adapter` interface (`push_lead`, `push_ticket` -> external id) and
  `IntegrationError(retryable, message)`;
- `zoho`: Zoho CRM leads and Zoho Desk tickets; `webhook`: a signed generic JSON webhook;
- `config`: settings from the environment (`CRM_ADAPTER`, ...) and `open_adapters()`;
- `jobs`: `enqueue()` and `run_integration_jobs_once()` for the desk worker.
"""
from desk.integrations.base import Adapter, IntegrationError
from desk.integrations.jobs import enqueue, run_integration_jobs_once

__all__ = ["Adapter", "IntegrationError", "enqueue", "run_integration_jobs_once"]

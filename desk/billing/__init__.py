"""Billing: WhatsApp conversations, the free tier, prepaid credits and templates.

The source document's pricing (rules in `policy.py`, rates in `rates.py`). Plain
async functions over an `AsyncSession`; the caller owns the transaction. Money is
`Decimal` USD at the edges and integer micro-USD in the database.

Public functions (for the console, the admin CLI and the action server):

- `conversations.authorize_send(session, phone_number_id=, wa_id=, is_template=, sender=)`
  → `SendDecision` or raises `SendRefused` (the reason for the sender). Every send
  path calls it: the outbox (`desk.services.outbox.enqueue`), the bot's replies
  (`connectors.whatsapp.channel`), template sends.
- `conversations.check_send(session, phone_number_id=, wa_id=, is_template=)` → the
  reason a send would be refused now, or None (read-only, for screens).
- `conversations.reconcile_status(...)`, `conversations.message_failed(session, message_id)`:
  Meta's status webhooks (called by `connectors.whatsapp.processor`).
- `ledger.buy_credits(session, brand_id, credits, by=)` → `Purchase`;
  `ledger.status(session, brand_id)` → `AccountStatus` (balance, credits, low-balance warning);
  `ledger.entries(session, brand_id, since=, until=)`; `ledger.adjust(...)`;
  `ledger.set_low_balance_threshold(session, brand_id, usd)`.
- `templates.register(session, waba_id=, name=, language=, category=, components=, status=)`;
  `templates.set_status(...)`; `templates.list_templates(session, waba_id=|brand_id=|status=)`;
  `templates.approved_for_number(session, phone_number_id)` (what to offer outside the window);
  `templates.send_template(session, phone_number_id=, wa_id=, name=, language=, body_params=)`.
- `report.monthly_report(session, brand_id, "YYYY-MM")` → dict; `report.to_csv(report)`.
- `markets.market_for(wa_id)`; `rates.default_card().rate(market, category)`.
- `accounts.overview(session, brand_id)`: WABAs, numbers (department, state), credits.
"""
from desk.billing import conversations, ledger, markets, policy, rates, report, templates  # noqa: F401
from desk.billing.conversations import SendDecision, SendRefused  # noqa: F401

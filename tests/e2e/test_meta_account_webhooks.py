"""Meta's own webhooks through the running system (issue 12): the simulator, as Meta,
recategorises a template and records a user's marketing opt-out; the channel takes the
signed webhooks, the desk applies them, and its next template sends follow: priced at
the template's new category (per-message pricing), or refused with the reason. One
stack for the module."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import Console, desk_cli, desk_rows, running_stack, wait_for

pytestmark = pytest.mark.e2e

USER = "447700900555"
TEMPLATE = "lead_follow_up"   # a demo template (desk/billing/demo_templates.json): MARKETING, approved


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # Meta's status webhooks carry per-message `pricing` objects (simulator/pricing.py).
    yield from running_stack(tmp_path_factory.mktemp("var"), seed_demo=True, env={"SIM_PRICING_MODEL": "PMP"})


@pytest.fixture(scope="module")
def pmp(stack):
    """The demo WABA billed per message, as an admin sets it on the console."""
    admin = Console(stack.http["desk"].base, "admin@tsunagi.local", stack.env["DEMO_OPERATOR_PASSWORD"])
    status, waba = admin.put(f"/api/admin/wabas/{stack.env['WHATSAPP_WABA_ID']}/pricing", {"pricing_model": "pmp"})
    assert status == 200 and waba["pricing_model"] == "pmp", waba
    return stack


def send_template(stack, name: str = TEMPLATE):
    return desk_cli(stack, "admin", "template", "send", "--number", stack.env["WHATSAPP_PHONE_NUMBER_ID"],
                    "--to", USER, "--name", name, "--language", "en_US", "--param", "Kerry", "--param", "the blue mug")


def charges(stack) -> list[tuple]:
    return desk_rows(stack, "SELECT category, meta_category FROM wa_message_charges ORDER BY id")


def desk_category(stack) -> str:
    [(category,)] = desk_rows(stack, "SELECT category FROM message_templates WHERE name = ?", (TEMPLATE,))
    return category


def recategorise(stack, category: str) -> None:
    status, sent = stack.http["simulator"].post("/_sim/templates/category", {
        "name": TEMPLATE, "language": "en_US", "category": category})
    assert status == 200 and sent["webhook_status"] == 200, sent
    assert sent["payload"]["entry"][0]["changes"][0]["value"]["new_category"] == category
    assert wait_for(lambda: desk_category(stack) == category, timeout=30), desk_category(stack)


def test_a_template_meta_recategorises_is_priced_at_its_new_category_on_its_next_send(pmp):
    stack = pmp
    sent = send_template(stack)
    assert sent.returncode == 0, sent.stderr
    # Priced by the desk before sending, confirmed by Meta's status `pricing` when delivered.
    assert wait_for(lambda: charges(stack) == [("marketing", "marketing")], timeout=60), charges(stack)
    recategorise(stack, "UTILITY")
    sent = send_template(stack)
    assert sent.returncode == 0, sent.stderr
    assert wait_for(lambda: charges(stack)[1:] == [("utility", "utility")], timeout=60), charges(stack)
    [(reason,)] = desk_rows(stack, "SELECT reason FROM wa_message_charges ORDER BY id DESC LIMIT 1")
    assert "utility" in reason.lower() and "marketing" not in reason.lower(), reason


def test_a_marketing_opt_out_refuses_marketing_templates_with_the_reason(pmp):
    stack = pmp
    if desk_category(stack) != "MARKETING":   # after the test above: Meta moves it back
        recategorise(stack, "MARKETING")
    if desk_rows(stack, "SELECT count(*) FROM contacts WHERE wa_id = ?", (USER,)) == [(0,)]:
        assert send_template(stack).returncode == 0   # the desk knows the user (Meta's opt-out names a contact)
    status, sent = stack.http["simulator"].post(f"/_sim/users/{USER}/preferences", {"value": "stop"})
    assert status == 200 and sent["webhook_status"] == 200, sent
    assert wait_for(lambda: desk_rows(stack, "SELECT marketing_opt_out_at IS NOT NULL FROM contacts WHERE wa_id = ?",
                                      (USER,)) == [(1,)], timeout=30)
    before = desk_rows(stack, "SELECT count(*) FROM messages WHERE type = 'template'")
    refused = send_template(stack)
    assert refused.returncode != 0
    assert "asked to stop marketing messages" in refused.stderr, refused.stderr
    assert desk_rows(stack, "SELECT count(*) FROM messages WHERE type = 'template'") == before  # nothing recorded
    # A utility template still goes.
    utility = desk_cli(stack, "admin", "template", "send", "--number", stack.env["WHATSAPP_PHONE_NUMBER_ID"],
                       "--to", USER, "--name", "order_update", "--language", "en_US", "--header-param", "A-1001",
                       "--param", "shipped", "--param", "Friday")
    assert utility.returncode == 0, utility.stderr


KENYA = "254711000555"   # Rest of Africa: the one market and category with volume tiers (utility)


def send_utility(stack, to: str):
    return desk_cli(stack, "admin", "template", "send", "--number", stack.env["WHATSAPP_PHONE_NUMBER_ID"],
                    "--to", to, "--name", "order_update", "--language", "en_US", "--header-param", "A-1001",
                    "--param", "shipped", "--param", "Friday")


def seed_charged_like(stack, charge_id: int, copies: int) -> None:
    """The brand's month already holds `copies` more charged messages like this one (as if
    sent earlier this month): written straight into the desk's database."""
    import sqlite3

    from sqlalchemy.engine import make_url

    cols = ("brand_id, waba_id, phone_number_id, wa_id, month, category, type, market, card, price_micros, "
            "state, sent_by, reason, created_at")
    conn = sqlite3.connect(make_url(stack.env["DESK_DATABASE_URL"]).database, timeout=30)
    try:
        with conn:
            conn.execute(f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                         f"INSERT INTO wa_message_charges ({cols}) SELECT {cols} FROM wa_message_charges, n "
                         f"WHERE wa_message_charges.id = ?", (copies, charge_id))
    finally:
        conn.close()


def test_a_month_past_the_first_volume_tier_is_priced_at_the_tier_rate(pmp):
    """Meta's volume tiers (desk/billing/pmp_cards/volume_tiers-2026-10-01.csv): Rest of
    Africa utility at USD 0.0040 up to 100,000 a month, USD 0.0038 from the 100,001st."""
    stack = pmp
    first = send_utility(stack, KENYA)
    assert first.returncode == 0, first.stderr

    def kenyan():
        return desk_rows(stack, "SELECT id, market, category, price_micros FROM wa_message_charges "
                                "WHERE wa_id = ? AND message_id IS NOT NULL ORDER BY id", (KENYA,))
    assert wait_for(lambda: len(kenyan()) == 1, timeout=60), kenyan()
    [(charge_id, market, category, price)] = kenyan()
    assert (market, category, price) == ("Rest of Africa", "utility", 4000)
    seed_charged_like(stack, charge_id, 99_999)   # with the first: 100,000 this month
    second = send_utility(stack, KENYA)
    assert second.returncode == 0, second.stderr
    assert wait_for(lambda: len(kenyan()) == 2, timeout=60), kenyan()
    assert kenyan()[1][1:] == ("Rest of Africa", "utility", 3800)

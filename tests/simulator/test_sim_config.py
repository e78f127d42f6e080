"""SimConfig from the environment."""
from simulator import SimConfig


def test_config_from_env():
    cfg = SimConfig.from_env({})
    assert (cfg.host, cfg.port) == ("127.0.0.1", 8090)
    assert cfg.webhook_url == "http://127.0.0.1:5005/webhooks/whatsapp/webhook"
    assert cfg.phone_number_id == "100000000000001" and cfg.display_phone_number == "15550000001"
    assert cfg.waba_id == "200000000000001" and cfg.throughput_per_second == 80
    assert cfg.auto_read is True and cfg.api_versions == ()
    cfg = SimConfig.from_env({
        "SIM_HOST": "0.0.0.0", "SIM_PORT": "9000", "SIM_WEBHOOK_URL": "http://x/y", "WHATSAPP_APP_SECRET": "s",
        "WHATSAPP_PHONE_NUMBER_ID": "1", "WHATSAPP_ACCESS_TOKEN": "t", "SIM_DISPLAY_PHONE_NUMBER": "2",
        "SIM_WABA_ID": "3", "SIM_API_VERSION": "v21.0, v22.0", "SIM_THROUGHPUT_PER_SECOND": "10",
        "SIM_STATUS_DELAY_MS": "0", "SIM_AUTO_READ": "false", "SIM_PAIR_RATE_BURST": "45",
        "SIM_PAIR_RATE_INTERVAL_S": "6", "SIM_WEBHOOK_MAX_ATTEMPTS": "2", "SIM_PRICING_MODEL": "PMP",
    })
    assert cfg.host == "0.0.0.0" and cfg.port == 9000 and cfg.webhook_url == "http://x/y"
    assert cfg.app_secret == "s" and cfg.phone_number_id == "1" and cfg.access_token == "t"
    assert cfg.display_phone_number == "2" and cfg.waba_id == "3"
    assert cfg.api_versions == ("v21.0", "v22.0") and cfg.throughput_per_second == 10
    assert cfg.status_delay_ms == 0 and cfg.auto_read is False
    assert cfg.pair_rate_burst == 45 and cfg.pair_rate_interval_s == 6.0
    assert cfg.webhook_max_attempts == 2 and cfg.pricing_model == "PMP"

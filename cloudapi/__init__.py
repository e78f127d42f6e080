"""The Meta WhatsApp Cloud API, framework-free: imports neither Rasa, Sanic nor the desk.

- `graph`: the Graph API client (messages, media, WABA management), error mapping, retries;
- `payloads`: webhook bodies parsed into typed items;
- `signature`: the webhook's `X-Hub-Signature-256`;
- `outbound`: bot responses turned into Cloud API message objects, and Meta's limits;
- `ids`: the conversation id of a (business number, WhatsApp user) pair.

The desk and the Rasa adapter (`connectors/whatsapp`) build on it; it builds on
neither (tests/unit/test_layers.py).
"""

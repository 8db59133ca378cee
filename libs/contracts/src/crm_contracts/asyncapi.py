"""Generates the AsyncAPI 3.0 document of the bus from the topic list and the
contract models: `python -m crm_contracts.asyncapi > libs/contracts/asyncapi.json`.
A test keeps the committed document equal to what this prints."""

from __future__ import annotations

import json
from typing import Any

from crm_contracts import topics
from crm_contracts.registry import EVENTS_BY_TOPIC


def document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in topics.ALL_TOPICS:
        events = EVENTS_BY_TOPIC.get(spec.name, ())
        channel_id = spec.name.replace(".", "_")
        channel_messages = {}
        for event in events:
            message_id = event.EVENT_TYPE.replace(".", "_")
            messages[message_id] = {
                "name": event.EVENT_TYPE,
                "contentType": "application/json",
                "summary": (event.__doc__ or "").strip().splitlines()[0] if event.__doc__ else "",
                "headers": {"type": "object", "properties": {
                    "ce_id": {"type": "string", "description": "idempotency key"},
                    "ce_type": {"const": event.EVENT_TYPE},
                    "ce_source": {"type": "string"}, "ce_subject": {"type": "string"},
                    "ce_time": {"type": "string", "format": "date-time"},
                    "ce_accountid": {"type": "string"},
                    "traceparent": {"type": "string", "description": "W3C trace context"},
                }},
                "payload": event.model_json_schema(),
            }
            channel_messages[message_id] = {"$ref": f"#/components/messages/{message_id}"}
        channels[channel_id] = {
            "address": spec.name,
            "description": f"{spec.description} Partitions: {spec.partitions}; "
                           f"retention: {spec.retention_ms // 86_400_000} days; "
                           f"key: {{account}}:{{objectType}}:{{id}}.",
            "messages": channel_messages,
        }
        if channel_messages:
            operations[f"publish_{channel_id}"] = {
                "action": "send", "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"Published by {spec.producer}",
            }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "CRM platform bus", "version": "1.0.0",
                 "description": "CloudEvents 1.0 in Kafka binary mode (ce_* headers, JSON value)."},
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:19092", "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


if __name__ == "__main__":
    print(json.dumps(document(), indent=2, sort_keys=True))

"""The whole MQTT API document: what devices publish (events.asyncapi) and the fleet protocol."""

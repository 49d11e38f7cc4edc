"""Fleet management over MQTT: acknowledged, at-most-once commands and the `edge-fleet` tool.

The device side (receiver, dispatcher, ledger, signing) depends only on two narrow protocols,
`CommandChannel` (how bytes arrive and replies leave) and `CommandTarget` (what a command may
do to the agent), so the daemon, the simulator and the tests share one implementation.
"""

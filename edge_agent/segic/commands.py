"""Fleet commands on SegIC prompts: add (whole or chunked), remove, list.

Transport-free: the caller (the agent's command dispatcher) passes the verb after
`<root>/cmd/`, the payload and a monotonic time, and publishes the reply. A bad command is
answered with the problem and its fix, never a traceback, and changes nothing.

Verbs:
- `segic/prompt/add`: payload is a PromptDocument (JSON);
- `segic/prompt/chunk`: payload is one PromptChunk; the reassembled document is then added;
- `segic/prompt/remove`: payload `{"id": "<prompt id>"}`;
- `segic/prompt/list`: no payload; the reply lists prompts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Collection, List

from edge_agent.errors import ConfigError, EdgeAgentError
from edge_agent.segic.chunks import ChunkReassembler, parse_chunk
from edge_agent.segic.document import prompt_from_document
from edge_agent.segic.store import PromptInfo, PromptStore

ADD = "segic/prompt/add"
CHUNK = "segic/prompt/chunk"
REMOVE = "segic/prompt/remove"
LIST = "segic/prompt/list"
VERBS = (ADD, CHUNK, REMOVE, LIST)


@dataclass(frozen=True)
class CommandReply:
    """The outcome of one command, for the reply message."""

    ok: bool
    message: str
    fix: str = ""
    prompts: List[PromptInfo] = field(default_factory=list)


class PromptCommands:
    """Applies prompt commands to a PromptStore."""

    def __init__(self, store: PromptStore, reassembler: ChunkReassembler,
                 known_cameras: Collection[str]) -> None:
        self._store = store
        self._reassembler = reassembler
        self.known_cameras = frozenset(known_cameras)

    def handle(self, verb: str, payload: bytes, now_s: float) -> CommandReply:
        """Run one command; errors become a failed reply naming the problem and the fix."""
        try:
            return self._handle(verb, payload, now_s)
        except EdgeAgentError as exc:
            return CommandReply(False, exc.problem, exc.fix)

    def _handle(self, verb: str, payload: bytes, now_s: float) -> CommandReply:
        source = f"command {verb}"
        if verb == ADD:
            return self._add(payload, source)
        if verb == CHUNK:
            document = self._reassembler.accept(parse_chunk(payload, source), now_s)
            if document is None:
                stats = self._reassembler.stats()
                return CommandReply(True, f"chunk stored ({stats.in_progress} transfer(s) "
                                          f"in progress)")
            return self._add(document, source)
        if verb == REMOVE:
            try:
                prompt_id = json.loads(payload.decode("utf-8"))["id"]
            except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{source}: payload must be JSON {{\"id\": \"<prompt id>\"}}",
                                  "send the id of the prompt to remove") from exc
            self._store.remove(str(prompt_id))
            return CommandReply(True, f"prompt {prompt_id!r} removed")
        if verb == LIST:
            prompts = self._store.list()
            return CommandReply(True, f"{len(prompts)} prompt(s)", prompts=prompts)
        raise ConfigError(f"unknown SegIC command {verb!r}", f"use one of: {', '.join(VERBS)}")

    def _add(self, document: bytes, source: str) -> CommandReply:
        prompt, replace = prompt_from_document(document, self.known_cameras, source)
        self._store.add(prompt, replace=replace)
        return CommandReply(True, f"prompt {prompt.prompt_id!r} active on "
                                  f"{', '.join(prompt.cameras)}")

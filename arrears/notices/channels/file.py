"""Writes each message as a JSON file: a development outbox that tests and people can read."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from django.conf import settings

from ._util import key_digest
from .base import Backend, Outbound, SendResult


class FileBackend(Backend):
    """Options: `directory` (default settings.NOTICES_FILE_DIR).

    The file is named from the key's hash, so sending the same key again finds the file and
    writes nothing: a retried or recovered message never appears twice.
    """

    name = "file"

    @property
    def directory(self) -> Path:
        return Path(self.options.get("directory") or settings.NOTICES_FILE_DIR)

    def _path(self, key: str) -> Path:
        return self.directory / f"{key_digest(key)}.json"

    def _result(self, key: str) -> SendResult:
        return SendResult(provider=self.name, provider_message_id=f"file-{key_digest(key)}")

    def send(self, message: Outbound) -> SendResult:
        path = self._path(message.key)
        if path.exists():
            return self._result(message.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {**asdict(message), "written_at": datetime.now().astimezone().isoformat()}
        # Temp file in the same folder, then os.replace: a reader never sees half a message.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(record, handle, ensure_ascii=False, indent=2)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return self._result(message.key)

    def lookup(self, message: Outbound, sent_after: datetime) -> SendResult | None:
        """The file is the provider's whole record: present means sent, whenever it was."""
        path = self._path(message.key)
        if not path.exists():
            return None
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("key") != message.key:  # pragma: no cover - a 128-bit hash collision
            return None
        return self._result(message.key)

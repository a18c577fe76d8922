"""One error type for refused domain actions: the message says why, in Chinese and English."""


class DomainError(Exception):
    def __init__(self, zh: str, en: str, *, code: str = "invalid"):
        self.zh, self.en, self.code = zh, en, code
        super().__init__(f"{zh} / {en}")

    @property
    def message(self) -> str:
        return str(self)

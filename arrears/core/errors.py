"""One error type for refused domain actions: the message says why, in Chinese and English."""

from django.utils.translation import get_language


class DomainError(Exception):
    def __init__(self, zh: str, en: str, *, code: str = "invalid"):
        self.zh, self.en, self.code = zh, en, code
        super().__init__(f"{zh} / {en}")

    @property
    def message(self) -> str:
        return str(self)

    @property
    def localized(self) -> str:
        """The message in the active language: English when the user chose it, Chinese otherwise."""
        return self.en if (get_language() or "").startswith("en") else self.zh

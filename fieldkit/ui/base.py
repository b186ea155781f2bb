"""Shared pieces for screens: typed access to the app and its vault."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.screen import ModalScreen, Screen

from fieldkit.errors import FieldkitError
from fieldkit.services.types import Database
from fieldkit.ui.i18n import N_, _, translate_bindings
from fieldkit.ui.text import literal

if TYPE_CHECKING:
    from fieldkit.services.vault import Vault
    from fieldkit.ui.app import FieldkitApp


class FieldkitScreen(Screen[Any]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        translate_bindings(self)

    @property
    def fk(self) -> FieldkitApp:
        return cast("FieldkitApp", self.app)

    @property
    def vault(self) -> Vault:
        v = self.fk.vault
        if v is None:
            raise FieldkitError(N_("the vault is locked"))
        return v

    @property
    def db(self) -> Database:
        return self.vault.db

    def from_worker(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run fn(*args) on the UI thread, unless this screen is gone by then (the vault
        was locked, or the user went back, while the worker ran)."""

        def guarded() -> None:
            if self.is_attached:
                fn(*args)

        self.app.call_from_thread(guarded)


class FieldkitModal(ModalScreen[Any]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        translate_bindings(self)

    @property
    def fk(self) -> FieldkitApp:
        return cast("FieldkitApp", self.app)


def error_text(exc: BaseException) -> Text:
    """What to show for an error: our own messages, never an internal exception's text.
    A message may quote a file name or a field from a bundle: it is shown literally."""
    if isinstance(exc, FieldkitError):
        # English msgids (fieldkit/errors.py): translated when the catalogue has them.
        return literal(f"{_(exc.message)}. {_(exc.hint)}")
    return literal(_("internal error ({name})").format(name=type(exc).__name__))

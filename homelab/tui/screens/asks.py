"""What an apply from the editor asks a person, as the command line does: the sudo password
(asked once, before anything is committed) and whether to trust a machine's unknown host
key, shown by its fingerprint (accepting exactly that key, pinned and committed)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Mount
from textual.widgets import Button, Input

from homelab.lab import PROFILE, Lab
from homelab.tui.plain import Static
from homelab.tui.screens.dialogs import DIALOG_CSS, Confirm, Dialog

# the key file on the machine, by the key's type
KEY_FILES = {"ed25519": "ed25519", "ecdsa": "ecdsa", "rsa": "rsa"}


class SudoPassword(Dialog):
    """The password sudo asks for on the machines. It goes to sudo on its input and is
    never shown, logged or written; escape or Cancel applies nothing."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="SudoPassword")

    def __init__(self, names: str) -> None:
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Sudo password", classes="dialog-title")
            yield Static(
                f"The password sudo asks for on {self.names}, asked once for this apply. "
                "It is given to sudo on its input, never shown and never written anywhere. "
                "Nothing is committed or applied before you enter it."
            )
            yield Input(password=True, placeholder="sudo password", id="sudo-password")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="answer-cancel", variant="default")
                yield Button("Apply", id="answer-apply", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#sudo-password", Input).focus()

    def _given(self) -> None:
        field = self.query_one("#sudo-password", Input)
        password, field.value = field.value, ""  # not left in a widget once dismissed
        self.dismiss(password)

    @on(Input.Submitted, "#sudo-password")
    def _submitted(self) -> None:
        self._given()

    @on(Button.Pressed, "#answer-apply")
    def _apply(self) -> None:
        self._given()

    @on(Button.Pressed, "#answer-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class TrustHostKey(Confirm):
    """A machine presented a host key homelab does not know: its fingerprint, to be checked
    on the machine's own console before it is trusted. Answers "trust" or not."""

    def __init__(self, host: str, folder: str, key: str) -> None:
        self.host, self.key = host, key
        kind = key.split()[0] if key.split() else "key"
        file = KEY_FILES.get(kind.removeprefix("ssh-").split("-")[0], "*")
        self.fingerprint = Lab.fingerprint(key)
        super().__init__(
            f"Unknown host key: {host}",
            f"{host} presented a host key homelab does not know:\n\n"
            f"    {kind} {self.fingerprint}\n\n"
            "Check it on the machine's own console (ssh-keygen -lf "
            f"/etc/ssh/ssh_host_{file}_key.pub). Trust it only if it is the same: this key, "
            f"and no other, is then accepted, pinned in hosts/{folder}/{PROFILE} "
            f"(deploy.hostKey) in a commit of its own, and {host} is applied to again.",
            [("Not now", "cancel", "default"), ("Trust and apply again", "trust", "warning")],
        )

    @on(Mount)
    def _focus_not_now(self, event: Mount) -> None:
        event.prevent_default()  # not Confirm's focus on the last answer:
        self.query(Button).first().focus()  # enter on a glance never trusts a key

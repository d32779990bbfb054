"""The Secrets screen (f9): the lab's encrypted secrets, each with the hosts that use it,
who should be able to open it and whether they can (read from the file's own recipient
stanzas), and below the table the chosen secret's uses (file:line, setting) and what is
wrong with it, with hints.

Its actions each commit at once, as `homelab secrets set` and `rekey` do: a new value (typed
masked), a new secret, a rekey of one secret or of every stale one. A value is shown only
when asked for, after a question, in a dialog of its own that drops it when closed; the
screen never holds it. Errors (no admin key, a key that cannot open the file) are shown
here with their hint, never a crash."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header
from textual.worker import get_current_worker

from homelab.errors import InvalidInput, Problem, format_path
from homelab.lab import Lab, LabState
from homelab.secrets.crypt import SecretsError
from homelab.secrets.view import LabSecrets, Reader, SecretState
from homelab.tui.plain import Static
from homelab.tui.screens.dialogs import Confirm
from homelab.tui.screens.secretforms import NewValue, Passphrase, SecretValueForm, ShownValue
from homelab.tui.widgets.footer import Footer

NOTE = (
    "Encrypted secrets (encrypted/NAME.age), who should open each and who can. "
    "s sets a value · n adds a secret · v shows a value · r rekeys · shift+r rekeys every "
    "stale one; each commits. Escape goes back."
)
LEGEND = "✓ can open it · ✗ cannot · ? an age key: the file only says how many can"
CAN = {True: "✓", False: "✗", None: "?"}
COLUMNS = (
    ("name", "Secret"),
    ("hosts", "Used by"),
    ("readers", "Who can open it"),
    ("state", "State"),
)
CAN_SAID = {
    True: "can open it",
    False: "CANNOT open it",
    None: "cannot be told (an age key's stanza does not name it: the file has as many as "
    "there are age keys)",
}
NO_SECRETS = (
    "This lab has no encrypted secrets yet. Press n to add one: it is encrypted to the "
    "lab's admins (admins: in lab.yaml) and, once a setting says {secret: NAME}, to the "
    "hosts that use it."
)


def state_word(s: SecretState) -> Text:
    """The secret's mark in the table: what is most wrong with it, in a word."""
    if not s.present:
        return Text("MISSING", style="bold red")
    if not s.encrypted:
        return Text("NOT ENCRYPTED", style="bold red")
    if s.stale:
        return Text("STALE", style="yellow")
    if not s.uses:
        return Text("unused", style="dim")
    return Text("ok", style="green")


def reader_name(r: Reader) -> str:
    return f"{r.name} (admin)" if r.kind == "admin" else r.name


def readers_text(s: SecretState) -> Text:
    if not s.encrypted:  # no file, or not age's: nobody reads it the way it should be
        return Text(", ".join(reader_name(r) for r in s.wanted) or "-", style="dim")
    text = Text()
    for n, (reader, can) in enumerate(s.readers()):
        if n:
            text.append("  ")
        text.append(CAN[can], style={True: "green", False: "red", None: "yellow"}[can])
        text.append(" " + reader_name(reader))
    if s.others:
        text.append(f"  +{s.others} not the lab's", style="yellow")
    return text


def problems_of(s: SecretState, secrets: LabSecrets) -> list[Problem]:
    """What is wrong with one secret: the lab's problems at its file, and the hosts'
    problems at the settings that use it."""
    places = {u.place for u in s.uses}
    out = [p for p in secrets.problems if p.place.file == s.file]
    for u in s.uses:
        out += [
            p
            for p in secrets.host_problems.get(u.folder, ())
            if p.place in places and s.name in p.message and p not in out
        ]
    return out


def details(s: SecretState, secrets: LabSecrets) -> Text:
    """Below the table: the chosen secret's file, uses, readers and problems."""
    text = Text()
    text.append(s.name, style="bold")
    text.append(f"  {s.file}" + ("" if s.present else " (no such file)") + "\n")
    text.append("\nUsed by\n", style="bold")
    if not s.uses:
        text.append("  no setting names it\n")
    for u in s.uses:
        text.append(f"  {u.place}  {format_path(u.secret.at)}  ({u.host})\n")
    text.append("\nWho should open it\n", style="bold")
    if not s.wanted:
        text.append("  nobody: no host uses it and lab.yaml lists no admins\n")
    for reader, can in s.readers():
        name = reader_name(reader) if reader.kind == "admin" else f"{reader.name} (host)"
        if reader.key is None:
            text.append(f"  ✗ {name}: has no ed25519 or RSA host key pinned to encrypt to\n")
        elif not s.encrypted:
            text.append(f"  - {name}\n")
        else:
            text.append(f"  {CAN[can]} {name}: {CAN_SAID[can]}\n")
    if s.others:
        text.append(
            f"  ! {s.others} key(s) that are no longer the lab's can still open it\n",
            style="yellow",
        )
    if not s.encrypted:
        text.append(
            "  (the file is " + ("not an age file" if s.present else "not there") + ": s "
            "encrypts a value to them)\n"
        )
    text.append("\nProblems\n", style="bold")
    found = problems_of(s, secrets)
    if not found:
        text.append("  none\n")
    for problem in found:
        mark = "warning" if problem.warning else "error"
        text.append(f"  {mark}: ", style="yellow" if problem.warning else "red")
        text.append(f"{problem.place}: {problem.message}\n")
        if problem.hint:
            text.append(f"    hint: {problem.hint}\n", style="dim")
    return text


def done_text(done: Any) -> str:
    """What a set or a rekey said (Lab's SecretsDone)."""
    said = getattr(done, "said", "")
    words = said if isinstance(said, str) else "\n".join(str(s) for s in said)
    commit = getattr(done, "commit", None)
    if commit and str(commit)[:7] not in words:
        words += f" (commit {str(commit)[:7]})"
    return words or "done"


class SecretsLoaded(Message):
    def __init__(self, state: LabState, said: str = "", error: bool = False) -> None:
        super().__init__()
        self.state, self.said, self.error = state, said, error


class SecretsTable(DataTable[Text]):
    """The secrets, a row each; the screen's keys act on the highlighted one."""


class SecretsScreen(Screen[bool]):
    """The lab's secrets; dismissed with True when something was committed (the editor
    reloads the lab)."""

    DEFAULT_CSS = """
    SecretsScreen #secrets-note { color: $text-muted; padding: 0 1; }
    SecretsScreen #secrets-status { padding: 0 1; height: auto; }
    SecretsScreen #secrets-status.-error { color: $error; }
    SecretsScreen SecretsTable { height: auto; max-height: 16; margin: 1 1 0 1; }
    SecretsScreen #secrets-legend { color: $text-muted; padding: 0 1; }
    SecretsScreen #secrets-details { margin: 1 1 0 1; border-top: solid $primary 40%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "set_value", "Set value"),
        Binding("n", "new_secret", "New secret"),
        Binding("v", "show_value", "Show value"),
        Binding("r", "rekey", "Rekey"),
        Binding("R", "rekey_stale", "Rekey all stale", key_display="shift+r"),
        Binding("escape", "back", "Back"),
        Binding("f9", "back", "Back", show=False),
    ]

    def __init__(self, lab: Lab, state: LabState | None, texts: Callable[[], dict[str, str]]):
        super().__init__()
        self.lab = lab
        self.state = state
        self.texts = texts  # the editor's unsaved profile texts: the lab is loaded with them
        self.changed = False  # something was committed: the editor reloads when back
        self.busy = ""  # the action running (one at a time)
        self._held: list[str] = []  # a value typed, while it is being encrypted
        self._texts: dict[str, str] = {}  # taken on the screen's thread for a worker's load
        self._keep: str | None = None  # the secret to highlight after a reload
        self._no_passphrase = False  # the person closed the passphrase dialog

    @property
    def secrets(self) -> LabSecrets | None:
        return self.state.secrets if self.state is not None else None

    def sensitive(self) -> list[str]:
        """What a crash report must not show: a value typed, while it is being encrypted."""
        return list(self._held)

    # ---- what is shown -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(NOTE, id="secrets-note")
        yield Static("", id="secrets-status")
        table = SecretsTable(id="secrets-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(LEGEND, id="secrets-legend")
        with VerticalScroll(id="secrets-details"):
            yield Static("", id="secrets-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(SecretsTable)
        table.focus()
        if self.state is None:
            self.say("loading the lab…")
        else:
            self.show()  # the editor's last load at once, then the files as they are now
        self.reload()

    def show(self, keep: str | None = None) -> None:
        """The table from the state, the highlight kept on `keep` (else where it was)."""
        table = self.query_one(SecretsTable)
        at = keep or self.chosen_name()
        secrets = self.secrets
        rows = {
            s.name: (Text(s.name), Text(", ".join(s.hosts) or "-"), readers_text(s), state_word(s))
            for s in (secrets.secrets.values() if secrets is not None else ())
        }
        # widths given, not measured: a table measures new rows later, and a table
        # cleared and filled again at once was seen to keep its columns cut short
        table.clear(columns=True)
        for n, (key, title) in enumerate(COLUMNS):
            width = max([cell_len(title), *(r[n].cell_len for r in rows.values())])
            table.add_column(Text(title), key=key, width=width)
        for name, cells in rows.items():
            table.add_row(*cells, key=name)
        if at is not None and secrets is not None and at in secrets.secrets:
            table.move_cursor(row=table.get_row_index(at))
        self.show_details()

    def chosen(self) -> SecretState | None:
        secrets = self.secrets
        name = self.chosen_name()
        if secrets is None or name is None:
            return None
        return secrets.secrets.get(name)

    def chosen_name(self) -> str | None:
        table = self.query_one(SecretsTable)
        if not table.row_count:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:
            return None
        return str(key.value) if key.value is not None else None

    def show_details(self) -> None:
        detail = self.query_one("#secrets-detail", Static)
        secrets, s = self.secrets, self.chosen()
        if secrets is None:
            detail.update("")
        elif s is None:
            detail.update(NO_SECRETS if not secrets.secrets else "")
        else:
            detail.update(details(s, secrets))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_details()
        self.refresh_bindings()  # show and rekey: only for a file there is

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_set_value()  # Enter: a new value, as s

    def say(self, said: str, error: bool = False) -> None:
        status = self.query_one("#secrets-status", Static)
        status.update(said)
        status.set_class(error, "-error")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "set_value":
            return self.chosen() is not None
        if action in ("show_value", "rekey"):
            chosen = self.chosen()
            return None if chosen is None or not chosen.encrypted else True  # None: greyed
        if action == "rekey_stale":
            secrets = self.secrets
            return secrets is not None and any(s.stale for s in secrets.secrets.values())
        return True

    # ---- actions -------------------------------------------------------------------------

    def _start(self, what: str) -> bool:
        if self.busy:
            self.notify(f"wait: {self.busy} is not finished", severity="warning")
            return False
        self.busy = what
        self._no_passphrase = False
        self._texts = self.texts()
        self.say(what + "…")
        return True

    @work(exclusive=True, group="dialog")
    async def action_set_value(self) -> None:
        s = self.chosen()
        if s is None:
            return
        readers = ", ".join(reader_name(r) for r in s.wanted if r.key is not None)
        given = await self.app.push_screen_wait(SecretValueForm(s.name, readers))
        if isinstance(given, NewValue) and self._start(f"encrypting {given.name}"):
            self._set(given.name, given.value)

    @work(exclusive=True, group="dialog")
    async def action_new_secret(self) -> None:
        secrets = self.secrets
        taken = frozenset(secrets.secrets if secrets is not None else ())
        given = await self.app.push_screen_wait(SecretValueForm(None, taken=taken))
        if isinstance(given, NewValue) and self._start(f"encrypting {given.name}"):
            self._set(given.name, given.value)

    @work(exclusive=True, group="dialog")
    async def action_show_value(self) -> None:
        s = self.chosen()
        if s is None:
            return
        answer = await self.app.push_screen_wait(
            Confirm(
                f"Show the value of {s.name}?",
                "It is decrypted with your key and shown on the screen until you close "
                "it (anyone who can see the screen sees it). Nothing is written.",
                [("Cancel", "cancel", "default"), ("Show it", "show", "warning")],
                focus="cancel",  # Enter right away shows nothing
            )
        )
        if answer == "show" and self._start(f"opening {s.name}"):
            self._show_value(s.name)

    def action_rekey(self) -> None:
        s = self.chosen()
        if s is not None and self._start(f"rekeying {s.name}"):
            self._rekey([s.name])

    def action_rekey_stale(self) -> None:
        secrets = self.secrets
        stale = [s.name for s in secrets.secrets.values() if s.stale] if secrets else []
        if not stale:
            self.notify("no secret is stale: each can be opened by exactly who should")
            return
        if self._start(f"rekeying {', '.join(stale)}"):
            self._rekey(stale)

    # ---- the work, off the screen's thread ----------------------------------------------

    def _ask_passphrase(self, prompt: str) -> str | None:
        """From the worker's thread: ask on the screen, wait for the answer."""
        answered = threading.Event()
        said: list[str | None] = [None]

        def take(answer: str | None) -> None:
            said[0] = answer
            answered.set()

        self.app.call_from_thread(self.app.push_screen, Passphrase(prompt), take)
        answered.wait()
        self._no_passphrase = said[0] is None
        return said[0]

    def _failed(self, err: SecretsError) -> str:
        if self._no_passphrase:  # Escape in the passphrase dialog: not a missing terminal
            return "cancelled: the key's passphrase was not given; nothing changed"
        return str(err)

    def _key(self) -> Any:
        return self.lab.open_identity(ask_passphrase=self._ask_passphrase)

    @work(thread=True, exclusive=True, group="secrets")
    def _set(self, name: str, value: str) -> None:
        self._held = [value]
        try:
            self._run(lambda: self.lab.set_secret(name, value.encode()), name)
        finally:
            self._held = []

    @work(thread=True, exclusive=True, group="secrets")
    def _rekey(self, names: Sequence[str]) -> None:
        self._run(lambda: self.lab.rekey_secrets(tuple(names), self._key()), names[0])

    def _run(self, job: Callable[[], Any], name: str) -> None:
        """Do one action, then load the lab again so that the table shows the truth."""
        said, error = "", False
        try:
            said = done_text(job())
            self.changed = True
        except SecretsError as err:
            said, error = self._failed(err), True
        except InvalidInput as err:
            said = "; ".join(f"{p.place}: {p.message}" for p in err.problems) or str(err)
            error = True
        except Exception as err:  # shown, never a crash: the lab's files are as they were
            said, error = f"{type(err).__name__}: {err}", True
        self._reload(said, error, name)

    @work(thread=True, exclusive=True, group="secrets")
    def _show_value(self, name: str) -> None:
        try:
            data = self.lab.secret_value(name, self._key())
        except SecretsError as err:
            self.app.call_from_thread(self._done, self._failed(err), True)
            return
        except Exception as err:
            self.app.call_from_thread(self._done, f"{type(err).__name__}: {err}", True)
            return
        text = data.decode("utf-8", errors="replace")
        note = "" if text.encode() == data else "It is not UTF-8 text: bytes it cannot show are �."
        del data
        self.app.call_from_thread(self._reveal, name, text, note)

    def _reveal(self, name: str, text: str, note: str) -> None:
        self._done(f"showing {name}: Escape or Enter closes it", False)
        self.app.push_screen(ShownValue(name, text, note), lambda _: self._hidden(name))

    def _hidden(self, name: str) -> None:
        self.say(f"{name}: the value was shown, and is no longer kept")
        self.query_one(SecretsTable).focus()

    def _done(self, said: str, error: bool) -> None:
        self.busy = ""
        if not self.is_attached:  # left by then: the editor reloads the lab anyway
            return
        self.say(said, error)
        if error:
            self.notify(said.split("\n")[0], severity="error")

    def reload(self) -> None:
        self._texts = self.texts()
        self._reload_worker()

    @work(thread=True, exclusive=True, group="secrets")
    def _reload_worker(self) -> None:
        self._reload("", False, None)

    def _reload(self, said: str, error: bool, name: str | None) -> None:
        worker = get_current_worker()
        try:
            state = self.lab.load(texts=self._texts)
        except Exception as err:
            said = (said + "\n" if said else "") + f"the lab could not be loaded again: {err}"
            self.app.call_from_thread(self._done, said, True)
            return
        if not worker.is_cancelled:
            self._keep = name
            self.post_message(SecretsLoaded(state, said, error))

    def on_secrets_loaded(self, message: SecretsLoaded) -> None:
        if not self.is_attached:
            return
        self.state = message.state
        self.show(self._keep)
        self._done(message.said, message.error)
        self.refresh_bindings()

    # ---- leaving -------------------------------------------------------------------------

    def action_back(self) -> None:
        if self.busy:
            self.notify(f"wait: {self.busy} is not finished (it commits)", severity="warning")
            return
        self.dismiss(self.changed)

"""Writing a reply in the user's editor: cmtui.editor, and ctrl+o in the composer."""

from __future__ import annotations

import contextlib
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_drafts import compose_reply, make_app, messages, ready
from waits import until

from cmtui.editor import EditorError, edit_text, editor_argv
from cmtui.store import Store
from cmtui.ui.widgets.composer import Composer
from cmtui.ui.widgets.conversation_list import ConversationList


def editor(tmp_path: Path, body: str) -> Path:
    """A shell script standing in for the editor; it notes the file it was given."""
    path = tmp_path / "fake-editor"
    path.write_text(f'#!/bin/sh\necho "$1" > "{tmp_path}/edited-path"\n{body}\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_the_editor_is_visual_then_editor_split_as_a_shell_would() -> None:
    assert editor_argv({"VISUAL": "code --wait", "EDITOR": "vi"}) == ["code", "--wait"]
    assert editor_argv({"VISUAL": "  ", "EDITOR": "nano"}) == ["nano"]
    assert editor_argv({"EDITOR": "'unclosed"}) is None
    assert editor_argv({}) is None


def test_the_text_comes_back_as_edited_and_the_file_is_gone(tmp_path: Path) -> None:
    script = editor(tmp_path, 'printf "Bonjour,\\n\\nVoici la réponse.\\n" > "$1"')
    handed: list[str] = []

    @contextlib.contextmanager
    def handed_over() -> Iterator[None]:
        handed.append("given")
        yield
        handed.append("taken back")

    assert edit_text("Bonjour,", [str(script)], handed_over) == "Bonjour,\n\nVoici la réponse."
    assert handed == ["given", "taken back"]
    edited = Path((tmp_path / "edited-path").read_text().strip())
    assert not edited.exists() and not edited.parent.exists()


@pytest.mark.parametrize(
    ("body", "reason"),
    [('echo broken > "$1"; exit 3', "exited with status 3"), (None, "cannot start")],
)
def test_a_failing_editor_leaves_the_text_and_says_why(
    tmp_path: Path, body: str | None, reason: str
) -> None:
    argv = [str(editor(tmp_path, body))] if body else [str(tmp_path / "no-such-editor")]
    with pytest.raises(EditorError, match=reason):
        edit_text("keep me", argv)


async def test_ctrl_o_in_the_composer_writes_the_reply_in_the_editor_and_keeps_the_draft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = editor(tmp_path, 'printf "Long answer\\nwith lines\\n" > "$1"')
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(script))
    data = tmp_path / "data"
    app = make_app(data)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await ready(app, pilot)
        conversation_id = screen.query_one(ConversationList).highlighted_id
        composer = await compose_reply(app, pilot, "Short")
        await pilot.press("ctrl+o")  # a headless terminal cannot be handed over: said, kept
        await until(pilot, lambda: "cannot be handed over" in messages(app), "the reason")
        assert composer.text_area.text == "Short"
        monkeypatch.setattr(app, "suspend", contextlib.nullcontext)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: composer.text_area.text == "Long answer\nwith lines", "edit")
        assert app.focused is composer.text_area
        await pilot.press("escape", "q")
    with Store.open(data) as store:
        assert store.drafts()[conversation_id] == "Long answer\nwith lines"


async def test_without_an_editor_configured_ctrl_o_says_how(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    app = make_app(tmp_path / "data")
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        composer = await compose_reply(app, pilot, "Short")
        await pilot.press("ctrl+o")
        await until(pilot, lambda: "Set $EDITOR" in messages(app), "how to set one")
        assert app.screen.query_one(Composer).text_area.text == "Short" == composer.text_area.text

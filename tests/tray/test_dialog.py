"""robocore.tray.dialog: the Qt launch dialog generated from the form, under QT_QPA_PLATFORM=offscreen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QCheckBox, QComboBox, QDateEdit, QDialog, QLabel, QLineEdit, QSpinBox
from pytestqt.qtbot import QtBot

from robocore.tray.dialog import FilePicker, LaunchDialog
from robocore.tray.form import form_from_detail, idea_form
from tests.tray.test_form import detail


def dialog(qtbot: QtBot, remembered: dict[str, object] | None = None) -> LaunchDialog:
    shown = LaunchDialog(form_from_detail(detail()), remembered)
    qtbot.addWidget(shown)
    return shown


def test_one_widget_per_input_type(qtbot: QtBot) -> None:
    """File picker, calendar date, list of choices, bounded spin box, line edits, check box, password."""
    shown = dialog(qtbot)
    w = shown.widgets
    assert isinstance(w["classeur"], FilePicker) and w["classeur"].field.file_filter() == "Classeur (*.xlsx *.ods)"
    assert isinstance(w["jour"], QDateEdit) and w["jour"].calendarPopup() and w["jour"].date() == QDate(2026, 12, 1)
    assert isinstance(w["mode"], QComboBox) and [w["mode"].itemText(i) for i in range(2)] == ["test", "réel"]
    assert isinstance(w["lignes"], QSpinBox) and (w["lignes"].minimum(), w["lignes"].maximum()) == (1, 500)
    assert w["lignes"].value() == 50
    assert isinstance(w["portail"], QLineEdit) and w["portail"].text() == "http://127.0.0.1:8765"
    assert isinstance(w["envoyer"], QCheckBox) and w["envoyer"].isChecked()
    assert isinstance(w["code"], QLineEdit) and w["code"].echoMode() == QLineEdit.EchoMode.Password
    assert shown.windowTitle() == "Lancer\xa0: Saisie" and shown.launch_button.text() == "Lancer"
    assert w["note"].toolTip() == "Pour le journal" and w["note"].accessibleName() == "Note"


def test_required_field_blocks_the_launch(qtbot: QtBot) -> None:
    """Lancer without the workbook: the dialog stays open, the message is under the field, focus on it."""
    shown = dialog(qtbot)
    shown.show()
    shown.accept()
    assert shown.result() != QDialog.DialogCode.Accepted and shown.isVisible()
    error = shown.findChild(QLabel, "error-classeur")
    assert error is not None and error.isVisible()
    assert error.text() == "« Classeur »\xa0: ce champ est obligatoire"


def test_valid_launch(qtbot: QtBot, tmp_path: Path) -> None:
    """With a workbook picked the dialog accepts, and `checked` holds the typed inputs and the file."""
    book = tmp_path / "demandes.xlsx"
    book.write_bytes(b"PK")
    shown = dialog(qtbot)
    shown.widgets["classeur"].path.setText(str(book))  # type: ignore[attr-defined]
    shown.widgets["jour"].setDate(QDate(2026, 12, 7))  # type: ignore[attr-defined]
    shown.widgets["mode"].setCurrentIndex(1)  # type: ignore[attr-defined]
    shown.accept()
    assert shown.result() == QDialog.DialogCode.Accepted
    assert shown.checked.files == {"classeur": book.resolve()}
    assert shown.checked.inputs["jour"] == "2026-12-07" and shown.checked.inputs["mode"] == "réel"
    assert shown.checked.inputs["lignes"] == 50 and shown.checked.inputs["envoyer"] is True


def test_remembered_values_fill_the_dialog(qtbot: QtBot, tmp_path: Path) -> None:
    """Last week's values are filled in; the file picker starts in the last file's folder."""
    shown = dialog(qtbot, {"mode": "réel", "lignes": 120, "jour": "2026-11-24", "classeur@folder": str(tmp_path)})
    assert shown.widgets["mode"].currentText() == "réel"  # type: ignore[attr-defined]
    assert shown.widgets["lignes"].value() == 120  # type: ignore[attr-defined]
    assert shown.widgets["jour"].date() == QDate(2026, 11, 24)  # type: ignore[attr-defined]
    assert shown.widgets["classeur"].folder == str(tmp_path)  # type: ignore[attr-defined]


def test_server_problem_shown(qtbot: QtBot) -> None:
    """A refusal by the server (inputs changed meanwhile) is shown above the fields."""
    shown = dialog(qtbot)
    shown.show()
    shown.show_problem("entrée inconnue : classeur")
    assert shown.problem.isVisible() and shown.problem.text() == "entrée inconnue : classeur"


def test_number_without_bounds_or_default_may_stay_empty(qtbot: QtBot) -> None:
    """An optional number without bounds or default is a line edit, so that it can stay empty."""
    form = form_from_detail({"robot": "x", "inputs": {"n": {"type": "number", "label": "N", "required": False}}})
    shown = LaunchDialog(form)
    qtbot.addWidget(shown)
    assert isinstance(shown.widgets["n"], QLineEdit)
    shown.accept()
    assert shown.result() == QDialog.DialogCode.Accepted and shown.checked.inputs == {}


def test_markup_in_labels_is_plain_text(qtbot: QtBot) -> None:
    """A label with markup is shown as text, never interpreted."""
    label = "<b>gras</b> =cmd|' /C calc'!A0"
    form = form_from_detail({"robot": "x", "inputs": {"t": {"type": "text", "label": label}}})
    shown = LaunchDialog(form)
    qtbot.addWidget(shown)
    labels = [label for label in shown.findChildren(QLabel) if "gras" in label.text()]
    assert labels and all(label.textFormat() == label.textFormat().PlainText for label in labels)


def test_idea_form(qtbot: QtBot) -> None:
    """« Proposer une automatisation »: task, frequency, minutes by hand."""
    shown = LaunchDialog(idea_form())
    qtbot.addWidget(shown)
    shown.widgets["task"].setText("Copier les arrêtés dans le tableur")  # type: ignore[attr-defined]
    shown.accept()
    assert shown.checked.inputs == {"task": "Copier les arrêtés dans le tableur", "frequency": "chaque semaine",
                                    "minutes": 30}
    assert dt.date.today()  # the form needs no date

"""The launch dialog: one Qt widget per field of a LaunchForm, checked by robocore.tray.form before launch."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from robocore.i18n import gettext as _
from robocore.tray.form import Checked, FormField, LaunchForm, check

NUMBER_LIMIT = 1e12  # no bounds declared: the spin box still needs some


class FilePicker(QWidget):
    """A read-only path and a "Choisir…" button opening a file dialog filtered by `accept`."""

    def __init__(self, f: FormField, folder: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field, self.folder = f, folder or str(Path.home())
        self.path = QLineEdit(self)
        self.path.setPlaceholderText(_("Default: {name}", name=f.default) if f.default else _("No file chosen"))
        self.button = QPushButton(_("Choose…"), self)
        self.button.clicked.connect(self.choose)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.path, 1)
        row.addWidget(self.button)

    def choose(self) -> None:
        chosen, _filter = QFileDialog.getOpenFileName(self, self.field.label, self.folder, self.field.file_filter())
        if chosen:
            self.path.setText(chosen)

    def value(self) -> str:
        return self.path.text()


def _spin(f: FormField, value: Any) -> QSpinBox | QDoubleSpinBox:
    """A whole-number spin box when bounds and default are whole, else a decimal one."""
    whole = all(v is None or float(v).is_integer() for v in (f.minimum, f.maximum, value))
    low = f.minimum if f.minimum is not None else -NUMBER_LIMIT
    high = f.maximum if f.maximum is not None else NUMBER_LIMIT
    box: QSpinBox | QDoubleSpinBox
    if whole and abs(low) < 2**31 and abs(high) < 2**31:
        box = QSpinBox()
        box.setRange(int(low), int(high))
        box.setValue(int(value) if value is not None else max(int(low), min(0, int(high))))
    else:
        box = QDoubleSpinBox()
        box.setDecimals(2)
        box.setRange(low, high)
        box.setValue(float(value) if value is not None else max(low, min(0.0, high)))
    box.setGroupSeparatorShown(True)
    return box


def plain(text: str = "") -> QLabel:
    """A label that never reads its text as markup (labels, help and messages carry robots' own words)."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def make_widget(f: FormField, value: Any, remembered: dict[str, Any]) -> QWidget:
    """The widget of one field, showing `value` (default or remembered)."""
    if f.kind == "file":
        return FilePicker(f, remembered.get(f"{f.name}@folder"))
    if f.kind == "date":
        edit = QDateEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("dd/MM/yyyy")
        day = value if isinstance(value, dt.date) else dt.date.today()
        edit.setDate(QDate(day.year, day.month, day.day))
        return edit
    if f.kind == "choice":
        box = QComboBox()
        if not f.required:
            box.addItem("", "")
        for choice in f.choices:
            box.addItem(choice, choice)
        if value is not None:
            box.setCurrentIndex(max(box.findData(str(value)), 0))
        return box
    if f.kind == "number" and (f.minimum is not None or f.maximum is not None or value is not None):
        return _spin(f, value)
    if f.kind == "bool":
        tick = QCheckBox()
        tick.setChecked(bool(value))
        return tick
    line = QLineEdit()  # text, url, secret, and numbers with neither bounds nor default (may stay empty)
    if f.kind == "secret":
        line.setEchoMode(QLineEdit.EchoMode.Password)
    elif f.kind == "url":
        line.setPlaceholderText("https://")
    if value is not None and f.kind != "secret":
        line.setText(str(value))
    return line


def widget_value(widget: QWidget) -> Any:
    """What the agent entered in a widget made by make_widget."""
    if isinstance(widget, FilePicker):
        return widget.value()
    if isinstance(widget, QDateEdit):
        day = widget.date()
        return dt.date(day.year(), day.month(), day.day())
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QSpinBox | QDoubleSpinBox):
        return widget.value()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    assert isinstance(widget, QLineEdit)
    return widget.text()


class LaunchDialog(QDialog):
    """« Lancer … »: the robot's inputs, checked before the dialog accepts; `checked` holds the result."""

    def __init__(self, form: LaunchForm, remembered: dict[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form, self.checked = form, Checked()
        self.setWindowTitle(_("Launch: {title}", title=form.title))
        self.setMinimumWidth(520)  # a workbook's path stays readable
        self.widgets: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        layout = QVBoxLayout(self)
        self.problem = plain()  # a refusal by the server (inputs changed...), shown above the fields
        self.problem.setWordWrap(True)
        self.problem.setObjectName("problem")
        self.problem.hide()
        layout.addWidget(self.problem)
        fields = QFormLayout()
        layout.addLayout(fields)
        remembered = remembered or {}
        initial = form.initial(remembered)
        for f in form.fields:
            widget = make_widget(f, initial.get(f.name), remembered)
            widget.setObjectName(f"input-{f.name}")
            widget.setAccessibleName(f.label)
            if f.help:
                widget.setToolTip(f.help)
                widget.setAccessibleDescription(f.help)
            self.widgets[f.name] = widget
            fields.addRow(self._label(f), self._cell(f, widget))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.launch_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.launch_button.setText(_("Launch"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Cancel"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _label(self, f: FormField) -> QLabel:
        label = plain(f"{f.label} *" if f.must_fill else f.label)
        label.setToolTip(_("Required") if f.must_fill else "")
        return label

    def _cell(self, f: FormField, widget: QWidget) -> QWidget:
        """The widget, its help line and its error line (hidden until there is one)."""
        cell = QWidget()
        column = QVBoxLayout(cell)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(widget)
        if f.help:
            help_line = plain(f.help)
            help_line.setWordWrap(True)
            column.addWidget(help_line)
        error = plain()
        error.setObjectName(f"error-{f.name}")
        error.setWordWrap(True)
        error.setStyleSheet("color: #ce0500")
        error.hide()
        column.addWidget(error)
        self.errors[f.name] = error
        return cell

    def values(self) -> dict[str, Any]:
        return {name: widget_value(widget) for name, widget in self.widgets.items()}

    def show_errors(self, errors: dict[str, str]) -> None:
        """Show each field's message under it and put the focus on the first field in error."""
        for name, label in self.errors.items():
            label.setText(errors.get(name, ""))
            label.setVisible(name in errors)
        first = next((f.name for f in self.form.fields if f.name in errors), None)
        if first:
            self.widgets[first].setFocus()

    def show_problem(self, message: str) -> None:
        """A refusal from the server (the launch was not made), above the fields."""
        self.problem.setText(message)
        self.problem.show()

    def accept(self) -> None:
        self.checked = check(self.form, self.values())
        self.show_errors(self.checked.errors)
        if self.checked.ok:
            super().accept()

"""How the tray looks: its icon, menu entries and notification texts (Qt rendering helpers)."""

from __future__ import annotations

import html
import sys

from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

STATUS_MARK = {"succeeded": "✔", "completed_with_errors": "⚠", "failed": "✖", "cancelled": "⊘",
               "running": "▶", "queued": "…"}


def icon(colour: str, busy: bool = False) -> QIcon:
    """The tray's round « R » icon: blue when connected, grey when the server cannot be reached."""
    pixmap = QPixmap(64, 64)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(colour))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(2, 2, 60, 60)
    painter.setPen(QColor("white"))
    painter.setFont(QFont("Sans", 30, QFont.Weight.Bold))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, "R")
    if busy:
        painter.setBrush(QColor("#18753c"))
        painter.drawEllipse(40, 40, 22, 22)
    painter.end()
    return QIcon(pixmap)


def notice_text(text: str) -> str:
    """A notification's body with robots' words kept as text: Qt's balloon and Linux notification daemons
    read markup, Windows' balloons do not."""
    if sys.platform != "win32" and QtGui.Qt.mightBeRichText(text):  # Qt's GUI namespace holds it
        return html.escape(text).replace("\n", "<br>")
    return text


def menu_text(text: str) -> str:
    """A robot's words as a menu entry: `&` would otherwise mark a shortcut letter."""
    return text.replace("&", "&&")

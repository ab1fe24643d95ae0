"""Score viewer: the pages of a scan or PDF and the engraved score, switched or side by side.

Pages arrive as grayscale numpy arrays (built off the GUI thread); QPixmaps are made here, a page
per event-loop turn, so a 20-page PDF never blocks the window. Zoom with Ctrl+wheel or the buttons,
pan by dragging. Recognised systems are outlined on the scan and measures shaded by the model's
confidence, with "next doubtful measure" navigation.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from unimt_desktop.panes.common import Pane
from unimt_desktop.panes.measurecrop import MeasureCompare, crop

PAGE_GAP = 24
DOUBTFUL = 0.6


def to_qimage(page: np.ndarray) -> QImage:
    page = np.ascontiguousarray(page, dtype=np.uint8)
    h, w = page.shape[:2]
    return QImage(page.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


class PageView(QGraphicsView):
    """Pages stacked vertically on a grey desk."""

    zoomChanged = Signal(float)
    currentPageChanged = Signal(int)
    measureClicked = Signal(float)     # start time (s) of the measure clicked
    measurePicked = Signal(int)        # index (score order) of the measure clicked
    measureExtended = Signal(int)      # index of the measure Shift+clicked (the end of a run of bars)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QColor("#d9dce1"))
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform | QPainter.RenderHint.Antialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.page_rects: list[QRectF] = []
        self.overlays: list = []
        self.measure_rects: list[QRectF] = []
        self.measure_conf: list[float] = []
        self.measure_boxes_px: list = []   # (page, (x0, y0, x1, y1)) in page pixels, as measure_rects
        self.mark_item = None              # the selected measure's outline
        self._pending: list[np.ndarray] = []
        self._y = 0.0
        self._fit_pending = True
        self._timer = QTimer(self, interval=0, timeout=self._add_next)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self._page = -1
        self.auto_fit = True
        self.measures: list = []
        self.times: list[float] = []
        self.numbers: list[str] = []   # printed measure numbers ("0" for a pickup)
        self.order: list = []          # (start, measure index) as played
        self._order_t: list[float] = []
        self.playing_item = None
        self._playing = -1
        self._press = None

    def clear(self) -> None:
        self._timer.stop()
        self.scene().clear()
        self.page_rects, self.overlays, self._pending = [], [], []
        self.measure_rects, self.measure_conf, self.measure_boxes_px = [], [], []
        self.mark_item = None
        self._y = 0.0
        self._fit_pending = True
        self._page = -1
        self.measures, self.times, self.playing_item, self._playing = [], [], None, -1
        self.numbers = []
        self.order, self._order_t = [], []

    def set_pages(self, pages: list[np.ndarray]) -> None:
        self.clear()
        self._pending = list(pages)
        self._add_next()
        self._timer.start()

    def _add_next(self) -> None:
        if not self._pending:
            self._timer.stop()
            return
        page = self._pending.pop(0)
        pm = QPixmap.fromImage(to_qimage(page))
        shadow = self.scene().addRect(QRectF(3, self._y + 3, pm.width(), pm.height()),
                                      QPen(Qt.PenStyle.NoPen), QBrush(QColor(0, 0, 0, 50)))
        shadow.setZValue(-1)
        item = self.scene().addPixmap(pm)
        item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        item.setPos(0, self._y)
        self.page_rects.append(QRectF(0, self._y, pm.width(), pm.height()))
        self._y += pm.height() + PAGE_GAP
        r = self.scene().itemsBoundingRect().adjusted(-PAGE_GAP, -PAGE_GAP, PAGE_GAP, PAGE_GAP)
        self.setSceneRect(r)
        if self._fit_pending:
            self._fit_pending = False
            self.fit_width()
            self.show_page(0)
        if not self._pending:
            self._timer.stop()
            self._apply_overlays()

    def pages_loaded(self) -> int:
        return len(self.page_rects)

    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, z: float, manual: bool = True) -> None:
        z = max(0.05, min(8.0, z))
        k = z / self.zoom()
        self.scale(k, k)
        if manual:
            self.auto_fit = False
        self.zoomChanged.emit(self.zoom())

    def fit_width(self) -> None:
        """Zoom so the widest page fills the view, keeping the current page in view."""
        self.auto_fit = True
        if not self.page_rects:
            return
        page = max(0, self._page)
        w = max(r.width() for r in self.page_rects) + 2 * PAGE_GAP
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.set_zoom((self.viewport().width() - 4) / w, manual=False)
        self.setTransformationAnchor(anchor)
        self.auto_fit = True
        self.show_page(page)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.auto_fit and self.page_rects:
            self.fit_width()

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.set_zoom(self.zoom() * (1.0015 ** event.angleDelta().y()))
            event.accept()
        else:
            super().wheelEvent(event)

    def show_page(self, i: int) -> None:
        if 0 <= i < len(self.page_rects):
            r = self.page_rects[i]
            self.centerOn(
                r.center().x(), r.top() + self.viewport().height() / (2 * self.zoom()) - PAGE_GAP / 2
            )

    def _scrolled(self) -> None:
        if not self.page_rects:
            return
        c = self.mapToScene(self.viewport().rect().center()).y()
        i = 0
        for k, r in enumerate(self.page_rects):
            if r.top() - PAGE_GAP <= c:
                i = k
        if i != self._page:
            self._page = i
            self.currentPageChanged.emit(i)

    # -- the playing measure (engraved scores: boxes from Verovio's SVG, times from the score)
    def set_measures(self, measures: list, times: list[float], order: list | None = None,
                     numbers: list | None = None) -> None:
        """``times``: first start of each measure; ``order``: (start, measure) as played, with repeats;
        ``numbers``: the printed measure numbers (counted from 1 when the score has none)."""
        self.measures, self.times = list(measures), list(times)
        numbers = list(numbers or [])
        self.numbers = numbers + [str(i + 1) for i in range(len(numbers), len(self.times))]
        self.order = sorted(order) if order else [(t, i) for i, t in enumerate(self.times)]
        self._order_t = [t for t, _ in self.order]
        self._playing = -1

    def measure_rect(self, i: int) -> QRectF:
        page, x0, y0, x1, y1 = self.measures[i]
        top = self.page_rects[page].top() if page < len(self.page_rects) else 0.0
        return QRectF(x0, top + y0, x1 - x0, y1 - y0)

    def highlight_time(self, t: float, follow: bool = False) -> int:
        """Shade the measure playing at ``t`` (seconds); returns its index (-1 if none)."""
        import bisect

        if not self.times or self._pending:
            return -1
        # a seek lands on a whole sample, up to half a sample before the bar's start: allow a millisecond
        k = max(0, bisect.bisect_right(self._order_t, t + 1e-3) - 1)
        i = self.order[k][1] if self.order else 0
        if i == self._playing:
            return i
        self._playing = i
        if i >= len(self.measures) or self.measures[i][0] >= len(self.page_rects):
            return -1
        r = self.measure_rect(i)
        if self.playing_item is None:
            self.playing_item = self.scene().addRect(r, QPen(QColor(224, 69, 123, 150), 2),
                                                     QBrush(QColor(224, 69, 123, 40)))
            self.playing_item.setZValue(5)
        else:
            self.playing_item.setRect(r)
        if follow:
            self.ensureVisible(r, 20, 40)
        return i

    def number(self, i: int) -> str:
        """The printed number of measure ``i`` (index in score order)."""
        return self.numbers[i] if 0 <= i < len(self.numbers) else str(i + 1)

    def mousePressEvent(self, event) -> None:
        self._press = event.position()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        if self._press is not None and (event.position() - self._press).manhattanLength() < 4:
            i = self.measure_at(self.mapToScene(event.position().toPoint()))
            if i >= 0 and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.measureExtended.emit(i)
            elif i >= 0:
                self.measurePicked.emit(i)
                if i < len(self.times):
                    self.measureClicked.emit(self.times[i])
        self._press = None

    def measure_at(self, pos) -> int:
        """The measure (score order) at scene point ``pos``: an engraved one, or one the reader saw; -1."""
        for i in range(len(self.measures)):
            if self.measures[i][0] < len(self.page_rects) and self.measure_rect(i).contains(pos):
                return i
        return next((i for i, r in enumerate(self.measure_rects) if r.contains(pos)), -1)

    def mark(self, rect) -> None:
        """Outline the selected measure (``rect`` in scene coordinates; None: no outline)."""
        if rect is None:
            if self.mark_item is not None:
                self.mark_item.hide()
            return
        if self.mark_item is None:
            pen = QPen(QColor(33, 99, 230), 3)
            pen.setCosmetic(True)
            self.mark_item = self.scene().addRect(rect, pen, QBrush(QColor(33, 99, 230, 28)))
            self.mark_item.setZValue(6)
        self.mark_item.setRect(rect)
        self.mark_item.show()

    # -- recognition overlays
    def set_recognition(self, rec) -> None:
        self._rec = rec
        self._apply_overlays()

    def _apply_overlays(self) -> None:
        for it in self.overlays:
            self.scene().removeItem(it)
        self.overlays, self.measure_rects, self.measure_conf, self.measure_boxes_px = [], [], [], []
        rec = getattr(self, "_rec", None)
        if rec is None or self._pending or not self.page_rects:
            return
        confs = list(getattr(rec, "measure_confidence", []) or [])
        counts = list(getattr(rec, "system_measures", []) or [])
        boxes = list(getattr(rec, "measure_boxes", []) or [])     # where the reader saw each measure
        k = 0
        for s, (page, box) in enumerate(getattr(rec, "systems", []) or []):
            if page >= len(self.page_rects):
                continue
            oy = self.page_rects[page].top()
            x0, y0, x1, y1 = box
            outline = self.scene().addRect(QRectF(x0, oy + y0, x1 - x0, y1 - y0),
                                           QPen(QColor(59, 111, 216, 200), 2), QBrush(Qt.BrushStyle.NoBrush))
            self.overlays.append(outline)
            n = counts[s] if s < len(counts) else 0
            for j in range(n):
                c = confs[k] if k < len(confs) else 1.0
                k += 1
                if k - 1 < len(boxes) and boxes[k - 1][0] == page:
                    bx0, by0, bx1, by1 = boxes[k - 1][1]
                    r = QRectF(bx0, oy + by0, bx1 - bx0, by1 - by0)
                else:
                    r = QRectF(x0 + (x1 - x0) * j / n, oy + y0, (x1 - x0) / n, y1 - y0)
                self.measure_boxes_px.append((page, (r.left(), r.top() - oy, r.right(), r.bottom() - oy)))
                self.measure_rects.append(r)
                self.measure_conf.append(c)
                if c < 0.9:
                    alpha = int(30 + 120 * (1 - c))
                    shade = self.scene().addRect(
                        r, QPen(Qt.PenStyle.NoPen), QBrush(QColor(230, 80, 40, alpha))
                    )
                    self.overlays.append(shade)

    def next_doubtful(self, after: int) -> int:
        n = len(self.measure_conf)
        for d in range(1, n + 1):
            i = (after + d) % n
            if self.measure_conf[i] < DOUBTFUL:
                self.centerOn(self.measure_rects[i].center())
                return i
        return -1


class ScorePane(Pane):
    MODES = ("Scan", "Engraved", "Both")
    MODE_TIPS = ("Show the scan", "Show the engraved score",
                 "Show the scan and the engraved score side by side")
    barsChosen = Signal(str, str)      # printed numbers of the first and last bar of a Shift+click run

    def __init__(self, parent=None):
        super().__init__(
            "Score",
            "Drop a score here: a scan or photo (PNG, JPEG, TIFF), a PDF, or a MusicXML file.\n\n"
            "Translating a MIDI file or a recording to a score shows the engraved result here.",
            parent,
        )
        self.scan = PageView()
        self.engraved = PageView()
        self.thumbs = QListWidget()
        self.thumbs.setViewMode(QListWidget.ViewMode.IconMode)
        self.thumbs.setFlow(QListWidget.Flow.TopToBottom)
        self.thumbs.setWrapping(False)      # one column that scrolls, never a clipped second column
        self.thumbs.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.thumbs.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.thumbs.setMovement(QListWidget.Movement.Static)
        self.thumbs.setIconSize(QSize(84, 118))
        self.thumbs.setFixedWidth(118)
        self.thumbs.setSpacing(4)
        self.thumbs.setStyleSheet("QListWidget { background: #c9ccd2; border: none; }")
        self.thumbs.currentRowChanged.connect(self._thumb_clicked)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.scan)
        self.split.addWidget(self.engraved)
        self.split.setChildrenCollapsible(False)
        self.compare = MeasureCompare()
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        right.addWidget(self.split, 1)
        right.addWidget(self.compare)
        body = QWidget()
        lay = QHBoxLayout(body)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.thumbs)
        lay.addLayout(right, 1)
        self.set_body(body)

        self.mode_buttons = QButtonGroup(self)
        self.mode_buttons.setExclusive(True)
        for i, name in enumerate(self.MODES):
            b = QToolButton(text=name, checkable=True, autoRaise=True, toolTip=self.MODE_TIPS[i])
            self.mode_buttons.addButton(b, i)
            self.add_header_widget(b)
        self.mode_buttons.idClicked.connect(self.set_mode)
        self.doubt_button = QToolButton(text="Next doubtful", autoRaise=True)
        self.doubt_button.setToolTip("Jump to the next measure the model was unsure about")
        self.doubt_button.clicked.connect(self._next_doubtful)
        self.add_header_widget(self.doubt_button)
        for text, slot, tip in (("−", lambda: self._zoom(1 / 1.2), "Zoom out (Ctrl+wheel)"),
                                ("+", lambda: self._zoom(1.2), "Zoom in (Ctrl+wheel)"),
                                ("Fit", self._fit, "Fit the page width")):
            b = QToolButton(text=text, autoRaise=True, toolTip=tip)
            b.clicked.connect(slot)
            self.add_header_widget(b)
        self.zoom_label = QLabel("")
        self.zoom_label.setMinimumWidth(44)
        self.add_header_widget(self.zoom_label)
        self.engraved.measureClicked.connect(self.seekRequested)
        for v in (self.scan, self.engraved):
            v.measurePicked.connect(self.select_measure)
            v.measureExtended.connect(self._extend)
        self.selected_measure = -1
        for v in (self.scan, self.engraved):
            v.zoomChanged.connect(self._update_info)
            v.currentPageChanged.connect(self._page_changed)
        self._doubt = -1
        self.position = 0.0      # the playhead's time (s): the playing measure is shaded
        self._mode = 1
        self._sets: dict[str, object] = {}
        self._update_controls()

    def _extend(self, i: int) -> None:
        """Shift+click: the bars from the one selected to this one are chosen (for the loop)."""
        if self.selected_measure < 0:
            self.select_measure(i)
            return
        a, b = sorted((self.selected_measure, i))
        self.barsChosen.emit(self.engraved.number(a), self.engraved.number(b))

    # -- content
    def set_pages(self, kind: str, pageset) -> None:
        """``kind`` is "scan" or "engraved"; ``pageset`` a :class:`unimt_desktop.jobs.PageSet` (or None)."""
        view = self.scan if kind == "scan" else self.engraved
        self._sets[kind] = pageset
        if pageset is None:
            view.clear()
        else:
            view.set_pages(pageset.pages)
            self.select_measure(-1)
            if kind == "engraved":
                rec = getattr(pageset, "recognition", None)
                self.scan.set_recognition(rec)
                view.set_measures(getattr(pageset, "measures", []), getattr(pageset, "measure_times", []),
                                  getattr(pageset, "play_order", []), getattr(pageset, "measure_numbers", []))
        has_scan, has_eng = (
            "scan" in self._sets and self._sets["scan"],
            "engraved" in self._sets and self._sets["engraved"],
        )
        if has_scan and has_eng:
            self.set_mode(2)
        elif has_scan:
            self.set_mode(0)
        elif has_eng:
            self.set_mode(1)
        self.show_body(bool(has_scan or has_eng))
        self._update_controls()

    def clear(self) -> None:
        self.select_measure(-1)
        self._sets = {}
        self.scan.clear()
        self.engraved.clear()
        self.scan.set_recognition(None)
        self.thumbs.clear()
        self.show_body(False)
        self._update_controls()

    def set_mode(self, mode: int) -> None:
        self._mode = mode
        self.scan.setVisible(mode in (0, 2))
        self.engraved.setVisible(mode in (1, 2))
        b = self.mode_buttons.button(mode)
        if b is not None:
            b.setChecked(True)
        if mode == 2:
            self.split.setSizes([1000, 1000])    # scan and engraving get half each
        self._rebuild_thumbs()
        QTimer.singleShot(0, self._fit)
        self._update_controls()

    def mode(self) -> int:
        return self._mode

    def active_view(self) -> PageView:
        return self.engraved if self._mode == 1 else self.scan

    def _rebuild_thumbs(self) -> None:
        self.thumbs.blockSignals(True)
        self.thumbs.clear()
        ps = self._sets.get("engraved" if self._mode == 1 else "scan")
        if ps is not None:
            dpr = max(1.0, self.devicePixelRatioF())        # sharp on a HiDPI screen too
            for i, page in enumerate(ps.pages):
                step = max(1, int(page.shape[0] // (240 * dpr)))
                small = QPixmap.fromImage(to_qimage(page[::step, ::step])).scaled(
                    round(84 * dpr), round(118 * dpr), Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation)
                small.setDevicePixelRatio(dpr)
                self.thumbs.addItem(QListWidgetItem(QIcon(small), str(i + 1)))
        self.thumbs.blockSignals(False)
        self._show_thumbs()

    def _show_thumbs(self) -> None:
        """The page strip shows for several pages, unless the pane is too narrow for it beside two views."""
        n = self.thumbs.count()
        self.thumbs.setVisible(n > 1 and (self._mode != 2 or self.width() >= 640))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._show_thumbs()

    def _thumb_clicked(self, row: int) -> None:
        self.active_view().show_page(row)

    def _page_changed(self, i: int) -> None:
        if self.sender() is self.active_view():
            self.thumbs.blockSignals(True)
            self.thumbs.setCurrentRow(i)
            self.thumbs.blockSignals(False)
            self._update_info()

    def _zoom(self, k: float) -> None:
        for v in (self.scan, self.engraved):
            if v.isVisible():
                v.set_zoom(v.zoom() * k)

    def _fit(self) -> None:
        for v in (self.scan, self.engraved):
            if v.isVisible():
                v.fit_width()

    def _next_doubtful(self) -> None:
        i = self.scan.next_doubtful(self._doubt)
        if i >= 0:
            self.select_measure(i)
        else:
            self.info.setText("No doubtful measures: the reader was sure of every one")

    # -- the measure selected
    def select_measure(self, i: int) -> None:
        """Select measure ``i`` (score order; -1: none): outlined on the scan and the engraving, and, for a
        score read from a scan, the scan's crop of it shown beside the bar as recognised."""
        self.selected_measure = i
        if i < 0:
            self.scan.mark(None)
            self.engraved.mark(None)
            self.compare.hide()
            return
        self._doubt = i
        scan_rect = self.scan.measure_rects[i] if i < len(self.scan.measure_rects) else None
        eng = self.engraved
        eng_rect = eng.measure_rect(i) if i < len(eng.measures) and eng.measures[i][0] < len(eng.page_rects) \
            else None
        self.scan.mark(scan_rect)
        eng.mark(eng_rect)
        if scan_rect is not None and self.scan.isVisible():
            self.scan.centerOn(scan_rect.center())
        if eng_rect is not None and eng.isVisible():
            eng.ensureVisible(eng_rect, 20, 40)
        self._show_crop(i)

    def _show_crop(self, i: int) -> None:
        scan, read = self._sets.get("scan"), self._sets.get("engraved")
        if not scan or i >= len(self.scan.measure_boxes_px):
            self.compare.hide()          # not read from a scan: nothing to compare with
            return
        page, box = self.scan.measure_boxes_px[i]
        scan_crop = crop(scan.pages[page], box) if page < len(scan.pages) else None
        read_crop = None
        measures = getattr(read, "measures", None) or []
        if i < len(measures) and measures[i][0] < len(read.pages):
            p, x0, y0, x1, y1 = measures[i]
            read_crop = crop(read.pages[p], (x0, y0, x1, y1))
        conf = self.scan.measure_conf[i] if i < len(self.scan.measure_conf) else None
        sure = f" · the reader was {round(100 * conf)}% sure" if conf is not None else ""
        self.compare.show_measure(f"Measure {self.engraved.number(i)}{sure}", scan_crop, read_crop,
                                  self.height() // 4)

    def _update_info(self) -> None:
        v = self.active_view()
        ps = self._sets.get("engraved" if self._mode == 1 else "scan")
        n = len(ps.pages) if ps is not None else 0
        self.zoom_label.setText(f"{round(v.zoom() * 100)}%" if n else "")
        parts = []
        if n:
            parts.append(f"page {max(0, v._page) + 1} of {n}")
        if self.engraved.playing_item is not None and self.engraved._playing >= 0 and self._mode != 0:
            parts.append(f"measure {self.engraved.number(self.engraved._playing)}")
        self.info.setText("  ·  ".join(parts))

    def set_position(self, t: float, follow: bool = False) -> None:
        self.position = t
        before = self.engraved._playing
        self.engraved.highlight_time(t, follow and self.engraved.isVisible())
        if self.engraved._playing != before:
            self._update_info()

    def _update_controls(self) -> None:
        has_scan, has_eng = bool(self._sets.get("scan")), bool(self._sets.get("engraved"))
        self.mode_buttons.button(0).setEnabled(has_scan)
        self.mode_buttons.button(1).setEnabled(has_eng)
        self.mode_buttons.button(2).setEnabled(has_scan and has_eng)
        for b in self.mode_buttons.buttons():
            b.setVisible(has_scan and has_eng)
        self.doubt_button.setVisible(bool(self.scan.measure_conf) or self._has_rec())
        self._update_info()

    def _has_rec(self) -> bool:
        ps = self._sets.get("engraved")
        return ps is not None and getattr(ps, "recognition", None) is not None

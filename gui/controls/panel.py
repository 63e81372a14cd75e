"""The control panel: every knob of a run, producing a new RunConfig on each change.

The panel owns no training state: it shows a `RunConfig`, and when a knob moves it builds
the next one with `RunConfig.replace` (validated there) and emits it after a short
debounce, so dragging a slider sends one change per pause, not one per pixel.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.config import (
    MAX_DAYS,
    MAX_LAYERS,
    MAX_UNITS,
    ConfigError,
    RunConfig,
    updates_per_epoch,
)
from gui.controls.number_controls import LearningRateControl, SpeedControl

MODEL_NAMES = {"linear": "Linear", "sigmoid": "Sigmoid", "hard-sigmoid": "Hard sigmoid",
               "relu": "ReLU"}
LOSS_NAMES = {"mae": "MAE  |y - ŷ|", "mse": "MSE  (y - ŷ)²"}
OPTIMIZER_NAMES = {"gd": "Gradient descent", "momentum": "Momentum", "nesterov": "Nesterov",
                   "adagrad": "AdaGrad", "rmsprop": "RMSProp", "adam": "Adam"}
IMPORT_ITEM = "Import CSV..."
DEBOUNCE_MS = 150
# The knobs' margins, in one column and in two (a wide panel: lecture mode; each pixel
# counts there), and the gap between the two columns.
MARGINS = (8, 4, 8, 2)
MARGINS_TWO = (4, 4, 4, 2)
COLUMN_GAP = 6
# A short window's boxes (`set_compact`): px above and below their rows, px between rows
COMPACT_BOX_MARGIN = 3
COMPACT_ROW_GAP = 2


class ControlPanel(QScrollArea):
    """Scrollable panel; emits `config_changed(RunConfig)` (debounced) and button signals."""

    config_changed = Signal(object)
    invalid = Signal(str)
    import_requested = Signal()
    play_clicked = Signal()
    step_clicked = Signal()
    reset_clicked = Signal()
    speed_changed = Signal(object)

    def __init__(self, config: RunConfig, datasets: list[tuple[str, str]],
                 parent: QWidget | None = None) -> None:
        """`datasets`: (name, title) of the built-ins."""
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._config = config
        self._n_train = 0
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit_config)

        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(*MARGINS)
        self.setWidget(body)
        # Data and Model over Optimization, or (a panel wide enough for both, as lecture
        # mode's on a 1280 x 720 projector: 639 px wide, 376 high, whose one column was
        # 513 px high and scrolled the update limit and the seed out of sight) beside it.
        self._grid = QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(COLUMN_GAP)
        outer.addLayout(self._grid)
        self._two_columns: bool | None = None

        # --- data ---
        data_box = QGroupBox("Data")
        form = QFormLayout(data_box)
        self.dataset = QComboBox()
        for name, title in datasets:
            self.dataset.addItem(name, name)
            self.dataset.setItemData(self.dataset.count() - 1, title, Qt.ItemDataRole.ToolTipRole)
        self.dataset.insertSeparator(self.dataset.count())
        self.dataset.addItem(IMPORT_ITEM, None)
        form.addRow("Dataset", self.dataset)
        self.days = QSpinBox()
        self.days.setRange(1, MAX_DAYS)
        self.days.setToolTip("features x1..xN: the views of the N days before")
        form.addRow("Days of features", self.days)

        # --- model ---
        model_box = QGroupBox("Model")
        form = QFormLayout(model_box)
        self.model = _combo(MODEL_NAMES)
        form.addRow("Function", self.model)
        self.units = QSpinBox()
        self.units.setRange(1, MAX_UNITS)
        self.units.setToolTip("units per hidden layer")
        self.layers = QSpinBox()
        self.layers.setRange(1, MAX_LAYERS)
        self.layers.setToolTip("hidden layers")
        # One row for the network's shape (units x layers, as a net is named "3 x 100"):
        # with a row each, a 1280 x 720 projector's window under a title bar (694 px)
        # left the update limit and the seed 26 px below the panel's fold.
        form.addRow("Units × layers", _pair_row(self.units, "×", self.layers, (1, 1)))
        self.loss = _combo(LOSS_NAMES)
        form.addRow("Loss", self.loss)

        # --- optimization ---
        opt_box = QGroupBox("Optimization")
        form = QFormLayout(opt_box)
        self.optimizer = _combo(OPTIMIZER_NAMES)
        form.addRow("Optimizer", self.optimizer)
        self.lr = LearningRateControl(config.lr)
        form.addRow("Learning rate η", self.lr)
        batch_row = QWidget()
        lay = QHBoxLayout(batch_row)
        lay.setContentsMargins(0, 0, 0, 0)
        self.full_batch = QCheckBox("full")
        self.batch = QSpinBox()
        self.batch.setRange(1, 10**6)
        self.batch.setValue(32)
        lay.addWidget(self.full_batch)
        lay.addWidget(self.batch, 1)
        form.addRow("Batch size B", batch_row)
        self.per_epoch = QLabel()
        self.per_epoch.setObjectName("hint")
        self.per_epoch.setWordWrap(True)
        form.addRow("", self.per_epoch)
        self.limit = QSpinBox()
        self.limit.setRange(0, 10**9)
        self.limit.setSingleStep(100)
        self.limit.setSpecialValueText("no limit")
        self.limit.setGroupSeparatorShown(True)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("the random seed of the initialisation and the mini-batches")
        # One row for both: with the projector's fonts on a 1280 x 720 screen a row more
        # would push the seed below the panel's fold.
        form.addRow("Update limit", _pair_row(self.limit, "Seed", self.seed, (3, 2)))

        # --- run ---
        run_box = QGroupBox("Run")
        vl = QVBoxLayout(run_box)
        self.speed = SpeedControl()
        speed_row = QFormLayout()
        speed_row.addRow("Speed", self.speed)
        vl.addLayout(speed_row)
        buttons = QHBoxLayout()
        self.play = QPushButton("Play")
        self.play.setObjectName("play")
        self.play.setToolTip("Play / Pause (Space)")
        self.step = QPushButton("Step")
        self.step.setToolTip("exactly one update (S or Right)")
        self.reset = QPushButton("Reset")
        self.reset.setToolTip("start this run again from its initial point (R)")
        for b in (self.play, self.step, self.reset):
            buttons.addWidget(b)
        vl.addLayout(buttons)
        # Speed / Play / Step / Reset live outside the scrolled knobs (the window puts
        # them under the panel): at 1280 x 720 in the projector theme the knobs scroll,
        # and Play scrolled out of sight with them
        self.run_box = run_box
        outer.addStretch(1)

        self._boxes = (data_box, model_box, opt_box)
        self._compact = False
        self._rearrange = QTimer(self)    # dies with the panel (a timer call would not)
        self._rearrange.setSingleShot(True)
        self._rearrange.setInterval(0)
        self._rearrange.timeout.connect(self._arrange)
        self._body = body
        self._arrange()

        self.show_config(config)
        self._body = body
        for w in (self.days, self.units, self.layers, self.batch, self.limit, self.seed):
            w.valueChanged.connect(self._changed)
        for c in (self.model, self.loss, self.optimizer):
            c.currentIndexChanged.connect(self._changed)
        self.model.currentIndexChanged.connect(self._model_changed)
        self.dataset.activated.connect(self._dataset_activated)
        self.full_batch.toggled.connect(self._changed)
        self.lr.value_changed.connect(self._changed)
        self.lr.invalid.connect(self.invalid)
        self.play.clicked.connect(self.play_clicked)
        self.step.clicked.connect(self.step_clicked)
        self.reset.clicked.connect(self.reset_clicked)
        self.speed.speed_changed.connect(self.speed_changed)

    def sizeHint(self) -> QSize:
        """As wide as the knobs need in one column, so none is cut off. From their least
        widths, not their preferred ones: a wrapped label's preferred width depends on
        what it was laid out at before, and a theme switched live left the panel 140 px
        wider than the same theme at start. (Never the two columns' width: a panel that
        once was wide would ask to stay so.)"""
        one_column = max(box.minimumSizeHint().width() for box in self._boxes) \
            + MARGINS[0] + MARGINS[2]
        return QSize(one_column + self.verticalScrollBar().sizeHint().width() + 4,
                     self._body.sizeHint().height())

    def set_compact(self, on: bool) -> None:
        """Rows and boxes closer together in a short window (`MainWindow` decides, as for
        the views): at 1280 x 720 the offer to restore the last session (~65 px over the
        docks) put the update limit and the seed below the panel's fold. Nothing is
        left out: only the style's 9 px box margins and 6 px gaps between rows and between
        boxes shrink."""
        if on == self._compact:
            return
        self._compact = on
        for box in self._boxes:
            form = box.layout()
            assert isinstance(form, QFormLayout)
            if on:
                side = form.contentsMargins()
                form.setContentsMargins(side.left(), COMPACT_BOX_MARGIN, side.right(),
                                        COMPACT_BOX_MARGIN)
            else:
                form.unsetContentsMargins()      # the style's again
            form.setVerticalSpacing(COMPACT_ROW_GAP if on else -1)
        self._grid.setVerticalSpacing(COMPACT_ROW_GAP if on else -1)

    @property
    def compact(self) -> bool:
        return self._compact

    def _two_columns_fit(self) -> bool:
        """Data and Model beside Optimization fit the panel's width, a scroll bar beside
        them or not (the choice must not depend on whether one shows: it would flip)."""
        data, model, opt = self._boxes
        need = max(data.minimumSizeHint().width(), model.minimumSizeHint().width()) \
            + opt.minimumSizeHint().width() + COLUMN_GAP + MARGINS_TWO[0] + MARGINS_TWO[2]
        width = self.width() - 2 * self.frameWidth() \
            - self.verticalScrollBar().sizeHint().width()
        return width >= need

    def _arrange(self) -> None:
        """One column or two, for the panel's width now (`_two_columns_fit`)."""
        two = self.isVisible() and self._two_columns_fit()
        if two == self._two_columns:
            return
        self._two_columns = two
        self._body.layout().setContentsMargins(*(MARGINS_TWO if two else MARGINS))
        data, model, opt = self._boxes
        grid = self._grid
        for box in self._boxes:
            grid.removeWidget(box)
        grid.addWidget(data, 0, 0)
        grid.addWidget(model, 1, 0)
        if two:
            grid.addWidget(opt, 0, 1, 3, 1)
            grid.setRowStretch(2, 1)     # the shorter column's boxes stay at the top
        else:
            grid.addWidget(opt, 2, 0)
            grid.setRowStretch(2, 0)
        grid.setColumnStretch(1, 1 if two else 0)
        grid.setColumnStretch(0, 1)

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)
        self._arrange()

    def changeEvent(self, event: QEvent) -> None:
        """A theme's fonts change the boxes' widths: choose the columns again once the
        new sizes are known."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.StyleChange, QEvent.Type.FontChange):
            self._rearrange.start()

    def showEvent(self, event: object) -> None:
        super().showEvent(event)
        self._arrange()

    def minimumSizeHint(self) -> QSize:
        return QSize(self.sizeHint().width(), 200)

    # ---- showing ----------------------------------------------------------------------
    @property
    def config(self) -> RunConfig:
        return self._config

    def show_config(self, config: RunConfig) -> None:
        """Show `config` in every knob without emitting a change."""
        self._config = config
        widgets = (self.dataset, self.days, self.model, self.units, self.layers, self.loss,
                   self.optimizer, self.full_batch, self.batch, self.limit, self.seed)
        blockers = [QSignalBlocker(w) for w in widgets]
        idx = self.dataset.findData(config.dataset)
        if idx < 0:
            self.add_dataset(config.dataset, config.dataset)
            idx = self.dataset.findData(config.dataset)
        self.dataset.setCurrentIndex(idx)
        self.days.setValue(config.days)
        self.model.setCurrentIndex(self.model.findData(config.model))
        self.units.setValue(config.units)
        self.layers.setValue(config.layers)
        self.loss.setCurrentIndex(self.loss.findData(config.loss))
        self.optimizer.setCurrentIndex(self.optimizer.findData(config.optimizer))
        self.full_batch.setChecked(config.batch_size is None)
        if config.batch_size is not None:
            self.batch.setValue(config.batch_size)
        self.limit.setValue(config.limit_updates or 0)
        self.seed.setValue(config.seed)
        del blockers
        self.lr.set_value(config.lr)
        self._sync_enabled()
        self._show_per_epoch()

    def set_init(self, init: tuple[float, float] | None) -> None:
        """The start point changed elsewhere (a click on the error surface)."""
        self._config = self._config.replace(init=init)

    def set_train_count(self, n: int) -> None:
        """N, the number of training samples, for the live 'updates per epoch' line."""
        self._n_train = int(n)
        self._show_per_epoch()

    def set_playing(self, playing: bool) -> None:
        self.play.setText("Pause" if playing else "Play")

    def add_dataset(self, path: str, title: str) -> None:
        """An imported CSV (already validated) becomes a choice, placed before the import."""
        if self.dataset.findData(path) >= 0:
            return
        with QSignalBlocker(self.dataset):
            self.dataset.insertItem(self.dataset.count() - 1, title, path)
            self.dataset.setItemData(self.dataset.count() - 2, path, Qt.ItemDataRole.ToolTipRole)

    def select_dataset(self, path: str) -> None:
        with QSignalBlocker(self.dataset):
            self.dataset.setCurrentIndex(self.dataset.findData(path))
        self._changed()

    # ---- editing ----------------------------------------------------------------------
    def _sync_enabled(self) -> None:
        net = self.model.currentData() != "linear"
        self.units.setEnabled(net)
        self.layers.setEnabled(net)
        self.batch.setEnabled(not self.full_batch.isChecked())

    def _show_per_epoch(self) -> None:
        batch = None if self.full_batch.isChecked() else self.batch.value()
        if not self._n_train:
            self.per_epoch.setText("")
            return
        n = self._n_train
        b_text = "full batch" if batch is None else f"B = {batch:,}"
        self.per_epoch.setText(f"N = {n:,}, {b_text} → {updates_per_epoch(n, batch):,} "
                               f"update{'s' if updates_per_epoch(n, batch) != 1 else ''} "
                               "per epoch")

    def _model_changed(self) -> None:
        """A new kind of model gets the optimizer and learning rate that suit it."""
        try:
            from core.engine import default_settings

            s = default_settings(self.model.currentData(), self.loss.currentData(), None)
        except Exception:  # no defaults known: keep what the user had
            return
        with QSignalBlocker(self.optimizer):
            self.optimizer.setCurrentIndex(self.optimizer.findData(s.get("optimizer", "gd")))
        if "lr" in s:
            self.lr.set_value(float(s["lr"]))

    def _dataset_activated(self, index: int) -> None:
        if self.dataset.itemData(index) is None:  # "Import CSV..."
            with QSignalBlocker(self.dataset):
                self.dataset.setCurrentIndex(self.dataset.findData(self._config.dataset))
            self.import_requested.emit()
            return
        self._changed()

    def _changed(self, *_args: object) -> None:
        self._sync_enabled()
        self._show_per_epoch()
        self._debounce.start()

    def build_config(self) -> RunConfig:
        """The config the knobs show now (raises ConfigError with a one-line message)."""
        limit = self.limit.value() or None
        cfg = self._config
        return cfg.replace(
            dataset=self.dataset.currentData() or cfg.dataset,
            days=self.days.value(), model=self.model.currentData(),
            units=self.units.value(), layers=self.layers.value(),
            loss=self.loss.currentData(), optimizer=self.optimizer.currentData(),
            lr=self.lr.value(),
            batch_size=None if self.full_batch.isChecked() else self.batch.value(),
            limit_updates=limit, limit_epochs=None if limit else cfg.limit_epochs,
            seed=self.seed.value())

    def flush(self) -> None:
        """Emit a pending change now (tests, and before Play so it starts with the knobs);
        a learning rate typed but not yet entered counts as shown."""
        self.lr.commit()
        if self._debounce.isActive():
            self._debounce.stop()
            self._emit_config()

    def _emit_config(self) -> None:
        try:
            cfg = self.build_config()
        except ConfigError as exc:
            self.invalid.emit(str(exc))
            return
        if cfg != self._config:
            self._config = cfg
            self.config_changed.emit(cfg)


def _pair_row(first: QWidget, between: str, second: QWidget, stretch: tuple[int, int]
              ) -> QWidget:
    """Two knobs on one form row, `between` (a label, the buddy of `second`) between
    them. Their own width hints are left out (QSizePolicy Ignored): the seed's digits (up
    to 2^31) would widen the whole panel, and the shape's would keep lecture mode's
    panel from two columns; the row takes the width the other rows give it."""
    row = QWidget()
    lay = QHBoxLayout(row)
    lay.setContentsMargins(0, 0, 0, 0)
    label = QLabel(between)
    label.setBuddy(second)
    for widget, grow in ((first, stretch[0]), (label, 0), (second, stretch[1])):
        if widget is not label:
            widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        lay.addWidget(widget, grow)
    return row


def _combo(names: dict[str, str]) -> QComboBox:
    box = QComboBox()
    for key, text in names.items():
        box.addItem(text, key)
    return box

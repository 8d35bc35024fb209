"""``microgpt train``: a training session, from the command line to the saved checkpoint.

In order: check where the session will write (``--save``, ``--plot``, ``--log``) and what
it resumes, settle the settings, read the dataset and refuse to write onto it, print
microgpt.py's header, then train (``api.Run``) with Ctrl-C and SIGTERM held until the step
under way is done (see ``signals``), save, plot, and sample. The checkpoint and the plot are
written only once training ends or stops; the log is written as the run goes, and a
failure to write it stops the run as a stop signal does (saving what was trained).

Each file is checked again when it is written (``targets.keeping_outputs``). A write that
fails then ends the run at once, status 1, with one line that says what was kept (the
checkpoint saved before the plot failed, the log) and what was skipped (the plot, the
samples).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import signal
from pathlib import Path
from typing import TextIO

from ..api import Run, StepRecord, load_dataset, load_resumable, plan
from ..storage.atomic import keeping, open_in_place, same_file
from ..storage.checkpoint import CheckpointError, check_can_save
from ..storage.files import problem
from ..tools import plot
from ..train import TrainingDiverged
from . import signals
from .api_errors import api_errors
from .errors import CommandError, Interrupted, UsageError
from .output import discard_output, print_header, print_samples
from .progress import Progress
from .settings import resolve
from .targets import check_target, is_the_output, keeping_outputs


def cmd_train(args: argparse.Namespace) -> int:
    """Train (or resume), report the losses, save and plot as asked, then sample names."""
    with api_errors():
        return _train(args)


def _train(args: argparse.Namespace) -> int:
    save_path, plot_path, log_path = _outputs(args)
    resumed = load_resumable(args.resume) if args.resume is not None else None
    settings, stop_step = resolve(args, resumed)
    dataset = load_dataset(args.data, args.data_sha256, redownload=args.redownload,
                           download_timeout=args.download_timeout)
    for output in (save_path, plot_path, log_path):
        if output is not None and dataset.path is not None and same_file(output, dataset.path):
            raise UsageError(f"{output} is the dataset; writing there would destroy it")
    planned = plan(dataset, settings, resumed)
    print_header(len(dataset), planned.config)
    run = planned.start()
    if run.val_docs:
        print(f"val docs: {len(run.val_docs)} (the last of the shuffled docs; "
              f"training on the other {len(run.train_docs)})")
    if resumed is not None:
        print(f"resuming {args.resume} at step {resumed.training.step} / {settings.steps}")
    first = run.step

    # The bar before the log: a bar that refuses its settings must leave the log untouched.
    with (signals.held() as stop, keeping_outputs(("the dataset", dataset.path)),
          contextlib.closing(Progress(run.settings.steps, start=run.step, stop=stop_step,
                                      log_every=args.log_every)) as progress,
          _Log(log_path, args.resume) as log, keeping(("the log", log.fileno()))):
        try:
            _train_steps(run, stop_step, progress, stop, log)
        except signals.Stopped as exc:
            raise Interrupted(f"{exc.what} at step {run.step} / {settings.steps}; "
                              f"{_save_as_it_stands(run, save_path)}", exc.status) from None
        except _LogFailed as exc:  # as a stop signal does: the steps done are not lost
            raise CommandError(f"{exc}; stopped at step {run.step} / {settings.steps}; "
                               f"{_save_as_it_stands(run, save_path)}") from exc
        if run.val_docs:
            print(f"final val loss: {run.validation_loss():.4f}")
        # Before sampling: Ctrl-C there must not lose the training.
        _save_and_plot(run, args, save_path, plot_path, log_path)
    if run.step < settings.steps:
        how = (f"continue with --resume {save_path}" if save_path is not None
               else "without --save there is nothing to resume from")
        print(f"stopped after step {run.step} / {settings.steps}; {how}")
    if args.samples:
        print("\n--- inference (new, hallucinated names) ---")
        # microgpt.py samples from the stream that shuffled and initialised: the run continues it.
        print_samples(run.samples(args.samples, args.temperature))
    steps, seconds = run.step - first, run.train_seconds
    dtype = "" if settings.dtype == "float64" else f", {settings.dtype}"
    evaluated = (f"; {run.evaluations} evaluation{'s' * (run.evaluations != 1)} in "
                 f"{run.eval_seconds:.2f} s" if run.evaluations else "")
    notes = "".join(f"; {kind} saved to {path}" for kind, path in
                    (("checkpoint", save_path), ("plot", plot_path)) if path is not None)
    if log_path is not None:
        notes += f"; log written to {log_path}"
    print(f"trained {steps} steps in {seconds:.2f} s "
          f"({1000 * seconds / steps:.2f} ms/step, {settings.engine} engine{dtype})"
          f"{evaluated}{notes}")
    return 0


def _save_as_it_stands(run: Run, save_path: Path | None) -> str:
    """Save a run stopped before its end, if ``--save`` was given; say what was saved."""
    if save_path is None:
        return "nothing saved (no --save)"
    try:
        run.save(save_path)
    except CheckpointError as error:
        return f"{error}; the run is not saved"
    return f"checkpoint saved to {save_path} (continue with --resume {save_path})"


def _save_and_plot(run: Run, args: argparse.Namespace, save_path: Path | None,
                   plot_path: Path | None, log_path: Path | None) -> None:
    """Save the checkpoint, then draw the plot; ``CommandError`` if either cannot be written,
    saying what is kept and what is skipped."""
    written = []
    try:
        if save_path is not None:
            run.save(save_path)
            written.append(f"checkpoint saved to {save_path} (continue with --resume "
                           f"{save_path})")
        if plot_path is not None:
            with keeping(("the checkpoint it resumes", args.resume),
                         ("the checkpoint", save_path)):
                plot.save_loss_curve(plot_path, run.losses, run.val_history)
    except (CheckpointError, plot.PlotError) as exc:
        kept = written or (["the run is not saved"] if save_path is not None else [])
        if log_path is not None:
            kept.append(f"log written to {log_path}")
        skipped = [what for what, asked in (("the plot", plot_path is not None and
                                                           isinstance(exc, CheckpointError)),
                                            ("the samples", args.samples > 0)) if asked]
        if skipped:
            kept.append(f"{' and '.join(skipped)} skipped")
        raise CommandError("; ".join([str(exc), *kept])) from exc


def _outputs(args: argparse.Namespace) -> tuple[Path | None, Path | None, Path | None]:
    """The checkpoint, plot and log to write, if asked for: each checked to be writable, none
    another, nor the file the output goes to, nor (plot and log) the checkpoint resumed.

    The dataset is checked once it is found.
    """
    save_path = check_can_save(args.save) if args.save is not None else None
    plot_path = plot.check(args.plot) if args.plot is not None else None
    log_path = check_target(args.log, "--log") if args.log is not None else None
    named = [(option, path) for option, path in (("--save", save_path), ("--plot", plot_path),
                                                ("--log", log_path)) if path is not None]
    for i, (option, target) in enumerate(named):
        for other, other_target in named[i + 1:]:
            if same_file(target, other_target):
                raise UsageError(f"{option} and {other} name the same file, "
                                 f"{getattr(args, option[2:])}")
    for output in (save_path, plot_path):
        if output is not None and is_the_output(output):
            raise UsageError(f"{output} is where the output goes; writing there would replace "
                             "it")
    if args.resume is not None:  # --save may write back to it: the run continues there
        for option, written in (("--plot", plot_path), ("--log", log_path)):
            if written is not None and same_file(args.resume, written):
                raise UsageError(f"{option} {getattr(args, option[2:])} would overwrite the "
                                 "checkpoint it resumes")
    return save_path, plot_path, log_path


class _LogFailed(CommandError):
    """Writing the log failed during training; the run stops there."""


class _Log:
    """``--log``: one JSON object per line and step, flushed as it is written; never over
    the checkpoint ``resumed``."""

    def __init__(self, path: Path | None, resumed: str | None) -> None:
        self.path, self.resumed = path, resumed
        self.file: TextIO | None = None
        self.failed = False  # a write failed: what it left buffered would fail again

    def __enter__(self) -> _Log:
        if self.path is not None:
            import json  # here: a run without a log need not load it (start-up)

            self._dumps = json.dumps
            try:  # emptied: the log is the run's, from its first step
                with keeping(("the checkpoint it resumes", self.resumed)):
                    opened = open_in_place(self.path)
                self.file = io.TextIOWrapper(opened, encoding="utf-8", line_buffering=True)
            except OSError as exc:
                raise CommandError(f"cannot write --log {self.path}: {problem(exc)}") from exc
        return self

    def fileno(self) -> int | None:
        """The log's descriptor, if there is a log."""
        return None if self.file is None else self.file.fileno()

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            try:
                self.file.close()  # closes the file even when its last flush fails
            except OSError as error:
                if self.failed:  # already said, with what the run did about it
                    return
                raise CommandError(f"cannot write --log {self.path}: {problem(error)}"
                                   ) from error

    def write(self, record: StepRecord) -> None:
        if self.file is None:
            return
        entry: dict[str, object] = {"step": record.step, "loss": record.loss, "lr": record.lr}
        if record.val_loss is not None:
            entry["val_loss"] = record.val_loss
        entry["elapsed"] = round(record.elapsed, 6)
        try:
            self.file.write(self._dumps(entry) + "\n")  # line-buffered: flushed here
        except OSError as exc:
            self.failed = True
            raise _LogFailed(f"cannot write --log {self.path}: {problem(exc)}") from exc


def _train_steps(run: Run, stop_step: int, progress: Progress, stop: signals.StopRequests,
                 log: _Log) -> None:
    """Train up to ``stop_step``, reporting progress and logging each step.

    Raises ``Stopped`` after the step during which a stop signal arrived, ``_LogFailed``
    after a step the log could not hold, and ``CommandError`` at a step that diverged.
    """
    try:
        for record in run.train(until=stop_step):
            progress.update(record.step, record.loss, record.val_loss)
            log.write(record)
            stop.check()
    except TrainingDiverged as exc:
        if exc.loss is not None:  # the step's line, as microgpt.py would print it
            progress.update(exc.step, exc.loss, last=True)
        raise CommandError(f"{exc}; try a smaller --lr") from exc
    except OSError:
        # Reporting failed. With a stop signal held, or the terminal hung up (its SIGHUP may
        # still be on its way), stop and save. (Calling hung_up first also runs the handler
        # of a signal that arrived during the failed write.)
        terminal_gone = signals.hung_up()
        if stop.signum is None and not terminal_gone:
            raise
        discard_output()  # what is left to print would fail again at exit
        raise signals.Stopped(signal.SIGHUP if stop.signum is None else stop.signum
                              ) from None
    finally:
        progress.close()  # the bar (tqdm) ignores a terminal that hung up

"""``microgpt train``: a training session, from the command line to the saved checkpoint.

In order: check where the session will write (``--save``, ``--plot``) and what it resumes,
settle the settings, read the dataset and refuse to write onto it, print microgpt.py's
header, then train with Ctrl-C and SIGTERM held until the step under way is done (see
``signals``), save, plot, and sample. Nothing is written before training ends or stops.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from .. import gpt_tensor
from ..storage import checkpoint
from ..storage.atomic import same_file
from ..storage.checkpoint import Checkpoint, CheckpointError
from ..storage.resume import TrainingState, dataset_digest
from ..tools import plot
from ..train import (
    ENGINES,
    Setup,
    Trainer,
    TrainingDiverged,
    cast,
    document_tokens,
    initialise,
    sample,
)
from ..validation import split, validation_loss
from . import signals
from .errors import CommandError, Interrupted, UsageError
from .output import print_header, print_samples
from .prepare import plan, read_dataset
from .progress import Progress
from .settings import Settings, resolve
from .targets import is_the_output


@dataclass
class Session:
    """A training run under way: what ``train`` evaluates, saves and samples from."""

    setup: Setup
    engine: ModuleType
    trainer: Trainer
    settings: Settings
    num_docs: int
    digest: str  # of the documents in file order
    val_tokens: list[list[int]]
    val_history: list[tuple[int, float]]  # (step, validation loss after it)

    def evaluate(self) -> float:
        params = self.trainer.params
        if self.engine is not gpt_tensor:  # the same numbers, computed in whole arrays
            params = gpt_tensor.from_state_dict(self.engine.to_state_dict(params))
        return validation_loss(params, self.setup.config, self.val_tokens)

    def save(self, path: Path) -> None:
        """A checkpoint of the run as it is now, with all that resuming it needs."""
        trainer = self.trainer
        state = TrainingState(
            hp=trainer.hp, step=trainer.step, seed=self.settings.seed,
            val_fraction=self.settings.val_fraction, optimizer=trainer.optimizer_state(),
            rng_state=self.setup.rng.getstate(), data_sha256=self.digest,
            num_docs=self.num_docs, losses=trainer.losses, val_history=self.val_history)
        checkpoint.save(path, Checkpoint(self.engine.to_state_dict(trainer.params),
                                         self.setup.config, self.setup.tokenizer, state))


def cmd_train(args: argparse.Namespace) -> int:
    """Train (or resume), report the losses, save and plot as asked, then sample names."""
    save_path, plot_path = _outputs(args)
    resumed = _load_resumable(args.resume) if args.resume is not None else None
    settings = resolve(args, resumed)
    session = _start(args, settings, resumed, [path for path in (save_path, plot_path)
                                                 if path is not None])
    trainer, first = session.trainer, session.trainer.step

    start = time.perf_counter()
    with signals.held() as stop:
        try:
            _train_steps(session, args, stop)
        except signals.Stopped as exc:
            where = f"{exc.what} at step {trainer.step} / {trainer.hp.steps}"
            if save_path is None:
                raise Interrupted(f"{where}; nothing saved (no --save)", exc.status) from None
            session.save(save_path)
            raise Interrupted(f"{where}; checkpoint saved to {save_path} (continue with "
                              f"--resume {save_path})", exc.status) from None
        seconds = time.perf_counter() - start
        if session.val_tokens:
            print(f"final val loss: {session.val_history[-1][1]:.4f}")
        if save_path is not None:  # before sampling: Ctrl-C there must not lose the training
            session.save(save_path)
        if plot_path is not None:
            plot.save_loss_curve(plot_path, trainer.losses, session.val_history)
    if trainer.step < trainer.hp.steps:
        how = (f"continue with --resume {save_path}" if save_path is not None
               else "without --save there is nothing to resume from")
        print(f"stopped after step {trainer.step} / {trainer.hp.steps}; {how}")
    print("\n--- inference (new, hallucinated names) ---")
    # microgpt.py samples from the stream that shuffled and initialised: setup.rng continues it.
    print_samples(sample(session.engine, trainer.params, session.setup.config,
                         session.setup.tokenizer, session.setup.rng, args.temperature,
                         args.samples))
    steps = trainer.step - first
    notes = "".join(f"; {kind} saved to {path}" for kind, path in
                    (("checkpoint", save_path), ("plot", plot_path)) if path is not None)
    dtype = "" if trainer.hp.dtype == "float64" else f", {trainer.hp.dtype}"
    print(f"trained {steps} steps in {seconds:.2f} s "
          f"({1000 * seconds / steps:.2f} ms/step, {args.engine} engine{dtype}){notes}")
    return 0


def _outputs(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """The checkpoint and plot to write, if asked for: each checked to be writable, neither
    the other, nor the file the output goes to, nor (the plot) the checkpoint resumed.

    The dataset is checked once it is found (``_start``).
    """
    save_path = checkpoint.check_can_save(args.save) if args.save is not None else None
    plot_path = plot.check(args.plot) if args.plot is not None else None
    if save_path is not None and plot_path is not None and same_file(save_path, plot_path):
        raise UsageError(f"--save and --plot name the same file, {args.save}")
    for path in (save_path, plot_path):
        if path is not None and is_the_output(path):
            raise UsageError(f"{path} is where the output goes; writing there would replace "
                             "it")
    if args.resume is not None and plot_path is not None and same_file(args.resume, plot_path):
        raise UsageError(f"--plot {args.plot} would overwrite the checkpoint it resumes")
    return save_path, plot_path


def _load_resumable(path: str) -> Checkpoint:
    """The checkpoint to resume; ``CheckpointError`` if it holds no training state."""
    saved = checkpoint.load(path)
    if saved.training is None:
        raise CheckpointError(f"{path} cannot be resumed: it holds no training state, so it "
                              "can only be sampled from")
    return saved


def _start(args: argparse.Namespace, settings: Settings, resumed: Checkpoint | None,
           outputs: list[Path]) -> Session:
    """Read the data, check it against the outputs and a resumed run, print the header, set up."""
    path, docs = read_dataset(args)
    for output in outputs:
        if same_file(output, path):
            raise UsageError(f"{output} is the dataset; writing there would destroy it")
    digest = dataset_digest(docs)
    state = resumed.training if resumed is not None else None
    if state is not None and (state.num_docs, state.data_sha256) != (len(docs), digest):
        raise CommandError(
            f"{args.resume} was trained on another dataset ({state.num_docs} documents, "
            f"sha256 {state.data_sha256[:12]}...), not this one ({len(docs)} documents, "
            f"sha256 {digest[:12]}...); resume with the same --data")
    tokenizer, config = plan(docs, settings.model_options, settings.hp.batch_size,
                             settings.val_fraction)

    print_header(len(docs), config)
    setup = initialise(docs, tokenizer, config, settings.seed)
    train_docs, val_docs = split(setup.docs, settings.val_fraction)
    if val_docs:
        print(f"val docs: {len(val_docs)} (the last of the shuffled docs; "
              f"training on the other {len(train_docs)})")
    engine = ENGINES[args.engine]
    hp = settings.hp
    if state is None:
        trainer = Trainer(engine, engine.from_state_dict(cast(setup.state, hp.dtype)),
                          config, train_docs, tokenizer, hp)
    else:
        setup.rng.setstate(state.rng_state)  # the samples continue the saved stream
        trainer = Trainer(engine, engine.from_state_dict(cast(resumed.state, hp.dtype)),
                          config, train_docs, tokenizer, hp, step=state.step,
                          losses=state.losses, optimizer_state=state.optimizer)
        print(f"resuming {args.resume} at step {state.step} / {hp.steps}")
    return Session(setup=setup, engine=engine, trainer=trainer, settings=settings,
                   num_docs=len(docs), digest=digest,
                   val_tokens=[document_tokens(tokenizer, doc, config.block_size)
                               for doc in val_docs],
                   val_history=[] if state is None else list(state.val_history))


def _train_steps(session: Session, args: argparse.Namespace,
                 stop: signals.StopRequests) -> None:
    """Train up to the stop step, reporting progress; evaluate as asked and at the end.

    Raises ``Stopped`` after the step during which a stop signal arrived, and
    ``CommandError`` at a step that diverged.
    """
    trainer = session.trainer
    progress = Progress(trainer.hp.steps, start=trainer.step, stop=session.settings.stop,
                        log_every=args.log_every)
    try:
        for loss in trainer.run(until=session.settings.stop):
            val_loss = None
            if session.val_tokens and args.eval_every and trainer.step % args.eval_every == 0:
                val_loss = session.evaluate()
                session.val_history.append((trainer.step, val_loss))
            progress.update(trainer.step, loss, val_loss)
            stop.check()
    except TrainingDiverged as exc:
        if exc.loss is not None:  # the step's line, as microgpt.py would print it
            progress.update(exc.step, exc.loss, last=True)
        raise CommandError(f"{exc}; try a smaller --lr") from exc
    finally:
        progress.close()
    if session.val_tokens and not (session.val_history
                                   and session.val_history[-1][0] == trainer.step):
        session.val_history.append((trainer.step, session.evaluate()))

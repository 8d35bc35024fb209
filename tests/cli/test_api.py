"""microgpt from Python (``microgpt.api``): the same runs as the command line, stepped through,
saved, loaded, sampled and resumed; misuse refused in one line that names the setting."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from paths import REPO
from test_cli import NAMES, SMALL_MODEL, STEP, run

import microgpt
from microgpt import api
from microgpt.train import Hyperparameters, sample, setup, train

SMALL = {"n_embd": 8, "n_head": 2, "block_size": 6}


def test_a_run_trains_as_the_library_loop_does():
    settings = microgpt.TrainSettings(steps=5, seed=3, **SMALL)
    records = list(microgpt.Run(NAMES, settings))
    expected = setup(NAMES, seed=3, **SMALL)
    engine = microgpt.api.ENGINES["tensor"]
    losses = list(train(engine, engine.from_state_dict(expected.state), expected.config,
                        expected.docs, expected.tokenizer, Hyperparameters(steps=5)))
    assert [r.loss for r in records] == losses
    assert [r.step for r in records] == [1, 2, 3, 4, 5]
    assert [r.lr for r in records] == pytest.approx([0.01 * (1 - k / 5) for k in range(5)])


def test_the_api_and_the_command_line_give_the_same_run(capsys, tmp_path):
    data = tmp_path / "names.txt"
    data.write_text("\n".join(NAMES) + "\n")
    status, lines, _ = run(capsys, "train", "--data", data, "--steps", "4", "--samples", "3",
                           "--batch-size", "2", "--val-fraction", "0.2", *SMALL_MODEL)
    assert status == 0
    scripted = microgpt.Run(microgpt.load_dataset(data), microgpt.TrainSettings(
        steps=4, batch_size=2, val_fraction=0.2, **SMALL))
    printed = [line for line in lines if STEP.match(line)]
    assert printed == [f"step {r.step:4d} /    4 | loss {r.loss:.4f}" for r in scripted]
    assert f"final val loss: {scripted.validation_loss():.4f}" in lines
    assert [line.split(": ")[1] for line in lines if line.startswith("sample ")] == \
        scripted.sample(3)


def test_evaluation_on_the_steps_asked_for(tmp_path):
    settings = microgpt.TrainSettings(steps=6, val_fraction=0.2, eval_every=2, **SMALL)
    run_ = microgpt.Run(NAMES, settings)
    records = list(run_)
    assert [r.step for r in records if r.val_loss is not None] == [2, 4, 6]
    assert run_.val_history == [(r.step, r.val_loss) for r in records if r.val_loss is not None]
    assert run_.validation_loss() == records[-1].val_loss  # not evaluated twice
    assert run_.evaluations == 3 and run_.eval_seconds > 0
    assert records[-1].elapsed == run_.train_seconds


def test_saved_then_resumed_goes_on_as_one_run_would(tmp_path):
    settings = microgpt.TrainSettings(steps=6, batch_size=2, val_fraction=0.2, **SMALL)
    whole = microgpt.Run(NAMES, settings)
    whole_losses = [r.loss for r in whole]
    part = microgpt.Run(NAMES, settings)
    assert [r.step for r in part.train(until=3)] == [1, 2, 3]
    part.save(tmp_path / "m")
    resumed = microgpt.resume(tmp_path / "m", NAMES, batch_size=2)  # agrees: accepted
    assert resumed.step == 3
    assert [r.loss for r in resumed] == whole_losses[3:]
    assert resumed.sample(4) == whole.sample(4)  # the random stream was saved too
    longer = microgpt.resume(tmp_path / "m", NAMES, steps=8)
    assert [r.step for r in longer] == [4, 5, 6, 7, 8]



def test_a_checkpoint_records_the_data_the_run_was_planned_on(tmp_path):
    """The dataset's list may change after the run starts: the run trains on, and its
    checkpoint records, the documents it was given."""
    dataset = microgpt.Dataset(NAMES)
    run_ = microgpt.Run(dataset, microgpt.TrainSettings(steps=2, **SMALL))
    dataset.docs.reverse()
    dataset.docs.append("zzz")
    list(run_)
    run_.save(tmp_path / "m")
    assert [r.step for r in microgpt.resume(tmp_path / "m", NAMES, steps=3)] == [3]

RESUME_REFUSED = {
    "a contradiction": ({"lr": 0.02}, "lr=0.02 contradicts the 0.01 of the checkpoint"),
    "another model": ({"n_embd": 16}, "n_embd=16 contradicts the 8"),
    "not beyond": ({"steps": 3}, "is at step 3 / 3; give steps=N, the run's new total, "
                                 "with N > 3"),
    "an unknown setting": ({"epochs": 2}, "no setting named 'epochs'"),
}


@pytest.mark.parametrize("given, message", RESUME_REFUSED.values(), ids=RESUME_REFUSED.keys())
def test_resume_refuses_what_contradicts_the_saved_run(tmp_path, given, message):
    run_ = microgpt.Run(NAMES, microgpt.TrainSettings(steps=3, **SMALL))
    list(run_)
    run_.save(tmp_path / "m")
    with pytest.raises(microgpt.SettingsError, match=message):
        microgpt.resume(tmp_path / "m", NAMES, **given)


def test_resume_on_other_data_is_refused(tmp_path):
    run_ = microgpt.Run(NAMES, microgpt.TrainSettings(steps=2, **SMALL))
    list(run_)
    run_.save(tmp_path / "m")
    with pytest.raises(microgpt.DataError, match="was trained on another dataset"):
        microgpt.resume(tmp_path / "m", list(reversed(NAMES)), steps=4)


SETTINGS_REFUSED = {
    "steps 0": ({"steps": 0}, "steps must be an integer in 1..10,000,000, not 0"),
    "lr a string": ({"lr": "0.1"}, "lr must be a positive number, not '0.1'"),
    "an unknown engine": ({"engine": "torch"}, "engine must be one of scalar, tensor"),
    "batches on scalars": ({"batch_size": 2, "engine": "scalar"},
                           "batch_size > 1 needs engine=tensor"),
    "float32 on scalars": ({"dtype": "float32", "engine": "scalar"},
                           "dtype=float32 needs engine=tensor"),
    "warm-up of every step": ({"steps": 5, "warmup": 5},
                              "warmup=5 leaves no step of the schedule: it must be less than "
                              "steps=5"),
    "evaluation without a split": ({"eval_every": 2}, "eval_every needs a validation split: "
                                                      "give val_fraction"),
    "a model too large": ({"n_embd": 4096}, "more than the 10,000,000"),
}


@pytest.mark.parametrize("fields, message", SETTINGS_REFUSED.values(),
                         ids=SETTINGS_REFUSED.keys())
def test_settings_no_run_can_have_are_refused_in_one_line(fields, message):
    with pytest.raises(microgpt.SettingsError, match=message) as error:
        microgpt.TrainSettings(**fields)
    assert "\n" not in str(error.value) and "--" not in str(error.value)


def test_settings_that_do_not_fit_the_data_are_refused_before_weights_are_drawn(monkeypatch):
    monkeypatch.setattr(api, "initialise", lambda *args: pytest.fail("drew the weights"))
    with pytest.raises(microgpt.SettingsError, match="val_fraction=0.95 holds out all 10"):
        microgpt.Run(NAMES, microgpt.TrainSettings(val_fraction=0.95))
    with pytest.raises(microgpt.SettingsError, match="a non-empty list of strings"):
        microgpt.Run("emma\nolivia")


def test_a_loaded_model_samples_as_microgpt_sample_does(capsys, tmp_path):
    run_ = microgpt.Run(NAMES, microgpt.TrainSettings(steps=20, **SMALL))
    list(run_)
    run_.save(tmp_path / "m")
    status, lines, _ = run(capsys, "sample", "--load", tmp_path / "m", "--samples", "4",
                           "--prefix", "m", "--top-k", "3", "--seed", "5")
    assert status == 0
    model = microgpt.load(tmp_path / "m")
    names = model.sample(4, prefix="m", top_k=3, seed=5)
    assert [line.split(": ")[1] for line in lines] == names
    assert all(name.startswith("m") for name in names)
    assert model.sample(4, prefix="m", top_k=3, seed=5) == names  # the seed decides
    assert run_.model().sample(4, prefix="m", top_k=3, seed=5) == names


SAMPLING_REFUSED = {
    "unknown characters": ({"prefix": "Zq"}, "prefix='Zq' has characters not in the "
                                              "vocabulary: 'Z', 'q'"),
    "a prefix too long": ({"prefix": "emmaemma"}, "at most 5 leave room to continue it"),
    "top_k 0": ({"top_k": 0}, "top_k must be a positive integer, not 0"),
    "temperature 0": ({"temperature": 0.0}, "temperature must be a positive number"),
    "a count below 0": ({"count": -1}, "count must be an integer >= 0"),
}


@pytest.mark.parametrize("options, message", SAMPLING_REFUSED.values(),
                         ids=SAMPLING_REFUSED.keys())
def test_sampling_misuse_is_refused_before_drawing(tmp_path, options, message):
    run_ = microgpt.Run(NAMES, microgpt.TrainSettings(steps=1, **SMALL))
    with pytest.raises(microgpt.SettingsError, match=message):
        run_.model().samples(**options)


def test_a_temperature_that_overflows_says_so():
    run_ = microgpt.Run(NAMES, microgpt.TrainSettings(steps=1, **SMALL))
    with pytest.raises(microgpt.SamplingError, match="try a larger temperature$"):
        run_.sample(1, temperature=1e-320)


def test_a_dataset_by_path_and_its_errors(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(NAMES) + "\n")
    assert microgpt.load_dataset(path).docs == NAMES
    assert len(microgpt.load_dataset()) == 32033  # the shipped names
    with pytest.raises(microgpt.DataError, match="No such file or directory"):
        microgpt.load_dataset(tmp_path / "missing.txt")
    with pytest.raises(microgpt.DataError, match="does not have the sha256"):
        microgpt.load_dataset(path, sha256="0" * 64)


def test_the_scalar_engine_samples_as_microgpt_py_does():
    settings = microgpt.TrainSettings(engine="scalar", steps=2, **SMALL)
    run_ = microgpt.Run(NAMES, settings)
    list(run_)
    again = setup(NAMES, **SMALL)
    engine = api.ENGINES["scalar"]
    params = engine.from_state_dict(again.state)
    list(train(engine, params, again.config, again.docs, again.tokenizer,
               Hyperparameters(steps=2)))
    assert run_.sample(3) == list(sample(engine, params, again.config, again.tokenizer,
                                         again.rng, count=3))


def test_importing_microgpt_loads_the_api_only_when_used():
    code = ("import json, sys, microgpt; before = sorted(sys.modules); microgpt.TrainSettings; "
            "print(json.dumps(['numpy' in before, 'microgpt.api' in before, "
            "'microgpt.api' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out) == [False, False, True]
    assert microgpt.Run is api.Run and "Run" in microgpt.__all__
    with pytest.raises(AttributeError, match="no attribute 'Trainer'"):
        microgpt.Trainer  # noqa: B018


def test_the_command_lines_help_does_not_import_the_api():
    code = ("import sys\nfrom microgpt.cli import main\ntry:\n    main(['train', '--help'])\n"
            "except SystemExit:\n    pass\nprint('microgpt.api' in sys.modules, file=sys.stderr)")
    err = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True).stderr
    assert err == "False\n"


def test_a_plan_holds_a_resumed_run_to_its_saved_settings(tmp_path):
    first = microgpt.Run(NAMES, microgpt.TrainSettings(steps=2, **SMALL))
    list(first)
    first.save(tmp_path / "m")
    saved = api.load_resumable(tmp_path / "m")
    with pytest.raises(microgpt.SettingsError, match="make them with resume_settings"):
        api.plan(NAMES, microgpt.TrainSettings(steps=4), saved)  # another model size
    settings = api.resume_settings(saved, steps=4)
    assert [r.step for r in api.plan(NAMES, settings, saved).start()] == [3, 4]
    with pytest.raises(microgpt.SettingsError, match="until must be in 0..4, not 5"):
        list(api.plan(NAMES, settings, saved).start().train(until=5))


def test_the_api_sits_below_the_command_line_and_the_tools():
    code = ("import json, sys, microgpt.api; print(json.dumps(sorted(m for m in sys.modules "
            "if m.startswith(('microgpt.cli', 'microgpt.tools')))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out) == []

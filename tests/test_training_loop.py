"""The training loop's pieces, each on its own: the step, phases, loss read-back, interruption, reporting,
precision, and the package's import graph (sbert_teach.training and the modules it names)."""

from __future__ import annotations

import ast
import copy
import inspect
import os
import signal
import textwrap
from pathlib import Path
from unittest import mock

import pytest
import torch

from sbert_teach import TrainConfig, make_objective, train
from sbert_teach.interruption import StopFlag, TrainingInterrupted, interruption_message
from sbert_teach.loss_log import LossLog
from sbert_teach.optimization import Phases, make_optimizer, warmup_linear, warmup_linear_schedule
from sbert_teach.precision import autocast_dtype
from sbert_teach.reporting import due, record_evaluation
from sbert_teach.training import Trainer, training_step

PACKAGE = Path(__file__).resolve().parents[1] / "sbert_teach"


def _batch(objective, rows):
    from sbert_teach.data import TextColumnsCollator

    enc = objective.encoder
    collate = TextColumnsCollator(enc.tokenizer, objective.text_columns, objective.label_column, objective.label_dtype,
                                  enc.max_length)
    return collate(rows)


def _setup(tiny_encoder, objective_name="regression"):
    torch.manual_seed(0)
    objective = make_objective(objective_name, tiny_encoder)
    for m in objective.modules():  # dropout off: both sides must draw nothing random
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    optimizer = make_optimizer(objective, 1e-3, 0.01, fused=False)
    scheduler = warmup_linear_schedule(optimizer, 2, 10)
    return objective, optimizer, scheduler


def test_a_hand_written_step_and_the_package_step_give_identical_weights(tiny_encoder, toy_pairs):
    """What chapter 4 shows: the step written out by hand is the package's step, to the last bit."""
    mine, opt_a, sched_a = _setup(tiny_encoder)
    package = copy.deepcopy(mine)
    opt_b = make_optimizer(package, 1e-3, 0.01, fused=False)
    sched_b = warmup_linear_schedule(opt_b, 2, 10)
    start = copy.deepcopy(mine.state_dict())
    features, labels = _batch(mine, [toy_pairs[i] for i in range(4)])
    for _ in range(3):
        # by hand: encode both sides with one encoder, loss, backward, clip, optimizer and schedule step
        u, v = (mine.encoder(f) for f in features)
        loss = mine.loss_from_embeddings([u, v], labels)
        opt_a.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(mine.parameters()), 1.0)
        opt_a.step()
        sched_a.step()
        # the package
        package_loss = training_step(package, features, labels, opt_b, sched_b, max_grad_norm=1.0)
        assert torch.equal(loss.detach(), package_loss)
    for (name, a), (_, b) in zip(mine.named_parameters(), package.named_parameters()):
        assert torch.equal(a, b), name
    assert sched_a.get_last_lr() == sched_b.get_last_lr()
    assert any(not torch.equal(start[k], v) for k, v in mine.state_dict().items())  # the steps did move weights


def test_training_step_drops_the_gradients_of_frozen_parameters(tiny_encoder, toy_pairs):
    objective, optimizer, scheduler = _setup(tiny_encoder, "softmax")
    before = copy.deepcopy(objective.state_dict())
    frozen = list(objective.encoder.parameters())
    from sbert_teach import pairs_dataset

    rows = pairs_dataset(["a cat", "a dog", "the sun", "a car"], ["a kitten", "a puppy", "the moon", "a bus"],
                         [0, 1, 2, 0], num_labels=3)
    features, labels = _batch(objective, list(rows))
    training_step(objective, features, labels, optimizer, scheduler, frozen=frozen)
    after = objective.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("encoder."))
    assert not torch.equal(before["classifier.weight"], after["classifier.weight"])


def test_check_loss_stops_a_step_before_it_changes_the_weights(tiny_encoder, toy_pairs):
    objective, optimizer, scheduler = _setup(tiny_encoder)
    before = copy.deepcopy(objective.state_dict())
    features, labels = _batch(objective, [toy_pairs[i] for i in range(4)])

    def refuse(loss):
        raise FloatingPointError("stop")

    with pytest.raises(FloatingPointError):
        training_step(objective, features, labels, optimizer, scheduler, check_loss=refuse)
    assert all(torch.equal(before[k], v) for k, v in objective.state_dict().items())


def _code_lines(fn) -> int:
    """Lines of code in a function, without its docstring, blank lines and comment-only lines."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    body = tree.body[1:] if ast.get_docstring(tree) else tree.body
    lines = textwrap.dedent(inspect.getsource(fn)).splitlines()[body[0].lineno - 1:tree.end_lineno]
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def test_the_step_fits_a_screen_and_the_loop_reads_top_to_bottom():
    assert _code_lines(training_step) <= 25
    assert _code_lines(Trainer.fit) + _code_lines(Trainer.fit_epoch) <= 55
    assert _code_lines(Trainer.fit_epoch) <= 40


# -- phases ------------------------------------------------------------------------------------

def test_one_phase_is_the_papers_warm_up_then_linear_decay():
    phases = Phases(head_only_steps=0, total_steps=100, warmup_ratio=0.1)
    for step in range(100):
        assert phases.factor("encoder", step) == phases.factor("head", step) == warmup_linear(step, 10, 100)
    assert phases.factor("encoder", 0) == pytest.approx(0.1) and phases.factor("encoder", 9) == 1.0
    assert phases.factor("encoder", 99) == pytest.approx(1 / 90)


def test_the_encoder_warms_up_when_it_starts_learning():
    """Head alone for 100 of 500 steps: the encoder's warm-up is 10% of its own 400 steps, from step 100."""
    phases = Phases(head_only_steps=100, total_steps=500, warmup_ratio=0.1)
    assert [phases.factor("encoder", s) for s in (0, 50, 99)] == [0.0, 0.0, 0.0]
    assert phases.factor("encoder", 100) == pytest.approx(1 / 40)  # the first step of its warm-up, not ~89% of peak
    assert phases.factor("encoder", 139) == 1.0 and phases.factor("encoder", 141) < 1.0
    assert phases.factor("encoder", 499) == pytest.approx(1 / 360)
    # the head keeps the whole run's schedule: warm-up over 50 steps from step 0
    assert phases.factor("head", 0) == pytest.approx(1 / 50) and phases.factor("head", 49) == 1.0
    assert not phases.encoder_learns(99) and phases.encoder_learns(100)


def test_a_head_first_run_records_the_encoders_learning_rate_per_phase(tiny_encoder):
    from sbert_teach import pairs_dataset

    data = pairs_dataset(["a cat", "a dog", "the sun", "a car"] * 6, ["a kitten", "a puppy", "the moon", "a bus"] * 6,
                         [0, 1, 2, 0] * 6, num_labels=3)
    config = TrainConfig(batch_size=4, max_steps=6, head_only_steps=2, warmup_ratio=0.5, learning_rate=1e-3,
                         head_learning_rate=1e-2, show_progress=False)
    result = train(make_objective("softmax", tiny_encoder), data, config)
    # encoder: nothing for 2 steps, then warm-up over ceil(4 * 0.5) = 2 steps and decay over the other 2
    assert result.learning_rates == pytest.approx([0.0, 0.0, 0.5e-3, 1e-3, 1e-3, 0.5e-3])


# -- loss read-back ------------------------------------------------------------------------------

def test_loss_log_reads_back_every_n_steps_and_names_the_bad_step():
    history, shown = [], []
    log = LossLog(history, sync_every=3, on_read=shown.extend)
    assert [log.add(torch.tensor(v)) for v in (1.0, 2.0, 3.0)] == [False, False, True]
    assert history == [] and log.flush(step=3) == [1.0, 2.0, 3.0] and history == shown == [1.0, 2.0, 3.0]
    log.add(torch.tensor(4.0))
    log.add(torch.tensor(float("nan")))
    with pytest.raises(FloatingPointError, match=r"Loss is nan at step 5\. It was noticed when losses were read"):
        log.flush(step=5)


def test_loss_log_on_a_cpu_checks_before_the_update():
    log = LossLog([], sync_every=1)
    log.check_before_update(torch.tensor(1.0), step=0, batch_rows=[3, 4])
    with pytest.raises(FloatingPointError, match=r"at step 8 \(the batch of dataset rows 3, 4\)\. Training stopped before"):
        log.check_before_update(torch.tensor(float("inf")), step=7, batch_rows=[3, 4])
    LossLog([], sync_every=50).check_before_update(torch.tensor(float("inf")), step=7, batch_rows=[3])  # GPU: later


# -- interruption --------------------------------------------------------------------------------

def test_stop_flag_turns_a_signal_into_a_request_and_restores_the_handler():
    old = signal.getsignal(signal.SIGTERM)
    with StopFlag() as stop:
        assert stop.signal is None
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.signal == signal.SIGTERM  # no exception: the step in progress finishes
        with pytest.raises(KeyboardInterrupt):  # Ctrl-C once a stop is already asked for: stop at once
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) is old


def test_stop_flag_second_ctrl_c_stops_at_once():
    with pytest.raises(KeyboardInterrupt):
        with StopFlag() as stop:
            os.kill(os.getpid(), signal.SIGINT)
            assert stop.signal == signal.SIGINT
            os.kill(os.getpid(), signal.SIGINT)


def test_interruption_message_says_how_to_continue(tmp_path):
    assert "resume=True" in interruption_message(15, 7, tmp_path) and str(tmp_path) in interruption_message(15, 7, tmp_path)
    assert "output_dir and checkpoint_every next time" in interruption_message(2, 7, None)
    assert issubclass(TrainingInterrupted, KeyboardInterrupt)


# -- reporting -----------------------------------------------------------------------------------

def test_due_and_record_evaluation_put_the_model_back_in_training_mode(tiny_encoder):
    assert [s for s in range(1, 10) if due(s, 3)] == [3, 6, 9] and not due(3, None) and not due(3, 0)
    objective = make_objective("regression", tiny_encoder).train()
    seen = []

    def evaluate(encoder):
        seen.append(encoder.training)
        encoder.eval()
        return {"score": 0.5}

    evaluations = []
    assert record_evaluation(evaluations, evaluate, objective, 4) == {"step": 4, "score": 0.5}
    assert evaluations == [{"step": 4, "score": 0.5}] and objective.training and objective.encoder.training


# -- precision -----------------------------------------------------------------------------------

@pytest.mark.parametrize("capability,bf16_reported,expected", [
    ((7, 5), True, torch.float16),   # T4: bf16 only emulated, although torch reports it as supported
    ((7, 0), False, torch.float16),  # V100
    ((8, 0), True, torch.bfloat16),  # A100
    ((9, 0), True, torch.bfloat16),  # H100
])
def test_auto_precision_gives_fp16_where_bf16_would_be_emulated(capability, bf16_reported, expected):
    with mock.patch("torch.cuda.get_device_capability", return_value=capability), \
         mock.patch("torch.cuda.is_bf16_supported", return_value=bf16_reported):
        assert autocast_dtype("auto", torch.device("cuda")) is expected
        assert autocast_dtype("bf16", torch.device("cuda")) is torch.bfloat16  # asked for: given
        assert autocast_dtype("off", torch.device("cuda")) is None
    assert autocast_dtype("auto", torch.device("cpu")) is None
    with pytest.raises(ValueError, match="mixed_precision must be"):
        autocast_dtype("half", torch.device("cpu"))


def test_autocast_override_lets_a_newer_gpu_rehearse_a_t4(monkeypatch):
    with mock.patch("torch.cuda.get_device_capability", return_value=(9, 0)), \
         mock.patch("torch.cuda.is_bf16_supported", return_value=True):
        monkeypatch.setenv("SBERT_TEACH_AUTOCAST", "fp16")
        assert autocast_dtype("auto", torch.device("cuda")) is torch.float16
        assert autocast_dtype("bf16", torch.device("cuda")) is torch.bfloat16  # an explicit mode still wins
        assert autocast_dtype("auto", torch.device("cpu")) is None  # a CPU stays in float32
        monkeypatch.setenv("SBERT_TEACH_AUTOCAST", "half")
        with pytest.raises(ValueError, match="SBERT_TEACH_AUTOCAST must be 'fp16' or 'bf16'"):
            autocast_dtype("auto", torch.device("cuda"))


# -- the import graph ----------------------------------------------------------------------------

def _package_imports() -> dict[str, set[str]]:
    """module -> package modules it imports, at the top or inside functions."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
                edges.add(target)
                edges.update(f"{target}.{a.name}" for a in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sbert_teach"):
                edges.add(node.module)
            elif isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name.startswith("sbert_teach"))
        graph[name] = edges
    return {m: {e for e in edges if e in graph and e != m} for m, edges in graph.items()}


def _cycle(graph) -> list[str] | None:
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if n == "sbert_teach" or (n.startswith(m + ".") and m != "sbert_teach") or (m.startswith(n + ".")):
                continue  # a package and its own modules
            if state.get(n) == "open":
                return stack[stack.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        state[m] = "done"
        stack.pop()
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_the_package_has_no_import_circle():
    graph = _package_imports()
    assert "sbert_teach.precision" in graph["sbert_teach.encoder"]
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None

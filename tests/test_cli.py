import subprocess
import sys

from sbert_teach import recipe_registry
from sbert_teach.cli import build_parser, main


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "sbert_teach", *args], capture_output=True, text=True, timeout=timeout)


def test_help_lists_the_commands_and_an_example():
    out = cli("--help")
    assert out.returncode == 0
    for word in ("fetch-resources", "train", "evaluate", "examples:", "SBERT_TEACH_RESOURCES"):
        assert word in out.stdout
    train_help = cli("train", "--help").stdout
    assert all(o in train_help for o in (*recipe_registry.trainable(), "smoke", "paper", "--output"))
    # Part III: every registered loss trains on your own file, and the new pieces have their options and commands
    assert all(o in train_help for o in (*recipe_registry.RECIPES, "--data", "--mini-batch-size", "--dims", "--teacher",
                                         "--static"))
    assert all(word in out.stdout for word in ("mine", "evaluate-retrieval", "--data my_pairs.csv"))
    commands = build_parser()._subparsers._group_actions[0].choices  # in-process: no second start-up
    for command, options in (("mine", ("--data", "--corpus", "--relative-margin", "--num-negatives")),
                             ("evaluate-retrieval", ("--queries", "--corpus", "--relevant", "--k"))):
        assert all(o in commands[command].format_help() for o in options)


def test_evaluate_prints_the_contract_line():
    out = cli("evaluate", "--model", "reference", "--split", "test")
    assert out.returncode == 0, out.stderr
    line = next(l for l in out.stdout.splitlines() if l.startswith("spearman_cosine: "))
    assert abs(float(line.split()[1]) - 0.8203) < 0.002


def test_bad_arguments_give_a_clear_error_not_a_traceback(tmp_path, capsys):
    out = cli("evaluate", "--model", str(tmp_path / "missing"))
    assert out.returncode == 2 and "No model at" in out.stderr and "Traceback" not in out.stderr
    out = cli("train", "--objective", "contrastive", "--output", str(tmp_path))
    assert out.returncode == 2 and "invalid choice: 'contrastive'" in out.stderr
    assert main(["train", "--objective", "mnr", "--data", str(tmp_path / "mine.csv"), "--output", str(tmp_path)]) == 2
    assert "No file at" in capsys.readouterr().err

import subprocess
import sys

from sbert_teach import recipe_registry


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "sbert_teach", *args], capture_output=True, text=True, timeout=timeout)


def test_help_lists_the_commands_and_an_example():
    out = cli("--help")
    assert out.returncode == 0
    for word in ("fetch-resources", "train", "evaluate", "examples:", "SBERT_TEACH_RESOURCES"):
        assert word in out.stdout
    train_help = cli("train", "--help").stdout
    assert all(o in train_help for o in (*recipe_registry.trainable(), "smoke", "paper", "--output"))


def test_evaluate_prints_the_contract_line():
    out = cli("evaluate", "--model", "reference", "--split", "test")
    assert out.returncode == 0, out.stderr
    line = next(l for l in out.stdout.splitlines() if l.startswith("spearman_cosine: "))
    assert abs(float(line.split()[1]) - 0.8203) < 0.002


def test_bad_arguments_give_a_clear_error_not_a_traceback(tmp_path):
    out = cli("evaluate", "--model", str(tmp_path / "missing"))
    assert out.returncode == 2 and "No model at" in out.stderr and "Traceback" not in out.stderr
    out = cli("train", "--objective", "contrastive", "--output", str(tmp_path))
    assert out.returncode == 2 and "invalid choice: 'contrastive'" in out.stderr

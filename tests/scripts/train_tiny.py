"""A tiny, fast training run for the reliability tests (resume after a kill, torchrun).

python tests/scripts/train_tiny.py OUT [--resume] [--objective regression|softmax|mnr] [--steps N]
                                       [--checkpoint-every N] [--batch-size N] [--slow]

Prints "step K loss X" after every step (flushed), so a parent process can kill it at a chosen step,
and ends with "final loss X". Weights go to OUT (sentence-transformers format) with the head in
OUT/head.pt. Dropout is off so that one process and several processes compute the same thing.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("SBERT_TEACH_RESOURCES", "packaged")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch  # noqa: E402

from sbert_teach import TrainConfig, make_objective, pairs_dataset, resources, train  # noqa: E402
from sbert_teach.distributed import init_from_env, rank_and_world  # noqa: E402
from sbert_teach.models import build_untuned_encoder  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--resume", action="store_true")
parser.add_argument("--objective", default="regression")
parser.add_argument("--steps", type=int, default=12)
parser.add_argument("--checkpoint-every", type=int, default=2)
parser.add_argument("--batch-size", type=int, default=8)
parser.add_argument("--slow", action="store_true", help="sleep 0.3 s a step, so a parent can kill mid-run")
parser.add_argument("--dropout", action="store_true", help="keep dropout on (tests that RNG states are restored)")
args = parser.parse_args()

torch.set_num_threads(1)
init_from_env()
rank, world = rank_and_world()
encoder = build_untuned_encoder(resources.packaged_model_path(), seed=0, num_layers=1)
for module in encoder.modules():  # dropout off: one process and several compute the same thing
    if isinstance(module, torch.nn.Dropout) and not args.dropout:
        module.p = 0.0
words = ["a cat sits", "a dog runs", "the sun is hot", "a car drives", "two men talk", "a girl sings",
         "rain falls", "the sea is calm", "kids play ball", "a bird flies", "snow is white", "a man cooks"]
s1 = [f"{w} {i}" for i in range(6) for w in words]
s2 = [f"{words[(j + 1) % len(words)]} now" for j in range(len(s1))]
if args.objective == "softmax":
    data = pairs_dataset(s1, s2, [j % 3 for j in range(len(s1))], num_labels=3)
elif args.objective == "mnr":
    from datasets import Dataset

    data = Dataset.from_dict({"anchor": s1, "positive": s2})
else:
    data = pairs_dataset(s1, s2, [(j % 5) / 4 for j in range(len(s1))])
objective = make_objective(args.objective, encoder, **({"use_hard_negatives": False} if args.objective == "mnr" else {}))
config = TrainConfig(batch_size=args.batch_size, learning_rate=1e-3, max_steps=args.steps, seed=7,
                     checkpoint_every=args.checkpoint_every, show_progress=False)


def report(step, loss):
    if rank == 0:
        print(f"step {step} loss {loss:.8f}", flush=True)
    if args.slow:
        time.sleep(0.3)


result = train(objective, data, config, output_dir=args.out, resume=args.resume, callback=report)
if rank == 0:
    torch.save(objective.extra_state_dict(), os.path.join(args.out, "head.pt"))
    print(f"final loss {result.losses[-1]:.8f}", flush=True)
sys.exit(0)

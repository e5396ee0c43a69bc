"""Seed noise: the toolkit's own SGD run against this example's PyTorch run, on the same data.

For each seed s in 0..SEEDS-1 (default 5):
  1. spec-s.json  = `fcollapse spec show PRESET` with "seed": s (the seed draws the latent variables,
                    the training and test sentences, and the toolkit's initialisation and shuffles);
  2. data-s/      = `fcollapse sample spec-s.json --out data-s` (exactly the sentences `train` draws);
  3. toolkit-s/   = `fcollapse train spec-s.json --out toolkit-s --json` (reference protocol, Swift);
  4. torch-s/     = `python train.py data-s --out torch-s --seed s` (reference protocol, PyTorch, torch
                    seed s for its initialisation and shuffles);
  5. `fcollapse compare DIR --json --no-figures` on both folders.
So within a seed both networks see the same task, training set and test set; what differs is the
random initialisation and the order of the minibatches (two different generators) and the arithmetic.
Across seeds everything varies. Then, to show the noise of the initialisation and shuffles alone, the
example again on seed 0's data with torch seeds 1..SEEDS-1. Prints one row per seed and run, then mean ± sd over the seeds of test
accuracy (from each trainer's own summary, on the same test set), the within-concept ratio NC1
(`metrics.nc1.scatter_ratio` of compare, the `nc1_ratio` of convergence tables), compare's train
accuracy and objective gap, and the paired differences torch − toolkit.

Usage: python compare_seeds.py [--fcollapse PATH] [--python PATH] [--preset quick] [--seeds 5]
                               [--threads 1] [--work DIR] [--markdown]
Needs only the standard library itself; PYTHON (default: this interpreter) must have torch and numpy.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_bin = os.path.join(REPO, ".build", "release", "fcollapse")
    ap.add_argument("--fcollapse", default=default_bin if os.path.exists(default_bin) else "fcollapse")
    ap.add_argument("--python", default=sys.executable, help="a python with torch and numpy")
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--work", default=None, help="folder for specs, data and networks (default: a temporary one)")
    ap.add_argument("--markdown", action="store_true", help="print the summary as a markdown table")
    a = ap.parse_args()

    work = a.work or tempfile.mkdtemp(prefix="fcollapse-seeds-")
    os.makedirs(work, exist_ok=True)
    base = json.loads(run([a.fcollapse, "spec", "show", a.preset]))
    rows = {"toolkit": [], "torch": []}
    for s in range(a.seeds):
        spec = dict(base, seed=s)
        spec_path = os.path.join(work, f"spec-{s}.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f, indent=2)
        data = os.path.join(work, f"data-{s}")
        run([a.fcollapse, "sample", spec_path, "--out", data])
        nets = {"toolkit": os.path.join(work, f"toolkit-{s}"), "torch": os.path.join(work, f"torch-{s}")}
        own = json.loads(run([a.fcollapse, "train", spec_path, "--out", nets["toolkit"], "--json"]))
        other = json.loads(run([a.python, os.path.join(HERE, "train.py"), data, "--out", nets["torch"],
                                "--seed", str(s), "--threads", str(a.threads), "--json"]))
        for who, summary in (("toolkit", own), ("torch", other)):
            cmp = json.loads(run([a.fcollapse, "compare", nets[who], "--json", "--no-figures"]))
            m = cmp["metrics"]
            row = {"seed": s, "test_accuracy": summary["test_accuracy"], "nc1_ratio": m["nc1"]["scatter_ratio"],
                   "train_accuracy": cmp["train_accuracy"], "objective_gap": m.get("objective_gap")}
            if row["objective_gap"] is None:
                row["objective_gap"] = cmp["empirical_objective"] - cmp["predicted_objective"]
            rows[who].append(row)
            print(f"seed {s} {who:7s}  test acc {row['test_accuracy']:.4f}  nc1_ratio {row['nc1_ratio']:.5f}  "
                  f"train acc {row['train_accuracy']:.4f}  objective gap {row['objective_gap']:.5f}", file=sys.stderr)

    # Noise of the initialisation and shuffles alone: seed 0's data, torch seeds 0..SEEDS-1.
    init_rows = [rows["torch"][0]]
    for t in range(1, a.seeds):
        out = os.path.join(work, f"torch-0-seed{t}")
        summary = json.loads(run([a.python, os.path.join(HERE, "train.py"), os.path.join(work, "data-0"),
                                  "--out", out, "--seed", str(t), "--threads", str(a.threads), "--json"]))
        cmp = json.loads(run([a.fcollapse, "compare", out, "--json", "--no-figures"]))
        init_rows.append({"seed": t, "test_accuracy": summary["test_accuracy"],
                          "nc1_ratio": cmp["metrics"]["nc1"]["scatter_ratio"], "train_accuracy": cmp["train_accuracy"],
                          "objective_gap": cmp["metrics"]["objective_gap"]})
        print(f"data 0, torch seed {t}  test acc {summary['test_accuracy']:.4f}  "
              f"nc1_ratio {init_rows[-1]['nc1_ratio']:.5f}", file=sys.stderr)

    keys = ["test_accuracy", "nc1_ratio", "train_accuracy", "objective_gap"]

    def ms(values):
        sd = statistics.stdev(values) if len(values) > 1 else float("nan")
        return statistics.mean(values), sd

    result = {"preset": a.preset, "seeds": a.seeds, "work": work, "rows": rows, "summary": {}}
    for k in keys:
        t = [r[k] for r in rows["toolkit"]]
        p = [r[k] for r in rows["torch"]]
        result["summary"][k] = {"toolkit": ms(t), "torch": ms(p), "torch_minus_toolkit": ms([y - x for x, y in zip(t, p)]),
                                "torch_on_data_0": ms([r[k] for r in init_rows]), "toolkit_on_data_0": t[0]}
    result["torch_on_data_0"] = init_rows
    if a.markdown:
        print(f"| metric (mean ± sd over {a.seeds} seeds) | toolkit (Swift SGD) | example (PyTorch SGD) | paired difference torch − toolkit |")
        print("|---|---|---|---|")
        for k in keys:
            v = result["summary"][k]
            cell = lambda x: f"{x[0]:.4g} ± {x[1]:.2g}"
            print(f"| {k} | {cell(v['toolkit'])} | {cell(v['torch'])} | {cell(v['torch_minus_toolkit'])} |")
        print()
        print(f"| metric, seed 0's data | toolkit (seed 0) | example, torch seeds 0..{a.seeds - 1} (mean ± sd) |")
        print("|---|---|---|")
        for k in keys:
            v = result["summary"][k]
            print(f"| {k} | {v['toolkit_on_data_0']:.4g} | {v['torch_on_data_0'][0]:.4g} ± {v['torch_on_data_0'][1]:.2g} |")
        print()
        print("| seed | toolkit test acc | torch test acc | toolkit nc1_ratio | torch nc1_ratio |")
        print("|---|---|---|---|---|")
        for x, y in zip(rows["toolkit"], rows["torch"]):
            print(f"| {x['seed']} | {x['test_accuracy']:.3f} | {y['test_accuracy']:.3f} | {x['nc1_ratio']:.5f} | {y['nc1_ratio']:.5f} |")
    else:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

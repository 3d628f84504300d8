#!/usr/bin/env python3
"""Run the core's verification benches several times and report the ratios the goals use.

One round is one `cargo bench -p plivo-webhook-core --bench verify` of `hmac_floor`,
`verify_status_callback` (`Verifier::check`), `verify_owned_params` (`Verifier::verify`)
and `verify_and_parse` (`Verifier::verify_as::<MessageStatus>`). The ratios are computed
within each round (the benches of one round run back to back on the same build), and
their medians over the rounds are reported: on a shared machine a single round can move
by 5-10%. Writes the table into BENCHMARKS.md (between the BEGIN/END verify markers).

    scripts/bench-verify.py [--rounds 5] [--seconds 4] [--warm-up 2]

On a machine whose speed changes from one second to the next (a busy neighbour on the
other hyperthread slows the parsing code but not SHA-NI), many short rounds give steadier
medians than a few long ones: `--rounds 25 --seconds 1 --warm-up 0.5`.
"""
import argparse, json, os, re, statistics, subprocess, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHES = ["hmac_floor", "verify_status_callback", "verify_owned_params", "verify_and_parse"]
# How the cost grows with the number of parameters (criterion's `verify_params/N`).
SIZES = ["verify_params/1", "verify_params/16", "verify_params/300"]
RATIOS = ["check/floor", "parse/check", "parse/verify"]


def estimate(name):
    """Criterion's estimate of one iteration, in ns (the slope when it has one)."""
    path = os.path.join(ROOT, "target", "criterion", name, "new", "estimates.json")
    with open(path) as f:
        est = json.load(f)
    return (est.get("slope") or est["mean"])["point_estimate"]


def round_once(seconds, warm_up):
    cmd = ["cargo", "bench", "-q", "-p", "plivo-webhook-core", "--bench", "verify", "--",
           "--warm-up-time", str(warm_up), "--measurement-time", str(seconds), "|".join(BENCHES + ["verify_params"])]
    run = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if run.returncode != 0:
        raise SystemExit(f"cargo bench failed:\n{run.stderr}")
    return {name: estimate(name) for name in BENCHES + SIZES}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--warm-up", type=float, default=2)
    args = ap.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rounds = []
    for i in range(args.rounds):
        r = round_once(args.seconds, args.warm_up)
        r["check/floor"] = r["verify_status_callback"] / r["hmac_floor"]
        r["parse/check"] = r["verify_and_parse"] / r["verify_status_callback"]
        r["parse/verify"] = r["verify_and_parse"] / r["verify_owned_params"]
        rounds.append(r)
        print(f"round {i + 1}: " + ", ".join(f"{k} {v:.3f}" if k in RATIOS else f"{k} {v:.1f} ns"
                                              for k, v in r.items()), flush=True)
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    lo = {k: min(r[k] for r in rounds) for k in rounds[0]}
    hi = {k: max(r[k] for r in rounds) for k in rounds[0]}

    def ns(k):
        return f"{med[k]:.1f} ns ({lo[k]:.0f}-{hi[k]:.0f})"

    def ratio(k):
        return f"{med[k]:.3f}x ({lo[k]:.3f}-{hi[k]:.3f})"

    lines = [
        f"Run: {started}, {args.rounds} rounds of `cargo bench -p plivo-webhook-core --bench verify -- "
        f"--warm-up-time {args.warm_up:g} --measurement-time {args.seconds:g} \"{'|'.join(BENCHES + ['verify_params'])}\"`; medians of the "
        "rounds, with the lowest and highest round in brackets. Each ratio is taken within a round.",
        "",
        "| benchmark | what | time | ratio |",
        "|---|---|---|---|",
        f"| `hmac_floor` | raw HMAC-SHA256 (RustCrypto, SHA-NI) of the status callback's 456-byte signing string, from a keyed state | {ns('hmac_floor')} | 1.00 (floor) |",
        f"| `verify_status_callback` | `Verifier::check`, raw body bytes to verdict | {ns('verify_status_callback')} | {ratio('check/floor')} the floor (goal: at most 2x) |",
        f"| `verify_owned_params` | `Verifier::verify`: the same, plus the decoded parameters as an owned `Params` | {ns('verify_owned_params')} | |",
        f"| `verify_and_parse` | `Verifier::verify_as::<MessageStatus>` | {ns('verify_and_parse')} | {ratio('parse/check')} `check` (goal: at most 1.5x); {ratio('parse/verify')} `verify` |",
        f"| `verify_params/1` | `check` of one parameter | {ns('verify_params/1')} | |",
        f"| `verify_params/16` | 16 parameters, each with escapes | {ns('verify_params/16')} | |",
        f"| `verify_params/300` | 300 parameters | {ns('verify_params/300')} | |",
    ]
    table = "\n".join(lines)
    print(table)
    path = os.path.join(ROOT, "BENCHMARKS.md")
    with open(path) as f:
        text = f.read()
    block = f"<!-- BEGIN verify -->\n{table}\n<!-- END verify -->"
    new, n = re.subn(r"<!-- BEGIN verify -->.*?<!-- END verify -->", lambda _: block, text, flags=re.S)
    if n == 1:
        with open(path, "w") as f:
            f.write(new)
        print("BENCHMARKS.md updated")
    else:
        print("BENCHMARKS.md has no verify markers: table not written")


if __name__ == "__main__":
    main()

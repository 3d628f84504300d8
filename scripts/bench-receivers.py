#!/usr/bin/env python3
"""Benchmark the receivers against a bare route of the same framework and the Node peer.

Builds in release mode, then, in one run and alternating between targets, starts each
server (axum and actix-web receivers on the in-memory store, SQLite and PostgreSQL; a bare
route of each framework; the Node peer: plain `http` + the official plivo SDK, once storing
nothing and once storing each callback in PostgreSQL with one INSERT) and drives it
with the CLI's load mode (`plivo-webhook send --json`, a fresh nonce and MessageUUID per
request) at 1 and at 32 connections. Checks every answer was 200, records req/s, p50, p99
and peak RSS (and for the PostgreSQL receivers the CPU their batch writer's PostgreSQL
backend spends per callback), and writes the tables, with the machine's CPU, into
BENCHMARKS.md (between the BEGIN/END markers).
Each PostgreSQL target gets a schema of its own, dropped at the end.

    scripts/bench-receivers.py [--seconds 5] [--rounds 2] [--database-url postgres://...]

Bounded: loopback only, each run lasts --seconds.
"""
import argparse, json, os, re, subprocess, sys, tempfile, time, statistics, shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REL = os.path.join(ROOT, "target", "release")
TOKEN = "BENCH_TOKEN_0123456789"
BASE = "https://example.com"
PATH = "/api/plivo/status"


def sh(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, **kw)


def start(cmd, env):
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"{cmd[0]} did not start: {line!r}")
    return proc, line[len("listening on "):]


# The batch writer's `application_name` starts with this, then a space and the receiver's
# process id (`WRITER_NAME` in examples/src/store/postgres.rs).
WRITER_NAME = "plivo-webhook batch writer"


def stores_in_postgres(name, family):
    """Whether a target is one of our receivers on PostgreSQL (with a batch writer)."""
    return "PostgreSQL" in name and family != "node"


def writer_cpu_seconds(pg_url, server_pid):
    """CPU time (user + system) of the PostgreSQL backend serving a receiver's batch writer,
    found by its `application_name`, or None."""
    out = subprocess.run(["psql", pg_url, "-Atc", "SELECT pid FROM pg_stat_activity WHERE application_name = "
                          f"'{WRITER_NAME} {server_pid}'"], capture_output=True, text=True).stdout.split()
    try:
        with open(f"/proc/{out[0]}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (IndexError, OSError, ValueError):
        return None


def machine():
    """The CPU as the machine reports it, and its number of cores."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return f"{info.get('model name', 'unknown CPU')} (family {info.get('cpu family', '?')}, model {info.get('model', '?')}), {os.cpu_count()} cores"


def peak_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def load(url, concurrency, seconds):
    out = subprocess.run(
        [os.path.join(REL, "plivo-webhook"), "send", "--url", url + PATH, "--signed-url", BASE + PATH,
         "--token", TOKEN, "--sequence", "delivered", "--duration", str(seconds),
         "--concurrency", str(concurrency), "--json"],
        capture_output=True, text=True, cwd=ROOT)
    try:
        return json.loads(out.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"load generator failed: {out.stdout} {out.stderr}")


def targets(pg_url):
    common = {"PLIVO_AUTH_TOKEN": TOKEN, "APP_BASE_URL": BASE, "BIND_ADDR": "127.0.0.1:0",
              "DASHBOARD": "off", "RUST_LOG": "warn"}
    node = ["node", os.path.join(ROOT, "bench", "node-peer", "server.js")]
    t = [
        ("bare axum route", "axum", lambda: ([os.path.join(REL, "bare-axum")], {"BIND_ADDR": "127.0.0.1:0"})),
        ("axum-receiver, memory", "axum", lambda: ([os.path.join(REL, "axum-receiver")], {**common, "DATABASE_URL": "memory:"})),
        ("bare actix route", "actix", lambda: ([os.path.join(REL, "bare-actix")], {"BIND_ADDR": "127.0.0.1:0"})),
        ("actix-receiver, memory", "actix", lambda: ([os.path.join(REL, "actix-receiver")], {**common, "DATABASE_URL": "memory:"})),
        ("axum-receiver, SQLite", "axum", lambda: ([os.path.join(REL, "axum-receiver")], {**common, "DATABASE_URL": sqlite_url()})),
        ("actix-receiver, SQLite", "actix", lambda: ([os.path.join(REL, "actix-receiver")], {**common, "DATABASE_URL": sqlite_url()})),
        # DATABASE_URL emptied: this peer must not inherit the caller's and store.
        (NODE, "node", lambda: (node, {"PLIVO_AUTH_TOKEN": TOKEN, "APP_BASE_URL": BASE, "PORT": "0", "DATABASE_URL": ""})),
    ]
    if pg_url:
        t += [
            ("axum-receiver, PostgreSQL", "axum", lambda: ([os.path.join(REL, "axum-receiver")], {**common, "DATABASE_URL": pg_schema(pg_url)})),
            ("actix-receiver, PostgreSQL", "actix", lambda: ([os.path.join(REL, "actix-receiver")], {**common, "DATABASE_URL": pg_schema(pg_url)})),
            (NODE_PG, "node", lambda: (node, {"PLIVO_AUTH_TOKEN": TOKEN, "APP_BASE_URL": BASE, "PORT": "0", "DATABASE_URL": pg_schema(pg_url)})),
        ]
    return t


TMP = tempfile.mkdtemp(prefix="plivo-bench-")
NODE = "Node peer (http + plivo SDK)"
NODE_PG = "Node peer storing in PostgreSQL (pg, one INSERT per callback)"
# The bare route each receiver is compared with, by framework.
BARE = {"axum": "bare axum route", "actix": "bare actix route"}


def sqlite_url():
    return f"sqlite://{TMP}/bench-{time.time_ns()}.db"


SCHEMAS = []  # (url, schema) created by this run, dropped at its end


def pg_schema(url):
    schema = f"bench_{time.time_ns()}"
    subprocess.run(["psql", url, "-qc", f"CREATE SCHEMA {schema}"], check=True)
    SCHEMAS.append((url, schema))
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-c%20search_path%3D{schema}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()

    sh(["cargo", "build", "--release", "-q", "-p", "plivo-webhook-examples", "--bin", "axum-receiver", "--bin",
        "actix-receiver", "--bin", "bare-axum", "--bin", "bare-actix", "--bin", "plivo-webhook"])
    if not os.path.isdir(os.path.join(ROOT, "bench", "node-peer", "node_modules", "pg")):
        print("+ npm ci (bench/node-peer)", flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], check=True, cwd=os.path.join(ROOT, "bench", "node-peer"))
    pg = args.database_url if shutil.which("psql") else None

    results = {}  # (name, conc) -> list of runs
    for rnd in range(args.rounds):
        for name, family, make in targets(pg):
            for conc in (1, 32):
                cmd, env = make()
                proc, url = start(cmd, env)
                try:
                    summary = load(url, conc, args.seconds)
                    rss = peak_rss_mib(proc.pid)
                    writer_cpu = writer_cpu_seconds(pg, proc.pid) if stores_in_postgres(name, family) else None
                finally:
                    proc.kill()
                    proc.wait()
                ok = summary.get("by_status", {}).get("200", 0)
                if summary.get("unexpected", 1) != 0 or summary.get("errors", 1) != 0 or ok != summary.get("sent"):
                    raise SystemExit(f"{name} at {conc}: not every answer was 200: {summary}")
                if writer_cpu is not None:
                    summary["writer_us"] = writer_cpu * 1e6 / summary["sent"]
                results.setdefault((name, conc), []).append({**summary, "rss": rss, "family": family})
                print(f"round {rnd + 1} {name:32} c={conc:<3} {summary['rps']:9.0f} req/s  p50 {summary['p50_ms']:.2f} ms  p99 {summary['p99_ms']:.2f} ms  rss {rss:.1f} MiB", flush=True)

    def med(name, conc, key):
        return statistics.median(r[key] for r in results[(name, conc)])

    lines = []
    lines.append(f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.rounds} rounds of {args.seconds:g} s per target and concurrency, alternating; medians of the rounds. Load generator: `plivo-webhook send --sequence delivered --duration {args.seconds:g} --concurrency C --json` (fresh nonce and MessageUUID per request), on the same cores as the server. Machine: {machine()}.")
    lines.append("")
    lines.append("| target | conc. | req/s | p50 ms | p99 ms | peak RSS MiB | vs bare route | vs Node peer | vs Node peer storing in PostgreSQL |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for name, family, _ in targets(pg):
        for conc in (1, 32):
            rps = med(name, conc, "rps")
            vs_bare = f"{rps / med(BARE[family], conc, 'rps'):.2f}x" if family in BARE and name != BARE[family] else ""
            vs_node = f"{rps / med(NODE, conc, 'rps'):.2f}x" if family != "node" else ""
            vs_node_pg = f"{rps / med(NODE_PG, conc, 'rps'):.2f}x" if stores_in_postgres(name, family) else ""
            lines.append(f"| {name} | {conc} | {rps:.0f} | {med(name, conc, 'p50_ms'):.2f} | {med(name, conc, 'p99_ms'):.2f} | {max(r['rss'] for r in results[(name, conc)]):.1f} | {vs_bare} | {vs_node} | {vs_node_pg} |")
    lines += [""] + goals(results, args.rounds, pg) + writers_cpu(results, pg)
    table = "\n".join(lines)
    print(table)
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else "<!-- BEGIN receivers -->\n<!-- END receivers -->\n"
    text = re.sub(r"<!-- BEGIN receivers -->.*<!-- END receivers -->",
                  "<!-- BEGIN receivers -->\n" + table + "\n<!-- END receivers -->", text, flags=re.S)
    open(path, "w").write(text)
    print(f"wrote {path}")
    for url, schema in SCHEMAS:
        subprocess.run(["psql", url, "-qc", f"SET client_min_messages = warning; DROP SCHEMA {schema} CASCADE"], check=False)


def writers_cpu(results, pg):
    """A line giving the CPU each PostgreSQL receiver's batch writer cost its PostgreSQL
    backend per callback at 32 connections, if it was found."""
    parts = []
    for name, _, _ in targets(pg):
        values = [r["writer_us"] for r in results[(name, 32)] if "writer_us" in r]
        if values:
            parts.append(f"{name} {statistics.median(values):.1f} µs ({', '.join(f'{v:.1f}' for v in values)})")
    if not parts:
        return []
    return ["", "CPU of the batch writer's PostgreSQL backend per callback at 32 connections (its `/proc/PID/stat` "
            "over the callbacks sent; median of the rounds, each round): " + "; ".join(parts) + "."]


def goals(results, rounds, pg):
    """The issue's goals, each checked round by round: a ratio is taken between two targets
    of the same round (run within half a minute of each other), which a machine whose speed drifts from
    minute to minute disturbs less than a ratio of medians taken over the whole run."""
    def rps(name, conc):
        return [r["rps"] for r in results[(name, conc)]]

    rows = []

    def row(goal, values, fmt, ok):
        each = ", ".join(fmt(v) for v in values)
        met = sum(1 for v in values if ok(v))
        rows.append(f"| {goal} | {fmt(statistics.median(values))} | {each} | {met} of {len(values)} |")

    ratio = lambda v: f"{v:.2f}x"
    for family, bare in BARE.items():
        for conc in (1, 32):
            values = [a / b for a, b in zip(rps(f"{family}-receiver, memory", conc), rps(bare, conc))]
            row(f"{family}-receiver (memory) ≥ 0.8x {bare}, {conc} conn.", values, ratio, lambda v: v >= 0.8)
    for family in ("axum", "actix"):
        row(f"{family}-receiver (SQLite) ≥ 10,000 req/s, 32 conn.", rps(f"{family}-receiver, SQLite", 32),
            lambda v: f"{v:,.0f}", lambda v: v >= 10_000)
    if pg:
        for family in ("axum", "actix"):
            values = [a / b for a, b in zip(rps(f"{family}-receiver, PostgreSQL", 32), rps(NODE, 32))]
            row(f"{family}-receiver (PostgreSQL) ≥ the Node peer, 32 conn.", values, ratio, lambda v: v >= 1.0)
    receivers = [key for key in results if "receiver" in key[0]]
    per_round = [max(results[key][i]["rss"] for key in receivers) for i in range(rounds)]
    row("receivers' peak RSS < 30 MiB (largest of the round)", per_round, lambda v: f"{v:.1f} MiB", lambda v: v < 30)
    return [
        f"Goals, round by round ({rounds} rounds; each ratio within one round):",
        "",
        "| goal | median of the rounds | each round | rounds meeting it |",
        "|---|---|---|---|",
    ] + rows


if __name__ == "__main__":
    main()

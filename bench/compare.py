#!/usr/bin/env python3
"""Compare healthplan's analytics engine with DuckDB and PostgreSQL on the same files.

Runs `healthplan-bench run` on a directory written by `healthplan-bench gen`, loads the same CSV
files into DuckDB and into PostgreSQL, computes the workload the way DHIS2's analytics does
(join the values to an area-structure table with one column per level and to a period-structure
table, then one GROUP BY per (level, period type)), checks that the three checksums are
identical, and prints the timings and ratios.

Checksums per (level, period type), over every (element, area, period) group:
rows, Σsum, Σcount, Σ((sum·k) mod M), Σ((count·k) mod M),
k = ((e·100003 + a)·4099 + p) mod 1000003 + 1, M = 2^31 − 1 (same as crates/cli/src/bench.rs).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

LEVELS = [1, 2, 3, 4, 5]
PTYPES = ["month", "quarter", "year"]
M = 2147483647


def group_sql(level: int, ptype: str, cast_big: str) -> str:
    """One DHIS2-style aggregation (a level and a period type), folded into checksums."""
    return f"""
SELECT count(*) AS n_rows, sum(s) AS sum_s, sum(c) AS sum_c,
       sum((s * k) % {M}) AS chk_sum, sum((c * k) % {M}) AS chk_count
FROM (
  SELECT s, c, (((e * 100003 + a) * 4099 + p) % 1000003 + 1) AS k
  FROM (
    SELECT CAST(dv.element_id AS {cast_big}) AS e,
           CAST(ous.idlevel{level} AS {cast_big}) AS a,
           CAST(ps.{ptype}_id AS {cast_big}) AS p,
           CAST(sum(dv.value) AS {cast_big}) AS s,
           CAST(count(*) AS {cast_big}) AS c
    FROM datavalue dv
    JOIN _orgunitstructure ous ON ous.id = dv.area_id
    JOIN _periodstructure ps ON ps.id = dv.period_id
    WHERE ous.idlevel{level} IS NOT NULL
    GROUP BY 1, 2, 3
  ) g
) x
"""


def norm(row):
    return tuple(int(x) if x is not None else 0 for x in row)


def run_healthplan(binary: str, data_dir: Path, runs: int, updates: int, out: Path) -> dict:
    cmd = [binary, "run", "--dir", str(data_dir), "--runs", str(runs),
           "--updates", str(updates), "--json", str(out)]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    return json.loads(out.read_text())


def duckdb_run(data_dir: Path, runs: int):
    import duckdb

    con = duckdb.connect()
    t0 = time.perf_counter()
    d = str(data_dir)
    con.execute(f"""
        CREATE TABLE datavalue AS SELECT * FROM read_csv('{d}/datavalues.csv', header = true,
          columns = {{'element_id': 'INTEGER', 'area_id': 'INTEGER', 'period_id': 'INTEGER',
                      'value': 'INTEGER'}})""")
    con.execute(f"""
        CREATE TABLE _orgunitstructure AS SELECT * FROM read_csv('{d}/areas.csv', header = true,
          columns = {{'id': 'INTEGER', 'code': 'VARCHAR', 'name': 'VARCHAR', 'level': 'INTEGER',
                      'parent_id': 'INTEGER', 'idlevel1': 'INTEGER', 'idlevel2': 'INTEGER',
                      'idlevel3': 'INTEGER', 'idlevel4': 'INTEGER', 'idlevel5': 'INTEGER'}})""")
    con.execute(f"""
        CREATE TABLE _periodstructure AS SELECT id, month_id, quarter_id, year_id
        FROM read_csv('{d}/periods.csv', header = true,
          columns = {{'id': 'INTEGER', 'iso': 'VARCHAR', 'kind': 'VARCHAR', 'month_id': 'INTEGER',
                      'quarter_id': 'INTEGER', 'year_id': 'INTEGER'}})
        WHERE kind = 'month'""")
    load_s = time.perf_counter() - t0
    totals, result = [], {}
    for _ in range(runs):
        t = time.perf_counter()
        for level in LEVELS:
            for pt in PTYPES:
                result[(level, pt)] = norm(con.execute(group_sql(level, pt, "BIGINT")).fetchone())
        totals.append(time.perf_counter() - t)
    con.close()
    return load_s, totals, result


def postgres_run(data_dir: Path, url: str, runs: int, work_mem: str):
    import psycopg

    admin = psycopg.connect(url, autocommit=True)
    admin.execute("DROP DATABASE IF EXISTS hp_bench")
    admin.execute("CREATE DATABASE hp_bench")
    admin.close()
    bench_url = url.rsplit("/", 1)[0] + "/hp_bench"
    con = psycopg.connect(bench_url, autocommit=True)
    t0 = time.perf_counter()
    con.execute("""CREATE UNLOGGED TABLE datavalue (element_id integer, area_id integer,
                   period_id integer, value integer)""")
    con.execute("""CREATE UNLOGGED TABLE _orgunitstructure_raw (id integer, code text, name text,
                   level integer, parent_id integer, idlevel1 integer, idlevel2 integer,
                   idlevel3 integer, idlevel4 integer, idlevel5 integer)""")
    con.execute("""CREATE UNLOGGED TABLE _periodstructure_raw (id integer, iso text, kind text,
                   month_id integer, quarter_id integer, year_id integer)""")
    for table, name in [("datavalue", "datavalues.csv"), ("_orgunitstructure_raw", "areas.csv"),
                        ("_periodstructure_raw", "periods.csv")]:
        path = (data_dir / name).resolve()
        # Client-side COPY streams the file, so the server needs no access to it.
        with con.cursor() as cur, open(path, "rb") as f:
            with cur.copy(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
                while chunk := f.read(1 << 20):
                    cp.write(chunk)
    con.execute("CREATE UNLOGGED TABLE _orgunitstructure AS SELECT * FROM _orgunitstructure_raw")
    con.execute("""CREATE UNLOGGED TABLE _periodstructure AS
                   SELECT id, month_id, quarter_id, year_id FROM _periodstructure_raw
                   WHERE kind = 'month'""")
    con.execute("CREATE UNIQUE INDEX ON _orgunitstructure (id)")
    con.execute("CREATE UNIQUE INDEX ON _periodstructure (id)")
    con.execute("ANALYZE")
    load_s = time.perf_counter() - t0
    con.execute(f"SET work_mem = '{work_mem}'")
    con.execute("SET max_parallel_workers_per_gather = 2")
    totals, result, per_query = [], {}, {}
    for _ in range(runs):
        t = time.perf_counter()
        for level in LEVELS:
            for pt in PTYPES:
                tq = time.perf_counter()
                result[(level, pt)] = norm(con.execute(group_sql(level, pt, "bigint")).fetchone())
                per_query[f"{level}/{pt}"] = round(time.perf_counter() - tq, 2)
                print(f"  postgres level {level} {pt}: {per_query[f'{level}/{pt}']} s", flush=True)
        totals.append(time.perf_counter() - t)
    con.close()
    return load_s, totals, result, per_query


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, type=Path, help="directory written by `healthplan-bench gen`")
    ap.add_argument("--healthplan", default=os.environ.get("HEALTHPLAN_BENCH_BIN", "target/release/healthplan-bench"))
    ap.add_argument("--hp-json", type=Path, help="use this `healthplan-bench run --json` output instead of running healthplan")
    ap.add_argument("--hp-runs", type=int, default=5)
    ap.add_argument("--updates", type=int, default=100_000)
    ap.add_argument("--duck-runs", type=int, default=3)
    ap.add_argument("--pg-runs", type=int, default=1)
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--pg-work-mem", default="1GB")
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--out", type=Path, help="write the comparison as JSON here")
    a = ap.parse_args()

    if a.hp_json:
        hp = json.loads(a.hp_json.read_text())
    else:
        hp_out = a.out.with_suffix(".healthplan.json") if a.out else a.dir / "healthplan-run.json"
        hp = run_healthplan(a.healthplan, a.dir, a.hp_runs, a.updates, hp_out)
    hp_chk = {(c["level"], c["ptype"]): (int(c["rows"]), int(c["sum"]), int(c["count"]),
                                         int(c["chk_sum"]), int(c["chk_count"]))
              for c in hp["checksums"]}

    print("duckdb: loading and running the workload...", flush=True)
    duck_load, duck_totals, duck_chk = duckdb_run(a.dir, a.duck_runs)
    pg = None
    if not a.skip_pg:
        print("postgres: loading and running the workload (this takes a while)...", flush=True)
        pg = postgres_run(a.dir, a.pg_url, a.pg_runs, a.pg_work_mem)

    print()
    print(f"data: {hp['values']} values, {hp['areas']} areas ({hp['leaves']} leaves), {hp['elements']} elements, years {hp['years'][0]}–{hp['years'][-1]}")
    print()
    hdr = f"{'level':>5} {'ptype':>7} {'rows':>11} {'sum':>14} {'count':>11} {'chk_sum':>18} {'chk_count':>18}  same"
    print(hdr)
    identical = True
    for level in LEVELS:
        for pt in PTYPES:
            h = hp_chk[(level, pt)]
            d = duck_chk[(level, pt)]
            same = h == d
            if pg:
                same = same and h == pg[2][(level, pt)]
            identical &= same
            print(f"{level:>5} {pt:>7} {h[0]:>11} {h[1]:>14} {h[2]:>11} {h[3]:>18} {h[4]:>18}  {'yes' if same else 'NO'}")
            if h != d:
                print(f"{'':>13} duckdb   {d}")
            if pg and h != pg[2][(level, pt)]:
                print(f"{'':>13} postgres {pg[2][(level, pt)]}")
    systems = "healthplan, DuckDB and PostgreSQL" if pg else "healthplan and DuckDB"
    print()
    print(f"checksums: {'IDENTICAL' if identical else 'DIFFERENT'} across {systems} (15 (level, period type) groups)")
    print()
    hb, hs, hf = hp["build_median_s"], hp["scan_median_s"], hp["full_median_s"]
    dm = statistics.median(duck_totals)
    print(f"healthplan  full build (aggregates of every area × month/quarter/year): median {hb:.3f} s of {len(hp['build_s'])} runs {[round(x, 3) for x in hp['build_s']]}")
    print(f"healthplan  build + workload scan (every sum and count, checksummed): median {hf:.3f} s {[round(x, 3) for x in hp['full_s']]}")
    print(f"duckdb      workload (15 GROUP BYs): median {dm:.2f} s of {len(duck_totals)} runs {[round(x, 2) for x in duck_totals]} (load {duck_load:.1f} s)")
    if pg:
        pm = statistics.median(pg[1])
        print(f"postgres    workload (15 GROUP BYs): median {pm:.1f} s of {len(pg[1])} runs {[round(x, 1) for x in pg[1]]} (load {pg[0]:.1f} s)")
    print()
    print(f"ratio duckdb / healthplan build:            {dm / hb:8.1f}x   (target >= 20x)")
    print(f"ratio duckdb / healthplan build+scan:       {dm / hf:8.1f}x")
    if pg:
        print(f"ratio postgres / healthplan build:          {pm / hb:8.1f}x   (target >= 100x)")
        print(f"ratio postgres / healthplan build+scan:     {pm / hf:8.1f}x")
    print()
    print(f"healthplan update + read-back of the province yearly aggregate: p50 {hp['update_p50_us']:.2f} us, p99 {hp['update_p99_us']:.2f} us over {hp['updates']} updates (target p99 < 1000 us)")
    rss, raw = hp["peak_rss_bytes"], hp["raw_value_bytes"]
    print(f"healthplan peak RSS {rss / 1e6:.0f} MB = {rss / raw:.2f} x raw value bytes ({raw / 1e6:.0f} MB = {hp['values']} values x 8-byte f64; target <= 2x)")
    print(f"healthplan start-up (read files + load + first build): {hp['startup_s']:.1f} s")
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps({
            "identical": identical, "healthplan": hp,
            "duckdb": {"load_s": duck_load, "totals_s": duck_totals},
            "postgres": None if not pg else {"load_s": pg[0], "totals_s": pg[1], "per_query_s": pg[3]},
        }, indent=2))
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
